// safe_io.hpp: read_regular_file() refuses what is not a regular file (without blocking on a
// FIFO), write_output_file() replaces only regular files and only with force, and checks
// every write.
#include "kmodsim/import/safe_io.hpp"

#include "test_support.hpp"

#include <gtest/gtest.h>

#include <fcntl.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <stdexcept>

namespace kmodsim::import::test {
namespace {
namespace fs = std::filesystem;

/// A bound unix socket at `path` (closed at once; the socket file stays).
bool make_socket(const std::string& path) {
  sockaddr_un addr{};
  if (path.size() >= sizeof addr.sun_path) return false;
  addr.sun_family = AF_UNIX;
  std::memcpy(addr.sun_path, path.c_str(), path.size() + 1);
  const int fd = ::socket(AF_UNIX, SOCK_STREAM, 0);
  if (fd < 0) return false;
  const bool ok = ::bind(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof addr) == 0;
  ::close(fd);
  return ok;
}

void expect_input_error(const std::function<void()>& fn, InputFileError::Reason reason,
                        std::initializer_list<std::string> parts) {
  try {
    fn();
    ADD_FAILURE() << "expected InputFileError, nothing was thrown";
  } catch (const InputFileError& e) {
    EXPECT_EQ(e.reason(), reason) << e.what();
    for (const std::string& p : parts) {
      EXPECT_NE(std::string(e.what()).find(p), std::string::npos) << "lacks '" << p << "': " << e.what();
    }
  }
}

void expect_output_error(const std::function<void()>& fn, std::initializer_list<std::string> parts) {
  try {
    fn();
    ADD_FAILURE() << "expected OutputError, nothing was thrown";
  } catch (const OutputError& e) {
    for (const std::string& p : parts) {
      EXPECT_NE(std::string(e.what()).find(p), std::string::npos) << "lacks '" << p << "': " << e.what();
    }
  }
}

/// Names in `dir` other than `except` (left-over temporary files).
std::vector<std::string> others(const TempDir& dir, std::initializer_list<std::string> except) {
  std::vector<std::string> out;
  for (const auto& e : fs::directory_iterator(dir.path())) {
    const std::string name = e.path().filename().string();
    bool keep = true;
    for (const std::string& x : except) keep = keep && name != x;
    if (keep) out.push_back(name);
  }
  return out;
}

auto writes(const std::string& text) {
  return [text](std::ostream& out) { out << text; };
}

// ---- input ---------------------------------------------------------------------------------

TEST(ReadRegularFile, ReadsRegularFilesAndFollowsLinks) {
  TempDir dir;
  write_bytes(dir / "f", "hello\n");
  EXPECT_EQ(read_regular_file(dir / "f", 100), "hello\n");
  EXPECT_EQ(read_regular_file(dir / "f", 6), "hello\n"); // exactly the cap
  write_bytes(dir / "empty", "");
  EXPECT_EQ(read_regular_file(dir / "empty", 100), "");
  fs::create_symlink(dir / "f", dir / "link");
  EXPECT_EQ(read_regular_file(dir / "link", 100), "hello\n");
}

TEST(ReadRegularFile, ProcFilesThatSaySizeZero) {
  if (!fs::exists("/proc/self/status")) GTEST_SKIP() << "no /proc";
  const std::string s = read_regular_file("/proc/self/status", 1 << 20);
  EXPECT_NE(s.find("Name:"), std::string::npos);
}

TEST(ReadRegularFile, NotFoundOnlyWhenMissing) {
  TempDir dir;
  expect_input_error([&] { read_regular_file(dir / "absent", 100); },
                     InputFileError::Reason::not_found, {dir / "absent", "not found"});
  write_bytes(dir / "file", "x");
  expect_input_error([&] { read_regular_file(dir / "file/below", 100); },
                     InputFileError::Reason::not_found, {"not found"});
  fs::create_symlink(dir / "nowhere", dir / "dangling");
  expect_input_error([&] { read_regular_file(dir / "dangling", 100); },
                     InputFileError::Reason::not_found, {"not found"});
}

TEST(ReadRegularFile, DirectoryIsNamed) {
  TempDir dir;
  fs::create_directories(dir / "d");
  expect_input_error([&] { read_regular_file(dir / "d", 100); }, InputFileError::Reason::not_regular,
                     {dir / "d", "is a directory, not a regular file"});
}

TEST(ReadRegularFile, FifoIsRefusedWithoutBlocking) {
  TempDir dir;
  make_fifo(dir / "fifo");
  without_blocking(dir / "fifo", [&] {
    expect_input_error([&] { read_regular_file(dir / "fifo", 100); }, InputFileError::Reason::not_regular,
                       {dir / "fifo", "is a FIFO, not a regular file"});
  });
}

TEST(ReadRegularFile, DevicesAndSocketsAreNamed) {
  if (fs::exists("/dev/null")) {
    expect_input_error([&] { read_regular_file("/dev/null", 100); }, InputFileError::Reason::not_regular,
                       {"/dev/null: is a character device, not a regular file"});
  }
  TempDir dir;
  if (!make_socket(dir / "sock")) GTEST_SKIP() << "cannot bind a unix socket";
  expect_input_error([&] { read_regular_file(dir / "sock", 100); }, InputFileError::Reason::not_regular,
                     {"is a socket, not a regular file"});
}

TEST(ReadRegularFile, OverTheCapBeforeReading) {
  TempDir dir;
  write_bytes(dir / "big", std::string(100, 'x'));
  expect_input_error([&] { read_regular_file(dir / "big", 99); }, InputFileError::Reason::too_large,
                     {dir / "big", "100 bytes", "cap of 99 bytes"});
}

TEST(ReadRegularFile, ReservesItsBufferInABudget) {
  TempDir dir;
  write_bytes(dir / "f", std::string(5000, 'x'));
  MemoryBudget budget(1 << 20);
  {
    BudgetReservation r(budget, false);
    EXPECT_EQ(read_regular_file(dir / "f", 1 << 20, &r).size(), 5000u);
    EXPECT_GE(r.held(), 5000u);
    EXPECT_EQ(budget.used(), r.held());
  }
  EXPECT_EQ(budget.used(), 0u);
  MemoryBudget small(4000);
  BudgetReservation r(small, false);
  expect_import_error([&] { read_regular_file(dir / "f", 1 << 20, &r); },
                      {dir / "f", "needs more than the memory budget of 4000 bytes"});
}

// ---- output --------------------------------------------------------------------------------

TEST(WriteOutputFile, CreatesAFileAndLeavesNoTemporary) {
  TempDir dir;
  write_output_file(dir / "out.yaml", false, writes("a: 1\n"));
  EXPECT_EQ(read_bytes(dir / "out.yaml"), "a: 1\n");
  EXPECT_EQ(others(dir, {"out.yaml"}), std::vector<std::string>{});
}

TEST(WriteOutputFile, RegularFileNeedsForce) {
  TempDir dir;
  write_bytes(dir / "out.yaml", "old\n");
  expect_output_error([&] { write_output_file(dir / "out.yaml", false, writes("new\n")); },
                      {dir / "out.yaml", "exists; refusing to overwrite it (use --force)"});
  EXPECT_EQ(read_bytes(dir / "out.yaml"), "old\n");
  expect_output_error([&] { check_output_path(dir / "out.yaml", false); }, {"use --force"});
  check_output_path(dir / "out.yaml", true);
  write_output_file(dir / "out.yaml", true, writes("new\n"));
  EXPECT_EQ(read_bytes(dir / "out.yaml"), "new\n");
  EXPECT_EQ(others(dir, {"out.yaml"}), std::vector<std::string>{});
}

TEST(WriteOutputFile, SymlinkIsNeverReplacedNorFollowed) {
  TempDir dir;
  write_bytes(dir / "victim", "precious\n");
  fs::create_symlink(dir / "victim", dir / "link");
  fs::create_symlink(dir / "nowhere", dir / "dangling");
  for (bool force : {false, true}) {
    for (const char* name : {"link", "dangling"}) {
      expect_output_error([&] { write_output_file(dir / name, force, writes("x")); },
                          {dir / name, "is a symbolic link, not a regular file; refusing to replace it"});
      EXPECT_TRUE(fs::is_symlink(dir / name));
    }
  }
  EXPECT_EQ(read_bytes(dir / "victim"), "precious\n");
  EXPECT_FALSE(fs::exists(dir / "nowhere"));
}

TEST(WriteOutputFile, FifoDirectorySocketAndDeviceAreRefusedEvenWithForce) {
  TempDir dir;
  make_fifo(dir / "fifo");
  fs::create_directories(dir / "dir");
  const bool socket = make_socket(dir / "sock");
  for (bool force : {false, true}) {
    without_blocking(dir / "fifo", [&] {
      expect_output_error([&] { write_output_file(dir / "fifo", force, writes("x")); },
                          {dir / "fifo", "is a FIFO, not a regular file"});
    });
    EXPECT_TRUE(fs::is_fifo(dir / "fifo"));
    expect_output_error([&] { write_output_file(dir / "dir", force, writes("x")); },
                        {dir / "dir", "is a directory, not a regular file"});
    EXPECT_TRUE(fs::is_directory(dir / "dir"));
    if (socket) {
      expect_output_error([&] { write_output_file(dir / "sock", force, writes("x")); },
                          {"is a socket, not a regular file"});
    }
    // A device: only the checks (nothing is written anywhere, even if they were wrong).
    if (fs::exists("/dev/null")) {
      expect_output_error([&] { check_output_path("/dev/null", force); },
                          {"/dev/null: is a character device, not a regular file"});
    }
  }
  EXPECT_EQ(others(dir, {"fifo", "dir", "sock"}), std::vector<std::string>{});
}

TEST(WriteOutputFile, MissingDirectoryIsReportedBeforeTheWork) {
  TempDir dir;
  expect_output_error([&] { check_output_path(dir / "no/such/out.yaml", false); },
                      {dir / "no/such/out.yaml", "No such file or directory"});
  write_bytes(dir / "file", "x");
  expect_output_error([&] { check_output_path(dir / "file/out.yaml", false); }, {"file/out.yaml"});
  expect_output_error([&] { check_output_path("", false); }, {"empty"});
}

TEST(WriteOutputFile, PlantedTemporaryLinkIsNotFollowed) {
  TempDir dir;
  write_bytes(dir / "victim", "precious\n");
  const std::string tmp = dir / ("out.yaml.tmp." + std::to_string(::getpid()));
  fs::create_symlink(dir / "victim", tmp);
  write_output_file(dir / "out.yaml", false, writes("new\n"));
  EXPECT_EQ(read_bytes(dir / "out.yaml"), "new\n");
  EXPECT_EQ(read_bytes(dir / "victim"), "precious\n");
  EXPECT_TRUE(fs::is_symlink(tmp)); // not ours: left alone
}

TEST(WriteOutputFile, FailingBodyLeavesNothing) {
  TempDir dir;
  write_bytes(dir / "out.yaml", "old\n");
  EXPECT_THROW(write_output_file(dir / "out.yaml", true,
                                 [](std::ostream& out) {
                                   out << "partial";
                                   throw std::runtime_error("body failed");
                                 }),
               std::runtime_error);
  EXPECT_EQ(read_bytes(dir / "out.yaml"), "old\n");
  EXPECT_EQ(others(dir, {"out.yaml"}), std::vector<std::string>{});
}

TEST(WriteOutputFile, FullDeviceIsAnError) {
  // The write path of write_output_file() on /dev/full: every write fails with ENOSPC.
  const int fd = ::open("/dev/full", O_WRONLY | O_CLOEXEC);
  if (fd < 0) GTEST_SKIP() << "no /dev/full";
  bool body_stopped_early = true;
  expect_output_error(
      [&] {
        detail::write_stream_to_fd(fd, "out.yaml", [&](std::ostream& out) {
          const std::string line(1000, 'x');
          for (int i = 0; i < 10000; ++i) out << line << '\n'; // 10 MB: stops at the first failure
          body_stopped_early = false;
        });
      },
      {"out.yaml: cannot write: No space left on device"});
  EXPECT_TRUE(body_stopped_early);
  ::close(fd);
}

TEST(WriteOutputFile, FileSizeLimitIsAnErrorAndRemovesTheTemporary) {
  // A write that fails part-way (here EFBIG under RLIMIT_FSIZE, as ENOSPC on a full disk), end
  // to end, in a child process so that the limit does not touch the test runner.
  TempDir dir;
  const std::string out = dir / "out.yaml";
  const pid_t pid = ::fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    ::signal(SIGXFSZ, SIG_IGN);
    rlimit lim{};
    lim.rlim_cur = 100000;
    lim.rlim_max = RLIM_INFINITY;
    if (::getrlimit(RLIMIT_FSIZE, &lim) != 0) ::_exit(10);
    lim.rlim_cur = 100000;
    if (::setrlimit(RLIMIT_FSIZE, &lim) != 0) ::_exit(10);
    try {
      write_output_file(out, false, [](std::ostream& o) {
        const std::string line(1000, 'x');
        for (int i = 0; i < 1000; ++i) o << line << '\n';
      });
    } catch (const OutputError& e) {
      const std::string msg = e.what();
      if (msg.find(out + ": cannot write: File too large") == std::string::npos) ::_exit(3);
      ::_exit(0);
    } catch (...) {
      ::_exit(4);
    }
    ::_exit(5); // no error
  }
  int status = 0;
  ASSERT_EQ(::waitpid(pid, &status, 0), pid);
  ASSERT_TRUE(WIFEXITED(status));
  if (WEXITSTATUS(status) == 10) GTEST_SKIP() << "cannot set RLIMIT_FSIZE";
  EXPECT_EQ(WEXITSTATUS(status), 0) << "3: wrong message, 4: another exception, 5: no error";
  EXPECT_FALSE(fs::exists(out));
  EXPECT_EQ(others(dir, {}), std::vector<std::string>{}); // the temporary file is gone
}

} // namespace
} // namespace kmodsim::import::test
