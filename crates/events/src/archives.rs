//! Archives and the events they keep: each archive (on one bus, with an optional event
//! pattern and a retention) and its archived events, in memory and in core's document
//! table (`archive/<name>` and `archived/<name>/<event id>` documents), and the map of
//! replays (`replays.rs` owns their records and the task that runs them).
//! <https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-archive.html>

use nimbus_core::doc_store::{Doc, DocStore};
use nimbus_event_pattern::{Dialect, Pattern};
use parking_lot::RwLock;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::BTreeMap;
use std::sync::Arc;

/// (account, region, archive name).
pub type ArchiveKey = (String, String, String);

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Archive {
    pub bus: String,
    pub description: Option<String>,
    pub event_pattern: Option<String>,
    /// 0: kept forever.
    pub retention_days: u64,
    pub created_ms: u64,
    #[serde(skip)]
    pub compiled: Option<Arc<Pattern>>,
}

impl Archive {
    pub fn compile(&mut self) {
        self.compiled = self.event_pattern.as_deref().and_then(|p| Pattern::parse(p, Dialect::EventBridge).ok()).map(Arc::new);
    }

    fn keeps(&self, event: &Value) -> bool {
        self.event_pattern.is_none() || self.compiled.as_ref().is_some_and(|p| p.matches(event))
    }
}

/// An archived event: when it occurred (its `time`), and the event.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Archived {
    pub time_ms: u64,
    pub event: Value,
}

pub struct Archives {
    pub archives: RwLock<BTreeMap<ArchiveKey, Archive>>,
    pub events: RwLock<BTreeMap<ArchiveKey, Vec<Archived>>>,
    /// (account, region, replay name).
    pub replays: RwLock<BTreeMap<ArchiveKey, crate::replays::Replay>>,
    pub(crate) docs: Arc<dyn DocStore>,
}

impl Archives {
    pub fn new(docs: Arc<dyn DocStore>) -> Archives {
        Archives { archives: RwLock::new(BTreeMap::new()), events: RwLock::new(BTreeMap::new()), replays: RwLock::new(BTreeMap::new()), docs }
    }

    /// Takes one stored document if it is an archive's; false otherwise.
    pub fn load(&self, account: &str, region: &str, item: &str, doc: &str) -> Result<bool, String> {
        if let Some(name) = item.strip_prefix("archive/") {
            let mut a: Archive = serde_json::from_str(doc).map_err(|e| e.to_string())?;
            a.compile();
            self.archives.write().insert((account.into(), region.into(), name.into()), a);
            return Ok(true);
        }
        if let Some(rest) = item.strip_prefix("archived/") {
            let Some((name, _)) = rest.split_once('/') else { return Ok(true) };
            let e: Archived = serde_json::from_str(doc).map_err(|e| e.to_string())?;
            let mut events = self.events.write();
            let list = events.entry((account.into(), region.into(), name.into())).or_default();
            list.push(e);
            list.sort_by_key(|e| e.time_ms);
            return Ok(true);
        }
        if let Some(name) = item.strip_prefix("replay/") {
            let r: crate::replays::Replay = serde_json::from_str(doc).map_err(|e| e.to_string())?;
            self.replays.write().insert((account.into(), region.into(), name.into()), r);
            return Ok(true);
        }
        Ok(false)
    }

    pub async fn save(&self, key: &ArchiveKey, archive: Option<&Archive>) -> Result<(), String> {
        let keys = [key.0.clone(), key.1.clone(), format!("archive/{}", key.2)];
        match archive {
            Some(a) => self.docs.put(Doc { keys, doc: serde_json::to_string(a).unwrap_or_default() }).wait().await,
            None => {
                let gone = self.events.write().remove(key).unwrap_or_default();
                for e in gone {
                    let id = e.event.get("id").and_then(Value::as_str).unwrap_or_default().to_string();
                    let _ = self.docs.delete([key.0.clone(), key.1.clone(), format!("archived/{}/{id}", key.2)]);
                }
                self.docs.delete(keys).wait().await
            }
        }
    }

    /// Archives `events` (accepted at `now` on `bus`) in every archive of the bus that
    /// keeps it; replayed events are not archived again. Durable when this resolves.
    pub async fn archive(&self, account: &str, region: &str, bus: &str, events: &[Value], now: u64) -> Result<(), String> {
        let mut pending = Vec::new();
        {
            let archives = self.archives.read();
            let mut stored = self.events.write();
            for (key, a) in archives.iter().filter(|(k, a)| k.0 == account && k.1 == region && a.bus == bus) {
                for event in events.iter().filter(|e| e.get("replay-name").is_none() && a.keeps(e)) {
                    let id = event.get("id").and_then(Value::as_str).unwrap_or_default();
                    // The replay window is about when events occurred: their `time`.
                    let time_ms = event.get("time").and_then(Value::as_str).and_then(nimbus_core::time::parse_iso8601).unwrap_or(now);
                    let rec = Archived { time_ms, event: event.clone() };
                    pending.push(self.docs.put(Doc { keys: [key.0.clone(), key.1.clone(), format!("archived/{}/{id}", key.2)], doc: serde_json::to_string(&rec).unwrap_or_default() }));
                    stored.entry(key.clone()).or_default().push(rec);
                }
            }
        }
        for p in pending {
            p.wait().await?;
        }
        Ok(())
    }

    /// The archive's events that occurred (`time`) in `[start, end)` and are still within
    /// its retention, with their time, oldest first.
    pub fn events_between(&self, key: &ArchiveKey, start_ms: u64, end_ms: u64, now: u64) -> Vec<(u64, Value)> {
        let retention_ms = self.archives.read().get(key).map(|a| a.retention_days * 86_400_000).unwrap_or(0);
        let oldest = if retention_ms == 0 { 0 } else { now.saturating_sub(retention_ms) };
        let events = self.events.read();
        let mut out: Vec<(u64, Value)> =
            events.get(key).map(|l| l.iter().filter(|e| e.time_ms >= start_ms.max(oldest) && e.time_ms < end_ms).map(|e| (e.time_ms, e.event.clone())).collect()).unwrap_or_default();
        // Events archived at run time come in arrival order, not by `time`.
        out.sort_by_key(|(t, _)| *t);
        out
    }

    /// (count, bytes) of an archive's events.
    pub fn figures(&self, key: &ArchiveKey) -> (usize, usize) {
        let events = self.events.read();
        events.get(key).map(|l| (l.len(), l.iter().map(|e| e.event.to_string().len()).sum())).unwrap_or((0, 0))
    }
}
