#!/usr/bin/env python3
"""Holds mlgate's AWS permissions to one list, infra/permissions/aws.yaml.

(a) The code: every AWS SDK call in src/ and functions/*/src (test code aside) is found
    (a method call named like one of the SDK's operations, on a client of a service the
    file uses), mapped to its IAM action, and must be listed with that action; every call
    the list names must still be made.
(b) The SAM template, evaluated for several sets of parameters: each role (the
    function's, CI's OIDC role, the SageMaker execution role) must be granted exactly the
    list's actions on the list's scopes under the list's conditions: nothing more, nothing
    less, no wildcard action, no wildcard resource where the list has a scope.
(c) docs/deploy-aws.md's permission tables are the ones this list makes (--table prints
    them).

Usage: check-aws-permissions.py [--table | --update-doc | --self-test]. --update-doc
writes the tables into docs/deploy-aws.md; --self-test breaks the template, the list and
the code in memory, one way at a time, and fails unless each is caught.
Needs PyYAML (scripts/infra-tools' python has it)."""

import copy
import glob
import os
import re
import sys

import yaml

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.normpath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, HERE)
import cfn  # noqa: E402

TEMPLATE = os.path.join(ROOT, "infra/aws/template.yaml")
PERMISSIONS = os.path.join(ROOT, "infra/permissions/aws.yaml")
DOC = os.path.join(ROOT, "docs/deploy-aws.md")
SERVICES = ("s3", "sagemaker", "secretsmanager")

# IAM action of an SDK operation where it is not the operation's own name.
S3_ACTIONS = {
    "head_object": "GetObject",
    "get_object_attributes": "GetObject",
    "select_object_content": "GetObject",
    "list_objects": "ListBucket",
    "list_objects_v2": "ListBucket",
    "head_bucket": "ListBucket",
    "create_multipart_upload": "PutObject",
    "upload_part": "PutObject",
    "complete_multipart_upload": "PutObject",
    "copy_object": "PutObject",
    "upload_part_copy": "PutObject",
    "abort_multipart_upload": "AbortMultipartUpload",
    "list_parts": "ListMultipartUploadParts",
    "list_multipart_uploads": "ListBucketMultipartUploads",
    "list_object_versions": "ListBucketVersions",
    "delete_objects": "DeleteObject",
    "list_buckets": "ListAllMyBuckets",
}


def iam_action(service, op):
    if service == "s3" and op in S3_ACTIONS:
        return "s3:" + S3_ACTIONS[op]
    return f"{service}:" + "".join(w.capitalize() for w in op.split("_"))


# ---------------------------------------------------------------------------- the code

def sdk_operations():
    """Operation names per service from the SDK crates Cargo.lock pins, when cargo has
    fetched them; None otherwise."""
    lock = open(os.path.join(ROOT, "Cargo.lock"), encoding="utf-8").read()
    home = os.environ.get("CARGO_HOME") or os.path.expanduser("~/.cargo")
    ops = {}
    for service in SERVICES:
        m = re.search(rf'name = "aws-sdk-{service}"\nversion = "([^"]+)"', lock)
        if not m:
            return None
        dirs = glob.glob(f"{home}/registry/src/*/aws-sdk-{service}-{m.group(1)}/src/operation")
        if not dirs:
            return None
        ops[service] = {n for n in os.listdir(dirs[0]) if not n.endswith(".rs")}
    return ops


def strip_tests_and_comments(text):
    """The source without comment lines and without #[cfg(test)] modules (block comments
    stay: Rust code seldom has them, and strings like "model/*" would fool a regex)."""
    lines = [ln if not ln.lstrip().startswith("//") else "" for ln in text.split("\n")]
    text = "\n".join(lines)
    while True:
        m = re.search(r"#\[cfg\(test\)\]\s*(pub\s+)?mod\s+\w+\s*\{", text)
        if not m:
            return text
        i, depth, in_str = m.end(), 1, False
        while i < len(text) and depth:
            c = text[i]
            if in_str:
                if c == "\\":
                    i += 1
                elif c == '"':
                    in_str = False
            elif c == '"':
                in_str = True
            elif c == "{":
                depth += 1
            elif c == "}":
                depth -= 1
            i += 1
        # Keep the line count, so later line numbers stay right.
        text = text[: m.start()] + "\n" * text[m.start():i].count("\n") + text[i:]


