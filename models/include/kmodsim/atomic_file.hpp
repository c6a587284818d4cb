// Output files that are complete or absent: written to a private temporary file next to the
// target, every write checked (a full disk is an error, never a cut file), fsynced, renamed into
// place, and the directory fsynced. Errors are OutputError naming the path.
#pragma once

#include <stdexcept>
#include <string>
#include <string_view>

namespace kmodsim {

/// An output could not be written (disk full, permission, a path that is not a regular file).
class OutputError : public std::runtime_error {
public:
  using std::runtime_error::runtime_error;
};

/// Writes all of `data` to `fd`, retrying short writes and EINTR; 0, or the errno of the
/// failure (ENOSPC when the device took nothing).
int write_all(int fd, std::string_view data);

class AtomicFile {
public:
  /// Opens `path`.tmp (O_EXCL after removing a stale one; never follows a symlink).
  explicit AtomicFile(std::string path);
  AtomicFile(const AtomicFile&) = delete;
  AtomicFile& operator=(const AtomicFile&) = delete;
  /// Without commit() (an exception on the way), the temporary file is removed.
  ~AtomicFile();

  /// Appends bytes (buffered; flushed in large blocks).
  void write(std::string_view data);
  /// Flushes, fsyncs, closes and renames into place; then fsyncs the directory.
  void commit();
  const std::string& path() const { return path_; }
  static std::string temp_path(const std::string& path) { return path + ".tmp"; }

private:
  void flush();
  [[noreturn]] void fail(const std::string& what, int err);
  std::string path_, tmp_;
  std::string buf_;
  int fd_ = -1;
};

/// fsync of a directory (after renames into it). Throws OutputError.
void fsync_dir(const std::string& dir);

} // namespace kmodsim
