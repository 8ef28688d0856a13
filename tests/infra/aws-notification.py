#!/usr/bin/env python3
"""The template's delivery path on moto (S3 and SQS, plus EventBridge), no AWS account:

1. the queue and dead-letter queue as the template makes them (its RedrivePolicy);
2. the created bucket's NotificationConfiguration, evaluated from the template and put
   with put_bucket_notification_configuration; S3's s3:TestEvent arrives first;
3. uploads outside the prefix or suffix send nothing; one inside sends one message whose
   body is the S3 notification, its key S3-encoded (decoded back, it is the key uploaded);
4. the ExistingBucketNotification output (the JSON docs/deploy-aws.md hands to the CLI
   for an existing bucket) is accepted the same way and delivers the same way;
5. EventBridge mode: the ObjectCreatedRule's pattern matches an upload under the prefix
   and delivers the event to the queue, and not one outside it;
6. the TrainingJobRule's pattern passes the end of a job named mlgate-… (the sample
   event functions/aws-lambda/tests/events/ holds), not another job nor a running one;
7. a message received MaxReceiveCount times without being deleted moves to the
   dead-letter queue.

The body of step 3 is written to .cache/infra/notification-body.json. Run with the
python scripts/python-env prints (moto, boto3, PyYAML); it starts moto_server from that
venv on a free port and stops it.

`--deliver MOTO_URL BUCKET KEY FILE` is the Lambda test's half: on a moto already
running, it gives the existing BUCKET the template's queue and notification, uploads
FILE as KEY, and prints the SQS event Lambda's event source mapping would hand the
function for what the queue received (S3's s3:TestEvent first, then the upload)."""

import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from urllib.parse import unquote_plus

import boto3

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.normpath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, HERE)
import cfn  # noqa: E402

REGION = "eu-west-1"
KEY = "churn/incoming/new batch+données é.csv"  # a space, a plus, UTF-8
OUT = os.path.join(ROOT, ".cache/infra/notification-body.json")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_moto():
    port = free_port()
    server = os.path.join(os.path.dirname(sys.executable), "moto_server")
    proc = subprocess.Popen([server, "-H", "127.0.0.1", "-p", str(port)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    for _ in range(100):
        try:
            urllib.request.urlopen(url + "/moto-api/", timeout=1)
            return proc, url
        except OSError:
            time.sleep(0.1)
    proc.kill()
    raise SystemExit("aws-notification: moto_server did not start")


def client(service, url, region=REGION):
    return boto3.client(service, endpoint_url=url, region_name=region,
                        aws_access_key_id="testing", aws_secret_access_key="testing")


def receive(sqs, queue_url, wait=1):
    got = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=wait)
    messages = got.get("Messages", [])
    for m in messages:
        sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=m["ReceiptHandle"])
    return [json.loads(m["Body"]) for m in messages]


def api_notification(cfn_config, queue_arn):
    """The template's NotificationConfiguration (CloudFormation's shape) in the API's shape."""
    out = []
    for q in cfn_config["QueueConfigurations"]:
        assert q["Queue"] == "<Queue.Arn>", q["Queue"]
        out.append({
            "QueueArn": queue_arn,
            "Events": [q["Event"]],
            "Filter": {"Key": {"FilterRules": q["Filter"]["S3Key"]["Rules"]}},
        })
    return {"QueueConfigurations": out}


