#include <kmodsim/analytic.hpp>
#include <kmodsim/rng.hpp>

#include <Eigen/Dense>
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <iostream>
#include <limits>
#include <map>
#include <stdexcept>
#include <vector>

using namespace kmodsim;

TEST(Analytic, LowerBound) {
  EXPECT_DOUBLE_EQ(makespan_lower_bound(1.0, 6.0, 2, 0.5), 3.0);
  EXPECT_DOUBLE_EQ(makespan_lower_bound(4.0, 6.0, 2, 0.5), 4.0);
  EXPECT_DOUBLE_EQ(makespan_lower_bound(1.0, 6.0, 2, 5.0), 5.0);
}

TEST(Analytic, FiniteSourceMatchesHandComputation) {
  // N = 2, S = 1, Z = 1: sum = 1 + 2 + 2 = 5 -> P0 = 0.2, U = 0.8, X = 0.8, R = 2/0.8 - 1 = 1.5
  auto r = finite_source(2, 1.0, 1.0);
  EXPECT_NEAR(r.p0, 0.2, 1e-12);
  EXPECT_NEAR(r.utilization, 0.8, 1e-12);
  EXPECT_NEAR(r.throughput, 0.8, 1e-12);
  EXPECT_NEAR(r.response, 1.5, 1e-12);
  EXPECT_NEAR(r.saturation_n, 2.0, 1e-12);
  // N = 1: no queueing, R = S
  EXPECT_NEAR(finite_source(1, 0.3, 2.0).response, 0.3, 1e-12);
}

TEST(Rng, PureAndDeterministic) {
  EXPECT_EQ(uniform01(1, 2, 3, 4), uniform01(1, 2, 3, 4));
  EXPECT_NE(uniform01(1, 2, 3, 4), uniform01(2, 2, 3, 4));
  EXPECT_DOUBLE_EQ(lognormal_factor(0.0, 1, 1, 1, 1), 1.0);
}

TEST(Rng, LognormalHasMeanOneAndTheRequestedCv) {
  const double cv = 0.3;
  double s = 0, s2 = 0;
  const int n = 200000;
  for (int i = 0; i < n; ++i) {
    double x = lognormal_factor(cv, 42, 1, static_cast<std::uint64_t>(i), 0);
    s += x;
    s2 += x * x;
  }
  double mean = s / n, sd = std::sqrt(s2 / n - mean * mean);
  EXPECT_NEAR(mean, 1.0, 0.01);
  EXPECT_NEAR(sd / mean, cv, 0.01);
}

TEST(Rng, PermutationIsAPermutation) {
  auto p = permutation(100, 7, 3);
  std::vector<int> seen(100, 0);
  for (size_t x : p)
    seen.at(x)++;
  for (int c : seen)
    EXPECT_EQ(c, 1);
  EXPECT_EQ(p, permutation(100, 7, 3));
  EXPECT_NE(p, permutation(100, 8, 3));
}

// ============================================================================================
// Exact MVA (docs/analytic.md)
// ============================================================================================

