#include "apps/progress.h"

#include <fmt/format.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>

namespace rotor {

std::string format_duration(double s) {
  if (s < 60) return fmt::format("{:.1f}s", s);
  const int64_t t = static_cast<int64_t>(s + 0.5);
  if (t < 3600) return fmt::format("{}m{:02}s", t / 60, t % 60);
  return fmt::format("{}h{:02}m", t / 3600, (t % 3600) / 60);
}

int terminal_columns() {
  if (const char* env = std::getenv("COLUMNS")) {
    const int c = std::atoi(env);
    if (c > 0) return c;
  }
  winsize ws{};
  if (::ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0) return ws.ws_col;
  return 80;
}

namespace {

double clamp01(double f) { return std::min(1.0, std::max(0.0, f)); }

std::string eta_text(const ProgressState& s) {
  const double f = clamp01(s.fraction);
  if (f <= 0) return "ETA ?";
  return "ETA " + format_duration(s.seconds / f * (1 - f));
}

}  // namespace

std::string progress_text(const ProgressState& s) {
  std::string line =
      fmt::format("{}  {:.0f}%  {}  {}", s.label, 100 * clamp01(s.fraction), format_duration(s.seconds), eta_text(s));
  if (!s.info.empty()) line += "  " + s.info;
  return line;
}

std::string progress_line(const ProgressState& s, int columns) {
  const size_t room = static_cast<size_t>(std::max(columns - 1, 1));
  const double f = clamp01(s.fraction);
  const std::string pct = fmt::format("{:3.0f}%", 100 * f), elapsed = format_duration(s.seconds), eta = eta_text(s);
  // Drop parts from the least to the most needed until the line fits; the
  // bar takes what is left, up to 30 characters, and goes below 6.
  for (int drop = 0; drop < 3; ++drop) {
    std::string tail = pct;
    if (drop < 1) tail += "  " + elapsed;
    tail += "  " + eta;
    if (drop < 2 && !s.info.empty()) tail += "  " + s.info;
    const size_t fixed = s.label.size() + 1 + tail.size();
    if (fixed > room) continue;
    const size_t bar_room = room - fixed;  // " [" + bar + "]" takes bar + 3
    if (bar_room >= 9) {
      const int width = static_cast<int>(std::min<size_t>(30, bar_room - 3));
      const int filled = static_cast<int>(f * width);
      std::string bar(static_cast<size_t>(filled), '=');
      if (filled < width) bar += '>';
      bar.resize(static_cast<size_t>(width), ' ');
      return s.label + " [" + bar + "] " + tail;
    }
    return s.label + " " + tail;
  }
  // Narrower than the label and the essentials: cut.
  std::string line = s.label + " " + pct + "  " + eta;
  if (line.size() > room) line.resize(room);
  return line;
}

static double steady_seconds() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

ProgressBar::ProgressBar(Options o) : o_(std::move(o)) {
  if (!o_.clock) o_.clock = steady_seconds;
  last_plain_ = o_.clock();
}

ProgressBar::ProgressBar()
    : ProgressBar([] {
        Options o;
        o.interactive = ::isatty(STDOUT_FILENO) == 1;
        return o;
      }()) {}

bool ProgressBar::due() const {
  const double now = o_.clock();
  return o_.interactive ? now - last_draw_ >= 0.1 : now - last_plain_ >= o_.plain_every_seconds;
}

void ProgressBar::show(const ProgressState& s) {
  const double now = o_.clock();
  if (!o_.interactive) {
    if (now - last_plain_ < o_.plain_every_seconds) return;
    last_plain_ = now;
    std::fputs((progress_text(s) + "\n").c_str(), o_.out);
    std::fflush(o_.out);
    return;
  }
  if (s.fraction < 1 && now - last_draw_ < 0.1) return;
  last_draw_ = now;
  const int columns = o_.columns > 0 ? o_.columns : terminal_columns();
  // Three writes, not "\r" + line: GCC 12 warns falsely (-Wrestrict, its bug 105329) on that concatenation.
  std::fputs("\r", o_.out);
  std::fputs(progress_line(s, columns).c_str(), o_.out);
  std::fputs("\x1b[K", o_.out);
  std::fflush(o_.out);
  drawn_ = true;
}

void ProgressBar::update(const std::string& label, int64_t done, int64_t total, double seconds) {
  if (total <= 0) return;
  show({label, static_cast<double>(done) / static_cast<double>(total), seconds, ""});
}

void ProgressBar::clear() {
  last_plain_ = o_.clock();
  if (!drawn_) return;
  std::fputs("\r\x1b[K", o_.out);
  std::fflush(o_.out);
  drawn_ = false;
  last_draw_ = -1e300;
}

}  // namespace rotor
