//! The infrastructure as code, checked by the tools a security review uses: the AWS SAM
//! template by cfn-lint, `sam validate --lint` and checkov, its bucket notification
//! delivered by moto; the Azure Terraform parsed, reference-checked, formatted and run
//! through checkov; both against the one list of permissions the code needs
//! (`infra/permissions/`). Each script installs its tools and fails loudly.

use crate::common::repo_root;
use std::process::Command;

fn run(script: &str) {
    let out = Command::new("bash")
        .arg(repo_root().join("tests/infra").join(script))
        .current_dir(repo_root())
        .output()
        .expect("the infra script starts");
    assert!(
        out.status.success(),
        "tests/infra/{script} failed ({}):\n{}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn the_aws_template_is_lint_clean_least_privilege_and_delivers() {
    run("aws.sh");
}

#[test]
fn the_azure_terraform_parses_is_formatted_and_least_privilege() {
    run("azure.sh");
}
