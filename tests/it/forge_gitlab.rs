//! The GitLab forge against an HTTP mock answering as GitLab's REST documentation says
//! (merge requests, notes, commits with actions, commit statuses, tags, users).

use crate::forge_support::{remote, TOKEN};
use mlgate::forge::{
    sticky_marker, CommentStatus, Dispatch, Forge, GitLab, Proposal, ProposalStatus, Sticky,
    Verdict,
};
use serde_json::{json, Value};
use wiremock::matchers::{body_string_contains, header, method, path, query_param};
use wiremock::{Mock, MockServer, ResponseTemplate};

const SHA: &str = "6113728f27ae82c7b1a177c8d03f9e96e0adf246";
const PROJECT: &str = "/api/v4/projects/group%2Fchurn";

fn ok(status: u16, body: Value) -> ResponseTemplate {
    ResponseTemplate::new(status)
        .insert_header("content-type", "application/json")
        .set_body_json(body)
}

fn not_found(what: &str) -> ResponseTemplate {
    ok(404, json!({"message": format!("404 {what} Not Found")}))
}

/// A note as `GET /projects/:id/merge_requests/:iid/notes` lists it.
fn note(id: u64, body: &str) -> Value {
    json!({
        "id": id, "type": null, "body": body, "attachment": null,
        "author": {"id": 1, "username": "pipin", "name": "Pip", "state": "active",
                   "avatar_url": "https://www.gravatar.com/avatar/x", "web_url": "https://gitlab.example.com/pipin"},
        "created_at": "2016-06-06T06:00:00.000Z", "updated_at": "2016-06-06T06:00:00.000Z",
        "system": false, "noteable_id": 377, "noteable_type": "MergeRequest", "noteable_iid": 7,
        "resolvable": false, "confidential": false, "internal": false
    })
}

fn merge_request(iid: u64) -> Value {
    json!({
        "id": 1000 + iid, "iid": iid, "project_id": 3, "title": "Promote churn", "description": "",
        "state": "opened", "created_at": "2017-04-29T08:46:00Z", "updated_at": "2017-04-29T08:46:00Z",
        "target_branch": "main", "source_branch": "mlgate/promote/churn", "draft": false,
        "labels": ["model-promotion"], "sha": SHA, "merge_status": "can_be_merged",
        "web_url": format!("https://gitlab.example.com/group/churn/-/merge_requests/{iid}")
    })
}

fn forge(server: &MockServer) -> GitLab {
    GitLab::new(remote(&server.uri(), "group/churn")).unwrap()
}

fn sticky(text: &str) -> Sticky {
    Sticky {
        key: "churn".into(),
        marker: sticky_marker("churn"),
        body: format!("{}\n{text}", sticky_marker("churn")),
    }
}

#[tokio::test]
async fn the_marked_note_is_edited_in_place_duplicates_removed_or_created_once() {
    let server = MockServer::start().await;
    let ours = sticky("new");
    Mock::given(method("GET"))
        .and(path(format!("{PROJECT}/merge_requests/7/notes")))
        .and(header("PRIVATE-TOKEN", TOKEN))
        .respond_with(ok(
            200,
            json!([
                note(1, "LGTM"),
                note(2, &format!("{}\nold", sticky_marker("churn"))),
                note(5, &format!("{}\nolder", sticky_marker("churn")))
            ]),
        ))
        .mount(&server)
        .await;
    Mock::given(method("DELETE"))
        .and(path(format!("{PROJECT}/merge_requests/7/notes/5")))
        .respond_with(ResponseTemplate::new(204))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("PUT"))
        .and(path(format!("{PROJECT}/merge_requests/7/notes/2")))
        .and(body_string_contains("body="))
        .respond_with(ok(200, note(2, &ours.body)))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path(format!("{PROJECT}/merge_requests/8/notes")))
        .respond_with(ok(200, json!([note(1, "LGTM")])))
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path(format!("{PROJECT}/merge_requests/8/notes")))
        .respond_with(ok(201, note(3, &ours.body)))
        .expect(1)
        .mount(&server)
        .await;
    let forge = forge(&server);
    assert_eq!(
        forge.upsert_comment(7, &ours).await.unwrap().status,
        CommentStatus::Updated
    );
    assert_eq!(
        forge.upsert_comment(8, &ours).await.unwrap().status,
        CommentStatus::Created
    );
}

#[tokio::test]
async fn commit_status_is_retried_after_429_with_retry_after() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(format!("{PROJECT}/statuses/{SHA}")))
        .respond_with(ok(429, json!({"message": "Retry later"})).insert_header("Retry-After", "1"))
        .up_to_n_times(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path(format!("{PROJECT}/statuses/{SHA}")))
        .and(body_string_contains("state=failed"))
        .and(body_string_contains("name=mlgate%2Fchurn"))
        .respond_with(ok(201, json!({
            "id": 93, "sha": SHA, "ref": "main", "status": "failed", "name": "mlgate/churn",
            "target_url": null, "description": "gate failed", "created_at": "2016-01-19T08:40:25.934Z",
            "started_at": null, "finished_at": "2016-01-19T08:40:25.934Z", "allow_failure": false,
            "coverage": null, "author": {"id": 1, "username": "root"}
        })))
        .expect(1)
        .mount(&server)
        .await;
    let verdict = Verdict {
        name: "mlgate/churn".into(),
        passed: false,
        title: "gate failed".into(),
        summary: String::new(),
        details_url: None,
    };
    let started = std::time::Instant::now();
    let set = forge(&server).set_status(SHA, &verdict).await.unwrap();
    assert!(set.contains("commit status"));
    assert!(
        started.elapsed() >= std::time::Duration::from_millis(900),
        "Retry-After honoured"
    );
}

