// Plotting for the reports: a Painter draws rectangles, lines and text in
// pixel coordinates (origin top-left, y down), and every figure is drawn
// twice through it, once into a PNG raster (Canvas, stb_image_write) and once
// into an SVG document (SvgPainter, apps/svg.h). So the PNG and the SVG of a
// figure have the same geometry, and a test can check an SVG coordinate
// against the axis mapping that the PNG used too.
//
// PNG text uses stb_easy_font's bitmap glyphs (printable ASCII) scaled, plus
// one glyph of our own for "γ", which every report names.
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace rotor {

using Rgb = std::array<uint8_t, 3>;
enum class Anchor { start, middle, end };  // where x lies on the text: left edge, centre, right edge

struct Point {
  double x, y;
};

class Painter {
 public:
  virtual ~Painter() = default;
  // role: a name for the element (SVG class attribute), so tests and readers
  // of the SVG can find e.g. the gamma marker; PNG ignores it.
  virtual void rect(double x0, double y0, double x1, double y1, Rgb fill, double alpha, const std::string& role = "") = 0;
  virtual void line(double x0, double y0, double x1, double y1, Rgb color, double width = 1, bool dashed = false,
                    const std::string& role = "") = 0;
  // label: which series the line is (SVG data-label attribute).
  virtual void polyline(const std::vector<Point>& points, Rgb color, double width, const std::string& role,
                        const std::string& label = "") = 0;
  // Text whose glyphs' top lies at y; scale 2 gives 14-pixel capitals in the
  // PNG. vertical: rotated to read bottom to top, x and y then name the
  // point where the text starts (anchor applies along the text).
  virtual void text(double x, double y, const std::string& s, Rgb color, double scale = 2.0,
                    Anchor anchor = Anchor::start, bool vertical = false) = 0;
};

// Width of text in the PNG's glyphs (the SVG's font is narrower, so layouts
// sized with this fit both).
double text_width(const std::string& s, double scale = 2.0);

class Canvas : public Painter {
 public:
  Canvas(int width, int height, Rgb background = {255, 255, 255});
  void rect(double x0, double y0, double x1, double y1, Rgb fill, double alpha, const std::string& role = "") override;
  void line(double x0, double y0, double x1, double y1, Rgb color, double width = 1, bool dashed = false,
            const std::string& role = "") override;
  void polyline(const std::vector<Point>& points, Rgb color, double width, const std::string& role,
                const std::string& label = "") override;
  void text(double x, double y, const std::string& s, Rgb color, double scale = 2.0, Anchor anchor = Anchor::start,
            bool vertical = false) override;
  void write_png(const std::string& path) const;  // throws naming the path; never leaves a half file
  int width() const { return width_; }
  int height() const { return height_; }
  Rgb pixel(int x, int y) const;

 private:
  void blend(int x, int y, Rgb color, double alpha);
  int width_, height_;
  std::vector<uint8_t> pixels_;  // (H, W, 3)
};

// The colour a translucent fill leaves over `under` (what both PNG and SVG
// show), so a legend can name the colour where two histograms overlap.
Rgb over(Rgb under, Rgb fill, double alpha);

// Maps data values to pixels along one direction (linear or log10).
struct Axis {
  double lo = 0, hi = 1;  // data range; a log axis starts and ends at 1, 2 or 5 times a power of ten
  double p0 = 0, p1 = 1;  // pixels of lo and hi
  bool log = false;
  bool integer = false;  // ticks on whole numbers only (epochs)

  double map(double v) const;
  std::vector<double> ticks() const;        // labelled ticks
  std::vector<double> minor_ticks() const;  // log axes: 1..9 times each power of ten
  std::string label(double v) const;
};

// A linear axis over [lo, hi] widened to round tick values (from_zero: starts at 0).
Axis linear_axis(double lo, double hi, bool from_zero = false);
// A log10 axis over [lo, hi] (both > 0) widened to 1, 2 or 5 times a power
// of ten: slopes between 0.7 and 1.4 get 0.5 to 2, not 0.1 to 10.
Axis log_axis(double lo, double hi);

// One plotting area and its axes; draw_axes sets x.p0/p1 and y.p0/p1 from the box.
struct Panel {
  double left = 0, top = 0, right = 0, bottom = 0;
  Axis x, y;
  std::string x_label, y_label;
  void place();  // x from left to right, y from bottom to top
};
void draw_axes(Painter& p, const Panel& panel, bool x_tick_labels = true);

struct LegendEntry {
  std::string label;
  Rgb color;
  enum class Kind { box, line, dashed, text } kind = Kind::box;  // text: no swatch, a line of words
  double alpha = 1;
  double width = 2;  // of a line
};
// A framed legend whose top-right corner is (right, top).
void draw_legend(Painter& p, double right, double top, const std::vector<LegendEntry>& entries);

// The figure's title (large, centred) and the line naming the model, data
// set, epoch and gamma under it, shrunk to fit the width. Returns the y
// where the plots may start.
double draw_title(Painter& p, double width, const std::string& title, const std::string& subtitle);

// Draws the figure into a PNG and an SVG: writes <stem>.png and <stem>.svg
// and returns their paths.
std::vector<std::string> write_figure(const std::string& stem, int width, int height,
                                      const std::function<void(Painter&)>& draw);

}  // namespace rotor
