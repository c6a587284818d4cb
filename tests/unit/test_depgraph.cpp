#include <kmodsim/depgraph.hpp>

#include <gtest/gtest.h>

#include <algorithm>

using namespace kmodsim;

namespace {
Workload make(std::vector<std::pair<std::string, std::vector<std::string>>> spec) {
  Workload w;
  for (auto& [n, d] : spec) {
    Module m;
    m.name = n;
    m.deps = d;
    w.modules.push_back(m);
  }
  return w;
}
size_t pos(const std::vector<size_t>& v, size_t x) { return static_cast<size_t>(std::find(v.begin(), v.end(), x) - v.begin()); }
} // namespace

TEST(DepGraph, TopologicalOrderPutsDependenciesFirst) {
  Workload w = make({{"c", {"b", "a"}}, {"b", {"a"}}, {"a", {}}, {"d", {}}});
  DepGraph g(w);
  auto o = g.topo_order();
  ASSERT_EQ(o.size(), 4u);
  EXPECT_LT(pos(o, 2), pos(o, 1)); // a before b
  EXPECT_LT(pos(o, 1), pos(o, 0)); // b before c
  EXPECT_TRUE(g.find_cycle().empty());
}

TEST(DepGraph, LoadOrderIsClosureDepsFirst) {
  Workload w = make({{"c", {"b"}}, {"b", {"a"}}, {"a", {}}, {"x", {}}});
  DepGraph g(w);
  EXPECT_EQ(g.load_order(0), (std::vector<size_t>{2, 1, 0}));
  EXPECT_EQ(g.load_order(3), (std::vector<size_t>{3}));
}

TEST(DepGraph, CycleReportedWithFullPath) {
  Workload w = make({{"a", {"b"}}, {"b", {"c"}}, {"c", {"a"}}, {"d", {"a"}}});
  DepGraph g(w);
  auto c = g.find_cycle();
  ASSERT_EQ(c.size(), 3u);
  // each element depends on the next, the last on the first
  for (size_t i = 0; i < c.size(); ++i) {
    const auto& deps = w.modules[c[i]].deps;
    EXPECT_NE(std::find(deps.begin(), deps.end(), w.modules[c[(i + 1) % c.size()]].name), deps.end());
  }
  EXPECT_TRUE(g.topo_order().empty());
}

TEST(DepGraph, SelfLoopIsACycle) {
  Workload w = make({{"a", {"a"}}});
  EXPECT_EQ(DepGraph(w).find_cycle(), (std::vector<size_t>{0}));
}

TEST(DepGraph, StatsDepthWidthCriticalPath) {
  // a <- b <- c ; a <- d ; e alone
  Workload w = make({{"a", {}}, {"b", {"a"}}, {"c", {"b"}}, {"d", {"a"}}, {"e", {}}});
  DepGraph g(w);
  auto s = g.stats({1, 1, 1, 10, 1});
  EXPECT_EQ(s.max_depth, 3);
  EXPECT_EQ(s.max_width, 2u); // depth 1: a, e; depth 2: b, d
  EXPECT_EQ(s.critical_path, (std::vector<size_t>{0, 3})); // a -> d weighs 11 > a -> b -> c (3)
  EXPECT_DOUBLE_EQ(s.critical_cost, 11.0);
  EXPECT_EQ(s.edges, 3u);
}
