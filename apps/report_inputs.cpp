#include "apps/report_inputs.h"

#include <fmt/format.h>

#include <algorithm>
#include <filesystem>
#include <fstream>

#include "apps/run_files.h"
#include "engine/error.h"
#include "engine/tensor_file.h"

namespace rotor {

namespace {

// "mnist:/tmp/x/fashion-100" -> "mnist:fashion-100": the folder's own name
// says which data it is; the full path only makes the caption long.
std::string short_data(const std::string& spec) {
  const size_t colon = spec.find(':');
  if (colon == std::string::npos) return spec;
  std::string dir = spec.substr(colon + 1);
  while (dir.size() > 1 && dir.back() == '/') dir.pop_back();
  return spec.substr(0, colon + 1) + std::filesystem::path(dir).filename().string();
}

}  // namespace

std::string FigureCaption::subtitle() const {
  std::string s = model.substr(0, model.find(','));  // "fcnn (rrelu)": the shape makes the line too long
  if (!provenance.pruned_from.empty()) s += ", pruned";
  s += " | data " + (provenance.data.empty() ? std::string("unknown") : short_data(provenance.data));
  s += provenance.epochs >= 0 ? fmt::format(" | epoch {}", provenance.epochs) : std::string(" | epoch unknown");
  const std::string criterion = by == PruneBy::slope ? "" : fmt::format(" by {}", prune_by_name(by));
  if (!has_slopes && by != PruneBy::bn_scale)
    s += " | no slopes (ReLU)";
  else if (gamma)
    s += fmt::format(" | \xCE\xB3 = {:.4g}{} ({})", *gamma, criterion, gamma_source);
  else
    s += " | \xCE\xB3 not chosen";
  return s;
}

std::vector<EpochMetrics> read_metrics(const std::string& path) {
  std::ifstream in(path);
  ROTOR_CHECK(in.good(), "cannot open {}", path);
  std::vector<EpochMetrics> rows;
  std::string line;
  for (int64_t number = 1; std::getline(in, line); ++number) {
    if (line.empty()) continue;
    try {
      const Json j = Json::parse(line);
      EpochMetrics m;
      m.epoch = j.at("epoch").as_int("epoch");
      m.lr = j.at("lr").as_number("lr");
      m.train_loss = j.at("train_loss").as_number("train_loss");
      m.train_acc = j.at("train_acc").as_number("train_acc");
      m.test_loss = j.at("test_loss").as_number("test_loss");
      m.test_acc = j.at("test_acc").as_number("test_acc");
      rows.push_back(m);
    } catch (const Error& e) {
      fail("{} line {}: {}", path, number, e.what());
    }
  }
  ROTOR_CHECK(!rows.empty(), "{} holds no epochs", path);
  return rows;
}

PruneSweep read_prune_json(const std::string& path) {
  const Json j = read_json_file(path);
  PruneSweep s;
  s.path = path;
  try {
    s.model_file = j.at("model_file").as_string("model_file");
    if (const Json* by = j.find("by")) {
      const std::string name = by->as_string("by");
      try {
        s.by = parse_prune_by(name);
      } catch (const Error&) {
        fail("by: expected slope, bn-scale or product, got '{}'", name);
      }
    }
    const auto threshold = [&](double gamma) { return score_threshold(gamma, s.by); };
    s.gamma = threshold(j.at("gamma").as_number("gamma"));
    if (const Json* pruned = j.find("pruned_model")) s.pruned_model = pruned->as_string("pruned_model");
    s.chosen = j.at("gamma_chosen").as_bool("gamma_chosen");
    if (s.chosen) {
      s.tolerance = j.at("tolerance").as_number("tolerance");
      s.base_accuracy = j.at("acc_choose_before").as_number("acc_choose_before");
      for (const Json& t : j.at("trials").as_array("trials"))
        s.trials.push_back({threshold(t.at("gamma").as_number("trials[].gamma")),
                            t.at("pruned").as_int("trials[].pruned"),
                            t.at("acc").as_number("trials[].acc")});
    }
  } catch (const Error& e) {
    fail("{}: {}", path, e.what());
  }
  std::sort(s.trials.begin(), s.trials.end(), [](const GammaTrial& a, const GammaTrial& b) { return a.gamma < b.gamma; });
  return s;
}

}  // namespace rotor
