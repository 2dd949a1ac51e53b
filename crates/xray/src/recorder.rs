//! The way into the trace store: nimbus's hops (core's `TraceSink`), PutTraceSegments and
//! the daemon's UDP datagrams all hand documents to one bounded channel, which one writer
//! thread drains in batches into `xray.db` (and on to the OTLP exporter). A hop never
//! waits: when the channel is full its segment is dropped and counted. Reads first
//! `flush`, so they see every document handed over before them.

use crate::segments::{self, Doc};
use crate::store::Store;
use nimbus_core::internal::TraceSink;
use nimbus_core::Clock;
use serde_json::Value;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use tokio::sync::{mpsc, oneshot};

/// Documents waiting for the writer at most (each message is one hop's segment or one
/// PutTraceSegments call's documents).
pub const CHANNEL_CAPACITY: usize = 65_536;
/// Documents written per group commit at most.
const BATCH: usize = 2_000;
/// How long a batch waits for more documents before it is written.
const LINGER: std::time::Duration = std::time::Duration::from_millis(20);

enum Msg {
    Docs(Vec<Doc>),
    Flush(oneshot::Sender<()>),
    Sweep(f64),
}

/// Where accepted documents go after their commit (the OTLP exporter).
pub type Forward = mpsc::Sender<Vec<Doc>>;

pub struct Recorder {
    tx: mpsc::Sender<Msg>,
    /// Rung by a flush, to end the writer's linger at once. Documents ring nothing: while
    /// the writer lingers it does not wait on the channel, so a hop's send wakes no thread
    /// (a wake-up per traced request was most of tracing's cost on the request path).
    bell: Arc<tokio::sync::Notify>,
    /// Hop segments dropped because the channel was full.
    pub dropped: AtomicU64,
    /// Hop or daemon documents refused by the checks (X-Ray would refuse them too).
    pub invalid: AtomicU64,
}

impl Recorder {
    /// Starts the writer thread over `store`; committed documents go on to `forward`.
    pub fn start(store: Arc<Store>, clock: Clock, forward: Option<Forward>) -> Arc<Recorder> {
        let (tx, rx) = mpsc::channel(CHANNEL_CAPACITY);
        let bell = Arc::new(tokio::sync::Notify::new());
        let writer_bell = bell.clone();
        std::thread::Builder::new().name("xray-writer".into()).spawn(move || writer(rx, writer_bell, store, clock, forward)).expect("spawn the X-Ray writer thread");
        Arc::new(Recorder { tx, bell, dropped: AtomicU64::new(0), invalid: AtomicU64::new(0) })
    }

    /// Hands over checked documents without waiting (dropped and counted when full).
    pub fn offer(&self, docs: Vec<Doc>) {
        if docs.is_empty() {
            return;
        }
        let n = docs.len() as u64;
        if self.tx.try_send(Msg::Docs(docs)).is_err() {
            self.dropped.fetch_add(n, Ordering::Relaxed);
        }
    }

    /// Hands over documents and waits until they are committed (PutTraceSegments).
    pub async fn write(&self, docs: Vec<Doc>) {
        if !docs.is_empty() {
            let _ = self.tx.send(Msg::Docs(docs)).await;
        }
        self.flush().await;
    }

    /// Waits until every document handed over before is committed.
    pub async fn flush(&self) {
        let (tx, rx) = oneshot::channel();
        if self.tx.send(Msg::Flush(tx)).await.is_ok() {
            self.bell.notify_one();
            let _ = rx.await;
        }
    }

    /// Deletes traces last updated before `before` (epoch seconds), in order with writes.
    pub async fn sweep(&self, before: f64) {
        let _ = self.tx.send(Msg::Sweep(before)).await;
    }

    /// Checks and offers one document (the daemon's datagrams, hops' segments).
    pub fn offer_value(&self, doc: Value) {
        match segments::check(doc) {
            Ok(d) => self.offer(vec![d]),
            Err(r) => {
                self.invalid.fetch_add(1, Ordering::Relaxed);
                tracing::debug!(code = r.code, message = %r.message, "X-Ray: segment refused");
            }
        }
    }
}

impl TraceSink for Recorder {
    fn record(&self, segment: Value) {
        self.offer_value(segment);
    }
}

/// The writer thread: batches of documents into the store, one group commit each.
fn writer(mut rx: mpsc::Receiver<Msg>, bell: Arc<tokio::sync::Notify>, store: Arc<Store>, clock: Clock, forward: Option<Forward>) {
    let Ok(rt) = tokio::runtime::Builder::new_current_thread().enable_time().build() else {
        tracing::error!("X-Ray: the writer thread could not start its runtime");
        return;
    };
    while let Some(first) = rx.blocking_recv() {
        let mut docs = Vec::new();
        let mut acks = Vec::new();
        let mut sweeps = Vec::new();
        let take = |m: Msg, docs: &mut Vec<Doc>, acks: &mut Vec<oneshot::Sender<()>>, sweeps: &mut Vec<f64>| match m {
            Msg::Docs(d) => docs.extend(d),
            Msg::Flush(a) => acks.push(a),
            Msg::Sweep(t) => sweeps.push(t),
        };
        take(first, &mut docs, &mut acks, &mut sweeps);
        // Hops' segments wait up to LINGER for company: one commit per batch, not per
        // request (a commit costs more than the rows in it). The writer sleeps through the
        // linger instead of waiting on the channel, so senders wake nobody; a read's flush
        // rings the bell and ends the wait.
        let until = std::time::Instant::now() + LINGER;
        'linger: while docs.len() < BATCH && acks.is_empty() {
            loop {
                match rx.try_recv() {
                    Ok(m) => take(m, &mut docs, &mut acks, &mut sweeps),
                    Err(mpsc::error::TryRecvError::Empty) => break,
                    Err(mpsc::error::TryRecvError::Disconnected) => break 'linger,
                }
                if docs.len() >= BATCH || !acks.is_empty() {
                    break 'linger;
                }
            }
            let left = until.saturating_duration_since(std::time::Instant::now());
            if left.is_zero() {
                break;
            }
            rt.block_on(async { tokio::time::timeout(left, bell.notified()).await.ok() });
        }
        if !docs.is_empty() {
            let out = forward.as_ref().map(|_| docs.clone());
            let pending = store.write(docs, clock.now_ms() as f64 / 1000.0);
            if let Err(e) = rt.block_on(pending.wait()) {
                tracing::warn!(error = %e, "X-Ray: writing segments failed");
            }
            if let (Some(f), Some(out)) = (&forward, out) {
                let _ = f.try_send(out);
            }
        }
        for before in sweeps {
            if let Err(e) = rt.block_on(store.sweep(before).wait()) {
                tracing::warn!(error = %e, "X-Ray: retention sweep failed");
            }
        }
        for a in acks {
            let _ = a.send(());
        }
    }
}
