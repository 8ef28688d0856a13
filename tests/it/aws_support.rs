//! AWS stand-ins: a moto server per test (S3, SageMaker), clients of our own to set up
//! and inspect its state, and the environment that points mlgate at it through the
//! standard `AWS_ENDPOINT_URL` override.

use crate::process::{free_port, venv_bin, wait_for};
use aws_sdk_s3::config::{BehaviorVersion, Credentials, Region};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

pub const REGION: &str = "us-east-1";
pub const ROLE: &str = "arn:aws:iam::123456789012:role/mlgate-training";

/// A moto server, killed when dropped.
pub struct Moto {
    child: Child,
    pub url: String,
}

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub fn start_moto() -> Moto {
    let port = free_port();
    let child = Command::new(venv_bin("moto_server"))
        .args(["-H", "127.0.0.1", "-p", &port.to_string()])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("moto_server starts");
    let moto = Moto {
        child,
        url: format!("http://127.0.0.1:{port}"),
    };
    wait_for(port, "moto", Duration::from_secs(60));
    moto
}

/// Sets the environment under which mlgate talks to moto (and never to AWS).
pub fn aws_env(cmd: &mut assert_cmd::Command, s3: &str, sagemaker: &str) {
    for var in ["AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_ENDPOINT_URL"] {
        cmd.env_remove(var);
    }
    cmd.env("AWS_ENDPOINT_URL_S3", s3)
        .env("AWS_ENDPOINT_URL_SAGEMAKER", sagemaker)
        .env("AWS_ACCESS_KEY_ID", "testing")
        .env("AWS_SECRET_ACCESS_KEY", "testing-secret-key")
        .env("AWS_REGION", REGION)
        .env("AWS_EC2_METADATA_DISABLED", "true");
}

pub fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

fn credentials() -> Credentials {
    Credentials::new("testing", "testing-secret-key", None, None, "tests")
}

pub fn s3(url: &str) -> aws_sdk_s3::Client {
    let config = aws_sdk_s3::Config::builder()
        .http_client(mlgate::cloud::aws::https_client())
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new(REGION))
        .endpoint_url(url)
        .credentials_provider(credentials())
        .force_path_style(true)
        .build();
    aws_sdk_s3::Client::from_conf(config)
}

pub fn sagemaker(url: &str) -> aws_sdk_sagemaker::Client {
    let config = aws_sdk_sagemaker::Config::builder()
        .http_client(mlgate::cloud::aws::https_client())
        .behavior_version(aws_sdk_sagemaker::config::BehaviorVersion::latest())
        .region(aws_sdk_sagemaker::config::Region::new(REGION))
        .endpoint_url(url)
        .credentials_provider(aws_sdk_sagemaker::config::Credentials::new(
            "testing",
            "testing-secret-key",
            None,
            None,
            "tests",
        ))
        .build();
    aws_sdk_sagemaker::Client::from_conf(config)
}

pub fn create_bucket(url: &str, bucket: &str) {
    runtime().block_on(async {
        s3(url).create_bucket().bucket(bucket).send().await.unwrap();
    });
}

pub fn put_object(url: &str, uri: &str, bytes: Vec<u8>) {
    let (bucket, key) = uri.strip_prefix("s3://").unwrap().split_once('/').unwrap();
    runtime().block_on(async {
        s3(url)
            .put_object()
            .bucket(bucket)
            .key(key)
            .body(bytes.into())
            .send()
            .await
            .unwrap();
    });
}

pub fn get_object(url: &str, uri: &str) -> Option<Vec<u8>> {
    let (bucket, key) = uri.strip_prefix("s3://").unwrap().split_once('/').unwrap();
    runtime().block_on(async {
        let object = s3(url)
            .get_object()
            .bucket(bucket)
            .key(key)
            .send()
            .await
            .ok()?;
        Some(object.body.collect().await.unwrap().to_vec())
    })
}

/// A `model.tar.gz` as a training container leaves it: `files` at the top.
pub fn model_tar_gz(files: &[(&str, &str)]) -> Vec<u8> {
    let mut archive = tar::Builder::new(flate2::write::GzEncoder::new(
        Vec::new(),
        flate2::Compression::default(),
    ));
    for (name, text) in files {
        let mut header = tar::Header::new_gnu();
        header.set_size(text.len() as u64);
        header.set_mode(0o644);
        header.set_cksum();
        archive
            .append_data(&mut header, name, text.as_bytes())
            .unwrap();
    }
    archive.into_inner().unwrap().finish().unwrap()
}

/// The `s3://…` location named in an error message.
pub fn s3_uri_in(text: &str) -> String {
    let start = text
        .find("s3://")
        .expect("an s3:// location in the message");
    text[start..]
        .split(|c: char| c.is_whitespace())
        .next()
        .unwrap()
        .trim_end_matches(['.', ',', ':', ')', '`'])
        .to_string()
}
