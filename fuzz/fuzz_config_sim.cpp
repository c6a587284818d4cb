// libFuzzer target, structure-aware: configs that load are simulated.
//
// Input: the multi-file format of fuzz/config_input.hpp. LLVMFuzzerCustomMutator parses the
// parts with yaml-cpp and mutates the tree (extreme scalars, deleted keys, duplicated list
// elements, maps swapped for lists, cores, scheduler model, kernel file, preemption, mutex
// flags, step enums, --set lines, aliases), falling back to LLVMFuzzerMutate on parts that do
// not parse. LLVMFuzzerCustomCrossOver swaps whole parts between two inputs.
//
// Each input that loads without ConfigError and is small (<= 200 modules and uevents, a
// bounded number of step executions and time slices) is simulated in a fork()ed child:
// SimGrid's engine cannot be re-created in one process. The child runs
// kmodsim::sim::simulate() under alarm(10) and exits 0 on success, 3 on
// sim::SimulationError; the parent watches its wall time and RSS (see "memory bound" below)
// and turns anything else into a finding: abort() in the parent, so libFuzzer saves the input.
//
// Findings:
//  - any exception other than ConfigError out of load_scenario (parent);
//  - in the child: a signal (ASan/UBSan report, SimGrid xbt_die/abort, segfault), an
//    exception other than SimulationError (exit 4), a SimulationError "model bug: ..." (exit
//    5: the analytic lower bound broken), a timeout (10 s), the RSS bound (KMODSIM_FUZZ_CHILD_RSS_MB,
//    default 2048).
//
// Memory bound: RLIMIT_AS (and RLIMIT_DATA) cannot bound an ASan process: ASan reserves its
// shadow memory (~20 TiB of address space, MAP_NORESERVE) at start-up, so any address-space
// limit low enough to matter makes every later mmap of the child fail. RLIMIT_RSS is ignored
// by Linux. So the parent polls the child's RSS (/proc/PID/statm) and kills it past the bound;
// RLIMIT_AS is set in the child only in a build without ASan.
//
// Coverage: the child's coverage counters are private copies (fork), so the child copies its
// inline 8-bit counters (__start___sancov_cntrs..__stop___sancov_cntrs) into a shared mapping
// before _exit and the parent merges them into its own: the simulation's coverage guides the
// fuzzer as if it had run in process. (The child's comparison operands, -use_value_profile,
// are not carried over.) KMODSIM_FUZZ_NO_CHILD_COVERAGE=1 turns the merge off.
//
// Corpus: an input that does not reach the simulator (ConfigError, too big) has its counters
// cleared, so it adds nothing to this corpus (fuzz_config covers the loader's error paths).
// KMODSIM_FUZZ_KEEP_REJECTED=1 turns that off. More in docs/fuzzing.md.
#include "config_input.hpp"

#include "simulation.hpp"

#include <kmodsim/config.hpp>
#include <kmodsim/depgraph.hpp>
#include <kmodsim/estimate.hpp>

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <random>
#include <string>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>
#include <vector>

#if defined(__has_feature)
#if __has_feature(address_sanitizer)
#define KMODSIM_FUZZ_ASAN 1
#endif
#endif

extern "C" size_t LLVMFuzzerMutate(std::uint8_t* data, size_t size, size_t max_size);

// The inline 8-bit coverage counters of this executable (fuzz/child_coverage.cpp).
extern "C" std::uint8_t* kmodsim_fuzz_counters(std::size_t* size);

