//! `validate-data` and `schema infer` on real files: every bad file of the issue's list
//! gives a clear error naming row and column (or is handled), drift statistics equal
//! scipy's, computed at test time.

use crate::common::mlgate;
use mlgate::data::drift::{chi_square, jensen_shannon, ks_and_wasserstein, ks_exact_pvalue, Dist};
use std::path::{Path, PathBuf};
use std::sync::Arc;

const SCHEMA: &str = "columns:\n  x: {type: float}\n  y: {type: string, allowed: [a, b]}\n";

/// A project whose training data is `name` with `bytes`; evaluation data is clean.
fn project(name: &str, bytes: &[u8], schema: &str) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().to_path_buf();
    std::fs::write(root.join(name), bytes).unwrap();
    std::fs::write(root.join("eval.csv"), "x,y\n1.5,a\n2.5,b\n").unwrap();
    std::fs::write(root.join("schema.yaml"), schema).unwrap();
    let config = format!(
        "version: 1\nmodels:\n  m:\n    task: classification\n    target: y\n    data: {{train: {name}, eval: eval.csv, schema: schema.yaml}}\n    drift: {{skew: false}}\n"
    );
    std::fs::write(root.join("mlgate.yaml"), config).unwrap();
    (dir, root)
}

/// Runs validate-data; returns exit code and stdout + stderr.
fn validate(root: &Path) -> (i32, String) {
    let out = mlgate()
        .current_dir(root)
        .args(["validate-data", "--out", "out"])
        .output()
        .unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.code().unwrap_or(-1), text)
}

fn assert_run(name: &str, bytes: &[u8], code: i32, needles: &[&str]) -> String {
    let (_dir, root) = project(name, bytes, SCHEMA);
    let (got, text) = validate(&root);
    assert_eq!(got, code, "{text}");
    for n in needles {
        assert!(text.contains(n), "missing `{n}` in:\n{text}");
    }
    text
}

#[test]
fn clean_csv_passes_and_writes_profiles() {
    let (_dir, root) = project("train.csv", b"x,y\n1.5,a\n2,b\n", SCHEMA);
    let (code, text) = validate(&root);
    assert_eq!(code, 0, "{text}");
    let profile = std::fs::read_to_string(root.join("out/m/profile.train.json")).unwrap();
    assert!(profile.contains("\"quantile_rank_error\""));
}

#[test]
fn ragged_row_names_row_and_line() {
    assert_run(
        "train.csv",
        b"x,y\n1,a\n2,b,extra\n",
        2,
        &["row 2 (line 3)", "wrong number of fields"],
    );
}

#[test]
fn wrong_delimiter_is_detected() {
    assert_run(
        "train.csv",
        b"x;y\n1.5;a\n2;b\n",
        0,
        &["data matches the schema"],
    );
    let (_dir, root) = project(
        "train.csv",
        b"x;y\n1.5;a\n",
        &format!("{SCHEMA}csv: {{delimiter: ','}}\n"),
    );
    let (code, text) = validate(&root);
    assert_eq!(code, 2, "{text}");
    assert!(
        text.contains("line 1") && text.contains("looks `;`-delimited"),
        "{text}"
    );
}

#[test]
fn invalid_utf8_names_row_and_column() {
    assert_run(
        "train.csv",
        b"x,y\n1,a\n2,b\xff\xfe\n",
        2,
        &["row 2 (line 3)", "column `y`", "invalid UTF-8"],
    );
}

#[test]
fn byte_order_mark_is_handled() {
    assert_run(
        "train.csv",
        b"\xef\xbb\xbfx,y\n1,a\n",
        0,
        &["data matches the schema"],
    );
}

#[test]
fn empty_file_is_an_input_error() {
    assert_run("train.csv", b"", 2, &["train.csv: the file is empty"]);
}

#[test]
fn header_only_is_a_finding() {
    assert_run("train.csv", b"x,y\n", 1, &["header but no data rows"]);
}

