// The merged document, safe reading of config files and the typed Reader (config_doc.hpp).
#include "config_doc.hpp"

#include <fcntl.h>
#include <yaml-cpp/eventhandler.h>

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <iomanip>
#include <map>
#include <set>
#include <sstream>

namespace kmodsim::detail {

const std::string& Doc::origin(const std::string& path) const {
  static const std::string unknown = "<config>";
  const std::string* best = &unknown;
  size_t best_len = 0;
  bool found = false;
  for (const auto& [prefix, file] : origins) {
    bool match = prefix.empty() || path == prefix ||
                 (path.size() > prefix.size() && path.compare(0, prefix.size(), prefix) == 0 &&
                  path[prefix.size()] == '.');
    if (match && (!found || prefix.size() >= best_len)) {
      best = &file;
      best_len = prefix.size();
      found = true;
    }
  }
  return *best;
}

std::string join(const std::string& path, const std::string& key) { return path.empty() ? key : path + "." + key; }

void fail_at(const std::string& file, const YAML::Mark& mark, const std::string& path, const std::string& msg) {
  std::ostringstream os;
  os << file;
  if (file.rfind("--set", 0) != 0 && !mark.is_null() && mark.line >= 0)
    os << ":" << mark.line + 1 << ":" << mark.column + 1;
  os << ": ";
  if (!path.empty())
    os << path << ": ";
  os << msg;
  throw ConfigError(os.str());
}

namespace {

/// What a path is, for "is a directory, not a regular file".
const char* file_kind(mode_t m) {
  if (S_ISDIR(m))
    return "a directory";
  if (S_ISFIFO(m))
    return "a FIFO";
  if (S_ISCHR(m))
    return "a character device";
  if (S_ISBLK(m))
    return "a block device";
  if (S_ISSOCK(m))
    return "a socket";
  return "not a regular file";
}

namespace {
/// ConfigFileCache's texts, by the file's identity (device and inode: any spelling of a path
/// to it); null while no cache exists. Only texts: a parsed tree would have to be copied for
/// each use (merges write into it), and YAML::Clone drops the line and column of every node.
std::map<std::pair<dev_t, ino_t>, std::string>* g_file_cache = nullptr;
int g_file_cache_users = 0;
} // namespace

std::string read_regular_uncached(const std::string& file, std::string& err, struct stat& st);

/// Reads a whole regular file; returns "" and sets `err` on failure. Never blocks on a FIFO.
/// While a ConfigFileCache exists, a file read once is not read again.
std::string read_regular(const std::string& file, std::string& err) {
  struct stat st {};
  if (g_file_cache == nullptr)
    return read_regular_uncached(file, err, st);
  if (::stat(file.c_str(), &st) == 0 && S_ISREG(st.st_mode)) {
    auto it = g_file_cache->find({st.st_dev, st.st_ino});
    if (it != g_file_cache->end())
      return it->second;
  }
  std::string text = read_regular_uncached(file, err, st);
  if (err.empty()) // keyed by what was opened (its fstat)
    g_file_cache->emplace(std::make_pair(st.st_dev, st.st_ino), text);
  return text;
}

/// `st`: the opened file's fstat, when it was opened.
std::string read_regular_uncached(const std::string& file, std::string& err, struct stat& st) {
  if (::stat(file.c_str(), &st) != 0) {
    err = errno == ENOENT ? "no such file" : std::strerror(errno);
    return {};
  }
  if (!S_ISREG(st.st_mode)) {
    err = std::string("is ") + file_kind(st.st_mode) + ", not a regular file";
    return {};
  }
  const int fd = ::open(file.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0) {
    err = errno == EACCES ? "permission denied" : std::strerror(errno);
    return {};
  }
  std::string data;
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) { // replaced between stat and open
    err = "not a regular file";
  } else if (static_cast<std::uint64_t>(st.st_size) > limits::kMaxConfigFileBytes) {
    err = "is " + std::to_string(st.st_size) + " bytes, more than the " +
          std::to_string(limits::kMaxConfigFileBytes >> 20) + " MiB a config file may have";
  } else {
    char buf[65536];
    while (true) {
      const ssize_t n = ::read(fd, buf, sizeof buf);
      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0) {
        err = std::strerror(errno);
        break;
      }
      if (n == 0)
        break;
      data.append(buf, static_cast<size_t>(n));
      if (data.size() > limits::kMaxConfigFileBytes) {
        err = "grew past the size limit while being read";
        break;
      }
    }
  }
  ::close(fd);
  return err.empty() ? data : std::string();
}

