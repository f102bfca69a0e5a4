// Image-folder loader on small PNG, BMP and JPEG files written here with
// stb_image_write: lossless images come back pixel for pixel in (C, H, W)
// order with labels from the sorted class folders; broken folders give one
// Error naming the file or folder and the fault.
#include <catch2/catch.hpp>
#include <stb_image.h>
#include <stb_image_write.h>
#include <zlib.h>

#include <filesystem>
#include <random>

#include "data/image_folder.h"
#include "data/registry.h"
#include "engine/error.h"
#include "tests/support/test_files.h"

using namespace rotor;
using namespace rotor::test;
namespace fs = std::filesystem;

namespace {

using Bytes = std::vector<uint8_t>;

struct Image {
  int width = 0, height = 0, channels = 0;
  Bytes hwc;  // as the file holds it: (H, W, C) interleaved

  // The (C, H, W) planes the loader returns, with `c` channels: grey is
  // repeated into R, G and B; alpha is dropped.
  Bytes planes(int c) const {
    Bytes out(static_cast<size_t>(c) * height * width);
    for (int ch = 0; ch < c; ++ch)
      for (int p = 0; p < height * width; ++p) {
        const int from = channels <= 2 ? 0 : ch;  // grey (+ alpha) or RGB (+ alpha)
        out[static_cast<size_t>(ch) * height * width + p] = hwc[static_cast<size_t>(p) * channels + from];
      }
    return out;
  }
};

Image random_image(int width, int height, int channels, std::mt19937& rng) {
  Image im{width, height, channels, Bytes(static_cast<size_t>(width) * height * channels)};
  for (uint8_t& p : im.hwc) p = static_cast<uint8_t>(rng());
  return im;
}

void write_png(const std::string& path, const Image& im) {
  fs::create_directories(fs::path(path).parent_path());
  REQUIRE(stbi_write_png(path.c_str(), im.width, im.height, im.channels, im.hwc.data(), im.width * im.channels) != 0);
}

void write_bmp(const std::string& path, const Image& im) {
  fs::create_directories(fs::path(path).parent_path());
  REQUIRE(stbi_write_bmp(path.c_str(), im.width, im.height, im.channels, im.hwc.data()) != 0);
}

void write_jpg(const std::string& path, const Image& im, int quality) {
  fs::create_directories(fs::path(path).parent_path());
  REQUIRE(stbi_write_jpg(path.c_str(), im.width, im.height, im.channels, im.hwc.data(), quality) != 0);
}

Bytes concat(const std::vector<Bytes>& parts) {
  Bytes out;
  for (const Bytes& p : parts) out.insert(out.end(), p.begin(), p.end());
  return out;
}

// A valid two-class folder of 4x3 grey PNGs: train/{a,b} with 2 images each,
// test/{a,b} with 1 each.
std::string grey_folder(const std::string& tag) {
  const std::string dir = temp_dir(tag);
  std::mt19937 rng(5);
  for (const char* part : {"train", "test"})
    for (const char* cls : {"a", "b"})
      for (int i = 0; i < (std::string(part) == "train" ? 2 : 1); ++i)
        write_png(dir + "/" + part + "/" + cls + "/" + std::to_string(i) + ".png", random_image(4, 3, 1, rng));
  return dir;
}

}  // namespace

