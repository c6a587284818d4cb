// String forms of the config enums, and the "did you mean" helper.
#include "kmodsim/config.hpp"

#include <algorithm>
#include <array>
#include <stdexcept>

namespace kmodsim {

const char* to_string(SchedulerModel m) {
  switch (m) {
  case SchedulerModel::processor_sharing:
    return "processor_sharing";
  case SchedulerModel::time_slice:
    return "time_slice";
  case SchedulerModel::run_to_block:
    return "run_to_block";
  }
  return "?";
}

const char* to_string(SliceScaling s) {
  switch (s) {
  case SliceScaling::none:
    return "none";
  case SliceScaling::log:
    return "log";
  case SliceScaling::log_capped:
    return "log_capped";
  }
  return "?";
}

namespace {
constexpr std::array<const char*, 16> kFeatureNames = {
    "constant",    "size_kb", "core_kb",   "init_kb",        "file_kb",        "undef_symbols", "dep_symbols",
    "relocations", "exports", "percpu_kb", "symtab_entries", "loaded_modules", "cpus",          "log2_symtab_entries", "decompressed_kb", "image_kb"};
}

const char* to_string(Feature f) { return kFeatureNames.at(static_cast<size_t>(f)); }

std::vector<std::string> feature_names() { return {kFeatureNames.begin(), kFeatureNames.end()}; }

Feature feature_from_string(const std::string& s) {
  for (size_t i = 0; i < kFeatureNames.size(); ++i)
    if (s == kFeatureNames[i])
      return static_cast<Feature>(i);
  throw std::invalid_argument("unknown feature");
}

const char* to_string(LockKind k) {
  switch (k) {
  case LockKind::none:
    return "none";
  case LockKind::module_mutex:
    return "module_mutex";
  case LockKind::preempt_off:
    return "preempt_off";
  case LockKind::named:
    return "named";
  }
  return "?";
}

const std::string& Kernel::lock_name(std::size_t id) const {
  static const std::string module_mutex = "module_mutex";
  return id == 0 ? module_mutex : locks.at(id - 1).name;
}

const char* to_string(Repeat r) {
  switch (r) {
  case Repeat::once:
    return "once";
  case Repeat::per_undef_symbol:
    return "per_undef_symbol";
  case Repeat::per_export:
    return "per_export";
  case Repeat::per_cpu:
    return "per_cpu";
  }
  return "?";
}

const char* to_string(Effect e) {
  switch (e) {
  case Effect::none:
    return "none";
  case Effect::duplicate_check:
    return "duplicate_check";
  case Effect::sysfs_claim:
    return "sysfs_claim";
  case Effect::resolve_symbol:
    return "resolve_symbol";
  case Effect::verify_exports:
    return "verify_exports";
  case Effect::list_add:
    return "list_add";
  case Effect::init:
    return "init";
  case Effect::live:
    return "live";
  case Effect::add_unformed:
    return "add_unformed";
  case Effect::idempotent:
    return "idempotent";
  case Effect::vmap_purge:
    return "vmap_purge";
  }
  return "?";
}

const char* to_string(Preemption p) { return p == Preemption::voluntary ? "voluntary" : "full"; }
const char* to_string(LoadedCheck c) {
  return c == LoadedCheck::proc_modules ? "proc_modules" : c == LoadedCheck::sysfs ? "sysfs" : "kmod";
}
const char* to_string(ModprobeIndex i) { return i == ModprobeIndex::text ? "text" : "binary"; }
const char* to_string(CostNoise n) { return n == CostNoise::per_load ? "per_load" : "per_step"; }
const char* to_string(CostDistribution d) { return d == CostDistribution::lognormal ? "lognormal" : "exponential"; }

std::string did_you_mean(const std::string& key, const std::vector<std::string>& candidates) {
  std::string best;
  size_t best_d = 4; // accept distance <= 3
  for (const auto& c : candidates) {
    std::vector<size_t> prev(c.size() + 1), cur(c.size() + 1);
    for (size_t j = 0; j <= c.size(); ++j)
      prev[j] = j;
    for (size_t i = 1; i <= key.size(); ++i) {
      cur[0] = i;
      for (size_t j = 1; j <= c.size(); ++j)
        cur[j] = std::min({prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (key[i - 1] == c[j - 1] ? 0 : 1)});
      std::swap(prev, cur);
    }
    if (prev[c.size()] < best_d) {
      best_d = prev[c.size()];
      best = c;
    }
  }
  return best;
}

} // namespace kmodsim
