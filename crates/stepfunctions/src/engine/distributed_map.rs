//! Distributed Map (`ItemProcessor.ProcessorConfig.Mode: DISTRIBUTED`), the subset nimbus runs:
//! items from the state input (`ItemsPath` / JSONata `Items`), `ItemSelector`,
//! `MaxConcurrency`, `ToleratedFailureCount/Percentage` (and their `…Path`), `Label`, and
//! `ItemBatcher` (`MaxItemsPerBatch`, `MaxInputBytesPerBatch` and their `…Path`, `BatchInput` →
//! `{"BatchInput": …, "Items": [...]}`, as
//! https://docs.aws.amazon.com/step-functions/latest/dg/input-output-itembatcher.html shows).
//! ItemReaders: `s3:listObjectsV2`, and `s3:getObject` of a JSON array, JSON Lines, a CSV file
//! (`CSVHeaderLocation` FIRST_ROW / GIVEN, `CSVDelimiter` COMMA / PIPE / SEMICOLON / SPACE / TAB)
//! or an S3 Inventory manifest (`MANIFEST`: its gzip CSV data files), with `MaxItems` /
//! `MaxItemsPath`. `ResultWriter` lives in result_writer.rs.
//! The selected, batched inputs run as child executions of a Map Run (see `map_run`);
//! other ItemReaders are refused with "… is not supported by nimbus".
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
        if !list && (resource != "arn:aws:states:::s3:getObject" || !matches!(input_type, "JSON" | "JSONL" | "CSV" | "MANIFEST")) {
            return Err(Failure::runtime(format!("The Map state '{}' uses an ItemReader ({resource}, {input_type}), which is not supported by nimbus", st.name)));
        }
        if let Some(d) = r.pointer("/ReaderConfig/CSVDelimiter") {
            if delimiter(d.as_str().unwrap_or_default()).is_none() {
                return Err(Failure::runtime(format!("The Map state '{}' has an invalid ItemReader.ReaderConfig.CSVDelimiter {d}: valid values are COMMA, PIPE, SEMICOLON, SPACE, TAB", st.name)));
            }
        }
        for field in ["CSVHeaderLocationPath"] {
            if r.pointer(&format!("/ReaderConfig/{field}")).is_some() {
                return Err(Failure::runtime(format!("The Map state '{}' uses ItemReader.ReaderConfig.{field}, which is not supported by nimbus", st.name)));
            }
        }
    }
    Ok(())
}

