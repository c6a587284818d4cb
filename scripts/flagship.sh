#!/usr/bin/env bash
# The flagship experiments: experiments/flagship-2009.yaml (big lock vs fine lock on the
# default 2009 scenario, over cores and CPU models; then plots) and the 2009 prediction
# (experiments/lkml_2009.py), then one HTML report of both (OUT/report.html).
# Usage: flagship.sh KMODSIM OUT
set -euo pipefail
kmodsim=${1:-build/kmodsim}
out=${2:-results/flagship}
py=/usr/bin/python3
here=$(cd "$(dirname "$0")/.." && pwd)
# --resume reuses the finished runs of an earlier call; --force starts over when they came from
# other configuration files (edited since, or another kmodsim's), instead of mixing them
"$kmodsim" sweep "$here/experiments/flagship-2009.yaml" --out "$out" --resume --force
"$py" "$here/analysis/plot_sweep.py" "$out/runs.csv" -o "$out"
# A closer look at the default point (2 cores, time_slice): Gantt, lock and state plots.
for k in linux-2.6.28 linux-2.6.29-rusty; do
  "$kmodsim" run "$here/configs/scenarios/desktop-2009.yaml" --set "kernel=$here/configs/kernels/$k.yaml" \
    --trace --out "$out/default-$k"
  "$py" "$here/analysis/plot_run.py" "$out/default-$k" >/dev/null
done
"$py" "$here/analysis/compare_runs.py" "$out/default-linux-2.6.28" "$out/default-linux-2.6.29-rusty" -o "$out/default-compare"
# The 2009 prediction (README "The 2009 prediction"): sweep, ablations, sensitivity, prediction.json.
"$py" "$here/experiments/lkml_2009.py" --kmodsim "$kmodsim" --out "$(dirname "$out")/lkml-2009"
echo "results and plots in $out/ and $(dirname "$out")/lkml-2009/"
# One self-contained page with all of the above (analysis/report.py): the sweep, the default runs
# and their comparison, then the 2009 prediction. Its path is the last line printed.
report=$("$py" "$here/analysis/report.py" "$out" "$(dirname "$out")/lkml-2009" -o "$out/report.html")
echo "report: $report"
