//! The `command` backend: the team's own training code, in any language, run under a
//! small contract (docs/training.md): data paths, output folder, parameters and seed in
//! environment variables; a model folder and `metrics.json` back. Its model is embedded
//! in the artifact, so a version stays content-addressed, and is scored through the
//! team's predict command, so mlgate computes every metric itself.

use super::{TrainRequest, Trained, Trainer};
use crate::config::{Algorithm, CommandConfig, Params, Task};
use crate::data::{Column, Frame, Kind};
use crate::error::{Error, Result};
use crate::model::labels::{class_labels, positive_index};
use crate::model::{Estimator, Model, Predictions, FORMAT};
use std::collections::{BTreeMap, HashMap, VecDeque};
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// Lines of a failed command's output quoted in the error.
const TAIL: usize = 20;
const DEFAULT_TIMEOUT: u64 = 3600;

pub struct CommandTrainer {
    pub config: CommandConfig,
    /// Folder the commands run in (the project's).
    pub dir: PathBuf,
    pub train_data: PathBuf,
    pub eval_data: PathBuf,
}

#[async_trait::async_trait]
impl Trainer for CommandTrainer {
    fn backend(&self) -> &'static str {
        "command"
    }

    async fn train(&self, request: &TrainRequest<'_>) -> Result<Trained> {
        let out =
            tempfile::tempdir().map_err(|e| Error::external(format!("temporary folder: {e}")))?;
        let mut env = base_env(&self.config);
        env.extend([
            ("MLGATE_MODEL_NAME".into(), request.name.into()),
            ("MLGATE_TASK".into(), request.config.task.as_str().into()),
            ("MLGATE_TARGET".into(), request.config.target.clone()),
            ("MLGATE_TRAIN_DATA".into(), path_text(&self.train_data)),
            ("MLGATE_EVAL_DATA".into(), path_text(&self.eval_data)),
            ("MLGATE_OUTPUT_DIR".into(), path_text(out.path())),
        ]);
        run(
            &self.config.train,
            &self.dir,
            &env,
            timeout(&self.config),
            "training command",
        )?;
        let reported = read_metrics(&out.path().join("metrics.json"))?;
        let files = read_model_dir(&out.path().join("model"))?;
        let (classes, positive) = match request.config.task {
            Task::Classification => {
                let classes = class_labels(request.train, &request.config.target)?;
                let positive = positive_index(request.config, &classes)?;
                (classes, Some(positive))
            }
            Task::Regression => (Vec::new(), None),
        };
        let mut details = serde_json::Map::new();
        details.insert(
            "reported_metrics".into(),
            serde_json::Value::Object(reported),
        );
        details.insert("command".into(), self.config.train.clone().into());
        let model = Model {
            format: FORMAT.into(),
            task: request.config.task,
            algorithm: Algorithm::default_for(request.config.task),
            target: request.config.target.clone(),
            features: Vec::new(),
            classes,
            positive,
            params: Params::default(),
            estimator: Estimator::Command {
                predict: self.config.predict.clone(),
                timeout_seconds: timeout(&self.config).as_secs(),
                params: serde_json::to_value(&self.config.params).unwrap_or_default(),
                seed: self.config.seed.unwrap_or(0),
                files,
            },
            workdir: crate::model::Workdir(Some(self.dir.clone())),
        };
        Ok(Trained { model, details })
    }
}

fn timeout(c: &CommandConfig) -> Duration {
    Duration::from_secs(c.timeout_seconds.unwrap_or(DEFAULT_TIMEOUT))
}

fn path_text(p: &Path) -> String {
    p.display().to_string()
}

fn base_env(c: &CommandConfig) -> Vec<(String, String)> {
    vec![
        (
            "MLGATE_PARAMS".into(),
            serde_json::to_string(&c.params).unwrap_or_else(|_| "{}".into()),
        ),
        ("MLGATE_SEED".into(), c.seed.unwrap_or(0).to_string()),
    ]
}

