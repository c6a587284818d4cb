// Deterministic random numbers for run-to-run variability. Each draw is a pure function of
// (seed, stream, a, b), so a load's noise does not depend on the order the simulation asks.
#pragma once

#include <cmath>
#include <cstdint>
#include <vector>

namespace kmodsim {

inline std::uint64_t splitmix64(std::uint64_t x) {
  x += 0x9E3779B97F4A7C15ULL;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ULL;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBULL;
  return x ^ (x >> 31);
}

/// Uniform in (0, 1), a pure function of its arguments.
inline double uniform01(std::uint64_t seed, std::uint64_t stream, std::uint64_t a, std::uint64_t b) {
  std::uint64_t h = splitmix64(splitmix64(splitmix64(seed ^ splitmix64(stream)) ^ a) ^ b);
  return (static_cast<double>(h >> 11) + 0.5) * 0x1.0p-53;
}

/// Lognormal factor with mean 1 and coefficient of variation cv (1 when cv == 0).
inline double lognormal_factor(double cv, std::uint64_t seed, std::uint64_t stream, std::uint64_t a, std::uint64_t b) {
  if (cv <= 0)
    return 1.0;
  const double s2 = std::log1p(cv * cv);
  const double u1 = uniform01(seed, stream, a, 2 * b), u2 = uniform01(seed, stream, a, 2 * b + 1);
  const double z = std::sqrt(-2.0 * std::log(u1)) * std::cos(2.0 * M_PI * u2); // Box-Muller
  return std::exp(std::sqrt(s2) * z - 0.5 * s2);
}

/// Exponential factor with mean 1 (cv 1).
inline double exponential_factor(std::uint64_t seed, std::uint64_t stream, std::uint64_t a, std::uint64_t b) {
  return -std::log(uniform01(seed, stream, a, b));
}

/// Fisher-Yates permutation of 0..n-1 from the seed.
inline std::vector<size_t> permutation(size_t n, std::uint64_t seed, std::uint64_t stream) {
  std::vector<size_t> p(n);
  for (size_t i = 0; i < n; ++i)
    p[i] = i;
  for (size_t i = n; i > 1; --i) {
    auto j = static_cast<size_t>(uniform01(seed, stream, i, 0) * static_cast<double>(i));
    if (j >= i)
      j = i - 1;
    std::swap(p[i - 1], p[j]);
  }
  return p;
}

} // namespace kmodsim
