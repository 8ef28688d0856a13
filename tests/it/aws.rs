//! The AWS backend against moto in server mode (S3 and SageMaker), and against a
//! controllable fake of SageMaker's API beside it for what moto cannot do: jobs that
//! stay in progress, fail or are stopped, throttling and server errors. moto completes
//! every job on first sight and writes no artifact, so the tests play the training
//! container: they put `model.tar.gz` (and transform output) where the job would.

use crate::aws_support::*;
use crate::common::{committed_versions, example_repo, git, mlgate, outcome, EXAMPLE_CONFIG};
use mlgate::store::{S3Store, Store};
use serde_json::{json, Value};
use std::collections::VecDeque;
use std::path::Path;
use std::sync::{Arc, Mutex};
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

pub(crate) const BUCKET: &str = "mlgate-it";
const BRANCH: &str = "mlgate/promote/churn";

/// The churn example switched to an S3 store and SageMaker's XGBoost: nothing else in
/// its config changes. The versions kept in git move to S3 as a team would move them
/// (`aws s3 sync`), so the production version stays loadable.
pub(crate) fn sagemaker_project(root: &Path, moto: &str) {
    for (key, file) in committed_versions(root) {
        put_object(
            moto,
            &format!("s3://{BUCKET}/mlgate/{key}"),
            std::fs::read(&file).unwrap(),
        );
    }
    let config = root.join(EXAMPLE_CONFIG);
    let text = std::fs::read_to_string(&config).unwrap();
    let text = text
        .replace(
            "store: file://.mlgate/store",
            &format!("store: s3://{BUCKET}/mlgate\naws: {{region: {REGION}}}"),
        )
        .replace(
            "      backend: builtin\n      algorithm: logistic_regression\n      params: {c: 1.0, class_weight: balanced}\n",
            &format!(
                "      backend: sagemaker\n      sagemaker:\n        role_arn: {ROLE}\n        algorithm: xgboost\n        hyperparameters: {{max_depth: 4}}\n        poll_seconds: 0.05\n        prices: {{ml.m5.xlarge: 0.23}}\n"
            ),
        );
    assert!(text.contains("backend: sagemaker"), "{text}");
    std::fs::write(&config, text).unwrap();
    git(root, &["commit", "-qam", "train on SageMaker"]);
}

fn run_step(root: &Path, moto: &str, sagemaker: &str, args: &[&str]) -> (i32, String, String) {
    let mut cmd = mlgate();
    aws_env(&mut cmd, moto, sagemaker);
    let (code, stdout, stderr) = outcome(
        cmd.current_dir(root)
            .args(args)
            .args(["--config", EXAMPLE_CONFIG]),
    );
    assert!(!stdout.contains("testing-secret-key") && !stderr.contains("testing-secret-key"));
    (code, stdout, stderr)
}

/// What the SageMaker XGBoost container would leave: a model and our metrics.
pub(crate) fn trained_artifact(roc_auc: f64) -> Vec<u8> {
    let metrics = json!({"roc_auc": roc_auc, "log_loss": 0.51, "recall": 0.76}).to_string();
    model_tar_gz(&[
        ("xgboost-model", "booster bytes"),
        ("metrics.json", &metrics),
    ])
}

fn model_packages(url: &str) -> Vec<(String, String)> {
    runtime().block_on(async {
        let page = sagemaker(url)
            .list_model_packages()
            .model_package_group_name("churn")
            .send()
            .await
            .unwrap();
        page.model_package_summary_list()
            .iter()
            .map(|p| {
                (
                    p.model_package_description()
                        .unwrap_or_default()
                        .to_string(),
                    p.model_approval_status().unwrap().as_str().to_string(),
                )
            })
            .collect()
    })
}

