// The recorder keeps every state interval of every simulated task and every load attempt in
// memory; writers (output.cpp) and tests consume it. Record first, write later.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace kmodsim {

enum class State {
  user,           ///< userspace CPU (modprobe start-up, udevd)
  kernel,         ///< kernel CPU, module_mutex not held
  kernel_locked,  ///< kernel CPU holding module_mutex
  runnable,       ///< waiting for a CPU
  runnable_locked, ///< waiting for a CPU while holding module_mutex
  lock_wait,      ///< sleeping on a lock (Interval::lock says which)
  lock_spin,      ///< spinning on a lock (adaptive mutex, spinlock)
  io,             ///< reading the .ko
  sleep,          ///< off-CPU wait (hardware wait in init, step waits)
  dep_wait,       ///< use_module: waiting for a dependency's init
  slot_wait,      ///< udevd waiting for a free child slot
  none,           ///< not started / exited (never written)
};
const char* to_string(State s);

struct Interval {
  std::uint32_t task;
  std::uint32_t module; ///< module index + 1 (0 = none)
  std::uint32_t step;   ///< index into Recorder::step_names (0 = none)
  State state;
  /// lock_wait, lock_spin: the lock waited for (0 = module_mutex, i = kernel.locks[i - 1]); 0 otherwise
  std::uint16_t lock;
  int cpu; ///< core index, -1 under processor sharing
  double start, end;
};

enum class Outcome {
  loaded,
  eexist,                   ///< find_module found it: modprobe counts this as success
  failed_already_loaded,    ///< mod_sysfs_init: -EINVAL "module is already loaded"
  failed_unknown_symbol,    ///< a symbol's owner not on the module list
  failed_duplicate_exports, ///< verify_export_symbols: -ENOEXEC
  failed_dep_timeout,       ///< use_module gave up waiting for a dependency's init
  double_load,              ///< a second copy went on the module list
  running,
  failed_init,              ///< the init function returned an error (imported real boots only)
  failed_enomem,            ///< vmalloc: the module area had no room (ENOMEM)
};
const char* to_string(Outcome o);

struct LoadRecord {
  std::uint32_t module;
  std::uint32_t task;
  Outcome outcome = Outcome::running;
  double requested = 0, load_start = 0, load_end = -1, init_end = -1;
  double lock_wait = 0, lock_hold = 0;
  std::int64_t acquisitions = 0, contentions = 0;
  /// what the init function returned, as dmesg.txt prints it: an imported real boot's (an error
  /// for failed_init); 0 in a run, whose model has no failing init
  long long init_ret = 0;
  bool lock_known = true; ///< false: the four lock figures are unknown (a real boot imported from dmesg)
};

/// module_mutex passed from a releasing task to a waiter it woke (a flow arrow in trace.json).
struct Handover {
  std::uint32_t from, to;
  double released, acquired;
};

struct TaskInfo {
  std::string name;
  long uevent = -1; ///< -1 for udevd
  double start = 0, end = -1;
};

class Recorder {
public:
  explicit Recorder(bool keep_intervals) : keep_(keep_intervals) { step_names.emplace_back(""); }

  std::uint32_t add_task(std::string name, long uevent, double now);
  std::uint32_t step_id(const std::string& name);

  /// Closes the task's open interval and opens one in the new state (`lock`: Interval::lock).
  void set_state(std::uint32_t task, State s, double now, int cpu, std::uint32_t module, std::uint32_t step,
                 std::uint16_t lock = 0);
  void end_task(std::uint32_t task, double now);

  std::vector<TaskInfo> tasks;
  std::vector<Interval> intervals;
  std::vector<LoadRecord> loads;
  std::vector<std::string> step_names;
  std::vector<Handover> handovers; ///< kept with the intervals only
  /// module area use after each change: (time s, KB in use); only when the kernel's steps take
  std::vector<std::pair<double, double>> vmalloc;
  bool keeps_intervals() const { return keep_; }
  /// Time per state summed over all tasks (kept even when intervals are not).
  double state_time[static_cast<int>(State::none) + 1] = {};

private:
  struct Open {
    State state = State::none;
    int cpu = -1;
    std::uint32_t module = 0, step = 0;
    std::uint16_t lock = 0;
    double since = 0;
  };
  std::vector<Open> open_;
  bool keep_;
};

} // namespace kmodsim
