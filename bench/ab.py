"""Interleaved A/B of mlgate builds on one project: each round runs `validate-data` with
every binary, the order reversed every other round, and prints per binary the median wall
and CPU seconds and the median of its per-round wall ratio to the first binary; then
whether each binary's JSON outputs (profiles, report) equal the first one's.
Usage: python3 bench/ab.py ROUNDS PROJECT_DIR MLGATE_A MLGATE_B [...]
Each binary writes to PROJECT_DIR/out-<index>. Not part of CI."""
import os
import resource
import statistics
import subprocess
import sys
import time


def run(binary, project, out):
    """Wall and CPU seconds (user + system) of one `validate-data`."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    p = subprocess.run([binary, "validate-data", "--out", out], cwd=project,
                       stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if p.returncode not in (0, 1):  # 1: data findings, still a full run
        sys.exit(f"{binary} exited {p.returncode}: {p.stderr.decode(errors='replace')[-500:]}")
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def main():
    if len(sys.argv) < 5:
        sys.exit(__doc__)
    rounds, project, binaries = int(sys.argv[1]), sys.argv[2], [os.path.abspath(b) for b in sys.argv[3:]]
    walls = {b: [] for b in binaries}
    cpus = {b: [] for b in binaries}
    for r in range(rounds):
        for b in binaries if r % 2 == 0 else binaries[::-1]:
            wall, cpu = run(b, project, f"out-{binaries.index(b)}")
            walls[b].append(wall)
            cpus[b].append(cpu)
    first = binaries[0]
    for i, b in enumerate(binaries):
        ratio = statistics.median(x / y for x, y in zip(walls[b], walls[first]))
        print(f"{i} {b}: wall {statistics.median(walls[b]):.3f} s, cpu {statistics.median(cpus[b]):.3f} s, "
              f"paired wall ratio {ratio:.3f} (min wall {min(walls[b]):.3f} s)")
    for i in range(1, len(binaries)):
        diff = subprocess.run(["diff", "-rq", "-x", "*.md", "-x", "*.xml",
                               os.path.join(project, "out-0"), os.path.join(project, f"out-{i}")],
                              capture_output=True, text=True)
        print(f"outputs of 0 and {i}:", "identical (JSON)" if diff.returncode == 0 else "\n" + diff.stdout[:2000])


if __name__ == "__main__":
    main()
