#!/usr/bin/python3
"""A simulated run against a real boot, module init by module init.

SIM_DIR is a `kmodsim run --out` folder; REAL_DIR is a folder written by
`kmodsim trace-import --dmesg REAL.txt -o REAL_DIR` (the same modules.csv
schema, where load_end_s is the `calling` time of a module's init function
and init_end_s its `initcall ... returned` time). Only modules.csv is needed
on each side (module, load_end_s, init_end_s; task and outcome when present);
summary.json is read, when present, for the titles.

Each side's times are shifted so that its first module init starts at 0
(--align first, the default; --align none keeps the raw times: simulated
seconds since coldplug start, dmesg seconds since kernel start). A module is
matched by name with '-' read as '_'; when a side inits a module more than
once, its first init counts.

Writes into OUT_DIR (default SIM_DIR):
  compare_boot.png, .svg  top: one lane per module present in both, the
                          simulated init (blue, upper) and the real one
                          (orange, lower) from start to end; bottom: the
                          ECDF of init durations (init_end_s - load_end_s) of
                          every init of each side, log axis
  compare_boot.csv        one row per module of either side: times, durations
                          and differences (simulated - real)
  compare_boot.txt        the summary paragraph, also printed on stdout
  compare_boot.json       the two folders, the alignment offsets and the labels
Then prints the paths. A missing or malformed input: one line
`error: <file>: <what>` on stderr, exit status 1.
"""

import argparse
import json
import math
import os
import sys
import textwrap

import numpy as np
import pandas as pd

sys.dont_write_bytecode = True  # keep analysis/ free of __pycache__
import kmodsim_io as kio  # noqa: E402
from kmodsim_io import plt  # noqa: E402

SIM_COLOR, REAL_COLOR = "#1f77b4", "#ff7f0e"
MAX_LANES = 200      # more matched modules than this: every k-th lane
LANE_IN = 0.13       # inches per lane
LABEL_PT = 6.5
MIN_DURATION_S = 1e-6  # dmesg's resolution (usecs); shorter inits are drawn here on the log axis


def read_side(folder, name):
    """(inits, summary) of one side: first init per module, aligned later."""
    if not os.path.isdir(folder):
        raise kio.DataError(folder, f"not a folder ({name})")
    summary = {}
    if os.path.isfile(os.path.join(folder, "summary.json")):
        summary = kio.read_summary(folder)
    inits = kio.read_inits(folder)
    if len(inits) == 0:
        raise kio.DataError(os.path.join(folder, "modules.csv"),
                            "no module init (no row with both load_end_s and init_end_s)")
    inits = inits.assign(key=inits["module"].str.replace("-", "_", regex=False),
                         duration_s=inits["init_end_s"] - inits["load_end_s"])
    inits = inits.sort_values(["load_end_s", "key"], kind="mergesort")
    inits["inits"] = inits.groupby("key")["key"].transform("size")
    return inits, summary


def side_label(summary, folder, default):
    if summary.get("source") == "dmesg":
        source = summary.get("file") or summary.get("dmesg") or folder
        return f"real boot ({os.path.basename(str(source))})"
    parts = [str(summary["kernel"])] if summary.get("kernel") not in (None, "") else []
    if summary.get("cores") not in (None, ""):
        parts.append(f"{summary['cores']} cores")
    return f"{default} ({', '.join(parts)})" if parts else default


def merge(sim, real, align):
    """One row per module (either side), with aligned times and differences."""
    offsets = {"sim": 0.0, "real": 0.0}
    if align == "first":
        offsets = {"sim": float(sim["load_end_s"].min()), "real": float(real["load_end_s"].min())}
    cols = {}
    for side, df in (("sim", sim), ("real", real)):
        first = df.drop_duplicates("key", keep="first").set_index("key")
        cols[side] = pd.DataFrame({
            f"{side}_module": first["module"],
            f"{side}_task": first["task"],
            f"{side}_outcome": first["outcome"],
            f"{side}_start_s": first["load_end_s"] - offsets[side],
            f"{side}_end_s": first["init_end_s"] - offsets[side],
            f"{side}_init_s": first["duration_s"],
            f"{side}_inits": first["inits"],
        })
    m = cols["sim"].join(cols["real"], how="outer")
    m.index.name = "module"
    m["in_sim"] = m["sim_start_s"].notna()
    m["in_real"] = m["real_start_s"].notna()
    m["start_diff_s"] = m["sim_start_s"] - m["real_start_s"]
    m["end_diff_s"] = m["sim_end_s"] - m["real_end_s"]
    m["init_diff_s"] = m["sim_init_s"] - m["real_init_s"]
    m["init_ratio"] = [s / r if r > 0 else float("nan")
                       for s, r in zip(m["sim_init_s"], m["real_init_s"])]
    order = m.assign(_both=~(m.in_sim & m.in_real),
                     _t=m["real_start_s"].fillna(m["sim_start_s"]))
    m = m.loc[order.sort_values(["_both", "_t"], kind="mergesort").index].reset_index()
    first_cols = ["module", "in_sim", "in_real", "sim_start_s", "real_start_s", "start_diff_s",
                  "sim_end_s", "real_end_s", "end_diff_s", "sim_init_s", "real_init_s",
                  "init_diff_s", "init_ratio"]
    return m[first_cols + [c for c in m.columns if c not in first_cols]], offsets


