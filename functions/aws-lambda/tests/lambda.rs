//! The function as Lambda runs it: this crate's binary against cargo-lambda's Runtime API
//! emulator (`cargo lambda watch --only-lambda-apis`), invoked with `cargo lambda invoke`
//! on events of the shapes AWS sends, with S3 on moto, the project published to it as
//! `deploy` publishes, and GitHub's dispatch endpoint on a fake that counts calls. Each
//! test says what it proves.

#[path = "../../../tests/support/process.rs"]
mod process;
#[path = "../../../tests/support/published.rs"]
mod published;

use aws_sdk_s3::config::{BehaviorVersion, Credentials, Region, SharedCredentialsProvider};
use process::{free_port, venv_bin, wait_for, Proc};
use published::publish_example;
use serde_json::{json, Value};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};
use wiremock::matchers::{body_partial_json, header, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

const REGION: &str = "us-east-1";
const DISPATCH: &str = "/repos/acme/churn/actions/workflows/mlgate-retrain.yml/dispatches";
const RULES: &str = "
forge: {provider: github, repository: acme/churn, url: GITHUB_URL}
triggers:
  - name: churn-incoming
    on: {bucket: data, prefix: churn/incoming/, suffix: .csv}
    model: churn
    do: [validate, retrain]
  - name: sample-events
    on: {bucket: mlgate-events, prefix: churn/incoming/, suffix: .csv}
    model: churn
    do: [validate, retrain]
";
/// The bucket of the sample events in tests/events/ (their generator's).
const EVENTS_BUCKET: &str = "mlgate-events";

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// moto, the Runtime API emulator, the function, and a GitHub fake.
struct Stack {
    _moto: Proc,
    _apis: Proc,
    function: Option<Proc>,
    moto: String,
    apis_port: u16,
    github: MockServer,
    project: tempfile::TempDir,
    s3: aws_sdk_s3::Client,
}

impl Stack {
    async fn start() -> Stack {
        let port = free_port();
        let moto = Proc(
            Command::new(venv_bin("moto_server"))
                .args(["-H", "127.0.0.1", "-p", &port.to_string()])
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .expect("moto starts"),
        );
        wait_for(port, "moto", Duration::from_secs(60));
        let moto_url = format!("http://127.0.0.1:{port}");
        let apis_port = free_port();
        let apis = Proc(
            Command::new(venv_bin("cargo-lambda"))
                .args([
                    "lambda",
                    "watch",
                    "--only-lambda-apis",
                    "-A",
                    "127.0.0.1",
                    "-P",
                ])
                .arg(apis_port.to_string())
                .current_dir(env!("CARGO_MANIFEST_DIR"))
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .expect("cargo lambda watch starts"),
        );
        wait_for(apis_port, "cargo lambda watch", Duration::from_secs(60));
        let github = MockServer::start().await;
        let s3 = s3_client(&moto_url);
        for bucket in ["data", "store", EVENTS_BUCKET] {
            s3.create_bucket().bucket(bucket).send().await.unwrap();
        }
        let stack = Stack {
            _moto: moto,
            _apis: apis,
            function: None,
            moto: moto_url,
            apis_port,
            project: tempfile::tempdir().unwrap(),
            github,
            s3,
        };
        stack.publish().await;
        stack
    }

    /// The example project with trigger rules, published to the store as `deploy` does.
    async fn publish(&self) {
        let rules = RULES.replace("GITHUB_URL", &self.github.uri());
        let store = mlgate::store::S3Store::new(self.s3.clone(), "store", "mlgate");
        publish_example(self.project.path(), &rules, Box::new(store)).await;
    }

    /// Starts the function's process against the emulator (as Lambda would, once).
    fn start_function(&mut self, extra: &[(&str, &str)]) {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_mlgate-lambda"));
        cmd.env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env(
                "AWS_LAMBDA_RUNTIME_API",
                format!("http://127.0.0.1:{}/.rt", self.apis_port),
            )
            .env("AWS_LAMBDA_FUNCTION_NAME", "_")
            .env("AWS_LAMBDA_FUNCTION_VERSION", "1")
            .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "512")
            .env("AWS_ENDPOINT_URL", &self.moto)
            .env("AWS_ACCESS_KEY_ID", "testing")
            .env("AWS_SECRET_ACCESS_KEY", "testing-secret")
            .env("AWS_REGION", REGION)
            .env("AWS_EC2_METADATA_DISABLED", "true")
            .env("MLGATE_STORE", "s3://store/mlgate")
            .env("GITHUB_TOKEN", "ghp_test_token_never_printed")
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        // An empty value removes a default (the token, for a secret-only start).
        for (k, v) in extra {
            match v.is_empty() {
                true => cmd.env_remove(k),
                false => cmd.env(k, v),
            };
        }
        self.function = Some(Proc(cmd.spawn().expect("the function starts")));
    }

    fn invoke(&self, event: &Value) -> (bool, String) {
        let out = Command::new(venv_bin("cargo-lambda"))
            .args(["lambda", "invoke", "_", "-A", "127.0.0.1", "-P"])
            .arg(self.apis_port.to_string())
            .arg("--data-ascii")
            .arg(event.to_string())
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .output()
            .unwrap();
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        (out.status.success(), text)
    }

    async fn put(&self, bucket: &str, key: &str, bytes: Vec<u8>) {
        let body = aws_sdk_s3::primitives::ByteStream::from(bytes);
        self.s3
            .put_object()
            .bucket(bucket)
            .key(key)
            .body(body)
            .send()
            .await
            .unwrap();
    }

    async fn keys(&self, bucket: &str, prefix: &str) -> Vec<String> {
        let listed = self
            .s3
            .list_objects_v2()
            .bucket(bucket)
            .prefix(prefix)
            .send()
            .await
            .unwrap();
        listed
            .contents()
            .iter()
            .filter_map(|o| o.key().map(String::from))
            .collect()
    }

    /// The function's log so far (it is stopped to read it).
    fn stop_function(&mut self) -> String {
        let Some(mut p) = self.function.take() else {
            return String::new();
        };
        let _ = p.0.kill();
        let out = std::mem::replace(&mut p.0, Command::new("true").spawn().unwrap())
            .wait_with_output()
            .unwrap();
        format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    }
}