namespace {

using namespace kmodsim;

// ---------------------------------------------------------------------------------------------
// Limits of one simulated input

constexpr size_t kMaxModules = 200;
constexpr size_t kMaxUevents = 200;
constexpr double kMaxStepRuns = 2e5;   ///< step executions over all loads (each is a few engine events)
constexpr double kMaxSlices = 2e5;     ///< time_slice: CPU seconds / slice
constexpr unsigned kChildAlarmS = 10;  ///< the child's own alarm
constexpr double kParentKillS = 15.0;  ///< the parent's backstop

// Thread contexts: raw context switches confuse ASan (sim/simulation.cpp selects them only
// under __SANITIZE_ADDRESS__, which clang 14 does not define). (Thread contexts ignore
// contexts/stack-size: actors get the default pthread stack.)
const std::vector<std::string> kEngineArgs = {"--cfg=contexts/factory:thread"};

struct Stats {
  unsigned long inputs = 0, loaded = 0, skipped = 0, simulated = 0, sim_ok = 0, sim_error = 0;
} g_stats;

struct Shared { // the child's report to the parent (MAP_SHARED), followed by g_ncounters bytes
  char message[2048];
  std::uint8_t* counters() { return reinterpret_cast<std::uint8_t*>(this + 1); }
};
Shared* g_shared = nullptr;
std::uint8_t* g_counters = nullptr;
size_t g_ncounters = 0;
bool g_child_coverage = true;

double cpu_us_of(const std::vector<Step>& steps, const Module& m, const Features& f, int cores) {
  double us = 0;
  for (const Step& s : steps) {
    if (s.has_only_if && f[s.only_if] <= 0)
      continue;
    double c = s.steps.empty() ? s.cost.eval_us(f) + (s.effect == Effect::init ? m.init.cpu_us : 0.0)
                               : cpu_us_of(s.steps, m, f, cores);
    us += static_cast<double>(step_repeats(s, m, cores)) * c;
  }
  return us;
}

double step_runs_of(const std::vector<Step>& steps, const Module& m, int cores) {
  double n = 0;
  for (const Step& s : steps)
    n += static_cast<double>(step_repeats(s, m, cores)) * (s.steps.empty() ? 1.0 : step_runs_of(s.steps, m, cores));
  return n;
}

/// Too big for a short simulation? (An over-estimate: every load of every module in each
/// uevent's load order, symbol tables as full as they can get.)
bool too_big(const Scenario& s) {
  const Workload& w = s.workload;
  if (w.modules.size() > kMaxModules || w.uevents.size() > kMaxUevents)
    return true;
  LoadState st;
  st.cores = s.machine.cores;
  st.symtab_entries = w.kernel_exports;
  for (const Module& m : w.modules)
    st.symtab_entries += m.exports;
  st.loaded_modules = static_cast<std::int64_t>(w.modules.size());
  DepGraph g(w);
  double runs = 0, cpu_us = 0;
  const double per_modprobe_us = s.userspace.modprobe.startup_us +
                                 s.userspace.modprobe.index_us_per_module *
                                     static_cast<double>(w.index_modules > 0 ? w.index_modules
                                                                             : static_cast<std::int64_t>(w.modules.size())) +
                                 s.userspace.udev.event_us + s.userspace.udev.spawn_us + s.userspace.modprobe.check_us +
                                 s.userspace.modprobe.check_us_per_loaded * static_cast<double>(w.modules.size());
  for (const Uevent& u : w.uevents) {
    cpu_us += per_modprobe_us;
    if (u.module.empty())
      continue;
    size_t target = 0;
    while (target < w.modules.size() && w.modules[target].name != u.module)
      ++target;
    if (target == w.modules.size())
      continue;
    for (size_t m : g.load_order(target)) {
      const Module& mod = w.modules[m];
      runs += step_runs_of(s.kernel.init_module, mod, st.cores);
      cpu_us += cpu_us_of(s.kernel.init_module, mod, module_features(mod, st), st.cores);
    }
  }
  if (runs > kMaxStepRuns)
    return true;
  if (s.machine.scheduler.model == SchedulerModel::time_slice &&
      cpu_us / s.machine.speed / (s.machine.scheduler.slice_ms * 1e3) > kMaxSlices)
    return true;
  return false;
}

// ---------------------------------------------------------------------------------------------
// The child

[[noreturn]] void child_exit(int code, const std::string& message) {
  if (g_shared) {
    std::snprintf(g_shared->message, sizeof g_shared->message, "%s", message.c_str());
    if (g_child_coverage && g_ncounters)
      std::memcpy(g_shared->counters(), g_counters, g_ncounters);
  }
  _exit(code); // not exit(): libFuzzer's atexit hook would report "fuzz target exited"
}

[[noreturn]] void run_child(const Scenario& s) {
  for (int sig : {SIGALRM, SIGINT, SIGTERM, SIGUSR1, SIGUSR2, SIGXFSZ})
    std::signal(sig, SIG_DFL); // libFuzzer's handlers must not run in the child
#ifndef KMODSIM_FUZZ_ASAN
  const char* mb = std::getenv("KMODSIM_FUZZ_CHILD_RSS_MB");
  rlim_t bytes = static_cast<rlim_t>(mb ? std::strtoull(mb, nullptr, 10) : 2048) << 20;
  rlimit rl{bytes, bytes};
  setrlimit(RLIMIT_AS, &rl);
#endif
  alarm(kChildAlarmS);
  if (!std::getenv("KMODSIM_FUZZ_CHILD_STDOUT"))
    if (FILE* f = std::freopen("/dev/null", "w", stdout); !f)
      _exit(6);
  try {
    sim::SimOptions opt; // max_sim_time_s: the default, as `kmodsim run`
    opt.engine_args = kEngineArgs;
    // both engines, chosen by the input itself so that a finding replays alike: an odd seed runs
    // on fibers (sim/runtime_fibers.cpp)
    if ((s.seed & 1) != 0)
      opt.engine = sim::EngineKind::fibers;
    (void)sim::simulate(s, opt);
  } catch (const sim::SimulationError& e) {
    const std::string what = e.what();
    child_exit(what.rfind("model bug", 0) == 0 ? 5 : 3, what);
  } catch (...) {
    child_exit(4, "uncaught exception in sim::simulate: " + fuzz::describe_current_exception());
  }
  child_exit(0, "");
}

size_t rss_bytes(pid_t pid) {
  char path[64];
  std::snprintf(path, sizeof path, "/proc/%d/statm", static_cast<int>(pid));
  FILE* f = std::fopen(path, "r");
  if (!f)
    return 0;
  unsigned long size = 0, rss = 0;
  int n = std::fscanf(f, "%lu %lu", &size, &rss);
  std::fclose(f);
  return n == 2 ? rss * static_cast<size_t>(sysconf(_SC_PAGESIZE)) : 0;
}

[[noreturn]] void sim_finding(const std::string& what) {
  std::fprintf(stderr, "\nKMODSIM-FINDING: simulation: %s\n", what.c_str());
  std::fflush(stderr);
  std::abort();
}

void simulate_in_child(const Scenario& s) {
  static const size_t rss_limit = [] {
    const char* mb = std::getenv("KMODSIM_FUZZ_CHILD_RSS_MB");
    return static_cast<size_t>(mb ? std::strtoull(mb, nullptr, 10) : 2048) << 20;
  }();
  if (g_shared)
    g_shared->message[0] = '\0';
  std::fflush(stdout);
  std::fflush(stderr);
  const pid_t pid = fork();
  if (pid < 0) {
    std::perror("kmodsim fuzz: fork");
    std::abort();
  }
  if (pid == 0)
    run_child(s);

  ++g_stats.simulated;
  const auto t0 = std::chrono::steady_clock::now();
  int status = 0;
  unsigned nap_us = 20;
  const char* killed = nullptr;
  for (;;) {
    const pid_t r = waitpid(pid, &status, WNOHANG);
    if (r == pid)
      break;
    if (r < 0 && errno != EINTR) {
      std::perror("kmodsim fuzz: waitpid");
      std::abort();
    }
    const double el = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    if (!killed && el > kParentKillS)
      killed = "timeout (no exit after 15 s wall time; the child's alarm did not fire)";
    if (!killed && nap_us >= 1000 && rss_bytes(pid) > rss_limit)
      killed = "RSS bound exceeded (KMODSIM_FUZZ_CHILD_RSS_MB)";
    if (killed) {
      kill(pid, SIGKILL);
      while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
      }
      sim_finding(killed);
    }
    usleep(nap_us);
    nap_us = std::min(nap_us * 2, 5000u);
  }
  const std::string msg = g_shared ? std::string(g_shared->message) : std::string();
  if (fuzz::verbose())
    std::fprintf(stderr, "kmodsim fuzz: simulated: child status 0x%x%s%s\n", static_cast<unsigned>(status),
                 msg.empty() ? "" : ": ", msg.c_str());
  if (WIFEXITED(status) && (WEXITSTATUS(status) == 0 || WEXITSTATUS(status) == 3)) {
    (WEXITSTATUS(status) == 0 ? g_stats.sim_ok : g_stats.sim_error)++;
    if (g_child_coverage && g_ncounters) // merge the child's coverage into ours
      for (size_t i = 0; i < g_ncounters; ++i)
        if (g_shared->counters()[i] > g_counters[i])
          g_counters[i] = g_shared->counters()[i];
    return;
  }
  if (WIFSIGNALED(status)) {
    const int sig = WTERMSIG(status);
    sim_finding(sig == SIGALRM ? "timeout (the child's alarm(10) fired)"
                               : std::string("the child died of signal ") + std::to_string(sig) + " (" + strsignal(sig) +
                                     ")" + (msg.empty() ? "" : ": " + msg));
  }
  const int code = WEXITSTATUS(status);
  sim_finding("the child exited with status " + std::to_string(code) +
              (code == 4   ? " (exception other than SimulationError)"
               : code == 5 ? " (SimulationError: model bug)"
                           : " (a sanitizer report or libFuzzer's malloc limit: see the child's output above)") +
              (msg.empty() ? "" : ": " + msg));
}

