// Command-line flags for the rotor subcommands.
//
// Each subcommand declares its flags (name, value placeholder, help,
// default); parse() accepts "--name value" and "--name=value" and rejects
// unknown, repeated or incomplete flags and stray words with one line that
// names the flag. Typed getters check the value and name the flag too.
// Those errors are UsageErrors: rotor exits with 2 for them (as for an
// unknown command), and with 1 for errors found while running.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "engine/error.h"

namespace rotor {

// A command called wrongly: unknown, repeated, missing or conflicting flags,
// a value of the wrong kind or out of range.
class UsageError : public Error {
 public:
  using Error::Error;
};

template <class... Args>
[[noreturn]] void usage_fail(fmt::format_string<Args...> format, Args&&... args) {
  throw UsageError(fmt::format(format, std::forward<Args>(args)...));
}

// ROTOR_USAGE_CHECK(condition, "format {}", args...): throws a UsageError.
#define ROTOR_USAGE_CHECK(condition, ...)              \
  do {                                                 \
    if (!(condition)) ::rotor::usage_fail(__VA_ARGS__); \
  } while (0)

struct FlagDef {
  std::string name;        // without the leading dashes
  std::string value_name;  // "N", "DIR", ...; empty for an on/off switch
  std::string help;
  std::string default_text;  // shown in --help; empty = none
};

class CommandLine {
 public:
  CommandLine(std::string command, std::string summary, std::vector<FlagDef> defs);

  void parse(const std::vector<std::string>& args);
  bool help_requested() const { return help_; }
  std::string usage() const;

  bool has(const std::string& name) const;
  // The value of a flag the command cannot run without.
  std::string required(const std::string& name) const;
  std::string text(const std::string& name, const std::string& fallback = "") const;
  int64_t integer(const std::string& name, int64_t fallback, int64_t min, int64_t max) const;
  double number(const std::string& name, double fallback, double min, double max) const;
  bool on(const std::string& name) const;  // a switch that was given

 private:
  const FlagDef& def(const std::string& name) const;
  std::string command_, summary_;
  std::vector<FlagDef> defs_;
  std::map<std::string, std::string> values_;
  bool help_ = false;
};

// Parses args; prints the usage and returns false when --help was given
// (the command then returns 0).
bool parse_or_help(CommandLine& cl, const std::vector<std::string>& args);

}  // namespace rotor
