//! The SageMaker Model Registry mirrors git: `promote` registers the candidate as
//! `PendingManualApproval` with its metrics; `deploy` approves the version the pointer
//! names and rejects any approved version registered after it (a revert in git rolls
//! the registry back the same way). A version is found again by its description, and
//! registered with its id as the idempotency token, so nothing is registered twice.

use super::training::{already_exists, not_found};
use super::{Clients, SageMakerConfig};
use crate::cloud::aws;
use crate::error::{Error, Result};
use crate::model::Estimator;
use crate::store::versions::Version;
use aws_sdk_sagemaker::types::{
    InferenceSpecification, MetricsSource, ModelApprovalStatus, ModelMetrics,
    ModelPackageContainerDefinition, ModelPackageSummary, ModelPackageType, ModelQuality,
};

/// A registered version.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Package {
    pub arn: String,
    pub status: String,
    /// Whether this call registered it.
    pub created: bool,
}

/// What `approve` changed.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Approval {
    /// Production's package; `None` when production is not a SageMaker model.
    pub approved: Option<String>,
    /// Whether the package was approved by this call (false: it already was).
    pub changed: bool,
    /// Approved packages newer than the deployed one, now rejected (a rollback).
    pub rejected: Vec<String>,
}

fn description(model: &str, version: &str) -> String {
    format!("mlgate model {model} version {version}")
}

/// Registers `version` (PendingManualApproval) unless it already is.
pub async fn register(
    clients: &Clients,
    cfg: &SageMakerConfig,
    model: &str,
    version: &Version,
    metrics_uri: Option<&str>,
) -> Result<Package> {
    let group = cfg.package_group(model);
    ensure_group(clients, &group, model).await?;
    let id = &version.manifest.version;
    if let Some(found) = find(clients, &group, model, id).await? {
        return Ok(Package {
            arn: found.model_package_arn().unwrap_or_default().to_string(),
            status: status(&found),
            created: false,
        });
    }
    let Estimator::SageMaker {
        image,
        model_data,
        job_arn,
        ..
    } = &version.model.estimator
    else {
        return Err(Error::input(format!(
            "version `{id}` of `{model}` was not trained by SageMaker; only SageMaker models are registered"
        )));
    };
    let mut create = clients
        .sagemaker
        .create_model_package()
        .model_package_group_name(&group)
        .model_package_description(description(model, id))
        .model_approval_status(ModelApprovalStatus::PendingManualApproval)
        .client_token(&id[..id.len().min(36)])
        .inference_specification(
            InferenceSpecification::builder()
                .containers(
                    ModelPackageContainerDefinition::builder()
                        .image(image)
                        .model_data_url(model_data)
                        .build(),
                )
                .supported_content_types("text/csv")
                .supported_response_mime_types("text/csv")
                .build(),
        )
        .customer_metadata_properties("mlgate:model", model)
        .customer_metadata_properties("mlgate:version", id)
        .customer_metadata_properties("mlgate:training-job", job_arn);
    for (metric, value) in &version.manifest.evaluation.metrics {
        create = create.customer_metadata_properties(format!("metric:{metric}"), value.to_string());
    }
    if let Some(uri) = metrics_uri {
        create = create.model_metrics(
            ModelMetrics::builder()
                .model_quality(
                    ModelQuality::builder()
                        .statistics(
                            MetricsSource::builder()
                                .content_type("application/json")
                                .s3_uri(uri)
                                .build(),
                        )
                        .build(),
                )
                .build(),
        );
    }
    let created = create.send().await.map_err(|e| {
        aws::error(
            &format!("cannot register `{id}` in model package group {group}"),
            e,
        )
    })?;
    Ok(Package {
        arn: created.model_package_arn().unwrap_or_default().to_string(),
        status: ModelApprovalStatus::PendingManualApproval.as_str().into(),
        created: true,
    })
}

