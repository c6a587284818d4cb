// libFuzzer target: the modules.alias parser, alias normalisation and glob matching. The
// input up to the first blank line is the modules.alias text; every later line is a modalias
// to resolve.
#include "kmodsim/import/error.hpp"
#include "kmodsim/import/text_formats.hpp"

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  const std::size_t split = input.find("\n\n");
  const std::string_view alias_text = input.substr(0, split);
  const std::string_view queries =
      split == std::string_view::npos ? std::string_view() : input.substr(split + 2);
  std::string normalized;
  (void)kmodsim::import::normalize_alias(input, normalized);
  try {
    const kmodsim::import::AliasMatcher matcher(
        kmodsim::import::parse_modules_alias(alias_text, "modules.alias"));
    std::size_t pos = 0;
    while (pos <= queries.size()) {
      std::size_t end = queries.find('\n', pos);
      if (end == std::string_view::npos) end = queries.size();
      (void)matcher.match(queries.substr(pos, end - pos));
      pos = end + 1;
    }
    for (const auto& e : matcher.entries()) (void)matcher.match(e.pattern);
  } catch (const kmodsim::import::ImportError&) {
  }
  return 0;
}
