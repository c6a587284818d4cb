// kmodsim sweep --executor parallel | slurm (cmd_sweep_executors.hpp).
#include "cmd_sweep_executors.hpp"

#include <kmodsim/atomic_file.hpp>
#include <kmodsim/sweep.hpp>

#include <fmt/format.h>

#include <sys/wait.h>
#include <unistd.h>

#include <set>
#include <sstream>
#include <system_error>
#include <vector>

namespace fs = std::filesystem;

namespace kmodsim {
namespace {

/// Runs a command (argv), waits, returns its exit status (127: not found).
int spawn(std::vector<std::string> args) {
  std::fflush(nullptr);
  const pid_t pid = ::fork();
  if (pid == 0) {
    std::vector<char*> argv;
    for (auto& s : args)
      argv.push_back(s.data());
    argv.push_back(nullptr);
    ::execvp(argv[0], argv.data());
    ::_exit(127);
  }
  int status = 0;
  ::waitpid(pid, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128;
}

/// The shard count of the parallel and slurm executors, with `dir`/shards created.
int prepare_shards(const SweepArgs& a, const fs::path& dir) {
  std::error_code ec;
  fs::create_directories(dir / "shards", ec);
  if (ec)
    throw OutputError(dir.string() + ": cannot create directory: " + ec.message());
  return a.shards > 0 ? a.shards : 4 * std::max(1, a.jobs);
}

/// Appends the words of --parallel-args (extra GNU parallel or sbatch arguments).
void add_extra_args(const SweepArgs& a, std::vector<std::string>& args) {
  std::istringstream extra(a.parallel_args);
  for (std::string w; extra >> w;)
    args.push_back(w);
}

/// After an executor ran the K shards into dir/shards/<i>: collects them into `dir`.
int collect_shards(const SweepArgs& a, const fs::path& dir, int k) {
  SweepArgs c = a;
  c.executor = "local";
  c.force = true; // the folder holds the shards and the executor's own files
  for (int i = 1; i <= k; ++i)
    c.collect.push_back((dir / "shards" / std::to_string(i)).string());
  return cmd_sweep(c);
}

} // namespace

/// --executor parallel: GNU parallel runs `kmodsim sweep --shard i/K` (one per shard, resumable
/// through its --joblog and the shards' own journals), then the shards are collected into `dir`.
int run_parallel(const SweepArgs& a, const fs::path& dir) {
  const int k = prepare_shards(a, dir);
  std::error_code ec;
  const std::string self = fs::read_symlink("/proc/self/exe", ec).string();
  // -q: GNU parallel hands the command to a shell; quoted, a path with spaces or shell
  // characters stays one argument
  std::vector<std::string> args = {"parallel", "-q", "--will-cite", "--halt", "never", "--joblog",
                                   (dir / "parallel.joblog").string(), "-j", std::to_string(std::max(1, a.jobs))};
  if (a.resume)
    args.push_back("--resume-failed");
  add_extra_args(a, args);
  for (const std::string& w : {self, std::string("sweep"), fs::absolute(a.spec).string(), std::string("--shard"),
                              "{}/" + std::to_string(k), std::string("--out"), (fs::absolute(dir) / "shards" / "{}").string(),
                              std::string("-j"), std::string("1"), std::string("--resume"), std::string("--quiet-progress"),
                              std::string("--engine"), a.engine})
    args.push_back(w);
  args.push_back(":::");
  for (int i = 1; i <= k; ++i)
    args.push_back(std::to_string(i));
  const int code = spawn(args);
  if (code == 127)
    throw OutputError("GNU parallel is not installed (Debian package 'parallel')");
  if (code != 0)
    throw OutputError(fmt::format("GNU parallel: {} of {} shards failed (see {}); rerun with --resume",
                                  code > 100 ? std::string("more than 100") : std::to_string(code), k,
                                  (dir / "parallel.joblog").string()));
  return collect_shards(a, dir, k);
}

/// --executor slurm: one array task per shard (an array task costs about a second to start, so
/// each runs many simulations), submitted with `sbatch --wait`; then the shards are collected.
int run_slurm(const SweepArgs& a, const fs::path& dir0) {
  const fs::path dir = fs::absolute(dir0);
  const int k = prepare_shards(a, dir);
  std::error_code ec;
  fs::create_directories(dir / "slurm", ec);
  if (ec)
    throw OutputError(dir.string() + ": cannot create directory: " + ec.message());
  const std::string self = fs::read_symlink("/proc/self/exe", ec).string();
  // the script quotes them, but an #SBATCH directive cannot carry a space or a quote
  for (const std::string& p : {self, fs::absolute(a.spec).string(), dir.string()})
    if (p.find_first_of(" \t\n'\"\\$`%") != std::string::npos)
      throw ConfigError("--executor slurm: '" + p + "' holds a space, a quote or a shell character, which the "
                       "job script's #SBATCH lines cannot carry; use a path without them");
  const std::string script = fmt::format(
      "#!/bin/sh\n"
      "# kmodsim sweep {spec}: one Slurm array task per shard; written by kmodsim sweep --executor slurm\n"
      "#SBATCH --job-name=kmodsim-{name}\n"
      "#SBATCH --array=1-{k}%{j}\n"
      "#SBATCH --cpus-per-task=1\n"
      "#SBATCH --output={dir}/slurm/%A_%a.out\n"
      "exec '{self}' sweep '{spec}' --shard \"$SLURM_ARRAY_TASK_ID/{k}\" --out '{dir}/shards/'\"$SLURM_ARRAY_TASK_ID\" "
      "-j \"${{SLURM_CPUS_PER_TASK:-1}}\" --resume --quiet-progress --engine {engine}\n",
      fmt::arg("spec", fs::absolute(a.spec).string()), fmt::arg("name", load_sweep_spec(a.spec).name),
      fmt::arg("k", k), fmt::arg("j", std::max(1, a.jobs)), fmt::arg("dir", dir.string()), fmt::arg("self", self),
      fmt::arg("engine", a.engine));
  {
    AtomicFile f((dir / "sweep.sbatch").string());
    f.write(script);
    f.commit();
  }
  std::vector<std::string> args = {"sbatch", "--wait", "--parsable"};
  add_extra_args(a, args);
  args.push_back((dir / "sweep.sbatch").string());
  const int code = spawn(args);
  if (code == 127)
    throw OutputError("sbatch not found (a Slurm client: Debian package 'slurm-client')");
  if (code != 0)
    throw OutputError(fmt::format("sbatch --wait exited {}: some array tasks failed (logs in {}/slurm/); rerun with "
                                  "--resume", code, dir.string()));
  return collect_shards(a, dir, k);
}

/// The parallel and slurm executors write into `dir` what the local executor would refuse to
/// overwrite: the same checks first. Allowed: a new or empty folder, this spec's sweep folder
/// with --resume, another spec's with --force, or what an interrupted executor left (its
/// shards, logs and script) before it collected anything.
void check_executor_folder(const SweepArgs& a, const fs::path& dir, const std::string& key) {
  std::error_code ec;
  if (!fs::exists(dir, ec))
    return;
  const fs::path journal = dir / kJournal;
  if (fs::exists(journal)) {
    std::string old;
    const auto done = read_journal(journal, old);
    if (old != key && !a.force)
      throw OutputError(dir.string() + ": holds the results of another spec (other points, or configuration files "
                                       "changed since its runs); use another --out, or --force to discard its " +
                        std::to_string(done.size()) + " finished runs and start again");
    if (old == key && !a.resume)
      throw OutputError(dir.string() + ": already holds runs of this spec; give --resume to finish or extend it");
    return;
  }
  static const std::set<std::string> executor_files = {"shards", "slurm", "parallel.joblog", "sweep.sbatch"};
  for (const auto& e : fs::directory_iterator(dir, ec))
    if (!executor_files.count(e.path().filename().string()))
      throw OutputError(dir.string() + ": not empty and not a sweep folder (no " + kJournal +
                        "); refusing to write into it");
}

} // namespace kmodsim
