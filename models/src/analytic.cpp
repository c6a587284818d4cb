#include "kmodsim/analytic.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <stdexcept>

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

// ============================================================================================
// Exact MVA. The network is built up as a flow-equivalent chain (Chandy, Herzog & Woo 1975):
// start from the delay (normalization constant a(n) = Z^n / n!), then add one queueing station
// at a time; adding station k to a subnetwork A gives c(n) = sum_j f_k(j) a(n - j) with
// f_k(j) = prod_{i<=j} D / min(i, m). Everything is carried as ratios and probabilities, never
// as the constants themselves (they overflow):
//   rho(n) = c(n) / c(n - 1) = 1 / X_sub(n)      (X_sub: the subnetwork's throughput)
//   q(j|n) = f_k(j) a(n - j) / c(n)              (P(j customers at k) in the subnetwork)
// and from population n - 1 to n, with u(j) = f_k(j) a(n - j) / c(n - 1):
//   u(0)   = rho_A(n) q(0|n-1)
//   u(j)   = D / j q(j-1|n-1)                        1 <= j < m
//   u(>=m) = D / m (q(m-1|n-1) + q(>=m|n-1))         (f_k is geometric beyond m)
//   rho_C(n) = sum u,  q(.|n) = u / rho_C(n).
// All terms are positive: no p(0) = 1 - sum, hence no cancellation. Entries too small for a
// double (q(0|n) ~ e^-1000 when a CPU holds ~1000 customers) are kept as log weights per
// diagonal n - j, since q(j|n) descends from q(0|n-j) (see Stage). The station added last has
// the whole network as its complement, so its q are the exact network marginals p_k(j|n) of the
// load-dependent MVA (Lazowska et al. 1984 ch. 8), and 1 / rho of the last stage is X(n).
// Each multi station is put last in one pass of its own; queue and delay stations follow from
// X(n) through the ordinary MVA recursion Q(n) = X(n) D (1 + Q(n - 1)), Q = X Z.
// ============================================================================================

namespace {

// Entries below this are not carried in linear form (they cannot change any double result), but
// stay exactly recoverable from their diagonal's log weight: an entry at (j, n) descends from
// q(0|n-j) and can grow by e^700 and more on its way up the diagonal (a CPU holding ~1000
// customers has p(0) ~ e^-1000), so it must not be lost, only set aside.
constexpr double kTiny = 1e-280;

// Sums with four accumulators: the loop-carried add chain, not the memory, bounds these loops.
double sum_of(const double* p, std::size_t count) {
  double a0 = 0.0, a1 = 0.0, a2 = 0.0, a3 = 0.0;
  std::size_t i = 0;
  for (; i + 4 <= count; i += 4) {
    a0 += p[i];
    a1 += p[i + 1];
    a2 += p[i + 2];
    a3 += p[i + 3];
  }
  for (; i < count; ++i)
    a0 += p[i];
  return (a0 + a1) + (a2 + a3);
}

double dot_of(const double* p, const double* c, std::size_t count) {
  double a0 = 0.0, a1 = 0.0, a2 = 0.0, a3 = 0.0;
  std::size_t i = 0;
  for (; i + 4 <= count; i += 4) {
    a0 += p[i] * c[i];
    a1 += p[i + 1] * c[i + 1];
    a2 += p[i + 2] * c[i + 2];
    a3 += p[i + 3] * c[i + 3];
  }
  for (; i < count; ++i)
    a0 += p[i] * c[i];
  return (a0 + a1) + (a2 + a3);
}

struct Stage {
  double d = 0.0;          // demand
  std::size_t servers = 1;
  double m = 1.0;          // servers, as a double
  bool tail = false;       // servers <= n_max: q_tail = P(j >= m) is kept
  std::vector<double> q;   // q[j|n], j < size = min(m, n_max + 1); 0 outside the window
  std::vector<double> d_over_j;
  std::vector<double> idle; // m - 1 - j for j <= m - 2, else 0
  double q_tail = 0.0;
  // The window [lo, hi] holds the entries >= kTiny (q is unimodal: log-concave in j).
  bool window = true;
  std::size_t lo = 0, hi = 0;
  // Log weights: log q(j|n) = w[(n - j) % size] + f[j] - lam, with f[j] = log(D^j / j!) (j < m),
  // lam = sum_{i<=n} log rho(i), w[d] = log q(0|d) + lam(d). long double: lam reaches ~1e6.
  std::vector<long double> f, w;
  long double lam = 0.0L, log_q0 = 0.0L;
  std::size_t n = 0;

