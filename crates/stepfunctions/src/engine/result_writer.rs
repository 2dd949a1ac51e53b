//! Distributed Map `ResultWriter`: what the child workflow executions produced, exported to
//! S3 (`Resource: arn:aws:states:::s3:putObject` + `Parameters`/`Arguments {Bucket, Prefix}`)
//! and/or reshaped (`WriterConfig {Transformation NONE|COMPACT|FLATTEN, OutputType JSON|JSONL}`),
//! as https://docs.aws.amazon.com/step-functions/latest/dg/input-output-resultwriter.html documents:
//! `<Prefix>/<map run id>/manifest.json` (`DestinationBucket`, `MapRunArn`,
//! `ResultFiles {FAILED, PENDING, SUCCEEDED: [{Key, Size}]}`) next to `SUCCEEDED_<n>.json`,
//! `FAILED_<n>.json` and `PENDING_<n>.json` (a new file each time one would pass 5 GB), and the
//! Map state's output `{MapRunArn, ResultWriterDetails {Bucket, Key}}`.
//!
//! The interface with whoever runs the children is [`ChildResult`] + [`write_results`]: the
//! caller renders the writer's `Parameters`/`Arguments` in its own query language and hands
//! over one `ChildResult` per child execution (item or batch). The definition checks of the
//! field's combinations live here too ([`definition_errors`]).

use super::lang::Failure;
use crate::definition::State;
use serde_json::{json, Value};

/// The only S3 API action a ResultWriter calls.
pub const PUT_OBJECT: &str = "arn:aws:states:::s3:putObject";
/// AWS starts another result file when one would pass 5 GB.
pub const MAX_FILE_BYTES: usize = 5 * 1024 * 1024 * 1024;

/// What one child workflow execution of a Map Run came to.
#[derive(Debug, Clone, PartialEq)]
pub struct ChildResult {
    pub execution_arn: String,
    pub name: String,
    pub state_machine_arn: String,
    pub input: Value,
    /// The child's output when it SUCCEEDED.
    pub output: Option<Value>,
    pub error: Option<String>,
    pub cause: Option<String>,
    /// SUCCEEDED | FAILED | TIMED_OUT | ABORTED | PENDING (never started).
    pub status: String,
    pub start_ms: u64,
    pub stop_ms: u64,
}

/// `WriterConfig.Transformation`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transformation {
    /// The outputs with each execution's metadata (the default when exporting).
    None,
    /// The outputs alone (the default without a ResultWriter).
    Compact,
    /// The outputs, arrays among them spread one level.
    Flatten,
}

/// The writer's parsed configuration.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WriterConfig {
    pub transformation: Transformation,
    /// `OutputType: JSONL` — one JSON value a line instead of one JSON array.
    pub jsonl: bool,
    /// `Resource` + `Parameters` are there: the results go to S3.
    pub exports: bool,
}

impl WriterConfig {
    /// The state's `ResultWriter`, or `None` when it has none.
    pub fn of(st: &State) -> Option<WriterConfig> {
        let w = st.field("ResultWriter")?;
        let exports = w.get("Resource").is_some();
        let transformation = match w.pointer("/WriterConfig/Transformation").and_then(Value::as_str) {
            Some("COMPACT") => Transformation::Compact,
            Some("FLATTEN") => Transformation::Flatten,
            Some(_) => Transformation::None,
            None if exports => Transformation::None,
            None => Transformation::Compact,
        };
        let jsonl = w.pointer("/WriterConfig/OutputType").and_then(Value::as_str) == Some("JSONL");
        Some(WriterConfig { transformation, jsonl, exports })
    }
}

