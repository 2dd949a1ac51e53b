//! DynamoDB's standard CloudWatch metrics (namespace `AWS/DynamoDB`), as "DynamoDB Metrics
//! and dimensions" documents them
//! (https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/metrics-dimensions.html):
//!
//! - ConsumedReadCapacityUnits / ConsumedWriteCapacityUnits (`TableName`, and
//!   `TableName`+`GlobalSecondaryIndexName` for what a global secondary index consumed):
//!   the units the operation reports as ConsumedCapacity. To have them whatever the caller
//!   asked, a data-plane request is run with `ReturnConsumedCapacity=INDEXES` and the answer
//!   is cut back to what the caller asked for (`NONE`: no member; `TOTAL`: no per-index
//!   breakdown) — the caller sees the same answer as without metrics.
//! - SuccessfulRequestLatency (`TableName`, `Operation`; milliseconds) for the single-table
//!   operations and each table of a batch; ReturnedItemCount (`TableName`, `Operation`) for
//!   Query and Scan.
//! - ConditionalCheckFailedRequests (`TableName`), UserErrors (account level, no dimension:
//!   other HTTP 400 errors, as AWS counts them — conditional-check failures and throttling
//!   are not user errors), SystemErrors (`TableName`, `Operation`) for HTTP 5xx.
//! - TimeToLiveDeletedItemCount (`TableName`), recorded by the TTL sweeper (`ttl.rs`).
//!
//! Recording goes into core's in-memory aggregator (`nimbus_core::metrics`).

use nimbus_core::metrics::{unit, Metrics};
use nimbus_core::{AwsError, RequestContext};
use serde_json::Value;

pub const NAMESPACE: &str = "AWS/DynamoDB";

/// Operations that take `ReturnConsumedCapacity`.
const CAPACITY_OPS: &[&str] = &[
    "PutItem",
    "GetItem",
    "UpdateItem",
    "DeleteItem",
    "Query",
    "Scan",
    "BatchGetItem",
    "BatchWriteItem",
    "TransactWriteItems",
    "TransactGetItems",
    "ExecuteStatement",
    "BatchExecuteStatement",
    "ExecuteTransaction",
];

/// What a request needs for its metrics, taken before it runs.
pub struct Plan {
    /// The tables it names (`TableName`, or `RequestItems`' keys for batches).
    tables: Vec<String>,
    /// The caller's ReturnConsumedCapacity, when nimbus replaced it with `INDEXES`.
    asked: Option<Option<String>>,
    started: std::time::Instant,
}

/// Notes the tables and asks the operation for its consumed capacity.
pub fn prepare(operation: &str, input: &mut Value) -> Plan {
    let mut tables = Vec::new();
    if let Some(name) = input.get("TableName").and_then(Value::as_str) {
        if let Ok(n) = crate::service::table_name_of(name) {
            tables.push(n.to_string());
        }
    } else if let Some(items) = input.get("RequestItems").and_then(Value::as_object) {
        tables.extend(items.keys().filter_map(|k| crate::service::table_name_of(k).ok()).map(str::to_string));
    }
    let mut asked = None;
    if CAPACITY_OPS.contains(&operation) {
        if let Some(obj) = input.as_object_mut() {
            let current = obj.get("ReturnConsumedCapacity").map(|v| v.as_str().map(str::to_string));
            match current {
                None => {
                    obj.insert("ReturnConsumedCapacity".into(), Value::from("INDEXES"));
                    asked = Some(None);
                }
                Some(Some(mode)) if mode == "NONE" || mode == "TOTAL" => {
                    obj.insert("ReturnConsumedCapacity".into(), Value::from("INDEXES"));
                    asked = Some(Some(mode));
                }
                // INDEXES already, or a value the operation rejects itself.
                _ => {}
            }
        }
    }
    Plan { tables, asked, started: std::time::Instant::now() }
}

/// Records the outcome's metrics and gives back the answer the caller asked for.
pub fn finish(metrics: &Metrics, ctx: &RequestContext, operation: &str, plan: Plan, out: Result<Value, AwsError>) -> Result<Value, AwsError> {
    let (account, region) = (ctx.account_id.as_str(), ctx.region.as_str());
    // The `Operation` dimension's values are the data-plane operations.
    let data_op = CAPACITY_OPS.iter().copied().find(|o| *o == operation);
    match out {
        Ok(mut v) => {
            let operation = data_op.unwrap_or("");
            let tables: &[String] = if data_op.is_some() { &plan.tables } else { &[] };
            let latency = plan.started.elapsed().as_secs_f64() * 1000.0;
            let latency = (latency * 100.0).round() / 100.0;
            for t in tables {
                metrics.record_distribution(account, region, NAMESPACE, "SuccessfulRequestLatency", &[("TableName", t), ("Operation", operation)], unit::MILLISECONDS, latency);
                if matches!(operation, "Query" | "Scan") {
                    let n = v.get("Count").and_then(Value::as_f64).unwrap_or(0.0);
                    metrics.record(account, region, NAMESPACE, "ReturnedItemCount", &[("TableName", t), ("Operation", operation)], unit::COUNT, n);
                }
            }
            match v.get("ConsumedCapacity") {
                Some(Value::Array(list)) => list.iter().for_each(|c| capacity(metrics, account, region, c)),
                Some(c @ Value::Object(_)) => capacity(metrics, account, region, c),
                _ => {}
            }
            if let (Some(asked), Some(obj)) = (plan.asked, v.as_object_mut()) {
                match asked.as_deref() {
                    Some("TOTAL") => match obj.get_mut("ConsumedCapacity") {
                        Some(Value::Array(list)) => list.iter_mut().for_each(total_only),
                        Some(c) => total_only(c),
                        None => {}
                    },
                    _ => {
                        obj.remove("ConsumedCapacity");
                    }
                }
            }
            Ok(v)
        }
        Err(e) => {
            // The code as DynamoDB writes it: `com.amazonaws.dynamodb.v20120810#<Name>`.
            let code = e.code.rsplit('#').next().unwrap_or("");
            if code == "ConditionalCheckFailedException" {
                for t in &plan.tables {
                    metrics.record(account, region, NAMESPACE, "ConditionalCheckFailedRequests", &[("TableName", t)], unit::COUNT, 1.0);
                }
            } else if let (true, Some(operation)) = (e.status >= 500, data_op) {
                for t in &plan.tables {
                    metrics.record(account, region, NAMESPACE, "SystemErrors", &[("TableName", t), ("Operation", operation)], unit::COUNT, 1.0);
                }
            } else if e.status < 500 && !matches!(code, "ProvisionedThroughputExceededException" | "ThrottlingException" | "RequestLimitExceeded") {
                metrics.record(account, region, NAMESPACE, "UserErrors", &[], unit::COUNT, 1.0);
            }
            Err(e)
        }
    }
}

