"""Writes the benchmark data sets as CSV (train/eval, fixed splits) into a folder.

Usage: python datasets.py OUT_DIR [NAME ...]
       python datasets.py OUT_DIR ROWS     (the default sets with synthetic_<ROWS>)

Each NAME becomes NAME.train.csv and NAME.eval.csv (a 75/25 split, random_state=0,
stratified for classification). Without names: the sets of the full comparison
(breast_cancer, wine, diabetes, synthetic_1m). Names:

  breast_cancer, wine, diabetes   scikit-learn's bundled data sets
  synthetic_<N>                   make_classification(n_samples=N, ...): N rows in all,
                                  so synthetic_1m trains on 750 000 rows (the ROWS of
                                  `bench/trainers/run ROWS`)
  classification_<N>              make_classification with N rows in the TRAINING split
  regression_<N>                  make_regression with N rows in the TRAINING split

<N> is a number with an optional k or m suffix (150k, 1m, 20000). Generator settings:
make_classification(n_features=30, n_informative=15, n_redundant=5, flip_y=0.05,
random_state=0), make_regression(n_features=30, n_informative=15, noise=10, random_state=0).

A set whose files exist with the same content is left alone (generation takes a while at
1 M rows): NAME.meta.json, written last, records what the files hold. Files written by an
earlier version of this script (no meta file) are kept when their row counts match.
"""
import csv
import json
import math
import os
import re
import sys

import numpy as np
from sklearn.datasets import (load_breast_cancer, load_diabetes, load_wine, make_classification,
                              make_regression)
from sklearn.model_selection import train_test_split

TEST_SIZE = 0.25
DEFAULT = ["breast_cancer", "wine", "diabetes", "synthetic_1m"]
CLASSIFICATION = dict(n_features=30, n_informative=15, n_redundant=5, flip_y=0.05, random_state=0)
REGRESSION = dict(n_features=30, n_informative=15, noise=10, random_state=0)
BUNDLED = {
    "breast_cancer": (load_breast_cancer, "classification"),
    "wine": (load_wine, "classification"),
    "diabetes": (load_diabetes, "regression"),
}


def rows_of(text):
    """150k -> 150000, 1m -> 1000000, 20000 -> 20000."""
    m = re.fullmatch(r"(\d+)([km]?)", text)
    if not m:
        raise ValueError(f"not a row count: {text!r}")
    return int(m.group(1)) * {"": 1, "k": 1_000, "m": 1_000_000}[m.group(2)]


def size_name(rows):
    """1000000 -> 1m, 150000 -> 150k, 12345 -> 12345 (the inverse of rows_of)."""
    for suffix, unit in (("m", 1_000_000), ("k", 1_000)):
        if rows % unit == 0:
            return f"{rows // unit}{suffix}"
    return str(rows)


def samples_for_train(train_rows):
    """The n_samples whose 75/25 split (train_test_split rounds the test side up) leaves
    exactly train_rows training rows."""
    split = lambda n: n - math.ceil(n * TEST_SIZE)
    n = round(train_rows / (1 - TEST_SIZE))
    while split(n) < train_rows:
        n += 1
    while split(n - 1) >= train_rows:
        n -= 1
    assert split(n) == train_rows, (train_rows, n)
    return n


def spec(name):
    """What the set named `name` holds: (task, description of its generation)."""
    if name in BUNDLED:
        return BUNDLED[name][1], {"source": BUNDLED[name][0].__name__}
    m = re.fullmatch(r"(synthetic|classification|regression)_(\w+)", name)
    if not m:
        raise SystemExit(f"unknown data set {name!r} (see the usage in {__file__})")
    kind, rows = m.group(1), rows_of(m.group(2))
    n = rows if kind == "synthetic" else samples_for_train(rows)
    if kind == "regression":
        return "regression", {"source": "make_regression", "n_samples": n, **REGRESSION}
    return "classification", {"source": "make_classification", "n_samples": n, **CLASSIFICATION}


def generate(task, desc):
    params = {k: v for k, v in desc.items() if k != "source"}
    if desc["source"] == "make_classification":
        return make_classification(**params)
    if desc["source"] == "make_regression":
        return make_regression(**params)
    return {f.__name__: f for f, _ in BUNDLED.values()}[desc["source"]](return_X_y=True)


def expected_rows(n):
    test = math.ceil(n * TEST_SIZE)
    return n - test, test


def write(path, x, y):
    with open(path, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow([f"f{i}" for i in range(x.shape[1])] + ["target"])
        for row, t in zip(x, y):
            w.writerow([f"{v:.6g}" for v in row] + [t])


def data_lines(path):
    with open(path, "rb") as f:
        return sum(chunk.count(b"\n") for chunk in iter(lambda: f.read(1 << 24), b"")) - 1


def up_to_date(out, name, meta):
    files = [os.path.join(out, f"{name}.{part}.csv") for part in ("train", "eval")]
    if not all(os.path.exists(f) for f in files):
        return False
    meta_path = os.path.join(out, f"{name}.meta.json")
    if os.path.exists(meta_path):
        with open(meta_path) as f:
            return json.load(f) == meta
    # Written before meta files existed: same generator, so same rows means same content.
    if [data_lines(f) for f in files] == [meta["train_rows"], meta["eval_rows"]]:
        with open(meta_path, "w") as f:
            json.dump(meta, f, indent=1)
        return True
    return False


def main():
    if len(sys.argv) < 2 or sys.argv[1] in ("-h", "--help"):
        raise SystemExit(__doc__)
    out, names = sys.argv[1], sys.argv[2:] or DEFAULT
    if len(names) == 1 and names[0].isdigit():
        # The former `datasets.py OUT_DIR ROWS`: the default sets, ROWS rows in the synthetic one.
        names = DEFAULT[:-1] + [f"synthetic_{size_name(int(names[0]))}"]
    os.makedirs(out, exist_ok=True)
    for name in names:
        task, desc = spec(name)
        x, y = None, None
        if desc["source"] in {f.__name__ for f, _ in BUNDLED.values()}:
            x, y = generate(task, desc)
            n = len(y)
        else:
            n = desc["n_samples"]
        train_rows, eval_rows = expected_rows(n)
        meta = {"name": name, "task": task, **desc, "test_size": TEST_SIZE, "split_random_state": 0,
                "train_rows": train_rows, "eval_rows": eval_rows}
        if up_to_date(out, name, meta):
            continue
        print(f"writing {name}: {train_rows} training + {eval_rows} evaluation rows",
              file=sys.stderr, flush=True)
        if x is None:
            x, y = generate(task, desc)
        meta_path = os.path.join(out, f"{name}.meta.json")
        if os.path.exists(meta_path):
            os.remove(meta_path)
        strat = y if task == "classification" else None
        xt, xe, yt, ye = train_test_split(x, y, test_size=TEST_SIZE, random_state=0, stratify=strat)
        assert (len(yt), len(ye)) == (train_rows, eval_rows), (name, len(yt), len(ye))
        for part, (xs, ys) in (("train", (xt, yt)), ("eval", (xe, ye))):
            path = os.path.join(out, f"{name}.{part}.csv")
            write(path + ".tmp", xs, ys)
            os.replace(path + ".tmp", path)
        with open(meta_path, "w") as f:
            json.dump(meta, f, indent=1)


if __name__ == "__main__":
    main()