namespace {

Station queue_st(const char* name, double d) { return {name, StationKind::queue, d, 1}; }
Station multi_st(const char* name, double d, int m) { return {name, StationKind::multi, d, m}; }
Station delay_st(const char* name, double z) { return {name, StationKind::delay, z, 1}; }

double rel(double a, double b) { return std::abs(a - b) / std::max(std::abs(b), 1e-300); }

// Brute force: the CTMC of the closed network, stations visited in cycle 0 -> 1 -> ... -> 0,
// exponential service of mean demand_s (rate 1/D per busy server, n/Z at a delay), solved for
// its stationary distribution with Eigen.
struct Ctmc {
  double throughput = 0;
  std::vector<double> utilization; // per server (0 for a delay)
  std::vector<double> queue_length;
  std::vector<std::vector<double>> marginal; // marginal[i][j] = P(j customers at i)
};

void compositions(int n, int k, std::vector<int>& cur, std::vector<std::vector<int>>& out) {
  if (k == 1) {
    cur.push_back(n);
    out.push_back(cur);
    cur.pop_back();
    return;
  }
  for (int j = 0; j <= n; ++j) {
    cur.push_back(j);
    compositions(n - j, k - 1, cur, out);
    cur.pop_back();
  }
}

double busy(const Station& s, int j) {
  if (s.kind == StationKind::delay)
    return j;
  return std::min(j, s.kind == StationKind::queue ? 1 : s.servers);
}

Ctmc solve_ctmc(const std::vector<Station>& st, int n) {
  const int k = static_cast<int>(st.size());
  std::vector<std::vector<int>> states;
  std::vector<int> cur;
  compositions(n, k, cur, states);
  std::map<std::vector<int>, Eigen::Index> index;
  for (std::size_t i = 0; i < states.size(); ++i)
    index[states[i]] = static_cast<Eigen::Index>(i);
  const Eigen::Index ns = static_cast<Eigen::Index>(states.size());
  Eigen::MatrixXd q = Eigen::MatrixXd::Zero(ns, ns);
  for (Eigen::Index a = 0; a < ns; ++a) {
    const auto& s = states[static_cast<std::size_t>(a)];
    for (int i = 0; i < k; ++i) {
      if (s[static_cast<std::size_t>(i)] == 0)
        continue;
      double rate = busy(st[static_cast<std::size_t>(i)], s[static_cast<std::size_t>(i)]) /
                    st[static_cast<std::size_t>(i)].demand_s;
      auto t = s;
      t[static_cast<std::size_t>(i)]--;
      t[static_cast<std::size_t>((i + 1) % k)]++;
      q(a, index.at(t)) += rate;
      q(a, a) -= rate;
    }
  }
  // pi Q = 0, sum pi = 1: transpose, and replace the last equation by the normalization
  Eigen::MatrixXd a = q.transpose();
  a.row(ns - 1).setOnes();
  Eigen::VectorXd b = Eigen::VectorXd::Zero(ns);
  b(ns - 1) = 1.0;
  Eigen::VectorXd pi = a.fullPivLu().solve(b);

  Ctmc r;
  r.utilization.assign(st.size(), 0.0);
  r.queue_length.assign(st.size(), 0.0);
  r.marginal.assign(st.size(), std::vector<double>(static_cast<std::size_t>(n) + 1, 0.0));
  for (Eigen::Index a2 = 0; a2 < ns; ++a2) {
    const auto& s = states[static_cast<std::size_t>(a2)];
    const double p = pi(a2);
    r.throughput += p * busy(st[0], s[0]) / st[0].demand_s;
    for (std::size_t i = 0; i < st.size(); ++i) {
      r.queue_length[i] += p * s[i];
      r.marginal[i][static_cast<std::size_t>(s[i])] += p;
      if (st[i].kind != StationKind::delay)
        r.utilization[i] += p * busy(st[i], s[i]) / (st[i].kind == StationKind::multi ? st[i].servers : 1);
    }
  }
  return r;
}

void expect_matches_ctmc(const std::vector<Station>& st, int n) {
  SCOPED_TRACE("N = " + std::to_string(n));
  const Ctmc c = solve_ctmc(st, n);
  const MvaResult m = mva(st, static_cast<std::size_t>(n));
  EXPECT_NEAR(m.throughput, c.throughput, 1e-9 * c.throughput);
  double response = 0;
  for (std::size_t i = 0; i < st.size(); ++i) {
    SCOPED_TRACE(st[i].name);
    EXPECT_NEAR(m.stations[i].utilization, c.utilization[i], 1e-9);
    EXPECT_NEAR(m.stations[i].queue_length, c.queue_length[i], 1e-9);
    EXPECT_NEAR(m.stations[i].residence_s, c.queue_length[i] / c.throughput, 1e-9);
    if (st[i].kind != StationKind::delay)
      response += c.queue_length[i] / c.throughput;
    if (st[i].kind == StationKind::multi) {
      const auto& p = m.stations[i].p;
      ASSERT_EQ(p.size(), static_cast<std::size_t>(std::min(st[i].servers, n + 1)));
      double tail = 0;
      for (std::size_t j = 0; j <= static_cast<std::size_t>(n); ++j) {
        if (j < p.size())
          EXPECT_NEAR(p[j], c.marginal[i][j], 1e-9) << "j = " << j;
        else
          tail += c.marginal[i][j];
      }
      EXPECT_NEAR(m.stations[i].p_all_busy, tail, 1e-9);
    }
  }
  EXPECT_NEAR(m.response_s, response, 1e-9);
}

// Independent reference for large N: normalization constants by direct convolution in log
// space (O(N^2), long double), G = f_delay * f_lock * f_cpu.
struct LogRef {
  double throughput;
  std::vector<double> p_cpu; // P(j at the CPU), j = 0..N
};

std::vector<long double> log_f(const Station& s, std::size_t n) {
  std::vector<long double> f(n + 1, 0.0L);
  for (std::size_t j = 1; j <= n; ++j) {
    long double jj = static_cast<long double>(j);
    long double rate = s.kind == StationKind::delay ? jj
                       : s.kind == StationKind::queue ? 1.0L
                                                      : std::min(jj, static_cast<long double>(s.servers));
    f[j] = f[j - 1] + std::log(static_cast<long double>(s.demand_s) / rate);
  }
  return f;
}

std::vector<long double> log_conv(const std::vector<long double>& a, const std::vector<long double>& b) {
  std::vector<long double> c(a.size());
  std::vector<long double> t(a.size());
  for (std::size_t n = 0; n < a.size(); ++n) {
    long double mx = -std::numeric_limits<long double>::infinity();
    for (std::size_t j = 0; j <= n; ++j) {
      t[j] = a[j] + b[n - j];
      mx = std::max(mx, t[j]);
    }
    long double s = 0;
    for (std::size_t j = 0; j <= n; ++j)
      s += std::exp(t[j] - mx);
    c[n] = mx + std::log(s);
  }
  return c;
}

LogRef log_reference(const Station& lock, const Station& cpu, const Station& think, std::size_t n) {
  auto rest = log_conv(log_f(think, n), log_f(lock, n));
  auto fc = log_f(cpu, n);
  auto g = log_conv(rest, fc);
  LogRef r;
  r.throughput = static_cast<double>(std::exp(g[n - 1] - g[n]));
  for (std::size_t j = 0; j <= n; ++j)
    r.p_cpu.push_back(static_cast<double>(std::exp(fc[j] + rest[n - j] - g[n])));
  return r;
}

} // namespace

