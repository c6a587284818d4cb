#include "workload_tsv.hpp"

#include "config_doc.hpp"
#include "kmodsim/limits.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>

namespace kmodsim::detail {

namespace {

[[noreturn]] void fail(const std::string& file, size_t line, size_t col, const std::string& msg) {
  throw ConfigError(fmt::format("{}:{}:{}: workload.uevents_tsv: {}", file, line, col, msg));
}

/// The fields of one line, split at tabs, with the column (1-based) where each starts.
void split(const std::string& line, std::vector<std::string>& fields, std::vector<size_t>& cols) {
  fields.clear();
  cols.clear();
  size_t start = 0;
  while (true) {
    const size_t tab = line.find('\t', start);
    fields.push_back(line.substr(start, tab == std::string::npos ? std::string::npos : tab - start));
    cols.push_back(start + 1);
    if (tab == std::string::npos)
      return;
    start = tab + 1;
  }
}

} // namespace

std::string unknown_uevent_module(const std::string& module, const std::vector<std::string>& names) {
  std::string msg = "uevent requests unknown module '" + module + "'";
  const std::string dym = did_you_mean(module, names);
  if (!dym.empty())
    msg += " (did you mean '" + dym + "'?)";
  return msg;
}

std::vector<Uevent> parse_uevents_tsv(const std::string& text, const std::string& file,
                                      const std::unordered_map<std::string, size_t>& index,
                                      const std::vector<std::string>& names) {
  enum Column { device, module, repeat, per_cpu };
  const std::vector<std::string> known = {"device", "module", "repeat", "per_cpu"};
  std::vector<Column> header;
  std::vector<Uevent> out;
  std::vector<std::string> f;
  std::vector<size_t> cols;
  size_t pos = 0, line_no = 0;
  while (pos < text.size()) {
    size_t end = text.find('\n', pos);
    if (end == std::string::npos)
      end = text.size();
    std::string line = text.substr(pos, end - pos);
    pos = end + 1;
    ++line_no;
    if (!line.empty() && line.back() == '\r')
      line.pop_back();
    if (line.empty() || line[0] == '#')
      continue;
    split(line, f, cols);
    if (header.empty()) {
      for (size_t i = 0; i < f.size(); ++i) {
        auto it = std::find(known.begin(), known.end(), f[i]);
        if (it == known.end())
          fail(file, line_no, cols[i], "unknown column '" + f[i] + "' (the header names device, module, and "
                                       "optionally repeat and per_cpu, separated by tabs)");
        const auto c = static_cast<Column>(it - known.begin());
        if (std::find(header.begin(), header.end(), c) != header.end())
          fail(file, line_no, cols[i], "column '" + f[i] + "' named twice");
        header.push_back(c);
      }
      for (Column c : {device, module})
        if (std::find(header.begin(), header.end(), c) == header.end())
          fail(file, line_no, 1, "the header needs a column '" + known[c] + "'");
      continue;
    }
    if (f.size() != header.size())
      fail(file, line_no, 1, fmt::format("{} fields, the header names {}", f.size(), header.size()));
    if (static_cast<long long>(out.size()) >= limits::kMaxUevents)
      fail(file, line_no, 1, fmt::format("more than {} uevents", limits::kMaxUevents));
    Uevent u;
    u.loc = {file, static_cast<int>(std::min<size_t>(line_no, 2147483647)), 1};
    for (size_t i = 0; i < f.size(); ++i) {
      const std::string& v = f[i];
      switch (header[i]) {
      case device:
      case module:
        if (!clean_utf8(v))
          fail(file, line_no, cols[i], "not valid UTF-8 text (or holds control characters)");
        (header[i] == device ? u.device : u.module) = v;
        break;
      case repeat: {
        long long n = 0;
        const auto r = std::from_chars(v.data(), v.data() + v.size(), n);
        if (r.ec != std::errc() || r.ptr != v.data() + v.size())
          fail(file, line_no, cols[i], "repeat: expected an integer, got '" + v + "'");
        if (n < 1 || n > limits::kMaxUevents)
          fail(file, line_no, cols[i], fmt::format("repeat: must be >= 1 and <= {}, got {}", limits::kMaxUevents, n));
        u.repeat = static_cast<long>(n);
        break;
      }
      case per_cpu:
        if (v != "true" && v != "false")
          fail(file, line_no, cols[i], "per_cpu: expected true or false, got '" + v + "'");
        u.per_cpu = v == "true";
        break;
      }
    }
    if (!u.module.empty() && !index.count(u.module))
      fail(file, line_no, cols[static_cast<size_t>(std::find(header.begin(), header.end(), module) - header.begin())],
           unknown_uevent_module(u.module, names));
    out.push_back(std::move(u));
  }
  if (header.empty())
    fail(file, 1, 1, "no header line (device and module, separated by a tab)");
  return out;
}

} // namespace kmodsim::detail
