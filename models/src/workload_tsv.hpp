// A workload's uevents as a TSV file (`uevents_tsv:` in the workload), the fast path for big
// workloads (issue 12): a header naming the columns (device and module, optionally repeat and
// per_cpu), then one uevent per line. yaml-cpp reads a YAML list of 100,000 uevents in ~1.5 s;
// this takes a few tens of milliseconds. The resolved scenario (config.yaml) lists the uevents
// as YAML, so a run reads the same either way.
#pragma once

#include "kmodsim/workload.hpp"

#include <string>
#include <unordered_map>
#include <vector>

namespace kmodsim::detail {

/// "uevent requests unknown module 'x' (did you mean 'y'?)", for the YAML list and the TSV alike.
std::string unknown_uevent_module(const std::string& module, const std::vector<std::string>& names);

/// Parses `text` read from `file`. Every error is a ConfigError "file:line:col:
/// workload.uevents_tsv: ...". `index`: module name -> index (a module column must name one, or
/// be empty for an alias that matches nothing); `names`: for "did you mean".
std::vector<Uevent> parse_uevents_tsv(const std::string& text, const std::string& file,
                                      const std::unordered_map<std::string, size_t>& index,
                                      const std::vector<std::string>& names);

} // namespace kmodsim::detail
