#include "apps/cost_report.h"

#include <fmt/format.h>

#include <map>

namespace rotor {

CostTotals totals(const std::vector<LayerCost>& rows) {
  CostTotals t;
  for (const LayerCost& r : rows) {
    t.params += r.params;
    t.flops += r.flops;
    t.slopes += r.slopes;
  }
  return t;
}

std::string with_commas(int64_t v) {
  std::string digits = std::to_string(v < 0 ? -v : v), out;
  for (size_t i = 0; i < digits.size(); ++i) {
    if (i && (digits.size() - i) % 3 == 0) out += ',';
    out += digits[i];
  }
  return (v < 0 ? "-" : "") + out;
}

std::string mega(int64_t v) { return fmt::format("{:.2f} M", static_cast<double>(v) / 1e6); }

std::string cost_table(const std::vector<LayerCost>& rows) {
  std::string out = fmt::format("{:<28} {:<7} {:<26} {:>11} {:>14} {:>7}\n", "layer", "kind", "shape", "params",
                                "FLOPs", "slopes");
  for (const LayerCost& r : rows)
    out += fmt::format("{:<28} {:<7} {:<26} {:>11} {:>14} {:>7}\n", r.name, r.kind, r.shape, with_commas(r.params),
                       with_commas(r.flops), r.slopes ? std::to_string(r.slopes) : "");
  const CostTotals t = totals(rows);
  out += fmt::format("{:<28} {:<7} {:<26} {:>11} {:>14} {:>7}\n", "total", "", "", with_commas(t.params),
                     with_commas(t.flops), t.slopes);
  out += fmt::format("\n{} parameters (slopes not counted), {} FLOPs per image, {} RReLU slopes\n",
                     with_commas(t.params), mega(t.flops), t.slopes);
  return out;
}

static std::map<std::string, const LayerCost*> by_name(const std::vector<LayerCost>& rows) {
  std::map<std::string, const LayerCost*> m;
  for (const LayerCost& r : rows) m[r.name] = &r;
  return m;
}

std::string filter_table(const std::vector<LayerCost>& before, const std::vector<LayerCost>& after) {
  const auto a = by_name(after);
  std::string out = fmt::format("{:<28} {:>15} {:>23}\n", "layer", "live filters", "FLOPs before -> after");
  for (const LayerCost& r : before) {
    if (r.kind != "conv" && r.kind != "linear") continue;
    const LayerCost* p = a.count(r.name) ? a.at(r.name) : nullptr;
    const int64_t f = p ? p->filters : 0, fl = p ? p->flops : 0;
    out += fmt::format("{:<28} {:>7} / {:<5} {:>10} -> {:<10}\n", r.name, f, r.filters, with_commas(r.flops),
                       with_commas(fl));
  }
  return out;
}

Json filter_json(const std::vector<LayerCost>& before, const std::vector<LayerCost>& after) {
  const auto a = by_name(after);
  Json layers = Json::array();
  for (const LayerCost& r : before) {
    const LayerCost* p = a.count(r.name) ? a.at(r.name) : nullptr;
    Json j = Json::object();
    j.set("name", r.name);
    j.set("kind", r.kind);
    j.set("filters_before", r.filters);
    j.set("filters_after", p ? p->filters : 0);
    j.set("params_before", r.params);
    j.set("params_after", p ? p->params : 0);
    j.set("flops_before", r.flops);
    j.set("flops_after", p ? p->flops : 0);
    layers.push(j);
  }
  return layers;
}

}  // namespace rotor
