// build_model: architecture names to networks; ModelSpec <-> JSON.
#include <fmt/format.h>

#include <charconv>

#include "models/fcnn.h"
#include "models/model.h"
#include "models/resnet.h"
#include "models/wide_resnet.h"

namespace rotor {
namespace {

// Parses the decimal number that makes up all of `s`; -1 if it is not one.
int64_t parse_count(const std::string& s) {
  int64_t v = -1;
  const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  return (ec == std::errc() && end == s.data() + s.size() && v > 0) ? v : -1;
}

struct ParsedArch {
  enum Kind { unknown, fcnn, resnet, wrn } kind = unknown;
  int64_t a = 0, b = 0;  // fcnn: hidden; resnet: depth; wrn: depth, widen
};

ParsedArch parse_arch(const std::string& arch) {
  if (arch == "fcnn") return {ParsedArch::fcnn, 500, 0};
  if (arch.rfind("fcnn-", 0) == 0) {
    const int64_t h = parse_count(arch.substr(5));
    if (h > 0) return {ParsedArch::fcnn, h, 0};
  }
  if (arch.rfind("resnet", 0) == 0) {
    const int64_t d = parse_count(arch.substr(6));
    if (d > 0) return {ParsedArch::resnet, d, 0};
  }
  if (arch.rfind("wrn-", 0) == 0) {
    const size_t dash = arch.find('-', 4);
    if (dash != std::string::npos) {
      const int64_t d = parse_count(arch.substr(4, dash - 4)), k = parse_count(arch.substr(dash + 1));
      if (d > 0 && k > 0) return {ParsedArch::wrn, d, k};
    }
  }
  return {};
}

}  // namespace

[[noreturn]] static void unknown_arch(const std::string& arch) {
  fail("unknown model '{}': expected fcnn, fcnn-<width>, resnet<6n+2> (resnet20, resnet56, resnet110) or "
       "wrn-<6n+4>-<k> (wrn-16-4, wrn-40-4)",
       arch);
}

void check_arch(const std::string& arch) {
  const ParsedArch a = parse_arch(arch);
  switch (a.kind) {
    case ParsedArch::fcnn: return;
    case ParsedArch::resnet: resnet_config(a.a); return;
    case ParsedArch::wrn: wide_resnet_check(a.a, a.b); return;
    case ParsedArch::unknown: unknown_arch(arch);
  }
}

std::vector<std::pair<std::string, Parameter*>> Model::named_slopes() {
  std::vector<std::pair<std::string, Parameter*>> out;
  for (auto& [name, p] : named_parameters())
    if (p->group == ParamGroup::slopes) out.emplace_back(name, p);
  return out;
}

std::unique_ptr<Model> build_model(Context& ctx, const ModelSpec& spec) {
  ROTOR_CHECK(spec.in_channels >= 1 && spec.height >= 1 && spec.width >= 1,
              "model {}: input {}x{}x{} is not a valid image size", spec.arch, spec.in_channels, spec.height,
              spec.width);
  ROTOR_CHECK(spec.classes >= 2, "model {}: needs at least 2 classes, got {}", spec.arch, spec.classes);
  ROTOR_CHECK(spec.dropout >= 0 && spec.dropout < 1, "model {}: dropout {} is not in [0, 1)", spec.arch,
              spec.dropout);
  const ParsedArch a = parse_arch(spec.arch);
  switch (a.kind) {
    case ParsedArch::fcnn: return std::make_unique<Fcnn>(ctx, spec, a.a);
    case ParsedArch::resnet: return std::make_unique<ResNet>(ctx, spec, resnet_config(a.a));
    case ParsedArch::wrn: return std::make_unique<WideResNet>(ctx, spec, a.a, a.b);
    case ParsedArch::unknown: break;
  }
  unknown_arch(spec.arch);
}

Json ModelSpec::to_json() const {
  Json j = Json::object();
  j.set("arch", arch);
  j.set("act", activation_name(act));
  j.set("in_channels", in_channels);
  j.set("height", height);
  j.set("width", width);
  j.set("classes", classes);
  j.set("dropout", dropout);
  if (!live.is_null()) j.set("live", live);
  Json m = Json::array(), sd = Json::array(), names = Json::array();
  for (double v : mean) m.push(v);
  for (double v : std) sd.push(v);
  for (const auto& n : class_names) names.push(n);
  j.set("mean", m);
  j.set("std", sd);
  if (!class_names.empty()) j.set("class_names", names);
  return j;
}

ModelSpec ModelSpec::from_json(const Json& j) {
  ModelSpec s;
  s.arch = j.at("arch").as_string("model arch");
  s.act = parse_activation(j.at("act").as_string("model act"));
  s.in_channels = j.at("in_channels").as_int("model in_channels");
  s.height = j.at("height").as_int("model height");
  s.width = j.at("width").as_int("model width");
  s.classes = j.at("classes").as_int("model classes");
  if (const Json* d = j.find("dropout")) s.dropout = d->as_number("model dropout");
  if (const Json* l = j.find("live")) s.live = *l;
  if (const Json* m = j.find("mean"))
    for (const Json& v : m->as_array("model mean")) s.mean.push_back(v.as_number("model mean"));
  if (const Json* sd = j.find("std"))
    for (const Json& v : sd->as_array("model std")) s.std.push_back(v.as_number("model std"));
  if (const Json* names = j.find("class_names"))
    for (const Json& v : names->as_array("class names")) s.class_names.push_back(v.as_string("class name"));
  ROTOR_CHECK(s.mean.size() == s.std.size() && (s.mean.empty() || static_cast<int64_t>(s.mean.size()) == s.in_channels),
              "model normalisation has {} means and {} deviations for {} input channels", s.mean.size(),
              s.std.size(), s.in_channels);
  return s;
}

std::string ModelSpec::describe() const {
  return fmt::format("{} ({}), {}x{}x{} -> {} classes", arch, activation_name(act), in_channels, height, width,
                     classes);
}

}  // namespace rotor
