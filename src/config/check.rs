//! Semantic checks that typed parsing cannot express: names, paths, metrics, thresholds.

use super::{Algorithm, GateRule, ModelConfig, Project, Task};
use crate::error::{Error, Result};

/// Whether the model's data files must be present beside the config.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Data {
    Present,
    /// A published config: the data stays in the repository (or a bucket).
    Elsewhere,
}

/// All problems are collected, so one run of `config check` shows every one of them.
pub fn check(project: &Project, data: Data) -> Result<()> {
    let mut errors = Vec::new();
    if project.config.version != 1 {
        errors.push(project.error_at("version", "only version 1 exists"));
    }
    if let Err(e) = super::uri::parse_uri(&project.config.store) {
        errors.push(project.error_at("store", e.message));
    }
    if project.config.models.is_empty() {
        errors.push(project.error_at("models", "at least one model is required"));
    }
    for (name, model) in &project.config.models {
        check_model(project, name, model, data, &mut errors);
    }
    check_forge(project, &mut errors);
    for (i, rule) in project.config.triggers.iter().enumerate() {
        let models = project.config.models.keys().map(String::as_str);
        let model = project.config.models.get(&rule.model);
        let problems = rule.problems(models).into_iter();
        for (key, message) in problems.chain(model.and_then(|m| rule.model_problem(m))) {
            errors.push(project.error_at(&format!("triggers.{i}.{key}"), message));
        }
    }
    match errors.len() {
        0 => Ok(()),
        1 => Err(errors.remove(0)),
        n => {
            let all = errors
                .iter()
                .map(|e| e.message.as_str())
                .collect::<Vec<_>>()
                .join("\n\n");
            Err(Error::config(format!(
                "{all}\n\n{n} problems in {}",
                project.file.display()
            )))
        }
    }
}

/// Model names end up in branch names, tags and cloud resource names: keep them portable.
pub fn valid_model_name(name: &str) -> bool {
    let mut chars = name.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_lowercase() || c.is_ascii_digit())
        && name.len() <= 48
        && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_')
}

fn check_model(
    project: &Project,
    name: &str,
    model: &ModelConfig,
    data: Data,
    errors: &mut Vec<Error>,
) {
    let at = |key: &str| {
        format!(
            "models.{name}{}{key}",
            if key.is_empty() { "" } else { "." }
        )
    };
    if !valid_model_name(name) {
        errors.push(project.error_at(
            &at(""),
            "model names use lowercase letters, digits, `-` and `_`, start with a letter or digit, at most 48 characters",
        ));
    }
    for (key, path) in [
        ("data.train", Some(&model.data.train)),
        ("data.eval", Some(&model.data.eval)),
        ("data.schema", model.data.schema.as_ref()),
    ] {
        if let Some(path) = path {
            let resolved = project.resolve(path);
            if key == "data.schema" && super::uri::is_remote(path) {
                errors.push(project.error_at(
                    &at(key),
                    "the schema is part of the project: give a path in the repository",
                ));
            } else if super::uri::is_remote(path) {
                if super::uri::split_remote(path).is_none_or(|(_, _, k)| k.is_empty()) {
                    errors.push(project.error_at(
                        &at(key),
                        format!(
                            "`{path}` is not an object (s3://BUCKET/KEY or az://CONTAINER/BLOB)"
                        ),
                    ));
                }
            } else if !resolved.is_file() && (data == Data::Present || key == "data.schema") {
                errors.push(
                    project.error_at(&at(key), format!("file not found: {}", resolved.display())),
                );
            }
        }
    }
    if model.target.trim().is_empty() {
        errors.push(project.error_at(&at("target"), "the target column name is empty"));
    }
    if let Some(features) = &model.features {
        if features.is_empty() {
            errors.push(project.error_at(&at("features"), "an empty feature list leaves nothing to learn from; omit the key to use every column"));
        }
        if let Some(i) = features.iter().position(|f| *f == model.target) {
            errors.push(project.error_at(
                &at(&format!("features.{i}")),
                format!("the target `{}` cannot also be a feature", model.target),
            ));
        }
    }
    if model.exclude.contains(&model.target) {
        errors.push(project.error_at(
            &at("exclude"),
            "the target is never a feature; it need not be excluded",
        ));
    }
    if model.positive_class.is_some() && model.task != Task::Classification {
        errors.push(project.error_at(
            &at("positive_class"),
            "only classification models have a positive class",
        ));
    }
    check_training(project, name, model, errors);
    check_validate(project, name, model, errors);
    for (key, message) in model.drift.problems() {
        errors.push(project.error_at(&at(&format!("drift.{key}")), message));
    }
    if let Some(reference) = &model.drift.reference {
        if !super::uri::is_remote(reference) && !project.resolve(reference).is_file() {
            let message = format!("file not found: {}", project.resolve(reference).display());
            errors.push(project.error_at(&at("drift.reference"), message));
        }
    }
    for (metric, rule) in &model.gate {
        check_rule(
            project,
            &at(&format!("gate.{metric}")),
            model.task,
            metric,
            rule,
            errors,
        );
    }
    let branch = project.promotion_branch(name);
    // A default branch derives from the name, whose fault is reported already.
    let reported = model.promote.branch.is_none() && !valid_model_name(name);
    if !reported
        && (branch.is_empty()
            || branch.contains("..")
            || branch.contains(' ')
            || branch.ends_with('/'))
    {
        errors.push(project.error_at(
            &at("promote.branch"),
            format!("`{branch}` is not a valid branch name"),
        ));
    }
}

