"""Times mlgate validate-data (schema + profile + drift against a reference profile + skew)
and the competitors on every shape under WORK, as CSV and as Parquet written by pyarrow
and by polars: the tools take turns (mlgate, polars' bare read, pandera on polars, Great
Expectations) REPEAT times on a warm page cache. Prints one Markdown table of medians and
each mlgate row against the targets.
Usage: measure.py MLGATE_BIN WORK REPEAT   (BENCH_FILES: some of csv,csv-gz,jsonl,parquet,parquet-polars;
BENCH_SHAPES: some of the shapes, default every one under WORK)"""
import importlib.util
import json
import os
import statistics
import sys

import pyarrow.parquet as pq

HERE = os.path.dirname(os.path.abspath(__file__))
# bench/measure.py's runner (wall time, peak RSS from GNU time) and cache warmer (loaded by path: this file has its name).
_spec = importlib.util.spec_from_file_location("bench_measure", os.path.join(HERE, "..", "measure.py"))
bench = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(bench)

BIN, WORK, REPEAT = os.path.abspath(sys.argv[1]), os.path.abspath(sys.argv[2]), int(sys.argv[3])
COMPETITORS = os.path.join(HERE, "competitors.py")
TOOLS = ["mlgate", "polars-read", "pandera-polars", "gx"]
FILES = {"csv": "current.csv", "csv-gz": "current.csv.gz", "jsonl": "current.jsonl",
         "parquet": "current.parquet", "parquet-polars": "current.polars.parquet"}
CHOSEN = [f for f in os.environ.get("BENCH_FILES", ",".join(FILES)).split(",") if f]
if not set(CHOSEN) <= set(FILES):
    sys.exit(f"bench/shapes: BENCH_FILES takes some of {', '.join(FILES)}")
MIN_MBS, MIN_VS_PANDERA, MAX_RSS_MIB = 300, 5, 256


def fail(text):
    sys.exit(f"bench/shapes: {text}")


def mlgate(project, drift=True):
    """Runs validate-data in a project and insists the data passed: the data is generated
    to keep every rule and not to drift, so anything else is a benchmark measuring the wrong
    work (or an mlgate bug)."""
    seconds, rss, code, err = bench.run([BIN, "validate-data", "--out", "out"], cwd=project)
    if seconds is None:
        return None, None
    if code not in (0, 1):  # 1: data findings (docs/steps.md), explained by the report
        fail(f"mlgate exited {code} in {project}: {err.strip()}")
    with open(os.path.join(project, "out", "m", "validate-data.json")) as f:
        report = json.load(f)[0]
    if report["status"] != "pass":
        failed = "\n".join(f"  {c['name']}: {c['failure']}" for c in report["cases"] if c["failure"])
        fail(f"mlgate did not pass the data in {project}: {report['title']}\n{failed}")
    if drift and report["data"]["drift"] is None:
        fail(f"mlgate compared no drift reference in {project}")
    return seconds, rss


def competitor(tool, shape, fmt):
    folder = os.path.join(WORK, shape)
    cmd = [sys.executable, COMPETITORS, tool, os.path.join(folder, FILES[fmt]), os.path.join(folder, "schema.yaml")]
    seconds, rss, code, err = bench.run(cmd)
    if seconds is not None and code != 0:
        fail(f"{tool} on {shape} {fmt} exited {code}: {err.strip()}")
    return seconds, rss


def rounds(shape, fmt):
    """Each tool's wall seconds per round and its largest peak RSS; a tool that ran past
    BENCH_TIMEOUT is not run again (its times stay empty)."""
    folder = os.path.join(WORK, shape)
    for path in (FILES[fmt], "eval.csv", "ref/out/m/profile.train.json"):
        bench.warm(os.path.join(folder, path))
    times, peak, timed_out = {t: [] for t in TOOLS}, dict.fromkeys(TOOLS, 0.0), set()
    for r in range(REPEAT):
        # Each round starts one tool later: whichever runs right after Great Expectations
        # (seconds of both cores and GBs of memory) can run slower, so no tool always does.
        for tool in TOOLS[r % len(TOOLS):] + TOOLS[:r % len(TOOLS)]:
            if tool in timed_out:
                continue
            if tool == "mlgate":
                seconds, rss = mlgate(os.path.join(folder, fmt))
            else:
                seconds, rss = competitor(tool, shape, fmt)
            if seconds is None:
                timed_out.add(tool)
                continue
            times[tool].append(seconds)
            peak[tool] = max(peak[tool], rss)
    return {t: statistics.median(s) if s else None for t, s in times.items()}, peak


