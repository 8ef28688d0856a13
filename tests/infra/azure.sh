#!/usr/bin/env bash
# Static checks of the Azure infrastructure (infra/azure, infra/permissions/azure.yaml).
# Terraform and its providers cannot be fetched here, so nothing is planned or applied:
#
#   1. every .tf parses (python-hcl2) and every reference resolves (check-terraform.py);
#   2. the files are formatted as `terraform fmt` formats them: HashiCorp's hclwrite
#      formatter from npm (@cdktf/hcl-tools), plus `terraform fmt -check` itself when a
#      terraform binary is on PATH; and no tabs, trailing blanks or missing final newline;
#   3. checkov passes with no failed check, and every skip says why;
#   4. the role assignments hold to infra/permissions/azure.yaml, and its needs to the
#      Azure SDK calls of the Rust code (check-azure-permissions.py);
#   5. the two checkers still fail on a broken copy (account scope, Owner, an undeclared
#      variable, a blob call no need names), so a green run means something.
#
# Tools: scripts/infra-tools (checkov, python-hcl2, PyYAML) and the npm package above,
# installed under .cache/ on first use. Prints "N passed, M failed"; exits 1 on any failure.
set -euo pipefail
cd "$(dirname "$0")/../.."

dir=${MLGATE_AZURE_INFRA:-infra/azure}  # overridable, to try the checks on a copy
permissions=infra/permissions/azure.yaml
hcl_tools_pkg=@cdktf/hcl-tools@0.21.0
hcl_tools_prefix=.cache/hcl-tools
hcl_tools=$hcl_tools_prefix/node_modules/@cdktf/hcl-tools

die() { echo "tests/infra/azure.sh: $*" >&2; exit 1; }

# ---- tools (a missing one stops everything, loudly)
bin=$(scripts/infra-tools) || die "scripts/infra-tools failed: the IaC tools are not installed"
py=$bin/python
checkov=$bin/checkov
[ -x "$py" ] || die "no python in $bin (scripts/infra-tools)"
[ -x "$checkov" ] || die "no checkov in $bin (scripts/infra-tools)"
"$py" -c 'import hcl2, yaml' 2>/dev/null || die "$py lacks python-hcl2 or PyYAML (scripts/infra-tools)"
command -v node >/dev/null 2>&1 || die "node is required for the HCL formatter (Debian: apt-get install nodejs npm)"
if [ ! -f "$hcl_tools/package.json" ]; then
  command -v npm >/dev/null 2>&1 || die "npm is required to install $hcl_tools_pkg (Debian: apt-get install npm)"
  mkdir -p "$hcl_tools_prefix"
  npm install --prefix "$hcl_tools_prefix" --no-audit --no-fund --loglevel=error "$hcl_tools_pkg" >/dev/null ||
    die "npm could not install $hcl_tools_pkg"
  [ -f "$hcl_tools/package.json" ] || die "$hcl_tools_pkg did not install"
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
passed=0
failed=0
run() { # run NAME COMMAND...: one check, its output as it comes
  local name=$1 start=$SECONDS
  shift
  echo "== $name"
  if "$@"; then
    passed=$((passed + 1))
    echo "   ok: $name ($((SECONDS - start)) s)"
  else
    failed=$((failed + 1))
    echo "   FAILED: $name ($((SECONDS - start)) s)"
  fi
}

