#!/usr/bin/env python3
"""Writes the benchmark's upload: about 10 MB of CSV shaped like examples/churn's data.

Rows come from the example's own generator (examples/churn/generate.py: its `customer`
draw and column order, standard library only, seeded), so every row passes the example's
schema (data/schema.yaml) and the file reads like a month of the example's incoming data.
Deterministic: the same bytes on every run.

Usage: data.py OUT.csv [BYTES]     (BYTES: the size to reach, default 10 000 000)
"""

import importlib.util
import os
import sys

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
SEED_STREAM = 14  # a stream of its own, not one of the example's four files


def example_generator():
    path = os.path.join(ROOT, "examples", "churn", "generate.py")
    spec = importlib.util.spec_from_file_location("churn_generate", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def write(out, size):
    gen = example_generator()
    draw = gen.Draw(gen.SEED * 10 + SEED_STREAM)
    tmp = out + ".part"
    rows = 0
    with open(tmp, "w", encoding="utf-8", newline="\n") as f:
        header = ",".join(gen.COLUMNS) + "\n"
        f.write(header)
        written = len(header)
        while written < size:
            row = gen.customer(draw, False)
            rows += 1
            row["customer_id"] = f"C{rows:06d}"
            line = ",".join(row[c] for c in gen.COLUMNS) + "\n"
            f.write(line)
            written += len(line)
    if rows > 999_999:
        sys.exit("data.py: more rows than six-digit customer ids allow")
    os.replace(tmp, out)
    return rows, written


def main():
    if len(sys.argv) not in (2, 3):
        sys.exit(__doc__)
    size = int(sys.argv[2]) if len(sys.argv) == 3 else 10_000_000
    rows, written = write(sys.argv[1], size)
    print(f"data: {sys.argv[1]}: {rows} rows, {written} bytes", file=sys.stderr)


if __name__ == "__main__":
    main()
