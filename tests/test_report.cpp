// rotor report's figures: PNG and SVG files that are valid, name the model,
// data set, epoch and gamma, mark gamma where the axis puts it, and plot as
// many points as there are epochs and gamma trials; the ReLU case; bad input.
#include <catch2/catch.hpp>
#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>

#include "apps/cost_report.h"
#include "apps/plot.h"
#include "apps/report_figures.h"
#include "apps/run_files.h"
#include "apps/slope_stats.h"
#include "apps/svg.h"
#include "engine/context.h"
#include "models/model_file.h"
#include "models/prune.h"
#include "tests/support/test_files.h"

using namespace rotor;
using namespace rotor::test;

namespace {

std::string small_data() { return fashion_subset_dir(1000, 400); }

std::string read_text(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// Width and height from a PNG's signature and IHDR chunk (checked byte by byte).
std::pair<uint32_t, uint32_t> png_size(const std::string& path) {
  const std::vector<uint8_t> b = read_bytes(path);
  INFO(path);
  REQUIRE(b.size() > 33);
  const uint8_t signature[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1A, '\n'};
  REQUIRE(std::equal(signature, signature + 8, b.begin()));
  REQUIRE(std::string(b.begin() + 12, b.begin() + 16) == "IHDR");
  auto be32 = [&](size_t at) { return uint32_t(b[at]) << 24 | uint32_t(b[at + 1]) << 16 | uint32_t(b[at + 2]) << 8 | b[at + 3]; };
  return {be32(16), be32(20)};
}

// A small well-formedness check: an XML declaration, one <svg> root, every
// tag closed in order, attribute values quoted, no bare '&' or '<' in text.
// Returns "" or what is wrong.
std::string svg_problem(const std::string& doc) {
  if (doc.rfind("<?xml", 0) != 0) return "no XML declaration";
  std::vector<std::string> open;
  size_t i = doc.find("?>") + 2, roots = 0;
  while (i < doc.size()) {
    const size_t lt = doc.find('<', i);
    const std::string text = doc.substr(i, (lt == std::string::npos ? doc.size() : lt) - i);
    for (size_t a = text.find('&'); a != std::string::npos; a = text.find('&', a + 1))
      if (!std::regex_search(text.substr(a), std::regex("^&(amp|lt|gt|quot|apos|#[0-9]+);"))) return "bare & in " + text;
    if (lt == std::string::npos) break;
    const size_t gt = doc.find('>', lt);
    if (gt == std::string::npos) return "unterminated tag";
    const std::string tag = doc.substr(lt + 1, gt - lt - 1);
    if (tag.find('<') != std::string::npos) return "'<' inside tag " + tag;
    if (tag[0] == '/') {
      if (open.empty() || open.back() != tag.substr(1)) return "</" + tag.substr(1) + "> closes nothing open";
      open.pop_back();
    } else {
      static const std::regex element(R"(^([a-zA-Z][a-zA-Z0-9:-]*)(\s+[a-zA-Z_:][a-zA-Z0-9_:.-]*="[^"<]*")*\s*/?$)");
      std::smatch m;
      if (!std::regex_match(tag, m, element)) return "malformed tag <" + tag + ">";
      if (open.empty()) ++roots;
      if (tag.back() != '/') open.push_back(m[1]);
    }
    i = gt + 1;
  }
  if (!open.empty()) return "<" + open.back() + "> never closed";
  if (roots != 1) return fmt::format("{} root elements", roots);
  return "";
}

// The number of x,y pairs of the polyline with this data-label.
size_t polyline_points(const std::string& svg, const std::string& label) {
  std::smatch m;
  REQUIRE(std::regex_search(svg, m, std::regex("<polyline[^>]*data-label=\"" + label + "\" points=\"([^\"]*)\"")));
  const std::string pts = m[1];
  return static_cast<size_t>(std::count(pts.begin(), pts.end(), ',')) ;
}

// x1 of every line with class="gamma".
std::vector<double> gamma_marker_x(const std::string& svg) {
  std::vector<double> xs;
  const std::regex line("<line class=\"gamma\" x1=\"([-0-9.]+)\" y1=\"[-0-9.]+\" x2=\"([-0-9.]+)\"");
  for (auto it = std::sregex_iterator(svg.begin(), svg.end(), line); it != std::sregex_iterator(); ++it) {
    CHECK((*it)[1] == (*it)[2]);  // vertical
    xs.push_back(std::stod((*it)[1]));
  }
  return xs;
}

// The subtitle's "| epoch N |" part (the subtitle may be cut into two
// lines at a " | ").
bool names_epoch(const std::string& svg, int epoch) {
  return std::regex_search(svg, std::regex(fmt::format("(>| \\| )epoch {}( \\| |<)", epoch)));
}

// The gamma_curve.csv row at gamma: its pruned count and the FLOPs and
// parameters kept must be what rotor prune built (prune.json). Returns the
// row's FLOPs kept, or -1 when there is no row at gamma.
double check_chosen_row(const std::string& csv_path, const Json& prune) {
  const double gamma = prune.at("gamma").as_number();
  std::ifstream csv(csv_path);
  std::string line;
  std::getline(csv, line);
  CHECK(line == "gamma,pruned,accuracy,flops_kept,params_kept");
  double found = -1;
  while (std::getline(csv, line)) {
    double g, pruned, acc, flops, params;
    REQUIRE(std::sscanf(line.c_str(), "%lf,%lf,%lf,%lf,%lf", &g, &pruned, &acc, &flops, &params) == 5);
    if (g != Approx(gamma).epsilon(1e-7)) continue;
    found = flops;
    CHECK(pruned == prune.at("scores_pruned").as_number());
    CHECK(flops == Approx(prune.at("flops_after").as_number() / prune.at("flops_before").as_number()));
    CHECK(params == Approx(prune.at("params_after").as_number() / prune.at("params_before").as_number()));
  }
  return found;
}

size_t count_lines(const std::string& path) {
  std::ifstream in(path);
  std::string line;
  size_t n = 0;
  while (std::getline(in, line)) n += !line.empty();
  return n;
}

}  // namespace

TEST_CASE("plot: a figure is a PNG and an SVG of the same size, SVG text is escaped, gamma has a glyph", "[report]") {
  const std::string dir = temp_dir("figure");
  const std::vector<std::string> files = write_figure(dir + "/f", 321, 123, [](Painter& p) {
    p.rect(10, 10, 50, 40, {255, 0, 0}, 0.5, "box");
    p.line(0, 0, 320, 122, {0, 0, 0}, 2, true, "gamma");
    p.polyline({{1, 2}, {3, 4}, {5, 6}}, {0, 0, 255}, 2, "series", "a<b & \"c\"");
    p.text(100, 50, "\xCE\xB3 < 1 & b > 0", {0, 0, 0});
  });
  REQUIRE(files == std::vector<std::string>{dir + "/f.png", dir + "/f.svg"});
  CHECK(png_size(files[0]) == std::pair<uint32_t, uint32_t>(321, 123));
  const std::string svg = read_text(files[1]);
  CHECK(svg_problem(svg) == "");
  CHECK_THAT(svg, Catch::Contains("width=\"321\" height=\"123\""));
  CHECK_THAT(svg, Catch::Contains(">\xCE\xB3 &lt; 1 &amp; b &gt; 0</text>"));
  CHECK(polyline_points(svg, "a&lt;b &amp; &quot;c&quot;") == 3);
  CHECK(svg_problem("<?xml version=\"1.0\"?><svg><g></svg></g>") != "");  // the checker itself catches misnesting
  CHECK(svg_problem("<?xml version=\"1.0\"?><svg><text>a & b</text></svg>") != "");
  CHECK(!std::filesystem::exists(dir + "/f.png.tmp"));

  // "γ" is one glyph as wide as "x" plus a gap, not two unknown bytes; and it
  // draws pixels (stb_easy_font alone has no glyph for it).
  CHECK(text_width("\xCE\xB3") == Approx(text_width("x")));
  Canvas c(40, 30);
  c.text(5, 5, "\xCE\xB3", {0, 0, 0});
  int dark = 0;
  for (int y = 0; y < 30; ++y)
    for (int x = 0; x < 40; ++x) dark += c.pixel(x, y)[0] < 128;
  CHECK(dark > 10);
}

TEST_CASE("plot: a log axis ends at 1-2-5 values and maps log-linearly", "[report]") {
  Axis a = log_axis(0.03, 0.4);
  CHECK(a.lo == Approx(0.02));
  CHECK(a.hi == Approx(0.5));
  a.p0 = 100, a.p1 = 300;
  CHECK(a.map(0.1) == Approx(100 + 200 * std::log10(5) / std::log10(25)));
  CHECK(a.map(0.02) == Approx(100));
  CHECK(a.map(0.5) == Approx(300));
  REQUIRE(a.ticks().size() == 5);  // 0.02 0.05 0.1 0.2 0.5
  CHECK(a.ticks()[2] == Approx(0.1));
  CHECK(a.label(0.05) == "0.05");
  CHECK(log_axis(1, 1).hi == Approx(2));
  CHECK(log_axis(5, 5).hi == Approx(10));
  const Axis wide = log_axis(2e-6, 3);
  CHECK(wide.lo == Approx(2e-6));
  CHECK(wide.hi == Approx(5));
  CHECK(wide.ticks().front() == Approx(1e-5));  // more than 3 decades: powers of ten only
  CHECK(wide.label(1e-5) == "1e-5");
  const Axis lin = linear_axis(0.3, 0.45);
  CHECK(lin.lo <= 0.3 + 1e-12);  // rounded to ticks of 0.05, up to the last bit
  CHECK(lin.hi >= 0.45 - 1e-12);
}

TEST_CASE("slope bins: |b| on decades, zeros in the first bin, gamma counted", "[report]") {
  const SlopeBins b = bin_slopes({0.5f, -0.05f, 0.0f, 0.2f}, {1.0f, 1.0f, 1.0f, 1.0f}, 0.1, 4);
  CHECK(b.x.lo == Approx(0.05));
  CHECK(b.x.hi == Approx(1));
  REQUIRE(b.edges.size() == 5);  // 0.05 0.106 0.224 0.473 1
  CHECK(b.edges[1] == Approx(0.05 * std::pow(20, 0.25)));
  CHECK(b.trained == std::vector<double>{2, 1, 0, 1});  // 0 and 0.05 | 0.2 | - | 0.5
  CHECK(b.initial == std::vector<double>{0, 0, 0, 4});  // |b| = hi lands in the last bin
  CHECK(b.trained_below == 1);  // the 0
  CHECK(b.negative == 1);
  CHECK(b.pruned == 2);  // 0 and -0.05
}

TEST_CASE("rotor report on a trained and pruned FCNN: PNG and SVG figures that name the run and mark gamma",
          "[report][cli]") {
  const std::string run = temp_dir("report-fcnn");
  const std::string data = small_data();
  rotor_ok("train --model fcnn-64 --data mnist:" + data +
           " --epochs 3 --opt adam --lr 2e-3 --wd 0 --slope-wd 0.05 --device cpu --out " + run);
  rotor_ok("prune --model-file " + run + "/model.rotor --data mnist:" + data + " --tolerance 0.01 --device cpu");
  const CommandResult r = rotor_ok("report --model-file " + run + "/model.rotor");
  const Json prune = read_json_file(run + "/prune/prune.json");
  const double gamma = prune.at("gamma").as_number();
  const std::string out = run + "/report/";

  // Every figure as PNG and SVG, every file listed.
  const std::vector<std::tuple<std::string, int, int>> figures = {
      {"slopes", slope_figure_width, slope_figure_height},
      {"gamma_curve", gamma_figure_width, gamma_figure_height},
      {"training", training_figure_width, training_figure_height}};
  const std::string caption_data = "mnist:" + std::filesystem::path(data).filename().string();
  const std::string caption_gamma = fmt::format("\xCE\xB3 = {:.4g} (chosen by rotor prune)", gamma);
  for (const auto& [name, w, h] : figures) {
    INFO(name);
    CHECK_THAT(r.output, Catch::Contains(out + name + ".png") && Catch::Contains(out + name + ".svg"));
    CHECK(png_size(out + name + ".png") == std::pair<uint32_t, uint32_t>(w, h));
    const std::string svg = read_text(out + name + ".svg");
    CHECK(svg_problem(svg) == "");
    CHECK_THAT(svg, Catch::Contains(fmt::format("width=\"{}\" height=\"{}\"", w, h)));
    // The subtitle: model, data set, epoch, gamma.
    CHECK_THAT(svg, Catch::Contains("fcnn-64 (rrelu)") && Catch::Contains("data " + caption_data) &&
                        Catch::Contains(caption_gamma));
    CHECK(names_epoch(svg, 3));
  }
  CHECK_THAT(r.output, Catch::Contains(out + "slopes.csv") && Catch::Contains(out + "gamma_curve.csv"));

  // The slope histogram's gamma marker sits where its log axis puts gamma:
  // the nonzero |b| of the initial and trained slopes and gamma, widened to
  // 1, 2 or 5 times a power of ten, from x = slope_plot_left to slope_plot_right.
  Context ctx;
  double lo = gamma, hi = gamma;
  for (const char* file : {"/model.rotor", "/initial.rotor"})
    for (float v : all_slopes(ctx, *load_model_file(ctx, run + file)))
      if (v != 0) lo = std::min(lo, double(std::fabs(v))), hi = std::max(hi, double(std::fabs(v)));
  lo = std::max(lo, hi * 1e-6);
  std::vector<double> nice;  // 1-2-5 values
  for (int k = -8; k <= 3; ++k)
    for (double m : {1.0, 2.0, 5.0}) nice.push_back(m * std::pow(10.0, k));
  const double axis_lo = *std::prev(std::upper_bound(nice.begin(), nice.end(), lo * (1 + 1e-12)));
  const double axis_hi = *std::lower_bound(nice.begin(), nice.end(), std::max(hi, axis_lo * 1.5) * (1 - 1e-12));
  const double d0 = std::log10(axis_lo), d1 = std::log10(axis_hi);
  const double expected_x = slope_plot_left + (std::log10(gamma) - d0) / (d1 - d0) * (slope_plot_right - slope_plot_left);
  const std::vector<double> marker = gamma_marker_x(read_text(out + "slopes.svg"));
  REQUIRE(marker.size() == 1);
  CHECK(marker[0] == Approx(expected_x).margin(0.01));
  CHECK_THAT(read_text(out + "slopes.svg"),
             Catch::Contains(fmt::format("{} of 64 pruned", prune.at("slopes_pruned").as_int())));

  // The gamma curve: one point per trial of the sweep, gamma marked in both
  // panels, and the FLOPs kept at the chosen gamma are what prune built.
  const std::string curve = read_text(out + "gamma_curve.svg");
  const size_t trials = prune.at("trials").as_array().size();
  CHECK(polyline_points(curve, "accuracy") == trials);
  CHECK(polyline_points(curve, "FLOPs kept") == trials);
  CHECK(gamma_marker_x(curve).size() == 2);
  CHECK_THAT(curve, Catch::Contains("(64 slopes |b|)") && Catch::Contains("slopes with |b| &lt; \xCE\xB3 are pruned"));
  CHECK(check_chosen_row(out + "gamma_curve.csv", prune) >= 0);

  // The training curves: one point per line of metrics.jsonl.
  const std::string training = read_text(out + "training.svg");
  const size_t epochs = count_lines(run + "/metrics.jsonl");
  CHECK(epochs == 3);
  for (const char* label : {"train loss", "test loss", "train accuracy", "test accuracy", "lr"})
    CHECK(polyline_points(training, label) == epochs);

  // --gamma overrides prune.json's, and says so.
  const CommandResult given = rotor_ok("report --model-file " + run + "/model.rotor --gamma 0.5 --out " + run + "/r2");
  CHECK_THAT(read_text(run + "/r2/slopes.svg"), Catch::Contains("\xCE\xB3 = 0.5 (given with --gamma)"));

  // The pruned model: gamma from the prune.json beside it (which names it as
  // its pruned_model), data and epoch from the model it was cut from.
  const CommandResult pruned = rotor_ok("report --model-file " + run + "/prune/pruned.rotor");
  const std::string pruned_svg = read_text(run + "/prune/report/slopes.svg");
  const std::string pruned_arch = fmt::format("fcnn-{} (rrelu), pruned", 64 - prune.at("slopes_pruned").as_int());
  CHECK_THAT(pruned_svg, Catch::Contains(pruned_arch) && Catch::Contains("data " + caption_data) &&
                             Catch::Contains(caption_gamma));
  CHECK(names_epoch(pruned_svg, 3));
  CHECK_THAT(pruned.output, Catch::Contains("training.svg"));  // metrics.jsonl of the original run
  // Moved away from prune.json, it still knows the gamma it was cut with.
  const std::string alone = temp_dir("report-pruned-alone");
  std::filesystem::copy_file(run + "/prune/pruned.rotor", alone + "/pruned.rotor");
  rotor_ok("report --model-file " + alone + "/pruned.rotor");
  CHECK_THAT(read_text(alone + "/report/slopes.svg"),
             Catch::Contains(pruned_arch) && Catch::Contains(fmt::format("\xCE\xB3 = {:.4g} (this model was pruned with it)", gamma)));
}

TEST_CASE("rotor report on a ReLU model: says there are no slopes and still draws the training curves",
          "[report][cli]") {
  const std::string run = temp_dir("report-relu");
  rotor_ok("train --model fcnn-32 --act relu --data mnist:" + small_data() +
           " --epochs 2 --opt adam --lr 2e-3 --device cpu --out " + run);
  const CommandResult r = rotor_ok("report --model-file " + run + "/model.rotor");
  CHECK_THAT(r.output, Catch::Contains("is a ReLU network") && Catch::Contains("no RReLU slopes") &&
                           Catch::Contains("no slope histogram") &&
                           Catch::Contains("no gamma curve: no prune.json (run rotor prune --by bn-scale"));
  CHECK_THAT(r.output, Catch::Contains("wrote 2 files:"));
  CHECK(png_size(run + "/report/training.png") ==
        std::pair<uint32_t, uint32_t>(training_figure_width, training_figure_height));
  const std::string svg = read_text(run + "/report/training.svg");
  CHECK(svg_problem(svg) == "");
  CHECK_THAT(svg, Catch::Contains("fcnn-32 (relu)") && Catch::Contains("no slopes (ReLU)"));
  CHECK(names_epoch(svg, 2));
  CHECK_THAT(svg, !Catch::Contains("\xCE\xB3"));
  CHECK(polyline_points(svg, "test accuracy") == 2);
  CHECK(!std::filesystem::exists(run + "/report/slopes.png"));
}

TEST_CASE("rotor report: bad metrics or prune.json are one error naming the file, and nothing is written",
          "[report][cli]") {
  const std::string run = temp_dir("report-bad");
  rotor_ok("train --model fcnn-16 --data mnist:" + small_data() + " --epochs 1 --device cpu --out " + run);
  std::ofstream(run + "/bad.jsonl") << read_text(run + "/metrics.jsonl") << "{\"epoch\": 2, \"lr\": \"fast\"}\n";
  CommandResult r = run_rotor("report --model-file " + run + "/model.rotor --metrics " + run + "/bad.jsonl");
  CHECK(r.exit_code == 1);
  CHECK_THAT(r.output, Catch::Contains(run + "/bad.jsonl line 2") && Catch::Contains("lr"));
  CHECK(!std::filesystem::exists(run + "/report"));

  std::ofstream(run + "/prune.json") << "{\"model_file\": \"x\", \"gamma\": 0.1}";
  r = run_rotor("report --model-file " + run + "/model.rotor --prune-json " + run + "/prune.json");
  CHECK(r.exit_code == 1);
  CHECK_THAT(r.output, Catch::Contains(run + "/prune.json") && Catch::Contains("gamma_chosen"));
  CHECK(!std::filesystem::exists(run + "/report"));

  // A criterion report does not know: one line naming the file and the field.
  std::ofstream(run + "/prune.json") << "{\"model_file\": \"x\", \"gamma\": 0.1, \"gamma_chosen\": false, "
                                        "\"by\": \"nonsense\"}";
  r = run_rotor("report --model-file " + run + "/model.rotor --prune-json " + run + "/prune.json");
  CHECK(r.exit_code == 1);
  CHECK_THAT(r.output, Catch::Contains(run + "/prune.json: by: expected slope, bn-scale or product, got 'nonsense'"));
  CHECK(std::count(r.output.begin(), r.output.end(), '\n') <= 1);
  CHECK(!std::filesystem::exists(run + "/report"));
}

TEST_CASE("rotor report on a ReLU ResNet pruned by BN scale (network slimming): gamma curve and filter paths at gamma",
          "[report][cli]") {
  const std::string run = temp_dir("report-slimming");
  const std::string data = small_data();
  rotor_ok("train --model resnet8 --act relu --bn-l1 2 --data mnist:" + data +
           " --epochs 1 --batch 100 --opt adam --lr 2e-3 --device cpu --out " + run);
  rotor_ok("prune --model-file " + run + "/model.rotor --by bn-scale --data mnist:" + data +
           " --tolerance 0.05 --device cpu");
  const Json prune = read_json_file(run + "/prune/prune.json");
  REQUIRE(prune.at("by").as_string() == "bn-scale");
  REQUIRE(prune.at("scores_pruned").as_int() > 0);
  const CommandResult r = rotor_ok("report --model-file " + run + "/model.rotor");
  CHECK_THAT(r.output, Catch::Contains("is a ReLU network") && Catch::Contains("no slope histogram") &&
                           !Catch::Contains("no gamma curve"));
  const std::string out = run + "/report/";
  CHECK(png_size(out + "gamma_curve.png") == std::pair<uint32_t, uint32_t>(gamma_figure_width, gamma_figure_height));
  CHECK(!std::filesystem::exists(out + "slopes.png"));
  const std::string curve = read_text(out + "gamma_curve.svg");
  CHECK(svg_problem(curve) == "");
  const int64_t scores = prune.at("scores_total").as_int();
  CHECK_THAT(curve, Catch::Contains(fmt::format("({} BN scales |\xCE\xB3_BN|)", scores)) &&
                        Catch::Contains("channels with |\xCE\xB3_BN| &lt; \xCE\xB3 are pruned") &&
                        Catch::Contains(fmt::format("of {} BN scales pruned", scores)) && !Catch::Contains("slopes"));
  // The caption names gamma and the criterion, not "no slopes".
  const std::string caption_gamma =
      fmt::format("\xCE\xB3 = {:.4g} by bn-scale (chosen by rotor prune)", prune.at("gamma").as_number());
  for (const char* name : {"gamma_curve", "training", "filter_paths"}) {
    INFO(name);
    const std::string svg = read_text(out + name + ".svg");
    CHECK_THAT(svg, Catch::Contains("resnet8 (relu)") && Catch::Contains(caption_gamma) &&
                        !Catch::Contains("no slopes (ReLU)"));
  }
  CHECK(polyline_points(curve, "FLOPs kept") == prune.at("trials").as_array().size());
  CHECK(check_chosen_row(out + "gamma_curve.csv", prune) >= 0);

  // The filter paths at gamma are those of the network prune built by BN
  // scale (pruned.rotor, counted as it is with --gamma 0), not the unpruned
  // network's (the model itself at --gamma 0).
  rotor_ok("report --model-file " + run + "/model.rotor --gamma 0 --out " + run + "/r0");
  const std::string alone = temp_dir("report-slimming-pruned");
  std::filesystem::copy_file(run + "/prune/pruned.rotor", alone + "/pruned.rotor");
  rotor_ok("report --model-file " + alone + "/pruned.rotor --gamma 0");
  const std::string at_gamma = read_text(out + "filter_paths.csv");
  CHECK(at_gamma == read_text(alone + "/report/filter_paths.csv"));
  CHECK(at_gamma != read_text(run + "/r0/filter_paths.csv"));
  // Away from prune.json, the pruned model still knows its gamma and criterion.
  rotor_ok("report --model-file " + alone + "/pruned.rotor --out " + alone + "/r2");
  CHECK_THAT(read_text(alone + "/r2/filter_paths.svg"),
             Catch::Contains(fmt::format("\xCE\xB3 = {:.4g} by bn-scale (this model was pruned with it)",
                                         prune.at("gamma").as_number())));
  CHECK(at_gamma == read_text(alone + "/r2/filter_paths.csv"));
}

TEST_CASE("rotor report on an RReLU network pruned by |gamma_BN * b|: the curve's FLOPs are the product prune's",
          "[report][cli]") {
  const std::string run = temp_dir("report-product");
  const std::string data = small_data();
  rotor_ok("train --model fcnn-64 --data mnist:" + data +
           " --epochs 2 --opt adam --lr 2e-3 --wd 0 --slope-wd 0.05 --device cpu --out " + run);
  rotor_ok("prune --model-file " + run + "/model.rotor --by product --data mnist:" + data +
           " --tolerance 0.01 --device cpu");
  const Json prune = read_json_file(run + "/prune/prune.json");
  REQUIRE(prune.at("by").as_string() == "product");
  const double gamma = prune.at("gamma").as_number();
  // At this gamma a prune by slope keeps another network, so a curve that
  // pruned by slope would not match prune.json.
  Context ctx;
  auto model = load_model_file(ctx, run + "/model.rotor");
  const double slope_flops = static_cast<double>(totals(prune_model(ctx, *model, gamma)->layer_costs()).flops);
  REQUIRE(slope_flops != prune.at("flops_after").as_number());

  rotor_ok("report --model-file " + run + "/model.rotor");
  const std::string out = run + "/report/";
  const std::string curve = read_text(out + "gamma_curve.svg");
  CHECK_THAT(curve, Catch::Contains(fmt::format("(64 channel scores |\xCE\xB3_BN * b|)")) &&
                        Catch::Contains("channels with |\xCE\xB3_BN * b| &lt; \xCE\xB3 are pruned"));
  CHECK_THAT(curve, Catch::Contains(fmt::format("\xCE\xB3 = {:.4g} by product (chosen by rotor prune)", gamma)));
  CHECK(check_chosen_row(out + "gamma_curve.csv", prune) >= 0);
  // The slope histogram does not mark a gamma that is not a slope threshold.
  CHECK(gamma_marker_x(read_text(out + "slopes.svg")).empty());
}

TEST_CASE("rotor report on a ResNet: filter paths as PNG, SVG and CSV that adds up", "[report][cli]") {
  const std::string run = temp_dir("report-resnet");
  rotor_ok("train --model resnet8 --data mnist:" + small_data() + " --epochs 1 --batch 100 --device cpu --out " + run);
  const CommandResult r = rotor_ok("report --model-file " + run + "/model.rotor --gamma 0.9");
  CHECK_THAT(r.output, Catch::Contains("filter paths: 3 blocks"));
  for (const char* name : {"slopes", "filter_paths", "training"}) {
    INFO(name);
    const std::string svg = read_text(run + "/report/" + name + ".svg");
    CHECK(svg_problem(svg) == "");
    CHECK_THAT(svg, Catch::Contains("resnet8 (rrelu)") && Catch::Contains("\xCE\xB3 = 0.9 (given with --gamma)"));
  }
  CHECK(png_size(run + "/report/filter_paths.png") == std::pair<uint32_t, uint32_t>(slope_figure_width, slope_figure_height));
  CHECK_THAT(r.output, Catch::Contains("no gamma curve: no prune.json"));
  std::ifstream csv(run + "/report/filter_paths.csv");
  std::string line;
  std::getline(csv, line);
  CHECK(line == "length,fraction_of_paths");
  double total = 0;
  while (std::getline(csv, line)) total += std::stod(line.substr(line.find(',') + 1));
  CHECK(total == Approx(1.0));
  std::ifstream slopes(run + "/report/slopes.csv");
  std::getline(slopes, line);
  CHECK(line == "abs_low,abs_high,initial,trained");  // initial.rotor beside the model is picked up
}
