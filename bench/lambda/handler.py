"""The Python side of bench/lambda: a hand-written Lambda doing what a team writes for
"an upload lands, check it, retrain through CI", as mlgate's function does for the
churn example's rule `do: [validate, retrain]`. boto3 for S3, pandas for the checks,
urllib for GitHub's API; run by awslambdaric (`python -m awslambdaric handler.lambda_handler`).

Per S3 notification (delivered through SQS, answered with batchItemFailures):
  1. claim the upload: a write-once object (PutObject with If-None-Match: *) named by the
     upload's identity; a claim already there means a redelivery: nothing to do;
  2. read the CSV from S3 into memory and load it with pandas (its default C parser);
  3. check it against the schema of examples/churn (data/schema.yaml, copied below as a
     team would ship it): columns present, types, nulls, allowed values, ranges, unique
     ids; and describe each column for the report (nulls; min/max/mean/std/quartiles of
     numbers; distinct values and counts of text);
  4. write the report as JSON to the store; a file that fails is copied to a quarantine
     prefix and nothing else happens;
  5. dispatch the retrain workflow on GitHub (workflow_dispatch with inputs model, object).
A failure after the claim deletes the claim and hands the message back for a retry.

Settings (environment): STORE (s3://bucket/prefix), GITHUB_API_URL, GITHUB_REPOSITORY,
GITHUB_TOKEN, RETRAIN_WORKFLOW (default mlgate-retrain.yml), RETRAIN_REF (default main).
"""

import hashlib
import io
import json
import os
import time
import urllib.parse
import urllib.request

import boto3
import botocore.exceptions
import pandas as pd

# examples/churn/data/schema.yaml, as a dict (bench/lambda/measure.py checks it is the same).
SCHEMA = {
    "customer_id": {"type": "string", "unique": True},
    "tenure_months": {"type": "integer", "min": 0, "max": 72},
    "contract": {"type": "string", "allowed": ["month-to-month", "one-year", "two-year"]},
    "internet_service": {"type": "string", "allowed": ["dsl", "fiber", "none"]},
    "payment_method": {
        "type": "string",
        "allowed": ["electronic-check", "mailed-check", "bank-transfer", "credit-card"],
    },
    "monthly_charges": {"type": "float", "min": 0},
    "total_charges": {"type": "float", "min": 0, "nullable": True},
    "support_calls": {"type": "integer", "min": 0},
    "senior_citizen": {"type": "integer", "allowed": ["0", "1"]},
    "has_partner": {"type": "string", "allowed": ["yes", "no"]},
    "paperless_billing": {"type": "string", "allowed": ["yes", "no"]},
    "churned": {"type": "string", "allowed": ["yes", "no"]},
}
MODEL = "churn"
EXAMPLES = 5  # bad values quoted per finding

s3 = boto3.client("s3")
STORE_BUCKET, _, STORE_PREFIX = os.environ["STORE"].removeprefix("s3://").partition("/")
STORE_PREFIX = STORE_PREFIX.strip("/") + "/" if STORE_PREFIX.strip("/") else ""
GITHUB_API = os.environ.get("GITHUB_API_URL", "https://api.github.com").rstrip("/")
REPOSITORY = os.environ["GITHUB_REPOSITORY"]
WORKFLOW = os.environ.get("RETRAIN_WORKFLOW", "mlgate-retrain.yml")
REF = os.environ.get("RETRAIN_REF", "main")
TOKEN = os.environ["GITHUB_TOKEN"]


class Duplicate(Exception):
    pass


def lambda_handler(event, context):
    failures = []
    for message in event.get("Records", []):
        try:
            body = json.loads(message["body"])
        except (KeyError, ValueError):
            log(outcome="failed", detail="not JSON", message=message.get("messageId"))
            continue  # a poison message is dropped, not retried
        for record in body.get("Records", []):
            if not record.get("eventName", "").startswith("ObjectCreated:"):
                continue
            try:
                handle_upload(record)
            except Exception as e:  # noqa: BLE001 - anything else is retried
                log(outcome="retry", detail=f"{type(e).__name__}: {e}")
                failures.append({"itemIdentifier": message["messageId"]})
                break
    return {"batchItemFailures": failures}


