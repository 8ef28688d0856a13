"""Writes the shapes benchmark's tables: per shape a folder with current.csv,
current.csv.gz (the same file gzipped at gzip's default level), current.jsonl (the same
rows as JSON Lines, as polars writes them), current.parquet (pyarrow, snappy) and
current.polars.parquet (the same rows as polars writes them), reference.csv (the drift
reference's data), eval.csv, schema.yaml (a rule on every column) and mlgate projects
(ref/, csv/, csv-gz/, jsonl/, parquet/, parquet-polars/).
Reference and eval rows come from the same distribution as the current rows, so the data
passes its rules and does not drift. Skips shapes already written.
Usage: generate.py OUT SCALE   (SCALE 1 ≈ 500 MB of CSV per shape)"""
import collections
import gzip
import itertools
import json
import os
import shutil
import sys

import numpy as np
import polars as pl
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

REFERENCE_ROWS = 100_000
EVAL_ROWS = 1000
CELLS_PER_ROW_GROUP = 4_000_000  # ≈ 32 MB of doubles: several row groups per core
NULL_SPELLINGS = [None, "NA", "null"]  # None is written as an empty field


# A column: its schema rule, a generator of its values for row numbers, its share of nulls.
Col = collections.namedtuple("Col", "name rule gen null_share", defaults=[0.0])


# Value generators: each returns a function of (rng, row numbers) to a pyarrow array.

def letters(rng, n, lo, hi):
    """n distinct lowercase pseudo-words of lo..hi letters."""
    out = set()
    while len(out) < n:
        k = int(rng.integers(lo, hi + 1))
        out.add("".join(rng.choice(list("bcdfghklmnprstvz" if i % 2 == 0 else "aeiou")) for i in range(k)))
    return sorted(out)


def zipf(k, s=1.0):
    """Skewed level shares, as categories usually are."""
    p = 1.0 / np.arange(1, k + 1) ** s
    return p / p.sum()


def pick(values, p=None):
    levels = pa.array(values)
    return lambda rng, idx: levels.take(pa.array(rng.choice(len(values), len(idx), p=p)))


def floats(draw, decimals=None):
    """decimals=None keeps full precision: 16–17 significant digits in the CSV."""
    def gen(rng, idx):
        x = draw(rng, len(idx))
        return pa.array(x if decimals is None else x.round(decimals))
    return gen


def ints(lo, hi):
    return lambda rng, idx: pa.array(rng.integers(lo, hi + 1, len(idx)))


def row_number(rng, idx):
    return pa.array(idx)


def timestamps(step_ms, fmt, unit):
    """Row i falls in [i·step, (i+1)·step) after 2024-01-01: all distinct while the unit is
    finer than the step, in the same distribution for any sample of rows. %S prints the
    unit's fractions of a second."""
    def gen(rng, idx):
        ms = np.datetime64("2024-01-01T00:00:00", "ms") + idx * step_ms + rng.integers(0, step_ms, len(idx))
        return pc.strftime(pa.array(ms.astype(f"datetime64[{unit}]")), format=fmt)
    return gen


def fixed_text(matrix):
    """Rows of a uint8 matrix as one string each, built on the bytes without a Python loop."""
    n, width = matrix.shape
    offsets = np.arange(0, (n + 1) * width, width, dtype=np.int32)
    return pa.StringArray.from_buffers(n, pa.py_buffer(offsets), pa.py_buffer(np.ascontiguousarray(matrix).tobytes()))


def uuids(rng, idx):
    hexdigits = np.frombuffer(b"0123456789abcdef", np.uint8)
    digits = hexdigits[rng.integers(0, 16, (len(idx), 32))]
    digits[:, 12] = ord("4")  # version 4
    digits[:, 16] = hexdigits[8 + rng.integers(0, 4, len(idx))]  # variant 10xx
    out = np.full((len(idx), 36), ord("-"), np.uint8)
    out[:, [i for i in range(36) if i not in (8, 13, 18, 23)]] = digits
    return fixed_text(out)


def join(*parts):
    return pc.binary_join_element_wise(*parts, "")


def padded(lo, hi, width):
    return lambda rng, idx: pc.utf8_lpad(pc.cast(pa.array(rng.integers(lo, hi, len(idx))), pa.string()), width, "0")


