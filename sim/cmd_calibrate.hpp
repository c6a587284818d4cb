// kmodsim calibrate (sim/cmd_calibrate.cpp).
#pragma once

#include <kmodsim/config.hpp>

#include <string>
#include <vector>

namespace kmodsim {

struct CalibrateArgs {
  std::string scenario, base, timings, lock_stat, output, report, name;
  std::vector<std::string> dmesg;
  std::vector<Override> sets;
  bool force = false;
  bool microbench = false;
  std::string symvers;    ///< --symvers: real export names for the find_symbol benchmark
  std::string slowdown;   ///< --target-slowdown V,LO,HI: the target machine is V (LO-HI) times slower
  int bench_reps = 7;
};

/// Throws calib::CalibError (bad measurement input: exit 2), ConfigError, OutputError.
int cmd_calibrate(const CalibrateArgs& a);

} // namespace kmodsim