/// The definition errors of a `ResultWriter` object (CreateStateMachine's
/// SCHEMA_VALIDATION_FAILED): it is not empty, and it is `WriterConfig`, or `Resource` and
/// `Parameters` (`Arguments` in JSONata), or all three; the enums hold known values.
pub fn definition_errors(writer: &Value, jsonata: bool) -> Vec<String> {
    let mut errors = Vec::new();
    let Some(obj) = writer.as_object() else { return vec!["Expected value of type: Object".into()] };
    let params = if jsonata { "Arguments" } else { "Parameters" };
    let unknown: Vec<&str> = obj.keys().map(String::as_str).filter(|k| !["Resource", params, "WriterConfig"].contains(k)).collect();
    if !unknown.is_empty() {
        errors.push(format!("These fields are not allowed: [{}]", unknown.join(", ")));
    }
    let (resource, parameters, config) = (obj.get("Resource"), obj.get(params), obj.get("WriterConfig"));
    match (resource, parameters) {
        (None, None) if config.is_none() => errors.push(format!("The ResultWriter field cannot be empty: specify WriterConfig, or Resource and {params}, or all three")),
        (Some(_), None) => errors.push(format!("These fields are required: [{params}]")),
        (None, Some(_)) => errors.push("These fields are required: [Resource]".into()),
        _ => {}
    }
    if let Some(r) = resource {
        if r.as_str() != Some(PUT_OBJECT) {
            errors.push(format!("The value of the field 'Resource' must be {PUT_OBJECT}"));
        }
    }
    if let Some(p) = parameters {
        match p.as_object() {
            Some(p) if p.contains_key("Bucket") || p.contains_key("Bucket.$") => {}
            Some(_) => errors.push(format!("These fields are required: [Bucket] in {params}")),
            None if jsonata && crate::definition::is_expression(p) => {}
            None => errors.push(format!("The value of the field '{params}' must be an object")),
        }
    }
    if let Some(c) = config {
        match c.as_object() {
            None => errors.push("The value of the field 'WriterConfig' must be an object".into()),
            Some(c) => {
                for key in c.keys().filter(|k| !["Transformation", "OutputType"].contains(&k.as_str())) {
                    errors.push(format!("These fields are not allowed: [{key}] in WriterConfig"));
                }
                if c.get("Transformation").is_some_and(|t| !matches!(t.as_str(), Some("NONE" | "COMPACT" | "FLATTEN"))) {
                    errors.push("Value is not a valid Transformation. Valid values are: [NONE, COMPACT, FLATTEN]".into());
                }
                if c.get("OutputType").is_some_and(|t| !matches!(t.as_str(), Some("JSON" | "JSONL"))) {
                    errors.push("Value is not a valid OutputType. Valid values are: [JSON, JSONL]".into());
                }
            }
        }
    }
    errors
}

/// The entry of one child in a result file, with its workflow metadata
/// (`Transformation: NONE`, and every failed child whatever the transformation).
pub fn entry(r: &ChildResult) -> Value {
    let iso = nimbus_core::time::iso8601_ms;
    if r.status == "PENDING" {
        return json!({ "Input": r.input.to_string(), "InputDetails": { "Included": true }, "Name": r.name, "Status": "PENDING" });
    }
    let mut e = json!({
        "ExecutionArn": r.execution_arn,
        "Input": r.input.to_string(),
        "InputDetails": { "Included": true },
        "Name": r.name,
        "RedriveCount": 0,
        "StartDate": iso(r.start_ms),
        "StateMachineArn": r.state_machine_arn,
        "Status": r.status,
        "StopDate": iso(r.stop_ms),
    });
    if r.status == "SUCCEEDED" {
        e["Output"] = json!(r.output.clone().unwrap_or(Value::Null).to_string());
        e["OutputDetails"] = json!({ "Included": true });
        e["RedriveStatus"] = json!("NOT_REDRIVABLE");
        e["RedriveStatusReason"] = json!("Execution is SUCCEEDED and cannot be redriven");
    } else {
        if let Some(err) = &r.error {
            e["Error"] = json!(err);
        }
        if let Some(cause) = &r.cause {
            e["Cause"] = json!(cause);
        }
        e["RedriveStatus"] = json!("REDRIVABLE_BY_MAP_RUN");
    }
    e
}