TEST_CASE("image folder reads RGB PNGs in sorted order with exact pixels", "[loader][folder]") {
  const std::string dir = temp_dir("folder-rgb");
  std::mt19937 rng(1);
  // Written out of order: the loader sorts classes and files by name.
  const Image dog_b = random_image(5, 4, 3, rng), dog_a = random_image(5, 4, 3, rng);
  const Image cat_z = random_image(5, 4, 3, rng), bird = random_image(5, 4, 4, rng);  // RGBA: alpha dropped
  const Image t_dog = random_image(5, 4, 3, rng), t_cat = random_image(5, 4, 3, rng);
  const Image t_bird = random_image(5, 4, 3, rng);
  write_png(dir + "/train/dog/b.png", dog_b);
  write_png(dir + "/train/dog/a.png", dog_a);
  write_png(dir + "/train/cat/z.png", cat_z);
  write_bmp(dir + "/train/bird/0001.bmp", bird);
  write_png(dir + "/test/dog/0.png", t_dog);
  write_png(dir + "/test/cat/0.png", t_cat);
  write_png(dir + "/test/bird/0.png", t_bird);
  write_bytes(dir + "/train/dog/.DS_Store", {1, 2, 3});  // hidden: ignored
  write_bytes(dir + "/train/README", {'h', 'i'});      // a file beside the class folders: ignored

  const DataSplit s = load_data("folder:" + dir);
  REQUIRE(s.name == "folder");
  REQUIRE(s.source == dir);
  REQUIRE(s.natural_images);
  REQUIRE(s.classes == 3);
  REQUIRE(s.class_names == std::vector<std::string>{"bird", "cat", "dog"});
  REQUIRE(s.train.channels == 3);
  REQUIRE(s.train.height == 4);
  REQUIRE(s.train.width == 5);
  REQUIRE(s.train.labels == std::vector<int32_t>{0, 1, 2, 2});
  REQUIRE(s.test.labels == std::vector<int32_t>{0, 1, 2});
  REQUIRE(s.train.images == concat({bird.planes(3), cat_z.planes(3), dog_a.planes(3), dog_b.planes(3)}));
  REQUIRE(s.test.images == concat({t_bird.planes(3), t_cat.planes(3), t_dog.planes(3)}));
  // Pixel (c=2, h=3, w=1) of dog/a.png is byte (3*5 + 1)*3 + 2 of its rows.
  REQUIRE(s.train.images[2 * 60 + 2 * 20 + 3 * 5 + 1] == dog_a.hwc[(3 * 5 + 1) * 3 + 2]);
}

TEST_CASE("image folder keeps grey images grey and widens them when any image has colour", "[loader][folder]") {
  const std::string dir = grey_folder("folder-grey");
  const DataSplit grey = load_data("folder:" + dir);
  REQUIRE(grey.train.channels == 1);
  REQUIRE(grey.train.height == 3);
  REQUIRE(grey.train.width == 4);
  REQUIRE(grey.train.labels == std::vector<int32_t>{0, 0, 1, 1});
  REQUIRE(grey.test.labels == std::vector<int32_t>{0, 1});
  std::mt19937 rng(5);  // grey_folder's images, in its writing order (= sorted order)
  std::vector<Image> written;
  for (int i = 0; i < 6; ++i) written.push_back(random_image(4, 3, 1, rng));
  REQUIRE(grey.train.images == concat({written[0].planes(1), written[1].planes(1), written[2].planes(1),
                                       written[3].planes(1)}));
  REQUIRE(grey.test.images == concat({written[4].planes(1), written[5].planes(1)}));

  // Grey + alpha is still grey.
  const Image ga = random_image(4, 3, 2, rng);
  write_png(dir + "/train/b/2.png", ga);
  const DataSplit still_grey = load_data("folder:" + dir);
  REQUIRE(still_grey.train.channels == 1);
  REQUIRE(Bytes(still_grey.train.images.end() - 12, still_grey.train.images.end()) == ga.planes(1));

  // One colour image makes every image RGB; grey ones repeat their value.
  const Image rgb = random_image(4, 3, 3, rng);
  write_png(dir + "/test/a/1.png", rgb);
  const DataSplit colour = load_data("folder:" + dir);
  REQUIRE(colour.train.channels == 3);
  REQUIRE(colour.test.channels == 3);
  REQUIRE(colour.train.images == concat({written[0].planes(3), written[1].planes(3), written[2].planes(3),
                                         written[3].planes(3), ga.planes(3)}));
  REQUIRE(colour.test.images == concat({written[4].planes(3), rgb.planes(3), written[5].planes(3)}));
  REQUIRE(colour.test.labels == std::vector<int32_t>{0, 0, 1});
}