def ms(seconds):
    return f"{seconds * 1e3:.3g} ms"


def summary_text(m, sim, real, offsets, align, labels):
    both = m[m.in_sim & m.in_real]
    only_sim = list(m.loc[m.in_sim & ~m.in_real, "module"])
    only_real = list(m.loc[~m.in_sim & m.in_real, "module"])
    med_sim, med_real = float(sim["duration_s"].median()), float(real["duration_s"].median())
    ratio = f" ({med_sim / med_real:.2f}x the real one)" if med_real > 0 else ""
    text = (f"{labels['sim']}: {len(sim)} module inits; {labels['real']}: {len(real)} module "
            f"inits. {len(both)} modules matched, {len(only_sim)} only simulated"
            f"{': ' + ', '.join(only_sim[:10]) + (' ...' if len(only_sim) > 10 else '') if only_sim else ''}"
            f", {len(only_real)} only real"
            f"{': ' + ', '.join(only_real[:10]) + (' ...' if len(only_real) > 10 else '') if only_real else ''}. "
            f"Median init duration: simulated {ms(med_sim)}, real {ms(med_real)}{ratio}. ")
    if align == "first":
        text += (f"Times are aligned at each side's first init (simulated {offsets['sim']:.6g} s, "
                 f"real {offsets['real']:.6g} s); ")
    else:
        text += "Times are not aligned (raw seconds); "
    sim_end = float((sim["init_end_s"] - offsets["sim"]).max())
    real_end = float((real["init_end_s"] - offsets["real"]).max())
    text += f"the last init ends at {sim_end:.4g} s simulated and {real_end:.4g} s real."
    if len(both):
        start = float(both["start_diff_s"].median())
        longer = float(both["init_diff_s"].median())
        text += (f" Over the matched modules the simulated init starts a median "
                 f"{ms(abs(start))} {'later' if start >= 0 else 'earlier'} than the real one "
                 f"(median |difference| {ms(float(both['start_diff_s'].abs().median()))}) and "
                 f"lasts a median {ms(abs(longer))} {'longer' if longer >= 0 else 'shorter'} "
                 f"(differences: simulated - real).")
    return text


def ecdf(ax, durations, color, label):
    x = np.sort(np.maximum(np.asarray(durations, dtype=float), MIN_DURATION_S))
    y = np.arange(1, len(x) + 1) / len(x)
    ax.step(np.concatenate([[x[0]], x]), np.concatenate([[0.0], y]), where="post",
            color=color, label=label)
    med = float(np.median(durations))
    ax.axvline(max(med, MIN_DURATION_S), color=color, linestyle=":", linewidth=1)


