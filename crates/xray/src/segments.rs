//! Segment documents as they arrive (PutTraceSegments, the daemon's UDP datagrams, nimbus's
//! own hops): AWS's validation of the required fields, and the parts of a document the
//! store indexes. A document is a segment, or a subsegment sent on its own
//! (`"type": "subsegment"` with `trace_id` and `parent_id`).
//! <https://docs.aws.amazon.com/xray/latest/devguide/xray-api-segmentdocuments.html>
//! <https://docs.aws.amazon.com/xray/latest/api/API_PutTraceSegments.html>

use nimbus_core::trace::{is_segment_id, is_trace_id};
use serde_json::Value;

/// AWS's limit on one segment document (64 kB).
pub const MAX_DOCUMENT_BYTES: usize = 64 * 1024;

/// One accepted document, with what the store indexes.
#[derive(Debug, Clone)]
pub struct Doc {
    pub trace_id: String,
    pub id: String,
    pub parent_id: Option<String>,
    /// A subsegment sent on its own (merged into its parent when read back).
    pub subsegment: bool,
    pub start: f64,
    /// `None` while `in_progress`.
    pub end: Option<f64>,
    pub doc: Value,
}

impl Doc {
    pub fn in_progress(&self) -> bool {
        self.end.is_none()
    }
}

/// Why a document was refused: `UnprocessedTraceSegment`'s `Id`, `ErrorCode`, `Message`.
#[derive(Debug, Clone, PartialEq)]
pub struct Refused {
    pub id: Option<String>,
    pub code: &'static str,
    pub message: String,
}

fn refuse(doc: &Value, code: &'static str, message: impl Into<String>) -> Refused {
    Refused { id: doc.get("id").and_then(Value::as_str).map(str::to_string), code, message: message.into() }
}

/// Name characters X-Ray accepts: Unicode letters, numbers, whitespace and `_ . : / % & # = + \ - @`.
fn valid_name(name: &str) -> bool {
    !name.is_empty() && name.chars().count() <= 200 && name.chars().all(|c| c.is_alphanumeric() || c.is_whitespace() || "_.:/%&#=+\\-@".contains(c))
}

fn time(doc: &Value, field: &str) -> Option<f64> {
    doc.get(field).and_then(Value::as_f64).filter(|t| t.is_finite() && *t >= 0.0)
}

/// Parses and checks one document's text.
pub fn parse_text(text: &str) -> Result<Doc, Refused> {
    if text.len() > MAX_DOCUMENT_BYTES {
        return Err(Refused { id: None, code: "SegmentTooLarge", message: format!("Segment document is larger than {MAX_DOCUMENT_BYTES} bytes.") });
    }
    let value: Value = serde_json::from_str(text).map_err(|e| Refused { id: None, code: "InvalidSegment", message: format!("Segment document is not valid JSON: {e}") })?;
    check(value)
}

/// Checks one document's required fields (segments: name, id, trace_id, start_time and
/// end_time or in_progress; subsegments sent alone also type, parent_id).
pub fn check(doc: Value) -> Result<Doc, Refused> {
    if !doc.is_object() {
        return Err(refuse(&doc, "InvalidSegment", "Segment document must be a JSON object."));
    }
    let id = match doc.get("id").and_then(Value::as_str) {
        Some(id) if is_segment_id(id) => id.to_string(),
        Some(_) => return Err(refuse(&doc, "InvalidId", "Segment id must be 16 hexadecimal digits.")),
        None => return Err(refuse(&doc, "MissingId", "Segment document is missing the required field id.")),
    };
    let trace_id = match doc.get("trace_id").and_then(Value::as_str) {
        Some(t) if is_trace_id(t) => t.to_string(),
        Some(_) => return Err(refuse(&doc, "InvalidTraceId", "Segment trace_id must have the form 1-<8 hex digits>-<24 hex digits>.")),
        None => return Err(refuse(&doc, "MissingTraceId", "Segment document is missing the required field trace_id.")),
    };
    match doc.get("name").and_then(Value::as_str) {
        Some(n) if valid_name(n) => {}
        Some(_) => return Err(refuse(&doc, "InvalidName", "Segment name must be 1 to 200 letters, numbers, whitespace or _ . : / % & # = + \\ - @.")),
        None => return Err(refuse(&doc, "MissingName", "Segment document is missing the required field name.")),
    }
    let Some(start) = time(&doc, "start_time") else {
        return Err(refuse(&doc, "MissingStartTime", "Segment document is missing the required field start_time (epoch seconds)."));
    };
    let in_progress = doc.get("in_progress").and_then(Value::as_bool) == Some(true);
    let end = time(&doc, "end_time");
    let end = match (end, in_progress) {
        (Some(e), false) if e < start => return Err(refuse(&doc, "InvalidEndTime", "Segment end_time is before its start_time.")),
        (Some(e), false) => Some(e),
        (_, true) => None,
        (None, false) => return Err(refuse(&doc, "MissingEndTime", "Segment document must have end_time or in_progress set to true.")),
    };
    let parent_id = match doc.get("parent_id") {
        None | Some(Value::Null) => None,
        Some(Value::String(p)) if is_segment_id(p) => Some(p.clone()),
        Some(_) => return Err(refuse(&doc, "InvalidParentId", "Segment parent_id must be 16 hexadecimal digits.")),
    };
    let subsegment = doc.get("type").and_then(Value::as_str) == Some("subsegment");
    if subsegment && parent_id.is_none() {
        return Err(refuse(&doc, "MissingParentId", "A subsegment sent on its own must have parent_id."));
    }
    Ok(Doc { trace_id, id, parent_id, subsegment, start, end, doc })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const T: &str = "1-5759e988-bd862e3fe1be46a994272793";

    #[test]
    fn accepts_segments_and_subsegments() {
        let d = check(json!({"name": "api", "id": "70de5b6f19ff9a0a", "trace_id": T, "start_time": 1.5, "end_time": 2.0})).unwrap();
        assert_eq!(d.end, Some(2.0));
        let d = check(json!({"name": "call", "id": "70de5b6f19ff9a0b", "trace_id": T, "start_time": 1.5, "in_progress": true, "type": "subsegment", "parent_id": "70de5b6f19ff9a0a"})).unwrap();
        assert!(d.subsegment && d.in_progress());
    }

    #[test]
    fn refuses_what_aws_refuses() {
        let r = check(json!({"name": "api", "id": "xyz", "trace_id": T, "start_time": 1.0, "end_time": 2.0})).unwrap_err();
        assert_eq!(r.code, "InvalidId");
        let r = check(json!({"name": "api", "id": "70de5b6f19ff9a0a", "trace_id": T, "start_time": 1.0})).unwrap_err();
        assert_eq!((r.code, r.id.as_deref()), ("MissingEndTime", Some("70de5b6f19ff9a0a")));
        let r = check(json!({"name": "a<b", "id": "70de5b6f19ff9a0a", "trace_id": T, "start_time": 1.0, "end_time": 2.0})).unwrap_err();
        assert_eq!(r.code, "InvalidName");
        assert_eq!(parse_text("{not json").unwrap_err().code, "InvalidSegment");
        let r = check(json!({"name": "s", "id": "70de5b6f19ff9a0b", "trace_id": T, "start_time": 1.0, "end_time": 2.0, "type": "subsegment"})).unwrap_err();
        assert_eq!(r.code, "MissingParentId");
    }
}
