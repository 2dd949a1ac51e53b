//! Lambda's standard CloudWatch metrics (namespace `AWS/Lambda`), as AWS documents them in
//! "Types of metrics for Lambda functions" (https://docs.aws.amazon.com/lambda/latest/dg/monitoring-metrics-types.html):
//! each datum is recorded under every dimension set AWS publishes it with — the account-wide
//! aggregate (no dimension), `FunctionName`, `FunctionName`+`Resource` (`name` for an
//! unqualified invocation, `name:qualifier` otherwise) and, for alias invocations,
//! `FunctionName`+`Resource`+`ExecutedVersion`. Recording goes to core's in-memory
//! aggregator (`nimbus_core::metrics`): a hash lookup per dimension set, no I/O.

use nimbus_core::metrics::{unit, Metrics};

pub const NAMESPACE: &str = "AWS/Lambda";

/// Which function, qualifier and executed version one datum is about.
pub struct Target<'a> {
    pub account: &'a str,
    pub region: &'a str,
    pub function: &'a str,
    pub qualifier: Option<&'a str>,
    /// The version that ran (for `ExecutedVersion`, alias invocations only).
    pub executed_version: Option<&'a str>,
}

/// Whether a qualifier names an alias (not `$LATEST`, not a version number).
fn is_alias(q: &str) -> bool {
    q != "$LATEST" && !q.bytes().all(|b| b.is_ascii_digit())
}

/// Records `value` of `name` under each of AWS's dimension sets for the target; the
/// account aggregate only when `aggregate` (AWS publishes it for Invocations, Errors,
/// Throttles, Duration, ConcurrentExecutions and the other invocation metrics).
pub fn emit(metrics: &Metrics, t: &Target, name: &'static str, unit: &'static str, value: f64, distribution: bool) {
    if !metrics.enabled() {
        return;
    }
    let record = |dims: &[(&'static str, &str)]| {
        if distribution {
            metrics.record_distribution(t.account, t.region, NAMESPACE, name, dims, unit, value)
        } else {
            metrics.record(t.account, t.region, NAMESPACE, name, dims, unit, value)
        }
    };
    record(&[]);
    record(&[("FunctionName", t.function)]);
    let resource;
    let resource: &str = match t.qualifier {
        Some(q) => {
            resource = format!("{}:{q}", t.function);
            &resource
        }
        None => t.function,
    };
    record(&[("FunctionName", t.function), ("Resource", resource)]);
    if let (Some(q), Some(v)) = (t.qualifier, t.executed_version) {
        if is_alias(q) {
            record(&[("FunctionName", t.function), ("Resource", resource), ("ExecutedVersion", v)]);
        }
    }
}

/// One finished invocation: Invocations 1, Errors 0 or 1, Duration in milliseconds.
pub fn invocation(metrics: &Metrics, t: &Target, error: bool, duration_ms: f64) {
    emit(metrics, t, "Invocations", unit::COUNT, 1.0, false);
    emit(metrics, t, "Errors", unit::COUNT, if error { 1.0 } else { 0.0 }, false);
    // Two decimals, as the REPORT line shows it (and so repeated values share a slot).
    emit(metrics, t, "Duration", unit::MILLISECONDS, (duration_ms * 100.0).round() / 100.0, true);
}

/// `ConcurrentExecutions` when an invocation starts: the account's count in the region for
/// the aggregate, the function's for `FunctionName` (read its Maximum, as AWS advises).
pub fn concurrency(metrics: &Metrics, t: &Target, function: u32, account: u32) {
    if !metrics.enabled() {
        return;
    }
    metrics.record(t.account, t.region, NAMESPACE, "ConcurrentExecutions", &[], unit::COUNT, account as f64);
    metrics.record(t.account, t.region, NAMESPACE, "ConcurrentExecutions", &[("FunctionName", t.function)], unit::COUNT, function as f64);
}

/// A counted event with no value other than 1 (Throttles, DeadLetterErrors, …).
pub fn count(metrics: &Metrics, t: &Target, name: &'static str) {
    emit(metrics, t, name, unit::COUNT, 1.0, false);
}

#[cfg(test)]
mod tests {
    use super::*;
    use nimbus_core::metrics::MetricsHub;
    use nimbus_core::Clock;

    #[test]
    fn alias_invocations_carry_every_dimension_set() {
        let hub = MetricsHub::new(Clock::new());
        let m = Metrics::new();
        m.attach(hub.clone());
        let t = Target { account: "1", region: "us-east-1", function: "f", qualifier: Some("live"), executed_version: Some("3") };
        count(&m, &t, "Throttles");
        let mut dims: Vec<Vec<(String, String)>> = hub.drain().into_iter().map(|s| s.dimensions).collect();
        dims.sort();
        let d = |pairs: &[(&str, &str)]| pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect::<Vec<_>>();
        assert_eq!(dims, vec![d(&[]), d(&[("FunctionName", "f")]), d(&[("FunctionName", "f"), ("Resource", "f:live")]), d(&[("FunctionName", "f"), ("Resource", "f:live"), ("ExecutedVersion", "3")])]);
        let t = Target { account: "1", region: "us-east-1", function: "f", qualifier: None, executed_version: Some("$LATEST") };
        count(&m, &t, "Throttles");
        let sets = hub.drain();
        assert_eq!(sets.len(), 3);
        assert!(sets.iter().any(|s| s.dimensions == d(&[("FunctionName", "f"), ("Resource", "f")])));
    }
}
