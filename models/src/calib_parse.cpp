// Parsers of measurement files for kmodsim calibrate (kmodsim/calib.hpp).
#include "kmodsim/calib.hpp"

#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <regex>
#include <sstream>

namespace kmodsim::calib {
namespace {

constexpr double kMaxInitcallUsecs = 86400e6; // a day: anything longer is not an initcall

[[noreturn]] void fail(const std::string& file, int line, const std::string& what) {
  throw CalibError(file + ":" + std::to_string(line) + ": " + what);
}

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> out;
  std::string cur;
  std::istringstream in(text);
  while (std::getline(in, cur)) {
    if (!cur.empty() && cur.back() == '\r')
      cur.pop_back();
    out.push_back(cur);
  }
  return out;
}

/// A finite number written in full (no trailing junk); nullopt otherwise.
std::optional<double> number(const std::string& s) {
  if (s.empty() || s.size() > 64)
    return std::nullopt;
  errno = 0;
  char* end = nullptr;
  const double v = std::strtod(s.c_str(), &end);
  if (errno != 0 || end != s.c_str() + s.size() || !std::isfinite(v))
    return std::nullopt;
  return v;
}

std::string trim(const std::string& s) {
  const auto a = s.find_first_not_of(" \t");
  if (a == std::string::npos)
    return "";
  const auto b = s.find_last_not_of(" \t");
  return s.substr(a, b - a + 1);
}

/// "fn+0x0/0x1c" -> "fn"; a kernel symbol name otherwise unchanged.
std::string strip_offset(const std::string& s) {
  const auto plus = s.find('+');
  return plus == std::string::npos ? s : s.substr(0, plus);
}

bool symbol_name(const std::string& s) {
  if (s.empty() || s.size() > 256)
    return false;
  for (char c : s)
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '.' || c == '$'))
      return false;
  return true;
}

/// The length of a CONFIG_PRINTK_CALLER field at `p` ("[    T123]" a task, "[     C1]" a CPU), 0 if none.
size_t caller_field(const std::string& l, size_t p) {
  if (p >= l.size() || l[p] != '[')
    return 0;
  size_t q = p + 1;
  while (q < l.size() && l[q] == ' ')
    ++q;
  if (q >= l.size() || (l[q] != 'T' && l[q] != 'C'))
    return 0;
  const size_t digits = ++q;
  while (q < l.size() && q - p < 32 && std::isdigit(static_cast<unsigned char>(l[q])))
    ++q;
  return q > digits && q < l.size() && l[q] == ']' ? q + 1 - p : 0;
}

/// Strips an optional "<6>" log level, "[    1.234567]" printk time (sets `ts`, else leaves it)
/// and "[    T1]" caller field.
std::string strip_printk_prefix(const std::string& l, double& ts) {
  size_t p = 0;
  if (p < l.size() && l[p] == '<') {
    size_t q = p + 1;
    while (q < l.size() && q < 8 && std::isdigit(static_cast<unsigned char>(l[q])))
      ++q;
    if (q < l.size() && q > p + 1 && l[q] == '>')
      p = q + 1;
  }
  if (p < l.size() && l[p] == '[') {
    const size_t close = l.find(']', p);
    if (close != std::string::npos && close - p < 32) {
      if (auto v = number(trim(l.substr(p + 1, close - p - 1)))) {
        ts = *v;
        p = close + 1;
      }
    }
  }
  p += caller_field(l, p);
  while (p < l.size() && l[p] == ' ')
    ++p;
  return l.substr(p);
}

} // namespace

// --- initcall_debug --------------------------------------------------------------------------------