TEST_CASE("image folder decodes JPEGs as stb_image does", "[loader][folder]") {
  const std::string dir = temp_dir("folder-jpeg");
  // A smooth colour image survives JPEG at quality 100 within a few levels.
  Image smooth{16, 16, 3, Bytes(16 * 16 * 3)};
  for (int h = 0; h < 16; ++h)
    for (int w = 0; w < 16; ++w) {
      uint8_t* p = &smooth.hwc[(h * 16 + w) * 3];
      p[0] = static_cast<uint8_t>(100 + 4 * h);
      p[1] = static_cast<uint8_t>(60 + 3 * w);
      p[2] = 200;
    }
  write_jpg(dir + "/train/x/0.jpg", smooth, 100);
  write_jpg(dir + "/train/y/0.jpg", smooth, 100);
  write_jpg(dir + "/test/x/0.jpg", smooth, 100);
  write_jpg(dir + "/test/y/0.jpeg", smooth, 100);
  const DataSplit s = load_data("folder:" + dir);
  REQUIRE(s.train.channels == 3);
  REQUIRE(s.train.height == 16);
  REQUIRE(s.train.size() == 2);
  int w = 0, h = 0, c = 0;
  stbi_uc* ref = stbi_load((dir + "/train/x/0.jpg").c_str(), &w, &h, &c, 3);
  REQUIRE(ref != nullptr);
  const Image decoded{w, h, 3, Bytes(ref, ref + w * h * 3)};
  stbi_image_free(ref);
  REQUIRE(Bytes(s.train.images.begin(), s.train.images.begin() + 768) == decoded.planes(3));
  const Bytes original = smooth.planes(3);
  int worst = 0;
  for (size_t i = 0; i < original.size(); ++i) worst = std::max(worst, std::abs(s.train.images[i] - original[i]));
  REQUIRE(worst <= 4);
}

TEST_CASE("image folder keeps order and labels over many files on every core", "[loader][folder]") {
  const std::string dir = temp_dir("folder-many");
  std::vector<Bytes> train(3), test(3);
  for (int c = 0; c < 3; ++c)
    for (int i = 0; i < 150; ++i) {
      // Each image is one grey value that encodes its class and index.
      const uint8_t v = static_cast<uint8_t>(c * 80 + i % 80);
      const Image im{2, 2, 1, Bytes(4, v)};
      char name[16];
      std::snprintf(name, sizeof name, "%04d.png", i);
      write_png(dir + "/train/c" + std::to_string(c) + "/" + name, im);
      train[c].insert(train[c].end(), 4, v);
      if (i < 40) {
        write_png(dir + "/test/c" + std::to_string(c) + "/" + name, im);
        test[c].insert(test[c].end(), 4, v);
      }
    }
  const DataSplit s = load_data("folder:" + dir);
  REQUIRE(s.train.size() == 450);
  REQUIRE(s.test.size() == 120);
  REQUIRE(s.train.images == concat(train));
  REQUIRE(s.test.images == concat(test));
  std::vector<int32_t> train_labels, test_labels;
  for (int c = 0; c < 3; ++c) {
    train_labels.insert(train_labels.end(), 150, c);
    test_labels.insert(test_labels.end(), 40, c);
  }
  REQUIRE(s.train.labels == train_labels);
  REQUIRE(s.test.labels == test_labels);
}

TEST_CASE("image folder names the file or folder at fault", "[loader][folder]") {
  const std::string dir = grey_folder("folder-broken");
  std::mt19937 rng(8);
  SECTION("image of another size") {
    write_png(dir + "/test/b/7.png", random_image(3, 4, 1, rng));
    REQUIRE_THROWS_WITH(load_data("folder:" + dir),
                        Catch::Contains("image " + dir + "/test/b/7.png is 3x4 but " + dir +
                                        "/train/a/0.png is 4x3; all images must have one size"));
  }
  SECTION("unreadable image") {
    write_bytes(dir + "/train/b/bad.png", {'n', 'o', 't', ' ', 'a', 'n', ' ', 'i', 'm', 'a', 'g', 'e'});
    REQUIRE_THROWS_WITH(load_data("folder:" + dir),
                        Catch::Contains("unreadable image " + dir + "/train/b/bad.png: unknown image type"));
  }
  SECTION("image whose header reads but whose data is cut") {
    const std::string path = dir + "/test/a/cut.png";
    write_png(path, random_image(4, 3, 1, rng));
    Bytes b = read_bytes(path);
    b.resize(b.size() - 20);
    write_bytes(path, b);
    // The chunk walk before stb sees the file finds the cut.
    REQUIRE_THROWS_WITH(load_data("folder:" + dir),
                        Catch::Contains("unreadable image " + path + ": corrupt PNG: the chunk at byte 33 claims"));
  }
  SECTION("empty class folder") {
    fs::create_directories(dir + "/train/c");
    fs::create_directories(dir + "/test/c");
    write_png(dir + "/train/c/0.png", random_image(4, 3, 1, rng));
    REQUIRE_THROWS_WITH(load_data("folder:" + dir),
                        Catch::Contains("class folder " + dir + "/test/c holds no image files"));
  }
  SECTION("different classes in train and test") {
    fs::create_directories(dir + "/train/c");
    fs::create_directories(dir + "/test/d");
    REQUIRE_THROWS_WITH(load_data("folder:" + dir),
                        Catch::Contains("train and test have different class folders: 'c' only in train, 'd' only "
                                        "in test"));
  }
  SECTION("a single class") {
    fs::remove_all(dir + "/train/b");
    fs::remove_all(dir + "/test/b");
    REQUIRE_THROWS_WITH(load_data("folder:" + dir),
                        Catch::Contains(dir + "/train has 1 class folder, expected at least 2"));
  }
  SECTION("missing test folder") {
    fs::remove_all(dir + "/test");
    REQUIRE_THROWS_WITH(load_data("folder:" + dir), Catch::Contains("missing " + dir + "/test (an image folder"));
  }
  SECTION("no such directory") {
    REQUIRE_THROWS_WITH(load_data("folder:" + dir + "/nope"), Catch::Contains(dir + "/nope is not a directory"));
  }
}

