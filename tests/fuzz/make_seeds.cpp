// Writes the small seed corpora of the fuzzers: one folder per fuzzer under
// the given directory, each holding a few valid files made here (nothing is
// copied from a real data set).
//   make_seeds OUT_DIR   ->  OUT_DIR/{idx,cifar,mat,image,tensor_file,json}/
#include <stb_image_write.h>
#include <zlib.h>

#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "engine/context.h"
#include "engine/json.h"
#include "engine/tensor_file.h"
#include "models/model_file.h"

namespace fs = std::filesystem;
using Bytes = std::vector<uint8_t>;

namespace {

void put(const std::string& path, const Bytes& b) {
  std::ofstream out(path, std::ios::binary);
  out.write(reinterpret_cast<const char*>(b.data()), static_cast<std::streamsize>(b.size()));
  if (!out) {
    std::fprintf(stderr, "make_seeds: cannot write %s\n", path.c_str());
    std::exit(1);
  }
}

Bytes gzip(const Bytes& b) {
  z_stream zs{};
  deflateInit2(&zs, 6, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY);  // +16: gzip wrapper
  Bytes out(deflateBound(&zs, b.size()) + 32);
  zs.next_in = const_cast<uint8_t*>(b.data());
  zs.avail_in = static_cast<uInt>(b.size());
  zs.next_out = out.data();
  zs.avail_out = static_cast<uInt>(out.size());
  deflate(&zs, Z_FINISH);
  out.resize(zs.total_out);
  deflateEnd(&zs);
  return out;
}

Bytes idx(const std::vector<uint32_t>& dims, uint8_t start) {
  Bytes b = {0, 0, 8, static_cast<uint8_t>(dims.size())};
  size_t n = 1;
  for (uint32_t d : dims) {
    for (int s = 24; s >= 0; s -= 8) b.push_back(static_cast<uint8_t>(d >> s));
    n *= d;
  }
  for (size_t i = 0; i < n; ++i) b.push_back(static_cast<uint8_t>(start + i * 7));
  return b;
}

void put32(Bytes& b, uint32_t v) {
  const size_t at = b.size();
  b.resize(at + 4);
  std::memcpy(b.data() + at, &v, 4);
}

// MAT-5 data element with an 8-byte tag, padded to 8 bytes.
Bytes element(uint32_t type, const Bytes& payload) {
  Bytes e;
  put32(e, type);
  put32(e, static_cast<uint32_t>(payload.size()));
  e.insert(e.end(), payload.begin(), payload.end());
  e.resize((e.size() + 7) / 8 * 8, 0);
  return e;
}

Bytes matrix(const std::string& name, uint32_t mx_class, const std::vector<int32_t>& dims, uint32_t type,
             const Bytes& values) {
  Bytes flags, d, body;
  put32(flags, mx_class);
  put32(flags, 0);
  for (int32_t x : dims) put32(d, static_cast<uint32_t>(x));
  for (const Bytes& part : {element(6, flags), element(5, d), element(1, Bytes(name.begin(), name.end())),
                            element(type, values)})
    body.insert(body.end(), part.begin(), part.end());
  return element(14, body);
}

Bytes mat_file(bool compress) {
  Bytes head(128, ' ');
  const char text[] = "MATLAB 5.0 MAT-file, written by rotor make_seeds";
  std::memcpy(head.data(), text, sizeof text - 1);
  head[124] = 0x00;
  head[125] = 0x01;
  head[126] = 'I';
  head[127] = 'M';
  Bytes pixels(32 * 32 * 3);
  for (size_t i = 0; i < pixels.size(); ++i) pixels[i] = static_cast<uint8_t>(i * 13);
  Bytes label;
  const double one = 3;
  label.resize(8);
  std::memcpy(label.data(), &one, 8);
  Bytes out = head;
  for (const Bytes& m : {matrix("X", 9, {32, 32, 3, 1}, 2, pixels), matrix("y", 6, {1, 1}, 9, label)}) {
    if (!compress) {
      out.insert(out.end(), m.begin(), m.end());
      continue;
    }
    uLongf size = compressBound(m.size());
    Bytes z(size);
    compress2(z.data(), &size, m.data(), m.size(), 6);
    z.resize(size);
    put32(out, 15);
    put32(out, static_cast<uint32_t>(z.size()));
    out.insert(out.end(), z.begin(), z.end());
  }
  return out;
}

void write_image(void* context, void* data, int size) {
  Bytes* b = static_cast<Bytes*>(context);
  b->insert(b->end(), static_cast<uint8_t*>(data), static_cast<uint8_t*>(data) + size);
}

Bytes image(const char* kind, int w, int h, int c) {
  Bytes pixels(static_cast<size_t>(w * h * c));
  for (size_t i = 0; i < pixels.size(); ++i) pixels[i] = static_cast<uint8_t>(i * 29);
  Bytes out;
  const std::string k = kind;
  if (k == "png") stbi_write_png_to_func(write_image, &out, w, h, c, pixels.data(), w * c);
  if (k == "bmp") stbi_write_bmp_to_func(write_image, &out, w, h, c, pixels.data());
  if (k == "jpg") stbi_write_jpg_to_func(write_image, &out, w, h, c, pixels.data(), 90);
  return out;
}

Bytes text(const std::string& s) { return Bytes(s.begin(), s.end()); }

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: make_seeds OUT_DIR\n");
    return 2;
  }
  const std::string out = argv[1];
  for (const char* f : {"idx", "cifar", "mat", "image", "tensor_file", "json"}) fs::create_directories(out + "/" + f);

  put(out + "/idx/images", idx({3, 4, 3}, 1));
  put(out + "/idx/labels", idx({3}, 2));
  put(out + "/idx/images.gz", gzip(idx({3, 4, 3}, 5)));
  put(out + "/idx/labels.gz", gzip(idx({5}, 0)));

  Bytes c10, c100;
  for (int r = 0; r < 2; ++r) {
    c10.push_back(static_cast<uint8_t>(r + 3));
    c100.push_back(static_cast<uint8_t>(r + 1));
    c100.push_back(static_cast<uint8_t>(r + 40));
    for (int i = 0; i < 3072; ++i) {
      c10.push_back(static_cast<uint8_t>(i * 3 + r));
      c100.push_back(static_cast<uint8_t>(i * 5 + r));
    }
  }
  put(out + "/cifar/cifar10.bin", c10);
  put(out + "/cifar/cifar100.bin", c100);

  put(out + "/mat/plain.mat", mat_file(false));
  put(out + "/mat/compressed.mat", mat_file(true));

  put(out + "/image/rgb.png", image("png", 5, 4, 3));
  put(out + "/image/grey.png", image("png", 4, 4, 1));
  put(out + "/image/rgba.png", image("png", 3, 3, 4));
  put(out + "/image/rgb.jpg", image("jpg", 9, 8, 3));
  put(out + "/image/rgb.bmp", image("bmp", 4, 3, 3));

  rotor::Context ctx;
  rotor::ModelSpec spec;
  spec.arch = "fcnn-4";
  spec.in_channels = 1;
  spec.height = spec.width = 3;
  spec.classes = 2;
  spec.mean = {1};
  spec.std = {2};
  spec.class_names = {"a", "b"};
  auto model = rotor::build_model(ctx, spec);
  rotor::save_model_file(ctx, out + "/tensor_file/model.rotor", *model);
  rotor::Json header = rotor::Json::object();
  header.set("kind", "rotor-checkpoint");
  header.set("step", 7);
  const rotor::Tensor t = rotor::Tensor::host({2, 3}, rotor::DType::i64);
  rotor::write_tensor_file(ctx, out + "/tensor_file/checkpoint.rotor", header, {{"step.counts", &t}});

  put(out + "/json/object.json", text(R"({"kind": "rotor-model", "model": {"arch": "resnet20", "classes": 10,
 "mean": [125.3, 123.0, 113.9], "class_names": ["a", "b\u00e9\n"], "live": null, "flag": true}})"));
  put(out + "/json/array.json", text("[1, -2.5e-3, 1e300, \"x\\\"y\", [], {}, false]"));
  put(out + "/json/header.json", text(header.dump(2)));
  return 0;
}
