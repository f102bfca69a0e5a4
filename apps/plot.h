// A small PNG plotting canvas for the reports: filled rectangles, lines and
// text (stb_easy_font's bitmap glyphs, scaled), axes with tick labels, and
// grouped bar charts. Written with stb_image_write.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <vector>

namespace rotor {

using Rgb = std::array<uint8_t, 3>;

class Canvas {
 public:
  Canvas(int width, int height, Rgb background = {255, 255, 255});
  void fill_rect(double x0, double y0, double x1, double y1, Rgb color, double alpha = 1.0);
  void line(double x0, double y0, double x1, double y1, Rgb color);
  // Text with its top-left corner at (x, y); scale 2 gives ~14-pixel glyphs.
  void text(double x, double y, const std::string& s, Rgb color = {0, 0, 0}, double scale = 2.0);
  void text_vertical(double x, double y, const std::string& s, Rgb color = {0, 0, 0}, double scale = 2.0);
  static double text_width(const std::string& s, double scale = 2.0);
  void write_png(const std::string& path) const;  // throws naming the path
  int width() const { return width_; }
  int height() const { return height_; }

 private:
  void blend(int x, int y, Rgb color, double alpha);
  int width_, height_;
  std::vector<uint8_t> pixels_;  // (H, W, 3)
};

struct Series {
  std::string label;
  std::vector<double> values;  // one per bin
  Rgb color;
};

struct BarChart {
  std::string title, x_label, y_label;
  std::vector<double> bin_edges;  // bins + 1 edges (x axis)
  std::vector<Series> series;     // drawn overlaid, translucent
};

// Renders the chart (axes, ticks, legend) into a canvas of the given size.
Canvas render(const BarChart& chart, int width = 900, int height = 560);

}  // namespace rotor
