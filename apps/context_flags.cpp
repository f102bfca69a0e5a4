#include "apps/commands.h"

namespace rotor {

FlagDef device_flag() { return {"device", "auto|cpu|cuda", "where to run (auto: a GPU when there is one)", "auto"}; }
FlagDef threads_flag() { return {"threads", "N", "CPU threads", "all cores"}; }
FlagDef precision_flag() {
  return {"precision", "fp32|tf32",
          "CUDA convolutions: tf32 on the tensor cores of sm_80+ GPUs (10-bit mantissas, FP32 sums; PyTorch's "
          "default) or fp32; the CPU and older GPUs always compute fp32",
          "tf32"};
}

std::string precision_text(const std::string& value) {
  ROTOR_USAGE_CHECK(value == "fp32" || value == "tf32", "--precision: expected fp32 or tf32, got '{}'", value);
  return value;
}

ContextOptions context_options(const CommandLine& cl) {
  ContextOptions o;
  o.device = resolve_device(cl.text("device", "auto"));
  o.threads = static_cast<int>(cl.integer("threads", 0, 0, 1024));
  o.precision = parse_precision(precision_text(cl.text("precision", "tf32")));
  return o;
}

}  // namespace rotor
