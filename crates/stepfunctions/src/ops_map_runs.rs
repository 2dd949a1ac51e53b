//! Map Runs (distributed Map): DescribeMapRun, ListMapRuns, UpdateMapRun, and the
//! child executions of a Map Run for ListExecutions(mapRunArn). The Map Runs themselves
//! are run by `engine::map_run`.
//! <https://docs.aws.amazon.com/step-functions/latest/apireference/API_DescribeMapRun.html>
//! <https://docs.aws.amazon.com/step-functions/latest/apireference/API_ListMapRuns.html>
//! <https://docs.aws.amazon.com/step-functions/latest/apireference/API_UpdateMapRun.html>

use crate::engine::map_run::MapRunRecord;
use crate::engine::Engine;
use crate::errors;
use crate::ops_machines::check_arn;
use crate::service::{page, page_answer, paginate, req, s, secs};
use nimbus_core::{AwsError, RequestContext};
use serde_json::{json, Value};

/// The Map Run an ARN names (`arn:aws:states:<region>:<account>:mapRun:<machine>/<label>:<id>`).
fn map_run(engine: &Engine, arn: &str) -> Result<MapRunRecord, AwsError> {
    check_arn(arn, &["mapRun"])?;
    engine.map_run_record(arn).map_err(AwsError::internal)?.ok_or_else(|| missing(arn))
}

fn missing(arn: &str) -> AwsError {
    errors::resource_missing(format!("Resource not found: '{arn}'")).with_member("resourceName", arn.to_string())
}

pub fn describe(engine: &Engine, _ctx: &RequestContext, input: &Value) -> Result<Value, AwsError> {
    let r = map_run(engine, req(input, "mapRunArn")?)?;
    let mut out = json!({
        "mapRunArn": r.arn,
        "executionArn": r.execution_arn,
        "status": r.status,
        "startDate": secs(r.start_ms),
        "maxConcurrency": r.max_concurrency,
        "toleratedFailurePercentage": r.tolerated_failure_percentage.unwrap_or(0.0),
        "toleratedFailureCount": r.tolerated_failure_count.unwrap_or(0),
        "itemCounts": r.items.to_json(),
        "executionCounts": r.executions.to_json(),
        "redriveCount": 0,
    });
    if let Some(t) = r.stop_ms {
        out["stopDate"] = secs(t);
    }
    Ok(out)
}

pub fn list(engine: &Engine, _ctx: &RequestContext, input: &Value) -> Result<Value, AwsError> {
    let arn = req(input, "executionArn")?;
    check_arn(arn, &["execution"])?;
    let (start, max) = page(input, 100)?;
    if !engine.running.lock().contains_key(arn) && engine.store.execution(arn).map_err(AwsError::internal)?.is_none() {
        return Err(errors::execution_missing(arn));
    }
    let runs: Vec<Value> = engine
        .store
        .map_runs_of(arn)
        .map_err(AwsError::internal)?
        .into_iter()
        .filter_map(|d| serde_json::from_value::<MapRunRecord>(d).ok())
        .map(|stored| engine.map_run_record(&stored.arn).ok().flatten().unwrap_or(stored))
        .map(|r| {
            let mut item = json!({ "executionArn": r.execution_arn, "mapRunArn": r.arn, "stateMachineArn": r.machine_arn, "startDate": secs(r.start_ms) });
            if let Some(t) = r.stop_ms {
                item["stopDate"] = secs(t);
            }
            item
        })
        .collect();
    let (items, next) = paginate(runs, start, max);
    Ok(page_answer("mapRuns", items, next))
}

pub fn update(engine: &Engine, _ctx: &RequestContext, input: &Value) -> Result<Value, AwsError> {
    let arn = req(input, "mapRunArn")?;
    map_run(engine, arn)?;
    let count = input.get("toleratedFailureCount").and_then(Value::as_i64);
    let pct = input.get("toleratedFailurePercentage").and_then(Value::as_f64);
    let max = input.get("maxConcurrency").and_then(Value::as_i64);
    if count.is_none() && pct.is_none() && max.is_none() {
        return Err(errors::validation("At least one of the parameters maxConcurrency, toleratedFailurePercentage or toleratedFailureCount must be specified"));
    }
    if let Some(p) = pct.filter(|p| !(0.0..=100.0).contains(p)) {
        return Err(errors::validation(format!("1 validation error detected: Value '{p}' at 'toleratedFailurePercentage' failed to satisfy constraint: Member must have value less than or equal to 100")));
    }
    let Some(live) = engine.map_runs.lock().get(arn).cloned() else {
        return Err(errors::validation(format!("Map Run {arn} is not running and cannot be updated")));
    };
    let rec = {
        let mut r = live.record.lock();
        if let Some(m) = max {
            r.max_concurrency = m.max(0) as u64;
        }
        if let Some(c) = count {
            r.tolerated_failure_count = Some(c.max(0) as u64);
        }
        if let Some(p) = pct {
            r.tolerated_failure_percentage = Some(p);
        }
        r.clone()
    };
    drop(engine.store.put_map_run(&rec.arn, &rec.execution_arn, rec.start_ms, &serde_json::to_value(&rec).unwrap_or(Value::Null)));
    live.changed.notify_waiters();
    Ok(json!({}))
}

/// ListExecutions(mapRunArn): the Map Run's STANDARD child executions, newest first,
/// each with its `mapRunArn`.
pub fn list_children(engine: &Engine, input: &Value) -> Result<Value, AwsError> {
    let arn = req(input, "mapRunArn")?;
    let r = map_run(engine, arn)?;
    let (start, max) = page(input, 100)?;
    let status = s(input, "statusFilter");
    let redrive_filter = s(input, "redriveFilter");
    let rows = engine.store.map_run_executions_page(&r.arn, status, start, max + 1).map_err(AwsError::internal)?;
    // A batch's child runs its batch's items (more items than children: ItemBatcher).
    let batched = r.items.total != r.executions.total;
    let items: Vec<Value> = rows
        .into_iter()
        .filter_map(|row| {
            let rec = engine.current_record(row)?;
            if redrive_filter == Some("REDRIVEN") && rec.redrive_count == 0 {
                return None;
            }
            let mut item = json!({ "executionArn": rec.arn, "stateMachineArn": rec.machine_arn, "name": rec.name, "status": rec.status, "startDate": secs(rec.start_ms), "mapRunArn": arn, "itemCount": item_count(&rec.input, batched), "redriveCount": rec.redrive_count });
            if let Some(t) = rec.stop_ms {
                item["stopDate"] = secs(t);
            }
            Some(item)
        })
        .collect();
    let more = items.len() > max;
    let page: Vec<Value> = items.into_iter().take(max).collect();
    let next = more.then(|| crate::service::encode_token(start + page.len()));
    Ok(page_answer("executions", page, next))
}

/// How many items a child execution ran: one, or its batch's `Items`.
fn item_count(input: &str, batched: bool) -> u64 {
    if !batched {
        return 1;
    }
    serde_json::from_str::<Value>(input).ok().and_then(|i| i.get("Items").and_then(Value::as_array).map(|a| a.len() as u64)).unwrap_or(1)
}
