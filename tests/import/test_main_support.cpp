// Implementation of test_support.hpp.
#include "test_support.hpp"

#include <lzma.h>
#include <zlib.h>
#include <zstd.h>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <future>
#include <sstream>

namespace kmodsim::import::test {
namespace fs = std::filesystem;

std::string fixture_src(const std::string& rel) { return std::string(KMODSIM_IMPORT_FIXTURE_SRC) + "/" + rel; }

std::string fixture_obj(const std::string& name, const std::string& variant) {
  return std::string(KMODSIM_IMPORT_FIXTURE_OBJ) + "/" + name + "." + variant + ".o";
}

std::vector<std::string> fixture_variants() {
  std::vector<std::string> out;
  std::stringstream ss(KMODSIM_IMPORT_FIXTURE_VARIANTS);
  std::string v;
  while (std::getline(ss, v, ',')) {
    if (!v.empty()) out.push_back(v);
  }
  return out;
}

bool has_variant(const std::string& variant) {
  for (const std::string& v : fixture_variants()) {
    if (v == variant) return true;
  }
  return false;
}

std::string read_bytes(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  if (!f) throw std::runtime_error("cannot read " + path);
  std::ostringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

void write_bytes(const std::string& path, const std::string& data) {
  fs::create_directories(fs::path(path).parent_path());
  std::ofstream f(path, std::ios::binary);
  f.write(data.data(), static_cast<std::streamsize>(data.size()));
  if (!f) throw std::runtime_error("cannot write " + path);
}

std::string compress_xz(const std::string& data) {
  std::string out(lzma_stream_buffer_bound(data.size()), '\0');
  std::size_t pos = 0;
  // CRC32 check and preset 6, as the kernel's `xz --check=crc32` module compression.
  const lzma_ret ret = lzma_easy_buffer_encode(
      6, LZMA_CHECK_CRC32, nullptr, reinterpret_cast<const std::uint8_t*>(data.data()),
      data.size(), reinterpret_cast<std::uint8_t*>(&out[0]), &pos, out.size());
  if (ret != LZMA_OK) throw std::runtime_error("xz compression failed");
  out.resize(pos);
  return out;
}

std::string compress_zstd(const std::string& data) {
  // With a content checksum, as the zstd command line (and so Kbuild) writes by default.
  std::string out(ZSTD_compressBound(data.size()), '\0');
  ZSTD_CCtx* cctx = ZSTD_createCCtx();
  ZSTD_CCtx_setParameter(cctx, ZSTD_c_compressionLevel, 19);
  ZSTD_CCtx_setParameter(cctx, ZSTD_c_checksumFlag, 1);
  const std::size_t n = ZSTD_compress2(cctx, &out[0], out.size(), data.data(), data.size());
  ZSTD_freeCCtx(cctx);
  if (ZSTD_isError(n)) throw std::runtime_error("zstd compression failed");
  out.resize(n);
  return out;
}

std::string compress_gzip(const std::string& data) {
  z_stream s;
  std::memset(&s, 0, sizeof s);
  if (deflateInit2(&s, 9, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY) != Z_OK) {
    throw std::runtime_error("deflateInit2 failed");
  }
  std::string out(deflateBound(&s, static_cast<uLong>(data.size())), '\0');
  s.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  s.avail_in = static_cast<uInt>(data.size());
  s.next_out = reinterpret_cast<Bytef*>(&out[0]);
  s.avail_out = static_cast<uInt>(out.size());
  const int ret = deflate(&s, Z_FINISH);
  out.resize(s.total_out);
  deflateEnd(&s);
  if (ret != Z_STREAM_END) throw std::runtime_error("gzip compression failed");
  return out;
}

TempDir::TempDir() {
  std::string tmpl = ::testing::TempDir();
  if (tmpl.empty() || tmpl.back() != '/') tmpl += '/';
  tmpl += "kmodsim-import-XXXXXX";
  std::vector<char> buf(tmpl.begin(), tmpl.end());
  buf.push_back('\0');
  if (mkdtemp(buf.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
  path_ = buf.data();
}

TempDir::~TempDir() {
  std::error_code ec;
  fs::remove_all(path_, ec);
}

void build_fixture_tree(const TempDir& dir, const std::string& variant) {
  for (const char* f : {"modules.dep", "modules.alias", "modules.softdep", "Module.symvers",
                        "boot-lsmod.txt", "uevents.txt"}) {
    write_bytes(dir / f, read_bytes(fixture_src(std::string("tree/") + f)));
  }
  const std::string a = read_bytes(fixture_obj("fx_a", variant));
  write_bytes(dir / "kernel/drivers/fx/fx_a.ko", a);
  write_bytes(dir / "kernel/drivers/fx/fx-b.ko.xz", compress_xz(read_bytes(fixture_obj("fx_b", variant))));
  write_bytes(dir / "kernel/drivers/fx/fx_c.ko.zst", compress_zstd(read_bytes(fixture_obj("fx_c", variant))));
  write_bytes(dir / "kernel/drivers/fx/fx_d.ko.gz", compress_gzip(a));
}

void make_fifo(const std::string& path) {
  fs::create_directories(fs::path(path).parent_path());
  if (::mkfifo(path.c_str(), 0600) != 0) throw std::runtime_error("mkfifo failed: " + path);
}

void without_blocking(const std::string& fifo, const std::function<void()>& fn) {
  auto done = std::async(std::launch::async, fn);
  if (done.wait_for(std::chrono::seconds(2)) == std::future_status::timeout) {
    ADD_FAILURE() << "blocked on the FIFO " << fifo;
    for (int i = 0; i < 2 && done.wait_for(std::chrono::milliseconds(100)) != std::future_status::ready; ++i) {
      const int fd = ::open(fifo.c_str(), O_WRONLY | O_NONBLOCK);
      if (fd >= 0) ::close(fd);
    }
  }
  done.get();
}

std::vector<std::string> module_names(const kmodsim::Workload& w) {
  std::vector<std::string> out;
  for (const auto& m : w.modules) out.push_back(m.name);
  return out;
}

bool has_warning(const ImportReport& r, const std::string& part) {
  return std::any_of(r.warnings.begin(), r.warnings.end(),
                     [&](const std::string& w) { return w.find(part) != std::string::npos; });
}

void expect_import_error(const std::function<void()>& fn, std::initializer_list<std::string> parts) {
  try {
    fn();
  } catch (const ImportError& e) {
    const std::string msg = e.what();
    for (const std::string& p : parts) {
      EXPECT_NE(msg.find(p), std::string::npos) << "message lacks '" << p << "': " << msg;
    }
    return;
  } catch (const std::exception& e) {
    ADD_FAILURE() << "expected ImportError, got another exception: " << e.what();
    return;
  }
  ADD_FAILURE() << "expected ImportError, nothing was thrown";
}

} // namespace kmodsim::import::test
