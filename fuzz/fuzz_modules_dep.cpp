// libFuzzer target: the modules.dep parser and module-name normalisation.
#include "kmodsim/import/error.hpp"
#include "kmodsim/import/text_formats.hpp"

#include <cstddef>
#include <cstdint>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  try {
    for (const auto& line : kmodsim::import::parse_modules_dep(text, "modules.dep")) {
      (void)kmodsim::import::normalize_module_name(line.path);
      for (const auto& d : line.deps) (void)kmodsim::import::normalize_module_name(d);
    }
  } catch (const kmodsim::import::ImportError&) {
  }
  return 0;
}
