//! Upload triggers through the engine entry point the functions call: deliveries as S3,
//! SQS and EventBridge send them, an S3 bucket on moto, GitHub's dispatch endpoint on a
//! fake. Each test says what it proves.

use crate::aws_support::{self, start_moto, REGION};
use crate::common::{example_repo, walk, EXAMPLE_CONFIG};
use crate::forge_support::remote;
use mlgate::cloud::aws::Aws;
use mlgate::cloud::Cloud;
use mlgate::config::Project;
use mlgate::forge::GitHub;
use mlgate::trigger::{self, Outcome};
use mlgate::Ctx;
use serde_json::{json, Value};
use std::path::Path;
use std::sync::Arc;
use wiremock::matchers::{body_partial_json, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

const RULES: &str = "
triggers:
  - name: churn-incoming
    on: {bucket: data, prefix: churn/incoming/, suffix: .csv}
    model: churn
    do: [validate, retrain]
";

// The moto helpers run their own runtime: off this test's.
fn create_bucket(url: &str, bucket: &str) {
    tokio::task::block_in_place(|| aws_support::create_bucket(url, bucket))
}

fn put_object(url: &str, uri: &str, bytes: Vec<u8>) {
    tokio::task::block_in_place(|| aws_support::put_object(url, uri, bytes))
}

fn get_object(url: &str, uri: &str) -> Option<Vec<u8>> {
    tokio::task::block_in_place(|| aws_support::get_object(url, uri))
}

const DISPATCH: &str = "/repos/acme/churn/actions/workflows/mlgate-retrain.yml/dispatches";

fn cloud(moto: &str) -> Cloud {
    use aws_config::{BehaviorVersion, Region, SdkConfig};
    use aws_sdk_s3::config::{Credentials, SharedCredentialsProvider};
    let credentials = Credentials::new("testing", "secret", None, None, "t");
    let config = SdkConfig::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new(REGION))
        .endpoint_url(moto)
        .credentials_provider(SharedCredentialsProvider::new(credentials))
        .http_client(mlgate::cloud::aws::https_client())
        .build();
    Cloud::with_aws(Aws::from_config(config, true))
}

async fn context(root: &Path, moto: &str, github: &str) -> Ctx {
    let config = root.join(EXAMPLE_CONFIG);
    let text = std::fs::read_to_string(&config).unwrap() + RULES;
    std::fs::write(&config, text).unwrap();
    let project = Project::load(&config).unwrap();
    Ctx::builder(project)
        .out(root.join("out"))
        .forge(Arc::new(GitHub::new(remote(github, "acme/churn")).unwrap()))
        .cloud(cloud(moto))
        .build()
        .await
        .unwrap()
}

/// An S3 notification for one upload, its key URL-encoded as S3 sends it.
fn s3_event(encoded_key: &str, sequencer: &str) -> Value {
    json!({"Records": [{
        "eventVersion": "2.1", "eventSource": "aws:s3", "awsRegion": REGION,
        "eventTime": "2026-12-01T00:00:00.000Z", "eventName": "ObjectCreated:Put",
        "s3": {"s3SchemaVersion": "1.0", "bucket": {"name": "data", "arn": "arn:aws:s3:::data"},
               "object": {"key": encoded_key, "size": 1000, "eTag": "e1", "sequencer": sequencer}}
    }]})
}

fn sqs(bodies: &[(&str, String)]) -> Value {
    let records: Vec<Value> = bodies
        .iter()
        .map(|(id, body)| json!({"messageId": id, "eventSource": "aws:sqs", "body": body}))
        .collect();
    json!({"Records": records})
}

fn example_eval(root: &Path) -> Vec<u8> {
    std::fs::read(root.join("examples/churn/data/eval.csv")).unwrap()
}

/// Five deliveries of one upload (a key with spaces and a plus, as S3 encodes it) make
/// one validation report and one dispatch; the workflow gets the decoded object URI.
#[tokio::test(flavor = "multi_thread")]
async fn five_deliveries_of_one_upload_dispatch_once() {
    let moto = start_moto();
    create_bucket(&moto.url, "data");
    let (_dir, root) = example_repo();
    put_object(
        &moto.url,
        "s3://data/churn/incoming/new batch+1.csv",
        example_eval(&root),
    );
    let github = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(DISPATCH))
        .and(body_partial_json(json!({"ref": "main", "inputs": {
            "model": "churn", "object": "s3://data/churn/incoming/new batch+1.csv"}})))
        .respond_with(ResponseTemplate::new(204))
        .expect(2)
        .mount(&github)
        .await;
    let ctx = context(&root, &moto.url, &github.uri()).await;
    let event = s3_event("churn/incoming/new+batch%2B1.csv", "0A1");
    let mut outcomes = Vec::new();
    for _ in 0..5 {
        let handled = trigger::handle(&ctx, &trigger::parse(&event)).await;
        outcomes.push(handled[0].records[0].outcome);
    }
    assert_eq!(outcomes[0], Outcome::Done, "{outcomes:?}");
    assert!(
        outcomes[1..].iter().all(|o| *o == Outcome::Duplicate),
        "{outcomes:?}"
    );
    let store = root.join("examples/churn/.mlgate/store/triggers");
    let reports: Vec<_> = walk(&store.join("reports"));
    assert_eq!(
        reports.len(),
        2,
        "one Markdown and one JSON report: {reports:?}"
    );
    let audit = walk(&store.join("audit"));
    assert_eq!(audit.len(), 1, "{audit:?}");
    let record: Value = serde_json::from_slice(&std::fs::read(&audit[0]).unwrap()).unwrap();
    assert_eq!(record["actions"][1]["outcome"], "dispatched", "{record}");
    // A new upload of the same key (a later sequencer) is a new event: the second of
    // the two dispatches the fake expects.
    let again = s3_event("churn/incoming/new+batch%2B1.csv", "0A2");
    let next = trigger::handle(&ctx, &trigger::parse(&again)).await;
    assert_eq!(next[0].records[0].outcome, Outcome::Done);
}

