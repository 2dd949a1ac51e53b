//! X-Ray tracing's shared part: the `X-Amzn-Trace-Id` header (parse, new roots, the
//! header a hop hands downstream), the segment document every hop records, and the
//! process-wide recorder those documents go to.
//!
//! The header is `Root=1-<8 hex epoch seconds>-<24 hex>;Parent=<16 hex>;Sampled=1`
//! (<https://docs.aws.amazon.com/xray/latest/devguide/xray-concepts.html#xray-concepts-tracingheader>);
//! fields nimbus does not interpret (`Lineage`, `Self`) are carried verbatim.
//!
//! The recorder is one per process, installed once by the binary (as a `log` logger is):
//! every service and every background hop (a Lambda invocation, an SNS delivery, an event
//! source mapping's batch) records segments, and threading a handle through each
//! constructor and worker would only add noise. What records is still a narrow seam the
//! binary wires: [`crate::internal::TraceSink`], implemented by the X-Ray service. Until
//! one is installed, [`recording`] is false and nothing is built.

use std::sync::{Arc, OnceLock};

use serde_json::{json, Map, Value};

use crate::internal::TraceSink;

static RECORDER: OnceLock<Arc<dyn TraceSink>> = OnceLock::new();

/// Installs the process's trace recorder (the binary does, once). A second call is
/// ignored.
pub fn install(sink: Arc<dyn TraceSink>) {
    let _ = RECORDER.set(sink);
}

/// Whether segments are being recorded (a recorder is installed).
pub fn recording() -> bool {
    RECORDER.get().is_some()
}

/// Hands a finished segment to the recorder (dropped when none is installed).
pub fn record(segment: Segment) {
    if let Some(r) = RECORDER.get() {
        r.record(segment.into_json());
    }
}

/// The parts of an `X-Amzn-Trace-Id` header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TraceHeader {
    /// `1-5759e988-bd862e3fe1be46a994272793`
    pub root: String,
    /// The id of the segment or subsegment that made this call.
    pub parent: Option<String>,
    /// `Sampled=1` / `0`; absent means the receiver decides (nimbus records).
    pub sampled: Option<bool>,
    /// Other `key=value` fields, carried as sent (`Lineage=…`).
    pub extra: Vec<(String, String)>,
}

impl TraceHeader {
    /// Reads a header; `None` when it has no well-formed `Root`.
    pub fn parse(header: &str) -> Option<TraceHeader> {
        let mut out = TraceHeader { root: String::new(), parent: None, sampled: None, extra: Vec::new() };
        for part in header.split(';') {
            let Some((k, v)) = part.trim().split_once('=') else { continue };
            match k {
                "Root" => out.root = v.to_string(),
                "Parent" => out.parent = Some(v.to_string()).filter(|p| is_segment_id(p)),
                "Sampled" => {
                    out.sampled = match v {
                        "1" => Some(true),
                        "0" => Some(false),
                        _ => None,
                    }
                }
                _ => out.extra.push((k.to_string(), v.to_string())),
            }
        }
        is_trace_id(&out.root).then_some(out)
    }

    /// A new trace, sampled (nimbus records every trace; see docs/observability.md).
    pub fn new_root(now_ms: u64) -> TraceHeader {
        TraceHeader { root: new_trace_id(now_ms), parent: None, sampled: Some(true), extra: Vec::new() }
    }

    /// The same trace with `parent` as the calling segment.
    pub fn with_parent(&self, parent: &str) -> TraceHeader {
        TraceHeader { parent: Some(parent.to_string()), ..self.clone() }
    }

    /// Whether segments of this trace are recorded (`Sampled=0` says no).
    pub fn is_sampled(&self) -> bool {
        self.sampled != Some(false)
    }

    /// The header's text: `Root=…;Parent=…;Sampled=1` and any extra fields.
    pub fn render(&self) -> String {
        let mut s = format!("Root={}", self.root);
        if let Some(p) = &self.parent {
            s.push_str(";Parent=");
            s.push_str(p);
        }
        match self.sampled {
            Some(true) => s.push_str(";Sampled=1"),
            Some(false) => s.push_str(";Sampled=0"),
            None => {}
        }
        for (k, v) in &self.extra {
            s.push(';');
            s.push_str(k);
            s.push('=');
            s.push_str(v);
        }
        s
    }
}

/// A new trace id: `1-` + the time in 8 hex digits + 96 random bits in 24 hex digits.
pub fn new_trace_id(now_ms: u64) -> String {
    let random: u128 = rand::random::<u128>() & ((1u128 << 96) - 1);
    format!("1-{:08x}-{:024x}", (now_ms / 1000) as u32, random)
}

