#include "kmodsim/depgraph.hpp"

#include <boost/graph/depth_first_search.hpp>
#include <boost/graph/topological_sort.hpp>

#include <algorithm>
#include <unordered_map>

namespace kmodsim {
namespace {

/// Records the DFS stack; on the first back edge u -> v the cycle is the stack from v to u.
struct CycleVisitor : boost::default_dfs_visitor {
  std::vector<size_t>* stack;
  std::vector<size_t>* cycle;
  template <class G> void discover_vertex(size_t v, const G&) { stack->push_back(v); }
  template <class G> void finish_vertex(size_t, const G&) { stack->pop_back(); }
  template <class E, class G> void back_edge(E e, const G& g) {
    if (!cycle->empty())
      return;
    size_t u = boost::source(e, g), v = boost::target(e, g);
    auto it = std::find(stack->begin(), stack->end(), v);
    cycle->assign(it, stack->end());
    if (cycle->empty() || cycle->back() != u)
      cycle->push_back(u);
  }
};

struct NotADag {};

} // namespace

DepGraph::DepGraph(const Workload& w) : g_(w.modules.size()) {
  std::unordered_map<std::string, size_t> index;
  for (size_t i = 0; i < w.modules.size(); ++i)
    index.emplace(w.modules[i].name, i);
  for (size_t i = 0; i < w.modules.size(); ++i)
    for (const auto& d : w.modules[i].deps) {
      auto it = index.find(d);
      if (it != index.end())
        boost::add_edge(i, it->second, g_);
    }
  if (find_cycle().empty()) {
    // boost::topological_sort emits a vertex after all its out-neighbours (its deps): the
    // output is already "dependencies first".
    topo_.reserve(size());
    boost::topological_sort(g_, std::back_inserter(topo_));
  }
}

std::vector<size_t> DepGraph::find_cycle() const {
  std::vector<size_t> stack, cycle;
  CycleVisitor vis;
  vis.stack = &stack;
  vis.cycle = &cycle;
  boost::depth_first_search(g_, boost::visitor(vis));
  return cycle;
}

std::vector<size_t> DepGraph::topo_order() const { return topo_; }

std::vector<size_t> DepGraph::load_order(size_t target) const {
  // Post-order DFS from target: every dependency is emitted before whatever needs it.
  std::vector<size_t> out;
  std::vector<char> seen(size(), 0);
  std::vector<std::pair<size_t, Graph::adjacency_iterator>> st;
  auto push = [&](size_t v) {
    seen[v] = 1;
    st.emplace_back(v, boost::adjacent_vertices(v, g_).first);
  };
  push(target);
  while (!st.empty()) {
    auto& [v, it] = st.back();
    auto end = boost::adjacent_vertices(v, g_).second;
    if (it == end) {
      out.push_back(v);
      st.pop_back();
      continue;
    }
    size_t d = *it++;
    if (!seen[d])
      push(d);
  }
  return out;
}

std::vector<int> DepGraph::depths() const {
  std::vector<int> depth(size(), 1);
  for (size_t v : topo_) // deps first
    for (auto [a, b] = boost::adjacent_vertices(v, g_); a != b; ++a)
      depth[v] = std::max(depth[v], depth[*a] + 1);
  return depth;
}

DepGraph::Stats DepGraph::stats(const std::vector<double>& cost) const {
  Stats s;
  s.edges = boost::num_edges(g_);
  auto depth = depths();
  std::unordered_map<int, size_t> width;
  for (int d : depth) {
    s.max_depth = std::max(s.max_depth, d);
    s.max_width = std::max(s.max_width, ++width[d]);
  }
  std::vector<double> best(size(), 0.0);
  std::vector<long> prev(size(), -1);
  for (size_t v : topo_) {
    best[v] = cost.at(v);
    for (auto [a, b] = boost::adjacent_vertices(v, g_); a != b; ++a)
      if (best[*a] + cost.at(v) > best[v]) {
        best[v] = best[*a] + cost.at(v);
        prev[v] = static_cast<long>(*a);
      }
  }
  long end = -1;
  for (size_t v = 0; v < size(); ++v)
    if (end < 0 || best[v] > best[static_cast<size_t>(end)])
      end = static_cast<long>(v);
  if (end >= 0) {
    s.critical_cost = best[static_cast<size_t>(end)];
    for (long v = end; v >= 0; v = prev[static_cast<size_t>(v)])
      s.critical_path.push_back(static_cast<size_t>(v));
    std::reverse(s.critical_path.begin(), s.critical_path.end());
  }
  return s;
}

} // namespace kmodsim
