#include "kmodsim/atomic_file.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>

namespace kmodsim {
namespace {
constexpr size_t kFlushBytes = 1 << 20;

std::string parent_dir(const std::string& path) {
  std::string d = std::filesystem::path(path).parent_path().string();
  return d.empty() ? "." : d;
}
} // namespace

AtomicFile::AtomicFile(std::string path) : path_(std::move(path)), tmp_(temp_path(path_)) {
  struct stat st {};
  if (::lstat(path_.c_str(), &st) == 0 && !S_ISREG(st.st_mode))
    throw OutputError(path_ + ": exists and is not a regular file; refusing to replace it");
  if (::lstat(tmp_.c_str(), &st) == 0) { // a stale temporary file of an interrupted run
    if (!S_ISREG(st.st_mode) || ::unlink(tmp_.c_str()) != 0)
      throw OutputError(tmp_ + ": exists and cannot be replaced");
  }
  fd_ = ::open(tmp_.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
  if (fd_ < 0)
    fail("cannot create", errno);
  buf_.reserve(kFlushBytes);
}

AtomicFile::~AtomicFile() {
  if (fd_ >= 0) {
    ::close(fd_);
    ::unlink(tmp_.c_str());
  }
}

void AtomicFile::fail(const std::string& what, int err) {
  const std::string msg = path_ + ": " + what + ": " + std::strerror(err);
  if (fd_ >= 0) {
    ::close(fd_);
    fd_ = -1;
  }
  ::unlink(tmp_.c_str());
  throw OutputError(msg);
}

void AtomicFile::write(std::string_view data) {
  buf_.append(data);
  if (buf_.size() >= kFlushBytes)
    flush();
}

int write_all(int fd, std::string_view data) {
  size_t off = 0;
  while (off < data.size()) {
    const ssize_t n = ::write(fd, data.data() + off, data.size() - off);
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0)
      return n < 0 ? errno : ENOSPC;
    off += static_cast<size_t>(n);
  }
  return 0;
}

void AtomicFile::flush() {
  if (const int err = write_all(fd_, buf_))
    fail("write failed", err);
  buf_.clear();
}

void AtomicFile::commit() {
  flush();
  if (::fsync(fd_) != 0)
    fail("fsync failed", errno);
  const int fd = fd_;
  fd_ = -1;
  if (::close(fd) != 0) {
    const int err = errno;
    ::unlink(tmp_.c_str());
    throw OutputError(path_ + ": close failed: " + std::strerror(err));
  }
  if (::rename(tmp_.c_str(), path_.c_str()) != 0) {
    const int err = errno;
    ::unlink(tmp_.c_str());
    throw OutputError(path_ + ": cannot rename into place: " + std::strerror(err));
  }
  fsync_dir(parent_dir(path_));
}

void fsync_dir(const std::string& dir) {
  const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0)
    throw OutputError(dir + ": cannot open directory: " + std::strerror(errno));
  const int rc = ::fsync(fd);
  const int err = errno;
  ::close(fd);
  if (rc != 0 && err != EINVAL) // some file systems cannot fsync a directory
    throw OutputError(dir + ": fsync failed: " + std::strerror(err));
}

} // namespace kmodsim
