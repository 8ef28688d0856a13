//! The custom handler as the Functions host runs it: this crate's binary started with
//! `FUNCTIONS_CUSTOMHANDLER_PORT`, sent `POST /<function>` with the `{Data, Metadata}`
//! payloads the host sends (Event Grid `BlobCreated` events in both schemas, as a string
//! and as an object; blob-trigger metadata), Blob Storage on Azurite with the project
//! published to it as `deploy` publishes, and GitHub's dispatch endpoint on a fake. Each
//! test says what it proves.

#[path = "../../../tests/support/azurite.rs"]
mod azurite;
#[path = "../../../tests/support/process.rs"]
mod process;
#[path = "../../../tests/support/published.rs"]
mod published;

use azurite::{account_sas, Azurite};
use mlgate::cloud::azure::{Auth, Azure};
use mlgate::store::{AzureStore, Store};
use process::{free_port, wait_for};
use published::publish_example;
use serde_json::{json, Value};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;
use wiremock::matchers::{body_partial_json, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

const DISPATCH: &str = "/repos/acme/churn/actions/workflows/mlgate-retrain.yml/dispatches";
const TOKEN: &str = "ghp_handler_token_never_printed";
const RULES: &str = "
forge: {provider: github, repository: acme/churn, url: GITHUB_URL}
triggers:
  - name: churn-incoming
    on: {bucket: data, prefix: churn/incoming/, suffix: .csv}
    model: churn
    do: [validate, retrain]
";

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The handler process, killed when dropped; its log is read once it is stopped.
struct Handler {
    child: Option<Child>,
    url: String,
}

impl Handler {
    fn start(env: &[(&str, &str)]) -> Handler {
        let port = free_port();
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_handler"));
        cmd.env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("FUNCTIONS_CUSTOMHANDLER_PORT", port.to_string())
            .env("GITHUB_TOKEN", TOKEN)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        for (k, v) in env {
            cmd.env(k, v);
        }
        let child = cmd.spawn().expect("the handler starts");
        let url = format!("http://127.0.0.1:{port}");
        // As the host does: any answer on `/` means ready.
        wait_for(port, "the handler", Duration::from_secs(30));
        Handler {
            child: Some(child),
            url,
        }
    }

    async fn invoke(&self, function: &str, body: String) -> (u16, Value) {
        let answer = reqwest::Client::new()
            .post(format!("{}/{function}", self.url))
            .header("content-type", "application/json")
            .body(body)
            .send()
            .await
            .unwrap();
        let status = answer.status().as_u16();
        (status, answer.json().await.unwrap())
    }

    /// The Event Grid trigger's invocation for one event, as the host sends it.
    async fn deliver(&self, event: Value) -> (u16, Value) {
        let payload = json!({"Data": {"event": event}, "Metadata": {}});
        self.invoke("blob-created", payload.to_string()).await
    }

    fn stop(&mut self) -> String {
        let mut child = self.child.take().unwrap();
        let _ = child.kill();
        let out = child.wait_with_output().unwrap();
        format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    }
}

impl Drop for Handler {
    fn drop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

/// Azurite with a `data` container and the example project, with trigger rules,
/// published to `az://mlgate/store` as `deploy` publishes it.
struct Stack {
    azurite: Azurite,
    sas: String,
    github: MockServer,
    data: AzureStore,
    _project: tempfile::TempDir,
}

impl Stack {
    async fn start() -> Stack {
        let azurite = Azurite::http();
        let sas = account_sas("racwdl", "2099-01-01T00:00:00Z");
        let azure = Azure::with(&azurite.endpoint, Auth::Sas(sas.clone()), None);
        for name in ["mlgate", "data"] {
            azure
                .container(name)
                .await
                .unwrap()
                .create(None)
                .await
                .unwrap();
        }
        let github = MockServer::start().await;
        let project = tempfile::tempdir().unwrap();
        let store = AzureStore::new(azure.container("mlgate").await.unwrap(), "mlgate", "store");
        let rules = RULES.replace("GITHUB_URL", &github.uri());
        publish_example(project.path(), &rules, Box::new(store)).await;
        let data = AzureStore::new(azure.container("data").await.unwrap(), "data", "");
        Stack {
            azurite,
            sas,
            github,
            data,
            _project: project,
        }
    }

    fn handler(&self) -> Handler {
        Handler::start(&[
            ("MLGATE_STORE", "az://mlgate/store"),
            ("MLGATE_AZURE_ACCOUNT_URL", &self.azurite.endpoint),
            ("AZURE_STORAGE_SAS_TOKEN", &self.sas),
        ])
    }
}

/// `BlobCreated` in Event Grid's schema, as Storage sends it for a blob.
fn blob_created(blob: &str, etag: &str, sequencer: &str) -> Value {
    json!({
        "topic": "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Storage/storageAccounts/devstoreaccount1",
        "subject": format!("/blobServices/default/containers/data/blobs/{blob}"),
        "eventType": "Microsoft.Storage.BlobCreated", "eventTime": "2026-12-01T00:00:00Z",
        "id": format!("{etag}-{sequencer}"), "dataVersion": "", "metadataVersion": "1",
        "data": {"api": "PutBlob", "eTag": etag, "contentType": "text/csv", "contentLength": 1000,
                 "blobType": "BlockBlob", "url": format!("https://devstoreaccount1.blob.core.windows.net/data/{blob}"),
                 "sequencer": sequencer}
    })
}

/// The same event in the CloudEvents 1.0 schema.
fn cloud_event(blob: &str, etag: &str, sequencer: &str) -> Value {
    let grid = blob_created(blob, etag, sequencer);
    json!({
        "specversion": "1.0", "type": "Microsoft.Storage.BlobCreated",
        "source": grid["topic"], "subject": grid["subject"], "id": grid["id"],
        "time": grid["eventTime"], "data": grid["data"]
    })
}

fn eval_csv() -> Vec<u8> {
    std::fs::read(repo_root().join("examples/churn/data/eval.csv")).unwrap()
}

/// One upload delivered five ways (Event Grid's schema as a string and as an object,
/// CloudEvents, and the blob trigger, whose ETag comes quoted) is validated and
/// dispatched once, with the decoded URI; a file that breaks the schema is copied to
/// quarantine with its reports and dispatches nothing; neither the token nor the SAS
/// appears in the log.
#[tokio::test(flavor = "multi_thread")]
async fn an_upload_retrains_once_however_delivered_and_a_bad_one_is_quarantined() {
    let stack = Stack::start().await;
    let blob = "churn/incoming/new batch+1é.csv";
    let etag = "0x8DE1F2A3B4C5D6E";
    stack.data.put(blob, &eval_csv()).await.unwrap();
    Mock::given(method("POST"))
        .and(path(DISPATCH))
        .and(body_partial_json(
            json!({"inputs": {"model": "churn", "object": format!("az://data/{blob}")}}),
        ))
        .respond_with(ResponseTemplate::new(204))
        .expect(1)
        .mount(&stack.github)
        .await;
    let mut handler = stack.handler();
    let grid = blob_created(blob, etag, "0001");
    let trigger_metadata = json!({
        "Uri": format!("{}/data/churn/incoming/new%20batch%2B1%C3%A9.csv", stack.azurite.endpoint),
        "name": blob, "Properties": {"ETag": format!("\"{etag}\""), "ContentLength": 1000}
    });
    let deliveries = [
        (
            "blob-created",
            json!({"Data": {"event": grid.to_string()}, "Metadata": {}}),
        ),
        (
            "blob-created",
            json!({"Data": {"event": grid}, "Metadata": {}}),
        ),
        (
            "blob-created",
            json!({"Data": {"event": cloud_event(blob, etag, "0001")}, "Metadata": {}}),
        ),
        (
            "blob-uploaded",
            json!({"Data": {"blob": "aWdub3JlZA=="}, "Metadata": trigger_metadata}),
        ),
        (
            "blob-created",
            json!({"Data": {"event": grid.to_string()}, "Metadata": {}}),
        ),
    ];
    let mut outcomes = Vec::new();
    for (function, payload) in deliveries {
        let (status, answer) = handler.invoke(function, payload.to_string()).await;
        assert_eq!(status, 200, "{answer}");
        outcomes.push(answer["ReturnValue"]["handled"][0]["outcome"].clone());
    }
    assert_eq!(outcomes[0], "done", "{outcomes:?}");
    assert!(
        outcomes[1..].iter().all(|o| o == "duplicate"),
        "{outcomes:?}"
    );

    let bad = String::from_utf8(eval_csv())
        .unwrap()
        .replacen(",yes\n", ",perhaps\n", 3);
    stack
        .data
        .put("churn/incoming/bad.csv", bad.as_bytes())
        .await
        .unwrap();
    let event = blob_created("churn/incoming/bad.csv", "0x8DE1F2A3B4C5D6F", "0002");
    let (status, answer) = handler.deliver(event).await;
    assert_eq!(status, 200, "{answer}");
    let record = &answer["ReturnValue"]["handled"][0];
    assert_eq!(record["outcome"], "quarantined", "{answer}");
    let detail = record["detail"].as_str().unwrap();
    let copied = detail
        .split("copied to az://data/")
        .nth(1)
        .and_then(|s| s.split(' ').next())
        .unwrap_or_else(|| panic!("{detail}"));
    assert_eq!(
        stack.data.get(copied).await.unwrap().unwrap(),
        bad.as_bytes()
    );
    let report = stack
        .data
        .get(&format!("{copied}.report.md"))
        .await
        .unwrap()
        .unwrap();
    assert!(String::from_utf8_lossy(&report).contains("perhaps"));
    assert!(stack
        .data
        .get("churn/incoming/bad.csv")
        .await
        .unwrap()
        .is_some());

    let log = handler.stop();
    let sig = stack.sas.split("sig=").nth(1).unwrap();
    assert!(!log.contains(TOKEN) && !log.contains(sig), "{log}");
}

/// What the handler cannot act on is answered, not dropped or retried forever: a body
/// that is not JSON, a function it does not serve, an Event Grid validation handshake
/// (the host answers those itself) and a deletion are acknowledged with what they were;
/// a blob deleted before it is read is a recorded failure.
#[tokio::test(flavor = "multi_thread")]
async fn malformed_payloads_and_other_events_are_acknowledged() {
    let stack = Stack::start().await;
    let handler = stack.handler();
    let (status, answer) = handler.invoke("blob-created", "{not json".into()).await;
    assert_eq!(status, 200);
    assert!(answer["ReturnValue"]["failed"]
        .as_str()
        .unwrap()
        .contains("not JSON"));
    let (status, answer) = handler
        .invoke("elsewhere", json!({"Data": {}}).to_string())
        .await;
    assert_eq!(status, 200);
    assert!(answer["Logs"][0]
        .as_str()
        .unwrap()
        .contains("no function `elsewhere`"));
    let handshake = json!({"eventType": "Microsoft.EventGrid.SubscriptionValidationEvent",
        "subject": "", "data": {"validationCode": "512d38b6-c7b8-40c8-89fe-f46f9e9622b6"}});
    let deleted = json!({"eventType": "Microsoft.Storage.BlobDeleted",
        "subject": "/blobServices/default/containers/data/blobs/churn/incoming/x.csv", "data": {}});
    for event in [handshake, deleted] {
        let (status, answer) = handler.deliver(event).await;
        assert_eq!(status, 200, "{answer}");
        assert_eq!(
            answer["ReturnValue"]["handled"][0]["outcome"], "ignored",
            "{answer}"
        );
    }
    let gone = blob_created("churn/incoming/gone.csv", "0x1", "0003");
    let (status, answer) = handler.deliver(gone).await;
    assert_eq!(status, 200, "{answer}");
    let record = &answer["ReturnValue"]["handled"][0];
    assert_eq!(record["outcome"], "failed", "{answer}");
    assert!(
        record["detail"]
            .as_str()
            .unwrap()
            .contains("no such object"),
        "{answer}"
    );
}

/// An identity without a data role on the store (Azure answers 403
/// AuthorizationPermissionMismatch; Azurite grants every role, so a fake account answers
/// here): the invocation fails so Event Grid keeps the event, and the log says which
/// role to assign.
#[tokio::test(flavor = "multi_thread")]
async fn a_missing_role_fails_the_invocation_and_names_the_role() {
    let storage = MockServer::start().await;
    Mock::given(wiremock::matchers::any())
        .respond_with(
            ResponseTemplate::new(403)
                .insert_header("x-ms-error-code", "AuthorizationPermissionMismatch")
                .set_body_string("<?xml version=\"1.0\" encoding=\"utf-8\"?><Error><Code>AuthorizationPermissionMismatch</Code><Message>This request is not authorized to perform this operation using this permission.</Message></Error>"),
        )
        .mount(&storage)
        .await;
    let mut handler = Handler::start(&[
        ("MLGATE_STORE", "az://mlgate/store"),
        (
            "MLGATE_AZURE_ACCOUNT_URL",
            &format!("{}/acme", storage.uri()),
        ),
        ("AZURE_STORAGE_SAS_TOKEN", "sv=2020-12-06&sig=secretsig"),
    ]);
    let event = blob_created("churn/incoming/a.csv", "0x1", "0001");
    let (status, _) = handler.deliver(event).await;
    assert_eq!(status, 500);
    let log = handler.stop();
    assert!(log.contains("AuthorizationPermissionMismatch"), "{log}");
    assert!(log.contains("Storage Blob Data Contributor"), "{log}");
    assert!(!log.contains("secretsig"), "{log}");
}
