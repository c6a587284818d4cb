// kmodsim-import-check: a small driver around import_tree() for checks and scripts until the
// `kmodsim import` CLI subcommand exists.
//
//   kmodsim-import-check --modules-dir DIR [--boot-list FILE] [--uevents FILE] [--jobs N]
//                        [-o workload.yaml] [--date TEXT] [--name NAME] [--provenance TEXT]
//                        [--tsv FILE|-]
//
// --tsv writes one line per module with the raw feature values in bytes (not KiB), for
// comparison with readelf:
//   name alloc_bytes init_bytes file_bytes undef_symbols dep_symbols relocations exports
//   percpu_bytes deps(comma-separated)
// Without -o and --tsv it writes the TSV to stdout. The import's wall time, counts and
// warnings go to stderr. Exit status: 0 on success, 1 on an import error, 2 on bad usage.

#include "kmodsim/import/import.hpp"

#include <chrono>
#include <cmath>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <string>

namespace {

int usage() {
  std::cerr << "usage: kmodsim-import-check --modules-dir DIR [--boot-list FILE] [--uevents FILE]\n"
               "       [--jobs N] [-o workload.yaml] [--date TEXT] [--name NAME]\n"
               "       [--provenance TEXT] [--tsv FILE|-]\n";
  return 2;
}

long long bytes(double kib) { return std::llround(kib * 1024.0); }

void write_tsv(const kmodsim::Workload& w, std::ostream& out) {
  out << "name\talloc_bytes\tinit_bytes\tfile_bytes\tundef_symbols\tdep_symbols\trelocations\t"
         "exports\tpercpu_bytes\tdeps\n";
  for (const kmodsim::Module& m : w.modules) {
    out << m.name << '\t' << bytes(m.size_kb) << '\t' << bytes(m.init_kb) << '\t'
        << bytes(m.file_kb) << '\t' << m.undef_symbols << '\t' << m.dep_symbols << '\t'
        << m.relocations << '\t' << m.exports << '\t' << bytes(m.percpu_kb) << '\t';
    for (std::size_t i = 0; i < m.deps.size(); ++i) out << (i ? "," : "") << m.deps[i];
    out << '\n';
  }
}

} // namespace

int main(int argc, char** argv) {
  kmodsim::import::ImportOptions opt;
  std::string yaml_out, tsv_out, date, name, provenance;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto value = [&](std::string& dst) {
      if (i + 1 >= argc) return false;
      dst = argv[++i];
      return true;
    };
    std::string jobs;
    bool ok = true;
    if (a == "--modules-dir") ok = value(opt.modules_dir);
    else if (a == "--boot-list") ok = value(opt.boot_list);
    else if (a == "--uevents") ok = value(opt.uevents);
    else if (a == "-o") ok = value(yaml_out);
    else if (a == "--tsv") ok = value(tsv_out);
    else if (a == "--date") ok = value(date);
    else if (a == "--name") ok = value(name);
    else if (a == "--provenance") ok = value(provenance);
    else if (a == "--jobs") {
      ok = value(jobs);
      if (ok) opt.jobs = static_cast<unsigned>(std::strtoul(jobs.c_str(), nullptr, 10));
    } else {
      ok = false;
    }
    if (!ok) return usage();
  }
  if (opt.modules_dir.empty()) return usage();
  if (yaml_out.empty() && tsv_out.empty()) tsv_out = "-";

  kmodsim::import::ImportReport report;
  kmodsim::Workload w;
  const auto t0 = std::chrono::steady_clock::now();
  try {
    w = kmodsim::import::import_tree(opt, report);
  } catch (const kmodsim::import::ImportError& e) {
    std::cerr << "error: " << e.what() << "\n";
    return 1;
  }
  const double secs =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  if (!name.empty()) w.name = name;
  if (!provenance.empty()) w.provenance = provenance;

  std::cerr << "imported " << report.modules_imported << " of " << report.modules_in_tree
            << " modules, " << report.uevents << " uevents (" << report.uevents_unmatched
            << " unmatched, " << report.uevents_duplicate << " duplicate), kernel "
            << report.kernel_version << ", kernel_exports " << w.kernel_exports << ", "
            << report.warnings.size() << " warnings, in " << secs << " s\n";
  for (const std::string& warning : report.warnings) std::cerr << "warning: " << warning << "\n";

  if (!tsv_out.empty()) {
    if (tsv_out == "-") {
      write_tsv(w, std::cout);
    } else {
      std::ofstream f(tsv_out);
      write_tsv(w, f);
      if (!f) {
        std::cerr << "error: cannot write " << tsv_out << "\n";
        return 1;
      }
    }
  }
  if (!yaml_out.empty()) {
    std::ofstream f(yaml_out);
    kmodsim::import::write_workload_yaml(w, report, opt, f, date);
    if (!f) {
      std::cerr << "error: cannot write " << yaml_out << "\n";
      return 1;
    }
  }
  return 0;
}
