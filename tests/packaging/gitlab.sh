#!/usr/bin/env bash
# The GitLab CI/CD components (templates/) and the example pipeline
# (examples/churn/.gitlab-ci.yml), run by gitlab-ci-local with the shell executor.
#
# Usage: tests/packaging/gitlab.sh MLGATE_BINARY
#
# 1. Lints every component: a `spec:` document then one job; every `$[[ inputs.X ]]` used is
#    declared and every input used; every flag of `mlgate <step> --help` is an input of that
#    name; the setup block is the same everywhere; artifacts and reports as documented.
# 2. Checks the example's rules: which jobs a merge-request, trigger, API, schedule, web and
#    default-branch pipeline gets.
# 3. Runs the merge-request pipeline of the example (copied to the root of a scratch git
#    repository, the components included with `include: local:` and `binary:`):
#    validate-data → train → evaluate, validate-model → compare → comment. There is no local
#    GitLab: the comment job talks to a small local stand-in for GitLab's notes, statuses
#    and merge-request API (tests/packaging/gitlab/helpers.js). Asserts every job passes,
#    each job's dotenv report holds MLGATE_STATUS, MLGATE_REPORT_DIR, MLGATE_MODELS (and
#    train's MLGATE_CHURN_CANDIDATE), a later job sees them, each job's JUnit report glob
#    matches its own XML, the note is posted and then edited in place, the status is set,
#    and the token never shows in a log. Then the retraining pipeline (trigger, with
#    MLGATE_MODEL and MLGATE_OBJECT): mlgate-run commits the promotion and opens its merge
#    request.
# 4. The merge-request pipeline with a change that fails the gate (changes/regress.patch):
#    compare fails with exit 1, comment still runs and reports the failure; then with a bad
#    data file: validate-data fails with exit 1, nothing is trained, comment reports it.
# 5. The download: a release archive served locally is installed when its SHA-256 is the
#    pinned one (and mlgate gets the job's flags), refused with exit 3 when it is not, not
#    fetched at all (exit 2) when no checksum is pinned, exit 3 when it cannot be fetched.
#
# Installs what it needs under .cache/ (ignored by git): npm gitlab-ci-local@4.73.0 (newer
# releases need Node 22) and Debian's rsync. Fails, never skips, when it cannot. Needs node,
# git and python3. KEEP_WORK=1 keeps the scratch folder (logs, gitlab-ci-local's state).
set -euo pipefail

# Messages may hold \n for a line break.
die() { printf 'tests/packaging/gitlab.sh: FAIL: %b\n' "$*" >&2; exit 1; }
step() { echo "== $*"; }