// ---------------------------------------------------------------------------------------------
// Structure-aware mutation

const char* const kBadUtf8 = "KMODSIM_FUZZ_BAD_UTF8"; // replaced after emission
const char* const kNul = "KMODSIM_FUZZ_NUL";

struct Rng {
  std::minstd_rand g;
  explicit Rng(unsigned seed) : g(seed) {}
  size_t below(size_t n) { return n ? static_cast<size_t>(g()) % n : 0; }
  bool one_in(size_t n) { return below(n) == 0; }
  template <class T, size_t N> const T& pick(const T (&a)[N]) { return a[below(N)]; }
  /// Mostly (3 in 4) one of the first `valid` entries: the values the loader accepts.
  template <class T, size_t N> const T& pick_valid(const T (&a)[N], size_t valid) {
    return one_in(4) ? a[below(N)] : a[below(valid)];
  }
};

const char* const kExtremes[] = {"0", "-1", "1e308", "1e-300", "1e15", "nan", ".nan", ".inf", "-.inf", "4294967297",
                                 "9223372036854775807", "9223372036854775808", "-9223372036854775809", "2147483648",
                                 "65536", "65537", "0.0", "-0", "1e-6", "0x7fffffff", "1", "2", "300", "true", "~"};
const char* const kKeys[] = {"schema_version", "name", "description", "machine", "kernel", "workload", "calibration",
                             "userspace", "variability", "outputs", "seed", "cores", "speed", "disk", "read_mbps",
                             "latency_ms", "scheduler", "model", "slice_ms", "preemption", "mutex", "wakeup_us",
                             "adaptive_spin", "handoff", "use_module_timeout_s", "init_module", "steps", "lock",
                             "repeat", "effect", "cost", "wait", "only_if", "kernel_exports", "index_modules", "modules",
                             "uevents", "device", "module", "size_kb", "init_kb", "file_kb", "undef_symbols",
                             "dep_symbols", "relocations", "exports", "percpu_kb", "deps", "init", "cpu_us", "wait_ms",
                             "coefficients", "value", "unit", "source", "udev", "children_max", "event_us", "spawn_us",
                             "modprobe", "startup_us", "index_us_per_module", "check_us", "check_us_per_loaded",
                             "cost_cv", "init_wait_cv", "shuffle_uevents", "timeline", "file", "<<"};