std::vector<Initcall> parse_dmesg(const std::string& text, const std::string& file) {
  static const std::regex returned(
      R"(^initcall (\S+)(?: \[([^\]\s]+)\])? returned (-?\d+) after (\d+) usecs\s*$)");
  static const std::regex ran_for(R"(^initcall (0x[0-9a-fA-F]+) ran for (\d+) msecs: (\S+?)(?:\(\))?(?: \[([^\]\s]+)\])?\s*$)");
  static const std::regex calling(R"(^calling  ?(\S+)(?: \[([^\]\s]+)\])? @ \d+\s*$)");
  std::vector<Initcall> out;
  const auto lines = lines_of(text);
  for (size_t i = 0; i < lines.size(); ++i) {
    const int ln = static_cast<int>(i) + 1;
    double ts = -1;
    // the printk time first: journalctl -k -o short-monotonic puts it before the host,
    // "[    1.23] host kernel: initcall ..."
    std::string l = strip_printk_prefix(lines[i], ts);
    // syslog form: "Mar  6 10:00:00 host kernel: [    1.23] initcall ..."
    const auto k = l.find("kernel: ");
    if (k != std::string::npos && k < 64)
      l = strip_printk_prefix(l.substr(k + 8), ts);
    if (l.size() > 1024 && (l.rfind("calling ", 0) == 0 || l.rfind("initcall ", 0) == 0))
      fail(file, ln, "initcall line longer than 1024 characters");
    if (l.rfind("calling ", 0) == 0) {
      std::smatch m;
      if (!std::regex_match(l, m, calling) || !symbol_name(strip_offset(m[1].str())))
        fail(file, ln, "malformed 'calling' line (expected 'calling  fn+0x0/0x1c [module] @ pid')");
      continue; // the duration is on the matching "initcall" line
    }
    if (l.rfind("initcall ", 0) != 0)
      continue;
    std::smatch m;
    Initcall ic;
    ic.line = ln;
    ic.timestamp = ts;
    if (std::regex_match(l, m, returned)) {
      ic.function = strip_offset(m[1].str());
      ic.module = m[2].matched ? m[2].str() : "";
      auto r = number(m[3].str());
      auto us = number(m[4].str());
      // an int return value; a duration under a day (the kernel prints both as integers)
      if (!r || !us || std::fabs(*r) > 2147483648.0 || *us > kMaxInitcallUsecs)
        fail(file, ln, "number out of range in initcall line");
      ic.ret = static_cast<long long>(*r);
      ic.usecs = *us;
    } else if (std::regex_match(l, m, ran_for)) {
      ic.function = strip_offset(m[3].str());
      ic.module = m[4].matched ? m[4].str() : "";
      auto ms = number(m[2].str());
      if (!ms || *ms * 1000.0 > kMaxInitcallUsecs)
        fail(file, ln, "number out of range in initcall line");
      ic.usecs = *ms * 1000.0;
    } else {
      fail(file, ln, "malformed 'initcall' line (expected 'initcall fn+0x0/0x1c [module] returned R after N usecs')");
    }
    if (!symbol_name(ic.function))
      fail(file, ln, "malformed initcall function name '" + ic.function + "'");
    out.push_back(std::move(ic));
  }
  return out;
}

// --- /proc/lock_stat -------------------------------------------------------------------------------

std::vector<LockStat> parse_lock_stat(const std::string& text, const std::string& file) {
  const auto lines = lines_of(text);
  int version = 0; // 3 or 4 (tenths)
  std::vector<LockStat> out;
  for (size_t i = 0; i < lines.size(); ++i) {
    const int ln = static_cast<int>(i) + 1;
    const std::string l = trim(lines[i]);
    if (l.empty())
      continue;
    if (l.rfind("lock_stat version", 0) == 0) {
      const std::string v = trim(l.substr(17));
      if (v == "0.3")
        version = 3;
      else if (v == "0.4")
        version = 4;
      else
        fail(file, ln, "unsupported lock_stat version '" + v + "' (kmodsim reads 0.3 and 0.4)");
      continue;
    }
    if (version == 0)
      fail(file, ln, "expected the 'lock_stat version 0.3|0.4' header first");
    if (l[0] == '-' || l[0] == '.' || l.rfind("class name", 0) == 0 || l.rfind("*WARNING*", 0) == 0)
      continue; // rules, the column header, seq_header's "lock debugging disabled" warning
    // a lock line: "name:" and the numbers ("%40s:%14lu ": a 14-digit first number follows the
    // colon directly); contention points: "name  n  [<addr>] fn+0x.../0x..." (skipped)
    const auto colon = l.rfind(':');
    if (colon == std::string::npos) {
      if (l.find('[') != std::string::npos)
        continue; // a contention point
      fail(file, ln, "malformed lock_stat line (expected 'class name: numbers...')");
    }
    std::string name = trim(l.substr(0, colon));
    std::istringstream rest(l.substr(colon + 1));
    std::vector<double> v;
    std::string tok;
    while (rest >> tok) {
      auto d = number(tok);
      if (!d || *d < 0)
        fail(file, ln, "'" + tok + "' is not a non-negative number in lock '" + name + "'");
      v.push_back(*d);
    }
    const size_t want = version == 4 ? 12 : 10;
    if (v.size() != want)
      fail(file, ln, "lock '" + name + "' has " + std::to_string(v.size()) + " numbers; version 0." +
                         std::to_string(version) + " has " + std::to_string(want));
    LockStat s; // a reader/writer lock's two lines ("%38s-W:", "%38s-R:") are classes NAME-W, NAME-R
    s.name = name;
    s.line = ln;
    size_t k = 0;
    s.con_bounces = v[k++];
    s.contentions = v[k++];
    s.waittime_min_us = v[k++];
    s.waittime_max_us = v[k++];
    s.waittime_total_us = v[k++];
    if (version == 4)
      s.waittime_avg_us = v[k++];
    s.acq_bounces = v[k++];
    s.acquisitions = v[k++];
    s.holdtime_min_us = v[k++];
    s.holdtime_max_us = v[k++];
    s.holdtime_total_us = v[k++];
    if (version == 4)
      s.holdtime_avg_us = v[k++];
    if (version == 3) {
      s.waittime_avg_us = s.contentions > 0 ? s.waittime_total_us / s.contentions : 0;
      s.holdtime_avg_us = s.acquisitions > 0 ? s.holdtime_total_us / s.acquisitions : 0;
    }
    if (s.waittime_min_us > s.waittime_max_us || s.holdtime_min_us > s.holdtime_max_us)
      fail(file, ln, "lock '" + name + "': a minimum above its maximum");
    out.push_back(std::move(s));
  }
  if (version == 0)
    throw CalibError(file + ": empty lock_stat file");
  return out;
}

