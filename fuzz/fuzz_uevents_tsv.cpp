// libFuzzer target: a workload's uevents as TSV (workload key uevents_tsv,
// models/src/workload_tsv.cpp). Any exception other than ConfigError, a crash, a sanitizer
// report, or a parsed uevent that breaks the parser's promises (repeat >= 1, a module that is
// empty or known) is a finding.
#include "kmodsim/config.hpp"
#include "workload_tsv.hpp"

#include <cstddef>
#include <cstdint>
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
  return 0;
}
