// kmodsim trace-import (sim/cmd_trace_import.cpp).
#pragma once

#include <optional>
#include <string>

namespace kmodsim {

struct TraceImportArgs {
  std::string dmesg, lock_stat, out;
  /// --lock-class: the class read from --lock-stat (module_mutex when not given); set without
  /// --lock-stat it is a usage error, not silently ignored.
  std::optional<std::string> lock_class;
};

/// Throws calib::CalibError (bad input: exit 2), OutputError (exit 1).
int cmd_trace_import(const TraceImportArgs& a);

} // namespace kmodsim
