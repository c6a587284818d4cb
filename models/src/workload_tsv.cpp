#include "workload_tsv.hpp"

#include "config_doc.hpp"
#include "kmodsim/limits.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <cmath>

namespace kmodsim::detail {

namespace {

/// A TSV file of a workload: its header and, row by row, the fields with the column (1-based)
/// where each starts. Errors name file:line:col and the workload key.
class Table {
public:
  Table(const std::string& text, std::string file, std::string key) : text_(text), file_(std::move(file)), key_(std::move(key)) {}

  [[noreturn]] void fail(size_t line, size_t col, const std::string& msg) const {
    throw ConfigError(fmt::format("{}:{}:{}: workload.{}: {}", file_, line, col, key_, msg));
  }
  [[noreturn]] void fail_at(size_t i, const std::string& msg) const { fail(line_, cols_[i], msg); }

  /// Reads the header: every column one of `known`, none twice, every one of `required` there;
  /// `what` says what a header holds ("device, module, and optionally repeat and per_cpu").
  /// Returns false for a file without a header.
  bool header(const std::vector<std::string>& known, const std::vector<size_t>& required, const std::string& what) {
    if (!next())
      return false;
    for (size_t i = 0; i < fields_.size(); ++i) {
      auto it = std::find(known.begin(), known.end(), fields_[i]);
      if (it == known.end())
        fail_at(i, "unknown column '" + fields_[i] + "' (the header names " + what + ", separated by tabs)");
      const auto c = static_cast<size_t>(it - known.begin());
      if (std::find(columns_.begin(), columns_.end(), c) != columns_.end())
        fail_at(i, "column '" + fields_[i] + "' named twice");
      columns_.push_back(c);
    }
    for (size_t c : required)
      if (std::find(columns_.begin(), columns_.end(), c) == columns_.end())
        fail(line_, 1, "the header needs a column '" + known[c] + "'");
    return true;
  }

  /// The next row (false at the end); it has as many fields as the header.
  bool row() {
    if (!next())
      return false;
    if (fields_.size() != columns_.size())
      fail(line_, 1, fmt::format("{} fields, the header names {}", fields_.size(), columns_.size()));
    return true;
  }

  size_t size() const { return fields_.size(); }
  size_t column(size_t i) const { return columns_[i]; } ///< the index in `known` of field i
  const std::string& field(size_t i) const { return fields_[i]; }
  size_t line() const { return line_; }
  size_t col(size_t i) const { return cols_[i]; } ///< where field i starts (1-based)
  /// The field of column `c` (an index in `known`), or size() if the header has none.
  size_t find(size_t c) const { return static_cast<size_t>(std::find(columns_.begin(), columns_.end(), c) - columns_.begin()); }

  std::string text(size_t i) const {
    if (!clean_utf8(fields_[i]))
      fail_at(i, "not valid UTF-8 text (or holds control characters)");
    return fields_[i];
  }
  long long integer(size_t i, const char* name, long long lo, long long hi) const {
    const std::string& v = fields_[i];
    long long n = 0;
    const auto r = std::from_chars(v.data(), v.data() + v.size(), n);
    if (r.ec != std::errc() || r.ptr != v.data() + v.size())
      fail_at(i, fmt::format("{}: expected an integer, got '{}'", name, v));
    if (n < lo)
      fail_at(i, fmt::format("{}: must be >= {}, got {}", name, lo, n));
    if (n > hi)
      fail_at(i, fmt::format("{}: must be <= {}, got {}", name, hi, n));
    return n;
  }
  double number(size_t i, const char* name, const limits::Range& range) const {
    const std::string& v = fields_[i];
    double x = 0;
    const auto r = std::from_chars(v.data(), v.data() + v.size(), x);
    if (r.ec != std::errc() || r.ptr != v.data() + v.size() || !std::isfinite(x))
      fail_at(i, fmt::format("{}: expected a number, got '{}'", name, v));
    if (const std::string msg = Reader::range_message(x, range); !msg.empty())
      fail_at(i, std::string(name) + ": " + msg);
    return x;
  }

private:
  /// The next line that is neither empty nor a comment, split at tabs.
  bool next() {
    while (pos_ < text_.size()) {
      size_t end = text_.find('\n', pos_);
      if (end == std::string::npos)
        end = text_.size();
      size_t len = end - pos_;
      const size_t start = pos_;
      pos_ = end + 1;
      ++line_;
      if (len > 0 && text_[start + len - 1] == '\r')
        --len;
      if (len == 0 || text_[start] == '#')
        continue;
      fields_.clear();
      cols_.clear();
      size_t f = start;
      while (true) {
        const size_t tab = text_.find('\t', f);
        const size_t stop = tab == std::string::npos || tab > start + len ? start + len : tab;
        fields_.emplace_back(text_, f, stop - f);
        cols_.push_back(f - start + 1);
        if (stop == start + len)
          return true;
        f = stop + 1;
      }
    }
    return false;
  }