CALL = re.compile(r"\b([A-Za-z_][A-Za-z0-9_]*)\s*(?:\(\s*\))?\s*\.\s*([a-z][a-z0-9_]*)\s*\(\s*\)")
RECEIVERS = {"client", "s3", "sagemaker", "secretsmanager"}
# Without the SDK's operation names: what AWS operations start with.
VERBS = re.compile(
    r"^(abort|add|batch|complete|copy|create|delete|describe|get|head|list|put|restore|"
    r"rotate|search|select|send|start|stop|tag|untag|update|upload|write)_"
)


def code_calls(files=None, ops=None, notes=None):
    """{(service, operation): [file:line, ...]} for every SDK call in the engine and the
    functions, and problems (calls whose service cannot be told)."""
    if files is None:
        files = sorted(
            glob.glob(os.path.join(ROOT, "src/**/*.rs"), recursive=True)
            + glob.glob(os.path.join(ROOT, "functions/*/src/**/*.rs"), recursive=True)
        )
        files = {os.path.relpath(f, ROOT): open(f, encoding="utf-8").read() for f in files}
    if ops is None:
        ops = sdk_operations()
        if ops is None and notes is not None:
            notes.append(
                "the SDK crates are not in cargo's registry (cargo fetch brings them): "
                "calls are found by their receiver's name only"
            )
    calls, problems = {}, []
    for path, text in files.items():
        text = strip_tests_and_comments(text)
        used = set(re.findall(r"\baws_sdk_([a-z0-9]+)", text)) & set(SERVICES)
        for m in CALL.finditer(text):
            receiver, op = m.group(1), m.group(2)
            line = text.count("\n", 0, m.start(2)) + 1
            where = f"{path}:{line}"
            if ops is not None:
                services = [s for s in SERVICES if op in ops[s] and (s in used or receiver == s)]
            elif receiver in RECEIVERS and VERBS.match(op):
                services = [receiver] if receiver != "client" else sorted(used)
                if not services:
                    problems.append(f"{where}: `{receiver}.{op}()`: no aws_sdk_* crate in the file")
                    continue
            else:
                continue
            if receiver in SERVICES and receiver in services:
                services = [receiver]
            if len(services) > 1:
                problems.append(f"{where}: `.{op}()` could be a call of {services}: name the receiver after its service")
                continue
            if services:
                calls.setdefault((services[0], op), []).append(where)
    return calls, problems


def check_code(perms, calls):
    problems = []
    listed = {}
    code_actions = set()
    for e in perms["actions"]:
        if e["source"] == "code":
            code_actions.add(e["action"])
            for c in e.get("calls") or []:
                service, op = c.split(".", 1)
                listed[(service, op)] = e["action"]
                if iam_action(service, op) != e["action"]:
                    problems.append(
                        f"list: {c} needs {iam_action(service, op)}, but is listed under {e['action']}"
                    )
            if not e.get("calls"):
                problems.append(f"list: {e['action']} is source: code but names no call")
        elif e.get("calls"):
            problems.append(f"list: {e['action']} names calls but is source: {e['source']}")
    for (service, op), where in sorted(calls.items()):
        if (service, op) not in listed:
            problems.append(
                f"code calls {service}.{op} ({', '.join(where)}), which needs "
                f"{iam_action(service, op)}: add it to infra/permissions/aws.yaml"
            )
    for (service, op), action in sorted(listed.items()):
        if (service, op) not in calls:
            problems.append(f"list: {action} names {service}.{op}, which no code calls any more")
    for e in perms["actions"]:
        if e["source"] == "implied":
            for a in e.get("implied_by") or []:
                if a not in code_actions:
                    problems.append(f"list: {e['action']} is implied by {a}, which is not a listed code action")
    return problems


# ---------------------------------------------------------------------------- the template

ROLES = {"function": "FunctionRole", "ci": "GitHubOidcRole", "sagemaker-execution": "SageMakerExecutionRole"}

