#include "apps/commands.h"

namespace rotor {

FlagDef device_flag() { return {"device", "auto|cpu|cuda", "where to run (auto: a GPU when there is one)", "auto"}; }
FlagDef threads_flag() { return {"threads", "N", "CPU threads", "all cores"}; }
FlagDef precision_flag() {
  return {"precision", "fp32|tf32|fp16",
          "CUDA convolutions: tf32 on the tensor cores of sm_80+ GPUs (10-bit mantissas, FP32 sums; PyTorch's "
          "default), fp16 on those of sm_75+ GPUs (IEEE half operands, gradients scaled by a power of two, FP32 "
          "sums; never yet run on a GPU) or fp32; the CPU and GPUs without the asked-for tensor cores compute fp32",
          "tf32"};
}

std::string precision_text(const std::string& value) {
  ROTOR_USAGE_CHECK(value == "fp32" || value == "tf32" || value == "fp16",
                    "--precision: expected fp32, tf32 or fp16, got '{}'", value);
  return value;
}

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
  o.precision = parse_precision(precision_text(cl.text("precision", "tf32")));
  return o;
}

}  // namespace rotor
