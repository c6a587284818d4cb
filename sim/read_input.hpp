// Reading a measurement file (dmesg, lock_stat, timings CSV, Module.symvers) for calibrate and
// trace-import: a regular file of at most 256 MiB; any failure is a CalibError (exit 2).
#pragma once

#include <kmodsim/calib.hpp>
#include <kmodsim/import/safe_io.hpp>

#include <string>

namespace kmodsim {

inline std::string read_measurement(const std::string& path) {
  try {
    return import::read_regular_file(path, 256ull << 20);
  } catch (const std::exception& e) {
    throw calib::CalibError(e.what());
  }
}

} // namespace kmodsim