  Stage(double demand, std::size_t servers_, std::size_t n_max)
      : d(demand), servers(servers_), m(static_cast<double>(servers_)), tail(servers_ <= n_max) {
    const std::size_t size = tail ? servers_ : n_max + 1;
    q.assign(size, 0.0);
    q[0] = 1.0;
    d_over_j.assign(size, 0.0);
    idle.assign(size, 0.0);
    f.assign(size, 0.0L);
    w.assign(size, 0.0L);
    for (std::size_t j = 0; j < size; ++j) {
      if (j + 2 <= servers)
        idle[j] = m - 1.0 - static_cast<double>(j);
      if (j == 0)
        continue;
      d_over_j[j] = d / static_cast<double>(j);
      f[j] = f[j - 1] + static_cast<long double>(std::log(d_over_j[j]));
    }
  }

  /// sum_{j=0}^{m-2} (m - 1 - j) q[j]: the idle-server term of the multi-server MVA residence
  /// time R(n) = D / m (1 + Q(n-1) + sum_{j<=m-2} (m - 1 - j) p(j|n-1)).
  double idle_weight() const {
    return window ? dot_of(&q[lo], &idle[lo], hi - lo + 1) : 0.0;
  }

  /// q(j|n) of an entry outside the window, from its diagonal's log weight (0 when < kTiny).
  double implicit(std::size_t j) const {
    static const double log_tiny = std::log(kTiny);
    if (j > n)
      return 0.0; // more customers than the population
    const double lq = static_cast<double>(w[(n - j) % w.size()] + f[j] - lam);
    return lq < log_tiny ? 0.0 : std::exp(lq);
  }