const char* const kFeatures[] = {"constant", "size_kb", "core_kb", "init_kb", "file_kb", "undef_symbols",
                                 "dep_symbols", "relocations", "exports", "percpu_kb", "symtab_entries",
                                 "loaded_modules", "cpus"};
const char* const kLocks[] = {"none", "module_mutex", "preempt_off", "spinlock"};
const char* const kRepeats[] = {"once", "per_undef_symbol", "per_export", "per_cpu", "twice"};
const char* const kEffects[] = {"none", "duplicate_check", "sysfs_claim", "resolve_symbol", "verify_exports",
                                "list_add", "init", "live", "explode"};
const char* const kModels[] = {"time_slice", "processor_sharing", "run_to_block", "fifo", ""};
const char* const kPreemptions[] = {"voluntary", "full", "none", "rt"};
const char* const kBools[] = {"true", "false", "yes", "no", "on", "off", "1", "0", "maybe"};
const char* const kRefs[] = {"machine.yaml", "kernel.yaml", "workload.yaml", "calibration.yaml", "scenario.yaml",
                             "missing.yaml", ".", "..", "/dev/null", "", "kernel.yaml/", "./kernel.yaml"};
const char* const kSections[] = {"machine", "kernel", "workload", "calibration"};

std::string scalar_value(Rng& r) {
  switch (r.below(10)) {
  case 0:
    return std::string(300, "ax_.0"[r.below(5)]);
  case 1:
    return kBadUtf8;
  case 2:
    return std::string("a") + kNul + "b";
  case 3:
    return r.pick(kFeatures);
  case 4:
    return std::to_string(r.below(301));
  default:
    return r.pick(kExtremes);
  }
}


struct Slot {
  YAML::Node node;
  YAML::Node parent; // a part's root: undefined
  YAML::Node key;    // a map value: its key node
  size_t index = 0;  // a sequence element: its index
  int kind = 0;      // 0 root, 1 map value, 2 sequence element, 3 map key
  std::string path;  // key path inside the part (for --set lines)
};

void collect(const YAML::Node& n, std::vector<Slot>& out, const std::string& path, int depth) {
  if (depth > 24 || out.size() > 4000) // aliases can make cycles (&a [*a]): bound the walk
    return;
  if (n.IsMap()) {
    for (auto it = n.begin(); it != n.end(); ++it) {
      const std::string k = it->first.IsScalar() ? it->first.Scalar() : "?";
      const std::string p = path.empty() ? k : path + "." + k;
      out.push_back({it->first, n, YAML::Node(), 0, 3, p});
      out.push_back({it->second, n, it->first, 0, 1, p});
      collect(it->second, out, p, depth + 1);
    }
  } else if (n.IsSequence()) {
    for (size_t i = 0; i < n.size(); ++i) {
      const std::string p = (path.empty() ? "" : path + ".") + std::to_string(i);
      out.push_back({n[i], n, YAML::Node(), i, 2, p});
      collect(n[i], out, p, depth + 1);
    }
  }
}

std::vector<Slot> slots_of(const YAML::Node& root) {
  std::vector<Slot> s;
  s.push_back({root, YAML::Node(), YAML::Node(), 0, 0, ""});
  collect(root, s, "", 0);
  return s;
}

/// One parsed file part of the input.
struct Part {
  int file = -1; // index in kFileNames
  YAML::Node root;
  bool dirty = false;
};

/// The input being mutated.
struct Doc {
  fuzz::ConfigInput in;
  std::vector<Part> parts;
  Part* part(int file) {
    for (auto& p : parts)
      if (p.file == file)
        return &p;
    return nullptr;
  }
};

enum { kScenario = 0, kMachine = 1, kKernel = 2, kWorkload = 3, kCalibration = 4 };
const char* const kPrefix[] = {"", "machine.", "kernel.", "workload.", "calibration."};

/// Sets `key` in a random map (of any part) that holds it, else at the root of part `owner`.
bool set_key(Doc& d, Rng& r, const char* key, const YAML::Node& value, int owner) {
  std::vector<std::pair<Part*, YAML::Node>> found;
  for (auto& p : d.parts)
    for (auto& s : slots_of(p.root))
      if (s.node.IsMap() && static_cast<const YAML::Node&>(s.node)[key].IsDefined())
        found.emplace_back(&p, s.node);
  if (!found.empty()) {
    auto& [p, m] = found[r.below(found.size())];
    m[key] = value;
    p->dirty = true;
    return true;
  }
  if (Part* p = d.part(owner); p && p->root.IsMap()) {
    p->root[key] = value;
    p->dirty = true;
    return true;
  }
  return false;
}

