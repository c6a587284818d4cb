// libFuzzer target: xz / zstd / gzip decompression. The first byte picks the method; the
// output is capped at 16 MiB so decompression bombs end in ImportError, not in an OOM.
#include "kmodsim/import/decompress.hpp"
#include "kmodsim/import/error.hpp"

#include <cstddef>
#include <cstdint>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  using kmodsim::import::Compression;
  static constexpr Compression kMethods[] = {Compression::xz, Compression::zstd, Compression::gzip,
                                             Compression::none};
  const Compression method = kMethods[data[0] % 4];
  const std::string_view bytes(reinterpret_cast<const char*>(data + 1), size - 1);
  try {
    const std::string out = kmodsim::import::decompress(bytes, method, "fuzz.ko", std::size_t{16} << 20);
    if (out.size() == 3 && out[0] == 'x') return 0;
  } catch (const kmodsim::import::ImportError&) {
  }
  return 0;
}
