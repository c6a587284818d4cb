// Analytical cross-checks printed next to runs (DOMAIN.md section 5). Not the model: a
// simulated makespan below lower_bound() is a model bug.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <vector>

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

// --- exact Mean Value Analysis of a closed single-class product-form network (docs/analytic.md) ---

/// queue: one load-independent server (FCFS with exponential service, or PS); multi: `servers`
/// identical servers, rate min(j, servers) / demand with j customers present (a C-core CPU);
/// delay: infinite server (think time), R = demand.
enum class StationKind { queue, multi, delay };

/// One station; demand_s = visits x service time per cycle (seconds). servers: multi only
/// (a queue must have 1; a delay ignores it).
struct Station {
  std::string name;
  StationKind kind = StationKind::queue;
  double demand_s = 0.0;
  int servers = 1;
};

/// One station's metrics at population n.
struct MvaStation {
  std::string name;
  double utilization = 0.0;  ///< per server: X D / servers (queue, multi); 0 for a delay
  double queue_length = 0.0; ///< mean customers there, waiting and served (thinking, for a delay)
  double residence_s = 0.0;  ///< time per cycle there, R = Q / X (D for a delay)
  /// multi only, mva() only: p[j] = P(j customers there), j < min(servers, n + 1); values
  /// below 1e-280 are reported as 0
  std::vector<double> p;
  double p_all_busy = 0.0; ///< multi only: P(j >= servers) (0 when servers > n)
};

/// The network at population n.
struct MvaResult {
  std::size_t n = 0;
  double throughput = 0.0; ///< X, cycles per second
  double response_s = 0.0; ///< sum of the non-delay residence times = n / X - Z
  std::vector<MvaStation> stations; ///< in the order given
};

/// Exact MVA at population n (Reiser & Lavenberg 1980; multi stations exactly, through
/// load-dependent marginals computed in a cancellation-free form: see docs/analytic.md).
/// Cost O(n x sum of min(servers, n + 1)) per multi station. Throws std::invalid_argument on a
/// negative or non-finite demand, servers < 1 (or != 1 for a queue), no station, or a network
/// whose demands are all zero.
MvaResult mva(const std::vector<Station>& stations, std::size_t n);

/// The same for every population 1..n (element i is population i + 1), without the marginals p.
std::vector<MvaResult> mva_all(const std::vector<Station>& stations, std::size_t n);

// --- Amdahl's law with critical sections (Eyerman & Eeckhout, ISCA 2010) --------------------

/// Execution time on `cores` cores, in units of the one-core time's fractions: f_seq sequential,
/// f_par_ncs parallel outside critical sections, f_par_cs parallel inside them, p_ctn the
/// probability that a critical section contends:
///   T = f_seq + f_par_cs p_ctn + (f_par_ncs + f_par_cs (1 - p_ctn)) / cores.
/// T(1) = f_seq + f_par_ncs + f_par_cs. Throws std::invalid_argument on a negative or non-finite
/// fraction, p_ctn outside [0, 1], cores < 1 or all fractions zero.
double amdahl_cs_time(double f_seq, double f_par_ncs, double f_par_cs, double p_ctn, int cores);

/// Speedup T(1) / T(cores) of amdahl_cs_time().
double amdahl_cs_speedup(double f_seq, double f_par_ncs, double f_par_cs, double p_ctn, int cores);

// --- Universal Scalability Law (Gunther) ------------------------------------------------------

/// Relative capacity C(N) = N / (1 + alpha (N - 1) + beta N (N - 1)); alpha: contention,
/// beta: coherency. Throws std::invalid_argument on N < 1 or a negative or non-finite alpha, beta.
double usl_capacity(double n, double alpha, double beta);

/// N at which usl_capacity() peaks, max(1, sqrt((1 - alpha) / beta)); 1 when alpha >= 1,
/// +infinity when beta = 0 and alpha < 1. Throws std::invalid_argument like usl_capacity().
double usl_peak_n(double alpha, double beta);

/// A simulated figure against a measured one (replay --compare): (simulated - measured) / measured,
/// rounded to 1e-6; none when only the measured figure is 0 (no relative error exists), 0 when
/// both are.
std::optional<double> relative_error(double simulated, double measured);

} // namespace kmodsim
