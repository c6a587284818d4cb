#include "engine_options.hpp"

#include <fmt/format.h>

#include <dlfcn.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cstdio>
#include <sstream>
#include <vector>

namespace kmodsim::sim {

namespace {

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

bool one_of(const std::string& v, const std::vector<std::string>& set) {
  return std::find(set.begin(), set.end(), v) != set.end();
}

std::string joined(const std::vector<std::string>& v) {
  std::string s;
  for (const auto& x : v)
    s += (s.empty() ? "" : ", ") + x;
  return s;
}

/// A log category that exists: kmodsim's (sim/*.cpp), or one that libsimgrid defines (each is
/// an exported variable named after it). SimGrid keeps a setting of an unknown category for one
/// that may appear later, so a typo would otherwise do nothing, silently.
bool known_category(const std::string& cat) {
  if (one_of(cat, {"root", "kmodsim", "actors", "mutex", "cpu"}))
    return true;
  if (cat.empty() || !std::all_of(cat.begin(), cat.end(), [](unsigned char c) { return std::isalnum(c) || c == '_'; }))
    return false;
  return dlsym(RTLD_DEFAULT, ("_simgrid_log_category__" + cat).c_str()) != nullptr;
}

std::string check_log_item(const std::string& item) {
  const auto colon = item.find(':');
  const auto dot = item.rfind('.', colon);
  if (colon == std::string::npos || dot == std::string::npos || colon + 1 == item.size())
    return fmt::format("'{}': expected CATEGORY.KEY:VALUE, e.g. kmodsim.thres:debug", item);
  const std::string cat = item.substr(0, dot), key = item.substr(dot + 1, colon - dot - 1),
                    value = item.substr(colon + 1);
  if (!known_category(cat))
    return fmt::format("'{}': no log category '{}' (kmodsim's: kmodsim, and under it actors, mutex, cpu; "
                       "SimGrid's: see --help-log-categories of any SimGrid program)",
                       item, cat);
  if (key == "thres" || key == "threshold") {
    const std::vector<std::string> levels = {"trace", "debug", "verbose", "info", "warning", "error", "critical"};
    if (!one_of(lower(value), levels))
      return fmt::format("'{}': threshold '{}' is not one of {}", item, value, joined(levels));
  } else if (key == "add" || key == "additivity") {
    if (!one_of(lower(value), {"yes", "no", "on", "off", "1", "0"}))
      return fmt::format("'{}': additivity '{}' is not one of yes, no", item, value);
  } else if (key == "app" || key == "appender") {
    if (value.rfind("file:", 0) != 0 || value.size() == 5)
      return fmt::format("'{}': the only appender is file:PATH", item);
    const std::string path = value.substr(5);
    if (FILE* f = std::fopen(path.c_str(), "a")) // SimGrid aborts on a file it cannot open
      std::fclose(f);
    else
      return fmt::format("'{}': cannot open {} for writing", item, path);
  } else if (key != "fmt" && key != "format") {
    return fmt::format("'{}': unknown key '{}' (thres, fmt, app or add)", item, key);
  }
  return "";
}

bool integer_in(const std::string& v, long lo, long hi) {
  long x = 0;
  const auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), x);
  return ec == std::errc() && p == v.data() + v.size() && x >= lo && x <= hi;
}

} // namespace

std::string check_log_setting(const std::string& setting) {
  std::istringstream in(setting);
  std::string item;
  bool any = false;
  while (in >> item) {
    any = true;
    if (std::string e = check_log_item(item); !e.empty())
      return e;
  }
  return any ? "" : "empty setting: expected CATEGORY.KEY:VALUE, e.g. kmodsim.thres:debug";
}

std::string check_cfg_setting(const std::string& setting) {
  const auto colon = setting.find(':');
  if (colon == std::string::npos)
    return fmt::format("'{}': expected ITEM:VALUE, e.g. contexts/factory:thread", setting);
  const std::string key = setting.substr(0, colon), value = setting.substr(colon + 1);
  if (key == "contexts/factory") {
    const std::vector<std::string> factories = {"raw", "thread", "ucontext", "boost"};
    if (!one_of(value, factories))
      return fmt::format("'{}': the context factory is one of {}", setting, joined(factories));
  } else if (key == "contexts/stack-size") {
    if (!integer_in(value, 16, 1 << 20))
      return fmt::format("'{}': the actor stack size is a whole number of KiB in [16, 1048576]", setting);
  } else if (key == "contexts/guard-size") {
    if (!integer_in(value, 0, 1024))
      return fmt::format("'{}': the guard size is a whole number of pages in [0, 1024]", setting);
  } else if (key == "contexts/nthreads") {
    if (value != "1")
      return fmt::format("'{}': kmodsim runs its actors one at a time (its CPU, lock and disk models share state "
                         "between them); only contexts/nthreads:1",
                         setting);
  } else {
    return fmt::format("'{}': not an item kmodsim lets you set (contexts/factory, contexts/stack-size, "
                       "contexts/guard-size, contexts/nthreads; the platform is kmodsim's own models)",
                       setting);
  }
  return "";
}

} // namespace kmodsim::sim
