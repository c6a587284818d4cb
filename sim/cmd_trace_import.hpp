// kmodsim trace-import (sim/cmd_trace_import.cpp).
#pragma once

#include <string>

namespace kmodsim {

struct TraceImportArgs {
  std::string dmesg, lock_stat, out;
  std::string lock_class = "module_mutex";
};

/// Throws calib::CalibError (bad input: exit 2), OutputError (exit 1).
int cmd_trace_import(const TraceImportArgs& a);

} // namespace kmodsim
