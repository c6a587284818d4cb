// Text-format parsers: see text_formats.hpp for the formats.

#include "kmodsim/import/text_formats.hpp"

#include "kmodsim/import/error.hpp"

#include <fnmatch.h>

#include <limits>
#include <unordered_map>
#include <utility>

namespace kmodsim::import {
namespace {

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f'; }

std::string_view trim(std::string_view s) {
  while (!s.empty() && is_space(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_space(s.back())) s.remove_suffix(1);
  return s;
}

std::vector<std::string_view> split_ws(std::string_view s) {
  std::vector<std::string_view> out;
  std::size_t i = 0;
  while (i < s.size()) {
    while (i < s.size() && is_space(s[i])) ++i;
    const std::size_t start = i;
    while (i < s.size() && !is_space(s[i])) ++i;
    if (i > start) out.push_back(s.substr(start, i - start));
  }
  return out;
}

/// Calls fn(line_text, line_number) for every line (without its '\n').
template <class Fn> void for_each_line(std::string_view text, Fn&& fn) {
  std::size_t pos = 0;
  std::size_t number = 0;
  while (pos < text.size()) {
    std::size_t end = text.find('\n', pos);
    if (end == std::string_view::npos) end = text.size();
    ++number;
    fn(text.substr(pos, end - pos), number);
    pos = end + 1;
  }
}

/// Blank or '#' comment line.
bool skippable(std::string_view trimmed) { return trimmed.empty() || trimmed.front() == '#'; }

bool parse_u64(std::string_view s, std::uint64_t& out, int base = 10) {
  if (s.empty()) return false;
  std::uint64_t v = 0;
  for (char c : s) {
    unsigned digit;
    if (c >= '0' && c <= '9') {
      digit = static_cast<unsigned>(c - '0');
    } else if (base == 16 && c >= 'a' && c <= 'f') {
      digit = static_cast<unsigned>(c - 'a' + 10);
    } else if (base == 16 && c >= 'A' && c <= 'F') {
      digit = static_cast<unsigned>(c - 'A' + 10);
    } else {
      return false;
    }
    if (v > (std::numeric_limits<std::uint64_t>::max() - digit) / static_cast<unsigned>(base)) {
      return false;
    }
    v = v * static_cast<unsigned>(base) + digit;
  }
  out = v;
  return true;
}

bool parse_hex_prefixed(std::string_view s, std::uint64_t& out) {
  if (s.size() > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) s.remove_prefix(2);
  return parse_u64(s, out, 16);
}

/// Characters a module name may contain (what the kernel's Kbuild accepts for a module).
bool valid_module_name(std::string_view name) {
  if (name.empty()) return false;
  for (char c : name) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '_' || c == '-';
    if (!ok) return false;
  }
  return true;
}

bool starts_with(std::string_view s, std::string_view prefix) {
  return s.size() >= prefix.size() && s.compare(0, prefix.size(), prefix) == 0;
}

} // namespace

std::string normalize_module_name(std::string_view path_or_name) {
  const std::size_t slash = path_or_name.rfind('/');
  std::string_view base = slash == std::string_view::npos ? path_or_name : path_or_name.substr(slash + 1);
  for (std::string_view suffix : {".xz", ".zst", ".gz"}) {
    if (base.size() > suffix.size() &&
        base.compare(base.size() - suffix.size(), suffix.size(), suffix) == 0) {
      base.remove_suffix(suffix.size());
      break;
    }
  }
  if (base.size() > 3 && base.compare(base.size() - 3, 3, ".ko") == 0) base.remove_suffix(3);
  std::string name(base);
  for (char& c : name) {
    if (c == '-') c = '_';
  }
  return name;
}

// ---- modules.dep ---------------------------------------------------------------------------

std::vector<DepLine> parse_modules_dep(std::string_view text, const std::string& source) {
  std::vector<DepLine> out;
  std::unordered_map<std::string, std::size_t> seen; // path -> line
  for_each_line(text, [&](std::string_view raw, std::size_t number) {
    const std::string_view line = trim(raw);
    if (skippable(line)) return;
    const std::size_t colon = line.find(':');
    if (colon == std::string_view::npos) {
      throw ImportError::at_line(source, number,
                                 "malformed modules.dep line (no ':' after the module path): " +
                                     quote_for_message(line));
    }
    const std::string_view path = trim(line.substr(0, colon));
    if (path.empty() || split_ws(path).size() != 1) {
      throw ImportError::at_line(source, number,
                                 "malformed modules.dep line (bad module path before ':'): " +
                                     quote_for_message(line));
    }
    DepLine dep;
    dep.path = std::string(path);
    dep.line = number;
    for (std::string_view d : split_ws(line.substr(colon + 1))) {
      if (d.find(':') != std::string_view::npos) {
        throw ImportError::at_line(source, number,
                                   "malformed modules.dep line (second ':'): " +
                                       quote_for_message(line));
      }
      dep.deps.emplace_back(d);
    }
    const auto [it, inserted] = seen.emplace(dep.path, number);
    if (!inserted) {
      throw ImportError::at_line(source, number,
                                 "module path " + quote_for_message(path) +
                                     " listed twice (first at line " + std::to_string(it->second) +
                                     ")");
    }
    out.push_back(std::move(dep));
  });
  return out;
}

// ---- modules.softdep -----------------------------------------------------------------------

std::vector<SoftDep> parse_modules_softdep(std::string_view text, const std::string& source) {
  std::vector<SoftDep> out;
  for_each_line(text, [&](std::string_view raw, std::size_t number) {
    const std::string_view line = trim(raw);
    if (skippable(line)) return;
    const std::vector<std::string_view> tok = split_ws(line);
    if (tok[0] != "softdep") {
      throw ImportError::at_line(source, number,
                                 "unknown command " + quote_for_message(tok[0]) +
                                     " (modules.softdep holds only 'softdep' lines)");
    }
    if (tok.size() < 2 || tok[1] == "pre:" || tok[1] == "post:") {
      throw ImportError::at_line(source, number, "softdep line without a module name");
    }
    SoftDep sd;
    sd.module = std::string(tok[1]);
    sd.line = number;
    std::vector<std::string>* target = nullptr;
    for (std::size_t i = 2; i < tok.size(); ++i) {
      if (tok[i] == "pre:") {
        target = &sd.pre;
      } else if (tok[i] == "post:") {
        target = &sd.post;
      } else if (target == nullptr) {
        // Real trees have these (e.g. Linux 6.1's cifs: MODULE_SOFTDEP("gcm") gives
        // "softdep cifs gcm"); kmod ignores such names, we keep them apart.
        sd.unqualified.emplace_back(tok[i]);
      } else {
        target->emplace_back(tok[i]);
      }
    }
    out.push_back(std::move(sd));
  });
  return out;
}

// ---- modules.alias -------------------------------------------------------------------------

std::vector<AliasEntry> parse_modules_alias(std::string_view text, const std::string& source) {
  std::vector<AliasEntry> out;
  for_each_line(text, [&](std::string_view raw, std::size_t number) {
    const std::string_view line = trim(raw);
    if (skippable(line)) return;
    const std::vector<std::string_view> tok = split_ws(line);
    if (tok.size() != 3 || tok[0] != "alias") {
      throw ImportError::at_line(source, number,
                                 "malformed modules.alias line (expected 'alias PATTERN "
                                 "MODULE'): " +
                                     quote_for_message(line));
    }
    out.push_back(AliasEntry{std::string(tok[1]), std::string(tok[2]), number});
  });
  return out;
}

bool normalize_alias(std::string_view alias, std::string& out) {
  out.clear();
  out.reserve(alias.size());
  for (std::size_t i = 0; i < alias.size(); ++i) {
    const char c = alias[i];
    if (c == '[') {
      const std::size_t close = alias.find(']', i + 1);
      if (close == std::string_view::npos) return false;
      out.append(alias.substr(i, close - i + 1));
      i = close;
    } else if (c == ']') {
      return false;
    } else {
      out += c == '-' ? '_' : c;
    }
  }
  return true;
}

AliasMatcher::AliasMatcher(std::vector<AliasEntry> entries) : entries_(std::move(entries)) {
  normalized_.resize(entries_.size());
  literal_prefix_.resize(entries_.size());
  for (std::size_t i = 0; i < entries_.size(); ++i) {
    std::string n;
    if (!normalize_alias(entries_[i].pattern, n) || n.find('\0') != std::string::npos) n.clear();
    const std::size_t wild = n.find_first_of("*?[\\");
    literal_prefix_[i] = wild == std::string::npos ? n.size() : wild;
    normalized_[i] = std::move(n);
  }
}

std::vector<std::size_t> AliasMatcher::match(std::string_view modalias) const {
  std::vector<std::size_t> hits;
  std::string key;
  if (!normalize_alias(modalias, key) || key.find('\0') != std::string::npos) return hits;
  for (std::size_t i = 0; i < entries_.size(); ++i) {
    const std::string& pat = normalized_[i];
    if (pat.empty()) continue;
    // Cheap filter: the part of the pattern before its first wildcard must match literally.
    if (key.compare(0, literal_prefix_[i], pat, 0, literal_prefix_[i]) != 0) continue;
    if (fnmatch(pat.c_str(), key.c_str(), 0) == 0) hits.push_back(i);
  }
  return hits;
}

// ---- boot lists ----------------------------------------------------------------------------

BootList parse_boot_list(std::string_view text, const std::string& source) {
  BootList list;
  bool format_known = false;
  std::unordered_map<std::string, std::size_t> seen; // name -> line
  for_each_line(text, [&](std::string_view raw, std::size_t number) {
    const std::string_view line = trim(raw);
    if (skippable(line)) return;
    const std::vector<std::string_view> tok = split_ws(line);
    if (!format_known) {
      format_known = true;
      if (tok[0] == "Module") {
        if (tok.size() != 4 || tok[1] != "Size" || tok[2] != "Used" || tok[3] != "by") {
          throw ImportError::at_line(source, number,
                                     "malformed lsmod header (expected 'Module Size Used by'): " +
                                         quote_for_message(line));
        }
        list.format = BootListFormat::lsmod;
        return;
      }
      list.format = BootListFormat::proc_modules;
    }
    BootListEntry e;
    e.line = number;
    std::uint64_t count = 0;
    if (list.format == BootListFormat::lsmod) {
      // NAME SIZE USECOUNT [HOLDERS]
      if (tok.size() < 3 || tok.size() > 4 || !parse_u64(tok[1], e.size) ||
          !(parse_u64(tok[2], count) || tok[2] == "-")) {
        throw ImportError::at_line(source, number,
                                   "malformed lsmod line (expected 'NAME SIZE USECOUNT "
                                   "[HOLDERS]'): " +
                                       quote_for_message(line));
      }
    } else {
      // NAME SIZE REFCOUNT DEPS STATE ADDRESS [TAINTS]
      std::uint64_t address = 0;
      const bool state_ok = tok.size() >= 5 &&
                            (tok[4] == "Live" || tok[4] == "Loading" || tok[4] == "Unloading");
      if (tok.size() < 6 || tok.size() > 7 || !parse_u64(tok[1], e.size) ||
          !(parse_u64(tok[2], count) || tok[2] == "-") || !state_ok ||
          !parse_hex_prefixed(tok[5], address)) {
        throw ImportError::at_line(source, number,
                                   "malformed /proc/modules line (expected 'NAME SIZE REFCOUNT "
                                   "DEPS STATE ADDRESS [TAINTS]'): " +
                                       quote_for_message(line));
      }
    }
    if (!valid_module_name(tok[0])) {
      throw ImportError::at_line(source, number,
                                 "invalid module name " + quote_for_message(tok[0]));
    }
    e.name = normalize_module_name(tok[0]);
    const auto [it, inserted] = seen.emplace(e.name, number);
    if (!inserted) {
      throw ImportError::at_line(source, number,
                                 "module '" + e.name + "' listed twice (first at line " +
                                     std::to_string(it->second) + ")");
    }
    list.modules.push_back(std::move(e));
  });
  return list;
}

// ---- uevent lists --------------------------------------------------------------------------

std::vector<UeventRequest> parse_uevent_list(std::string_view text, const std::string& source) {
  std::vector<UeventRequest> out;
  for_each_line(text, [&](std::string_view raw, std::size_t number) {
    const std::string_view line = trim(raw);
    if (skippable(line)) return;
    if (split_ws(line).size() != 1) {
      throw ImportError::at_line(source, number,
                                 "malformed uevent line (one modalias per line, no spaces): " +
                                     quote_for_message(line));
    }
    if (line.find('\0') != std::string_view::npos) {
      throw ImportError::at_line(source, number, "modalias contains a NUL byte");
    }
    out.push_back(UeventRequest{std::string(line), number});
  });
  return out;
}

// ---- vmlinux exports -----------------------------------------------------------------------

std::int64_t count_symvers_vmlinux_exports(std::string_view text, const std::string& source) {
  std::int64_t count = 0;
  for_each_line(text, [&](std::string_view raw, std::size_t number) {
    if (!raw.empty() && raw.back() == '\r') raw.remove_suffix(1);
    if (skippable(trim(raw))) return;
    // Tab-separated, and an empty namespace is an empty field, so split at every tab.
    std::vector<std::string_view> field;
    std::size_t pos = 0;
    for (;;) {
      const std::size_t tab = raw.find('\t', pos);
      field.push_back(raw.substr(pos, tab == std::string_view::npos ? std::string_view::npos
                                                                    : tab - pos));
      if (tab == std::string_view::npos) break;
      pos = tab + 1;
    }
    std::uint64_t crc = 0;
    if (field.size() < 4 || field.size() > 5 || !parse_hex_prefixed(field[0], crc) ||
        field[1].empty()) {
      throw ImportError::at_line(source, number,
                                 "malformed Module.symvers line (expected tab-separated 'CRC "
                                 "SYMBOL MODULE EXPORT_TYPE [NAMESPACE]'): " +
                                     quote_for_message(raw));
    }
    // Linux 5.4 to 5.9 wrote the namespace third ("CRC SYMBOL NAMESPACE MODULE TYPE"); 5.10
    // moved it last. The export type column tells which layout a line has.
    const bool namespace_third = field.size() == 5 && starts_with(field[4], "EXPORT_SYMBOL");
    const std::string_view module = namespace_third ? field[3] : field[2];
    if (module == "vmlinux") ++count;
  });
  return count;
}

std::int64_t count_system_map_exports(std::string_view text, const std::string& source) {
  std::int64_t count = 0;
  for_each_line(text, [&](std::string_view raw, std::size_t number) {
    const std::string_view line = trim(raw);
    if (skippable(line)) return;
    const std::vector<std::string_view> tok = split_ws(line);
    std::uint64_t address = 0;
    // Extra words after NAME are tolerated: Debian ships a one-line placeholder
    // ("ffffffffffffffff B The real System.map is in the linux-image-<version>-dbg package").
    if (tok.size() < 3 || tok[1].size() != 1 || !parse_hex_prefixed(tok[0], address)) {
      throw ImportError::at_line(source, number,
                                 "malformed System.map line (expected 'ADDRESS TYPE NAME'): " +
                                     quote_for_message(line));
    }
    if (starts_with(tok[2], "__ksymtab_") && tok[2] != "__ksymtab_strings") ++count;
  });
  return count;
}

} // namespace kmodsim::import