/// GitHub answers `times` dispatches of the retrain workflow for `object` (checked when
/// the fake is dropped).
async fn expect_dispatches(github: &MockServer, object: &str, times: u64) {
    Mock::given(method("POST"))
        .and(path(DISPATCH))
        .and(body_partial_json(json!({"inputs": {"object": object}})))
        .respond_with(ResponseTemplate::new(204))
        .expect(times)
        .mount(github)
        .await;
}

/// moto accepts any credentials; these are what every test client signs with.
fn moto_credentials() -> SharedCredentialsProvider {
    SharedCredentialsProvider::new(Credentials::new(
        "testing",
        "testing-secret",
        None,
        None,
        "tests",
    ))
}

fn s3_client(url: &str) -> aws_sdk_s3::Client {
    let config = aws_sdk_s3::Config::builder()
        .http_client(mlgate::cloud::aws::https_client())
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new(REGION))
        .endpoint_url(url)
        .credentials_provider(moto_credentials())
        .force_path_style(true)
        .build();
    aws_sdk_s3::Client::from_conf(config)
}

/// An S3 notification record, the key URL-encoded as S3 sends it.
fn s3_record(encoded_key: &str, sequencer: &str) -> Value {
    json!({
        "eventVersion": "2.1", "eventSource": "aws:s3", "awsRegion": REGION,
        "eventTime": "2026-12-01T00:00:00.000Z", "eventName": "ObjectCreated:Put",
        "s3": {"s3SchemaVersion": "1.0", "bucket": {"name": "data", "arn": "arn:aws:s3:::data"},
               "object": {"key": encoded_key, "size": 1000, "eTag": "e1", "sequencer": sequencer}}
    })
}

fn eval_csv() -> Vec<u8> {
    std::fs::read(repo_root().join("examples/churn/data/eval.csv")).unwrap()
}

