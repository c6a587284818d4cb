#include <kmodsim/analytic.hpp>
#include <kmodsim/rng.hpp>

#include <gtest/gtest.h>

#include <cmath>

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
