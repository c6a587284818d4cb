// kmodsim sweep: a spec's runs, each simulated in a forked child of this already-loaded process
// (a SimGrid engine cannot be re-created in one process), N at a time. The parent is the only
// writer: an append-only journal (one JSON line written per finished run) from which runs.csv and
// points.csv are rebuilt, so a sweep killed at any moment resumes without lost, duplicate or torn
// rows. See README "Sweeps".
#include "cmd_sweep.hpp"
#include "cmd_sweep_executors.hpp"

#include "output.hpp"
#include "simulation.hpp"

#include <kmodsim/atomic_file.hpp>
#include <kmodsim/calib.hpp>
#include <kmodsim/sweep.hpp>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <fcntl.h>
#include <sys/prctl.h>
#include <csignal>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <iostream>
#include <map>
#include <set>
#include <sstream>

namespace fs = std::filesystem;
using json = nlohmann::ordered_json;

namespace kmodsim {
namespace {


/// What identifies a spec's results: its scenario and points, not its replications (adding
/// replications reuses the earlier runs). The scenario by its canonical absolute path: the same
/// spec named from another folder, or absolutely (as the executors' shards are), is the same.
/// Each point's resolved configuration is part of it (`config_sha`: the sha256 of each point's
/// resolved YAML): a configuration file edited since the first runs makes another spec, whose
/// results must not be mixed with theirs.
std::string spec_key(const SweepSpec& s, const std::vector<SweepPoint>& pts, const std::vector<std::string>& config_sha) {
  std::error_code ec;
  fs::path scenario = fs::weakly_canonical(fs::absolute(s.scenario), ec);
  if (ec)
    scenario = fs::absolute(s.scenario).lexically_normal();
  std::string k = scenario.string() + "\n" + std::to_string(s.seed) + "\n";
  for (size_t i = 0; i < pts.size(); ++i) {
    for (const auto& o : pts[i].sets)
      k += o.path + "=" + o.value + ";";
    for (const auto& c : pts[i].columns)
      k += c + "|";
    k += config_sha[i] + "\n";
  }
  return sim::sha256_hex(k);
}

void append_line(int fd, const std::string& line) {
  if (const int err = write_all(fd, line + "\n"))
    throw OutputError(std::string(kJournal) + ": write failed: " + std::strerror(err));
  // write(2) is enough against a killed sweep (the page cache outlives the process); the journal
  // is fsynced once at the end, with the tables (a per-run fsync cost 20% of the throughput)
}

/// At most `n` bytes of `s`, cut before a UTF-8 sequence that would not fit whole (a byte cut
/// left half a character, which the journal's JSON then refused on every --resume).
std::string utf8_prefix(const std::string& s, std::size_t n) {
  if (s.size() <= n)
    return s;
  while (n > 0 && (static_cast<unsigned char>(s[n]) & 0xC0) == 0x80) // s[n] continues a sequence
    --n;
  return s.substr(0, n);
}

/// A journal's torn last line (a kill or a full disk mid-write) is cut off before appending:
/// appended to, it would glue the next run onto the fragment and lose that run too.
void trim_torn_tail(const fs::path& p) {
  std::error_code ec;
  const auto size = fs::file_size(p, ec);
  if (ec || size == 0)
    return;
  std::ifstream in(p, std::ios::binary);
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (text.back() == '\n')
    return;
  const auto last = text.rfind('\n');
  fs::resize_file(p, last == std::string::npos ? 0 : last + 1, ec);
  if (ec)
    throw OutputError(p.string() + ": cannot cut its torn last line: " + ec.message());
}

} // namespace

/// The finished runs of a journal, by id; a torn last line (a kill mid-write) is ignored.
std::map<std::string, json> read_journal(const fs::path& p, std::string& key) {
  std::map<std::string, json> done;
  std::ifstream in(p);
  std::string line;
  bool first = true;
  while (std::getline(in, line)) {
    json j = json::parse(line, nullptr, false);
    if (j.is_discarded() || !j.is_object())
      continue; // torn
    if (first) {
      key = j.value("spec_key", "");
      first = false;
      continue;
    }
    done[j.value("id", "")] = j;
  }
  return done;
}

namespace {

void flatten(const json& j, const std::string& prefix, std::vector<std::pair<std::string, json>>& out) {
  for (auto it = j.begin(); it != j.end(); ++it) {
    if (it->is_object())
      flatten(*it, prefix + it.key() + ".", out);
    else
      out.emplace_back(prefix + it.key(), *it);
  }
}

std::string csv_field(const json& v) {
  std::string s = v.is_string() ? v.get<std::string>() : v.dump();
  if (s.find_first_of(",\"\n") != std::string::npos) {
    std::string q = "\"";
    for (char c : s)
      q += c == '"' ? std::string("\"\"") : std::string(1, c);
    return q + "\"";
  }
  return s;
}

/// Rebuilds runs.csv and points.csv from the journal's runs (in run order).
void write_tables(const fs::path& dir, const SweepSpec& s, const std::vector<SweepPoint>& pts,
                  const std::vector<SweepRun>& runs, const std::map<std::string, json>& done) {
  const auto axes = axis_names(s);
  // every metric of any run, in the order first seen: points differ in what they report (a
  // kernel with vmalloc steps or more locks adds vmalloc.* and locks.*); a run without one
  // leaves its cell empty
  std::vector<std::string> metrics;
  std::set<std::string> seen;
  std::vector<std::map<std::string, json>> flats(runs.size()); // per run: its summary, flattened once
  for (size_t i = 0; i < runs.size(); ++i) {
    auto it = done.find(runs[i].id);
    if (it != done.end() && it->second.contains("summary")) {
      std::vector<std::pair<std::string, json>> f;
      flatten(it->second["summary"], "", f);
      for (auto& kv : f) {
        if (kv.first == "seed")
          continue; // the run's own seed, already the fourth column (a point cannot set it)
        if (seen.insert(kv.first).second)
          metrics.push_back(kv.first);
        flats[i].emplace(kv.first, std::move(kv.second));
      }
    }
  }
  std::string out = "run,point,replication,seed";
  for (const auto& a : axes)
    out += ",axis." + a;
  out += ",status,exit,wall_s";
  for (const auto& m : metrics)
    out += "," + m;
  out += ",error\n";
  std::map<size_t, std::map<std::string, std::vector<double>>> values; // point -> metric -> values
  for (size_t i = 0; i < runs.size(); ++i) {
    const SweepRun& r = runs[i];
    auto it = done.find(r.id);
    if (it == done.end())
      continue;
    const json& j = it->second;
    out += fmt::format("{},{},{},{}", r.id, r.point, r.replication, r.seed);
    for (const auto& c : pts[r.point].columns)
      out += "," + csv_field(c);
    out += fmt::format(",{},{},{:.6f}", j.value("status", ""), j.value("exit", 0), j.value("wall_s", 0.0));
    const std::map<std::string, json>& flat = flats[i];
    for (const auto& m : metrics) {
      auto f = flat.find(m);
      out += "," + (f == flat.end() ? std::string() : csv_field(f->second));
      if (f != flat.end() && f->second.is_number())
        values[r.point][m].push_back(f->second.get<double>());
    }
    out += "," + csv_field(j.value("error", "")) + "\n";
  }
  AtomicFile rf((dir / "runs.csv").string());
  rf.write(out);
  rf.commit();

  std::string pt = "point";
  for (const auto& a : axes)
    pt += ",axis." + a;
  pt += ",metric,n,mean,sd,ci95_lo,ci95_hi\n";
  for (const auto& [p, ms] : values)
    for (const auto& m : metrics) {
      auto it = ms.find(m);
      if (it == ms.end())
        continue;
      const auto& v = it->second;
      const double n = static_cast<double>(v.size());
      double mean = 0, ss = 0;
      for (double x : v)
        mean += x / n;
      for (double x : v)
        ss += (x - mean) * (x - mean);
      const double sd = v.size() > 1 ? std::sqrt(ss / (n - 1)) : NAN;
      const double h = v.size() > 1 ? calib::student_t_quantile(0.975, n - 1) * sd / std::sqrt(n) : NAN;
      pt += std::to_string(p);
      for (const auto& c : pts[p].columns)
        pt += "," + csv_field(c);
      pt += fmt::format(",{},{},{:.12g},{:.12g},{:.12g},{:.12g}\n", m, v.size(), mean, sd, mean - h, mean + h);
    }
  AtomicFile pf((dir / "points.csv").string());
  pf.write(pt);
  pf.commit();
}

/// The child: one simulation; its result (JSON) in `result_file`. Never returns.
/// Whether resolving a scenario depends on its seed (coefficients drawn from their intervals,
/// module init times drawn from a distribution): then each run resolves it again.
bool seed_in_resolution(const Scenario& sc) {
  return sc.variability.sample_coefficients || sc.calibration.module_init.has_default;
}

[[noreturn]] void child_run(const PreparedScenario& prepared, const Scenario& resolved, const SweepRun& r,
                            const std::string& result_file, const std::string& keep_dir, const std::string& engine) {
  ::prctl(PR_SET_PDEATHSIG, SIGKILL); // a killed sweep leaves no orphans writing results
  json j;
  int code = 0;
  try {
    Scenario sc;
    if (seed_in_resolution(resolved)) { // from the point's YAML tree, prepared before the fork
      sc = build_scenario(prepared, r.seed);
    } else { // resolved once in the parent, before the fork
      sc = resolved;
      sc.seed = r.seed;
    }
    const std::string cfg = to_yaml(sc);
    sim::SimOptions opt;
    opt.engine = sim::engine_from_name(engine);
    const sim::Results res = sim::simulate(sc, opt);
    const auto summary = sim::make_summary(sc, res, sim::sha256_hex(cfg));
    if (!keep_dir.empty())
      sim::write_outputs(keep_dir, sc, cfg, res, summary);
    j["summary"] = summary;
  } catch (const std::exception& e) {
    j["error"] = e.what();
    code = dynamic_cast<const ConfigError*>(&e) ? 2 : 1;
  }
  try {
    // replace: an error may quote a path that is not UTF-8 (Linux paths are bytes)
    std::ofstream(result_file) << j.dump(-1, ' ', false, json::error_handler_t::replace) << "\n";
  } catch (...) {
  }
  std::fflush(nullptr);
  ::_exit(code);
}

/// Merges the journals of shard folders into `dir`: same spec, no duplicate and no missing run.
/// Some failed runs are results (a what-if that deadlocks); a sweep folder none of whose runs
/// succeeded is an error (SweepFailed, exit 1), its tables written all the same.
void some_run_ok(const std::map<std::string, json>& done, const fs::path& dir) {
  const json* first_failed = nullptr;
  for (const auto& [id, j] : done) {
    if (j.value("status", "") == "ok")
      return;
    if (!first_failed)
      first_failed = &j;
  }
  if (!first_failed)
    return;
  std::string why; // on one line: a deadlock report lists its waiters on lines of their own
  for (const char ch : first_failed->value("error", std::string("no result"))) {
    if (ch == '\n')
      why += !why.empty() && why.back() == ':' ? " " : "; ";
    else if (ch != ' ' || (!why.empty() && why.back() != ' '))
      why += ch;
  }
  throw SweepFailed(fmt::format("every run of this sweep failed ({} runs; the first, {}: {}); see {}", done.size(),
                                first_failed->value("id", "?"), why, (dir / "runs.csv").string()));
}

int collect(const SweepArgs& a, const SweepSpec& s, const std::vector<SweepPoint>& pts,
            const std::vector<SweepRun>& runs, const std::string& key, const fs::path& dir) {
  std::map<std::string, json> done;
  for (const auto& d : a.collect) {
    const fs::path j = fs::path(d) / kJournal;
    if (!fs::is_regular_file(j))
      throw OutputError(d + ": not a sweep folder (no " + kJournal + ")");
    std::string k;
    auto part = read_journal(j, k);
    if (k != key)
      throw OutputError(d + ": holds the results of another spec (other points, or configuration files changed) than " + a.spec);
    for (auto& [id, line] : part)
      if (!done.emplace(id, line).second)
        throw OutputError(d + ": run " + id + " is also in another of the folders collected");
  }
  size_t missing = 0;
  std::string first;
  for (const auto& r : runs)
    if (!done.count(r.id) && missing++ == 0)
      first = r.id;
  if (missing)
    throw OutputError(fmt::format("{} of {} runs are in none of the folders (first: {}): a shard is missing or "
                                  "unfinished", missing, runs.size(), first));
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec)
    throw OutputError(dir.string() + ": cannot create directory: " + ec.message());
  if (fs::directory_iterator(dir) != fs::directory_iterator() && !a.force)
    throw OutputError(dir.string() + ": not empty; collect writes into an empty folder (or give --force)");
  std::string text = json{{"spec_key", key}, {"spec", s.name}, {"scenario", s.scenario}}.dump() + "\n";
  for (const auto& r : runs)
    text += done[r.id].dump() + "\n";
  AtomicFile jf((dir / kJournal).string());
  jf.write(text);
  jf.commit();
  write_tables(dir, s, pts, runs, done);
  std::cout << fmt::format("sweep {}: collected {} runs from {} folders -> {}/\n", s.name, runs.size(),
                           a.collect.size(), dir.string());
  some_run_ok(done, dir);
  return 0;
}

} // namespace