/// Five deliveries of one upload, whose key has a space, a plus and an accent, make one
/// dispatch with the decoded URI; an SQS batch with a poison message, a test event and a
/// transient forge failure hands back only the transient one; the token never appears in
/// the function's log.
#[tokio::test(flavor = "multi_thread")]
async fn uploads_retrain_once_and_sqs_batches_fail_partially() {
    let mut stack = Stack::start().await;
    let key = "churn/incoming/new batch+1é.csv";
    stack.put("data", key, eval_csv()).await;
    expect_dispatches(&stack.github, &format!("s3://data/{key}"), 1).await;
    stack.start_function(&[]);
    let event = json!({"Records": [s3_record("churn/incoming/new+batch%2B1%C3%A9.csv", "0A1")]});
    let mut answers = Vec::new();
    for _ in 0..5 {
        let (ok, text) = tokio::task::block_in_place(|| stack.invoke(&event));
        assert!(ok, "{text}");
        answers.push(text);
    }
    assert!(answers[0].contains("\"done\""), "{}", answers[0]);
    assert!(
        answers[1..].iter().all(|a| a.contains("\"duplicate\"")),
        "{answers:?}"
    );
    let reports = stack.keys("store", "mlgate/triggers/reports/").await;
    assert_eq!(reports.len(), 2, "{reports:?}");

    // SQS: a poison message, a test event, and an upload whose dispatch fails for now.
    stack
        .put("data", "churn/incoming/later.csv", eval_csv())
        .await;
    Mock::given(method("POST"))
        .and(path(DISPATCH))
        .respond_with(ResponseTemplate::new(502))
        .mount(&stack.github)
        .await;
    let test_event = json!({"Service": "Amazon S3", "Event": "s3:TestEvent", "Bucket": "data"});
    let later = json!({"Records": [s3_record("churn/incoming/later.csv", "0B1")]});
    let batch = json!({"Records": [
        {"messageId": "poison", "eventSource": "aws:sqs", "body": "{not json"},
        {"messageId": "test", "eventSource": "aws:sqs", "body": test_event.to_string()},
        {"messageId": "later", "eventSource": "aws:sqs", "body": later.to_string()},
    ]});
    let (ok, text) = tokio::task::block_in_place(|| stack.invoke(&batch));
    assert!(ok, "{text}");
    let answer: Value = serde_json::from_str(text.trim()).unwrap_or_else(|_| panic!("{text}"));
    assert_eq!(
        answer,
        json!({"batchItemFailures": [{"itemIdentifier": "later"}]}),
        "{text}"
    );

    let log = stack.stop_function();
    assert!(!log.contains("ghp_test_token_never_printed"), "{log}");
    // One structured line per handled notice: the four redeliveries among them.
    assert_eq!(log.matches("\"outcome\":\"Duplicate\"").count(), 4, "{log}");
}

/// A store with no published project: the function says what to do, and the events of
/// an SQS batch all go back (none is dropped).
#[tokio::test(flavor = "multi_thread")]
async fn without_a_published_project_nothing_is_dropped() {
    let mut stack = Stack::start().await;
    stack.start_function(&[("MLGATE_STORE", "s3://store/elsewhere")]);
    let batch = json!({"Records": [
        {"messageId": "m1", "eventSource": "aws:sqs",
         "body": json!({"Records": [s3_record("churn/incoming/a.csv", "01")]}).to_string()},
    ]});
    let (ok, text) = tokio::task::block_in_place(|| stack.invoke(&batch));
    assert!(ok, "{text}");
    assert!(text.contains("\"itemIdentifier\":\"m1\""), "{text}");
    let log = stack.stop_function();
    assert!(log.contains("run `mlgate deploy`"), "{log}");
}

/// The forge token read from Secrets Manager (moto) at start: the dispatch carries it,
/// the log never shows it. A secret that does not exist stops the start with its name
/// and what to check (Lambda reports a failed init and keeps the event), and no token.
#[tokio::test(flavor = "multi_thread")]
async fn the_forge_token_comes_from_secrets_manager_and_a_missing_one_is_named() {
    let mut stack = Stack::start().await;
    let secrets = secrets_client(&stack.moto);
    secrets
        .create_secret()
        .name("mlgate/forge-token")
        .secret_string(json!({"token": "ghp_from_secrets_manager"}).to_string())
        .send()
        .await
        .unwrap();
    stack.put("data", "churn/incoming/a.csv", eval_csv()).await;
    Mock::given(method("POST"))
        .and(path(DISPATCH))
        .and(header("authorization", "Bearer ghp_from_secrets_manager"))
        .respond_with(ResponseTemplate::new(204))
        .expect(1)
        .mount(&stack.github)
        .await;
    stack.start_function(&[
        ("GITHUB_TOKEN", ""),
        ("MLGATE_FORGE_TOKEN_SECRET", "mlgate/forge-token"),
    ]);
    let event = json!({"Records": [s3_record("churn/incoming/a.csv", "0S1")]});
    let (ok, text) = tokio::task::block_in_place(|| stack.invoke(&event));
    assert!(ok && text.contains("\"done\""), "{text}");
    let log = stack.stop_function();
    assert!(!log.contains("ghp_from_secrets_manager"), "{log}");

    stack.start_function(&[
        ("GITHUB_TOKEN", ""),
        ("MLGATE_FORGE_TOKEN_SECRET", "mlgate/no-such-secret"),
    ]);
    let mut function = stack.function.take().unwrap();
    let started = Instant::now();
    let status = loop {
        if let Some(status) = function.0.try_wait().unwrap() {
            break status;
        }
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "the function kept running without its token"
        );
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(!status.success());
    let mut log = String::new();
    std::io::Read::read_to_string(&mut function.0.stderr.take().unwrap(), &mut log).unwrap();
    assert!(
        log.contains("the forge token secret `mlgate/no-such-secret` cannot be read"),
        "{log}"
    );
    assert!(log.contains("secretsmanager:GetSecretValue"), "{log}");
}

