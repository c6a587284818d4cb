#!/usr/bin/python3
"""Simulated against replayed (experiments/validation.py): reads DIR/sim/runs.csv (the
simulations) and DIR/replay/*/summary.json (the real-thread replays) and writes

  DIR/validation.csv   one row per (kernel, cores, CPU model, preemption, figure): simulated,
                       replayed mean and sd over the replays, relative error (sim - real) / real
  DIR/validation.json  per CPU model and preemption: the largest |makespan error| over the
                       points, how many points it has and which are missing (a failed
                       simulation), whether every point is within 5% (null with a point
                       missing); the best setting (the complete ones first)
  DIR/validation.md    the tables for the README
  DIR/validation.png, .svg  makespan per point: the replays (mean, min-max) and every setting

validation.py DIR
"""
import glob
import json
import os
import sys

import matplotlib
matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402

FIGURES = [("makespan_s", "makespan_s"), ("lock.acquisitions", "lock.acquisitions"),
           ("lock.contentions", "lock.contentions"), ("lock.wait_total_s", "lock.wait_total_s"),
           ("lock.hold_total_s", "lock.hold_total_s")]
TARGET = 0.05


def die(msg):
    sys.exit(f"error: {msg}")


def flat(d, pre=""):
    out = {}
    for k, v in d.items():
        if isinstance(v, dict):
            out.update(flat(v, pre + k + "."))
        else:
            out[pre + k] = v
    return out


