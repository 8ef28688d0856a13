"""Writes one mlgate project per table shape under WORK/<shape>/: train.csv, eval.csv
(an 80/20 split), schema.yaml and mlgate.yaml. Skips shapes already written."""
import os
import sys

import numpy as np

# name: (rows, numeric columns, categorical columns, task, algorithm)
SHAPES = {
    "wide-numeric": (200_000, 30, 0, "regression", "linear_regression"),
    "narrow-mixed": (500_000, 4, 3, "classification", "logistic_regression"),
    "text-heavy": (200_000, 3, 12, "classification", "logistic_regression"),
}


def write(work, name, rows, numeric, categorical, task, algorithm):
    folder = os.path.join(work, name)
    if os.path.exists(os.path.join(folder, "mlgate.yaml")):
        return
    os.makedirs(folder, exist_ok=True)
    rng = np.random.default_rng(7)
    x = rng.normal(size=(rows, numeric))
    cats = [rng.integers(0, 8 + 4 * j, size=rows) for j in range(categorical)]
    signal = x @ rng.normal(size=numeric) + sum(c % 3 for c in cats)
    if task == "regression":
        target = [f"{v:.6g}" for v in signal + rng.normal(size=rows)]
    else:
        target = np.where(signal + rng.normal(size=rows) > np.median(signal), "yes", "no")
    header = [f"x{i}" for i in range(numeric)] + [f"c{j}" for j in range(categorical)] + ["y"]
    columns = [[f"{v:.6g}" for v in x[:, i]] for i in range(numeric)]
    columns += [[f"level{v}" for v in c] for c in cats]
    columns.append(list(target))
    lines = [",".join(row) for row in zip(*columns)]
    cut = rows * 4 // 5
    for file, part in (("train.csv", lines[:cut]), ("eval.csv", lines[cut:])):
        with open(os.path.join(folder, file), "w") as f:
            f.write(",".join(header) + "\n" + "\n".join(part) + "\n")
    schema = ["columns:"]
    schema += [f"  x{i}: {{type: float}}" for i in range(numeric)]
    schema += [f"  c{j}: {{type: string}}" for j in range(categorical)]
    schema.append("  y: {type: float}" if task == "regression" else "  y: {type: string, allowed: [yes, no]}")
    with open(os.path.join(folder, "schema.yaml"), "w") as f:
        f.write("\n".join(schema) + "\n")
    with open(os.path.join(folder, "mlgate.yaml"), "w") as f:
        f.write(
            "version: 1\nmodels:\n  m:\n"
            f"    task: {task}\n    target: y\n"
            "    data: {train: train.csv, eval: eval.csv, schema: schema.yaml}\n"
            f"    train: {{algorithm: {algorithm}}}\n"
        )


if __name__ == "__main__":
    for name, shape in SHAPES.items():
        write(sys.argv[1], name, *shape)
