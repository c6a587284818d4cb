// The kernel's module list as a pure state machine: what find_module, resolve_symbol,
// verify_export_symbols and list_add_rcu see. The SimGrid layer calls it at the steps whose
// `effect` names it; it never advances time. Races of the fine-grained lock are counted here.
#pragma once

#include "kmodsim/workload.hpp"

#include <cstdint>
#include <vector>

namespace kmodsim {

enum class ModState { absent, coming, live };

enum class ResolveResult {
  ok,             ///< owner is vmlinux, or a LIVE module
  wait_owner,     ///< owner is on the list but still COMING: use_module waits for its init
  unknown_symbol, ///< owner not on the list: "Unknown symbol", the load fails
};

struct RaceCounters {
  std::int64_t duplicate_check_passed = 0; ///< a loader passed find_module while another linked the same name
  std::int64_t unknown_symbol = 0;         ///< a symbol's owner was being linked but not yet listed
  std::int64_t duplicate_exports = 0;      ///< verify_export_symbols found another copy's exports
  std::int64_t double_load = 0;            ///< list_add of a name already on the list
  std::int64_t sysfs_exists = 0;           ///< mod_sysfs_init found /sys/module/<name> of another loader
};

class KernelState {
public:
  explicit KernelState(const Workload& w);

  ModState state(size_t m) const { return state_[m]; }
  bool on_list(size_t m) const { return state_[m] != ModState::absent; }
  /// /sys/module/<name> exists (a loader passed mod_sysfs_init, or the module is listed).
  bool sysfs_exists(size_t m) const { return sysfs_[m] != 0; }
  /// Symbol-table entries a lookup scans in full: vmlinux exports + exports of listed modules.
  std::int64_t symtab_entries() const { return symtab_; }
  std::int64_t loaded_modules() const { return listed_; }
  int linking(size_t m) const { return linking_[m]; }

  /// find_module at the duplicate check: true = EEXIST. Otherwise the caller now links `m`.
  bool duplicate_check(size_t m);
  /// mod_sysfs_init: false (-EINVAL) if /sys/module/<name> already exists (a loaded module or
  /// another loader past this point); else this loader now owns the name's sysfs directory.
  bool sysfs_claim(size_t m);
  /// The owner of undefined symbol `i` of module `m`: -1 = vmlinux, else a module index.
  /// The last dep_symbols symbols belong to the dependencies, spread evenly over `deps`.
  long symbol_owner(size_t m, std::int64_t i) const;
  ResolveResult resolve(size_t m, std::int64_t i);
  /// true = another copy of `m` with exports is on the list: -ENOEXEC.
  bool verify_exports(size_t m);
  /// list_add_rcu: returns false (and counts a double load) if `m` was already listed.
  bool list_add(size_t m);
  void mark_live(size_t m);
  /// A loader of `m` gave up before list_add (error path): `linking`: it had passed the
  /// duplicate check; `claimed`: it owned the sysfs name.
  void abandon(size_t m, bool linking, bool claimed);

  /// Loads of `m` past an add_unformed step (3.8: the name is taken) and not yet ended.
  int unformed(size_t m) const { return unformed_[m]; }
  void take_name(size_t m) { unformed_[m]++; }
  void release_name(size_t m) {
    if (unformed_[m] > 0)
      unformed_[m]--;
  }
  /// Loads of `m` past an idempotent step (6.4) and not yet ended.
  int in_flight(size_t m) const { return in_flight_[m]; }
  void begin_flight(size_t m) { in_flight_[m]++; }
  void end_flight(size_t m) {
    if (in_flight_[m] > 0)
      in_flight_[m]--;
  }

  const RaceCounters& races() const { return races_; }

private:
  const Workload& w_;
  std::vector<ModState> state_;
  std::vector<int> linking_; ///< loaders past the duplicate check and not yet listed
  std::vector<char> sysfs_;  ///< /sys/module/<name> exists
  std::vector<int> unformed_, in_flight_;
  std::vector<std::vector<size_t>> deps_;
  std::int64_t symtab_ = 0;
  std::int64_t listed_ = 0;
  RaceCounters races_;
};

} // namespace kmodsim
