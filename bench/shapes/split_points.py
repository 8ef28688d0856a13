"""Where a CSV file's split points fall. A plain CSV file is read in parts, one per core,
each starting after a line break near its share of the bytes; a line break inside a
quoted field (text of several lines) is no row boundary. This writes VARIANTS copies of a
shape's CSV, each without its first 37·r rows (r = 0, 1, …), so that the split points
fall somewhere else in each, and times `validate-data` with each binary given beside polars'
bare read of the same file, in turn, ROUNDS times. Prints a Markdown table of medians per
copy and whether each split point of the copy falls inside quotes (parsed from the start
of the file by Python's csv module, as mlgate's split is computed: the first line break
after `len / parts · k`).
Usage: split_points.py SHAPE_DIR VARIANTS ROUNDS MLGATE_BIN [MLGATE_BIN...]
(run with the bench/shapes virtualenv's Python; copies go to SHAPE_DIR/split-points/)"""
import importlib.util
import os
import statistics
import sys

import polars as pl

HERE = os.path.dirname(os.path.abspath(__file__))
_spec = importlib.util.spec_from_file_location("bench_measure", os.path.join(HERE, "..", "measure.py"))
bench = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(bench)

SHAPE, VARIANTS, ROUNDS = os.path.abspath(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
BINS = [os.path.abspath(b) for b in sys.argv[4:]]
COMPETITORS = os.path.join(HERE, "competitors.py")
PARTS = min(os.cpu_count() or 1, 8)


def fail(text):
    sys.exit(f"bench/shapes/split_points: {text}")


def write_copy(folder, skip):
    """The shape's CSV without its first `skip` rows, and a project validating it against
    the shape's schema, evaluation file and drift reference."""
    os.makedirs(folder, exist_ok=True)
    path = os.path.join(folder, "current.csv")
    if not os.path.exists(path):
        rows = pl.read_csv(os.path.join(SHAPE, "current.csv"), infer_schema=False)
        rows.slice(skip).write_csv(path + ".tmp")
        os.rename(path + ".tmp", path)
    project = os.path.join(folder, "csv")
    os.makedirs(project, exist_ok=True)
    with open(os.path.join(SHAPE, "csv", "mlgate.yaml")) as f:
        config = f.read()
    for shared in ("eval.csv", "schema.yaml", "ref/"):
        config = config.replace(f"../{shared}", f"../../../{shared}")
    with open(os.path.join(project, "mlgate.yaml"), "w") as f:
        f.write(config)
    return path, project


def splits_inside_quotes(path):
    """How many split points fall on a line break inside a quoted field: the first line
    break after each `size / parts · k`, inside quotes when an odd number of quote
    characters come before it (an escaped quote is two)."""
    with open(path, "rb") as f:
        data = f.read()
    breaks = (data.index(b"\n", len(data) // PARTS * k) for k in range(1, PARTS))
    return sum(data.count(b'"', 0, lf) % 2 for lf in breaks)


def main():
    if not BINS:
        fail("give at least one mlgate binary")
    ref = os.path.join(SHAPE, "ref")
    bench.run([BINS[0], "validate-data", "--out", "out"], cwd=ref)
    copies = [write_copy(os.path.join(SHAPE, "split-points", f"r{r}"), 37 * r) for r in range(VARIANTS)]
    tools = [f"mlgate {i}" for i in range(len(BINS))] + ["polars read"]
    print(f"| rows left out | split points inside quotes (of {PARTS - 1}) | "
          + " | ".join(f"{t} s" for t in tools) + " | "
          + " | ".join(f"{t} / polars read" for t in tools[:-1]) + " |")
    print("|---" * (2 + 2 * len(tools) - 1) + "|")
    for r, (path, project) in enumerate(copies):
        bench.warm(path)
        times = {t: [] for t in tools}
        for _ in range(ROUNDS):
            for i, binary in enumerate(BINS):
                seconds, _, code, err = bench.run([binary, "validate-data", "--out", "out"], cwd=project)
                if code != 0:
                    fail(f"{binary} exited {code} on {path}: {err.strip()}")
                times[f"mlgate {i}"].append(seconds)
            seconds, _, code, err = bench.run(
                [sys.executable, COMPETITORS, "polars-read", path, os.path.join(SHAPE, "schema.yaml")])
            if code != 0:
                fail(f"polars read exited {code} on {path}: {err.strip()}")
            times["polars read"].append(seconds)
        med = {t: statistics.median(v) for t, v in times.items()}
        print(f"| {37 * r} | {splits_inside_quotes(path)} | " + " | ".join(f"{med[t]:.3f}" for t in tools) + " | "
              + " | ".join(f"{med[t] / med['polars read']:.2f}" for t in tools[:-1]) + " |")


if __name__ == "__main__":
    main()
