//! A trace as rows of a waterfall, from X-Ray's `BatchGetTraces` output: every segment and
//! subsegment one row, in tree order (a segment's children — its subsegments, and the
//! segments whose `parent_id` names it or one of its subsegments — below it, by start
//! time), with its depth, its offset from the trace's start and its duration, and what a
//! person reads off it: service, operation, resource, outcome. Pure: no I/O, shared by the
//! console's trace page and `nimbus trace`.
//!
//! Segment document fields: <https://docs.aws.amazon.com/xray/latest/devguide/xray-api-segmentdocuments.html>.

use serde_json::{json, Map, Value};
use std::collections::HashMap;

/// One segment or subsegment of a trace, placed.
#[derive(Debug, Clone)]
pub struct Row {
    pub id: String,
    pub parent_id: Option<String>,
    pub depth: usize,
    /// `name` (a service or function name, an AWS service name for subsegments).
    pub name: String,
    /// `origin` (`AWS::Lambda::Function`, …), or `namespace` for subsegments (`aws`, `remote`).
    pub origin: String,
    pub subsegment: bool,
    pub operation: String,
    pub resource: String,
    /// Milliseconds from the trace's first start.
    pub offset_ms: f64,
    pub duration_ms: f64,
    /// `ok`, `error`, `fault`, `throttle` or `in progress`.
    pub outcome: &'static str,
    pub http_status: Option<u64>,
    /// The first exception's `type: message`, when the document has a cause.
    pub cause: Option<String>,
    /// `aws.request_id`.
    pub request_id: Option<String>,
    /// The function, when this row is a Lambda invocation (its logs are looked up by it).
    pub function: Option<String>,
    /// The whole document, without its `subsegments`.
    pub document: Value,
}

/// A trace's rows and its extent.
#[derive(Debug, Clone, Default)]
pub struct Waterfall {
    pub trace_id: String,
    /// Epoch milliseconds of the earliest start.
    pub start_ms: f64,
    pub duration_ms: f64,
    pub rows: Vec<Row>,
}

struct Node {
    doc: Map<String, Value>,
    subsegment: bool,
    /// The node it sits under (containing segment, or `parent_id`).
    parent: Option<String>,
}

/// Parses the trace of `trace_id` out of a `BatchGetTraces` output; `None` when absent.
pub fn from_batch(output: &Value, trace_id: &str) -> Option<Waterfall> {
    let trace = output.get("Traces")?.as_array()?.iter().find(|t| t.get("Id").and_then(Value::as_str) == Some(trace_id))?;
    let docs: Vec<Value> = trace
        .get("Segments")
        .and_then(Value::as_array)
        .map(|segs| {
            segs.iter()
                .filter_map(|s| match s.get("Document") {
                    Some(Value::String(text)) => serde_json::from_str(text).ok(),
                    Some(v @ Value::Object(_)) => Some(v.clone()),
                    _ => None,
                })
                .collect()
        })
        .unwrap_or_default();
    Some(build(trace_id, &docs))
}

/// The waterfall of segment documents of one trace.
pub fn build(trace_id: &str, documents: &[Value]) -> Waterfall {
    let mut nodes: Vec<(String, Node)> = Vec::new();
    for doc in documents {
        if let Some(obj) = doc.as_object() {
            collect(obj, obj.get("parent_id").and_then(Value::as_str).map(str::to_string), false, &mut nodes);
        }
    }
    let known: std::collections::HashSet<String> = nodes.iter().map(|(id, _)| id.clone()).collect();
    let mut children: HashMap<Option<String>, Vec<usize>> = HashMap::new();
    for (i, (_, n)) in nodes.iter().enumerate() {
        // A parent this trace does not hold (a caller outside nimbus) makes a root.
        let parent = n.parent.clone().filter(|p| known.contains(p));
        children.entry(parent).or_default().push(i);
    }
    for list in children.values_mut() {
        list.sort_by(|a, b| time(&nodes[*a].1.doc, "start_time").total_cmp(&time(&nodes[*b].1.doc, "start_time")));
    }
    let start = nodes.iter().map(|(_, n)| time(&n.doc, "start_time")).filter(|t| *t > 0.0).fold(f64::INFINITY, f64::min);
    let start = if start.is_finite() { start } else { 0.0 };
    let end = nodes.iter().map(|(_, n)| end_time(&n.doc)).fold(start, f64::max);
    let mut rows = Vec::with_capacity(nodes.len());
    let mut seen = vec![false; nodes.len()];
    let mut stack: Vec<(usize, usize)> = children.get(&None).map(|l| l.iter().rev().map(|i| (*i, 0)).collect()).unwrap_or_default();
    while let Some((i, depth)) = stack.pop() {
        if std::mem::replace(&mut seen[i], true) {
            continue;
        }
        let (id, node) = &nodes[i];
        rows.push(row(id, node, depth, start));
        if let Some(kids) = children.get(&Some(id.clone())) {
            stack.extend(kids.iter().rev().map(|k| (*k, depth + 1)));
        }
    }
    // Nodes on a parent cycle (malformed documents) still show, at the top level.
    for i in 0..nodes.len() {
        if !seen[i] {
            rows.push(row(&nodes[i].0, &nodes[i].1, 0, start));
        }
    }
    Waterfall { trace_id: trace_id.to_string(), start_ms: start * 1000.0, duration_ms: (end - start) * 1000.0, rows }
}