SCENARIOS = {
    "defaults": {"DataBucketName": "acme-data"},
    "ci without SageMaker": {"DataBucketName": "acme-data", "CreateGitHubOidcRole": "true"},
    "everything created": {
        "DataBucketName": "acme-data",
        "StoreBucketName": "acme-ml",
        "StorePrefix": "mlgate/prod",
        "DeliveryMode": "EventBridge",
        "CreateSageMakerExecutionRole": "true",
        "FunctionStartsSageMakerJobs": "true",
        "CreateGitHubOidcRole": "true",
        "GitHubRepository": "acme/models",
        "GitHubEnvironment": "production",
        "GitHubAllowPullRequests": "true",
        "ReservedConcurrency": "4",
    },
    "existing bucket, role and secret": {
        "DataBucketName": "acme-data",
        "CreateDataBucket": "false",
        "DataPrefix": "*/",
        "QuarantinePrefix": "quarantine/",
        "ForgeTokenSecretArn": "arn:aws:secretsmanager:eu-west-1:123456789012:secret:mlgate-token-AbCdEf",
        "SageMakerExecutionRoleArn": "arn:aws:iam::123456789012:role/team-sagemaker",
        "FunctionStartsSageMakerJobs": "true",
        "CreateGitHubOidcRole": "true",
        "GitHubOidcProviderArn": "arn:aws:iam::123456789012:oidc-provider/token.actions.githubusercontent.com",
        "ModelPackageGroup": "churn-*",
    },
}


def placeholders(stack):
    p = dict(stack.params)
    p["Partition"] = cfn.PSEUDO["AWS::Partition"]
    p["Region"] = cfn.PSEUDO["AWS::Region"]
    p["Account"] = cfn.PSEUDO["AWS::AccountId"]
    p["StoreBucket"] = p["StoreBucketName"] or p["DataBucketName"]
    p["SageMakerRole"] = p["SageMakerExecutionRoleArn"] or "<SageMakerExecutionRole.Arn>"
    p["Secret"] = p["ForgeTokenSecretArn"] or "<ForgeTokenSecret>"
    return p


def expand(text, values):
    return re.sub(r"\{(\w+)\}", lambda m: str(values[m.group(1)]), text)


def expected_grants(perms, stack, role):
    values = placeholders(stack)
    out = {}
    for e in perms["actions"]:
        for g in e["grants"]:
            if g["role"] != role or ("when" in g and not stack.condition(g["when"])):
                continue
            for name in g["scopes"]:
                scope = perms["scopes"][name]
                qualifier = ""
                if "prefix" in scope:
                    qualifier = "s3:prefix like " + expand(scope["prefix"], values)
                elif "passed_to" in scope:
                    qualifier = "iam:PassedToService = " + scope["passed_to"]
                elif "namespace" in scope:
                    qualifier = "cloudwatch:namespace like " + scope["namespace"]
                out.setdefault((e["action"], expand(scope["arn"], values), qualifier), name)
    return out


KNOWN_CONDITIONS = {
    ("StringLike", "s3:prefix"): "s3:prefix like ",
    ("StringEquals", "iam:PassedToService"): "iam:PassedToService = ",
    ("StringLike", "cloudwatch:namespace"): "cloudwatch:namespace like ",
}


def as_list(v):
    return v if isinstance(v, list) else [v]


def actual_grants(stack, logical):
    """What the role `logical` is granted: its inline policies and the AWS::IAM::Policy
    resources attached to it."""
    grants, problems = {}, []
    props = stack.eval(stack.resource(logical))["Properties"]
    if props.get("ManagedPolicyArns"):
        problems.append(f"managed policies {props['ManagedPolicyArns']} grant what the list cannot see")
    documents = [p["PolicyDocument"] for p in props.get("Policies") or []]
    for name, r in stack.resources():
        if r["Type"] in ("AWS::IAM::ManagedPolicy", "AWS::IAM::Policy"):
            attached = stack.eval(r)["Properties"]
            if f"<{logical}>" in attached.get("Roles", []):
                documents.append(attached["PolicyDocument"])
    for document in documents:
        for st in as_list(document["Statement"]):
            sid = st.get("Sid", "?")
            if st.get("Effect") != "Allow" or "NotAction" in st or "NotResource" in st:
                problems.append(f"statement {sid}: only Allow with Action and Resource is checked")
                continue
            qualifiers = [""]
            for op, keys in (st.get("Condition") or {}).items():
                for key, value in keys.items():
                    label = KNOWN_CONDITIONS.get((op, key))
                    if label is None or len(st["Condition"]) * len(keys) != 1:
                        problems.append(f"statement {sid}: a condition the checker does not know: {op} {key}")
                        continue
                    qualifiers = [label + v for v in as_list(value)]
            for action in as_list(st["Action"]):
                if "*" in action:
                    problems.append(f"statement {sid}: wildcard action {action}")
                for resource in as_list(st["Resource"]):
                    for q in qualifiers:
                        grants[(action, resource, q)] = sid
    return grants, problems


