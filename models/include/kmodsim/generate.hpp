// Random small scenarios for property tests and fuzzing: one generator, shared by every
// randomized test (hardening, validation). Pure: a scenario is a function of (base, seed).
#pragma once

#include "kmodsim/config.hpp"

#include <cstdint>

namespace kmodsim {

struct GenSpec {
  int max_cores = 300;
  int max_modules = 40;
  int max_uevents = 60;
};

/// A random scenario built on `base`, whose kernel pipeline and calibration it keeps: the
/// machine (cores 1..max_cores, log-uniform; every CPU model; slice; disk), the kernel's knobs
/// (preemption, mutex discipline, spinning, wake-up latency), a random workload (a dependency
/// DAG, features, init costs, uevents with duplicates and unmatched aliases), udev's children
/// limit and the variability. Every number stays inside the documented ranges (limits.hpp).
Scenario random_scenario(const Scenario& base, std::uint64_t seed, const GenSpec& spec = {});

} // namespace kmodsim
