// Parsers of the /proc and /sys files of `import --this-machine` (this_machine.hpp).

#include "kmodsim/import/this_machine.hpp"

#include "kmodsim/import/error.hpp"

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace kmodsim::import {
namespace {

bool blank(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f'; }

std::string_view trim(std::string_view s) {
  while (!s.empty() && blank(s.front())) s.remove_prefix(1);
  while (!s.empty() && blank(s.back())) s.remove_suffix(1);
  return s;
}

/// Calls fn(line, number) for each line (1-based), without its '\n'.
template <class Fn> void each_line(std::string_view text, Fn&& fn) {
  std::size_t number = 0;
  while (!text.empty()) {
    const std::size_t nl = text.find('\n');
    fn(text.substr(0, nl), ++number);
    if (nl == std::string_view::npos) break;
    text.remove_prefix(nl + 1);
  }
}

std::vector<std::string_view> words(std::string_view s) {
  std::vector<std::string_view> out;
  std::size_t i = 0;
  while (i < s.size()) {
    while (i < s.size() && blank(s[i])) ++i;
    const std::size_t start = i;
    while (i < s.size() && !blank(s[i])) ++i;
    if (i > start) out.push_back(s.substr(start, i - start));
  }
  return out;
}

bool decimal(std::string_view s, std::uint64_t& out) {
  if (s.empty() || s.size() > 19) return false;
  out = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
    out = out * 10 + static_cast<std::uint64_t>(c - '0');
  }
  return true;
}

bool hex(std::string_view s) {
  if (s.empty() || s.size() > 16) return false;
  for (char c : s) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'))) return false;
  }
  return true;
}

} // namespace

std::int64_t count_kallsyms_exports(std::string_view text, const std::string& source) {
  std::int64_t count = 0;
  each_line(text, [&](std::string_view raw, std::size_t number) {
    const std::string_view line = trim(raw);
    if (line.empty()) return;
    const std::vector<std::string_view> w = words(line);
    // ADDRESS TYPE NAME, then "[MODULE]" for a module's symbol (the kernel separates it with a
    // tab; the address reads 0 without the right to see it).
    if (w.size() < 3 || w.size() > 4 || !hex(w[0]) || w[1].size() != 1 ||
        (w.size() == 4 && (w[3].size() < 3 || w[3].front() != '[' || w[3].back() != ']'))) {
      throw ImportError::at_line(source, number,
                                 "malformed kallsyms line (expected 'ADDRESS TYPE NAME "
                                 "[MODULE]'): " +
                                     quote_for_message(line));
    }
    if (w.size() == 3 && w[2].substr(0, 10) == "__ksymtab_" && w[2] != "__ksymtab_strings") ++count;
  });
  return count;
}

std::size_t count_cpu_list(std::string_view text, const std::string& source) {
  const std::size_t nl = text.find('\n');
  const std::string_view list = trim(text.substr(0, nl));
  if (nl != std::string_view::npos &&
      text.find_first_not_of("\n \t\r", nl) != std::string_view::npos) {
    throw ImportError::at_line(source, 2, "more than one line (a CPU list is one line)");
  }
  if (list.empty()) throw ImportError::at_line(source, 1, "empty CPU list");
  std::size_t count = 0;
  std::string_view rest = list;
  while (!rest.empty()) {
    const std::size_t comma = rest.find(',');
    const std::string_view item = rest.substr(0, comma);
    const std::size_t dash = item.find('-');
    std::uint64_t lo = 0;
    std::uint64_t hi = 0;
    const bool ok = dash == std::string_view::npos
                        ? decimal(item, lo) && ((hi = lo), true)
                        : decimal(item.substr(0, dash), lo) && decimal(item.substr(dash + 1), hi);
    if (!ok || hi < lo || hi >= (std::uint64_t{1} << 20)) {
      throw ImportError::at_line(source, 1, "malformed CPU list (expected e.g. '0-3,8'): " +
                                                quote_for_message(list));
    }
    count += static_cast<std::size_t>(hi - lo + 1);
    if (comma == std::string_view::npos) break;
    rest.remove_prefix(comma + 1);
    if (rest.empty()) {
      throw ImportError::at_line(source, 1, "malformed CPU list (trailing ','): " +
                                                quote_for_message(list));
    }
  }
  return count;
}

std::uint64_t parse_meminfo_total_kb(std::string_view text, const std::string& source) {
  std::uint64_t kb = 0;
  bool found = false;
  each_line(text, [&](std::string_view raw, std::size_t number) {
    const std::string_view line = trim(raw);
    if (found || line.substr(0, 9) != "MemTotal:") return;
    const std::vector<std::string_view> w = words(line.substr(9));
    if (w.size() != 2 || w[1] != "kB" || !decimal(w[0], kb) || kb == 0) {
      throw ImportError::at_line(source, number,
                                 "malformed MemTotal line (expected 'MemTotal: N kB'): " +
                                     quote_for_message(line));
    }
    found = true;
  });
  if (!found) throw ImportError::in_file(source, "no 'MemTotal:' line");
  return kb;
}

std::size_t count_cpuinfo_processors(std::string_view text) {
  std::size_t n = 0;
  each_line(text, [&](std::string_view raw, std::size_t) {
    const std::string_view line = trim(raw);
    const std::size_t colon = line.find(':');
    if (colon != std::string_view::npos && trim(line.substr(0, colon)) == "processor") ++n;
  });
  return n;
}

std::string cpuinfo_model_name(std::string_view text) {
  std::string name;
  each_line(text, [&](std::string_view raw, std::size_t) {
    const std::string_view line = trim(raw);
    const std::size_t colon = line.find(':');
    if (name.empty() && colon != std::string_view::npos &&
        trim(line.substr(0, colon)) == "model name") {
      name = std::string(trim(line.substr(colon + 1)));
    }
  });
  return name;
}

} // namespace kmodsim::import
