//! PutTraceSegments, GetTraceSummaries and BatchGetTraces.
//! <https://docs.aws.amazon.com/xray/latest/api/API_PutTraceSegments.html>
//! <https://docs.aws.amazon.com/xray/latest/api/API_GetTraceSummaries.html>
//! <https://docs.aws.amazon.com/xray/latest/api/API_BatchGetTraces.html>

use crate::errors::{XrayError, XrayResult};
use crate::filter;
use crate::segments;
use crate::service::{required_time, s, XrayService, RETENTION_SECS};
use crate::store::{StoredDoc, TimeColumn};
use base64::Engine;
use serde_json::{json, Value};
use std::collections::HashMap;

/// Summaries per GetTraceSummaries page.
pub const PAGE: usize = 100;
/// Traces looked at per GetTraceSummaries call at most (a filter that matches few traces
/// answers a partial page with a NextToken rather than scanning everything at once).
pub const SCAN_LIMIT: u64 = 50_000;
/// Trace ids per BatchGetTraces call (AWS: 5).
pub const BATCH_IDS: usize = 5;

impl XrayService {
    /// Epoch seconds before which traces are past retention.
    pub(crate) fn alive_after(&self) -> f64 {
        self.clock.now_ms().saturating_sub(RETENTION_SECS * 1000) as f64 / 1000.0
    }

    pub(crate) async fn put_trace_segments(&self, input: &Value) -> XrayResult<Value> {
        let texts = input.get("TraceSegmentDocuments").and_then(Value::as_array).ok_or_else(|| XrayError::invalid("TraceSegmentDocuments is required."))?;
        let mut accepted = Vec::new();
        let mut unprocessed = Vec::new();
        for t in texts {
            let parsed = match t.as_str() {
                Some(text) => segments::parse_text(text),
                None => Err(segments::Refused { id: None, code: "InvalidSegment", message: "Segment document must be a string.".into() }),
            };
            match parsed {
                Ok(d) => accepted.push(d),
                Err(r) => {
                    let mut u = serde_json::Map::new();
                    if let Some(id) = r.id {
                        u.insert("Id".into(), id.into());
                    }
                    u.insert("ErrorCode".into(), r.code.into());
                    u.insert("Message".into(), r.message.into());
                    unprocessed.push(Value::Object(u));
                }
            }
        }
        self.recorder.write(accepted).await;
        Ok(json!({ "UnprocessedTraceSegments": unprocessed }))
    }

    pub(crate) async fn get_trace_summaries(&self, input: &Value) -> XrayResult<Value> {
        let start = required_time(input, "StartTime")?;
        let end = required_time(input, "EndTime")?;
        if start > end {
            return Err(XrayError::invalid("StartTime must be before EndTime."));
        }
        let col = match s(input, "TimeRangeType") {
            None | Some("TraceId") => TimeColumn::TraceId,
            Some("Event") => TimeColumn::Event,
            Some("Service") => TimeColumn::Service,
            Some(other) => return Err(XrayError::invalid(format!("Invalid TimeRangeType: {other}. Valid values are TraceId, Event, Service."))),
        };
        let expr = match s(input, "FilterExpression").map(str::trim).filter(|f| !f.is_empty()) {
            None => None,
            Some(f) => Some(filter::parse(f).map_err(XrayError::Invalid)?),
        };
        // `Sampling`: a deterministic subset by trace id (FixedRate's Value, else 10%).
        let rate = match input.get("Sampling").and_then(Value::as_bool) {
            Some(true) => {
                let strategy = input.get("SamplingStrategy");
                match strategy.and_then(|st| st.get("Name")).and_then(Value::as_str) {
                    Some("FixedRate") => strategy.and_then(|st| st.get("Value")).and_then(Value::as_f64).unwrap_or(0.1).clamp(0.0, 1.0),
                    _ => 0.1,
                }
            }
            _ => 1.0,
        };
        let cursor = match s(input, "NextToken") {
            None => None,
            Some(t) => Some(decode_token(t).ok_or_else(|| XrayError::invalid("Invalid NextToken."))?),
        };
        self.recorder.flush().await;
        let mut out = Vec::new();
        let mut processed: u64 = 0;
        let mut last: Option<(f64, String)> = None;
        let mut more = false;
        self.store.scan(col, start, end, self.alive_after(), cursor, &mut |t, id, text| {
            if out.len() >= PAGE || processed >= SCAN_LIMIT {
                more = true;
                return false;
            }
            processed += 1;
            last = Some((t, id.to_string()));
            if rate < 1.0 && sample_point(id) >= rate {
                return true;
            }
            let Ok(mut summary) = serde_json::from_str::<Value>(text) else { return true };
            if expr.as_ref().is_none_or(|e| filter::matches(e, &summary)) {
                if let Some(m) = summary.as_object_mut() {
                    m.insert("MatchedEventTime".into(), json!(t));
                }
                out.push(summary);
            }
            true
        })?;
        let mut result = json!({
            "TraceSummaries": out,
            "ApproximateTime": self.clock.now_ms() as f64 / 1000.0,
            "TracesProcessedCount": processed,
        });
        if more {
            if let Some(l) = last {
                result["NextToken"] = encode_token(&l).into();
            }
        }
        Ok(result)
    }

