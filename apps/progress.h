// Progress of a long command (training, choosing gamma).
//
// On a terminal: one line redrawn in place at most ~10 times a second,
//   "epoch 3/10 [=====>    ] 45%  1m02s  ETA 4m10s  loss 0.4312"
// where the ETA is the whole job's and the line is cut to the terminal's
// width (COLUMNS, else the TIOCGWINSZ ioctl, else 80): the bar shrinks, then
// the elapsed time and the extra text go, so a narrow terminal never wraps.
// Not on a terminal (a log file, a pipe): a plain line every 30 seconds, so
// a log shows that a long step is alive and how far it is, without the
// carriage returns.
#pragma once

#include <cstdint>
#include <cstdio>
#include <functional>
#include <string>

namespace rotor {

struct ProgressState {
  std::string label;    // "epoch 3/10", "choosing gamma: trial 5 of <=38"
  double fraction = 0;  // of the whole job, in [0, 1]
  double seconds = 0;   // since the whole job began
  std::string info;     // e.g. "loss 0.4312"; may be empty
};

// The terminal line for `s` in at most columns - 1 characters (no wrap).
std::string progress_line(const ProgressState& s, int columns);
// The plain line written when stdout is not a terminal (no bar).
std::string progress_text(const ProgressState& s);
// Width of the terminal: $COLUMNS when set to a positive number, else the
// ioctl's, else 80.
int terminal_columns();

class ProgressBar {
 public:
  struct Options {
    std::FILE* out = stdout;
    bool interactive = false;
    int columns = 0;                  // 0: terminal_columns() at every redraw
    double plain_every_seconds = 30;  // non-interactive: a line at most this often
    std::function<double()> clock;    // seconds; default: a steady clock
  };
  ProgressBar();  // stdout, interactive when it is a terminal
  explicit ProgressBar(Options o);
  bool interactive() const { return o_.interactive; }

  // Whether show() would draw now (a caller can skip computing the state).
  bool due() const;
  void show(const ProgressState& s);
  // One step of `total` done: label [bar] done/total with the step's ETA.
  void update(const std::string& label, int64_t done, int64_t total, double seconds);
  // Clears the bar so a normal line can be printed; the caller's line also
  // restarts the plain-line interval.
  void clear();

 private:
  Options o_;
  double last_draw_ = -1e300, last_plain_;
  bool drawn_ = false;
};

std::string format_duration(double seconds);  // "12.3s", "4m05s", "1h02m"

}  // namespace rotor
