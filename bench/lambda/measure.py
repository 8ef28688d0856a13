#!/usr/bin/env python3
"""bench/lambda's harness: mlgate's Lambda function (Rust, the `bootstrap` of crate
mlgate-lambda) against a hand-written Python Lambda (handler.py: boto3 + pandas, run by
awslambdaric) doing the same work on the same upload, both under emulator.py's Runtime
API, S3 on moto and GitHub's dispatch endpoint on a fake that answers 204.

Per repetition, in alternating order, each side gets a fresh process (a cold start) and
1 + WARM fresh uploads (new keys: no claim short-circuits), then one redelivery of its
first upload; one unmeasured round of each side comes first. Measured:
  init             process spawn -> its first GET .../invocation/next
  first event      the first event handed out -> its answer posted (the cold invocation)
  cold total       spawn -> first answer (init + first event)
  warm event       the median of the WARM events of that process
  duplicate        the redelivery handed out -> answered
  peak RSS         VmHWM of /proc/<pid>/status after the last event
and once: the deployment zip of each side. Every answer is checked (an SQS batch answer
with no failures), every upload must have made one passing report and one dispatch with
its URI, every redelivery none; anything else stops the benchmark with an error.

Usage: measure.py --rust-bin BOOTSTRAP [--rust-zip ZIP] --moto-server PATH --data CSV
                  --work DIR [--repeat 5] [--warm 3]
"""

import argparse
import ast
import hashlib
import json
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
import urllib.parse
import uuid
import zipfile
from http.server import BaseHTTPRequestHandler

import boto3
import botocore.config
import yaml

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, HERE)
from emulator import RuntimeApi, Server  # noqa: E402

REGION = "us-east-1"
DATA_BUCKET, STORE_BUCKET = "data", "store"
RUST_STORE_PREFIX, PY_STORE_PREFIX = "mlgate", "python-fn"
REPOSITORY, WORKFLOW = "acme/churn", "mlgate-retrain.yml"
DISPATCH_PATH = f"/repos/{REPOSITORY}/actions/workflows/{WORKFLOW}/dispatches"
TOKEN = "ghp_bench_token_never_printed"
# The trigger rule and forge the Rust function reads from the published config, as
# functions/aws-lambda/tests/lambda.rs sets them up.
RULES = """
forge: {provider: github, repository: acme/churn, url: GITHUB_URL}
triggers:
  - name: churn-incoming
    on: {bucket: data, prefix: churn/incoming/, suffix: .csv}
    model: churn
    do: [validate, retrain]
"""
INVOKE_TIMEOUT_S = 180


def requirements(tag):
    """requirements.txt's pins tagged `# zip` (what handler.py's zip holds) or `# runtime`
    (boto3, which the managed Python runtime ships: the zip is given with and without)."""
    with open(os.path.join(HERE, "requirements.txt"), encoding="utf-8") as f:
        lines = [line.split("#") for line in f if not line.startswith("#") and "#" in line]
    return [pin.strip() for pin, t in lines if t.strip() == tag]
class BenchError(Exception):
    pass


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_port(port, what, proc=None, timeout=60):
    end = time.monotonic() + timeout
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            if proc is not None and proc.poll() is not None:
                raise BenchError(f"{what} exited with {proc.returncode} before listening")
            if time.monotonic() > end:
                raise BenchError(f"{what} did not listen on {port} within {timeout} s")
            time.sleep(0.05)


# GitHub's workflow-dispatch endpoint, faked.


