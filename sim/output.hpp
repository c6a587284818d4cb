// Writers: consumers of the recorder. Fixed file names, headers declared once here.
#pragma once

#include "simulation.hpp"

#include <kmodsim/atomic_file.hpp>
#include <kmodsim/plan.hpp>
#include <nlohmann/json.hpp>

#include <filesystem>
#include <string>

namespace kmodsim::sim {

inline constexpr const char* kModulesCsvHeader =
    "module,task,uevent,outcome,requested_s,load_start_s,load_end_s,init_end_s,lock_wait_s,lock_hold_s,acquisitions,"
    "contentions";
inline constexpr const char* kTimelineCsvHeader = "task,uevent,module,step,state,start_s,end_s,cpu";

std::string sha256_hex(const std::string& data);

/// summary.json's analytic.* (docs/analytic.md): the bounds, the exact MVA of the modprobes'
/// closed network, the finite-source queue and Amdahl with critical sections; with a run, each
/// with its relative difference to it ((analytic - run) / run, keys *_rel).
nlohmann::ordered_json analytic_json(const Scenario& s, const Analytic& a, const Results* r);

/// The run's summary (summary.json, and what `--json` prints).
nlohmann::ordered_json make_summary(const Scenario& s, const Results& r, const std::string& config_sha256);

/// A short human summary for the terminal.
std::string human_summary(const nlohmann::ordered_json& summary);

/// Accepts an empty folder, one carrying kmodsim's marker (.kmodsim-run), or one holding only
/// kmodsim's own temporary files; refuses anything else (nothing a user wrote is overwritten).
/// Creates the folder and its marker, and removes an earlier run's summary.json (the mark of a
/// complete run) before this one starts. Throws OutputError.
void prepare_output_dir(const std::string& dir);
/// Writes config.yaml (`config_yaml`, the resolved scenario), modules.csv, timeline.csv (if
/// enabled) and, last, summary.json into `dir`: summary.json is removed first and renamed into
/// place last, each file through a fsynced temporary file, so a folder with summary.json is
/// complete. Throws OutputError (a full disk, ...): the folder is then visibly incomplete.
void write_outputs(const std::string& dir, const Scenario& s, const std::string& config_yaml, const Results& r,
                   const nlohmann::ordered_json& summary);
/// Removes one output file if present. Throws OutputError.
void remove_output(const std::filesystem::path& p);

} // namespace kmodsim::sim
