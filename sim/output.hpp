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

/// A kind of folder kmodsim writes and may rewrite: a run's (`run --out`, replay, trace-import) or
/// a calibration report's (`calibrate --report`). Its marker file says the folder is kmodsim's;
/// `completion` is written last, so a folder without it is incomplete.
struct OutputFolder {
  const char* marker;              ///< ".kmodsim-run"
  std::vector<std::string> files;  ///< what kmodsim writes there (their temporary files, left by a killed write, are its own)
  const char* what;                ///< "kmodsim run folder", for messages
  const char* option;              ///< the option naming the folder in messages ("" for none)
  const char* marker_text;         ///< the marker file's content
  const char* completion;          ///< "summary.json"
};
extern const OutputFolder kRunFolder;

/// Refuses (OutputError) a path that is not a folder, or a non-empty folder that carries no
/// marker of `kind` and holds more than kmodsim's own temporary files (nothing a user wrote is
/// overwritten); changes nothing.
void check_output_dir(const std::string& dir, const OutputFolder& kind = kRunFolder);
/// check_output_dir, then creates the folder and its marker, and removes an earlier completion
/// file (a run's summary.json) before this one starts. Throws OutputError.
void prepare_output_dir(const std::string& dir, const OutputFolder& kind = kRunFolder);
/// Writes config.yaml (`config_yaml`, the resolved scenario), modules.csv, timeline.csv (if
/// enabled) and, last, summary.json into `dir`: summary.json is removed first and renamed into
/// place last, each file through a fsynced temporary file, so a folder with summary.json is
/// complete. Throws OutputError (a full disk, ...): the folder is then visibly incomplete.
void write_outputs(const std::string& dir, const Scenario& s, const std::string& config_yaml, const Results& r,
                   const nlohmann::ordered_json& summary);
/// Removes one output file if present. Throws OutputError.
void remove_output(const std::filesystem::path& p);

} // namespace kmodsim::sim
