// write_workload_yaml(): the workload file, schema_version 1. Printed by hand (not with
// YAML::Emitter) to get one compact, stable line per module and per uevent; every string that
// is not a plain identifier is double-quoted with escapes, so any input reads back intact.

#include "kmodsim/import/import.hpp"

#include "yaml_text.hpp"

#include <cmath>

#include <charconv>
#include <cstdio>
#include <string_view>

namespace kmodsim::import {
namespace {

/// Words a YAML 1.1/1.2 reader may take for a boolean or null when written plain.
bool reserved_word(std::string_view s) {
  std::string lower(s);
  for (char& c : lower) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  for (const char* w : {"null", "true", "false", "yes", "no", "on", "off", "y", "n"}) {
    if (lower == w) return true;
  }
  return false;
}

} // namespace

namespace detail {

std::string scalar(std::string_view s) {
  bool plain = !s.empty() && !reserved_word(s) &&
               ((s[0] >= 'a' && s[0] <= 'z') || (s[0] >= 'A' && s[0] <= 'Z') || s[0] == '_');
  for (char c : s) {
    if (!plain) break;
    plain = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
  }
  if (plain) return std::string(s);
  std::string out = "\"";
  for (char c : s) {
    const auto u = static_cast<unsigned char>(c);
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (u < 0x20 || u >= 0x7f) {
      char esc[8];
      std::snprintf(esc, sizeof esc, "\\x%02x", u);
      out += esc;
    } else {
      out += c;
    }
  }
  out += '"';
  return out;
}

std::string comment_text(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) c = '?';
  }
  return out;
}

std::string shortest(double v) {
  char buf[400];
  const auto res = std::to_chars(buf, buf + sizeof buf, v, std::chars_format::fixed);
  if (res.ec != std::errc()) return "0";
  return std::string(buf, res.ptr);
}

void write_warnings(const std::vector<std::string>& warnings, std::ostream& out) {
  constexpr std::size_t kMaxWarnings = 50;
  out << "# warnings:       " << warnings.size() << "\n";
  for (std::size_t i = 0; i < warnings.size() && i < kMaxWarnings; ++i) {
    out << "#   " << comment_text(warnings[i]) << "\n";
  }
  if (warnings.size() > kMaxWarnings) {
    out << "#   ... and " << (warnings.size() - kMaxWarnings) << " more\n";
  }
}

void write_workload_body(const kmodsim::Workload& w, bool index_modules, std::ostream& out) {
  out << "schema_version: 1\n";
  out << "name: " << scalar(w.name) << "\n";
  out << "provenance: " << scalar(w.provenance) << "\n";
  out << "kernel_exports: " << w.kernel_exports << "\n";
  if (index_modules) out << "index_modules: " << w.index_modules << "\n";
  out << "modules:" << (w.modules.empty() ? " []" : "") << "\n";
  for (const kmodsim::Module& m : w.modules) {
    out << "  - {name: " << scalar(m.name) << ", size_kb: " << format_kib(m.size_kb)
        << ", init_kb: " << format_kib(m.init_kb) << ", file_kb: " << format_kib(m.file_kb);
    if (m.decompressed_kb > 0) out << ", decompressed_kb: " << format_kib(m.decompressed_kb);
    out << ", undef_symbols: " << m.undef_symbols << ", dep_symbols: " << m.dep_symbols
        << ", relocations: " << m.relocations << ", exports: " << m.exports
        << ", percpu_kb: " << format_kib(m.percpu_kb) << ", deps: [";
    for (std::size_t i = 0; i < m.deps.size(); ++i) out << (i ? ", " : "") << scalar(m.deps[i]);
    out << "], init: {cpu_us: " << shortest(m.init.cpu_us)
        << ", wait_ms: " << shortest(m.init.wait_ms) << "}}\n";
  }
  out << "uevents:" << (w.uevents.empty() ? " []" : "") << "\n";
  for (const kmodsim::Uevent& u : w.uevents) {
    out << "  - {device: \"";
    // Always quote devices: modaliases hold ':' and '*'.
    const std::string q = scalar(u.device);
    if (!q.empty() && q.front() == '"') {
      out << q.substr(1, q.size() - 2);
    } else {
      out << q;
    }
    out << "\", module: " << (u.module.empty() ? std::string("null") : scalar(u.module)) << "}\n";
  }
}

} // namespace detail

using namespace detail;

std::string format_kib(double kib) {
  std::string s = shortest(kib);
  if (s.find('.') == std::string::npos) s += ".0";
  return s;
}

void write_workload_yaml(const kmodsim::Workload& w, const ImportReport& r,
                         const ImportOptions& o, std::ostream& out, const std::string& date) {
  out << "# kmodsim workload written by `kmodsim import` (docs/import.md)\n";
  out << "# source tree:    " << comment_text(o.modules_dir) << "\n";
  out << "# kernel version: " << comment_text(r.kernel_version) << "\n";
  out << "# boot list:      " << (o.boot_list.empty() ? "(none: every module of modules.dep)"
                                                        : comment_text(o.boot_list))
      << "\n";
  out << "# uevent list:    "
      << (o.uevents.empty() ? (o.boot_list.empty() ? "(none: one uevent per module)"
                                                   : "(none: one uevent per boot-list module)")
                            : comment_text(o.uevents))
      << "\n";
  if (!date.empty()) out << "# date:           " << comment_text(date) << "\n";
  out << "# modules:        " << r.modules_imported << " of " << r.modules_in_tree
      << " in modules.dep";
  if (!o.boot_list.empty()) {
    out << " (" << r.boot_list_modules << " from the boot list, " << r.uevent_added_modules
        << " added by uevents, " << r.dependency_modules << " dependencies)";
  }
  out << "; sorted by name, deps in modules.dep order\n";
  out << "# module files:   " << r.files_plain << " .ko, " << r.files_xz << " .ko.xz, "
      << r.files_zstd << " .ko.zst, " << r.files_gzip << " .ko.gz; " << r.bytes_on_disk
      << " bytes on disk, " << r.bytes_elf << " bytes of ELF\n";
  out << "# uevents:        " << r.uevents << " (" << r.uevents_unmatched << " matching no module, "
      << r.uevents_duplicate << " for an already requested module)\n";
  out << "# kernel_exports: "
      << (r.kernel_exports_source.empty() ? "not found, set to 0"
                                          : "counted in " + comment_text(r.kernel_exports_source))
      << "\n";
  out << "# init costs:     0 (not in .ko files; a calibration supplies them)\n";
  write_warnings(r.warnings, out);

  write_workload_body(w, false, out);
}

void write_features_tsv(const kmodsim::Workload& w, std::ostream& out) {
  const auto bytes = [](double kib) { return std::llround(kib * 1024.0); };
  out << "name\talloc_bytes\tinit_bytes\tfile_bytes\tundef_symbols\tdep_symbols\trelocations\t"
         "exports\tpercpu_bytes\tdeps\n";
  for (const kmodsim::Module& m : w.modules) {
    out << m.name << '\t' << bytes(m.size_kb) << '\t' << bytes(m.init_kb) << '\t'
        << bytes(m.decompressed_kb > 0 ? m.decompressed_kb : m.file_kb) // the ELF image, as before
        << '\t' << m.undef_symbols << '\t' << m.dep_symbols << '\t'
        << m.relocations << '\t' << m.exports << '\t' << bytes(m.percpu_kb) << '\t';
    for (std::size_t i = 0; i < m.deps.size(); ++i) out << (i ? "," : "") << m.deps[i];
    out << '\n';
  }
}

} // namespace kmodsim::import