TEST(Mva, OneQueueAndDelayIsTheMachineRepairman) {
  for (std::size_t n : {1, 2, 5, 20, 50})
    for (double s : {0.5, 1.0, 3.0})
      for (double z : {0.1, 1.0, 10.0}) {
        SCOPED_TRACE(testing::Message() << "N=" << n << " S=" << s << " Z=" << z);
        const FiniteSource f = finite_source(n, s, z);
        const MvaResult m = mva({queue_st("lock", s), delay_st("think", z)}, n);
        EXPECT_LT(rel(m.throughput, f.throughput), 1e-12);
        EXPECT_LT(rel(m.stations[0].utilization, f.utilization), 1e-12);
        EXPECT_LT(rel(m.response_s, f.response), 1e-12);
        EXPECT_LT(rel(m.stations[0].residence_s, f.response), 1e-12);
        EXPECT_LT(rel(m.stations[1].queue_length, m.throughput * z), 1e-12);
        EXPECT_DOUBLE_EQ(m.stations[1].residence_s, z);
      }
}

TEST(Mva, HandComputedTwoCustomers) {
  // N = 2, lock S = 1, think Z = 1: MVA by hand. n=1: R = 1, X = 1/2, Q = 1/2.
  // n=2: R = 1 (1 + 1/2) = 1.5, X = 2 / (1.5 + 1) = 0.8, Q = 1.2 (= finite_source's)
  const MvaResult m = mva({queue_st("lock", 1.0), delay_st("think", 1.0)}, 2);
  EXPECT_NEAR(m.throughput, 0.8, 1e-15);
  EXPECT_NEAR(m.stations[0].queue_length, 1.2, 1e-15);
  EXPECT_NEAR(m.stations[0].residence_s, 1.5, 1e-15);
  EXPECT_NEAR(m.stations[1].queue_length, 0.8, 1e-15);
  // a 2-server CPU, D = 1, with the lock (S = 1), N = 2, by hand from the CTMC's product form:
  // states (lock, cpu) (2,0) (1,1) (0,2) with weights 1, 1, 1/2 -> G = 2.5;
  // X = G(1) / G(2) = 2 / 2.5 = 0.8, P(lock busy) = 1.5 / 2.5 = 0.6 ... = X S: consistent
  const MvaResult c = mva({queue_st("lock", 1.0), multi_st("cpu", 1.0, 2)}, 2);
  EXPECT_NEAR(c.throughput, 0.8, 1e-15);
  ASSERT_EQ(c.stations[1].p.size(), 2u);
  EXPECT_NEAR(c.stations[1].p[0], 1.0 / 2.5, 1e-15);
  EXPECT_NEAR(c.stations[1].p[1], 1.0 / 2.5, 1e-15);
  EXPECT_NEAR(c.stations[1].p_all_busy, 0.5 / 2.5, 1e-15);
  EXPECT_NEAR(c.stations[1].queue_length, (1.0 + 2 * 0.5) / 2.5, 1e-15);
  EXPECT_NEAR(c.stations[1].utilization, 0.4, 1e-15);
}