/// The S3 store is write-once (conditional writes, also for multipart uploads), reads
/// back what was written, streams downloads, and a missing bucket is an error rather
/// than "no such object".
#[test]
fn s3_store_writes_once_even_in_parts() {
    let moto = start_moto();
    create_bucket(&moto.url, BUCKET);
    let store = S3Store::new(s3(&moto.url), BUCKET, "p").with_part_size(5 * 1024 * 1024);
    runtime().block_on(async {
        assert!(store.put_if_absent("a/x.json", b"first").await.unwrap());
        assert!(!store.put_if_absent("a/x.json", b"second").await.unwrap());
        assert_eq!(store.get("a/x.json").await.unwrap().unwrap(), b"first");
        assert_eq!(store.get("a/none").await.unwrap(), None);
        let big: Vec<u8> = (0..11 * 1024 * 1024).map(|i| (i % 251) as u8).collect();
        assert!(store.put_if_absent("big.bin", &big).await.unwrap());
        assert!(!store.put_if_absent("big.bin", &[1, 2, 3]).await.unwrap());
        let dir = tempfile::tempdir().unwrap();
        let dest = dir.path().join("big.bin");
        assert!(store.download("big.bin", &dest).await.unwrap());
        assert!(
            std::fs::read(&dest).unwrap() == big,
            "multipart object reads back whole"
        );
        store.put("pointer.yaml", b"v1").await.unwrap();
        store.put("pointer.yaml", b"v2").await.unwrap();
        assert_eq!(store.get("pointer.yaml").await.unwrap().unwrap(), b"v2");
        let missing = S3Store::new(s3(&moto.url), "no-such-bucket", "");
        let err = missing.get("x").await.unwrap_err();
        assert_eq!(err.exit_code(), 3);
        assert!(err.message.contains("NoSuchBucket"), "{}", err.message);
    });
}

