// Reading module files: plain .ko and the three compressed forms the kernel's
// CONFIG_MODULE_COMPRESS_* and kmod support (.ko.xz via liblzma, .ko.zst via libzstd, .ko.gz
// via zlib).
#pragma once

#include "kmodsim/import/limits.hpp"

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace kmodsim::import {

enum class Compression { none, xz, zstd, gzip };

/// The compression a module path implies by its suffix (.ko.xz, .ko.zst, .ko.gz; anything
/// else is treated as uncompressed).
Compression compression_from_path(std::string_view path);

/// Human-readable name: "none", "xz", "zstd", "gzip".
const char* compression_name(Compression c);

/// Decompresses one complete compressed stream (concatenated streams/frames/members are
/// accepted). Throws ImportError naming `source` and the byte offset of the compressed input
/// where decoding failed, or saying the output exceeds `max_output` bytes (checked while
/// decoding: the stream is stopped there; kDefaultMaxModuleBytes is in limits.hpp). With a
/// `budget`, the output buffer and the decoder's state are reserved in it before they are
/// allocated (see MemoryBudget); the output's bytes stay reserved after the call, the
/// decoder's are given back. Memory exhaustion is an ImportError naming `source`.
std::string decompress(std::string_view data, Compression method, const std::string& source,
                       std::uint64_t max_output = kDefaultMaxModuleBytes,
                       BudgetReservation* budget = nullptr);

/// Reads a regular file whole, up to kDefaultMaxFileBytes (read_regular_file in safe_io.hpp).
/// Throws InputFileError (an ImportError) if it is missing, not a regular file, too large or
/// unreadable.
std::string read_file(const std::string& path);

/// Reads a module file (a regular file of at most `max_file_bytes` bytes, see
/// read_regular_file) and decompresses it according to its suffix, to at most `max_output`
/// bytes (a plain module larger than that is refused too). If `compressed_bytes` is not null it
/// receives the size of the file on disk. With a `budget`, what it allocates is reserved in it
/// first; the returned module's bytes stay reserved, the compressed bytes are given back.
std::string read_module_file(const std::string& path, std::size_t* compressed_bytes = nullptr,
                             std::uint64_t max_output = kDefaultMaxModuleBytes,
                             std::uint64_t max_file_bytes = kDefaultMaxFileBytes,
                             BudgetReservation* budget = nullptr);

} // namespace kmodsim::import