class GitHubFake:
    def __init__(self):
        self.dispatches = []  # (authorization, body)
        self.unexpected = []
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True

            def log_message(self, *args):
                pass

            def _answer(self, status, body=b""):
                head = f"HTTP/1.1 {status} {self.responses[status][0]}\r\nContent-Length: {len(body)}\r\n"
                if body:
                    head += "Content-Type: application/json\r\n"
                self.wfile.write((head + "\r\n").encode() + body)

            def do_POST(self):
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                if self.path == DISPATCH_PATH:
                    fake.dispatches.append((self.headers.get("Authorization", ""), body))
                    self._answer(204)
                else:
                    fake.unexpected.append(("POST", self.path))
                    self._answer(404, b'{"message":"Not Found"}')

            def do_GET(self):
                fake.unexpected.append(("GET", self.path))
                self._answer(404, b'{"message":"Not Found"}')

        self.server = Server(("127.0.0.1", 0), Handler)
        self.server.errors = self.errors = []
        self.url = "http://127.0.0.1:%d" % self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


# Setup.


def s3_client(endpoint):
    return boto3.client(
        "s3",
        endpoint_url=endpoint,
        region_name=REGION,
        aws_access_key_id="testing",
        aws_secret_access_key="testing-secret",
        config=botocore.config.Config(s3={"addressing_style": "path"}),
    )


def publish_project(s3, github_url):
    """What `mlgate deploy` publishes for the functions (src/published.rs): the config,
    the schema it names and the production pointer, content-addressed, and one snapshot
    naming them. The config is the example's with the trigger rule and the fake forge."""
    example = os.path.join(ROOT, "examples", "churn")
    with open(os.path.join(example, "mlgate.yaml"), encoding="utf-8") as f:
        config = f.read() + RULES.replace("GITHUB_URL", github_url)
    files = {"mlgate.yaml": config.encode()}
    for rel in ("data/schema.yaml", "models/churn/production.yaml"):
        with open(os.path.join(example, rel), "rb") as f:
            files[rel] = f.read()
    names = {}
    for rel, data in files.items():
        digest = hashlib.sha256(data).hexdigest()
        s3.put_object(Bucket=STORE_BUCKET, Key=f"{RUST_STORE_PREFIX}/published/files/{digest}", Body=data)
        names[rel] = digest
    snapshot = json.dumps({"config": "mlgate.yaml", "files": dict(sorted(names.items()))}, indent=2)
    s3.put_object(Bucket=STORE_BUCKET, Key=f"{RUST_STORE_PREFIX}/published/snapshot.json", Body=snapshot.encode())


def check_python_schema():
    """handler.py's SCHEMA is the example's schema.yaml."""
    with open(os.path.join(ROOT, "examples", "churn", "data", "schema.yaml"), encoding="utf-8") as f:
        wanted = yaml.safe_load(f)["columns"]
    with open(os.path.join(HERE, "handler.py"), encoding="utf-8") as f:
        tree = ast.parse(f.read())
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(getattr(t, "id", None) == "SCHEMA" for t in node.targets):
            have = ast.literal_eval(node.value)
            break
    else:
        raise BenchError("handler.py has no SCHEMA")
    if have != wanted:
        raise BenchError(f"handler.py's SCHEMA differs from examples/churn/data/schema.yaml:\n{have}\n{wanted}")


# One S3 notification through SQS, as Lambda's SQS event source delivers it.

_sequencer = [0x0065A3F2B1C0000000]


def sqs_event(key, size, etag):
    _sequencer[0] += 1
    return {
        "key": key,
        "s3": {
            "eventVersion": "2.1",
            "eventSource": "aws:s3",
            "awsRegion": REGION,
            "eventTime": time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime()),
            "eventName": "ObjectCreated:Put",
            "userIdentity": {"principalId": "AWS:AIDAEXAMPLE"},
            "requestParameters": {"sourceIPAddress": "203.0.113.9"},
            "responseElements": {"x-amz-request-id": uuid.uuid4().hex[:16].upper()},
            "s3": {
                "s3SchemaVersion": "1.0",
                "configurationId": "churn-uploads",
                "bucket": {"name": DATA_BUCKET, "ownerIdentity": {"principalId": "A3EXAMPLE"},
                           "arn": f"arn:aws:s3:::{DATA_BUCKET}"},
                "object": {"key": urllib.parse.quote_plus(key, safe="/"), "size": size,
                           "eTag": etag, "sequencer": "%018X" % _sequencer[0]},
            },
        },
    }


