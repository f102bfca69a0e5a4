// Export of a model (original or pruned, every architecture) to an ONNX file
// for inference outside rotor. The graph is the evaluation-mode network:
//
//   image (N, C, H, W) float32 in [0, 1]  ->  the model's own input
//   normalisation  ->  the network  ->  logits (N, classes)
//
// models/onnx_graph.h builds it; this header hides ONNX and protobuf so that
// the rest of rotor compiles without them. A build without libonnx-dev links
// models/onnx_unavailable.cpp instead, whose functions throw saying so.
#pragma once

#include <string>

#include "models/model.h"

namespace rotor {

// The ONNX operator set the graph is written for (every op it uses is
// unchanged from 13 to the newest sets; ONNX Runtime >= 1.7 runs it).
constexpr int64_t onnx_opset = 13;
constexpr const char* onnx_input_name = "image";
constexpr const char* onnx_output_name = "logits";

bool onnx_compiled();

// Builds the graph of `model`, checks it (ONNX shape inference in strict
// mode and the ONNX checker on the bytes written), and writes it to `path`
// atomically: a temporary file in the same folder is checked and renamed
// into place, so an error leaves no file behind. An existing `path` is an
// error unless `force`. Throws naming the path and the problem.
void write_onnx_file(Context& ctx, Model& model, const std::string& path, bool force);

}  // namespace rotor
