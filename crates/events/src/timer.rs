//! The scheduler: fires scheduled rules on nimbus's clock. It keeps each enabled
//! scheduled rule's next due time, sleeps until the earliest (waking early when rules
//! change or the clock is moved), and sends AWS's "Scheduled Event" to the rule's
//! targets. A rule that missed several periods (the clock jumped) fires once.
//! <https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-run-lambda-schedule.html>

use crate::deliver::{self, Targets};
use crate::names::rule_arn;
use crate::registry::{Registry, RuleKey};
use nimbus_core::schedule::{self, Schedule};
use nimbus_core::Clock;
use parking_lot::Mutex;
use serde_json::json;
use std::collections::BTreeMap;
use std::sync::Arc;
use tokio::sync::Notify;

struct Entry {
    schedule: Schedule,
    base_ms: u64,
    next_ms: u64,
}

pub struct Scheduler {
    due: Mutex<BTreeMap<RuleKey, Entry>>,
    changed: Notify,
    clock: Clock,
}

impl Scheduler {
    pub fn start(reg: Arc<Registry>, targets: Targets, clock: Clock) -> Arc<Scheduler> {
        let s = Arc::new(Scheduler { due: Mutex::new(BTreeMap::new()), changed: Notify::new(), clock: clock.clone() });
        let loaded: Vec<(RuleKey, String)> = reg.rules.read().iter().filter(|(_, r)| r.enabled()).filter_map(|(k, r)| r.schedule.clone().map(|e| (k.clone(), e))).collect();
        for (k, expr) in loaded {
            s.set(&k, Some(&expr));
        }
        if tokio::runtime::Handle::try_current().is_ok() {
            let me = s.clone();
            tokio::spawn(async move { me.run(reg, targets).await });
        }
        s
    }

    /// Starts (from now), or stops with `None`, a rule's schedule.
    pub fn set(&self, key: &RuleKey, expr: Option<&str>) {
        let mut due = self.due.lock();
        match expr.and_then(|e| schedule::parse(e).ok()) {
            Some(schedule) => {
                let now = self.clock.now_ms();
                if let Some(next_ms) = schedule.next_after(now, now) {
                    due.insert(key.clone(), Entry { schedule, base_ms: now, next_ms });
                }
            }
            None => {
                due.remove(key);
            }
        }
        drop(due);
        self.changed.notify_one();
    }

    async fn run(self: Arc<Self>, reg: Arc<Registry>, targets: Targets) {
        loop {
            let changed = self.changed.notified();
            let now = self.clock.now_ms();
            let mut fire = Vec::new();
            let earliest = {
                let mut due = self.due.lock();
                for (k, e) in due.iter_mut() {
                    if e.next_ms <= now {
                        fire.push((k.clone(), e.next_ms));
                        match e.schedule.next_after(e.base_ms, now) {
                            Some(n) => e.next_ms = n,
                            None => e.next_ms = u64::MAX,
                        }
                    }
                }
                due.values().map(|e| e.next_ms).min()
            };
            for (key, at_ms) in fire {
                let rule = reg.rules.read().get(&key).cloned();
                let Some(rule) = rule.filter(|r| r.enabled()) else { continue };
                let arn = rule_arn(&key.1, &key.0, &key.2, &key.3);
                let event = json!({
                    "version": "0",
                    "id": nimbus_core::ids::uuid(),
                    "detail-type": "Scheduled Event",
                    "source": "aws.events",
                    "account": key.0,
                    "time": nimbus_core::time::iso8601(at_ms),
                    "region": key.1,
                    "resources": [arn],
                    "detail": {}
                });
                crate::metrics::rule_event(&reg.metrics, &key.0, &key.1, &key.2, &key.3, "TriggeredRules");
                let ds = deliver::for_targets(&key.0, &key.1, &arn, &key.3, &rule.targets, &event, at_ms);
                if let Err(e) = deliver::start(&reg, &targets, &self.clock, ds).await {
                    tracing::warn!(rule = %arn, error = %e, "scheduled event not stored");
                }
            }
            match earliest {
                Some(t) if t != u64::MAX => {
                    tokio::select! {
                        _ = self.clock.sleep_until(t) => {}
                        _ = changed => {}
                    }
                }
                _ => changed.await,
            }
        }
    }
}
