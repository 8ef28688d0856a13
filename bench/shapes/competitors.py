"""The shape's schema.yaml rules, checked by another tool on the same file: pandera on
polars, Great Expectations on pandas, or polars' bare read (the floor: no checks at all).
Each reads the file with the schema's types and mlgate's missing-value spellings, so every
tool sees the same values. Exits 3 when the data breaks a rule: the data is generated to
pass them all, so that means the tool reads a rule differently.
Usage: competitors.py polars-read|pandera-polars|gx [FILE SCHEMA]   (without a file: only
start the interpreter and import the tool, to time that start)"""
import importlib
import importlib.util
import os
import sys

import yaml

# Missing values as mlgate reads them (docs/data-schema.md), besides an empty field (missing
# in polars by default, added for pandas).
NULLS = ["NA", "N/A", "null", "NULL", "NaN", "nan"]


def broken(text):
    print(text, file=sys.stderr)
    sys.exit(3)


def polars_types():
    import polars as pl

    return {"integer": pl.Int64, "float": pl.Float64, "string": pl.String, "boolean": pl.Boolean}


def rules_of(schema_path):
    with open(schema_path) as f:
        columns = yaml.safe_load(f)["columns"]
    for rule in columns.values():
        # PyYAML (YAML 1.1) reads 1e+23 as text: bounds are numbers of the column's type.
        number = int if rule["type"] == "integer" else float
        for bound in ("min", "max"):
            if bound in rule:
                rule[bound] = number(rule[bound])
    return columns


def nullable(rule):
    return rule.get("nullable", False) or "max_null_share" in rule


def full_match(pattern):
    # mlgate's pattern must match the whole value; the others search or anchor the start.
    return f"^(?:{pattern})$"


def read_polars(path, rules):
    import polars as pl

    if path.endswith(".parquet"):
        return pl.read_parquet(path)
    types = polars_types()
    if path.endswith(".jsonl"):
        return pl.read_ndjson(path, schema={c: types[r["type"]] for c, r in rules.items()})
    return pl.read_csv(path, schema_overrides={c: types[r["type"]] for c, r in rules.items()}, null_values=NULLS)


def polars_read(path, rules):
    read_polars(path, rules)


def pandera_polars(path, rules):
    import pandera.polars as pa
    import polars as pl

    types = polars_types()

    def null_share_at_most(share):
        return pa.Check(lambda d: d.lazyframe.select(pl.col(d.key).is_null().mean() <= share),
                        name=f"max_null_share {share}")

    columns = {}
    for name, r in rules.items():
        checks = []
        if "min" in r:
            checks.append(pa.Check.ge(r["min"]))
        if "max" in r:
            checks.append(pa.Check.le(r["max"]))
        if "allowed" in r:
            checks.append(pa.Check.isin(r["allowed"]))
        if "pattern" in r:
            checks.append(pa.Check.str_matches(full_match(r["pattern"])))
        if "max_null_share" in r:
            checks.append(null_share_at_most(r["max_null_share"]))
        columns[name] = pa.Column(types[r["type"]], checks, nullable=nullable(r))
    schema = pa.DataFrameSchema(columns, strict=True)
    try:
        schema.validate(read_polars(path, rules), lazy=True)
    except pa.errors.SchemaErrors as e:
        broken(f"pandera: rules broken:\n{e.failure_cases}")


def quoted_line_breaks(path):
    """Whether the file's first MB has a line break inside quotes (an odd number of quote
    characters before it)."""
    import gzip

    with (gzip.open if path.endswith(".gz") else open)(path, "rb") as f:
        head = f.read(1 << 20)
    quotes = 0
    for line in head.split(b"\n")[:-1]:
        quotes += line.count(b'"')
        if quotes % 2:
            return True
    return False


