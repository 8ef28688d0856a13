//! The documentation cannot drift from the code: its examples are parsed by the real
//! parser, every config key is documented, and the published JSON Schema is current.

use crate::common::{mlgate, repo_root};
use mlgate::config::Project;
use std::path::Path;

fn read(rel: &str) -> String {
    std::fs::read_to_string(repo_root().join(rel)).unwrap()
}

/// Fenced blocks of `lang` in a Markdown file.
fn blocks(markdown: &str, lang: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut current: Option<String> = None;
    for line in markdown.lines() {
        match (&mut current, line.trim_start().strip_prefix("```")) {
            (None, Some(tag)) if tag == lang => current = Some(String::new()),
            (Some(block), Some("")) => {
                out.push(std::mem::take(block));
                current = None;
            }
            (Some(block), _) => {
                block.push_str(line);
                block.push('\n');
            }
            _ => {}
        }
    }
    out
}

#[test]
fn config_reference_examples_parse() {
    let doc = read("docs/config.md");
    let yaml = blocks(&doc, "yaml");
    assert_eq!(
        yaml.len(),
        2,
        "expected the config example and the pointer example"
    );
    let project = Project::parse(Path::new("docs/config.md"), yaml[0].clone()).unwrap();
    assert_eq!(project.config.models["churn"].gate.len(), 3);
    mlgate::pointer::Pointer::parse(Path::new("docs/config.md"), &yaml[1], "churn").unwrap();
}

#[test]
fn aws_example_parses_as_sagemaker_on_s3() {
    let yaml = blocks(&read("docs/aws.md"), "yaml");
    assert_eq!(yaml.len(), 1);
    let project = Project::parse(Path::new("docs/aws.md"), yaml[0].clone()).unwrap();
    assert_eq!(project.config.store, "s3://acme-ml/mlgate");
    let train = &project.config.models["churn"].train;
    assert_eq!(train.backend, mlgate::config::Backend::Sagemaker);
    let sm = train.sagemaker.as_ref().unwrap();
    assert!(sm.spot && sm.algorithm.is_some());
    assert_eq!(sm.transform.instance_count, Some(2));
}

#[test]
fn every_config_key_is_documented() {
    let schema: serde_json::Value = serde_json::from_str(&read("docs/mlgate.schema.json")).unwrap();
    assert!(assert_keys_documented(&schema, "docs/config.md") > 20);
}

/// Every property of `schema` appears as `` `key` `` in the document; returns how many keys.
pub(crate) fn assert_keys_documented(schema: &serde_json::Value, doc: &str) -> usize {
    let mut keys = Vec::new();
    collect_properties(schema, &mut keys);
    let text = read(doc);
    let missing: Vec<_> = keys
        .iter()
        .filter(|k| !text.contains(&format!("`{k}`")))
        .collect();
    assert!(missing.is_empty(), "keys missing from {doc}: {missing:?}");
    keys.len()
}

fn collect_properties(value: &serde_json::Value, keys: &mut Vec<String>) {
    match value {
        serde_json::Value::Object(map) => {
            if let Some(serde_json::Value::Object(props)) = map.get("properties") {
                keys.extend(props.keys().cloned());
            }
            map.values().for_each(|v| collect_properties(v, keys));
        }
        serde_json::Value::Array(items) => items.iter().for_each(|v| collect_properties(v, keys)),
        _ => {}
    }
}

#[test]
fn published_schema_is_current() {
    let out = mlgate().args(["config", "schema"]).output().unwrap();
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        read("docs/mlgate.schema.json"),
        "run `mlgate config schema > docs/mlgate.schema.json`"
    );
}

#[test]
fn data_schema_example_parses() {
    let doc = read("docs/data-schema.md");
    let yaml = &blocks(&doc, "yaml")[0];
    let schema: mlgate::data::DataSchema =
        mlgate::config::from_yaml(Path::new("docs/data-schema.md"), yaml).unwrap();
    assert!(schema.columns["referral_code"].optional);
}

#[test]
fn documented_steps_and_exit_codes_match_the_cli() {
    let help = String::from_utf8(mlgate().arg("--help").output().unwrap().stdout).unwrap();
    let steps = read("docs/steps.md");
    for step in mlgate::report::StepName::ALL {
        assert!(
            help.contains(&format!("  {step} ")),
            "{step} missing from --help"
        );
        assert!(
            steps.contains(&format!("| `{step}` |")),
            "{step} missing from docs/steps.md"
        );
    }
    for (code, words) in [
        (0, "ok"),
        (1, "a validation or the gate failed"),
        (2, "usage, config or input error"),
        (3, "an external service or tool failed"),
    ] {
        assert!(
            help.contains(&format!("  {code}  {words}")),
            "exit {code} in --help"
        );
        assert!(
            steps.contains(&format!("| {code} | {words}")),
            "exit {code} in docs/steps.md"
        );
    }
}

#[test]
fn example_data_is_reproduced_by_its_generator() {
    let tmp = tempfile::tempdir().unwrap();
    let example = repo_root().join("examples/churn");
    std::fs::copy(example.join("generate.py"), tmp.path().join("generate.py")).unwrap();
    let status = std::process::Command::new("python3")
        .arg(tmp.path().join("generate.py"))
        .status()
        .expect("python3 runs");
    assert!(status.success());
    for file in [
        "data/train.csv",
        "data/eval.csv",
        "data/incoming/2026-11-batch.csv",
        "data/score/to-score.csv",
    ] {
        assert_eq!(
            std::fs::read(tmp.path().join(file)).unwrap(),
            std::fs::read(example.join(file)).unwrap(),
            "{file} differs from what generate.py writes"
        );
    }
}