/// The whole GitOps path on AWS: `run` with an s3:// store and SageMaker training ends
/// with a registered package (pending approval) and a promotion branch; a rerun attaches
/// to the same job; batch transform scores with the version; `deploy` after the merge
/// approves the package and publishes the pointer to S3; a revert rejects it.
#[test]
fn run_on_s3_and_sagemaker_registers_promotes_deploys_and_rolls_back() {
    let moto = start_moto();
    create_bucket(&moto.url, BUCKET);
    let (_tmp, root) = example_repo();
    sagemaker_project(&root, &moto.url);

    // moto completes the job at once but writes no artifact: a clear external failure.
    let (code, _, stderr) = run_step(&root, &moto.url, &moto.url, &["run"]);
    assert_eq!(code, 3, "{stderr}");
    assert!(
        stderr.contains("completed but its model artifact"),
        "{stderr}"
    );
    let artifact = s3_uri_in(&stderr[stderr.find("model artifact").unwrap()..]);
    assert!(artifact.ends_with("/output/model.tar.gz"), "{artifact}");
    let job = artifact.split('/').rev().nth(2).unwrap().to_string();
    assert!(job.starts_with("mlgate-churn-") && job.len() <= 63, "{job}");

    // The container's output appears; the rerun attaches to the same job.
    put_object(&moto.url, &artifact, trained_artifact(0.83));
    let (code, stdout, stderr) = run_step(&root, &moto.url, &moto.url, &["run"]);
    assert_eq!(code, 0, "{stdout}\n{stderr}");
    assert!(
        stderr.contains(&format!("training job {job}: already exists")),
        "{stderr}"
    );
    assert!(
        stdout.contains("metrics reported by its training job"),
        "{stdout}"
    );
    assert!(
        stdout.contains("passes the gate against production"),
        "{stdout}"
    );
    assert!(
        stdout.contains("both scored on the same evaluation data")
            || stdout.contains("compared on the metrics their training jobs reported"),
        "{stdout}"
    );
    let listed = runtime().block_on(async {
        sagemaker(&moto.url)
            .list_training_jobs()
            .send()
            .await
            .unwrap()
    });
    assert_eq!(
        listed.training_job_summaries().len(),
        1,
        "one job, however many runs"
    );

    let version = production_version_on(&root, BRANCH);
    let packages = model_packages(&moto.url);
    assert_eq!(
        packages,
        vec![(
            format!("mlgate model churn version {version}"),
            "PendingManualApproval".into()
        )]
    );
    // The channels were written in XGBoost's format: headerless, target first.
    let channel = s3_listing(&moto.url, "mlgate/data/");
    assert_eq!(channel.len(), 2, "{channel:?}");
    let train =
        String::from_utf8(get_object(&moto.url, &format!("s3://{BUCKET}/{}", channel[0])).unwrap())
            .unwrap();
    let first = train.lines().next().unwrap();
    assert!(
        first.starts_with("0,") || first.starts_with("1,"),
        "{first}"
    );

    // Batch transform with the candidate: moto writes no output (exit 3), then it is there.
    let input = root.join("examples/churn/data/eval.csv");
    let output = root.join("scored.csv");
    let predict = |root: &Path| {
        run_step(
            root,
            &moto.url,
            &moto.url,
            &[
                "predict",
                "--backend",
                "sagemaker",
                "--version",
                &version,
                "--input",
                input.to_str().unwrap(),
                "--output",
                output.to_str().unwrap(),
            ],
        )
    };
    let (code, _, stderr) = predict(&root);
    assert_eq!(code, 3, "{stderr}");
    let predictions = s3_uri_in(&stderr[stderr.find("wrote no predictions").unwrap()..]);
    let rows = std::fs::read_to_string(&input).unwrap().lines().count() - 1;
    let lines: String = (0..rows)
        .map(|i| format!("{}\n", (i % 10) as f64 / 10.0))
        .collect();
    put_object(&moto.url, &predictions, lines.into_bytes());
    let (code, stdout, stderr) = predict(&root);
    assert_eq!(code, 0, "{stdout}\n{stderr}");
    assert!(
        stderr.contains("already exists (Completed), attaching"),
        "{stderr}"
    );
    let scored = std::fs::read_to_string(&output).unwrap();
    let header = scored.lines().next().unwrap();
    assert!(
        header.ends_with(",prediction,proba_no,proba_yes"),
        "{header}"
    );
    assert_eq!(scored.lines().count(), rows + 1);
    assert!(
        scored.lines().nth(2).unwrap().ends_with(",no,0.9,0.1"),
        "{scored}"
    );

    // Merge the promotion: deploy approves the package and publishes the pointer.
    git(&root, &["merge", "-q", "--ff-only", BRANCH]);
    let (code, stdout, stderr) = run_step(&root, &moto.url, &moto.url, &["deploy"]);
    assert_eq!(code, 0, "{stdout}\n{stderr}");
    assert_eq!(model_packages(&moto.url)[0].1, "Approved");
    let published = get_object(
        &moto.url,
        &format!("s3://{BUCKET}/mlgate/models/churn/production.yaml"),
    )
    .unwrap();
    assert!(String::from_utf8(published).unwrap().contains(&version));
    let (code, stdout, _) = run_step(&root, &moto.url, &moto.url, &["deploy"]);
    assert_eq!(code, 0);
    assert!(stdout.contains("was already approved"), "{stdout}");

    // Revert the merge: production is the built-in model again, the package is rejected.
    git(&root, &["revert", "--no-edit", "HEAD"]);
    let (code, stdout, stderr) = run_step(&root, &moto.url, &moto.url, &["deploy"]);
    assert_eq!(code, 0, "{stdout}\n{stderr}");
    assert_eq!(model_packages(&moto.url)[0].1, "Rejected", "{stdout}");
}

fn production_version_on(root: &Path, rev: &str) -> String {
    git(
        root,
        &[
            "show",
            &format!("{rev}:examples/churn/models/churn/production.yaml"),
        ],
    )
    .lines()
    .find_map(|l| l.strip_prefix("version: "))
    .unwrap()
    .to_string()
}

fn s3_listing(url: &str, prefix: &str) -> Vec<String> {
    runtime().block_on(async {
        let page = s3(url)
            .list_objects_v2()
            .bucket(BUCKET)
            .prefix(prefix)
            .send()
            .await
            .unwrap();
        let mut keys: Vec<String> = page
            .contents()
            .iter()
            .map(|o| o.key().unwrap().to_string())
            .collect();
        keys.sort_by_key(|k| !k.ends_with("train.csv"));
        keys
    })
}

/// One scripted answer of the fake to DescribeTrainingJob.
#[derive(Clone)]
enum Answer {
    Status(&'static str, &'static str),
    Throttle,
    ServerError,
}