fn check_training(project: &Project, name: &str, model: &ModelConfig, errors: &mut Vec<Error>) {
    let at = |key: &str| format!("models.{name}.train.{key}");
    let algorithm = model
        .train
        .algorithm
        .unwrap_or_else(|| Algorithm::default_for(model.task));
    if let Some(task) = algorithm.task().filter(|t| *t != model.task) {
        errors.push(project.error_at(
            &at("algorithm"),
            format!(
                "`{}` is a {} algorithm but the model's task is {}",
                algorithm.as_str(),
                task.as_str(),
                model.task.as_str()
            ),
        ));
    }
    let p = &model.train.params;
    for key in set_params(p) {
        if !accepted_params(algorithm).contains(&key.as_str()) {
            errors.push(project.error_at(
                &at(&format!("params.{key}")),
                format!(
                    "`{key}` is not a parameter of {} (its parameters: {})",
                    algorithm.as_str(),
                    accepted_params(algorithm).join(", ")
                ),
            ));
        }
    }
    check_tree_params(project, name, p, errors);
    check_backend(project, name, model, errors);
    if let Some(c) = p.c {
        if !(c.is_finite() && c > 0.0) {
            errors.push(project.error_at(
                &at("params.c"),
                format!("must be a positive number, not {c}"),
            ));
        }
    }
    if let Some(alpha) = p.alpha {
        if !(alpha.is_finite() && alpha >= 0.0) {
            errors.push(project.error_at(
                &at("params.alpha"),
                format!("must be zero or positive, not {alpha}"),
            ));
        }
    }
    if let Some(tol) = p.tol.filter(|t| !(t.is_finite() && *t > 0.0)) {
        errors.push(project.error_at(
            &at("params.tol"),
            format!("must be a positive number, not {tol}"),
        ));
    }
    if p.max_iter == Some(0) {
        errors.push(project.error_at(&at("params.max_iter"), "must be at least 1"));
    }
}

fn check_validate(project: &Project, name: &str, model: &ModelConfig, errors: &mut Vec<Error>) {
    let at = |key: &str| format!("models.{name}.validate.{key}");
    let v = &model.validate;
    let known = model.task.metric_names();
    for (group, map) in [("limits", &v.limits), ("max_slice_gap", &v.max_slice_gap)] {
        for (metric, value) in map {
            let key = at(&format!("{group}.{metric}"));
            if !known.contains(&metric.as_str()) {
                errors.push(project.error_at(&key, unknown_metric(model.task, metric)));
            } else if !value.is_finite() || (group == "max_slice_gap" && *value < 0.0) {
                errors.push(project.error_at(
                    &key,
                    format!(
                        "must be a finite number{}, not {value}",
                        if group == "limits" { "" } else { " ≥ 0" }
                    ),
                ));
            }
        }
    }
    if !v.max_slice_gap.is_empty() && v.slices.is_empty() {
        errors.push(project.error_at(
            &at("max_slice_gap"),
            "slice gaps need `slices`: the columns to slice by",
        ));
    }
    if let Some(ms) = v.max_latency_ms_per_1000_rows {
        if !(ms.is_finite() && ms > 0.0) {
            errors.push(project.error_at(
                &at("max_latency_ms_per_1000_rows"),
                format!("must be a positive number, not {ms}"),
            ));
        }
    }
    if v.expected_classes.is_some() && model.task != Task::Classification {
        errors.push(project.error_at(
            &at("expected_classes"),
            "only classification models have classes",
        ));
    }
}

