#include "apps/svg.h"

#include <fmt/format.h>

#include <cmath>
#include <cstdio>
#include <fstream>

#include "engine/error.h"

namespace rotor {

namespace {

std::string hex(Rgb c) { return fmt::format("#{:02x}{:02x}{:02x}", c[0], c[1], c[2]); }

// Two decimals: sub-pixel positions without long numbers.
std::string num(double v) {
  std::string s = fmt::format("{:.2f}", v);
  while (s.back() == '0') s.pop_back();
  if (s.back() == '.') s.pop_back();
  return s == "-0" ? "0" : s;
}

std::string class_attr(const std::string& role) { return role.empty() ? "" : " class=\"" + xml_escape(role) + "\""; }

}  // namespace

std::string xml_escape(const std::string& s) {
  std::string out;
  for (char c : s) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&apos;"; break;
      default: out += c;
    }
  }
  return out;
}

SvgPainter::SvgPainter(int width, int height) : width_(width), height_(height) {}

void SvgPainter::rect(double x0, double y0, double x1, double y1, Rgb fill, double alpha, const std::string& role) {
  body_ += fmt::format("<rect{} x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" fill=\"{}\"{}/>\n", class_attr(role),
                       num(std::min(x0, x1)), num(std::min(y0, y1)), num(std::fabs(x1 - x0)), num(std::fabs(y1 - y0)),
                       hex(fill), alpha < 1 ? " fill-opacity=\"" + num(alpha) + "\"" : "");
}

void SvgPainter::line(double x0, double y0, double x1, double y1, Rgb color, double width, bool dashed,
                      const std::string& role) {
  body_ += fmt::format("<line{} x1=\"{}\" y1=\"{}\" x2=\"{}\" y2=\"{}\" stroke=\"{}\" stroke-width=\"{}\"{}/>\n",
                       class_attr(role), num(x0), num(y0), num(x1), num(y1), hex(color), num(width),
                       dashed ? " stroke-dasharray=\"6 4\"" : "");
}

void SvgPainter::polyline(const std::vector<Point>& points, Rgb color, double width, const std::string& role,
                          const std::string& label) {
  std::string pts;
  for (const Point& p : points) {
    if (!pts.empty()) pts += ' ';
    pts += num(p.x);
    pts += ',';
    pts += num(p.y);
  }
  body_ += fmt::format("<polyline{}{} points=\"{}\" fill=\"none\" stroke=\"{}\" stroke-width=\"{}\"/>\n",
                       class_attr(role), label.empty() ? "" : " data-label=\"" + xml_escape(label) + "\"",
                       pts, hex(color), num(width));
}

void SvgPainter::text(double x, double y, const std::string& s, Rgb color, double scale, Anchor anchor, bool vertical) {
  // The PNG's glyphs hang from y and stand on y + 7*scale; the SVG's font
  // stands on the same baseline. Vertical text turns about its start point.
  const double size = 7.5 * scale;
  const char* a = anchor == Anchor::start ? "start" : anchor == Anchor::middle ? "middle" : "end";
  if (vertical)
    body_ += fmt::format(
        "<text x=\"{0}\" y=\"{1}\" font-size=\"{2}\" text-anchor=\"{3}\" fill=\"{4}\" "
        "transform=\"rotate(-90 {0} {1})\">{5}</text>\n",
        num(x + 7 * scale), num(y), num(size), a, hex(color), xml_escape(s));
  else
    body_ += fmt::format("<text x=\"{}\" y=\"{}\" font-size=\"{}\" text-anchor=\"{}\" fill=\"{}\">{}</text>\n", num(x),
                         num(y + 7 * scale), num(size), a, hex(color), xml_escape(s));
}

std::string SvgPainter::document() const {
  return fmt::format(
      "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
      "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{0}\" height=\"{1}\" viewBox=\"0 0 {0} {1}\" "
      "font-family=\"DejaVu Sans, Helvetica, Arial, sans-serif\">\n"
      "<rect width=\"{0}\" height=\"{1}\" fill=\"#ffffff\"/>\n{2}</svg>\n",
      width_, height_, body_);
}

void SvgPainter::write(const std::string& path) const {
  const std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    out << document();
    out.close();
    if (!out.good()) {
      std::remove(tmp.c_str());
      fail("cannot write {}", path);
    }
  }
  ROTOR_CHECK(std::rename(tmp.c_str(), path.c_str()) == 0, "cannot write {}", path);
}

}  // namespace rotor
