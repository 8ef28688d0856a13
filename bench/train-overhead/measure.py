"""Times `mlgate validate-data` and `mlgate train` alternately on each project under WORK
and prints train's time outside fitting beside validate-data's, medians of REPEAT runs."""
import json
import os
import shutil
import statistics
import subprocess
import sys
import time

BIN, WORK, REPEAT = sys.argv[1], sys.argv[2], int(sys.argv[3])


def run(folder, step):
    if step == "train":
        # A version already stored is not trained again: start from an empty store.
        shutil.rmtree(os.path.join(folder, ".mlgate"), ignore_errors=True)
    started = time.perf_counter()
    subprocess.run(
        [BIN, step, "--out", "out"], cwd=folder, check=True,
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    return time.perf_counter() - started


def fit_seconds(folder):
    with open(os.path.join(folder, "out", "m", "train.json")) as f:
        return json.load(f)[0]["data"]["lineage"]["training_seconds"]


print("| shape | rows × columns | validate-data s | train s | fitting s | train outside fitting s | outside fitting / validate-data |")
print("|---|---|---|---|---|---|---|")
for shape in sorted(os.listdir(WORK)):
    folder = os.path.join(WORK, shape)
    validate, train, fit = [], [], []
    for _ in range(REPEAT):
        validate.append(run(folder, "validate-data"))
        train.append(run(folder, "train"))
        fit.append(fit_seconds(folder))
    with open(os.path.join(folder, "train.csv")) as f:
        columns = f.readline().count(",") + 1
        rows = sum(1 for _ in f)
    with open(os.path.join(folder, "eval.csv")) as f:
        rows += sum(1 for _ in f) - 1
    v, t, fs = (statistics.median(s) for s in (validate, train, fit))
    outside = statistics.median(a - b for a, b in zip(train, fit))
    print(f"| {shape} | {rows} × {columns} | {v:.2f} | {t:.2f} | {fs:.2f} | {outside:.2f} | {outside / v:.2f} |")