/// The children's results shaped by `transformation`, in item order: metadata entries (NONE),
/// the outputs (COMPACT), or the outputs with arrays spread (FLATTEN); a child that did not
/// succeed keeps its full entry whatever the transformation, as the docs say.
pub fn transform(results: &[&ChildResult], transformation: Transformation) -> Vec<Value> {
    let mut out = Vec::with_capacity(results.len());
    for r in results {
        match (transformation, &r.output) {
            (Transformation::None, _) | (_, None) => out.push(entry(r)),
            (Transformation::Flatten, Some(Value::Array(a))) => out.extend(a.iter().cloned()),
            (_, Some(v)) => out.push(v.clone()),
        }
    }
    out
}

/// The values split into files of at most `limit` bytes each (one value per file at least),
/// serialised as a JSON array or as JSON Lines.
pub fn files(values: &[Value], jsonl: bool, limit: usize) -> Vec<Vec<u8>> {
    let mut files = Vec::new();
    let mut current: Vec<String> = Vec::new();
    let mut size = 0usize;
    let render = |parts: &[String]| -> Vec<u8> {
        if jsonl {
            parts.iter().map(|p| format!("{p}\n")).collect::<String>().into_bytes()
        } else {
            format!("[{}]", parts.join(",")).into_bytes()
        }
    };
    for v in values {
        let text = v.to_string();
        // A JSON array adds its brackets once and a comma a value; JSON Lines a newline a value.
        let added = text.len() + 1;
        if !current.is_empty() && size + added + 1 > limit {
            files.push(render(&current));
            current.clear();
            size = 0;
        }
        size += added;
        current.push(text);
    }
    if !current.is_empty() {
        files.push(render(&current));
    }
    files
}

