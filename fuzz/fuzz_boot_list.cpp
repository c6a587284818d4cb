// libFuzzer target: the boot-list parser (lsmod output and /proc/modules).
#include "kmodsim/import/error.hpp"
#include "kmodsim/import/text_formats.hpp"

#include <cstddef>
#include <cstdint>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  try {
    (void)kmodsim::import::parse_boot_list(text, "lsmod.txt");
  } catch (const kmodsim::import::ImportError&) {
  }
  return 0;
}
