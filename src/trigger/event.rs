//! One event model for "an object was created", whatever delivered it: S3 notifications
//! (direct, in SQS, SNS in SQS), EventBridge, and Azure Event Grid's `BlobCreated`
//! (Event Grid or CloudEvents schema); plus the SageMaker job state changes that bring a
//! retraining back. Parsed from raw JSON, so every adapter (Lambda, Azure handler, tests)
//! shares one parser and the same identity of an upload.

use serde::Serialize;
use serde_json::Value;
use sha2::{Digest, Sha256};

/// Where the object lives.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Provider {
    S3,
    Azure,
}

/// A new object, with its key decoded.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ObjectCreated {
    pub provider: Provider,
    /// The bucket, or the Azure container.
    pub bucket: String,
    pub key: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub size: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub etag: Option<String>,
    /// Orders events for one key: a later upload has a greater sequencer.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sequencer: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub time: Option<String>,
}

impl ObjectCreated {
    /// The same for every delivery of one upload and different for the next upload of the
    /// same key: it names the claim and the jobs the event starts.
    pub fn identity(&self) -> String {
        // An Azure ETag changes with every write, so it names the upload whichever way it
        // was delivered (Event Grid's events carry a sequencer, blob triggers do not); an
        // S3 ETag is the content's, so a re-upload of the same bytes needs the sequencer.
        let sequencer = match self.provider {
            Provider::S3 => self.sequencer.clone().unwrap_or_default(),
            Provider::Azure => String::new(),
        };
        let etag = self.etag.as_deref().unwrap_or_default().trim_matches('"');
        let what = [
            format!("{:?}", self.provider),
            self.bucket.clone(),
            self.key.clone(),
            self.version.clone().unwrap_or_default(),
            etag.to_string(),
            sequencer,
        ]
        .join("\n");
        hex::encode(&Sha256::digest(what.as_bytes())[..12])
    }

    pub fn uri(&self) -> String {
        format!("{}://{}/{}", self.scheme(), self.bucket, self.key)
    }

    /// The key's last segment: the file name, which tells its format.
    pub fn name(&self) -> &str {
        self.key.rsplit('/').next().unwrap_or(&self.key)
    }

    /// The URI scheme of the object's store: `s3` or `az`.
    pub fn scheme(&self) -> &'static str {
        match self.provider {
            Provider::S3 => "s3",
            Provider::Azure => "az",
        }
    }

    /// The URI of another key in the same bucket or container.
    pub fn sibling(&self, key: &str) -> String {
        format!("{}://{}/{key}", self.scheme(), self.bucket)
    }
}

/// One thing a delivery says.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Notice {
    Created(ObjectCreated),
    /// `s3:TestEvent`, sent when a notification is configured: acknowledged, nothing done.
    Test,
    /// A SageMaker training job changed state (EventBridge).
    TrainingJob {
        name: String,
        status: String,
        #[serde(skip_serializing_if = "Option::is_none")]
        failure: Option<String>,
    },
    /// Anything else (a deletion, another service's event): logged and acknowledged,
    /// never retried.
    Ignored {
        what: String,
    },
}

/// One message of a delivery: what failed or succeeded together. An SQS batch has one
/// per SQS message (its id goes back in `batchItemFailures`); other deliveries have one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    pub id: Option<String>,
    /// The notices, or why the message could not be read (a permanent failure: the same
    /// bytes will not parse on a retry).
    pub notices: Result<Vec<Notice>, String>,
}

/// A whole delivery as the platform handed it over.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Delivery {
    /// An SQS batch: failures are reported per message.
    pub batch: bool,
    pub messages: Vec<Message>,
}

/// Reads any delivery mlgate is wired to; something unknown becomes one message that
/// holds an `Ignored` notice (or an error when it is not even an object).
pub fn parse(event: &Value) -> Delivery {
    let records = event.get("Records").and_then(Value::as_array);
    if let Some(records) = records.filter(|r| r.iter().any(|r| source_of(r) == "aws:sqs")) {
        let messages = records
            .iter()
            .map(|r| Message {
                id: r.get("messageId").and_then(Value::as_str).map(String::from),
                notices: sqs_body(r),
            })
            .collect();
        return Delivery {
            batch: true,
            messages,
        };
    }
    Delivery {
        batch: false,
        messages: vec![Message {
            id: None,
            notices: notices(event),
        }],
    }
}