/// Walks the YAML events (aliases not expanded: linear in the text) and rejects duplicate keys,
/// keys that are not plain scalars, more than one document, and an alias to a list or mapping
/// that encloses it (`&top {kernel: *top}`): that makes a cycle, which every walk of the tree
/// would follow forever (and loading one freed an iterator under its loop: fuzz_config_sim).
class KeyChecker : public YAML::EventHandler {
public:
  explicit KeyChecker(std::string where) : where_(std::move(where)) {}
  void OnDocumentStart(const YAML::Mark& mark) override {
    if (++docs_ > 1)
      fail_at(where_, mark, "", "more than one YAML document in a config file");
  }
  void OnDocumentEnd() override {}
  void OnNull(const YAML::Mark& mark, YAML::anchor_t) override { scalar(mark, "~"); }
  void OnAlias(const YAML::Mark& mark, YAML::anchor_t anchor) override {
    if (in_key_position())
      fail_at(where_, mark, "", "an alias cannot be a map key");
    for (const Frame& f : stack_)
      if (anchor != YAML::NullAnchor && f.anchor == anchor)
        fail_at(where_, mark, "", "an alias to a list or mapping that contains it (a cycle)");
    value_done();
  }
  void OnScalar(const YAML::Mark& mark, const std::string&, YAML::anchor_t, const std::string& value) override {
    scalar(mark, value);
  }
  void OnSequenceStart(const YAML::Mark& mark, const std::string&, YAML::anchor_t anchor,
                       YAML::EmitterStyle::value) override {
    open(mark, false, anchor);
  }
  void OnSequenceEnd() override { close(); }
  void OnMapStart(const YAML::Mark& mark, const std::string&, YAML::anchor_t anchor, YAML::EmitterStyle::value) override {
    open(mark, true, anchor);
  }
  void OnMapEnd() override { close(); }

private:
  struct Frame {
    bool map = false;
    bool expect_key = true;
    YAML::anchor_t anchor = YAML::NullAnchor; // its anchor (&name), if any
    std::map<std::string, int> keys; // key -> line (1-based) where it was first written
  };
  bool in_key_position() const { return !stack_.empty() && stack_.back().map && stack_.back().expect_key; }
  void open(const YAML::Mark& mark, bool map, YAML::anchor_t anchor) {
    if (in_key_position())
      fail_at(where_, mark, "", "map keys must be plain strings, not a list or a mapping");
    Frame f;
    f.map = map;
    f.anchor = anchor;
    stack_.push_back(std::move(f));
  }
  void close() {
    stack_.pop_back();
    value_done();
  }
  void scalar(const YAML::Mark& mark, const std::string& value) {
    if (in_key_position()) {
      auto [it, fresh] = stack_.back().keys.emplace(value, mark.line + 1);
      if (!fresh)
        fail_at(where_, mark, "", "duplicate key '" + value + "' (first written on line " + std::to_string(it->second) + ")");
    }
    value_done();
  }
  void value_done() {
    if (!stack_.empty() && stack_.back().map)
      stack_.back().expect_key = !stack_.back().expect_key;
  }
  std::string where_;
  std::vector<Frame> stack_;
  int docs_ = 0;
};

/// True when the text can hold neither an alias (no '&': no anchor to refer to) nor a second
/// document (no line starting with "---" or "..."): then the loaded tree shows every key as
/// written, and KeyChecker's second pass over the text (as long as the load itself, issue 12)
/// can be a walk of the tree.
bool plain_text(const std::string& text) {
  if (text.find('&') != std::string::npos)
    return false;
  for (size_t pos = 0; pos < text.size();) {
    if (text.compare(pos, 3, "---") == 0 || text.compare(pos, 3, "...") == 0)
      return false;
    pos = text.find('\n', pos);
    if (pos == std::string::npos)
      break;
    ++pos;
  }
  return true;
}

