//! The alarm engine: every alarm in memory (bounded by AWS's alarm quotas; stored in
//! `cloudwatch.db`), the timer that evaluates each metric alarm at the end of every period
//! on nimbus's clock (sleeping until the earliest due alarm, woken early by changes and
//! by clock jumps; a jump evaluates each period end it passes, up to the last 60), state
//! transitions (stored with a StateUpdate history item), composite alarms re-evaluated
//! when a child changes, and the actions a transition runs (SNS topics through
//! `TopicPublisher`, Lambda functions through `EventInvoker`, each recorded as an Action
//! history item) plus the EventBridge "CloudWatch Alarm State Change" event.

use crate::alarm::{alarm_arn, aws_time, Alarm, AlarmKey, Source, State, ALARM, INSUFFICIENT, OK};
use crate::evaluate::{evaluate, Datapoint};
use crate::notify;
use crate::rule;
use crate::store::{AlarmChange, HistoryRow, Store};
use nimbus_core::internal::{EventInvoker, EventPublisher, ServiceCall, ServiceGrants, TopicPublisher};
use nimbus_core::metrics::MetricsHub;
use nimbus_core::Clock;
use parking_lot::Mutex;
use serde_json::{json, Value};
use std::collections::{BTreeMap, VecDeque};
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, OnceLock};
use tokio::sync::Notify;

/// How many missed period ends a clock jump evaluates, per alarm.
const CATCH_UP: i64 = 60;

/// AWS keeps alarm history for 30 days.
const HISTORY_MS: i64 = 30 * 24 * 3600 * 1000;

pub struct Engine {
    pub(crate) store: Arc<Store>,
    pub(crate) clock: Clock,
    pub(crate) alarms: Mutex<BTreeMap<AlarmKey, Alarm>>,
    /// Each metric alarm's next evaluation time (ms).
    due: Mutex<BTreeMap<AlarmKey, i64>>,
    changed: Notify,
    last_trim_ms: AtomicI64,
    pub(crate) topics: OnceLock<Arc<dyn TopicPublisher>>,
    pub(crate) functions: OnceLock<Arc<dyn EventInvoker>>,
    pub(crate) events: OnceLock<Arc<dyn EventPublisher>>,
    /// Lambda actions need the function's policy to allow CloudWatch alarms (`--auth iam`).
    pub(crate) grants: OnceLock<Arc<dyn ServiceGrants>>,
    /// The services' standard-metrics aggregator: drained before evaluating, so a period's
    /// last datapoints are in the store when its alarms look (its own flush task may wake
    /// after this timer when the clock jumps).
    pub(crate) hub: OnceLock<Arc<MetricsHub>>,
}

/// One state change, for the work after it (actions, parents).
struct Transition {
    old: State,
    alarm: Alarm,
}

fn history_row(a: &Alarm, ts_ms: i64, kind: &str, summary: String, data: Value) -> AlarmChange {
    AlarmChange::History(HistoryRow { account: a.account.clone(), region: a.region.clone(), name: a.name.clone(), composite: a.composite, ts_ms, kind: kind.into(), summary, data: data.to_string() })
}

fn state_doc(s: &State) -> Value {
    let mut o = json!({"stateValue": s.value, "stateReason": s.reason});
    if let Some(d) = s.reason_data.as_deref().and_then(|d| serde_json::from_str::<Value>(d).ok()) {
        o["stateReasonData"] = d;
    }
    o
}

/// `Friday 04 December, 2026 16:55:00 UTC`, as composite alarms' reasons date a change.
fn long_date(ms: i64) -> String {
    const DAYS: [&str; 7] = ["Thursday", "Friday", "Saturday", "Sunday", "Monday", "Tuesday", "Wednesday"];
    const MONTHS: [&str; 12] = ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October", "November", "December"];
    let iso = nimbus_core::time::iso8601(ms.max(0) as u64);
    let day = DAYS[(ms.max(0) / 86_400_000 % 7) as usize];
    let month = iso[5..7].parse::<usize>().ok().and_then(|m| MONTHS.get(m.wrapping_sub(1))).copied().unwrap_or("");
    format!("{day} {} {month}, {} {} UTC", &iso[8..10], &iso[0..4], &iso[11..19])
}