def read_pandas(path, rules):
    import pandas as pd
    import pyarrow as pa
    import pyarrow.parquet as pq

    # Nullable integer and boolean types keep a column with gaps in its type (a plain
    # pandas integer column with a gap turns float).
    if path.endswith(".parquet"):
        nullable_types = {pa.int64(): pd.Int64Dtype(), pa.bool_(): pd.BooleanDtype()}
        return pq.read_table(path).to_pandas(types_mapper=nullable_types.get)
    if path.endswith(".jsonl"):
        # pyarrow's multi-threaded JSON reader, each column read as its rule's type (left
        # to itself it reads ISO timestamps as timestamps).
        import pyarrow.json as pj

        arrow_types = {"integer": pa.int64(), "float": pa.float64(), "string": pa.string(), "boolean": pa.bool_()}
        schema = pa.schema([(c, arrow_types[r["type"]]) for c, r in rules.items()])
        table = pj.read_json(path, parse_options=pj.ParseOptions(explicit_schema=schema))
        nullable_types = {pa.int64(): pd.Int64Dtype(), pa.bool_(): pd.BooleanDtype()}
        return table.to_pandas(types_mapper=nullable_types.get)
    if quoted_line_breaks(path):
        # pandas' pyarrow engine takes no line breaks inside quotes: pyarrow's reader told
        # to expect them, each column read as its rule's type.
        import pyarrow.csv as pc

        arrow_types = {"integer": pa.int64(), "float": pa.float64(), "string": pa.string(), "boolean": pa.bool_()}
        convert = pc.ConvertOptions(column_types={c: arrow_types[r["type"]] for c, r in rules.items()},
                                    null_values=[""] + NULLS, strings_can_be_null=True)
        table = pc.read_csv(path, parse_options=pc.ParseOptions(newlines_in_values=True), convert_options=convert)
        nullable_types = {pa.int64(): pd.Int64Dtype(), pa.bool_(): pd.BooleanDtype()}
        return table.to_pandas(types_mapper=nullable_types.get)
    types = {"integer": "Int64", "float": "float64", "string": "str", "boolean": "boolean"}
    # pyarrow's multi-threaded CSV reader: the fastest pandas can load the file.
    return pd.read_csv(path, engine="pyarrow", dtype={c: types[r["type"]] for c, r in rules.items()},
                       na_values=[""] + NULLS, keep_default_na=False)


def gx_expectations(rules):
    import great_expectations.expectations as E

    # GX compares a column's dtype.type: Int64's is int64, boolean's bool.
    types = {"integer": "int64", "float": "float64", "string": "str", "boolean": "bool"}
    out = [E.ExpectTableColumnsToMatchSet(column_set=list(rules), exact_match=True),
           E.ExpectTableRowCountToBeBetween(min_value=1)]
    for c, r in rules.items():
        out.append(E.ExpectColumnValuesToBeOfType(column=c, type_=types[r["type"]]))
        if not nullable(r) or "max_null_share" in r:
            out.append(E.ExpectColumnValuesToNotBeNull(column=c, mostly=1 - r.get("max_null_share", 0)))
        if "min" in r or "max" in r:
            out.append(E.ExpectColumnValuesToBeBetween(column=c, min_value=r.get("min"), max_value=r.get("max")))
        if "allowed" in r:
            out.append(E.ExpectColumnValuesToBeInSet(column=c, value_set=r["allowed"]))
        if "pattern" in r:
            out.append(E.ExpectColumnValuesToMatchRegex(column=c, regex=full_match(r["pattern"])))
    return out


def gx_batch(df):
    """bench/competitors.py's batch of a whole DataFrame (loaded by path: this file has the
    same name)."""
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "competitors.py")
    spec = importlib.util.spec_from_file_location("bench_competitors", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.gx_batch(df)


def gx(path, rules):
    import great_expectations as gx

    ctx, batch = gx_batch(read_pandas(path, rules))
    suite = ctx.suites.add(gx.ExpectationSuite(name="s", expectations=gx_expectations(rules)))
    result = batch.validate(suite)
    if not result.success:
        failed = [r for r in result.results if not r.success]
        broken("gx: rules broken:\n" + "\n".join(
            f"{r.expectation_config.type} {r.expectation_config.kwargs.get('column')}: {r.result or r.exception_info}"
            for r in failed))


TOOLS = {"polars-read": polars_read, "pandera-polars": pandera_polars, "gx": gx}
IMPORTS = {"polars-read": ["polars"], "pandera-polars": ["pandera.polars", "polars"],
           "gx": ["great_expectations", "great_expectations.expectations", "pandas", "pyarrow.parquet"]}

if __name__ == "__main__":
    for module in IMPORTS[sys.argv[1]]:
        importlib.import_module(module)
    if len(sys.argv) > 2:
        TOOLS[sys.argv[1]](sys.argv[2], rules_of(sys.argv[3]))