fn collect(doc: &Map<String, Value>, parent: Option<String>, subsegment: bool, out: &mut Vec<(String, Node)>) {
    let Some(id) = doc.get("id").and_then(Value::as_str) else { return };
    let mut own = doc.clone();
    let subs = own.remove("subsegments");
    out.push((id.to_string(), Node { doc: own, subsegment, parent }));
    if let Some(Value::Array(subs)) = subs {
        for s in subs {
            if let Some(s) = s.as_object() {
                collect(s, Some(id.to_string()), true, out);
            }
        }
    }
}

fn time(doc: &Map<String, Value>, key: &str) -> f64 {
    doc.get(key).and_then(Value::as_f64).unwrap_or(0.0)
}

/// `end_time`, or the start for a segment still in progress.
fn end_time(doc: &Map<String, Value>) -> f64 {
    doc.get("end_time").and_then(Value::as_f64).unwrap_or_else(|| time(doc, "start_time"))
}

fn str_at<'a>(doc: &'a Map<String, Value>, path: &[&str]) -> Option<&'a str> {
    let mut v = doc.get(path[0])?;
    for p in &path[1..] {
        v = v.get(p)?;
    }
    v.as_str()
}

/// The last part of an ARN or URL: a queue's, topic's, function's name.
fn last_part(s: &str) -> &str {
    s.rsplit([':', '/']).next().unwrap_or(s)
}

/// What the row acts on, from the `aws` fields X-Ray's SDKs and nimbus record.
fn resource_of(doc: &Map<String, Value>) -> String {
    let aws = doc.get("aws").and_then(Value::as_object);
    let field = |k: &str| aws.and_then(|a| a.get(k)).and_then(Value::as_str);
    for key in ["table_name", "function_name", "bucket_name", "rule_name", "event_bus_name", "api_id", "log_group"] {
        if let Some(v) = field(key) {
            return v.to_string();
        }
    }
    for key in ["queue_url", "topic_arn", "function_arn", "resource_arn", "arn"] {
        if let Some(v) = field(key) {
            return last_part(v).to_string();
        }
    }
    if let Some(names) = aws.and_then(|a| a.get("table_names")).and_then(Value::as_array) {
        return names.iter().filter_map(Value::as_str).collect::<Vec<_>>().join(", ");
    }
    if let Some(url) = str_at(doc, &["http", "request", "url"]) {
        return url.to_string();
    }
    String::new()
}

fn operation_of(doc: &Map<String, Value>) -> String {
    if let Some(op) = str_at(doc, &["aws", "operation"]) {
        return op.to_string();
    }
    match (str_at(doc, &["http", "request", "method"]), doc.get("origin").and_then(Value::as_str)) {
        (Some(m), _) => m.to_string(),
        (None, Some("AWS::Lambda::Function")) => "Invocation".to_string(),
        _ => String::new(),
    }
}

fn outcome_of(doc: &Map<String, Value>) -> &'static str {
    let flag = |k: &str| doc.get(k).and_then(Value::as_bool) == Some(true);
    if flag("in_progress") {
        "in progress"
    } else if flag("throttle") {
        "throttle"
    } else if flag("fault") {
        "fault"
    } else if flag("error") {
        "error"
    } else {
        "ok"
    }
}

fn cause_of(doc: &Map<String, Value>) -> Option<String> {
    let cause = doc.get("cause")?;
    if let Some(e) = cause.get("exceptions").and_then(Value::as_array).and_then(|e| e.first()) {
        let kind = e.get("type").and_then(Value::as_str).unwrap_or("");
        let message = e.get("message").and_then(Value::as_str).unwrap_or("");
        return Some(match (kind.is_empty(), message.is_empty()) {
            (false, false) => format!("{kind}: {message}"),
            (false, true) => kind.to_string(),
            _ => message.to_string(),
        });
    }
    cause.as_str().map(str::to_string)
}

/// The function a Lambda row runs: `aws.function_name`, the name in `aws.function_arn` or
/// `resource_arn`, or the segment's name for a function segment.
fn function_of(doc: &Map<String, Value>) -> Option<String> {
    let origin = doc.get("origin").and_then(Value::as_str).unwrap_or("");
    let is_lambda = origin.starts_with("AWS::Lambda") || doc.get("name").and_then(Value::as_str) == Some("Lambda");
    if !is_lambda {
        return None;
    }
    if let Some(f) = str_at(doc, &["aws", "function_name"]) {
        return Some(f.to_string());
    }
    for key in ["function_arn", "resource_arn"] {
        if let Some(arn) = str_at(doc, &["aws", key]).or_else(|| doc.get(key).and_then(Value::as_str)) {
            // arn:aws:lambda:<region>:<account>:function:<name>[:<qualifier>]
            let parts: Vec<&str> = arn.split(':').collect();
            if parts.len() >= 7 && parts[5] == "function" {
                return Some(parts[6].to_string());
            }
        }
    }
    (origin == "AWS::Lambda::Function").then(|| doc.get("name").and_then(Value::as_str).map(str::to_string)).flatten()
}

