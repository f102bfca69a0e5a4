#include "apps/run_files.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "engine/error.h"
#include "engine/sync_dir.h"

namespace rotor {

namespace fs = std::filesystem;

bool holds_run(const std::string& dir) {
  for (const char* file : {"run.json", "metrics.jsonl", "checkpoint.rotor"})
    if (fs::exists(fs::path(dir) / file)) return true;
  return false;
}

void check_run_dir(const std::string& dir, bool replace) {
  std::error_code ec;
  ROTOR_CHECK(!fs::exists(dir, ec) || fs::is_directory(dir, ec), "cannot use the output directory {}: it exists and "
              "is not a directory", dir);
  ROTOR_CHECK(replace || !holds_run(dir), "{} already holds a run; choose another --out, resume it with --resume {}, "
              "or pass --force to move it aside to {}.previous-N and start anew",
              dir, dir, dir);
}

std::string prepare_run_dir(const std::string& dir, bool replace) {
  check_run_dir(dir, replace);
  std::error_code ec;
  std::string moved;
  if (holds_run(dir)) {
    // Trailing separators would make "runs/a/.previous-1".
    const std::string base = fs::path(dir).lexically_normal().string();
    std::string stem = base;
    while (stem.size() > 1 && stem.back() == '/') stem.pop_back();
    for (int n = 1; moved.empty(); ++n) {
      const std::string candidate = fmt::format("{}.previous-{}", stem, n);
      if (fs::exists(candidate, ec)) continue;
      fs::rename(dir, candidate, ec);
      ROTOR_CHECK(!ec, "cannot move the previous run in {} aside to {}: {}", dir, candidate, ec.message());
      moved = candidate;
    }
  }
  fs::create_directories(dir, ec);
  ROTOR_CHECK(!ec && fs::is_directory(dir), "cannot create the output directory {}: {}", dir,
              ec ? ec.message() : "it exists and is not a directory");
  return moved;
}

// write(2) may write less than asked (a full disk, a file size limit): the
// rest is written again until the call fails with the reason in errno.
static bool write_all(int fd, const std::string& text) {
  size_t done = 0;
  while (done < text.size()) {
    const ssize_t n = ::write(fd, text.data() + done, text.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      if (n == 0) errno = EIO;
      return false;
    }
    done += static_cast<size_t>(n);
  }
  return true;
}

void write_text_file(const std::string& path, const std::string& text) {
  const std::string tmp = path + ".tmp";
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  ROTOR_CHECK(fd >= 0, "cannot write {}: {}", tmp, std::strerror(errno));
  const bool ok = write_all(fd, text) && ::fsync(fd) == 0;
  const int err = errno;
  ::close(fd);
  if (!ok || std::rename(tmp.c_str(), path.c_str()) != 0) {
    ::unlink(tmp.c_str());
    fail("cannot write {}: {}", path, std::strerror(ok ? errno : err));
  }
  sync_parent_directory(path);
}

void write_json_file(const std::string& path, const Json& value) { write_text_file(path, value.dump(2) + "\n"); }

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
  struct stat before {};
  const bool sized = ::fstat(fd, &before) == 0;
  const bool written = write_all(fd, line);
  const int write_err = errno;
  const bool ok = written && ::fsync(fd) == 0;
  const int err = written ? errno : write_err;  // the errno of the call that failed, nothing older
  // Undo a partial line, so the file stays whole lines (a resume reads it).
  if (!ok && sized) (void)!::ftruncate(fd, before.st_size);
  ::close(fd);
  ROTOR_CHECK(ok, "cannot append to {}: {} ({})", path, std::strerror(err), written ? "fsync" : "write");
}

}  // namespace rotor
