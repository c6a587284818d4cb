// read_regular_file(), check_output_path(), write_output_file() (safe_io.hpp).
#include "kmodsim/import/safe_io.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <new>
#include <stdexcept>
#include <algorithm>
#include <streambuf>
#include <vector>

namespace kmodsim::import {
namespace {

std::string errno_text(int e) { return std::strerror(e); }

FileKind kind_of_mode(mode_t mode) {
  if (S_ISREG(mode)) return FileKind::regular;
  if (S_ISDIR(mode)) return FileKind::directory;
  if (S_ISFIFO(mode)) return FileKind::fifo;
  if (S_ISCHR(mode)) return FileKind::char_device;
  if (S_ISBLK(mode)) return FileKind::block_device;
  if (S_ISSOCK(mode)) return FileKind::socket;
  if (S_ISLNK(mode)) return FileKind::symlink;
  return FileKind::other;
}

/// "268435456 bytes (256 MiB)"
std::string bytes_text(std::uint64_t n) {
  std::string s = std::to_string(n) + " bytes";
  if (n >= (std::uint64_t{1} << 20) && n % (std::uint64_t{1} << 20) == 0) {
    s += " (" + std::to_string(n >> 20) + " MiB)";
  }
  return s;
}

[[noreturn]] void throw_not_regular(const std::string& path, FileKind kind) {
  throw InputFileError(InputFileError::Reason::not_regular,
                       path + ": is " + file_kind_name(kind) + ", not a regular file");
}

[[noreturn]] void throw_too_large(const std::string& path, std::uint64_t size, std::uint64_t max,
                                  bool at_least) {
  throw InputFileError(InputFileError::Reason::too_large,
                       path + ": " + (at_least ? "more than " : "") + std::to_string(size) +
                           " bytes, over the cap of " + bytes_text(max) +
                           " on an input file (ImportOptions::max_file_bytes, docs/import.md)");
}

class Fd {
public:
  explicit Fd(int fd) : fd_(fd) {}
  ~Fd() {
    if (fd_ >= 0) ::close(fd_);
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  int get() const { return fd_; }
  /// Closes now and returns close()'s errno (0 if it succeeded).
  int close_checked() {
    const int fd = fd_;
    fd_ = -1;
    return ::close(fd) == 0 ? 0 : errno;
  }

private:
  int fd_;
};

/// Grows `out` to hold at least `want` bytes, accounting the new block in `budget` (if any)
/// before it is allocated and giving the old one back after it is freed. `accounted` is what
/// `budget` holds for `out`'s block.
void reserve_accounted(std::string& out, std::size_t want, BudgetReservation* budget,
                       std::uint64_t& accounted, const std::string& source) {
  if (want <= out.capacity()) return;
  const std::size_t cap = std::max(want, out.capacity() * 2);
  const std::uint64_t block = std::uint64_t{cap} + 1; // the terminating NUL
  if (budget != nullptr) budget->grow(block, source);
  out.reserve(cap); // cap >= 2 * capacity(): libstdc++ allocates exactly cap
  if (budget != nullptr) {
    budget->shrink(accounted);
    accounted = block;
  }
}

/// Renames `from` to `to` only if `to` does not exist. Returns 0, or the errno; ENOSYS if the
/// file system cannot do it atomically.
int rename_noreplace(const std::string& from, const std::string& to) {
#if defined(RENAME_NOREPLACE)
  if (::renameat2(AT_FDCWD, from.c_str(), AT_FDCWD, to.c_str(), RENAME_NOREPLACE) == 0) return 0;
  const int e = errno;
  if (e == EINVAL || e == ENOSYS || e == ENOTSUP || e == EOPNOTSUPP) return ENOSYS;
  return e;
#else
  (void)from;
  (void)to;
  return ENOSYS;
#endif
}

std::string parent_dir(const std::string& path) {
  const std::string parent = std::filesystem::path(path).parent_path().string();
  return parent.empty() ? "." : parent;
}

/// An output streambuf over a file descriptor that remembers the first write error.
class FdOutBuf : public std::streambuf {
public:
  explicit FdOutBuf(int fd) : fd_(fd), buf_(std::size_t{1} << 16) {
    setp(buf_.data(), buf_.data() + buf_.size());
  }
  int error() const { return error_; }

protected:
  int_type overflow(int_type ch) override {
    if (!drain()) return traits_type::eof();
    if (!traits_type::eq_int_type(ch, traits_type::eof())) {
      *pptr() = traits_type::to_char_type(ch);
      pbump(1);
    }
    return traits_type::not_eof(ch);
  }
  int sync() override { return drain() ? 0 : -1; }

private:
  bool drain() {
    if (error_ != 0) return false;
    const char* p = pbase();
    std::size_t left = static_cast<std::size_t>(pptr() - pbase());
    while (left > 0) {
      const ssize_t n = ::write(fd_, p, left);
      if (n < 0) {
        if (errno == EINTR) continue;
        error_ = errno;
        return false;
      }
      if (n == 0) { // should not happen for a regular file; do not spin
        error_ = EIO;
        return false;
      }
      p += n;
      left -= static_cast<std::size_t>(n);
    }
    setp(buf_.data(), buf_.data() + buf_.size());
    return true;
  }

