// The rotor subcommands. Each takes its arguments (after the subcommand
// name), prints its own --help, and returns the process exit code; errors
// propagate as rotor::Error for main() to print.
#pragma once

#include <string>
#include <vector>

#include "apps/cli.h"
#include "engine/context.h"

namespace rotor {

using Args = std::vector<std::string>;

// The --device, --threads and --precision flags every command that runs a
// model takes.
FlagDef device_flag();
FlagDef threads_flag();
FlagDef precision_flag();
// The value of --precision, checked (fp32, tf32 or fp16; else a UsageError naming the flag).
std::string precision_text(const std::string& value);
ContextOptions context_options(const CommandLine& cl);
// --device's value, checked to be auto, cpu or cuda (else a UsageError).
std::string device_flag_text(const CommandLine& cl);

int cmd_train(const Args& args);
int cmd_eval(const Args& args);
int cmd_info(const Args& args);
int cmd_prune(const Args& args);
int cmd_report(const Args& args);
int cmd_export(const Args& args);
// train, prune and report in one folder (apps/cmd_method.cpp).
int cmd_method(const Args& args);

}  // namespace rotor
