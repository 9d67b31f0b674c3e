// A TrainingObserver that prints: a live progress line per step on stderr (optim/progress.h),
// one line per epoch on stdout with the record's terms and evaluations, and the loop's notes on
// stderr. What `sws` prints; a library program passes it to follow a run the same way.
#pragma once
#include "optim/training_loop.h"

namespace sws {

// "pretraining epoch 3/20  train loss 0.0412  test accuracy 98.91%  (9.8s, 6122 img/s)".
TrainingObserver console_observer();

}  // namespace sws
