// Sweep specs (kmodsim sweep): a base scenario, axes over any --set key path, replications,
// and the runs they expand to. Pure: parsing, expansion and seed derivation, no SimGrid.
//
//   schema_version: 1
//   name: NAME
//   scenario: PATH                       (relative to the spec)
//   grid: {KEY: [V, ...], ...}           cartesian product
//   cases: [{name: NAME, set: {KEY: V, ...}}, ...]
//                                        named points, each setting its own keys (ablations,
//                                        one-at-a-time sensitivity); V may be any YAML value
//   zip:  {KEY: [V, ...], ...}           paired lists of equal length
//   random: {samples: N, axes: {KEY: {distribution: uniform|log-uniform|normal, lo: A, hi: B,
//                                     integer: false}}}
//   lhs:    {samples: N, axes: {...}}    Latin hypercube over the same kinds of ranges
//   replications: R
//   seed: S
// The designs present multiply: points = grid x cases x zip rows x samples. A value ending in .yaml or
// .yml is a file path relative to the spec. Replication r of every point runs with the same seed
// (common random numbers: differences between points are not blurred by different noise), a
// pure function of (seed, r): adding replications later reuses the earlier runs.
#pragma once

#include "kmodsim/config.hpp"

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace kmodsim {

enum class SampleDist { uniform, log_uniform, normal };
const char* to_string(SampleDist d);

struct SampledAxis {
  std::string key;
  SampleDist dist = SampleDist::uniform;
  double a = 0, b = 0; ///< lo, hi (uniform, log-uniform) or mean, sd (normal)
  bool integer = false; ///< round each sample to the nearest integer (counts, limits)
};

struct SweepCase {
  std::string name;
  std::vector<Override> sets;
};

struct SweepSpec {
  std::string file, name, scenario; ///< scenario: resolved path
  std::string dir;                  ///< the spec's folder, absolute: file values are resolved against it
  std::vector<std::pair<std::string, std::vector<std::string>>> grid, zip; ///< key -> YAML values as written
  std::vector<SweepCase> cases;      ///< its column is "case"
  std::string sampler;               ///< "", "random" or "lhs"
  long samples = 0;
  std::vector<SampledAxis> sampled;
  long replications = 1;
  std::uint64_t seed = 1;
  /// Where each axis key (or a case's key, first use) is written: "file:line:col: spec.path",
  /// so that a point that does not load is reported at its line; a case's own keys also under
  /// case_where_key(case, key).
  std::map<std::string, std::string> where;
};

struct SweepPoint {
  std::vector<std::string> columns; ///< one value per axis_names() entry
  std::vector<Override> sets;       ///< grid keys, the case's keys, zip keys, sampled keys
};

struct SweepRun {
  std::string id;       ///< p<point>-r<replication>
  std::size_t point = 0;
  long replication = 0;
  std::uint64_t seed = 0;
};

/// The SweepSpec::where key of `key` as case `case_name` sets it.
std::string case_where_key(const std::string& case_name, const std::string& key);
/// Loads and checks a spec; ConfigError "file:line:col: key: what" on bad input.
SweepSpec load_sweep_spec(const std::string& path);
/// Every point of the spec, in a fixed order.
std::vector<SweepPoint> expand_points(const SweepSpec& s);
/// The seed of replication r (common to every point).
std::uint64_t replication_seed(std::uint64_t spec_seed, long r);
/// Every run: points x replications.
std::vector<SweepRun> expand_runs(const SweepSpec& s, std::size_t points);
/// The names of the axes (grid keys, "case", zip keys, sampled keys): SweepPoint::columns.
std::vector<std::string> axis_names(const SweepSpec& s);

} // namespace kmodsim