/// An upload trigger's retraining: one pipeline on the ref, the object and model as
/// `MLGATE_*` variables; a 429 is waited out and retried, not a second pipeline.
#[tokio::test]
async fn a_retraining_starts_one_pipeline_with_the_object_as_a_variable() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path(format!("{PROJECT}/pipeline")))
        .respond_with(ok(429, json!({"message": "Retry later"})).insert_header("Retry-After", "1"))
        .up_to_n_times(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path(format!("{PROJECT}/pipeline")))
        .and(body_string_contains("main"))
        .and(body_string_contains("MLGATE_MODEL"))
        .and(body_string_contains("MLGATE_OBJECT"))
        .and(body_string_contains("churn"))
        .respond_with(ok(201, json!({
            "id": 61, "iid": 21, "project_id": 3, "sha": SHA, "ref": "main", "status": "created",
            "source": "api", "created_at": "2016-11-04T09:36:13.747Z",
            "updated_at": "2016-11-04T09:36:13.747Z",
            "web_url": "https://gitlab.example.com/group/churn/-/pipelines/61"
        })))
        .expect(1)
        .mount(&server)
        .await;
    let dispatch = Dispatch {
        workflow: "ignored on GitLab".into(),
        git_ref: "main".into(),
        inputs: [
            ("model", "churn"),
            ("object", "s3://data/churn/incoming/a b.csv"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect(),
    };
    let what = forge(&server).dispatch(&dispatch).await.unwrap();
    assert!(what.contains("/pipelines/61"), "{what}");
}

fn proposal() -> Proposal {
    Proposal {
        branch: "mlgate/promote/churn".into(),
        title: "Promote churn to 52b8b92c40c5be29".into(),
        body: "gate table".into(),
        files: vec![(
            "models/churn/production.yaml".into(),
            "model: churn\nversion: 52b8b92c40c5be29\n".into(),
        )],
    }
}

async fn mount_commit(server: &MockServer) {
    Mock::given(method("GET"))
        .and(path(format!(
            "{PROJECT}/repository/files/models%2Fchurn%2Fproduction.yaml/raw"
        )))
        .and(query_param("ref", "main"))
        .respond_with(ResponseTemplate::new(200).set_body_string("model: churn\nversion: null\n"))
        .mount(server)
        .await;
    Mock::given(method("POST"))
        .and(path(format!("{PROJECT}/repository/commits")))
        .and(body_string_contains("branch=mlgate%2Fpromote%2Fchurn"))
        .and(body_string_contains("start_branch=main"))
        .and(body_string_contains("force=true"))
        .and(body_string_contains("file_path%5D=models%2Fchurn%2Fproduction.yaml"))
        .and(body_string_contains("action%5D=update"))
        .respond_with(ok(201, json!({
            "id": "ed899a2f4b50b4370feeea94676502b42383c746", "short_id": "ed899a2f4b5",
            "title": "Promote churn", "author_name": "mlgate", "author_email": "m@example.com",
            "committer_name": "mlgate", "committer_email": "m@example.com",
            "created_at": "2016-09-20T09:26:24.000-07:00", "message": "Promote churn",
            "parent_ids": [SHA], "committed_date": "2016-09-20T09:26:24.000-07:00",
            "authored_date": "2016-09-20T09:26:24.000-07:00", "stats": {"additions": 1, "deletions": 1, "total": 2},
            "status": null, "web_url": "https://gitlab.example.com/group/churn/-/commit/ed899a2f"
        })))
        .expect(1)
        .mount(server)
        .await;
}

#[tokio::test]
async fn a_new_merge_request_is_opened_with_labels_and_reviewers() {
    let server = MockServer::start().await;
    mount_commit(&server).await;
    Mock::given(method("GET"))
        .and(path(format!(
            "{PROJECT}/repository/branches/mlgate%2Fpromote%2Fchurn"
        )))
        .respond_with(not_found("Branch"))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path(format!("{PROJECT}/merge_requests")))
        .and(query_param("state", "opened"))
        .and(query_param("source_branch", "mlgate/promote/churn"))
        .respond_with(ok(200, json!([])))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/api/v4/users"))
        .and(query_param("username", "octocat"))
        .respond_with(ok(
            200,
            json!([{"id": 12, "username": "octocat", "name": "Octo", "state": "active"}]),
        ))
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path(format!("{PROJECT}/merge_requests")))
        .and(body_string_contains("labels=model-promotion"))
        .and(body_string_contains("reviewer_ids%5B%5D=12"))
        .and(body_string_contains("title=Draft%3A+Promote"))
        .respond_with(ok(201, merge_request(3)))
        .expect(1)
        .mount(&server)
        .await;
    let mut r = remote(&server.uri(), "group/churn");
    r.draft = true;
    let outcome = GitLab::new(r).unwrap().propose(&proposal()).await.unwrap();
    assert_eq!(outcome.status, ProposalStatus::Opened);
    assert!(outcome.location.ends_with("/merge_requests/3"));
}

