"""Writes the benchmark data sets as CSV (train/eval, fixed splits) into a folder.

Usage: python datasets.py OUT_DIR [ROWS]   (ROWS: size of the generated table, default 1 000 000)
"""
import csv
import os
import sys

import numpy as np
from sklearn.datasets import load_breast_cancer, load_diabetes, load_wine, make_classification
from sklearn.model_selection import train_test_split


def write(path, x, y):
    with open(path, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow([f"f{i}" for i in range(x.shape[1])] + ["target"])
        for row, t in zip(x, y):
            w.writerow([f"{v:.6g}" for v in row] + [t])


def main():
    out = sys.argv[1]
    rows = int(sys.argv[2]) if len(sys.argv) > 2 else 1_000_000
    os.makedirs(out, exist_ok=True)
    sets = {
        "breast_cancer": (load_breast_cancer(return_X_y=True), "classification"),
        "wine": (load_wine(return_X_y=True), "classification"),
        "diabetes": (load_diabetes(return_X_y=True), "regression"),
        "synthetic_1m": (
            make_classification(n_samples=rows, n_features=30, n_informative=15,
                                n_redundant=5, flip_y=0.05, random_state=0),
            "classification",
        ),
    }
    for name, ((x, y), task) in sets.items():
        if os.path.exists(os.path.join(out, f"{name}.eval.csv")):
            continue
        strat = y if task == "classification" else None
        xt, xe, yt, ye = train_test_split(x, y, test_size=0.25, random_state=0, stratify=strat)
        write(os.path.join(out, f"{name}.train.csv"), xt, yt)
        write(os.path.join(out, f"{name}.eval.csv"), xe, ye)


if __name__ == "__main__":
    main()