YAML::Node scalar(const std::string& s) { return YAML::Node(s); }

void assign(YAML::Node target, const YAML::Node& value) { target = value; } // in place: aliases see it too
void assign_scalar(YAML::Node target, const std::string& v) { target = v; }

void remove_slot(const Slot& s) {
  if (s.kind == 1 || s.kind == 3) {
    YAML::Node parent = s.parent;
    parent.remove(s.kind == 1 ? s.key : s.node);
  } else if (s.kind == 2) {
    YAML::Node seq(YAML::NodeType::Sequence);
    for (size_t i = 0; i < s.parent.size(); ++i)
      if (i != s.index)
        seq.push_back(s.parent[i]);
    assign(s.parent, seq);
  }
}

YAML::Node swapped(const YAML::Node& n, Rng& r) {
  if (n.IsMap()) { // a list of the values, or of one-key maps
    YAML::Node seq(YAML::NodeType::Sequence);
    const bool pairs = r.one_in(2);
    for (auto it = n.begin(); it != n.end(); ++it) {
      if (pairs) {
        YAML::Node m(YAML::NodeType::Map);
        m[it->first] = it->second;
        seq.push_back(m);
      } else {
        seq.push_back(it->second);
      }
    }
    return seq;
  }
  YAML::Node m(YAML::NodeType::Map); // a list as a map: by element name, else by index
  for (size_t i = 0; i < n.size(); ++i) {
    const YAML::Node e = n[i];
    std::string k = e.IsMap() && e["name"].IsScalar() && !r.one_in(4) ? e["name"].Scalar() : std::to_string(i);
    m[k] = e;
  }
  return m;
}

std::string module_name(Doc& d, Rng& r) {
  if (Part* w = d.part(kWorkload); w && w->root.IsMap()) {
    const YAML::Node mods = static_cast<const YAML::Node&>(w->root)["modules"];
    if (mods.IsSequence() && mods.size()) {
      const YAML::Node m = mods[r.below(mods.size())];
      if (m.IsMap() && m["name"].IsScalar())
        return m["name"].Scalar();
    }
  }
  return std::to_string(r.below(4));
}

std::string set_line(Doc& d, Rng& r) {
  switch (r.below(5)) {
  case 0: { // a key path that exists in one of the parts
    if (d.parts.empty())
      break;
    Part& p = d.parts[r.below(d.parts.size())];
    auto slots = slots_of(p.root);
    const Slot& s = slots[r.below(slots.size())];
    if (s.path.empty())
      break;
    return kPrefix[p.file] + s.path + "=" + scalar_value(r);
  }
  case 1:
    return std::string(r.pick(kSections)) + "=" + r.pick_valid(kRefs, 4);
  case 2:
    return "workload.modules." + module_name(d, r) + "." +
           r.pick({"init.wait_ms", "init.cpu_us", "undef_symbols", "exports", "size_kb", "deps", "name"}) + "=" +
           scalar_value(r);
  default:
    break;
  }
  switch (r.below(14)) {
  case 0:
    return "machine.cores=" + std::to_string(1 + r.below(300));
  case 1:
    return std::string("machine.scheduler.model=") + r.pick_valid(kModels, 3);
  case 2:
    return "machine.scheduler.slice_ms=" + scalar_value(r);
  case 3:
    return std::string("kernel.preemption=") + r.pick_valid(kPreemptions, 2);
  case 4:
    return std::string("kernel.mutex.") + (r.one_in(2) ? "handoff=" : "adaptive_spin=") + r.pick_valid(kBools, 2);
  case 5:
    return "kernel.mutex.wakeup_us=" + scalar_value(r);
  case 6:
    return "kernel.use_module_timeout_s=" + scalar_value(r);
  case 7:
    return "userspace.udev.children_max=" + std::to_string(1 + r.below(70));
  case 8:
    return "variability.cost_cv=" + scalar_value(r);
  case 9:
    return std::string("variability.shuffle_uevents=") + r.pick_valid(kBools, 2);
  case 10:
    return "seed=" + scalar_value(r);
  case 11:
    return "kernel.init_module." + std::to_string(r.below(4)) + ".lock=" + r.pick_valid(kLocks, 3);
  case 12:
    return "kernel.init_module." + std::to_string(r.below(4)) + ".repeat=" + r.pick_valid(kRepeats, 4);
  default:
    return "workload.kernel_exports=" + scalar_value(r);
  }
}

/// A new step, for the kernel's init_module list.
YAML::Node random_step(Rng& r) {
  YAML::Node s(YAML::NodeType::Map);
  s["name"] = std::string("fz") + std::to_string(r.below(100));
  if (r.one_in(2))
    s["lock"] = r.pick_valid(kLocks, 3);
  if (r.one_in(2))
    s["repeat"] = r.pick_valid(kRepeats, 4);
  if (r.one_in(2))
    s["effect"] = r.pick_valid(kEffects, 8);
  if (r.one_in(2)) {
    YAML::Node c(YAML::NodeType::Map);
    c[r.pick(kFeatures)] = std::to_string(r.below(1000));
    s["cost"] = c;
  }
  if (r.one_in(4))
    s["only_if"] = r.pick(kFeatures);
  return s;
}

