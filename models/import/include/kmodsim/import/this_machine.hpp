// `kmodsim import --this-machine [--root DIR]`: a workload and a machine file from a running
// Linux system (docs/import.md, "Simulate this machine").
//
// Under ROOT (default "/") it reads
//   proc/sys/kernel/osrelease   the kernel release (uname(2) as a fallback for "/" only);
//   lib/modules/<release>/      the module tree, as `kmodsim import --modules-dir` does;
//   sys/devices/**/modalias     the coldplug uevents (walked in name order; no symbolic link is
//                               followed), resolved with libkmod as udev's kmod builtin does:
//                               every match is loaded, built-in and blacklisted ones are not;
//   proc/modules                the modules this boot loaded (the boot list);
//   proc/kallsyms               kernel_exports (__ksymtab_ entries of vmlinux), else the
//                               kernel headers' Module.symvers, else the tree's candidates;
//   sys/devices/system/cpu/online, proc/cpuinfo, proc/meminfo   the machine's cores and RAM.
#pragma once

#include "kmodsim/import/import.hpp"

#include <cstddef>
#include <cstdint>
#include <ostream>
#include <string>
#include <string_view>
#include <vector>

namespace kmodsim::import {

struct ThisMachineOptions {
  std::string root = "/"; ///< the machine's file system root ("/": this machine)
  unsigned jobs = 0;      ///< threads reading modules; 0 = hardware concurrency (max 16)
  std::uint64_t max_file_bytes = kDefaultMaxFileBytes;
  std::uint64_t max_module_bytes = kDefaultMaxModuleBytes;
  std::uint64_t max_total_bytes = kDefaultMaxTotalBytes;
};

/// What the machine file can say about the hardware (0 / "" = not found).
struct MachineFacts {
  int cores = 0;             ///< CPUs online
  std::string cores_source;  ///< the file the count comes from
  std::string cpu_list;      ///< the online list as the kernel writes it ("0-7"), if from sysfs
  std::uint64_t mem_total_kb = 0; ///< MemTotal of /proc/meminfo
  std::string ram_source;
  std::string cpu_model;     ///< "model name" of the first CPU in /proc/cpuinfo ("" = none)
  std::vector<std::string> tried; ///< files looked for and not found (for messages)
};

struct ThisMachineReport {
  ImportReport import; ///< the report of the module-tree import

  std::string root;           ///< as given
  std::string release;        ///< kernel release
  std::string release_source; ///< ROOT/proc/sys/kernel/osrelease, or "uname(2)"
  std::string modules_dir;    ///< ROOT/lib/modules/<release>
  std::string sysfs_devices;  ///< ROOT/sys/devices
  std::string proc_modules;   ///< ROOT/proc/modules

  // The sysfs walk.
  std::size_t modalias_files = 0;       ///< regular files named modalias that were read
  std::size_t modalias_unreadable = 0;  ///< could not be opened or read (skipped)
  std::size_t modalias_empty = 0;       ///< empty (no MODALIAS: no modprobe)
  std::size_t modalias_invalid = 0;     ///< control characters, blanks or over 4095 bytes
  std::size_t modalias_symlinks = 0;    ///< symbolic links named modalias (not followed)
  std::size_t directories_unreadable = 0; ///< directories that could not be listed
  std::size_t directories_repeated = 0;   ///< reached twice (a bind mount loop): not re-walked

  // Resolution of the modaliases (libkmod).
  std::size_t modaliases = 0;         ///< modaliases resolved (= files read - empty - invalid)
  std::size_t modaliases_one = 0;     ///< matched one module to load
  std::size_t modaliases_several = 0; ///< matched several: each one is loaded (one uevent each)
  std::size_t modaliases_unmatched = 0;  ///< matched nothing
  std::size_t modaliases_builtin = 0;    ///< matched only built-in modules
  std::size_t modaliases_blacklisted = 0; ///< matched only blacklisted (or built-in) modules
  std::size_t modaliases_refused = 0;    ///< libkmod refused the alias (e.g. unbalanced '[')
  std::size_t modaliases_not_in_tree = 0; ///< matched only modules without a modules.dep line
  std::size_t extra_uevents = 0;      ///< uevents beyond one per modalias (several matches)