TEST(Mva, MultiWithAtLeastNServersIsADelay) {
  for (std::size_t n : {1, 3, 10, 40})
    for (int extra : {0, 1, 7}) {
      const int m = static_cast<int>(n) + extra;
      const MvaResult a = mva({queue_st("lock", 0.2), multi_st("cpu", 1.5, m), delay_st("think", 0.7)}, n);
      const MvaResult b = mva({queue_st("lock", 0.2), delay_st("cpu", 1.5), delay_st("think", 0.7)}, n);
      EXPECT_NEAR(a.stations[1].residence_s, 1.5, 1e-12) << "n=" << n << " m=" << m;
      EXPECT_LT(rel(a.throughput, b.throughput), 1e-12);
      EXPECT_LT(rel(a.stations[0].queue_length, b.stations[0].queue_length), 1e-12);
      if (extra == 0)
        EXPECT_GT(a.stations[1].p_all_busy, 0.0); // all n customers at the CPU
      else
        EXPECT_EQ(a.stations[1].p_all_busy, 0.0);
      EXPECT_EQ(a.stations[1].p.size(), std::min<std::size_t>(static_cast<std::size_t>(m), n + 1));
    }
}

TEST(Mva, MultiWithOneServerIsAQueue) {
  for (std::size_t n : {1, 2, 7, 100, 1000}) {
    const MvaResult a = mva({multi_st("lock", 0.3, 1), multi_st("cpu", 1.0, 4), delay_st("think", 2.0)}, n);
    const MvaResult b = mva({queue_st("lock", 0.3), multi_st("cpu", 1.0, 4), delay_st("think", 2.0)}, n);
    SCOPED_TRACE(n);
    EXPECT_LT(rel(a.throughput, b.throughput), 1e-12);
    for (std::size_t i = 0; i < 3; ++i) {
      EXPECT_LT(rel(a.stations[i].queue_length, b.stations[i].queue_length), 1e-10);
      EXPECT_LT(rel(a.stations[i].residence_s, b.stations[i].residence_s), 1e-10);
      EXPECT_LT(rel(a.stations[i].utilization, b.stations[i].utilization), 1e-12);
    }
    ASSERT_EQ(a.stations[0].p.size(), 1u);
    EXPECT_NEAR(a.stations[0].p[0], 1.0 - a.stations[0].utilization, 1e-12);
    EXPECT_NEAR(a.stations[0].p_all_busy, a.stations[0].utilization, 1e-12);
  }
}

TEST(Mva, MatchesTheCtmcOfASmallNetwork) {
  // lock (1 server), CPU (2 servers), off-CPU delay: the kmodsim shape
  const std::vector<Station> net{queue_st("lock", 0.3), multi_st("cpu", 1.1, 2), delay_st("think", 0.9)};
  for (int n = 1; n <= 6; ++n)
    expect_matches_ctmc(net, n);
  // two multi stations (one pass each), a saturated lock, no delay
  const std::vector<Station> two{queue_st("lock", 0.8), multi_st("cpu", 1.3, 2), multi_st("disk", 2.1, 3),
                                 delay_st("think", 0.4)};
  for (int n = 1; n <= 6; ++n)
    expect_matches_ctmc(two, n);
  const std::vector<Station> closed{multi_st("cpu", 0.5, 3), queue_st("lock", 0.25)};
  for (int n = 1; n <= 6; ++n)
    expect_matches_ctmc(closed, n);
}

