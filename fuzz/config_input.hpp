// The input format of the config fuzzers (fuzz_config, fuzz_config_sim; docs/fuzzing.md):
// one scenario and the files it references, in one byte string.
//
//   <scenario.yaml>                   text before the first separator line is scenario.yaml
//   --- file: machine.yaml            one of the fixed names: scenario.yaml machine.yaml
//   <machine.yaml>                    kernel.yaml workload.yaml calibration.yaml
//   --- file: kernel.yaml
//   ...
//   --- set                           the rest: one `--set KEY.PATH=VALUE` per line
//   machine.cores=4
//
// A separator line is exactly "--- file: NAME" or "--- set" (a trailing '\r' is allowed). A
// part with a name outside the fixed set is dropped; a name given twice keeps the last part.
// The files are written into a private directory per process; files absent from the input are
// removed there, so one input never sees the previous one's files.
#pragma once

#include <kmodsim/config.hpp>

#include <array>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cxxabi.h>
#include <exception>
#include <string>
#include <string_view>
#include <typeinfo>
#include <unistd.h>
#include <vector>

namespace kmodsim::fuzz {

inline constexpr std::array<const char*, 5> kFileNames = {"scenario.yaml", "machine.yaml", "kernel.yaml",
                                                           "workload.yaml", "calibration.yaml"};
inline constexpr std::string_view kFileSep = "--- file: ";
inline constexpr std::string_view kSetSep = "--- set";

struct ConfigInput {
  std::array<bool, kFileNames.size()> present{};
  std::array<std::string, kFileNames.size()> files; ///< by index in kFileNames
  bool has_set = false;
  std::vector<std::string> set_lines; ///< non-empty lines of the `--- set` part
};

inline int file_index(std::string_view name) {
  for (size_t i = 0; i < kFileNames.size(); ++i)
    if (name == kFileNames[i])
      return static_cast<int>(i);
  return -1;
}

inline std::string_view chomp(std::string_view line) {
  if (!line.empty() && line.back() == '\r')
    line.remove_suffix(1);
  return line;
}

inline ConfigInput split_input(std::string_view text) {
  ConfigInput in;
  enum { kFile, kSet, kDrop } mode = kFile;
  int cur = 0; // scenario.yaml
  in.present[0] = true;
  std::string* out = &in.files[0];
  size_t pos = 0;
  while (pos < text.size()) {
    size_t nl = text.find('\n', pos);
    size_t end = nl == std::string_view::npos ? text.size() : nl + 1;
    std::string_view raw = text.substr(pos, end - pos);
    std::string_view line = chomp(raw.substr(0, raw.size() - (nl == std::string_view::npos ? 0 : 1)));
    pos = end;
    if (line.substr(0, kFileSep.size()) == kFileSep) {
      cur = file_index(line.substr(kFileSep.size()));
      if (cur < 0) {
        mode = kDrop;
      } else {
        mode = kFile;
        in.present[cur] = true;
        in.files[cur].clear();
        out = &in.files[cur];
      }
      continue;
    }
    if (line == kSetSep) {
      mode = kSet;
      in.has_set = true;
      in.set_lines.clear();
      continue;
    }
    if (mode == kFile)
      out->append(raw);
    else if (mode == kSet && !line.empty())
      in.set_lines.emplace_back(line);
  }
  return in;
}

/// The inverse of split_input (used by the structure-aware mutator).
inline std::string join_input(const ConfigInput& in) {
  std::string s = in.files[0];
  for (size_t i = 1; i < kFileNames.size(); ++i) {
    if (!in.present[i])
      continue;
    if (!s.empty() && s.back() != '\n')
      s += '\n';
    s += std::string(kFileSep) + kFileNames[i] + "\n" + in.files[i];
  }
  if (in.has_set) {
    if (!s.empty() && s.back() != '\n')
      s += '\n';
    s += std::string(kSetSep) + "\n";
    for (const auto& l : in.set_lines)
      s += l + "\n";
  }
  return s;
}

/// A private directory for this process, created once (under $TMPDIR or /tmp).
inline const std::string& work_dir() {
  static const std::string dir = [] {
    const char* t = std::getenv("TMPDIR");
    std::string tmpl = std::string(t && *t ? t : "/tmp") + "/kmodsim-fuzz-config.XXXXXX";
    std::vector<char> buf(tmpl.begin(), tmpl.end());
    buf.push_back('\0');
    if (!mkdtemp(buf.data())) {
      std::perror("kmodsim fuzz: mkdtemp");
      std::abort();
    }
    std::string d(buf.data());
    static std::string cleanup_dir = d;
    std::atexit([] { // a normal exit only; a crash leaves the folder (the run script cleans TMPDIR)
      for (const char* f : {"scenario.yaml", "machine.yaml", "kernel.yaml", "workload.yaml", "calibration.yaml",
                            "roundtrip.yaml"})
        unlink((cleanup_dir + "/" + f).c_str());
      rmdir(cleanup_dir.c_str());
    });
    return d;
  }();
  return dir;
}

inline void write_file(const std::string& path, const std::string& content) {
  FILE* f = std::fopen(path.c_str(), "wb");
  if (!f || std::fwrite(content.data(), 1, content.size(), f) != content.size() || std::fclose(f) != 0) {
    std::perror(("kmodsim fuzz: write " + path).c_str());
    std::abort();
  }
}

/// Writes the input's files into work_dir() (removing absent ones); returns scenario.yaml's path.
inline std::string materialize(const ConfigInput& in) {
  const std::string& dir = work_dir();
  for (size_t i = 0; i < kFileNames.size(); ++i) {
    const std::string p = dir + "/" + kFileNames[i];
    if (in.present[i])
      write_file(p, in.files[i]);
    else
      unlink(p.c_str());
  }
  return dir + "/" + kFileNames[0];
}

/// The input's `--set` lines as overrides (parse_override throws ConfigError on a bad line).
/// `--set SECTION=FILE` is relative to the current directory on the command line; here a
/// relative FILE is taken relative to work_dir(), so that `--set kernel=kernel.yaml` names
/// the input's kernel.yaml (the fuzzer never changes directory: libFuzzer's paths are relative).
inline std::vector<Override> overrides_of(const ConfigInput& in) {
  std::vector<Override> ov;
  for (const auto& l : in.set_lines) {
    Override o = parse_override(l);
    bool section = o.path == "machine" || o.path == "kernel" || o.path == "workload" || o.path == "calibration";
    if (section && !o.value.empty() && o.value[0] != '/' && o.value.find_first_of("{}:\n") == std::string::npos)
      o.value = work_dir() + "/" + o.value;
    ov.push_back(std::move(o));
  }
  return ov;
}

/// KMODSIM_FUZZ_VERBOSE=1: print what happened to each input (for replaying a corpus by hand).
inline bool verbose() {
  static const bool v = std::getenv("KMODSIM_FUZZ_VERBOSE") != nullptr;
  return v;
}

inline std::string demangle(const char* name) {
  int st = 0;
  char* d = abi::__cxa_demangle(name, nullptr, nullptr, &st);
  std::string s = st == 0 && d ? d : name;
  std::free(d);
  return s;
}

/// Reports an exception that is not kmodsim::ConfigError (call from a catch block) and aborts,
/// so that libFuzzer saves the input.
/// "type T: what(): W" of the exception being handled (call inside a catch block).
inline std::string describe_current_exception() {
  std::string type = "unknown";
  std::string what;
  if (const std::type_info* t = abi::__cxa_current_exception_type())
    type = demangle(t->name());
  try {
    throw;
  } catch (const std::exception& e) {
    what = e.what();
  } catch (...) {
    what = "(not a std::exception)";
  }
  return "type " + type + ": what(): " + what;
}

[[noreturn]] inline void report_unexpected_exception(const char* where) {
  const std::string d = describe_current_exception();
  std::fprintf(stderr, "\nKMODSIM-FINDING: uncaught exception in %s: %s\n", where, d.c_str());
  std::fflush(stderr);
  std::abort();
}

} // namespace kmodsim::fuzz
