// The module dependency graph (Boost.Graph): topological load order, cycle report, critical
// path, depth and width. Vertex i is workload.modules[i]; an edge m -> d means m depends on d.
#pragma once

#include "kmodsim/workload.hpp"

#include <boost/graph/adjacency_list.hpp>

#include <vector>

namespace kmodsim {

class DepGraph {
public:
  using Graph = boost::adjacency_list<boost::vecS, boost::vecS, boost::directedS>;

  /// Unknown dependency names are ignored here (the loader reports them first).
  explicit DepGraph(const Workload& w);

  size_t size() const { return boost::num_vertices(g_); }
  const Graph& graph() const { return g_; }

  /// A dependency cycle as the list of modules on it (m0 depends on m1 ... depends on m0), or empty.
  std::vector<size_t> find_cycle() const;

  /// Every module, dependencies before dependents (ties broken by workload order). Needs no cycle.
  std::vector<size_t> topo_order() const;

  /// What modprobe loads for `target`: its transitive dependencies, deepest first, then target.
  std::vector<size_t> load_order(size_t target) const;

  /// Longest chain measured in modules (a module without deps has depth 1).
  std::vector<int> depths() const;

  struct Stats {
    int max_depth = 0;                 ///< longest dependency chain, in modules
    size_t max_width = 0;              ///< most modules at one depth level
    std::vector<size_t> critical_path; ///< chain of largest summed cost, dependency first
    double critical_cost = 0.0;
    size_t edges = 0;
  };
  /// `cost[i]` is the estimated load cost of module i.
  Stats stats(const std::vector<double>& cost) const;

private:
  Graph g_;
  std::vector<size_t> topo_; // cached topological order (empty if cyclic)
};

} // namespace kmodsim