/// Exports the children's results (when the writer has `Resource` + `Parameters`) and returns
/// the Map state's result: `{MapRunArn, ResultWriterDetails {Bucket, Key}}` after an export,
/// else the transformed results (`WriterConfig` alone previews them in the state output).
/// `parameters` is the writer's rendered `Parameters` (`Arguments` in JSONata).
pub async fn write_results(engine: &super::Engine, st: &State, parameters: &Value, map_run_arn: &str, results: &[ChildResult], execution_arn: &str) -> Result<Value, Failure> {
    let failed = |cause: String| Failure::new("States.ResultWriterFailed", cause);
    let Some(config) = WriterConfig::of(st) else {
        return Ok(Value::Array(results.iter().map(|r| r.output.clone().unwrap_or_else(|| json!({ "Error": r.error, "Cause": r.cause }))).collect()));
    };
    if !config.exports {
        return Ok(Value::Array(transform(&results.iter().collect::<Vec<_>>(), config.transformation)));
    }
    let bucket = parameters.get("Bucket").and_then(Value::as_str).ok_or_else(|| failed("The ResultWriter's Parameters have no Bucket".into()))?.to_string();
    let prefix = parameters.get("Prefix").and_then(Value::as_str).unwrap_or_default().trim_end_matches('/');
    let run_id = map_run_arn.rsplit(':').next().unwrap_or_default();
    let dir = if prefix.is_empty() { run_id.to_string() } else { format!("{prefix}/{run_id}") };
    let caller = engine.caller.get().cloned().ok_or_else(|| failed("S3 is not available".into()))?;
    let mut arn = execution_arn.split(':');
    let (region, account) = (arn.nth(3).unwrap_or_default().to_string(), arn.next().unwrap_or_default().to_string());
    let put = |key: String, body: Vec<u8>| {
        use base64::Engine as _;
        let input = json!({ "Bucket": bucket, "Key": key, "Body": base64::engine::general_purpose::STANDARD.encode(&body), "ContentType": "application/json" });
        let call = nimbus_core::internal::InProcessCall { account: account.clone(), region: region.clone(), service: "s3".into(), operation: "PutObject".into(), input, trace: None };
        let caller = caller.clone();
        async move { caller.call(call).await.map_err(|e| failed(format!("An error occurred while writing results to S3 (PutObject). S3 Error Code: {}. S3 Error Message: {}", e.code, e.message))) }
    };
    let mut result_files = serde_json::Map::new();
    for group in ["FAILED", "PENDING", "SUCCEEDED"] {
        let members: Vec<&ChildResult> = results
            .iter()
            .filter(|r| match group {
                "SUCCEEDED" => r.status == "SUCCEEDED",
                "PENDING" => r.status == "PENDING",
                _ => !matches!(r.status.as_str(), "SUCCEEDED" | "PENDING"),
            })
            .collect();
        let values = transform(&members, if group == "SUCCEEDED" { config.transformation } else { Transformation::None });
        let mut listed = Vec::new();
        if !members.is_empty() {
            for (n, body) in files(&values, config.jsonl, MAX_FILE_BYTES).into_iter().enumerate() {
                let key = format!("{dir}/{group}_{n}.json");
                listed.push(json!({ "Key": key, "Size": body.len() }));
                put(key, body).await?;
            }
        }
        result_files.insert(group.into(), Value::Array(listed));
    }
    let manifest_key = format!("{dir}/manifest.json");
    let manifest = json!({ "DestinationBucket": bucket, "MapRunArn": map_run_arn, "ResultFiles": result_files });
    put(manifest_key.clone(), manifest.to_string().into_bytes()).await?;
    Ok(json!({ "MapRunArn": map_run_arn, "ResultWriterDetails": { "Bucket": bucket, "Key": manifest_key } }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn child(status: &str, output: Option<Value>) -> ChildResult {
        ChildResult {
            execution_arn: "arn:aws:states:us-east-1:000000000000:execution:m/l:n".into(),
            name: "n".into(),
            state_machine_arn: "arn:aws:states:us-east-1:000000000000:stateMachine:m/l".into(),
            input: json!({"a": 1}),
            output,
            error: (status != "SUCCEEDED").then(|| "E".into()),
            cause: (status != "SUCCEEDED").then(|| "C".into()),
            status: status.into(),
            start_ms: 0,
            stop_ms: 1,
        }
    }

    #[test]
    fn files_split_at_the_limit() {
        let values: Vec<Value> = (0..5).map(|i| json!(i)).collect();
        // "[0,1]" is 5 bytes: two values a file, the last alone.
        let split = files(&values, false, 5);
        assert_eq!(split, vec![b"[0,1]".to_vec(), b"[2,3]".to_vec(), b"[4]".to_vec()]);
        assert_eq!(files(&values, true, 100), vec![b"0\n1\n2\n3\n4\n".to_vec()]);
        // A value larger than the limit still gets its own file.
        assert_eq!(files(&[json!("long value")], false, 3).len(), 1);
    }

    #[test]
    fn transformations_keep_failures_whole() {
        let ok = child("SUCCEEDED", Some(json!([1, 2])));
        let bad = child("FAILED", None);
        let both = [&ok, &bad];
        let compact = transform(&both, Transformation::Compact);
        assert_eq!(compact[0], json!([1, 2]));
        assert_eq!(compact[1]["Error"], json!("E"));
        let flat = transform(&both, Transformation::Flatten);
        assert_eq!(&flat[..2], &[json!(1), json!(2)]);
        let none = transform(&both, Transformation::None);
        assert_eq!(none[0]["Output"], json!("[1,2]"));
        assert_eq!(none[0]["Input"], json!("{\"a\":1}"));
        assert_eq!(none[1]["RedriveStatus"], json!("REDRIVABLE_BY_MAP_RUN"));
    }

    #[test]
    fn combinations() {
        assert!(definition_errors(&json!({"WriterConfig": {"Transformation": "NONE", "OutputType": "JSON"}}), false).is_empty());
        assert!(definition_errors(&json!({"Resource": PUT_OBJECT, "Parameters": {"Bucket": "b"}}), false).is_empty());
        assert!(definition_errors(&json!({"Resource": PUT_OBJECT, "Arguments": {"Bucket": "b"}}), true).is_empty());
        assert_eq!(definition_errors(&json!({}), false).len(), 1);
        assert_eq!(definition_errors(&json!({"Resource": PUT_OBJECT}), false), vec!["These fields are required: [Parameters]".to_string()]);
        assert_eq!(definition_errors(&json!({"Parameters": {"Bucket": "b"}}), false), vec!["These fields are required: [Resource]".to_string()]);
        assert_eq!(definition_errors(&json!({"WriterConfig": {"Transformation": "ZIP"}}), false).len(), 1);
    }
}