impl Engine {
    pub fn start(store: Arc<Store>, clock: Clock) -> Arc<Engine> {
        let e = Arc::new(Engine {
            store,
            clock,
            alarms: Mutex::new(BTreeMap::new()),
            due: Mutex::new(BTreeMap::new()),
            changed: Notify::new(),
            last_trim_ms: AtomicI64::new(0),
            topics: OnceLock::new(),
            functions: OnceLock::new(),
            events: OnceLock::new(),
            grants: OnceLock::new(),
            hub: OnceLock::new(),
        });
        let loaded: Vec<Alarm> = e.store.loaded_alarms().iter().filter_map(|d| Alarm::from_doc(d)).collect();
        for a in loaded {
            if let Some(spec) = a.spec() {
                e.schedule(&a.key(), spec.period());
            }
            e.alarms.lock().insert(a.key(), a);
        }
        if tokio::runtime::Handle::try_current().is_ok() {
            let me = e.clone();
            tokio::spawn(async move { me.run().await });
        }
        e
    }

    /// Evaluates the metric alarm at the end of each `period_s` from now on.
    pub fn schedule(&self, key: &AlarmKey, period_s: i64) {
        let p = period_s.max(1) * 1000;
        let now = self.clock.now_ms() as i64;
        self.due.lock().insert(key.clone(), (now.div_euclid(p) + 1) * p);
        self.changed.notify_one();
    }

    pub fn unschedule(&self, key: &AlarmKey) {
        self.due.lock().remove(key);
    }

    async fn run(self: Arc<Self>) {
        loop {
            let changed = self.changed.notified();
            let now = self.clock.now_ms() as i64;
            let mut fire = Vec::new();
            let earliest = {
                let mut due = self.due.lock();
                let alarms = self.alarms.lock();
                for (k, next) in due.iter_mut() {
                    if *next <= now {
                        let p = alarms.get(k).and_then(Alarm::spec).map(|s| s.period() * 1000).unwrap_or(60_000);
                        // Every period end the clock passed (a jump over several periods
                        // evaluates each, as time passing would), at most the last CATCH_UP.
                        let last = now.div_euclid(p) * p;
                        let first = (*next).max(last - (CATCH_UP - 1) * p);
                        let mut b = first.div_euclid(p) * p;
                        while b <= last {
                            fire.push((k.clone(), b));
                            b += p;
                        }
                        *next = last + p;
                    }
                }
                due.values().min().copied()
            };
            if !fire.is_empty() {
                if let Some(hub) = self.hub.get() {
                    drop(self.store.apply(crate::sink::set_changes(hub.drain())));
                }
            }
            for (key, boundary) in fire {
                self.evaluate_metric(&key, boundary).await;
            }
            match earliest {
                Some(t) => {
                    tokio::select! {
                        _ = self.clock.sleep_until(t.max(0) as u64) => {}
                        _ = changed => {}
                    }
                }
                None => changed.await,
            }
        }
    }

    /// Evaluates a metric alarm over the periods ending at `boundary_ms`.
    pub async fn evaluate_metric(&self, key: &AlarmKey, boundary_ms: i64) {
        let Some(alarm) = self.alarms.lock().get(key).cloned() else { return };
        let Some(spec) = alarm.spec() else { return };
        let p = spec.period() * 1000;
        let start = boundary_ms - spec.n * p;
        let points = match self.datapoints(&alarm, &spec.source, start, boundary_ms).await {
            Ok(points) => points,
            Err(e) => {
                tracing::warn!(alarm = %alarm.arn(), error = %e, "alarm evaluation could not read its metrics");
                return;
            }
        };
        let now = self.clock.now_ms() as i64;
        if let Some(o) = evaluate(&spec, start, now, &points) {
            self.set_state(key, o.state, o.reason, Some(o.reason_data), Some(alarm.config_updated_ms)).await;
        }
    }

