#include "kmodsim/generate.hpp"

#include "kmodsim/rng.hpp"

#include <algorithm>
#include <cmath>
#include <set>
#include <string>

namespace kmodsim {
namespace {

/// A stream of draws: draw k of stream s is uniform01(seed, s, k, 0).
class Draw {
public:
  explicit Draw(std::uint64_t seed) : seed_(seed) {}
  double u() { return uniform01(seed_, 0x6e6, n_++, 0); }
  double range(double lo, double hi) { return lo + (hi - lo) * u(); }
  double log_range(double lo, double hi) { return std::exp(range(std::log(lo), std::log(hi))); }
  long long integer(long long lo, long long hi) { // inclusive
    return std::min(hi, lo + static_cast<long long>(u() * static_cast<double>(hi - lo + 1)));
  }
  bool chance(double p) { return u() < p; }
  /// Zero with probability p0, else log-uniform in [lo, hi].
  double maybe(double p0, double lo, double hi) { return chance(p0) ? 0.0 : log_range(lo, hi); }

private:
  std::uint64_t seed_;
  std::uint64_t n_ = 0;
};

} // namespace

Scenario random_scenario(const Scenario& base, std::uint64_t seed, const GenSpec& spec) {
  Draw d(seed);
  Scenario s = base;
  s.name = "random-" + std::to_string(seed);
  s.seed = seed;

  Machine& m = s.machine;
  m.cores = static_cast<int>(std::lround(d.log_range(1, spec.max_cores)));
  m.speed = d.log_range(0.25, 4);
  const SchedulerModel models[] = {SchedulerModel::processor_sharing, SchedulerModel::time_slice,
                                   SchedulerModel::run_to_block};
  m.scheduler.model = models[d.integer(0, 2)];
  m.scheduler.slice_ms = d.log_range(0.1, 20);
  const SliceScaling scalings[] = {SliceScaling::none, SliceScaling::log, SliceScaling::log_capped};
  m.scheduler.slice_scaling = scalings[d.integer(0, 2)];
  m.disk.read_mbps = d.maybe(0.3, 5, 500);
  m.disk.latency_ms = d.maybe(0.5, 0.01, 10);

  Kernel& k = s.kernel;
  k.preemption = d.chance(0.5) ? Preemption::voluntary : Preemption::full;
  k.mutex.adaptive_spin = d.chance(0.3);
  k.mutex.handoff = d.chance(0.3);
  k.mutex.wakeup_us = d.maybe(0.5, 0.5, 100);

  Workload& w = s.workload;
  w.name = "random";
  w.modules.clear();
  w.uevents.clear();
  w.kernel_exports = d.integer(0, 20000);
  w.index_modules = d.chance(0.5) ? 0 : d.integer(1, 3000);
  const auto n = static_cast<size_t>(d.integer(1, spec.max_modules));
  for (size_t i = 0; i < n; ++i) {
    Module mod;
    mod.name = "m" + std::to_string(i);
    mod.size_kb = d.log_range(1, 4000);
    mod.init_kb = mod.size_kb * d.range(0, 0.3);
    mod.file_kb = d.chance(0.3) ? 0.0 : mod.size_kb * d.range(1, 1.5);
    mod.undef_symbols = d.integer(0, 400);
    mod.relocations = d.integer(0, 20000);
    mod.exports = d.chance(0.5) ? 0 : d.integer(1, 300);
    mod.percpu_kb = d.chance(0.8) ? 0.0 : d.range(0.1, 16);
    // dependencies: up to 3 earlier modules (a DAG), transitive closure as modules.dep lists it
    std::set<size_t> deps;
    if (i > 0)
      for (long long j = d.integer(0, std::min<long long>(3, static_cast<long long>(i))); j > 0; --j) {
        const auto dep = static_cast<size_t>(d.integer(0, static_cast<long long>(i) - 1));
        deps.insert(dep);
        for (const auto& dd : w.modules[dep].deps)
          deps.insert(static_cast<size_t>(std::stoul(dd.substr(1))));
      }
    for (size_t dep : deps)
      mod.deps.push_back("m" + std::to_string(dep));
    mod.dep_symbols = deps.empty() ? 0 : d.integer(0, mod.undef_symbols);
    mod.init.cpu_us = d.maybe(0.2, 1, 20000);
    mod.init.wait_ms = d.maybe(0.6, 0.01, 100);
    w.modules.push_back(std::move(mod));
  }
  const auto nev = static_cast<size_t>(d.integer(1, spec.max_uevents));
  for (size_t e = 0; e < nev; ++e) {
    Uevent u;
    u.device = "dev" + std::to_string(e);
    if (!d.chance(0.15)) // unmatched aliases still start a modprobe
      u.module = w.modules[static_cast<size_t>(d.integer(0, static_cast<long long>(n) - 1))].name;
    w.uevents.push_back(std::move(u));
  }

  s.userspace.udev.children_max = static_cast<int>(d.chance(0.3) ? d.integer(1, 8) : 64);
  s.variability.cost_cv = d.chance(0.5) ? 0.0 : d.range(0, 0.5);
  s.variability.init_wait_cv = d.chance(0.5) ? 0.0 : d.range(0, 0.5);
  s.variability.shuffle_uevents = d.chance(0.5);
  s.outputs.timeline = true;
  return s;
}

} // namespace kmodsim
