//! The CloudWatch service as the router sees it: the vendored model (RPC v2 CBOR, JSON 1.0
//! and query), dispatch of the metric and alarm operations (every other operation answers
//! "… is not supported by nimbus"), the seams the binary wires (SNS, Lambda and EventBridge
//! for alarm actions), and the input helpers the operations share.

use crate::engine::Engine;
use crate::errors::{CwError, CwResult};
use crate::store::Store;
use nimbus_core::internal::{EventInvoker, EventPublisher, ServiceGrants, TopicPublisher};
use nimbus_core::model::ServiceModel;
use nimbus_core::service::BoxFuture;
use nimbus_core::{AwsError, AwsService, Clock, RequestContext};
use serde_json::Value;
use std::sync::{Arc, OnceLock};

const MODEL_JSON: &str = include_str!("../model/cloudwatch-2010-08-01.json");

pub fn model() -> &'static ServiceModel {
    static MODEL: OnceLock<ServiceModel> = OnceLock::new();
    MODEL.get_or_init(|| ServiceModel::parse(MODEL_JSON).expect("vendored CloudWatch model parses"))
}

pub struct CloudWatchService {
    pub(crate) clock: Clock,
    pub(crate) store: Arc<Store>,
    pub(crate) engine: Arc<Engine>,
}

impl CloudWatchService {
    /// Loads the stored alarms and, inside a runtime, starts their evaluation timer.
    pub fn new(store: Store, clock: Clock) -> CloudWatchService {
        let store = Arc::new(store);
        let engine = Engine::start(store.clone(), clock.clone());
        CloudWatchService { clock, store, engine }
    }

    /// Alarm actions on SNS topics publish through it.
    pub fn set_topic_publisher(&self, topics: Arc<dyn TopicPublisher>) {
        let _ = self.engine.topics.set(topics);
    }

    /// Alarm actions on Lambda functions invoke them asynchronously through it.
    pub fn set_event_invoker(&self, functions: Arc<dyn EventInvoker>) {
        let _ = self.engine.functions.set(functions);
    }

    /// Under `--auth iam`, Lambda actions need the function's policy to allow
    /// `lambda.alarms.cloudwatch.amazonaws.com`.
    pub fn set_grants(&self, grants: Arc<dyn ServiceGrants>) {
        let _ = self.engine.grants.set(grants);
    }

    /// The standard-metrics aggregator whose buffered datapoints alarms take in before
    /// each evaluation.
    pub fn set_metrics_hub(&self, hub: Arc<nimbus_core::metrics::MetricsHub>) {
        let _ = self.engine.hub.set(hub);
    }

    /// Alarm state changes go to the default event bus through it.
    pub fn set_event_publisher(&self, events: Arc<dyn EventPublisher>) {
        let _ = self.engine.events.set(events);
    }

    async fn dispatch(&self, ctx: &RequestContext, op: &str, input: Value) -> CwResult<Value> {
        match op {
            "PutMetricData" => self.put_metric_data(ctx, &input).await,
            "ListMetrics" => self.list_metrics(ctx, &input).await,
            "GetMetricStatistics" => self.get_metric_statistics(ctx, &input).await,
            "GetMetricData" => self.get_metric_data(ctx, &input).await,
            "PutMetricAlarm" => self.put_metric_alarm(ctx, &input).await,
            "PutCompositeAlarm" => self.put_composite_alarm(ctx, &input).await,
            "DescribeAlarms" => self.describe_alarms(ctx, &input).await,
            "DescribeAlarmsForMetric" => self.describe_alarms_for_metric(ctx, &input).await,
            "DescribeAlarmHistory" => self.describe_alarm_history(ctx, &input).await,
            "SetAlarmState" => self.set_alarm_state(ctx, &input).await,
            "EnableAlarmActions" => self.set_actions_enabled(ctx, &input, true).await,
            "DisableAlarmActions" => self.set_actions_enabled(ctx, &input, false).await,
            "DeleteAlarms" => self.delete_alarms(ctx, &input).await,
            "TagResource" => self.tag_resource(ctx, &input).await,
            "UntagResource" => self.untag_resource(ctx, &input).await,
            "ListTagsForResource" => self.list_tags_for_resource(ctx, &input).await,
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
