#!/usr/bin/python3
"""Plots a sweep's runs.csv (kmodsim sweep): makespan vs cores per kernel (one panel per CPU
model; with replications, the 95% Student-t confidence band of the mean), and the speedup of
every kernel over the first one. Prints the speedup table (markdown). Failed runs are left out.

Usage: plot_sweep.py RUNS_CSV [-o OUT_DIR]  (writes sweep.png, sweep.svg and speedup.csv)
"""
import argparse
import os
import sys

sys.dont_write_bytecode = True
import pandas as pd  # noqa: E402

import kmodsim_io as kio  # noqa: E402  (Agg backend, deterministic SVG)
from kmodsim_io import plt  # noqa: E402

NEEDED = ["kernel", "cores", "scheduler", "makespan_s", "modules_loaded", "failures"]


def read_runs(runs_csv):
    """The finished runs of a sweep's runs.csv; raises kio.DataError when it is missing,
    malformed or lacks a NEEDED column."""
    return kio.read_sweep_runs(runs_csv, NEEDED, ("cores", "makespan_s", "modules_loaded", "failures"))


def mean_ci(df):
    """Per (scheduler, kernel, cores): mean makespan, sd, count and the half-width of the
    95% Student-t interval of the mean (NaN without replications)."""
    from scipy import stats  # imported here: report.py need not load scipy for other folders
    g = df.groupby(["scheduler", "kernel", "cores"], sort=False)["makespan_s"].agg(
        ["mean", "std", "count"]).reset_index()
    g = g.rename(columns={"mean": "makespan_s"})
    t = g["count"].map(lambda n: stats.t.ppf(0.975, n - 1) if n > 1 else float("nan"))
    g["half"] = t * g["std"] / g["count"].pow(0.5)
    return g


def plot(df, out_dir):
    """Write OUT_DIR/sweep.png and sweep.svg; return both paths."""
    kernels = list(dict.fromkeys(df["kernel"]))
    scheds = list(dict.fromkeys(df["scheduler"])) or ["(no finished runs)"]
    g = mean_ci(df)
    fig, axes = plt.subplots(1, len(scheds), figsize=(max(6.5, 4.2 * len(scheds)), 3.6), sharey=True,
                             squeeze=False)
    for ax, s in zip(axes[0], scheds):
        for k in kernels:
            d = g[(g.scheduler == s) & (g.kernel == k)].sort_values("cores")
            line, = ax.plot(d["cores"], d["makespan_s"], marker="o", label=k)
            if d["half"].notna().any():  # replications: the 95% CI of the mean
                ax.fill_between(d["cores"], d["makespan_s"] - d["half"], d["makespan_s"] + d["half"],
                                color=line.get_color(), alpha=0.2, linewidth=0)
        ax.set_title(s)
        ax.set_xlabel("cores")
        ax.set_xticks(sorted(df["cores"].dropna().unique()))
        ax.grid(alpha=0.3)
    axes[0][0].set_ylabel("makespan (s)")
    if kernels:
        axes[0][-1].legend(fontsize=8)
    fig.suptitle("coldplug makespan by kernel locking, cores and CPU model")
    fig.tight_layout()
    png = os.path.join(out_dir, "sweep.png")
    svg = os.path.join(out_dir, "sweep.svg")
    fig.savefig(png, dpi=110, metadata=kio.SAVE_METADATA[".png"])
    fig.savefig(svg, dpi=110, metadata=kio.SAVE_METADATA[".svg"])
    plt.close(fig)
    return [png, svg]


def speedups(df):
    """One row per (scheduler, cores, kernel other than the first): its mean makespan against
    the first kernel's."""
    kernels = list(dict.fromkeys(df["kernel"]))
    if not kernels:
        return pd.DataFrame(), None
    base = kernels[0]
    rows = []
    for (s, c), d in df.groupby(["scheduler", "cores"], sort=False):
        ref = d[d.kernel == base]["makespan_s"].mean()
        for k in kernels[1:]:
            dk = d[d.kernel == k]
            m = dk["makespan_s"].mean()
            rows.append({"scheduler": s, "cores": c, "kernel": k, "baseline": base, "makespan_s": m,
                         "baseline_makespan_s": ref, "speedup": ref / m if m > 0 else float("nan"),
                         "gain_pct": 100.0 * (ref - m) / ref if ref > 0 else float("nan"),
                         "modules_loaded": dk["modules_loaded"].mean(), "failures": dk["failures"].mean()})
    return pd.DataFrame(rows), base


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("runs_csv")
    ap.add_argument("-o", "--out", default=None)
    a = ap.parse_args()
    out = a.out or os.path.dirname(os.path.abspath(a.runs_csv))
    df = read_runs(a.runs_csv)
    os.makedirs(out, exist_ok=True)
    png, svg = plot(df, out)
    sp, base = speedups(df)
    csv = os.path.join(out, "speedup.csv")
    sp.to_csv(csv, index=False)
    print(f"| scheduler | cores | kernel | makespan (s) | {base} (s) | gain | modules loaded | failures |")
    print("|---|---:|---|---:|---:|---:|---:|---:|")
    for r in sp.to_dict("records"):
        print(f"| {r['scheduler']} | {r['cores']} | {r['kernel']} | {r['makespan_s']:.4f} | "
              f"{r['baseline_makespan_s']:.4f} | {r['gain_pct']:+.1f}% | {r['modules_loaded']:.0f} | {r['failures']:.0f} |")
    print(png)
    print(svg)
    print(csv)


if __name__ == "__main__":
    kio.run_main(main)