#[test]
fn ten_megabyte_field_is_reported_shortened() {
    let mut bytes = b"x,y\n1,a\n".to_vec();
    bytes.extend(std::iter::repeat_n(b'9', 5 << 20));
    bytes.extend(b"z");
    bytes.extend(std::iter::repeat_n(b'9', 5 << 20));
    bytes.extend(b",b\n");
    let text = assert_run(
        "train.csv",
        &bytes,
        1,
        &["| x | type |", "not a number", "row 2: `99999"],
    );
    assert!(
        text.len() < 100_000,
        "the value must be shortened in reports"
    );
}

#[test]
fn long_text_values_are_shown_shortened_in_the_profile() {
    // Documents of 20 KB, some repeated: top values of the profile table.
    let mut bytes = b"x,y,note\n".to_vec();
    for i in 0..30 {
        let y = if i % 2 == 0 { "a" } else { "b" };
        bytes.extend(format!("{i},{y},\"{} {}\"\n", i % 3, "word ".repeat(4000)).as_bytes());
    }
    let schema = format!("{SCHEMA}  note: {{type: string}}\n");
    let (_dir, root) = project("train.csv", &bytes, &schema);
    std::fs::write(root.join("eval.csv"), "x,y,note\n1.5,a,hi\n2.5,b,ho\n").unwrap();
    let (code, text) = validate(&root);
    assert_eq!(code, 0, "{text}");
    let report = std::fs::read_to_string(root.join("out/m/validate-data.md")).unwrap();
    let row = report.lines().find(|l| l.starts_with("| note |")).unwrap();
    assert!(row.len() < 400 && row.contains("word wo… (10)"), "{row}");
}

#[test]
fn truncated_gzip_is_an_input_error() {
    use std::io::Write;
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    let body: String = (0..20_000).map(|i| format!("{i}.5,a\n")).collect();
    gz.write_all(format!("x,y\n{body}").as_bytes()).unwrap();
    let bytes = gz.finish().unwrap();
    assert_run("train.csv.gz", &bytes, 0, &["train 20000 rows"]);
    let cut = &bytes[..bytes.len() / 2];
    assert_run(
        "train.csv.gz",
        cut,
        2,
        &["train.csv.gz", "gzip stream is truncated"],
    );
}

fn parquet(columns: Vec<(&str, arrow_array::ArrayRef)>) -> Vec<u8> {
    let batch = arrow_array::RecordBatch::try_from_iter(columns).unwrap();
    let mut out = Vec::new();
    let mut w = parquet::arrow::ArrowWriter::try_new(&mut out, batch.schema(), None).unwrap();
    w.write(&batch).unwrap();
    w.close().unwrap();
    out
}

#[test]
fn parquet_with_an_unexpected_type_is_a_finding_naming_the_column() {
    use arrow_array::{Float64Array, Int64Array, StringArray};
    let good = parquet(vec![
        ("x", Arc::new(Float64Array::from(vec![1.0, 2.0])) as _),
        ("y", Arc::new(StringArray::from(vec!["a", "b"])) as _),
    ]);
    assert_run("train.parquet", &good, 0, &["data matches the schema"]);
    let bad = parquet(vec![
        ("x", Arc::new(StringArray::from(vec!["1.5", "oops"])) as _),
        ("y", Arc::new(Int64Array::from(vec![1, 2])) as _),
    ]);
    assert_run(
        "train.parquet",
        &bad,
        1,
        &[
            "| x | stored_type |",
            "stored as Utf8 but the schema says float",
            "row 2: `oops`",
            "| y | allowed |",
        ],
    );
}

#[test]
fn not_parquet_at_all_is_an_input_error() {
    assert_run(
        "train.parquet",
        b"x,y\n1,a\n",
        2,
        &["not a readable Parquet file"],
    );
}

#[test]
fn json_lines_are_checked_like_csv() {
    assert_run(
        "train.jsonl",
        b"{\"x\": 1.5, \"y\": \"a\"}\n{\"x\": \"oops\", \"y\": \"c\"}\n",
        1,
        &["| x | type |", "row 2: `oops`", "| y | allowed |"],
    );
}

