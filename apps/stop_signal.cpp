#include "apps/stop_signal.h"

#include <csignal>

#include "engine/error.h"

namespace rotor {
namespace {

constexpr int stop_signals[2] = {SIGINT, SIGTERM};

// A signal handler receives no user argument, so the one live StopSignals is
// reached through this slot. It is the only static state in rotor, it lives
// inside this helper, and it is set and cleared by StopSignals alone (one at
// a time: a second instance is refused).
std::atomic<std::atomic<int>*>& active_flag() {
  static std::atomic<std::atomic<int>*> flag{nullptr};
  static_assert(std::atomic<std::atomic<int>*>::is_always_lock_free && std::atomic<int>::is_always_lock_free,
                "the signal handler needs lock-free atomics");
  return flag;
}

extern "C" void on_stop_signal(int signo) {
  if (std::atomic<int>* flag = active_flag().load(std::memory_order_relaxed))
    flag->store(signo, std::memory_order_relaxed);
}

}  // namespace

StopSignals::StopSignals() {
  std::atomic<int>* expected = nullptr;
  ROTOR_CHECK(active_flag().compare_exchange_strong(expected, &signal_), "StopSignals: one instance at a time");
  struct sigaction act {};
  act.sa_handler = on_stop_signal;
  sigemptyset(&act.sa_mask);
  act.sa_flags = SA_RESTART;  // reads and writes in progress carry on
  for (int i = 0; i < 2; ++i) sigaction(stop_signals[i], &act, &previous_[i]);
}

StopSignals::~StopSignals() {
  for (int i = 0; i < 2; ++i) sigaction(stop_signals[i], &previous_[i], nullptr);
  active_flag().store(nullptr);
}

}  // namespace rotor
