// libFuzzer target: a workload's TSV files (workload keys uevents_tsv and modules_tsv,
// models/src/workload_tsv.cpp); every input goes through both readers. Any exception other
// than ConfigError, a crash, a sanitizer report, or a parsed row that breaks the reader's
// promises is a finding: a uevent's repeat >= 1 and its module empty or known; a module's name
// non-empty and unique, its numbers finite and >= 0, init_kb <= size_kb, dep_symbols <=
// undef_symbols, its deps known modules other than itself.
#include "kmodsim/config.hpp"
#include "workload_tsv.hpp"

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const std::vector<std::string> names = {"a", "b", "snd_hda_intel", "usbcore"};
  static const std::unordered_map<std::string, size_t> index = {{"a", 0}, {"b", 1}, {"snd_hda_intel", 2}, {"usbcore", 3}};
  const std::string text(reinterpret_cast<const char*>(data), size);
  try {
    for (const auto& u : kmodsim::detail::parse_uevents_tsv(text, "input.tsv", index, names))
      if (u.repeat < 1 || (!u.module.empty() && !index.count(u.module)))
        __builtin_trap();
  } catch (const kmodsim::ConfigError&) {
  }
  try {
    const auto mods = kmodsim::detail::parse_modules_tsv(text, "input.tsv");
    std::set<std::string> seen;
    for (const auto& m : mods)
      if (m.name.empty() || !seen.insert(m.name).second)
        __builtin_trap();
    for (const auto& m : mods) {
      for (double v : {m.size_kb, m.init_kb, m.file_kb, m.decompressed_kb, m.percpu_kb, m.init.cpu_us, m.init.wait_ms})
        if (!std::isfinite(v) || v < 0)
          __builtin_trap();
      if (m.init_kb > m.size_kb || m.dep_symbols > m.undef_symbols || m.undef_symbols < 0 || m.relocations < 0 ||
          m.exports < 0)
        __builtin_trap();
      for (const auto& d : m.deps)
        if (d == m.name || !seen.count(d))
          __builtin_trap();
    }
  } catch (const kmodsim::ConfigError&) {
  }
  return 0;
}
