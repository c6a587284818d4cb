// `kmodsim import`: builds a Workload from a real kernel module tree.
//
//   import_tree()          reads DIR/modules.dep (and modules.alias, modules.softdep), every
//                          selected .ko[.xz|.zst|.gz], an optional boot list and an optional
//                          uevent list, and returns the Workload;
//   write_workload_yaml()  writes it in the workload schema (schema_version 1) with a
//                          provenance header.
//
// See docs/import.md for what each Module field is computed from.
#pragma once

#include "kmodsim/import/error.hpp"
#include "kmodsim/import/limits.hpp"
#include "kmodsim/workload.hpp"

#include <cstddef>
#include <cstdint>
#include <ostream>
#include <string>
#include <vector>

namespace kmodsim::import {

struct ImportOptions {
  std::string modules_dir; ///< a /lib/modules/<version> directory on which depmod has run
  std::string boot_list;   ///< lsmod output or /proc/modules text; "" = none
  std::string uevents;     ///< one modalias per line; "" = none
  unsigned jobs = 0;       ///< threads reading modules; 0 = hardware concurrency (max 16)
  /// Caps (limits.hpp, docs/import.md "Limits"); a breach is an ImportError naming the file.
  std::uint64_t max_file_bytes = kDefaultMaxFileBytes;     ///< any input file, as stored
  std::uint64_t max_module_bytes = kDefaultMaxModuleBytes; ///< one module, decompressed
  std::uint64_t max_total_bytes = kDefaultMaxTotalBytes;   ///< held at once by all --jobs threads
};

struct ImportReport {
  /// Non-fatal findings, in a deterministic order: modinfo depends vs modules.dep
  /// disagreements, modinfo name mismatches, missing vmlinux export counts, ...
  std::vector<std::string> warnings;
  std::string kernel_version;        ///< from the modules' vermagic, else the directory name
  std::string kernel_exports_source; ///< file kernel_exports was counted from ("" = none)

  std::size_t modules_in_tree = 0;        ///< lines of modules.dep
  std::size_t modules_imported = 0;       ///< modules in the workload
  std::size_t boot_list_modules = 0;      ///< modules named by the boot list
  std::size_t dependency_modules = 0;     ///< added because a selected module depends on them
  std::size_t uevent_added_modules = 0;   ///< added because a uevent resolved to them
  std::size_t uevents = 0;                ///< uevents in the workload
  std::size_t uevents_unmatched = 0;      ///< of which no module matched
  std::size_t uevents_duplicate = 0;      ///< of which resolved to an already requested module
  std::size_t aliases = 0;                ///< lines of modules.alias
  std::size_t softdeps = 0;               ///< lines of modules.softdep (not in the Workload)
  std::size_t modinfo_depends_mismatches = 0; ///< modules with a depends warning
  std::size_t files_xz = 0, files_zstd = 0, files_gzip = 0, files_plain = 0;
  std::uint64_t bytes_on_disk = 0;  ///< sizes of the module files read
  std::uint64_t bytes_elf = 0;      ///< sizes after decompression
  /// Most module data (and decoder state) the reading threads held at once, in bytes; never
  /// more than ImportOptions::max_total_bytes.
  std::uint64_t peak_module_memory = 0;
};

/// Imports a module tree. Throws ImportError (message naming file and line or byte offset) on
/// any error: no modules.dep ("run depmod -b ..."), a modules.dep line naming a missing file, a
/// dependency on a module without a modules.dep line, a dependency cycle (the message gives the
/// whole cycle), a malformed ELF file, a malformed boot list or uevent list line, a boot-list
/// module that is not in the tree; an input that is a directory, FIFO, device or socket ("is a
/// FIFO, not a regular file"; never opened for reading); a file or module over its cap (the
/// max_*_bytes options). Running out of memory or a file system error is an ImportError naming
/// the path too, never a raw std::bad_alloc or std::filesystem::filesystem_error.
///
/// The workload's modules: with a boot list, the boot-list modules, the modules the uevents
/// resolve to, and all their dependencies; without one, every module of modules.dep. They are
/// sorted by name. Module::deps is the modules.dep list of the module (transitive, in
/// modules.dep order) with names normalised. Module::init stays {0, 0} and Module::loc empty.
///
/// The uevents: with a uevent list, one Uevent per line (device = the modalias, module = the
/// first modules.alias match, preferring boot-list modules, "" if none); otherwise one per
/// boot-list module in list order (device "boot-list:<name>"), or one per tree module in name
/// order (device "modules.dep:<name>") without a boot list.
kmodsim::Workload import_tree(const ImportOptions& options, ImportReport& report);

/// Writes the workload in the YAML schema the loader reads (schema_version 1), one flow
/// mapping per module and per uevent, preceded by a comment header: source tree, kernel
/// version, `date` (left out if empty, so that output can be byte-for-byte reproducible),
/// counts and warnings. The output depends only on the arguments.
void write_workload_yaml(const kmodsim::Workload& workload, const ImportReport& report,
                         const ImportOptions& options, std::ostream& out,
                         const std::string& date = "");

/// Writes one tab-separated line per module with the raw feature values in bytes (not KiB),
/// for comparison with readelf (scripts/import-debian-kernel.sh):
///   name alloc_bytes init_bytes file_bytes undef_symbols dep_symbols relocations exports
///   percpu_bytes deps(comma-separated)
void write_features_tsv(const kmodsim::Workload& workload, std::ostream& out);

/// Formats a KiB value as the writer does: the shortest decimal that reads back to the same
/// double, always with a '.' (e.g. "120.5", "0.0", "3.0009765625").
std::string format_kib(double kib);

} // namespace kmodsim::import
