// libFuzzer target: the uevent (modalias list) parser.
#include "kmodsim/import/error.hpp"
#include "kmodsim/import/text_formats.hpp"

#include <cstddef>
#include <cstdint>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  try {
    for (const auto& u : kmodsim::import::parse_uevent_list(text, "uevents.txt")) {
      (void)kmodsim::import::normalize_module_name(u.modalias);
    }
  } catch (const kmodsim::import::ImportError&) {
  }
  return 0;
}
