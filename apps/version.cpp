#include "apps/version.h"

namespace rotor {

// Both come from apps/CMakeLists.txt (configure time).
const char* rotor_version() { return ROTOR_VERSION_STRING; }
const char* rotor_commit() { return ROTOR_GIT_COMMIT; }

}  // namespace rotor
