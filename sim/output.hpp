// Writers: consumers of the recorder. Fixed file names, headers declared once here.
#pragma once

#include "simulation.hpp"

#include <nlohmann/json.hpp>

#include <string>

namespace kmodsim::sim {

inline constexpr const char* kModulesCsvHeader =
    "module,task,uevent,outcome,requested_s,load_start_s,load_end_s,init_end_s,lock_wait_s,lock_hold_s,acquisitions,"
    "contentions";
inline constexpr const char* kTimelineCsvHeader = "task,uevent,module,step,state,start_s,end_s,cpu";

std::string sha256_hex(const std::string& data);

/// The run's summary (summary.json, and what `--json` prints).
nlohmann::ordered_json make_summary(const Scenario& s, const Results& r, const std::string& config_sha256);

/// A short human summary for the terminal.
std::string human_summary(const nlohmann::ordered_json& summary);

/// Refuses a folder that exists, is not empty and holds no summary.json (not a kmodsim run
/// folder: nothing a user wrote is overwritten); creates it otherwise. Throws std::runtime_error.
void prepare_output_dir(const std::string& dir);
/// Writes summary.json, config.yaml (`config_yaml`, the resolved scenario), modules.csv and
/// timeline.csv (if enabled) into `dir`, each through a temporary file renamed into place.
void write_outputs(const std::string& dir, const Scenario& s, const std::string& config_yaml, const Results& r,
                   const nlohmann::ordered_json& summary);

} // namespace kmodsim::sim