/// Groups the (already selected) items into batches as `ItemBatcher` says; without an
/// `ItemBatcher` each item is its own input. `batch_input` is the rendered `BatchInput`.
/// `limits` are `MaxItemsPerBatch` and `MaxInputBytesPerBatch` as resolved from the number,
/// its `…Path` or its JSONata expression.
pub fn batch(st: &State, items: Vec<Value>, batch_input: Option<Value>, limits: (Option<usize>, Option<usize>)) -> Result<Vec<Value>, Failure> {
    if st.field("ItemBatcher").is_none() {
        return Ok(items);
    }
    let (max_items, max_bytes) = limits;
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
    let bucket = parameters.get("Bucket").and_then(Value::as_str).unwrap_or_default();
    let key = parameters.get("Key").and_then(Value::as_str).unwrap_or_default();
    let body = get_object(&*caller, &account, &region, bucket, key, role).await.map_err(failed)?;
    let text = String::from_utf8(body).map_err(|_| failed("The object is not UTF-8 text".into()))?;
    let mut items = match config.get("InputType").and_then(Value::as_str).unwrap_or("JSON") {
        "MANIFEST" => manifest_items(&*caller, &account, &region, bucket, &text, max, role).await.map_err(failed)?,
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
    let sep = delimiter(config.get("CSVDelimiter").and_then(Value::as_str).unwrap_or("COMMA")).ok_or("invalid CSVDelimiter")?;
    let mut rows = text.lines().filter(|l| !l.trim().is_empty()).map(|l| csv_row(l, sep));
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

/// The character of a `ReaderConfig.CSVDelimiter`.
fn delimiter(name: &str) -> Option<char> {
    match name {
        "COMMA" => Some(','),
        "PIPE" => Some('|'),
        "SEMICOLON" => Some(';'),
        "SPACE" => Some(' '),
        "TAB" => Some('\t'),
        _ => None,
    }
}

/// One CSV line split into fields at `sep` (RFC 4180 quotes, `""` inside quotes).
fn csv_row(line: &str, sep: char) -> Vec<String> {
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
            c if c == sep && !quoted => fields.push(std::mem::take(&mut field)),
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

/// The body of `key` in `bucket` (S3 GetObject through core's in-process calls).
async fn get_object(caller: &dyn nimbus_core::internal::ServiceCaller, account: &str, region: &str, bucket: &str, key: &str, role: &str) -> Result<Vec<u8>, String> {
    let input = json!({ "Bucket": bucket, "Key": key });
    let call = nimbus_core::internal::InProcessCall { account: account.into(), region: region.into(), service: "s3".into(), operation: "GetObject".into(), input, trace: None };
    let out = caller.call_as(call, role).await.map_err(|e| format!("Error occurred while GetObject. S3 Error Code: {}. S3 Error Message: {}", e.code, e.message))?;
    use base64::Engine as _;
    Ok(out.get("Body").and_then(Value::as_str).and_then(|b| base64::engine::general_purpose::STANDARD.decode(b).ok()).unwrap_or_default())
}

/// The items of an S3 Inventory report (`InputType: MANIFEST`): `text` is its manifest.json;
/// each row of its CSV data files (gzip, in the manifest's `destinationBucket`) becomes an
/// object keyed by the `fileSchema` columns, every value a string
/// (https://docs.aws.amazon.com/AmazonS3/latest/userguide/storage-inventory-location.html).
/// Only the CSV format is read, as Step Functions does.
async fn manifest_items(caller: &dyn nimbus_core::internal::ServiceCaller, account: &str, region: &str, bucket: &str, text: &str, max: Option<usize>, role: &str) -> Result<Vec<Value>, String> {
    let manifest: Value = serde_json::from_str(text).map_err(|e| format!("The S3 inventory manifest is not valid JSON: {e}"))?;
    let format = manifest.get("fileFormat").and_then(Value::as_str).unwrap_or_default();
    if format != "CSV" {
        return Err(format!("The S3 inventory manifest's fileFormat is {format}: only CSV inventories can be read"));
    }
    let headers: Vec<String> = manifest.get("fileSchema").and_then(Value::as_str).ok_or("The S3 inventory manifest has no fileSchema")?.split(',').map(|h| h.trim().to_string()).collect();
    let data_bucket = manifest.get("destinationBucket").and_then(Value::as_str).map(|b| b.trim_start_matches("arn:aws:s3:::").to_string()).unwrap_or_else(|| bucket.to_string());
    let mut items = Vec::new();
    for file in manifest.get("files").and_then(Value::as_array).into_iter().flatten() {
        let key = file.get("key").and_then(Value::as_str).ok_or("An S3 inventory manifest file has no key")?;
        let raw = get_object(caller, account, region, &data_bucket, key, role).await?;
        let body = if raw.starts_with(&[0x1f, 0x8b]) {
            let mut out = Vec::new();
            std::io::Read::read_to_end(&mut flate2::read::MultiGzDecoder::new(&raw[..]), &mut out).map_err(|e| format!("The inventory file {key} is not valid gzip: {e}"))?;
            out
        } else {
            raw
        };
        let text = String::from_utf8(body).map_err(|_| format!("The inventory file {key} is not UTF-8 text"))?;
        for line in text.lines().filter(|l| !l.trim().is_empty()) {
            let obj: serde_json::Map<String, Value> = headers.iter().cloned().zip(csv_row(line, ',').into_iter().map(Value::String)).collect();
            items.push(Value::Object(obj));
            if max.is_some_and(|m| items.len() >= m) {
                return Ok(items);
            }
        }
    }
    Ok(items)
}