    pub(crate) async fn batch_get_traces(&self, input: &Value) -> XrayResult<Value> {
        let ids = input.get("TraceIds").and_then(Value::as_array).ok_or_else(|| XrayError::invalid("TraceIds is required."))?;
        if ids.len() > BATCH_IDS {
            return Err(XrayError::invalid(format!("TraceIds can contain at most {BATCH_IDS} trace IDs.")));
        }
        self.recorder.flush().await;
        let alive = self.alive_after();
        let mut traces = Vec::new();
        let mut unprocessed = Vec::new();
        for id in ids.iter().filter_map(Value::as_str) {
            let found = self.store.summary(id)?.filter(|(_, updated)| *updated >= alive);
            let Some((summary, _)) = found else {
                unprocessed.push(Value::from(id));
                continue;
            };
            let segments = assemble(self.store.docs(id)?);
            traces.push(json!({
                "Id": id,
                "Duration": summary.get("Duration").cloned().unwrap_or(Value::Null),
                "LimitExceeded": false,
                "Segments": segments.into_iter().map(|(sid, doc)| json!({ "Id": sid, "Document": doc.to_string() })).collect::<Vec<_>>(),
            }));
        }
        Ok(json!({ "Traces": traces, "UnprocessedTraceIds": unprocessed }))
    }
}

/// A trace's segments as X-Ray returns them: subsegments sent on their own are placed in
/// their parent's `subsegments` (a later document with the same id replaces the
/// earlier one); one whose parent is not in the trace is returned as its own document.
pub fn assemble(stored: Vec<StoredDoc>) -> Vec<(String, Value)> {
    let mut segments: Vec<(String, Value)> = Vec::new();
    let mut children: HashMap<String, Vec<Value>> = HashMap::new();
    for (id, parent, sub, text) in stored {
        let Ok(doc) = serde_json::from_str::<Value>(&text) else { continue };
        match (sub, parent) {
            (true, Some(p)) => children.entry(p).or_default().push(doc),
            _ => segments.push((id, doc)),
        }
    }
    for (_, doc) in segments.iter_mut() {
        attach(doc, &mut children, 0);
    }
    // Orphans: their parent never arrived (or is itself an orphan's child, attached here).
    let mut orphans: Vec<Value> = children.drain().flat_map(|(_, v)| v).collect();
    for o in orphans.iter_mut() {
        attach(o, &mut children, 0);
    }
    for o in orphans {
        let id = o.get("id").and_then(Value::as_str).unwrap_or("").to_string();
        segments.push((id, o));
    }
    segments
}

fn attach(node: &mut Value, children: &mut HashMap<String, Vec<Value>>, depth: usize) {
    if depth > 64 {
        return;
    }
    let Some(id) = node.get("id").and_then(Value::as_str).map(str::to_string) else { return };
    if let Some(kids) = children.remove(&id) {
        let obj = match node.as_object_mut() {
            Some(o) => o,
            None => return,
        };
        let list = obj.entry("subsegments").or_insert_with(|| json!([]));
        if let Some(list) = list.as_array_mut() {
            for mut k in kids {
                if let Some(m) = k.as_object_mut() {
                    m.remove("type");
                    m.remove("trace_id");
                    m.remove("parent_id");
                }
                let kid_id = k.get("id").cloned();
                list.retain(|x| x.get("id") != kid_id.as_ref());
                list.push(k);
            }
        }
    }
    if let Some(list) = node.get_mut("subsegments").and_then(Value::as_array_mut) {
        for s in list.iter_mut() {
            attach(s, children, depth + 1);
        }
    }
}

/// A trace id's place in `[0, 1)` for `Sampling` (its random part).
fn sample_point(trace_id: &str) -> f64 {
    let tail = trace_id.get(trace_id.len().saturating_sub(8)..).unwrap_or("0");
    u32::from_str_radix(tail, 16).map(|n| n as f64 / 4_294_967_296.0).unwrap_or(0.0)
}

fn encode_token((t, id): &(f64, String)) -> String {
    base64::engine::general_purpose::STANDARD.encode(json!({ "t": t, "id": id }).to_string())
}

fn decode_token(token: &str) -> Option<(f64, String)> {
    let bytes = base64::engine::general_purpose::STANDARD.decode(token).ok()?;
    let v: Value = serde_json::from_slice(&bytes).ok()?;
    Some((v.get("t")?.as_f64()?, v.get("id")?.as_str()?.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn separate_subsegments_join_their_parents() {
        let seg = (String::from("a000000000000001"), None, false, json!({"id": "a000000000000001", "name": "fn", "subsegments": [{"id": "a000000000000002", "name": "inner"}]}).to_string());
        let sub = (String::from("a000000000000003"), Some("a000000000000002".to_string()), true, json!({"id": "a000000000000003", "name": "call", "type": "subsegment", "parent_id": "a000000000000002"}).to_string());
        let orphan = (String::from("a000000000000009"), Some("b000000000000000".to_string()), true, json!({"id": "a000000000000009", "name": "lost", "type": "subsegment"}).to_string());
        let out = assemble(vec![seg, sub, orphan]);
        assert_eq!(out.len(), 2);
        assert_eq!(out[0].1["subsegments"][0]["subsegments"][0]["name"], "call");
        assert_eq!(out[1].0, "a000000000000009");
    }

    #[test]
    fn tokens_round_trip() {
        let t = (1.5, "1-5759e988-bd862e3fe1be46a994272793".to_string());
        assert_eq!(decode_token(&encode_token(&t)), Some(t));
        assert_eq!(decode_token("nope"), None);
    }
}
