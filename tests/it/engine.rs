//! The engine as adapters use it: a context built once with injected parts, then
//! `execute`. Two projects in one process; a GitHub forge handed in; and the steps that
//! need git history (compare, deploy) run from an API token alone — no checkout, no
//! `git` binary — against a GitHub fake and the S3 store on moto.

use crate::aws_support::{aws_env, create_bucket, get_object, put_object, start_moto, REGION};
use crate::common::{
    committed_versions, example_repo, git, mlgate, outcome, repo_root, EXAMPLE_CONFIG,
};
use crate::forge_support::{
    example, git_ref, json_response, mount_base_with, mount_new_branch, mount_new_pull_request,
    remote, SHA, TOKEN,
};
use base64::Engine as _;
use mlgate::config::Project;
use mlgate::forge::GitHub;
use mlgate::repo::Checkout;
use mlgate::report::{Report, StepName};
use mlgate::store::{FileStore, RepoBacked};
use mlgate::{execute, Ctx, Selection, Step};
use serde_json::json;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use wiremock::matchers::{body_partial_json, method, path, query_param};
use wiremock::{Mock, MockServer};

const TRAIN_PY: &str = r#"
import json, os
out = os.environ["MLGATE_OUTPUT_DIR"]
os.makedirs(out + "/model")
json.dump({"p": 0.7}, open(out + "/model/model.json", "w"))
json.dump({}, open(out + "/metrics.json", "w"))
"#;

/// Scores every row the same: enough to show the command ran in this project's folder.
const PREDICT_PY: &str = r#"
import csv, os
rows = list(csv.DictReader(open(os.environ["MLGATE_INPUT"])))
with open(os.environ["MLGATE_OUTPUT"], "w") as f:
    f.write("proba_no,proba_yes\n")
    for _ in rows:
        f.write("0.3,0.7\n")
"#;

/// The example switched to the team's own command, whose scripts exist only in this
/// project's folder: scoring it anywhere else fails.
fn use_command_backend(root: &Path) {
    let config = root.join(EXAMPLE_CONFIG);
    let text = std::fs::read_to_string(&config).unwrap().replace(
        "      backend: builtin\n      algorithm: logistic_regression\n      params: {c: 1.0, class_weight: balanced}\n",
        "      backend: command\n      command: {train: python3 train.py, predict: python3 predict.py}\n",
    );
    assert!(text.contains("backend: command"));
    std::fs::write(&config, text).unwrap();
    let dir = config.parent().unwrap();
    std::fs::write(dir.join("train.py"), TRAIN_PY).unwrap();
    std::fs::write(dir.join("predict.py"), PREDICT_PY).unwrap();
}

async fn context(root: &Path) -> Ctx {
    let project = Project::load(&root.join(EXAMPLE_CONFIG)).unwrap();
    Ctx::builder(project)
        .out(root.join("out"))
        .build()
        .await
        .unwrap()
}

fn titles(reports: &[Report]) -> String {
    reports
        .iter()
        .map(|r| format!("{} {}: {}", r.step, r.model, r.title))
        .collect::<Vec<_>>()
        .join("\n")
}

/// Two contexts for two projects live side by side: each step reads its own config,
/// writes its own store and reports, and a command model is scored in its own
/// project's folder — however the contexts were created and interleaved.
#[tokio::test(flavor = "multi_thread")]
async fn two_projects_run_in_one_process() {
    let (_a, root_a) = example_repo();
    let (_b, root_b) = example_repo();
    use_command_backend(&root_b);
    let a = context(&root_a).await;
    let b = context(&root_b).await;
    let all = Selection::All;
    let (ra, rb) = tokio::join!(
        execute(&a, &Step::Train, &all),
        execute(&b, &Step::Train, &all)
    );
    let (ra, rb) = (ra.unwrap(), rb.unwrap());
    let version = |r: &[Report]| r[0].data["version"].as_str().unwrap().to_string();
    assert_ne!(version(&ra), version(&rb), "two different models");
    assert_eq!(ra[0].data["lineage"]["backend"], "builtin");
    assert_eq!(rb[0].data["lineage"]["backend"], "command");
    let evaluate = Step::Evaluate {
        version: None,
        data: None,
    };
    // b's model scores through `python3 predict.py`, which only b's folder has.
    let (ea, eb) = tokio::join!(execute(&b, &evaluate, &all), execute(&a, &evaluate, &all));
    let (ea, eb) = (ea.unwrap(), eb.unwrap());
    assert!(
        ea[0].passed() && eb[0].passed(),
        "{}",
        titles(&[ea, eb].concat())
    );
    for (root, id) in [(&root_a, version(&ra)), (&root_b, version(&rb))] {
        let store = root.join("examples/churn/.mlgate/store/models/churn/versions");
        assert!(store.join(&id).is_dir(), "{id} in its own store");
        let evaluated = std::fs::read_to_string(root.join("out/churn/evaluate.json")).unwrap();
        assert!(
            evaluated.contains(&id),
            "{id} evaluated in its own report folder"
        );
    }
}

