// Files a run writes into its output directory.
//
//   run.json       the settings of the run (written first)
//   metrics.jsonl  one JSON object per epoch, appended and flushed as it ends
//   model.rotor    the model file (atomically replaced)
//   summary.json   final accuracy and slope distribution
#pragma once

#include <string>

#include "engine/json.h"

namespace rotor {

// Creates `dir` if needed. An existing run there (metrics.jsonl) is an error
// unless `replace` is set, so a new run never silently destroys an old one.
void prepare_run_dir(const std::string& dir, bool replace);

// Writes `value` (pretty-printed) to a temporary file and renames it over `path`.
void write_json_file(const std::string& path, const Json& value);
Json read_json_file(const std::string& path);
// Appends one compact line and flushes it to disk.
void append_json_line(const std::string& path, const Json& value);

}  // namespace rotor