def handle_upload(record):
    bucket = record["s3"]["bucket"]["name"]
    key = urllib.parse.unquote_plus(record["s3"]["object"]["key"])
    etag = record["s3"]["object"].get("eTag", "")
    sequencer = record["s3"]["object"].get("sequencer", "")
    version = record["s3"]["object"].get("versionId", "")
    uri = f"s3://{bucket}/{key}"
    identity = hashlib.sha256("\n".join([bucket, key, version, etag, sequencer]).encode()).hexdigest()[:24]
    claim = f"{STORE_PREFIX}claims/{MODEL}/{identity}.json"
    try:
        s3.put_object(
            Bucket=STORE_BUCKET,
            Key=claim,
            Body=json.dumps({"object": uri, "at": now()}).encode(),
            IfNoneMatch="*",
        )
    except botocore.exceptions.ClientError as e:
        if e.response.get("Error", {}).get("Code") in ("PreconditionFailed", "412"):
            log(outcome="duplicate", object=uri)
            return
        raise
    try:
        started = time.perf_counter()
        data = s3.get_object(Bucket=bucket, Key=key)["Body"].read()
        report = validate(data, uri)
        report["seconds"] = round(time.perf_counter() - started, 3)
        report_key = f"{STORE_PREFIX}reports/{MODEL}/{identity}/validate.json"
        s3.put_object(
            Bucket=STORE_BUCKET,
            Key=report_key,
            Body=json.dumps(report, indent=2, default=str).encode(),
            ContentType="application/json",
        )
        if not report["passed"]:
            name = key.rsplit("/", 1)[-1]
            target = f"quarantine/{identity}/{name}"
            s3.copy_object(Bucket=bucket, Key=target, CopySource={"Bucket": bucket, "Key": key})
            log(outcome="quarantined", object=uri, report=report_key, findings=len(report["findings"]))
            return
        dispatch(uri)
        log(outcome="done", object=uri, report=report_key, rows=report["rows"])
    except Exception:
        s3.delete_object(Bucket=STORE_BUCKET, Key=claim)
        raise


def validate(data, uri):
    findings = []
    try:
        df = pd.read_csv(io.BytesIO(data))
    except (ValueError, pd.errors.ParserError) as e:
        return {"object": uri, "passed": False, "rows": 0, "findings": [{"check": "read", "detail": str(e)}]}
    missing = [c for c in SCHEMA if c not in df.columns]
    for column in missing:
        findings.append({"column": column, "check": "present", "detail": "missing"})
    profile = {}
    for column, rule in SCHEMA.items():
        if column in missing:
            continue
        series = df[column]
        null = series.isna()
        nulls = int(null.sum())
        if nulls and not rule.get("nullable"):
            findings.append({"column": column, "check": "nulls", "count": nulls})
        present = series[~null] if nulls else series
        kind = rule["type"]
        if kind in ("integer", "float"):
            if pd.api.types.is_numeric_dtype(present):
                numbers = present
                bad = pd.Series(False, index=present.index)
            else:  # pandas read some cell as text: those cells are not numbers
                numbers = pd.to_numeric(present, errors="coerce")
                bad = numbers.isna()
            if kind == "integer" and not pd.api.types.is_integer_dtype(numbers):
                bad |= numbers.notna() & (numbers % 1 != 0)
            if bad.any():
                findings.append(finding(column, "type", present[bad], kind))
                numbers = numbers[~bad]
            if "min" in rule and (numbers < rule["min"]).any():
                findings.append(finding(column, "min", numbers[numbers < rule["min"]], rule["min"]))
            if "max" in rule and (numbers > rule["max"]).any():
                findings.append(finding(column, "max", numbers[numbers > rule["max"]], rule["max"]))
            d = numbers.describe()
            profile[column] = {
                "nulls": nulls,
                "count": int(d["count"]),
                **{k: float(d[k]) for k in ("mean", "std", "min", "25%", "50%", "75%", "max")},
            }
        if "allowed" in rule:
            allowed = [int(v) for v in rule["allowed"]] if kind == "integer" else rule["allowed"]
            outside = ~present.isin(allowed)
            if outside.any():
                findings.append(finding(column, "allowed", present[outside], rule["allowed"]))
        if rule.get("unique"):
            dup = present.duplicated()
            if dup.any():
                findings.append(finding(column, "unique", present[dup], True))
            profile[column] = {"nulls": nulls, "distinct": int(dup.size - dup.sum())}
        elif kind == "string":
            counts = present.value_counts()
            profile[column] = {"nulls": nulls, "distinct": int(counts.size), "top": counts.head(20).to_dict()}
    return {
        "object": uri,
        "model": MODEL,
        "passed": not findings,
        "rows": int(len(df)),
        "columns": list(df.columns),
        "findings": findings,
        "profile": profile,
    }


def finding(column, check, values, rule):
    return {
        "column": column,
        "check": check,
        "rule": rule,
        "count": int(values.size),
        "examples": [str(v) for v in values.head(EXAMPLES)],
    }


def dispatch(uri):
    url = f"{GITHUB_API}/repos/{REPOSITORY}/actions/workflows/{WORKFLOW}/dispatches"
    body = json.dumps({"ref": REF, "inputs": {"model": MODEL, "object": uri}}).encode()
    request = urllib.request.Request(
        url,
        data=body,
        method="POST",
        headers={
            "Accept": "application/vnd.github+json",
            "Authorization": f"Bearer {TOKEN}",
            "X-GitHub-Api-Version": "2022-11-28",
            "Content-Type": "application/json",
            "User-Agent": "churn-upload-lambda",
        },
    )
    with urllib.request.urlopen(request, timeout=10) as answer:
        if answer.status != 204:
            raise RuntimeError(f"workflow dispatch answered {answer.status}")


def now():
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


def log(**fields):
    print(json.dumps(fields), flush=True)
