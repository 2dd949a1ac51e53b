//! The documents S3 sends about object events, shaped exactly as AWS shapes them: the
//! event record (`Records[0]`) for SQS, SNS and Lambda, the `s3:TestEvent` message sent to
//! SQS and SNS destinations when a configuration is put, and the EventBridge event
//! (`Object Created` / `Object Deleted` / `Object Tags Added` …) on the default bus.
//! <https://docs.aws.amazon.com/AmazonS3/latest/userguide/notification-content-structure.html>
//! <https://docs.aws.amazon.com/AmazonS3/latest/userguide/ev-events.html>

use crate::notify::ObjectEvent;
use serde_json::{json, Value};

/// Who caused an event and through which request (a request's context, or S3 itself for
/// lifecycle actions).
#[derive(Debug, Clone)]
pub struct Actor {
    /// `userIdentity.principalId`: `AWS:<unique id>` of the signer, or `s3.amazonaws.com`.
    pub principal_id: String,
    /// EventBridge's `requester`: the caller's account, or `s3.amazonaws.com`.
    pub requester: String,
    pub source_ip: String,
    pub request_id: String,
    pub host_id: String,
    /// The request's `X-Amzn-Trace-Id`, carried into SQS (`AWSTraceHeader`) and Lambda.
    pub trace_id: Option<String>,
}

/// Where the bucket lives: its owner account and region.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct BucketHome {
    pub account: String,
    pub region: String,
}

/// An object key as event records carry it: URL-encoded form-style (`red flower.jpg` →
/// `red+flower.jpg`), `/` kept, every other byte outside `A-Za-z0-9-_.*` as `%XX`.
pub fn encode_key(key: &str) -> String {
    let mut out = String::with_capacity(key.len());
    for b in key.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'*' | b'/' => out.push(b as char),
            b' ' => out.push('+'),
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

/// `eventVersion`: 2.3 for lifecycle and tagging events, 2.1 for the others.
fn event_version(event_name: &str) -> &'static str {
    if event_name.starts_with("LifecycleExpiration") || event_name.starts_with("ObjectTagging") {
        "2.3"
    } else {
        "2.1"
    }
}

/// The notification body (`{"Records": [...]}`) for one event and one configuration.
pub fn record(e: &ObjectEvent, home: &BucketHome, actor: &Actor, configuration_id: &str, sequencer: &str) -> Value {
    let created = e.event_name.starts_with("ObjectCreated");
    let tagging = e.event_name.starts_with("ObjectTagging");
    let mut object = serde_json::Map::new();
    object.insert("key".into(), encode_key(&e.key).into());
    if created {
        object.insert("size".into(), e.size.unwrap_or(0).into());
    }
    if created || tagging {
        if let Some(etag) = &e.etag {
            object.insert("eTag".into(), etag.trim_matches('"').into());
        }
    }
    if let Some(v) = &e.version_id {
        object.insert("versionId".into(), v.clone().into());
    }
    if !tagging {
        object.insert("sequencer".into(), sequencer.into());
    }
    json!({
        "Records": [{
            "eventVersion": event_version(e.event_name),
            "eventSource": "aws:s3",
            "awsRegion": home.region,
            "eventTime": nimbus_core::time::iso8601_ms(e.time_ms),
            "eventName": e.event_name,
            "userIdentity": { "principalId": actor.principal_id },
            "requestParameters": { "sourceIPAddress": actor.source_ip },
            "responseElements": { "x-amz-request-id": actor.request_id, "x-amz-id-2": actor.host_id },
            "s3": {
                "s3SchemaVersion": "1.0",
                "configurationId": configuration_id,
                "bucket": {
                    "name": e.bucket,
                    "ownerIdentity": { "principalId": owner_principal(&home.account) },
                    "arn": format!("arn:aws:s3:::{}", e.bucket),
                },
                "object": Value::Object(object),
            },
        }]
    })
}

/// The bucket owner's `principalId` in records: nimbus names owners by account id.
pub fn owner_principal(account: &str) -> String {
    account.to_string()
}

/// The message SQS and SNS destinations get when a configuration naming them is put.
pub fn test_event(bucket: &str, time_ms: u64, request_id: &str, host_id: &str) -> Value {
    json!({
        "Service": "Amazon S3",
        "Event": "s3:TestEvent",
        "Time": nimbus_core::time::iso8601_ms(time_ms),
        "Bucket": bucket,
        "RequestId": request_id,
        "HostId": host_id,
    })
}

/// EventBridge's `detail-type` and `reason` of an event (`None`: not sent to EventBridge).
fn eventbridge_kind(event_name: &str) -> Option<(&'static str, &'static str)> {
    Some(match event_name {
        "ObjectCreated:Put" => ("Object Created", "PutObject"),
        "ObjectCreated:Post" => ("Object Created", "POST Object"),
        "ObjectCreated:Copy" => ("Object Created", "CopyObject"),
        "ObjectCreated:CompleteMultipartUpload" => ("Object Created", "CompleteMultipartUpload"),
        "ObjectRemoved:Delete" | "ObjectRemoved:DeleteMarkerCreated" => ("Object Deleted", "DeleteObject"),
        "LifecycleExpiration:Delete" | "LifecycleExpiration:DeleteMarkerCreated" => ("Object Deleted", "Lifecycle Expiration"),
        "ObjectTagging:Put" => ("Object Tags Added", "PutObjectTagging"),
        "ObjectTagging:Delete" => ("Object Tags Deleted", "DeleteObjectTagging"),
        _ => return None,
    })
}

