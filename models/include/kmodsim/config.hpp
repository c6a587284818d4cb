// The scenario: every input of one simulation, loaded once from YAML into typed structs and
// validated there. Pure data, no SimGrid. See README "Config reference".
#pragma once

#include "kmodsim/workload.hpp"

#include <cstdint>
#include <limits>
#include <map>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

namespace kmodsim {

/// Any error in user input. The message is one line: "file:line:col: key.path: what".
class ConfigError : public std::runtime_error {
public:
  using std::runtime_error::runtime_error;
};

// ---------------------------------------------------------------------------------------------
// Machine

enum class SchedulerModel { processor_sharing, time_slice, run_to_block };
const char* to_string(SchedulerModel m);
/// How CFS scales its granularity with the CPU count at boot (time_slice's slice):
///  - none: slice_ms as given;
///  - log: x (1 + ilog2(CPUs)), at most 200 ms (sched_init_granularity, 2.6.24-2.6.35);
///  - log_capped: x (1 + ilog2(min(CPUs, 8))) (SCHED_TUNABLESCALING_LOG, 2.6.36+).
enum class SliceScaling { none, log, log_capped };
const char* to_string(SliceScaling s);

struct Machine {
  std::string name;
  std::string description;
  int cores = 1;
  double ram_mb = 0;  ///< memory, MiB (0: not given; udev children_max formulas need it)
  /// the module area that vmalloc takes module images and allocations from, MiB: x86-64
  /// MODULES_LEN, ~1 GiB with KASLR (DOMAIN.md section 4; check per kernel)
  double module_area_mb = 1024;
  double speed = 1.0; ///< CPU speed relative to the calibration's reference machine
  struct Disk {
    double read_mbps = 0.0;  ///< sequential read bandwidth, MB/s (10^6 bytes); 0 = infinitely fast
    double latency_ms = 0.0; ///< per-file access latency (seek + lookup), not shared between readers
  } disk;
  struct Scheduler {
    SchedulerModel model = SchedulerModel::time_slice;
    double slice_ms = 4.0; ///< time_slice only: the round-robin slice (before slice_scaling)
    SliceScaling slice_scaling = SliceScaling::none;
    /// The slice the time_slice model uses on `cores` CPUs, ms.
    double effective_slice_ms(int cores) const;
  } scheduler;
};

// ---------------------------------------------------------------------------------------------
// Cost expressions: linear in module features and machine state.

enum class Feature {
  constant,       ///< 1
  size_kb,        ///< SHF_ALLOC size of the module
  core_kb,        ///< size_kb - init_kb
  init_kb,        ///< init sections
  file_kb,        ///< .ko file size
  undef_symbols,  ///< undefined symbols
  dep_symbols,    ///< undefined symbols exported by dependencies
  relocations,    ///< relocation entries
  exports,        ///< exported symbols of the module
  percpu_kb,      ///< per-cpu section
  symtab_entries, ///< machine state: kernel exports + exports of every module on the module list
  loaded_modules, ///< machine state: modules on the module list
  cpus,           ///< machine state: number of (possible) CPUs
  log2_symtab_entries, ///< log2 of symtab_entries: the steps of a binary search (3.0+)
  decompressed_kb, ///< the .ko once decompressed, 0 when the file is not compressed
  image_kb,        ///< the ELF image init_module gets: decompressed_kb if compressed, else file_kb
};
const char* to_string(Feature f);
/// Parses a feature name; throws std::invalid_argument listing the valid names.
Feature feature_from_string(const std::string& s);
std::vector<std::string> feature_names();

/// Values of every feature for one evaluation.
struct Features {
  double v[16] = {};
  double& operator[](Feature f) { return v[static_cast<int>(f)]; }
  double operator[](Feature f) const { return v[static_cast<int>(f)]; }
};

struct CostTerm {
  Feature feature = Feature::constant;
  double coef = 0.0;     ///< microseconds per unit of the feature (resolved)
  std::string coef_name; ///< the calibration coefficient it came from, or empty for a literal
};

/// cost_us = sum(coef * feature); never negative (validated: every coefficient >= 0).
struct CostExpr {
  std::vector<CostTerm> terms;
  double eval_us(const Features& f) const {
    double s = 0.0;
    for (const auto& t : terms)
      s += t.coef * f[t.feature];
    return s;
  }
  bool empty() const { return terms.empty(); }
};

// ---------------------------------------------------------------------------------------------
// Kernel: the init_module pipeline as data.

/// A step's lock: none, module_mutex, preempt_disable(), or a lock the kernel file declares
/// under `locks:` (Step::lock_id names it).
enum class LockKind { none, module_mutex, preempt_off, named };
enum class Repeat { once, per_undef_symbol, per_export, per_cpu };
/// What a step does to the kernel's module state, besides costing time.
enum class Effect {
  none,
  duplicate_check, ///< find_module(name): EEXIST if a module of that name is on the list
  sysfs_claim,     ///< mod_sysfs_init: -EINVAL "module is already loaded" if /sys/module/<name> exists
  resolve_symbol,  ///< one undefined symbol (repeat per_undef_symbol): owner must be on the list
  verify_exports,  ///< verify_export_symbols: fails if another copy's exports are on the list
  list_add,        ///< list_add_rcu: the module becomes visible (state COMING)
  init,            ///< the module's own init function runs (cpu + wait from the workload)
  live,            ///< state LIVE: waiters in use_module are woken
  /// add_unformed_module (3.8+): the name is taken early; a second loader of a name still
  /// loading (unformed or coming) waits for the first (module_mutex released) and then gets
  /// EEXIST if it went live, or takes the name if the first gave up
  add_unformed,
  /// idempotent finit_module (6.4+): a second call for a module whose load is in flight waits
  /// for it before doing anything and returns its result (success)
  idempotent,
  /// vmalloc's lazy purge (mm/vmalloc.c, 2.6.28+): the step runs only when the module area
  /// freed since the last purge exceeds lazy_max_pages() (Kernel::vmap_lazy_max_mb x fls(CPUs));
  /// the loader that finds it so purges (TLB shootdown on every CPU: cost ~ `cpus`)
  vmap_purge,
};
enum class Preemption { voluntary, full };
const char* to_string(LockKind k);
const char* to_string(Repeat r);
const char* to_string(Effect e);
const char* to_string(Preemption p);

struct Step {
  std::string name;
  LockKind lock = LockKind::none;
  std::size_t lock_id = 0; ///< the lock's id: 0 module_mutex, i >= 1 Kernel::locks[i - 1]
  /// Holds a kernel lock (module_mutex or a declared one): lock_id says which.
  bool takes_lock() const { return lock == LockKind::module_mutex || lock == LockKind::named; }
  Repeat repeat = Repeat::once;
  Effect effect = Effect::none;
  CostExpr cost;         ///< CPU work (kernel mode) per repetition
  CostExpr wait;         ///< off-CPU wait per repetition (e.g. I/O, sleeping allocations)
  bool has_only_if = false;
  Feature only_if = Feature::constant; ///< the step runs only when this feature is > 0
  std::vector<Step> steps; ///< a group: its lock is held across all sub-steps (one acquisition)
  /// resolve_symbol: wait for a COMING owner with module_mutex released (9bea7f2, 2.6.35), not
  /// holding it as use_module did in 2.6.28-2.6.34
  bool wait_unlocked = false;
  /// vmalloc space (the module area): KB this step takes (an expression of the module's
  /// features, e.g. {file_kb: 1} for the file image), or the name of an earlier step whose take
  /// it gives back. A load that does not fit fails with ENOMEM; a failed load gives back all.
  CostExpr vmalloc_take;
  std::string vmalloc_release;
  SourceLoc loc;
};

struct Kernel {
  std::string name;
  std::string description;
  Preemption preemption = Preemption::voluntary;
  struct Mutex {
    double wakeup_us = 0.0;     ///< from unlock to the woken waiter running with the lock
    bool adaptive_spin = false; ///< a waiter spins on its CPU while the owner is on a CPU (2.6.30+)
    bool handoff = false;       ///< unlock hands the lock to the first waiter (Linux 4.10+); false: it may be stolen
  } mutex;
  /// Kernel locks besides module_mutex (`locks:` in the kernel file, in file order), e.g.
  /// vmalloc's vmap_area_lock. Lock id i >= 1 is locks[i - 1]; id 0 is module_mutex.
  struct Lock {
    std::string name;
    bool spinlock = false; ///< waiters spin (FIFO, ticket/queued spinlock); the holder runs with preemption off
    Mutex params;          ///< a spinlock: adaptive_spin and handoff on, wakeup_us 0
  };
  std::vector<Lock> locks;
  /// lazy_max_pages() per fls(num_online_cpus()), MiB (32 since 2.6.28's db64fe02); 0: the
  /// kernel file models no lazy purge (no step with effect vmap_purge)
  double vmap_lazy_max_mb = 0;
  /// The name of lock id `id`.
  const std::string& lock_name(std::size_t id) const;
  double use_module_timeout_s = 30.0; ///< use_module gives up waiting for a dependency's init (0: never)
  std::vector<Step> init_module;     ///< the ordered steps of sys_init_module
};

// ---------------------------------------------------------------------------------------------
// Calibration and userspace

struct Coefficient {
  double value = 0.0;
  std::string unit;
  std::string source; ///< where it came from: a citation, a derivation or "assumption: ..."
  /// 95% interval (`ci95: [lo, hi]`), NaN when the coefficient is taken as exact. With
  /// variability.sample_coefficients a run draws the coefficient from it (sample_coefficient).
  double ci_lo = std::numeric_limits<double>::quiet_NaN(), ci_hi = std::numeric_limits<double>::quiet_NaN();
  bool has_ci() const { return ci_lo == ci_lo; }
};

/// A draw of a coefficient from its 95% interval, a pure function of (interval, seed, name):
/// lognormal through [lo, hi] (median sqrt(lo hi), the bounds at +-1.96 sigma) when lo > 0,
/// uniform on [0, hi] when lo == 0; `value` unchanged without an interval.
double sample_coefficient(const Coefficient& c, std::uint64_t seed, const std::string& name);

struct Scenario;

/// Module init functions measured by initcall_debug (kmodsim calibrate --dmesg). They apply to
/// the workload's modules that give no init cost of their own (init cpu_us and wait_ms both 0,
/// as `kmodsim import` writes them): a measured module takes its own duration, any other a
/// per-module draw (seeded) from the fitted lognormal; `cpu_fraction` splits the duration into
/// CPU work and an off-CPU hardware wait (initcall_debug prints wall time only).
struct ModuleInitCalib {
  Coefficient cpu_fraction;       ///< value in [0, 1]
  bool has_default = false;
  double median_us = 0, sigma = 0; ///< lognormal of the init duration of an unmeasured module
  std::string default_source;
  struct Measured {
    double us = 0;
    std::string source;
  };
  std::map<std::string, Measured> modules;
  bool empty() const { return !has_default && modules.empty(); }
};

struct Calibration {
  std::string name;
  std::string reference; ///< the machine the coefficients were measured or derived for
  std::map<std::string, Coefficient> coefficients;
  ModuleInitCalib module_init;
};

/// Fills the init cost of the modules that give none from `s.calibration.module_init`
/// (ModuleInitCalib). Called by load_scenario; pure.
void apply_module_init(Scenario& s);

/// modprobe's already-loaded check: /proc/modules under module_mutex (module-init-tools <= 3.5),
/// /sys/module/<name>/initstate polled while "coming" (module-init-tools 3.6), or kmod's
/// module_is_inkernel(): initstate "coming" or "live" both count as loaded, no polling.
enum class LoadedCheck { proc_modules, sysfs, kmod };
enum class ModprobeIndex { text, binary };
const char* to_string(ModprobeIndex i);
const char* to_string(LoadedCheck c);

struct Userspace {
  struct Udev {
    int children_max = 64;   ///< at most this many modprobe children at once (a number, or a
                             ///< formula of an era resolved against the machine: udev_children_max)
    double event_us = 0.0;   ///< udevd CPU per uevent (rule matching)
    double spawn_us = 0.0;   ///< udevd CPU to fork+exec one child
  } udev;
  struct Modprobe {
    double startup_us = 0.0;          ///< exec, libc start-up, config parsing
    double index_us_per_module = 0.0; ///< parsing modules.dep + aliases, per module in the index
    double check_us = 0.0;            ///< "already loaded?" (/proc/modules read, under module_mutex)
    double check_us_per_loaded = 0.0; ///< ... per module on the list
    /// How modprobe asks "already loaded?": proc_modules reads /proc/modules, whose reader takes
    /// module_mutex (module-init-tools <= 3.5); sysfs reads /sys/module/<name>/initstate without
    /// the lock and, while it says "coming", polls every poll_ms until "live" (3.6+, Feb 2009).
    LoadedCheck loaded_check = LoadedCheck::proc_modules;
    double poll_ms = 100.0;
    /// How modprobe finds a module's dependencies and aliases: text parses modules.dep and the
    /// alias files on every run (module-init-tools: index_us_per_module x the index), binary
    /// looks them up in kmod's .bin indexes (2011+: index_lookup_us, whatever the tree's size)
    ModprobeIndex index = ModprobeIndex::text;
    double index_lookup_us = 0.0;
  } modprobe;
};

enum class CostNoise { per_load, per_step };
enum class CostDistribution { lognormal, exponential };
const char* to_string(CostNoise n);
const char* to_string(CostDistribution d);

struct Variability {
  double cost_cv = 0.0;         ///< multiplicative noise on kernel CPU costs, mean 1 (see cost_distribution)
  /// per_load: one factor per load attempt (a slow or fast load); per_step: a new draw for every
  /// step repetition (independent service times, as queueing theory assumes)
  CostNoise cost_noise = CostNoise::per_load;
  /// lognormal with cv = cost_cv, or exponential (cv 1: cost_cv must be 1)
  CostDistribution cost_distribution = CostDistribution::lognormal;
  double init_wait_cv = 0.0;    ///< per-load noise on init hardware waits (lognormal)
  bool shuffle_uevents = false; ///< replay uevents in a seed-dependent order
  bool sample_coefficients = false; ///< draw every calibration coefficient with a ci95 from it (per seed)
};

struct Outputs {
  bool timeline = true; ///< write timeline.csv (large on big workloads)
  bool trace = false;   ///< also write trace.json (Perfetto), dmesg.txt (initcall_debug), lock_stat.txt
};

struct Scenario {
  int schema_version = 1;
  std::string name;
  std::string file; ///< the scenario file
  Machine machine;
  Kernel kernel;
  Workload workload;
  Calibration calibration;
  Userspace userspace;
  Variability variability;
  Outputs outputs;
  std::uint64_t seed = 1;
};

/// One `--set key.path=value` override.
struct Override {
  std::string path;
  std::string value; ///< YAML text
};

/// Loads, merges (file references, overrides) and validates a scenario.
/// Throws ConfigError naming file, line, column and key path.
Scenario load_scenario(const std::string& path, const std::vector<Override>& overrides = {});
/// A scenario's merged YAML tree (its files read, references and overrides applied), not yet
/// read into a Scenario. load_scenario = build_scenario(*prepare_scenario(...)); a sweep
/// prepares each point once and builds each run from it with the run's seed (the seed decides
/// the draws of uncertain inputs), so a run parses no YAML.
struct PreparedScenario;
std::shared_ptr<const PreparedScenario> prepare_scenario(const std::string& path,
                                                         const std::vector<Override>& overrides = {});
/// `seed`, when given, replaces the file's seed before anything is drawn from it.
Scenario build_scenario(const PreparedScenario& p, std::optional<std::uint64_t> seed = std::nullopt);
/// While one exists (in this process), every config file (scenario, machine, kernel, workload,
/// calibration YAML and the workloads' TSV files) is read from disk once and its text kept:
/// `kmodsim sweep` checks every point first and prepares each again when it runs it, and both
/// must see the files as they were first read (an edit during the sweep changes nothing).
class ConfigFileCache {
public:
  ConfigFileCache();
  ~ConfigFileCache();
  ConfigFileCache(const ConfigFileCache&) = delete;
  ConfigFileCache& operator=(const ConfigFileCache&) = delete;
};

/// Parses "a.b.c=value"; throws ConfigError.
Override parse_override(const std::string& text);

/// Loads a workload file alone (for `kmodsim graph`).
Workload load_workload_file(const std::string& path);
/// Loads a calibration file alone (kmodsim calibrate --base).
Calibration load_calibration_file(const std::string& path);

/// A calibration file (kmodsim calibrate's output), loadable as a scenario's calibration.
std::string calibration_to_yaml(const Calibration& c);

/// Text a config file may hold (names, provenance): valid UTF-8 without control characters.
bool is_clean_text(const std::string& s);

/// The fully resolved scenario as YAML (what `kmodsim config` prints; hashed into config_sha256).
std::string to_yaml(const Scenario& s);

/// Levenshtein-closest candidate within distance 3, or "".
std::string did_you_mean(const std::string& key, const std::vector<std::string>& candidates);

} // namespace kmodsim
