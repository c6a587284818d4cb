// Internal to the config loader: the merged YAML document, safe reading of config files, and
// the typed Reader whose every error names file:line:col and key path.
#pragma once

#include "kmodsim/config.hpp"
#include "kmodsim/limits.hpp"

#include <yaml-cpp/yaml.h>

#include <map>
#include <functional>
#include <string>
#include <utility>
#include <vector>

namespace kmodsim::detail {

/// The merged document: one YAML tree, and for each key path the file it came from.
struct Doc {
  YAML::Node root;
  std::vector<std::pair<std::string, std::string>> origins; // (path prefix, file); later wins
  std::map<std::string, YAML::Mark> key_marks; // where a key was written, for keys copied into new maps
  /// The file and key path of the longest prefix of `path` that has an origin.
  const std::string& origin(const std::string& path) const;
};

std::string join(const std::string& path, const std::string& key);

/// Throws ConfigError "file:line:col: path: msg" (no line for a --set, whose text is the file).
[[noreturn]] void fail_at(const std::string& file, const YAML::Mark& mark, const std::string& path,
                          const std::string& msg);

/// Reads a config file: only a regular file (a directory, FIFO or device is an error, never a
/// hang), at most limits::kMaxConfigFileBytes, valid YAML with a mapping at the top and no
/// duplicate keys. Errors name the referrer (file, mark, key path) when there is one.
YAML::Node load_yaml_file(const std::string& file, const std::string& referrer, const YAML::Mark& mark,
                          const std::string& path);
/// The whole text of a regular config file (the checks of load_yaml_file); "" and `err` set on
/// failure.
std::string read_config_text(const std::string& file, std::string& err);
/// ConfigFileCache's lifetime (nested holds share one cache).
void file_cache_hold();
void file_cache_release();
/// Valid UTF-8 (no overlong forms, no surrogates) without ASCII control characters.
bool clean_utf8(const std::string& s);
/// Parses YAML text from `where` (a file or a --set), rejecting duplicate keys.
YAML::Node parse_yaml(const std::string& text, const std::string& where);

/// A map key as a string; a key that is not a plain scalar is an error at its position.
std::string key_string(const YAML::Node& key, const std::string& file, const std::string& path);

/// Deep-merge `over` into `base` (maps merge key by key; anything else replaces).
void deep_merge(YAML::Node base, const YAML::Node& over, const std::string& path, const std::string& file, Doc& doc);

/// Typed reading with validation.
class Reader {
public:
  Reader(const Doc& doc, YAML::Node node, std::string path) : doc_(doc), node_(std::move(node)), path_(std::move(path)) {}

  const std::string& path() const { return path_; }
  const YAML::Node& node() const { return node_; }
  const Doc& doc() const { return doc_; }
  [[noreturn]] void fail(const std::string& msg) const;
  /// The mark of this node, or of the nearest key that names it (nodes built by merging have none).
  YAML::Mark mark() const;

  /// The key is given. A key given with no value (`key:`, `~`, `null`) is an error, never its
  /// default taken silently: remove the key for that.
  bool has(const std::string& key) const;
  /// The key is given with a value, for the keys whose null means "none" (a uevent's module).
  bool given(const std::string& key) const {
    return node_.IsMap() && node_[key].IsDefined() && !node_[key].IsNull();
  }
  Reader child(const std::string& key) const { return Reader(doc_, node_[key], join(path_, key)); }
  Reader at(size_t i) const { return Reader(doc_, node_[i], join(path_, std::to_string(i))); }
  size_t size() const { return node_.size(); }
  /// The keys of this map, in order, each checked to be a plain string.
  std::vector<std::string> keys() const;

  void expect_map() const;
  void expect_seq() const;
  /// A list of at most `max` elements.
  void expect_seq(long long max) const;
  /// Unknown keys are errors, with a "did you mean".
  void allow_keys(const std::vector<std::string>& allowed) const;
  Reader required(const std::string& key) const;

  double as_double() const;
  long long as_int() const;
  bool as_bool() const;
  /// A string: valid UTF-8 without control characters.
  std::string as_string() const;

  double get_double(const std::string& key, double def, double lo, double hi) const;
  /// A number in a documented plausible range (limits.hpp); `zero_ok`: 0 also allowed (= off).
  double get_ranged(const std::string& key, double def, const limits::Range& r, bool zero_ok = false) const;
  void check_range(double v, const limits::Range& r, bool zero_ok = false) const;
  /// check_range's message for `v`, or "" when it is in range (for readers of other formats).
  static std::string range_message(double v, const limits::Range& r, bool zero_ok = false);
  long long get_int(const std::string& key, long long def, long long lo, long long hi) const;
  std::string get_string(const std::string& key, const std::string& def) const {
    return has(key) ? child(key).as_string() : def;
  }
  bool get_bool(const std::string& key, bool def) const { return has(key) ? child(key).as_bool() : def; }

  template <class E> E get_enum(const std::string& key, E def, const std::vector<E>& values) const {
    if (!has(key))
      return def;
    Reader r = child(key);
    std::string s = r.as_string();
    std::vector<std::string> names;
    for (E e : values) {
      if (s == to_string(e))
        return e;
      names.emplace_back(to_string(e));
    }
    r.fail_unknown(s, names);
  }
  [[noreturn]] void fail_unknown(const std::string& value, const std::vector<std::string>& names) const;

  static std::string fmt_num(double v);

private:
  const Doc& doc_;
  YAML::Node node_;
  std::string path_;
};

void check_schema(const Reader& r);

// The sections (config_sections.cpp).
/// `sampled`: the values will be redrawn from their intervals (a resolved config holds draws,
/// which may lie outside their 95% interval), so only lo <= hi is checked.
Calibration read_calibration(const Reader& r, bool sampled = false);
Machine read_machine(const Reader& r);
Kernel read_kernel(const Reader& r, const Calibration& cal);
/// `sample`: draw kernel_exports, index_modules and the scale factors from their ci95 (seed).
Workload read_workload(const Reader& r, bool sample = false, std::uint64_t seed = 0);

/// The checks of one module's fields that do not depend on its format (YAML or modules_tsv):
/// `fail(key, message)` reports at that key and does not return.
void check_module(const Module& m, const std::function<void(const char* key, const std::string& msg)>& fail);
/// The messages of the checks across modules, shared by both formats.
std::string duplicate_module_message(const std::string& name);
/// At most 255 characters, each a letter, a digit or one of '_.+@-': a module's name, and a name
/// that becomes a folder.
bool plain_name(const std::string& s);
/// A scenario's or a sweep's `name`, which names its default output folder (results/<name>/):
/// a plain file name (letters, digits, '_.+@-'; not starting with '.'), never a path.
std::string folder_name(const Reader& name);
std::string unknown_dep_message(const std::string& module, const std::string& dep, const std::vector<std::string>& names);
std::string self_dep_message(const std::string& dep);
/// The modules' names, in order (the candidates of "did you mean").
std::vector<std::string> module_names(const std::vector<Module>& modules);
/// A number that may carry its uncertainty: `key: 7` or `key: {value: 7, unit: .., source: ..,
/// ci95: [lo, hi]}`; both the value and the interval within `range`; the interval must contain
/// the value unless `sampled` (a resolved config holds draws).
Coefficient read_uncertain(const Reader& r, const std::string& key, const limits::Range& range, bool sampled,
                           double def = 0.0, bool need_source = true);
Userspace read_userspace(const Reader& r, const Calibration& cal, const Machine& machine);
Variability read_variability(const Reader& r);
Outputs read_outputs(const Reader& r);

} // namespace kmodsim::detail