/// One ConsumedCapacity member (INDEXES form) as metric values: the table's own units
/// (total less what global secondary indexes consumed) and each global index's.
fn capacity(metrics: &Metrics, account: &str, region: &str, c: &Value) {
    let Some(table) = c.get("TableName").and_then(Value::as_str) else { return };
    let table = crate::service::table_name_of(table).unwrap_or(table);
    let (read, write) = (c.get("ReadCapacityUnits").and_then(Value::as_f64), c.get("WriteCapacityUnits").and_then(Value::as_f64));
    let total = c.get("CapacityUnits").and_then(Value::as_f64).unwrap_or(0.0);
    // Transactions and PartiQL report CapacityUnits only: the operation says which kind.
    let is_read = match (read, write) {
        (Some(r), _) if r > 0.0 => true,
        (_, Some(w)) if w > 0.0 => false,
        _ => read.is_some(),
    };
    let name = if is_read { "ConsumedReadCapacityUnits" } else { "ConsumedWriteCapacityUnits" };
    let mut gsi_total = 0.0;
    if let Some(gsis) = c.get("GlobalSecondaryIndexes").and_then(Value::as_object) {
        for (index, u) in gsis {
            let units = u.get("CapacityUnits").and_then(Value::as_f64).unwrap_or(0.0);
            gsi_total += units;
            metrics.record(account, region, NAMESPACE, name, &[("TableName", table), ("GlobalSecondaryIndexName", index)], unit::COUNT, units);
        }
    }
    let own = c.get("Table").and_then(|t| t.get("CapacityUnits")).and_then(Value::as_f64).unwrap_or((total - gsi_total).max(0.0));
    metrics.record(account, region, NAMESPACE, name, &[("TableName", table)], unit::COUNT, own);
}

/// An INDEXES-form ConsumedCapacity cut back to the TOTAL form.
fn total_only(c: &mut Value) {
    if let Some(obj) = c.as_object_mut() {
        for k in ["Table", "GlobalSecondaryIndexes", "LocalSecondaryIndexes"] {
            obj.remove(k);
        }
    }
}

/// Items the TTL sweeper deleted from one table.
pub fn ttl_deleted(metrics: &Metrics, account: &str, region: &str, table: &str, n: usize) {
    metrics.record(account, region, NAMESPACE, "TimeToLiveDeletedItemCount", &[("TableName", table)], unit::COUNT, n as f64);
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn capacity_is_asked_for_and_cut_back() {
        let mut input = json!({"TableName": "t"});
        let plan = prepare("GetItem", &mut input);
        assert_eq!(input["ReturnConsumedCapacity"], "INDEXES");
        let m = Metrics::new();
        let caller = nimbus_core::auth::Caller { access_key_id: "k".into(), account_id: "1".into(), region: "us-east-1".into(), service: None };
        let ctx = RequestContext::new(caller, "localhost".into(), "/".into());
        let answer = json!({"Item": {}, "ConsumedCapacity": {"TableName": "t", "CapacityUnits": 0.5, "ReadCapacityUnits": 0.5, "Table": {"CapacityUnits": 0.5, "ReadCapacityUnits": 0.5}}});
        let out = finish(&m, &ctx, "GetItem", plan, Ok(answer)).expect("ok");
        assert_eq!(out, json!({"Item": {}}));

        let mut input = json!({"TableName": "t", "ReturnConsumedCapacity": "TOTAL"});
        let plan = prepare("GetItem", &mut input);
        let answer = json!({"ConsumedCapacity": {"TableName": "t", "CapacityUnits": 1.0, "ReadCapacityUnits": 1.0, "Table": {"CapacityUnits": 1.0, "ReadCapacityUnits": 1.0}}});
        let out = finish(&m, &ctx, "GetItem", plan, Ok(answer)).expect("ok");
        assert_eq!(out, json!({"ConsumedCapacity": {"TableName": "t", "CapacityUnits": 1.0, "ReadCapacityUnits": 1.0}}));

        let mut input = json!({"TableName": "t", "ReturnConsumedCapacity": "INDEXES"});
        let plan = prepare("GetItem", &mut input);
        assert!(plan.asked.is_none());
    }
}