/// SageMaker's JSON protocol for the training-job calls, answering DescribeTrainingJob
/// from a script (the last answer repeats) once CreateTrainingJob has been called.
#[derive(Clone, Default)]
struct FakeSageMaker {
    state: Arc<Mutex<FakeState>>,
}

#[derive(Default)]
struct FakeState {
    created: Vec<Value>,
    describes: usize,
    script: VecDeque<Answer>,
    artifact: String,
    /// While set, a completed job still reads as uploading: the test has yet to write
    /// its artifact.
    hold: bool,
}

impl FakeSageMaker {
    fn script(&self, answers: &[Answer]) {
        self.state.lock().unwrap().script = answers.iter().cloned().collect();
    }
    fn created(&self) -> usize {
        self.state.lock().unwrap().created.len()
    }
}

fn amz_json(status: u16, body: Value) -> ResponseTemplate {
    ResponseTemplate::new(status)
        .insert_header("content-type", "application/x-amz-json-1.1")
        .set_body_string(body.to_string())
}

impl Respond for FakeSageMaker {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        let target = request
            .headers
            .get("x-amz-target")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_string();
        let body: Value = serde_json::from_slice(&request.body).unwrap_or(Value::Null);
        let mut state = self.state.lock().unwrap();
        let arn =
            |name: &str| format!("arn:aws:sagemaker:{REGION}:123456789012:training-job/{name}");
        match target.as_str() {
            "SageMaker.CreateTrainingJob" => {
                let name = body["TrainingJobName"].as_str().unwrap().to_string();
                let output = body["OutputDataConfig"]["S3OutputPath"].as_str().unwrap();
                state.artifact = format!("{output}/{name}/output/model.tar.gz");
                state.created.push(body);
                amz_json(200, json!({"TrainingJobArn": arn(&name)}))
            }
            "SageMaker.DescribeTrainingJob" => {
                state.describes += 1;
                let wanted = body["TrainingJobName"].as_str().unwrap_or_default();
                let found = state
                    .created
                    .iter()
                    .find(|j| j["TrainingJobName"] == wanted);
                let Some(job) = found.cloned() else {
                    return amz_json(
                        400,
                        json!({"__type": "ValidationException", "message": "Requested resource not found."}),
                    );
                };
                let answer = if state.script.len() > 1 {
                    state.script.pop_front().unwrap()
                } else {
                    state.script.front().cloned().unwrap()
                };
                let name = job["TrainingJobName"].as_str().unwrap();
                let answer = match answer {
                    Answer::Status("Completed", _) if state.hold => {
                        Answer::Status("InProgress", "Uploading")
                    }
                    other => other,
                };
                match answer {
                    Answer::Throttle => amz_json(
                        400,
                        json!({"__type": "ThrottlingException", "message": "Rate exceeded"}),
                    ),
                    Answer::ServerError => amz_json(
                        500,
                        json!({"__type": "InternalFailure", "message": "try again"}),
                    ),
                    Answer::Status(status, secondary) => {
                        let now = std::time::SystemTime::now()
                            .duration_since(std::time::UNIX_EPOCH)
                            .unwrap()
                            .as_secs_f64();
                        let mut out = json!({
                            "TrainingJobName": name, "TrainingJobArn": arn(name),
                            "TrainingJobStatus": status, "SecondaryStatus": secondary,
                            "CreationTime": now - 90.0, "TrainingStartTime": now - 60.0,
                            "ModelArtifacts": {"S3ModelArtifacts": state.artifact},
                            "AlgorithmSpecification": job["AlgorithmSpecification"],
                            "RoleArn": ROLE,
                            "SecondaryStatusTransitions": [{"Status": secondary, "StartTime": now - 60.0, "StatusMessage": "step message"}],
                        });
                        match status {
                            "Failed" => {
                                out["FailureReason"] =
                                    "AlgorithmError: label column has 3 values".into()
                            }
                            "Stopped" => {
                                out["FailureReason"] =
                                    "MaxRuntimeExceeded: the job ran out of time".into()
                            }
                            "Completed" => {
                                out["BillableTimeInSeconds"] = 120.into();
                                out["FinalMetricDataList"] = json!([
                                    {"MetricName": "validation:auc", "Value": 0.812, "Timestamp": now},
                                    {"MetricName": "validation:logloss", "Value": 0.47, "Timestamp": now},
                                ]);
                            }
                            _ => {}
                        }
                        amz_json(200, out)
                    }
                }
            }
            other => amz_json(
                400,
                json!({"__type": "UnknownOperationException", "message": other}),
            ),
        }
    }
}

