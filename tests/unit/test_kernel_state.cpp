#include <kmodsim/kernel_state.hpp>

#include <gtest/gtest.h>

using namespace kmodsim;

namespace {
Workload two() {
  Workload w;
  w.kernel_exports = 1000;
  Module a;
  a.name = "a";
  a.exports = 10;
  Module b;
  b.name = "b";
  b.undef_symbols = 4;
  b.dep_symbols = 2;
  b.deps = {"a"};
  w.modules = {a, b};
  return w;
}
} // namespace

TEST(KernelState, ListAddGrowsTheSymbolTable) {
  Workload w = two();
  KernelState k(w);
  EXPECT_EQ(k.symtab_entries(), 1000);
  EXPECT_FALSE(k.duplicate_check(0));
  EXPECT_TRUE(k.list_add(0));
  EXPECT_EQ(k.symtab_entries(), 1010);
  EXPECT_EQ(k.loaded_modules(), 1);
  EXPECT_EQ(k.state(0), ModState::coming);
  EXPECT_TRUE(k.duplicate_check(0)); // EEXIST now
}

TEST(KernelState, SymbolOwnership) {
  Workload w = two();
  KernelState k(w);
  EXPECT_EQ(k.symbol_owner(1, 0), -1); // first undef - dep symbols come from vmlinux
  EXPECT_EQ(k.symbol_owner(1, 1), -1);
  EXPECT_EQ(k.symbol_owner(1, 2), 0);
  EXPECT_EQ(k.symbol_owner(1, 3), 0);
}

TEST(KernelState, ResolveAgainstComingWaitsAndAgainstLinkingIsARace) {
  Workload w = two();
  KernelState k(w);
  EXPECT_EQ(k.resolve(1, 0), ResolveResult::ok);
  // a is absent and nobody links it: plain failure, not a race
  EXPECT_EQ(k.resolve(1, 2), ResolveResult::unknown_symbol);
  EXPECT_EQ(k.races().unknown_symbol, 0);
  // another loader is linking a (past find_module, not listed): a race
  k.duplicate_check(0);
  EXPECT_EQ(k.resolve(1, 2), ResolveResult::unknown_symbol);
  EXPECT_EQ(k.races().unknown_symbol, 1);
  k.list_add(0);
  EXPECT_EQ(k.resolve(1, 2), ResolveResult::wait_owner);
  k.mark_live(0);
  EXPECT_EQ(k.resolve(1, 2), ResolveResult::ok);
}

TEST(KernelState, TwoLoadersPassingFindModuleAreCounted) {
  Workload w = two();
  KernelState k(w);
  EXPECT_FALSE(k.duplicate_check(0));
  EXPECT_FALSE(k.duplicate_check(0)); // the second loader passes too: race
  EXPECT_EQ(k.races().duplicate_check_passed, 1);
  EXPECT_TRUE(k.sysfs_claim(0));
  EXPECT_FALSE(k.sysfs_claim(0)); // "module is already loaded"
  EXPECT_EQ(k.races().sysfs_exists, 1);
  EXPECT_TRUE(k.list_add(0));
  EXPECT_TRUE(k.verify_exports(0)); // a second copy would export duplicates
  EXPECT_FALSE(k.list_add(0));      // and listing it is a double load
  EXPECT_EQ(k.races().double_load, 1);
}

TEST(KernelState, AbandonReleasesTheName) {
  Workload w = two();
  KernelState k(w);
  k.duplicate_check(0);
  EXPECT_TRUE(k.sysfs_claim(0));
  k.abandon(0, true, true);
  EXPECT_EQ(k.linking(0), 0);
  EXPECT_TRUE(k.sysfs_claim(0)); // free again
}