/// A step that stops keeps the reports made before it; a bad selection is a usage error.
#[tokio::test(flavor = "multi_thread")]
async fn execute_returns_reports_and_errors_as_values() {
    let (_dir, root) = example_repo();
    let ctx = context(&root).await;
    let halted = execute(&ctx, &Step::Train, &Selection::Model("chrun".into()))
        .await
        .unwrap_err();
    assert_eq!(halted.error.exit_code(), 2);
    assert!(
        halted.error.message.contains("did you mean `churn`"),
        "{halted}"
    );
    let compare = Step::Compare { version: None };
    let halted = execute(&ctx, &compare, &Selection::All).await.unwrap_err();
    assert!(halted.error.message.contains("no candidate"), "{halted}");
    assert!(halted.reports.is_empty());
}

/// `execute` with a GitHub forge handed in: the whole pipeline, ending in a promotion
/// pull request opened through the API, with the pointer at its path in the repository.
#[tokio::test(flavor = "multi_thread")]
async fn the_pipeline_promotes_through_an_injected_github_forge() {
    let server = MockServer::start().await;
    mount_base_with(&server, "examples/churn/models/churn/production.yaml").await;
    mount_new_branch(&server).await;
    mount_new_pull_request(&server, false).await;
    let (_dir, root) = example_repo();
    let project = Project::load(&root.join(EXAMPLE_CONFIG)).unwrap();
    let github = GitHub::new(remote(&server.uri(), "o/r")).unwrap();
    // A store of the adapter's choosing, backed by the checkout like the default one.
    let checkout = Arc::new(Checkout::open(&root.join("examples/churn")).unwrap());
    let store = RepoBacked {
        local: Box::new(FileStore::new(root.join("injected"), "file://injected")),
        repo: checkout.clone(),
    };
    let ctx = Ctx::builder(project)
        .out(root.join("out"))
        .forge(Arc::new(github))
        .repo(checkout)
        .store(Box::new(store))
        .build()
        .await
        .unwrap();
    let reports = execute(&ctx, &Step::Run, &Selection::All).await.unwrap();
    let steps: Vec<StepName> = reports.iter().map(|r| r.step).collect();
    assert_eq!(steps, StepName::PIPELINE, "{}", titles(&reports));
    let promote = reports.last().unwrap();
    assert!(
        promote
            .title
            .starts_with("opened promotion branch `mlgate/promote/churn`"),
        "{}",
        promote.title
    );
    // Nothing was written to the local repository: the forge holds the proposal.
    assert!(git(&root, &["branch", "--list", "mlgate/promote/churn"]).is_empty());
    // The candidate went to the injected store, not the config's.
    let candidate = reports[1].data["version"].as_str().unwrap();
    assert!(root
        .join("injected/models/churn/versions")
        .join(candidate)
        .is_dir());
    assert!(!root.join("examples/churn/.mlgate/store").exists());
}

/// A project folder as a function or a runner without a clone has it: the example's
/// tracked files, no `.git`, and its store already in S3 (as `aws s3 sync` would leave it).
fn detached_project(moto: &str, forge_url: &str) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().to_path_buf();
    for file in git(&repo_root(), &["ls-files", "examples/churn"]).lines() {
        let target = root.join(file);
        std::fs::create_dir_all(target.parent().unwrap()).unwrap();
        std::fs::copy(repo_root().join(file), &target).unwrap();
    }
    create_bucket(moto, "mlgate-engine");
    for (key, file) in committed_versions(&root) {
        let uri = format!("s3://mlgate-engine/mlgate/{key}");
        put_object(moto, &uri, std::fs::read(&file).unwrap());
    }
    // What git holds comes through the API only; what the store holds, from S3 only.
    std::fs::remove_dir_all(root.join("examples/churn/models")).unwrap();
    let config = root.join(EXAMPLE_CONFIG);
    let text = std::fs::read_to_string(&config).unwrap().replace(
        "store: file://.mlgate/store",
        &format!(
            "store: s3://mlgate-engine/mlgate\naws: {{region: {REGION}}}\n\
             forge: {{provider: github, url: \"{forge_url}\", repository: o/r, path: examples/churn}}"
        ),
    );
    std::fs::write(&config, text).unwrap();
    (dir, root)
}

/// GitHub's contents API answer for a file.
fn content(repo_path: &str, text: &str) -> serde_json::Value {
    let mut c = example("content-file");
    c["path"] = repo_path.into();
    c["name"] = repo_path.rsplit('/').next().unwrap().into();
    c["encoding"] = "base64".into();
    c["content"] = base64::engine::general_purpose::STANDARD
        .encode(text)
        .into();
    c
}

