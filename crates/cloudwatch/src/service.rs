//! The CloudWatch service as the router sees it: the vendored model (RPC v2 CBOR, JSON 1.0
//! and query), dispatch of the metric operations (every other operation answers "… is not
//! supported by nimbus"), and the input helpers `put` and `read` share.

use crate::errors::{CwError, CwResult};
use crate::store::Store;
use nimbus_core::model::ServiceModel;
use nimbus_core::service::BoxFuture;
use nimbus_core::{AwsError, AwsService, Clock, RequestContext};
use serde_json::Value;
use std::sync::OnceLock;

const MODEL_JSON: &str = include_str!("../model/cloudwatch-2010-08-01.json");

pub fn model() -> &'static ServiceModel {
    static MODEL: OnceLock<ServiceModel> = OnceLock::new();
    MODEL.get_or_init(|| ServiceModel::parse(MODEL_JSON).expect("vendored CloudWatch model parses"))
}

pub struct CloudWatchService {
    pub(crate) clock: Clock,
    pub(crate) store: Store,
}

impl CloudWatchService {
    pub fn new(store: Store, clock: Clock) -> CloudWatchService {
        CloudWatchService { clock, store }
    }

    async fn dispatch(&self, ctx: &RequestContext, op: &str, input: Value) -> CwResult<Value> {
        match op {
            "PutMetricData" => self.put_metric_data(ctx, &input).await,
            "ListMetrics" => self.list_metrics(ctx, &input).await,
            "GetMetricStatistics" => self.get_metric_statistics(ctx, &input).await,
            "GetMetricData" => self.get_metric_data(ctx, &input).await,
            other => Err(CwError::NotSupported(format!("The CloudWatch operation {other}"))),
        }
    }
}

impl AwsService for CloudWatchService {
    fn model(&self) -> &ServiceModel {
        model()
    }

    fn call<'a>(&'a self, ctx: &'a RequestContext, operation: &'a str, input: Value) -> BoxFuture<'a, Result<Value, AwsError>> {
        Box::pin(async move { self.dispatch(ctx, operation, input).await.map_err(AwsError::from) })
    }
}

/// A string member.
pub(crate) fn s<'a>(input: &'a Value, member: &str) -> Option<&'a str> {
    input.get(member).and_then(Value::as_str)
}

/// A list member's items (query input gives lists as arrays too).
pub(crate) fn list<'a>(input: &'a Value, member: &str) -> &'a [Value] {
    input.get(member).and_then(Value::as_array).map(Vec::as_slice).unwrap_or(&[])
}

/// A number member: JSON/CBOR numbers, query strings; NaN and infinities are refused.
pub(crate) fn num(v: &Value, what: &str) -> CwResult<f64> {
    let f = match v {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => s.parse::<f64>().ok(),
        _ => None,
    };
    match f {
        Some(f) if f.is_finite() => Ok(f),
        _ => Err(CwError::invalid(format!("The value {} for parameter {what} is invalid.", text(v)))),
    }
}

fn text(v: &Value) -> String {
    v.as_str().map(str::to_string).unwrap_or_else(|| v.to_string())
}

/// A timestamp member in milliseconds: epoch seconds (JSON, CBOR) or ISO 8601 (query).
pub(crate) fn time_ms(v: &Value, what: &str) -> CwResult<i64> {
    let ms = match v {
        Value::Number(n) => n.as_f64().map(|s| (s * 1000.0).round() as i64),
        Value::String(s) => nimbus_core::time::parse_iso8601(s).map(|ms| ms as i64).or_else(|| s.parse::<f64>().ok().map(|s| (s * 1000.0).round() as i64)),
        _ => None,
    };
    ms.ok_or_else(|| CwError::invalid(format!("The value {} for parameter {what} is invalid.", text(v))))
}

/// Epoch seconds as the wire's timestamp value.
pub(crate) fn secs(ms: i64) -> Value {
    if ms % 1000 == 0 {
        Value::from(ms / 1000)
    } else {
        Value::from(ms as f64 / 1000.0)
    }
}

/// Dimensions as the store keys them: `[[name, value], …]` sorted by name.
pub(crate) fn canonical_dims(dims: &[(String, String)]) -> String {
    let mut d = dims.to_vec();
    d.sort();
    Value::from(d.into_iter().map(|(n, v)| Value::from(vec![n, v])).collect::<Vec<_>>()).to_string()
}

/// The model's units (`StandardUnit`).
pub(crate) const UNITS: [&str; 27] = [
    "Seconds", "Microseconds", "Milliseconds", "Bytes", "Kilobytes", "Megabytes", "Gigabytes", "Terabytes", "Bits", "Kilobits", "Megabits", "Gigabits", "Terabits", "Percent", "Count",
    "Bytes/Second", "Kilobytes/Second", "Megabytes/Second", "Gigabytes/Second", "Terabytes/Second", "Bits/Second", "Kilobits/Second", "Megabits/Second", "Gigabits/Second",
    "Terabits/Second", "Count/Second", "None",
];

/// An optional Unit member, checked against the model's units.
pub(crate) fn unit<'a>(input: &'a Value, what: &str) -> CwResult<Option<&'a str>> {
    match s(input, "Unit") {
        None => Ok(None),
        Some(u) if UNITS.contains(&u) => Ok(Some(u)),
        Some(u) => Err(CwError::invalid(format!("The value {u} for parameter {what} is invalid."))),
    }
}

/// A string member's length within `1..=max`.
pub(crate) fn check_len(value: &str, max: usize, what: &str) -> CwResult<()> {
    if value.is_empty() || value.chars().count() > max {
        return Err(CwError::invalid(format!("The parameter {what} must be between 1 and {max} characters long.")));
    }
    Ok(())
}
