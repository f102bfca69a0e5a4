// rotor method: the whole method in one command, into one folder:
// train (DIR), prune (DIR/prune), report (DIR/report). It calls the three
// commands' functions in this process with the arguments a user would type,
// so each step behaves, prints and fails exactly as when run by hand.
#include <fmt/format.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>

#include "apps/commands.h"

namespace rotor {

namespace {

constexpr const char* method_help = R"(usage: rotor method --out DIR [rotor train flags]

Runs the method in one folder: rotor train (flags as given, e.g. --recipe type1 --model resnet20
--data cifar10:DIR), then rotor prune of DIR/model.rotor into DIR/prune (gamma chosen as rotor prune
does by default), then rotor report into DIR/report. --device, --threads and --precision go to the prune too.
Stops at the first step that fails, with that step's exit code. A run stopped early (--stop-after,
a signal) is not pruned: continue it with rotor train --resume DIR, then prune and report.
)";

// The value of --flag (or --flag=value) in args, "" when absent.
std::string flag_value(const Args& args, const std::string& flag) {
  for (size_t i = 0; i < args.size(); ++i) {
    if (args[i] == "--" + flag && i + 1 < args.size()) return args[i + 1];
    if (args[i].rfind("--" + flag + "=", 0) == 0) return args[i].substr(flag.size() + 3);
  }
  return "";
}

}  // namespace

int cmd_method(const Args& args) {
  if (std::find(args.begin(), args.end(), "--help") != args.end() ||
      std::find(args.begin(), args.end(), "-h") != args.end()) {
    std::fputs(method_help, stdout);
    return 0;
  }
  const std::string out = flag_value(args, "out");
  ROTOR_USAGE_CHECK(!out.empty(), "--out DIR is required: the folder that takes the run, prune/ and report/");
  ROTOR_USAGE_CHECK(std::find(args.begin(), args.end(), "--resume") == args.end(),
                    "--resume: continue a run with rotor train --resume DIR, then rotor prune and rotor report");
  Args shared;  // where the later steps run
  for (const char* flag : {"device", "threads", "precision"})
    if (const std::string v = flag_value(args, flag); !v.empty()) shared.insert(shared.end(), {"--" + std::string(flag), v});

  fmt::print("== rotor method 1/3: train into {}\n", out);
  std::fflush(stdout);
  if (const int rc = cmd_train(args); rc != 0) return rc;
  const std::string model = out + "/model.rotor";
  if (!std::filesystem::exists(model)) {
    fmt::print("rotor method: the run stopped before its last epoch; no prune or report yet\n");
    return 0;
  }
  fmt::print("\n== rotor method 2/3: prune into {}/prune\n", out);
  std::fflush(stdout);
  Args prune = {"--model-file", model, "--out", out + "/prune"};
  prune.insert(prune.end(), shared.begin(), shared.end());
  if (const int rc = cmd_prune(prune); rc != 0) return rc;
  fmt::print("\n== rotor method 3/3: report into {}/report\n", out);
  std::fflush(stdout);
  Args report = {"--model-file", model, "--out", out + "/report"};
  return cmd_report(report);
}

}  // namespace rotor