def delivery(notice):
    """An SQS batch of one message around the notice (a new message id each time)."""
    body = json.dumps({"Records": [notice["s3"]]})
    ms = str(int(time.time() * 1000))
    return {"Records": [{
        "messageId": str(uuid.uuid4()),
        "receiptHandle": "AQEB" + uuid.uuid4().hex,
        "body": body,
        "attributes": {"ApproximateReceiveCount": "1", "SentTimestamp": ms,
                       "SenderId": "AIDAEXAMPLE", "ApproximateFirstReceiveTimestamp": ms},
        "messageAttributes": {},
        "md5OfBody": hashlib.md5(body.encode()).hexdigest(),
        "eventSource": "aws:sqs",
        "eventSourceARN": f"arn:aws:sqs:{REGION}:123456789012:churn-uploads",
        "awsRegion": REGION,
    }]}


# The two functions.


class Bench:
    def __init__(self, args):
        self.args = args
        self.work = os.path.abspath(args.work)
        self.logs = os.path.join(self.work, "logs")
        os.makedirs(self.logs, exist_ok=True)
        with open(args.data, "rb") as f:
            self.csv = f.read()
        self.procs = []

    def start(self):
        port = free_port()
        self.moto_log = open(os.path.join(self.logs, "moto.log"), "wb")
        self.moto = subprocess.Popen([self.args.moto_server, "-H", "127.0.0.1", "-p", str(port)],
                                     stdout=self.moto_log, stderr=subprocess.STDOUT)
        self.procs.append(self.moto)
        wait_port(port, "moto_server", self.moto)
        self.moto_url = f"http://127.0.0.1:{port}"
        self.s3 = s3_client(self.moto_url)
        for bucket in (DATA_BUCKET, STORE_BUCKET):
            self.s3.create_bucket(Bucket=bucket)
        self.github = GitHubFake()
        self.api = RuntimeApi().start()
        publish_project(self.s3, self.github.url)
        check_python_schema()

    def stop(self):
        for p in self.procs:
            if p.poll() is None:
                p.kill()
                p.wait()
        try:
            self.api.stop()
        except Exception:  # noqa: BLE001
            pass

    def env(self, side, tmp):
        env = {
            "PATH": "/usr/local/bin:/usr/bin:/bin",
            "LANG": "C.UTF-8",
            "TZ": ":UTC",
            "TMPDIR": tmp,
            "HOME": tmp,
            "AWS_LAMBDA_RUNTIME_API": self.api.address,
            "AWS_LAMBDA_FUNCTION_NAME": f"bench-{side}",
            "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "1024",
            "AWS_LAMBDA_LOG_GROUP_NAME": f"/aws/lambda/bench-{side}",
            "AWS_LAMBDA_LOG_STREAM_NAME": "2026/12/01/[$LATEST]" + uuid.uuid4().hex,
            "AWS_REGION": REGION,
            "AWS_DEFAULT_REGION": REGION,
            "AWS_ENDPOINT_URL": self.moto_url,
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing-secret",
            "AWS_EC2_METADATA_DISABLED": "true",
            "GITHUB_TOKEN": TOKEN,
        }
        if side == "rust":
            env.update({"MLGATE_STORE": f"s3://{STORE_BUCKET}/{RUST_STORE_PREFIX}", "MLGATE_LOG": "info",
                        "LAMBDA_TASK_ROOT": os.path.dirname(self.args.rust_bin), "_HANDLER": "bootstrap"})
        else:
            env.update({"STORE": f"s3://{STORE_BUCKET}/{PY_STORE_PREFIX}", "GITHUB_API_URL": self.github.url,
                        "GITHUB_REPOSITORY": REPOSITORY, "RETRAIN_WORKFLOW": WORKFLOW,
                        "LAMBDA_TASK_ROOT": HERE, "_HANDLER": "handler.lambda_handler"})
        return env

    def command(self, side):
        if side == "rust":
            return [self.args.rust_bin], None
        return [sys.executable, "-m", "awslambdaric", "handler.lambda_handler"], HERE

    def store_keys(self, prefix):
        keys, token = set(), None
        while True:
            kw = {"Bucket": STORE_BUCKET, "Prefix": prefix}
            if token:
                kw["ContinuationToken"] = token
            page = self.s3.list_objects_v2(**kw)
            keys.update(o["Key"] for o in page.get("Contents", []))
            if not page.get("IsTruncated"):
                return keys
            token = page["NextContinuationToken"]

    def report_prefix(self, side):
        return f"{RUST_STORE_PREFIX}/triggers/reports/" if side == "rust" else f"{PY_STORE_PREFIX}/reports/"

    def invoke(self, proc, event, log_path, what):
        inv = self.api.invoke(event)
        end = time.monotonic() + INVOKE_TIMEOUT_S
        while not inv.wait(0.1):
            if self.api.init_error:
                raise BenchError(f"{what}: init error posted: {self.api.init_error}\n{tail(log_path)}")
            if proc.poll() is not None:
                raise BenchError(f"{what}: the function exited with {proc.returncode}\n{tail(log_path)}")
            if time.monotonic() > end:
                raise BenchError(f"{what}: no answer within {INVOKE_TIMEOUT_S} s\n{tail(log_path)}")
        if inv.kind != "response":
            raise BenchError(f"{what}: the function posted an error ({inv.error_type}): "
                             f"{inv.answer.decode(errors='replace')}\n{tail(log_path)}")
        try:
            answer = json.loads(inv.answer)
        except ValueError:
            raise BenchError(f"{what}: the answer is not JSON: {inv.answer[:300]!r}") from None
        if answer != {"batchItemFailures": []}:
            raise BenchError(f"{what}: the answer hands messages back: {answer}\n{tail(log_path)}")
        return inv

    def run_function(self, side, rep):
        warm = self.args.warm
        tag = f"{side}-{rep}"
        notices = []
        for i in range(1 + warm):
            key = f"churn/incoming/bench/{tag}-{i} {uuid.uuid4().hex[:6]}.csv"
            put = self.s3.put_object(Bucket=DATA_BUCKET, Key=key, Body=self.csv)
            notices.append(sqs_event(key, len(self.csv), put["ETag"].strip('"')))
        tmp = os.path.join(self.work, "tmp", tag)
        shutil.rmtree(tmp, ignore_errors=True)
        os.makedirs(tmp)
        reports_before = self.store_keys(self.report_prefix(side))
        dispatches_before = len(self.github.dispatches)
        log_path = os.path.join(self.logs, f"{tag}.log")
        cmd, cwd = self.command(side)
        env = self.env(side, tmp)
        self.api.reset()
        with open(log_path, "wb") as log:
            spawned = time.perf_counter_ns()
            proc = subprocess.Popen(cmd, env=env, cwd=cwd or tmp, stdout=log, stderr=subprocess.STDOUT)
            self.procs.append(proc)
            try:
                first = self.invoke(proc, delivery(notices[0]), log_path, f"{tag} first event")
                if self.api.first_next_ns is None:
                    raise BenchError(f"{tag}: answered without a `next` on record")
                init_ms = (self.api.first_next_ns - spawned) / 1e6
                warm_ms = []
                for i, notice in enumerate(notices[1:], 1):
                    inv = self.invoke(proc, delivery(notice), log_path, f"{tag} warm event {i}")
                    warm_ms.append(inv.latency_ms)
                dup = self.invoke(proc, delivery(notices[0]), log_path, f"{tag} redelivery")
                hwm_kib = vm_hwm_kib(proc.pid)
            finally:
                proc.send_signal(signal.SIGKILL)
                proc.wait()
                self.procs.remove(proc)
        self.verify(side, tag, notices, log_path, reports_before, dispatches_before)
        for notice in notices:
            self.s3.delete_object(Bucket=DATA_BUCKET, Key=notice["key"])
        shutil.rmtree(tmp, ignore_errors=True)
        return {
            "init_ms": init_ms,
            "first_ms": first.latency_ms,
            "cold_total_ms": (first.done_ns - spawned) / 1e6,
            "warm_ms": statistics.median(warm_ms) if warm_ms else None,
            "warm_all_ms": warm_ms,
            "duplicate_ms": dup.latency_ms,
            "rss_mib": hwm_kib / 1024,
        }

    def verify(self, side, tag, notices, log_path, reports_before, dispatches_before):
        fresh = 1 + self.args.warm
        with open(log_path, encoding="utf-8", errors="replace") as f:
            log = f.read()
        if TOKEN in log:
            raise BenchError(f"{tag}: the forge token appears in the function's log")
        if side == "rust":
            done, dup = log.count('"outcome":"Done"'), log.count('"outcome":"Duplicate"')
        else:
            done, dup = log.count('"outcome": "done"'), log.count('"outcome": "duplicate"')
        if (done, dup) != (fresh, 1):
            raise BenchError(f"{tag}: the log shows {done} uploads done and {dup} duplicates, "
                             f"expected {fresh} and 1\n{tail(log_path)}")
        dispatched = self.github.dispatches[dispatches_before:]
        uris = sorted(json.loads(body)["inputs"]["object"] for _, body in dispatched)
        wanted = sorted(f"s3://{DATA_BUCKET}/{n['key']}" for n in notices)
        if uris != wanted:
            raise BenchError(f"{tag}: dispatches {uris}, expected one per upload: {wanted}")
        if any(auth != f"Bearer {TOKEN}" and auth != f"token {TOKEN}" for auth, _ in dispatched):
            raise BenchError(f"{tag}: a dispatch without the token: {[a[:12] for a, _ in dispatched]}")
        new = sorted(k for k in self.store_keys(self.report_prefix(side)) - reports_before if k.endswith(".json"))
        if len(new) != fresh:
            raise BenchError(f"{tag}: {len(new)} new JSON reports in the store, expected {fresh}: {new}")
        for key in new:
            report = json.loads(self.s3.get_object(Bucket=STORE_BUCKET, Key=key)["Body"].read())
            passed = report[0]["status"] == "pass" if side == "rust" else report["passed"]
            if not passed:
                raise BenchError(f"{tag}: report {key} says the upload failed validation: {json.dumps(report)[:2000]}")
        if self.github.unexpected:
            print(f"note: requests the GitHub fake did not expect (answered 404): {self.github.unexpected}",
                  file=sys.stderr)
            self.github.unexpected.clear()
        if self.api.unexpected or self.api.stale_answers:
            raise BenchError(f"{tag}: Runtime API misuse: {self.api.unexpected} {self.api.stale_answers}")
        if self.api.errors or self.github.errors:
            raise BenchError(f"{tag}: the emulator or the GitHub fake failed: {self.api.errors} {self.github.errors}")


