// The paper's training recipes as named presets of `rotor train`.
//
// A recipe is a list of flags with values. `--recipe NAME` adds each of its
// flags that the command line does not give: the recipe sets defaults, an
// explicit flag overrides it. Recipes leave --model and --data to the user
// (the paper's recipes differ by architecture only in epochs and optimizer).
#pragma once

#include <string>
#include <utility>
#include <vector>

namespace rotor {

struct Recipe {
  std::string name;
  std::string summary;
  std::vector<std::pair<std::string, std::string>> flags;  // flag (no dashes), value ("" for a switch)
  // A flag the user must give with this recipe, its value starting with
  // `prefix` (e.g. --init type2:FILE).
  struct Need {
    std::string flag, prefix, why;
  };
  std::vector<Need> needs;
};

const std::vector<Recipe>& recipes();
// Throws a UsageError naming the recipes when `name` is none of them.
const Recipe& find_recipe(const std::string& name);
// Every recipe with its flags, for `rotor train --recipe list`.
std::string describe_recipes();
// The value of --recipe in `args` ("" when absent; --recipe NAME or --recipe=NAME).
std::string recipe_in(const std::vector<std::string>& args);
// `args` followed by the recipe's flags that `args` does not give. Checks
// that the flags the recipe needs are given.
std::vector<std::string> with_recipe(const std::vector<std::string>& args, const Recipe& recipe);

}  // namespace rotor
