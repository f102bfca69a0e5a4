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

#include "engine/error.h"

namespace rotor {

Canvas::Canvas(int width, int height, Rgb bg)
    : width_(width), height_(height), pixels_(static_cast<size_t>(width) * height * 3) {
  for (size_t i = 0; i < pixels_.size(); i += 3) std::copy(bg.begin(), bg.end(), pixels_.begin() + i);
}

void Canvas::blend(int x, int y, Rgb c, double a) {
  if (x < 0 || y < 0 || x >= width_ || y >= height_) return;
  uint8_t* p = pixels_.data() + (static_cast<size_t>(y) * width_ + x) * 3;
  for (int k = 0; k < 3; ++k) p[k] = static_cast<uint8_t>(std::lround(p[k] * (1 - a) + c[k] * a));
}

void Canvas::fill_rect(double x0, double y0, double x1, double y1, Rgb c, double alpha) {
  const int xa = static_cast<int>(std::lround(std::min(x0, x1))), xb = static_cast<int>(std::lround(std::max(x0, x1)));
  const int ya = static_cast<int>(std::lround(std::min(y0, y1))), yb = static_cast<int>(std::lround(std::max(y0, y1)));
  for (int y = ya; y < yb; ++y)
    for (int x = xa; x < xb; ++x) blend(x, y, c, alpha);
}

void Canvas::line(double x0, double y0, double x1, double y1, Rgb c) {
  const int steps = static_cast<int>(std::max(std::fabs(x1 - x0), std::fabs(y1 - y0))) + 1;
  for (int i = 0; i <= steps; ++i) {
    const double t = static_cast<double>(i) / steps;
    blend(static_cast<int>(std::lround(x0 + t * (x1 - x0))), static_cast<int>(std::lround(y0 + t * (y1 - y0))), c, 1);
  }
}

// stb_easy_font vertices: x, y, z floats and 4 colour bytes, 4 per quad.
struct FontVertex {
  float x, y, z;
  uint8_t color[4];
};

template <class Plot>
static void glyph_quads(const std::string& s, const Plot& plot) {
  std::vector<FontVertex> buf(60000);
  std::string copy = s;
  const int quads = stb_easy_font_print(0, 0, copy.data(), nullptr, buf.data(), static_cast<int>(buf.size() * sizeof(FontVertex)));
  for (int q = 0; q < quads; ++q) plot(buf[q * 4], buf[q * 4 + 2]);
}

void Canvas::text(double x, double y, const std::string& s, Rgb c, double scale) {
  glyph_quads(s, [&](const FontVertex& a, const FontVertex& b) {
    fill_rect(x + a.x * scale, y + a.y * scale, x + b.x * scale, y + b.y * scale, c);
  });
}

void Canvas::text_vertical(double x, double y, const std::string& s, Rgb c, double scale) {
  // Rotated 90 degrees counter-clockwise: reads bottom to top, starting at (x, y).
  glyph_quads(s, [&](const FontVertex& a, const FontVertex& b) {
    fill_rect(x + a.y * scale, y - a.x * scale, x + b.y * scale, y - b.x * scale, c);
  });
}

double Canvas::text_width(const std::string& s, double scale) {
  std::string copy = s;
  return stb_easy_font_width(copy.data()) * scale;
}

void Canvas::write_png(const std::string& path) const {
  const std::string tmp = path + ".tmp";
  ROTOR_CHECK(stbi_write_png(tmp.c_str(), width_, height_, 3, pixels_.data(), width_ * 3) != 0, "cannot write {}", tmp);
  ROTOR_CHECK(std::rename(tmp.c_str(), path.c_str()) == 0, "cannot write {}", path);
}

// A "nice" tick step (1, 2 or 5 times a power of ten) for a range.
static double tick_step(double range, int target) {
  const double raw = range / std::max(1, target);
  const double p = std::pow(10.0, std::floor(std::log10(raw)));
  for (double m : {1.0, 2.0, 5.0, 10.0})
    if (m * p >= raw) return m * p;
  return 10 * p;
}

static std::string tick_label(double v, double step) {
  if (std::fabs(v) < step * 1e-9) return "0";
  if (step >= 1) return fmt::format("{:.0f}", v);
  const int digits = static_cast<int>(std::ceil(-std::log10(step)));
  return fmt::format("{:.{}f}", v, digits);
}

Canvas render(const BarChart& chart, int width, int height) {
  Canvas c(width, height);
  const double left = 90, right = width - 30.0, top = 60, bottom = height - 70.0;
  ROTOR_CHECK(chart.bin_edges.size() >= 2, "plot: no bins");
  const double x_min = chart.bin_edges.front(), x_max = chart.bin_edges.back();
  double y_max = 0;
  for (const Series& s : chart.series)
    for (double v : s.values) y_max = std::max(y_max, v);
  if (y_max <= 0) y_max = 1;
  const double y_step = tick_step(y_max, 5);
  y_max = std::ceil(y_max / y_step) * y_step;
  auto px = [&](double x) { return left + (x - x_min) / (x_max - x_min) * (right - left); };
  auto py = [&](double y) { return bottom - y / y_max * (bottom - top); };

  // Grid, ticks and labels.
  const Rgb grid = {225, 225, 225}, axis = {60, 60, 60};
  for (double y = 0; y <= y_max + y_step * 1e-9; y += y_step) {
    c.line(left, py(y), right, py(y), grid);
    const std::string l = tick_label(y, y_step);
    c.text(left - 10 - Canvas::text_width(l), py(y) - 7, l, axis);
  }
  const double x_step = tick_step(x_max - x_min, 8);
  for (double x = std::ceil(x_min / x_step) * x_step; x <= x_max + x_step * 1e-9; x += x_step) {
    c.line(px(x), bottom, px(x), bottom + 6, axis);
    const std::string l = tick_label(x, x_step);
    c.text(px(x) - Canvas::text_width(l) / 2, bottom + 12, l, axis);
  }
  // Bars, overlaid and translucent so both series stay visible.
  for (const Series& s : chart.series)
    for (size_t i = 0; i < s.values.size() && i + 1 < chart.bin_edges.size(); ++i)
      if (s.values[i] > 0) c.fill_rect(px(chart.bin_edges[i]), py(s.values[i]), px(chart.bin_edges[i + 1]), bottom, s.color, 0.55);
  c.line(left, bottom, right, bottom, axis);
  c.line(left, top, left, bottom, axis);

  c.text((width - Canvas::text_width(chart.title, 2.5)) / 2, 18, chart.title, {0, 0, 0}, 2.5);
  c.text((left + right - Canvas::text_width(chart.x_label)) / 2, height - 32.0, chart.x_label);
  c.text_vertical(22, (top + bottom + Canvas::text_width(chart.y_label)) / 2, chart.y_label);
  // Legend.
  double ly = top + 8;
  for (const Series& s : chart.series) {
    const double lx = right - 20 - Canvas::text_width(s.label) - 26;
    c.fill_rect(lx, ly, lx + 18, ly + 14, s.color, 0.55);
    c.text(lx + 26, ly, s.label);
    ly += 24;
  }
  return c;
}

}  // namespace rotor
