// Module decompression with liblzma, libzstd and zlib. Each decoder is driven in a loop over
// fixed-size output chunks, so the output is capped (max_output) before it is allocated.

#include "kmodsim/import/decompress.hpp"

#include "kmodsim/import/error.hpp"

#include <lzma.h>
#include <zlib.h>
#include <zstd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>

namespace kmodsim::import {
namespace {

constexpr std::size_t kChunk = std::size_t{1} << 18; // 256 KiB of output per decoder call

bool ends_with(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

[[noreturn]] void too_big(const std::string& source, std::size_t max_output) {
  throw ImportError::in_file(source, "decompressed module exceeds " + std::to_string(max_output) +
                                         " bytes; refusing to continue");
}

void check_magic(std::string_view data, std::string_view magic, const char* what,
                 const std::string& source) {
  if (data.size() < magic.size() || data.compare(0, magic.size(), magic) != 0) {
    throw ImportError::at_offset(source, 0,
                                 std::string("not ") + what + " data (bad magic number)");
  }
}

/// Grows `out` by one chunk (capped at max_output) and returns the number of bytes added.
std::size_t grow(std::string& out, std::size_t max_output, const std::string& source) {
  if (out.size() >= max_output) too_big(source, max_output);
  const std::size_t add = std::min(kChunk, max_output - out.size());
  out.resize(out.size() + add);
  return add;
}

std::string decompress_xz(std::string_view data, const std::string& source, std::size_t max_output) {
  check_magic(data, std::string_view("\xfd" "7zXZ\0", 6), "xz", source);
  lzma_stream strm = LZMA_STREAM_INIT;
  // 512 MiB is far above what any real module needs (modules use 1 MiB dictionaries) but
  // keeps a hostile header from making liblzma allocate without bound.
  if (lzma_stream_decoder(&strm, std::uint64_t{512} << 20, LZMA_CONCATENATED) != LZMA_OK) {
    throw ImportError::in_file(source, "cannot initialise the xz decoder");
  }
  std::unique_ptr<lzma_stream, void (*)(lzma_stream*)> guard(&strm, lzma_end);
  strm.next_in = reinterpret_cast<const std::uint8_t*>(data.data());
  strm.avail_in = data.size();
  std::string out;
  std::size_t used = 0;
  for (;;) {
    if (used == out.size()) grow(out, max_output, source);
    strm.next_out = reinterpret_cast<std::uint8_t*>(&out[used]);
    strm.avail_out = out.size() - used;
    const lzma_ret ret = lzma_code(&strm, LZMA_FINISH);
    used = out.size() - strm.avail_out;
    if (ret == LZMA_STREAM_END) break;
    // LZMA_OK: more to do. With LZMA_FINISH liblzma reports a stream that stops early as
    // LZMA_BUF_ERROR on the second call without progress, so this loop cannot spin.
    if (ret == LZMA_OK) continue;
    const char* why = "corrupt xz data";
    switch (ret) {
      case LZMA_MEM_ERROR: why = "out of memory in the xz decoder"; break;
      case LZMA_MEMLIMIT_ERROR: why = "xz stream needs more than 512 MiB to decode"; break;
      case LZMA_FORMAT_ERROR: why = "not xz data"; break;
      case LZMA_OPTIONS_ERROR: why = "unsupported xz options"; break;
      case LZMA_BUF_ERROR: why = "truncated xz data"; break;
      case LZMA_DATA_ERROR: why = "corrupt xz data"; break;
      default: break;
    }
    throw ImportError::at_offset(source, strm.total_in, why);
  }
  out.resize(used);
  return out;
}

std::string decompress_zstd(std::string_view data, const std::string& source,
                            std::size_t max_output) {
  check_magic(data, std::string_view("\x28\xb5\x2f\xfd", 4), "zstd", source);
  std::unique_ptr<ZSTD_DCtx, std::size_t (*)(ZSTD_DCtx*)> ctx(ZSTD_createDCtx(), ZSTD_freeDCtx);
  if (!ctx) throw ImportError::in_file(source, "cannot initialise the zstd decoder");
  ZSTD_inBuffer in{data.data(), data.size(), 0};
  std::string out;
  std::size_t used = 0;
  std::size_t last = 1; // ZSTD_decompressStream's last return: 0 at the end of a frame
  while (in.pos < in.size || last != 0) {
    if (used == out.size()) grow(out, max_output, source);
    ZSTD_outBuffer ob{&out[used], out.size() - used, 0};
    const std::size_t before = in.pos;
    last = ZSTD_decompressStream(ctx.get(), &ob, &in);
    used += ob.pos;
    if (ZSTD_isError(last)) {
      throw ImportError::at_offset(source, in.pos,
                                   std::string("corrupt zstd data: ") + ZSTD_getErrorName(last));
    }
    // No progress with room left in the output and no input left: the frame is truncated.
    if (in.pos == in.size && ob.pos < ob.size && last != 0 && before == in.pos && ob.pos == 0) {
      throw ImportError::at_offset(source, in.pos, "truncated zstd data");
    }
  }
  out.resize(used);
  return out;
}

std::string decompress_gzip(std::string_view data, const std::string& source,
                            std::size_t max_output) {
  check_magic(data, std::string_view("\x1f\x8b", 2), "gzip", source);
  z_stream strm;
  std::memset(&strm, 0, sizeof strm);
  if (inflateInit2(&strm, 16 + MAX_WBITS) != Z_OK) {
    throw ImportError::in_file(source, "cannot initialise the gzip decoder");
  }
  std::unique_ptr<z_stream, int (*)(z_stream*)> guard(&strm, inflateEnd);
  std::string out;
  std::size_t used = 0;
  std::size_t consumed = 0; // input bytes handed to zlib so far
  constexpr std::size_t kMaxIn = 1U << 30; // zlib counts in 32-bit uInt
  for (;;) {
    if (strm.avail_in == 0 && consumed < data.size()) {
      const std::size_t n = std::min(kMaxIn, data.size() - consumed);
      strm.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data() + consumed));
      strm.avail_in = static_cast<uInt>(n);
      consumed += n;
    }
    if (used == out.size()) grow(out, max_output, source);
    const std::size_t room = std::min<std::size_t>(out.size() - used, kMaxIn);
    strm.next_out = reinterpret_cast<Bytef*>(&out[used]);
    strm.avail_out = static_cast<uInt>(room);
    const int ret = inflate(&strm, Z_NO_FLUSH);
    used += room - strm.avail_out;
    const std::size_t in_pos = consumed - strm.avail_in;
    if (ret == Z_STREAM_END) {
      if (in_pos == data.size()) break;
      // Another gzip member follows (as `cat a.gz b.gz` makes).
      if (inflateReset(&strm) != Z_OK) {
        throw ImportError::at_offset(source, in_pos, "cannot reset the gzip decoder");
      }
      continue;
    }
    if (ret == Z_OK) continue;
    if (ret == Z_BUF_ERROR && strm.avail_out != 0) {
      throw ImportError::at_offset(source, in_pos, "truncated gzip data");
    }
    if (ret == Z_BUF_ERROR) continue;
    std::string why = "corrupt gzip data";
    if (strm.msg != nullptr) why += std::string(": ") + strm.msg;
    throw ImportError::at_offset(source, in_pos, why);
  }
  out.resize(used);
  return out;
}

} // namespace

