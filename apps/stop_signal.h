// StopSignals: SIGINT and SIGTERM ask a training run to stop cleanly.
//
// While an instance lives, the two signals only set its flag (the handler is
// async-signal-safe: one store to a lock-free atomic); the trainer polls
// requested() between steps, writes a checkpoint and exits with 128 + the
// signal's number. The destructor puts the previous handlers back, so a
// second Ctrl-C after that kills the process as usual.
#pragma once

#include <atomic>
#include <csignal>

namespace rotor {

class StopSignals {
 public:
  StopSignals();
  ~StopSignals();
  StopSignals(const StopSignals&) = delete;
  StopSignals& operator=(const StopSignals&) = delete;

  bool requested() const { return signal_.load(std::memory_order_relaxed) != 0; }
  int signal() const { return signal_.load(std::memory_order_relaxed); }

 private:
  std::atomic<int> signal_{0};
  struct sigaction previous_[2] = {};  // SIGINT, SIGTERM
};

}  // namespace rotor
