// write_this_machine_workload_yaml() and write_machine_yaml() (this_machine.hpp).

#include "kmodsim/import/this_machine.hpp"

#include "yaml_text.hpp"

#include "kmodsim/limits.hpp"

#include <string>

namespace kmodsim::import {
using namespace detail;

void write_this_machine_workload_yaml(const kmodsim::Workload& w, const ThisMachineReport& t,
                                      std::ostream& out, const std::string& date) {
  const ImportReport& r = t.import;
  out << "# kmodsim workload written by `kmodsim import --this-machine` (docs/import.md, "
         "\"Simulate this machine\")\n";
  out << "# root:           " << comment_text(t.root) << "\n";
  out << "# kernel release: " << comment_text(t.release) << " (from "
      << comment_text(t.release_source) << ")\n";
  out << "# source tree:    " << comment_text(t.modules_dir) << " (" << r.modules_in_tree
      << " modules: index_modules)\n";
  out << "# kernel version: " << comment_text(r.kernel_version) << " (vermagic)\n";
  if (!date.empty()) out << "# date:           " << comment_text(date) << "\n";
  out << "# boot list:      " << comment_text(t.proc_modules) << ": " << t.loaded_modules
      << " modules loaded (" << t.loaded_not_in_tree << " not in modules.dep, left out); "
      << t.boot_requests
      << " of them have a uevent \"boot-list:NAME\" (no modalias and no dependency loads them)\n";
  out << "# uevent list:    " << comment_text(t.sysfs_devices) << "/**/modalias: "
      << t.modalias_files << " files (" << t.modalias_empty << " empty, " << t.modalias_invalid
      << " invalid; " << t.modalias_unreadable << " unreadable, " << t.modalias_symlinks
      << " symbolic links and " << t.directories_unreadable
      << " unreadable directories skipped), in path order\n";
  out << "#                 " << t.modaliases
      << " modaliases resolved with libkmod (modprobe.d of the root; built-in and blacklisted "
         "modules are not loaded):\n";
  out << "#                 " << t.modaliases_one << " match one module, " << t.modaliases_several
      << " several (each loaded, as udev does: " << t.extra_uevents
      << " more uevents with the same device), " << t.modaliases_unmatched << " none, "
      << t.modaliases_builtin << " only built-in modules, " << t.modaliases_blacklisted
      << " only blacklisted ones, " << t.modaliases_not_in_tree
      << " only modules outside modules.dep, " << t.modaliases_refused << " refused by libkmod\n";
  out << "# modules:        " << r.modules_imported << " of " << r.modules_in_tree
      << " in modules.dep (" << r.boot_list_modules << " loaded by the machine, "
      << r.uevent_added_modules << " added by uevents, " << r.dependency_modules
      << " dependencies); sorted by name, deps in modules.dep order\n";
  out << "# module files:   " << r.files_plain << " .ko, " << r.files_xz << " .ko.xz, "
      << r.files_zstd << " .ko.zst, " << r.files_gzip << " .ko.gz; " << r.bytes_on_disk
      << " bytes on disk, " << r.bytes_elf << " bytes of ELF\n";
  out << "# uevents:        " << r.uevents << " (" << r.uevents_unmatched << " matching no module, "
      << r.uevents_duplicate << " for an already requested module)\n";
  if (r.kernel_exports_source.empty()) {
    out << "# kernel_exports: NOT DETERMINABLE, written as 0; looked in:\n";
    for (const std::string& f : t.kernel_exports_tried) out << "#                   " << comment_text(f) << "\n";
  } else {
    out << "# kernel_exports: " << comment_text(t.kernel_exports_how) << " "
        << comment_text(r.kernel_exports_source) << "\n";
  }
  out << "# init costs:     0 (not in .ko files; a calibration supplies them)\n";
  write_warnings(r.warnings, out);
  write_workload_body(w, true, out);
}

void check_machine_facts(const ThisMachineReport& t) {
  const MachineFacts& f = t.facts;
  if (f.cores < 1 || f.cores > kmodsim::limits::kMaxCores) {
    std::string tried;
    for (const std::string& p : f.tried) tried += (tried.empty() ? "" : ", ") + p;
    throw ImportError::in_file(
        f.cores_source.empty() ? t.root : f.cores_source,
        f.cores < 1 ? "the number of CPUs is unknown (not found: " + tried +
                          "); a machine file needs cores"
                    : std::to_string(f.cores) + " CPUs, over the machine schema's limit of " +
                          std::to_string(kmodsim::limits::kMaxCores));
  }
}

void write_machine_yaml(const ThisMachineReport& t, std::ostream& out, const std::string& date) {
  check_machine_facts(t);
  const MachineFacts& f = t.facts;
  out << "# kmodsim machine written by `kmodsim import --this-machine` (docs/import.md, "
         "\"Simulate this machine\")\n";
  out << "# root:           " << comment_text(t.root) << "\n";
  if (!date.empty()) out << "# date:           " << comment_text(date) << "\n";
  out << "schema_version: 1\n";
  out << "name: " << scalar("this-machine-" + t.release) << "\n";
  std::string description = f.cpu_model.empty() ? std::string("this machine") : f.cpu_model;
  description += ", " + std::to_string(f.cores) + " CPUs online";
  if (f.mem_total_kb > 0) description += ", MemTotal " + std::to_string(f.mem_total_kb) + " kB";
  description += ", kernel " + t.release;
  out << "description: " << scalar(description) << "\n";
  out << "cores: " << f.cores << "  # source: " << comment_text(f.cores_source);
  if (!f.cpu_list.empty()) out << " (" << comment_text(f.cpu_list) << ")";
  out << "\n";
  if (f.mem_total_kb > 0) {
    out << "ram_mb: " << shortest(static_cast<double>(f.mem_total_kb) / 1024.0)
        << "  # source: " << comment_text(f.ram_source) << " MemTotal " << f.mem_total_kb
        << " kB / 1024 (the memory systemd-udevd's children_max reads)\n";
  } else {
    out << "# ram_mb: unknown (" << comment_text(t.root)
        << "/proc/meminfo not found); the udev children_max formulas that need it refuse to "
           "run without it\n";
  }
  out << "# Not known from /proc and /sys, so left to the scenario; unless it sets them\n"
         "# (e.g. --set machine.speed=2.5) these defaults of the machine schema apply:\n"
         "#   speed: 1.0             the calibration's reference machine (a 2009 Turion TL-56 core),\n"
         "#                          not this CPU: measure it (docs/calibration.md)\n"
         "#   module_area_mb: 1024   x86-64 MODULES_LEN with KASLR (DOMAIN.md section 4)\n"
         "#   disk: {read_mbps: 0, latency_ms: 0}   module files read in no time\n"
         "#   scheduler: {model: time_slice, slice_ms: 4}\n";
}

} // namespace kmodsim::import