def main():
    if len(sys.argv) != 2:
        die("usage: validation.py DIR")
    d = sys.argv[1]
    runs_csv = os.path.join(d, "sim", "runs.csv")
    try:
        sim = pd.read_csv(runs_csv)
    except (OSError, ValueError) as e:
        die(f"{runs_csv}: {e}")
    need = {"kernel", "cores", "scheduler", "axis.kernel.preemption", "status", "makespan_s"}
    if not need <= set(sim.columns):
        die(f"{runs_csv}: not the validation sweep's runs.csv (missing {', '.join(sorted(need - set(sim.columns)))})")
    sim = sim.rename(columns={"axis.kernel.preemption": "preemption"})
    if "axis.machine.scheduler.model" in sim.columns:  # a failed run has no summary: its model is the axis
        sim["scheduler"] = sim["scheduler"].where(sim["scheduler"].notna(), sim["axis.machine.scheduler.model"])
    failed = sim[sim.status != "ok"]
    if len(failed):
        print(f"warning: {runs_csv}: {len(failed)} failed runs left out (their points are missing from "
              f"their settings)", file=sys.stderr)
    settings = sorted(set(zip(sim.scheduler.astype(str), sim.preemption.astype(str))))
    sim = sim[sim.status == "ok"]
    rows = []
    for path in sorted(glob.glob(os.path.join(d, "replay", "*", "summary.json"))):
        try:
            with open(path) as f:
                s = flat(json.load(f))
        except (OSError, ValueError) as e:
            die(f"{path}: {e}")
        if "replay.threads" not in s:
            die(f"{path}: not a kmodsim replay summary")
        rows.append(s)
    if not rows:
        die(f"{d}/replay/: no replay summaries (run experiments/validation.py)")
    real = pd.DataFrame(rows)
    out, tidy = [], []
    for (kernel, cores), g in real.groupby(["kernel", "cores"]):
        s = sim[(sim.kernel == kernel) & (sim.cores == cores)]
        if s.empty and failed.empty:
            die(f"no simulation of {kernel} on {cores} cores in {runs_csv}")
        for _, row in s.iterrows():
            for label, col in FIGURES:
                rv = g[col].astype(float)
                sv = float(row[col])
                m = float(rv.mean())
                tidy.append({"kernel": kernel, "cores": cores, "model": row["scheduler"],
                             "preemption": row["preemption"], "figure": label, "simulated": sv,
                             "replayed_mean": m, "replayed_sd": float(rv.std(ddof=1)) if len(rv) > 1 else 0.0,
                             "replayed_min": float(rv.min()), "replayed_max": float(rv.max()), "replays": len(rv),
                             "rel_error": (sv - m) / m if m else float("nan")})
        out.append((kernel, cores, g))
    t = pd.DataFrame(tidy)
    t.to_csv(os.path.join(d, "validation.csv"), index=False)

    mk = t[t.figure == "makespan_s"] if len(t) else pd.DataFrame(columns=["model", "preemption", "kernel", "cores",
                                                                           "rel_error", "replays", "simulated"])
    points = [(kernel, cores) for kernel, cores, _ in out]
    entries = []
    for m, p in settings:  # every setting of the sweep, also one whose runs all failed
        e = mk[(mk.model == m) & (mk.preemption == p)]
        have = set(zip(e.kernel, e.cores))
        missing = [f"{k}/{c}" for k, c in points if (k, c) not in have]
        err = float(e.rel_error.abs().max()) if len(e) else None
        entries.append({"model": m, "preemption": p,
                        "max_abs_makespan_error": None if err is None else round(err, 4),
                        "points": len(have), "missing_points": missing,
                        "all_points_within_target": None if missing or err is None else bool(err <= TARGET)})
    # complete settings first, then by their largest error
    entries.sort(key=lambda x: (bool(x["missing_points"]), x["max_abs_makespan_error"] is None,
                                x["max_abs_makespan_error"] or 0.0))
    worst = [(x["model"], x["preemption"]) for x in entries]
    best = entries[0]
    summary = {"target_abs_rel_error": TARGET, "settings": entries,
               "best": {k: best[k] for k in ("model", "preemption", "max_abs_makespan_error",
                                             "all_points_within_target", "missing_points")},
               "points": len(out), "replays_per_point": int(mk.replays.min()) if len(mk) else 0}
    with open(os.path.join(d, "validation.json"), "w") as f:
        json.dump(summary, f, indent=2, allow_nan=False)

    lines = ["Makespan, simulated against replayed (mean of the replays; error = sim / real - 1):", "",
             "| kernel | cores | replayed (min-max) | " + " | ".join(f"{m} / {p}" for m, p in worst) + " |",
             "|---|---:|---:|" + "---:|" * len(worst)]
    for (kernel, cores), g in mk.groupby(["kernel", "cores"]):
        r = g.iloc[0]
        cells = []
        for m, p in worst:
            e = g[(g.model == m) & (g.preemption == p)]
            cells.append(f"{e.simulated.iloc[0]:.3f} s ({e.rel_error.iloc[0]:+.1%})" if len(e) else "failed")
        lines.append(f"| {kernel} | {cores} | {r.replayed_mean:.3f} s ({r.replayed_min:.3f}-{r.replayed_max:.3f}) | "
                     + " | ".join(cells) + " |")
    for x in entries:
        if x["missing_points"]:
            lines += ["", f"{x['model']} / {x['preemption']}: no simulation of {', '.join(x['missing_points'])} "
                          f"(failed): its largest error is over {x['points']} of {len(points)} points."]
    err = best["max_abs_makespan_error"]
    best = (best["model"], best["preemption"])
    lines += ["", f"Best setting: {best[0]} / {best[1]} (largest makespan error "
                  f"{'-' if err is None else format(err, '.1%')}).", "",
              f"Lock figures under {best[0]} / {best[1]}:", "",
              "| kernel | cores | figure | simulated | replayed | error |", "|---|---:|---|---:|---:|---:|"]
    bt = t[(t.model == best[0]) & (t.preemption == best[1]) & (t.figure != "makespan_s")] if len(t) else t
    for _, r in bt.iterrows():
        lines.append(f"| {r.kernel} | {r.cores} | {r.figure} | {r.simulated:.4g} | {r.replayed_mean:.4g} | "
                     f"{r.rel_error:+.1%} |")
    text = "\n".join(lines) + "\n"
    with open(os.path.join(d, "validation.md"), "w") as f:
        f.write(text)

    fig, ax = plt.subplots(figsize=(8, 4.2))
    pts = list(mk.groupby(["kernel", "cores"]))
    markers = "osD^v<>"
    for i, ((kernel, cores), g) in enumerate(pts):
        r = g.iloc[0]
        ax.bar(i, r.replayed_mean, color="lightgray", edgecolor="k", width=0.6,
               label="replayed (real threads)" if i == 0 else None)
        ax.errorbar(i, r.replayed_mean, yerr=[[r.replayed_mean - r.replayed_min], [r.replayed_max - r.replayed_mean]],
                    color="k", capsize=4)
        for j, (m, p) in enumerate(worst):
            e = g[(g.model == m) & (g.preemption == p)]
            if len(e):
                ax.plot(i - 0.25 + 0.5 * j / max(1, len(worst) - 1), e.simulated.iloc[0], markers[j % len(markers)],
                        color=f"C{j}",
                        label=f"sim {m} / {p}" if i == 0 else None)
    ax.set_xticks(range(len(pts)))
    ax.set_xticklabels([f"{k}\n{c} core{'s' if c > 1 else ''}" for (k, c), _ in pts], fontsize=8)
    ax.set_ylabel("coldplug makespan (s)")
    ax.set_title("simulated vs replayed on real cores")
    ax.legend(fontsize=7, ncol=2)
    fig.tight_layout()
    for ext in ("png", "svg"):
        fig.savefig(os.path.join(d, f"validation.{ext}"), dpi=120)
    print(text, end="")
    print(f"outputs in {d}/ (validation.csv, validation.json, validation.md, validation.png)")


if __name__ == "__main__":
    main()