namespace {

// A PNG that is all header: signature, IHDR (8-bit RGB, width x height) and
// IEND, 45 bytes. stbi_info reads it; it holds no pixels at all.
Bytes png_header_only(uint32_t width, uint32_t height) {
  Bytes b = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
  auto chunk = [&](const char* type, const Bytes& data) {
    for (int s = 24; s >= 0; s -= 8) b.push_back(static_cast<uint8_t>(data.size() >> s));
    const size_t start = b.size();
    b.insert(b.end(), type, type + 4);
    b.insert(b.end(), data.begin(), data.end());
    const uint32_t crc = static_cast<uint32_t>(crc32(0, b.data() + start, static_cast<uInt>(b.size() - start)));
    for (int s = 24; s >= 0; s -= 8) b.push_back(static_cast<uint8_t>(crc >> s));
  };
  Bytes ihdr;
  for (uint32_t v : {width, height})
    for (int s = 24; s >= 0; s -= 8) ihdr.push_back(static_cast<uint8_t>(v >> s));
  ihdr.insert(ihdr.end(), {8, 2, 0, 0, 0});
  chunk("IHDR", ihdr);
  chunk("IEND", {});
  return b;
}

}  // namespace

TEST_CASE("image headers are checked against their files before pixels are allocated", "[loader][folder]") {
  const std::string dir = temp_dir("folder-claims");
  auto fill = [&](uint32_t w, uint32_t h) {
    for (const char* part : {"train", "test"})
      for (const char* cls : {"a", "b"}) {
        fs::create_directories(dir + "/" + part + "/" + cls);
        write_bytes(dir + "/" + part + "/" + cls + "/0.png", png_header_only(w, h));
      }
  };
  // Four 45-byte files claiming 4000x4000 RGB: 192 MB were allocated (and
  // zeroed) before the first decode failed.
  fill(4000, 4000);
  REQUIRE_THROWS_WITH(load_data("folder:" + dir),
                      "folder:" + dir + ": image " + dir +
                          "/train/a/0.png: its header claims 4000x4000 pixels but the file holds 45 bytes, too few "
                          "for that many pixels even compressed");
  fill(20000, 10);
  REQUIRE_THROWS_WITH(load_data("folder:" + dir),
                      Catch::Contains("image " + dir + "/train/a/0.png: its header claims 20000x10 pixels (at most "
                                      "16384x16384 and 67108864 pixels in all are accepted)"));
  // 64x64 fits in 45 bytes of deflate: it passes the header check and fails
  // in decoding, as before.
  fill(64, 64);
  REQUIRE_THROWS_WITH(load_data("folder:" + dir), Catch::Contains("cannot decode image " + dir + "/train/a/0.png"));
}

TEST_CASE("test_only reads the test images of a folder and never the training images", "[loader][folder]") {
  const std::string dir = grey_folder("folder-test-only");
  write_bytes(dir + "/train/b/1.png", {'n', 'o', 't', ' ', 'a', 'n', ' ', 'i', 'm', 'a', 'g', 'e'});
  REQUIRE_THROWS_WITH(load_data("folder:" + dir), Catch::Contains("unreadable image " + dir + "/train/b/1.png"));
  const DataSplit s = load_data("folder:" + dir, 1, DataParts::test_only);
  CHECK(s.train.size() == 0);
  CHECK(s.test.size() == 2);
  CHECK(s.test.labels == std::vector<int32_t>{0, 1});
  CHECK(s.class_names == std::vector<std::string>{"a", "b"});
}

