#!/usr/bin/env bash
# Runs every import fuzz target for SECONDS seconds (default 600), JOBS at a time (default 2),
# each on a private corpus in WORKDIR (default /tmp/kmodsim-fuzz) seeded from fuzz/corpus/.
#   fuzz/run-fuzzers.sh BUILD_DIR [SECONDS] [JOBS] [WORKDIR]
# BUILD_DIR is a build configured with clang and -DKMODSIM_FUZZ=ON. Logs go to
# WORKDIR/<target>.log; the last "#N DONE"/"stat::number_of_executed_units" lines give the
# exec counts. Exits non-zero if any target found a crash.
set -euo pipefail
build=${1:?usage: run-fuzzers.sh BUILD_DIR [SECONDS] [JOBS] [WORKDIR]}
secs=${2:-600}
jobs=${3:-2}
work=${4:-/tmp/kmodsim-fuzz}
here=$(cd "$(dirname "$0")" && pwd)
mkdir -p "$work"
targets=(elf decompress modules_dep modules_softdep modules_alias boot_list uevents kernel_symbols)
run_one() {
  local t=$1 maxlen=4096
  case $t in elf|decompress) maxlen=65536 ;; esac
  mkdir -p "$work/corpus-$t" "$work/artifacts-$t"
  "$build/fuzz/fuzz_import_$t" -max_total_time="$secs" -max_len="$maxlen" -timeout=10 \
    -rss_limit_mb=2048 -print_final_stats=1 -artifact_prefix="$work/artifacts-$t/" \
    "$work/corpus-$t" "$here/corpus/$t" >"$work/$t.log" 2>&1
}
status=0
pids=()
for t in "${targets[@]}"; do
  run_one "$t" &
  pids+=("$!:$t")
  if (( ${#pids[@]} >= jobs )); then
    for p in "${pids[@]}"; do wait "${p%%:*}" || { echo "FINDING in ${p#*:}"; status=1; }; done
    pids=()
  fi
done
for p in "${pids[@]}"; do wait "${p%%:*}" || { echo "FINDING in ${p#*:}"; status=1; }; done
for t in "${targets[@]}"; do
  execs=$(grep -o 'stat::number_of_executed_units: [0-9]*' "$work/$t.log" | awk '{print $2}')
  echo "fuzz_import_$t: ${execs:-?} execs in ${secs}s"
done
exit $status
