//! `mlgate comment` end to end: locally, and on GitHub Actions against a mock whose every
//! answer is a refusal — a fork's pull request must not fail the step, a same-repository
//! one must name the permission, and the token must never be printed or written.

use crate::common::{example_repo, mlgate, walk};
use crate::forge_support::{webhook_examples, TOKEN};
use mlgate::report::{Report, Status, StepName};
use serde_json::json;
use std::path::{Path, PathBuf};
use wiremock::matchers::any;
use wiremock::{Mock, MockServer, ResponseTemplate};

/// The example project with reports as the earlier steps would have left them.
fn project(forge: &str) -> (tempfile::TempDir, PathBuf, PathBuf) {
    let (dir, root) = example_repo();
    let config = root.join("examples/churn/mlgate.yaml");
    let mut text = std::fs::read_to_string(&config).unwrap();
    text.push_str(forge);
    std::fs::write(&config, text).unwrap();
    let out = root.join("out");
    for (step, title) in [
        (StepName::ValidateData, "data is valid"),
        (StepName::Compare, "passes the gate"),
    ] {
        Report::new(step, "churn", Status::Pass, title)
            .write_files(&out.join("churn"))
            .unwrap();
    }
    (dir, config, out)
}

fn all_text_under(dir: &Path) -> String {
    let mut text = String::new();
    for entry in walk(dir) {
        text.push_str(&String::from_utf8_lossy(&std::fs::read(entry).unwrap()));
    }
    text
}

#[test]
fn locally_the_comment_is_a_file_written_once() {
    let (_dir, config, out) = project("");
    for expected in ["Report comment posted", "Report comment already up to date"] {
        let run = mlgate()
            .args(["comment", "--config"])
            .arg(&config)
            .arg("--out")
            .arg(&out)
            .output()
            .unwrap();
        let stdout = String::from_utf8_lossy(&run.stdout);
        assert!(
            run.status.success(),
            "{stdout}{}",
            String::from_utf8_lossy(&run.stderr)
        );
        assert!(stdout.contains(expected), "{stdout}");
    }
    let body = std::fs::read_to_string(out.join("pull-requests/comment-churn.md")).unwrap();
    assert!(body.starts_with("<!-- mlgate:report model=churn -->"));
}

async fn refusing_github() -> MockServer {
    let server = MockServer::start().await;
    Mock::given(any())
        .respond_with(
            ResponseTemplate::new(403)
                .insert_header("content-type", "application/json")
                .set_body_json(json!({
                    "message": "Resource not accessible by integration",
                    "documentation_url": "https://docs.github.com/rest"
                })),
        )
        .mount(&server)
        .await;
    server
}

fn run_on_github(server: &MockServer, fork: bool) -> std::process::Output {
    let forge = format!(
        "forge:\n  provider: github\n  url: {}\n  repository: o/r\n",
        server.uri()
    );
    let (dir, config, out) = project(&forge);
    let mut payload = webhook_examples("pull_request")
        .into_iter()
        .find(|e| e["action"] == "opened")
        .unwrap();
    if fork {
        payload["pull_request"]["head"]["repo"]["full_name"] = "someone/Hello-World".into();
    }
    let event = dir.path().join("event.json");
    std::fs::write(&event, payload.to_string()).unwrap();
    let summary = dir.path().join("summary.md");
    let run = mlgate()
        .args(["comment", "--config"])
        .arg(&config)
        .arg("--out")
        .arg(&out)
        .env("GITHUB_ACTIONS", "true")
        .env("GITHUB_EVENT_PATH", &event)
        .env("GITHUB_STEP_SUMMARY", &summary)
        .env("GITHUB_TOKEN", TOKEN)
        .env("MLGATE_FORGE_BACKOFF_MS", "1")
        .output()
        .unwrap();
    // GitHub hides the token thanks to `::add-mask::`; nothing else may carry it.
    let stdout = String::from_utf8_lossy(&run.stdout);
    let unmasked: Vec<&str> = stdout
        .lines()
        .filter(|l| !l.starts_with("::add-mask::"))
        .collect();
    assert!(stdout.contains(&format!("::add-mask::{TOKEN}")), "{stdout}");
    assert!(!unmasked.join("\n").contains(TOKEN), "token in stdout");
    assert!(
        !String::from_utf8_lossy(&run.stderr).contains(TOKEN),
        "token in stderr"
    );
    assert!(!all_text_under(&out).contains(TOKEN), "token in a report");
    if summary.exists() {
        assert!(!std::fs::read_to_string(&summary).unwrap().contains(TOKEN));
    }
    run
}

