// Files a run writes into its output directory.
//
//   run.json       the settings of the run and its random run_id (written first)
//   metrics.jsonl  one JSON object per epoch, appended and flushed as it ends
//   model.rotor    the model file (atomically replaced)
//   summary.json   final accuracy and slope distribution
#pragma once

#include <string>

#include "engine/json.h"

namespace rotor {

// Whether `dir` holds a run (run.json, metrics.jsonl or checkpoint.rotor).
bool holds_run(const std::string& dir);
// Throws, touching nothing, unless `dir` can take a new run: it is a
// directory or can be created, and holds no run unless `replace` is set.
void check_run_dir(const std::string& dir, bool replace);
// Makes `dir` ready for a new run, once everything else has been checked.
// A run already there is never deleted: the whole directory is renamed to
// the first free DIR.previous-N and `dir` made anew; returns that name ("" when
// there was no run).
std::string prepare_run_dir(const std::string& dir, bool replace);

// Writes `value` (pretty-printed) to a temporary file and renames it over `path`.
void write_json_file(const std::string& path, const Json& value);
Json read_json_file(const std::string& path);
// Writes `text` to a temporary file, syncs it and renames it over `path`.
void write_text_file(const std::string& path, const std::string& text);
// Appends one compact line and syncs it to disk. A write that fails part
// way (a full disk) is undone, so no torn line is left, and the error names
// the file and the failing call's reason.
void append_json_line(const std::string& path, const Json& value);

}  // namespace rotor
