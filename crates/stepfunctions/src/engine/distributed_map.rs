//! Distributed Map (`ItemProcessor.ProcessorConfig.Mode: DISTRIBUTED`), the subset nimbus runs:
//! items from the state input (`ItemsPath` / JSONata `Items`), `ItemSelector`,
//! `MaxConcurrency`, `ToleratedFailureCount/Percentage`, `Label`, and `ItemBatcher`
//! (`MaxItemsPerBatch`, `MaxInputBytesPerBatch`, `BatchInput` → `{"BatchInput": …, "Items": [...]}`,
//! as https://docs.aws.amazon.com/step-functions/latest/dg/input-output-itembatcher.html shows).
//! The items run through the inline Map machinery inside the parent execution; child
//! executions, Map Run resources (DescribeMapRun / ListMapRuns / UpdateMapRun, MapRun* history
//! events), `ResultWriter` and ItemReaders other than `s3:listObjectsV2` and `s3:getObject` of a
//! JSON array, JSON Lines or a CSV file
//! (`CSVHeaderLocation` FIRST_ROW / GIVEN, `MaxItems`) are refused with "… is not supported by nimbus".
//! Kept apart from run.rs so the engine file stays small.

use super::lang::Failure;
use crate::definition::State;
use serde_json::{json, Value};

/// Refuses the distributed-Map fields nimbus does not run yet.
pub fn check_supported(st: &State) -> Result<(), Failure> {
    if let Some(r) = st.field("ItemReader") {
        let resource = r.get("Resource").and_then(Value::as_str).unwrap_or_default();
        let input_type = r.pointer("/ReaderConfig/InputType").and_then(Value::as_str).unwrap_or("JSON");
        let list = resource == "arn:aws:states:::s3:listObjectsV2" && r.pointer("/ReaderConfig/InputType").is_none();
        if !list && (resource != "arn:aws:states:::s3:getObject" || !matches!(input_type, "JSON" | "JSONL" | "CSV")) {
            return Err(Failure::runtime(format!("The Map state '{}' uses an ItemReader ({resource}, {input_type}), which is not supported by nimbus", st.name)));
        }
        for field in ["MaxItemsPath", "CSVDelimiter", "CSVHeaderLocationPath"] {
            if r.pointer(&format!("/ReaderConfig/{field}")).is_some_and(|v| field != "CSVDelimiter" || v != "COMMA") {
                return Err(Failure::runtime(format!("The Map state '{}' uses ItemReader.ReaderConfig.{field}, which is not supported by nimbus", st.name)));
            }
        }
    }
    for field in ["ResultWriter"] {
        if st.field(field).is_some() {
            return Err(Failure::runtime(format!("The Map state '{}' uses {field} (distributed Map), which is not supported by nimbus", st.name)));
        }
    }
    if let Some(b) = st.field("ItemBatcher") {
        for field in ["MaxItemsPerBatchPath", "MaxInputBytesPerBatchPath"] {
            if b.get(field).is_some() {
                return Err(Failure::runtime(format!("The Map state '{}' uses ItemBatcher.{field}, which is not supported by nimbus", st.name)));
            }
        }
    }
    Ok(())
}

/// Groups the (already selected) items into batches as `ItemBatcher` says; without an
/// `ItemBatcher` each item is its own input. `batch_input` is the rendered `BatchInput`.
pub fn batch(st: &State, items: Vec<Value>, batch_input: Option<Value>) -> Result<Vec<Value>, Failure> {
    let Some(batcher) = st.field("ItemBatcher") else { return Ok(items) };
    let max_items = batcher.get("MaxItemsPerBatch").and_then(Value::as_u64).map(|n| n as usize);
    let max_bytes = batcher.get("MaxInputBytesPerBatch").and_then(Value::as_u64).map(|n| n as usize);
    if max_items.is_none() && max_bytes.is_none() {
        return Err(Failure::runtime(format!("The Map state '{}' has an ItemBatcher with neither MaxItemsPerBatch nor MaxInputBytesPerBatch", st.name)));
    }
    let wrap = |items: Vec<Value>| match &batch_input {
        Some(b) => json!({ "BatchInput": b, "Items": items }),
        None => json!({ "Items": items }),
    };
    let mut batches = Vec::new();
    let mut current: Vec<Value> = Vec::new();
    for item in items {
        let full_by_count = max_items.is_some_and(|m| current.len() >= m.max(1));
        let full_by_bytes = max_bytes.is_some_and(|m| {
            !current.is_empty() && {
                let mut trial = current.clone();
                trial.push(item.clone());
                wrap(trial).to_string().len() > m
            }
        });
        if full_by_count || full_by_bytes {
            batches.push(wrap(std::mem::take(&mut current)));
        }
        current.push(item);
    }
    if !current.is_empty() {
        batches.push(wrap(current));
    }
    Ok(batches)
}