async fn fake_sagemaker() -> (MockServer, FakeSageMaker) {
    let server = MockServer::start().await;
    let fake = FakeSageMaker::default();
    Mock::given(wiremock::matchers::method("POST"))
        .respond_with(fake.clone())
        .mount(&server)
        .await;
    (server, fake)
}

/// A project whose training jobs go to the fake; S3 (data, artifacts) is moto's.
fn fake_project(moto: &str) -> (tempfile::TempDir, std::path::PathBuf) {
    create_bucket(moto, BUCKET);
    let (tmp, root) = example_repo();
    sagemaker_project(&root, moto);
    (tmp, root)
}

async fn train(root: &Path, moto: &str, fake: &str) -> (i32, String, String) {
    let (root, moto, fake) = (root.to_path_buf(), moto.to_string(), fake.to_string());
    tokio::task::spawn_blocking(move || run_step(&root, &moto, &fake, &["train"]))
        .await
        .unwrap()
}

/// The wait shows every status change with elapsed time and cost; throttling and 5xx
/// answers are retried; the artifact is downloaded and becomes a version whose metrics
/// are the job's final metrics plus the artifact's metrics.json, with the job in its
/// lineage.
#[tokio::test(flavor = "multi_thread")]
async fn training_waits_through_progress_retries_and_completes() {
    let moto = start_moto();
    let (server, fake) = fake_sagemaker().await;
    let (_tmp, root) = tokio::task::block_in_place(|| fake_project(&moto.url));
    fake.script(&[
        Answer::Status("InProgress", "Starting"),
        Answer::Throttle,
        Answer::Status("InProgress", "Training"),
        Answer::ServerError,
        Answer::Status("Completed", "Completed"),
    ]);
    // The container writes its artifact where the job's output path says.
    let artifact = format!("s3://{BUCKET}/mlgate/sagemaker/");
    let putter = put_artifact_when_created(fake.clone(), moto.url.clone(), 1);
    let (code, stdout, stderr) = train(&root, &moto.url, &server.uri()).await;
    putter.await.unwrap();
    assert_eq!(code, 0, "{stdout}\n{stderr}");
    assert!(fake.state.lock().unwrap().artifact.starts_with(&artifact));
    for line in [
        "InProgress — Starting: step message",
        "InProgress — Training: step message",
        "(≈ $",
    ] {
        assert!(stderr.contains(line), "{line}: {stderr}");
    }
    assert_eq!(fake.created(), 1);
    assert!(
        fake.state.lock().unwrap().describes >= 6,
        "throttled and failed calls were retried"
    );
    let report =
        mlgate::report::read_json(&root.join("examples/churn/.mlgate/reports/churn/train.json"))
            .unwrap();
    let manifest = &report.data;
    assert_eq!(manifest["algorithm"], "sagemaker");
    let metrics = &manifest["evaluation"]["metrics"];
    // The job's validation:auc (0.812) is overridden by metrics.json's roc_auc (0.8).
    assert_eq!(metrics["roc_auc"], 0.8);
    assert_eq!(metrics["log_loss"], 0.51);
    let details = &manifest["lineage"]["details"];
    assert!(details["job_arn"]
        .as_str()
        .unwrap()
        .contains(":training-job/mlgate-churn-"));
    assert_eq!(details["billable_seconds"], 120);
    assert_eq!(details["estimated_cost_usd"], 0.01);
    let request = fake.state.lock().unwrap().created[0].clone();
    assert_eq!(request["HyperParameters"]["objective"], "binary:logistic");
    assert_eq!(request["HyperParameters"]["max_depth"], "4");
    assert_eq!(request["RoleArn"], ROLE);
    let channels = request["InputDataConfig"].as_array().unwrap();
    assert_eq!(channels.len(), 2);
    let source = &channels[0]["DataSource"]["S3DataSource"];
    assert_eq!(source["S3DataDistributionType"], "FullyReplicated");
    assert!(source["S3Uri"].as_str().unwrap().ends_with("/train.csv"));
}