def check_template(perms, template):
    problems = []
    for scenario, params in SCENARIOS.items():
        stack = cfn.Stack(template, params)
        values = placeholders(stack)

        def problem(text):
            problems.append(f"template ({scenario}): {text}")

        # The function: the list's role, nothing SAM would add, the settings the code reads.
        fn = stack.eval(stack.resource("Function"))["Properties"]
        if fn.get("Role") != "<FunctionRole.Arn>" or "Policies" in fn:
            problem("the function must run as FunctionRole, with no SAM policies of its own")
        store = f"s3://{values['StoreBucket']}/{values['StorePrefix']}"
        env = fn.get("Environment", {}).get("Variables", {})
        for var, want in [("MLGATE_STORE", store), ("MLGATE_FORGE_TOKEN_SECRET", values["Secret"])]:
            if env.get(var) != want:
                problem(f"{var} is {env.get(var)!r}, not {want!r}")
        for key, want in [("Runtime", "provided.al2023"), ("Handler", "bootstrap"), ("Architectures", ["arm64"])]:
            if fn.get(key) != want:
                problem(f"the function's {key} is {fn.get(key)!r}, not {want!r}")
        events = [e["Properties"] for e in fn.get("Events", {}).values() if e["Type"] == "SQS"]
        if not events or any(e.get("FunctionResponseTypes") != ["ReportBatchItemFailures"] for e in events):
            problem("the SQS event source must report batch item failures")
        queue = stack.eval(stack.resource("Queue"))["Properties"]
        if int(queue["VisibilityTimeout"]) < 6 * int(fn["Timeout"]):
            problem(f"visibility timeout {queue['VisibilityTimeout']} < 6 x the function's {fn['Timeout']} s")
        if queue.get("RedrivePolicy", {}).get("deadLetterTargetArn") != "<DeadLetterQueue.Arn>":
            problem("the queue must redrive to the dead-letter queue")

        for role, logical in ROLES.items():
            resource = stack.resource(logical)
            expected = expected_grants(perms, stack, role)
            if resource is None:
                continue
            actual, found = actual_grants(stack, logical)
            problems.extend(f"template ({scenario}): {logical}: {p}" for p in found)
            for key in sorted(set(actual) - set(expected)):
                action, res, q = key
                wider = [k for k in expected if k[0] == action]
                if res == "*" and wider:
                    why = f"a wildcard resource where the list scopes it to {sorted({expected[k] for k in wider})}"
                else:
                    why = "which infra/permissions/aws.yaml does not list for this role"
                problem(f"{logical} grants {action} on {res}{' (' + q + ')' if q else ''}: {why}")
            for key in sorted(set(expected) - set(actual)):
                action, res, q = key
                problem(
                    f"{logical} lacks {action} on {res}{' (' + q + ')' if q else ''} "
                    f"(scope {expected[key]} in infra/permissions/aws.yaml)"
                )
        # The trust of CI's role: GitHub's audience and this repository's subjects only.
        oidc = stack.resource("GitHubOidcRole")
        if oidc is not None:
            st = stack.eval(oidc)["Properties"]["AssumeRolePolicyDocument"]["Statement"]
            cond = as_list(st)[0]["Condition"]["StringEquals"]
            repo = values["GitHubRepository"]
            subs = [f"repo:{repo}:ref:refs/heads/{values['GitHubBranch']}"]
            if values["GitHubEnvironment"]:
                subs.append(f"repo:{repo}:environment:{values['GitHubEnvironment']}")
            if values["GitHubAllowPullRequests"] == "true":
                subs.append(f"repo:{repo}:pull_request")
            if cond.get("token.actions.githubusercontent.com:aud") != "sts.amazonaws.com":
                problem("the OIDC role must require the audience sts.amazonaws.com")
            if as_list(cond.get("token.actions.githubusercontent.com:sub")) != subs:
                problem(f"the OIDC role trusts {cond.get('token.actions.githubusercontent.com:sub')}, not {subs}")
    return problems


# ---------------------------------------------------------------------------- the docs

