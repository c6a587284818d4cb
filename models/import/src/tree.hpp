// Internal to kmodsim_import: the module tree of modules.dep, the parallel module reader and
// the count of vmlinux's exports, shared by import_tree() (import.cpp) and the
// --this-machine import (this_machine.cpp). Not installed; not an API.
#pragma once

#include "kmodsim/import/elf.hpp"
#include "kmodsim/import/error.hpp"
#include "kmodsim/import/import.hpp"

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <new>
#include <optional>
#include <stdexcept>
#include <string>
#include <unordered_map>
#include <vector>

namespace kmodsim::import::detail {

/// One line of modules.dep, resolved.
struct TreeModule {
  std::string name;      ///< normalised
  std::string path;      ///< as modules.dep writes it
  std::string file;      ///< the path to open
  std::size_t line = 0;  ///< modules.dep line
  std::vector<std::size_t> deps; ///< indices into the tree, modules.dep order
};

struct Tree {
  std::string dep_file;
  std::vector<TreeModule> modules; ///< modules.dep order
  std::unordered_map<std::string, std::size_t> by_name;
};

/// `path` under `dir`, unless it is absolute.
std::string join(const std::string& dir, const std::string& path);

/// Runs f(), turning what means "this file could not be processed" but is not an ImportError
/// (memory exhaustion, a file system error) into an ImportError naming `path`.
template <class F> auto guarded(const std::string& path, F&& f) -> decltype(f()) {
  try {
    return f();
  } catch (const ImportError&) {
    throw;
  } catch (const std::bad_alloc&) {
    throw ImportError::in_file(path, "out of memory");
  } catch (const std::length_error&) {
    throw ImportError::in_file(path, "out of memory");
  } catch (const std::filesystem::filesystem_error& e) {
    throw ImportError::in_file(e.path1().empty() ? path : e.path1().string(), e.code().message());
  }
}

/// Reads an optional input file: nullopt if it does not exist; any other problem (a directory,
/// a FIFO, too large, unreadable) is an error, as for a required one.
std::optional<std::string> read_optional(const std::string& path, std::uint64_t max_bytes);

/// The `depmod -b BASEDIR VERSION` a user should run for a modules directory.
std::string depmod_hint(const std::string& modules_dir);

/// Reads modules.dep of `modules_dir` and checks that every module file is there.
Tree load_tree(const std::string& modules_dir, std::uint64_t max_file_bytes);

/// Depth-first search for a dependency cycle; throws with the whole cycle if there is one.
void check_acyclic(const Tree& tree);

/// Reads and analyses the given modules with `jobs` threads. Results are indexed like `which`;
/// if several modules fail, the error of the first one (in `which` order) is thrown, so the
/// outcome does not depend on thread timing. The threads share a MemoryBudget of
/// options.max_total_bytes; its peak goes to `peak_memory`.
std::vector<ModuleFeatures> read_features(const Tree& tree, const std::vector<std::size_t>& which,
                                          unsigned jobs, const ImportOptions& options,
                                          std::vector<std::size_t>& disk_bytes,
                                          std::uint64_t& peak_memory);

std::string join_names(const std::vector<std::string>& names);

/// Where vmlinux's export count is looked for, in order: Module.symvers files (lines whose
/// module column is vmlinux), then System.map files (__ksymtab_ symbols).
struct ExportSources {
  std::vector<std::string> symvers;
  std::vector<std::string> maps;
  std::string none_found; ///< the warning when no candidate gives a count
};
/// The candidates of a plain import (docs/import.md): in and under the modules directory, and
/// ../../../boot/System.map-<version>.
ExportSources tree_export_sources(const std::string& modules_dir);

/// vmlinux's export count from the first candidate that gives one (its path goes to
/// report.kernel_exports_source); 0 and the `none_found` warning if none does. A missing
/// candidate is skipped; one that cannot be read gives a warning and the next is tried.
std::int64_t count_kernel_exports(const ExportSources& sources, std::uint64_t max_file_bytes,
                                  ImportReport& report);

} // namespace kmodsim::import::detail