  /// Population n - 1 -> n given rho_in = a(n) / a(n - 1) of the subnetwork before this stage;
  /// returns rho_out = c(n) / c(n - 1).
  double step(double rho_in) {
    ++n;
    const std::size_t last = q.size() - 1;
    const double ut = tail ? d / m * (q[last] + q_tail) : 0.0; // q[last] is 0 off the window
    double sum = ut;
    if (window) {
      // u(j) = D / j q(j-1), top down so that q[j-1] is still the old value
      const std::size_t new_hi = std::min(hi + 1, last);
      for (std::size_t j = new_hi; j > lo; --j)
        q[j] = d_over_j[j] * q[j - 1];
      if (lo == 0) {
        q[0] *= rho_in; // u(0) = rho_A q(0|n-1)
      } else {
        q[lo] = 0.0; // now q(lo|n): set aside, it came from below the window
        ++lo;
      }
      hi = new_hi;
      window = lo <= hi;
      if (window)
        sum += sum_of(&q[lo], hi - lo + 1);
    }
    const double inv = 1.0 / sum;
    if (window)
      for (std::size_t j = lo; j <= hi; ++j)
        q[j] *= inv;
    q_tail = ut * inv;
    const double log_sum = std::log(sum);
    lam += static_cast<long double>(log_sum);
    log_q0 += static_cast<long double>(std::log(rho_in)) - static_cast<long double>(log_sum);
    w[n % w.size()] = log_q0 + lam;

    // shrink the window to its entries >= kTiny ...
    while (window && q[lo] < kTiny) {
      q[lo] = 0.0;
      if (lo == hi)
        window = false;
      else
        ++lo;
    }
    while (window && q[hi] < kTiny) {
      q[hi] = 0.0;
      --hi; // lo < hi here: the loop above left q[lo] >= kTiny
    }
    // ... and grow it by the entries set aside that have become significant. With no window
    // the mass is in the tail and, q being unimodal, the largest entry is the last one.
    if (!window) {
      const double v = implicit(last);
      if (v >= kTiny) {
        q[last] = v;
        lo = hi = last;
        window = true;
      }
    }
    if (window) {
      while (lo > 0) {
        const double v = implicit(lo - 1);
        if (v < kTiny)
          break;
        q[--lo] = v;
      }
      while (hi < last) {
        const double v = implicit(hi + 1);
        if (v < kTiny)
          break;
        q[++hi] = v;
      }
    }
    return sum;
  }
};

void check_stations(const std::vector<Station>& stations) {
  if (stations.empty())
    throw std::invalid_argument("mva: the network has no station");
  double total = 0.0;
  for (const Station& s : stations) {
    if (!std::isfinite(s.demand_s) || s.demand_s < 0.0)
      throw std::invalid_argument("mva: station '" + s.name + "': demand must be finite and >= 0");
    if (s.kind != StationKind::delay && s.servers < 1)
      throw std::invalid_argument("mva: station '" + s.name + "': servers must be >= 1");
    if (s.kind == StationKind::queue && s.servers != 1)
      throw std::invalid_argument("mva: station '" + s.name + "': a queue has 1 server (use multi)");
    total += s.demand_s;
  }
  if (!(total > 0.0) || !std::isfinite(total))
    throw std::invalid_argument("mva: every demand is zero (unbounded throughput)");
}

// Per-population outputs of the solver, for populations 1..n (index n - 1) or the last only.
struct Solution {
  std::vector<double> x;              // throughput
  std::vector<std::vector<double>> q; // q[station][n - 1]: queue length (residence = Q / X)
  std::vector<std::vector<double>> r; // residence time
  std::vector<MvaStation> last_marginals; // p and p_all_busy of the multi stations at n
};

Solution solve(const std::vector<Station>& st, std::size_t n, bool keep_all) {
  check_stations(st);
  const std::size_t k = st.size();
  const std::size_t rows = keep_all ? n : std::min<std::size_t>(n, 1);
  Solution sol;
  sol.x.assign(rows, 0.0);
  sol.q.assign(k, std::vector<double>(rows, 0.0));
  sol.r.assign(k, std::vector<double>(rows, 0.0));
  sol.last_marginals.resize(k);
  for (std::size_t i = 0; i < k; ++i)
    if (st[i].kind == StationKind::multi)
      sol.last_marginals[i].p = {1.0}; // at n = 0, or never visited: always empty
  if (n == 0)
    return sol;

  double z = 0.0;
  std::vector<std::size_t> queued, multis; // stations with a positive demand
  for (std::size_t i = 0; i < k; ++i) {
    if (st[i].kind == StationKind::delay)
      z += st[i].demand_s;
    else if (st[i].demand_s > 0.0)
      queued.push_back(i);
    if (st[i].kind == StationKind::multi && st[i].demand_s > 0.0)
      multis.push_back(i);
  }

  // One pass per multi station (it goes last); the first pass also does queue and delay
  // stations. With no multi station, one pass with no tracked stage.
  const std::size_t passes = std::max<std::size_t>(multis.size(), 1);
  for (std::size_t pass = 0; pass < passes; ++pass) {
    const bool tracked = !multis.empty();
    const std::size_t tracked_idx = tracked ? multis[pass] : k;
    std::vector<Stage> stages;
    stages.reserve(queued.size());
    for (std::size_t i : queued)
      if (i != tracked_idx)
        stages.emplace_back(st[i].demand_s, static_cast<std::size_t>(st[i].servers), n);
    if (tracked)
      stages.emplace_back(st[tracked_idx].demand_s, static_cast<std::size_t>(st[tracked_idx].servers), n);

    std::vector<double> q_prev(k, 0.0); // queue lengths at population p - 1
    for (std::size_t p = 1; p <= n; ++p) {
      // residence time of the tracked multi station, from its marginals at p - 1
      double r_tracked = 0.0;
      if (tracked) {
        const Stage& t = stages.back();
        r_tracked = t.d / t.m * (1.0 + q_prev[tracked_idx] + t.idle_weight());
      }
      double rho = z / static_cast<double>(p);
      for (Stage& s : stages)
        rho = s.step(rho);
      const double x = 1.0 / rho;
      const std::size_t row = keep_all ? p - 1 : 0;
      if (tracked) {
        q_prev[tracked_idx] = x * r_tracked;
        sol.q[tracked_idx][row] = q_prev[tracked_idx];
        sol.r[tracked_idx][row] = r_tracked;
      }
      if (pass != 0)
        continue;
      sol.x[row] = x;
      for (std::size_t i = 0; i < k; ++i) {
        if (st[i].kind == StationKind::multi)
          continue;
        double r = st[i].kind == StationKind::delay ? st[i].demand_s
                                                    : st[i].demand_s * (1.0 + q_prev[i]);
        q_prev[i] = x * r;
        sol.q[i][row] = q_prev[i];
        sol.r[i][row] = r;
      }
    }
    if (tracked) {
      const Stage& t = stages.back();
      MvaStation& ms = sol.last_marginals[tracked_idx];
      ms.p = t.q;
      ms.p_all_busy = t.tail ? t.q_tail : 0.0;
    }
  }
  return sol;
}

MvaResult result_at(const std::vector<Station>& st, const Solution& sol, std::size_t row,
                    std::size_t n) {
  MvaResult res;
  res.n = n;
  res.stations.resize(st.size());
  for (std::size_t i = 0; i < st.size(); ++i)
    res.stations[i].name = st[i].name;
  if (n == 0)
    return res;
  res.throughput = sol.x[row];
  for (std::size_t i = 0; i < st.size(); ++i) {
    MvaStation& ms = res.stations[i];
    ms.queue_length = sol.q[i][row];
    ms.residence_s = sol.r[i][row];
    if (st[i].kind != StationKind::delay) {
      ms.utilization = res.throughput * st[i].demand_s / static_cast<double>(st[i].servers);
      res.response_s += ms.residence_s;
    }
  }
  return res;
}

} // namespace