    /// The alarm's datapoints in `[start, end)` (period start → value), read through
    /// GetMetricData: a MetricStat query (and its SampleCount) or the alarm's Metrics.
    async fn datapoints(&self, alarm: &Alarm, source: &Source, start: i64, end: i64) -> Result<BTreeMap<i64, Datapoint>, String> {
        let (queries, wanted, count_id) = match source {
            Source::Single { metric, stat, period, unit, .. } => {
                let mut q = json!({"Id": "v", "MetricStat": {"Metric": metric, "Period": period, "Stat": stat}});
                let mut n = json!({"Id": "n", "MetricStat": {"Metric": metric, "Period": period, "Stat": "SampleCount"}});
                if let Some(u) = unit {
                    q["MetricStat"]["Unit"] = Value::from(u.clone());
                    n["MetricStat"]["Unit"] = Value::from(u.clone());
                }
                (vec![q, n], "v".to_string(), Some("n"))
            }
            Source::Math { queries, .. } => {
                let returned = queries.iter().find(|q| q.get("ReturnData").and_then(Value::as_bool) != Some(false)).and_then(|q| q.get("Id")).and_then(Value::as_str).unwrap_or_default().to_string();
                (queries.clone(), returned, None)
            }
        };
        let input = json!({
            "MetricDataQueries": queries,
            "StartTime": start as f64 / 1000.0,
            "EndTime": end as f64 / 1000.0,
            "ScanBy": "TimestampAscending",
        });
        let out = crate::read::metric_data(&self.store, &alarm.account, &alarm.region, &input, true).await.map_err(|e| format!("{e:?}"))?;
        let series = |id: &str| -> BTreeMap<i64, f64> {
            let Some(r) = out["MetricDataResults"].as_array().and_then(|a| a.iter().find(|r| r["Id"] == id)) else { return BTreeMap::new() };
            let ts = r["Timestamps"].as_array().cloned().unwrap_or_default();
            let vs = r["Values"].as_array().cloned().unwrap_or_default();
            ts.iter().zip(vs.iter()).filter_map(|(t, v)| Some(((t.as_f64()? * 1000.0).round() as i64, v.as_f64()?))).collect()
        };
        let counts = count_id.map(series).unwrap_or_default();
        Ok(series(&wanted).into_iter().map(|(t, v)| (t, Datapoint { value: v, sample_count: counts.get(&t).copied().or(count_id.map(|_| 0.0)) })).collect())
    }

    /// Moves an alarm to `value` (no change when it is already there), stores it with a
    /// StateUpdate history item, then runs its actions and re-evaluates the composite
    /// alarms that name it. `config_at`: only if the alarm's configuration is still the
    /// one evaluated. Returns whether the state changed.
    pub async fn set_state(&self, key: &AlarmKey, value: &str, reason: String, reason_data: Option<String>, config_at: Option<i64>) -> bool {
        let Some(first) = self.apply_state(key, value, reason, reason_data, config_at) else { return false };
        let mut queue = VecDeque::from([first]);
        while let Some(t) = queue.pop_front() {
            self.run_actions(&t).await;
            for parent in self.parents_of(&t.alarm) {
                if let Some((v, reason, data)) = self.composite_outcome(&parent, Some(&t.alarm)) {
                    if let Some(next) = self.apply_state(&parent, v, reason, Some(data), None) {
                        queue.push_back(next);
                    }
                }
            }
        }
        true
    }

    fn apply_state(&self, key: &AlarmKey, value: &str, reason: String, reason_data: Option<String>, config_at: Option<i64>) -> Option<Transition> {
        let now = self.clock.now_ms() as i64;
        let mut alarms = self.alarms.lock();
        let suppressed = self.suppression(&alarms, key);
        let a = alarms.get_mut(key)?;
        if a.state.value == value || config_at.is_some_and(|c| c != a.config_updated_ms) {
            return None;
        }
        let old = a.state.clone();
        a.state = State { value: value.to_string(), reason, reason_data, updated_ms: now, transitioned_ms: now };
        if a.composite {
            a.suppressed = suppressed;
        }
        let a = a.clone();
        let data = json!({"version": "1.0", "oldState": state_doc(&old), "newState": state_doc(&a.state)});
        let mut changes = vec![
            AlarmChange::Put { account: a.account.clone(), region: a.region.clone(), name: a.name.clone(), doc: a.to_doc() },
            history_row(&a, now, "StateUpdate", format!("Alarm updated from {} to {}", old.value, a.state.value), data),
        ];
        changes.extend(self.trim(now));
        // Submitted under the lock, in order with every other change; committed in the background.
        drop(self.store.apply_alarms(changes));
        Some(Transition { old, alarm: a })
    }

    /// A composite alarm's `(ActionsSuppressedBy, reason)` when its suppressor is in ALARM.
    fn suppression(&self, alarms: &BTreeMap<AlarmKey, Alarm>, key: &AlarmKey) -> Option<(String, String)> {
        let a = alarms.get(key)?;
        let s = a.config.get("ActionsSuppressor")?.as_str()?;
        let name = rule::name_of(s, &a.account, &a.region)?;
        let sup = alarms.get(&(a.account.clone(), a.region.clone(), name.to_string()))?;
        (sup.state.value == ALARM).then(|| ("Alarm".to_string(), format!("Alarm {} is in ALARM state.", sup.arn())))
    }