/// One mutation; false when it found nothing to do.
bool mutate_once(Doc& d, Rng& r) {
  const size_t op = r.below(16);
  if (op >= 13 || d.parts.empty()) { // --set lines
    d.in.has_set = true;
    auto& lines = d.in.set_lines;
    if (!lines.empty() && r.one_in(3)) {
      lines.erase(lines.begin() + static_cast<long>(r.below(lines.size())));
    } else if (!lines.empty() && r.one_in(2)) {
      std::string& l = lines[r.below(lines.size())];
      l = l.substr(0, l.find('=') == std::string::npos ? l.size() : l.find('=')) + "=" + scalar_value(r);
    } else {
      lines.push_back(set_line(d, r));
    }
    return true;
  }
  Part& p = d.parts[r.below(d.parts.size())];
  auto slots = slots_of(p.root);
  auto pick_slot = [&](auto pred) -> const Slot* {
    std::vector<const Slot*> c;
    for (const auto& s : slots)
      if (pred(s))
        c.push_back(&s);
    return c.empty() ? nullptr : c[r.below(c.size())];
  };
  switch (op) {
  case 0:
  case 1: { // a scalar (or a key) becomes an extreme value
    const Slot* s = pick_slot([](const Slot& x) { return x.node.IsScalar() || x.node.IsNull(); });
    if (!s)
      return false;
    if (s->kind == 3 && r.one_in(2))
      assign_scalar(s->node, r.pick(kKeys));
    else if (s->kind != 3 && r.one_in(10))
      assign(s->node, YAML::Node(YAML::NodeType::Null));
    else if (s->node.IsScalar() && r.one_in(4)) { // nudge a number
      double v = 0;
      try {
        v = s->node.as<double>();
      } catch (...) {
        assign_scalar(s->node, scalar_value(r));
        break;
      }
      const double f[] = {0, -1, 2, 0.5, 1e3, 1e-3, 1e6};
      char buf[64];
      std::snprintf(buf, sizeof buf, "%.17g", r.one_in(3) ? v + 1 : v * r.pick(f));
      assign_scalar(s->node, buf);
    } else
      assign_scalar(s->node, scalar_value(r));
    break;
  }
  case 2: { // delete a key or a list element
    const Slot* s = pick_slot([](const Slot& x) { return x.kind == 1 || x.kind == 2; });
    if (!s)
      return false;
    remove_slot(*s);
    break;
  }
  case 3: { // duplicate a list element: a renamed copy, or the same node (an alias)
    const Slot* s = pick_slot([](const Slot& x) { return x.node.IsSequence() && x.node.size() > 0; });
    if (!s)
      return false;
    YAML::Node seq = s->node;
    YAML::Node e = seq[r.below(seq.size())];
    if (r.one_in(4)) {
      seq.push_back(e);
    } else {
      YAML::Node c = YAML::Clone(e);
      if (c.IsMap() && c["name"].IsScalar() && !r.one_in(4))
        c["name"] = c["name"].Scalar() + "_" + std::to_string(r.below(1000));
      seq.push_back(c);
    }
    break;
  }
  case 4: { // a map for a list, a list for a map
    const Slot* s = pick_slot([](const Slot& x) { return x.node.IsMap() || x.node.IsSequence(); });
    if (!s)
      return false;
    assign(s->node, swapped(s->node, r));
    break;
  }
  case 5: // cores
    return set_key(d, r, "cores", YAML::Node(1 + static_cast<int>(r.below(300))), kMachine);
  case 6: { // scheduler model / slice
    YAML::Node sch(YAML::NodeType::Map);
    sch["model"] = r.pick_valid(kModels, 3);
    if (r.one_in(3))
      return set_key(d, r, "slice_ms", scalar(scalar_value(r)), -1) || set_key(d, r, "scheduler", sch, kMachine);
    return set_key(d, r, "model", scalar(r.pick_valid(kModels, 3)), -1) || set_key(d, r, "scheduler", sch, kMachine);
  }
  case 7: { // a section: another file, the file inline, or {file: ..., key: value}
    Part* sc = d.part(kScenario);
    if (!sc || !sc->root.IsMap())
      return false;
    const int sec = 1 + static_cast<int>(r.below(4));
    const char* key = kSections[sec - 1];
    Part* file = d.part(sec);
    const size_t how = r.below(4);
    if (how == 0 && file) {
      sc->root[key] = YAML::Clone(file->root);
    } else if (how == 1) {
      YAML::Node o(YAML::NodeType::Map);
      o["file"] = r.one_in(4) ? r.pick(kRefs) : fuzz::kFileNames[sec];
      o[r.pick(kKeys)] = scalar_value(r);
      sc->root[key] = o;
    } else if (how == 2 && sc->root[key].IsMap() && !sc->root[key]["file"].IsDefined()) { // inline -> the file
      d.in.present[sec] = true;
      if (file) {
        file->root = YAML::Clone(sc->root[key]);
        file->dirty = true;
      } else {
        d.parts.push_back({sec, YAML::Clone(sc->root[key]), true}); // capacity reserved: no move
      }
      sc->root[key] = fuzz::kFileNames[sec];
    } else {
      sc->root[key] = r.one_in(3) ? r.pick(kRefs) : fuzz::kFileNames[sec];
    }
    sc->dirty = true;
    break;
  }
  case 8: // preemption
    return set_key(d, r, "preemption", scalar(r.pick_valid(kPreemptions, 2)), kKernel);
  case 9: { // mutex flags
    const char* k = r.pick({"adaptive_spin", "handoff", "wakeup_us"});
    YAML::Node v = scalar(k[0] == 'w' ? scalar_value(r) : r.pick_valid(kBools, 2));
    if (set_key(d, r, k, v, -1))
      return true;
    YAML::Node m(YAML::NodeType::Map);
    m[k] = v;
    return set_key(d, r, "mutex", m, kKernel);
  }
  case 10: { // a step's lock / repeat / effect / only_if, or a new step
    const Slot* s = pick_slot([](const Slot& x) { return x.node.IsMap() && x.kind == 2; });
    if (!s || r.one_in(4)) {
      const Slot* q = pick_slot([](const Slot& x) { return x.node.IsSequence(); });
      if (!q)
        return false;
      YAML::Node seq = q->node;
      seq.push_back(random_step(r));
      break;
    }
    YAML::Node m = s->node;
    switch (r.below(4)) {
    case 0:
      m["lock"] = r.pick_valid(kLocks, 3);
      break;
    case 1:
      m["repeat"] = r.pick_valid(kRepeats, 4);
      break;
    case 2:
      m["effect"] = r.pick_valid(kEffects, 8);
      break;
    default:
      m["only_if"] = r.pick(kFeatures);
    }
    break;
  }
  case 11: { // a new key somewhere
    const Slot* s = pick_slot([](const Slot& x) { return x.node.IsMap() || x.node.IsNull(); });
    if (!s)
      return false;
    YAML::Node m = s->node;
    m[r.pick(kKeys)] = r.one_in(3) ? YAML::Clone(slots[r.below(slots.size())].node) : scalar(scalar_value(r));
    break;
  }
  default: { // one node becomes another: a copy, or the same node (an alias)
    const Slot* a = pick_slot([](const Slot& x) { return x.kind == 1 || x.kind == 2; });
    const Slot& b = slots[r.below(slots.size())];
    if (!a)
      return false;
    assign(a->node, r.one_in(2) ? YAML::Clone(b.node) : b.node);
    break;
  }
  }
  p.dirty = true;
  return true;
}

