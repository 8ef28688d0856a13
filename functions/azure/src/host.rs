//! The Functions host's invocation payload, `{Data, Metadata}`, as the event the engine
//! parses. Event Grid's `BlobCreated` arrives under the trigger's binding name (as a JSON
//! string or an object, depending on the host's version); a blob trigger's payload holds
//! the blob's content (unused: the engine streams the blob itself) and its `Uri`,
//! `Properties` and `name`, from which the same event is made.

use serde_json::{json, Value};

/// The function that receives Event Grid events (`blob-created/function.json`).
pub const BLOB_CREATED: &str = "blob-created";
/// The blob trigger with the Event Grid source (`blob-uploaded/function.json`).
pub const BLOB_UPLOADED: &str = "blob-uploaded";

/// The event (or events) the invocation of `function` carries.
pub fn event(function: &str, request: &Value) -> Result<Value, String> {
    let data = request
        .get("Data")
        .and_then(Value::as_object)
        .ok_or("the host's request has no `Data` object")?;
    match function {
        BLOB_CREATED => {
            let event = data
                .get("event")
                .or_else(|| data.values().next())
                .ok_or("the Event Grid invocation carries no event")?;
            match event {
                Value::String(text) => serde_json::from_str(text)
                    .map_err(|e| format!("the Event Grid event is not JSON: {e}")),
                other => Ok(other.clone()),
            }
        }
        BLOB_UPLOADED => blob_event(request.get("Metadata").unwrap_or(&Value::Null)),
        other => Err(format!(
            "no function `{other}` here (this handler serves `{BLOB_CREATED}` and `{BLOB_UPLOADED}`)"
        )),
    }
}

/// A `BlobCreated` event in Event Grid's schema from a blob trigger's metadata: the
/// container is the URL's path segment before the blob's name (`name`), which also holds
/// for path-style endpoints (Azurite) where the account comes first.
fn blob_event(metadata: &Value) -> Result<Value, String> {
    let uri = metadata
        .get("Uri")
        .and_then(Value::as_str)
        .ok_or("the blob trigger's metadata has no `Uri`")?;
    let name = metadata
        .get("name")
        .and_then(Value::as_str)
        .ok_or("the blob trigger's metadata has no `name` (its path must end in `{name}`)")?;
    let path = uri
        .split_once("://")
        .and_then(|(_, rest)| rest.split_once('/'))
        .map(|(_, path)| path.split('?').next().unwrap_or(path))
        .ok_or_else(|| format!("`{uri}` is not a blob URL"))?;
    let path = percent_encoding::percent_decode_str(path)
        .decode_utf8()
        .map_err(|e| format!("`{uri}`: {e}"))?;
    let container = path
        .strip_suffix(name)
        .map(|p| p.trim_end_matches('/'))
        .and_then(|p| p.rsplit('/').next())
        .filter(|c| !c.is_empty())
        .ok_or_else(|| format!("`{uri}` does not end in the blob `{name}`"))?;
    let properties = metadata.get("Properties").unwrap_or(&Value::Null);
    let field = |k: &str| properties.get(k).cloned().unwrap_or(Value::Null);
    Ok(json!({
        "eventType": "Microsoft.Storage.BlobCreated",
        "subject": format!("/blobServices/default/containers/{container}/blobs/{name}"),
        "data": {
            "url": uri,
            "eTag": field("ETag"),
            "contentLength": field("ContentLength"),
            "api": "BlobTrigger",
        }
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_event_grid_event_as_a_string_or_an_object() {
        let sent = json!({"eventType": "Microsoft.Storage.BlobCreated", "subject": "s"});
        let as_string = json!({"Data": {"event": sent.to_string()}, "Metadata": {}});
        let as_object = json!({"Data": {"event": sent}, "Metadata": {}});
        assert_eq!(event(BLOB_CREATED, &as_string).unwrap(), sent);
        assert_eq!(event(BLOB_CREATED, &as_object).unwrap(), sent);
        let broken = json!({"Data": {"event": "{not json"}});
        assert!(event(BLOB_CREATED, &broken)
            .unwrap_err()
            .contains("not JSON"));
        assert!(event(BLOB_CREATED, &json!({}))
            .unwrap_err()
            .contains("`Data`"));
        assert!(event("other", &as_object)
            .unwrap_err()
            .contains("no function `other`"));
    }

    #[test]
    fn a_blob_trigger_names_its_container_on_either_endpoint() {
        for (uri, container) in [
            (
                "https://acme.blob.core.windows.net/data/churn/in/a%20b.csv",
                "data",
            ),
            (
                "http://127.0.0.1:10000/devstoreaccount1/data/churn/in/a%20b.csv",
                "data",
            ),
        ] {
            let request = json!({"Data": {"blob": "aGk="}, "Metadata": {
                "Uri": uri, "name": "churn/in/a b.csv",
                "Properties": {"ETag": "\"0x1\"", "ContentLength": 2}}});
            let made = event(BLOB_UPLOADED, &request).unwrap();
            assert_eq!(
                made["subject"],
                format!("/blobServices/default/containers/{container}/blobs/churn/in/a b.csv")
            );
            assert_eq!(made["data"]["eTag"], "\"0x1\"");
        }
        let nameless = json!({"Data": {}, "Metadata": {"Uri": "https://a/b/c"}});
        assert!(event(BLOB_UPLOADED, &nameless)
            .unwrap_err()
            .contains("`name`"));
    }
}
