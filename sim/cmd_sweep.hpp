// kmodsim sweep (sim/cmd_sweep.cpp).
#pragma once

#include <string>

namespace kmodsim {

struct SweepArgs {
  std::string spec, out;
  int jobs = 1;
  bool resume = false, force = false, keep_runs = false;
};

/// Throws ConfigError (bad spec or point: exit 2), OutputError (exit 1).
int cmd_sweep(const SweepArgs& a);

} // namespace kmodsim
