// Differentiable ops: shape checks, the forward kernel on the context's
// device, and the backward closure recorded on the Graph.
//
// Every op takes float32 NCHW (or (N, C)) tensors on the graph's device and
// throws rotor::Error naming the op and the shapes when they do not fit.
// Nullable arguments are marked; pass nullptr (an empty Var) to omit them.
#pragma once

#include "engine/autograd.h"
#include "kernels/augment.h"

namespace rotor {

struct BatchNormConfig {
  double momentum = 0.1;  // running = (1 - momentum) * running + momentum * batch
  double eps = 1e-5;
};

// y (N, out) = x (N, in) w^T + bias; bias (out) nullable.
Var linear(Graph& g, const Var& x, const Var& w, const Var& bias);

// y (N, C_out, Ho, Wo) = conv(x (N, C_in, H, W), w (C_out, C_in, K, K)); no bias.
Var conv2d(Graph& g, const Var& x, const Var& w, int64_t stride, int64_t pad);

// Batch norm over x (N, C) or (N, C, H, W). Training graphs normalise with the
// batch and update running_mean/var; evaluation graphs use them.
Var batch_norm(Graph& g, const Var& x, const Var& gamma, const Var& beta, Tensor& running_mean,
               Tensor& running_var, const BatchNormConfig& config = {});

// Fused y = slope[c] * max(0, batch_norm(x)); slope nullable (plain ReLU).
Var bn_rrelu(Graph& g, const Var& x, const Var& gamma, const Var& beta, const Var& slope, Tensor& running_mean,
             Tensor& running_var, const BatchNormConfig& config = {});

// Fused y = slope[c] * max(0, batch_norm(x) + residual), the tail of a ResNet
// basic block; slope nullable (ReLU); residual has x's shape. Computes what
// rrelu(add(batch_norm(x), residual)) computes, in fewer passes, and writes
// the residual's gradient in place (kernels/bn_add_act.h).
Var bn_add_act(Graph& g, const Var& x, const Var& residual, const Var& gamma, const Var& beta, const Var& slope,
               Tensor& running_mean, Tensor& running_var, const BatchNormConfig& config = {});

// Elementwise activations (kernels/activation.h).
Var relu(Graph& g, const Var& x);
// y = slope[c] * max(0, x), slope (C).
Var rrelu(Graph& g, const Var& x, const Var& slope);

// y = a + b (same shape).
Var add(Graph& g, const Var& a, const Var& b);

// Option-A shortcut to c_out channels with the given stride.
Var shortcut_a(Graph& g, const Var& x, int64_t c_out, int64_t stride);

// Inverted dropout with probability p in training graphs; identity in
// evaluation graphs (and for p == 0).
Var dropout(Graph& g, const Var& x, double p);

// Channel subsets (pruned residual networks). index: int32 (K) on the
// graph's device, distinct values in [0, C).
// y (N, K, H, W) = x[:, index]
Var select_channels(Graph& g, const Var& x, const Tensor& index);
// y (N, C, H, W) = base, plus part (N, K, H, W) added into channels index.
Var add_into_channels(Graph& g, const Var& base, const Var& part, const Tensor& index);

// (N, C, H, W) -> (N, C) by averaging over H, W.
Var global_avg_pool(Graph& g, const Var& x);

// (N, ...) -> (N, prod(...)); shares storage with x.
Var flatten(Graph& g, const Var& x);

// Mean cross-entropy of logits (N, K) against labels (N) int32; shape (1).
Var softmax_cross_entropy(Graph& g, const Var& logits, const Tensor& labels);

// Gathers images[indices] (uint8 (N_all, C, H, W)) into x (B, C, H, W)
// float32, augmented and normalised as `spec` says, and labels[indices] into
// y (B) int32. Everything lives on the context's device.
void assemble_batch(Context& ctx, const Tensor& images, const Tensor& labels, const Tensor& indices,
                    const AugmentSpec& spec, Tensor& x, Tensor& y);

// y += alpha * x (float32, same number of elements).
void axpy(Context& ctx, float alpha, const Tensor& x, Tensor& y);

// counter (int64, one element, on the context's device) += number of rows of
// logits whose argmax equals the label.
void count_correct(Context& ctx, const Tensor& logits, const Tensor& labels, Tensor& counter);

// counter (int64, one element, on the context's device) += number of NaN or
// infinite values of x (contiguous float32 on the context's device).
void count_nonfinite(Context& ctx, const Tensor& x, Tensor& counter);
// The same count, read back: one integer crosses to the host, not x.
int64_t count_nonfinite(Context& ctx, const Tensor& x);

}  // namespace rotor
