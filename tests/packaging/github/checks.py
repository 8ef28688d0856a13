"""Static checks of the GitHub actions and workflows, for tests/packaging/github.sh.

  checks.py actions ROOT MLGATE_BINARY OUTDIR
      Every actions/<x>/action.yml: metadata (name, description, branding), a composite
      action whose run steps name their shell and get inputs only through `env:`; each step
      action's inputs are exactly the long flags of `mlgate <step> --help`, its outputs the
      documented ones, its README lists its permissions. Writes for each action a workflow
      holding its steps (OUTDIR/workflows/, for actionlint) and each run script
      (OUTDIR/scripts/, for shellcheck).
  checks.py workflows OUTDIR WORKFLOW...
      The example and release workflows: top-level permissions `{}` or read-only, every job
      with its own permissions; the pull-request workflow's write scopes only on the job
      that comments, which runs `if: always()`; every `uses: mlgate/mlgate/actions/<x>@…`
      names an action of this repository and passes only its inputs. Writes each run
      script to OUTDIR/scripts/.
"""

import json
import pathlib
import re
import subprocess
import sys

import yaml

STEPS = [
    "validate-data", "train", "evaluate", "validate-model", "compare",
    "promote", "deploy", "comment", "predict", "run",
]
OUTPUTS = {"status", "report-dir", "models", "exit-code"}
ICONS_HINT = "a Feather icon name"
EXPR = re.compile(r"\$\{\{(.*?)\}\}", re.S)
errors = []


def err(msg):
    errors.append(msg)


def load(path):
    # yaml 1.1 reads a bare `on:` as True: keep keys as strings.
    class Loader(yaml.SafeLoader):
        pass

    Loader.yaml_implicit_resolvers = {
        k: [(tag, r) for tag, r in v if tag != "tag:yaml.org,2002:bool"]
        for k, v in yaml.SafeLoader.yaml_implicit_resolvers.items()
    }
    with open(path, encoding="utf-8") as f:
        return yaml.load(f, Loader=Loader)


def cli_flags(binary, step):
    out = subprocess.run([binary, step, "--help"], capture_output=True, text=True, check=True).stdout
    flags = re.findall(r"^\s+(?:-\w, )?--([a-z][a-z0-9-]*)", out, re.M)
    return [f for f in flags if f != "help"]


def script_file(outdir, name, script):
    """A run script with `${{ … }}` replaced by a plain word, as the runner would expand it."""
    text = EXPR.sub("EXPR", script)
    p = pathlib.Path(outdir) / "scripts" / (re.sub(r"[^A-Za-z0-9_.-]", "_", name) + ".sh")
    p.parent.mkdir(parents=True, exist_ok=True)
    # `shell: bash` runs `bash --noprofile --norc -eo pipefail {0}`.
    p.write_text("#!/usr/bin/env bash\nset -eo pipefail\n" + text)


