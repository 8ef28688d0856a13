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
    context_with(root, moto, github, RULES).await
}

async fn context_with(root: &Path, moto: &str, github: &str, rules: &str) -> Ctx {
    let config = root.join(EXAMPLE_CONFIG);
    let text = std::fs::read_to_string(&config).unwrap() + rules;
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

/// `debounce_minutes`: in one window only the first new file that gets its dispatch
/// through retrains; a refused dispatch (422) frees the window for the next file, and a
/// file after the window's retraining is recorded as debounced, with no dispatch. (The
/// window is ~2 years long, so the test never straddles two.)
#[tokio::test(flavor = "multi_thread")]
async fn a_debounced_rule_retrains_once_per_window() {
    let moto = start_moto();
    create_bucket(&moto.url, "data");
    let (_dir, root) = example_repo();
    for name in ["a", "b", "c"] {
        let uri = format!("s3://data/churn/incoming/{name}.csv");
        put_object(&moto.url, &uri, example_eval(&root));
    }
    let github = MockServer::start().await;
    let sent = |name: &str| {
        body_partial_json(
            json!({"inputs": {"object": format!("s3://data/churn/incoming/{name}.csv")}}),
        )
    };
    Mock::given(method("POST"))
        .and(path(DISPATCH))
        .and(sent("a"))
        .respond_with(ResponseTemplate::new(422).set_body_json(
            json!({"message": "Workflow does not have 'workflow_dispatch' trigger"}),
        ))
        .expect(1)
        .mount(&github)
        .await;
    Mock::given(method("POST"))
        .and(path(DISPATCH))
        .and(sent("b"))
        .respond_with(ResponseTemplate::new(204))
        .expect(1)
        .mount(&github)
        .await;
    let rules = RULES.replace(
        "do: [validate, retrain]",
        "do: [validate, retrain]\n    retrain: {debounce_minutes: 1000000}",
    );
    let ctx = context_with(&root, &moto.url, &github.uri(), &rules).await;
    let mut results = Vec::new();
    for (name, sequencer) in [("a", "0B1"), ("b", "0B2"), ("c", "0B3")] {
        let event = s3_event(&format!("churn/incoming/{name}.csv"), sequencer);
        let handled = trigger::handle(&ctx, &trigger::parse(&event)).await;
        let record = handled[0].records[0].clone();
        let retrain = record.actions.last().map(|a| a.outcome.clone());
        results.push((record.outcome, retrain, record.detail));
    }
    assert_eq!(results[0].0, Outcome::Failed, "{results:?}");
    assert_eq!(results[1].0, Outcome::Done, "{results:?}");
    assert_eq!(results[1].1.as_deref(), Some("dispatched"), "{results:?}");
    assert_eq!(results[2].0, Outcome::Done, "{results:?}");
    assert_eq!(results[2].1.as_deref(), Some("debounced"), "{results:?}");
    assert!(
        results[2].2.contains("s3://data/churn/incoming/b.csv"),
        "{results:?}"
    );
}

/// A file that breaks the schema is copied to quarantine (server-side, its key's space,
/// plus and accent intact) with its reports; the original stays; nothing is dispatched.
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
        "s3://data/churn/incoming/bad 1+1 é.csv",
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
        &trigger::parse(&s3_event("churn/incoming/bad+1%2B1+%C3%A9.csv", "01")),
    )
    .await;
    let record = &handled[0].records[0];
    assert_eq!(record.outcome, Outcome::Quarantined, "{record:?}");
    assert!(!handled[0].retry);
    let id = match &record.notice {
        trigger::Notice::Created(o) => o.identity(),
        other => panic!("{other:?}"),
    };
    let quarantined = format!("s3://data/churn/quarantine/{id}/bad 1+1 é.csv");
    assert_eq!(get_object(&moto.url, &quarantined).unwrap(), bad.as_bytes());
    let report =
        String::from_utf8(get_object(&moto.url, &format!("{quarantined}.report.md")).unwrap())
            .unwrap();
    assert!(report.contains("perhaps"), "{report}");
    assert!(get_object(&moto.url, &format!("{quarantined}.report.json")).is_some());
    assert_eq!(
        get_object(&moto.url, "s3://data/churn/incoming/bad 1+1 é.csv").unwrap(),
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

/// An EventBridge training-job state change, as SageMaker sends it.
fn job_event(job: &str, status: &str) -> Value {
    json!({
        "version": "0", "id": format!("{job}-{status}"), "source": "aws.sagemaker",
        "detail-type": "SageMaker Training Job State Change", "region": REGION,
        "detail": {"TrainingJobName": job, "TrainingJobStatus": status}
    })
}

/// `retrain: {via: sagemaker}` as a function runs it: five deliveries of an upload start
/// one training job and return; an in-progress event changes nothing; the completion
/// event (twice) records the candidate, compares it with production and opens one
/// promotion pull request through GitHub's API; another job's failure is not ours. Then,
/// with that SageMaker-trained version in production, a new batch starts one transform
/// job on the object where it lies, its predictions under the rule's prefix.
#[tokio::test(flavor = "multi_thread")]
async fn an_upload_retrains_on_sagemaker_and_its_completion_proposes_the_candidate() {
    use crate::aws::{sagemaker_project, trained_artifact, BUCKET};
    use crate::forge_support::{mount_base_with, mount_new_branch, mount_new_pull_request};
    let moto = start_moto();
    create_bucket(&moto.url, "data");
    create_bucket(&moto.url, BUCKET);
    let (_dir, root) = example_repo();
    tokio::task::block_in_place(|| sagemaker_project(&root, &moto.url));
    // No checkout where the function runs: the training data is in S3.
    let train = std::fs::read(root.join("examples/churn/data/train.csv")).unwrap();
    put_object(&moto.url, "s3://data/churn/train.csv", train);
    put_object(
        &moto.url,
        "s3://data/churn/incoming/new.csv",
        example_eval(&root),
    );
    let config = root.join(EXAMPLE_CONFIG);
    let text = std::fs::read_to_string(&config)
        .unwrap()
        .replace("train: data/train.csv", "train: s3://data/churn/train.csv")
        + "triggers:
  - name: churn-retrain
    on: {bucket: data, prefix: churn/incoming/}
    model: churn
    do: [validate, retrain]
    retrain: {via: sagemaker}
  - name: churn-score
    on: {bucket: data, prefix: churn/score/}
    model: churn
    do: batch-transform
";
    std::fs::write(&config, text).unwrap();
    let github = MockServer::start().await;
    mount_base_with(&github, "examples/churn/models/churn/production.yaml").await;
    mount_new_branch(&github).await;
    mount_new_pull_request(&github, false).await;
    let project = Project::load(&config).unwrap();
    let ctx = Ctx::builder(project)
        .out(root.join("out"))
        .forge(Arc::new(GitHub::new(remote(&github.uri(), "o/r")).unwrap()))
        .cloud(cloud(&moto.url))
        .build()
        .await
        .unwrap();
    let handle = |event: Value| {
        let ctx = &ctx;
        async move { trigger::handle(ctx, &trigger::parse(&event)).await }
    };

    let upload = s3_event("churn/incoming/new.csv", "0C1");
    let first = handle(upload.clone()).await;
    let record = &first[0].records[0];
    assert_eq!(record.outcome, Outcome::Done, "{record:?}");
    assert_eq!(record.actions[1].outcome, "started", "{record:?}");
    for _ in 0..4 {
        let again = handle(upload.clone()).await;
        assert_eq!(again[0].records[0].outcome, Outcome::Duplicate);
    }
    let jobs = tokio::task::block_in_place(|| {
        aws_support::runtime().block_on(async {
            aws_support::sagemaker(&moto.url)
                .list_training_jobs()
                .send()
                .await
                .unwrap()
        })
    });
    assert_eq!(jobs.training_job_summaries().len(), 1, "one job");
    let job = jobs.training_job_summaries()[0]
        .training_job_name()
        .unwrap()
        .to_string();
    assert!(record.actions[1].detail.contains(&job), "{record:?}");

    let running = handle(job_event(&job, "InProgress")).await;
    assert_eq!(running[0].records[0].outcome, Outcome::Ignored);
    // The container's output appears, then SageMaker says the job completed.
    let started: Value = serde_json::from_slice(
        &get_object(
            &moto.url,
            &format!("s3://{BUCKET}/mlgate/triggers/sagemaker/{job}.json"),
        )
        .unwrap(),
    )
    .unwrap();
    let output = started["started"]["output"].as_str().unwrap();
    let artifact = format!("{}/{job}/output/model.tar.gz", output.trim_end_matches('/'));
    put_object(&moto.url, &artifact, trained_artifact(0.83));
    let done = handle(job_event(&job, "Completed")).await;
    let record = &done[0].records[0];
    assert_eq!(record.outcome, Outcome::Done, "{record:#?}");
    let steps: Vec<_> = record
        .actions
        .iter()
        .map(|a| (a.action, a.outcome.as_str()))
        .collect();
    assert_eq!(
        steps,
        [
            ("train", "passed"),
            ("compare", "passed"),
            ("promote", "passed")
        ],
        "{record:#?}"
    );
    let again = handle(job_event(&job, "Completed")).await;
    assert_eq!(again[0].records[0].outcome, Outcome::Duplicate);
    let promote = get_object(
        &moto.url,
        &format!("s3://{BUCKET}/mlgate/triggers/reports/sagemaker/{job}/promote.md"),
    )
    .unwrap();
    assert!(String::from_utf8_lossy(&promote).contains("mlgate/promote/churn"));
    let other = handle(job_event("someone-elses-job", "Failed")).await;
    let other = &other[0].records[0];
    assert_eq!(other.outcome, Outcome::Ignored);
    assert!(other.detail.contains("not started by an mlgate trigger"));

    // The merge and deploy, as the function sees them: the pointer names the candidate.
    let candidate = std::fs::read_to_string(root.join("out/churn/candidate.json"))
        .ok()
        .and_then(|t| serde_json::from_str::<Value>(&t).ok())
        .and_then(|c| c["version"].as_str().map(String::from))
        .expect("train recorded the candidate");
    std::fs::write(
        root.join("examples/churn/models/churn/production.yaml"),
        format!("model: churn\nversion: {candidate}\n"),
    )
    .unwrap();
    put_object(
        &moto.url,
        "s3://data/churn/score/batch 1.csv",
        example_eval(&root),
    );
    let score = s3_event("churn/score/batch+1.csv", "0D1");
    let scored = handle(score.clone()).await;
    let record = &scored[0].records[0];
    assert_eq!(record.outcome, Outcome::Done, "{record:#?}");
    assert_eq!(record.actions[0].outcome, "started", "{record:#?}");
    assert!(
        record.actions[0]
            .detail
            .contains("s3://data/churn/predictions/"),
        "{record:#?}"
    );
    let again = handle(score).await;
    assert_eq!(again[0].records[0].outcome, Outcome::Duplicate);
    let transforms = tokio::task::block_in_place(|| {
        aws_support::runtime().block_on(async {
            aws_support::sagemaker(&moto.url)
                .list_transform_jobs()
                .send()
                .await
                .unwrap()
        })
    });
    assert_eq!(
        transforms.transform_job_summaries().len(),
        1,
        "one transform job"
    );
}
