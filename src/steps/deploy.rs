//! `deploy`: after a merge, make the world match the pointer in git. Publishes the
//! pointer to the store and tags the commit `model/<name>/v<N>`. Idempotent; a revert
//! of the pointer deploys the older version the same way.

use super::promote::forge;
use super::Ctx;
use crate::config::ModelConfig;
use crate::error::{Error, Result};
use crate::pointer::Pointer;
use crate::report::{Case, Report, Status};
use crate::store::versions;

pub async fn deploy(ctx: &Ctx, name: &str, _model: &ModelConfig) -> Result<Report> {
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
    let forge = forge(ctx)?;
    let tags = forge.deploy_tags(name).await?;
    let tag = match tags.last() {
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
    report.cases.push(Case {
        name: "deployed".into(),
        failure: None,
    });
    report.data = serde_json::json!({ "version": version, "published": published, "tag": tag });
    Ok(report)
}