TEST(Mva, AsymptoticBoundsAndMonotoneThroughput) {
  const std::vector<Station> net{queue_st("lock", 0.05), multi_st("cpu", 0.8, 8), delay_st("think", 0.3)};
  const double d = 0.05 + 0.8, z = 0.3;
  const double x_max = std::min(1.0 / 0.05, 8 / 0.8); // the lock and the CPU's 8 servers
  const auto all = mva_all(net, 400);
  ASSERT_EQ(all.size(), 400u);
  double prev = 0;
  for (const MvaResult& r : all) {
    SCOPED_TRACE(r.n);
    const double n = static_cast<double>(r.n);
    EXPECT_LE(r.throughput, std::min(n / (d + z), x_max) * (1 + 1e-12));
    EXPECT_GE(r.throughput, prev * (1 - 1e-14));
    EXPECT_GE(r.response_s, d * (1 - 1e-12));
    EXPECT_NEAR(r.response_s, n / r.throughput - z, 1e-9 * r.response_s);
    double q = 0;
    for (const MvaStation& s : r.stations)
      q += s.queue_length;
    EXPECT_NEAR(q, n, 1e-9 * n); // Little: the customers are somewhere
    EXPECT_TRUE(r.stations[1].p.empty());
    prev = r.throughput;
  }
  // mva() agrees with the last element of mva_all()
  const MvaResult last = mva(net, 400);
  EXPECT_DOUBLE_EQ(last.throughput, all.back().throughput);
  EXPECT_DOUBLE_EQ(last.stations[1].queue_length, all.back().stations[1].queue_length);
  EXPECT_NEAR(all.back().throughput, x_max, 1e-6 * x_max); // N = 400 >> N* ~ 13: saturated
}

TEST(Mva, StationOrderDoesNotMatter) {
  const std::vector<Station> a{queue_st("lock", 0.3), multi_st("cpu", 2.0, 4), multi_st("io", 1.0, 2),
                               delay_st("think", 1.0)};
  const std::vector<Station> b{delay_st("think", 1.0), multi_st("io", 1.0, 2), multi_st("cpu", 2.0, 4),
                               queue_st("lock", 0.3)};
  const MvaResult ra = mva(a, 60), rb = mva(b, 60);
  EXPECT_LT(rel(ra.throughput, rb.throughput), 1e-12);
  for (std::size_t i = 0; i < 4; ++i) {
    EXPECT_EQ(ra.stations[i].name, rb.stations[3 - i].name);
    EXPECT_LT(rel(ra.stations[i].queue_length, rb.stations[3 - i].queue_length), 1e-10);
  }
}

TEST(Mva, ExactAndStableForLargePopulations) {
  // N up to 2000 and m up to 64, from an unsaturated to a fully saturated CPU (where the
  // textbook p(0|n) = 1 - sum p(j|n) recursion goes negative): probabilities in [0, 1], summing to
  // 1, consistent with the utilization, and equal to a log-space convolution.
  struct Case {
    std::size_t n;
    int m;
    double lock, cpu, think;
  };
  for (const Case& c : {Case{300, 64, 1.0, 60.0, 5.0}, Case{2000, 64, 0.01, 70.0, 5.0},
                        Case{2000, 64, 0.05, 1.0, 20.0}, Case{2000, 8, 0.001, 1.0, 0.5},
                        Case{2000, 2, 0.3, 0.5, 100.0}, Case{1500, 32, 0.02, 0.6, 10.0}}) {
    SCOPED_TRACE(testing::Message() << "N=" << c.n << " m=" << c.m << " lock=" << c.lock << " cpu=" << c.cpu);
    const Station lock = queue_st("lock", c.lock), cpu = multi_st("cpu", c.cpu, c.m), think = delay_st("think", c.think);
    const MvaResult r = mva({lock, cpu, think}, c.n);
    const MvaStation& s = r.stations[1];
    ASSERT_EQ(s.p.size(), static_cast<std::size_t>(c.m));
    double sum = s.p_all_busy, busy_servers = c.m * s.p_all_busy;
    for (std::size_t j = 0; j < s.p.size(); ++j) {
      EXPECT_GE(s.p[j], 0.0);
      EXPECT_LE(s.p[j], 1.0);
      sum += s.p[j];
      busy_servers += static_cast<double>(j) * s.p[j];
    }
    EXPECT_GE(s.p_all_busy, 0.0);
    EXPECT_LE(s.p_all_busy, 1.0);
    EXPECT_NEAR(sum, 1.0, 1e-9);
    EXPECT_NEAR(busy_servers, r.throughput * c.cpu, 1e-9 * c.m);
    EXPECT_LE(s.utilization, 1.0 + 1e-12);
    const LogRef ref = log_reference(lock, cpu, think, c.n);
    EXPECT_LT(rel(r.throughput, ref.throughput), 1e-9);
    double ref_tail = 0;
    for (std::size_t j = 0; j <= c.n; ++j) {
      if (j < s.p.size())
        EXPECT_NEAR(s.p[j], ref.p_cpu[j], 1e-9) << "j = " << j;
      else
        ref_tail += ref.p_cpu[j];
    }
    EXPECT_NEAR(s.p_all_busy, ref_tail, 1e-9);
  }
}

