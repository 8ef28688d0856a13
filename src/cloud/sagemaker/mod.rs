//! SageMaker: training jobs (the `sagemaker` trainer), batch transform (`predict
//! --backend sagemaker`) and the Model Registry (`promote` registers, `deploy`
//! approves). Every resource gets a deterministic name from what it is made of, so a
//! rerun — after a killed runner or a redelivered event — finds and resumes the same job
//! instead of starting a second one.

pub mod images;
pub mod jobs;
pub mod registry;
pub mod training;
pub mod transform;
pub mod xgboost;

pub use crate::config::sagemaker::*;

use crate::error::{Error, Result};
use sha2::{Digest, Sha256};

/// SageMaker allows 63 characters; 3 stay free for a retry's `-N` suffix.
const NAME_LIMIT: usize = 60;

/// Clients for one project: SageMaker and S3 under the same credentials and region.
#[derive(Clone)]
pub struct Clients {
    pub sagemaker: aws_sdk_sagemaker::Client,
    pub s3: aws_sdk_s3::Client,
    pub region: String,
}

/// `mlgate-<model>-<16 hex digits of what the resource is made of>`, within SageMaker's
/// 63 characters (with room for `-N`) and its alphabet (letters, digits, single hyphens).
pub fn resource_name(kind: &str, model: &str, identity: &serde_json::Value) -> String {
    let digest = Sha256::digest(identity.to_string().as_bytes());
    let hash = &hex::encode(digest)[..16];
    let prefix = if kind.is_empty() {
        "mlgate".to_string()
    } else {
        format!("mlgate-{kind}")
    };
    let room = NAME_LIMIT - prefix.len() - hash.len() - 2;
    let mut base = String::new();
    for c in model.chars() {
        let c = if c.is_ascii_alphanumeric() { c } else { '-' };
        if !(c == '-' && base.ends_with('-')) {
            base.push(c);
        }
    }
    let base: String = base.trim_matches('-').chars().take(room).collect();
    let base = base.trim_end_matches('-');
    if base.is_empty() {
        format!("{prefix}-{hash}")
    } else {
        format!("{prefix}-{base}-{hash}")
    }
}

/// `s3://bucket/key` → (bucket, key).
pub fn split_s3(uri: &str) -> Result<(&str, &str)> {
    crate::store::s3::split_uri(uri)
        .filter(|(_, key)| !key.is_empty())
        .ok_or_else(|| {
            Error::input(format!(
                "`{uri}` is not an S3 object location (s3://BUCKET/KEY)"
            ))
        })
}

/// Joins an S3 prefix and a relative key with exactly one slash.
pub fn join_s3(prefix: &str, key: &str) -> String {
    format!(
        "{}/{}",
        prefix.trim_end_matches('/'),
        key.trim_start_matches('/')
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn valid(name: &str) -> bool {
        name.len() <= NAME_LIMIT
            && name.starts_with(|c: char| c.is_ascii_alphanumeric())
            && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
            && !name.contains("--")
            && !name.ends_with('-')
    }

    #[test]
    fn names_are_deterministic_valid_and_bounded() {
        let id = serde_json::json!({"commit": "abc", "params": {"max_depth": 6}});
        let a = resource_name("", "churn", &id);
        assert_eq!(a, resource_name("", "churn", &id));
        assert!(a.starts_with("mlgate-churn-"), "{a}");
        assert!(valid(&a), "{a}");
        let other = serde_json::json!({"commit": "abd", "params": {"max_depth": 6}});
        assert_ne!(a, resource_name("", "churn", &other));
        let long = resource_name("bt", &"very_long_model_name_".repeat(5), &id);
        assert!(valid(&long), "{long}");
        assert_eq!(long.len(), NAME_LIMIT);
        assert!(valid(&resource_name("m", "__", &id)));
    }

    #[test]
    fn s3_locations_split_and_join() {
        assert_eq!(split_s3("s3://b-1/x/y.csv").unwrap(), ("b-1", "x/y.csv"));
        assert!(split_s3("s3://b-1").is_err());
        assert_eq!(join_s3("s3://b/p/", "/k"), "s3://b/p/k");
    }
}
