// rotor: train RReLU networks and prune the channels they do not need.
//
//   rotor train --help      train a model (the main job)
//   rotor eval --help       accuracy and loss of a model file on a data set
//   rotor prune --help      remove the channels whose slopes are small
//   rotor info --help       parameters and FLOPs per layer
//   rotor report --help     slope histograms and filter-path lengths (PNG + CSV)
//   rotor method --help     train, prune and report in one folder
#include <fmt/format.h>

#include <cstdio>
#include <exception>

#include "apps/cli.h"
#include "apps/commands.h"
#include "apps/version.h"
#include "engine/error.h"

namespace {

constexpr const char* usage = R"(usage: rotor <command> [flags]

commands:
  train    train a network (FCNN, ResNet, WideResNet; ReLU or RReLU) on a data set
  eval     accuracy and loss of a model file on a data set
  prune    choose gamma, remove channels with |slope| < gamma, write a smaller model file
  info     parameters and FLOPs per layer (paper's formulas)
  report   slope histograms and filter-path length distribution (PNG + CSV)
  export   write a model file (original or pruned) as an ONNX graph
  method   train, prune and report in one folder (rotor method --out DIR [train flags])

Run 'rotor <command> --help' for the flags of a command, 'rotor --version' for the version.
)";

}  // namespace

int main(int argc, char** argv) {
  const std::vector<std::string> all(argv + 1, argv + argc);
  if (all.empty() || all[0] == "--help" || all[0] == "-h" || all[0] == "help") {
    std::fputs(usage, all.empty() ? stderr : stdout);
    return all.empty() ? 2 : 0;
  }
  if (all[0] == "--version") {
    fmt::print("rotor {} (commit {})\n", rotor::rotor_version(), rotor::rotor_commit());
    return 0;
  }
  const std::string command = all[0];
  const rotor::Args args(all.begin() + 1, all.end());
  try {
    if (command == "train") return rotor::cmd_train(args);
    if (command == "eval") return rotor::cmd_eval(args);
    if (command == "prune") return rotor::cmd_prune(args);
    if (command == "info") return rotor::cmd_info(args);
    if (command == "report") return rotor::cmd_report(args);
    if (command == "export") return rotor::cmd_export(args);
    if (command == "method") return rotor::cmd_method(args);
    fmt::print(stderr, "rotor: unknown command '{}' (expected train, eval, prune, info, report, export or method; see rotor --help)\n",
               command);
    return 2;
  } catch (const rotor::UsageError& e) {
    fmt::print(stderr, "rotor {}: error: {}\n", command, e.what());
    return 2;
  } catch (const rotor::Error& e) {
    fmt::print(stderr, "rotor {}: error: {}\n", command, e.what());
    return 1;
  } catch (const std::exception& e) {
    fmt::print(stderr, "rotor {}: internal error: {}\n", command, e.what());
    return 3;
  }
}
