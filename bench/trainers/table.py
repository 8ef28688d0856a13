"""Turns the benchmark's JSON lines (both sides) into the markdown table of docs/benchmarks-trainers.md.

Usage: python table.py < LINES.jsonl

One run per case and side: one row per case and metric, as in the docs. Several runs
(`bench/trainers/run large`, lines with a `repeat`): medians per side with min–max, the
ratio of the medians and the range of the per-repeat ratios (the sides ran in turn, so
repeat r of one side saw the same machine as repeat r of the other). Lines with
"side": "machine" (the load before and after) are listed under the table.
"""
import json
import statistics
import sys

METRICS = ("accuracy", "roc_auc", "rmse")
SIDES = ("mlgate", "scikit-learn")


def key(r):
    return (r["data"], r["algorithm"])


def quality_verdict(metric, a, b):
    """Δ as printed, and whether mlgate's `a` meets the target against scikit-learn's `b`."""
    if metric == "rmse":
        return f"{(a - b) / b * 100:+.2f} %", a <= b * 1.02
    return f"{(a - b) * 100:+.2f} pt", a >= b - 0.01


def verdict_text(checks, note=""):
    missed = ", ".join(name for name, ok in checks if not ok)
    text = "all met" if not missed else "missed: " + missed
    return text + (f"; {note}" if note else "")


def single(groups):
    print("| data | algorithm | metric | mlgate | scikit-learn | Δ | train s (mlgate / sklearn) | ratio | predict rows/s (mlgate / sklearn) | ratio | targets |")
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    for k, sides in groups.items():
        if not sides["mlgate"] or not sides["scikit-learn"]:
            continue
        m, s = sides["mlgate"][-1], sides["scikit-learn"][-1]
        for metric in METRICS:
            if metric not in m:
                continue
            a, b = m[metric], s[metric]
            delta, ok_quality = quality_verdict(metric, a, b)
            t = m["train_seconds"] / s["train_seconds"]
            p = m["rows_per_second"] / s["rows_per_second"]
            verdict = verdict_text((("quality", ok_quality), ("time", t <= 1), ("throughput", p >= 1)))
            print(f"| {k[0]} | {k[1]} | {metric} | {a:.4f} | {b:.4f} | {delta} | "
                  f"{m['train_seconds']:.3f} / {s['train_seconds']:.3f} | {t:.2f} | "
                  f"{m['rows_per_second']:,.0f} / {s['rows_per_second']:,.0f} | {p:.2f} | "
                  f"{verdict} |")


def spread(values, fmt):
    """`median (min–max)`, or the single value."""
    med = statistics.median(values)
    if len(values) == 1:
        return format(med, fmt)
    return f"{format(med, fmt)} ({format(min(values), fmt)}–{format(max(values), fmt)})"


def quality_cell(values):
    distinct = sorted(set(values))
    if len(distinct) == 1:
        return f"{distinct[0]:.4f}"
    return f"{statistics.median(values):.4f} ({distinct[0]:.4f}–{distinct[-1]:.4f})"


def iterations_cell(runs):
    its = sorted({r["iterations"] for r in runs if "iterations" in r})
    if not its:
        return "?"
    return str(its[0]) if len(its) == 1 else f"{its[0]}–{its[-1]}"


def repeated(groups):
    with_iterations = any("iterations" in r for sides in groups.values() for runs in sides.values() for r in runs)
    print("| data | algorithm | metric | mlgate | scikit-learn | Δ | train s mlgate: median (min–max) | "
          "train s sklearn: median (min–max) | ratio of medians | ratio per repeat (min–max) | "
          "predict rows/s medians (mlgate / sklearn) | ratio | "
          + ("iterations (mlgate / sklearn) | " if with_iterations else "") + "runs | targets |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|" + ("---|" if with_iterations else "") + "---|---|")
    problems = []
    for k, sides in groups.items():
        ms, ss = sides["mlgate"], sides["scikit-learn"]
        if not ms or not ss:
            problems.append(f"{k[0]} / {k[1]}: no {'scikit-learn' if ms else 'mlgate'} run")
            continue
        mt, st = [r["train_seconds"] for r in ms], [r["train_seconds"] for r in ss]
        mp, sp = [r["rows_per_second"] for r in ms], [r["rows_per_second"] for r in ss]
        t = statistics.median(mt) / statistics.median(st)
        p = statistics.median(mp) / statistics.median(sp)
        # Repeat r of one side against repeat r of the other (they ran back to back).
        by_repeat = {r.get("repeat"): r["train_seconds"] for r in ss}
        paired = [r["train_seconds"] / by_repeat[r.get("repeat")] for r in ms if r.get("repeat") in by_repeat]
        paired_cell = f"{min(paired):.2f}–{max(paired):.2f}" if paired else "–"
        note = ""
        if len(mt) > 1 and len(st) > 1 and max(mt) >= min(st) and max(st) >= min(mt):
            note = "time ranges overlap"
        for metric in METRICS:
            if metric not in ms[0]:
                continue
            mq, sq = [r[metric] for r in ms], [r[metric] for r in ss]
            if len(set(mq)) > 1:
                problems.append(f"{k[0]} / {k[1]}: mlgate's {metric} differs between repeats {sorted(set(mq))}")
            delta, ok_quality = quality_verdict(metric, statistics.median(mq), statistics.median(sq))
            verdict = verdict_text((("quality", ok_quality), ("time", t <= 1), ("throughput", p >= 1)), note)
            runs = str(len(ms)) if len(ms) == len(ss) else f"{len(ms)} / {len(ss)}"
            print(f"| {k[0]} | {k[1]} | {metric} | {quality_cell(mq)} | {quality_cell(sq)} | {delta} | "
                  f"{spread(mt, '.3f')} | {spread(st, '.3f')} | {t:.2f} | {paired_cell} | "
                  f"{statistics.median(mp):,.0f} / {statistics.median(sp):,.0f} | {p:.2f} | "
                  + (f"{iterations_cell(ms)} / {iterations_cell(ss)} | " if with_iterations else "")
                  + f"{runs} | {verdict} |")
    for problem in problems:
        print(f"\n**{problem}**")


def main():
    rows = [json.loads(line) for line in sys.stdin if line.startswith("{")]
    groups = {}
    for r in rows:
        if r.get("side") in SIDES:
            groups.setdefault(key(r), {side: [] for side in SIDES})[r["side"]].append(r)
    several = any(len(runs) > 1 for sides in groups.values() for runs in sides.values())
    (repeated if several else single)(groups)
    loads = [r for r in rows if r.get("side") == "machine"]
    if loads:
        print()
        for r in loads:
            print(f"load {r['when']} ({r['time']}): {r['loadavg']}  [uptime: {r['uptime']}]")


if __name__ == "__main__":
    main()