TEST(Mva, ExactWhenTheCpuHoldsHundredsOfCustomers) {
  // ~750 customers at an 800-server CPU: p(0|n) ~ e^-750 is below the range of a double, yet the
  // marginals at n + 750 descend from it (regression: the CPU looked saturated, U_lock = 1.02)
  const Station lock = queue_st("lock", 1e-3), cpu = multi_st("cpu", 0.75, 800), think = delay_st("think", 0.1);
  for (std::size_t n : {1200, 2500}) {
    SCOPED_TRACE(n);
    const MvaResult r = mva({lock, cpu, think}, n);
    const LogRef ref = log_reference(lock, cpu, think, n);
    EXPECT_LT(rel(r.throughput, ref.throughput), 1e-9);
    EXPECT_LE(r.stations[0].utilization, 1.0 + 1e-12);
    double ref_tail = 0;
    for (std::size_t j = 0; j <= n; ++j) {
      if (j < r.stations[1].p.size())
        EXPECT_NEAR(r.stations[1].p[j], ref.p_cpu[j], 1e-9) << "j = " << j;
      else
        ref_tail += ref.p_cpu[j];
    }
    EXPECT_NEAR(r.stations[1].p_all_busy, ref_tail, 1e-9);
    double mean = 0;
    for (std::size_t j = 0; j <= n; ++j)
      mean += static_cast<double>(j) * ref.p_cpu[j];
    EXPECT_LT(rel(r.stations[1].queue_length, mean), 1e-9);
  }
}

TEST(Mva, LargePopulationIsFast) {
#ifdef NDEBUG
  const std::size_t big = 100000;
#else
  const std::size_t big = 20000; // sanitizer and debug builds are ~30x slower
#endif
  // n = 10^5 modprobes, a 1-server lock, a 1024-core CPU, off-CPU time
  const std::vector<Station> net{queue_st("lock", 2e-6), multi_st("cpu", 1e-3, 1024), delay_st("off_cpu", 5e-3)};
  const auto t0 = std::chrono::steady_clock::now();
  const MvaResult r = mva(net, big);
  const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::cout << "[ timing   ] mva(n = " << big << ", C = 1024): " << s << " s\n";
  EXPECT_LE(r.throughput, 1.0 / 2e-6 * (1 + 1e-12));
  EXPECT_NEAR(r.throughput, 1.0 / 2e-6, 1e-6 / 2e-6); // the lock saturates
  EXPECT_NEAR(r.stations[1].utilization, r.throughput * 1e-3 / 1024, 1e-12);
  EXPECT_NEAR(r.stations[1].residence_s, 1e-3, 1e-9); // 489 busy cores of 1024: no CPU queueing
#ifdef NDEBUG
  EXPECT_LT(s, 2.0);
#endif
  // the lock and the CPU nearly balanced (capacities 1e5/s and 1.024e5/s), ~1000 busy cores
  const MvaResult b = mva({queue_st("lock", 1e-5), multi_st("cpu", 1e-2, 1024), delay_st("off_cpu", 1e-2)}, big);
  EXPECT_LE(b.throughput, 1e5 * (1 + 1e-12));
  EXPECT_GT(b.throughput, 0.999 * 1e5);
  EXPECT_LE(b.stations[0].utilization, 1.0 + 1e-12);
  EXPECT_NEAR(b.stations[1].utilization, b.throughput * 1e-2 / 1024, 1e-12);
  // the CPU-bound one: 1024 / 1e-2 per second
  const MvaResult c = mva({queue_st("lock", 1e-7), multi_st("cpu", 1e-2, 1024), delay_st("off_cpu", 1e-3)}, big);
  EXPECT_NEAR(c.throughput, 102400, 1e-9 * 102400);
  EXPECT_NEAR(c.stations[1].p_all_busy, 1.0, 1e-12);
}

