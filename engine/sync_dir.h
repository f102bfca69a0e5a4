// Making a rename durable. An atomic write (a temporary file, fsync, rename
// over the target) is only half done when rename returns: the new name lives
// in the directory, and until the directory itself is flushed a crash can
// bring back the old file, or none. Every atomic writer (model and checkpoint
// files, run.json, summary.json, prune.json) calls this after its rename.
#pragma once

#include <string>

namespace rotor {

// fsyncs the directory that holds `path`; throws naming it on failure.
void sync_parent_directory(const std::string& path);

}  // namespace rotor
