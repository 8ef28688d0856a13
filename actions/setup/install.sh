#!/usr/bin/env bash
# Installs mlgate for the `setup` action (and for a step action that finds no mlgate on
# PATH). Every input arrives as an environment variable, never spliced into the script:
#
#   INPUT_VERSION        release to install (default: the pin in ./version beside this file)
#   INPUT_BINARY         a local binary to use as is (no checksum: said so in the log)
#   INPUT_CARGO_INSTALL  `true`: build from crates.io with `cargo install --locked`
#   INPUT_RELEASE_URL    base URL of release downloads (else $MLGATE_RELEASE_URL, else
#                        https://github.com/mlgate/mlgate/releases/download)
#
# A release is `<release-url>/v<version>/mlgate-<version>-<target>.tar.gz` holding `mlgate`
# (Windows: `.zip` holding `mlgate.exe`). Its SHA-256 must be the one `checksums.txt` beside
# this file lists for that name, or nothing is installed. A verified binary is kept in the
# runner's tool cache, `$RUNNER_TOOL_CACHE/mlgate/<version>/<arch>/`, and used from there
# on the next run. The binary's folder is added to `$GITHUB_PATH`; the outputs `path` (the
# binary) and `version` go to `$GITHUB_OUTPUT`. With `--print-path`, the binary's path is
# also printed on stdout (everything else goes to stderr).
#
# Exit codes: 0 installed; 2 a wrong input (unknown version or platform, missing binary);
# 3 the download, the checksum, the archive or the binary itself failed.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
print_path=false
[ "${1-}" = --print-path ] && print_path=true

log() { printf 'mlgate setup: %s\n' "$*" >&2; }
# A one-line message as an error annotation, then the exit code.
fail() {
  local code=$1
  shift
  printf '::error title=mlgate setup::%s\n' "$*" >&2
  exit "$code"
}

is_windows=false
case "${RUNNER_OS:-$(uname -s)}" in
  Windows | MINGW* | MSYS* | CYGWIN*) is_windows=true ;;
esac
exe=mlgate
$is_windows && exe=mlgate.exe

# A path as Windows programs (the runner reading $GITHUB_PATH) want it.
native_path() {
  if $is_windows && command -v cygpath >/dev/null 2>&1; then cygpath -w "$1"; else printf '%s\n' "$1"; fi
}
unix_path() {
  if $is_windows && command -v cygpath >/dev/null 2>&1; then cygpath -u "$1"; else printf '%s\n' "$1"; fi
}

# The binary's version as it reports it (`mlgate 0.1.0` -> `0.1.0`), empty if it cannot run.
binary_version() {
  local out
  out=$("$1" --version 2>/dev/null) || return 0
  printf '%s\n' "${out#mlgate }"
}

# Puts the folder holding `mlgate` on PATH (this step and later ones) and sets the outputs.
publish() {
  local dir=$1 version=$2
  if [ -n "${GITHUB_PATH:-}" ]; then native_path "$dir" >>"$GITHUB_PATH"; fi
  if [ -n "${GITHUB_OUTPUT:-}" ]; then
    {
      printf 'path=%s\n' "$(native_path "$dir/$exe")"
      printf 'version=%s\n' "$version"
    } >>"$GITHUB_OUTPUT"
  fi
  if $print_path; then printf '%s\n' "$dir/$exe"; fi
  log "mlgate $version is at $dir/$exe"
}

lower() { printf '%s' "$1" | tr '[:upper:]' '[:lower:]'; }

is_true() {
  case "$(lower "$1")" in
    true | yes | 1) return 0 ;;
    false | no | 0 | '') return 1 ;;
    *) fail 2 "cargo-install must be true or false, not '$1'" ;;
  esac
}

temp_root=$(unix_path "${RUNNER_TEMP:-${TMPDIR:-/tmp}}")
cache_root=$(unix_path "${RUNNER_TOOL_CACHE:-$temp_root/tool-cache}")/mlgate

# 1. A local binary: used as it is, never copied into the tool cache.
if [ -n "${INPUT_BINARY:-}" ]; then
  binary=$(unix_path "$INPUT_BINARY")
  [ -f "$binary" ] || fail 2 "binary '$INPUT_BINARY' does not exist"
  [ -x "$binary" ] || $is_windows || fail 2 "binary '$INPUT_BINARY' is not executable"
  version=$(binary_version "$binary")
  [ -n "$version" ] || fail 3 "binary '$INPUT_BINARY' does not run here ('--version' failed)"
  log "using the local binary $INPUT_BINARY: its checksum is NOT verified (no release download)"
  printf '::notice title=mlgate setup::using the local binary %s (mlgate %s), checksum not verified\n' \
    "$INPUT_BINARY" "$version" >&2
  # A folder of its own, so PATH gains `mlgate` and nothing else whatever the file's name.
  dir=$(mktemp -d "$temp_root/mlgate-local.XXXXXX")
  if $is_windows; then cp "$binary" "$dir/$exe"; else ln -s "$(cd "$(dirname "$binary")" && pwd)/$(basename "$binary")" "$dir/$exe"; fi
  publish "$dir" "$version"
  exit 0
fi

version=${INPUT_VERSION:-}
if [ -z "$version" ]; then
  version=$(tr -d ' \r\n' <"$here/version")
