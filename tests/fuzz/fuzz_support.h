// Shared by the libFuzzer harnesses: the parsers under test read files, so
// each input is written to a scratch file first (in /dev/shm when there is
// one: no disk traffic per execution).
#pragma once

#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <string>

namespace rotor::fuzz {

// A directory of this process's own, made on first use and kept: libFuzzer
// runs one input after another in one process.
inline const std::string& scratch_dir() {
  static const std::string dir = [] {
    std::string t = (access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp") + std::string("/rotor-fuzz-XXXXXX");
    if (!mkdtemp(t.data())) std::abort();
    return t;
  }();
  return dir;
}

// Replaces the contents of path (keeping its inode, so hard links to it see
// the new bytes too).
inline void write_file(const std::string& path, const uint8_t* data, size_t size) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
  if (fd < 0) std::abort();
  size_t done = 0;
  while (done < size) {
    const ssize_t n = ::write(fd, data + done, size - done);
    if (n <= 0) std::abort();
    done += static_cast<size_t>(n);
  }
  ::close(fd);
}

}  // namespace rotor::fuzz
