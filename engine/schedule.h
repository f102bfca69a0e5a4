// Learning-rate schedules, evaluated per optimizer step.
//
//   constant   lr
//   multistep  lr * gamma^(milestones passed); milestones in epochs, by
//              default 50% and 75% of the run (the paper's /10 steps)
//   cosine     lr * (1 + cos(pi * t / T)) / 2 after an optional linear warm-up
//   onecycle   PyTorch's OneCycleLR (cosine annealing, two phases): from
//              lr/div_factor up to lr over the first `warmup` fraction of
//              the steps, then down to lr/(div_factor*final_div_factor)
//
// All but constant depend on the run's total length (T, or the default
// milestones), so the length is saved with a run and a resumed run keeps it.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace rotor {

struct ScheduleConfig {
  enum class Kind { constant, multistep, cosine, onecycle } kind = Kind::constant;
  double lr = 0.1;
  std::vector<double> milestones;  // multistep, in epochs; empty = 50% and 75% of the epochs
  double gamma = 0.1;              // multistep factor
  double warmup = 0;               // cosine: warm-up fraction; onecycle: rising fraction (0 -> 0.15)
  double div_factor = 25, final_div_factor = 1e4;  // onecycle
};

ScheduleConfig::Kind parse_schedule_kind(const std::string& name);
const char* schedule_kind_name(ScheduleConfig::Kind kind);

// Learning rate of optimizer step `step` (0-based) in a run of `epochs`
// epochs of `steps_per_epoch` steps.
double learning_rate(const ScheduleConfig& c, int64_t step, int64_t steps_per_epoch, int64_t epochs);

}  // namespace rotor
