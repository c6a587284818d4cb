#!/usr/bin/env bash
# Runs the config fuzzers (fuzz_config, fuzz_config_sim; or the TARGETs named, e.g. calibrate's
# fuzz_calib_dmesg fuzz_calib_lock_stat fuzz_calib_timings_csv) for SECONDS seconds each (default
# 600), on private corpora in WORKDIR (default /tmp/kmodsim-fuzz-config) seeded from
# fuzz/corpus/config/, then replays every artifact and prints one line per finding.
#   fuzz/run-config-fuzzers.sh BUILD_DIR [SECONDS] [WORKDIR] [TARGET...]
# BUILD_DIR: configured with clang and -DKMODSIM_FUZZ=ON, targets built (docs/fuzzing.md).
# Environment:
#   JOBS=1        targets at a time (2: both at once)
#   KEEP_GOING=1  libFuzzer's -fork=1 -ignore_crashes/timeouts/ooms: keep fuzzing after a
#                 finding, so that one run collects several (0: stop at the first, in process)
#   EXTRA=...     more libFuzzer flags, e.g. EXTRA="-seed=1"
# Output: WORKDIR/<target>.log, WORKDIR/<target>.stats (fuzz_config_sim: inputs loaded and
# simulated, a line per libFuzzer process), WORKDIR/corpus-<target>/, WORKDIR/artifacts-<target>/
# (crash-*, timeout-*, oom-*, leak-*: the inputs, replayable with BUILD_DIR/fuzz/<target> FILE),
# WORKDIR/findings.txt. Exits 1 if any target left an artifact.
set -euo pipefail
build=${1:?usage: run-config-fuzzers.sh BUILD_DIR [SECONDS] [WORKDIR] [TARGET...]}
secs=${2:-600}
work=${3:-/tmp/kmodsim-fuzz-config}
shift $(( $# < 3 ? $# : 3 ))
targets=("$@")
(( ${#targets[@]} )) || targets=(fuzz_config fuzz_config_sim)
jobs=${JOBS:-1}
keep_going=${KEEP_GOING:-1}
here=$(cd "$(dirname "$0")" && pwd)
build=$(cd "$build" && pwd)
mkdir -p "$work"
work=$(cd "$work" && pwd)
# The fuzzers' per-process scenario folders go here (a crash leaves its folder behind).
export TMPDIR="$work/tmp"
mkdir -p "$TMPDIR"

run_one() {
  local t=$1 tmo=10
  [[ $t == fuzz_config_sim ]] && tmo=30 # the child's alarm is 10 s
  local bin="$build/fuzz/$t" corpus="$here/corpus/config" dict=(-dict="$here/config.dict")
  case $t in fuzz_calib_*) corpus="$here/corpus/${t#fuzz_}"; dict=() ;; esac
  [[ -x $bin ]] || { echo "$bin: not built (cmake --build $build --target $t)" >&2; return 2; }
  mkdir -p "$work/corpus-$t" "$work/artifacts-$t"
  local mode=()
  [[ $keep_going == 1 ]] && mode=(-fork=1 -ignore_crashes=1 -ignore_timeouts=1 -ignore_ooms=1)
  rm -f "$work/$t.stats"
  # shellcheck disable=SC2086
  KMODSIM_FUZZ_STATS="$work/$t.stats" "$bin" "${mode[@]}" -max_total_time="$secs" -max_len=65536 -timeout="$tmo" -rss_limit_mb=4096 \
    "${dict[@]}" -print_final_stats=1 -artifact_prefix="$work/artifacts-$t/" ${EXTRA:-} \
    "$work/corpus-$t" "$corpus" >"$work/$t.log" 2>&1
}

status=0
pids=()
for t in "${targets[@]}"; do
  echo "$t: ${secs}s, log $work/$t.log"
  run_one "$t" &
  pids+=("$!:$t")
  if (( ${#pids[@]} >= jobs )); then
    for p in "${pids[@]}"; do wait "${p%%:*}" || true; done
    pids=()
  fi
done
for p in "${pids[@]}"; do wait "${p%%:*}" || true; done

# One line per artifact: what the replay reports first (the KMODSIM-FINDING line, else the
# sanitizer or libFuzzer summary), with the per-process folder name blanked for grouping.
: >"$work/findings.txt"
for t in "${targets[@]}"; do
  log="$work/$t.log"
  execs=$(grep -ao 'stat::number_of_executed_units: [0-9]*' "$log" | awk '{s += $2} END {if (NR) print s}' || true)
  [[ -n $execs ]] || execs=$(grep -aoE '^#[0-9]+' "$log" | tail -1 | tr -d '#' || true)
  cov=$(grep -aoE 'cov: [0-9]+' "$log" | tail -1 | awk '{print $2}' || true)
  sims=$(awk '{i += $3; l += $5; k += $7; s += $12}
              END {if (NR) printf " (%d inputs, %d loaded, %d too big, %d simulated)", i, l, k, s}' \
           "$work/$t.stats" 2>/dev/null || true)
  shopt -s nullglob
  arts=("$work/artifacts-$t"/{crash,timeout,oom,leak}-*)
  shopt -u nullglob
  echo "$t: ${execs:-?} execs in ${secs}s, cov ${cov:-?}${sims}, ${#arts[@]} artifact(s)"
  for a in "${arts[@]}"; do
    sig=$(timeout 120 "$build/fuzz/$t" -timeout=30 -rss_limit_mb=4096 "$a" 2>&1 |
            grep -a -m1 -E 'KMODSIM-FINDING|SUMMARY: |ERROR: libFuzzer|runtime error' |
            sed -E 's#/[^ :]*/kmodsim-fuzz-config\.[A-Za-z0-9]+/#<dir>/#g' || true)
    [[ -n $sig ]] || sig="(does not reproduce in one run)"
    printf '%s\t%s\t%s\n' "$t" "$a" "$sig" >>"$work/findings.txt"
    printf '  %s\n    %s\n' "$a" "$sig"
    status=1
  done
done
rm -rf "$TMPDIR"
if (( status )); then
  echo "distinct findings (count, target, first report line):"
  cut -f1,3 "$work/findings.txt" | sort | uniq -c | sort -rn
fi
exit $status
