//! The live WebSocket connections: id → what the connection is (API, stage, when it
//! connected, who) and the sender its session task reads frames to send from. The
//! `@connections` API (`management.rs`) and two-way routes write through it. In memory
//! only: a restart drops every connection (clients reconnect, as after a redeploy).

use parking_lot::Mutex;
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use tokio::sync::mpsc::UnboundedSender;

/// What a session task is asked to do on its socket.
#[derive(Debug)]
pub enum Outbound {
    Text(String),
    Binary(Vec<u8>),
    /// Send a close frame and end the connection.
    Close { code: u16, reason: String },
}

/// A live connection: who connected and where (its [`Facts`], read through `Deref`), when
/// the client last sent something, and the way to its session.
pub struct Connection {
    facts: Facts,
    last_active_ms: AtomicU64,
    tx: UnboundedSender<Outbound>,
}

/// Who connected and where: the facts a [`Connection`] is made of.
pub struct Facts {
    pub id: String,
    pub api_id: String,
    pub stage: String,
    /// The `Host` the client connected with (the events' `domainName`).
    pub domain_name: String,
    pub source_ip: String,
    pub user_agent: Option<String>,
    pub connected_at_ms: u64,
}

impl std::ops::Deref for Connection {
    type Target = Facts;
    fn deref(&self) -> &Facts {
        &self.facts
    }
}

impl Connection {
    pub fn new(facts: Facts, tx: UnboundedSender<Outbound>) -> Connection {
        Connection { last_active_ms: AtomicU64::new(facts.connected_at_ms), facts, tx }
    }

    /// The client sent a message (the idle timeout restarts).
    pub fn touch(&self, now_ms: u64) {
        self.last_active_ms.fetch_max(now_ms, Ordering::Relaxed);
    }

    pub fn last_active_ms(&self) -> u64 {
        self.last_active_ms.load(Ordering::Relaxed)
    }

    /// Queues a frame for the client; false when the session has ended.
    pub fn send(&self, out: Outbound) -> bool {
        self.tx.send(out).is_ok()
    }
}

#[derive(Default)]
pub struct Connections {
    live: Mutex<HashMap<String, Arc<Connection>>>,
}

impl Connections {
    pub fn insert(&self, c: Arc<Connection>) {
        self.live.lock().insert(c.id.clone(), c);
    }

    pub fn get(&self, id: &str) -> Option<Arc<Connection>> {
        self.live.lock().get(id).cloned()
    }

    pub fn remove(&self, id: &str) {
        self.live.lock().remove(id);
    }
}
