// write_onnx_file: build the graph, infer its shapes strictly, write it to a
// temporary file, run the ONNX checker on that file, rename it into place.
#include "models/onnx_export.h"

#include <fcntl.h>
#include <onnx/checker.h>
#include <onnx/shape_inference/implementation.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>

#include "models/onnx_graph.h"

namespace rotor {
namespace {

void write_whole_file(const std::string& path, const std::string& bytes) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  ROTOR_CHECK(fd >= 0, "cannot write {}: {}", path, std::strerror(errno));
  size_t done = 0;
  while (done < bytes.size()) {
    const ssize_t n = ::write(fd, bytes.data() + done, bytes.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      const int err = errno;
      ::close(fd);
      fail("cannot write {}: {}", path, std::strerror(err));
    }
    done += static_cast<size_t>(n);
  }
  if (::fsync(fd) != 0 || ::close(fd) != 0) fail("cannot flush {}: {}", path, std::strerror(errno));
}

// Removes the temporary file unless it was renamed into place.
class TempFile {
 public:
  explicit TempFile(std::string path) : path_(std::move(path)) {}
  ~TempFile() {
    if (!path_.empty()) ::unlink(path_.c_str());
  }
  const std::string& path() const { return path_; }
  void release() { path_.clear(); }

 private:
  std::string path_;
};

// The graph's inferred output shape must be (N, classes): catches a layer
// wired to the wrong width before anything is written.
void check_shapes(onnx::ModelProto proto, const ModelSpec& spec) {
  try {
    onnx::shape_inference::InferShapes(proto, onnx::OpSchemaRegistry::Instance(),
                                       onnx::ShapeInferenceOptions(true, 1));
  } catch (const std::exception& e) {
    fail("onnx export of {}: shape inference failed: {}", spec.describe(), e.what());
  }
  const auto& shape = proto.graph().output(0).type().tensor_type().shape();
  ROTOR_CHECK(shape.dim_size() == 2 && shape.dim(1).dim_value() == spec.classes,
              "onnx export of {}: the graph's output is not (N, {})", spec.describe(), spec.classes);
}

}  // namespace

bool onnx_compiled() { return true; }

void write_onnx_file(Context& ctx, Model& model, const std::string& path, bool force) {
  ROTOR_CHECK(force || !std::filesystem::exists(path), "{} exists (give --force to replace it)", path);
  const onnx::ModelProto proto = onnx_model(ctx, model);
  check_shapes(proto, model.spec());
  std::string bytes;
  ROTOR_CHECK(proto.SerializeToString(&bytes), "onnx export: cannot serialise the graph of {} ({} bytes)",
              model.spec().describe(), proto.ByteSizeLong());
  // In the target's folder, so the rename cannot cross file systems.
  TempFile tmp(fmt::format("{}.tmp{}", path, ::getpid()));
  write_whole_file(tmp.path(), bytes);
  try {
    onnx::checker::check_model(tmp.path());
  } catch (const std::exception& e) {
    fail("onnx export: the ONNX checker rejects the graph of {}: {}", model.spec().describe(), e.what());
  }
  ROTOR_CHECK(force || !std::filesystem::exists(path), "{} exists (give --force to replace it)", path);
  if (std::rename(tmp.path().c_str(), path.c_str()) != 0)
    fail("cannot rename {} to {}: {}", tmp.path(), path, std::strerror(errno));
  tmp.release();
}

}  // namespace rotor