TEST_CASE("a JPEG whose Huffman table declares more than 256 codes is refused before stb reads it",
          "[loader][folder]") {
  // Found by tests/fuzz/fuzz_image: stb_image 2.27 writes such a table's
  // code sizes past the end of its 257-byte array.
  const std::string dir = grey_folder("folder-dht");
  std::mt19937 rng(9);
  const std::string path = dir + "/test/b/0.jpg";
  fs::remove(dir + "/test/b/0.png");
  write_jpg(path, random_image(4, 3, 1, rng), 90);
  Bytes b = read_bytes(path);
  size_t dht = 0;
  for (size_t i = 2; i + 1 < b.size() && !dht; ++i)
    if (b[i] == 0xFF && b[i + 1] == 0xC4) dht = i;
  REQUIRE(dht > 0);
  // The first table's 16 counts (after the length and the class/id byte):
  // 255 codes of length 15 and 255 of length 16.
  b[dht + 5 + 14] = 255;
  b[dht + 5 + 15] = 255;
  write_bytes(path, b);
  REQUIRE_THROWS_WITH(load_data("folder:" + dir),
                      "folder:" + dir + ": unreadable image " + path + ": corrupt JPEG: a Huffman table (DHT segment at "
                          "byte " + std::to_string(dht) + ") declares " +
                          std::to_string(255 + 255 + [&] {
                            int rest = 0;
                            for (int c = 0; c < 14; ++c) rest += b[dht + 5 + c];
                            return rest;
                          }()) +
                          " codes, at most 256 are possible");
}

TEST_CASE("a PNG chunk that claims more bytes than its file holds is refused before stb reads it",
          "[loader][folder]") {
  // Found by tests/fuzz/fuzz_image: stb_image 2.27 grew its buffer to an
  // IDAT chunk's claimed length (1.9 GB for a 211-byte file) before reading.
  const std::string dir = grey_folder("folder-png-chunk");
  const std::string path = dir + "/train/a/1.png";
  Bytes b = read_bytes(path);
  // The first chunk after IHDR (8 + 25 bytes) gets a length of 0xd7000000.
  b[33] = 0xd7;
  b[34] = b[35] = b[36] = 0;
  write_bytes(path, b);
  REQUIRE_THROWS_WITH(load_data("folder:" + dir),
                      "folder:" + dir + ": unreadable image " + path +
                          ": corrupt PNG: the chunk at byte 33 claims 3607101440 bytes but only " +
                          std::to_string(b.size() - 33 - 12) + " follow");
}

TEST_CASE("only PNG, JPEG and BMP images are decoded", "[loader][folder]") {
  const std::string dir = grey_folder("folder-tga");
  std::mt19937 rng(3);
  const Image im = random_image(4, 3, 1, rng);
  const std::string path = dir + "/test/a/0.tga";
  fs::remove(dir + "/test/a/0.png");
  REQUIRE(stbi_write_tga(path.c_str(), im.width, im.height, im.channels, im.hwc.data()) != 0);
  REQUIRE_THROWS_WITH(load_data("folder:" + dir),
                      Catch::Contains("unreadable image " + path + ": unknown image type"));
}

TEST_CASE("a JPEG's start-of-image marker may follow fill bytes, for the Huffman check too", "[loader][folder]") {
  // Found by tests/fuzz/fuzz_image (a second time): stb reads FF FF D8 as
  // the start of a JPEG, the check read it as not a JPEG at all.
  const std::string dir = grey_folder("folder-dht-fill");
  std::mt19937 rng(9);
  const std::string path = dir + "/test/b/0.jpg";
  fs::remove(dir + "/test/b/0.png");
  write_jpg(path, random_image(4, 3, 1, rng), 90);
  Bytes b = read_bytes(path);
  b.insert(b.begin(), 0xFF);
  size_t dht = 0;
  for (size_t i = 3; i + 1 < b.size() && !dht; ++i)
    if (b[i] == 0xFF && b[i + 1] == 0xC4) dht = i;
  REQUIRE(dht > 0);
  b[dht + 5 + 15] = 255;
  b[dht + 5 + 14] = 255;
  write_bytes(path, b);
  REQUIRE_THROWS_WITH(load_data("folder:" + dir),
                      Catch::Contains("unreadable image " + path + ": corrupt JPEG: a Huffman table (DHT segment at "
                                      "byte " + std::to_string(dht) + ")"));
}