/// Point `p` prepared (its YAML tree) and resolved; a point that does not load is a ConfigError
/// naming the spec's line that sets the offending key, where it can.
std::pair<std::shared_ptr<const PreparedScenario>, Scenario> load_point(const SweepArgs& a, const SweepSpec& s,
                                                                         const std::vector<SweepPoint>& pts, size_t p) {
  try {
    auto prepared = prepare_scenario(s.scenario, pts[p].sets);
    Scenario resolved = build_scenario(*prepared);
    return {std::move(prepared), std::move(resolved)};
  } catch (const ConfigError& e) {
    // an override's error starts "--set KEY=VALUE: ": name the line of the spec that sets KEY
    const std::string m = e.what();
    const auto eq = m.find('=');
    if (m.rfind("--set ", 0) == 0 && eq != std::string::npos) {
      const std::string k = m.substr(6, eq - 6);
      const auto names = axis_names(s); // the point's own case first: several cases may set k
      const auto c = std::find(names.begin(), names.end(), "case");
      auto w = c == names.end() ? s.where.end()
                                : s.where.find(case_where_key(pts[p].columns[static_cast<size_t>(c - names.begin())], k));
      if (w == s.where.end())
        w = s.where.find(k);
      if (w != s.where.end())
        throw ConfigError(w->second + ": this point does not load: " + m);
    }
    throw ConfigError(a.spec + ": a point of this sweep does not load: " + m);
  }
}

