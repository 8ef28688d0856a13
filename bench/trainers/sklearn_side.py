"""Runs scikit-learn's counterparts of mlgate's built-in trainers; one JSON line per run.

Reads the CSVs written by datasets.py, so both sides see identical numbers.
Usage: python sklearn_side.py DATA_DIR CASES_JSON
Every key of a case is copied into its line (e.g. `repeat` from `bench/trainers/run large`);
`iterations` is the fitted n_iter_ (boosting: after early stopping; logistic: L-BFGS's).
"""
import json
import sys
import time

import numpy as np
from sklearn.ensemble import (HistGradientBoostingClassifier, HistGradientBoostingRegressor,
                              RandomForestClassifier, RandomForestRegressor)
from sklearn.linear_model import LinearRegression, LogisticRegression, Ridge
from sklearn.metrics import accuracy_score, mean_squared_error, roc_auc_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler


def load(path):
    data = np.loadtxt(path, delimiter=",", skiprows=1)
    return data[:, :-1], data[:, -1]


def estimator(algorithm, task, params):
    p = dict(params)
    if algorithm == "logistic_regression":
        return make_pipeline(StandardScaler(), LogisticRegression(C=p.get("c", 1.0), max_iter=1000))
    if algorithm == "ridge":
        return make_pipeline(StandardScaler(), Ridge(alpha=p.get("alpha", 1.0)))
    if algorithm == "linear_regression":
        return LinearRegression()
    if algorithm == "random_forest":
        cls = RandomForestClassifier if task == "classification" else RandomForestRegressor
        kw = {"max_features": "sqrt"} if task == "classification" else {"max_features": 1.0}
        return cls(n_estimators=p.get("n_estimators", 100), max_depth=p.get("max_depth"),
                   n_jobs=2, random_state=0, **kw)
    cls = HistGradientBoostingClassifier if task == "classification" else HistGradientBoostingRegressor
    return cls(max_iter=p.get("max_iterations", 100), random_state=0)


def facts(model):
    """What the fit did, for checking that both sides did the same amount of work."""
    est = model[-1] if hasattr(model, "steps") else model
    out = {}
    n_iter = getattr(est, "n_iter_", None)
    if n_iter is not None:
        out["iterations"] = int(np.max(n_iter))
    if hasattr(est, "do_early_stopping_"):
        out["early_stopping"] = bool(est.do_early_stopping_)
    return out


def throughput(predict, x):
    runs, started = 0, time.perf_counter()
    while True:
        predict(x)
        runs += 1
        elapsed = time.perf_counter() - started
        if elapsed > 0.3:
            return runs * len(x) / elapsed


def main():
    data_dir, cases = sys.argv[1], json.loads(sys.argv[2])
    for case in cases:
        xt, yt = load(f"{data_dir}/{case['data']}.train.csv")
        xe, ye = load(f"{data_dir}/{case['data']}.eval.csv")
        model = estimator(case["algorithm"], case["task"], case.get("params", {}))
        started = time.perf_counter()
        model.fit(xt, yt)
        seconds = time.perf_counter() - started
        if case["task"] == "classification":
            proba = model.predict_proba(xe)
            quality = {"accuracy": accuracy_score(ye, model.classes_[proba.argmax(1)])}
            quality["roc_auc"] = (roc_auc_score(ye, proba[:, 1]) if proba.shape[1] == 2
                                  else roc_auc_score(ye, proba, multi_class="ovr"))
            predict = model.predict_proba
        else:
            quality = {"rmse": float(np.sqrt(mean_squared_error(ye, model.predict(xe))))}
            predict = model.predict
        print(json.dumps({"side": "scikit-learn", **case, "train_seconds": seconds,
                          "rows_per_second": throughput(predict, xe), **quality,
                          **facts(model)}), flush=True)


if __name__ == "__main__":
    main()