def tables(perms):
    """The markdown tables of docs/deploy-aws.md: actions, then scopes."""
    rows = ["| action | granted to | on | why |", "|---|---|---|---|"]
    for e in perms["actions"]:
        grants = e["grants"]
        to = ", ".join(g["role"] + (f" (if {g['when']})" if "when" in g else "") for g in grants)
        if len({tuple(g["scopes"]) for g in grants}) == 1:
            on = ", ".join(grants[0]["scopes"])
        else:
            on = "; ".join(f"{g['role']}: {', '.join(g['scopes'])}" for g in grants)
        rows.append(f"| `{e['action']}` | {to} | {on} | {' '.join(e['why'].split())} |")
    scopes = ["| scope | what |", "|---|---|"]
    for name, s in perms["scopes"].items():
        extra = "".join(
            f", {label} `{s[key]}`"
            for key, label in [("prefix", "s3:prefix"), ("passed_to", "iam:PassedToService"), ("namespace", "namespace")]
            if key in s
        )
        scopes.append(f"| {name} | {s['means']}: `{s['arn']}`{extra} |")
    return "\n".join(rows) + "\n\n" + "\n".join(scopes) + "\n"


def check_doc(perms):
    try:
        text = open(DOC, encoding="utf-8").read()
    except FileNotFoundError:
        return [f"{os.path.relpath(DOC, ROOT)} is missing"]
    m = re.search(r"<!-- permissions:begin[^>]*-->\n(.*?)<!-- permissions:end -->", text, re.S)
    if not m:
        return ["docs/deploy-aws.md has no <!-- permissions:begin --> ... <!-- permissions:end --> section"]
    if m.group(1) != tables(perms):
        return ["docs/deploy-aws.md's permission tables differ from infra/permissions/aws.yaml: "
                "run tests/infra/check-aws-permissions.py --update-doc"]
    return []


# ---------------------------------------------------------------------------- structure and entry

def check_list(perms, template):
    problems = []
    conditions = set(template.get("Conditions") or {})
    for e in perms["actions"]:
        if e.get("source") not in ("code", "implied", "platform"):
            problems.append(f"list: {e.get('action')}: source must be code, implied or platform")
        if not e.get("why"):
            problems.append(f"list: {e.get('action')}: no why")
        for g in e.get("grants") or []:
            if g.get("role") not in ROLES:
                problems.append(f"list: {e['action']}: unknown role {g.get('role')}")
            if "when" in g and g["when"] not in conditions:
                problems.append(f"list: {e['action']}: `when: {g['when']}` is not a condition of the template")
            for s in g.get("scopes") or []:
                if s not in perms["scopes"]:
                    problems.append(f"list: {e['action']}: unknown scope {s}")
    return problems


def run(template, perms, calls, call_problems):
    problems = list(call_problems)
    problems += check_list(perms, template)
    if problems:
        return problems
    problems += check_code(perms, calls)
    problems += check_template(perms, template)
    return problems


