//! The fields Logs Insights gives an event
//! (<https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/CWL_AnalyzeLogData-discoverable-fields.html>):
//! the system fields `@timestamp`, `@message`, `@logStream`, `@log`
//! (`account:group`), `@ingestionTime`, `@ptr`; the fields of a JSON message, nested
//! objects flattened with dots (`a.b.c`) and arrays by index (`list.0`); and in
//! `/aws/lambda/…` groups the fields of the runtime's lines: `@type` (START, END,
//! REPORT), `@requestId`, and on REPORT lines `@duration`, `@billedDuration`,
//! `@memorySize`, `@maxMemoryUsed`, `@initDuration`, `@xrayTraceId`, `@xraySegmentId`.

use super::eval::Record;
use super::value::Val;
use serde_json::Value;

/// Fields discovered in one JSON event at most (AWS discovers up to 1,000).
const MAX_JSON_FIELDS: usize = 1000;

/// One event as the query sees it.
pub struct Event<'a> {
    pub timestamp: u64,
    pub ingestion_ms: u64,
    pub message: &'a str,
    pub stream: &'a str,
    /// `account:group`.
    pub log: &'a str,
    pub ptr: String,
    pub lambda: bool,
}

fn flatten(prefix: &str, v: &Value, r: &mut Record) {
    if r.fields.len() >= MAX_JSON_FIELDS {
        return;
    }
    let name = |k: &str| if prefix.is_empty() { k.to_string() } else { format!("{prefix}.{k}") };
    match v {
        Value::Object(m) => m.iter().for_each(|(k, v)| flatten(&name(k), v, r)),
        Value::Array(a) => a.iter().enumerate().for_each(|(i, v)| flatten(&name(&i.to_string()), v, r)),
        Value::String(s) => r.set(prefix, Val::Str(s.clone())),
        Value::Number(n) => r.set(prefix, n.as_f64().map(Val::Num).unwrap_or(Val::Null)),
        Value::Bool(b) => r.set(prefix, Val::Str(b.to_string())),
        Value::Null => {}
    }
}

/// `Duration: 102.25 ms` → 102.25 (the number before the unit).
fn lambda_number(part: &str) -> Option<f64> {
    part.split_whitespace().next()?.parse().ok()
}

fn lambda_fields(message: &str, r: &mut Record) {
    let Some(kind) = ["START", "END", "REPORT"].into_iter().find(|k| message.starts_with(&format!("{k} RequestId: "))) else { return };
    r.set("@type", Val::Str(kind.into()));
    for part in message.trim_end().split('\t') {
        let Some((key, value)) = part.split_once(": ") else { continue };
        let key = key.trim();
        let key = key.strip_prefix(kind).map(str::trim).unwrap_or(key);
        match key {
            "RequestId" => r.set("@requestId", Val::Str(value.split_whitespace().next().unwrap_or("").to_string())),
            "Duration" => r.set("@duration", lambda_number(value).map(Val::Num).unwrap_or(Val::Null)),
            "Billed Duration" => r.set("@billedDuration", lambda_number(value).map(Val::Num).unwrap_or(Val::Null)),
            "Memory Size" => r.set("@memorySize", lambda_number(value).map(|mb| Val::Num(mb * 1_000_000.0)).unwrap_or(Val::Null)),
            "Max Memory Used" => r.set("@maxMemoryUsed", lambda_number(value).map(|mb| Val::Num(mb * 1_000_000.0)).unwrap_or(Val::Null)),
            "Init Duration" => r.set("@initDuration", lambda_number(value).map(Val::Num).unwrap_or(Val::Null)),
            // The line AWS appends to REPORT for traced invocations:
            // `\nXRAY TraceId: 1-…\tSegmentId: …\tSampled: true`.
            "XRAY TraceId" => r.set("@xrayTraceId", Val::Str(value.split_whitespace().next().unwrap_or("").to_string())),
            "SegmentId" => r.set("@xraySegmentId", Val::Str(value.split_whitespace().next().unwrap_or("").to_string())),
            _ => {}
        }
    }
}

pub fn record(e: &Event<'_>) -> Record {
    let mut r = Record { fields: Vec::with_capacity(8) };
    r.set("@timestamp", Val::Time(e.timestamp as i64));
    r.set("@message", Val::Str(e.message.to_string()));
    r.set("@logStream", Val::Str(e.stream.to_string()));
    r.set("@log", Val::Str(e.log.to_string()));
    r.set("@ingestionTime", Val::Time(e.ingestion_ms as i64));
    r.set("@ptr", Val::Str(e.ptr.clone()));
    let trimmed = e.message.trim_start();
    if trimmed.starts_with('{') {
        if let Ok(v @ Value::Object(_)) = serde_json::from_str::<Value>(trimmed) {
            flatten("", &v, &mut r);
        }
    }
    if e.lambda {
        lambda_fields(e.message, &mut r);
    }
    r
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ev(message: &str, lambda: bool) -> Record {
        record(&Event { timestamp: 5, ingestion_ms: 6, message, stream: "s", log: "1:g", ptr: "p".into(), lambda })
    }

    #[test]
    fn json_and_lambda() {
        let r = ev(r#"{"a":{"b":1,"c":[true,"x"]},"level":"info"}"#, false);
        assert_eq!(r.get("a.b"), &Val::Num(1.0));
        assert_eq!(r.get("a.c.1"), &Val::Str("x".into()));
        assert_eq!(r.get("level"), &Val::Str("info".into()));
        let r = ev("REPORT RequestId: 8f5\tDuration: 1 ms\tBilled Duration: 1 ms\tMemory Size: 128 MB\tMax Memory Used: 71 MB\tInit Duration: 150.20 ms\t\nXRAY TraceId: 1-5e-ab\tSegmentId: 0a\tSampled: true", true);
        assert_eq!((r.get("@xrayTraceId"), r.get("@xraySegmentId"), r.get("@initDuration")), (&Val::Str("1-5e-ab".into()), &Val::Str("0a".into()), &Val::Num(150.2)));
        let r2 = ev("REPORT RequestId: 8f5\tDuration: 102.25 ms\tBilled Duration: 103 ms\tMemory Size: 128 MB\tMax Memory Used: 71 MB\t", true);
        assert_eq!(r2.get("@type"), &Val::Str("REPORT".into()));
        assert_eq!(r2.get("@requestId"), &Val::Str("8f5".into()));
        assert_eq!(r2.get("@duration"), &Val::Num(102.25));
        assert_eq!(r2.get("@billedDuration"), &Val::Num(103.0));
        assert_eq!(r2.get("@memorySize"), &Val::Num(128e6));
        assert_eq!(r2.get("@maxMemoryUsed"), &Val::Num(71e6));
        assert_eq!(r.get("@type"), &Val::Str("REPORT".into()));
        assert!(ev("START RequestId: abc Version: $LATEST", false).get("@type").is_null());
        assert_eq!(ev("START RequestId: abc Version: $LATEST", true).get("@requestId"), &Val::Str("abc".into()));
    }
}
