// Sweep specs: parsing, expansion, seeds (kmodsim/sweep.hpp).
#include "kmodsim/sweep.hpp"

#include "config_doc.hpp"
#include "kmodsim/rng.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>

namespace fs = std::filesystem;

namespace kmodsim {
using namespace detail;

std::string case_where_key(const std::string& case_name, const std::string& key) {
  return "case " + case_name + ": " + key; // no key path holds a space
}

namespace {

std::string location(const Reader& r) {
  const YAML::Mark m = r.mark();
  std::string out = r.doc().origin(r.path());
  if (!m.is_null() && m.line >= 0)
    out += ":" + std::to_string(m.line + 1) + ":" + std::to_string(m.column + 1);
  return out + ": " + r.path();
}

void note_where(SweepSpec& s, const std::string& key, const Reader& r) {
  s.where.emplace(key, location(r));
}

/// A value naming a file is resolved against the spec's folder, to an absolute path: the
/// overrides, and the spec's key made of them, are then the same from any working folder (the
/// executors' shards run the spec by its absolute path).
std::string resolve_value(const std::string& v, const fs::path& dir) {
  const bool file = (v.size() > 5 && v.compare(v.size() - 5, 5, ".yaml") == 0) ||
                    (v.size() > 4 && v.compare(v.size() - 4, 4, ".yml") == 0);
  if (!file || fs::path(v).is_absolute())
    return v;
  return fs::absolute(dir / v).lexically_normal().string();
}

std::vector<std::pair<std::string, std::vector<std::string>>> read_lists(const Reader& r) {
  std::vector<std::pair<std::string, std::vector<std::string>>> out;
  if (r.size() == 0)
    r.fail("expected at least one axis");
  for (const std::string& key : r.keys()) {
    Reader l = r.child(key);
    l.expect_seq(1000000);
    if (l.size() == 0)
      l.fail("an axis needs at least one value");
    std::vector<std::string> values;
    for (size_t i = 0; i < l.size(); ++i) {
      Reader v = l.at(i);
      if (!v.node().IsScalar())
        v.fail("an axis value is a scalar (a number, a word or a file path)");
      values.push_back(v.as_string()); // as written: the axis column; expand_points resolves the override
    }
    out.emplace_back(key, std::move(values));
  }
  return out;
}

/// A case's value as YAML text for an override: a scalar as written (a file path resolved), a
/// list or map in flow style.
std::string value_text(const Reader& v, const fs::path& dir) {
  if (v.node().IsScalar())
    return resolve_value(v.as_string(), dir);
  YAML::Emitter e;
  e << YAML::Flow << v.node();
  return e.c_str();
}

void read_cases(const Reader& r, const fs::path& dir, SweepSpec& s) {
  r.expect_seq(100000);
  if (r.size() == 0)
    r.fail("expected at least one case");
  for (size_t i = 0; i < r.size(); ++i) {
    Reader c = r.at(i);
    c.allow_keys({"name", "set"});
    SweepCase k;
    k.name = c.required("name").as_string();
    if (k.name.empty() || k.name.find_first_of(",\"\n\r") != std::string::npos)
      c.child("name").fail("a case name is a non-empty word without commas, quotes or line breaks");
    for (const auto& o : s.cases)
      if (o.name == k.name)
        c.child("name").fail("the case '" + k.name + "' is named twice");
    if (c.has("set")) {
      Reader st = c.child("set");
      for (const std::string& key : st.keys())
        k.sets.push_back({key, value_text(st.child(key), dir)});
    }
    s.cases.push_back(std::move(k));
  }
}

void read_sampler(const Reader& r, SweepSpec& s) {
  r.allow_keys({"samples", "axes"});
  s.samples = static_cast<long>(r.required("samples").as_int());
  if (s.samples < 1 || s.samples > 10000000)
    r.child("samples").fail("samples must be 1 to 10^7");
  Reader axes = r.required("axes");
  if (axes.size() == 0)
    axes.fail("expected at least one axis");
  for (const std::string& key : axes.keys()) {
    Reader a = axes.child(key);
    a.allow_keys({"distribution", "lo", "hi", "mean", "sd", "integer"});
    SampledAxis ax;
    ax.key = key;
    ax.integer = a.get_bool("integer", false);
    ax.dist = a.get_enum("distribution", SampleDist::uniform,
                         {SampleDist::uniform, SampleDist::log_uniform, SampleDist::normal});
    if (ax.dist == SampleDist::normal) {
      ax.a = a.required("mean").as_double();
      ax.b = a.required("sd").as_double();
      if (ax.b < 0)
        a.child("sd").fail("sd must be >= 0");
    } else {
      ax.a = a.required("lo").as_double();
      ax.b = a.required("hi").as_double();
      if (ax.a > ax.b)
        a.child("lo").fail("lo " + Reader::fmt_num(ax.a) + " is above hi " + Reader::fmt_num(ax.b));
      if (ax.dist == SampleDist::log_uniform && ax.a <= 0)
        a.child("lo").fail("a log-uniform range needs lo > 0");
    }
    s.sampled.push_back(ax);
  }
}

/// Inverse of the standard normal CDF (Acklam's rational approximation, |error| < 1.2e-9).
double normal_quantile(double p) {
  static const double a[] = {-3.969683028665376e+01, 2.209460984245205e+02, -2.759285104469687e+02,
                             1.383577518672690e+02,  -3.066479806614716e+01, 2.506628277459239e+00};
  static const double b[] = {-5.447609879822406e+01, 1.615858368580409e+02, -1.556989798598866e+02,
                             6.680131188771972e+01,  -1.328068155288572e+01};
  static const double c[] = {-7.784894002430293e-03, -3.223964580411365e-01, -2.400758277161838e+00,
                             -2.549732539343734e+00, 4.374664141464968e+00,  2.938163982698783e+00};
  static const double d[] = {7.784695709041462e-03, 3.224671290700398e-01, 2.445134137142996e+00,
                             3.754408661907416e+00};
  const double pl = 0.02425;
  if (p < pl) {
    const double q = std::sqrt(-2 * std::log(p));
    return (((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) /
           ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1);
  }
  if (p > 1 - pl) {
    const double q = std::sqrt(-2 * std::log(1 - p));
    return -(((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) /
           ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1);
  }
  const double q = p - 0.5, r = q * q;
  return (((((a[0] * r + a[1]) * r + a[2]) * r + a[3]) * r + a[4]) * r + a[5]) * q /
         (((((b[0] * r + b[1]) * r + b[2]) * r + b[3]) * r + b[4]) * r + 1);
}

double map_sample(const SampledAxis& ax, double u) {
  switch (ax.dist) {
  case SampleDist::uniform:
    return ax.a + (ax.b - ax.a) * u;
  case SampleDist::log_uniform:
    return std::exp(std::log(ax.a) + (std::log(ax.b) - std::log(ax.a)) * u);
  case SampleDist::normal:
    return ax.a + ax.b * normal_quantile(u);
  }
  return ax.a;
}

std::string num(double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.10g", v);
  return buf;
}

} // namespace

const char* to_string(SampleDist d) {
  switch (d) {
  case SampleDist::uniform:
    return "uniform";
  case SampleDist::log_uniform:
    return "log-uniform";
  case SampleDist::normal:
    return "normal";
  }
  return "?";
}

SweepSpec load_sweep_spec(const std::string& path) {
  Doc doc;
  doc.root = load_yaml_file(path, "", YAML::Mark::null_mark(), "");
  doc.origins.emplace_back("", path);
  Reader r(doc, doc.root, "");
  r.allow_keys({"schema_version", "name", "scenario", "grid", "cases", "zip", "random", "lhs", "replications",
                "seed"});
  if (!r.has("schema_version"))
    fail_at(path, doc.root.Mark(), "", "missing required key 'schema_version' (this kmodsim reads 1)");
  check_schema(r);
  const fs::path dir = fs::path(path).parent_path();
  SweepSpec s;
  s.file = path;
  s.dir = (dir.empty() ? fs::current_path() : fs::absolute(dir)).lexically_normal().string();
  s.name = folder_name(r.required("name"));
  const std::string sc = r.required("scenario").as_string();
  s.scenario = (fs::path(sc).is_absolute() ? fs::path(sc) : dir / sc).lexically_normal().string();
  if (r.has("grid"))
    s.grid = read_lists(r.child("grid"));
  if (r.has("cases"))
    read_cases(r.child("cases"), dir, s);
  if (r.has("zip")) {
    Reader z = r.child("zip");
    s.zip = read_lists(z);
    for (const auto& [key, values] : s.zip)
      if (values.size() != s.zip.front().second.size())
        z.child(key).fail("zip lists must have equal lengths: " + std::to_string(values.size()) + " values here, " +
                          std::to_string(s.zip.front().second.size()) + " in '" + s.zip.front().first + "'");
  }
  if (r.has("random") && r.has("lhs"))
    r.child("lhs").fail("give either random or lhs, not both");
  for (const char* k : {"random", "lhs"})
    if (r.has(k)) {
      s.sampler = k;
      read_sampler(r.child(k), s);
    }
  if (s.grid.empty() && s.cases.empty() && s.zip.empty() && s.sampler.empty())
    r.fail("a sweep needs at least one of grid, cases, zip, random, lhs");
  s.replications = static_cast<long>(r.get_int("replications", 1, 1, 1000000));
  s.seed = static_cast<std::uint64_t>(r.get_int("seed", 1, 0, INT64_MAX));
  std::vector<std::string> seen;
  // located at its second use: the section (grid, zip, the sampler's axes) that repeats it
  auto twice = [&](const std::string& k, const Reader& at) {
    if (std::find(seen.begin(), seen.end(), k) != seen.end())
      at.fail("the key path '" + k + "' is an axis twice");
    seen.push_back(k);
  };
  for (const auto& kv : s.grid)
    twice(kv.first, r.child("grid").child(kv.first));
  if (!s.cases.empty())
    seen.push_back("case");
  for (const auto& kv : s.zip)
    twice(kv.first, r.child("zip").child(kv.first));
  for (const auto& ax : s.sampled)
    twice(ax.key, r.child(s.sampler).child("axes").child(ax.key));
  for (size_t i = 0; i < s.cases.size(); ++i)
    for (const auto& o : s.cases[i].sets)
      if (std::find(seen.begin(), seen.end(), o.path) != seen.end())
        r.child("cases").at(i).child("set").child(o.path).fail("the key path '" + o.path +
                                                               "' is also an axis; a case sets keys no axis sets");
  // every run's seed is drawn from the spec's seed and its replication (expand_runs), after the
  // point's keys are set: a seed set by the point would be overridden, silently
  const auto not_seed = [](const std::string& key, const Reader& at) {
    if (key == "seed")
      at.fail("a run's seed comes from the spec's seed and its replication; set the spec's own 'seed' key (or "
              "'replications') instead");
  };
  for (const char* d : {"grid", "zip"})
    if (r.has(d))
      for (const auto& key : r.child(d).keys()) {
        not_seed(key, r.child(d).child(key));
        note_where(s, key, r.child(d).child(key));
      }
  for (size_t i = 0; i < s.cases.size(); ++i)
    for (const auto& o : s.cases[i].sets) {
      not_seed(o.path, r.child("cases").at(i).child("set").child(o.path));
      note_where(s, o.path, r.child("cases").at(i).child("set").child(o.path));
      note_where(s, case_where_key(s.cases[i].name, o.path), r.child("cases").at(i).child("set").child(o.path));
    }
  if (!s.sampler.empty())
    for (const auto& ax : s.sampled) {
      not_seed(ax.key, r.child(s.sampler).child("axes").child(ax.key));
      note_where(s, ax.key, r.child(s.sampler).child("axes").child(ax.key));
    }
  return s;
}

std::vector<std::string> axis_names(const SweepSpec& s) {
  std::vector<std::string> out;
  for (const auto& kv : s.grid)
    out.push_back(kv.first);
  if (!s.cases.empty())
    out.push_back("case");
  for (const auto& kv : s.zip)
    out.push_back(kv.first);
  for (const auto& ax : s.sampled)
    out.push_back(ax.key);
  return out;
}

std::vector<SweepPoint> expand_points(const SweepSpec& s) {
  // grid: the last axis varies fastest
  std::vector<SweepPoint> pts(1);
  for (const auto& [key, values] : s.grid) {
    std::vector<SweepPoint> next;
    for (const auto& p : pts)
      for (const auto& v : values) {
        SweepPoint q = p;
        q.columns.push_back(v);
        q.sets.push_back({key, resolve_value(v, s.dir)});
        next.push_back(std::move(q));
      }
    pts = std::move(next);
  }
  if (!s.cases.empty()) {
    std::vector<SweepPoint> next;
    for (const auto& p : pts)
      for (const auto& c : s.cases) {
        SweepPoint q = p;
        q.columns.push_back(c.name);
        q.sets.insert(q.sets.end(), c.sets.begin(), c.sets.end());
        next.push_back(std::move(q));
      }
    pts = std::move(next);
  }
  if (!s.zip.empty()) {
    std::vector<SweepPoint> next;
    const size_t rows = s.zip.front().second.size();
    for (const auto& p : pts)
      for (size_t i = 0; i < rows; ++i) {
        SweepPoint q = p;
        for (const auto& [key, values] : s.zip) {
          q.columns.push_back(values[i]);
          q.sets.push_back({key, resolve_value(values[i], s.dir)});
        }
        next.push_back(std::move(q));
      }
    pts = std::move(next);
  }
  if (!s.sampler.empty()) {
    const auto n = static_cast<std::uint64_t>(s.samples);
    // LHS: each axis's [0,1) cut into n strata, one sample per stratum, strata permuted per axis
    std::vector<std::vector<size_t>> perm;
    for (size_t j = 0; j < s.sampled.size(); ++j)
      perm.push_back(permutation(static_cast<size_t>(n), s.seed, 0x1a5 + j));
    std::vector<SweepPoint> next;
    for (const auto& p : pts)
      for (std::uint64_t i = 0; i < n; ++i) {
        SweepPoint q = p;
        for (size_t j = 0; j < s.sampled.size(); ++j) {
          const double u0 = uniform01(s.seed, 0x5a3 + j, i, 0);
          const double u = s.sampler == "lhs" ? (static_cast<double>(perm[j][i]) + u0) / static_cast<double>(n) : u0;
          const double v = map_sample(s.sampled[j], u);
          q.columns.push_back(s.sampled[j].integer ? std::to_string(std::llround(v)) : num(v));
          q.sets.push_back({s.sampled[j].key, q.columns.back()});
        }
        next.push_back(std::move(q));
      }
    pts = std::move(next);
  }
  return pts;
}

std::uint64_t replication_seed(std::uint64_t spec_seed, long r) {
  return 1 + (splitmix64(spec_seed ^ splitmix64(0x5eed0000 + static_cast<std::uint64_t>(r))) % 2147483646ull);
}

std::vector<SweepRun> expand_runs(const SweepSpec& s, std::size_t points) {
  std::vector<SweepRun> out;
  char id[48];
  for (size_t p = 0; p < points; ++p)
    for (long r = 0; r < s.replications; ++r) {
      std::snprintf(id, sizeof id, "p%04zu-r%03ld", p, r);
      out.push_back({id, p, r, replication_seed(s.seed, r)});
    }
  return out;
}

} // namespace kmodsim