/// The pointer at the run's commit and at the one commit of its history; the deployment
/// tags, created once.
async fn mount_repository(server: &MockServer, pointer_text: &str) {
    let pointer = "examples/churn/models/churn/production.yaml";
    let promoted = "1111111111111111111111111111111111111111";
    Mock::given(method("GET"))
        .and(path(format!("/repos/o/r/contents/{pointer}")))
        .respond_with(json_response(200, content(pointer, pointer_text)))
        .mount(server)
        .await;
    let mut commits = example("commit-items");
    commits[0]["sha"] = promoted.into();
    let commits = json!([commits[0].clone()]);
    Mock::given(method("GET"))
        .and(path("/repos/o/r/commits"))
        .and(query_param("path", pointer))
        .and(query_param("sha", SHA))
        .respond_with(json_response(200, commits))
        .mount(server)
        .await;
    Mock::given(method("GET"))
        .and(path("/repos/o/r/git/matching-refs/tags/model/churn/"))
        .respond_with(json_response(200, json!([])))
        .mount(server)
        .await;
    let tag_sha = "2222222222222222222222222222222222222222";
    let mut tag = example("git-tag");
    tag["message"] = "deploy churn".into();
    Mock::given(method("POST"))
        .and(path("/repos/o/r/git/tags"))
        .and(body_partial_json(
            json!({"tag": "model/churn/v1", "object": SHA, "type": "commit"}),
        ))
        .respond_with(json_response(201, tag))
        .expect(1)
        .mount(server)
        .await;
    Mock::given(method("POST"))
        .and(path("/repos/o/r/git/refs"))
        .and(body_partial_json(
            json!({"ref": "refs/tags/model/churn/v1"}),
        ))
        .respond_with(json_response(
            201,
            git_ref("refs/tags/model/churn/v1", tag_sha, "tag"),
        ))
        .expect(1)
        .mount(server)
        .await;
}

/// `train`, `compare` and `deploy` on a GitHub runner without a checkout and without
/// git: the pointer and its history come through GitHub's API, versions from S3.
#[test]
fn compare_and_deploy_need_no_checkout_and_no_git() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let server = runtime.block_on(MockServer::start());
    let moto = start_moto();
    let (_dir, root) = detached_project(&moto.url, &server.uri());
    let pointer_text =
        std::fs::read_to_string(repo_root().join("examples/churn/models/churn/production.yaml"))
            .unwrap();
    let production = pointer_text
        .lines()
        .find_map(|l| l.strip_prefix("version: "))
        .unwrap()
        .to_string();
    runtime.block_on(mount_repository(&server, &pointer_text));
    let no_git = tempfile::tempdir().unwrap();
    assert!(
        std::process::Command::new("git")
            .arg("--version")
            .env("PATH", no_git.path())
            .output()
            .is_err(),
        "git must not be reachable on the PATH the steps run with"
    );
    assert!(!root.join(".git").exists());
    let run = |step: &str| {
        let mut cmd = mlgate();
        aws_env(&mut cmd, &moto.url, &moto.url);
        cmd.current_dir(&root)
            .args([step, "--config", EXAMPLE_CONFIG, "--out", "out"])
            .env("PATH", no_git.path())
            .env("GITHUB_ACTIONS", "true")
            .env("GITHUB_SHA", SHA)
            .env("GITHUB_REPOSITORY", "o/r")
            .env("GITHUB_TOKEN", TOKEN)
            .env("MLGATE_FORGE_BACKOFF_MS", "1")
            .env_remove("GITHUB_EVENT_PATH");
        let (code, stdout, stderr) = outcome(&mut cmd);
        // GitHub hides the token after `::add-mask::`; nothing else may carry it.
        let unmasked = stdout.lines().filter(|l| !l.starts_with("::add-mask::"));
        assert!(!unmasked.collect::<String>().contains(TOKEN) && !stderr.contains(TOKEN));
        (code, stdout, stderr)
    };
    let (code, stdout, stderr) = run("train");
    assert_eq!(code, 0, "{stdout}{stderr}");
    let train: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(root.join("out/churn/train.json")).unwrap())
            .unwrap();
    assert_eq!(train[0]["data"]["lineage"]["git_commit"], SHA);
    let (code, stdout, stderr) = run("compare");
    assert_eq!(code, 0, "{stdout}{stderr}");
    assert!(
        stdout.contains(&format!(
            "Production `{production}` and the candidate were both scored on the same evaluation data"
        )),
        "{stdout}"
    );
    assert!(
        stdout.contains("production history and candidate"),
        "{stdout}"
    );
    let (code, stdout, stderr) = run("deploy");
    assert_eq!(code, 0, "{stdout}{stderr}");
    assert!(
        stdout.contains(&format!("deployed `{production}` as `model/churn/v1`")),
        "{stdout}"
    );
    let published = get_object(
        &moto.url,
        "s3://mlgate-engine/mlgate/models/churn/production.yaml",
    )
    .expect("the pointer is published to the store");
    let published = String::from_utf8(published).unwrap();
    assert!(
        published.contains(&format!("version: {production}")),
        "{published}"
    );
    drop(server);
}
