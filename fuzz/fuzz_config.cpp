// libFuzzer target: the scenario loader (load_scenario with file references and --set
// overrides) and the resolved-YAML round trip. Input format: fuzz/config_input.hpp.
//
// Findings (abort / trap, so libFuzzer saves the input):
//  - any exception other than kmodsim::ConfigError out of the loader or the emitter;
//  - the round trip: to_yaml(load(input)) must load again, to the same document (comments
//    aside: the first emission names calibration coefficients in comments, the second cannot),
//    and the second emission must be a fixed point (byte-identical when emitted once more);
//  - whatever ASan/UBSan report.
#include "config_input.hpp"

#include <kmodsim/config.hpp>

#include <yaml-cpp/yaml.h>

#include <cstdint>
#include <cstdio>
#include <string>

namespace {

using namespace kmodsim;

/// Same document: node kinds, scalars by text, maps in order. Comments are not in the tree.
bool same_tree(const YAML::Node& a, const YAML::Node& b, int depth = 0) {
  if (depth > 64)
    return true; // emitted scenarios are shallow; aliases cannot occur in to_yaml's output
  if (a.Type() != b.Type())
    return false;
  switch (a.Type()) {
  case YAML::NodeType::Scalar:
    return a.Scalar() == b.Scalar();
  case YAML::NodeType::Sequence:
    if (a.size() != b.size())
      return false;
    for (size_t i = 0; i < a.size(); ++i)
      if (!same_tree(a[i], b[i], depth + 1))
        return false;
    return true;
  case YAML::NodeType::Map: {
    if (a.size() != b.size())
      return false;
    auto ia = a.begin();
    auto ib = b.begin();
    for (; ia != a.end(); ++ia, ++ib)
      if (!same_tree(ia->first, ib->first, depth + 1) || !same_tree(ia->second, ib->second, depth + 1))
        return false;
    return true;
  }
  default:
    return true;
  }
}

[[noreturn]] void round_trip_finding(const std::string& what, const std::string& y1, const std::string& y2) {
  std::fprintf(stderr, "\nKMODSIM-FINDING: round trip: %s\n--- first emission ---\n%s\n--- second emission ---\n%s\n",
               what.c_str(), y1.c_str(), y2.c_str());
  std::fflush(stderr);
  __builtin_trap();
}

std::string reload(const std::string& path, const std::string& yaml, const std::string& y1, const char* which) {
  fuzz::write_file(path, yaml);
  try {
    return to_yaml(load_scenario(path));
  } catch (const ConfigError& e) {
    round_trip_finding(std::string(which) + " does not load again: " + e.what(), y1, yaml);
  } catch (...) {
    fuzz::report_unexpected_exception("load_scenario (round trip)");
  }
}

} // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  (void)fuzz::work_dir();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const fuzz::ConfigInput in = fuzz::split_input(std::string_view(reinterpret_cast<const char*>(data), size));
  const std::string scenario_path = fuzz::materialize(in);

  // The workload file alone, as `kmodsim graph` reads it.
  if (in.present[3]) {
    try {
      (void)load_workload_file(fuzz::work_dir() + "/workload.yaml");
    } catch (const ConfigError&) {
    } catch (...) {
      fuzz::report_unexpected_exception("load_workload_file");
    }
  }

  std::string y1;
  try {
    const auto overrides = fuzz::overrides_of(in);
    y1 = to_yaml(load_scenario(scenario_path, overrides));
  } catch (const ConfigError& e) {
    if (fuzz::verbose())
      std::fprintf(stderr, "kmodsim fuzz: ConfigError: %s\n", e.what());
    return 0;
  } catch (...) {
    fuzz::report_unexpected_exception("load_scenario");
  }

  const std::string rt = fuzz::work_dir() + "/roundtrip.yaml";
  const std::string y2 = reload(rt, y1, y1, "the emitted YAML");
  YAML::Node n1, n2;
  try {
    n1 = YAML::Load(y1);
    n2 = YAML::Load(y2);
  } catch (const YAML::Exception& e) {
    round_trip_finding(std::string("the emitted YAML does not parse: ") + e.what(), y1, y2);
  }
  if (!same_tree(n1, n2))
    round_trip_finding("the reloaded scenario emits a different document", y1, y2);
  const std::string y3 = reload(rt, y2, y1, "the second emission");
  if (y3 != y2)
    round_trip_finding("the second emission is not a fixed point (third emission differs)", y2, y3);
  if (fuzz::verbose())
    std::fprintf(stderr, "kmodsim fuzz: loaded; round trip ok (%zu bytes of YAML)\n", y1.size());
  return 0;
}
