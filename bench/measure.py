"""Runs each tool on the benchmark data and prints a side-by-side Markdown table of wall
time, throughput and peak RSS (of the process and its children, from GNU time)."""
import os
import signal
import subprocess
import sys
import tempfile
import time

PY = sys.executable
TIMEOUT = int(os.environ.get("BENCH_TIMEOUT", "900"))
HERE = os.path.dirname(os.path.abspath(__file__))


def warm(path):
    with open(path, "rb") as f:
        while f.read(1 << 24):
            pass


# Peak RSS comes from GNU time, not from wait4 here: a child forked from this Python
# process starts with its memory, and the kernel's high-water mark survives exec, so
# wait4 reported at least this process's RSS (88 MiB with pyarrow loaded) for any tool.
GNU_TIME = "/usr/bin/time"
if not os.access(GNU_TIME, os.X_OK):
    sys.exit("bench: peak RSS is measured with GNU time: apt-get install time")


def run(cmd, cwd=None):
    """Runs cmd to its end: wall seconds, peak RSS MiB (of the process and its children),
    exit code and the tail of stderr; seconds None when killed at BENCH_TIMEOUT."""
    with tempfile.NamedTemporaryFile(mode="r", suffix=".rss") as rss:
        timed_cmd = [GNU_TIME, "-q", "-f", "%M", "-o", rss.name, *cmd]
        warm_start = time.perf_counter()
        p = subprocess.Popen(timed_cmd, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                             start_new_session=True)
        try:
            _, err = p.communicate(timeout=TIMEOUT)
        except subprocess.TimeoutExpired:
            os.killpg(p.pid, signal.SIGKILL)
            p.wait()
            return None, None, None, "timeout"
        seconds = time.perf_counter() - warm_start
        kib = rss.read().split()
    code = p.returncode
    return seconds, int(kib[-1]) / 1024 if kib else None, code, err.decode(errors="replace")[-300:]


def timed(cmd, cwd=None):
    seconds, rss, code, err = run(cmd, cwd)
    if seconds is None:
        return None, None, err
    # mlgate exits 1 when the data fails its checks; a Python tool exits 1 only on a crash.
    shown = code not in (0, 1) or (code == 1 and cmd[0] != MLGATE)
    return seconds, rss, f"exit {code}" + (f": {err.strip()}" if shown else "")


def project(name, train, reference=None):
    d = os.path.join(DATA, name)
    os.makedirs(d, exist_ok=True)
    drift = f"\n    drift: {{reference: {reference}}}" if reference else ""
    with open(os.path.join(d, "mlgate.yaml"), "w") as f:
        f.write(
            "version: 1\nmodels:\n  m:\n    task: classification\n    target: churned\n"
            f"    data: {{train: ../{train}, eval: ../eval.csv, schema: ../schema.yaml}}{drift}\n"
        )
    return d


def main():
    ref = project("ref", "reference.csv")
    subprocess.run([MLGATE, "validate-data", "--out", "out"], cwd=ref, stdout=subprocess.DEVNULL, check=False)
    profile = "../ref/out/m/profile.train.json"
    rows = []
    only = os.environ.get("BENCH_ONLY")
    cases = [("mlgate", "current.csv"), ("mlgate", "current.parquet"), ("mlgate", "current4.csv")]
    if only:
        cases = [c for c in cases if c[0] in only.split(",")]
    for tool, file in cases:
        path = os.path.join(DATA, file)
        if not os.path.exists(path):
            continue
        d = project("p-" + file.replace(".", "-"), file, profile)
        warm(path)
        s, rss, note = timed([MLGATE, "validate-data", "--out", "out"], cwd=d)
        rows.append((tool, file, os.path.getsize(path), s, rss, note))
    csv = os.path.join(DATA, "current.csv")
    for tool in [t for t in ["pandera", "whylogs", "gx"] if not only or t in only.split(",")]:
        warm(csv)
        py = os.environ.get("BENCH_WHYLOGS_PYTHON", PY) if tool == "whylogs" else PY
        s, rss, note = timed([py, os.path.join(HERE, "competitors.py"), tool, csv, os.path.join(DATA, "reference.csv")])
        rows.append((tool, "current.csv", os.path.getsize(csv), s, rss, note))
    base = next((r[3] for r in rows if r[0] == "mlgate" and r[1] == "current.csv"), None)
    print("| tool | file | size | seconds | MB/s | peak RSS MiB | mlgate is faster by | note |")
    print("|---|---|---|---|---|---|---|---|")
    for tool, file, size, s, rss, note in rows:
        mb = size / 1e6
        if s is None:
            print(f"| {tool} | {file} | {mb:.0f} MB | > {TIMEOUT} | | | > {TIMEOUT / base:.0f}x | {note} |")
            continue
        ratio = f"{s / base:.1f}x" if tool != "mlgate" and base else ""
        print(f"| {tool} | {file} | {mb:.0f} MB | {s:.1f} | {mb / s:.0f} | {rss:.0f} | {ratio} | {note} |")


if __name__ == "__main__":
    DATA, MLGATE = sys.argv[1], sys.argv[2]
    main()
