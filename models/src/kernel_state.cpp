#include "kmodsim/kernel_state.hpp"

#include <unordered_map>

namespace kmodsim {

KernelState::KernelState(const Workload& w)
    : w_(w), state_(w.modules.size(), ModState::absent), linking_(w.modules.size(), 0), sysfs_(w.modules.size(), 0),
      unformed_(w.modules.size(), 0), in_flight_(w.modules.size(), 0), deps_(w.modules.size()),
      symtab_(w.kernel_exports) {
  std::unordered_map<std::string, size_t> index;
  for (size_t i = 0; i < w.modules.size(); ++i)
    index.emplace(w.modules[i].name, i);
  for (size_t i = 0; i < w.modules.size(); ++i)
    for (const auto& d : w.modules[i].deps)
      deps_[i].push_back(index.at(d));
}

bool KernelState::duplicate_check(size_t m) {
  if (on_list(m))
    return true;
  if (linking_[m] > 0)
    races_.duplicate_check_passed++;
  linking_[m]++;
  return false;
}

long KernelState::symbol_owner(size_t m, std::int64_t i) const {
  const Module& mod = w_.modules[m];
  const std::int64_t first_dep = mod.undef_symbols - mod.dep_symbols;
  if (i < first_dep || deps_[m].empty())
    return -1;
  auto k = static_cast<size_t>((i - first_dep) * static_cast<std::int64_t>(deps_[m].size()) / mod.dep_symbols);
  return static_cast<long>(deps_[m][k]);
}

ResolveResult KernelState::resolve(size_t m, std::int64_t i) {
  long owner = symbol_owner(m, i);
  if (owner < 0)
    return ResolveResult::ok;
  switch (state_[static_cast<size_t>(owner)]) {
  case ModState::live:
    return ResolveResult::ok;
  case ModState::coming:
    return ResolveResult::wait_owner;
  case ModState::absent:
    if (linking_[static_cast<size_t>(owner)] > 0)
      races_.unknown_symbol++;
    return ResolveResult::unknown_symbol;
  }
  return ResolveResult::ok;
}

bool KernelState::verify_exports(size_t m) {
  if (on_list(m) && w_.modules[m].exports > 0) {
    races_.duplicate_exports++;
    return true;
  }
  return false;
}

bool KernelState::list_add(size_t m) {
  if (linking_[m] > 0)
    linking_[m]--;
  if (on_list(m)) {
    races_.double_load++;
    return false;
  }
  state_[m] = ModState::coming;
  sysfs_[m] = 1; // a pipeline without a sysfs_claim step still shows the module in sysfs
  symtab_ += w_.modules[m].exports;
  listed_++;
  return true;
}

void KernelState::mark_live(size_t m) { state_[m] = ModState::live; }

bool KernelState::sysfs_claim(size_t m) {
  if (sysfs_[m]) {
    races_.sysfs_exists++;
    return false;
  }
  sysfs_[m] = 1;
  return true;
}

void KernelState::abandon(size_t m, bool linking, bool claimed) {
  if (linking && linking_[m] > 0)
    linking_[m]--;
  if (claimed)
    sysfs_[m] = 0;
}

} // namespace kmodsim
