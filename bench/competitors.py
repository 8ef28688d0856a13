"""The same checks with Great Expectations, pandera and whylogs, for bench/run.
Usage: competitors.py gx|pandera|whylogs FILE REFERENCE"""
import sys

import pandas as pd

CITIES = [f"city_{i:02d}" for i in range(40)]
PLANS = ["basic", "plus", "pro", "enterprise"]
DEVICES = ["ios", "android", "web", "desktop", "tv", "other"]


def read(path):
    # pyarrow's multi-threaded CSV reader: the fastest pandas can load the file.
    if path.endswith(".parquet"):
        return pd.read_parquet(path)
    return pd.read_csv(path, engine="pyarrow")


def gx_batch(df):
    """An ephemeral Great Expectations context and a batch of the whole DataFrame."""
    import great_expectations as gx

    ctx = gx.get_context(mode="ephemeral")
    batch = (
        ctx.data_sources.add_pandas("p")
        .add_dataframe_asset("a")
        .add_batch_definition_whole_dataframe("b")
        .get_batch(batch_parameters={"dataframe": df})
    )
    return ctx, batch


def gx(path, reference):
    import great_expectations as gx
    import great_expectations.expectations as E

    ctx, batch = gx_batch(read(path))
    suite = ctx.suites.add(gx.ExpectationSuite(name="s"))
    for e in [
        E.ExpectTableColumnsToMatchSet(column_set=list(df.columns)),
        E.ExpectTableRowCountToBeBetween(min_value=1),
        E.ExpectColumnValuesToBeBetween(column="id", min_value=0),
        E.ExpectColumnValuesToBeBetween(column="age", min_value=18, max_value=100),
        E.ExpectColumnValuesToBeBetween(column="income", min_value=0, mostly=0.95),
        E.ExpectColumnValuesToBeBetween(column="balance", min_value=0),
        E.ExpectColumnValuesToBeBetween(column="tenure", min_value=0, max_value=240),
        E.ExpectColumnValuesToBeBetween(column="sessions", min_value=0),
        E.ExpectColumnValuesToNotBeNull(column="score"),
        E.ExpectColumnValuesToMatchRegex(column="city", regex=r"^city_[0-9]{2}$"),
        E.ExpectColumnValuesToBeInSet(column="plan", value_set=PLANS),
        E.ExpectColumnValuesToBeInSet(column="device", value_set=DEVICES),
        E.ExpectColumnValuesToBeInSet(column="churned", value_set=["yes", "no"]),
        # Drift-like checks GX offers: KL divergence of a categorical, quantiles.
        E.ExpectColumnKLDivergenceToBeLessThan(
            column="plan",
            partition_object={"values": PLANS, "weights": [0.4, 0.3, 0.2, 0.1]},
            threshold=0.1,
        ),
        E.ExpectColumnMeanToBeBetween(column="score", min_value=0.45, max_value=0.55),
    ]:
        suite.add_expectation(e)
    result = batch.validate(suite)
    print("gx success:", result.success)


def pandera(path, reference):
    import pandera.pandas as pa
    from pandera import Check

    df = read(path)
    ref = read(reference)
    schema = pa.DataFrameSchema(
        {
            "id": pa.Column(int, Check.ge(0)),
            "age": pa.Column(int, Check.in_range(18, 100)),
            "income": pa.Column(float, Check.ge(0), nullable=True),
            "score": pa.Column(float),
            "balance": pa.Column(float, Check.ge(0)),
            "tenure": pa.Column(int, Check.in_range(0, 240)),
            "sessions": pa.Column(int, Check.ge(0)),
            "city": pa.Column(str, Check.str_matches(r"city_[0-9]{2}")),
            "plan": pa.Column(str, Check.isin(PLANS)),
            "device": pa.Column(str, Check.isin(DEVICES)),
            "churned": pa.Column(str, Check.isin(["yes", "no"])),
        },
        checks=[pa.Check(lambda d: d["income"].isna().mean() <= 0.05)],
        strict=True,
    )
    try:
        schema.validate(df, lazy=True)
        print("pandera: valid")
    except pa.errors.SchemaErrors as e:
        print("pandera failures:", len(e.failure_cases))
    # pandera has no drift: its hypothesis check runs scipy's two-sample KS per column.
    from scipy.stats import ks_2samp, chisquare

    for c in ["age", "income", "score", "balance", "tenure", "sessions"]:
        ks_2samp(df[c].dropna(), ref[c].dropna())
    for c in ["city", "plan", "device", "churned"]:
        cur, exp = df[c].value_counts(), ref[c].value_counts()
        exp = exp.reindex(cur.index).fillna(0) / exp.sum() * cur.sum()
        chisquare(cur, exp + 1e-9)


def whylogs(path, reference):
    import whylogs as why

    df = read(path)
    profile = why.log(df).view()
    print("whylogs columns:", len(profile.get_columns()))


if __name__ == "__main__":
    {"gx": gx, "pandera": pandera, "whylogs": whylogs}[sys.argv[1]](sys.argv[2], sys.argv[3])