// --- timings CSV -----------------------------------------------------------------------------------

namespace {
/// One load_module (or one of its steps) over 100 s is a unit error (a 2009 boot took 3 s), as
/// is a count of loaded modules or exported symbols over 10^7.
constexpr double kMaxLoadUs = 1e8;
constexpr double kMaxCount = 1e7;
} // namespace

std::vector<TimingRow> parse_timings_csv(const std::string& text, const std::string& file) {
  const auto lines = lines_of(text);
  size_t i = 0;
  while (i < lines.size() && (trim(lines[i]).empty() || lines[i][0] == '#'))
    ++i;
  if (i == lines.size())
    throw CalibError(file + ": empty timings file (expected a header 'module,total_us[,step:<name>...]')");
  auto split = [](const std::string& s) {
    std::vector<std::string> f;
    std::string cur;
    std::istringstream in(s);
    while (std::getline(in, cur, ','))
      f.push_back(trim(cur));
    if (!s.empty() && s.back() == ',')
      f.emplace_back();
    return f;
  };
  const auto header = split(lines[i]);
  const int hl = static_cast<int>(i) + 1;
  if (header.size() < 2 || header[0] != "module" || header[1] != "total_us")
    fail(file, hl, "the header must start with 'module,total_us'");
  for (size_t c = 2; c < header.size(); ++c) {
    if ((header[c].rfind("step:", 0) != 0 || header[c].size() == 5) && header[c] != "loaded_modules" &&
        header[c] != "symtab_entries")
      fail(file, hl, "column '" + header[c] + "': extra columns are loaded_modules, symtab_entries or step:<step name>");
    for (size_t e = 0; e < c; ++e)
      if (header[e] == header[c])
        fail(file, hl, header[c] + ": column given twice (columns " + std::to_string(e + 1) + " and " +
                           std::to_string(c + 1) + ")");
  }
  std::vector<TimingRow> out;
  for (++i; i < lines.size(); ++i) {
    const int ln = static_cast<int>(i) + 1;
    if (trim(lines[i]).empty() || lines[i][0] == '#')
      continue;
    const auto f = split(lines[i]);
    if (f.size() != header.size())
      fail(file, ln, std::to_string(f.size()) + " fields; the header has " + std::to_string(header.size()));
    TimingRow r;
    r.line = ln;
    r.module = f[0];
    if (r.module.empty())
      fail(file, ln, "empty module name");
    auto t = number(f[1]);
    if (!t || *t < 0)
      fail(file, ln, "total_us '" + f[1] + "' is not a non-negative number");
    if (*t > kMaxLoadUs)
      fail(file, ln, "total_us: " + f[1] + " us is over 100 s (1e8 us): not the time of one load (microseconds?)");
    r.total_us = *t;
    for (size_t c = 2; c < f.size(); ++c) {
      if (f[c].empty())
        continue; // a step not measured for this load
      auto s = number(f[c]);
      if (!s || *s < 0)
        fail(file, ln, header[c] + " '" + f[c] + "' is not a non-negative number");
      if (header[c] == "loaded_modules" || header[c] == "symtab_entries") {
        if (*s != std::floor(*s) || *s > kMaxCount)
          fail(file, ln, header[c] + ": '" + f[c] + "' is not a whole number from 0 to 10^7");
        (header[c] == "loaded_modules" ? r.loaded_modules : r.symtab_entries) = *s;
      } else {
        if (*s > kMaxLoadUs)
          fail(file, ln, header[c] + ": " + f[c] + " us is over 100 s (1e8 us): not the time of one step (microseconds?)");
        r.steps_us[header[c].substr(5)] = *s;
      }
    }
    out.push_back(std::move(r));
  }
  if (out.empty())
    throw CalibError(file + ": no data rows after the header (one row per init_module call)");
  return out;
}

} // namespace kmodsim::calib
