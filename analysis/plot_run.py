#!/usr/bin/python3
"""Plot one kmodsim run: gantt, lock, states (each as .png and .svg).

Reads RUN_DIR/summary.json, RUN_DIR/timeline.csv and RUN_DIR/modules.csv
(written by `kmodsim run ... --out RUN_DIR`) and writes the three figures,
PNG and SVG, into OUT_DIR (default RUN_DIR). Prints the paths written. On a missing or
malformed input prints `error: <file>: <what>` to stderr and exits 2.
"""

import argparse
import math
import os
import sys

import numpy as np
import pandas as pd

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


ON_CPU = ["user", "kernel", "kernel_locked", "lock_spin"]  # states that use a core
NAMED_LANES = 60     # more tasks than this: lanes are named by module only
LANE_IN = 0.13       # lane pitch of the Gantt, inches (6.5 pt labels fit)
LABEL_PT = 6.5


def cpu_column(timeline):
    """The `cpu` column as integers (-1 when empty, negative or not a number)."""
    return pd.to_numeric(timeline["cpu"], errors="coerce").fillna(-1).astype(int)


def task_order(timeline):
    """Tasks grouped and sorted: non-modprobe tasks (udevd) first, then the
    modprobe tasks by first start time (ties: order of creation)."""
    first = timeline.groupby("task", sort=False)["start_s"].min()
    created = {t: i for i, t in enumerate(dict.fromkeys(timeline["task"]))}
    return sorted(first.index, key=lambda t: (str(t).startswith("modprobe"),
                                              first[t], created[t]))


def lane_labels(timeline, modules, tasks, with_task):
    """Lane name per task: the module its modprobe was started for (the last
    one it works on: modprobe loads the dependencies first), `+N` for the
    dependencies it works on too, and the outcome of that module when it is
    not `loaded` (`already loaded`: no init_module call, modprobe found it in
    /proc/modules). With with_task the task name comes first. Returns
    (labels, busy) where busy is False for lanes that load nothing."""
    mods = {}
    for task, module in zip(timeline["task"], timeline["module"]):
        if module:
            mods.setdefault(task, dict())[module] = None
    outcome = {}
    if modules is not None:
        for task, module, out in zip(modules["task"], modules["module"],
                                     modules["outcome"]):
            outcome[(task, module)] = out
    labels, busy = [], []
    for task in tasks:
        names = list(mods.get(task, {}))
        if not names:
            labels.append(f"{task}: no module" if str(task).startswith("modprobe")
                          else str(task))
            busy.append(not str(task).startswith("modprobe"))
            continue
        target = names[-1]
        text = target + (f" +{len(names) - 1}" if len(names) > 1 else "")
        out = outcome.get((task, target), "already loaded" if modules is not None
                          else "loaded")
        if out and out != "loaded":
            text += f" ({out})"
        labels.append(f"{task}: {text}" if with_task else text)
        busy.append(out == "loaded" or len(names) > 1)
    return labels, busy


def draw_bars(ax, rows, lane_y, height, state_col="state"):
    """One PolyCollection per state (fast for thousands of intervals)."""
    from matplotlib.collections import PolyCollection
    half = height / 2
    for state in ordered_states(rows):
        r = rows[rows[state_col] == state]
        y = r["_lane"].to_numpy() if lane_y is None else lane_y(r)
        x0, x1 = r["start_s"].to_numpy(), r["end_s"].to_numpy()
        verts = np.stack([np.column_stack([x0, y - half]), np.column_stack([x0, y + half]),
                          np.column_stack([x1, y + half]), np.column_stack([x1, y - half])],
                         axis=1)
        ax.add_collection(PolyCollection(verts, facecolors=color(state),
                                         edgecolors="none", linewidths=0,
                                         antialiaseds=False))


def cpu_busy(timeline):
    """(times, {on-CPU state: tasks in it}) from the on-CPU intervals only."""
    on = timeline[timeline["state"].isin(ON_CPU)]
    if len(on) == 0:
        return np.array([0.0]), {}
    return state_counts(on)