#[test]
fn a_malformed_json_line_is_an_input_error_naming_its_line() {
    assert_run(
        "train.jsonl",
        b"{\"x\": 1.5, \"y\": \"a\"}\n{\"x\": 2.5, \"y\": \"b\",,}\n",
        2,
        &["train.jsonl: line 2: not valid JSON at column"],
    );
}

#[test]
fn extended_schema_rules_report_rows() {
    let schema = "columns:\n  x: {type: float, max_null_share: 0.1}\n  y: {type: string, pattern: '[ab]'}\n  id: {type: integer, unique: true}\ncolumn_order: strict\nduplicate_rows: error\nrows: {min: 1, max: 3}\n";
    let (_dir, root) = project("train.csv", b"x,y,id\n1,a,1\n,abc,2\n,b,2\n,b,2\n", schema);
    let (code, text) = validate(&root);
    assert_eq!(code, 1, "{text}");
    for n in [
        "max_null_share",
        "does not match `[ab]`",
        "duplicate value in a unique column",
        "row repeats an earlier row",
        "at most 3 expected",
    ] {
        assert!(text.contains(n), "missing `{n}`:\n{text}");
    }
    let bad = std::fs::read_to_string(root.join("out/m/validate-data.bad-rows.train.csv")).unwrap();
    assert!(bad.starts_with("row,problems,x,y,id\n"), "{bad}");
    assert!(bad.contains("2,y,,abc,2"), "{bad}");
}

#[test]
fn schema_infer_writes_a_schema_the_data_passes() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("d.csv");
    std::fs::write(&data, "id,n,c,f\nu1,1,a,\nu2,2,b,0.5\nu3,3,a,1.5\n").unwrap();
    let schema = dir.path().join("schema.yaml");
    let infer = || {
        mlgate()
            .args(["schema", "infer"])
            .arg(&data)
            .arg("--out")
            .arg(&schema)
            .assert()
    };
    infer().success();
    let text = std::fs::read_to_string(&schema).unwrap();
    assert!(
        text.contains("type: integer") && text.contains("nullable: true"),
        "{text}"
    );
    let parsed = mlgate::data::DataSchema::load(&schema).unwrap();
    let check = mlgate::data::schema::check_file(&data, &parsed).unwrap();
    assert!(check.passed(), "{:?}", check.findings);
    // Never overwrites.
    infer().code(2);
}

/// Training and evaluation data together: the schema fits both (not train's exact
/// range, which the evaluation data would break), ranges widen by the margin, and a
/// column of numbers written with thousands separators is called out, not silently text.
#[test]
fn schema_infer_fits_every_file_with_margins_and_spots_numbers_written_as_text() {
    let dir = tempfile::tempdir().unwrap();
    let train = dir.path().join("train.csv");
    let eval = dir.path().join("eval.csv");
    std::fs::write(&train, "n,x,mass\n10,0.5,\"3,750\"\n20,1.5,\"4,100\"\n").unwrap();
    std::fs::write(&eval, "n,x,mass\n30,2.5,\"3,900\"\n15,1.0,\"5,250\"\n").unwrap();
    let schema = dir.path().join("schema.yaml");
    let out = mlgate()
        .args(["schema", "infer"])
        .args([&train, &eval])
        .args(["--margin", "0.1", "--out"])
        .arg(&schema)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(
        stderr.contains("column `mass` holds numbers written as text (e.g. `3,750`)"),
        "{stderr}"
    );
    let parsed = mlgate::data::DataSchema::load(&schema).unwrap();
    let n = &parsed.columns["n"];
    // 10..30 widened by 10% of 20 on both sides, outward to whole numbers.
    assert_eq!((n.min, n.max), (Some(8.0), Some(32.0)));
    let x = &parsed.columns["x"];
    assert_eq!((x.min, x.max), (Some(0.3), Some(2.7)));
    for data in [&train, &eval] {
        let check = mlgate::data::schema::check_file(data, &parsed).unwrap();
        assert!(check.passed(), "{:?}", check.findings);
    }
    let text = std::fs::read_to_string(&schema).unwrap();
    assert!(text.contains("# warning: "), "{text}");
}