files=("$dir"/*.tf)
[ -f "$dir/terraform.tfvars.example" ] && files+=("$dir/terraform.tfvars.example")

references() {
  "$py" tests/infra/check-terraform.py "$dir"
}

formatting() {
  local ok=0 f out=$work/formatted
  mkdir -p "$out"
  node tests/infra/hcl-format.js "$hcl_tools" "$out" "${files[@]}" || return 1
  for f in "${files[@]}"; do
    diff -u --label "$f" --label "$f (formatted)" "$f" "$out/$(basename "$f")" || ok=1
  done
  # What hclwrite leaves alone: tabs, trailing blanks, the final newline.
  if grep -nP '\t' "${files[@]}"; then echo "tabs (indent with two spaces)"; ok=1; fi
  if grep -nP '[ \t]+$' "${files[@]}"; then echo "trailing whitespace"; ok=1; fi
  for f in "${files[@]}"; do
    if [ -n "$(tail -c1 "$f")" ] || [ -z "$(tail -c2 "$f" | tr -d '\n')" ]; then
      echo "$f: must end with exactly one newline"
      ok=1
    fi
  done
  if command -v terraform >/dev/null 2>&1; then
    TF_CLI_CONFIG_FILE=/dev/null terraform fmt -check -diff -recursive "$dir" || ok=1
  else
    echo "   (no terraform on PATH: hclwrite's formatting only)"
  fi
  [ $ok -eq 0 ] && echo "   ${#files[@]} files formatted"
  return $ok
}

scan() {
  local unexplained
  unexplained=$(grep -nE '#[[:space:]]*checkov:skip=[A-Z0-9_]+[[:space:]]*$' "$dir"/*.tf || true)
  if [ -n "$unexplained" ]; then
    echo "$unexplained"
    echo "every checkov skip says why: #checkov:skip=CKV_AZURE_xx:reason"
    return 1
  fi
  # --skip-download: no policies from the network; the version check is off too.
  CHECKOV_SKIP_VERSION_CHECK=true BC_SKIP_MAPPING=TRUE \
    "$checkov" -d "$dir" --framework terraform --skip-download --compact --quiet
}

permissions() {
  "$py" tests/infra/check-azure-permissions.py --terraform "$dir" --permissions "$permissions"
}

# The checkers must be able to fail: break a copy in each way below and expect each caught.
checkers_fail() {
  local copy=$work/broken out ok=0
  expect_failure() { # DESCRIPTION EXPECTED_TEXT FILE OLD NEW CHECKER...
    local what=$1 expected=$2 file=$3 old=$4 new=$5
    shift 5
    rm -rf "$copy" && cp -r "$dir" "$copy"
    "$py" - "$copy/$file" "$old" "$new" <<'EOF' || return 1
import sys
path, old, new = sys.argv[1:]
text = open(path).read()
if old not in text:
    sys.exit(f"{path}: the self-test's anchor is gone: {old!r}")
open(path, "w").write(text.replace(old, new, 1))
EOF
    if out=$("$@" 2>&1); then
      echo "not caught: $what"
      ok=1
    elif ! grep -qF "$expected" <<<"$out"; then
      echo "caught $what, but without \"$expected\":"
      echo "$out"
      ok=1
    else
      echo "   caught: $what"
    fi
  }
  local perms=("$py" tests/infra/check-azure-permissions.py --terraform "$copy" --permissions "$permissions")
  expect_failure "the store role at account scope" "(account scope)" identity.tf \
    "scope                = azurerm_storage_container.store.id" \
    "scope                = azurerm_storage_account.data.id" "${perms[@]}"
  expect_failure "Owner instead of Storage Blob Data Reader" "assigns Owner" identity.tf \
    'role_definition_name = "Storage Blob Data Reader"' 'role_definition_name = "Owner"' "${perms[@]}"
  expect_failure "the store role without its no-delete condition" "lacks the condition no-delete" identity.tf \
    'condition            = "${local.writes_under[var.store_container]} AND ${local.no_delete[var.store_container]}"' \
    'condition            = "${local.writes_under[var.store_container]}"' "${perms[@]}"
  expect_failure "an undeclared variable" "var.undeclared is not declared" outputs.tf \
    "value       = local.store_uri" "value       = var.undeclared" "$py" tests/infra/check-terraform.py "$copy"
  # The code check, on a copy of the Rust sources ($copy/../code) with one more blob call.
  rm -rf "$work/code" && mkdir -p "$work/code" && cp -r src "$work/code/"
  expect_failure "a blob delete no need names" "code calls BlobClient.delete" ../code/src/store/azure.rs \
    "use azure_storage_blob::BlobContainerClient;" \
    "use azure_storage_blob::BlobContainerClient;
fn prune(blob: &azure_storage_blob::BlobClient) { let _ = blob.delete(None); }" \
    "${perms[@]}" --source "$work/code"
  return $ok
}

run "parse and references (python-hcl2)" references
run "formatting (terraform fmt)" formatting
run "checkov" scan
run "permissions (infra/permissions/azure.yaml)" permissions
run "the checkers catch breakage" checkers_fail

echo "azure infra: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