Compression compression_from_path(std::string_view path) {
  if (ends_with(path, ".xz")) return Compression::xz;
  if (ends_with(path, ".zst")) return Compression::zstd;
  if (ends_with(path, ".gz")) return Compression::gzip;
  return Compression::none;
}

const char* compression_name(Compression c) {
  switch (c) {
    case Compression::xz: return "xz";
    case Compression::zstd: return "zstd";
    case Compression::gzip: return "gzip";
    case Compression::none: break;
  }
  return "none";
}

std::string decompress(std::string_view data, Compression method, const std::string& source,
                       std::size_t max_output) {
  switch (method) {
    case Compression::xz: return decompress_xz(data, source, max_output);
    case Compression::zstd: return decompress_zstd(data, source, max_output);
    case Compression::gzip: return decompress_gzip(data, source, max_output);
    case Compression::none: break;
  }
  if (data.size() > max_output) too_big(source, max_output);
  return std::string(data);
}

std::string read_file(const std::string& path) {
  std::unique_ptr<std::FILE, int (*)(std::FILE*)> f(std::fopen(path.c_str(), "rb"), std::fclose);
  if (!f) throw ImportError::in_file(path, std::string("cannot open: ") + std::strerror(errno));
  std::string out;
  char buf[1 << 16];
  for (;;) {
    const std::size_t n = std::fread(buf, 1, sizeof buf, f.get());
    out.append(buf, n);
    if (n < sizeof buf) break;
  }
  if (std::ferror(f.get())) throw ImportError::in_file(path, "read error");
  return out;
}

std::string read_module_file(const std::string& path, std::size_t* compressed_bytes,
                             std::size_t max_output) {
  const Compression c = compression_from_path(path);
  std::string raw = read_file(path);
  if (compressed_bytes != nullptr) *compressed_bytes = raw.size();
  if (c == Compression::none) return raw;
  return decompress(raw, c, path, max_output);
}

} // namespace kmodsim::import
