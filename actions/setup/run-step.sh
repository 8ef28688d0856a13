#!/usr/bin/env bash
# Runs one mlgate step for a step action: `run-step.sh STEP FLAG...` calls `mlgate STEP`
# with `--FLAG=VALUE` for each FLAG whose input is set (the action hands input `x-y` over
# as the environment variable INPUT_X_Y; `verbose` is a count, N times `-v`).
#
# When mlgate is not on PATH yet, install.sh beside this file installs the pinned release
# first (verified and cached, as the setup action does). mlgate's exit code is the step's
# (0 ok, 1 gate or validation failed, 2 usage/config/input, 3 external service) and the
# output `exit-code`; mlgate itself writes `status`, `report_dir`, `models` and the rest.
set -uo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
step=$1
shift
args=("$step")
# One `tr` for every flag name: bash 3.2 (macOS) has no ${x^^}.
names=$(printf '%s\n' "$@" | tr 'a-z-' 'A-Z_')
for flag in "$@"; do
  name=INPUT_${names%%$'\n'*}
  names=${names#*$'\n'}
  value=${!name-}
  [ -n "$value" ] || continue
  if [ "$flag" = verbose ]; then
    case "$value" in
      true) value=1 ;;
      false) value=0 ;;
      *[!0-9]*)
        echo "::error title=mlgate $step::input verbose must be a count (0, 1, 2, ...) or true/false, not '$value'"
        exit 2
        ;;
    esac
    while [ "$value" -gt 0 ]; do
      args+=(-v)
      value=$((value - 1))
    done
  else
    args+=("--$flag=$value")
  fi
done

if ! command -v mlgate >/dev/null 2>&1; then
  # The step's own inputs (its --version is a model version) are not setup's.
  bin=$(INPUT_VERSION='' INPUT_BINARY='' INPUT_CARGO_INSTALL='' INPUT_RELEASE_URL='' GITHUB_OUTPUT='' \
    bash "$here/install.sh" --print-path) || exit $?
  PATH=$(dirname "$bin"):$PATH
fi

printf '+ mlgate'
printf ' %q' "${args[@]}"
printf '\n'
mlgate "${args[@]}"
code=$?
if [ -n "${GITHUB_OUTPUT:-}" ]; then echo "exit-code=$code" >>"$GITHUB_OUTPUT"; fi
exit "$code"
