// Terminal progress: a redrawn bar with ETA when stdout is a terminal,
// nothing in between epochs otherwise (one summary line per epoch is printed
// by the caller either way).
#pragma once

#include <cstdint>
#include <string>

namespace rotor {

class ProgressBar {
 public:
  ProgressBar();  // detects whether stdout is a terminal
  bool interactive() const { return interactive_; }
  // Redraws "label [=====>    ] 45%  1.2s  ETA 1.5s" at most ~10 times a second.
  void update(const std::string& label, int64_t done, int64_t total, double seconds);
  // Clears the bar so a normal line can be printed.
  void clear();

 private:
  bool interactive_;
  double last_draw_ = -1;
  bool drawn_ = false;
};

std::string format_duration(double seconds);  // "12.3s", "4m05s", "1h02m"

}  // namespace rotor
