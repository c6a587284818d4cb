// kmodsim sweep's executors beyond the local one: GNU parallel and Slurm run shards of the
// sweep (`kmodsim sweep --shard i/K`, each a local sweep of its own folder), then the shards
// are collected into the sweep's folder (cmd_sweep.cpp does the local runs and the collecting).
#pragma once

#include "cmd_sweep.hpp"

#include <nlohmann/json.hpp>

#include <filesystem>
#include <map>
#include <string>

namespace kmodsim {

/// A sweep folder's append-only journal: its first line the spec's key, then one line per run.
inline constexpr const char* kJournal = "sweep.journal";

/// The finished runs of a journal, by id (`key`: its spec's key); a torn last line is ignored.
std::map<std::string, nlohmann::ordered_json> read_journal(const std::filesystem::path& p, std::string& key);

/// --executor parallel and slurm: run the shards into `dir`/shards, then collect them.
int run_parallel(const SweepArgs& a, const std::filesystem::path& dir);
int run_slurm(const SweepArgs& a, const std::filesystem::path& dir);

/// What the local executor would refuse to overwrite, refused before an executor writes (exit 1).
void check_executor_folder(const SweepArgs& a, const std::filesystem::path& dir, const std::string& key);

} // namespace kmodsim
