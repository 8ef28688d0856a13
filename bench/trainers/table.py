"""Turns the benchmark's JSON lines (both sides) into the markdown table of docs/benchmarks-trainers.md."""
import json
import sys

rows = [json.loads(line) for line in sys.stdin if line.startswith("{")]
key = lambda r: (r["data"], r["algorithm"])
ours = {key(r): r for r in rows if r["side"] == "mlgate"}
theirs = {key(r): r for r in rows if r["side"] == "scikit-learn"}
print("| data | algorithm | metric | mlgate | scikit-learn | Δ | train s (mlgate / sklearn) | ratio | predict rows/s (mlgate / sklearn) | ratio | targets |")
print("|---|---|---|---|---|---|---|---|---|---|---|")
for k, m in ours.items():
    s = theirs.get(k)
    if not s:
        continue
    for metric in ("accuracy", "roc_auc", "rmse"):
        if metric not in m:
            continue
        a, b = m[metric], s[metric]
        if metric == "rmse":
            delta, ok_quality = f"{(a - b) / b * 100:+.2f} %", a <= b * 1.02
        else:
            delta, ok_quality = f"{(a - b) * 100:+.2f} pt", a >= b - 0.01
        t = m["train_seconds"] / s["train_seconds"]
        p = m["rows_per_second"] / s["rows_per_second"]
        verdict = ", ".join(
            name for name, ok in (("quality", ok_quality), ("time", t <= 1), ("throughput", p >= 1)) if not ok
        )
        print(f"| {k[0]} | {k[1]} | {metric} | {a:.4f} | {b:.4f} | {delta} | "
              f"{m['train_seconds']:.3f} / {s['train_seconds']:.3f} | {t:.2f} | "
              f"{m['rows_per_second']:,.0f} / {s['rows_per_second']:,.0f} | {p:.2f} | "
              f"{'all met' if not verdict else 'missed: ' + verdict} |")