def plot(m, sim, real, labels, align, path):
    both = m[m.in_sim & m.in_real].reset_index(drop=True)
    step = max(1, math.ceil(len(both) / MAX_LANES))
    lanes = both.iloc[::step].reset_index(drop=True)
    lanes_in = max(1.0, LANE_IN * len(lanes))
    ecdf_in = 3.0
    fig = plt.figure(figsize=(12, lanes_in + ecdf_in + 2.2))
    grid = fig.add_gridspec(2, 1, height_ratios=[lanes_in, ecdf_in], hspace=0.9 / (lanes_in + ecdf_in) * 3)
    ax = fig.add_subplot(grid[0])
    y = np.arange(len(lanes))
    for side, col, dy in (("sim", SIM_COLOR, -0.2), ("real", REAL_COLOR, 0.2)):
        start, end = lanes[f"{side}_start_s"].to_numpy(), lanes[f"{side}_end_s"].to_numpy()
        ax.barh(y + dy, end - start, left=start, height=0.4, color=col, linewidth=0,
                label=f"{labels[side]}: init function")
        # the start as a tick, so that an init of a few microseconds still shows
        ax.plot(start, y + dy, linestyle="none", marker="|", markersize=4.5,
                markeredgewidth=1.2, color=col)
    ax.set_yticks(y)
    ax.set_yticklabels(lanes["module"], fontsize=LABEL_PT)
    ax.set_ylim(max(len(lanes), 1) - 0.5, -0.5)
    if len(lanes):
        lo = float(np.nanmin(lanes[["sim_start_s", "real_start_s"]].to_numpy()))
        hi = float(np.nanmax(lanes[["sim_end_s", "real_end_s"]].to_numpy()))
        pad = 0.02 * (hi - lo) if hi > lo else 0.01
        ax.set_xlim(lo - pad, hi + pad)
    ax.set_xlabel("time (s) since the first module init" if align == "first" else "time (s)")
    ax.tick_params(labeltop=True, top=True)
    ax.grid(axis="x", alpha=0.3)
    sampled = f", 1 in {step} shown" if step > 1 else ""
    ax.set_title(f"{labels['sim']} vs {labels['real']}: module init functions, "
                 f"{len(both)} modules in both{sampled} (sorted by real start)", fontsize=9)
    if len(lanes):
        ax.legend(loc="upper right", fontsize=8)
    else:
        ax.text(0.5, 0.5, "no module in both", ha="center", transform=ax.transAxes)
    only = []
    for side, other, name in (("sim", "real", "only simulated"), ("real", "sim", "only real")):
        names = list(m.loc[m[f"in_{side}"] & ~m[f"in_{other}"], "module"])
        if names:
            only.append(f"{name} ({len(names)}): " + ", ".join(names[:40])
                        + (f" ... +{len(names) - 40}" if len(names) > 40 else ""))
    if only:
        ax.annotate(textwrap.fill("; ".join(only), 170), xy=(0, 0), xycoords="axes fraction",
                    xytext=(0, -30), textcoords="offset points", va="top", fontsize=7,
                    color="#444444")

    ax2 = fig.add_subplot(grid[1])
    ecdf(ax2, sim["duration_s"], SIM_COLOR, f"{labels['sim']}: {len(sim)} inits, median "
                                          f"{ms(float(sim['duration_s'].median()))}")
    ecdf(ax2, real["duration_s"], REAL_COLOR, f"{labels['real']}: {len(real)} inits, median "
                                              f"{ms(float(real['duration_s'].median()))}")
    ax2.set_xscale("log")
    ax2.set_ylim(0, 1.02)
    ax2.set_xlabel(f"init duration (s), init_end_s - load_end_s; below {MIN_DURATION_S:g} s "
                   f"drawn at {MIN_DURATION_S:g} s; dotted: medians")
    ax2.set_ylabel("fraction of inits")
    ax2.set_title("distribution of module init durations (ECDF)", fontsize=9)
    ax2.grid(alpha=0.3)
    ax2.legend(loc="upper left", fontsize=8)
    return kio.save_png_svg(fig, path)


def compare(sim_dir, real_dir, out_dir, align="first"):
    """Everything main() does but printing; returns (summary text, paths). Used by tests and
    report.py."""
    sim, sim_summary = read_side(sim_dir, "SIM_DIR")
    real, real_summary = read_side(real_dir, "REAL_DIR")
    labels = {"sim": side_label(sim_summary, sim_dir, "simulated"),
              "real": side_label(real_summary, real_dir, "real")}
    if labels["real"] == "real" and real_summary.get("source") is None:
        labels["real"] = f"real ({os.path.basename(os.path.normpath(real_dir))})"
    m, offsets = merge(sim, real, align)
    text = summary_text(m, sim, real, offsets, align, labels)
    os.makedirs(out_dir, exist_ok=True)
    csv_path = os.path.join(out_dir, "compare_boot.csv")
    m.to_csv(csv_path, index=False, float_format="%.9g")
    txt_path = os.path.join(out_dir, "compare_boot.txt")
    with open(txt_path, "w", encoding="utf-8") as f:
        f.write(text + "\n")
    with open(os.path.join(out_dir, "compare_boot.json"), "w", encoding="utf-8") as f:
        json.dump({"sim_dir": os.path.abspath(sim_dir), "real_dir": os.path.abspath(real_dir),
                   "align": align,
                   "offsets_s": offsets, "labels": labels}, f, indent=2, sort_keys=True)
    figures = plot(m, sim, real, labels, align, os.path.join(out_dir, "compare_boot.png"))
    return text, figures + [csv_path, txt_path]


def main():
    parser = argparse.ArgumentParser(
        description="Compare a simulated run with a real boot (a `kmodsim trace-import` "
                    "folder): per-module init start and end on one time axis, the "
                    "distribution of init durations, a CSV of per-module differences and "
                    "a summary paragraph.")
    parser.add_argument("sim_dir", metavar="SIM_DIR", help="`kmodsim run --out` folder")
    parser.add_argument("real_dir", metavar="REAL_DIR",
                        help="`kmodsim trace-import --dmesg REAL.txt -o` folder")
    parser.add_argument("-o", "--out", metavar="OUT_DIR",
                        help="folder for compare_boot.{png,svg,csv,txt,json} (default: SIM_DIR)")
    parser.add_argument("--align", choices=["first", "none"], default="first",
                        help="first: t=0 at each side's first module init (default); "
                             "none: raw times")
    args = parser.parse_args()
    text, paths = compare(args.sim_dir, args.real_dir, args.out or args.sim_dir, args.align)
    print(text)
    print()
    for path in paths:
        print(path)


if __name__ == "__main__":
    kio.run_main(main, status=1)
