//! EventBridge's configuration in memory — custom event buses and rules (each rule with
//! its targets and its compiled pattern) per account and region — written through to
//! the document store before a call answers, and read back at start.

use crate::errors::{EventsError, EventsResult};
use nimbus_core::doc_store::{Doc, DocStore};
use nimbus_event_pattern::{Dialect, Pattern};
use parking_lot::RwLock;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::BTreeMap;
use std::sync::Arc;

/// (account, region, bus).
pub type BusKey = (String, String, String);
/// (account, region, bus, rule).
pub type RuleKey = (String, String, String, String);

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Bus {
    pub description: Option<String>,
    pub created_ms: u64,
    pub modified_ms: u64,
    #[serde(default)]
    pub tags: Vec<(String, String)>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Rule {
    pub event_pattern: Option<String>,
    pub schedule: Option<String>,
    /// ENABLED / DISABLED / ENABLED_WITH_ALL_CLOUDTRAIL_MANAGEMENT_EVENTS.
    pub state: String,
    pub description: Option<String>,
    pub role_arn: Option<String>,
    pub created_ms: u64,
    /// Targets as PutTargets gave them (the `Target` shape), by id in insertion order.
    pub targets: Vec<Value>,
    #[serde(default)]
    pub tags: Vec<(String, String)>,
    #[serde(skip)]
    pub compiled: Option<Arc<Pattern>>,
}

impl Rule {
    pub fn enabled(&self) -> bool {
        self.state != "DISABLED"
    }

    /// Compiles the stored pattern (it was validated when stored).
    pub fn compile(&mut self) {
        self.compiled = self.event_pattern.as_deref().and_then(|p| Pattern::parse(p, Dialect::EventBridge).ok()).map(Arc::new);
    }
}

pub struct Registry {
    pub buses: RwLock<BTreeMap<BusKey, Bus>>,
    pub rules: RwLock<BTreeMap<RuleKey, Rule>>,
    /// Deliveries a previous process accepted and did not finish (taken at start).
    pub unfinished: parking_lot::Mutex<Vec<crate::deliver::Delivery>>,
    pub archives: crate::archives::Archives,
    docs: Arc<dyn DocStore>,
    /// The standard `AWS/Events` metrics (`metrics.rs`); a no-op until attached.
    pub metrics: nimbus_core::metrics::Metrics,
    /// Kinesis, for targets that are data streams (set by the binary once Kinesis exists).
    pub streams: std::sync::OnceLock<Arc<dyn nimbus_core::internal::RecordSink>>,
}

fn item_of_bus(bus: &str) -> String {
    format!("bus/{bus}")
}

fn item_of_rule(bus: &str, rule: &str) -> String {
    format!("rule/{bus}/{rule}")
}

impl Registry {
    pub fn open(docs: Arc<dyn DocStore>) -> Result<Registry, String> {
        let mut buses = BTreeMap::new();
        let mut rules = BTreeMap::new();
        let mut unfinished = Vec::new();
        let archives = crate::archives::Archives::new(docs.clone());
        for d in docs.load().map_err(|e| format!("{e:?}"))? {
            let [account, region, item] = d.keys;
            if let Some(bus) = item.strip_prefix("bus/") {
                let b: Bus = serde_json::from_str(&d.doc).map_err(|e| e.to_string())?;
                buses.insert((account, region, bus.to_string()), b);
            } else if let Some(rest) = item.strip_prefix("rule/") {
                let Some((bus, name)) = rest.split_once('/') else { continue };
                let mut r: Rule = serde_json::from_str(&d.doc).map_err(|e| e.to_string())?;
                r.compile();
                rules.insert((account, region, bus.to_string(), name.to_string()), r);
            } else if item.starts_with("delivery/") {
                unfinished.push(serde_json::from_str(&d.doc).map_err(|e| e.to_string())?);
            } else {
                archives.load(&account, &region, &item, &d.doc)?;
            }
        }
        Ok(Registry { buses: RwLock::new(buses), rules: RwLock::new(rules), unfinished: parking_lot::Mutex::new(unfinished), archives, docs, metrics: nimbus_core::metrics::Metrics::new(), streams: std::sync::OnceLock::new() })
    }

    async fn write(&self, keys: [String; 3], doc: Option<String>) -> EventsResult<()> {
        let pending = match doc {
            Some(doc) => self.docs.put(Doc { keys, doc }),
            None => self.docs.delete(keys),
        };
        pending.wait().await.map_err(EventsError::Internal)
    }

    pub async fn save_bus(&self, key: &BusKey, bus: Option<&Bus>) -> EventsResult<()> {
        let doc = bus.map(|b| serde_json::to_string(b).unwrap_or_default());
        self.write([key.0.clone(), key.1.clone(), item_of_bus(&key.2)], doc).await
    }

    pub async fn save_rule(&self, key: &RuleKey, rule: Option<&Rule>) -> EventsResult<()> {
        let doc = rule.map(|r| serde_json::to_string(r).unwrap_or_default());
        self.write([key.0.clone(), key.1.clone(), item_of_rule(&key.2, &key.3)], doc).await
    }

    /// Stores deliveries in flight (one document each), durable when this resolves.
    pub async fn save_deliveries(&self, ds: &[crate::deliver::Delivery]) -> Result<(), String> {
        let pending: Vec<_> = ds
            .iter()
            .map(|d| self.docs.put(Doc { keys: [d.account.clone(), d.region.clone(), format!("delivery/{}", d.id)], doc: serde_json::to_string(d).unwrap_or_default() }))
            .collect();
        for p in pending {
            p.wait().await?;
        }
        Ok(())
    }

    /// A delivery is done (delivered or dead-lettered).
    pub async fn forget_delivery(&self, d: &crate::deliver::Delivery) {
        let _ = self.docs.delete([d.account.clone(), d.region.clone(), format!("delivery/{}", d.id)]).wait().await;
    }

    /// Whether the bus exists (`default` always does).
    pub fn bus_exists(&self, account: &str, region: &str, bus: &str) -> bool {
        bus == crate::names::DEFAULT_BUS || self.buses.read().contains_key(&(account.to_string(), region.to_string(), bus.to_string()))
    }

    /// The deliveries of `event` on `bus`: one per target of every enabled rule whose
    /// pattern matches it.
    pub fn matching(&self, account: &str, region: &str, bus: &str, event: &Value, now: u64) -> Vec<crate::deliver::Delivery> {
        let mut out = Vec::new();
        for (key, rule) in self.rules_of(account, region, bus) {
            let Some(pattern) = &rule.compiled else { continue };
            if pattern.matches(event) {
                crate::metrics::rule_event(&self.metrics, &key.0, &key.1, &key.2, &key.3, "MatchedEvents");
                crate::metrics::rule_event(&self.metrics, &key.0, &key.1, &key.2, &key.3, "TriggeredRules");
                let arn = crate::names::rule_arn(&key.1, &key.0, &key.2, &key.3);
                out.extend(crate::deliver::for_targets(&key.0, &key.1, &arn, &key.3, &rule.targets, event, now));
            }
        }
        out
    }

    /// The enabled rules of a bus (cloned, so delivery runs without the lock).
    pub fn rules_of(&self, account: &str, region: &str, bus: &str) -> Vec<(RuleKey, Rule)> {
        let rules = self.rules.read();
        rules.iter().filter(|(k, r)| k.0 == account && k.1 == region && k.2 == bus && r.enabled()).map(|(k, r)| (k.clone(), r.clone())).collect()
    }
}