/// Reads the items of an `ItemReader` of `s3:getObject` (rendered `parameters`: Bucket, Key)
/// through core's in-process calls: a JSON array, JSON Lines, or a CSV file whose rows become objects
/// keyed by the headers (https://docs.aws.amazon.com/step-functions/latest/dg/input-output-itemreader.html).
/// The reads are made as the state machine's `role` (authorized as it under `--auth iam`).
pub async fn read_items(engine: &super::Engine, st: &State, parameters: Value, execution_arn: &str, role: &str) -> Result<Vec<Value>, Failure> {
    let failed = |cause: String| Failure::new("States.ItemReaderFailed", cause);
    let Some(reader) = st.field("ItemReader") else { return Ok(Vec::new()) };
    let caller = engine.caller.get().cloned().ok_or_else(|| failed("S3 is not available".into()))?;
    let mut arn = execution_arn.split(':');
    let (region, account) = (arn.nth(3).unwrap_or_default().to_string(), arn.next().unwrap_or_default().to_string());
    let config = reader.get("ReaderConfig").cloned().unwrap_or(Value::Null);
    let max = config.get("MaxItems").and_then(Value::as_u64).map(|m| m as usize);
    if reader.get("Resource").and_then(Value::as_str) == Some("arn:aws:states:::s3:listObjectsV2") {
        return list_objects(&*caller, &account, &region, &parameters, max, role).await.map_err(failed);
    }
    let input = json!({ "Bucket": parameters.get("Bucket"), "Key": parameters.get("Key") });
    let call = nimbus_core::internal::InProcessCall { account: account.clone(), region: region.clone(), service: "s3".into(), operation: "GetObject".into(), input, trace: None };
    let out = caller.call_as(call, role).await.map_err(|e| failed(format!("Error occurred while GetObject. S3 Error Code: {}. S3 Error Message: {}", e.code, e.message)))?;
    use base64::Engine as _;
    let body = out.get("Body").and_then(Value::as_str).and_then(|b| base64::engine::general_purpose::STANDARD.decode(b).ok()).unwrap_or_default();
    let text = String::from_utf8(body).map_err(|_| failed("The object is not UTF-8 text".into()))?;
    let mut items = match config.get("InputType").and_then(Value::as_str).unwrap_or("JSON") {
        "CSV" => csv_items(&text, &config).map_err(failed)?,
        // JSON Lines: one JSON value a line.
        "JSONL" => text.lines().filter(|l| !l.trim().is_empty()).map(serde_json::from_str).collect::<Result<Vec<Value>, _>>().map_err(|e| failed(format!("The object is not JSON Lines: {e}")))?,
        _ => match serde_json::from_str::<Value>(&text) {
            Ok(Value::Array(a)) => a,
            _ => return Err(failed("Attempting to map over non-iterable node.".into())),
        },
    };
    if let Some(max) = max {
        items.truncate(max);
    }
    Ok(items)
}

/// CSV rows as objects keyed by the headers (the first row, or `CSVHeaders` when
/// `CSVHeaderLocation` is GIVEN); every value is a string, as AWS gives them.
fn csv_items(text: &str, config: &Value) -> Result<Vec<Value>, String> {
    let mut rows = text.lines().filter(|l| !l.trim().is_empty()).map(csv_row);
    let headers: Vec<String> = match config.get("CSVHeaderLocation").and_then(Value::as_str).unwrap_or("FIRST_ROW") {
        "GIVEN" => config.get("CSVHeaders").and_then(Value::as_array).map(|h| h.iter().filter_map(Value::as_str).map(str::to_string).collect()).ok_or("CSVHeaders are required when CSVHeaderLocation is GIVEN")?,
        _ => rows.next().unwrap_or_default(),
    };
    Ok(rows
        .map(|row| {
            let obj: serde_json::Map<String, Value> = headers.iter().cloned().zip(row.into_iter().map(Value::String)).collect();
            Value::Object(obj)
        })
        .collect())
}

/// One CSV line split into fields (RFC 4180 quotes, `""` inside quotes).
fn csv_row(line: &str) -> Vec<String> {
    let mut fields = Vec::new();
    let mut field = String::new();
    let mut quoted = false;
    let mut chars = line.trim_end_matches('\r').chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '"' if quoted && chars.peek() == Some(&'"') => {
                field.push('"');
                chars.next();
            }
            '"' => quoted = !quoted,
            ',' if !quoted => fields.push(std::mem::take(&mut field)),
            c => field.push(c),
        }
    }
    fields.push(field);
    fields
}

/// The objects under `Prefix` of `Bucket` (ListObjectsV2, every page), each item
/// `{Etag, Key, LastModified (epoch seconds), Size, StorageClass}` as the ItemReader page shows.
async fn list_objects(caller: &dyn nimbus_core::internal::ServiceCaller, account: &str, region: &str, parameters: &Value, max: Option<usize>, role: &str) -> Result<Vec<Value>, String> {
    let mut items = Vec::new();
    let mut token: Option<String> = None;
    loop {
        let mut input = json!({ "Bucket": parameters.get("Bucket") });
        if let Some(p) = parameters.get("Prefix") {
            input["Prefix"] = p.clone();
        }
        if let Some(t) = &token {
            input["ContinuationToken"] = json!(t);
        }
        let call = nimbus_core::internal::InProcessCall { account: account.into(), region: region.into(), service: "s3".into(), operation: "ListObjectsV2".into(), input, trace: None };
        let out = caller.call_as(call, role).await.map_err(|e| format!("Error occurred while ListObjectsV2. S3 Error Code: {}. S3 Error Message: {}", e.code, e.message))?;
        for o in out.get("Contents").and_then(Value::as_array).into_iter().flatten() {
            let modified = match o.get("LastModified") {
                Some(Value::Number(n)) => json!(n.as_f64().unwrap_or_default() as i64),
                Some(Value::String(t)) => json!(t),
                _ => Value::Null,
            };
            items.push(json!({ "Etag": o.get("ETag"), "Key": o.get("Key"), "LastModified": modified, "Size": o.get("Size"), "StorageClass": o.get("StorageClass").cloned().unwrap_or(json!("STANDARD")) }));
            if max.is_some_and(|m| items.len() >= m) {
                return Ok(items);
            }
        }
        match out.get("NextContinuationToken").and_then(Value::as_str) {
            Some(t) if out.get("IsTruncated") == Some(&Value::Bool(true)) => token = Some(t.to_string()),
            _ => return Ok(items),
        }
    }
}