def plot_gantt(timeline, title, makespan, lower_bound, path, modules=None,
               cores=None, boot=False):
    """Task lanes coloured by state under a CPU strip (busy cores by state,
    and one lane per core when the CPU model records the core in `cpu`).

    boot: the timeline of a real boot (`kmodsim trace-import`: one `kernel`
    row per module init): the time axis starts near the first init and every
    init's start is ticked, so that inits of a few microseconds still show.
    Writes path (.png) and the .svg beside it; returns both paths."""
    from matplotlib.patches import Patch
    tasks = task_order(timeline)
    step = max(1, math.ceil(len(tasks) / MAX_LANES))
    shown = tasks[::step]
    for t in tasks:  # udevd (and any other non-modprobe task) always shown
        if not str(t).startswith("modprobe") and t not in shown:
            shown.insert(0, t)
    shown.sort(key=tasks.index)
    lane = {t: i for i, t in enumerate(shown)}
    tl = timeline[timeline["task"].isin(lane)].copy()
    tl["_lane"] = tl["task"].map(lane)
    cpu = cpu_column(timeline)
    per_core = timeline[cpu >= 0].copy()
    per_core["_lane"] = cpu[cpu >= 0]
    n_cores = int(per_core["_lane"].max()) + 1 if len(per_core) else 0
    if cores is not None:
        n_cores = max(n_cores, int(cores)) if len(per_core) else 0

    gantt_in = max(1.5, LANE_IN * len(shown))
    busy_in = 1.3
    core_in = min(3.0, max(0.6, 0.16 * n_cores)) if n_cores else 0.0
    heights = [busy_in] + ([core_in] if n_cores else []) + [gantt_in]
    fig = plt.figure(figsize=(12, sum(heights) + 1.4))
    grid = fig.add_gridspec(len(heights), 1, height_ratios=heights, hspace=0.08)
    ax_busy = fig.add_subplot(grid[0])
    ax_core = fig.add_subplot(grid[1], sharex=ax_busy) if n_cores else None
    ax = fig.add_subplot(grid[-1], sharex=ax_busy)

    # CPU strip: tasks on a core, stacked by state, against the core count.
    times, counts = cpu_busy(timeline)
    base = np.zeros(len(times))
    for state, n in counts.items():
        ax_busy.fill_between(times, base, base + n, step="post", color=color(state),
                             linewidth=0)
        base = base + n
    top = max(float(base.max()) if len(base) else 0.0, cores or 0.0, 1.0)
    if cores is not None:
        ax_busy.axhline(cores, color="grey", linewidth=1)
        ax_busy.text(1.0, cores, f" {cores:g} cores", color="grey", fontsize=7,
                     va="center", ha="left", transform=ax_busy.get_yaxis_transform())
    ax_busy.set_ylim(0, top * 1.08)
    ax_busy.set_ylabel("on CPU", fontsize=8)
    ax_busy.tick_params(labelbottom=False, labeltop=True, top=True, labelsize=7)
    ax_busy.grid(alpha=0.3)
    if ax_core is not None:
        draw_bars(ax_core, per_core, None, 0.8)
        every = max(1, math.ceil(n_cores / 16))
        ax_core.set_yticks(range(0, n_cores, every))
        ax_core.set_yticklabels([f"cpu{c}" for c in range(0, n_cores, every)],
                                fontsize=LABEL_PT)
        ax_core.set_ylim(n_cores - 0.5, -0.5)
        ax_core.tick_params(labelbottom=False)
        ax_core.grid(axis="x", alpha=0.3)

    draw_bars(ax, tl, None, 0.8)
    if boot:
        for state in ordered_states(tl):
            r = tl[tl["state"] == state]
            ax.plot(r["start_s"], r["_lane"], linestyle="none", marker="|", markersize=4,
                    markeredgewidth=1.0, color=color(state))
    for a in [ax_busy, ax] + ([ax_core] if ax_core is not None else []):
        mark_times(a, makespan, lower_bound)
    named = len(tasks) > NAMED_LANES
    labels, busy = lane_labels(timeline, modules, shown, with_task=not named)
    label_every = max(1, math.ceil(LABEL_PT * 1.05 / (72 * gantt_in / max(len(shown), 1))))
    ax.set_yticks(range(0, len(shown), label_every))
    ax.set_yticklabels(labels[::label_every], fontsize=LABEL_PT)
    for tick, loads in zip(ax.get_yticklabels(), busy[::label_every]):
        if not loads:  # nothing loaded by this task: grey name
            tick.set_color("#888888")
    ax.set_ylim(max(len(shown), 1) - 0.5, -0.5)  # first task on top
    end = max([float(timeline["end_s"].max()) if len(timeline) else 0.0]
              + [v for v in (makespan, lower_bound) if v is not None])
    start = 0.0
    if boot and len(timeline):
        first = float(timeline["start_s"].min())
        start = max(0.0, first - 0.02 * (end - first))
    ax.set_xlim(start, end + 0.02 * (end - start) if end > start else start + 1.0)
    ax.set_xlabel("time (s)")
    ax.grid(axis="x", alpha=0.3)
    sampled = (f"; {len(shown)} of {len(tasks)} tasks shown, 1 in {step}"
               if step > 1 else "")
    lanes = ("lanes: the module each modprobe loads (+N dependencies), grey: loads nothing"
             if named else "lanes: task: module it loads (+N dependencies), grey: loads nothing")
    strip = "tasks on a CPU by state" + ("; middle: state on each core" if n_cores else "")
    what = "task states"
    if boot:
        what, strip = "module inits", "inits running at once"
        lanes = ("lanes: one per task (pid), named by the module it inits (+N more inits by it); "
                 "ticks: init starts")
        ax_busy.set_ylabel("inits running", fontsize=8)
    ax_busy.set_title(f"{title}: {what}\ntop: {strip}; {lanes}{sampled}", fontsize=9)
    handles = [Patch(color=color(s), label=s) for s in ordered_states(timeline)]
    if makespan is not None:
        handles.append(plt.Line2D([], [], color="black", linestyle="--", linewidth=1,
                                  label=f"makespan {makespan:.4g} s"))
    if lower_bound is not None:
        handles.append(plt.Line2D([], [], color="black", linestyle=":", linewidth=1,
                                  label=f"lower bound {lower_bound:.4g} s"))
    ax_busy.legend(handles=handles, loc="upper left", bbox_to_anchor=(1.06, 1.0),
                   fontsize=8)
    return kio.save_png_svg(fig, path)


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
    return kio.save_png_svg(fig, path)


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
    return kio.save_png_svg(fig, path)