def main():
    template = cfn.load(os.path.join(ROOT, "infra/aws/template.yaml"))
    created = cfn.Stack(template, {"DataBucketName": "mlgate-events"})
    existing = cfn.Stack(template, {"DataBucketName": "mlgate-existing", "CreateDataBucket": "false"})
    bridged = cfn.Stack(template, {"DataBucketName": "mlgate-bridged", "DeliveryMode": "EventBridge"})
    checks = []

    def check(ok, what):
        checks.append((ok, what))
        print(f"aws-notification: {'ok' if ok else 'FAILED'}: {what}")

    proc, url = start_moto()
    try:
        s3, sqs, events = client("s3", url), client("sqs", url), client("events", url)

        # 1. Queues with the template's redrive policy.
        q = created.eval(template["Resources"]["Queue"])["Properties"]
        dlq = sqs.create_queue(QueueName="mlgate-dlq")["QueueUrl"]
        dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        redrive = dict(q["RedrivePolicy"], deadLetterTargetArn=dlq_arn)
        queue = sqs.create_queue(QueueName="mlgate-queue", Attributes={
            "VisibilityTimeout": str(q["VisibilityTimeout"]),
            "RedrivePolicy": json.dumps(redrive),
        })["QueueUrl"]
        queue_arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]

        # 2-3. The created bucket's notification.
        def bucket(name):
            s3.create_bucket(Bucket=name, CreateBucketConfiguration={"LocationConstraint": REGION})

        def uploads_deliver(name, config, label):
            bucket(name)
            s3.put_bucket_notification_configuration(Bucket=name, NotificationConfiguration=config)
            check(s3.get_bucket_notification_configuration(Bucket=name).get("QueueConfigurations"),
                  f"{label}: moto accepts the notification configuration")
            first = receive(sqs, queue)
            check([b.get("Event") for b in first] == ["s3:TestEvent"], f"{label}: S3's s3:TestEvent arrives first")
            for other in ("churn/elsewhere/a.csv", "churn/incoming/a.txt"):
                s3.put_object(Bucket=name, Key=other, Body=b"x,y\n1,2\n")
            check(receive(sqs, queue) == [], f"{label}: uploads outside the prefix or suffix send nothing")
            s3.put_object(Bucket=name, Key=KEY, Body=b"x,y\n1,2\n")
            bodies = receive(sqs, queue)
            records = [r for b in bodies for r in b.get("Records", [])]
            ok = len(bodies) == 1 and len(records) == 1 and records[0]["eventName"].startswith("ObjectCreated:")
            check(ok, f"{label}: one upload under the prefix sends one S3 notification")
            if ok:
                encoded = records[0]["s3"]["object"]["key"]
                check(unquote_plus(encoded) == KEY and "+" in encoded and " " not in encoded,
                      f"{label}: the key is form-encoded ({encoded!r}) and decodes to the key uploaded")
            return bodies[0] if bodies else None

        config = api_notification(created.eval(template["Resources"]["DataBucket"])["Properties"]
                                  ["NotificationConfiguration"], queue_arn)
        body = uploads_deliver("mlgate-events", config, "created bucket")
        if body is not None:
            os.makedirs(os.path.dirname(OUT), exist_ok=True)
            with open(OUT, "w", encoding="utf-8") as f:
                json.dump(body, f, indent=2, ensure_ascii=False)
                f.write("\n")
            print(f"aws-notification: the notification's body is in {os.path.relpath(OUT, ROOT)}")

        # 4. The output for an existing bucket, as the docs hand it to the CLI.
        output = existing.eval(template["Outputs"]["ExistingBucketNotification"]["Value"])
        config = json.loads(output.replace("<Queue.Arn>", queue_arn))
        uploads_deliver("mlgate-existing", config, "existing bucket (the output's JSON)")

        # 5. EventBridge: the bucket sends to EventBridge, the rule picks the prefix.
        rule = bridged.eval(template["Resources"]["ObjectCreatedRule"])["Properties"]
        events.put_rule(Name="mlgate-objects", EventPattern=json.dumps(rule["EventPattern"]))
        events.put_targets(Rule="mlgate-objects", Targets=[{"Id": "queue", "Arn": queue_arn}])
        bucket("mlgate-bridged")
        s3.put_bucket_notification_configuration(
            Bucket="mlgate-bridged", NotificationConfiguration={"EventBridgeConfiguration": {}})
        receive(sqs, queue, wait=0)
        s3.put_object(Bucket="mlgate-bridged", Key="churn/elsewhere/a.csv", Body=b"x\n")
        s3.put_object(Bucket="mlgate-bridged", Key=KEY, Body=b"x\n")
        got = receive(sqs, queue)
        keys = [b.get("detail", {}).get("object", {}).get("key") for b in got]
        check([b.get("detail-type") for b in got] == ["Object Created"] and keys == [KEY],
              f"EventBridge: the rule's pattern delivers the upload under the prefix, unencoded ({keys})")

        # 6. The training-job rule: mlgate's jobs that ended reach the queue, others do not.
        rule = created.eval(template["Resources"]["TrainingJobRule"])["Properties"]
        events.put_rule(Name="mlgate-training", EventPattern=json.dumps(rule["EventPattern"]))
        events.put_targets(Rule="mlgate-training", Targets=[{"Id": "queue", "Arn": queue_arn}])
        sample = os.path.join(ROOT, "functions/aws-lambda/tests/events/eventbridge-sagemaker-training-completed.json")
        event = json.load(open(sample, encoding="utf-8"))

        for name, status in [(event["detail"]["TrainingJobName"], "Completed"),
                             ("someone-elses-job", "Completed"),
                             (event["detail"]["TrainingJobName"], "InProgress")]:
            detail = dict(event["detail"], TrainingJobName=name, TrainingJobStatus=status)
            events.put_events(Entries=[{
                "Source": event["source"], "DetailType": event["detail-type"], "Detail": json.dumps(detail)}])
        got = receive(sqs, queue)
        names = [(b["detail"]["TrainingJobName"], b["detail"]["TrainingJobStatus"]) for b in got]
        check(names == [(event["detail"]["TrainingJobName"], "Completed")],
              f"the training-job rule delivers mlgate's ended jobs only ({names})")

        # 7. Redrive: MaxReceiveCount receives without a delete, then the dead-letter queue.
        sqs.send_message(QueueUrl=queue, MessageBody='{"poison": true}')
        for _ in range(int(redrive["maxReceiveCount"])):
            for m in sqs.receive_message(QueueUrl=queue, WaitTimeSeconds=1).get("Messages", []):
                sqs.change_message_visibility(QueueUrl=queue, ReceiptHandle=m["ReceiptHandle"], VisibilityTimeout=0)
        receive(sqs, queue, wait=0)
        dead = receive(sqs, dlq)
        check(dead == [{"poison": True}],
              f"a message received {redrive['maxReceiveCount']} times moves to the dead-letter queue")
    finally:
        proc.terminate()
        proc.wait(timeout=10)
    failed = [w for ok, w in checks if not ok]
    print(f"aws-notification: {len(checks) - len(failed)} passed, {len(failed)} failed")
    return 1 if failed else 0


