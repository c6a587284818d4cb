#!/usr/bin/python3
"""Compare several kmodsim runs by their summary.json files.

Writes OUT_DIR/compare.csv (tidy: one row per run, flattened dotted keys) and
OUT_DIR/compare.png and compare.svg (grouped bars of makespan_s, lock.hold_total_s and
lock.wait_total_s per run) and prints a markdown table with the speedup of
each run against the first one. On a missing or malformed input prints
`error: <file>: <what>` to stderr and exits 2.
"""

import argparse
import os
import sys

import numpy as np
import pandas as pd

sys.dont_write_bytecode = True  # keep analysis/ free of __pycache__
import kmodsim_io as kio  # noqa: E402
from kmodsim_io import plt  # noqa: E402

BAR_METRICS = ["makespan_s", "lock.hold_total_s", "lock.wait_total_s"]
TABLE_METRICS = ["makespan_s", "lock.acquisitions", "lock.contentions",
                 "lock.hold_total_s", "lock.wait_total_s"]
BAR_COLORS = ["#1f77b4", "#d62728", "#9467bd"]


def load_runs(run_dirs, label_key):
    """Return a DataFrame, one row per run: run_dir, run_label, speedup, keys."""
    rows = []
    for run_dir in run_dirs:
        path = os.path.join(run_dir, "summary.json")
        summary = kio.read_summary(run_dir)
        for key in TABLE_METRICS:
            kio.summary_number(summary, key, path)  # raises when absent/non-numeric
        if summary.get(label_key) is None:
            raise kio.DataError(path, f"missing label key '{label_key}' (--label-key)")
        label = str(summary[label_key])
        if summary.get("cores") is not None and label_key != "cores":
            label += f" ({summary['cores']} cores)"
        rows.append({"run_dir": run_dir, "run_label": label, **summary})
    df = pd.DataFrame(rows)
    duplicated = df["run_label"].duplicated(keep=False)
    df.loc[duplicated, "run_label"] = [f"{label} #{i + 1}" for i, label in
                                       zip(df.index[duplicated],
                                           df.loc[duplicated, "run_label"])]
    first = float(df["makespan_s"].iloc[0])
    df.insert(2, "speedup_vs_first", [first / m if m > 0 else float("nan")
                                      for m in df["makespan_s"].astype(float)])
    return df


def fmt(value):
    """Compact number for the markdown table (integers stay integers)."""
    value = float(value)
    if value != value:  # NaN
        return "n/a"
    if value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    return f"{value:.6g}"


def markdown_table(df):
    header = ["run", "makespan_s", "speedup", "acquisitions", "contentions",
              "hold_total_s", "wait_total_s"]
    lines = ["| " + " | ".join(header) + " |",
             "|" + "|".join(["---"] + ["---:"] * (len(header) - 1)) + "|"]
    for _, r in df.iterrows():
        speedup = r["speedup_vs_first"]
        cells = [r["run_label"], fmt(r["makespan_s"]),
                 "n/a" if speedup != speedup else f"{speedup:.2f}",
                 fmt(r["lock.acquisitions"]), fmt(r["lock.contentions"]),
                 fmt(r["lock.hold_total_s"]), fmt(r["lock.wait_total_s"])]
        lines.append("| " + " | ".join(str(c).replace("|", "/") for c in cells) + " |")
    return "\n".join(lines)


def plot_compare(df, path):
    n = len(df)
    fig, ax = plt.subplots(figsize=(max(6.0, 1.2 * n + 3), 5))
    x = np.arange(n)
    width = 0.8 / len(BAR_METRICS)
    for i, (metric, col) in enumerate(zip(BAR_METRICS, BAR_COLORS)):
        values = df[metric].astype(float).to_numpy()
        bars = ax.bar(x + (i - (len(BAR_METRICS) - 1) / 2) * width, values,
                      width=width, color=col, label=metric)
        ax.bar_label(bars, labels=[f"{v:.3g}" for v in values], fontsize=6)
    ax.set_xticks(x)
    ax.set_xticklabels(df["run_label"], rotation=30 if n > 4 else 0,
                       ha="right" if n > 4 else "center", fontsize=8)
    ax.set_ylabel("seconds")
    ax.set_title("kmodsim runs: makespan and module_mutex hold/wait totals")
    ax.legend(fontsize=8)
    ax.grid(axis="y", alpha=0.3)
    return kio.save_png_svg(fig, path)


def main():
    parser = argparse.ArgumentParser(
        description="Compare kmodsim runs: reads RUN_DIR/summary.json of each "
                    "run, writes OUT_DIR/compare.csv and OUT_DIR/compare.png, "
                    "prints a markdown table (speedup is relative to the first "
                    "RUN_DIR).")
    parser.add_argument("run_dirs", nargs="+", metavar="RUN_DIR",
                        help="output folders of `kmodsim run --out RUN_DIR`; "
                             "the first one is the speedup baseline")
    parser.add_argument("-o", "--out", metavar="OUT_DIR", required=True,
                        help="folder for compare.csv, compare.png and compare.svg")
    parser.add_argument("--label-key", default="kernel", metavar="KEY",
                        help="summary key (dotted for nested ones) naming each "
                             "run in the plot and table; ' (N cores)' is "
                             "appended (default: kernel)")
    args = parser.parse_args()

    df = load_runs(args.run_dirs, args.label_key)
    os.makedirs(args.out, exist_ok=True)
    csv_path = os.path.join(args.out, "compare.csv")
    df.to_csv(csv_path, index=False)
    figures = plot_compare(df, os.path.join(args.out, "compare.png"))
    print(markdown_table(df))
    print()
    print(csv_path)
    for path in figures:
        print(path)


if __name__ == "__main__":
    kio.run_main(main)