/// A file that breaks the schema is copied to quarantine with its reports; the original
/// stays; nothing is dispatched.
#[tokio::test(flavor = "multi_thread")]
async fn a_bad_file_is_quarantined_and_nothing_retrains() {
    let moto = start_moto();
    create_bucket(&moto.url, "data");
    let (_dir, root) = example_repo();
    let bad = String::from_utf8(example_eval(&root))
        .unwrap()
        .replacen(",yes\n", ",perhaps\n", 3);
    put_object(
        &moto.url,
        "s3://data/churn/incoming/bad.csv",
        bad.clone().into_bytes(),
    );
    let github = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(204))
        .expect(0)
        .mount(&github)
        .await;
    let ctx = context(&root, &moto.url, &github.uri()).await;
    let handled = trigger::handle(
        &ctx,
        &trigger::parse(&s3_event("churn/incoming/bad.csv", "01")),
    )
    .await;
    let record = &handled[0].records[0];
    assert_eq!(record.outcome, Outcome::Quarantined, "{record:?}");
    assert!(!handled[0].retry);
    let id = match &record.notice {
        trigger::Notice::Created(o) => o.identity(),
        other => panic!("{other:?}"),
    };
    let quarantined = format!("s3://data/churn/quarantine/{id}/bad.csv");
    assert_eq!(get_object(&moto.url, &quarantined).unwrap(), bad.as_bytes());
    let report =
        String::from_utf8(get_object(&moto.url, &format!("{quarantined}.report.md")).unwrap())
            .unwrap();
    assert!(report.contains("perhaps"), "{report}");
    assert!(get_object(&moto.url, &format!("{quarantined}.report.json")).is_some());
    assert_eq!(
        get_object(&moto.url, "s3://data/churn/incoming/bad.csv").unwrap(),
        bad.as_bytes()
    );
}

/// An SQS batch: a poison message (not JSON), an object deleted before it was read, a
/// test event, an upload no rule matches and a dispatch the forge refuses for now (502).
/// Only the transient failure goes back for a retry; the rest are recorded and
/// acknowledged, none of them stops the others.
#[tokio::test(flavor = "multi_thread")]
async fn an_sqs_batch_hands_back_only_its_transient_failures() {
    let moto = start_moto();
    create_bucket(&moto.url, "data");
    let (_dir, root) = example_repo();
    put_object(
        &moto.url,
        "s3://data/churn/incoming/ok.csv",
        example_eval(&root),
    );
    let github = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(DISPATCH))
        .respond_with(ResponseTemplate::new(502))
        .mount(&github)
        .await;
    let ctx = context(&root, &moto.url, &github.uri()).await;
    let test_event = json!({"Service": "Amazon S3", "Event": "s3:TestEvent", "Bucket": "data"});
    let event = sqs(&[
        ("poison", "{not json".into()),
        (
            "gone",
            s3_event("churn/incoming/deleted.csv", "01").to_string(),
        ),
        ("test", test_event.to_string()),
        ("other", s3_event("elsewhere/x.csv", "01").to_string()),
        ("busy", s3_event("churn/incoming/ok.csv", "01").to_string()),
    ]);
    let handled = trigger::handle(&ctx, &trigger::parse(&event)).await;
    let by_id = |id: &str| {
        handled
            .iter()
            .find(|h| h.id.as_deref() == Some(id))
            .unwrap()
    };
    assert_eq!(by_id("poison").records[0].outcome, Outcome::Failed);
    let gone = &by_id("gone").records[0];
    assert_eq!(gone.outcome, Outcome::Failed);
    assert!(gone.detail.contains("no such object"), "{}", gone.detail);
    assert_eq!(by_id("test").records[0].outcome, Outcome::Ignored);
    assert!(by_id("other").records[0].detail.contains("no rule matches"));
    assert_eq!(by_id("busy").records[0].outcome, Outcome::Retry);
    assert_eq!(trigger::failed_ids(&handled), ["busy"]);
}