fn source_of(record: &Value) -> &str {
    ["eventSource", "EventSource"]
        .iter()
        .find_map(|k| record.get(*k).and_then(Value::as_str))
        .unwrap_or_default()
}

/// An SQS body: an S3 notification, an SNS envelope around one, or EventBridge's event.
fn sqs_body(record: &Value) -> Result<Vec<Notice>, String> {
    let body = record
        .get("body")
        .and_then(Value::as_str)
        .ok_or("an SQS record without a body")?;
    let value: Value =
        serde_json::from_str(body).map_err(|e| format!("the SQS body is not JSON: {e}"))?;
    notices(&value)
}

/// The notices in one parsed notification.
fn notices(value: &Value) -> Result<Vec<Notice>, String> {
    if let Some(events) = value.as_array() {
        // Event Grid delivers arrays of events.
        return events.iter().map(azure).collect();
    }
    if !value.is_object() {
        return Err("the event is not a JSON object".into());
    }
    if value.get("Event").and_then(Value::as_str) == Some("s3:TestEvent") {
        return Ok(vec![Notice::Test]);
    }
    if value.get("Type").and_then(Value::as_str) == Some("Notification") {
        return sns(value.get("Message"));
    }
    if let Some(records) = value.get("Records").and_then(Value::as_array) {
        return records.iter().map(record).collect();
    }
    if value.get("detail-type").is_some() {
        return eventbridge(value).map(|n| vec![n]);
    }
    if value.get("eventType").is_some() || value.get("specversion").is_some() {
        return azure(value).map(|n| vec![n]);
    }
    Ok(vec![Notice::Ignored {
        what: "an event of no known shape".into(),
    }])
}

/// One record of an S3 notification (direct, or SNS delivered straight to the function).
fn record(r: &Value) -> Result<Notice, String> {
    if source_of(r) == "aws:sns" {
        let mut all = sns(r.pointer("/Sns/Message"))?;
        return Ok(if all.len() == 1 {
            all.remove(0)
        } else {
            Notice::Ignored {
                what: "an SNS message with several records".into(),
            }
        });
    }
    let name = r
        .get("eventName")
        .and_then(Value::as_str)
        .unwrap_or_default();
    if source_of(r) != "aws:s3" || !name.starts_with("ObjectCreated:") {
        return Ok(Notice::Ignored {
            what: format!("{} {name}", source_of(r)).trim().to_string(),
        });
    }
    let object = r
        .pointer("/s3/object")
        .ok_or("an S3 record without s3.object")?;
    let encoded = text(object, "key").ok_or("an S3 record without s3.object.key")?;
    Ok(Notice::Created(ObjectCreated {
        provider: Provider::S3,
        bucket: r
            .pointer("/s3/bucket/name")
            .and_then(Value::as_str)
            .ok_or("an S3 record without s3.bucket.name")?
            .to_string(),
        key: decode_key(&encoded)?,
        size: object.get("size").and_then(Value::as_u64),
        version: text(object, "versionId"),
        etag: text(object, "eTag"),
        sequencer: text(object, "sequencer"),
        time: text(r, "eventTime"),
    }))
}

/// The notification an SNS message carries (as a JSON string).
fn sns(message: Option<&Value>) -> Result<Vec<Notice>, String> {
    let text = message
        .and_then(Value::as_str)
        .ok_or("an SNS notification without its Message")?;
    let inner: Value =
        serde_json::from_str(text).map_err(|e| format!("the SNS message is not JSON: {e}"))?;
    notices(&inner)
}

