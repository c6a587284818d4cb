// Careful file input and output for the importer and the `kmodsim import` CLI.
//
// Input: every file the importer reads (modules.dep, modules.alias, modules.softdep,
// Module.symvers, System.map, the boot list, the uevent list, every module) goes through
// read_regular_file(): a directory, FIFO, device or socket is refused by name ("is a FIFO, not
// a regular file") without being opened for reading, so nothing blocks on a FIFO and no
// device is read; "not found" is said only when the file does not exist; files larger than a
// cap are refused before anything is allocated.
//
// Output: write_output_file() replaces only regular files, and only with `force`; it never
// replaces (or writes through) a symbolic link, FIFO, device, socket or directory. It writes a
// temporary file next to the target (created exclusively, so a link planted under its name is
// not followed), checks every write, fsyncs, renames it into place and fsyncs the directory; on
// any failure the target is untouched and the temporary file is removed.
#pragma once

#include "kmodsim/atomic_file.hpp" // kmodsim::OutputError
#include "kmodsim/import/error.hpp"
#include "kmodsim/import/limits.hpp"

#include <cstdint>
#include <functional>
#include <ostream>
#include <string>

namespace kmodsim::import {

/// What a path is, as stat(2) (following symbolic links) or lstat(2) sees it.
enum class FileKind {
  missing, ///< ENOENT (or ENOTDIR: a component of the path is not a directory)
  regular,
  directory,
  fifo,
  char_device,
  block_device,
  socket,
  symlink, ///< only from lstat (output checks)
  other,
};

/// "a regular file", "a directory", "a FIFO", "a character device", "a block device",
/// "a socket", "a symbolic link", "not found", "an unknown kind of file".
const char* file_kind_name(FileKind kind);

/// The kind of `path`, following symbolic links (stat). Throws InputFileError (reason io)
/// naming the path if stat fails for another reason than ENOENT/ENOTDIR (e.g. EACCES, ELOOP).
FileKind input_file_kind(const std::string& path);

/// An input file that cannot be read as one: missing, not a regular file, over the size cap,
/// or an I/O error. Messages start with the path: "PATH: not found", "PATH: is a FIFO, not a
/// regular file", "PATH: is 5368709120 bytes, more than the 268435456-byte cap on an input
/// file", "PATH: cannot open: Permission denied".
class InputFileError : public ImportError {
public:
  enum class Reason { not_found, not_regular, too_large, io };
  InputFileError(Reason reason, const std::string& message)
      : ImportError(message), reason_(reason) {}
  Reason reason() const { return reason_; }

private:
  Reason reason_;
};

/// Reads a whole regular file of at most `max_bytes` bytes. stat()s first and refuses anything
/// that is not a regular file before opening it; opens with O_NONBLOCK|O_NOCTTY and checks
/// again with fstat (the path may have been swapped in between); refuses a size over
/// `max_bytes` before allocating, and a file that grows past it while read. Throws
/// InputFileError; memory exhaustion is an ImportError naming the path, not std::bad_alloc.
std::string read_regular_file(const std::string& path, std::uint64_t max_bytes);
/// The same, reserving every buffer it allocates in `budget` (may be null) first; the buffer's
/// bytes stay reserved until the reservation ends (or the caller shrinks it).
std::string read_regular_file(const std::string& path, std::uint64_t max_bytes,
                              BudgetReservation* budget);

/// An output file that cannot be (or was not) written, or that is refused. Messages start with
/// the path. A kmodsim::OutputError (models/include/kmodsim/atomic_file.hpp, header-only), the
/// type the CLI reports for every output problem (exit status 1); not an ImportError.
class OutputError : public kmodsim::OutputError {
public:
  using kmodsim::OutputError::OutputError;
};

/// The checks write_output_file() makes before it writes, for calling before long work:
///   * a symbolic link, FIFO, character or block device, socket or directory at `path`:
///     "PATH: is a FIFO, not a regular file; refusing to replace it" (even with `force`; a
///     symbolic link is checked with lstat, so it is refused whatever it points to);
///   * a regular file without `force`: "PATH: exists; refusing to overwrite it (use --force)";
///   * a parent that is not an existing directory, or an empty path.
/// Throws OutputError.
void check_output_path(const std::string& path, bool force);

/// Writes `body`'s output to `path`:
///   1. check_output_path(path, force);
///   2. creates PATH.tmp.<pid>[.<n>] in the same directory with O_CREAT|O_EXCL|O_NOFOLLOW
///      (mode 0666 & ~umask);
///   3. runs body on a stream over it; every write is checked (a full disk, EFBIG, EIO: an
///      OutputError "PATH: cannot write: No space left on device"; the stream is set to throw
///      on the first failure so the body stops early);
///   4. fsync, close (both checked);
///   5. renames it into place: without `force` with renameat2(RENAME_NOREPLACE) where the file
///      system supports it, so a file created meanwhile is not replaced; with `force` after
///      checking again (lstat) that the target is still absent or a regular file;
///   6. fsyncs the directory.
/// On any failure (including an exception from `body`, which is rethrown as is) the temporary
/// file is removed and `path` is untouched.
void write_output_file(const std::string& path, bool force,
                       const std::function<void(std::ostream&)>& body);

namespace detail {
/// Step 3 of write_output_file() on an open file descriptor (not closed): runs body on a
/// stream over `fd` and flushes it; throws OutputError "NAME: cannot write: <strerror>" if a
/// write fails. Exposed for tests (e.g. on /dev/full).
void write_stream_to_fd(int fd, const std::string& name,
                        const std::function<void(std::ostream&)>& body);
} // namespace detail

} // namespace kmodsim::import
