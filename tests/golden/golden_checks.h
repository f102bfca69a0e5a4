// Checks of the engine (float32, any device) against the PyTorch reference
// cases in ../shared/golden. Each check reads its shapes from the files, so
// it holds for any other random draw of the same cases. The CPU test binary
// runs them on a CPU Context, the GPU binary on a CUDA one.
#pragma once

#include <string>

#include "engine/context.h"
#include "tests/support/npy.h"

namespace rotor::test {

// ROTOR_GOLDEN_DIR from the environment, else the configured default.
std::string golden_dir();
bool golden_available();
NpyArray golden(const std::string& case_name, const std::string& tensor);

// Tolerances for float32 against the float64 references.
constexpr double golden_op_tol = 1e-4;
constexpr double golden_net_tol = 1e-3;

void check_golden_conv(Context& ctx, const std::string& case_name);
void check_golden_batchnorm(Context& ctx, const std::string& case_name);  // 2d or 1d
void check_golden_bn_rrelu(Context& ctx);
void check_golden_rrelu(Context& ctx);
void check_golden_linear(Context& ctx);
void check_golden_softmax_ce(Context& ctx);
void check_golden_shortcut(Context& ctx);
void check_golden_pool(Context& ctx);
void check_golden_optimizer(Context& ctx, const std::string& case_name);
void check_golden_tiny_resnet(Context& ctx);

}  // namespace rotor::test