fn check_backend(project: &Project, name: &str, model: &ModelConfig, errors: &mut Vec<Error>) {
    let at = |key: &str| format!("models.{name}.train.{key}");
    let t = &model.train;
    match (t.backend, &t.command) {
        (super::Backend::Command, None) => errors.push(project.error_at(
            &at("backend"),
            "the command backend needs `command` (its `train` and `predict` commands)",
        )),
        (super::Backend::Builtin, Some(_)) => errors.push(project.error_at(
            &at("command"),
            "`command` applies to `backend: command` only",
        )),
        (super::Backend::Command, Some(c)) => {
            if t.algorithm.is_some() || !set_params(&t.params).is_empty() {
                errors.push(project.error_at(
                    &at("algorithm"),
                    "`algorithm` and `params` are for the builtin backend; give a command its parameters in `command.params`",
                ));
            }
            for (key, text) in [("train", &c.train), ("predict", &c.predict)] {
                if text.trim().is_empty() {
                    errors.push(
                        project.error_at(&at(&format!("command.{key}")), "the command is empty"),
                    );
                }
            }
            if c.timeout_seconds == Some(0) {
                errors.push(project.error_at(&at("command.timeout_seconds"), "must be at least 1"));
            }
        }
        (super::Backend::Builtin | super::Backend::Sagemaker, None) => {}
        (super::Backend::Sagemaker, Some(_)) => errors.push(project.error_at(
            &at("command"),
            "`command` applies to `backend: command` only",
        )),
    }
    match (t.backend, &t.sagemaker) {
        (super::Backend::Sagemaker, None) => errors.push(project.error_at(
            &at("backend"),
            "the sagemaker backend needs `sagemaker` (at least `role_arn` and `image` or `algorithm`)",
        )),
        (super::Backend::Sagemaker, Some(sm)) => {
            if t.algorithm.is_some() || !set_params(&t.params).is_empty() {
                errors.push(project.error_at(
                    &at("algorithm"),
                    "`algorithm` and `params` are for the builtin backend; give SageMaker its settings in `sagemaker` (`algorithm: xgboost`, `hyperparameters`)",
                ));
            }
            for (key, message) in super::sagemaker::problems(project, model, sm) {
                errors.push(project.error_at(&at(&format!("sagemaker.{key}")), message));
            }
        }
        (_, Some(_)) => errors.push(project.error_at(
            &at("sagemaker"),
            "`sagemaker` applies to `backend: sagemaker` only",
        )),
        (_, None) => {}
    }
}

/// The parameters each built-in algorithm takes.
fn accepted_params(algorithm: Algorithm) -> &'static [&'static str] {
    match algorithm {
        Algorithm::LogisticRegression => &["c", "max_iter", "tol", "class_weight"],
        Algorithm::Ridge => &["alpha"],
        Algorithm::LinearRegression => &[],
        Algorithm::RandomForest => &[
            "n_estimators",
            "max_depth",
            "min_samples_leaf",
            "max_features",
            "max_bins",
            "class_weight",
            "seed",
        ],
        Algorithm::GradientBoosting => &[
            "max_iterations",
            "learning_rate",
            "max_depth",
            "max_leaf_nodes",
            "min_samples_leaf",
            "l2_regularization",
            "max_bins",
            "early_stopping",
            "validation_fraction",
            "n_iter_no_change",
            "class_weight",
            "seed",
        ],
    }
}

/// Names of the parameters a config sets, read from its serialised form (unset ones are skipped).
fn set_params(p: &super::Params) -> Vec<String> {
    match serde_json::to_value(p) {
        Ok(serde_json::Value::Object(map)) => map.keys().cloned().collect(),
        _ => Vec::new(),
    }
}

fn check_tree_params(project: &Project, name: &str, p: &super::Params, errors: &mut Vec<Error>) {
    let at = |key: &str| format!("models.{name}.train.params.{key}");
    let at_least_one = [
        ("n_estimators", p.n_estimators),
        ("max_iterations", p.max_iterations),
        ("max_depth", p.max_depth),
        ("min_samples_leaf", p.min_samples_leaf),
        ("n_iter_no_change", p.n_iter_no_change),
    ];
    for (key, value) in at_least_one {
        if value == Some(0) {
            errors.push(project.error_at(&at(key), "must be at least 1"));
        }
    }
    if p.max_leaf_nodes.is_some_and(|v| v < 2) {
        errors.push(project.error_at(&at("max_leaf_nodes"), "must be at least 2"));
    }
    if p.max_bins.is_some_and(|v| !(2..=255).contains(&v)) {
        errors.push(project.error_at(&at("max_bins"), "must be between 2 and 255"));
    }
    let fractions = [
        ("max_features", p.max_features, true),
        ("validation_fraction", p.validation_fraction, false),
    ];
    for (key, value, closed) in fractions {
        if let Some(v) = value {
            if !(v > 0.0 && (v < 1.0 || (closed && v == 1.0))) {
                errors.push(project.error_at(
                    &at(key),
                    format!(
                        "must be a fraction in (0, 1{}, not {v}",
                        if closed { "]" } else { ")" }
                    ),
                ));
            }
        }
    }
    if let Some(v) = p.learning_rate {
        if !(v.is_finite() && v > 0.0) {
            errors.push(project.error_at(
                &at("learning_rate"),
                format!("must be a positive number, not {v}"),
            ));
        }
    }
    if let Some(v) = p.l2_regularization {
        if !(v.is_finite() && v >= 0.0) {
            errors.push(project.error_at(
                &at("l2_regularization"),
                format!("must be zero or positive, not {v}"),
            ));
        }
    }
}

