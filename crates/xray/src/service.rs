//! The X-Ray service as the router sees it (REST-JSON, signing name `xray`): the vendored
//! model, dispatch (operations nimbus does not implement answer "… is not supported by
//! nimbus"), the recorder and store every operation shares, the retention timer and the
//! daemon address the binary hands to Lambda.

use crate::errors::{XrayError, XrayResult};
use crate::recorder::Recorder;
use crate::sampling::Rules;
use crate::store::Store;
use nimbus_core::model::ServiceModel;
use nimbus_core::service::BoxFuture;
use nimbus_core::{AwsError, AwsService, Clock, RequestContext};
use serde_json::Value;
use std::sync::{Arc, OnceLock};

const MODEL_JSON: &str = include_str!("../model/xray-2016-04-12.json");

/// X-Ray keeps traces for 30 days.
/// <https://docs.aws.amazon.com/xray/latest/devguide/xray-concepts.html>
pub const RETENTION_SECS: u64 = 30 * 24 * 3600;

pub fn model() -> &'static ServiceModel {
    static MODEL: OnceLock<ServiceModel> = OnceLock::new();
    MODEL.get_or_init(|| ServiceModel::parse(MODEL_JSON).expect("vendored X-Ray model parses"))
}

pub struct XrayService {
    pub(crate) clock: Clock,
    pub(crate) store: Arc<Store>,
    pub(crate) recorder: Arc<Recorder>,
    pub(crate) rules: Rules,
}

impl XrayService {
    /// Opens the service over `store`: starts the writer thread (committed documents also
    /// go to `otlp`, when exporting) and the retention timer on the clock. Call inside the
    /// tokio runtime.
    pub fn new(store: Store, clock: Clock, otlp: Option<crate::otlp::Exporter>) -> XrayService {
        let store = Arc::new(store);
        let forward = otlp.map(|e| e.start());
        let recorder = Recorder::start(store.clone(), clock.clone(), forward);
        let svc = XrayService { rules: Rules::new(Some(store.clone())), clock, store, recorder };
        svc.start_retention();
        svc
    }

    /// What the binary installs with `nimbus_core::trace::install` (hops' segments).
    pub fn sink(&self) -> Arc<Recorder> {
        self.recorder.clone()
    }

    /// Traces are deleted 30 days after their last update, checked hourly on the clock.
    fn start_retention(&self) {
        let (clock, recorder) = (self.clock.clone(), self.recorder.clone());
        tokio::spawn(async move {
            loop {
                let now = clock.now_ms();
                recorder.sweep(now.saturating_sub(RETENTION_SECS * 1000) as f64 / 1000.0).await;
                tokio::select! {
                    _ = clock.sleep_until(now + 3_600_000) => {}
                    _ = clock.jumped() => {}
                }
            }
        });
    }

    async fn dispatch(&self, ctx: &RequestContext, op: &str, input: Value) -> XrayResult<Value> {
        match op {
            "PutTraceSegments" => self.put_trace_segments(&input).await,
            "PutTelemetryRecords" => Ok(serde_json::json!({})),
            "GetTraceSummaries" => self.get_trace_summaries(&input).await,
            "BatchGetTraces" => self.batch_get_traces(&input).await,
            "GetTraceGraph" => self.get_trace_graph(&input).await,
            "GetServiceGraph" => self.get_service_graph(&input).await,
            "GetSamplingRules" => Ok(self.rules.get_sampling_rules(ctx)),
            "GetSamplingTargets" => self.rules.get_sampling_targets(ctx, &input, &self.clock),
            "GetSamplingStatisticSummaries" => Ok(self.rules.statistic_summaries()),
            "CreateSamplingRule" => committed(self.rules.create(ctx, &input, &self.clock)?).await,
            "UpdateSamplingRule" => committed(self.rules.update(ctx, &input, &self.clock)?).await,
            "DeleteSamplingRule" => committed(self.rules.delete(ctx, &input)?).await,
            other => Err(XrayError::NotSupported(format!("The X-Ray operation {other}"))),
        }
    }
}

impl AwsService for XrayService {
    fn model(&self) -> &ServiceModel {
        model()
    }

    fn call<'a>(&'a self, ctx: &'a RequestContext, operation: &'a str, input: Value) -> BoxFuture<'a, Result<Value, AwsError>> {
        Box::pin(async move { self.dispatch(ctx, operation, input).await.map_err(AwsError::from) })
    }
}

/// Answers once the change is committed.
async fn committed((out, pending): (Value, nimbus_core::storage::Pending)) -> XrayResult<Value> {
    pending.wait().await.map_err(XrayError::Internal)?;
    Ok(out)
}

/// A string member.
pub(crate) fn s<'a>(input: &'a Value, member: &str) -> Option<&'a str> {
    input.get(member).and_then(Value::as_str)
}

/// A timestamp member in epoch seconds (the wire's numbers, or ISO 8601 text).
pub(crate) fn time_secs(input: &Value, member: &str) -> XrayResult<Option<f64>> {
    match input.get(member) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Number(n)) => Ok(n.as_f64()),
        Some(Value::String(t)) => nimbus_core::time::parse_iso8601(t)
            .map(|ms| Some(ms as f64 / 1000.0))
            .or_else(|| t.parse::<f64>().ok().map(Some))
            .ok_or_else(|| XrayError::invalid(format!("Invalid {member}: {t}"))),
        Some(other) => Err(XrayError::invalid(format!("Invalid {member}: {other}"))),
    }
}

/// A required timestamp member.
pub(crate) fn required_time(input: &Value, member: &str) -> XrayResult<f64> {
    time_secs(input, member)?.ok_or_else(|| XrayError::invalid(format!("{member} is required.")))
}

impl XrayService {
    /// Binds the X-Ray daemon's UDP socket and serves it; the bound address.
    pub async fn start_daemon(&self, addr: std::net::SocketAddr) -> std::io::Result<std::net::SocketAddr> {
        crate::daemon::start(addr, self.recorder.clone()).await
    }

    /// Waits until every document handed over so far is in the store.
    pub async fn flush(&self) {
        self.recorder.flush().await
    }
}