TEST(Mva, ZeroPopulationAndZeroDemandStations) {
  const MvaResult z = mva({queue_st("lock", 1.0), delay_st("think", 1.0)}, 0);
  EXPECT_EQ(z.n, 0u);
  EXPECT_EQ(z.throughput, 0.0);
  EXPECT_EQ(z.response_s, 0.0);
  ASSERT_EQ(z.stations.size(), 2u);
  EXPECT_EQ(z.stations[0].queue_length, 0.0);
  EXPECT_TRUE(mva_all({queue_st("lock", 1.0)}, 0).empty());
  const MvaResult z2 = mva({multi_st("cpu", 1.0, 4), delay_st("think", 1.0)}, 0);
  EXPECT_EQ(z2.stations[0].p, std::vector<double>{1.0});
  EXPECT_EQ(z2.stations[0].p_all_busy, 0.0);
  // stations never visited change nothing; a pure delay network has X = n / Z
  const MvaResult d = mva({queue_st("lock", 0.0), multi_st("cpu", 0.0, 4), delay_st("think", 2.0)}, 10);
  EXPECT_NEAR(d.throughput, 5.0, 1e-12);
  EXPECT_EQ(d.stations[0].queue_length, 0.0);
  EXPECT_EQ(d.stations[1].queue_length, 0.0);
  EXPECT_EQ(d.stations[1].p, std::vector<double>{1.0});
  EXPECT_EQ(d.response_s, 0.0);
  // no think time: X = 1 / S for a lone queue
  EXPECT_NEAR(mva({queue_st("lock", 0.25)}, 3).throughput, 4.0, 1e-12);
}

TEST(Mva, RejectsBadInput) {
  const double nan = std::numeric_limits<double>::quiet_NaN();
  const double inf = std::numeric_limits<double>::infinity();
  EXPECT_THROW(mva({}, 1), std::invalid_argument);
  EXPECT_THROW(mva({queue_st("lock", -1.0)}, 1), std::invalid_argument);
  EXPECT_THROW(mva({queue_st("lock", nan)}, 1), std::invalid_argument);
  EXPECT_THROW(mva({queue_st("lock", inf)}, 1), std::invalid_argument);
  EXPECT_THROW(mva({delay_st("think", nan), queue_st("lock", 1.0)}, 1), std::invalid_argument);
  EXPECT_THROW(mva({multi_st("cpu", 1.0, 0)}, 1), std::invalid_argument);
  EXPECT_THROW(mva({multi_st("cpu", 1.0, -3)}, 1), std::invalid_argument);
  EXPECT_THROW(mva({Station{"lock", StationKind::queue, 1.0, 2}}, 1), std::invalid_argument);
  EXPECT_THROW(mva({queue_st("lock", 0.0), delay_st("think", 0.0)}, 5), std::invalid_argument);
  EXPECT_THROW(mva_all({queue_st("lock", -1.0)}, 3), std::invalid_argument);
}

// ============================================================================================
// Amdahl's law with critical sections, USL
// ============================================================================================

TEST(Amdahl, CriticalSectionsLimitingCases) {
  const double f_seq = 0.1, f_ncs = 0.6, f_cs = 0.3;
  for (int n : {1, 2, 8, 64}) {
    // P_ctn = 0: critical sections run in parallel, classic Amdahl with f = 0.9
    EXPECT_NEAR(amdahl_cs_speedup(f_seq, f_ncs, f_cs, 0.0, n), 1.0 / (0.1 + 0.9 / n), 1e-12);
    // P_ctn = 1: every critical section serialized
    EXPECT_NEAR(amdahl_cs_time(f_seq, f_ncs, f_cs, 1.0, n), 0.1 + 0.3 + 0.6 / n, 1e-12);
  }
  // one core: T = 1 whatever the contention
  EXPECT_NEAR(amdahl_cs_time(f_seq, f_ncs, f_cs, 0.37, 1), 1.0, 1e-15);
  // by hand: P_ctn = 0.5, N = 8: T = 0.1 + 0.15 + (0.6 + 0.15) / 8 = 0.34375, speedup 2.909...
  EXPECT_NEAR(amdahl_cs_time(f_seq, f_ncs, f_cs, 0.5, 8), 0.34375, 1e-15);
  EXPECT_NEAR(amdahl_cs_speedup(f_seq, f_ncs, f_cs, 0.5, 8), 1.0 / 0.34375, 1e-12);
  // N -> infinity: speedup -> 1 / (f_seq + f_cs P_ctn) = 4
  EXPECT_NEAR(amdahl_cs_speedup(f_seq, f_ncs, f_cs, 0.5, 1 << 30), 4.0, 1e-6);
  // fractions that do not sum to 1: time in their unit, speedup scale-free
  EXPECT_NEAR(amdahl_cs_time(2 * f_seq, 2 * f_ncs, 2 * f_cs, 0.5, 8), 2 * 0.34375, 1e-15);
  EXPECT_NEAR(amdahl_cs_speedup(2 * f_seq, 2 * f_ncs, 2 * f_cs, 0.5, 8), 1.0 / 0.34375, 1e-12);
  // more contention never helps
  double prev = 0;
  for (double p = 0; p <= 1.0; p += 0.125) {
    const double t = amdahl_cs_time(f_seq, f_ncs, f_cs, p, 16);
    EXPECT_GE(t, prev);
    prev = t;
  }
}