int cmd_sweep(const SweepArgs& a) {
  const SweepSpec s = load_sweep_spec(a.spec);
  const auto pts = expand_points(s);
  // Every config file is read once: the points are checked now and may be prepared again when
  // they run, from the same texts (an edit during the sweep changes nothing).
  const ConfigFileCache file_cache;
  // Every point resolves before anything runs: a bad key path is exit 2 here, with its --set.
  // The first kKeepPoints points are kept prepared for their runs; beyond them only a point's
  // config hash is kept (for the spec's key), and it is prepared again, one point at a time,
  // when its runs start (a point of the default scenario holds ~620 KB: all 2,000 points of a
  // random sample took 1.24 GB before the first run, and 5,000 ran out of memory).
  constexpr size_t kKeepPoints = 256;
  std::vector<std::string> config_sha;
  std::vector<std::pair<std::shared_ptr<const PreparedScenario>, Scenario>> kept;
  for (size_t p = 0; p < pts.size(); ++p) {
    auto pt = load_point(a, s, pts, p);
    if (!a.dry_run)
      config_sha.push_back(sim::sha256_hex(to_yaml(pt.second)));
    if (p < kKeepPoints && !a.dry_run)
      kept.push_back(std::move(pt));
  }
  const auto runs = expand_runs(s, pts.size());
  if (a.dry_run) {
    std::string t = "point";
    for (const auto& n : axis_names(s))
      t += "\t" + n;
    t += "\n";
    for (size_t p = 0; p < pts.size(); ++p) {
      t += std::to_string(p);
      for (const auto& c : pts[p].columns)
        t += "\t" + c;
      t += "\n";
    }
    fmt::print("{}sweep {}: {} points x {} replications = {} runs; every point loads (nothing run)\n", t, s.name,
               pts.size(), s.replications, runs.size());
    return 0;
  }
  const fs::path dir = a.out.empty() ? fs::path("results") / s.name : fs::path(a.out);
  const std::string key = spec_key(s, pts, config_sha);
  if (!a.collect.empty())
    return collect(a, s, pts, runs, key, dir);
  if (a.executor == "slurm" || a.executor == "parallel") { // after --dry-run: it launches nothing
    check_executor_folder(a, dir, key);
    return a.executor == "slurm" ? run_slurm(a, dir) : run_parallel(a, dir);
  }

  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec)
    throw OutputError(dir.string() + ": cannot create directory: " + ec.message());
  const fs::path journal = dir / kJournal;
  std::map<std::string, json> done;
  if (fs::exists(journal)) {
    std::string old;
    done = read_journal(journal, old);
    if (old != key && !a.force)
      throw OutputError(dir.string() + ": holds the results of another spec (other points, or configuration files "
                                       "changed since its runs); use another --out, or --force to discard its " +
                        std::to_string(done.size()) + " finished runs and start again");
    if (old != key) {
      std::cerr << fmt::format("note: {}: held {} runs of another spec (other points, or configuration files changed "
                               "since); --force discards them\n",
                               dir.string(), done.size());
      done.clear();
      fs::remove(journal);
    } else if (!a.resume) {
      throw OutputError(dir.string() + ": already holds runs of this spec; give --resume to finish or extend it");
    }
    // one engine per sweep: their results are equivalent, not identical (docs/engines.md)
    for (const auto& [id, j] : done)
      if (j.contains("summary")) {
        const std::string e = j["summary"].value("engine", std::string("actors")); // before the engines: actors
        if (e != a.engine)
          throw ConfigError(dir.string() + ": its runs were simulated with --engine " + e + " (run " + id +
                            "); resume with --engine " + e + ", or use another --out: one engine per sweep");
      }
  } else if (fs::directory_iterator(dir) != fs::directory_iterator()) {
    throw OutputError(dir.string() + ": not empty and not a sweep folder (no " + kJournal + "); refusing to write into it");
  }
  trim_torn_tail(journal);
  const int jfd = ::open(journal.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (jfd < 0)
    throw OutputError(journal.string() + ": cannot open: " + std::strerror(errno));
  if (done.empty() && fs::file_size(journal) == 0)
    append_line(jfd, json{{"spec_key", key}, {"spec", s.name}, {"scenario", s.scenario}}.dump());
  {
    AtomicFile sf((dir / "spec.yaml").string());
    std::ifstream in(a.spec);
    std::stringstream ss;
    ss << "# resolved: scenario " << s.scenario << ", " << pts.size() << " points x " << s.replications
       << " replications\n"
       << in.rdbuf();
    sf.write(ss.str());
    sf.commit();
  }
  const fs::path tmp = dir / ".running";
  fs::create_directories(tmp, ec);

  std::vector<const SweepRun*> todo;
  for (size_t i = 0; i < runs.size(); ++i)
    if (!done.count(runs[i].id) && static_cast<int>(i % static_cast<size_t>(a.shard_n)) == a.shard_i - 1)
      todo.push_back(&runs[i]);
  const bool tty = ::isatty(STDERR_FILENO) != 0;
  size_t mine = 0; // the runs of this shard
  for (size_t i = 0; i < runs.size(); ++i)
    mine += static_cast<int>(i % static_cast<size_t>(a.shard_n)) == a.shard_i - 1;
  const size_t total = mine, skip = total - todo.size();
  size_t finished = 0, failures = 0;
  std::map<pid_t, std::pair<const SweepRun*, std::chrono::steady_clock::time_point>> live;
  const auto t0 = std::chrono::steady_clock::now();
  size_t next = 0;
  const int jobs = std::max(1, a.jobs);
  std::pair<std::shared_ptr<const PreparedScenario>, Scenario> loaded; // the point now running
  size_t loaded_point = static_cast<size_t>(-1);
  while (next < todo.size() || !live.empty()) {
    while (next < todo.size() && static_cast<int>(live.size()) < jobs) {
      const SweepRun* r = todo[next++];
      const std::string res = (tmp / (r->id + ".json")).string();
      fs::remove(res, ec);
      if (r->point >= kept.size() && r->point != loaded_point) { // runs come point by point
        loaded = load_point(a, s, pts, r->point);
        loaded_point = r->point;
      }
      const auto& pt = r->point < kept.size() ? kept[r->point] : loaded;
      std::fflush(nullptr);
      const pid_t pid = ::fork();
      if (pid < 0)
        throw OutputError(std::string("fork failed: ") + std::strerror(errno));
      if (pid == 0)
        child_run(*pt.first, pt.second, *r, res,
                  a.keep_runs ? (dir / "runs" / r->id).string() : std::string(), a.engine);
      live[pid] = {r, std::chrono::steady_clock::now()};
    }
    int status = 0;
    const pid_t pid = ::waitpid(-1, &status, 0);
    if (pid < 0)
      throw OutputError(std::string("waitpid failed: ") + std::strerror(errno));
    auto it = live.find(pid);
    if (it == live.end())
      continue;
    const SweepRun* r = it->second.first;
    const double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - it->second.second).count();
    live.erase(it);
    const std::string res = (tmp / (r->id + ".json")).string();
    json j = json::parse(std::ifstream(res), nullptr, false);
    if (j.is_discarded() || !j.is_object())
      j = json::object();
    json line = {{"id", r->id}, {"point", r->point}, {"replication", r->replication}, {"seed", r->seed}};
    const int code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    line["status"] = code == 0 && j.contains("summary") ? "ok" : "failed";
    line["exit"] = code;
    line["wall_s"] = wall;
    if (j.contains("summary"))
      line["summary"] = j["summary"];
    if (j.contains("error"))
      line["error"] = utf8_prefix(j["error"].get<std::string>(), 400);
    else if (code != 0)
      line["error"] = WIFSIGNALED(status) ? std::string("killed by signal ") + strsignal(WTERMSIG(status)) : "no result";
    append_line(jfd, line.dump(-1, ' ', false, json::error_handler_t::replace));
    done[r->id] = line;
    fs::remove(res, ec);
    finished++;
    failures += line["status"] == "failed";
    const double el = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    const double rate = static_cast<double>(finished) / std::max(el, 1e-9);
    const size_t left = todo.size() - finished;
    if (a.quiet_progress)
      ;
    else if (tty)
      std::cerr << fmt::format("\r[{}/{}] {:.1f} runs/s, ETA {:.0f} s, {} failed   ", skip + finished, total, rate,
                               static_cast<double>(left) / std::max(rate, 1e-9), failures)
                << std::flush;
    else if (finished % std::max<size_t>(1, todo.size() / 10) == 0 || left == 0)
      std::cerr << fmt::format("[{}/{}] {:.1f} runs/s, {} failed\n", skip + finished, total, rate, failures);
  }
  if (tty && !todo.empty() && !a.quiet_progress)
    std::cerr << "\n";
  if (::fsync(jfd) != 0)
    throw OutputError(journal.string() + ": fsync failed: " + std::strerror(errno));
  ::close(jfd);
  fs::remove_all(tmp, ec);
  write_tables(dir, s, pts, runs, done);
  const std::string part = a.shard_n > 1 ? fmt::format(" in shard {}/{}", a.shard_i, a.shard_n) : std::string();
  std::cout << fmt::format("sweep {}: {} runs{} ({} points x {} replications), {} run now, {} reused, {} failed -> {}/\n",
                           s.name, total, part, pts.size(), s.replications, todo.size(), skip, failures, dir.string());
  if (a.shard_n == 1) // a shard's folder is only a part: the collected sweep is judged
    some_run_ok(done, dir);
  return 0;
}

} // namespace kmodsim
