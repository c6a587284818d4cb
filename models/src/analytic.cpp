#include "kmodsim/analytic.hpp"

#include <algorithm>

namespace kmodsim {

double makespan_lower_bound(double locked_work_s, double cpu_work_s, int cores, double chain_s) {
  return std::max({locked_work_s, cpu_work_s / std::max(cores, 1), chain_s});
}

FiniteSource finite_source(std::size_t n, double s, double z) {
  FiniteSource r;
  if (n == 0 || s <= 0)
    return r;
  if (z <= 0) { // no think time: the lock is always busy
    r.p0 = 0.0;
  } else {
    // sum_{k=0..N} N!/(N-k)! (S/Z)^k, accumulated term by term.
    double term = 1.0, sum = 1.0;
    for (std::size_t k = 1; k <= n; ++k) {
      term *= static_cast<double>(n - k + 1) * (s / z);
      sum += term;
    }
    r.p0 = 1.0 / sum;
  }
  r.utilization = 1.0 - r.p0;
  r.throughput = r.utilization / s;
  r.response = static_cast<double>(n) / r.throughput - z;
  r.saturation_n = (s + z) / s;
  return r;
}

} // namespace kmodsim
