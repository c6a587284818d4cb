// Internal to kmodsim_import: the pieces of the workload writer (yaml_writer.cpp) that the
// --this-machine writers (machine_yaml.cpp) share. Not an API.
#pragma once

#include "kmodsim/workload.hpp"

#include <ostream>
#include <string>
#include <string_view>
#include <vector>

namespace kmodsim::import::detail {

/// A YAML scalar for a string: plain if it is an identifier, otherwise double-quoted.
std::string scalar(std::string_view s);
/// A comment line must stay one line: control characters become '?'.
std::string comment_text(std::string_view s);
/// Shortest round-trip fixed notation ("0", "2.5", "1000000").
std::string shortest(double v);
/// "# warnings: N" and the first 50 of them.
void write_warnings(const std::vector<std::string>& warnings, std::ostream& out);
/// From "schema_version: 1" to the last uevent; `index_modules` adds that key.
void write_workload_body(const kmodsim::Workload& w, bool index_modules, std::ostream& out);

} // namespace kmodsim::import::detail
