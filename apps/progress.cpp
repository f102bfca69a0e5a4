#include "apps/progress.h"

#include <fmt/format.h>
#include <unistd.h>

#include <cstdio>

namespace rotor {

ProgressBar::ProgressBar() : interactive_(::isatty(STDOUT_FILENO) == 1) {}

std::string format_duration(double s) {
  if (s < 60) return fmt::format("{:.1f}s", s);
  const int64_t t = static_cast<int64_t>(s + 0.5);
  if (t < 3600) return fmt::format("{}m{:02}s", t / 60, t % 60);
  return fmt::format("{}h{:02}m", t / 3600, (t % 3600) / 60);
}

void ProgressBar::update(const std::string& label, int64_t done, int64_t total, double seconds) {
  if (!interactive_ || total <= 0) return;
  if (done < total && seconds - last_draw_ < 0.1) return;
  last_draw_ = seconds;
  constexpr int width = 30;
  const double frac = static_cast<double>(done) / static_cast<double>(total);
  const int filled = static_cast<int>(frac * width);
  std::string bar(static_cast<size_t>(filled), '=');
  if (filled < width) bar += '>';
  bar.resize(width, ' ');
  const double eta = done > 0 ? seconds / static_cast<double>(done) * static_cast<double>(total - done) : 0;
  std::fputs(fmt::format("\r{} [{}] {:3.0f}%  {}  ETA {}\x1b[K", label, bar, 100 * frac, format_duration(seconds),
                         format_duration(eta))
                 .c_str(),
             stdout);
  std::fflush(stdout);
  drawn_ = true;
}

void ProgressBar::clear() {
  if (!drawn_) return;
  std::fputs("\r\x1b[K", stdout);
  std::fflush(stdout);
  drawn_ = false;
  last_draw_ = -1;
}

}  // namespace rotor