fn eventbridge(e: &Value) -> Result<Notice, String> {
    let kind = e
        .get("detail-type")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let source = e.get("source").and_then(Value::as_str).unwrap_or_default();
    let detail = e.get("detail").cloned().unwrap_or(Value::Null);
    match (source, kind) {
        ("aws.s3", "Object Created") => {
            let object = detail
                .get("object")
                .ok_or("an S3 event without detail.object")?;
            Ok(Notice::Created(ObjectCreated {
                provider: Provider::S3,
                bucket: detail
                    .pointer("/bucket/name")
                    .and_then(Value::as_str)
                    .ok_or("an S3 event without detail.bucket.name")?
                    .to_string(),
                // EventBridge carries the key as it is, not URL-encoded.
                key: text(object, "key").ok_or("an S3 event without detail.object.key")?,
                size: object.get("size").and_then(Value::as_u64),
                version: text(object, "version-id"),
                etag: text(object, "etag"),
                sequencer: text(object, "sequencer"),
                time: text(e, "time"),
            }))
        }
        ("aws.sagemaker", "SageMaker Training Job State Change") => Ok(Notice::TrainingJob {
            name: text(&detail, "TrainingJobName")
                .ok_or("a training-job event without its name")?,
            status: text(&detail, "TrainingJobStatus").unwrap_or_default(),
            failure: text(&detail, "FailureReason"),
        }),
        _ => Ok(Notice::Ignored {
            what: format!("{source} {kind}"),
        }),
    }
}

/// An Event Grid event, in the Event Grid or the CloudEvents schema.
fn azure(e: &Value) -> Result<Notice, String> {
    let kind = text(e, "eventType")
        .or_else(|| text(e, "type"))
        .unwrap_or_default();
    if kind != "Microsoft.Storage.BlobCreated" {
        return Ok(Notice::Ignored { what: kind });
    }
    let subject = text(e, "subject").ok_or("a BlobCreated event without a subject")?;
    let (container, blob) = subject
        .strip_prefix("/blobServices/default/containers/")
        .and_then(|rest| rest.split_once("/blobs/"))
        .ok_or_else(|| format!("a BlobCreated subject of an unknown form: {subject}"))?;
    let data = e.get("data").cloned().unwrap_or(Value::Null);
    Ok(Notice::Created(ObjectCreated {
        provider: Provider::Azure,
        bucket: container.to_string(),
        key: blob.to_string(),
        size: data.get("contentLength").and_then(Value::as_u64),
        version: None,
        etag: text(&data, "eTag"),
        sequencer: text(&data, "sequencer"),
        time: text(e, "eventTime").or_else(|| text(e, "time")),
    }))
}

fn text(v: &Value, key: &str) -> Option<String> {
    v.get(key).and_then(Value::as_str).map(String::from)
}