    /// At most once an hour: drop history older than 30 days.
    fn trim(&self, now: i64) -> Option<AlarmChange> {
        let last = self.last_trim_ms.load(Ordering::Relaxed);
        (now - last > 3_600_000 && self.last_trim_ms.compare_exchange(last, now, Ordering::Relaxed, Ordering::Relaxed).is_ok()).then_some(AlarmChange::TrimHistory { before_ms: now - HISTORY_MS })
    }

    /// Appends history items (ConfigurationUpdate from the operations).
    pub fn record(&self, a: &Alarm, kind: &str, summary: String, data: Value) {
        let now = self.clock.now_ms() as i64;
        drop(self.store.apply_alarms(vec![history_row(a, now, kind, summary, data)]));
    }

    /// The composite alarms whose rule names `child`.
    fn parents_of(&self, child: &Alarm) -> Vec<AlarmKey> {
        let alarms = self.alarms.lock();
        alarms
            .values()
            .filter(|p| p.composite && p.account == child.account && p.region == child.region)
            .filter(|p| {
                let rule = p.config.get("AlarmRule").and_then(Value::as_str).and_then(|r| rule::parse(r).ok());
                rule.is_some_and(|r| r.alarms().iter().any(|n| rule::name_of(n, &p.account, &p.region) == Some(child.name.as_str())))
            })
            .map(Alarm::key)
            .collect()
    }

    /// A composite alarm's state from its rule and its children's states, with AWS's
    /// reason (`<child arn> transitioned to ALARM at <date>`) and reason data.
    pub fn composite_outcome(&self, key: &AlarmKey, trigger: Option<&Alarm>) -> Option<(&'static str, String, String)> {
        let alarms = self.alarms.lock();
        let a = alarms.get(key)?;
        let r = rule::parse(a.config.get("AlarmRule")?.as_str()?).ok()?;
        let lookup = |n: &str| -> Option<&Alarm> { alarms.get(&(a.account.clone(), a.region.clone(), rule::name_of(n, &a.account, &a.region)?.to_string())) };
        let value = if r.eval(&|n| lookup(n).map(|c| c.state.value.clone())) { ALARM } else { OK };
        let trigger = trigger.cloned().or_else(|| r.alarms().iter().filter_map(|n| lookup(n)).max_by_key(|c| c.state.transitioned_ms).cloned());
        let (reason, data) = match trigger {
            Some(t) => (
                format!("{} transitioned to {} at {}", t.arn(), t.state.value, long_date(t.state.transitioned_ms)),
                json!({"triggeringAlarms": [{"arn": t.arn(), "state": {"value": t.state.value, "timestamp": aws_time(t.state.transitioned_ms)}}]}).to_string(),
            ),
            None => (format!("The alarm rule evaluated to {}", if value == ALARM { "TRUE" } else { "FALSE" }), json!({"triggeringAlarms": []}).to_string()),
        };
        Some((value, reason, data))
    }

    async fn run_actions(&self, t: &Transition) {
        let a = &t.alarm;
        if let Some(events) = self.events.get() {
            if let Err(e) = events.put_events(&a.account, &a.region, notify::state_change_entries(a, &t.old)).await {
                tracing::debug!(alarm = %a.arn(), error = %e.message, "alarm state change event not put");
            }
        }
        if !a.actions_enabled() || a.suppressed.is_some() {
            return;
        }
        for arn in a.actions_for(&a.state.value) {
            let now = self.clock.now_ms() as i64;
            let outcome = if arn.starts_with("arn:aws:sns:") {
                let message = notify::sns_message(a, &t.old);
                match self.topics.get() {
                    Some(p) => p.publish_with_subject(&arn, notify::subject(a), message.clone()).await.map(|_| json!({"publishedMessage": message})),
                    None => Err("no SNS service".to_string()),
                }
            } else if arn.starts_with("arn:aws:lambda:") {
                let event = notify::lambda_event(a, &t.old).to_string();
                // AWS: the function's resource policy must allow the alarms' service principal.
                let alarm_arn = a.arn();
                let call = ServiceCall { service: "lambda.alarms.cloudwatch.amazonaws.com", action: "lambda:InvokeFunction", resource: &arn, source_arn: &alarm_arn, source_account: &a.account };
                match (self.functions.get(), self.grants.get().map(|g| g.allows(&call))) {
                    (_, Some(Err(why))) => Err(format!("CloudWatch Alarms is not authorized to perform: lambda:InvokeFunction on the resource because {why}")),
                    (Some(f), _) => f.invoke_event(&arn, bytes::Bytes::from(event)).await.map(|_| json!({})),
                    (None, _) => Err("no Lambda service".to_string()),
                }
            } else {
                Err(format!("The action {arn} is not supported by nimbus"))
            };
            let (summary, data) = match outcome {
                Ok(mut extra) => {
                    let mut d = json!({"actionState": "Succeeded", "stateUpdateTimestamp": a.state.updated_ms, "notificationResource": arn});
                    if let (Some(d), Some(x)) = (d.as_object_mut(), extra.as_object_mut()) {
                        d.append(x);
                    }
                    (format!("Successfully executed action {arn}"), d)
                }
                Err(e) => {
                    tracing::warn!(alarm = %a.arn(), action = %arn, error = %e, "alarm action failed");
                    (format!("Failed to execute action {arn}. Received error: \"{e}\""), json!({"actionState": "Failed", "stateUpdateTimestamp": a.state.updated_ms, "notificationResource": arn, "error": e}))
                }
            };
            drop(self.store.apply_alarms(vec![history_row(a, now, "Action", summary, data)]));
        }
    }

