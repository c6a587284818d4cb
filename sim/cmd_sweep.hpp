// kmodsim sweep (sim/cmd_sweep.cpp).
#pragma once

#include <stdexcept>
#include <string>
#include <vector>

namespace kmodsim {

struct SweepArgs {
  std::string spec, out;
  int jobs = 1;
  bool resume = false, force = false, keep_runs = false;
  int shard_i = 1, shard_n = 1;     ///< --shard I/N: this process runs runs i with i % N == I - 1
  std::vector<std::string> collect; ///< --collect DIR...: merge shard folders into --out
  std::string executor = "local";   ///< local | parallel (GNU parallel drives the shards)
  int shards = 0;                   ///< parallel: number of shards (default 4 x jobs)
  std::string parallel_args;        ///< parallel: extra GNU parallel arguments (--sshlogin ...)
  bool quiet_progress = false;
  bool dry_run = false;             ///< resolve every point, print them, run and write nothing
  std::string engine = "actors";    ///< --engine: actors | fibers (sim/runtime.hpp)

};

/// Every run of a sweep folder failed (exit 1): its tables are written all the same.
class SweepFailed : public std::runtime_error {
public:
  using std::runtime_error::runtime_error;
};

/// Throws ConfigError (bad spec or point: exit 2), OutputError (exit 1), SweepFailed (exit 1).
int cmd_sweep(const SweepArgs& a);

} // namespace kmodsim
