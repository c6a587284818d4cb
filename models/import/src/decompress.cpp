// Module decompression with liblzma, libzstd and zlib. Each decoder is driven in a loop over
// an output buffer that doubles (from 256 KiB) as needed, never past max_output: a stream that
// would pass the cap is stopped, and no size declared by the input is ever allocated. With a
// BudgetReservation, every buffer (and the decoders' own state) is reserved before it is
// allocated.

#include "kmodsim/import/decompress.hpp"

#include "kmodsim/import/error.hpp"
#include "kmodsim/import/safe_io.hpp"

#include <lzma.h>
#include <zlib.h>
#include <zstd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>
#include <new>
#include <stdexcept>

namespace kmodsim::import {
namespace {

constexpr std::size_t kChunk = std::size_t{1} << 18; // first output block: 256 KiB

/// Most memory the xz decoder may use (its dictionary, mostly). Real modules need about 1 MiB
/// (Kbuild's xz --lzma2=dict=1MiB) to 65 MiB (xz -9).
constexpr std::uint64_t kXzMemlimit = std::uint64_t{512} << 20;
/// Memory the xz decoder is first allowed (and reserved); raised, and decoding restarted, when
/// a stream needs more.
constexpr std::uint64_t kXzFirstMemlimit = std::uint64_t{4} << 20;
/// zstd's default limit: frames with a larger window are refused before anything is allocated.
constexpr int kZstdWindowLogMax = 27; // 128 MiB
/// zstd decoder state besides its window (context, block buffers), reserved with the window.
constexpr std::uint64_t kZstdOverhead = std::uint64_t{1} << 20;
/// zlib's inflate state and 32 KiB window.
constexpr std::uint64_t kGzipState = std::uint64_t{64} << 10;

bool ends_with(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

[[noreturn]] void too_big(const std::string& source, std::uint64_t max_output) {
  throw ImportError::in_file(source, "decompressed module exceeds " + std::to_string(max_output) +
                                         " bytes, the cap on one module (ImportOptions::"
                                         "max_module_bytes, docs/import.md); decoding stopped");
}

void check_magic(std::string_view data, std::string_view magic, const char* what,
                 const std::string& source) {
  if (data.size() < magic.size() || data.compare(0, magic.size(), magic) != 0) {
    throw ImportError::at_offset(source, 0,
                                 std::string("not ") + what + " data (bad magic number)");
  }
}

/// The decoder's output: `used` bytes of `out` are decoded, the rest is room. The budget holds
/// `accounted` bytes for the block until finish() hands them over with the string.
class Sink {
public:
  Sink(std::uint64_t max_output, const std::string& source, BudgetReservation* budget)
      : max_output_(max_output), source_(source), budget_(budget) {}
  ~Sink() {
    if (budget_ != nullptr && !finished_) budget_->shrink(accounted_);
  }
  Sink(const Sink&) = delete;
  Sink& operator=(const Sink&) = delete;

  bool full() const { return used_ == out_.size(); }
  std::uint8_t* next() { return reinterpret_cast<std::uint8_t*>(&out_[used_]); }
  std::size_t room() const { return out_.size() - used_; }
  void advance(std::size_t n) { used_ += n; }

  /// Makes room: a block twice as big (at least kChunk, at most max_output), reserved before it
  /// is allocated; the old block is freed (and given back) once copied.
  void grow() {
    if (out_.size() >= max_output_) too_big(source_, max_output_);
    std::size_t next = std::max(out_.size() * 2, kChunk);
    next = static_cast<std::size_t>(std::min<std::uint64_t>(next, max_output_));
    const std::uint64_t block = std::uint64_t{next} + 1; // + the terminating NUL
    if (budget_ != nullptr) budget_->grow(block, source_);
    std::string bigger;
    bigger.reserve(next); // a fresh string: exactly `next` is allocated
    bigger.resize(next);
    if (used_ != 0) std::memcpy(&bigger[0], out_.data(), used_);
    out_.swap(bigger);
    std::string().swap(bigger);
    if (budget_ != nullptr) {
      budget_->shrink(accounted_);
      accounted_ = block;
    }
  }

  std::string finish() {
    finished_ = true;
    out_.resize(used_);
    return std::move(out_);
  }

private:
  std::string out_;
  std::size_t used_ = 0;
  std::uint64_t accounted_ = 0;
  bool finished_ = false;
  const std::uint64_t max_output_;
  const std::string& source_;
  BudgetReservation* budget_;
};

/// Decoder state reserved in a budget for the duration of one decoder (given back after it).
class StateReservation {
public:
  StateReservation(BudgetReservation* budget, const std::string& source)
      : budget_(budget), source_(source) {}
  ~StateReservation() {
    if (budget_ != nullptr) budget_->shrink(held_);
  }
  StateReservation(const StateReservation&) = delete;
  StateReservation& operator=(const StateReservation&) = delete;
  /// Makes the reservation `bytes` (only grows).
  void ensure(std::uint64_t bytes) {
    if (bytes <= held_) return;
    if (budget_ != nullptr) budget_->grow(bytes - held_, source_);
    held_ = bytes;
  }

private:
  BudgetReservation* budget_;
  const std::string& source_;
  std::uint64_t held_ = 0;
};

std::string decompress_xz(std::string_view data, const std::string& source, std::uint64_t max_output,
                          BudgetReservation* budget) {
  check_magic(data, std::string_view("\xfd" "7zXZ\0", 6), "xz", source);
  StateReservation state(budget, source);
  // liblzma's memory limit is reserved in the budget; a stream that needs more makes the
  // decoding start again with a higher limit (liblzma before 5.2.7 cannot raise the limit of a
  // running .xz decoder). Only block headers come before that point, so little is redone.
  std::uint64_t memlimit = kXzFirstMemlimit;
  for (;;) {
    state.ensure(memlimit);
    lzma_stream strm = LZMA_STREAM_INIT;
    if (lzma_stream_decoder(&strm, memlimit, LZMA_CONCATENATED) != LZMA_OK) {
      throw ImportError::in_file(source, "cannot initialise the xz decoder");
    }
    std::unique_ptr<lzma_stream, void (*)(lzma_stream*)> guard(&strm, lzma_end);
    strm.next_in = reinterpret_cast<const std::uint8_t*>(data.data());
    strm.avail_in = data.size();
    Sink sink(max_output, source, budget);
    for (;;) {
      if (sink.full()) sink.grow();
      strm.next_out = sink.next();
      strm.avail_out = sink.room();
      const lzma_ret ret = lzma_code(&strm, LZMA_FINISH);
      sink.advance(sink.room() - strm.avail_out);
      if (ret == LZMA_STREAM_END) return sink.finish();
      // LZMA_OK: more to do. With LZMA_FINISH liblzma reports a stream that stops early as
      // LZMA_BUF_ERROR on the second call without progress, so this loop cannot spin.
      if (ret == LZMA_OK) continue;
      if (ret == LZMA_MEMLIMIT_ERROR) {
        const std::uint64_t need = lzma_memusage(&strm);
        if (need > memlimit && need <= kXzMemlimit) break; // again, with a higher limit
      }
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
    memlimit = lzma_memusage(&strm);
  }
}

std::uint64_t read_le(const unsigned char* p, std::size_t n) {
  std::uint64_t v = 0;
  for (std::size_t i = 0; i < n; ++i) v |= std::uint64_t{p[i]} << (8 * i);
  return v;
}

/// The largest window among the zstd frames of `data` (RFC 8878, 3.1.1.1.2), at most
/// 2^kZstdWindowLogMax (the decoder refuses larger ones before it allocates). Stops at the
/// first thing it cannot parse: the decoder reports it.
std::uint64_t zstd_max_window(std::string_view data) {
  std::uint64_t max_window = 0;
  std::size_t pos = 0;
  while (data.size() - pos >= 6) {
    const auto* p = reinterpret_cast<const unsigned char*>(data.data()) + pos;
    const std::size_t left = data.size() - pos;
    const auto magic = static_cast<std::uint32_t>(read_le(p, 4));
    if (magic == 0xFD2FB528U) {
      const unsigned fhd = p[4];
      const bool single_segment = (fhd & 0x20U) != 0;
      std::uint64_t window = 0;
      if (!single_segment) {
        const unsigned wd = p[5];
        const std::uint64_t base = std::uint64_t{1} << std::min(10U + (wd >> 3), 63U);
        window = base + (base / 8) * (wd & 7U);
      } else {
        static const std::size_t dict_bytes[4] = {0, 1, 2, 4};
        static const std::size_t fcs_bytes[4] = {1, 2, 4, 8}; // flag 0 means 1 byte if single
        const std::size_t at = 5 + dict_bytes[fhd & 3U];
        const std::size_t n = fcs_bytes[fhd >> 6];
        if (left < at + n) break;
        window = read_le(p + at, n) + (n == 2 ? 256 : 0);
      }
      max_window = std::max(max_window, window);
    } else if ((magic & 0xFFFFFFF0U) != 0x184D2A50U) { // not a skippable frame either
      break;
    }
    const std::size_t frame = ZSTD_findFrameCompressedSize(p, left);
    if (ZSTD_isError(frame) || frame == 0) break;
    pos += frame;
  }
  return std::min(max_window, std::uint64_t{1} << kZstdWindowLogMax);
}

std::string decompress_zstd(std::string_view data, const std::string& source,
                            std::uint64_t max_output, BudgetReservation* budget) {
  check_magic(data, std::string_view("\x28\xb5\x2f\xfd", 4), "zstd", source);
  StateReservation state(budget, source);
  state.ensure(zstd_max_window(data) + kZstdOverhead);
  std::unique_ptr<ZSTD_DCtx, std::size_t (*)(ZSTD_DCtx*)> ctx(ZSTD_createDCtx(), ZSTD_freeDCtx);
  if (!ctx) throw ImportError::in_file(source, "cannot initialise the zstd decoder");
  ZSTD_DCtx_setParameter(ctx.get(), ZSTD_d_windowLogMax, kZstdWindowLogMax);
  ZSTD_inBuffer in{data.data(), data.size(), 0};
  Sink sink(max_output, source, budget);
  std::size_t last = 1; // ZSTD_decompressStream's last return: 0 at the end of a frame
  while (in.pos < in.size || last != 0) {
    if (sink.full()) sink.grow();
    ZSTD_outBuffer ob{sink.next(), sink.room(), 0};
    const std::size_t before = in.pos;
    last = ZSTD_decompressStream(ctx.get(), &ob, &in);
    sink.advance(ob.pos);
    if (ZSTD_isError(last)) {
      throw ImportError::at_offset(source, in.pos,
                                   std::string("corrupt zstd data: ") + ZSTD_getErrorName(last));
    }
    state.ensure(ZSTD_sizeof_DCtx(ctx.get())); // in case the estimate was short
    // No progress with room left in the output and no input left: the frame is truncated.
    if (in.pos == in.size && ob.pos < ob.size && last != 0 && before == in.pos && ob.pos == 0) {
      throw ImportError::at_offset(source, in.pos, "truncated zstd data");
    }
  }
  return sink.finish();
}

std::string decompress_gzip(std::string_view data, const std::string& source,
                            std::uint64_t max_output, BudgetReservation* budget) {
  check_magic(data, std::string_view("\x1f\x8b", 2), "gzip", source);
  StateReservation state(budget, source);
  state.ensure(kGzipState);
  z_stream strm;
  std::memset(&strm, 0, sizeof strm);
  if (inflateInit2(&strm, 16 + MAX_WBITS) != Z_OK) {
    throw ImportError::in_file(source, "cannot initialise the gzip decoder");
  }
  std::unique_ptr<z_stream, int (*)(z_stream*)> guard(&strm, inflateEnd);
  Sink sink(max_output, source, budget);
  std::size_t consumed = 0; // input bytes handed to zlib so far
  constexpr std::size_t kMaxIn = 1U << 30; // zlib counts in 32-bit uInt
  for (;;) {
    if (strm.avail_in == 0 && consumed < data.size()) {
      const std::size_t n = std::min(kMaxIn, data.size() - consumed);
      strm.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data() + consumed));
      strm.avail_in = static_cast<uInt>(n);
      consumed += n;
    }
    if (sink.full()) sink.grow();
    const std::size_t room = std::min<std::size_t>(sink.room(), kMaxIn);
    strm.next_out = reinterpret_cast<Bytef*>(sink.next());
    strm.avail_out = static_cast<uInt>(room);
    const int ret = inflate(&strm, Z_NO_FLUSH);
    sink.advance(room - strm.avail_out);
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
  return sink.finish();
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
                       std::uint64_t max_output, BudgetReservation* budget) {
  try {
    switch (method) {
      case Compression::xz: return decompress_xz(data, source, max_output, budget);
      case Compression::zstd: return decompress_zstd(data, source, max_output, budget);
      case Compression::gzip: return decompress_gzip(data, source, max_output, budget);
      case Compression::none: break;
    }
    if (data.size() > max_output) {
      throw ImportError::in_file(source, "module is " + std::to_string(data.size()) +
                                             " bytes, over " + std::to_string(max_output) +
                                             " bytes, the cap on one module (ImportOptions::"
                                             "max_module_bytes, docs/import.md)");
    }
    if (budget != nullptr) budget->grow(std::uint64_t{data.size()} + 1, source);
    return std::string(data);
  } catch (const std::bad_alloc&) {
    throw ImportError::in_file(source, "out of memory while decompressing");
  } catch (const std::length_error&) {
    throw ImportError::in_file(source, "out of memory while decompressing");
  }
}

std::string read_file(const std::string& path) { return read_regular_file(path, kDefaultMaxFileBytes); }

std::string read_module_file(const std::string& path, std::size_t* compressed_bytes,
                             std::uint64_t max_output, std::uint64_t max_file_bytes,
                             BudgetReservation* budget) {
  const Compression c = compression_from_path(path);
  const std::uint64_t held_before = budget != nullptr ? budget->held() : 0;
  std::string raw = read_regular_file(path, max_file_bytes, budget);
  const std::uint64_t raw_accounted = budget != nullptr ? budget->held() - held_before : 0;
  if (compressed_bytes != nullptr) *compressed_bytes = raw.size();
  if (c == Compression::none) {
    if (raw.size() > max_output) {
      throw ImportError::in_file(path, "module is " + std::to_string(raw.size()) + " bytes, over " +
                                           std::to_string(max_output) +
                                           " bytes, the cap on one module (ImportOptions::"
                                           "max_module_bytes, docs/import.md)");
    }
    return raw;
  }
  std::string out = decompress(raw, c, path, max_output, budget);
  std::string().swap(raw);
  if (budget != nullptr) budget->shrink(raw_accounted);
  return out;
}

} // namespace kmodsim::import
