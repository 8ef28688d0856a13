//! The function as Lambda runs it: this crate's binary against cargo-lambda's Runtime API
//! emulator (`cargo lambda watch --only-lambda-apis`), invoked with `cargo lambda invoke`
//! on events of the shapes AWS sends, with S3 on moto, the project published to it as
//! `deploy` publishes, and GitHub's dispatch endpoint on a fake that counts calls. Each
//! test says what it proves.

use aws_sdk_s3::config::{BehaviorVersion, Credentials, Region, SharedCredentialsProvider};
use serde_json::{json, Value};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};
use wiremock::matchers::{body_partial_json, method, path};
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
";

/// A child process killed when dropped.
struct Proc(Child);

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn wait_for(port: u16, what: &str) {
    let started = Instant::now();
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "{what} did not start within 60 s"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// A tool from the test venv (scripts/test installs moto and cargo-lambda there).
fn venv_bin(name: &str) -> PathBuf {
    let python = std::env::var("MLGATE_TEST_PYTHON").expect(
        "MLGATE_TEST_PYTHON is not set: run the tests through scripts/test, which installs moto and cargo-lambda",
    );
    let bin = PathBuf::from(python).with_file_name(name);
    assert!(
        bin.is_file(),
        "{} is missing: run scripts/test",
        bin.display()
    );
    bin
}

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
        wait_for(port, "moto");
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
        wait_for(apis_port, "cargo lambda watch");
        let github = MockServer::start().await;
        let s3 = s3_client(&moto_url);
        for bucket in ["data", "store"] {
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
        let root = self.project.path();
        copy_dir(&repo_root().join("examples/churn"), root);
        let config = root.join("mlgate.yaml");
        let rules = RULES.replace("GITHUB_URL", &self.github.uri());
        let text = std::fs::read_to_string(&config).unwrap() + &rules;
        std::fs::write(&config, text).unwrap();
        let project = mlgate::config::Project::load(&config).unwrap();
        let store = mlgate::store::S3Store::new(self.s3.clone(), "store", "mlgate");
        let ctx = mlgate::Ctx::builder(project)
            .store(Box::new(store))
            .repo(std::sync::Arc::new(mlgate::repo::Folder {
                root: root.to_path_buf(),
            }))
            .build()
            .await
            .unwrap();
        assert!(mlgate::published::publish(&ctx).await.unwrap());
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
        for (k, v) in extra {
            cmd.env(k, v);
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

fn s3_client(url: &str) -> aws_sdk_s3::Client {
    let config = aws_sdk_s3::Config::builder()
        .http_client(mlgate::cloud::aws::https_client())
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new(REGION))
        .endpoint_url(url)
        .credentials_provider(SharedCredentialsProvider::new(Credentials::new(
            "testing",
            "testing-secret",
            None,
            None,
            "tests",
        )))
        .force_path_style(true)
        .build();
    aws_sdk_s3::Client::from_conf(config)
}

fn copy_dir(from: &Path, to: &Path) {
    for entry in std::fs::read_dir(from).unwrap().flatten() {
        let target = to.join(entry.file_name());
        if entry.path().is_dir() {
            if entry.file_name() == ".mlgate" {
                continue;
            }
            std::fs::create_dir_all(&target).unwrap();
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
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
    Mock::given(method("POST"))
        .and(path(DISPATCH))
        .and(body_partial_json(
            json!({"inputs": {"object": format!("s3://data/{key}")}}),
        ))
        .respond_with(ResponseTemplate::new(204))
        .expect(1)
        .mount(&stack.github)
        .await;
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
