// Reading module files: plain .ko and the three compressed forms the kernel's
// CONFIG_MODULE_COMPRESS_* and kmod support (.ko.xz via liblzma, .ko.zst via libzstd, .ko.gz
// via zlib).
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace kmodsim::import {

enum class Compression { none, xz, zstd, gzip };

/// Largest decompressed module accepted (the biggest modules, e.g. amdgpu, are ~20 MiB).
inline constexpr std::size_t kDefaultMaxModuleBytes = std::size_t{1} << 30;

/// The compression a module path implies by its suffix (.ko.xz, .ko.zst, .ko.gz; anything
/// else is treated as uncompressed).
Compression compression_from_path(std::string_view path);

/// Human-readable name: "none", "xz", "zstd", "gzip".
const char* compression_name(Compression c);

/// Decompresses one complete compressed stream (concatenated streams/frames/members are
/// accepted). Throws ImportError naming `source` and the byte offset of the compressed input
/// where decoding failed, or saying the output exceeds `max_output` bytes.
std::string decompress(std::string_view data, Compression method, const std::string& source,
                       std::size_t max_output = kDefaultMaxModuleBytes);

/// Reads a file whole. Throws ImportError if it cannot be opened or read.
std::string read_file(const std::string& path);

/// Reads a module file and decompresses it according to its suffix. If `compressed_bytes` is
/// not null it receives the size of the file on disk.
std::string read_module_file(const std::string& path, std::size_t* compressed_bytes = nullptr,
                             std::size_t max_output = kDefaultMaxModuleBytes);

} // namespace kmodsim::import