/// S3 notifications URL-encode keys as a form does: `+` is a space, `%2B` a plus.
pub fn decode_key(encoded: &str) -> Result<String, String> {
    let spaced = encoded.replace('+', " ");
    percent_encoding::percent_decode_str(&spaced)
        .decode_utf8()
        .map(|k| k.into_owned())
        .map_err(|_| format!("the key `{encoded}` does not decode to UTF-8 text"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn s3_record(key: &str, sequencer: &str) -> Value {
        json!({
            "eventSource": "aws:s3",
            "eventName": "ObjectCreated:Put",
            "eventTime": "2026-12-01T00:00:00.000Z",
            "s3": {
                "bucket": {"name": "acme-data"},
                "object": {"key": key, "size": 1024, "eTag": "0123", "sequencer": sequencer}
            }
        })
    }

    fn created(n: &Notice) -> &ObjectCreated {
        match n {
            Notice::Created(o) => o,
            other => panic!("not a created object: {other:?}"),
        }
    }

    #[test]
    fn s3_keys_are_form_decoded() {
        let event = json!({"Records": [
            s3_record("churn/incoming/new+file%2B1.csv", "01"),
            s3_record("churn/incoming/caf%C3%A9.csv", "02"),
        ]});
        let d = parse(&event);
        assert!(!d.batch);
        let notices = d.messages[0].notices.as_ref().unwrap();
        assert_eq!(created(&notices[0]).key, "churn/incoming/new file+1.csv");
        assert_eq!(created(&notices[1]).key, "churn/incoming/café.csv");
        assert_eq!(
            created(&notices[0]).uri(),
            "s3://acme-data/churn/incoming/new file+1.csv"
        );
    }

    #[test]
    fn sqs_batches_keep_message_ids_and_unwrap_sns() {
        let direct = json!({"Records": [s3_record("a.csv", "01")]});
        let sns = json!({"Type": "Notification", "Message": direct.to_string()});
        let event = json!({"Records": [
            {"eventSource": "aws:sqs", "messageId": "m1", "body": direct.to_string()},
            {"eventSource": "aws:sqs", "messageId": "m2", "body": sns.to_string()},
            {"eventSource": "aws:sqs", "messageId": "m3", "body": "{not json"},
            {"eventSource": "aws:sqs", "messageId": "m4", "body": json!({"Service": "Amazon S3", "Event": "s3:TestEvent"}).to_string()},
        ]});
        let d = parse(&event);
        assert!(d.batch);
        let ids: Vec<_> = d.messages.iter().map(|m| m.id.clone().unwrap()).collect();
        assert_eq!(ids, ["m1", "m2", "m3", "m4"]);
        assert_eq!(d.messages[0].notices, d.messages[1].notices);
        assert!(d.messages[2]
            .notices
            .as_ref()
            .unwrap_err()
            .contains("not JSON"));
        assert_eq!(d.messages[3].notices, Ok(vec![Notice::Test]));
    }

    #[test]
    fn eventbridge_objects_and_training_jobs() {
        let object = json!({
            "detail-type": "Object Created", "source": "aws.s3", "time": "2026-12-01T00:00:00Z",
            "detail": {"bucket": {"name": "b"}, "object": {"key": "in/a b+c.csv", "size": 5, "etag": "e", "version-id": "v1", "sequencer": "0A"}}
        });
        let n = &parse(&object).messages[0].notices.clone().unwrap()[0];
        assert_eq!(created(n).key, "in/a b+c.csv");
        assert_eq!(created(n).version.as_deref(), Some("v1"));
        let job = json!({
            "detail-type": "SageMaker Training Job State Change", "source": "aws.sagemaker",
            "detail": {"TrainingJobName": "mlgate-churn-1", "TrainingJobStatus": "Failed", "FailureReason": "OOM"}
        });
        assert_eq!(
            parse(&job).messages[0].notices,
            Ok(vec![Notice::TrainingJob {
                name: "mlgate-churn-1".into(),
                status: "Failed".into(),
                failure: Some("OOM".into())
            }])
        );
    }

    #[test]
    fn azure_blob_created_in_both_schemas() {
        let grid = json!([{
            "eventType": "Microsoft.Storage.BlobCreated",
            "subject": "/blobServices/default/containers/data/blobs/churn/incoming/a b.csv",
            "eventTime": "2026-12-01T00:00:00Z",
            "data": {"eTag": "0x8D", "contentLength": 10, "sequencer": "000001"}
        }]);
        let cloud = json!({
            "specversion": "1.0", "type": "Microsoft.Storage.BlobCreated",
            "subject": "/blobServices/default/containers/data/blobs/churn/incoming/a b.csv",
            "time": "2026-12-01T00:00:00Z",
            "data": {"eTag": "0x8D", "contentLength": 10, "sequencer": "000001"}
        });
        let a = parse(&grid).messages[0].notices.clone().unwrap();
        let b = parse(&cloud).messages[0].notices.clone().unwrap();
        assert_eq!(a, b);
        assert_eq!(created(&a[0]).uri(), "az://data/churn/incoming/a b.csv");
    }

    #[test]
    fn identity_tells_redeliveries_from_new_uploads() {
        let one = parse(&json!({"Records": [s3_record("a.csv", "01")]}));
        let again = parse(&json!({"Records": [s3_record("a.csv", "01")]}));
        let next = parse(&json!({"Records": [s3_record("a.csv", "02")]}));
        let id = |d: &Delivery| created(&d.messages[0].notices.as_ref().unwrap()[0]).identity();
        assert_eq!(id(&one), id(&again));
        assert_ne!(id(&one), id(&next));
    }

    #[test]
    fn deletions_and_strangers_are_ignored_and_garbage_is_an_error() {
        let mut removed = s3_record("a.csv", "01");
        removed["eventName"] = "ObjectRemoved:Delete".into();
        let n = parse(&json!({"Records": [removed]})).messages[0]
            .notices
            .clone()
            .unwrap();
        assert!(matches!(&n[0], Notice::Ignored { what } if what.contains("ObjectRemoved")));
        let n = parse(&json!({"hello": 1})).messages[0]
            .notices
            .clone()
            .unwrap();
        assert!(matches!(&n[0], Notice::Ignored { .. }));
        assert!(parse(&json!(42)).messages[0].notices.is_err());
        assert!(decode_key("%FF%FE").is_err());
    }
}