/// A failed job and a stopped job exit 3 with SageMaker's reason; nothing is stored.
#[tokio::test(flavor = "multi_thread")]
async fn failed_and_stopped_jobs_exit_3_with_the_reason() {
    let moto = start_moto();
    for (status, reason) in [
        ("Failed", "AlgorithmError: label column has 3 values"),
        ("Stopped", "MaxRuntimeExceeded: the job ran out of time"),
    ] {
        let (server, fake) = fake_sagemaker().await;
        let (_tmp, root) = tokio::task::block_in_place(|| {
            if status == "Failed" {
                create_bucket(&moto.url, BUCKET);
            }
            let (tmp, root) = example_repo();
            sagemaker_project(&root, &moto.url);
            (tmp, root)
        });
        fake.script(&[
            Answer::Status("InProgress", "Training"),
            Answer::Status(status, status),
        ]);
        let (code, stdout, stderr) = train(&root, &moto.url, &server.uri()).await;
        assert_eq!(code, 3, "{stdout}\n{stderr}");
        assert!(stderr.contains(reason), "{stderr}");
        assert!(!root
            .join("examples/churn/.mlgate/reports/churn/candidate.json")
            .exists());
    }
}

/// A runner killed while waiting: the rerun finds the job by its deterministic name and
/// waits for it instead of starting a second one.
#[tokio::test(flavor = "multi_thread")]
async fn an_interrupted_wait_resumes_on_the_same_job() {
    let moto = start_moto();
    let (server, fake) = fake_sagemaker().await;
    let (_tmp, root) = tokio::task::block_in_place(|| fake_project(&moto.url));
    fake.script(&[Answer::Status("InProgress", "Training")]);
    let mut cmd = std::process::Command::new(assert_cmd::cargo::cargo_bin("mlgate"));
    cmd.current_dir(&root)
        .args(["train", "--config", EXAMPLE_CONFIG])
        .env("AWS_ENDPOINT_URL_S3", &moto.url)
        .env("AWS_ENDPOINT_URL_SAGEMAKER", server.uri())
        .env("AWS_ACCESS_KEY_ID", "testing")
        .env("AWS_SECRET_ACCESS_KEY", "testing-secret-key")
        .env("AWS_REGION", REGION)
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null());
    let mut child = cmd.spawn().unwrap();
    while fake.created() == 0 {
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    child.kill().unwrap();
    child.wait().unwrap();
    let uri = fake.state.lock().unwrap().artifact.clone();
    let moto_url = moto.url.clone();
    tokio::task::spawn_blocking(move || put_object(&moto_url, &uri, trained_artifact(0.8)))
        .await
        .unwrap();
    fake.script(&[Answer::Status("Completed", "Completed")]);
    // How mlgate waits and prices a job is not part of its identity.
    let config = root.join(EXAMPLE_CONFIG);
    let text = std::fs::read_to_string(&config).unwrap();
    let edited = text
        .replace("poll_seconds: 0.05", "poll_seconds: 0.02")
        .replace("0.23}", "0.25}");
    assert_ne!(edited, text);
    std::fs::write(&config, edited).unwrap();
    let (code, stdout, stderr) = train(&root, &moto.url, &server.uri()).await;
    assert_eq!(code, 0, "{stdout}\n{stderr}");
    assert!(
        stderr.contains("already exists (Completed), attaching"),
        "{stderr}"
    );
    assert_eq!(fake.created(), 1, "the rerun started no second job");
}

