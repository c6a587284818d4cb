#!/usr/bin/python3
"""The capacity what-ifs (experiments/capacity.yaml, README "What-if findings"): reads the
sweep's runs.csv and draws, against the cores (log scale), one line per kernel era and one
column per case (userspace era x duplicate requests): boot time, module_mutex utilisation,
peak module-area use and failed loads (means over the replications). Prints the table at the
core counts given by --at (markdown) and writes capacity.csv (the means per point).

Usage: plot_capacity.py RUNS_CSV [-o OUT_DIR] [--at 2,64,1024]
  (writes capacity.png, capacity.svg and capacity.csv)
"""
import argparse
import os
import sys

sys.dont_write_bytecode = True
import pandas as pd  # noqa: E402

import kmodsim_io as kio  # noqa: E402  (Agg backend, deterministic SVG)
from kmodsim_io import plt  # noqa: E402

NEEDED = ["kernel", "cores", "axis.case", "makespan_s", "lock.utilization", "failures", "modules_loaded",
          "modprobe_runs"]
PANELS = [("makespan_s", "boot time (s)"), ("lock.utilization", "module_mutex utilisation"),
          ("vmalloc.peak_mb", "peak module area (MiB)"), ("failures", "failed loads")]


def read_runs(runs_csv):
    """The finished runs; kio.DataError when the file is missing, malformed or lacks a column."""
    df = kio.read_sweep_runs(runs_csv, NEEDED, [p for p, _ in PANELS] + ["cores", "modules_loaded", "modprobe_runs"],
                             " (a capacity sweep's runs.csv?)", may_be_empty=("vmalloc.peak_mb",))
    if "vmalloc.peak_mb" not in df.columns:  # no kernel of the sweep takes module area
        df["vmalloc.peak_mb"] = float("nan")
    df["case"] = df["axis.case"]
    return df


def means(df):
    """Per (case, kernel, cores): the mean of every panel's metric, modules loaded and runs."""
    cols = [p for p, _ in PANELS] + ["modules_loaded", "modprobe_runs"]
    g = df.groupby(["case", "kernel", "cores"], sort=False)[cols].mean().reset_index()
    n = df.groupby(["case", "kernel", "cores"], sort=False).size().reset_index(name="runs")
    return g.merge(n, on=["case", "kernel", "cores"])


def plot(g, out_dir):
    cases = list(dict.fromkeys(g["case"]))
    kernels = list(dict.fromkeys(g["kernel"]))
    fig, axes = plt.subplots(len(PANELS), len(cases), figsize=(3.3 * len(cases), 2.5 * len(PANELS)),
                             sharex=True, sharey="row", squeeze=False)
    colours = plt.get_cmap("viridis")
    for j, case in enumerate(cases):
        for i, (metric, label) in enumerate(PANELS):
            ax = axes[i][j]
            for k, kern in enumerate(kernels):
                d = g[(g.case == case) & (g.kernel == kern)].sort_values("cores")
                if d[metric].notna().any():
                    ax.plot(d["cores"], d[metric], marker="o", ms=3, lw=1.2,
                            color=colours(k / max(1, len(kernels) - 1)), label=kern)
            ax.set_xscale("log", base=2)
            if metric in ("makespan_s", "vmalloc.peak_mb"):  # decades apart between kernels
                ax.set_yscale("log")
            ax.grid(True, alpha=0.3)
            if i == 0:
                ax.set_title(case, fontsize=10)
            if j == 0:
                ax.set_ylabel(label, fontsize=9)
            if i == len(PANELS) - 1:
                ax.set_xlabel("cores")
    handles, labels = axes[0][0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="upper center", ncol=min(7, len(labels)), fontsize=8, frameon=False)
    fig.tight_layout(rect=(0, 0, 1, 0.96))
    return kio.save_png_svg(fig, os.path.join(out_dir, "capacity.png"))


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("runs_csv")
    ap.add_argument("-o", "--out", default=None)
    ap.add_argument("--at", default="2,64,1024", help="core counts of the printed table")
    a = ap.parse_args()
    try:
        at = [int(x) for x in a.at.split(",")]
    except ValueError:
        raise kio.DataError("--at", f"expected core counts separated by commas, got {a.at!r}") from None
    out = a.out or os.path.dirname(os.path.abspath(a.runs_csv))
    df = read_runs(a.runs_csv)
    if df.attrs.get("failed"):
        print(f"warning: {a.runs_csv}: {df.attrs['failed']} failed runs left out", file=sys.stderr)
    if df.empty:
        raise kio.DataError(a.runs_csv, "no finished runs")
    os.makedirs(out, exist_ok=True)
    g = means(df)
    files = plot(g, out)
    csv = os.path.join(out, "capacity.csv")
    g.to_csv(csv, index=False, float_format="%.9g")
    print("| case | kernel | cores | boot (s) | module_mutex util. | peak area (MiB) | failed loads | modprobes |")
    print("|---|---|---:|---:|---:|---:|---:|---:|")
    for r in g[g.cores.isin(at)].sort_values(["case", "cores"], kind="stable").to_dict("records"):
        peak = "-" if pd.isna(r["vmalloc.peak_mb"]) else f"{r['vmalloc.peak_mb']:.1f}"
        print(f"| {r['case']} | {r['kernel']} | {r['cores']:.0f} | {r['makespan_s']:.3f} | "
              f"{r['lock.utilization']:.3f} | {peak} | {r['failures']:.1f} | {r['modprobe_runs']:.0f} |")
    for f in files + [csv]:
        print(f)


if __name__ == "__main__":
    kio.run_main(main)