  const std::string& text_;
  std::string file_, key_;
  size_t pos_ = 0, line_ = 0;
  std::vector<std::string> fields_;
  std::vector<size_t> cols_;
  std::vector<size_t> columns_;
};

} // namespace

std::string unknown_uevent_module(const std::string& module, const std::vector<std::string>& names) {
  std::string msg = "uevent requests unknown module '" + module + "'";
  const std::string dym = did_you_mean(module, names);
  if (!dym.empty())
    msg += " (did you mean '" + dym + "'?)";
  return msg;
}

std::vector<Module> parse_modules_tsv(const std::string& text, const std::string& file) {
  enum Column {
    name, size_kb, init_kb, file_kb, decompressed_kb, undef_symbols, dep_symbols, relocations, exports, percpu_kb, deps,
    init_cpu_us, init_wait_ms
  };
  const std::vector<std::string> known = {"name",        "size_kb",     "init_kb",     "file_kb",   "decompressed_kb",
                                          "undef_symbols", "dep_symbols", "relocations", "exports",   "percpu_kb",
                                          "deps",        "init_cpu_us", "init_wait_ms"};
  Table t(text, file, "modules_tsv");
  if (!t.header(known, {name}, "name and any of the module keys: size_kb, init_kb, file_kb, decompressed_kb, "
                               "undef_symbols, dep_symbols, relocations, exports, percpu_kb, deps, init_cpu_us, "
                               "init_wait_ms"))
    t.fail(1, 1, "no header line (name and the module keys, separated by tabs)");
  std::vector<Module> out;
  std::unordered_map<std::string, size_t> index;
  std::vector<size_t> line_of, deps_col; // per module: its line, and where its deps field starts
  while (t.row()) {
    if (static_cast<long long>(out.size()) >= limits::kMaxModules)
      t.fail(t.line(), 1, fmt::format("more than {} modules", limits::kMaxModules));
    Module m;
    m.loc = {file, static_cast<int>(std::min<size_t>(t.line(), 2147483647)), 1};
    size_t dcol = 1;
    for (size_t i = 0; i < t.size(); ++i) {
      const char* key = known[t.column(i)].c_str();
      switch (static_cast<Column>(t.column(i))) {
      case name: m.name = t.text(i); break;
      case size_kb: m.size_kb = t.number(i, key, limits::kSizeKb); break;
      case init_kb: m.init_kb = t.number(i, key, limits::kSizeKb); break;
      case file_kb: m.file_kb = t.number(i, key, limits::kSizeKb); break;
      case decompressed_kb: m.decompressed_kb = t.number(i, key, limits::kSizeKb); break;
      case undef_symbols: m.undef_symbols = t.integer(i, key, 0, limits::kMaxSymbols); break;
      case dep_symbols: m.dep_symbols = t.integer(i, key, 0, limits::kMaxSymbols); break;
      case relocations: m.relocations = t.integer(i, key, 0, limits::kMaxRelocations); break;
      case exports: m.exports = t.integer(i, key, 0, limits::kMaxSymbols); break;
      case percpu_kb: m.percpu_kb = t.number(i, key, limits::kSizeKb); break;
      case init_cpu_us: m.init.cpu_us = t.number(i, key, limits::kInitCpuUs); break;
      case init_wait_ms: m.init.wait_ms = t.number(i, key, limits::kInitWaitMs); break;
      case deps: {
        const std::string v = t.text(i);
        dcol = t.col(i);
        for (size_t p = 0; p < v.size();) {
          const size_t comma = std::min(v.find(',', p), v.size());
          if (comma == p)
            t.fail_at(i, "deps: an empty module name (the names are separated by single commas)");
          m.deps.push_back(v.substr(p, comma - p));
          if (static_cast<long long>(m.deps.size()) > limits::kMaxDepsPerModule)
            t.fail_at(i, fmt::format("deps: more than {} dependencies", limits::kMaxDepsPerModule));
          p = comma + 1;
          if (comma + 1 == v.size())
            t.fail_at(i, "deps: an empty module name (the names are separated by single commas)");
        }
        break;
      }
      }
    }
    check_module(m, [&t, &known](const char* key, const std::string& msg) {
      const size_t i = t.find(static_cast<size_t>(std::find(known.begin(), known.end(), key) - known.begin()));
      t.fail_at(i < t.size() ? i : 0, msg);
    });
    if (!index.emplace(m.name, out.size()).second)
      t.fail_at(t.find(name), duplicate_module_message(m.name));
    line_of.push_back(t.line());
    deps_col.push_back(dcol);
    out.push_back(std::move(m));
  }
  for (size_t i = 0; i < out.size(); ++i)
    for (const auto& d : out[i].deps) {
      if (!index.count(d))
        t.fail(line_of[i], deps_col[i], "deps: " + unknown_dep_message(out[i].name, d, module_names(out)));
      if (d == out[i].name)
        t.fail(line_of[i], deps_col[i], "deps: " + self_dep_message(d));
    }
  return out;
}

std::vector<Uevent> parse_uevents_tsv(const std::string& text, const std::string& file,
                                      const std::unordered_map<std::string, size_t>& index,
                                      const std::vector<std::string>& names) {
  enum Column { device, module, repeat, per_cpu };
  const std::vector<std::string> known = {"device", "module", "repeat", "per_cpu"};
  Table t(text, file, "uevents_tsv");
  if (!t.header(known, {device, module}, "device, module, and optionally repeat and per_cpu"))
    t.fail(1, 1, "no header line (device and module, separated by a tab)");
  std::vector<Uevent> out;
  while (t.row()) {
    if (static_cast<long long>(out.size()) >= limits::kMaxUevents)
      t.fail(t.line(), 1, fmt::format("more than {} uevents", limits::kMaxUevents));
    Uevent u;
    u.loc = {file, static_cast<int>(std::min<size_t>(t.line(), 2147483647)), 1};
    for (size_t i = 0; i < t.size(); ++i) {
      switch (static_cast<Column>(t.column(i))) {
      case device: u.device = t.text(i); break;
      case module: u.module = t.text(i); break;
      case repeat: u.repeat = static_cast<long>(t.integer(i, "repeat", 1, limits::kMaxUevents)); break;
      case per_cpu:
        if (t.field(i) != "true" && t.field(i) != "false")
          t.fail_at(i, "per_cpu: expected true or false, got '" + t.field(i) + "'");
        u.per_cpu = t.field(i) == "true";
        break;
      }
    }
    if (!u.module.empty() && !index.count(u.module))
      t.fail_at(t.find(module), unknown_uevent_module(u.module, names));
    out.push_back(std::move(u));
  }
  return out;
}

} // namespace kmodsim::detail