/// The PutEvents entry for the default bus (`source` `aws.s3`): the key as stored (not
/// URL-encoded), `detail.version` "0".
pub fn eventbridge_entry(e: &ObjectEvent, actor: &Actor, sequencer: &str) -> Option<Value> {
    let (detail_type, reason) = eventbridge_kind(e.event_name)?;
    let mut object = serde_json::Map::new();
    object.insert("key".into(), e.key.clone().into());
    if let Some(size) = e.size.filter(|_| detail_type == "Object Created") {
        object.insert("size".into(), size.into());
    }
    if let Some(etag) = &e.etag {
        object.insert("etag".into(), etag.trim_matches('"').into());
    }
    if let Some(v) = &e.version_id {
        object.insert("version-id".into(), v.clone().into());
    }
    object.insert("sequencer".into(), sequencer.into());
    let mut detail = json!({
        "version": "0",
        "bucket": { "name": e.bucket },
        "object": Value::Object(object),
        "request-id": actor.request_id,
        "requester": actor.requester,
        "source-ip-address": actor.source_ip,
        "reason": reason,
    });
    if detail_type == "Object Deleted" {
        let kind = if e.event_name.ends_with("DeleteMarkerCreated") { "Delete Marker Created" } else { "Permanently Deleted" };
        detail["deletion-type"] = kind.into();
    }
    Some(json!({
        "Source": "aws.s3",
        "DetailType": detail_type,
        "Detail": detail.to_string(),
        "Resources": [format!("arn:aws:s3:::{}", e.bucket)],
        "Time": nimbus_core::time::iso8601(e.time_ms),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(name: &'static str) -> ObjectEvent {
        ObjectEvent { bucket: "b".into(), key: "dir/red flower(1)=x.jpg".into(), event_name: name, size: Some(5), etag: Some("\"abc\"".into()), version_id: None, time_ms: 1_700_000_000_123 }
    }

    fn actor() -> Actor {
        Actor { principal_id: "AWS:AIDAX".into(), requester: "000000000000".into(), source_ip: "127.0.0.1".into(), request_id: "R".into(), host_id: "H".into(), trace_id: None }
    }

    #[test]
    fn keys_are_form_encoded_with_slashes_kept() {
        assert_eq!(encode_key("red flower.jpg"), "red+flower.jpg");
        assert_eq!(encode_key("dt=2024/a:b+c€"), "dt%3D2024/a%3Ab%2Bc%E2%82%AC");
    }

    #[test]
    fn records_have_aws_shape() {
        let home = BucketHome { account: "000000000000".into(), region: "eu-west-1".into() };
        let r = record(&event("ObjectCreated:Put"), &home, &actor(), "cfg", "0000000000000000A1");
        let rec = &r["Records"][0];
        assert_eq!(rec["eventVersion"], "2.1");
        assert_eq!(rec["eventSource"], "aws:s3");
        assert_eq!(rec["awsRegion"], "eu-west-1");
        assert_eq!(rec["eventTime"], "2023-11-14T22:13:20.123Z");
        assert_eq!(rec["eventName"], "ObjectCreated:Put");
        assert_eq!(rec["s3"]["configurationId"], "cfg");
        assert_eq!(rec["s3"]["bucket"]["arn"], "arn:aws:s3:::b");
        assert_eq!(rec["s3"]["object"], json!({"key": "dir/red+flower%281%29%3Dx.jpg", "size": 5, "eTag": "abc", "sequencer": "0000000000000000A1"}));
        let d = record(&event("ObjectRemoved:Delete"), &home, &actor(), "cfg", "S");
        assert_eq!(d["Records"][0]["s3"]["object"], json!({"key": "dir/red+flower%281%29%3Dx.jpg", "sequencer": "S"}));
        let l = record(&event("LifecycleExpiration:Delete"), &home, &actor(), "cfg", "S");
        assert_eq!(l["Records"][0]["eventVersion"], "2.3");
    }

    #[test]
    fn eventbridge_entries() {
        let e = eventbridge_entry(&event("ObjectCreated:Copy"), &actor(), "S").expect("sent");
        assert_eq!(e["DetailType"], "Object Created");
        let detail: Value = serde_json::from_str(e["Detail"].as_str().unwrap_or_default()).expect("json");
        assert_eq!(detail["object"]["key"], "dir/red flower(1)=x.jpg");
        assert_eq!(detail["reason"], "CopyObject");
        assert_eq!(detail["version"], "0");
        let d = eventbridge_entry(&event("ObjectRemoved:DeleteMarkerCreated"), &actor(), "S").expect("sent");
        let detail: Value = serde_json::from_str(d["Detail"].as_str().unwrap_or_default()).expect("json");
        assert_eq!(detail["deletion-type"], "Delete Marker Created");
        assert!(detail["object"].get("size").is_none());
    }
}
