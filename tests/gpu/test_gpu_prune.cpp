// Pruning on the GPU: the physically pruned network's logits equal the
// masked network's, and equal the CPU's, for a ResNet and a wide ResNet
// with planted small slopes.
#include <catch2/catch.hpp>

#include "engine/tensor_util.h"
#include "models/prune.h"
#include "tests/gpu/gpu_support.h"

using namespace rotor;
using namespace rotor::test;

namespace {

// Random parameters and buffers (running variances positive) with the
// slopes of every third channel set to 0.001.
void randomize(Context& ctx, Model& m, Rng& rng) {
  for (auto& [name, p] : m.named_parameters()) {
    std::vector<float> v = p->group == ParamGroup::slopes ? signed_magnitudes(rng, p->value().numel(), 0.5, 1.5)
                                                          : uniform(rng, p->value().numel(), -0.5, 0.5);
    if (p->group == ParamGroup::slopes)
      for (size_t i = 0; i < v.size(); i += 3) v[i] = 0.001f;
    copy(ctx, from_host(ctx, p->value().shape(), v), p->value());
  }
  for (auto& [name, b] : m.named_buffers()) {
    const bool var = name.find("running_var") != std::string::npos;
    copy(ctx, from_host(ctx, b->shape(), var ? uniform(rng, b->numel(), 0.5, 2) : uniform(rng, b->numel(), -0.3, 0.3)),
         *b);
  }
}

std::vector<float> logits(Context& ctx, Model& m, const std::vector<float>& x, const ModelSpec& s, int64_t n) {
  Graph g(ctx, false);
  return host_values(ctx, m.forward(g, make_var(from_host(ctx, {n, s.in_channels, s.height, s.width}, x)))->value);
}

}  // namespace

TEST_CASE("gpu pruned logits equal the masked network's and the CPU's", "[gpu][prune]") {
  Twins t;
  for (const char* arch : {"resnet8", "wrn-10-1"}) {
    INFO(arch);
    ModelSpec s;
    s.arch = arch;
    s.in_channels = 3;
    s.height = s.width = 8;
    s.classes = 4;
    auto gpu_model = build_model(t.gpu, s);
    Rng rng(61);
    randomize(t.gpu, *gpu_model, rng);
    auto gpu_pruned = prune_model(t.gpu, *gpu_model, 0.01);
    mask_slopes(t.gpu, *gpu_model, 0.01);
    const int64_t n = 5;
    const std::vector<float> x = normal(rng, static_cast<size_t>(n * 3 * 8 * 8));
    const auto masked = logits(t.gpu, *gpu_model, x, s, n), pruned = logits(t.gpu, *gpu_pruned, x, s, n);
    REQUIRE_CLOSE("gpu pruned vs masked", pruned, masked, 1e-5, 1e-4);

    // The same pruned network on the CPU.
    auto cpu_pruned = build_model(t.cpu, gpu_pruned->spec());
    auto gp = gpu_pruned->named_parameters();
    auto cp = cpu_pruned->named_parameters();
    for (size_t i = 0; i < gp.size(); ++i) copy(t.cpu, to_host(t.gpu, gp[i].second->value()), cp[i].second->value());
    auto gb = gpu_pruned->named_buffers();
    auto cb = cpu_pruned->named_buffers();
    for (size_t i = 0; i < gb.size(); ++i) copy(t.cpu, to_host(t.gpu, *gb[i].second), *cb[i].second);
    REQUIRE_CLOSE("gpu vs cpu pruned", pruned, logits(t.cpu, *cpu_pruned, x, s, n), 1e-4, 1e-3);
  }
}
