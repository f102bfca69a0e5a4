#include "apps/recipes.h"

#include <fmt/format.h>

#include <algorithm>

#include "apps/cli.h"

namespace rotor {

namespace {

// The flag names `args` gives ("--name value" or "--name=value"). Values
// never start with "--" (the parser refuses that), so every such word is a flag.
std::vector<std::string> given_flags(const std::vector<std::string>& args) {
  std::vector<std::string> names;
  for (const std::string& a : args)
    if (a.size() > 2 && a.compare(0, 2, "--") == 0) {
      const size_t eq = a.find('=');
      names.push_back(eq == std::string::npos ? a.substr(2) : a.substr(2, eq - 2));
    }
  return names;
}

bool gives(const std::vector<std::string>& names, const std::string& flag) {
  return std::find(names.begin(), names.end(), flag) != names.end();
}

// The paper's settings (/work/shared/DESIGN.md section 1): SGD momentum 0.9
// (the default), lr 0.1, batch 128, the same weight decay on all parameters
// (slopes included: --slope-wd is not set), learning rate /10 at 50% and 75%
// of the epochs, crop + flip on natural images (--augment auto, the default).
// RReLU networks train 1200 epochs, ReLU baselines 200, the FCNN 300 with Adam.
std::vector<std::pair<std::string, std::string>> sgd_paper(const char* epochs) {
  return {{"opt", "sgd"}, {"lr", "0.1"}, {"batch", "128"}, {"wd", "5e-4"}, {"schedule", "multistep"},
          {"epochs", epochs}};
}

std::vector<Recipe> make_recipes() {
  auto with = [](std::vector<std::pair<std::string, std::string>> base,
                 std::vector<std::pair<std::string, std::string>> more) {
    base.insert(base.end(), more.begin(), more.end());
    return base;
  };
  return {
      {"relu-baseline", "the ReLU network the RReLU runs are compared with (200 epochs)",
       with({{"act", "relu"}}, sgd_paper("200")), {}},
      {"type1", "RReLU from scratch: Kaiming weights, slopes from the truncated mixture (1200 epochs)",
       with({{"act", "rrelu"}, {"init", "type1"}}, sgd_paper("1200")), {}},
      {"type2", "RReLU from a trained ReLU network: its weights and batch norm, every slope 1 (1200 epochs)",
       with({{"act", "rrelu"}}, sgd_paper("1200")),
       {{"init", "type2:", "the model.rotor of a ReLU run of the same --model (e.g. --recipe relu-baseline)"}}},
      {"fcnn", "the paper's FCNN 784-500-10 with RReLU: Adam, 300 epochs",
       {{"model", "fcnn"}, {"act", "rrelu"}, {"init", "type1"}, {"opt", "adam"}, {"lr", "1e-3"}, {"batch", "128"},
        {"wd", "5e-4"}, {"schedule", "cosine"}, {"epochs", "300"}},
       {}},
      {"coarse-step1", "coarse features, step 1: weights frozen at their Kaiming init, only the slopes train",
       with({{"act", "rrelu"}, {"init", "type1"}, {"train", "slopes"}}, sgd_paper("200")), {}},
      {"coarse-step2", "coarse features, step 2: retrain all of the pruned network of step 1",
       with({{"act", "rrelu"}, {"train", "all"}}, sgd_paper("200")),
       {{"init", "model:", "the pruned.rotor that rotor prune wrote from step 1"}}},
  };
}

}  // namespace

const std::vector<Recipe>& recipes() {
  static const std::vector<Recipe> all = make_recipes();  // constant data, not state
  return all;
}

const Recipe& find_recipe(const std::string& name) {
  std::vector<std::string> names;
  for (const Recipe& r : recipes()) {
    if (r.name == name) return r;
    names.push_back(r.name);
  }
  usage_fail("--recipe: unknown recipe '{}' (expected {}, or list)", name, fmt::join(names, ", "));
}

std::string describe_recipes() {
  std::string out = "recipes of rotor train (explicit flags override a recipe's; --model and --data are yours):\n";
  for (const Recipe& r : recipes()) {
    out += fmt::format("\n  {:<14} {}\n  {:<14}", r.name, r.summary, "");
    for (const auto& [flag, value] : r.flags) out += fmt::format(" --{} {}", flag, value);
    out += "\n";
    for (const Recipe::Need& n : r.needs)
      out += fmt::format("  {:<14} needs --{} {}FILE: {}\n", "", n.flag, n.prefix, n.why);
  }
  return out;
}

std::string recipe_in(const std::vector<std::string>& args) {
  for (size_t i = 0; i < args.size(); ++i) {
    if (args[i].rfind("--recipe=", 0) == 0) return args[i].substr(9);
    if (args[i] == "--recipe" && i + 1 < args.size()) return args[i + 1];
  }
  return "";
}

std::vector<std::string> with_recipe(const std::vector<std::string>& args, const Recipe& recipe) {
  const std::vector<std::string> given = given_flags(args);
  for (const Recipe::Need& n : recipe.needs) {
    std::string value;
    for (size_t i = 0; i < args.size(); ++i) {
      if (args[i] == "--" + n.flag && i + 1 < args.size()) value = args[i + 1];
      if (args[i].rfind("--" + n.flag + "=", 0) == 0) value = args[i].substr(n.flag.size() + 3);
    }
    ROTOR_USAGE_CHECK(value.rfind(n.prefix, 0) == 0 && value.size() > n.prefix.size(),
                      "--recipe {} needs --{} {}FILE: {}", recipe.name, n.flag, n.prefix, n.why);
  }
  std::vector<std::string> out = args;
  for (const auto& [flag, value] : recipe.flags) {
    if (gives(given, flag)) continue;
    out.push_back("--" + flag);
    if (!value.empty()) out.push_back(value);
  }
  return out;
}

}  // namespace rotor
