#include "apps/commands.h"

namespace rotor {

FlagDef device_flag() { return {"device", "auto|cpu|cuda", "where to run (auto: a GPU when there is one)", "auto"}; }
FlagDef threads_flag() { return {"threads", "N", "CPU threads", "all cores"}; }

ContextOptions context_options(const CommandLine& cl) {
  ContextOptions o;
  o.device = resolve_device(cl.text("device", "auto"));
  o.threads = static_cast<int>(cl.integer("threads", 0, 0, 1024));
  return o;
}

}  // namespace rotor