def mark(ok):
    return "✅" if ok else "❌"


def targets(size, median, peak):
    """mlgate's row against the issue's targets. A competitor that timed out counts as
    BENCH_TIMEOUT seconds: a bound, marked ≥ or ≤."""
    base = median["mlgate"]
    pandera, read = (median[t] or bench.TIMEOUT for t in ("pandera-polars", "polars-read"))
    ge = "≥" if median["pandera-polars"] is None else ""
    le = "≤" if median["polars-read"] is None else ""
    return " · ".join([
        f"{mark(size / 1e6 / base >= MIN_MBS)} ≥{MIN_MBS} MB/s",
        f"{mark(pandera / base >= MIN_VS_PANDERA)} {ge}{pandera / base:.1f}x pandera",
        f"{mark(peak <= MAX_RSS_MIB)} ≤{MAX_RSS_MIB} MiB",
        f"{mark(base / read <= 1)} {le}{base / read:.2f}x read",
    ])


def table_rows(shape, fmt, size, rows, median, peak):
    base = median["mlgate"]
    out = []
    for tool in TOOLS:
        s = median[tool]
        head = f"| {shape} | {fmt} | {size / 1e6:.1f} | {rows} | {tool} |"
        if s is None:
            out.append(f"{head} > {bench.TIMEOUT} | | | | timed out | |")
            continue
        ratio, goal = "", ""
        if tool == "mlgate":
            goal = targets(size, median, peak[tool])
            if median["polars-read"]:
                ratio = f"mlgate/read {s / median['polars-read']:.2f}x"
        elif tool != "polars-read" and base:
            ratio = f"{tool}/mlgate {s / base:.1f}x"
        out.append(f"{head} {s:.2f} | {size / 1e6 / s:.0f} | {rows / s / 1e6:.2f} M | {peak[tool]:.0f} | {ratio} | {goal} |")
    return out


def startup():
    """The competitors' interpreter start and imports, part of every time above (mlgate's
    start is part of its own): median of three."""
    times = {t: statistics.median(bench.run([sys.executable, COMPETITORS, t])[0] for _ in range(3)) for t in TOOLS[1:]}
    return ", ".join(f"{t} {s:.2f} s" for t, s in times.items())


def machine():
    with open("/proc/cpuinfo") as f:
        model = next((line.split(":", 1)[1].strip() for line in f if line.startswith("model name")), "?")
    return f"{len(os.sched_getaffinity(0))} cores, {model}"


def load():
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def main():
    load_before = load()
    chosen = os.environ.get("BENCH_SHAPES", "").split(",")
    shapes = sorted(d for d in os.listdir(WORK) if os.path.exists(os.path.join(WORK, d, "schema.yaml"))
                    and (chosen == [""] or d in chosen))
    table = ["| shape | file | MB | rows | tool | s (median) | MB/s | rows/s | peak RSS MiB | ratio | mlgate targets |",
             "|---|---|---|---|---|---|---|---|---|---|---|"]
    for shape in shapes:
        mlgate(os.path.join(WORK, shape, "ref"), drift=False)  # writes the drift reference profile
        rows = pq.ParquetFile(os.path.join(WORK, shape, FILES["parquet"])).metadata.num_rows
        for fmt in CHOSEN:
            median, peak = rounds(shape, fmt)
            table += table_rows(shape, fmt, os.path.getsize(os.path.join(WORK, shape, FILES[fmt])), rows, median, peak)
            print(f"{shape} {fmt}: done", file=sys.stderr)
    print("\n".join(table))
    print(f"\nstart of Python and imports, within the times above: {startup()}")
    print(f"machine: {machine()}; load average (1, 5, 15 min) before {load_before}, after {load()}; "
          f"{REPEAT} rounds, medians")


if __name__ == "__main__":
    main()