fn secrets_client(url: &str) -> aws_sdk_secretsmanager::Client {
    let config = aws_sdk_secretsmanager::Config::builder()
        .http_client(mlgate::cloud::aws::https_client())
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new(REGION))
        .endpoint_url(url)
        .credentials_provider(moto_credentials())
        .build();
    aws_sdk_secretsmanager::Client::from_conf(config)
}

/// A sample event file from tests/events/ (as `sam local generate-event` makes them).
fn sample(name: &str) -> Value {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/events")
        .join(name);
    serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap()
}

/// Every shape the templates deliver, from the sample events: S3 notifications whose keys
/// hold a space (`+`), a plus (`%2B`) and UTF-8; the same upload again in SQS and in SNS in
/// SQS; EventBridge's `Object Created`, direct and in SQS; `s3:TestEvent`s; SageMaker job
/// ends for a job no upload started. Each upload dispatches exactly once with its decoded
/// key; the redeliveries are duplicates; the rest is acknowledged and ignored.
#[tokio::test(flavor = "multi_thread")]
async fn every_event_shape_aws_sends_is_handled_once() {
    let mut stack = Stack::start().await;
    // EventBridge's sample carries a version id where the S3 one has none: to mlgate they
    // are two uploads (a bucket delivers one way or the other, never both).
    let uploads = [
        ("churn/incoming/new batch.csv", 2),
        ("churn/incoming/a+b.csv", 1),
        ("churn/incoming/données-é.csv", 1),
    ];
    for (key, dispatches) in uploads {
        stack.put(EVENTS_BUCKET, key, eval_csv()).await;
        expect_dispatches(
            &stack.github,
            &format!("s3://{EVENTS_BUCKET}/{key}"),
            dispatches,
        )
        .await;
    }
    stack.start_function(&[]);
    let direct = [
        ("s3-test-event.json", "\"ignored\""),
        ("s3-put-space.json", "\"done\""),
        ("s3-put-plus.json", "\"done\""),
        ("s3-put-unicode.json", "\"done\""),
        ("eventbridge-s3-object-created.json", "\"done\""),
        (
            "eventbridge-sagemaker-training-completed.json",
            "\"ignored\"",
        ),
        ("eventbridge-sagemaker-training-failed.json", "\"ignored\""),
    ];
    for (file, outcome) in direct {
        let (ok, text) = tokio::task::block_in_place(|| stack.invoke(&sample(file)));
        assert!(ok && text.contains(outcome), "{file}: {text}");
    }
    let queued = [
        "sqs-s3.json",
        "sqs-sns-s3.json",
        "sqs-eventbridge-s3-object-created.json",
        "sqs-s3-test-event.json",
        "sqs-eventbridge-sagemaker-training-completed.json",
    ];
    for file in queued {
        let (ok, text) = tokio::task::block_in_place(|| stack.invoke(&sample(file)));
        let answer: Value =
            serde_json::from_str(text.trim()).unwrap_or_else(|_| panic!("{file}: {text}"));
        assert!(ok, "{file}: {text}");
        assert_eq!(answer, json!({"batchItemFailures": []}), "{file}");
    }
    let log = stack.stop_function();
    // The three redeliveries of an upload already handled, and nothing else.
    assert_eq!(log.matches("\"outcome\":\"Duplicate\"").count(), 3, "{log}");
    assert_eq!(log.matches("\"outcome\":\"Done\"").count(), 4, "{log}");
    let audit = stack.keys("store", "mlgate/triggers/audit/").await;
    assert_eq!(audit.len(), 4, "{audit:?}");
}