#[tokio::test]
async fn an_existing_merge_request_is_updated_not_duplicated() {
    let server = MockServer::start().await;
    mount_commit(&server).await;
    Mock::given(method("GET"))
        .and(path(format!("{PROJECT}/repository/branches/mlgate%2Fpromote%2Fchurn")))
        .respond_with(ok(200, json!({"name": "mlgate/promote/churn", "merged": false, "protected": false,
            "commit": {"id": SHA}, "web_url": "https://gitlab.example.com/group/churn/-/tree/mlgate/promote/churn"})))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path(format!(
            "{PROJECT}/repository/files/models%2Fchurn%2Fproduction.yaml/raw"
        )))
        .and(query_param("ref", "mlgate/promote/churn"))
        .respond_with(
            ResponseTemplate::new(200).set_body_string("model: churn\nversion: 1111111111111111\n"),
        )
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path(format!("{PROJECT}/merge_requests")))
        .respond_with(ok(200, json!([merge_request(3)])))
        .mount(&server)
        .await;
    Mock::given(method("PUT"))
        .and(path(format!("{PROJECT}/merge_requests/3")))
        .and(body_string_contains("description=gate+table"))
        .respond_with(ok(200, merge_request(3)))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path(format!("{PROJECT}/merge_requests")))
        .respond_with(ok(201, merge_request(4)))
        .expect(0)
        .mount(&server)
        .await;
    let outcome = forge(&server).propose(&proposal()).await.unwrap();
    assert_eq!(outcome.status, ProposalStatus::Updated);
}

#[tokio::test]
async fn deployment_tags_are_read_back_and_created() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path(format!("{PROJECT}/repository/tags")))
        .and(query_param("search", "^model/churn/v"))
        .respond_with(ok(200, json!([
            {"name": "model/churn/v2", "message": "deploy churn bbbb\n\nby mlgate", "target": "2695effb", "commit": {"id": "2695effb"}, "release": null, "protected": false},
            {"name": "model/churn/v10", "message": "deploy churn cccc", "target": "3695effb", "commit": {"id": "3695effb"}, "release": null, "protected": false},
            {"name": "model/churn/v1", "message": "deploy churn aaaa", "target": "1695effb", "commit": {"id": "1695effb"}, "release": null, "protected": false}
        ])))
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path(format!("{PROJECT}/repository/tags")))
        .and(body_string_contains("tag_name=model%2Fchurn%2Fv11"))
        .and(body_string_contains(format!("ref={SHA}")))
        .and(body_string_contains("message=deploy+churn+dddd"))
        .respond_with(ok(201, json!({"name": "model/churn/v11", "message": "deploy churn dddd", "target": SHA, "commit": {"id": SHA}, "release": null, "protected": false})))
        .expect(1)
        .mount(&server)
        .await;
    let forge = forge(&server);
    let last = forge.last_deploy_tag("churn").await.unwrap().unwrap();
    assert_eq!((last.number, last.version.as_str()), (10, "cccc"));
    assert_eq!(
        forge
            .create_deploy_tag("churn", 11, "dddd")
            .await
            .unwrap()
            .name,
        "model/churn/v11"
    );
}

#[tokio::test]
async fn a_job_token_refusal_says_what_to_use_instead() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path(format!("{PROJECT}/merge_requests/7/notes")))
        .and(header("JOB-TOKEN", TOKEN))
        .respond_with(ok(403, json!({"message": "403 Forbidden"})))
        .expect(1)
        .mount(&server)
        .await;
    let mut r = remote(&server.uri(), "group/churn");
    r.job_token = true;
    let err = GitLab::new(r)
        .unwrap()
        .upsert_comment(7, &sticky("x"))
        .await
        .unwrap_err();
    let text = err.to_string();
    assert!(
        text.contains("CI_JOB_TOKEN cannot") && text.contains("GITLAB_TOKEN"),
        "{text}"
    );
    assert!(!text.contains(TOKEN));
}

/// Nothing listens at the forge's address: one attempt, and the error names the host.
#[tokio::test]
async fn an_unreachable_gitlab_is_named_and_not_retried() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let forge = GitLab::new(remote(&format!("http://127.0.0.1:{port}"), "group/churn")).unwrap();
    let started = std::time::Instant::now();
    let err = forge.last_deploy_tag("churn").await.unwrap_err();
    assert!(
        started.elapsed() < std::time::Duration::from_secs(5),
        "retried a refusal"
    );
    assert!(
        err.message.contains("nothing answers at 127.0.0.1"),
        "{err}"
    );
    assert!(err.to_string().contains("check `forge.url`"), "{err}");
    assert!(!err.is_transient());
}