def vm_hwm_kib(pid):
    with open(f"/proc/{pid}/status", encoding="ascii") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    raise BenchError(f"no VmHWM for pid {pid}")


def tail(path, lines=40):
    try:
        with open(path, encoding="utf-8", errors="replace") as f:
            text = f.read().splitlines()
    except OSError:
        return ""
    return "--- last lines of " + path + " ---\n" + "\n".join(text[-lines:])


def spawn_floor_ms(runs=5):
    """fork+exec of /bin/true to its exit, from this process: what `init` cannot go below."""
    times = []
    for _ in range(runs):
        t = time.perf_counter_ns()
        subprocess.run(["/bin/true"], check=True)
        times.append((time.perf_counter_ns() - t) / 1e6)
    return statistics.median(times)


# Deployment zips.


def zip_dir(src, out):
    """A Lambda zip of a folder (deflate, the default level, as cargo lambda's zip)."""
    tmp = out + ".part"
    unzipped = 0
    with zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as z:
        for base, dirs, files in os.walk(src):
            dirs[:] = sorted(d for d in dirs if d != "__pycache__")
            for name in sorted(files):
                path = os.path.join(base, name)
                z.write(path, os.path.relpath(path, src))
                unzipped += os.path.getsize(path)
    os.replace(tmp, out)
    return os.path.getsize(out), unzipped