fn check_rule(
    project: &Project,
    at: &str,
    task: Task,
    metric: &str,
    rule: &GateRule,
    errors: &mut Vec<Error>,
) {
    let known = task.metric_names();
    let Some(natural) = super::is_higher_better(metric).filter(|_| known.contains(&metric)) else {
        errors.push(project.error_at(at, unknown_metric(task, metric)));
        return;
    };
    if let Some(direction) = rule.direction {
        if (direction == super::Direction::Higher) != natural {
            errors.push(project.error_at(
                &format!("{at}.direction"),
                format!(
                    "{metric} is {}-is-better; a rule cannot reverse that",
                    if natural { "higher" } else { "lower" }
                ),
            ));
        }
    }
    let thresholds = [
        ("min", rule.min, false),
        ("max", rule.max, false),
        ("max_regression", rule.max_regression, true),
        (
            "max_relative_regression",
            rule.max_relative_regression,
            true,
        ),
        ("min_improvement", rule.min_improvement, true),
    ];
    if thresholds.iter().all(|(_, v, _)| v.is_none()) {
        errors.push(project.error_at(at, "the rule sets no threshold (min, max, max_regression, max_relative_regression or min_improvement)"));
    }
    for (key, value, non_negative) in thresholds {
        let Some(v) = value else { continue };
        if !v.is_finite() {
            errors.push(project.error_at(
                &format!("{at}.{key}"),
                format!("must be a finite number, not {v}"),
            ));
        } else if non_negative && v < 0.0 {
            errors.push(project.error_at(
                &format!("{at}.{key}"),
                format!("must be zero or positive (it is a size, the direction comes from the metric), not {v}"),
            ));
        }
    }
    if let (Some(min), Some(max)) = (rule.min, rule.max) {
        if min > max {
            errors.push(project.error_at(
                &format!("{at}.min"),
                format!("min {min} is greater than max {max}: no value can pass"),
            ));
        }
    }
}

/// Names the task a metric belongs to when it is the other one, else suggests a near miss.
fn unknown_metric(task: Task, metric: &str) -> String {
    let known = task.metric_names();
    let other = match task {
        Task::Classification => Task::Regression,
        Task::Regression => Task::Classification,
    };
    let why = if other.metric_names().contains(&metric) {
        format!("; `{metric}` is a {} metric", other.as_str())
    } else {
        super::suggest::did_you_mean(metric, known.iter().copied())
    };
    format!(
        "`{metric}` is not a metric of {} models{why} (known: {})",
        task.as_str(),
        known.join(", ")
    )
}

fn check_forge(project: &Project, errors: &mut Vec<Error>) {
    let forge = &project.config.forge;
    if let Some(url) = &forge.url {
        if !(url.starts_with("https://") || url.starts_with("http://")) {
            errors.push(project.error_at("forge.url", format!("`{url}` is not an http(s) URL")));
        }
    }
    if let Some(repo) = &forge.repository {
        let parts: Vec<&str> = repo.split('/').collect();
        let numeric = repo.chars().all(|c| c.is_ascii_digit());
        if !numeric && (parts.len() < 2 || parts.iter().any(|p| p.trim().is_empty())) {
            errors.push(project.error_at(
                "forge.repository",
                format!("`{repo}` is not `owner/repo` (GitHub) or `group/project` (GitLab)"),
            ));
        }
    }
    for (i, label) in forge.labels.iter().enumerate() {
        if label.trim().is_empty() || label.contains(',') {
            errors.push(project.error_at(
                &format!("forge.labels.{i}"),
                "a label is non-empty and holds no comma",
            ));
        }
    }
    for (i, user) in forge.reviewers.iter().enumerate() {
        if user.trim().is_empty() || user.contains(char::is_whitespace) || user.starts_with('@') {
            errors.push(project.error_at(
                &format!("forge.reviewers.{i}"),
                format!("`{user}` is not a user name (no `@`, no spaces)"),
            ));
        }
    }
}
