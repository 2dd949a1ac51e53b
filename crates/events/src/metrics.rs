//! EventBridge's standard CloudWatch metrics (namespace `AWS/Events`), as "Monitoring Amazon
//! EventBridge" documents them
//! (https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-monitoring.html):
//! MatchedEvents and TriggeredRules when a rule's pattern matches an event (`registry.rs`;
//! TriggeredRules also when a schedule fires, `timer.rs`), Invocations when a target
//! invocation succeeds or finally fails, FailedInvocations when it finally fails,
//! InvocationsSentToDlq / InvocationsFailedToBeSentToDlq (`deliver.rs`). Each is recorded
//! with no dimension (the account's aggregate), with `RuleName`, and with `EventBusName` +
//! `RuleName`. Recording goes to core's in-memory aggregator (`nimbus_core::metrics`).

use nimbus_core::metrics::{unit, Metrics};

pub const NAMESPACE: &str = "AWS/Events";

/// Counts 1 of `name` for a rule of a bus.
pub fn rule_event(metrics: &Metrics, account: &str, region: &str, bus: &str, rule: &str, name: &'static str) {
    if !metrics.enabled() {
        return;
    }
    metrics.record(account, region, NAMESPACE, name, &[], unit::COUNT, 1.0);
    metrics.record(account, region, NAMESPACE, name, &[("RuleName", rule)], unit::COUNT, 1.0);
    metrics.record(account, region, NAMESPACE, name, &[("EventBusName", bus), ("RuleName", rule)], unit::COUNT, 1.0);
}

/// The same for a rule named by its ARN (`arn:aws:events:<region>:<account>:rule/[<bus>/]<rule>`).
pub fn rule_arn_event(metrics: &Metrics, rule_arn: &str, name: &'static str) {
    let mut parts = rule_arn.splitn(6, ':');
    let (Some(_), Some(_), Some(_), Some(region), Some(account), Some(resource)) = (parts.next(), parts.next(), parts.next(), parts.next(), parts.next(), parts.next()) else { return };
    let Some(path) = resource.strip_prefix("rule/") else { return };
    let (bus, rule) = path.split_once('/').unwrap_or((crate::names::DEFAULT_BUS, path));
    rule_event(metrics, account, region, bus, rule, name);
}

#[cfg(test)]
mod tests {
    use super::*;
    use nimbus_core::metrics::MetricsHub;
    use nimbus_core::Clock;

    #[test]
    fn rule_arns_give_bus_and_rule() {
        let hub = MetricsHub::new(Clock::new());
        let m = Metrics::new();
        m.attach(hub.clone());
        rule_arn_event(&m, "arn:aws:events:us-east-1:111122223333:rule/orders/on-new", "Invocations");
        rule_arn_event(&m, "arn:aws:events:us-east-1:111122223333:rule/nightly", "Invocations");
        let mut dims: Vec<_> = hub.drain().into_iter().map(|s| s.dimensions).collect();
        dims.sort();
        let d = |p: &[(&str, &str)]| p.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect::<Vec<_>>();
        assert!(dims.contains(&d(&[("EventBusName", "orders"), ("RuleName", "on-new")])));
        assert!(dims.contains(&d(&[("EventBusName", "default"), ("RuleName", "nightly")])));
        assert!(dims.contains(&d(&[])));
    }
}
