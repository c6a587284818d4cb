#!/usr/bin/python3
"""Plot one kmodsim run: gantt.png, lock.png, states.png.

Reads RUN_DIR/summary.json, RUN_DIR/timeline.csv and RUN_DIR/modules.csv
(written by `kmodsim run ... --out RUN_DIR`) and writes the three PNGs into
OUT_DIR (default RUN_DIR). Prints the paths written. On a missing or
malformed input prints `error: <file>: <what>` to stderr and exits 2.
"""

import argparse
import math
import os
import sys

import numpy as np

sys.dont_write_bytecode = True  # keep analysis/ free of __pycache__
import kmodsim_io as kio  # noqa: E402
from kmodsim_io import plt  # noqa: E402

# Fixed state order and colours so that every run's plots read the same way.
STATE_COLORS = {
    "user": "#1f77b4",             # userspace CPU (modprobe, udev)
    "kernel": "#2ca02c",           # kernel CPU, no lock held
    "kernel_locked": "#d62728",    # kernel CPU holding module_mutex
    "lock_spin": "#e377c2",        # spinning on module_mutex
    "runnable": "#ffd24d",         # waiting for a CPU
    "runnable_locked": "#ff7f0e",  # waiting for a CPU while holding the lock
    "lock_wait": "#9467bd",        # sleeping on module_mutex
    "io": "#8c564b",               # reading the .ko
    "sleep": "#c7c7c7",            # off-CPU wait (e.g. hardware in init)
    "dep_wait": "#17becf",         # waiting for a dependency's init
    "slot_wait": "#bcbd22",        # udev waiting for a free child slot
}
OTHER_COLOR = "#444444"
MAX_LANES = 200      # more tasks than this: show every k-th task in the Gantt
MAX_LOCK_BARS = 60   # more load attempts than this: histogram instead of bars


def ordered_states(timeline):
    """Known states in canonical order, then any unknown ones alphabetically."""
    present = set(timeline["state"])
    known = [s for s in STATE_COLORS if s in present]
    return known + sorted(present - set(STATE_COLORS))


def color(state):
    return STATE_COLORS.get(state, OTHER_COLOR)


def mark_times(ax, makespan, lower_bound):
    if makespan is not None:
        ax.axvline(makespan, color="black", linestyle="--", linewidth=1,
                   label=f"makespan {makespan:.4g} s")
    if lower_bound is not None:
        ax.axvline(lower_bound, color="black", linestyle=":", linewidth=1,
                   label=f"lower bound {lower_bound:.4g} s")


def plot_gantt(timeline, title, makespan, lower_bound, path):
    tasks = list(dict.fromkeys(timeline["task"]))  # order of creation
    step = max(1, math.ceil(len(tasks) / MAX_LANES))
    shown = tasks[::step]
    if "udev" in tasks and "udev" not in shown:
        shown.insert(0, "udev")
    lane = {t: i for i, t in enumerate(shown)}
    tl = timeline[timeline["task"].isin(lane)]
    height = min(30.0, max(3.0, 1.5 + 0.12 * len(shown)))
    fig, ax = plt.subplots(figsize=(12, height))
    for state in ordered_states(tl):
        rows = tl[tl["state"] == state]
        ax.barh(rows["task"].map(lane), rows["end_s"] - rows["start_s"],
                left=rows["start_s"], height=0.8, color=color(state),
                linewidth=0, label=state)
    mark_times(ax, makespan, lower_bound)
    label_every = max(1, math.ceil(len(shown) / 50))
    ax.set_yticks(range(0, len(shown), label_every))
    ax.set_yticklabels(shown[::label_every], fontsize=7)
    ax.set_ylim(max(len(shown), 1) - 0.5, -0.5)  # first task on top
    ax.set_xlabel("time (s)")
    sampled = (f" ({len(shown)} of {len(tasks)} tasks: 1 in {step})"
               if step > 1 else "")
    ax.set_title(f"{title}: task states{sampled}")
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=8)
    ax.grid(axis="x", alpha=0.3)
    return kio.save(fig, path)