fn row(id: &str, node: &Node, depth: usize, trace_start: f64) -> Row {
    let doc = &node.doc;
    let start = time(doc, "start_time");
    let origin = doc.get("origin").or_else(|| doc.get("namespace")).and_then(Value::as_str).unwrap_or("").to_string();
    Row {
        id: id.to_string(),
        parent_id: node.parent.clone(),
        depth,
        name: doc.get("name").and_then(Value::as_str).unwrap_or("").to_string(),
        origin,
        subsegment: node.subsegment,
        operation: operation_of(doc),
        resource: resource_of(doc),
        offset_ms: ((start - trace_start) * 1000.0).max(0.0),
        duration_ms: ((end_time(doc) - start) * 1000.0).max(0.0),
        outcome: outcome_of(doc),
        http_status: doc.get("http").and_then(|h| h.get("response")).and_then(|r| r.get("status")).and_then(Value::as_u64),
        cause: cause_of(doc),
        request_id: str_at(doc, &["aws", "request_id"]).map(str::to_string),
        function: function_of(doc),
        document: Value::Object(doc.clone()),
    }
}

impl Row {
    pub fn to_json(&self) -> Value {
        json!({
            "id": self.id,
            "parent_id": self.parent_id,
            "depth": self.depth,
            "name": self.name,
            "origin": self.origin,
            "subsegment": self.subsegment,
            "operation": self.operation,
            "resource": self.resource,
            "offset_ms": self.offset_ms,
            "duration_ms": self.duration_ms,
            "outcome": self.outcome,
            "http_status": self.http_status,
            "cause": self.cause,
            "request_id": self.request_id,
            "function": self.function,
            "document": self.document,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn seg(id: &str, parent: Option<&str>, name: &str, start: f64, end: f64) -> Value {
        let mut v = json!({ "id": id, "trace_id": "1-5759e988-bd862e3fe1be46a994272793", "name": name, "start_time": start, "end_time": end });
        if let Some(p) = parent {
            v["parent_id"] = json!(p);
        }
        v
    }

    #[test]
    fn rows_nest_by_parent_and_subsegment_in_time_order() {
        let mut api = seg("a000000000000001", None, "api", 100.0, 100.5);
        api["origin"] = json!("AWS::ApiGateway::Stage");
        let mut fnseg = seg("f000000000000001", Some("a000000000000001"), "orders", 100.1, 100.4);
        fnseg["origin"] = json!("AWS::Lambda::Function");
        fnseg["aws"] = json!({ "request_id": "r-1" });
        fnseg["subsegments"] = json!([
            { "id": "s000000000000002", "name": "DynamoDB", "namespace": "aws", "start_time": 100.3, "end_time": 100.35, "aws": { "operation": "PutItem", "table_name": "t" } },
            { "id": "s000000000000001", "name": "SQS", "namespace": "aws", "start_time": 100.2, "end_time": 100.25, "error": true,
              "aws": { "operation": "SendMessage", "queue_url": "http://h/000000000000/q1" },
              "cause": { "exceptions": [{ "type": "QueueDoesNotExist", "message": "gone" }] } }
        ]);
        let w = build("t", &[fnseg, api]);
        let names: Vec<(&str, usize)> = w.rows.iter().map(|r| (r.name.as_str(), r.depth)).collect();
        assert_eq!(names, vec![("api", 0), ("orders", 1), ("SQS", 2), ("DynamoDB", 2)]);
        assert_eq!(w.rows[2].resource, "q1");
        assert_eq!(w.rows[2].outcome, "error");
        assert_eq!(w.rows[2].cause.as_deref(), Some("QueueDoesNotExist: gone"));
        assert_eq!(w.rows[3].operation, "PutItem");
        assert_eq!(w.rows[1].function.as_deref(), Some("orders"));
        assert!((w.duration_ms - 500.0).abs() < 1e-6);
        assert!((w.rows[1].offset_ms - 100.0).abs() < 1e-3);
    }

    #[test]
    fn unknown_parent_is_a_root_and_from_batch_reads_documents() {
        let doc = seg("b000000000000001", Some("ffffffffffffffff"), "x", 5.0, 6.0).to_string();
        let out = json!({ "Traces": [{ "Id": "t1", "Segments": [{ "Id": "b000000000000001", "Document": doc }] }] });
        let w = from_batch(&out, "t1").expect("trace");
        assert_eq!(w.rows.len(), 1);
        assert_eq!(w.rows[0].depth, 0);
        assert!(from_batch(&out, "t2").is_none());
    }
}