/// Data files may be S3 objects: `validate-data` checks them as they stream (gzip
/// included) with no local copy, and its report names the object, not a scratch file; a
/// missing object is an input error naming it.
#[test]
fn validate_data_reads_s3_objects() {
    let moto = start_moto();
    create_bucket(&moto.url, BUCKET);
    let (_tmp, root) = example_repo();
    let data = root.join("examples/churn/data");
    let train = gzip(&std::fs::read(data.join("train.csv")).unwrap());
    put_object(
        &moto.url,
        &format!("s3://{BUCKET}/data/train.csv.gz"),
        train,
    );
    let eval = std::fs::read(data.join("eval.csv")).unwrap();
    put_object(&moto.url, &format!("s3://{BUCKET}/data/eval.csv"), eval);
    let config = root.join(EXAMPLE_CONFIG);
    let remote = std::fs::read_to_string(&config)
        .unwrap()
        .replace(
            "train: data/train.csv",
            &format!("train: s3://{BUCKET}/data/train.csv.gz"),
        )
        .replace(
            "eval: data/eval.csv",
            &format!("eval: s3://{BUCKET}/data/eval.csv"),
        );
    std::fs::write(&config, &remote).unwrap();
    let (code, stdout, stderr) = run_step(&root, &moto.url, &moto.url, &["validate-data"]);
    assert_eq!(code, 0, "{stdout}\n{stderr}");
    assert!(
        stdout.contains("6000"),
        "the 6 000 training rows were read: {stdout}"
    );
    let report = std::fs::read_to_string(
        root.join("examples/churn/.mlgate/reports/churn/validate-data.json"),
    )
    .expect("the step's JSON report");
    assert!(
        report.contains(&format!("s3://{BUCKET}/data/train.csv.gz")),
        "the report names the object: {report}"
    );
    assert!(!report.contains("scratch"), "{report}");

    std::fs::write(&config, remote.replace("data/eval.csv", "data/missing.csv")).unwrap();
    let (code, _, stderr) = run_step(&root, &moto.url, &moto.url, &["validate-data"]);
    assert_eq!(code, 2, "{stderr}");
    assert!(
        stderr.contains(&format!("s3://{BUCKET}/data/missing.csv: no such object")),
        "{stderr}"
    );
}

/// A download that breaks off half-way (the connection drops after the headers) is a
/// transient failure to retry (exit 3), never a finding about a file that is fine.
#[test]
fn a_stream_that_breaks_off_is_transient_not_a_bad_file() {
    let (_tmp, root) = example_repo();
    let head = std::fs::read(root.join("examples/churn/data/train.csv")).unwrap();
    let server = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", server.local_addr().unwrap());
    std::thread::spawn(move || {
        for stream in server.incoming() {
            let Ok(mut stream) = stream else { return };
            answer_then_drop(&mut stream, &head[..head.len() / 3]);
        }
    });
    let config = root.join(EXAMPLE_CONFIG);
    let text = std::fs::read_to_string(&config).unwrap().replace(
        "train: data/train.csv",
        &format!("train: s3://{BUCKET}/data/train.csv"),
    );
    std::fs::write(&config, text).unwrap();
    let (code, stdout, stderr) = run_step(&root, &url, &url, &["validate-data"]);
    assert_eq!(code, 3, "{stdout}\n{stderr}");
    assert!(
        stderr.contains(&format!("s3://{BUCKET}/data/train.csv: reading broke off")),
        "{stderr}"
    );
}

/// Reads one request, answers it with headers promising far more than `body`, sends
/// `body` and closes the connection.
fn answer_then_drop(stream: &mut std::net::TcpStream, body: &[u8]) {
    use std::io::{BufRead, BufReader, Write};
    let mut reader = BufReader::new(stream.try_clone().unwrap());
    let mut line = String::new();
    while reader.read_line(&mut line).is_ok_and(|n| n > 2) {
        line.clear();
    }
    let headers = format!(
        "HTTP/1.1 200 OK\r\nContent-Type: text/csv\r\nContent-Length: {}\r\nETag: \"e\"\r\n\r\n",
        body.len() * 10
    );
    let _ = stream.write_all(headers.as_bytes());
    let _ = stream.write_all(body);
    let _ = stream.shutdown(std::net::Shutdown::Both);
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    use std::io::Write;
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    encoder.write_all(bytes).unwrap();
    encoder.finish().unwrap()
}