def run_title(summary):
    parts = [str(summary[k]) for k in ("scenario", "kernel", "machine", "workload")
             if summary.get(k) not in (None, "")]
    if summary.get("cores") is not None:
        parts.append(f"{summary['cores']} cores")
    return " / ".join(parts) or "kmodsim run"


def plot_all(summary, timeline, modules, out_dir, summary_path="summary.json"):
    """Write gantt, lock and states (.png and .svg) into out_dir; return the
    paths. Used by main() and, in-process, by report.py."""
    makespan = kio.summary_number(summary, "makespan_s", summary_path, required=False)
    if makespan is None and len(timeline):
        makespan = float(timeline["end_s"].max())
    lower = kio.summary_number(summary, "bounds.lower_s", summary_path, required=False)
    cores = kio.summary_number(summary, "cores", summary_path, required=False)
    title = run_title(summary)
    os.makedirs(out_dir, exist_ok=True)
    return (plot_gantt(timeline, title, makespan, lower, os.path.join(out_dir, "gantt.png"),
                       modules, cores)
            + plot_lock(modules, title, os.path.join(out_dir, "lock.png"))
            + plot_states(timeline, title, makespan, lower, cores,
                          os.path.join(out_dir, "states.png")))


def main():
    parser = argparse.ArgumentParser(
        description="Plot one kmodsim run folder: gantt.png (task states per "
                    "task), lock.png (module_mutex wait vs hold per load attempt) "
                    "and states.png (tasks per state over time).")
    parser.add_argument("run_dir", metavar="RUN_DIR",
                        help="output folder of `kmodsim run --out RUN_DIR` "
                             "(summary.json, timeline.csv, modules.csv)")
    parser.add_argument("-o", "--out", metavar="OUT_DIR",
                        help="folder for the PNGs and SVGs (default: RUN_DIR)")
    args = parser.parse_args()
    out_dir = args.out or args.run_dir

    summary_path = os.path.join(args.run_dir, "summary.json")
    summary = kio.read_summary(args.run_dir)
    timeline = kio.read_timeline(args.run_dir)
    modules = kio.read_modules(args.run_dir)
    for path in plot_all(summary, timeline, modules, out_dir, summary_path):
        print(path)


if __name__ == "__main__":
    kio.run_main(main)