def plot_lock(modules, title, path):
    mods = modules.sort_values(["load_start_s", "module"], kind="mergesort")
    fig, ax = plt.subplots(figsize=(12, 5))
    wait, hold = mods["lock_wait_s"].to_numpy(), mods["lock_hold_s"].to_numpy()
    if len(mods) == 0:
        ax.text(0.5, 0.5, "no load attempts in modules.csv", ha="center",
                transform=ax.transAxes)
    elif len(mods) <= MAX_LOCK_BARS:
        x = np.arange(len(mods))
        ax.bar(x - 0.2, wait, width=0.4, color=color("lock_wait"), label="lock wait")
        ax.bar(x + 0.2, hold, width=0.4, color=color("kernel_locked"), label="lock hold")
        labels = [m if o == "loaded" else f"{m} ({o})"
                  for m, o in zip(mods["module"], mods["outcome"])]
        ax.set_xticks(x)
        ax.set_xticklabels(labels, rotation=90, fontsize=7)
        ax.set_xlabel("load attempt (sorted by load start)")
        ax.set_ylabel("seconds")
    else:
        top = max(float(wait.max()), float(hold.max()))
        bins = np.linspace(0.0, top if top > 0 else 1.0, 41)
        ax.hist(wait, bins=bins, alpha=0.6, color=color("lock_wait"), label="lock wait")
        ax.hist(hold, bins=bins, alpha=0.6, color=color("kernel_locked"), label="lock hold")
        ax.set_yscale("log")
        ax.set_xlabel("seconds per load attempt")
        ax.set_ylabel("load attempts")
    ax.set_title(f"{title}: module_mutex per load attempt ({len(mods)} attempts; "
                 f"wait total {wait.sum():.4g} s, hold total {hold.sum():.4g} s)")
    if len(mods):
        ax.legend(fontsize=8)
    return kio.save(fig, path)


def state_counts(timeline):
    """Sweep the intervals: number of tasks in each state at each event time.

    Returns (times, {state: counts}); counts[i] holds on [times[i], times[i+1]).
    """
    times = np.unique(np.concatenate([timeline["start_s"].to_numpy(),
                                      timeline["end_s"].to_numpy()]))
    counts = {}
    for state in ordered_states(timeline):
        rows = timeline[timeline["state"] == state]
        starts = np.sort(rows["start_s"].to_numpy())
        ends = np.sort(rows["end_s"].to_numpy())
        counts[state] = (np.searchsorted(starts, times, side="right")
                         - np.searchsorted(ends, times, side="right"))
    return times, counts


def plot_states(timeline, title, makespan, lower_bound, cores, path):
    times, counts = state_counts(timeline)
    fig, ax = plt.subplots(figsize=(12, 5))
    base = np.zeros(len(times))
    for state, n in counts.items():
        ax.fill_between(times, base, base + n, step="post", color=color(state),
                        linewidth=0, label=state)
        base = base + n
    if cores is not None:
        ax.axhline(cores, color="grey", linewidth=1, label=f"{cores:g} cores")
    mark_times(ax, makespan, lower_bound)
    ax.set_xlabel("time (s)")
    ax.set_ylabel("tasks")
    ax.set_ylim(bottom=0)
    ax.set_title(f"{title}: tasks per state over time")
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=8)
    ax.grid(alpha=0.3)
    return kio.save(fig, path)


def run_title(summary):
    parts = [str(summary[k]) for k in ("scenario", "kernel", "machine", "workload")
             if summary.get(k) not in (None, "")]
    if summary.get("cores") is not None:
        parts.append(f"{summary['cores']} cores")
    return " / ".join(parts) or "kmodsim run"


def main():
    parser = argparse.ArgumentParser(
        description="Plot one kmodsim run folder: gantt.png (task states per "
                    "task), lock.png (module_mutex wait vs hold per load attempt) "
                    "and states.png (tasks per state over time).")
    parser.add_argument("run_dir", metavar="RUN_DIR",
                        help="output folder of `kmodsim run --out RUN_DIR` "
                             "(summary.json, timeline.csv, modules.csv)")
    parser.add_argument("-o", "--out", metavar="OUT_DIR",
                        help="folder for the PNGs (default: RUN_DIR)")
    args = parser.parse_args()
    out_dir = args.out or args.run_dir

    summary_path = os.path.join(args.run_dir, "summary.json")
    summary = kio.read_summary(args.run_dir)
    timeline = kio.read_timeline(args.run_dir)
    modules = kio.read_modules(args.run_dir)
    makespan = kio.summary_number(summary, "makespan_s", summary_path, required=False)
    if makespan is None and len(timeline):
        makespan = float(timeline["end_s"].max())
    lower = kio.summary_number(summary, "bounds.lower_s", summary_path, required=False)
    cores = kio.summary_number(summary, "cores", summary_path, required=False)
    title = run_title(summary)

    os.makedirs(out_dir, exist_ok=True)
    written = [
        plot_gantt(timeline, title, makespan, lower, os.path.join(out_dir, "gantt.png")),
        plot_lock(modules, title, os.path.join(out_dir, "lock.png")),
        plot_states(timeline, title, makespan, lower, cores,
                    os.path.join(out_dir, "states.png")),
    ]
    for path in written:
        print(path)


if __name__ == "__main__":
    kio.run_main(main)