/// Runs `sh -c command`, streaming its output to stderr as it comes, stopping it after
/// `limit`. A failure quotes the last lines of its output.
pub fn run(
    command: &str,
    dir: &Path,
    env: &[(String, String)],
    limit: Duration,
    what: &str,
) -> Result<()> {
    let mut builder = Command::new("sh");
    // Its own process group, so a timeout stops the command's children too.
    #[cfg(unix)]
    std::os::unix::process::CommandExt::process_group(&mut builder, 0);
    let mut child = builder
        .arg("-c")
        .arg(command)
        .current_dir(dir)
        .envs(env.iter().map(|(k, v)| (k, v)))
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| Error::input(format!("{what} `{command}` could not start: {e}")))?;
    let tail = std::sync::Arc::new(std::sync::Mutex::new(VecDeque::new()));
    let readers: Vec<_> = [
        child
            .stdout
            .take()
            .map(|s| Box::new(s) as Box<dyn Read + Send>),
        child
            .stderr
            .take()
            .map(|s| Box::new(s) as Box<dyn Read + Send>),
    ]
    .into_iter()
    .flatten()
    .map(|stream| {
        let tail = tail.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(stream)
                .lines()
                .map_while(std::result::Result::ok)
            {
                eprintln!("  | {line}");
                if let Ok(mut t) = tail.lock() {
                    t.push_back(line);
                    if t.len() > TAIL {
                        t.pop_front();
                    }
                }
            }
        })
    })
    .collect();
    let started = Instant::now();
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break Some(status),
            Ok(None) if started.elapsed() >= limit => {
                #[cfg(unix)]
                let _ = Command::new("kill")
                    .args(["-KILL", "--", &format!("-{}", child.id())])
                    .status();
                let _ = child.kill();
                let _ = child.wait();
                break None;
            }
            Ok(None) => std::thread::sleep(Duration::from_millis(20)),
            Err(e) => return Err(Error::external(format!("{what}: {e}"))),
        }
    };
    if status.is_some() {
        readers.into_iter().for_each(|r| {
            let _ = r.join();
        });
    }
    let quoted = || {
        let lines: Vec<String> = tail
            .lock()
            .map(|t| t.iter().cloned().collect())
            .unwrap_or_default();
        if lines.is_empty() {
            "(no output)".to_string()
        } else {
            lines
                .iter()
                .map(|l| format!("  | {l}"))
                .collect::<Vec<_>>()
                .join("\n")
        }
    };
    match status {
        None => Err(Error::input(format!(
            "{what} `{command}` did not finish within {} s and was stopped; its last output:\n{}",
            limit.as_secs(),
            quoted()
        ))
        .with_hint("raise `command.timeout_seconds` in mlgate.yaml if it needs longer")),
        Some(s) if !s.success() => Err(Error::input(format!(
            "{what} `{command}` failed ({s}); its last output:\n{}",
            quoted()
        ))),
        Some(_) => Ok(()),
    }
}

/// `metrics.json`: an object of metric name → number.
fn read_metrics(path: &Path) -> Result<serde_json::Map<String, serde_json::Value>> {
    let text = std::fs::read(path).map_err(|e| {
        Error::input(format!(
            "the training command wrote no {}: {e}",
            path.display()
        ))
        .with_hint(
            "the command must write metrics.json (an object of numbers) into $MLGATE_OUTPUT_DIR",
        )
    })?;
    let value: serde_json::Value = serde_json::from_slice(&text).map_err(|e| {
        Error::input(format!(
            "metrics.json written by the training command is not JSON: {e}"
        ))
    })?;
    match value {
        serde_json::Value::Object(map) if map.values().all(serde_json::Value::is_number) => Ok(map),
        _ => Err(Error::input(
            "metrics.json written by the training command must be an object of metric name → number, e.g. {\"rmse\": 1.5}",
        )),
    }
}

/// Every file under the model folder, by relative path, hex-encoded.
fn read_model_dir(dir: &Path) -> Result<BTreeMap<String, String>> {
    if !dir.is_dir() {
        return Err(Error::input(format!(
            "the training command wrote no model folder {}",
            dir.display()
        ))
        .with_hint("write the model's files into $MLGATE_OUTPUT_DIR/model/"));
    }
    let mut files = BTreeMap::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(folder) = pending.pop() {
        for entry in std::fs::read_dir(&folder).map_err(|e| Error::read(&folder, e))? {
            let path = entry.map_err(|e| Error::read(&folder, e))?.path();
            if path.is_dir() {
                pending.push(path);
            } else {
                let bytes = std::fs::read(&path).map_err(|e| Error::read(&path, e))?;
                let rel = path
                    .strip_prefix(dir)
                    .unwrap_or(&path)
                    .display()
                    .to_string();
                files.insert(rel, hex::encode(bytes));
            }
        }
    }
    Ok(files)
}