MvaResult mva(const std::vector<Station>& stations, std::size_t n) {
  Solution sol = solve(stations, n, false);
  MvaResult res = result_at(stations, sol, 0, n);
  for (std::size_t i = 0; i < stations.size(); ++i)
    if (stations[i].kind == StationKind::multi) {
      res.stations[i].p = std::move(sol.last_marginals[i].p);
      res.stations[i].p_all_busy = sol.last_marginals[i].p_all_busy;
    }
  return res;
}

std::vector<MvaResult> mva_all(const std::vector<Station>& stations, std::size_t n) {
  Solution sol = solve(stations, n, true);
  std::vector<MvaResult> out;
  out.reserve(n);
  for (std::size_t p = 1; p <= n; ++p)
    out.push_back(result_at(stations, sol, p - 1, p));
  return out;
}

// ============================================================================================

namespace {
void check_fraction(double v, const char* what) {
  if (!std::isfinite(v) || v < 0.0)
    throw std::invalid_argument(std::string("amdahl_cs: ") + what + " must be finite and >= 0");
}
} // namespace

double amdahl_cs_time(double f_seq, double f_par_ncs, double f_par_cs, double p_ctn, int cores) {
  check_fraction(f_seq, "f_seq");
  check_fraction(f_par_ncs, "f_par_ncs");
  check_fraction(f_par_cs, "f_par_cs");
  if (!(p_ctn >= 0.0 && p_ctn <= 1.0))
    throw std::invalid_argument("amdahl_cs: p_ctn must be in [0, 1]");
  if (cores < 1)
    throw std::invalid_argument("amdahl_cs: cores must be >= 1");
  if (!(f_seq + f_par_ncs + f_par_cs > 0.0))
    throw std::invalid_argument("amdahl_cs: the fractions are all zero");
  const double n = static_cast<double>(cores);
  return f_seq + f_par_cs * p_ctn + (f_par_ncs + f_par_cs * (1.0 - p_ctn)) / n;
}

double amdahl_cs_speedup(double f_seq, double f_par_ncs, double f_par_cs, double p_ctn, int cores) {
  return amdahl_cs_time(f_seq, f_par_ncs, f_par_cs, p_ctn, 1) /
         amdahl_cs_time(f_seq, f_par_ncs, f_par_cs, p_ctn, cores);
}

double usl_capacity(double n, double alpha, double beta) {
  if (!(n >= 1.0) || !std::isfinite(n))
    throw std::invalid_argument("usl_capacity: N must be finite and >= 1");
  if (!std::isfinite(alpha) || alpha < 0.0 || !std::isfinite(beta) || beta < 0.0)
    throw std::invalid_argument("usl_capacity: alpha and beta must be finite and >= 0");
  return n / (1.0 + alpha * (n - 1.0) + beta * n * (n - 1.0));
}

double usl_peak_n(double alpha, double beta) {
  if (!std::isfinite(alpha) || alpha < 0.0 || !std::isfinite(beta) || beta < 0.0)
    throw std::invalid_argument("usl_peak_n: alpha and beta must be finite and >= 0");
  if (alpha >= 1.0)
    return 1.0;
  if (beta == 0.0)
    return std::numeric_limits<double>::infinity();
  return std::max(1.0, std::sqrt((1.0 - alpha) / beta));
}

std::optional<double> relative_error(double simulated, double measured) {
  if (measured != 0)
    return std::round((simulated - measured) / measured * 1e6) / 1e6;
  if (simulated == 0)
    return 0.0;
  return std::nullopt;
}

} // namespace kmodsim