TEST(Amdahl, RejectsBadInput) {
  const double nan = std::numeric_limits<double>::quiet_NaN();
  EXPECT_THROW(amdahl_cs_time(-0.1, 0.5, 0.6, 0.5, 4), std::invalid_argument);
  EXPECT_THROW(amdahl_cs_time(0.1, nan, 0.6, 0.5, 4), std::invalid_argument);
  EXPECT_THROW(amdahl_cs_time(0.1, 0.3, 0.6, 1.5, 4), std::invalid_argument);
  EXPECT_THROW(amdahl_cs_time(0.1, 0.3, 0.6, nan, 4), std::invalid_argument);
  EXPECT_THROW(amdahl_cs_time(0.1, 0.3, 0.6, 0.5, 0), std::invalid_argument);
  EXPECT_THROW(amdahl_cs_speedup(0.0, 0.0, 0.0, 0.5, 4), std::invalid_argument);
}

TEST(Analytic, UniversalScalabilityLaw) {
  // by hand: N = 8, alpha = 0.1, beta = 0.01: 8 / (1 + 0.7 + 0.56) = 8 / 2.26
  EXPECT_NEAR(usl_capacity(8, 0.1, 0.01), 8 / 2.26, 1e-14);
  EXPECT_DOUBLE_EQ(usl_capacity(1, 0.3, 0.2), 1.0);
  EXPECT_DOUBLE_EQ(usl_capacity(16, 0, 0), 16.0);
  EXPECT_NEAR(usl_capacity(16, 0.25, 0), 16 / (1 + 0.25 * 15), 1e-14); // beta = 0: Amdahl
  // peak at sqrt((1 - alpha) / beta) = sqrt(90)
  EXPECT_NEAR(usl_peak_n(0.1, 0.01), std::sqrt(90.0), 1e-12);
  const double at_peak = usl_capacity(std::sqrt(90.0), 0.1, 0.01);
  EXPECT_GT(at_peak, usl_capacity(9, 0.1, 0.01));
  EXPECT_GT(at_peak, usl_capacity(10, 0.1, 0.01));
  EXPECT_EQ(usl_peak_n(0.1, 0), std::numeric_limits<double>::infinity());
  EXPECT_EQ(usl_peak_n(1.5, 0.01), 1.0);
  EXPECT_THROW(usl_capacity(0.5, 0.1, 0.01), std::invalid_argument);
  EXPECT_THROW(usl_capacity(4, -0.1, 0.01), std::invalid_argument);
  EXPECT_THROW(usl_peak_n(0.1, -1), std::invalid_argument);
}

// replay --compare's column: relative to the measured figure, none when only it is 0
TEST(Analytic, RelativeErrorOfASimulatedFigure) {
  EXPECT_DOUBLE_EQ(*relative_error(3.0, 2.0), 0.5);
  EXPECT_DOUBLE_EQ(*relative_error(1.0, 4.0), -0.75);
  EXPECT_DOUBLE_EQ(*relative_error(1.0 / 3.0, 1.0), -0.666667); // rounded to 1e-6
  EXPECT_DOUBLE_EQ(*relative_error(0.0, 0.0), 0.0);
  EXPECT_FALSE(relative_error(3.0, 0.0).has_value()); // 3 simulated contentions, none replayed: no ratio
  EXPECT_DOUBLE_EQ(*relative_error(0.0, 5.0), -1.0);
}