def python_zip(work, with_boto):
    reqs = requirements("zip") + (requirements("runtime") if with_boto else [])
    stamp = hashlib.sha256(" ".join(reqs).encode()).hexdigest()[:12]
    folder = os.path.join(work, "package", f"python-{'with' if with_boto else 'without'}-boto3-{stamp}")
    out = folder + ".zip"
    if not os.path.isdir(folder):
        tmp = folder + ".part"
        shutil.rmtree(tmp, ignore_errors=True)
        # As a Lambda zip is built: pip install --target, the handler beside (no bytecode);
        # the versions of the venv the function runs from, dependencies included.
        frozen = subprocess.run([sys.executable, "-m", "pip", "freeze", "--disable-pip-version-check"],
                                check=True, capture_output=True, text=True).stdout
        os.makedirs(os.path.dirname(folder), exist_ok=True)
        constraints = folder + ".constraints.txt"
        with open(constraints, "w", encoding="utf-8") as f:
            f.write(frozen)
        subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
                        "--no-compile", "--target", tmp, "-c", constraints, *reqs], check=True)
        os.replace(tmp, folder)
    shutil.copy(os.path.join(HERE, "handler.py"), os.path.join(folder, "handler.py"))
    size, unzipped = zip_dir(folder, out)
    return size, unzipped