/// A new segment id: 64 random bits in 16 hex digits.
pub fn new_segment_id() -> String {
    format!("{:016x}", rand::random::<u64>())
}

/// `1-` + 8 hex + `-` + 24 hex.
pub fn is_trace_id(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() == 35 && s.starts_with("1-") && b[10] == b'-' && b[2..10].iter().chain(&b[11..]).all(u8::is_ascii_hexdigit)
}

/// 16 hex digits.
pub fn is_segment_id(s: &str) -> bool {
    s.len() == 16 && s.bytes().all(|b| b.is_ascii_hexdigit())
}

/// One segment document as X-Ray stores it
/// (<https://docs.aws.amazon.com/xray/latest/devguide/xray-api-segmentdocuments.html>):
/// the required fields, plus `origin`, `http`, `aws`, the error flags with their cause,
/// annotations and metadata.
#[derive(Debug, Clone)]
pub struct Segment {
    doc: Map<String, Value>,
}

impl Segment {
    /// A segment of `trace_id` with id `id`, from `start_ms` to `end_ms` (epoch ms).
    pub fn new(name: &str, trace_id: &str, id: &str, parent_id: Option<&str>, start_ms: u64, end_ms: u64) -> Segment {
        let mut doc = Map::new();
        doc.insert("name".into(), name.into());
        doc.insert("id".into(), id.into());
        doc.insert("trace_id".into(), trace_id.into());
        if let Some(p) = parent_id {
            doc.insert("parent_id".into(), p.into());
        }
        doc.insert("start_time".into(), epoch_seconds(start_ms));
        doc.insert("end_time".into(), epoch_seconds(end_ms.max(start_ms)));
        Segment { doc }
    }

    /// `AWS::Lambda::Function`, `AWS::SQS::Queue`, … (X-Ray's resource types).
    pub fn origin(mut self, origin: &str) -> Segment {
        self.doc.insert("origin".into(), origin.into());
        self
    }

    /// A field of the `aws` object (`operation`, `request_id`, `queue_url`, …).
    pub fn aws(mut self, key: &str, value: impl Into<Value>) -> Segment {
        let aws = self.doc.entry("aws").or_insert_with(|| Value::Object(Map::new()));
        if let Value::Object(m) = aws {
            m.insert(key.into(), value.into());
        }
        self
    }

    /// `http.response.status`, and the flag AWS sets for it: 429 `throttle` (and `error`),
    /// other 4xx `error`, 5xx `fault`.
    pub fn http_status(mut self, status: u16) -> Segment {
        self.doc.insert("http".into(), json!({ "response": { "status": status } }));
        match status {
            429 => {
                self.doc.insert("throttle".into(), true.into());
                self.doc.insert("error".into(), true.into());
            }
            400..=499 => {
                self.doc.insert("error".into(), true.into());
            }
            500..=599 => {
                self.doc.insert("fault".into(), true.into());
            }
            _ => {}
        }
        self
    }

    /// The failure: `error` (client) or `fault` (server) with `cause.exceptions`.
    pub fn failure(mut self, fault: bool, kind: &str, message: &str) -> Segment {
        self.doc.insert(if fault { "fault" } else { "error" }.into(), true.into());
        let exception = json!({ "id": new_segment_id(), "type": kind, "message": message });
        self.doc.insert("cause".into(), json!({ "exceptions": [exception] }));
        self
    }

    /// An annotation (indexed for filter expressions).
    pub fn annotation(mut self, key: &str, value: impl Into<Value>) -> Segment {
        let a = self.doc.entry("annotations").or_insert_with(|| Value::Object(Map::new()));
        if let Value::Object(m) = a {
            m.insert(key.into(), value.into());
        }
        self
    }

    /// Metadata under a namespace (`"nimbus"`): not indexed, shown with the segment.
    pub fn metadata(mut self, namespace: &str, key: &str, value: impl Into<Value>) -> Segment {
        let md = self.doc.entry("metadata").or_insert_with(|| Value::Object(Map::new()));
        if let Value::Object(m) = md {
            let ns = m.entry(namespace).or_insert_with(|| Value::Object(Map::new()));
            if let Value::Object(ns) = ns {
                ns.insert(key.into(), value.into());
            }
        }
        self
    }

    /// Any other top-level field.
    pub fn field(mut self, key: &str, value: impl Into<Value>) -> Segment {
        self.doc.insert(key.into(), value.into());
        self
    }