/// KeyChecker's rules on a loaded tree (yaml-cpp keeps duplicate keys as separate pairs), in
/// document order, so the first offence reported is the same.
void check_keys(const YAML::Node& n, const std::string& where) {
  if (n.IsSequence()) {
    for (const auto& e : n)
      check_keys(e, where);
  } else if (n.IsMap()) {
    std::map<std::string, int> keys; // key -> line (1-based) where it was first written
    for (auto it = n.begin(); it != n.end(); ++it) {
      const YAML::Node k = it->first; // a copy: `it->` is a proxy that dies with the expression
      if (k.IsMap() || k.IsSequence())
        fail_at(where, k.Mark(), "", "map keys must be plain strings, not a list or a mapping");
      const std::string key = k.IsScalar() ? k.Scalar() : "~";
      auto [at, fresh] = keys.emplace(key, k.Mark().line + 1);
      if (!fresh)
        fail_at(where, k.Mark(), "", "duplicate key '" + key + "' (first written on line " + std::to_string(at->second) + ")");
      check_keys(it->second, where);
    }
  }
}

} // namespace

YAML::Node parse_yaml(const std::string& text, const std::string& where) {
  try {
    YAML::Node n = YAML::Load(text); // syntax errors first, in yaml-cpp's words
    if (plain_text(text)) {
      check_keys(n, where);
      return n;
    }
    std::istringstream in(text);
    YAML::Parser parser(in);
    KeyChecker checker(where);
    while (parser.HandleNextDocument(checker)) {
    }
    return n;
  } catch (const YAML::ParserException& e) {
    fail_at(where, e.mark, "", "YAML syntax error: " + e.msg);
  } catch (const YAML::Exception& e) {
    fail_at(where, e.mark, "", "YAML error: " + e.msg);
  }
}

std::string read_config_text(const std::string& file, std::string& err) { return read_regular(file, err); }

YAML::Node load_yaml_file(const std::string& file, const std::string& referrer, const YAML::Mark& mark,
                          const std::string& path) {
  std::string err;
  const std::string text = read_regular(file, err);
  if (!err.empty()) {
    if (referrer.empty())
      throw ConfigError(file + ": cannot open file: " + err);
    fail_at(referrer, mark, path, "cannot open '" + file + "': " + err);
  }
  YAML::Node n = parse_yaml(text, file);
  if (!n.IsMap())
    fail_at(file, n.Mark(), "", "expected a mapping at the top of the file");
  return n;
}

std::string key_string(const YAML::Node& key, const std::string& file, const std::string& path) {
  if (!key.IsScalar())
    fail_at(file, key.Mark(), path, "map keys must be plain strings");
  return key.Scalar();
}

void deep_merge(YAML::Node base, const YAML::Node& over, const std::string& path, const std::string& file, Doc& doc) {
  for (auto it = over.begin(); it != over.end(); ++it) {
    const std::string key = key_string(it->first, file, path);
    const std::string sub = join(path, key);
    YAML::Node b = base[key];
    doc.key_marks[sub] = it->first.Mark();
    if (b.IsDefined() && b.IsMap() && it->second.IsMap()) {
      deep_merge(b, it->second, sub, file, doc);
    } else {
      base[key] = it->second;
      doc.origins.emplace_back(sub, file);
    }
  }
}

// --- Reader ------------------------------------------------------------------------------------

