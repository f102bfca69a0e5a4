// SvgPainter: the Painter of apps/plot.h writing an SVG document as text (no
// library). Coordinates are the PNG's pixels, so both files of a figure show
// the same thing; elements carry their role as a class attribute
// (class="gamma" is the gamma marker, class="series" data-label="..." a
// plotted line) for readers and tests.
#pragma once

#include <string>

#include "apps/plot.h"

namespace rotor {

class SvgPainter : public Painter {
 public:
  SvgPainter(int width, int height);
  void rect(double x0, double y0, double x1, double y1, Rgb fill, double alpha, const std::string& role = "") override;
  void line(double x0, double y0, double x1, double y1, Rgb color, double width = 1, bool dashed = false,
            const std::string& role = "") override;
  void polyline(const std::vector<Point>& points, Rgb color, double width, const std::string& role,
                const std::string& label = "") override;
  void text(double x, double y, const std::string& s, Rgb color, double scale = 2.0, Anchor anchor = Anchor::start,
            bool vertical = false) override;

  std::string document() const;            // the whole SVG file
  void write(const std::string& path) const;  // atomically; throws naming the path

 private:
  int width_, height_;
  std::string body_;
};

// &, <, >, " and ' as XML entities.
std::string xml_escape(const std::string& s);

}  // namespace rotor