    pub fn into_json(self) -> Value {
        Value::Object(self.doc)
    }
}

/// Epoch seconds with millisecond precision, as X-Ray writes times.
fn epoch_seconds(ms: u64) -> Value {
    json!(ms as f64 / 1000.0)
}

/// The X-Ray name and origin of the segment the router records for an API call to the
/// service whose signing name is `signing_name` (what the X-Ray SDKs name their AWS
/// subsegments: `SQS`, `DynamoDB`, …).
pub fn service_segment_name(signing_name: &str) -> (&'static str, &'static str) {
    match signing_name {
        "sqs" => ("SQS", "AWS::SQS::Queue"),
        "dynamodb" => ("DynamoDB", "AWS::DynamoDB::Table"),
        "lambda" => ("Lambda", "AWS::Lambda"),
        "sns" => ("SNS", "AWS::SNS::Topic"),
        "s3" => ("S3", "AWS::S3::Bucket"),
        "events" => ("EventBridge", "AWS::Events"),
        "states" => ("STEPFUNCTIONS", "AWS::StepFunctions::StateMachine"),
        "kinesis" => ("Kinesis", "AWS::Kinesis::Stream"),
        "logs" => ("CloudWatchLogs", "AWS::Logs"),
        "monitoring" => ("CloudWatch", "AWS::CloudWatch"),
        "kms" => ("KMS", "AWS::KMS::Key"),
        "secretsmanager" => ("SecretsManager", "AWS::SecretsManager::Secret"),
        "ssm" => ("SSM", "AWS::SSM"),
        "iam" => ("IAM", "AWS::IAM"),
        "sts" => ("STS", "AWS::STS"),
        "apigateway" => ("ApiGateway", "AWS::ApiGateway"),
        "xray" => ("XRay", "AWS::XRay"),
        _ => ("AWS", "AWS"),
    }
}

/// The request members the X-Ray SDKs record in a call's `aws` object, by input member.
pub const RESOURCE_FIELDS: &[(&str, &str)] = &[
    ("QueueUrl", "queue_url"),
    ("QueueName", "queue_name"),
    ("TableName", "table_name"),
    ("FunctionName", "function_name"),
    ("TopicArn", "topic_arn"),
    ("TargetArn", "target_arn"),
    ("Bucket", "bucket_name"),
    ("Key", "key"),
    ("EventBusName", "event_bus_name"),
    ("StreamName", "stream_name"),
    ("StateMachineArn", "state_machine_arn"),
    ("SecretId", "secret_id"),
    ("KeyId", "key_id"),
    ("logGroupName", "log_group_name"),
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_renders_the_header() {
        let h = TraceHeader::parse("Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1;Lineage=a87bd80c:0").unwrap();
        assert_eq!(h.root, "1-5759e988-bd862e3fe1be46a994272793");
        assert_eq!(h.parent.as_deref(), Some("53995c3f42cd8ad8"));
        assert_eq!(h.sampled, Some(true));
        assert_eq!(h.render(), "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1;Lineage=a87bd80c:0");
        assert!(TraceHeader::parse("Root=abc").is_none());
        assert!(TraceHeader::parse("Parent=53995c3f42cd8ad8").is_none());
        assert!(!TraceHeader::parse("Root=1-5759e988-bd862e3fe1be46a994272793;Sampled=0").unwrap().is_sampled());
    }

    #[test]
    fn new_ids_have_xrays_shape() {
        let h = TraceHeader::new_root(1_700_000_000_000);
        assert!(is_trace_id(&h.root), "{}", h.root);
        assert!(h.root.starts_with("1-6553f100-"));
        assert!(is_segment_id(&new_segment_id()));
        assert_eq!(TraceHeader::parse(&h.with_parent("0123456789abcdef").render()).unwrap().parent.as_deref(), Some("0123456789abcdef"));
    }

    #[test]
    fn segment_flags_follow_the_status() {
        let s = Segment::new("SQS", "1-5759e988-bd862e3fe1be46a994272793", "53995c3f42cd8ad8", None, 1000, 1500).http_status(429).into_json();
        assert_eq!(s["throttle"], true);
        assert_eq!(s["error"], true);
        assert_eq!(s["start_time"], 1.0);
        assert_eq!(s["end_time"], 1.5);
        let s = Segment::new("SQS", "1-5759e988-bd862e3fe1be46a994272793", "53995c3f42cd8ad8", None, 1000, 1500).http_status(503).into_json();
        assert_eq!(s["fault"], true);
    }
}