/// Approves production's package and rejects approved packages registered after it.
/// `production` is `None` when production is not a SageMaker model (a rollback to a
/// built-in version): every approved package is then rejected.
pub async fn approve(
    clients: &Clients,
    cfg: &SageMakerConfig,
    model: &str,
    production: (&str, Option<&Version>),
    reason: &str,
) -> Result<Approval> {
    let (id, version) = production;
    let package = match version {
        Some(v) => Some(register(clients, cfg, model, v, None).await?),
        None => None,
    };
    let group = cfg.package_group(model);
    let all = match list(clients, &group).await {
        Err(_) if package.is_none() => Vec::new(),
        listed => listed?,
    };
    let start = match &package {
        Some(p) => {
            all.iter()
                .position(|s| s.model_package_arn() == Some(p.arn.as_str()))
                .ok_or_else(|| Error::external(format!("{} is not listed in {group}", p.arn)))?
                + 1
        }
        None => 0,
    };
    let changed = package
        .as_ref()
        .is_some_and(|p| p.status != ModelApprovalStatus::Approved.as_str());
    if let (Some(p), true) = (&package, changed) {
        set_status(clients, &p.arn, ModelApprovalStatus::Approved, reason).await?;
    }
    let mut rejected = Vec::new();
    for newer in &all[start..] {
        if newer.model_approval_status() == Some(&ModelApprovalStatus::Approved) {
            let arn = newer.model_package_arn().unwrap_or_default();
            let why = format!("rolled back: production is {id} again");
            set_status(clients, arn, ModelApprovalStatus::Rejected, &why).await?;
            rejected.push(arn.to_string());
        }
    }
    Ok(Approval {
        approved: package.map(|p| p.arn),
        changed,
        rejected,
    })
}

async fn set_status(
    clients: &Clients,
    arn: &str,
    status: ModelApprovalStatus,
    reason: &str,
) -> Result<()> {
    clients
        .sagemaker
        .update_model_package()
        .model_package_arn(arn)
        .model_approval_status(status.clone())
        .approval_description(reason)
        .send()
        .await
        .map_err(|e| aws::error(&format!("cannot set {arn} to {}", status.as_str()), e))?;
    Ok(())
}

async fn ensure_group(clients: &Clients, group: &str, model: &str) -> Result<()> {
    match clients
        .sagemaker
        .describe_model_package_group()
        .model_package_group_name(group)
        .send()
        .await
    {
        Ok(_) => return Ok(()),
        Err(e) if not_found(&e) => {}
        Err(e) => {
            return Err(aws::error(
                &format!("cannot read model package group {group}"),
                e,
            ))
        }
    }
    match clients
        .sagemaker
        .create_model_package_group()
        .model_package_group_name(group)
        .model_package_group_description(format!("Versions of mlgate model {model}"))
        .send()
        .await
    {
        Ok(_) => Ok(()),
        // Created by a concurrent run in between.
        Err(e) if already_exists(&e) => Ok(()),
        Err(e) => Err(aws::error(
            &format!("cannot create model package group {group}"),
            e,
        )),
    }
}

/// Every version in the group, oldest first.
async fn list(clients: &Clients, group: &str) -> Result<Vec<ModelPackageSummary>> {
    let mut pages = clients
        .sagemaker
        .list_model_packages()
        .model_package_group_name(group)
        .model_package_type(ModelPackageType::Versioned)
        .into_paginator()
        .send();
    let mut all = Vec::new();
    while let Some(page) = pages.next().await {
        let page =
            page.map_err(|e| aws::error(&format!("cannot list model package group {group}"), e))?;
        all.extend(page.model_package_summary_list().iter().cloned());
    }
    all.sort_by_key(|p| {
        (
            p.creation_time().map(|t| t.as_nanos()),
            p.model_package_version(),
        )
    });
    Ok(all)
}

async fn find(
    clients: &Clients,
    group: &str,
    model: &str,
    version: &str,
) -> Result<Option<ModelPackageSummary>> {
    let wanted = description(model, version);
    Ok(list(clients, group)
        .await?
        .into_iter()
        .find(|p| p.model_package_description() == Some(wanted.as_str())))
}

fn status(p: &ModelPackageSummary) -> String {
    p.model_approval_status()
        .map(|s| s.as_str().to_string())
        .unwrap_or_default()
}
