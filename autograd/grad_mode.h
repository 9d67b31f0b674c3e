// Grad mode: when off (inside a NoGradGuard), ops record nothing, as in torch.no_grad().
#pragma once

namespace sws {

// Whether ops currently record themselves for backward (per thread; on by default).
bool grad_enabled();
// Turns recording on or off for the calling thread; prefer NoGradGuard, which restores it.
void set_grad_enabled(bool on);

// Turns recording off for its lifetime; restores the previous mode afterwards.
class NoGradGuard {
 public:
  NoGradGuard() : previous_(grad_enabled()) { set_grad_enabled(false); }  // saves the mode, turns it off
  ~NoGradGuard() { set_grad_enabled(previous_); }
  NoGradGuard(const NoGradGuard&) = delete;
  NoGradGuard& operator=(const NoGradGuard&) = delete;

 private:
  bool previous_;
};

}  // namespace sws
