// Workload: the modules a boot may load (with the features that drive their load cost) and
// the uevents udev replays during coldplug. Pure data, no SimGrid.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace kmodsim {

/// Where a value in a config came from: file, line and column (1-based; 0 = unknown).
struct SourceLoc {
  std::string file;
  int line = 0;
  int column = 0;
};

/// The module's own init function: CPU work plus an off-CPU wait for hardware.
struct ModuleInit {
  double cpu_us = 0.0;  ///< CPU time of the init function at the reference speed
  double wait_ms = 0.0; ///< time off CPU (firmware, PHY reset, USB enumeration...)
};

/// One kernel module and the features of its .ko that the cost model reads.
struct Module {
  std::string name;
  double size_kb = 0.0;      ///< SHF_ALLOC sections, core + init parts (what load_module copies)
  double init_kb = 0.0;      ///< the part of size_kb in init sections (freed after init)
  double file_kb = 0.0;      ///< size of the .ko file read from disk (0: use size_kb)
  /// the .ko once decompressed, when the file is compressed (.ko.xz/.zst/.gz); 0: not compressed
  double decompressed_kb = 0.0;
  std::int64_t undef_symbols = 0; ///< undefined symbols: one resolve_symbol each
  std::int64_t dep_symbols = 0;   ///< of undef_symbols, how many are exported by dependencies
  std::int64_t relocations = 0;   ///< relocation entries over all REL/RELA sections
  std::int64_t exports = 0;       ///< exported symbols (__ksymtab*)
  double percpu_kb = 0.0;         ///< size of the .data.percpu section (0: none)
  std::vector<std::string> deps;  ///< dependencies (direct or transitive, as modules.dep lists them)
  ModuleInit init;
  SourceLoc loc; ///< where the module was declared (for error messages)
};

/// One uevent of the coldplug replay. A uevent with a MODALIAS starts one modprobe; `module`
/// is the module its alias resolves to, or empty when no module matches (modprobe still runs).
struct Uevent {
  std::string device;
  std::string module; ///< empty: the alias matched no module
  SourceLoc loc;
  /// Duplicate requests: the uevent is sent `repeat` times (per CPU with `per_cpu`, as udev asks
  /// for a CPU-frequency module once per CPU on many-CPU machines: DOMAIN.md section 4). The
  /// loader expands them (copies named device#k) once the machine's cores are known.
  long repeat = 1;
  bool per_cpu = false;
};

struct Workload {
  std::string name;
  std::int64_t index_modules = 0;  ///< modules in the installed tree's index (modprobe parses them all); 0 = modules.size()
  std::int64_t kernel_exports = 0; ///< symbols exported by vmlinux itself (the start of the symbol table)
  std::vector<Module> modules;
  std::vector<Uevent> uevents;
  std::string provenance; ///< free text: where the workload came from
};

} // namespace kmodsim
