// The version of rotor (CMake's project version) and the git commit it was
// configured from ("unknown" outside a git checkout; "-dirty" when tracked
// files differed from that commit at configure time). Written into run.json
// and printed by `rotor --version`.
#pragma once

namespace rotor {

const char* rotor_version();
const char* rotor_commit();

}  // namespace rotor