def deliver(url, bucket, key, path):
    template = cfn.load(os.path.join(ROOT, "infra/aws/template.yaml"))
    stack = cfn.Stack(template, {"DataBucketName": bucket})
    s3 = client("s3", url)
    # The queue must be in the bucket's region (S3 refuses a destination elsewhere).
    region = s3.get_bucket_location(Bucket=bucket).get("LocationConstraint") or "us-east-1"
    sqs = client("sqs", url, region)
    queue = sqs.create_queue(QueueName=f"mlgate-{bucket}")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    config = api_notification(
        stack.eval(template["Resources"]["DataBucket"])["Properties"]["NotificationConfiguration"], arn)
    s3.put_bucket_notification_configuration(Bucket=bucket, NotificationConfiguration=config)
    with open(path, "rb") as f:
        s3.put_object(Bucket=bucket, Key=key, Body=f.read())
    records = []
    for _ in range(5):
        got = sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=10, WaitTimeSeconds=1,
                                  AttributeNames=["All"]).get("Messages", [])
        for m in got:
            sqs.delete_message(QueueUrl=queue, ReceiptHandle=m["ReceiptHandle"])
            records.append({
                "messageId": m["MessageId"], "receiptHandle": m["ReceiptHandle"], "body": m["Body"],
                "attributes": m.get("Attributes", {}), "messageAttributes": {},
                "md5OfBody": m["MD5OfBody"], "eventSource": "aws:sqs",
                "eventSourceARN": arn, "awsRegion": region,
            })
        if len(records) >= 2:
            break
    print(json.dumps({"Records": records}, ensure_ascii=False))
    return 0 if len(records) == 2 else 1


if __name__ == "__main__":
    if sys.argv[1:2] == ["--deliver"]:
        sys.exit(deliver(*sys.argv[2:6]))
    sys.exit(main())
