#include "apps/cli.h"

#include <fmt/format.h>

#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstdlib>

#include "engine/error.h"

namespace rotor {

CommandLine::CommandLine(std::string command, std::string summary, std::vector<FlagDef> defs)
    : command_(std::move(command)), summary_(std::move(summary)), defs_(std::move(defs)) {}

const FlagDef& CommandLine::def(const std::string& name) const {
  for (const FlagDef& d : defs_)
    if (d.name == name) return d;
  usage_fail("unknown flag --{} (see rotor {} --help)", name, command_);
}

void CommandLine::parse(const std::vector<std::string>& args) {
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    if (a == "--help" || a == "-h") {
      help_ = true;
      continue;
    }
    ROTOR_USAGE_CHECK(a.size() > 2 && a.compare(0, 2, "--") == 0, "unexpected argument '{}' (flags start with --)", a);
    std::string name = a.substr(2), value;
    const size_t eq = name.find('=');
    const bool inline_value = eq != std::string::npos;
    if (inline_value) {
      value = name.substr(eq + 1);
      name = name.substr(0, eq);
    }
    const FlagDef& d = def(name);
    ROTOR_USAGE_CHECK(!values_.count(name), "--{} is given twice", name);
    if (d.value_name.empty()) {
      ROTOR_USAGE_CHECK(!inline_value, "--{} is a switch and takes no value", name);
    } else if (!inline_value) {
      ROTOR_USAGE_CHECK(i + 1 < args.size() && args[i + 1].compare(0, 2, "--") != 0, "--{} needs a value ({})", name,
                  d.value_name);
      value = args[++i];
    }
    ROTOR_USAGE_CHECK(d.value_name.empty() || !value.empty(), "--{} needs a value ({})", name, d.value_name);
    values_[name] = value;
  }
}

std::string CommandLine::usage() const {
  std::string out = fmt::format("usage: rotor {} [flags]\n\n{}\n\nflags:\n", command_, summary_);
  for (const FlagDef& d : defs_) {
    const std::string left = d.value_name.empty() ? "--" + d.name : "--" + d.name + " " + d.value_name;
    out += fmt::format("  {:<26} {}", left, d.help);
    if (!d.default_text.empty()) out += fmt::format(" (default: {})", d.default_text);
    out += "\n";
  }
  out += fmt::format("  {:<26} {}\n", "--help", "show this text");
  return out;
}

bool CommandLine::has(const std::string& name) const {
  def(name);
  return values_.count(name) > 0;
}

std::string CommandLine::required(const std::string& name) const {
  ROTOR_USAGE_CHECK(has(name), "--{} is required (see rotor {} --help)", name, command_);
  return values_.at(name);
}

std::string CommandLine::text(const std::string& name, const std::string& fallback) const {
  def(name);
  const auto it = values_.find(name);
  return it == values_.end() ? fallback : it->second;
}

int64_t CommandLine::integer(const std::string& name, int64_t fallback, int64_t min, int64_t max) const {
  if (!has(name)) return fallback;
  const std::string& s = values_.at(name);
  int64_t v = 0;
  const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  ROTOR_USAGE_CHECK(ec == std::errc() && end == s.data() + s.size(), "--{} expects an integer, got '{}'", name, s);
  ROTOR_USAGE_CHECK(v >= min && v <= max, "--{} must be between {} and {}, got {}", name, min, max, v);
  return v;
}

double CommandLine::number(const std::string& name, double fallback, double min, double max) const {
  if (!has(name)) return fallback;
  const std::string& s = values_.at(name);
  char* end = nullptr;
  const double v = std::strtod(s.c_str(), &end);
  ROTOR_USAGE_CHECK(end == s.c_str() + s.size() && std::isfinite(v), "--{} expects a number, got '{}'", name, s);
  ROTOR_USAGE_CHECK(v >= min && v <= max, "--{} must be between {} and {}, got {}", name, min, max, s);
  return v;
}

bool CommandLine::on(const std::string& name) const { return has(name); }

bool parse_or_help(CommandLine& cl, const std::vector<std::string>& args) {
  cl.parse(args);
  if (!cl.help_requested()) return true;
  std::fputs(cl.usage().c_str(), stdout);
  return false;
}

}  // namespace rotor
