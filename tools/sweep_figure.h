// The figure of a search (`sws sweep`, tools/sweep.py): SWEEP_DIR/pareto.png, every trial of the
// study as validation error against the bytes of its model.sws (log axis), the trials' Pareto
// front, the published results on the same network (issue 16's tables) and, when
// SWEEP_DIR/chosen.json lists them ([{"label", "file_bytes", "test_error"}]), the chosen points'
// test errors. `sws plot SWEEP_DIR` draws it from SWEEP_DIR/trials.json.
#pragma once
#include <string>

namespace sws {

// Draws SWEEP_DIR/pareto.png; returns the number of trials drawn. Throws sws::Error if
// trials.json is missing or malformed, or holds no completed trial.
int draw_sweep_figure(const std::string& sweep_dir);

}  // namespace sws
