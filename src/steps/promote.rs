//! `promote`: a candidate that passed the gate becomes a proposed change to the
//! production pointer, on the model's promotion branch. Merging it is the promotion.

use super::backends::Registry;
use super::compare::Comparison;
use super::model::lineage_note;
use super::Ctx;
use crate::config::ModelConfig;
use crate::error::{Error, Result};
use crate::forge::{Proposal, ProposalStatus};
use crate::pointer::Pointer;
use crate::report::{markdown_table, read_json, Case, Report, Status, StepName};
use crate::store::{versions, GIT_VERSION_LIMIT};

pub async fn promote(ctx: &Ctx, name: &str, model: &ModelConfig) -> Result<Report> {
    let compare_path = ctx.model_out(name).join("compare.json");
    let compare_report = read_json(&compare_path).map_err(|e| {
        e.with_hint("run `mlgate compare` first (with the same --out): promote acts on its verdict")
    })?;
    let comparison: Comparison =
        serde_json::from_value(compare_report.data.clone()).map_err(|e| {
            Error::input(format!(
                "{}: not a compare report: {e}",
                compare_path.display()
            ))
        })?;
    if !comparison.passed {
        let mut report = Report::new(
            StepName::Promote,
            name,
            Status::Fail,
            format!(
                "`{}` not promoted: it failed the gate",
                comparison.candidate
            ),
        );
        report.cases.push(Case {
            name: "gate passed".into(),
            failure: Some(compare_report.title),
        });
        return Ok(report);
    }
    let version = ctx.load_version(name, &comparison.candidate).await?;
    let pointer = Pointer::from_manifest(&version.manifest);
    let prefix = ctx.repo.prefix().await?;
    let pointer_path = crate::repo::in_repository(&prefix, &ctx.project.pointer_rel(name));
    let mut files = vec![(pointer_path.clone(), pointer.render())];
    if ctx.store.in_git() {
        files.extend(version_files(ctx, name, &comparison.candidate, &prefix).await?);
    }
    let proposal = Proposal {
        branch: ctx.project.promotion_branch(name),
        title: format!("Promote {name} to {}", comparison.candidate),
        body: description(&compare_report, &version.manifest),
        files,
    };
    // Registered before the proposal, so the reviewer finds it pending in the registry.
    let registered = register(ctx, name, model, &version).await?;
    let outcome = ctx.forge()?.propose(&proposal).await?;
    let head = outcome
        .head
        .as_deref()
        .map(|h| &h[..h.len().min(12)])
        .unwrap_or("");
    let title = match outcome.status {
        ProposalStatus::Opened => {
            format!("opened promotion branch `{}` at `{head}`", outcome.branch)
        }
        ProposalStatus::Updated => {
            format!("updated promotion branch `{}` to `{head}`", outcome.branch)
        }
        ProposalStatus::Unchanged => format!(
            "promotion branch `{}` already proposes `{}`; nothing changed",
            outcome.branch, comparison.candidate
        ),
        ProposalStatus::AlreadyApplied => format!(
            "`{}` is already the production version; nothing to promote",
            comparison.candidate
        ),
    };
    let mut report = Report::new(StepName::Promote, name, Status::Pass, title);
    if outcome.status != ProposalStatus::AlreadyApplied {
        report.notes.push(format!(
            "Review and merge `{}` to promote: it changes `{pointer_path}`{}. Description: `{}`.",
            outcome.branch,
            if ctx.store.in_git() {
                " and adds the version's files beside it"
            } else {
                ""
            },
            outcome.location
        ));
    }
    report.notes.extend(registered.notes);
    report.cases.push(Case {
        name: "promotion proposed".into(),
        failure: None,
    });
    report.data = serde_json::to_value(&outcome).unwrap_or_default();
    if !registered.data.is_null() {
        report.data["model_package"] = registered.data;
    }
    Ok(report)
}

/// The version's files, for the promotion commit to carry into git beside the pointer
/// (repository path, text), within [`GIT_VERSION_LIMIT`].
async fn version_files(
    ctx: &Ctx,
    name: &str,
    id: &str,
    prefix: &str,
) -> Result<Vec<(String, String)>> {
    let mut files = Vec::new();
    for file in ["manifest.json", "model.json", "profile.json"] {
        let key = versions::key(name, id, file);
        let Some(bytes) = ctx.store.get(&key).await? else {
            continue;
        };
        let text = String::from_utf8(bytes)
            .map_err(|_| Error::input(format!("{key}: not text; it cannot be kept in git")))?;
        files.push((crate::repo::in_repository(prefix, &key), text));
    }
    let size: usize = files.iter().map(|(_, text)| text.len()).sum();
    if size > GIT_VERSION_LIMIT {
        return Err(Error::input(format!(
            "version {id} of `{name}` is {:.1} MiB: too large to keep in git beside its pointer (the limit is {} MiB)",
            size as f64 / 1048576.0,
            GIT_VERSION_LIMIT / 1048576
        ))
        .with_hint("keep versions in a cloud store: `store: s3://BUCKET/PREFIX` (docs/aws.md)"));
    }
    Ok(files)
}

/// SageMaker-trained candidates are registered in the model's package group, pending
/// approval, with their evaluation as the package's quality statistics.
#[cfg(feature = "aws")]
async fn register(
    ctx: &Ctx,
    name: &str,
    model: &ModelConfig,
    version: &versions::Version,
) -> Result<Registry> {
    use crate::cloud::sagemaker::{self, registry};
    let (Some(_), Some(cfg)) = (version.model.reported_metrics(), &model.train.sagemaker) else {
        return Ok(Registry::default());
    };
    let clients = ctx.cloud.aws.clients().await?;
    let metrics_uri = match ctx.store.uri() {
        uri if uri.starts_with("s3://") => {
            let key = versions::key(name, &version.manifest.version, "evaluation.json");
            let json = serde_json::to_vec_pretty(&version.manifest.evaluation).unwrap_or_default();
            ctx.store.put_if_absent(&key, &json).await?;
            Some(sagemaker::join_s3(&uri, &key))
        }
        _ => None,
    };
    let p = registry::register(clients, cfg, name, version, metrics_uri.as_deref()).await?;
    let now = if p.created { ", registered now" } else { "" };
    Ok(Registry {
        notes: vec![format!("Model Registry: `{}` ({}{now}).", p.arn, p.status)],
        data: serde_json::to_value(&p).unwrap_or_default(),
    })
}

/// Without AWS there are no SageMaker-trained candidates to register.
#[cfg(not(feature = "aws"))]
async fn register(
    _ctx: &Ctx,
    _name: &str,
    model: &ModelConfig,
    version: &versions::Version,
) -> Result<Registry> {
    match (version.model.reported_metrics(), &model.train.sagemaker) {
        (Some(_), Some(_)) => Err(Error::not_built("the SageMaker Model Registry", "aws")),
        _ => Ok(Registry::default()),
    }
}

/// The pull-request description: the gate table and the candidate's lineage.
fn description(compare: &Report, manifest: &versions::Manifest) -> String {
    let mut body = format!("{}\n", compare.title);
    for note in &compare.notes {
        body.push_str(&format!("\n{note}\n"));
    }
    for table in &compare.tables {
        body.push('\n');
        body.push_str(&markdown_table(table));
    }
    if let Some(chart) = super::comment::chart(compare) {
        body.push('\n');
        body.push_str(&chart);
    }
    body.push_str(&format!(
        "\n{}\n\nMerging this change promotes the model; reverting it rolls back.\n",
        lineage_note(manifest)
    ));
    body
}
