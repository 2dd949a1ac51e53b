//! API Gateway's standard CloudWatch metrics for HTTP APIs (namespace `AWS/ApiGateway`), as
//! "Amazon API Gateway dimensions and metrics" documents them for HTTP APIs
//! (https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-metrics.html):
//! Count, 4xx, 5xx (1 or 0 per request, so their Average is the error rate), Latency and
//! IntegrationLatency (milliseconds), DataProcessed (bytes in and out), each under `ApiId`
//! and `ApiId`+`Stage`. Recorded by the data plane once a request's API and stage are known
//! (`data_plane.rs`), into core's in-memory aggregator. Detailed (per-route) metrics and
//! WebSocket APIs' metrics are not emitted.

use crate::context::Facts;
use nimbus_core::metrics::{unit, Metrics};

pub const NAMESPACE: &str = "AWS/ApiGateway";

/// One HTTP API request's metrics.
pub fn request(metrics: &Metrics, region: &str, facts: &Facts, request_bytes: usize, latency_ms: f64) {
    if !metrics.enabled() {
        return;
    }
    let status = facts.status.unwrap_or(0);
    let account = facts.account_id.as_str();
    let sets: [&[(&'static str, &str)]; 2] = [&[("ApiId", &facts.api_id)], &[("ApiId", &facts.api_id), ("Stage", &facts.stage)]];
    let bytes = (request_bytes + facts.response_length.unwrap_or(0)) as f64;
    for dims in sets {
        metrics.record(account, region, NAMESPACE, "Count", dims, unit::COUNT, 1.0);
        metrics.record(account, region, NAMESPACE, "4xx", dims, unit::COUNT, if (400..500).contains(&status) { 1.0 } else { 0.0 });
        metrics.record(account, region, NAMESPACE, "5xx", dims, unit::COUNT, if status >= 500 { 1.0 } else { 0.0 });
        metrics.record_distribution(account, region, NAMESPACE, "Latency", dims, unit::MILLISECONDS, latency_ms);
        if let Some(ms) = facts.integration_latency_ms {
            metrics.record_distribution(account, region, NAMESPACE, "IntegrationLatency", dims, unit::MILLISECONDS, ms as f64);
        }
        metrics.record(account, region, NAMESPACE, "DataProcessed", dims, unit::BYTES, bytes);
    }
}
