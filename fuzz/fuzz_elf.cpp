// libFuzzer target: the ELF reader and feature extraction on arbitrary bytes. Any input must
// either parse or raise ImportError; sanitizers catch everything else.
#include "kmodsim/import/elf.hpp"
#include "kmodsim/import/error.hpp"

#include <cstddef>
#include <cstdint>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  try {
    const kmodsim::import::ModuleFeatures f = kmodsim::import::extract_module_features(bytes, "fuzz.ko");
    // Touch the results so nothing is optimised away.
    if (f.alloc_bytes == 1 && f.export_names.size() == 7) return 0;
  } catch (const kmodsim::import::ImportError&) {
  }
  try {
    const kmodsim::import::ElfObject elf(bytes, "fuzz.ko");
    for (const auto& s : elf.sections()) (void)elf.section_data(s);
  } catch (const kmodsim::import::ImportError&) {
  }
  return 0;
}
