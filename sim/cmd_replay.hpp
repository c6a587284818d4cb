// kmodsim replay (sim/cmd_replay.cpp): the scenario on real threads and cores (sim/replay.hpp).
#pragma once

#include <kmodsim/config.hpp>

#include <string>
#include <vector>

namespace kmodsim {

struct ReplayArgs {
  std::string scenario, out, seed;
  std::vector<Override> sets;
  int cores = 0;        ///< 0: the scenario's machine.cores
  bool compare = false; ///< also simulate, and print both side by side
  bool json = false, quiet = false;
  double max_time_s = 3600;
};

/// Throws ConfigError, sim::ReplayRefused (exit 2), sim::SimulationError, OutputError (exit 1).
int cmd_replay(const ReplayArgs& a);

} // namespace kmodsim