void replace_all(std::string& s, const std::string& from, const std::string& to) {
  for (size_t pos = 0; (pos = s.find(from, pos)) != std::string::npos; pos += to.size())
    s.replace(pos, from.size(), to);
}

size_t emit(const fuzz::ConfigInput& in, std::uint8_t* data, size_t max_size) {
  std::string out = fuzz::join_input(in);
  replace_all(out, kBadUtf8, "\xff\xfe\xc3\x28\xed\xa0\x80");
  replace_all(out, kNul, std::string(1, '\0'));
  if (out.size() > max_size)
    return 0;
  std::memcpy(data, out.data(), out.size());
  return out.size();
}

/// LLVMFuzzerMutate on one part's bytes (the separators stay intact).
size_t mutate_part_bytes(fuzz::ConfigInput& in, Rng& r, std::uint8_t* data, size_t size, size_t max_size) {
  std::vector<std::string*> texts;
  for (size_t i = 0; i < fuzz::kFileNames.size(); ++i)
    if (in.present[i])
      texts.push_back(&in.files[i]);
  std::string set_text;
  for (const auto& l : in.set_lines)
    set_text += l + "\n";
  if (in.has_set)
    texts.push_back(&set_text);
  std::string* t = texts[r.below(texts.size())];
  const size_t others = size > t->size() ? size - t->size() : 0;
  if (others + 16 >= max_size)
    return 0;
  std::vector<std::uint8_t> buf(max_size - others);
  std::memcpy(buf.data(), t->data(), std::min(t->size(), buf.size()));
  const size_t n = LLVMFuzzerMutate(buf.data(), std::min(t->size(), buf.size()), buf.size());
  t->assign(reinterpret_cast<const char*>(buf.data()), n);
  if (t == &set_text) {
    in.set_lines.clear();
    size_t pos = 0;
    while (pos < set_text.size()) {
      size_t nl = set_text.find('\n', pos);
      if (nl == std::string::npos)
        nl = set_text.size();
      if (nl > pos)
        in.set_lines.push_back(set_text.substr(pos, nl - pos));
      pos = nl + 1;
    }
  }
  return emit(in, data, max_size);
}

/// An input that does not reach the simulator must not enter this corpus (fuzz_config covers
/// the loader): with no counter set, it brings libFuzzer no new feature. (The libFuzzer of
/// clang 14 ignores a -1 returned by LLVMFuzzerTestOneInput, the newer way to say this.)
void forget_coverage() {
  static const bool keep = std::getenv("KMODSIM_FUZZ_KEEP_REJECTED") != nullptr;
  if (g_ncounters && !keep)
    std::memset(g_counters, 0, g_ncounters);
}