def self_test(template, perms, calls):
    """Each way of breaking things must be caught."""

    def without_action(action, resource, sid):
        t = copy.deepcopy(template)
        props = t["Resources"][resource]["Properties"]
        document = props["Policies"][0]["PolicyDocument"] if "Policies" in props else props["PolicyDocument"]
        for st in document["Statement"]:
            if "Fn::If" in st:  # a statement under a condition
                st = st["Fn::If"][1]
            if st.get("Sid") == sid:
                st["Action"] = [a for a in as_list(st["Action"]) if a != action]
                return t
        raise AssertionError(f"no statement {sid} in {resource}")

    def with_statement(role_resource, statement):
        t = copy.deepcopy(template)
        t["Resources"][role_resource]["Properties"]["Policies"][0]["PolicyDocument"]["Statement"].append(statement)
        return t

    def list_without(action):
        p = copy.deepcopy(perms)
        p["actions"] = [e for e in p["actions"] if not (e["action"] == action and e["source"] == "code")]
        return p

    def list_with(entry):
        p = copy.deepcopy(perms)
        p["actions"].append(entry)
        return p

    anywhere = {"Fn::Sub": "arn:${AWS::Partition}:s3:::${DataBucketName}/*"}
    cases = [
        ("the function's policy lacks s3:AbortMultipartUpload",
         without_action("s3:AbortMultipartUpload", "FunctionRole", "WriteStoreQuarantinePredictions"), perms, calls),
        ("CI's policy lacks sagemaker:UpdateModelPackage",
         without_action("sagemaker:UpdateModelPackage", "CiSageMakerPolicy", "RegistryPackages"), perms, calls),
        ("the function's SageMaker policy lacks sagemaker:CreateModelPackage",
         without_action("sagemaker:CreateModelPackage", "FunctionSageMakerPolicy", "RegistryPackages"), perms, calls),
        ("the function may update packages",
         with_statement("FunctionRole", {"Sid": "X", "Effect": "Allow", "Action": "sagemaker:UpdateModelPackage",
                                          "Resource": {"Fn::Sub": "arn:${AWS::Partition}:sagemaker:${AWS::Region}:${AWS::AccountId}:model-package/${ModelPackageGroup}/*"}}),
         perms, calls),
        ("the function may delete objects",
         with_statement("FunctionRole", {"Sid": "X", "Effect": "Allow", "Action": "s3:DeleteObject", "Resource": anywhere}),
         perms, calls),
        ("the function reads the whole bucket",
         with_statement("FunctionRole", {"Sid": "X", "Effect": "Allow", "Action": "s3:GetObject", "Resource": anywhere}),
         perms, calls),
        ("the function reads any secret",
         with_statement("FunctionRole", {"Sid": "X", "Effect": "Allow", "Action": "secretsmanager:GetSecretValue", "Resource": "*"}),
         perms, calls),
        ("a wildcard action",
         with_statement("FunctionRole", {"Sid": "X", "Effect": "Allow", "Action": "s3:*", "Resource": {"Fn::GetAtt": ["Queue", "Arn"]}}),
         perms, calls),
        ("the list forgets s3:PutObject", template, list_without("s3:PutObject"), calls),
        ("the code calls something unlisted", template, perms,
         {**calls, ("s3", "delete_object"): ["src/x.rs:1"]}),
        ("the list names a call the code no longer makes", template,
         list_with({"action": "sagemaker:StopTrainingJob", "source": "code", "calls": ["sagemaker.stop_training_job"],
                    "why": "x", "grants": [{"role": "ci", "scopes": ["training-jobs"], "when": "UseSageMaker"}]}),
         calls),
    ]
    # The scanner itself: a call hidden in a test module is not code, one outside it is.
    ops = sdk_operations()
    src = {
        "src/a.rs": "use aws_sdk_s3::Client;\nfn f(client: &Client) { client\n  .delete_object()\n  .send(); }\n"
                    "#[cfg(test)]\nmod tests { fn g(c: &Client) { c.client.put_bucket_policy().send(); } }\n",
    }
    found, _ = code_calls(src, ops)
    failures = []
    if set(found) != {("s3", "delete_object")} or found[("s3", "delete_object")] != ["src/a.rs:3"]:
        failures.append(f"the scanner found {found} in a file with one call at line 3")
    for name, t, p, c in cases:
        got = run(t, p, c, [])
        if got:
            print(f"  caught: {name}: {got[0]}")
        else:
            failures.append(f"not caught: {name}")
    return failures


def main():
    args = sys.argv[1:]
    template = cfn.load(TEMPLATE)
    perms = yaml.safe_load(open(PERMISSIONS, encoding="utf-8"))
    if args == ["--table"]:
        print(tables(perms), end="")
        return 0
    if args == ["--update-doc"]:
        text = open(DOC, encoding="utf-8").read()
        text = re.sub(r"(<!-- permissions:begin[^>]*-->\n).*?(<!-- permissions:end -->)",
                      lambda m: m.group(1) + tables(perms) + m.group(2), text, flags=re.S)
        open(DOC, "w", encoding="utf-8").write(text)
        print(f"check-aws-permissions: wrote the tables into {os.path.relpath(DOC, ROOT)}")
        return 0
    notes = []
    calls, call_problems = code_calls(notes=notes)
    for n in notes:
        print(f"check-aws-permissions: note: {n}")
    if args == ["--self-test"]:
        base = run(template, perms, calls, call_problems)
        if base:
            print("check-aws-permissions: the self-test needs a passing check first:")
            print("\n".join(f"  {p}" for p in base))
            return 1
        failures = self_test(template, perms, calls)
        for f in failures:
            print(f"check-aws-permissions: self-test: {f}")
        print(f"check-aws-permissions: self-test {'FAILED' if failures else 'passed'}")
        return 1 if failures else 0
    if args:
        print(__doc__)
        return 2
    problems = run(template, perms, calls, call_problems) + check_doc(perms)
    for p in problems:
        print(f"check-aws-permissions: {p}")
    if problems:
        print(f"check-aws-permissions: {len(problems)} problem(s)")
        return 1
    actions = {e["action"] for e in perms["actions"]}
    print(
        f"check-aws-permissions: ok: {len(calls)} SDK calls in the code, {len(actions)} actions listed, "
        f"{len(SCENARIOS)} parameter sets of the template agree"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
