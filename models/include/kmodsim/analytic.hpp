// Analytical cross-checks printed next to runs (DOMAIN.md section 5). Not the model: a
// simulated makespan below lower_bound() is a model bug.
#pragma once

#include <cstddef>

namespace kmodsim {

/// makespan >= max(total locked work, total CPU work / cores, longest dependency chain).
double makespan_lower_bound(double locked_work_s, double cpu_work_s, int cores, double chain_s);

/// Finite-source single-server queue (machine repairman, M/M/1//N): N loaders each think Z
/// (work outside the lock), then hold the lock S.
struct FiniteSource {
  double p0 = 1.0;          ///< probability the lock is free
  double utilization = 0.0; ///< U = 1 - P0
  double throughput = 0.0;  ///< X = U / S (acquisitions per second)
  double response = 0.0;    ///< R = N / X - Z (wait + hold per acquisition)
  double saturation_n = 0.0; ///< N* = (S + Z) / S
};
FiniteSource finite_source(std::size_t n, double s, double z);

} // namespace kmodsim