    /// The alarm's ARN and whether it exists.
    pub fn arn_of(&self, account: &str, region: &str, name: &str) -> Option<String> {
        self.alarms.lock().contains_key(&(account.to_string(), region.to_string(), name.to_string())).then(|| alarm_arn(account, region, name))
    }
}

/// The initial state of a new alarm.
pub fn initial_state(now: i64) -> State {
    State { value: INSUFFICIENT.into(), reason: "Unchecked: Initial alarm creation".into(), reason_data: None, updated_ms: now, transitioned_ms: now }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::service::CloudWatchService;
    use nimbus_core::internal::{MetricDatum, MetricSink};
    use nimbus_core::storage::Durability;

    /// An alarm on AWS/Lambda Errors (FunctionName) sees what services put through the
    /// `MetricSink` (the standard metrics), as on AWS.
    #[tokio::test]
    async fn lambda_errors_put_through_the_sink_raise_the_alarm() {
        let store = Store::open(None, Durability::Process).expect("store");
        let clock = Clock::new();
        let svc = CloudWatchService::new(store, clock.clone());
        let (acct, region) = ("111122223333", "us-east-1");
        let config = json!({
            "AlarmName": "fn-errors", "ActionsEnabled": true, "AlarmActions": [], "OKActions": [], "InsufficientDataActions": [],
            "MetricName": "Errors", "Namespace": "AWS/Lambda", "Statistic": "Sum", "Dimensions": [{"Name": "FunctionName", "Value": "orders"}],
            "Period": 60, "EvaluationPeriods": 1, "Threshold": 1.0, "ComparisonOperator": "GreaterThanOrEqualToThreshold",
        });
        let now = clock.now_ms() as i64;
        let alarm = Alarm {
            account: acct.into(),
            region: region.into(),
            name: "fn-errors".into(),
            composite: false,
            config: config.as_object().cloned().unwrap_or_default(),
            config_updated_ms: now,
            state: initial_state(now),
            tags: vec![],
            metric_id: "m".into(),
            suppressed: None,
        };
        let key = alarm.key();
        svc.engine.alarms.lock().insert(key.clone(), alarm);
        let boundary = now.div_euclid(60_000) * 60_000;
        let datum = |fname: &str| MetricDatum {
            namespace: "AWS/Lambda".into(),
            name: "Errors".into(),
            dimensions: vec![("FunctionName".into(), fname.into())],
            value: 1.0,
            unit: Some("Count".into()),
            timestamp_ms: (boundary - 30_000) as u64,
        };
        svc.put(acct, region, datum("other"));
        svc.engine.evaluate_metric(&key, boundary).await;
        assert_eq!(svc.engine.alarms.lock()[&key].state.value, INSUFFICIENT, "another function's errors do not count");
        svc.put(acct, region, datum("orders"));
        svc.engine.evaluate_metric(&key, boundary).await;
        let state = svc.engine.alarms.lock()[&key].state.clone();
        assert_eq!(state.value, ALARM);
        assert!(state.reason.starts_with("Threshold Crossed: 1 datapoint [1.0 ("), "{}", state.reason);
    }

    #[test]
    fn long_dates() {
        // 2026-12-04 was a Friday.
        assert_eq!(long_date(1_796_403_300_000), "Friday 04 December, 2026 16:55:00 UTC");
    }
}
