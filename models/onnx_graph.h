// The ONNX graph of a rotor model (see models/onnx_export.h for the file).
//
// One ONNX node per rotor operation, in evaluation mode, with rotor's tensor
// names as initializer names ("stage1.block0.conv1.weight"):
//
//   input normalisation  Mul(255) -> Sub(mean) -> Mul(1/std), per channel,
//                        the arithmetic of rotor's batch assembly
//   conv / linear        Conv (no bias) / Gemm (transB)
//   batch norm           BatchNormalization with the running statistics:
//                        kept as a node, not folded into the conv, because
//                        the pre-activation blocks of a wide ResNet normalise
//                        the residual stream (no conv before them to fold
//                        into), the file keeps rotor's tensors unchanged, and
//                        ONNX Runtime folds Conv+BN itself when it loads
//   ReLU / RReLU         Relu, then Mul by the slopes (shape [C,1,1]; [C] in
//                        the FCNN)
//   option-A shortcut    Slice (step = stride on H and W) + Pad on channels
//   pruned stream        Gather of the live channels a block reads; a
//                        block's narrower branch is widened to the stream by
//                        Pad (one zero channel) + Gather before the Add
//   head                 GlobalAveragePool + Flatten + Gemm
//
// Zero-width parts of a pruned network (every filter of a conv dead) are
// written as what they compute: a branch without surviving outputs is left
// out, a conv with no inputs left is a Conv of zero weights over one stream
// channel (exact zeros), and a branch whose middle conv died adds its batch
// norm's constant shift.
#pragma once

#include <onnx/onnx_pb.h>

#include "models/model.h"

namespace rotor {

// The model proto: opset onnx_opset, input "image" (N, C, H, W) float32 in
// [0, 1], output "logits" (N, classes), the ModelSpec as JSON in the
// metadata ("rotor.spec"). Not yet checked (write_onnx_file checks it).
onnx::ModelProto onnx_model(Context& ctx, Model& model);

}  // namespace rotor
