#include "engine/sync_dir.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

#include "engine/error.h"

namespace rotor {

void sync_parent_directory(const std::string& path) {
  const std::string parent = std::filesystem::path(path).parent_path().string();
  const int dir = ::open(parent.empty() ? "." : parent.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  ROTOR_CHECK(dir >= 0, "cannot open the directory of {} to flush it: {}", path, std::strerror(errno));
  const bool synced = ::fsync(dir) == 0;
  const int err = errno;
  ::close(dir);
  ROTOR_CHECK(synced, "cannot flush the directory of {}: {}", path, std::strerror(err));
}

}  // namespace rotor
