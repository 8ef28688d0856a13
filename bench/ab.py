"""Interleaved A/B of mlgate builds on one project: each round runs `validate-data` with
every binary, the order reversed every other round, and prints per binary the median wall
and CPU seconds and the median of its per-round wall ratio to the first binary; then
whether each binary's JSON outputs (profiles, report) equal the first one's.
With --train, each round runs `train` from an empty store instead and the times are
train's outside fitting (wall minus the manifest's `training_seconds`), the figure
bench/train-overhead compares with validate-data (CPU stays the whole run's); outputs are
not compared (a manifest holds its creation time).
Usage: python3 bench/ab.py [--train] ROUNDS PROJECT_DIR MLGATE_A MLGATE_B [...]
Each binary writes to PROJECT_DIR/out-<index> (train-out-<index>). Not part of CI."""
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import time


def run(binary, project, out, step):
    """Wall and CPU seconds (user + system) of one step; for `train`, less its fitting."""
    if step == "train":
        # A version already stored is not trained again.
        shutil.rmtree(os.path.join(project, ".mlgate"), ignore_errors=True)
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    p = subprocess.run([binary, step, "--out", out], cwd=project,
                       stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if p.returncode not in (0, 1):  # 1: data findings, still a full run
        sys.exit(f"{binary} exited {p.returncode}: {p.stderr.decode(errors='replace')[-500:]}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    if step == "train":
        wall -= fit_seconds(os.path.join(project, out))
    return wall, cpu


def fit_seconds(out):
    """The fitting time the last `train` recorded in its report's manifest."""
    reports = [os.path.join(out, m, "train.json") for m in os.listdir(out)]
    with open(max(reports, key=os.path.getmtime)) as f:
        return json.load(f)[0]["data"]["lineage"]["training_seconds"]


def main():
    args = sys.argv[1:]
    train = args[:1] == ["--train"]
    args = args[train:]
    if len(args) < 4:
        sys.exit(__doc__)
    rounds, project, binaries = int(args[0]), args[1], [os.path.abspath(b) for b in args[2:]]
    step, out, timed = ("train", "train-out", "outside fitting") if train else ("validate-data", "out", "wall")
    walls = {b: [] for b in binaries}
    cpus = {b: [] for b in binaries}
    for r in range(rounds):
        for b in binaries if r % 2 == 0 else binaries[::-1]:
            wall, cpu = run(b, project, f"{out}-{binaries.index(b)}", step)
            walls[b].append(wall)
            cpus[b].append(cpu)
    first = binaries[0]
    for i, b in enumerate(binaries):
        ratio = statistics.median(x / y for x, y in zip(walls[b], walls[first]))
        print(f"{i} {b}: {timed} {statistics.median(walls[b]):.3f} s, cpu {statistics.median(cpus[b]):.3f} s, "
              f"paired {timed} ratio {ratio:.3f} (min {min(walls[b]):.3f} s)")
    if train:
        return
    for i in range(1, len(binaries)):
        diff = subprocess.run(["diff", "-rq", "-x", "*.md", "-x", "*.xml",
                               os.path.join(project, "out-0"), os.path.join(project, f"out-{i}")],
                              capture_output=True, text=True)
        print(f"outputs of 0 and {i}:", "identical (JSON)" if diff.returncode == 0 else "\n" + (diff.stdout + diff.stderr)[:2000])


if __name__ == "__main__":
    main()