#[tokio::test(flavor = "multi_thread")]
async fn a_fork_with_a_read_only_token_reports_to_the_summary_and_passes() {
    let server = refusing_github().await;
    let run = run_on_github(&server, true);
    let stdout = String::from_utf8_lossy(&run.stdout);
    assert_eq!(
        run.status.code(),
        Some(0),
        "{stdout}{}",
        String::from_utf8_lossy(&run.stderr)
    );
    assert!(stdout.contains("from a fork"), "{stdout}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_refusal_names_the_missing_permission_and_exits_3() {
    let server = refusing_github().await;
    let run = run_on_github(&server, false);
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert_eq!(run.status.code(), Some(3), "{stderr}");
    assert!(
        stderr.contains("permissions: pull-requests: write"),
        "{stderr}"
    );
}

/// `deploy` on a GitLab push: tags through the API once; a rerun sees the tag and does
/// nothing.
#[tokio::test(flavor = "multi_thread")]
async fn deploy_on_gitlab_tags_through_the_api_once() {
    use wiremock::matchers::{body_string_contains, header, method, path};
    let server = MockServer::start().await;
    let forge = format!(
        "forge:\n  url: {}\n  repository: group/churn\n",
        server.uri()
    );
    let (_dir, config, out) = project(&forge);
    let sha = "6113728f27ae82c7b1a177c8d03f9e96e0adf246";
    let tags = "/api/v4/projects/group%2Fchurn/repository/tags";
    Mock::given(method("GET"))
        .and(path(tags))
        .and(header("PRIVATE-TOKEN", TOKEN))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!([])))
        .up_to_n_times(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path(tags))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!([{
            "name": "model/churn/v1", "message": "deploy churn 26b02e29bdf6b77d",
            "target": sha, "commit": {"id": sha}, "release": null, "protected": false
        }])))
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path(tags))
        .and(body_string_contains("tag_name=model%2Fchurn%2Fv1"))
        .and(body_string_contains(format!("ref={sha}")))
        .respond_with(ResponseTemplate::new(201).set_body_json(json!({
            "name": "model/churn/v1", "message": "deploy churn 26b02e29bdf6b77d", "target": sha
        })))
        .expect(1)
        .mount(&server)
        .await;
    for expected in [
        "deployed `26b02e29bdf6b77d` as `model/churn/v1`",
        "is already deployed",
    ] {
        let run = mlgate()
            .args(["deploy", "--config"])
            .arg(&config)
            .arg("--out")
            .arg(&out)
            .env("GITLAB_CI", "true")
            .env("GITLAB_TOKEN", TOKEN)
            .env("CI_COMMIT_SHA", sha)
            .env("CI_PROJECT_PATH", "group/churn")
            .env("MLGATE_FORGE_BACKOFF_MS", "1")
            .output()
            .unwrap();
        let stdout = String::from_utf8_lossy(&run.stdout);
        let stderr = String::from_utf8_lossy(&run.stderr);
        assert!(run.status.success(), "{stdout}{stderr}");
        assert!(stdout.contains(expected), "{stdout}");
        assert!(!stdout.contains(TOKEN) && !stderr.contains(TOKEN));
    }
}
