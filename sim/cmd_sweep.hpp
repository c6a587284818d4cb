// kmodsim sweep (sim/cmd_sweep.cpp).
#pragma once

#include <string>
#include <vector>

namespace kmodsim {

struct SweepArgs {
  std::string spec, out;
  int jobs = 1;
  bool resume = false, force = false, keep_runs = false;
  int shard_i = 1, shard_n = 1;     ///< --shard I/N: this process runs runs i with i % N == I - 1
  std::vector<std::string> collect; ///< --collect DIR...: merge shard folders into --out

};

/// Throws ConfigError (bad spec or point: exit 2), OutputError (exit 1).
int cmd_sweep(const SweepArgs& a);

} // namespace kmodsim
