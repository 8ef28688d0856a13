//! The GitHub forge: every request validated by Prism against GitHub's OpenAPI
//! description, and stateful flows against wiremock answering with the description's own
//! response examples.

use crate::forge_support::{
    example, git_ref, json_response, mount_base, mount_new_branch, mount_new_pull_request, npm,
    remote, spec_path, SHA, TOKEN,
};
use mlgate::forge::{
    sticky_marker, ApiRepo, CommentStatus, Dispatch, Forge, GitHub, Proposal, ProposalStatus,
    Sticky, Verdict,
};
use mlgate::repo::Repo;
use serde_json::{json, Value};
use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};
use wiremock::matchers::{body_partial_json, method, path, query_param};
use wiremock::{Mock, MockServer, ResponseTemplate};

/// Prism, killed when dropped.
struct Prism {
    child: Child,
    url: String,
}

impl Drop for Prism {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start_prism() -> Prism {
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let bin = npm(".bin/prism");
    let child = Command::new(bin)
        .args(["mock", "-h", "127.0.0.1", "-p", &port.to_string()])
        .arg(spec_path())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("prism starts");
    let prism = Prism {
        child,
        url: format!("http://127.0.0.1:{port}"),
    };
    let started = Instant::now();
    while !answers_http(port) {
        assert!(
            started.elapsed() < Duration::from_secs(180),
            "Prism did not start within 180 s"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    eprintln!("Prism ready after {:.1} s", started.elapsed().as_secs_f64());
    prism
}

/// Prism accepts connections a while before it answers them: wait for an HTTP answer.
fn answers_http(port: u16) -> bool {
    use std::io::{Read, Write};
    let Ok(mut stream) = std::net::TcpStream::connect(("127.0.0.1", port)) else {
        return false;
    };
    let _ = stream.set_read_timeout(Some(Duration::from_secs(5)));
    let mut head = [0u8; 5];
    stream
        .write_all(b"GET /zen HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n")
        .is_ok()
        && stream.read_exact(&mut head).is_ok()
        && &head == b"HTTP/"
}

fn sticky(body: &str) -> Sticky {
    Sticky {
        key: "churn".into(),
        marker: sticky_marker("churn"),
        body: format!("{}\n{body}", sticky_marker("churn")),
    }
}

fn verdict(passed: bool) -> Verdict {
    Verdict {
        name: "mlgate/churn".into(),
        passed,
        title: "`churn` passed compare".into(),
        summary: "| metric | value |\n|---|---|\n| roc_auc | 0.81 |".into(),
        details_url: Some("https://github.com/o/r/actions/runs/1".into()),
    }
}

fn proposal(branch: &str) -> Proposal {
    Proposal {
        branch: branch.into(),
        title: "Promote churn to 52b8b92c40c5be29".into(),
        body: "gate table".into(),
        files: vec![(
            "models/churn/production.yaml".into(),
            "model: churn\nversion: 52b8b92c40c5be29\n".into(),
        )],
    }
}

/// Every call the forge makes is validated by Prism: a request that does not match
/// GitHub's schema gets a 422, which fails the call and so this test.
#[tokio::test(flavor = "multi_thread")]
async fn every_request_is_valid_against_githubs_openapi_description() {
    let prism = start_prism();
    let forge = GitHub::new(remote(&prism.url, "octocat/hello-world")).unwrap();
    let comment = forge.upsert_comment(1347, &sticky("report")).await;
    assert!(comment.is_ok(), "comment: {comment:?}");
    let status = forge.set_status(SHA, &verdict(true)).await;
    assert!(status.is_ok(), "status: {status:?}");
    // `propose` is not sent here: it starts by reading `git/ref/heads/<base>`, and Prism
    // cannot route a `{ref}` that holds a slash (GitHub can). The wiremock tests below
    // cover it with the description's own examples.
    let tag = forge
        .create_deploy_tag("churn", 3, "52b8b92c40c5be29")
        .await;
    assert!(tag.is_ok(), "tag: {tag:?}");
    // An upload trigger's retraining: a workflow_dispatch with the object as an input.
    let dispatch = Dispatch {
        workflow: "mlgate-retrain.yml".into(),
        git_ref: "main".into(),
        inputs: [
            ("model", "churn"),
            ("object", "s3://data/churn/incoming/a b.csv"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect(),
    };
    let dispatched = forge.dispatch(&dispatch).await;
    assert!(dispatched.is_ok(), "dispatch: {dispatched:?}");
    // The repository read through the API, as runs without a checkout do.
    let repo = ApiRepo(std::sync::Arc::new(forge));
    let file = repo.read("README.md", Some(SHA)).await;
    assert!(file.is_ok(), "read: {file:?}");
    let history = repo.history("README.md", 5).await;
    assert!(
        history.as_ref().is_ok_and(|h| !h.is_empty()),
        "history: {history:?}"
    );
}

fn comment_with(id: u64, body: &str) -> Value {
    let mut c = example("issue-comment");
    c["id"] = id.into();
    c["body"] = body.into();
    c
}

#[tokio::test]
async fn the_marked_comment_is_updated_in_place_and_duplicates_removed() {
    let server = MockServer::start().await;
    let ours = sticky("new report");
    let old = format!("{}\nold report", sticky_marker("churn"));
    Mock::given(method("GET"))
        .and(path("/repos/o/r/issues/5/comments"))
        .respond_with(json_response(
            200,
            json!([
                comment_with(1, "LGTM"),
                comment_with(2, &old),
                comment_with(3, &old)
            ]),
        ))
        .mount(&server)
        .await;
    Mock::given(method("PATCH"))
        .and(path("/repos/o/r/issues/comments/2"))
        .and(body_partial_json(json!({ "body": ours.body })))
        .respond_with(json_response(200, comment_with(2, &ours.body)))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("DELETE"))
        .and(path("/repos/o/r/issues/comments/3"))
        .respond_with(ResponseTemplate::new(204))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/repos/o/r/issues/5/comments"))
        .respond_with(json_response(201, comment_with(9, "")))
        .expect(0)
        .mount(&server)
        .await;
    let forge = GitHub::new(remote(&server.uri(), "o/r")).unwrap();
    let outcome = forge.upsert_comment(5, &ours).await;
    for r in server.received_requests().await.unwrap() {
        eprintln!(
            "{} {} {}",
            r.method,
            r.url,
            String::from_utf8_lossy(&r.body)
        );
    }
    assert_eq!(outcome.unwrap().status, CommentStatus::Updated);
}

#[tokio::test]
async fn an_unchanged_comment_is_left_alone_and_a_missing_one_created() {
    let server = MockServer::start().await;
    let ours = sticky("same");
    Mock::given(method("GET"))
        .and(path("/repos/o/r/issues/5/comments"))
        .respond_with(json_response(200, json!([comment_with(2, &ours.body)])))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/repos/o/r/issues/6/comments"))
        .respond_with(json_response(200, json!([comment_with(4, "LGTM")])))
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/repos/o/r/issues/6/comments"))
        .respond_with(json_response(201, comment_with(9, &ours.body)))
        .expect(1)
        .mount(&server)
        .await;
    let forge = GitHub::new(remote(&server.uri(), "o/r")).unwrap();
    let same = forge.upsert_comment(5, &ours).await.unwrap();
    assert_eq!(same.status, CommentStatus::Unchanged);
    let created = forge.upsert_comment(6, &ours).await.unwrap();
    assert_eq!(created.status, CommentStatus::Created);
}

#[tokio::test]
async fn a_502_and_a_secondary_rate_limit_are_retried() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/repos/o/r/check-runs"))
        .respond_with(ResponseTemplate::new(502))
        .up_to_n_times(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/repos/o/r/check-runs"))
        .respond_with(
            json_response(403, json!({
                "message": "You have exceeded a secondary rate limit. Please wait a few minutes before you try again.",
                "documentation_url": "https://docs.github.com/rest/overview/rate-limits-for-the-rest-api"
            }))
            .insert_header("retry-after", "1"),
        )
        .up_to_n_times(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/repos/o/r/check-runs"))
        .and(body_partial_json(json!({
            "name": "mlgate/churn", "head_sha": SHA, "status": "completed", "conclusion": "success"
        })))
        .respond_with(json_response(201, example("check-run")))
        .expect(1)
        .mount(&server)
        .await;
    let mut r = remote(&server.uri(), "o/r");
    r.backoff.attempts = 4;
    let forge = GitHub::new(r).unwrap();
    let set = forge.set_status(SHA, &verdict(true)).await.unwrap();
    assert!(set.starts_with("check run"), "{set}");
    assert_eq!(server.received_requests().await.unwrap().len(), 3);
}

#[tokio::test]
async fn without_check_run_rights_a_commit_status_is_set() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/repos/o/r/check-runs"))
        .respond_with(json_response(
            403,
            json!({"message": "You must authenticate via a GitHub App.", "documentation_url": "x"}),
        ))
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path(format!("/repos/o/r/statuses/{SHA}")))
        .and(body_partial_json(
            json!({"state": "failure", "context": "mlgate/churn"}),
        ))
        .respond_with(json_response(201, example("status")))
        .expect(1)
        .mount(&server)
        .await;
    let forge = GitHub::new(remote(&server.uri(), "o/r")).unwrap();
    let set = forge.set_status(SHA, &verdict(false)).await.unwrap();
    assert!(set.starts_with("commit status"), "{set}");
}

#[tokio::test]
async fn an_existing_promotion_is_superseded_in_the_same_pull_request() {
    let server = MockServer::start().await;
    mount_base(&server).await;
    Mock::given(method("GET"))
        .and(path("/repos/o/r/git/ref/heads/mlgate/promote/churn"))
        .respond_with(json_response(
            200,
            git_ref(
                "refs/heads/mlgate/promote/churn",
                "1111111111111111111111111111111111111111",
                "commit",
            ),
        ))
        .mount(&server)
        .await;
    Mock::given(method("PATCH"))
        .and(path("/repos/o/r/git/refs/heads/mlgate/promote/churn"))
        .and(body_partial_json(json!({"force": true})))
        .respond_with(json_response(
            200,
            git_ref("refs/heads/mlgate/promote/churn", SHA, "commit"),
        ))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/repos/o/r/pulls"))
        .and(query_param("head", "o:mlgate/promote/churn"))
        .and(query_param("state", "open"))
        .respond_with(json_response(200, example("pull-request-simple-items")))
        .mount(&server)
        .await;
    let number = example("pull-request-simple-items")[0]["number"]
        .as_u64()
        .unwrap();
    Mock::given(method("PATCH"))
        .and(path(format!("/repos/o/r/pulls/{number}")))
        .and(body_partial_json(
            json!({"title": "Promote churn to 52b8b92c40c5be29"}),
        ))
        .respond_with(json_response(200, example("pull-request")))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/repos/o/r/pulls"))
        .respond_with(json_response(201, example("pull-request")))
        .expect(0)
        .mount(&server)
        .await;
    let forge = GitHub::new(remote(&server.uri(), "o/r")).unwrap();
    let outcome = forge
        .propose(&proposal("mlgate/promote/churn"))
        .await
        .unwrap();
    assert_eq!(outcome.status, ProposalStatus::Updated);
}

#[tokio::test]
async fn a_refused_pull_request_leaves_no_branch_behind_and_says_why() {
    let server = MockServer::start().await;
    mount_base(&server).await;
    mount_new_branch(&server).await;
    Mock::given(method("POST"))
        .and(path("/repos/o/r/pulls"))
        .respond_with(json_response(403, json!({
            "message": "GitHub Actions is not permitted to create or approve pull requests.",
            "documentation_url": "https://docs.github.com/rest/pulls/pulls#create-a-pull-request"
        })))
        .mount(&server)
        .await;
    Mock::given(method("DELETE"))
        .and(path("/repos/o/r/git/refs/heads/mlgate/promote/churn"))
        .respond_with(ResponseTemplate::new(204))
        .expect(1)
        .mount(&server)
        .await;
    let forge = GitHub::new(remote(&server.uri(), "o/r")).unwrap();
    let err = forge
        .propose(&proposal("mlgate/promote/churn"))
        .await
        .unwrap_err();
    let text = err.to_string();
    assert!(
        text.contains("Allow GitHub Actions to create and approve pull requests"),
        "{text}"
    );
    assert!(!text.contains(TOKEN));
}

#[tokio::test]
async fn a_new_pull_request_gets_labels_and_reviewers() {
    let server = MockServer::start().await;
    mount_base(&server).await;
    mount_new_branch(&server).await;
    mount_new_pull_request(&server, true).await;
    let mut r = remote(&server.uri(), "o/r");
    r.draft = true;
    let forge = GitHub::new(r).unwrap();
    let outcome = forge
        .propose(&proposal("mlgate/promote/churn"))
        .await
        .unwrap();
    assert_eq!(outcome.status, ProposalStatus::Opened);
}

#[tokio::test]
async fn deployment_tags_are_read_back_and_created_annotated() {
    let server = MockServer::start().await;
    let tag_sha = "2222222222222222222222222222222222222222";
    Mock::given(method("GET"))
        .and(path("/repos/o/r/git/matching-refs/tags/model/churn/"))
        .respond_with(json_response(
            200,
            json!([
                git_ref(
                    "refs/tags/model/churn/v1",
                    "3333333333333333333333333333333333333333",
                    "tag"
                ),
                git_ref("refs/tags/model/churn/v2", tag_sha, "tag"),
            ]),
        ))
        .mount(&server)
        .await;
    let mut tag = example("git-tag");
    tag["message"] = "deploy churn 26b02e29bdf6b77d\n\nby mlgate".into();
    Mock::given(method("GET"))
        .and(path(format!("/repos/o/r/git/tags/{tag_sha}")))
        .respond_with(json_response(200, tag.clone()))
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/repos/o/r/git/tags"))
        .and(body_partial_json(
            json!({"tag": "model/churn/v3", "object": SHA, "type": "commit"}),
        ))
        .respond_with(json_response(201, tag.clone()))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/repos/o/r/git/refs"))
        .and(body_partial_json(
            json!({"ref": "refs/tags/model/churn/v3"}),
        ))
        .respond_with(json_response(
            201,
            git_ref("refs/tags/model/churn/v3", tag_sha, "tag"),
        ))
        .expect(1)
        .mount(&server)
        .await;
    let forge = GitHub::new(remote(&server.uri(), "o/r")).unwrap();
    let last = forge.last_deploy_tag("churn").await.unwrap().unwrap();
    assert_eq!(
        (last.number, last.version.as_str()),
        (2, "26b02e29bdf6b77d")
    );
    let created = forge
        .create_deploy_tag("churn", 3, "52b8b92c40c5be29")
        .await
        .unwrap();
    assert_eq!(created.name, "model/churn/v3");
}

#[tokio::test]
async fn a_primary_rate_limit_waits_for_its_reset_or_fails_at_once() {
    for (reset_in, succeeds) in [(1i64, true), (3600, false)] {
        let server = MockServer::start().await;
        Mock::given(method("POST"))
            .and(path("/repos/o/r/issues/5/comments"))
            .respond_with(json_response(
                403,
                json!({"message": "API rate limit exceeded for installation ID 1.", "documentation_url": "x"}),
            ))
            .up_to_n_times(1)
            .mount(&server)
            .await;
        Mock::given(method("POST"))
            .and(path("/repos/o/r/issues/5/comments"))
            .respond_with(json_response(201, comment_with(9, "x")))
            .mount(&server)
            .await;
        Mock::given(method("GET"))
            .and(path("/repos/o/r/issues/5/comments"))
            .respond_with(json_response(200, json!([])))
            .mount(&server)
            .await;
        let mut limits = example("rate-limit-overview");
        limits["resources"]["core"]["reset"] = (chrono::Utc::now().timestamp() + reset_in).into();
        Mock::given(method("GET"))
            .and(path("/rate_limit"))
            .respond_with(json_response(200, limits))
            .mount(&server)
            .await;
        let forge = GitHub::new(remote(&server.uri(), "o/r")).unwrap();
        let out = forge.upsert_comment(5, &sticky("x")).await;
        assert_eq!(out.is_ok(), succeeds, "{out:?}");
        if let Err(e) = out {
            assert!(e.to_string().contains("rate limited"), "{e}");
        }
    }
}

/// Nothing listens at the forge's address: one attempt, not a minute of retries, and the
/// error names where mlgate looked.
#[tokio::test]
async fn an_unreachable_forge_is_named_and_not_retried() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    // The listener is gone: the port refuses connections.
    let url = format!("http://127.0.0.1:{port}");
    let forge = GitHub::new(remote(&url, "o/r")).unwrap();
    let started = Instant::now();
    let err = forge.last_deploy_tag("churn").await.unwrap_err();
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "retried a refusal"
    );
    assert!(
        err.message.contains(&format!("no answer from {url}")),
        "{err}"
    );
    assert!(err.to_string().contains("check `forge.url`"), "{err}");
    assert!(!err.is_transient());
}
