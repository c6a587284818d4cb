// A workload's modules and uevents as TSV files (`modules_tsv:`, `uevents_tsv:` in the
// workload), the fast path for big workloads (issue 12): a header line naming the columns, then
// one module or uevent per line; tabs between fields, '#' lines and empty lines skipped.
//   modules_tsv: name, and any of size_kb init_kb file_kb decompressed_kb undef_symbols
//                dep_symbols relocations exports percpu_kb deps (comma-separated names)
//                init_cpu_us init_wait_ms (the YAML keys; init.cpu_us and init.wait_ms)
//   uevents_tsv: device and module, optionally repeat and per_cpu
// yaml-cpp reads a YAML list of 100,000 uevents in ~1.5 s and 6,000 modules in ~0.4 s; these
// take a few tens of milliseconds. Every check of the YAML lists applies, with the same
// messages. The resolved scenario (config.yaml) lists both as YAML, so a run reads the same
// either way.
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
/// Parses a modules_tsv file: every error a ConfigError "file:line:col: workload.modules_tsv: ...".
std::vector<Module> parse_modules_tsv(const std::string& text, const std::string& file);

std::vector<Uevent> parse_uevents_tsv(const std::string& text, const std::string& file,
                                      const std::unordered_map<std::string, size_t>& index,
                                      const std::vector<std::string>& names);

} // namespace kmodsim::detail
