"""Generates the benchmark data: a reference sample and a drifted data set of N rows,
as CSV and Parquet, plus the mlgate schema and project. Usage: generate.py DIR ROWS"""
import os
import sys

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

CITIES = [f"city_{i:02d}" for i in range(40)]
PLANS = ["basic", "plus", "pro", "enterprise"]
DEVICES = ["ios", "android", "web", "desktop", "tv", "other"]


def table(rng, start, n, drift):
    income = rng.lognormal(10.5 + (0.15 if drift else 0.0), 0.6, n).round(2)
    income_mask = rng.random(n) < 0.02  # 2% missing
    plan_p = [0.4, 0.3, 0.2, 0.1] if not drift else [0.25, 0.3, 0.25, 0.2]
    return pa.table({
        "id": pa.array(np.arange(start, start + n, dtype=np.int64)),
        "age": pa.array(rng.integers(18, 90, n)),
        "income": pa.array(income, mask=income_mask),
        "score": pa.array(rng.normal(0.5 + (0.1 if drift else 0.0), 0.15, n).round(4)),
        "balance": pa.array(rng.gamma(2.0, 1500.0, n).round(2)),
        "tenure": pa.array(rng.integers(0, 120, n)),
        "sessions": pa.array(rng.poisson(7, n)),
        "city": pa.array(np.array(CITIES)[rng.integers(0, len(CITIES), n)]),
        "plan": pa.array(np.array(PLANS)[rng.choice(4, n, p=plan_p)]),
        "device": pa.array(np.array(DEVICES)[rng.integers(0, len(DEVICES), n)]),
        "churned": pa.array(np.where(rng.random(n) < 0.2, "yes", "no")),
    })


SCHEMA = """columns:
  id: {type: integer, min: 0}
  age: {type: integer, min: 18, max: 100}
  income: {type: float, min: 0, max_null_share: 0.05}
  score: {type: float}
  balance: {type: float, min: 0}
  tenure: {type: integer, min: 0, max: 240}
  sessions: {type: integer, min: 0}
  city: {type: string, pattern: 'city_[0-9]{2}'}
  plan: {type: string, allowed: [basic, plus, pro, enterprise]}
  device: {type: string, allowed: [ios, android, web, desktop, tv, other]}
  churned: {type: string, allowed: ["yes", "no"]}
"""


def main():
    out, rows = sys.argv[1], int(sys.argv[2])
    os.makedirs(out, exist_ok=True)
    rng = np.random.default_rng(7)
    pacsv.write_csv(table(rng, 0, 200_000, False), f"{out}/reference.csv")
    pacsv.write_csv(table(rng, 0, 1000, False), f"{out}/eval.csv")
    chunk = 1_000_000
    csv_writer = pq_writer = None
    for start in range(0, rows, chunk):
        t = table(rng, start, min(chunk, rows - start), True)
        if csv_writer is None:
            csv_writer = pacsv.CSVWriter(f"{out}/current.csv", t.schema)
            pq_writer = pq.ParquetWriter(f"{out}/current.parquet", t.schema)
        csv_writer.write_table(t)
        pq_writer.write_table(t, row_group_size=256 * 1024)
    csv_writer.close()
    pq_writer.close()
    with open(f"{out}/schema.yaml", "w") as f:
        f.write(SCHEMA)


if __name__ == "__main__":
    main()