/// Channels already in S3 are identified by their listing: the same objects attach to
/// the same job (even a failed one, which fails again with its reason), new data under
/// the prefix is a new job.
#[tokio::test(flavor = "multi_thread")]
async fn channel_data_decides_the_job() {
    let moto = start_moto();
    let (server, fake) = fake_sagemaker().await;
    let (_tmp, root) = tokio::task::block_in_place(|| {
        let (tmp, root) = fake_project(&moto.url);
        put_object(
            &moto.url,
            &format!("s3://{BUCKET}/chan/train/part-0.csv"),
            b"1,2\n".to_vec(),
        );
        let config = root.join(EXAMPLE_CONFIG);
        let text = std::fs::read_to_string(&config).unwrap().replace(
            "        algorithm: xgboost\n",
            &format!("        algorithm: xgboost\n        data_distribution: sharded_by_s3_key\n        channels: {{train: s3://{BUCKET}/chan/train/}}\n"),
        );
        std::fs::write(&config, text).unwrap();
        git(&root, &["commit", "-qam", "channels in S3"]);
        (tmp, root)
    });
    fake.script(&[Answer::Status("Completed", "Completed")]);
    let putter = put_artifact_when_created(fake.clone(), moto.url.clone(), 1);
    for _ in 0..2 {
        let (code, _, stderr) = train(&root, &moto.url, &server.uri()).await;
        assert_eq!(code, 0, "{stderr}");
    }
    putter.await.unwrap();
    assert_eq!(fake.created(), 1, "the same data is the same job");
    let request = fake.state.lock().unwrap().created[0].clone();
    let channels = request["InputDataConfig"].as_array().unwrap();
    assert_eq!(channels.len(), 1);
    assert_eq!(
        channels[0]["DataSource"]["S3DataSource"]["S3DataDistributionType"],
        "ShardedByS3Key"
    );
    assert_eq!(
        channels[0]["DataSource"]["S3DataSource"]["S3Uri"],
        format!("s3://{BUCKET}/chan/train/")
    );
    let moto_url = moto.url.clone();
    tokio::task::spawn_blocking(move || {
        put_object(
            &moto_url,
            &format!("s3://{BUCKET}/chan/train/part-1.csv"),
            b"3,4\n".to_vec(),
        )
    })
    .await
    .unwrap();
    fake.script(&[Answer::Status("Failed", "Failed")]);
    let (code, _, stderr) = train(&root, &moto.url, &server.uri()).await;
    assert_eq!(code, 3, "{stderr}");
    assert!(stderr.contains("label column has 3 values"), "{stderr}");
    assert_eq!(fake.created(), 2, "new data under the prefix is a new job");
    // Rerunning after a failure is a retry: the next attempt, under the same name + `-2`.
    let (code, _, stderr) = train(&root, &moto.url, &server.uri()).await;
    assert_eq!(code, 3, "{stderr}");
    assert!(stderr.contains("attempt 1 ended Failed"), "{stderr}");
    let names: Vec<String> = fake
        .state
        .lock()
        .unwrap()
        .created
        .iter()
        .map(|j| j["TrainingJobName"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(names.len(), 3);
    assert_eq!(names[2], format!("{}-2", names[1]));
    assert!(names[2].len() <= 63);
}

/// Plays the container: once the fake has `count` jobs, writes the last one's artifact;
/// until then the fake's completed jobs read as still uploading.
fn put_artifact_when_created(
    fake: FakeSageMaker,
    moto: String,
    count: usize,
) -> tokio::task::JoinHandle<()> {
    fake.state.lock().unwrap().hold = true;
    tokio::spawn(put_artifact(fake, moto, count))
}

async fn put_artifact(fake: FakeSageMaker, moto: String, count: usize) {
    while fake.created() < count {
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    let uri = fake.state.lock().unwrap().artifact.clone();
    tokio::task::spawn_blocking(move || put_object(&moto, &uri, trained_artifact(0.8)))
        .await
        .unwrap();
    fake.state.lock().unwrap().hold = false;
}
