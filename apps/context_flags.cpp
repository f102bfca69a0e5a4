#include "apps/commands.h"

namespace rotor {

FlagDef device_flag() { return {"device", "auto|cpu|cuda", "where to run (auto: a GPU when there is one)", "auto"}; }
FlagDef threads_flag() { return {"threads", "N", "CPU threads", "all cores"}; }

std::string device_flag_text(const CommandLine& cl) {
  const std::string name = cl.text("device", "auto");
  // A word that names no device is a usage error (exit 2); "cuda" on a
  // machine without a usable GPU is not, and resolve_device says why.
  ROTOR_USAGE_CHECK(name == "auto" || name == "cpu" || name == "cuda", "--device: unknown device '{}': expected auto, cpu or cuda", name);
  return name;
}

ContextOptions context_options(const CommandLine& cl) {
  ContextOptions o;
  o.device = resolve_device(device_flag_text(cl));
  o.threads = static_cast<int>(cl.integer("threads", 0, 0, 1024));
  return o;
}

}  // namespace rotor