def check_actions(root, binary, outdir):
    root = pathlib.Path(root)
    found = sorted(p.parent.name for p in (root / "actions").glob("*/action.yml"))
    for step in STEPS:
        if step not in found:
            err(f"actions/{step}/action.yml is missing")
    for name in found:
        path = root / "actions" / name / "action.yml"
        where = f"actions/{name}/action.yml"
        a = load(path)
        for key in ("name", "description", "branding", "runs"):
            if not a.get(key):
                err(f"{where}: no {key}")
        if len(a.get("description", "")) > 125:
            err(f"{where}: description longer than 125 characters (the Marketplace cuts it)")
        b = a.get("branding") or {}
        if not (b.get("icon") and b.get("color")):
            err(f"{where}: branding needs icon ({ICONS_HINT}) and color")
        runs = a.get("runs") or {}
        if runs.get("using") != "composite":
            err(f"{where}: runs.using must be composite")
        inputs = a.get("inputs") or {}
        for i, s in enumerate(runs.get("steps") or []):
            if "run" in s:
                if s.get("shell") != "bash":
                    err(f"{where}: step {i} must say `shell: bash`")
                if "inputs." in s["run"] or "${{" in s["run"]:
                    err(f"{where}: step {i} splices an expression into its script; pass it through env:")
                script_file(outdir, f"action-{name}-{i}", s["run"])
        for out, spec in (a.get("outputs") or {}).items():
            if "value" not in spec:
                err(f"{where}: output {out} has no value")
        readme = root / "actions" / name / "README.md"
        if not readme.exists():
            err(f"actions/{name}/README.md is missing")
        if name in STEPS:
            flags = cli_flags(binary, name)
            if sorted(inputs) != sorted(flags):
                err(f"{where}: inputs {sorted(inputs)} are not the flags of `mlgate {name}` {sorted(flags)}")
            if set(a.get("outputs") or {}) != OUTPUTS:
                err(f"{where}: outputs {sorted(a.get('outputs') or {})}, expected {sorted(OUTPUTS)}")
            run = runs.get("steps", [{}])[0]
            env = run.get("env") or {}
            for i in inputs:
                var = "INPUT_" + i.upper().replace("-", "_")
                if env.get(var) != "${{ inputs.%s }}" % i:
                    err(f"{where}: input {i} must reach the script as env {var}")
            if f"run-step.sh\" {name} " not in run.get("run", ""):
                err(f"{where}: the script must be run-step.sh {name} …")
            text = readme.read_text() if readme.exists() else ""
            if "## Permissions" not in text:
                err(f"actions/{name}/README.md: no Permissions section")
        # The action's steps as a workflow's, for actionlint: `inputs` are workflow_dispatch's.
        wf = {
            "name": f"action {name}",
            "on": {"workflow_dispatch": {"inputs": {k: {"type": "string", "required": False} for k in inputs}}},
            "permissions": {},
            "jobs": {"action": {"runs-on": "ubuntu-latest", "steps": runs.get("steps") or []}},
        }
        p = pathlib.Path(outdir) / "workflows" / f"action-{name}.yml"
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(yaml.safe_dump(wf, sort_keys=False))


def action_inputs(root, name):
    path = pathlib.Path(root) / "actions" / name / "action.yml"
    if not path.exists():
        return None
    return set((load(path).get("inputs") or {}))


WRITE_SCOPES = {"pull-requests", "checks", "statuses"}


def check_workflows(outdir, files):
    root = pathlib.Path(__file__).resolve().parents[3]
    for f in files:
        w = load(f)
        where = pathlib.Path(f).name
        top = w.get("permissions")
        if top is None:
            err(f"{where}: no top-level permissions (the default token may write everything)")
        elif top not in ({}, "read-all") and not (
            isinstance(top, dict) and all(v in ("read", "none") for v in top.values())
        ):
            err(f"{where}: top-level permissions must be {{}} or read-only, not {top}")
        for job_name, job in (w.get("jobs") or {}).items():
            jw = f"{where}: job {job_name}"
            perms = job.get("permissions")
            if perms is None:
                err(f"{jw}: no permissions of its own")
                perms = {}
            for i, s in enumerate(job.get("steps") or []):
                if "run" in s:
                    script_file(outdir, f"{where}-{job_name}-{i}", s["run"])
                uses = s.get("uses", "")
                m = re.fullmatch(r"mlgate/mlgate/actions/([a-z-]+)@\S+", uses)
                if m:
                    known = action_inputs(root, m[1])
                    if known is None:
                        err(f"{jw}: uses {uses}, which is not an action of this repository")
                    else:
                        extra = set(s.get("with") or {}) - known
                        if extra:
                            err(f"{jw}: {uses} has no input {sorted(extra)}")
            if where == "mlgate-pull-request.yml":
                comments = any("actions/comment@" in s.get("uses", "") for s in job.get("steps") or [])
                writes = {k for k, v in perms.items() if v == "write"}
                if comments:
                    if job.get("if") != "always()":
                        err(f"{jw}: the job that comments must run `if: always()`")
                    if writes != WRITE_SCOPES:
                        err(f"{jw}: writes {sorted(writes)}, expected {sorted(WRITE_SCOPES)}")
                elif writes:
                    err(f"{jw}: runs the pull request's code, so it must not write ({sorted(writes)})")
                elif perms != {"contents": "read"}:
                    err(f"{jw}: permissions {perms}, expected contents: read")


def main():
    cmd = sys.argv[1]
    if cmd == "actions":
        check_actions(sys.argv[2], sys.argv[3], sys.argv[4])
    elif cmd == "workflows":
        check_workflows(sys.argv[2], sys.argv[3:])
    else:
        sys.exit(f"unknown command {cmd}")
    for e in errors:
        print(f"checks.py: {e}", file=sys.stderr)
    sys.exit(1 if errors else 0)


if __name__ == "__main__":
    main()