#[test]
fn drift_against_a_reference_fails_and_reports_values() {
    let (_dir, root) = project("train.csv", b"", SCHEMA);
    let rows = |shift: f64| -> String {
        let body: String = (0..400)
            .map(|i| {
                format!(
                    "{},{}\n",
                    (i % 97) as f64 + shift,
                    if i % 3 == 0 { "a" } else { "b" }
                )
            })
            .collect();
        format!("x,y\n{body}")
    };
    std::fs::write(root.join("train.csv"), rows(40.0)).unwrap();
    std::fs::write(root.join("ref.csv"), rows(0.0)).unwrap();
    let config = std::fs::read_to_string(root.join("mlgate.yaml"))
        .unwrap()
        .replace(
            "drift: {skew: false}",
            "drift: {skew: false, reference: ref.csv, share: 0.5}",
        );
    std::fs::write(root.join("mlgate.yaml"), config).unwrap();
    let (code, text) = validate(&root);
    assert_eq!(code, 1, "{text}");
    assert!(text.contains("drifted from the reference"), "{text}");
    assert!(
        text.contains("ks_statistic") && text.contains("jensen_shannon 0"),
        "{text}"
    );
}

/// A small random split of one distribution crosses PSI by chance: the column is shown
/// as sampling noise, not ❌, and the step passes; a real shift at the same size fails.
#[test]
fn skew_on_a_small_split_is_noise_but_a_real_shift_is_not() {
    let (_dir, root) = project("train.csv", b"x,y\n", SCHEMA);
    let draw = |n: usize, seed: u64, shift: f64| -> String {
        let xs = sample(n, seed, 9.0, 0.0);
        let body: String = xs
            .iter()
            .enumerate()
            .map(|(i, x)| format!("{},{}\n", x + shift, ["a", "b", "c"][i % 3]))
            .collect();
        format!("x,y\n{body}")
    };
    let config = std::fs::read_to_string(root.join("mlgate.yaml"))
        .unwrap()
        .replace("drift: {skew: false}", "drift: {}");
    std::fs::write(root.join("mlgate.yaml"), config).unwrap();
    std::fs::write(
        root.join("schema.yaml"),
        "columns:\n  x: {type: float}\n  y: {type: string}\n",
    )
    .unwrap();
    std::fs::write(root.join("train.csv"), draw(90, 1, 0.0)).unwrap();
    std::fs::write(root.join("eval.csv"), draw(24, 2, 0.0)).unwrap();
    let (code, text) = validate(&root);
    assert_eq!(code, 0, "{text}");
    let report = std::fs::read_to_string(root.join("out/m/validate-data.md")).unwrap();
    assert!(
        report.contains("within sampling noise at 90 vs 24 rows"),
        "{report}"
    );
    assert!(!report.contains("❌"), "{report}");

    std::fs::write(root.join("eval.csv"), draw(24, 2, 12.0)).unwrap();
    let (code, text) = validate(&root);
    assert_eq!(code, 1, "{text}");
    assert!(text.contains("evaluation data is skewed"), "{text}");
}

// ---- scipy -------------------------------------------------------------------------

fn python() -> String {
    let py = std::env::var("MLGATE_TEST_PYTHON").unwrap_or_else(|_| {
        panic!("MLGATE_TEST_PYTHON is not set: run the tests with scripts/test, which installs numpy and scipy")
    });
    let ok = std::process::Command::new(&py)
        .args(["-c", "import scipy"])
        .status()
        .is_ok_and(|s| s.success());
    assert!(
        ok,
        "{py} cannot import scipy: run scripts/test to install it"
    );
    py
}

/// Deterministic samples with ties and different sizes.
fn sample(n: usize, seed: u64, scale: f64, shift: f64) -> Vec<f64> {
    let mut s = seed;
    (0..n)
        .map(|_| {
            s = s
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            let u = (s >> 11) as f64 / (1u64 << 53) as f64;
            ((u * scale).powi(2) + shift).round() / 4.0
        })
        .collect()
}