fi
version=${version#v}
[[ $version =~ ^[0-9]+\.[0-9]+\.[0-9]+([-+][0-9A-Za-z.-]+)?$ ]] ||
  fail 2 "version '$version' is not a release version (like 0.1.0)"

# The release target and the tool-cache architecture of this runner.
os=${RUNNER_OS:-$(uname -s)}
arch=${RUNNER_ARCH:-$(uname -m)}
case "$(lower "$os:$arch")" in
  linux:x64 | linux:x86_64 | linux:amd64) target=x86_64-unknown-linux-musl arch=x64 ;;
  linux:arm64 | linux:aarch64) target=aarch64-unknown-linux-musl arch=arm64 ;;
  macos:x64 | darwin:x86_64) target=x86_64-apple-darwin arch=x64 ;;
  macos:arm64 | darwin:arm64 | darwin:aarch64) target=aarch64-apple-darwin arch=arm64 ;;
  windows:x64 | mingw*:x86_64 | msys*:x86_64 | cygwin*:x86_64) target=x86_64-pc-windows-msvc arch=x64 ;;
  *) target='' ;;
esac
cache_dir=$cache_root/$version/$arch
marker=$cache_root/$version/$arch.complete

# 2. The tool cache: a folder is only there complete (moved in whole, marker written last).
if [ -f "$marker" ] && [ -x "$cache_dir/$exe" ]; then
  log "mlgate $version found in the tool cache ($(head -n 1 "$marker"))"
  publish "$cache_dir" "$version"
  exit 0
fi

# Moves a staged folder holding a checked binary into the cache, then writes the marker.
commit_to_cache() {
  local staged=$1 origin=$2
  # Another job sharing this tool cache finished the same install meanwhile: keep its copy.
  if [ -f "$marker" ] && [ -x "$cache_dir/$exe" ]; then return 0; fi
  mkdir -p "$cache_root/$version"
  rm -rf "$cache_dir"
  mv "$staged" "$cache_dir"
  printf '%s\n' "$origin" >"$marker"
}

# Runs the staged binary: it must start and be the version asked for.
check_binary() {
  local bin=$1 got
  [ -f "$bin" ] || fail 3 "$2 holds no $exe at its top level"
  chmod +x "$bin"
  got=$(binary_version "$bin")
  [ -n "$got" ] || fail 3 "the $exe in $2 does not run on this runner ($os $arch)"
  [ "$got" = "$version" ] || fail 3 "the $exe in $2 reports version '$got', not $version"
}

staging=$(mktemp -d "$temp_root/mlgate-setup.XXXXXX")
trap 'rm -rf "$staging"' EXIT

# 3. Built from crates.io, when asked.
if is_true "${INPUT_CARGO_INSTALL:-false}"; then
  command -v cargo >/dev/null 2>&1 || fail 2 "cargo-install is true but cargo is not on PATH (install Rust first)"
  log "building mlgate $version from crates.io (cargo install --locked); this takes minutes"
  cargo install --locked mlgate --version "=$version" --root "$staging/root" >&2 ||
    fail 3 "cargo install mlgate $version failed (see above)"
  [ -f "$staging/root/bin/$exe" ] || fail 3 "cargo install mlgate $version left no $exe in $staging/root/bin"
  mkdir "$staging/bin"
  mv "$staging/root/bin/$exe" "$staging/bin/$exe"
  check_binary "$staging/bin/$exe" "the cargo build"
  commit_to_cache "$staging/bin" "cargo install --locked mlgate --version =$version"
  publish "$cache_dir" "$version"
  exit 0
fi

# 4. A release download, verified against checksums.txt.
[ -n "$target" ] ||
  fail 2 "no mlgate release is built for $os $arch; set 'cargo-install: true' to build it, or 'binary'"
if $is_windows; then archive=mlgate-$version-$target.zip; else archive=mlgate-$version-$target.tar.gz; fi
expected=$(awk -v f="$archive" '{ name = $2; sub(/^\*/, "", name) } name == f { print $1; exit }' "$here/checksums.txt")
[[ $expected =~ ^[0-9a-f]{64}$ ]] ||
  fail 2 "$archive is not in actions/setup/checksums.txt, so it cannot be verified: use a version listed there, or 'binary' / 'cargo-install'"

base=${INPUT_RELEASE_URL:-${MLGATE_RELEASE_URL:-https://github.com/mlgate/mlgate/releases/download}}
url=${base%/}/v$version/$archive
command -v curl >/dev/null 2>&1 || fail 2 "curl is needed to download $url"
log "downloading $url"
curl -fsSL --retry 3 --retry-delay 1 --connect-timeout 20 -o "$staging/$archive" "$url" ||
  fail 3 "could not download $url"

if command -v sha256sum >/dev/null 2>&1; then
  actual=$(sha256sum "$staging/$archive" | awk '{ print $1 }')
else
  actual=$(shasum -a 256 "$staging/$archive" | awk '{ print $1 }')
fi
if [ "$actual" != "$expected" ]; then
  fail 3 "refusing $archive from $base: its SHA-256 is $actual but actions/setup/checksums.txt lists $expected (tampered or corrupted download); nothing was installed"
fi
log "SHA-256 verified: $actual  $archive"

mkdir "$staging/bin"
if $is_windows; then
  if command -v unzip >/dev/null 2>&1; then
    unzip -q "$staging/$archive" "$exe" -d "$staging/bin" || fail 3 "$archive is not a zip holding $exe"
  else
    powershell -NoProfile -NonInteractive -Command \
      "Expand-Archive -LiteralPath '$(native_path "$staging/$archive")' -DestinationPath '$(native_path "$staging/bin")'" >&2 ||
      fail 3 "$archive is not a zip holding $exe"
  fi
else
  tar -xzf "$staging/$archive" -C "$staging/bin" "$exe" || fail 3 "$archive is not a .tar.gz holding $exe"
fi
check_binary "$staging/bin/$exe" "$archive"
commit_to_cache "$staging/bin" "$actual  $archive"
publish "$cache_dir" "$version"
