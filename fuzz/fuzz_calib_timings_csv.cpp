// libFuzzer target: the timings_csv parser of kmodsim calibrate (models/src/calib_parse.cpp). Any
// exception other than CalibError, a crash or a sanitizer report is a finding.
#include "kmodsim/calib.hpp"

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <string>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  try {
    for (const auto& r : kmodsim::calib::parse_timings_csv(text, "input")) {
      if (!(r.total_us >= 0) || r.module.empty())
        __builtin_trap();
    }
  } catch (const kmodsim::calib::CalibError&) {
  }
  return 0;
}