fn scipy(script: &str, input: &serde_json::Value) -> serde_json::Value {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("in.json");
    std::fs::write(&path, input.to_string()).unwrap();
    let out = std::process::Command::new(python())
        .args(["-c", script])
        .arg(&path)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

fn close(a: f64, b: f64, what: &str) {
    assert!((a - b).abs() <= 1e-9, "{what}: mlgate {a} vs scipy {b}");
}

#[test]
fn numeric_drift_equals_scipy_in_exact_mode() {
    let cases: Vec<(Vec<f64>, Vec<f64>)> = vec![
        (sample(300, 1, 10.0, 0.0), sample(250, 2, 10.0, 3.0)),
        (sample(200, 3, 8.0, 0.0), sample(200, 4, 8.0, 0.0)),
        (sample(1000, 5, 20.0, 0.0), sample(700, 6, 19.0, 1.0)),
        (sample(40, 7, 3.0, 0.0), sample(35, 8, 3.0, 2.0)),
    ];
    let script = r#"
import json, sys
from scipy.stats import ks_2samp, wasserstein_distance
cases = json.load(open(sys.argv[1]))
out = []
for a, b in cases:
    r = ks_2samp(a, b, method='exact')
    out.append([float(r.statistic), float(r.pvalue), float(wasserstein_distance(a, b))])
print(json.dumps(out))
"#;
    let expected = scipy(script, &serde_json::json!(cases));
    for (i, (a, b)) in cases.iter().enumerate() {
        let (da, db) = (Dist::exact(a), Dist::exact(b));
        let (d, w) = ks_and_wasserstein(&da, &db);
        let p = ks_exact_pvalue(
            a.len(),
            b.len(),
            (d * a.len() as f64 * b.len() as f64).round() as u128,
        );
        let e = &expected[i];
        close(d, e[0].as_f64().unwrap(), &format!("case {i} KS statistic"));
        close(p, e[1].as_f64().unwrap(), &format!("case {i} KS p-value"));
        close(w, e[2].as_f64().unwrap(), &format!("case {i} Wasserstein"));
    }
}

#[test]
fn categorical_drift_equals_scipy() {
    let cases: Vec<(Vec<f64>, Vec<f64>)> = vec![
        (vec![120.0, 80.0, 40.0, 10.0], vec![100.0, 90.0, 55.0, 5.0]),
        (vec![500.0, 500.0], vec![430.0, 570.0]),
        (
            vec![30.0, 0.0, 12.0, 7.0, 1.0],
            vec![25.0, 4.0, 10.0, 0.0, 3.0],
        ),
    ];
    let script = r#"
import json, sys
from scipy.stats import chi2_contingency
from scipy.spatial.distance import jensenshannon
cases = json.load(open(sys.argv[1]))
out = []
for a, b in cases:
    keep = [i for i in range(len(a)) if a[i] + b[i] > 0]
    t = [[a[i] for i in keep], [b[i] for i in keep]]
    r = chi2_contingency(t, correction=False)
    out.append([float(r[0]), float(r[1]), float(r[2]), float(jensenshannon(a, b, base=2))])
print(json.dumps(out))
"#;
    let expected = scipy(script, &serde_json::json!(cases));
    for (i, (a, b)) in cases.iter().enumerate() {
        let (stat, dof, p) = chi_square(a, b);
        let e = &expected[i];
        close(stat, e[0].as_f64().unwrap(), &format!("case {i} chi2"));
        close(p, e[1].as_f64().unwrap(), &format!("case {i} chi2 p-value"));
        close(dof, e[2].as_f64().unwrap(), &format!("case {i} dof"));
        close(
            jensen_shannon(a, b),
            e[3].as_f64().unwrap(),
            &format!("case {i} Jensen-Shannon"),
        );
    }
}

#[test]
fn sketch_mode_ks_is_within_its_stated_bound() {
    use mlgate::data::sketch::{Kll, KLL_RANK_ERROR};
    let a = sample(60_000, 11, 30.0, 0.0);
    let b = sample(50_000, 12, 30.0, 5.0);
    let exact = ks_and_wasserstein(&Dist::exact(&a), &Dist::exact(&b)).0;
    let sketch = |v: &[f64]| {
        let mut k = Kll::default();
        v.iter().for_each(|&x| k.update(x));
        k
    };
    let (sa, sb) = (sketch(&a), sketch(&b));
    // The statistic from the sketches' weighted items.
    let to_values = |k: &Kll| -> Vec<(f64, f64)> { k.weighted() };
    let (wa, wb) = (to_values(&sa), to_values(&sb));
    let mut gap: f64 = 0.0;
    for (x, _) in wa.iter().chain(&wb) {
        gap = gap.max((sa.cdf(*x) - sb.cdf(*x)).abs());
    }
    assert!(
        (gap - exact).abs() <= 2.0 * KLL_RANK_ERROR,
        "sketch KS {gap} vs exact {exact}"
    );
}

#[test]
fn train_stores_the_profile_that_becomes_the_drift_reference() {
    let (_dir, root) = crate::common::example_repo();
    let project = root.join("examples/churn");
    mlgate()
        .current_dir(&project)
        .arg("train")
        .assert()
        .success();
    let candidate: serde_json::Value = serde_json::from_slice(
        &std::fs::read(project.join(".mlgate/reports/churn/candidate.json")).unwrap(),
    )
    .unwrap();
    let version = candidate["version"].as_str().unwrap();
    let stored = project.join(format!(
        ".mlgate/store/models/churn/versions/{version}/profile.json"
    ));
    let profile: mlgate::data::profile::Profile =
        serde_json::from_slice(&std::fs::read(stored).unwrap()).unwrap();
    assert_eq!(profile.rows, 6000);
    // Once this version is in production, its profile is the reference.
    let pointer = project.join("models/churn/production.yaml");
    let text = std::fs::read_to_string(&pointer).unwrap();
    let promoted: String = text
        .lines()
        .map(|l| {
            if l.starts_with("version:") {
                format!("version: {version}\n")
            } else {
                format!("{l}\n")
            }
        })
        .collect();
    std::fs::write(&pointer, promoted).unwrap();
    let (code, text) = validate(&project);
    assert_eq!(code, 0, "{text}");
    assert!(text.contains(&format!("production `{version}`")), "{text}");
    assert!(text.contains("(sketch)"), "{text}");
}

#[test]
fn every_schema_key_is_documented() {
    let schema = serde_json::to_value(schemars::schema_for!(mlgate::data::DataSchema)).unwrap();
    crate::docs::assert_keys_documented(&schema, "docs/data-schema.md");
}

#[test]
fn frames_read_parquet_and_gzip_like_csv() {
    use arrow_array::{Float64Array, StringArray};
    use std::collections::HashMap;
    use std::io::Write;
    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("d.csv");
    std::fs::write(&csv, "x,y\n1.5,a\n,b\n").unwrap();
    let gz = dir.path().join("d.csv.gz");
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    enc.write_all(b"x,y\n1.5,a\n,b\n").unwrap();
    std::fs::write(&gz, enc.finish().unwrap()).unwrap();
    let pq = dir.path().join("d.parquet");
    std::fs::write(
        &pq,
        parquet(vec![
            (
                "x",
                Arc::new(Float64Array::from(vec![Some(1.5), None])) as _,
            ),
            ("y", Arc::new(StringArray::from(vec!["a", "b"])) as _),
        ]),
    )
    .unwrap();
    let read =
        |p: &Path| mlgate::data::Frame::read(p, &Default::default(), &HashMap::new()).unwrap();
    let expected = read(&csv);
    for p in [&gz, &pq] {
        let f = read(p);
        assert_eq!((&f.names, f.rows), (&expected.names, 2));
        assert_eq!(f.column("y"), expected.column("y"));
        let (Some(mlgate::data::Column::Numeric(a)), Some(mlgate::data::Column::Numeric(b))) =
            (f.column("x"), expected.column("x"))
        else {
            panic!("x is numeric")
        };
        assert_eq!(a[0], b[0]);
        assert!(a[1].is_nan() && b[1].is_nan());
    }
}