[ $# -eq 1 ] || die "usage: tests/packaging/gitlab.sh MLGATE_BINARY"
[ -x "$1" ] || die "$1 is not an executable mlgate binary"
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
GCL_VERSION=4.73.0
CACHE="$ROOT/.cache/gitlab-ci-local"
GCL="$CACHE/node_modules/.bin/gitlab-ci-local"
export NODE_PATH="$CACHE/node_modules"
HELPERS="$ROOT/tests/packaging/gitlab/helpers.js"

# --- tools ---------------------------------------------------------------------------------
command -v node >/dev/null || die "node is required (gitlab-ci-local runs on it)"
command -v git >/dev/null || die "git is required"
if ! command -v rsync >/dev/null; then
  command -v apt-get >/dev/null || die "rsync is required by gitlab-ci-local --shell-isolation; install it"
  { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq rsync >/dev/null; } ||
    die "could not install rsync with apt-get"
fi
if [ "$("$GCL" --version 2>/dev/null)" != "$GCL_VERSION" ]; then
  command -v npm >/dev/null || die "npm is required to install gitlab-ci-local"
  mkdir -p "$CACHE"
  npm install --prefix "$CACHE" --no-audit --no-fund --loglevel=error "gitlab-ci-local@$GCL_VERSION" >/dev/null ||
    die "could not install gitlab-ci-local@$GCL_VERSION with npm"
  [ "$("$GCL" --version)" = "$GCL_VERSION" ] || die "gitlab-ci-local@$GCL_VERSION did not install"
fi

WORK=$(mktemp -d "${TMPDIR:-/tmp}/mlgate-gitlab.XXXXXX")
FAKE_PID=
cleanup() {
  if [ -n "$FAKE_PID" ]; then kill "$FAKE_PID" 2>/dev/null || true; fi
  [ -n "${KEEP_WORK:-}" ] || rm -rf "$WORK"
}
trap cleanup EXIT
# The binary may be rebuilt while this runs: use a copy.
cp "$1" "$WORK/mlgate"
BIN="$WORK/mlgate"

# --- 1. lint -------------------------------------------------------------------------------
step "lint templates/*.yml"
node "$HELPERS" lint "$ROOT/templates" "$BIN" || die "the components do not pass the lint"
command -v python3 >/dev/null || die "python3 is required (scripts/pin-gitlab-components)"
"$ROOT/scripts/pin-gitlab-components" --check ||
  die "the components' mlgate-version and sha256sums defaults are not the release pinned in actions/setup/"

# --- the scratch repository ----------------------------------------------------------------
REPO="$WORK/repo"
mkdir -p "$REPO"
# The example's tracked files at the root, as in a user's repository.
(cd "$ROOT" && git ls-files -z examples/churn) | while IFS= read -r -d '' f; do
  rel=${f#examples/churn/}
  mkdir -p "$REPO/$(dirname "$rel")"
  cp "$ROOT/$f" "$REPO/$rel"
done
[ -f "$REPO/mlgate.yaml" ] || die "examples/churn/mlgate.yaml is not tracked by git"
cp "$ROOT/examples/churn/.gitlab-ci.yml" "$REPO/.gitlab-ci.yml.example"
cp -r "$ROOT/templates" "$REPO/templates"
node "$HELPERS" pipeline "$REPO/.gitlab-ci.yml.example" "$REPO/.gitlab-ci.yml" "$BIN"
rm "$REPO/.gitlab-ci.yml.example"
printf '.mlgate/\n.gitlab-ci-local/\n' >"$REPO/.gitignore"
export GIT_AUTHOR_NAME=test GIT_AUTHOR_EMAIL=test@example.com GIT_COMMITTER_NAME=test GIT_COMMITTER_EMAIL=test@example.com
git -C "$REPO" init -q -b feature
git -C "$REPO" remote add origin https://gitlab.example.com/acme/churn.git
git -C "$REPO" add -A
git -C "$REPO" commit -qm "churn example"
# The remote's default branch, where gitlab-ci-local reads CI_DEFAULT_BRANCH.
git -C "$REPO" update-ref refs/remotes/origin/main HEAD
git -C "$REPO" symbolic-ref refs/remotes/origin/HEAD refs/remotes/origin/main

# gitlab-ci-local in the scratch repository: shell executor, jobs isolated in their own
# copies with artifacts passed as GitLab passes them (not copied back to the checkout).
# Shell jobs inherit this process's environment: nothing of the CI this runs in (GitHub
# Actions would win mlgate's CI detection) or of a token reaches them.
gcl() {
  (cd "$REPO" && env -u GITHUB_ACTIONS -u GITLAB_CI -u GITHUB_TOKEN -u GH_TOKEN -u GITLAB_TOKEN \
    -u CI_JOB_TOKEN -u MLGATE_CONFIG -u MLGATE_DOTENV -u MLGATE_LOG -u MLGATE_MODEL -u MLGATE_OBJECT \
    "$GCL" --force-shell-executor --shell-isolation --no-artifacts-to-source \
    --no-color --max-job-name-padding 0 "$@")
}
# Variables of a pipeline of the given source; suppresses the warning about overriding them.
PREDEFINED=GITLAB_CI,CI_PIPELINE_SOURCE,CI_API_V4_URL,CI_MERGE_REQUEST_IID,CI_MERGE_REQUEST_PROJECT_ID,CI_MERGE_REQUEST_SOURCE_PROJECT_ID,CI_MERGE_REQUEST_TARGET_BRANCH_NAME,CI_COMMIT_BRANCH,CI_DEFAULT_BRANCH
# gitlab-ci-local sets GITLAB_CI=false; mlgate acts as on GitLab only when it is true.
source_vars() { echo "--ignore-predefined-vars $PREDEFINED --variable GITLAB_CI=true --variable CI_PIPELINE_SOURCE=$1"; }

# --- 2. the example's rules ----------------------------------------------------------------
step "which jobs each kind of pipeline gets"
jobs_of() {
  # shellcheck disable=SC2046
  gcl --list-csv $(source_vars "$1") "${@:2}" 2>"$WORK/list.err" | tail -n +2 | cut -d';' -f1 | sort | tr '\n' ' ' ||
    die "gitlab-ci-local --list-csv failed: $(cat "$WORK/list.err")"
}
expect_jobs() {
  local got
  got=$(jobs_of "$@")
  [ "$got" = "$EXPECTED " ] || die "a $1 pipeline gets jobs [$got], expected [$EXPECTED ]"
}
EXPECTED="mlgate-comment mlgate-compare mlgate-evaluate mlgate-train mlgate-validate-data mlgate-validate-model"
expect_jobs merge_request_event
EXPECTED=mlgate-run
expect_jobs trigger
expect_jobs api
expect_jobs schedule
expect_jobs web
EXPECTED=mlgate-deploy
expect_jobs push --variable CI_COMMIT_BRANCH=main --variable CI_DEFAULT_BRANCH=main
got=$(jobs_of push --variable CI_COMMIT_BRANCH=feature --variable CI_DEFAULT_BRANCH=main)
[ -z "$got" ] || die "a push to a feature branch gets jobs [$got], expected none (workflow:rules)"

# --- 3. the merge-request pipeline ---------------------------------------------------------
mkdir -p "$WORK/releases"
node "$HELPERS" fake-gitlab "$WORK/port" "$WORK/requests" "$WORK/releases" >"$WORK/fake.log" 2>&1 &
FAKE_PID=$!
for _ in $(seq 50); do [ -s "$WORK/port" ] && break; sleep 0.1; done
[ -s "$WORK/port" ] || die "the fake GitLab API did not start: $(cat "$WORK/fake.log")"
PORT=$(cat "$WORK/port")
TOKEN="glpat-mlgate-packaging-test-$$"
MR_JOBS=(mlgate-validate-data mlgate-train mlgate-evaluate mlgate-validate-model mlgate-compare mlgate-comment)

# Runs the merge-request pipeline (or the jobs named after $1, with the artifacts of the run
# before); its output goes to $WORK/$1.out, its exit code is returned.
run_mr() {
  local name=$1 rc=0 started
  shift
  started=$(date +%s)
  [ $# -gt 0 ] || rm -rf "$REPO/.gitlab-ci-local"
  # shellcheck disable=SC2046
  gcl $(source_vars merge_request_event) \
    --variable CI_MERGE_REQUEST_IID=7 \
    --variable CI_MERGE_REQUEST_PROJECT_ID=42 --variable CI_MERGE_REQUEST_SOURCE_PROJECT_ID=42 \
    --variable CI_MERGE_REQUEST_TARGET_BRANCH_NAME=main \
    --variable "CI_API_V4_URL=http://127.0.0.1:$PORT/api/v4" \
    --variable "GITLAB_TOKEN=$TOKEN" \
    --variable MLGATE_FORGE_BACKOFF_MS=1 \
    "$@" >"$WORK/$name.out" 2>&1 || rc=$?
  echo "   gitlab-ci-local: $(($(date +%s) - started)) s, exit $rc"
  return $rc
}
# The verdict gitlab-ci-local printed for a job: PASS, or FAIL with the job's exit code.
verdict() {
  local line
  line=$(grep -E "^$1 +finished in " "$WORK/$2.out" | tail -n 1) || { echo "not-run"; return; }
  case "$line" in
    *"FAIL "*) line=${line##*FAIL }; echo "FAIL ${line%% *}" ;;
    *) echo PASS ;;
  esac
}
expect_verdict() { # JOB RUN EXPECTED
  local got
  got=$(verdict "$1" "$2")
  [ "$got" = "$3" ] || die "$1 in the $2 pipeline: $got, expected $3 (log: $(tail -n 40 "$WORK/$2.out"))"
}
dotenv_of() { # JOB STEP: the job's dotenv report (and checks its JUnit report)
  node "$HELPERS" artifacts "$REPO/.gitlab-ci-local" "$1" "$2" .mlgate/reports ||
    die "$1: reports not as expected"
}
requests() { node "$HELPERS" requests "$WORK/requests"; }

step "merge-request pipeline: ${MR_JOBS[*]}"
run_mr pass || die "the merge-request pipeline failed: $(tail -n 60 "$WORK/pass.out")"
for job in "${MR_JOBS[@]}"; do expect_verdict "$job" pass PASS; done

step "dotenv and JUnit reports"
CANDIDATE=
for job in "${MR_JOBS[@]}"; do
  s=${job#mlgate-}
  env=$(dotenv_of "$job" "$s")
  for want in "MLGATE_STATUS=pass" "MLGATE_REPORT_DIR=.mlgate/reports"; do
    grep -qxF "$want" <<<"$env" || die "$job's dotenv report lacks $want:\n$env"
  done
  models=$(grep '^MLGATE_MODELS=' <<<"$env") || die "$job's dotenv report lacks MLGATE_MODELS:\n$env"
  node -e 'const m = JSON.parse(process.argv[1].slice(14)); if (m.churn.status !== "pass") process.exit(1)' "$models" ||
    die "$job: MLGATE_MODELS is not JSON with churn passing: $models"
  [ "$(grep -c '^MLGATE_STATUS=' <<<"$env")" = 1 ] || die "$job's dotenv report repeats MLGATE_STATUS (outputs of earlier jobs mixed in):\n$env"
  if [ "$job" = mlgate-train ]; then
    CANDIDATE=$(sed -n 's/^MLGATE_CHURN_CANDIDATE=//p' <<<"$env")
    [[ "$CANDIDATE" =~ ^[0-9a-f]{16}$ ]] || die "train's dotenv report has no MLGATE_CHURN_CANDIDATE:\n$env"
    grep -qF "\"candidate\":\"$CANDIDATE\"" <<<"$models" || die "train's MLGATE_MODELS does not name candidate $CANDIDATE: $models"
  fi
done
# The candidate train stored reached compare through the artifacts (out and store-dir).
grep -qF "candidate \`$CANDIDATE\`" "$WORK/pass.out" || die "the compare job did not compare train's candidate $CANDIDATE"
# A later job gets the dotenv variables of the jobs before it: a job after compare prints them.
cat >>"$REPO/.gitlab-ci.yml" <<'EOF'
dotenv-probe:
  stage: .post
  rules: [{if: $CI_PIPELINE_SOURCE == "merge_request_event"}]
  script:
    - echo "seen status=$MLGATE_STATUS candidate=$MLGATE_CHURN_CANDIDATE report_dir=$MLGATE_REPORT_DIR"
EOF
git -C "$REPO" commit -qam "dotenv probe"
run_mr probe || die "the merge-request pipeline with the probe failed: $(tail -n 60 "$WORK/probe.out")"
grep -qF "seen status=pass candidate=$CANDIDATE report_dir=.mlgate/reports" "$WORK/probe.out" ||
  die "a later job did not get the dotenv variables: $(grep -F 'seen ' "$WORK/probe.out" || echo nothing printed)"

step "the note and the commit status"
SHA=$(git -C "$REPO" rev-parse HEAD~1)
got=$(requests)
grep -qF "POST /api/v4/projects/acme%2Fchurn/merge_requests/7/notes token=yes note-for=churn" <<<"$got" ||
  die "the comment job posted no note for churn on !7:\n$got"
grep -qF "POST /api/v4/projects/acme%2Fchurn/statuses/$SHA token=yes state=success name=mlgate/churn" <<<"$got" ||
  die "the comment job set no success status mlgate/churn on $SHA:\n$got"
# The second run (with the probe) found the note by its marker and edited it in place.
[ "$(grep -c 'POST .*/notes ' <<<"$got")" = 1 ] || die "the note was posted twice instead of updated:\n$got"
if grep -qF "token=no" <<<"$got"; then die "a request reached GitLab without the token:\n$got"; fi
if grep -rqF "$TOKEN" "$REPO/.gitlab-ci-local/output" "$WORK/pass.out" "$WORK/probe.out"; then
  die "the token was printed in a job log"
fi
: >"$WORK/requests"

step "retraining pipeline (trigger): mlgate-run promotes the new candidate"
rm -rf "$REPO/.gitlab-ci-local"
OBJECT=s3://acme-data/churn/incoming/2026-11-batch.csv
rc=0
# shellcheck disable=SC2046
gcl $(source_vars trigger) --variable CI_COMMIT_BRANCH=main --variable CI_DEFAULT_BRANCH=main \
  --variable "CI_API_V4_URL=http://127.0.0.1:$PORT/api/v4" --variable "GITLAB_TOKEN=$TOKEN" \
  --variable MLGATE_FORGE_BACKOFF_MS=1 \
  --variable MLGATE_MODEL=churn --variable "MLGATE_OBJECT=$OBJECT" >"$WORK/retrain.out" 2>&1 || rc=$?
[ "$rc" = 0 ] || die "the retraining pipeline failed: $(tail -n 60 "$WORK/retrain.out")"
expect_verdict mlgate-run retrain PASS
grep -qF "retraining churn after $OBJECT" "$WORK/retrain.out" || die "mlgate-run did not get MLGATE_MODEL and MLGATE_OBJECT"
# shellcheck disable=SC2016 # the job's command line as the log shows it
grep -qF -- '--model "$MLGATE_ARG_MODEL"' "$WORK/retrain.out" || die "mlgate-run did not pass --model"
env=$(dotenv_of mlgate-run run)
grep -qxF "MLGATE_CHURN_CANDIDATE=$CANDIDATE" <<<"$env" || die "mlgate-run's dotenv report lacks MLGATE_CHURN_CANDIDATE=$CANDIDATE:\n$env"
got=$(requests)
grep -qF "POST /api/v4/projects/acme%2Fchurn/repository/commits token=yes branch=mlgate/promote/churn start_branch=main" <<<"$got" ||
  die "mlgate-run committed no promotion to mlgate/promote/churn:\n$got"
grep -qF "POST /api/v4/projects/acme%2Fchurn/merge_requests token=yes source_branch=mlgate/promote/churn target_branch=main" <<<"$got" ||
  die "mlgate-run opened no promotion merge request:\n$got"
if grep -qF "token=no" <<<"$got"; then die "a request reached GitLab without the token:\n$got"; fi
if grep -rqF "$TOKEN" "$REPO/.gitlab-ci-local/output" "$WORK/retrain.out"; then die "the token was printed in a job log"; fi
: >"$WORK/requests"

# --- 4. failing cases ----------------------------------------------------------------------
step "a change that fails the gate"
git -C "$REPO" apply -p3 "$REPO/changes/regress.patch" || die "changes/regress.patch does not apply"
git -C "$REPO" commit -qam "regress"
run_mr gate && die "the pipeline passed although the gate failed"
for job in mlgate-validate-data mlgate-train mlgate-evaluate mlgate-validate-model; do expect_verdict "$job" gate PASS; done
expect_verdict mlgate-compare gate "FAIL 1"
expect_verdict mlgate-comment gate "FAIL 1"
expect_verdict dotenv-probe gate not-run
grep -q '^MLGATE_STATUS=fail$' <<<"$(dotenv_of mlgate-compare compare)" || die "compare's dotenv report does not say MLGATE_STATUS=fail"
got=$(requests)
grep -qF "state=failed name=mlgate/churn" <<<"$got" || die "the comment job set no failed status:\n$got"
grep -qE "^PUT /api/v4/projects/acme%2Fchurn/merge_requests/7/notes/[0-9]+ token=yes note-for=churn" <<<"$got" ||
  die "the comment job did not update its note:\n$got"
git -C "$REPO" reset -q --hard HEAD~1
: >"$WORK/requests"

step "a bad data file"
# A tenure that is not a number in the training data.
sed -i '2s/^\([^,]*\),[^,]*,/\1,many,/' "$REPO/data/train.csv"
git -C "$REPO" commit -qam "bad data"
run_mr baddata && die "the pipeline passed although the data is bad"
expect_verdict mlgate-validate-data baddata "FAIL 1"
for job in mlgate-train mlgate-evaluate mlgate-validate-model mlgate-compare; do expect_verdict "$job" baddata not-run; done
# gitlab-ci-local starts a `when: always` job only once every job of the stages before it has
# finished, and the skipped ones never do; GitLab runs it. So the comment job runs on its own,
# with the artifacts of that pipeline, as GitLab would run it.
expect_verdict mlgate-comment baddata not-run
run_mr baddata-comment mlgate-comment && die "the comment job passed although the data is bad"
expect_verdict mlgate-comment baddata-comment "FAIL 1"
grep -qE '^mlgate-validate-data +> .*(error|❌)' "$WORK/baddata.out" || die "validate-data did not say what is wrong"
grep -q '^MLGATE_STATUS=fail$' <<<"$(dotenv_of mlgate-validate-data validate-data)" || die "validate-data's dotenv report does not say MLGATE_STATUS=fail"
grep -qF "state=failed name=mlgate/churn" <<<"$(requests)" || die "the comment job set no failed status for the bad data"

# --- 5. the download -----------------------------------------------------------------------
step "setup: the pinned download is verified, then mlgate gets the job's flags"
# A release archive as scripts/release-package makes it (one file, `mlgate`) holding a stub
# that prints its arguments, served by the fake under /releases/v9.9.9/.
case "$(uname -m)" in
  x86_64 | amd64) TARGET=x86_64-unknown-linux-musl ;;
  aarch64 | arm64) TARGET=aarch64-unknown-linux-musl ;;
  *) die "no mlgate release target for $(uname -m)" ;;