  // The boot list (/proc/modules).
  std::size_t loaded_modules = 0;     ///< lines of /proc/modules
  std::size_t loaded_not_in_tree = 0; ///< of which have no modules.dep line (skipped)
  std::size_t boot_requests = 0;      ///< uevents added for loaded modules nothing else loads

  // kernel_exports: which source was used (ImportReport::kernel_exports_source) and what.
  std::string kernel_exports_how; ///< "__ksymtab_ entries of vmlinux", "vmlinux lines", ...
  std::vector<std::string> kernel_exports_tried; ///< every candidate, in order

  MachineFacts facts;
};

/// Imports the running system under options.root. Throws ImportError (exit status 2 in the
/// CLI), naming the path, for: a root that does not exist or is not a directory; no kernel
/// release; no ROOT/lib/modules/<release>; no ROOT/sys/devices or ROOT/proc/modules; a
/// missing or malformed modules.alias.bin (libkmod's index: "run depmod -b ROOT REL"); and
/// everything import_tree() refuses. Unreadable, empty or invalid modalias files, and loaded
/// modules without a modules.dep line, are skipped and counted (with a warning).
kmodsim::Workload import_this_machine(const ThisMachineOptions& options, ThisMachineReport& report);

/// Reads the machine facts under `root` (cores from sys/devices/system/cpu/online, else the
/// processors of proc/cpuinfo; RAM from proc/meminfo MemTotal). A missing file leaves its fact
/// 0; a malformed one is an ImportError naming it.
MachineFacts read_machine_facts(const std::string& root, std::uint64_t max_file_bytes);

/// The workload file of an --this-machine import: the header says where everything came from
/// (root, release, the sysfs walk, libkmod's resolution, /proc/modules, the kernel_exports
/// source or that none was found), then the same body as write_workload_yaml(), plus
/// index_modules (the modules of the whole tree, which modprobe's index covers).
void write_this_machine_workload_yaml(const kmodsim::Workload& workload,
                                      const ThisMachineReport& report, std::ostream& out,
                                      const std::string& date = "");

/// The machine file (schema of configs/machines/*.yaml): cores and ram_mb with their sources;
/// what /proc and /sys cannot tell (speed, disk, scheduler, module_area_mb) is left to the
/// scenario, listed in comments with the defaults that then apply. Throws ImportError if the
/// number of cores is unknown (the machine schema requires it).
void write_machine_yaml(const ThisMachineReport& report, std::ostream& out,
                        const std::string& date = "");
/// The check write_machine_yaml() makes first: throws its ImportError if the number of cores is
/// unknown or over the machine schema's limit.
void check_machine_facts(const ThisMachineReport& report);

// Parsers of the /proc and /sys files (each takes the text and the name for messages; a
// malformed line is an ImportError "SOURCE:LINE: ...").

/// /proc/kallsyms ("ADDRESS TYPE NAME [MODULE]"): the __ksymtab_<sym> symbols of vmlinux (no
/// [MODULE] column), i.e. its EXPORT_SYMBOL*s. The kernel lists them only with
/// CONFIG_KALLSYMS_ALL (they are data symbols): 0 means "not determinable here".
std::int64_t count_kallsyms_exports(std::string_view text, const std::string& source);

/// A CPU list as sysfs writes it ("0-3,8,10-11\n"): the number of CPUs in it.
std::size_t count_cpu_list(std::string_view text, const std::string& source);

/// /proc/meminfo: the value of "MemTotal: N kB" (an error if absent or malformed).
std::uint64_t parse_meminfo_total_kb(std::string_view text, const std::string& source);

/// /proc/cpuinfo: the number of "processor" lines, and the first "model name" ("" if none).
std::size_t count_cpuinfo_processors(std::string_view text);
std::string cpuinfo_model_name(std::string_view text);

} // namespace kmodsim::import
