#include "apps/plot.h"

// stb_easy_font defines static helpers this file does not all use.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wunused-function"
#include <stb_easy_font.h>
#pragma GCC diagnostic pop
#include <stb_image_write.h>

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "apps/svg.h"
#include "engine/error.h"

namespace rotor {

// ---- text ------------------------------------------------------------------
//
// stb_easy_font knows printable ASCII only. The text is cut into ASCII runs
// and "γ" (UTF-8 CE B3), which gets a 5x7 glyph of our own in stb_easy_font's
// grid: x-height from row 2, baseline at row 7, descender to row 9, like "y".
// Any other non-ASCII character is drawn as "?".

namespace {

constexpr const char* gamma_utf8 = "\xCE\xB3";
constexpr int gamma_advance = 7;  // like stb_easy_font's "x": 5 columns and a gap
constexpr std::array<const char*, 7> gamma_rows = {
    "X...X",  // row 2: two arms open upwards (x-height: rows 2..6)
    ".X.X.",  //
    ".X.X.",  //
    "..X..",  // ... meet
    "..X..",  // row 6: the stem down to the baseline
    ".X.X.",  // row 7: a small loop below it, where "y" has its tail
    "..X..",  // row 8
};

struct Run {
  bool gamma;
  std::string ascii;
};

std::vector<Run> split_text(const std::string& s) {
  std::vector<Run> runs;
  for (size_t i = 0; i < s.size();) {
    if (s.compare(i, 2, gamma_utf8) == 0) {
      runs.push_back({true, ""});
      i += 2;
      continue;
    }
    unsigned char c = static_cast<unsigned char>(s[i]);
    size_t len = 1;
    if (c >= 0x80) {  // another UTF-8 sequence: one "?"
      while (i + len < s.size() && (static_cast<unsigned char>(s[i + len]) & 0xC0) == 0x80) ++len;
      c = '?';
    }
    if (runs.empty() || runs.back().gamma) runs.push_back({false, ""});
    runs.back().ascii += static_cast<char>(c < 32 ? ' ' : c);
    i += len;
  }
  return runs;
}

// stb_easy_font vertices: x, y, z floats and 4 colour bytes, 4 per quad.
struct FontVertex {
  float x, y, z;
  uint8_t color[4];
};

// Calls quad(x0, y0, x1, y1) in glyph units (1 unit = `scale` pixels) for
// every filled rectangle of the text, left to right from x = 0.
template <class Quad>
void glyph_quads(const std::string& s, const Quad& quad) {
  double pen = 0;
  std::vector<FontVertex> buf;
  for (Run& run : split_text(s)) {
    if (run.gamma) {
      for (int r = 0; r < static_cast<int>(gamma_rows.size()); ++r)
        for (int c = 0; c < 5; ++c)
          if (gamma_rows[r][c] == 'X') quad(pen + c, 2.0 + r, pen + c + 1, 3.0 + r);
      pen += gamma_advance;
      continue;
    }
    buf.resize(run.ascii.size() * 4 * 40 + 16);
    const int quads = stb_easy_font_print(0, 0, run.ascii.data(), nullptr, buf.data(),
                                          static_cast<int>(buf.size() * sizeof(FontVertex)));
    for (int q = 0; q < quads; ++q) {
      const FontVertex &a = buf[q * 4], &b = buf[q * 4 + 2];
      quad(pen + a.x, a.y, pen + b.x, b.y);
    }
    pen += stb_easy_font_width(run.ascii.data());
  }
}

}  // namespace

double text_width(const std::string& s, double scale) {
  double units = 0;
  for (Run& run : split_text(s)) units += run.gamma ? gamma_advance : stb_easy_font_width(run.ascii.data());
  return units * scale;
}

// ---- raster ----------------------------------------------------------------

Canvas::Canvas(int width, int height, Rgb bg)
    : width_(width), height_(height), pixels_(static_cast<size_t>(width) * height * 3) {
  for (size_t i = 0; i < pixels_.size(); i += 3) std::copy(bg.begin(), bg.end(), pixels_.begin() + i);
}

Rgb over(Rgb under, Rgb fill, double alpha) {
  Rgb out;
  for (int k = 0; k < 3; ++k) out[k] = static_cast<uint8_t>(std::lround(under[k] * (1 - alpha) + fill[k] * alpha));
  return out;
}

void Canvas::blend(int x, int y, Rgb c, double a) {
  if (x < 0 || y < 0 || x >= width_ || y >= height_) return;
  uint8_t* p = pixels_.data() + (static_cast<size_t>(y) * width_ + x) * 3;
  const Rgb out = over({p[0], p[1], p[2]}, c, a);
  std::copy(out.begin(), out.end(), p);
}

Rgb Canvas::pixel(int x, int y) const {
  const uint8_t* p = pixels_.data() + (static_cast<size_t>(y) * width_ + x) * 3;
  return {p[0], p[1], p[2]};
}

void Canvas::rect(double x0, double y0, double x1, double y1, Rgb c, double alpha, const std::string&) {
  const int xa = static_cast<int>(std::lround(std::min(x0, x1))), xb = static_cast<int>(std::lround(std::max(x0, x1)));
  const int ya = static_cast<int>(std::lround(std::min(y0, y1))), yb = static_cast<int>(std::lround(std::max(y0, y1)));
  for (int y = ya; y < yb; ++y)
    for (int x = xa; x < xb; ++x) blend(x, y, c, alpha);
}

void Canvas::line(double x0, double y0, double x1, double y1, Rgb c, double width, bool dashed, const std::string&) {
  const double length = std::hypot(x1 - x0, y1 - y0);
  const int steps = static_cast<int>(std::max(std::fabs(x1 - x0), std::fabs(y1 - y0))) + 1;
  const int thick = std::max(1, static_cast<int>(std::lround(width)));
  std::vector<uint8_t> done(static_cast<size_t>(width_) * height_, 0);  // each pixel once, so alpha stays even
  for (int i = 0; i <= steps; ++i) {
    const double t = static_cast<double>(i) / steps;
    if (dashed && std::fmod(t * length, 10.0) >= 6.0) continue;  // 6 on, 4 off, as the SVG's dasharray
    const int cx = static_cast<int>(std::lround(x0 + t * (x1 - x0))), cy = static_cast<int>(std::lround(y0 + t * (y1 - y0)));
    for (int dy = -(thick - 1) / 2; dy <= thick / 2; ++dy)
      for (int dx = -(thick - 1) / 2; dx <= thick / 2; ++dx) {
        const int x = cx + dx, y = cy + dy;
        if (x < 0 || y < 0 || x >= width_ || y >= height_ || done[static_cast<size_t>(y) * width_ + x]) continue;
        done[static_cast<size_t>(y) * width_ + x] = 1;
        blend(x, y, c, 1);
      }
  }
}

void Canvas::polyline(const std::vector<Point>& points, Rgb c, double width, const std::string& role,
                      const std::string&) {
  for (size_t i = 1; i < points.size(); ++i) line(points[i - 1].x, points[i - 1].y, points[i].x, points[i].y, c, width, false, role);
}

void Canvas::text(double x, double y, const std::string& s, Rgb c, double scale, Anchor anchor, bool vertical) {
  const double w = text_width(s, scale);
  const double shift = anchor == Anchor::start ? 0 : anchor == Anchor::middle ? w / 2 : w;
  glyph_quads(s, [&](double gx0, double gy0, double gx1, double gy1) {
    if (vertical)  // rotated 90 degrees counter-clockwise: reads bottom to top
      rect(x + gy0 * scale, y + shift - gx0 * scale, x + gy1 * scale, y + shift - gx1 * scale, c, 1);
    else
      rect(x - shift + gx0 * scale, y + gy0 * scale, x - shift + gx1 * scale, y + gy1 * scale, c, 1);
  });
}

void Canvas::write_png(const std::string& path) const {
  const std::string tmp = path + ".tmp";
  if (stbi_write_png(tmp.c_str(), width_, height_, 3, pixels_.data(), width_ * 3) == 0) {
    std::remove(tmp.c_str());
    fail("cannot write {}", path);
  }
  ROTOR_CHECK(std::rename(tmp.c_str(), path.c_str()) == 0, "cannot write {}", path);
}

// ---- axes ------------------------------------------------------------------

// A "nice" tick step (1, 2 or 5 times a power of ten) for a range.
static double tick_step(double range, int target) {
  const double raw = range / std::max(1, target);
  const double p = std::pow(10.0, std::floor(std::log10(raw)));
  for (double m : {1.0, 2.0, 5.0, 10.0})
    if (m * p >= raw * (1 - 1e-9)) return m * p;
  return 10 * p;
}

static double linear_step(const Axis& a) {
  const double step = tick_step(a.hi - a.lo, 5);
  return a.integer ? std::max(1.0, step) : step;
}

double Axis::map(double v) const {
  if (log) {
    const double l = std::log10(lo), h = std::log10(hi);
    const double t = v > 0 ? (std::log10(v) - l) / (h - l) : 0.0;
    return p0 + t * (p1 - p0);
  }
  return p0 + (v - lo) / (hi - lo) * (p1 - p0);
}

// The 1-2-5 values of each decade between lo and hi (tolerating rounding).
static std::vector<double> log_steps(double lo, double hi, std::initializer_list<int> mantissas) {
  std::vector<double> out;
  for (int k = static_cast<int>(std::floor(std::log10(lo))) - 1; k <= static_cast<int>(std::ceil(std::log10(hi))); ++k)
    for (int m : mantissas) {
      const double v = m * std::pow(10.0, k);
      if (v >= lo * (1 - 1e-9) && v <= hi * (1 + 1e-9)) out.push_back(v);
    }
  return out;
}

// Up to three decades get ticks at 1, 2 and 5; wider axes at every decade
// (or every few).
static bool log_ticks_125(const Axis& a) { return std::log10(a.hi / a.lo) <= 3 + 1e-9; }

std::vector<double> Axis::ticks() const {
  if (log) {
    if (log_ticks_125(*this)) return log_steps(lo, hi, {1, 2, 5});
    std::vector<double> decades = log_steps(lo, hi, {1}), out;
    const size_t every = std::max<size_t>(1, (decades.size() + 7) / 8);  // at most ~8 labels
    for (size_t i = 0; i < decades.size(); i += every) out.push_back(decades[i]);
    return out;
  }
  std::vector<double> out;
  const double step = linear_step(*this);
  for (double v = std::ceil(lo / step - 1e-9) * step; v <= hi + step * 1e-9; v += step) out.push_back(v);
  return out;
}

std::vector<double> Axis::minor_ticks() const {
  if (!log) return {};
  return log_steps(lo, hi, {1, 2, 3, 4, 5, 6, 7, 8, 9});
}

std::string Axis::label(double v) const {
  if (log) {
    const int k = static_cast<int>(std::floor(std::log10(v) + 1e-9));
    const long m = std::lround(v / std::pow(10.0, k));
    return k >= -3 && k <= 3 ? fmt::format("{:g}", m * std::pow(10.0, k)) : fmt::format("{}e{}", m, k);
  }
  const double step = linear_step(*this);
  if (std::fabs(v) < step * 1e-9) return "0";
  if (step >= 1) return fmt::format("{:.0f}", v);
  return fmt::format("{:.{}f}", v, static_cast<int>(std::ceil(-std::log10(step) - 1e-9)));
}

Axis linear_axis(double lo, double hi, bool from_zero) {
  if (from_zero) lo = std::min(lo, 0.0);
  if (!(hi - lo > 1e-12 * std::max(1.0, std::fabs(hi)))) {
    const double pad = std::max(std::fabs(hi) * 0.1, 1e-6);
    hi += pad;
    if (!from_zero || lo < 0) lo -= pad;
  }
  const double step = tick_step(hi - lo, 5);
  Axis a;
  a.lo = std::floor(lo / step + 1e-9) * step;
  a.hi = std::ceil(hi / step - 1e-9) * step;
  return a;
}

Axis log_axis(double lo, double hi) {
  ROTOR_CHECK(lo > 0 && hi > 0, "log axis over [{}, {}]", lo, hi);
  Axis axis;
  axis.log = true;
  // Out to the nearest 1, 2 or 5 times a power of ten on each side.
  const double d_lo = std::pow(10.0, std::floor(std::log10(lo)));
  axis.lo = d_lo;
  for (double m : {2.0, 5.0})
    if (m * d_lo <= lo * (1 + 1e-12)) axis.lo = m * d_lo;
  const double d_hi = std::pow(10.0, std::floor(std::log10(hi)));
  axis.hi = 10 * d_hi;
  for (double m : {5.0, 2.0, 1.0})
    if (m * d_hi >= hi * (1 - 1e-12)) axis.hi = m * d_hi;
  if (axis.hi <= axis.lo * (1 + 1e-9)) axis.hi = axis.lo == d_lo ? 2 * d_lo : axis.lo == 2 * d_lo ? 5 * d_lo : 10 * d_lo;
  return axis;
}

void Panel::place() {
  x.p0 = left;
  x.p1 = right;
  y.p0 = bottom;
  y.p1 = top;
}

void draw_axes(Painter& p, const Panel& panel, bool x_tick_labels) {
  const Rgb grid = {225, 225, 225}, axis = {60, 60, 60};
  double widest = 0;
  for (double v : panel.y.ticks()) widest = std::max(widest, text_width(panel.y.label(v)));
  for (double v : panel.y.ticks()) {
    const double y = panel.y.map(v);
    p.line(panel.left, y, panel.right, y, grid, 1, false, "grid");
    p.line(panel.left - 5, y, panel.left, y, axis);
    p.text(panel.left - 9, y - 7, panel.y.label(v), axis, 2, Anchor::end);
  }
  for (double v : panel.x.minor_ticks()) p.line(panel.x.map(v), panel.bottom, panel.x.map(v), panel.bottom + 3, axis);
  for (double v : panel.x.ticks()) {
    const double x = panel.x.map(v);
    p.line(x, panel.top, x, panel.bottom, grid, 1, false, "grid");
    p.line(x, panel.bottom, x, panel.bottom + 6, axis);
    if (x_tick_labels) p.text(x, panel.bottom + 11, panel.x.label(v), axis, 2, Anchor::middle);
  }
  p.line(panel.left, panel.bottom, panel.right, panel.bottom, axis, 1, false, "axis");
  p.line(panel.left, panel.top, panel.left, panel.bottom, axis, 1, false, "axis");
  if (!panel.x_label.empty() && x_tick_labels)
    p.text((panel.left + panel.right) / 2, panel.bottom + 33, panel.x_label, {0, 0, 0}, 2, Anchor::middle);
  if (!panel.y_label.empty())
    p.text(std::max(2.0, panel.left - 9 - widest - 24), (panel.top + panel.bottom) / 2, panel.y_label, {0, 0, 0}, 2,
           Anchor::middle, true);
}

void draw_legend(Painter& p, double right, double top, const std::vector<LegendEntry>& entries) {
  double widest = 0;
  for (const LegendEntry& e : entries) widest = std::max(widest, text_width(e.label));
  const double left = right - widest - 48, row = 22;
  p.rect(left, top, right, top + 10 + row * static_cast<double>(entries.size()), {255, 255, 255}, 0.85, "legend");
  double y = top + 6;
  for (const LegendEntry& e : entries) {
    if (e.kind == LegendEntry::Kind::box)
      p.rect(left + 8, y + 1, left + 30, y + 15, e.color, e.alpha, "legend-swatch");
    else if (e.kind != LegendEntry::Kind::text)
      p.line(left + 8, y + 8, left + 30, y + 8, e.color, e.width, e.kind == LegendEntry::Kind::dashed, "legend-swatch");
    p.text(left + 38, y + 1, e.label, e.kind == LegendEntry::Kind::text ? e.color : Rgb{0, 0, 0});
    y += row;
  }
}

double draw_title(Painter& p, double width, const std::string& title, const std::string& subtitle) {
  const double title_scale = std::min(2.5, (width - 30) / text_width(title, 1));
  p.text(width / 2, 14, title, {0, 0, 0}, title_scale, Anchor::middle);
  const Rgb grey = {70, 70, 70};
  if (text_width(subtitle, 1.8) <= width - 30) {
    p.text(width / 2, 44, subtitle, grey, std::min(2.0, (width - 30) / text_width(subtitle, 1)), Anchor::middle);
    return 72;
  }
  // Too long for one readable line: two, cut at the " | " nearest the middle.
  size_t cut = std::string::npos;
  for (size_t at = subtitle.find(" | "); at != std::string::npos; at = subtitle.find(" | ", at + 1))
    if (cut == std::string::npos || std::labs(long(at) - long(subtitle.size() / 2)) < std::labs(long(cut) - long(subtitle.size() / 2)))
      cut = at;
  const std::string first = cut == std::string::npos ? subtitle : subtitle.substr(0, cut);
  const std::string second = cut == std::string::npos ? "" : subtitle.substr(cut + 3);
  const double scale = std::min(1.8, (width - 30) / std::max(text_width(first, 1), text_width(second, 1)));
  p.text(width / 2, 40, first, grey, scale, Anchor::middle);
  p.text(width / 2, 58, second, grey, scale, Anchor::middle);
  return 76;
}

std::vector<std::string> write_figure(const std::string& stem, int width, int height,
                                      const std::function<void(Painter&)>& draw) {
  Canvas png(width, height);
  SvgPainter svg(width, height);
  draw(png);
  draw(svg);
  png.write_png(stem + ".png");
  svg.write(stem + ".svg");
  return {stem + ".png", stem + ".svg"};
}

}  // namespace rotor