/// GitHub's primary rate limit on the dispatch (403, reset in an hour): the function does
/// not wait out the hour inside an invocation, it hands the SQS message back; the
/// redelivery, once the limit is lifted, dispatches exactly once.
#[tokio::test(flavor = "multi_thread")]
async fn a_rate_limited_dispatch_goes_back_to_the_queue_and_runs_once_later() {
    let mut stack = Stack::start().await;
    stack.put("data", "churn/incoming/a.csv", eval_csv()).await;
    let reset = (std::time::SystemTime::now() + Duration::from_secs(3600))
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    Mock::given(method("POST"))
        .and(path(DISPATCH))
        .respond_with(
            ResponseTemplate::new(403)
                .insert_header("x-ratelimit-remaining", "0")
                .insert_header("x-ratelimit-reset", reset.to_string().as_str())
                .set_body_json(json!({
                    "message": "API rate limit exceeded for installation ID 1.",
                    "documentation_url": "https://docs.github.com/rest/overview/rate-limits-for-the-rest-api"
                })),
        )
        .up_to_n_times(1)
        .expect(1)
        .mount(&stack.github)
        .await;
    let limits = json!({"limit": 5000, "used": 5000, "remaining": 0, "reset": reset});
    Mock::given(method("GET"))
        .and(path("/rate_limit"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "resources": {"core": limits, "search": limits},
            "rate": limits
        })))
        .mount(&stack.github)
        .await;
    Mock::given(method("POST"))
        .and(path(DISPATCH))
        .respond_with(ResponseTemplate::new(204))
        .expect(1)
        .mount(&stack.github)
        .await;
    stack.start_function(&[]);
    let body = json!({"Records": [s3_record("churn/incoming/a.csv", "0R1")]});
    let batch = json!({"Records": [{"messageId": "m1", "eventSource": "aws:sqs", "body": body.to_string()}]});
    let started = Instant::now();
    let (ok, text) = tokio::task::block_in_place(|| stack.invoke(&batch));
    assert!(ok, "{text}");
    assert!(text.contains("\"itemIdentifier\":\"m1\""), "{text}");
    assert!(
        started.elapsed() < Duration::from_secs(60),
        "the function waited for the rate limit's reset"
    );
    let (ok, text) = tokio::task::block_in_place(|| stack.invoke(&batch));
    assert!(ok && text.contains("\"batchItemFailures\":[]"), "{text}");
    let log = stack.stop_function();
    assert!(log.contains("rate limit"), "{log}");
}

/// The AWS template's bucket notification, put on moto's bucket as CloudFormation would
/// (tests/infra/aws-notification.py evaluates it from infra/aws/template.yaml), delivers
/// an upload through SQS to the function, which handles it: S3's own test message first,
/// then the upload, validated and dispatched once. What S3 really sends is what the
/// function parses.
#[tokio::test(flavor = "multi_thread")]
async fn an_upload_under_the_templates_notification_ends_in_a_handled_event() {
    let mut stack = Stack::start().await;
    let key = "churn/incoming/from moto+1.csv";
    expect_dispatches(&stack.github, &format!("s3://data/{key}"), 1).await;
    let python = std::env::var("MLGATE_TEST_PYTHON").expect("MLGATE_TEST_PYTHON (scripts/test)");
    let eval = repo_root().join("examples/churn/data/eval.csv");
    let out = Command::new(python)
        .arg(repo_root().join("tests/infra/aws-notification.py"))
        .args(["--deliver", &stack.moto, "data", key])
        .arg(&eval)
        .output()
        .unwrap();
    let printed = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{printed}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let event: Value = serde_json::from_str(printed.trim()).unwrap();
    stack.start_function(&[]);
    let (ok, text) = tokio::task::block_in_place(|| stack.invoke(&event));
    assert!(ok && text.contains("\"batchItemFailures\":[]"), "{text}");
    let log = stack.stop_function();
    assert!(log.contains("a test event"), "{log}");
    assert_eq!(log.matches("\"outcome\":\"Done\"").count(), 1, "{log}");
}
