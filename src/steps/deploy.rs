//! `deploy`: after a merge, make the world match the pointer in git. Publishes the
//! pointer to the store and tags the commit `model/<name>/v<N>`. Idempotent; a revert
//! of the pointer deploys the older version the same way.

use super::Ctx;
use crate::cloud::sagemaker;
use crate::config::ModelConfig;
use crate::error::{Error, Result};
use crate::forge::{self, git::Git, Event};
use crate::pointer::Pointer;
use crate::report::{Case, Report, Status};
use crate::store::versions;

pub async fn deploy(ctx: &Ctx, name: &str, model: &ModelConfig) -> Result<Report> {
    let path = ctx.project.resolve(&ctx.project.pointer_rel(name));
    let pointer = Pointer::read(&path, name)?;
    let Some(version) = pointer.version.clone() else {
        return Ok(Report::new(
            "deploy",
            name,
            Status::Pass,
            "no production version in the pointer; nothing to deploy",
        ));
    };
    let stored = versions::load(ctx.store.as_ref(), name, &version)
        .await
        .map_err(|e| {
            Error::input(format!(
                "{}: the pointer names version {version}, which cannot be loaded: {}",
                path.display(),
                e.message
            ))
        })?;
    if pointer
        .artifact
        .as_deref()
        .is_some_and(|a| a != stored.manifest.artifact)
    {
        return Err(Error::input(format!(
            "{}: the pointer's artifact digest does not match version {version} in the store",
            path.display()
        )));
    }
    let key = format!("models/{name}/production.yaml");
    let text = pointer.render();
    let published = ctx.store.get(&key).await?.as_deref() != Some(text.as_bytes());
    if published {
        ctx.store.put(&key, text.as_bytes()).await?;
    }
    let approval = approve(ctx, name, model, &stored).await?;
    let (forge, event) = forge::open(&ctx.project, &ctx.out)?;
    let last = forge.last_deploy_tag(name).await?;
    let tag = match last.as_ref() {
        Some(last) if last.version == version => None,
        last => Some(
            forge
                .create_deploy_tag(name, last.map_or(1, |t| t.number + 1), &version)
                .await?,
        ),
    };
    let title = match (&tag, published) {
        (None, false) => format!("`{version}` is already deployed; nothing changed"),
        (Some(t), _) => format!("deployed `{version}` as `{}`", t.name),
        (None, true) => format!("republished the pointer to `{version}`"),
    };
    let mut report = Report::new("deploy", name, Status::Pass, title);
    report
        .notes
        .push(format!("Pointer published to `{}/{key}`.", ctx.store.uri()));
    if let Some(note) = pushed_change(ctx, &event, &ctx.project.pointer_rel(name)) {
        report.notes.push(note);
    }
    if let Some(a) = &approval {
        if let Some(arn) = &a.approved {
            report.notes.push(format!(
                "Model Registry: `{arn}` {}.",
                if a.changed {
                    "approved"
                } else {
                    "was already approved"
                }
            ));
        }
        for arn in &a.rejected {
            report
                .notes
                .push(format!("Model Registry: `{arn}` rejected (rolled back)."));
        }
    }
    report.cases.push(Case {
        name: "deployed".into(),
        failure: None,
    });
    report.data = serde_json::json!({
        "version": version, "published": published, "tag": tag, "registry": approval,
    });
    Ok(report)
}

/// For SageMaker-trained versions: the registry follows git (approve production, reject
/// anything approved after it).
async fn approve(
    ctx: &Ctx,
    name: &str,
    model: &ModelConfig,
    version: &versions::Version,
) -> Result<Option<sagemaker::registry::Approval>> {
    let region = ctx.project.config.aws.region.as_deref();
    let Some((cfg, clients)) = sagemaker::registry::for_model(model, region).await? else {
        return Ok(None);
    };
    let trained_by_sagemaker = version.model.reported_metrics().is_some();
    let git = Git::new(&ctx.project.root);
    let reason = format!(
        "deployed by mlgate: the production pointer in git at {}",
        git.head().unwrap_or_else(|| "HEAD".into())
    );
    let production = (
        version.manifest.version.as_str(),
        trained_by_sagemaker.then_some(version),
    );
    sagemaker::registry::approve(&clients, &cfg, name, production, &reason)
        .await
        .map(Some)
}

/// Whether the pushed commits changed the pointer, when the CI says what was pushed and
/// the clone holds the previous head (a shallow clone may not: deploy then relies on the
/// tags alone, which is just as correct).
fn pushed_change(ctx: &Ctx, event: &Event, pointer: &str) -> Option<String> {
    let (before, after) = (event.before.as_deref()?, event.sha.as_deref()?);
    let git = Git::new(&ctx.project.root);
    let range = format!(
        "{}..{}",
        &before[..before.len().min(12)],
        &after[..after.len().min(12)]
    );
    match git.run(&["diff", "--name-only", before, after, "--", pointer], None) {
        Ok(changed) if !changed.is_empty() => Some(format!("The push {range} changed the pointer.")),
        Ok(_) => Some(format!("The push {range} did not change the pointer; the deployment was checked against it.")),
        Err(_) => Some(format!("The push's previous commit is not in this clone (fetch more history to see whether {range} changed the pointer); the deployment was checked against the pointer.")),
    }
}