/// At exit: to stderr, and appended to $KMODSIM_FUZZ_STATS if set (libFuzzer's -fork=N jobs
/// each add their line there; their own logs are deleted).
void print_stats() {
  char line[256];
  std::snprintf(line, sizeof line,
                "kmodsim fuzz_config_sim: %lu inputs, %lu loaded, %lu skipped as too big, %lu simulated "
                "(%lu ok, %lu SimulationError)\n",
                g_stats.inputs, g_stats.loaded, g_stats.skipped, g_stats.simulated, g_stats.sim_ok, g_stats.sim_error);
  std::fputs(line, stderr);
  if (const char* p = std::getenv("KMODSIM_FUZZ_STATS"); p && *p && g_stats.inputs)
    if (FILE* f = std::fopen(p, "a")) {
      std::fputs(line, f);
      std::fclose(f);
    }
}

} // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  (void)fuzz::work_dir();
  g_counters = kmodsim_fuzz_counters(&g_ncounters);
  g_child_coverage = !std::getenv("KMODSIM_FUZZ_NO_CHILD_COVERAGE");
  void* m = mmap(nullptr, sizeof(Shared) + g_ncounters, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  if (m == MAP_FAILED) {
    std::perror("kmodsim fuzz: mmap");
    std::abort();
  }
  g_shared = static_cast<Shared*>(m);
  std::atexit(print_stats);
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  ++g_stats.inputs;
  const fuzz::ConfigInput in = fuzz::split_input(std::string_view(reinterpret_cast<const char*>(data), size));
  const std::string path = fuzz::materialize(in);
  Scenario s;
  try {
    s = load_scenario(path, fuzz::overrides_of(in));
  } catch (const ConfigError& e) {
    if (fuzz::verbose())
      std::fprintf(stderr, "kmodsim fuzz: ConfigError: %s\n", e.what());
    forget_coverage();
    return 0;
  } catch (...) {
    fuzz::report_unexpected_exception("load_scenario");
  }
  ++g_stats.loaded;
  if (too_big(s)) {
    if (fuzz::verbose())
      std::fprintf(stderr, "kmodsim fuzz: loaded; too big to simulate (%zu modules, %zu uevents)\n",
                   s.workload.modules.size(), s.workload.uevents.size());
    ++g_stats.skipped;
    forget_coverage();
    return 0;
  }
  simulate_in_child(s);
  return 0;
}

extern "C" size_t LLVMFuzzerCustomMutator(std::uint8_t* data, size_t size, size_t max_size, unsigned seed) {
  Rng r(seed);
  if (r.one_in(16))
    return LLVMFuzzerMutate(data, size, max_size);
  try {
    Doc d;
    d.parts.reserve(fuzz::kFileNames.size() + 1); // mutate_once holds references into it
    d.in = fuzz::split_input(std::string_view(reinterpret_cast<const char*>(data), size));
    for (size_t i = 0; i < fuzz::kFileNames.size(); ++i) {
      if (!d.in.present[i])
        continue;
      try {
        YAML::Node n = YAML::Load(d.in.files[i]);
        if (n.IsDefined() && !n.IsNull())
          d.parts.push_back({static_cast<int>(i), n, false});
      } catch (...) {
      }
    }
    if (d.parts.empty() || r.one_in(6)) {
      if (size_t n = mutate_part_bytes(d.in, r, data, size, max_size))
        return n;
      return LLVMFuzzerMutate(data, size, max_size);
    }
    bool any = false;
    for (size_t k = r.one_in(2) ? 1 : 1 + r.below(3); k > 0; --k)
      any |= mutate_once(d, r);
    if (!any)
      return LLVMFuzzerMutate(data, size, max_size);
    for (const Part& p : d.parts) {
      if (!p.dirty)
        continue;
      YAML::Emitter e;
      e << p.root;
      if (!e.good())
        return LLVMFuzzerMutate(data, size, max_size);
      d.in.files[p.file] = std::string(e.c_str()) + "\n";
      d.in.present[p.file] = true;
    }
    if (size_t n = emit(d.in, data, max_size))
      return n;
  } catch (...) {
  }
  return LLVMFuzzerMutate(data, size, max_size);
}

extern "C" size_t LLVMFuzzerCustomCrossOver(const std::uint8_t* d1, size_t s1, const std::uint8_t* d2, size_t s2,
                                            std::uint8_t* out, size_t max_out, unsigned seed) {
  Rng r(seed);
  fuzz::ConfigInput a = fuzz::split_input(std::string_view(reinterpret_cast<const char*>(d1), s1));
  const fuzz::ConfigInput b = fuzz::split_input(std::string_view(reinterpret_cast<const char*>(d2), s2));
  const size_t i = r.below(fuzz::kFileNames.size() + 1);
  if (i == fuzz::kFileNames.size()) {
    a.has_set = b.has_set;
    a.set_lines = b.set_lines;
  } else {
    a.present[i] = b.present[i];
    a.files[i] = b.files[i];
  }
  const std::string s = fuzz::join_input(a);
  if (s.size() > max_out)
    return 0;
  std::memcpy(out, s.data(), s.size());
  return s.size();
}
