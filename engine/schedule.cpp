#include "engine/schedule.h"

#include <algorithm>
#include <cmath>

#include "engine/error.h"

namespace rotor {

ScheduleConfig::Kind parse_schedule_kind(const std::string& name) {
  using K = ScheduleConfig::Kind;
  if (name == "constant") return K::constant;
  if (name == "multistep") return K::multistep;
  if (name == "cosine") return K::cosine;
  if (name == "onecycle") return K::onecycle;
  fail("unknown schedule '{}': expected constant, multistep, cosine or onecycle", name);
}

const char* schedule_kind_name(ScheduleConfig::Kind kind) {
  switch (kind) {
    case ScheduleConfig::Kind::constant: return "constant";
    case ScheduleConfig::Kind::multistep: return "multistep";
    case ScheduleConfig::Kind::cosine: return "cosine";
    case ScheduleConfig::Kind::onecycle: return "onecycle";
  }
  return "?";
}

static double cos_anneal(double from, double to, double pct) {
  return to + (from - to) / 2.0 * (1.0 + std::cos(M_PI * pct));
}

double learning_rate(const ScheduleConfig& c, int64_t step, int64_t steps_per_epoch, int64_t epochs) {
  const int64_t total = steps_per_epoch * epochs;
  ROTOR_CHECK(total > 0, "learning-rate schedule of an empty run");
  switch (c.kind) {
    case ScheduleConfig::Kind::constant: return c.lr;
    case ScheduleConfig::Kind::multistep: {
      std::vector<double> ms = c.milestones;
      if (ms.empty()) ms = {0.5 * static_cast<double>(epochs), 0.75 * static_cast<double>(epochs)};
      const double epoch = static_cast<double>(step / steps_per_epoch);
      double lr = c.lr;
      for (double m : ms)
        if (epoch >= m) lr *= c.gamma;
      return lr;
    }
    case ScheduleConfig::Kind::cosine: {
      const double warm = std::floor(c.warmup * static_cast<double>(total));
      if (step < warm) return c.lr * static_cast<double>(step + 1) / warm;
      return cos_anneal(c.lr, 0.0, (static_cast<double>(step) - warm) / (static_cast<double>(total) - warm));
    }
    case ScheduleConfig::Kind::onecycle: {
      const double pct_start = c.warmup > 0 ? c.warmup : 0.15;
      const double initial = c.lr / c.div_factor, final_lr = initial / c.final_div_factor;
      // end1: the step where the rate peaks. When the rising phase is at most
      // one step (pct_start * total <= 1), the run starts at the peak: t / end1
      // would be 0/0 (PyTorch divides by zero there too).
      const double end1 = std::max(0.0, pct_start * static_cast<double>(total) - 1);
      const double end2 = static_cast<double>(total) - 1;
      const double t = static_cast<double>(step);
      if (t <= end1) return end1 > 0 ? cos_anneal(initial, c.lr, t / end1) : c.lr;
      return cos_anneal(c.lr, final_lr, (t - end1) / (end2 - end1));  // t > end1 implies end2 > end1
    }
  }
  return c.lr;
}

}  // namespace rotor