def prose(vocabulary, mean_words, capitalised_words=False):
    """Free text of a varying number of words; a tenth of the gaps are commas, so those
    values are quoted in the CSV. Capitalised words and no commas: titles."""
    first = pa.array([w.capitalize() for w in vocabulary])
    sep = [" " + w.capitalize() for w in vocabulary] if capitalised_words else (
        [" " + w for w in vocabulary] + [", " + w for w in vocabulary[: len(vocabulary) // 9]])
    rest = pa.array(sep + [""])
    end = "" if capitalised_words else "."

    def gen(rng, idx):
        n = len(idx)
        length = np.minimum(rng.geometric(1 / mean_words, n), 4 * mean_words)
        parts = [first.take(pa.array(rng.integers(0, len(first), n)))]
        for j in range(1, int(length.max())):
            k = np.where(length > j, rng.integers(0, len(sep), n), len(sep))
            parts.append(rest.take(pa.array(k)))
        return join(*parts, end)
    return gen


# The shapes. Rows at SCALE 1 put each CSV near 500 MB.

def transactions():
    merchants = [f"{a}-{b}" for a in letters(np.random.default_rng(1), 20, 4, 6)
                 for b in letters(np.random.default_rng(2), 10, 3, 5)]
    countries = ["DE", "FR", "GB", "US", "ES", "IT", "NL", "BE", "CH", "AT", "SE", "PL", "DK", "NO", "IE", "PT"]
    return 5_000_000, "status", [
        Col("txn_id", {"type": "integer", "min": 0}, row_number),
        Col("customer_id", {"type": "integer", "min": 1, "max": 2_000_000}, ints(1, 2_000_000)),
        Col("ts", {"type": "string", "pattern": r"20[0-9]{2}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{3}Z"},
            timestamps(6000, "%Y-%m-%dT%H:%M:%SZ", "ms")),
        Col("merchant", {"type": "string", "allowed": merchants}, pick(merchants, zipf(200, 0.8))),
        Col("amount", {"type": "float", "min": 0, "max": 1_000_000, "max_null_share": 0.05},
            floats(lambda rng, n: rng.lognormal(3.5, 1.2, n), 2), 0.03),
        Col("fee", {"type": "float", "min": 0, "max": 10}, floats(lambda rng, n: rng.exponential(1, n).clip(0, 10), 2)),
        Col("fx_rate", {"type": "float", "min": 0.5, "max": 2, "max_null_share": 0.04},
            floats(lambda rng, n: 0.5 + 1.5 * rng.random(n)), 0.02),
        Col("channel", {"type": "string", "allowed": ["web", "pos", "atm", "app"]},
            pick(["web", "pos", "atm", "app"], [0.4, 0.35, 0.05, 0.2])),
        Col("country", {"type": "string", "allowed": countries}, pick(countries, zipf(len(countries)))),
        Col("currency", {"type": "string", "allowed": ["EUR", "USD", "GBP", "CHF", "JPY", "SEK"], "nullable": True},
            pick(["EUR", "USD", "GBP", "CHF", "JPY", "SEK"], zipf(6)), 0.01),
        Col("status", {"type": "string", "allowed": ["approved", "declined", "pending", "refunded"]},
            pick(["approved", "declined", "pending", "refunded"], [0.85, 0.08, 0.05, 0.02])),
    ]


def ids_and_text():
    rng = np.random.default_rng(3)
    vocabulary = letters(rng, 3000, 2, 9)
    first, last = letters(rng, 300, 3, 7), letters(rng, 1000, 4, 9)
    domains = [f"{d}.{t}" for d in letters(rng, 40, 4, 8) for t in ("com", "org", "net", "io")]
    suffix = [""] * 100 + [str(i) for i in range(1, 100)]  # half the addresses end in digits

    def emails(rng, idx):
        return join(pick(first)(rng, idx), ".", pick(last)(rng, idx), pick(suffix)(rng, idx), "@",
                    pick(domains, zipf(len(domains)))(rng, idx))
    return 2_500_000, "kind", [
        Col("event_id", {"type": "string", "pattern": "[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}"},
            uuids),
        Col("session", {"type": "string", "pattern": "S[0-9]{10}"}, lambda rng, idx: join("S", padded(0, 10**10, 10)(rng, idx))),
        Col("created_at", {"type": "string", "pattern": "20[0-9]{2}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2}:[0-9]{2}"},
            timestamps(9000, "%Y-%m-%d %H:%M:%S", "s")),
        Col("email", {"type": "string", "pattern": r"[a-z]+\.[a-z]+[0-9]{0,2}@[a-z]+\.(com|org|net|io)"}, emails),
        Col("title", {"type": "string", "pattern": "[A-Z][a-z]*( [A-Z][a-z]*)*"}, prose(vocabulary, 3, True)),
        Col("comment", {"type": "string", "pattern": "[A-Z][a-z ,]*\\.", "max_null_share": 0.1}, prose(vocabulary, 12), 0.05),
        Col("kind", {"type": "string", "allowed": ["view", "click", "purchase", "share"]},
            pick(["view", "click", "purchase", "share"], [0.6, 0.3, 0.07, 0.03])),
    ]


def decimals():
    return 3_650_000, "label", [
        Col("price", {"type": "float", "min": 0, "max": 1_000_000}, floats(lambda rng, n: rng.lognormal(3, 1.5, n), 2)),
        Col("discount", {"type": "float", "min": -1000, "max": 1000}, floats(lambda rng, n: rng.normal(0, 50, n), 2)),
        Col("qty", {"type": "integer", "min": 1, "max": 1000}, ints(1, 1000)),
        Col("big_id", {"type": "integer", "min": 0, "max": 10**16}, ints(0, 10**16 - 1)),
        Col("delta", {"type": "integer", "min": -1_000_000, "max": 1_000_000}, ints(-1_000_000, 1_000_000)),
        Col("weight", {"type": "float", "min": -10_000, "max": 10_000}, floats(lambda rng, n: rng.normal(0, 100, n))),
        Col("ratio", {"type": "float", "min": 0, "max": 1, "max_null_share": 0.02},
            floats(lambda rng, n: rng.random(n)), 0.01),
        Col("tiny", {"type": "float", "min": 0, "max": 1e-4}, floats(lambda rng, n: 10 ** rng.uniform(-12, -5, n))),
        Col("huge", {"type": "float", "min": 1e15, "max": 1e23}, floats(lambda rng, n: 10 ** rng.uniform(16, 22, n))),
        Col("temp", {"type": "float", "min": -60, "max": 60}, floats(lambda rng, n: rng.normal(12, 10, n).clip(-60, 60), 1)),
        Col("pct", {"type": "float", "min": 0, "max": 100}, floats(lambda rng, n: 100 * rng.random(n), 4)),
        Col("label", {"type": "string", "allowed": ["a", "b", "c"]}, pick(["a", "b", "c"], [0.5, 0.3, 0.2])),
    ]


def wide():
    kinds = [  # (rule bounds, draw, decimals)
        ((0, 1e7), lambda rng, n: rng.lognormal(5, 1, n), 2),
        ((0, 1), lambda rng, n: rng.random(n), 4),
        ((-1e4, 1e4), lambda rng, n: rng.normal(0, 100, n), None),
        ((-100, 200), lambda rng, n: rng.normal(50, 10, n), 1),
    ]
    cols = []
    for j in range(80):
        (lo, hi), draw, dp = kinds[j % 4]
        share = 0.01 if j % 10 == 0 else 0.0
        rule = {"type": "float", "min": lo, "max": hi} | ({"max_null_share": 0.03} if share else {})
        cols.append(Col(f"f{j:03d}", rule, floats(draw, dp), share))
    for j in range(30):
        hi = [1, 10, 1000, 100_000][j % 4]
        cols.append(Col(f"i{j:03d}", {"type": "integer", "min": 0, "max": hi}, ints(0, hi)))
    for j in range(10):
        levels = [f"c{j}_{k}" for k in range(3 + j % 6)]
        cols.append(Col(f"c{j:03d}", {"type": "string", "allowed": levels}, pick(levels, zipf(len(levels)))))
    cols.append(Col("label", {"type": "string", "allowed": ["yes", "no"]}, pick(["yes", "no"], [0.3, 0.7])))
    return 555_000, "label", cols


def categoricals():
    rng = np.random.default_rng(4)
    words = letters(rng, 200, 3, 8)
    styles = [lambda k: [chr(65 + i) for i in range(k)],
              lambda k: list(rng.choice(words, k, replace=False)),
              lambda k: [f"lvl-{i:02d}" for i in range(k)]]
    cols = []
    for j in range(32):
        levels = [str(v) for v in styles[j % 3](2 + round(18 * j / 31))]
        share = 0.02 if j % 8 == 7 else 0.0
        rule = {"type": "string", "allowed": levels} | ({"nullable": True} if share else {})
        cols.append(Col(f"c{j:02d}", rule, pick(levels, zipf(len(levels), 0.7)), share))
    skus = [f"SKU-{v:06d}" for v in np.sort(rng.choice(10**6, 500, replace=False))]
    cities = [w.capitalize() for w in letters(rng, 2000, 5, 11)]
    products = [f"P{v:05d}-{w}" for v, w in zip(rng.choice(10**5, 5000, replace=False), rng.choice(words, 5000))]
    cols += [
        Col("sku", {"type": "string", "allowed": skus}, pick(skus, zipf(500, 0.9))),
        Col("city", {"type": "string", "allowed": cities}, pick(cities, zipf(2000, 1.1))),
        Col("product", {"type": "string", "allowed": products, "max_null_share": 0.05}, pick(products, zipf(5000, 0.8)), 0.01),
        Col("segment", {"type": "string", "allowed": ["retail", "smb", "enterprise", "public"]},
            pick(["retail", "smb", "enterprise", "public"], [0.6, 0.25, 0.1, 0.05])),
    ]
    return 2_450_000, "segment", cols


def nulls():
    """Every column but the target is 30–60% missing, spelled empty, NA or null in the CSV;
    half the columns bound the share, half only allow nulls."""
    gens = [
        ("int", {"type": "integer", "min": 0, "max": 10_000}, ints(0, 10_000)),
        ("float", {"type": "float", "min": -1000, "max": 1000}, floats(lambda rng, n: rng.normal(0, 100, n), 3)),
        ("cat", {"type": "string", "allowed": ["red", "green", "blue", "black", "white"]},
         pick(["red", "green", "blue", "black", "white"], zipf(5))),
        ("code", {"type": "string", "pattern": "[A-Z]{2}-[0-9]{4}"},
         lambda rng, idx: join(pick([chr(a) + chr(b) for a in range(65, 91) for b in range(65, 91)])(rng, idx), "-",
                               padded(0, 10_000, 4)(rng, idx))),
        ("flag", {"type": "boolean"}, lambda rng, idx: pa.array(rng.random(len(idx)) < 0.3)),
    ]
    cols = []
    for j in range(15):
        kind, rule, gen = gens[j % len(gens)]
        share = 0.3 + 0.3 * j / 14
        bound = {"max_null_share": round(share + 0.05, 3)} if j % 2 == 0 else {"nullable": True}
        cols.append(Col(f"{kind}{j:02d}", rule | bound, gen, share))
    cols.append(Col("label", {"type": "string", "allowed": ["x", "y"]}, pick(["x", "y"])))
    return 6_800_000, "label", cols


def paragraphs(vocabulary, mean_words, most):
    """Free text of 1 to `most` paragraphs of prose, a line break between them: the CSV
    quotes the value, and most of the file's line breaks are inside quotes."""
    paragraph = prose(vocabulary, mean_words)

    def gen(rng, idx):
        n = len(idx)
        count = rng.integers(1, most + 1, n)
        parts = [paragraph(rng, idx)]
        for j in range(1, most):
            more = pa.array(count > j)
            parts += [pc.if_else(more, "\n", ""), pc.if_else(more, paragraph(rng, idx), "")]
        return join(*parts)
    return gen


def reviews():
    """Product reviews: a body of several paragraphs, so that a split point of the CSV
    most often falls on a line break inside a quoted field."""
    rng = np.random.default_rng(5)
    vocabulary = letters(rng, 2000, 2, 9)
    products = [f"P{v:05d}" for v in np.sort(rng.choice(10**5, 300, replace=False))]
    return 1_400_000, "sentiment", [
        Col("review_id", {"type": "integer", "min": 0}, row_number),
        Col("product", {"type": "string", "allowed": products}, pick(products, zipf(300, 0.9))),
        Col("created_at", {"type": "string", "pattern": "20[0-9]{2}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z"},
            timestamps(20000, "%Y-%m-%dT%H:%M:%SZ", "s")),
        Col("rating", {"type": "integer", "min": 1, "max": 5}, ints(1, 5)),
        Col("title", {"type": "string", "pattern": "[A-Z][a-z]*( [A-Z][a-z]*)*"}, prose(vocabulary, 4, True)),
        Col("body", {"type": "string", "max_null_share": 0.05}, paragraphs(vocabulary, 14, 4), 0.02),
        Col("helpful_votes", {"type": "integer", "min": 0, "max": 10_000}, ints(0, 10_000)),
        Col("verified", {"type": "boolean"}, lambda rng, idx: pa.array(rng.random(len(idx)) < 0.7)),
        Col("sentiment", {"type": "string", "allowed": ["positive", "neutral", "negative"]},
            pick(["positive", "neutral", "negative"], [0.6, 0.25, 0.15])),
    ]


def documents():
    """Long text: a body of 1 to 20 paragraphs, about 14 KB a row (articles, long
    e-mails), so that the text, not the cells, sizes a batch."""
    rng = np.random.default_rng(6)
    vocabulary = letters(rng, 5000, 2, 10)
    return 40_000, "label", [
        Col("doc_id", {"type": "integer", "min": 0}, row_number),
        Col("source", {"type": "string", "allowed": ["web", "email", "chat", "forum"]},
            pick(["web", "email", "chat", "forum"], [0.4, 0.3, 0.2, 0.1])),
        Col("language", {"type": "string", "allowed": ["en", "de", "fr", "es"]}, pick(["en", "de", "fr", "es"], zipf(4))),
        Col("created_at", {"type": "string", "pattern": "20[0-9]{2}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z"},
            timestamps(600000, "%Y-%m-%dT%H:%M:%SZ", "s")),
        Col("title", {"type": "string", "pattern": "[A-Z][a-z]*( [A-Z][a-z]*)*"}, prose(vocabulary, 6, True)),
        Col("body", {"type": "string"}, paragraphs(vocabulary, 200, 20)),
        Col("label", {"type": "string", "allowed": ["spam", "ham"]}, pick(["spam", "ham"], [0.2, 0.8])),
    ]


def embeddings():
    """1000 numeric columns (a model's embedding or a feature store's row), few rows:
    per-column work and memory, not per-row, set the pace."""
    cols = [Col(f"e{j:04d}", {"type": "float", "min": -10, "max": 10},
                floats(lambda rng, n: rng.normal(0, 1, n), 4)) for j in range(1000)]
    cols.append(Col("label", {"type": "string", "allowed": ["a", "b"]}, pick(["a", "b"])))
    return 60_000, "label", cols


SHAPES = {"transactions": transactions, "ids-and-text": ids_and_text, "decimals": decimals,
          "wide": wide, "categoricals": categoricals, "nulls": nulls, "reviews": reviews,
          "documents": documents, "embeddings": embeddings}
# BENCH_SHAPES: some of the shapes (default all).
CHOSEN = [s for s in os.environ.get("BENCH_SHAPES", ",".join(SHAPES)).split(",") if s]
if not set(CHOSEN) <= set(SHAPES):
    sys.exit(f"bench/shapes: BENCH_SHAPES takes some of {', '.join(SHAPES)}")


def table(cols, rng, idx):
    arrays = []
    for c in cols:
        a = c.gen(rng, idx)
        if c.null_share:
            a = pc.if_else(pa.array(rng.random(len(idx)) < c.null_share), pa.scalar(None, a.type), a)
        arrays.append(a)
    return pa.table(arrays, names=[c.name for c in cols])


def spelled(df, rng):
    """The CSV's text of a table whose missing values come in every spelling."""
    out = []
    for name in df.columns:
        if df[name].null_count() == 0:
            out.append(df[name])
            continue
        spelling = pl.Series(pick(NULL_SPELLINGS)(rng, np.arange(len(df))))
        out.append(df[name].cast(pl.String).fill_null(spelling).alias(name))
    return pl.DataFrame(out)


def write_csv(path, tables, spell, rng):
    with open(path, "wb") as f:
        for i, t in enumerate(tables):
            df = pl.from_arrow(t)
            (spelled(df, rng) if spell else df).write_csv(f, include_header=i == 0)


def sample(rng, rows, n):
    return np.sort(rng.choice(rows, min(n, rows), replace=False))


def project(folder, train, target, drift):
    os.makedirs(folder)
    drift = "\n    drift: {reference: ../ref/out/m/profile.train.json}" if drift else ""
    with open(os.path.join(folder, "mlgate.yaml"), "w") as f:
        f.write("version: 1\nmodels:\n  m:\n    task: classification\n"
                f"    target: {target}\n"
                f"    data: {{train: ../{train}, eval: ../eval.csv, schema: ../schema.yaml}}{drift}\n")


def write_shape(out, number, name, scale):
    folder = os.path.join(out, name)
    if os.path.exists(folder):
        return
    full_rows, target, cols = SHAPES[name]()
    rows = max(1000, round(full_rows * scale))
    tmp = folder + ".tmp"
    shutil.rmtree(tmp, ignore_errors=True)
    os.makedirs(tmp)
    rng = np.random.default_rng([7, number])
    spell = name == "nulls"
    write_csv(f"{tmp}/reference.csv", [table(cols, rng, sample(rng, rows, REFERENCE_ROWS))], spell, rng)
    write_csv(f"{tmp}/eval.csv", [table(cols, rng, sample(rng, rows, EVAL_ROWS))], spell, rng)
    chunk = max(1000, CELLS_PER_ROW_GROUP // len(cols))
    chunks = (table(cols, rng, np.arange(s, min(s + chunk, rows))) for s in range(0, rows, chunk))
    first = next(chunks)
    with pq.ParquetWriter(f"{tmp}/current.parquet", first.schema) as parquet:
        def also_parquet(t):  # one pass over the chunks writes both files
            parquet.write_table(t, row_group_size=chunk)
            return t
        write_csv(f"{tmp}/current.csv", map(also_parquet, itertools.chain([first], chunks)), spell, rng)
    with open(f"{tmp}/schema.yaml", "w") as f:
        # One JSON object per column: valid YAML, every string quoted ("yes", "NA" stay text).
        f.write("columns:\n" + "".join(f"  {c.name}: {json.dumps(c.rule)}\n" for c in cols))
    project(f"{tmp}/ref", "reference.csv", target, False)
    project(f"{tmp}/csv", "current.csv", target, True)
    project(f"{tmp}/parquet", "current.parquet", target, True)
    os.rename(tmp, folder)
    print(f"{name}: {rows} rows written", file=sys.stderr)


def write_copy(out, name, file, project_dir, write):
    """Another file of the shape's rows, `write(folder, tmp_path)` making it from the files
    already there, and a project that validates it; each written once (tmp, then renamed)."""
    folder = os.path.join(out, name)
    path = os.path.join(folder, file)
    if not os.path.exists(path):
        write(folder, path + ".tmp")
        os.rename(path + ".tmp", path)
    if not os.path.exists(os.path.join(folder, project_dir)):
        project(os.path.join(folder, project_dir), file, SHAPES[name]()[1], True)


def polars_parquet(folder, path):
    """The Parquet rows as polars writes them: large strings, zstd, and no page encoding
    statistics, so a reader learns less from the file than from pyarrow's."""
    pl.read_parquet(os.path.join(folder, "current.parquet")).write_parquet(path)


def gzipped_csv(folder, path):
    """The CSV gzipped, as uploads often come: one stream that only one thread can inflate."""
    with open(os.path.join(folder, "current.csv"), "rb") as f, gzip.open(path, "wb", 6) as z:
        shutil.copyfileobj(f, z, 1 << 20)


def json_lines(folder, path):
    """The rows as JSON Lines: typed values, missing ones as null."""
    pl.read_parquet(os.path.join(folder, "current.parquet")).write_ndjson(path)


def main():
    out, scale = sys.argv[1], float(sys.argv[2])
    os.makedirs(out, exist_ok=True)
    for number, name in enumerate(SHAPES):
        if name not in CHOSEN:
            continue
        write_shape(out, number, name, scale)
        write_copy(out, name, "current.polars.parquet", "parquet-polars", polars_parquet)
        write_copy(out, name, "current.csv.gz", "csv-gz", gzipped_csv)
        write_copy(out, name, "current.jsonl", "jsonl", json_lines)


if __name__ == "__main__":
    main()
