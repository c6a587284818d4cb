// libFuzzer target: the Module.symvers and System.map parsers (first byte picks which).
#include "kmodsim/import/error.hpp"
#include "kmodsim/import/text_formats.hpp"

#include <cstddef>
#include <cstdint>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const std::string_view text(reinterpret_cast<const char*>(data + 1), size - 1);
  try {
    if (data[0] & 1) {
      (void)kmodsim::import::count_symvers_vmlinux_exports(text, "Module.symvers");
    } else {
      (void)kmodsim::import::count_system_map_exports(text, "System.map");
    }
  } catch (const kmodsim::import::ImportError&) {
  }
  return 0;
}