/// Scores `frame` through the team's predict command.
pub fn predict(model: &Model, frame: &Frame) -> Result<Predictions> {
    let Estimator::Command {
        predict,
        timeout_seconds,
        params,
        seed,
        files,
    } = &model.estimator
    else {
        return Err(Error::input("not a command model"));
    };
    let work =
        tempfile::tempdir().map_err(|e| Error::external(format!("temporary folder: {e}")))?;
    let model_dir = work.path().join("model");
    for (rel, hex_bytes) in files {
        let path = model_dir.join(rel);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).map_err(|e| Error::write(parent, e))?;
        }
        let bytes = hex::decode(hex_bytes)
            .map_err(|e| Error::input(format!("artifact file {rel}: {e}")))?;
        std::fs::write(&path, bytes).map_err(|e| Error::write(&path, e))?;
    }
    let (input, output) = (
        work.path().join("input.csv"),
        work.path().join("predictions.csv"),
    );
    write_csv(frame, &input)?;
    let env = vec![
        ("MLGATE_MODEL_DIR".to_string(), path_text(&model_dir)),
        ("MLGATE_INPUT".into(), path_text(&input)),
        ("MLGATE_OUTPUT".into(), path_text(&output)),
        ("MLGATE_PARAMS".into(), params.to_string()),
        ("MLGATE_SEED".into(), seed.to_string()),
        ("MLGATE_TASK".into(), model.task.as_str().into()),
    ];
    let dir = model.workdir.0.as_deref().ok_or_else(|| {
        Error::input("this command model was not loaded for a project: the folder its predict command runs in is unknown")
    })?;
    run(
        predict,
        dir,
        &env,
        Duration::from_secs(*timeout_seconds),
        "predict command",
    )?;
    read_predictions(model, &output, frame.rows)
}

fn write_csv(frame: &Frame, path: &Path) -> Result<()> {
    let mut w = csv::Writer::from_path(path)
        .map_err(|e| Error::external(format!("{}: {e}", path.display())))?;
    let werr = |e: csv::Error| Error::external(format!("{}: {e}", path.display()));
    w.write_record(&frame.names).map_err(werr)?;
    for row in 0..frame.rows {
        let cells = frame.columns.iter().map(|c| match c {
            Column::Numeric(v) if v[row].is_nan() => String::new(),
            Column::Numeric(v) => v[row].to_string(),
            Column::Categorical(v) => v.get(row).unwrap_or_default().to_string(),
        });
        w.write_record(cells).map_err(werr)?;
    }
    w.flush().map_err(|e| Error::write(path, e))
}

/// The predict command's output: `proba_<class>` per class (classification) or
/// `prediction` (regression), one row per input row.
fn read_predictions(model: &Model, path: &Path, rows: usize) -> Result<Predictions> {
    let origin = format!(
        "predictions written by the predict command ({})",
        path.display()
    );
    let wanted: Vec<String> = match model.task {
        Task::Classification => model.classes.iter().map(|c| format!("proba_{c}")).collect(),
        Task::Regression => vec!["prediction".into()],
    };
    let kinds: HashMap<String, Kind> = wanted.iter().map(|w| (w.clone(), Kind::Numeric)).collect();
    let frame = Frame::read(path, &Default::default(), &kinds)
        .map_err(|e| Error::input(format!("{origin}: {}", e.message)))?;
    if frame.rows != rows {
        return Err(Error::input(format!(
            "{origin}: {} rows for {rows} input rows",
            frame.rows
        )));
    }
    let mut columns = Vec::new();
    for name in &wanted {
        match frame.require(name)? {
            Column::Numeric(v) if v.iter().all(|x| x.is_finite()) => columns.push(v.clone()),
            _ => {
                return Err(Error::input(format!(
                    "{origin}: column `{name}` must hold a number in every row"
                )))
            }
        }
    }
    Ok(match model.task {
        Task::Regression => Predictions::Values(columns.remove(0)),
        Task::Classification => Predictions::Proba {
            classes: model.classes.clone(),
            proba: (0..rows)
                .flat_map(|r| columns.iter().map(move |c| c[r]))
                .collect(),
        },
    })
}
