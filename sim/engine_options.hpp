// `kmodsim run --log` and `--cfg`: SimGrid's own settings, checked before SimGrid sees them.
// SimGrid aborts the process (or worse) on a malformed setting, an unknown key or a value it
// cannot use, printing its backtrace; kmodsim's contract is one line and exit 2 for a usage
// error, so every setting is checked here first.
#pragma once

#include <string>

namespace kmodsim::sim {

/// Checks one --log value (SimGrid's control string: space-separated CATEGORY.KEY:VALUE items;
/// KEY thres, fmt, app or add, or their long forms). Returns "" when SimGrid can take it, else
/// what is wrong (one line).
std::string check_log_setting(const std::string& setting);

/// Checks one --cfg value against the SimGrid items kmodsim lets a user change (the contexts/*
/// items: the engine's simulated network and hosts are kmodsim's own models). Returns "" or what
/// is wrong (one line).
std::string check_cfg_setting(const std::string& setting);

} // namespace kmodsim::sim
