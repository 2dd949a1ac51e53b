//! The FIFO topics' deduplication window, durable: a publish's deduplication id is claimed
//! in memory (checked and claimed under one lock, so two concurrent duplicates deliver
//! once), and once the publish is accepted it is written to the SNS document table
//! (kind `dedup`) with its expiry, MessageId and SequenceNumber before Publish answers.
//! At start the unexpired ones are read back (expired ones deleted), so a repeated id
//! within 5 minutes is not delivered again after a restart. Memory is bounded by the
//! window: entries leave (memory and store) when nimbus's clock passes their expiry.
//! https://docs.aws.amazon.com/sns/latest/dg/fifo-message-dedup.html

use crate::ops_publish::Published;
use crate::store;
use nimbus_core::doc_store::{Doc, DocStore};
use parking_lot::Mutex;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;

/// One remembered publish.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
struct Entry {
    topic: String,
    id: String,
    until: u64,
    message_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    sequence_number: Option<String>,
}

type Key = (String, String);

#[derive(Default)]
struct Window {
    entries: HashMap<Key, Entry>,
    /// (until, topic, id): the order entries expire in.
    expiry: BTreeSet<(u64, String, String)>,
}

impl Window {
    fn insert(&mut self, e: Entry) {
        self.expiry.insert((e.until, e.topic.clone(), e.id.clone()));
        self.entries.insert((e.topic.clone(), e.id.clone()), e);
    }

    fn remove(&mut self, key: &Key) -> Option<Entry> {
        let e = self.entries.remove(key)?;
        self.expiry.remove(&(e.until, e.topic.clone(), e.id.clone()));
        Some(e)
    }

    /// Drops the entries expired at `now`; returns them.
    fn expire(&mut self, now: u64) -> Vec<Entry> {
        let mut gone = Vec::new();
        while let Some(first) = self.expiry.first().cloned() {
            if first.0 > now {
                break;
            }
            self.expiry.pop_first();
            if let Some(e) = self.entries.remove(&(first.1, first.2)) {
                gone.push(e);
            }
        }
        gone
    }
}

pub struct Dedup {
    window: Mutex<Window>,
    store: Arc<dyn DocStore>,
}

fn keys(topic: &str, id: &str) -> [String; 3] {
    let account = topic.split(':').nth(4).unwrap_or("").to_string();
    [store::DEDUP.to_string(), account, format!("{topic}\n{id}")]
}

impl Dedup {
    /// The window over `store`, with the stored entries still unexpired at `now`
    /// (expired ones are deleted from the store).
    pub fn open(store: Arc<dyn DocStore>, stored: Vec<Doc>, now: u64) -> Dedup {
        let mut window = Window::default();
        for d in stored {
            match serde_json::from_str::<Entry>(&d.doc) {
                Ok(e) if e.until > now => window.insert(e),
                Ok(_) => drop(store.delete(d.keys)),
                Err(e) => tracing::error!(id = %d.keys[2], error = %e, "unreadable stored SNS deduplication id"),
            }
        }
        Dedup { window: Mutex::new(window), store }
    }

    /// Claims `id` on `topic` for a publish (`message_id`) until `until`; a publish with
    /// the same id within the window gets what the first answered instead.
    pub fn claim(&self, topic: &str, id: &str, now: u64, until: u64, message_id: &str) -> Option<Published> {
        let mut w = self.window.lock();
        // Only settled (stored) entries have rows; deleting others is a no-op. Submitted
        // under the lock, so a later claim's row of the same id is written after this.
        for e in w.expire(now) {
            drop(self.store.delete(keys(&e.topic, &e.id)));
        }
        if let Some(e) = w.entries.get(&(topic.to_string(), id.to_string())) {
            return Some(Published { message_id: e.message_id.clone(), sequence_number: e.sequence_number.clone() });
        }
        w.insert(Entry { topic: topic.to_string(), id: id.to_string(), until, message_id: message_id.to_string(), sequence_number: None });
        None
    }

    /// The claimed publish went through: later duplicates also get its SequenceNumber,
    /// after a restart too (stored before this returns).
    pub async fn settle(&self, topic: &str, id: &str, p: &Published) {
        let pending = {
            let mut w = self.window.lock();
            let Some(e) = w.entries.get_mut(&(topic.to_string(), id.to_string())) else { return };
            e.sequence_number = p.sequence_number.clone();
            self.store.put(Doc { keys: keys(topic, id), doc: serde_json::to_string(&*e).unwrap_or_default() })
        };
        if let Err(e) = pending.wait().await {
            tracing::error!(error = %e, "could not store an SNS deduplication id");
        }
    }

    /// The claimed publish failed: the id is free again.
    pub fn release(&self, topic: &str, id: &str) {
        self.window.lock().remove(&(topic.to_string(), id.to_string()));
    }

    /// How many ids the window holds.
    pub fn len(&self) -> usize {
        self.window.lock().entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use nimbus_core::doc_store::MemoryDocs;

    fn published(m: &str) -> Published {
        Published { message_id: m.into(), sequence_number: Some("1".into()) }
    }

    #[tokio::test]
    async fn claims_expire_on_the_clock_and_release_frees() {
        let d = Dedup::open(Arc::new(MemoryDocs), Vec::new(), 0);
        assert!(d.claim("t", "a", 0, 300, "m1").is_none());
        d.settle("t", "a", &published("m1")).await;
        let again = d.claim("t", "a", 299, 599, "m2").expect("within the window");
        assert_eq!((again.message_id.as_str(), again.sequence_number.as_deref()), ("m1", Some("1")));
        assert!(d.claim("t", "b", 300, 600, "m3").is_none(), "a has expired at 300");
        assert_eq!(d.len(), 1);
        d.release("t", "b");
        assert!(d.is_empty());
        assert!(d.claim("t", "b", 301, 601, "m4").is_none());
    }

    #[test]
    fn stored_entries_come_back_unless_expired() {
        let doc = |id: &str, until: u64| Doc {
            keys: keys("arn:aws:sns:us-east-1:000000000000:t.fifo", id),
            doc: serde_json::to_string(&Entry { topic: "arn:aws:sns:us-east-1:000000000000:t.fifo".into(), id: id.into(), until, message_id: format!("m-{id}"), sequence_number: None })
                .unwrap_or_default(),
        };
        let d = Dedup::open(Arc::new(MemoryDocs), vec![doc("old", 100), doc("new", 500)], 200);
        assert_eq!(d.len(), 1);
        let p = d.claim("arn:aws:sns:us-east-1:000000000000:t.fifo", "new", 200, 500, "x").expect("remembered");
        assert_eq!(p.message_id, "m-new");
    }
}
