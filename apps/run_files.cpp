#include "apps/run_files.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "engine/error.h"

namespace rotor {

namespace fs = std::filesystem;

void prepare_run_dir(const std::string& dir, bool replace) {
  std::error_code ec;
  fs::create_directories(dir, ec);
  ROTOR_CHECK(!ec && fs::is_directory(dir), "cannot create the output directory {}: {}", dir,
              ec ? ec.message() : "it exists and is not a directory");
  const fs::path metrics = fs::path(dir) / "metrics.jsonl";
  if (fs::exists(metrics)) {
    ROTOR_CHECK(replace, "{} already holds a run ({} exists); choose another --out, resume it with --resume {}, or "
                         "pass --force to replace it",
                dir, metrics.string(), dir);
    fs::remove(metrics, ec);
    ROTOR_CHECK(!ec, "cannot remove {}: {}", metrics.string(), ec.message());
  }
}

static void write_whole(const std::string& path, const std::string& text) {
  const std::string tmp = path + ".tmp";
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  ROTOR_CHECK(fd >= 0, "cannot write {}: {}", tmp, std::strerror(errno));
  const bool ok = ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size()) && ::fsync(fd) == 0;
  const int err = errno;
  ::close(fd);
  if (!ok || std::rename(tmp.c_str(), path.c_str()) != 0) {
    ::unlink(tmp.c_str());
    fail("cannot write {}: {}", path, std::strerror(ok ? errno : err));
  }
}

void write_json_file(const std::string& path, const Json& value) { write_whole(path, value.dump(2) + "\n"); }

Json read_json_file(const std::string& path) {
  std::ifstream in(path);
  ROTOR_CHECK(in.good(), "cannot open {}: {}", path, std::strerror(errno));
  std::stringstream ss;
  ss << in.rdbuf();
  try {
    return Json::parse(ss.str());
  } catch (const Error& e) {
    fail("{}: {}", path, e.what());
  }
}

void append_json_line(const std::string& path, const Json& value) {
  const std::string line = value.dump() + "\n";
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
  ROTOR_CHECK(fd >= 0, "cannot open {}: {}", path, std::strerror(errno));
  const bool ok = ::write(fd, line.data(), line.size()) == static_cast<ssize_t>(line.size()) && ::fsync(fd) == 0;
  const int err = errno;
  ::close(fd);
  ROTOR_CHECK(ok, "cannot append to {}: {}", path, std::strerror(err));
}

}  // namespace rotor