TEST_CASE("a JPEG scan that uses a Huffman table no DHT defined is refused before stb reads it",
          "[loader][folder]") {
  // Found by tests/fuzz/fuzz_image: stb_image 2.27 decodes with the
  // uninitialised table (an assertion in stbi__jpeg_huff_decode, or reads out
  // of bounds when assertions are off).
  const std::string dir = grey_folder("folder-no-dht");
  std::mt19937 rng(9);
  const std::string path = dir + "/test/b/0.jpg";
  fs::remove(dir + "/test/b/0.png");
  write_jpg(path, random_image(4, 3, 1, rng), 90);
  Bytes b = read_bytes(path);
  size_t sos = 0;
  for (size_t i = 2; i + 1 < b.size() && !sos; ++i)
    if (b[i] == 0xFF && b[i + 1] == 0xDA) sos = i;
  REQUIRE(sos > 0);
  b[sos + 6] = 0x23;  // the one component's tables: DC 2, AC 3 (stb's writer defines DC 0 and AC 1 only)
  write_bytes(path, b);
  REQUIRE_THROWS_WITH(load_data("folder:" + dir),
                      "folder:" + dir + ": unreadable image " + path + ": corrupt JPEG: the scan at byte " +
                          std::to_string(sos) + " uses the DC Huffman table 2, which no DHT segment defined");
}

TEST_CASE("a JPEG that claims far more pixels than its bytes can hold is refused before decoding",
          "[loader][folder]") {
  // Found by tests/fuzz/fuzz_image (a timeout): stb decodes a JPEG whose
  // data run out as if zeros followed, so a tiny file claiming a huge image
  // cost seconds and hundreds of MB per copy.
  const std::string dir = grey_folder("folder-jpeg-claim");
  std::mt19937 rng(9);
  const std::string path = dir + "/test/b/0.jpg";
  fs::remove(dir + "/test/b/0.png");
  write_jpg(path, random_image(4, 3, 1, rng), 90);
  Bytes b = read_bytes(path);
  size_t sof = 0;
  for (size_t i = 2; i + 1 < b.size() && !sof; ++i)
    if (b[i] == 0xFF && b[i + 1] == 0xC0) sof = i;
  REQUIRE(sof > 0);
  for (const size_t at : {sof + 5, sof + 7}) {  // height, then width: 3000 each
    b[at] = 3000 >> 8;
    b[at + 1] = 3000 & 255;
  }
  write_bytes(path, b);
  REQUIRE_THROWS_WITH(load_data("folder:" + dir),
                      "folder:" + dir + ": image " + path + ": its header claims 3000x3000 pixels but the file holds " +
                          std::to_string(b.size()) + " bytes, too few for a JPEG of that size");
}

TEST_CASE("a BMP that claims far more pixels than its bytes can hold is refused before decoding",
          "[loader][folder]") {
  // Found by tests/fuzz/fuzz_image (a timeout): a 156-byte BMP whose header
  // claims 256x11264 pixels; stb decoded zeros past its end for seconds.
  const std::string dir = grey_folder("folder-bmp-claim");
  const std::string path = dir + "/test/b/0.bmp";
  fs::remove(dir + "/test/b/0.png");
  Bytes b(156, 0xCA);
  const uint8_t header[] = {'B', 'M', 156, 0, 0, 0, 0, 0, 0, 0, 54, 0, 0, 0,  // file header
                            40, 0, 0, 0, 0, 1, 0, 0, 0, 0x2C, 0, 0,           // size 40, width 256, height 11264
                            1, 0, 24, 0, 0, 0, 0, 0, 0, 0, 0, 0};             // 1 plane, 24 bits, no compression
  std::copy(std::begin(header), std::end(header), b.begin());
  write_bytes(path, b);
  REQUIRE_THROWS_WITH(load_data("folder:" + dir),
                      "folder:" + dir + ": image " + path +
                          ": its header claims 256x11264 pixels but the file holds 156 bytes, too few for a BMP of "
                          "that size");
}
