// Internal to kmodsim_import: what `import --this-machine` (this_machine.cpp) gives the tree
// import (import.cpp) in place of --boot-list and --uevents files. Not an API.
#pragma once

#include "tree.hpp"

#include "kmodsim/import/this_machine.hpp"

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace kmodsim::import::detail {

/// The modules one modalias matches, as libkmod resolves it (kmod_alias.cpp).
struct AliasMatches {
  std::vector<std::string> modules;     ///< to load: normalised names, libkmod's order, no repeats
  std::vector<std::string> builtin;     ///< built into the kernel: nothing to load
  std::vector<std::string> blacklisted; ///< blacklisted in modprobe.d: udev does not load them
  std::string error;                    ///< libkmod refused the alias ("" = it did not)
};

/// One modalias file of the sysfs walk.
struct MachineRequest {
  std::string modalias;
  std::string file; ///< ROOT/sys/devices/.../modalias
};

struct MachineFeed {
  std::string boot_text;   ///< the text of /proc/modules
  std::string boot_source; ///< its path
  std::vector<MachineRequest> requests; ///< the modaliases, in walk order
  std::function<AliasMatches(const std::string&)> resolve;
  /// kernel_exports from /proc/kallsyms (0: none there); then `export_sources` are tried.
  std::int64_t kallsyms_exports = 0;
  std::string kallsyms_source;
  ExportSources export_sources;
  ThisMachineReport* report = nullptr; ///< the counts of the resolution and the boot list
};

/// import_tree() with a feed (null: exactly import_tree()).
kmodsim::Workload import_tree_fed(const ImportOptions& options, const MachineFeed* feed,
                                  ImportReport& report);

} // namespace kmodsim::import::detail