  int fd_;
  int error_ = 0;
  std::vector<char> buf_;
};

/// The temporary file of write_output_file(): closed and removed unless committed.
struct TempFile {
  std::string path;
  int fd = -1;
  bool committed = false;
  ~TempFile() {
    if (fd >= 0) ::close(fd);
    if (!committed && !path.empty()) ::unlink(path.c_str());
  }
};

/// Refuses what write_output_file() must not replace; `st` is the target's lstat.
void refuse_existing(const std::string& path, const struct stat& st, bool force) {
  const FileKind kind = kind_of_mode(st.st_mode);
  if (kind != FileKind::regular) {
    throw OutputError(path + ": is " + file_kind_name(kind) +
                      ", not a regular file; refusing to replace it (--force replaces only "
                      "regular files)");
  }
  if (!force) throw OutputError(path + ": exists; refusing to overwrite it (use --force)");
}

} // namespace

const char* file_kind_name(FileKind kind) {
  switch (kind) {
    case FileKind::missing: return "not found";
    case FileKind::regular: return "a regular file";
    case FileKind::directory: return "a directory";
    case FileKind::fifo: return "a FIFO";
    case FileKind::char_device: return "a character device";
    case FileKind::block_device: return "a block device";
    case FileKind::socket: return "a socket";
    case FileKind::symlink: return "a symbolic link";
    case FileKind::other: break;
  }
  return "an unknown kind of file";
}

FileKind input_file_kind(const std::string& path) {
  struct stat st;
  if (::stat(path.c_str(), &st) == 0) return kind_of_mode(st.st_mode);
  const int e = errno;
  if (e == ENOENT || e == ENOTDIR) return FileKind::missing;
  throw InputFileError(InputFileError::Reason::io, path + ": cannot stat: " + errno_text(e));
}

std::string read_regular_file(const std::string& path, std::uint64_t max_bytes,
                              BudgetReservation* budget) {
  // Look before opening: opening a FIFO for reading blocks, opening a device may do things.
  const FileKind kind = input_file_kind(path);
  if (kind == FileKind::missing) {
    throw InputFileError(InputFileError::Reason::not_found, path + ": not found");
  }
  if (kind != FileKind::regular) throw_not_regular(path, kind);

  Fd fd(::open(path.c_str(), O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC));
  if (fd.get() < 0) {
    const int e = errno;
    if (e == ENOENT) throw InputFileError(InputFileError::Reason::not_found, path + ": not found");
    throw InputFileError(InputFileError::Reason::io, path + ": cannot open: " + errno_text(e));
  }
  struct stat st;
  if (::fstat(fd.get(), &st) != 0) {
    throw InputFileError(InputFileError::Reason::io, path + ": cannot stat: " + errno_text(errno));
  }
  if (!S_ISREG(st.st_mode)) throw_not_regular(path, kind_of_mode(st.st_mode)); // swapped meanwhile
  const auto size = static_cast<std::uint64_t>(st.st_size);
  if (size > max_bytes) throw_too_large(path, size, max_bytes, false);

  std::string out;
  std::uint64_t accounted = 0;
  try {
    // st_size is a hint: /proc and /sys files say 0, and a file may change while it is read.
    // One byte more than it says, so that the end is seen without growing the buffer.
    std::size_t used = 0;
    std::size_t len = static_cast<std::size_t>(size) + 1;
    for (;;) {
      if (used == out.size()) {
        if (used != 0) len = std::max<std::size_t>(out.size() * 2, std::size_t{1} << 16);
        len = static_cast<std::size_t>(std::min<std::uint64_t>(len, max_bytes + 1));
        reserve_accounted(out, len, budget, accounted, path);
        out.resize(len);
      }
      const ssize_t n = ::read(fd.get(), &out[used], out.size() - used);
      if (n < 0) {
        if (errno == EINTR) continue;
        const int e = errno;
        throw InputFileError(InputFileError::Reason::io, path + ": read error: " + errno_text(e));
      }
      if (n == 0) break;
      used += static_cast<std::size_t>(n);
      if (used > max_bytes) throw_too_large(path, used, max_bytes, true);
    }
    out.resize(used);
  } catch (const std::bad_alloc&) {
    throw ImportError::in_file(path, "out of memory reading " + std::to_string(size) + " bytes");
  } catch (const std::length_error&) {
    throw ImportError::in_file(path, "out of memory reading " + std::to_string(size) + " bytes");
  }
  return out;
}

std::string read_regular_file(const std::string& path, std::uint64_t max_bytes) {
  return read_regular_file(path, max_bytes, nullptr);
}

void check_output_path(const std::string& path, bool force) {
  if (path.empty()) throw OutputError("output path is empty");
  struct stat st;
  if (::lstat(path.c_str(), &st) == 0) {
    refuse_existing(path, st, force);
  } else if (errno != ENOENT) {
    const int e = errno;
    throw OutputError(path + ": cannot check the output path: " + errno_text(e));
  }
  const std::string dir = parent_dir(path);
  if (::stat(dir.c_str(), &st) != 0) {
    const int e = errno;
    throw OutputError(path + ": directory " + dir + ": " + errno_text(e));
  }
  if (!S_ISDIR(st.st_mode)) throw OutputError(path + ": " + dir + " is not a directory");
  if (::access(dir.c_str(), W_OK | X_OK) != 0) {
    const int e = errno;
    throw OutputError(path + ": cannot create files in " + dir + ": " + errno_text(e));
  }
}

namespace detail {

void write_stream_to_fd(int fd, const std::string& name,
                        const std::function<void(std::ostream&)>& body) {
  FdOutBuf buf(fd);
  std::ostream out(&buf);
  out.exceptions(std::ios::badbit); // stop the body at the first failed write
  try {
    body(out);
    out.flush();
  } catch (const std::ios_base::failure&) {
    if (buf.error() == 0) throw; // from the body itself
  }
  if (buf.error() != 0) throw OutputError(name + ": cannot write: " + errno_text(buf.error()));
  if (!out) throw OutputError(name + ": cannot write: stream error");
}

} // namespace detail

void write_output_file(const std::string& path, bool force,
                       const std::function<void(std::ostream&)>& body) {
  check_output_path(path, force);

  // A new file next to the target, never an existing one (O_EXCL: no link is followed).
  // PATH.tmp.<pid>, or PATH.tmp.<pid>.<n> if that exists (a leftover, another thread, a link).
  TempFile tmp;
  const std::string stem = path + ".tmp." + std::to_string(::getpid());
  for (int attempt = 0; tmp.fd < 0; ++attempt) {
    const std::string name = attempt == 0 ? stem : stem + "." + std::to_string(attempt);
    const int fd = ::open(name.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_NOCTTY | O_CLOEXEC,
                          0666);
    if (fd >= 0) {
      tmp.fd = fd;
      tmp.path = name;
      break;
    }
    const int e = errno;
    if (e != EEXIST || attempt == 100) {
      throw OutputError(path + ": cannot create the temporary file " + name + ": " + errno_text(e));
    }
  }

  detail::write_stream_to_fd(tmp.fd, path, body);
  if (::fsync(tmp.fd) != 0) {
    const int e = errno;
    throw OutputError(path + ": cannot write (fsync): " + errno_text(e));
  }
  const int close_error = ::close(tmp.fd) == 0 ? 0 : errno;
  tmp.fd = -1;
  if (close_error != 0) throw OutputError(path + ": cannot write (close): " + errno_text(close_error));

  // Into place. Without force: atomically only if nothing is there (renameat2), else check
  // again right before rename() (a narrow window remains on file systems without renameat2).
  int e = force ? ENOSYS : rename_noreplace(tmp.path, path);
  if (e == EEXIST) throw OutputError(path + ": exists; refusing to overwrite it (use --force)");
  if (e == ENOSYS) {
    struct stat st;
    if (::lstat(path.c_str(), &st) == 0) {
      refuse_existing(path, st, force);
    } else if (errno != ENOENT) {
      const int le = errno;
      throw OutputError(path + ": cannot check the output path: " + errno_text(le));
    }
    e = ::rename(tmp.path.c_str(), path.c_str()) == 0 ? 0 : errno;
  }
  if (e != 0) throw OutputError(path + ": cannot rename " + tmp.path + " into place: " + errno_text(e));
  tmp.committed = true;

  // Make the rename durable. A directory that cannot be opened for reading, or a file system
  // that cannot sync directories (EINVAL), is not an error.
  const std::string dir = parent_dir(path);
  Fd dfd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (dfd.get() >= 0 && ::fsync(dfd.get()) != 0 && errno != EINVAL && errno != EROFS) {
    const int de = errno;
    throw OutputError(path + ": written, but syncing directory " + dir + " failed: " + errno_text(de));
  }
}

} // namespace kmodsim::import
