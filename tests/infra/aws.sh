#!/usr/bin/env bash
# The AWS infrastructure's checks, offline and without credentials:
#   cfn-lint, `sam validate` (the SAM translator) and `sam validate --lint` on
#   infra/aws/template.yaml; checkov (every skipped check named, with its reason, in the
#   template's Metadata); the permission checker (code <-> infra/permissions/aws.yaml <->
#   template <-> docs/deploy-aws.md), its self-test; and the delivery path on moto
#   (tests/infra/aws-notification.py, which leaves .cache/infra/notification-body.json);
#   and the sample Lambda events against their generator.
# Installs its tools on first use (scripts/infra-tools, scripts/python-env); warm, it takes
# about a minute. Fails at the first failing step.
set -euo pipefail
cd "$(dirname "$0")/../.."
started=$SECONDS
template=infra/aws/template.yaml

bin=$(scripts/infra-tools)
python=$(scripts/python-env)
for tool in cfn-lint sam checkov python; do
  [ -x "$bin/$tool" ] || { echo "tests/infra/aws.sh: $tool is missing from $bin" >&2; exit 1; }
done
[ -x "$(dirname "$python")/moto_server" ] || { echo "tests/infra/aws.sh: moto_server is missing beside $python" >&2; exit 1; }

# Nothing here talks to AWS: a region for the tools that want one, no credentials, no telemetry.
export AWS_DEFAULT_REGION=eu-west-1 AWS_REGION=eu-west-1 SAM_CLI_TELEMETRY=0
unset AWS_PROFILE AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY AWS_SESSION_TOKEN
export AWS_CONFIG_FILE=/dev/null AWS_SHARED_CREDENTIALS_FILE=/dev/null

passed=0
step() {
  local name=$1 t0=$SECONDS
  shift
  echo "== $name"
  if "$@"; then
    passed=$((passed + 1))
    echo "   ok: $name ($((SECONDS - t0)) s)"
  else
    echo "tests/infra/aws.sh: FAILED: $name" >&2
    echo "$passed passed, 1 failed"
    exit 1
  fi
}

skips_have_reasons() {
  "$bin/python" - "$template" <<'EOF'
import sys
sys.path.insert(0, "tests/infra")
import cfn
bad = []
for name, r in cfn.load(sys.argv[1])["Resources"].items():
    for skip in ((r.get("Metadata") or {}).get("checkov") or {}).get("skip") or []:
        if not str(skip.get("id", "")).startswith("CKV") or len(str(skip.get("comment", ""))) < 20:
            bad.append(f"{name}: {skip}")
        else:
            print(f"   skipped {skip['id']} on {name}: {skip['comment']}")
for b in bad:
    print(f"a checkov skip without its check id or reason: {b}")
sys.exit(1 if bad else 0)
EOF
}

step "cfn-lint" "$bin/cfn-lint" "$template"
step "sam validate" "$bin/sam" validate -t "$template"
step "sam validate --lint" "$bin/sam" validate --lint -t "$template"
step "checkov skips are named with reasons" skips_have_reasons
step "checkov" "$bin/checkov" -f "$template" --framework cloudformation --skip-download --compact --quiet
step "permissions: code, list, template, docs" "$bin/python" tests/infra/check-aws-permissions.py
step "permissions: the checker catches what it should" "$bin/python" tests/infra/check-aws-permissions.py --self-test
step "notifications on moto" "$python" tests/infra/aws-notification.py
step "sample Lambda events are what their generator makes" functions/aws-lambda/tests/events/generate --check

echo "tests/infra/aws.sh: all checks passed in $((SECONDS - started)) s"
echo "$passed passed, 0 failed"
