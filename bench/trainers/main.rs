//! mlgate's side of the trainer benchmark (see bench/trainers/run): trains each case
//! with the built-in trainer, times training and prediction, prints one JSON line per run.
//!
//! Usage: cargo bench --bench trainers -- DATA_DIR CASES_JSON

use mlgate::config::ModelConfig;
use mlgate::data::{Frame, Kind};
use mlgate::evaluate::metrics;
use mlgate::model::labels::{encode_labels, target_values};
use mlgate::model::Predictions;
use mlgate::train::{read_kinds, Builtin, TrainRequest, Trainer};
use std::collections::HashMap;
use std::path::Path;
use std::time::Instant;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| a != "--bench")
        .collect();
    let [dir, cases] = args.as_slice() else {
        // `cargo test --all-targets` runs benches without arguments: nothing to measure.
        eprintln!("usage: trainers DATA_DIR CASES_JSON (see bench/trainers/run)");
        return Ok(());
    };
    let cases: Vec<serde_json::Value> = serde_json::from_str(cases)?;
    let runtime = tokio::runtime::Builder::new_current_thread().build()?;
    for case in cases {
        let data = case["data"].as_str().ok_or("case without data")?;
        let config: ModelConfig = serde_json::from_value(serde_json::json!({
            "task": case["task"],
            "target": "target",
            "data": {"train": "", "eval": ""},
            "train": {"algorithm": case["algorithm"], "params": case.get("params").cloned().unwrap_or_else(|| serde_json::json!({}))},
        }))?;
        let mut kinds: HashMap<String, Kind> = read_kinds(&config);
        let train = Frame::read(
            Path::new(&format!("{dir}/{data}.train.csv")),
            &Default::default(),
            &kinds,
        )?;
        let eval = Frame::read(
            Path::new(&format!("{dir}/{data}.eval.csv")),
            &Default::default(),
            &kinds,
        )?;
        kinds.clear();
        let started = Instant::now();
        let trained = runtime.block_on(Builtin.train(&TrainRequest {
            name: data,
            config: &config,
            train: &train,
        }))?;
        let seconds = started.elapsed().as_secs_f64();
        let model = trained.model;
        let predictions = model.predict(&eval)?;
        let quality = match &predictions {
            Predictions::Proba { classes, proba } => {
                let y = encode_labels(&eval, "target", classes)?;
                let m: HashMap<String, f64> =
                    metrics::classification(&y, proba, classes.len(), classes.len() - 1)
                        .into_iter()
                        .collect();
                serde_json::json!({"accuracy": m["accuracy"], "roc_auc": m["roc_auc"]})
            }
            Predictions::Values(v) => {
                let y = target_values(&eval, "target")?;
                let m: HashMap<String, f64> = metrics::regression(&y, v).into_iter().collect();
                serde_json::json!({"rmse": m["rmse"]})
            }
        };
        let (mut runs, started) = (0usize, Instant::now());
        while started.elapsed().as_secs_f64() < 0.3 {
            model.predict(&eval)?;
            runs += 1;
        }
        let rows_per_second = (runs * eval.rows) as f64 / started.elapsed().as_secs_f64();
        let mut line = serde_json::json!({"side": "mlgate", "train_seconds": seconds, "rows_per_second": rows_per_second});
        if let (Some(out), Some(n)) = (line.as_object_mut(), trained.details.get("iterations")) {
            out.insert("iterations".into(), n.clone());
        }
        for source in [&case, &quality] {
            if let (Some(out), Some(map)) = (line.as_object_mut(), source.as_object()) {
                out.extend(map.clone());
            }
        }
        println!("{line}");
    }
    Ok(())
}
