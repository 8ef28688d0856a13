//! `deploy`: after a merge, make the world match the pointer in git. Publishes the
//! pointer to the store and tags the commit `model/<name>/v<N>`. Idempotent; a revert
//! of the pointer deploys the older version the same way.

use super::backends::Registry;
use super::Ctx;
use crate::config::ModelConfig;
use crate::error::{Error, Result};
use crate::report::{Case, Report, Status, StepName};
use crate::store::versions;

pub async fn deploy(ctx: &Ctx, name: &str, model: &ModelConfig) -> Result<Report> {
    let path = ctx.project.resolve(&ctx.project.pointer_rel(name));
    let pointer = ctx.pointer(name).await?;
    let Some(version) = pointer.version.clone() else {
        return Ok(Report::new(
            StepName::Deploy,
            name,
            Status::Pass,
            "no production version in the pointer; nothing to deploy",
        ));
    };
    let stored = ctx.load_version(name, &version).await.map_err(|e| {
        e.context(format!(
            "{}: the pointer names version {version}, which cannot be loaded",
            path.display()
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
    // The functions have no checkout: they read the config, schemas and pointers here.
    let snapshot = crate::published::publish(ctx).await?;
    let approval = approve(ctx, name, model, &stored).await?;
    let forge = ctx.forge()?;
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
    let mut report = Report::new(StepName::Deploy, name, Status::Pass, title);
    report
        .notes
        .push(format!("Pointer published to `{}/{key}`.", ctx.store.uri()));
    if snapshot {
        report.notes.push(format!(
            "Config, schemas and pointers published for the functions (`{}/{}`).",
            ctx.store.uri(),
            crate::published::SNAPSHOT
        ));
    }
    if let Some(note) = pushed_change(ctx, &ctx.project.pointer_rel(name)).await {
        report.notes.push(note);
    }
    report.notes.extend(approval.notes);
    report.cases.push(Case {
        name: "deployed".into(),
        failure: None,
    });
    report.data = serde_json::json!({
        "version": version, "published": published, "tag": tag, "registry": approval.data,
    });
    Ok(report)
}

/// For SageMaker-trained versions: the registry follows git (approve production, reject
/// anything approved after it).
#[cfg(feature = "aws")]
async fn approve(
    ctx: &Ctx,
    name: &str,
    model: &ModelConfig,
    version: &versions::Version,
) -> Result<Registry> {
    let Some(cfg) = &model.train.sagemaker else {
        return Ok(Registry::default());
    };
    let clients = ctx.cloud.aws.clients().await?;
    let trained_by_sagemaker = version.model.reported_metrics().is_some();
    let head = ctx.repo.head().await?;
    let reason = format!(
        "deployed by mlgate: the production pointer in git at {}",
        head.as_deref().unwrap_or("HEAD")
    );
    let production = (
        version.manifest.version.as_str(),
        trained_by_sagemaker.then_some(version),
    );
    let a =
        crate::cloud::sagemaker::registry::approve(clients, cfg, name, production, &reason).await?;
    let mut notes = Vec::new();
    if let Some(arn) = &a.approved {
        let done = if a.changed {
            "approved"
        } else {
            "was already approved"
        };
        notes.push(format!("Model Registry: `{arn}` {done}."));
    }
    for arn in &a.rejected {
        notes.push(format!("Model Registry: `{arn}` rejected (rolled back)."));
    }
    Ok(Registry {
        notes,
        data: serde_json::to_value(&a).unwrap_or_default(),
    })
}

/// Without AWS, a model with registry settings cannot be followed: say so.
#[cfg(not(feature = "aws"))]
async fn approve(
    _ctx: &Ctx,
    _name: &str,
    model: &ModelConfig,
    _version: &versions::Version,
) -> Result<Registry> {
    match model.train.sagemaker {
        Some(_) => Err(Error::not_built("the SageMaker Model Registry", "aws")),
        None => Ok(Registry::default()),
    }
}

/// Whether the pushed commits changed the pointer, when the CI says what was pushed and
/// the repository holds the previous commit (a shallow clone may not: deploy then relies
/// on the tags alone, which is just as correct).
async fn pushed_change(ctx: &Ctx, pointer: &str) -> Option<String> {
    let (before, after) = (ctx.event.before.as_deref()?, ctx.event.sha.as_deref()?);
    let range = format!(
        "{}..{}",
        &before[..before.len().min(12)],
        &after[..after.len().min(12)]
    );
    let read = |rev| ctx.repo.read(pointer, Some(rev));
    match (read(before).await, read(after).await) {
        (Ok(old), Ok(new)) if old.is_some() || new.is_some() => Some(if old != new {
            format!("The push {range} changed the pointer.")
        } else {
            format!("The push {range} did not change the pointer; the deployment was checked against it.")
        }),
        _ => Some(format!("The push's previous commit is not in this clone (fetch more history to see whether {range} changed the pointer); the deployment was checked against the pointer.")),
    }
}