def rust_zip(work, binary, given):
    if given:
        with zipfile.ZipFile(given) as z:
            unzipped = sum(i.file_size for i in z.infolist())
        return os.path.getsize(given), unzipped, given
    out = os.path.join(work, "package", "rust-bootstrap.zip")
    os.makedirs(os.path.dirname(out), exist_ok=True)
    info = zipfile.ZipInfo("bootstrap", date_time=(2026, 1, 1, 0, 0, 0))
    info.external_attr = 0o100755 << 16
    info.compress_type = zipfile.ZIP_DEFLATED
    with open(binary, "rb") as f, zipfile.ZipFile(out, "w") as z:
        z.writestr(info, f.read())
    return os.path.getsize(out), os.path.getsize(binary), out


# The table.


def fmt(x, digits):
    return f"{x:.{digits}f}"


def spread(values, digits):
    return f"{fmt(statistics.median(values), digits)} ({fmt(min(values), digits)}–{fmt(max(values), digits)})"


def table(results, zips, repeat, warm, floor_ms):
    rows = [
        ("init: spawn → first `next` (ms)", "init_ms", 1),
        ("first event, cold (ms)", "first_ms", 1),
        ("cold start to first answer (ms)", "cold_total_ms", 1),
        (f"warm event, median of {warm} per process (ms)", "warm_ms", 1),
        ("duplicate delivery (ms)", "duplicate_ms", 1),
        ("peak RSS, VmHWM (MiB)", "rss_mib", 1),
    ]
    out = [f"Medians (min–max) over {repeat} cold starts per side; ratio = Python / Rust.", "",
           "| metric | Rust | Python | ratio |", "|---|---|---|---|"]
    med = {}
    for label, key, digits in rows:
        if warm == 0 and key == "warm_ms":
            continue
        r = [x[key] for x in results["rust"]]
        p = [x[key] for x in results["python"]]
        med[key] = (statistics.median(r), statistics.median(p), max(r))
        ratio = statistics.median(p) / statistics.median(r)
        out.append(f"| {label} | {spread(r, digits)} | {spread(p, digits)} | {ratio:.1f}x |")
    (rz, ru, rpath), (pz, pu), (pzb, pub) = zips["rust"], zips["python"], zips["python_boto"]
    mb = lambda b: b / 1e6  # noqa: E731
    out.append(f"| deployment zip (MB) | {mb(rz):.1f} | {mb(pz):.1f} without boto3, {mb(pzb):.1f} with | "
               f"{pz / rz:.1f}x, {pzb / rz:.1f}x |")
    out.append(f"| unzipped (MB) | {mb(ru):.1f} | {mb(pu):.1f} without boto3, {mb(pub):.1f} with | "
               f"{pu / ru:.1f}x, {pub / ru:.1f}x |")
    out.append("")
    init_r, init_p, _ = med["init_ms"]
    rss_r, _, rss_max = med["rss_mib"]
    verdict = lambda ok: "**met**" if ok else "**missed**"  # noqa: E731
    out.append("Targets (issue 14):")
    out.append(f"- init ≤ 30 ms: {verdict(init_r <= 30)} ({init_r:.1f} ms median; spawning /bin/true "
               f"to its exit takes {floor_ms:.1f} ms here)")
    out.append(f"- cold start ≥ 3x faster than Python: {verdict(init_p / init_r >= 3)} "
               f"(init {init_p / init_r:.1f}x; to the first answer "
               f"{med['cold_total_ms'][1] / med['cold_total_ms'][0]:.1f}x)")
    out.append(f"- peak RSS ≤ 64 MiB: {verdict(rss_r <= 64)} ({rss_r:.1f} MiB median, {rss_max:.1f} max)")
    out.append(f"- zip ≤ 15 MB: {verdict(rz <= 15e6)} ({mb(rz):.2f} MB, {os.path.relpath(rpath, ROOT)})")
    return "\n".join(out)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rust-bin", required=True)
    ap.add_argument("--rust-zip")
    ap.add_argument("--moto-server", required=True)
    ap.add_argument("--data", required=True)
    ap.add_argument("--work", required=True)
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--warm", type=int, default=3)
    ap.add_argument("--sides", default="rust,python", help="for trying one side: rust or python")
    args = ap.parse_args()
    if args.repeat < 1 or args.warm < 0:
        sys.exit("measure.py: --repeat must be at least 1 and --warm not negative")
    args.rust_bin = os.path.abspath(args.rust_bin)
    sides = args.sides.split(",")
    if "rust" in sides and not os.access(args.rust_bin, os.X_OK):
        sys.exit(f"measure.py: {args.rust_bin} is not an executable")
    bench = Bench(args)
    results = {s: [] for s in sides}
    try:
        bench.start()
        floor = spawn_floor_ms()
        print(f"load before: {open('/proc/loadavg').read().split()[:3]}", file=sys.stderr)
        for side in sides:  # unmeasured: files in the page cache, bytecode compiled, setup checked
            bench.run_function(side, "warmup")
        for rep in range(args.repeat):
            order = sides if rep % 2 == 0 else sides[::-1]
            for side in order:
                r = bench.run_function(side, rep + 1)
                results[side].append(r)
                print(f"{side} #{rep + 1}: init {r['init_ms']:.1f} ms, first {r['first_ms']:.1f} ms, "
                      f"warm {', '.join(f'{w:.1f}' for w in r['warm_all_ms'])} ms, "
                      f"duplicate {r['duplicate_ms']:.1f} ms, RSS {r['rss_mib']:.1f} MiB", file=sys.stderr)
    except BenchError as e:
        sys.exit(f"bench/lambda: FAILED: {e}")
    finally:
        bench.stop()
    with open(os.path.join(args.work, "results.json"), "w", encoding="utf-8") as f:
        json.dump(results, f, indent=2)
    if sides != ["rust", "python"]:
        print(json.dumps({s: [{k: round(v, 1) if isinstance(v, float) else v for k, v in r.items()}
                              for r in rs] for s, rs in results.items()}, indent=1))
        return
    zips = {
        "rust": rust_zip(args.work, args.rust_bin, args.rust_zip),
        "python": python_zip(args.work, False),
        "python_boto": python_zip(args.work, True),
    }
    print(table(results, zips, args.repeat, args.warm, floor))


if __name__ == "__main__":
    main()