esac
TGZ="mlgate-9.9.9-$TARGET.tar.gz"
mkdir -p "$WORK/stub" "$WORK/releases/v9.9.9"
# shellcheck disable=SC2016 # the stub's own script
printf '%s\n' '#!/bin/sh' \
  'if [ "$1" = --version ]; then echo "mlgate 9.9.9 (stub)"; exit 0; fi' \
  'echo "stub mlgate called with: $*"' >"$WORK/stub/mlgate"
chmod +x "$WORK/stub/mlgate"
tar -czf "$WORK/releases/v9.9.9/$TGZ" -C "$WORK/stub" mlgate
SUM=$(sha256sum "$WORK/releases/v9.9.9/$TGZ" | cut -d' ' -f1)
WRONG=$(printf tampered | sha256sum | cut -d' ' -f1)
OTHER=$(printf other | sha256sum | cut -d' ' -f1)
setup_include() { # JOB-NAME SHA256SUMS [VERSION]
  printf '%s\n' \
    "  - local: templates/evaluate.yml" \
    "    inputs:" \
    "      job-name: $1" \
    "      stage: test" \
    "      release-url: http://127.0.0.1:$PORT/releases/" \
    "      mlgate-version: ${3:-9.9.9}" \
    "      sha256sums: \"$2\"" \
    "      model: \$MLGATE_MODEL" \
    "      version: 0123456789abcdef" \
    "      verbose: 2"
}
{
  echo "stages: [test]"
  echo "include:"
  setup_include setup-verified "$OTHER  mlgate-9.9.9-not-this-target.tar.gz $SUM  $TGZ"
  setup_include setup-tampered "$WRONG  $TGZ"
  setup_include setup-unpinned ""
  setup_include setup-missing "$SUM  ${TGZ/9.9.9/9.9.8}" 9.9.8
} >"$REPO/setup-test.yml"
git -C "$REPO" add setup-test.yml
git -C "$REPO" commit -qm "setup test"
rm -rf "$REPO/.gitlab-ci-local"
rc=0
gcl --file setup-test.yml --variable MLGATE_MODEL=churn >"$WORK/setup.out" 2>&1 || rc=$?
[ "$rc" != 0 ] || die "the setup pipeline passed although three of its jobs must fail"
expect_verdict setup-verified setup PASS
want="stub mlgate called with: evaluate --config mlgate.yaml --out .mlgate/reports --format md --model churn --version 0123456789abcdef -vv"
grep -qF "$want" "$WORK/setup.out" ||
  die "the downloaded mlgate did not get the job's flags: $(grep -F setup-verified "$WORK/setup.out" | tail -n 20)"
expect_verdict setup-tampered setup "FAIL 3"
grep -qE "^setup-tampered +> error: refusing .*$TGZ: its SHA-256 is not the pinned one" "$WORK/setup.out" ||
  die "setup-tampered did not say why it refused the download"
if grep -qE "^setup-tampered +> stub" "$WORK/setup.out"; then die "setup-tampered ran the tampered download"; fi
expect_verdict setup-unpinned setup "FAIL 2"
grep -qE "^setup-unpinned +> error: sha256sums pins no checksum for $TGZ" "$WORK/setup.out" ||
  die "setup-unpinned did not say that no checksum is pinned"
expect_verdict setup-missing setup "FAIL 3"
grep -qE "^setup-missing +> error: could not download .*/v9.9.8/" "$WORK/setup.out" ||
  die "setup-missing did not say which download failed"

echo "tests/packaging/gitlab.sh: all GitLab packaging checks passed"