/// Valid UTF-8 (no overlong forms, no surrogates) without ASCII control characters.
bool clean_utf8(const std::string& s) {
  size_t i = 0;
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  while (i < s.size()) {
    const unsigned c = p[i];
    if (c < 0x80) {
      if (c < 0x20 || c == 0x7f)
        return false;
      ++i;
      continue;
    }
    int n;
    unsigned cp;
    if ((c & 0xe0) == 0xc0) {
      n = 1;
      cp = c & 0x1f;
    } else if ((c & 0xf0) == 0xe0) {
      n = 2;
      cp = c & 0x0f;
    } else if ((c & 0xf8) == 0xf0) {
      n = 3;
      cp = c & 0x07;
    } else {
      return false;
    }
    if (i + static_cast<size_t>(n) >= s.size()) // truncated sequence
      return false;
    for (int k = 1; k <= n; ++k) {
      const unsigned cc = p[i + static_cast<size_t>(k)];
      if ((cc & 0xc0) != 0x80)
        return false;
      cp = (cp << 6) | (cc & 0x3f);
    }
    static const unsigned kMin[] = {0, 0x80, 0x800, 0x10000};
    if (cp < kMin[n] || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
      return false;
    i += static_cast<size_t>(n) + 1;
  }
  return true;
}


void Reader::fail(const std::string& msg) const { fail_at(doc_.origin(path_), mark(), path_, msg); }

YAML::Mark Reader::mark() const {
  YAML::Mark m = node_.IsDefined() ? node_.Mark() : YAML::Mark::null_mark();
  if (!m.is_null())
    return m;
  auto km = doc_.key_marks.find(path_);
  return km != doc_.key_marks.end() ? km->second : m;
}

std::vector<std::string> Reader::keys() const {
  expect_map();
  std::vector<std::string> out;
  for (auto it = node_.begin(); it != node_.end(); ++it)
    out.push_back(key_string(it->first, doc_.origin(path_), path_));
  return out;
}

void Reader::expect_map() const {
  if (!node_.IsMap())
    fail("expected a mapping");
}

void Reader::expect_seq() const {
  if (!node_.IsSequence())
    fail("expected a list");
}

void Reader::expect_seq(long long max) const {
  expect_seq();
  if (static_cast<long long>(node_.size()) > max)
    fail("a list of " + std::to_string(node_.size()) + " elements; at most " + std::to_string(max) + " are accepted");
}

void Reader::allow_keys(const std::vector<std::string>& allowed) const {
  expect_map();
  for (auto it = node_.begin(); it != node_.end(); ++it) {
    const std::string key = key_string(it->first, doc_.origin(path_), path_);
    if (std::find(allowed.begin(), allowed.end(), key) == allowed.end()) {
      std::string msg = "unknown key '" + key + "'";
      std::string dym = did_you_mean(key, allowed);
      if (!dym.empty())
        msg += " (did you mean '" + dym + "'?)";
      YAML::Mark mark = it->first.Mark();
      auto km = doc_.key_marks.find(join(path_, key));
      if (mark.is_null() && km != doc_.key_marks.end())
        mark = km->second;
      if (mark.is_null()) // a key merged over a file's section ({file: ..., key: value}): its value's place
        mark = it->second.Mark();
      fail_at(doc_.origin(join(path_, key)), mark, join(path_, key), msg);
    }
  }
}

Reader Reader::required(const std::string& key) const {
  expect_map();
  if (!has(key))
    fail("missing required key '" + key + "'");
  return child(key);
}

double Reader::as_double() const {
  if (!node_.IsScalar())
    fail("expected a number");
  double v = 0;
  try {
    v = node_.as<double>();
  } catch (const YAML::BadConversion&) {
    fail("expected a number, got '" + node_.Scalar() + "'");
  }
  if (!std::isfinite(v))
    fail("expected a finite number, got '" + node_.Scalar() + "'");
  return v;
}

long long Reader::as_int() const {
  if (!node_.IsScalar())
    fail("expected an integer");
  try {
    return node_.as<long long>();
  } catch (const YAML::BadConversion&) {
    const std::string& v = node_.Scalar();
    const size_t sign = !v.empty() && (v[0] == '+' || v[0] == '-') ? 1 : 0;
    if (v.size() > sign && v.find_first_not_of("0123456789", sign) == std::string::npos) // digits, too many
      fail("the integer " + v + " is out of range (beyond +-" + std::to_string(INT64_MAX) + ")");
    fail("expected an integer, got '" + v + "'");
  }
}

bool Reader::as_bool() const {
  if (!node_.IsScalar())
    fail("expected true or false");
  try {
    return node_.as<bool>();
  } catch (const YAML::BadConversion&) {
    fail("expected true or false, got '" + node_.Scalar() + "'");
  }
}

std::string Reader::as_string() const {
  if (!node_.IsScalar())
    fail("expected a string");
  if (!clean_utf8(node_.Scalar()))
    fail("not valid UTF-8 text (or holds control characters)");
  return node_.Scalar();
}

double Reader::get_double(const std::string& key, double def, double lo, double hi) const {
  if (!has(key))
    return def;
  Reader r = child(key);
  double v = r.as_double();
  if (v < lo)
    r.fail("must be >= " + fmt_num(lo) + ", got " + fmt_num(v));
  if (v > hi)
    r.fail("must be <= " + fmt_num(hi) + ", got " + fmt_num(v));
  return v;
}

std::string Reader::range_message(double v, const limits::Range& r, bool zero_ok) {
  if ((zero_ok && v == 0) || (v >= r.lo && v <= r.hi))
    return "";
  return fmt_num(v) + " is outside the plausible range [" + fmt_num(r.lo) + ", " + fmt_num(r.hi) + "] " + r.unit +
         (zero_ok ? " (or 0)" : "") + " (README: Ranges)";
}

void Reader::check_range(double v, const limits::Range& r, bool zero_ok) const {
  if (std::string msg = range_message(v, r, zero_ok); !msg.empty())
    fail(msg);
}

double Reader::get_ranged(const std::string& key, double def, const limits::Range& r, bool zero_ok) const {
  if (!has(key))
    return def;
  Reader c = child(key);
  const double v = c.as_double();
  c.check_range(v, r, zero_ok);
  return v;
}

long long Reader::get_int(const std::string& key, long long def, long long lo, long long hi) const {
  if (!has(key))
    return def;
  Reader r = child(key);
  long long v = r.as_int();
  if (v < lo)
    r.fail("must be >= " + std::to_string(lo) + ", got " + std::to_string(v));
  if (v > hi)
    r.fail("must be <= " + std::to_string(hi) + ", got " + std::to_string(v));
  return v;
}

void Reader::fail_unknown(const std::string& value, const std::vector<std::string>& names) const {
  std::string msg = "unknown value '" + value + "'; valid: ";
  for (size_t i = 0; i < names.size(); ++i)
    msg += (i ? ", " : "") + names[i];
  std::string dym = did_you_mean(value, names);
  if (!dym.empty())
    msg += " (did you mean '" + dym + "'?)";
  fail(msg);
}

bool Reader::has(const std::string& key) const {
  if (!node_.IsMap() || !node_[key].IsDefined())
    return false;
  if (node_[key].IsNull())
    child(key).fail("no value (leave the key out for its default)");
  return true;
}

bool plain_name(const std::string& s) {
  return s.size() <= 255 &&
         s.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.+@-") == std::string::npos;
}

std::string folder_name(const Reader& name) {
  const std::string n = name.as_string();
  if (n.empty() || n[0] == '.' || !plain_name(n))
    name.fail("'" + n + "' names the default output folder (results/<name>/): letters, digits and '_.+@-' only, "
              "not starting with '.', at most 255 characters");
  return n;
}

std::string Reader::fmt_num(double v) {
  // 6 significant digits, unless that rounds: 100000001 is not "1e+08", the bound it exceeds
  std::ostringstream os;
  os << v;
  if (std::isfinite(v) && std::strtod(os.str().c_str(), nullptr) != v) {
    os.str("");
    os << std::setprecision(15) << v;
  }
  return os.str();
}

void check_schema(const Reader& r) {
  constexpr int kSchemaVersion = 1;
  if (!r.has("schema_version"))
    return; // optional in included files; required at scenario level (checked there)
  long long v = r.child("schema_version").as_int();
  if (v != kSchemaVersion)
    r.child("schema_version").fail("unsupported schema_version " + std::to_string(v) + " (this kmodsim reads " +
                                    std::to_string(kSchemaVersion) + ")");
}

void file_cache_hold() {
  if (g_file_cache_users++ == 0)
    g_file_cache = new std::map<std::pair<dev_t, ino_t>, std::string>();
}

void file_cache_release() {
  if (--g_file_cache_users == 0) {
    delete g_file_cache;
    g_file_cache = nullptr;
  }
}

} // namespace kmodsim::detail

bool kmodsim::is_clean_text(const std::string& s) { return detail::clean_utf8(s); }

namespace kmodsim {
ConfigFileCache::ConfigFileCache() { detail::file_cache_hold(); }
ConfigFileCache::~ConfigFileCache() { detail::file_cache_release(); }
} // namespace kmodsim
