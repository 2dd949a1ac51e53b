//! The queue registry and the glue between in-memory queue state, durable storage and
//! waiting consumers.
//!
//! Locking rules: the registry lock is never held while a queue lock is taken; a queue's
//! lock is held while its mutations are submitted to the store (so the store sees them in
//! the order memory did) but never across an await; and no code holds two queue locks at
//! once (dead-lettering releases the source before it locks the dead-letter queue).

use crate::arn::{QueueArn, QueueKey};
use crate::errors::{SqsError, SqsResult};
use crate::queue::{Carried, Message, NewMessage, QueueState, Received};
use crate::store::{Mutation, QueueRecord, SqsStore};
use nimbus_core::storage::Pending;
use nimbus_core::Clock;
use parking_lot::{Mutex, RwLock};
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use tokio::sync::Notify;

pub struct Queue {
    pub id: u64,
    pub key: QueueKey,
    pub state: Mutex<QueueState>,
    /// Wakes long polls: a message became visible, or the queue went away.
    pub notify: Notify,
    pub deleted: AtomicBool,
    /// Last send, receive or delete on nimbus's clock: a queue is "active" (its gauges are
    /// sampled each minute) for six hours after, as AWS defines it (`metrics.rs`).
    pub last_active_ms: AtomicU64,
}

impl Queue {
    pub fn arn(&self) -> String {
        self.key.arn()
    }
}

pub struct Engine {
    pub clock: Clock,
    store: Arc<dyn SqsStore>,
    queues: RwLock<HashMap<QueueKey, Arc<Queue>>>,
    /// Names deleted in the last 60 s (QueueDeletedRecently).
    recently_deleted: Mutex<HashMap<QueueKey, u64>>,
    next_id: AtomicU64,
    /// The standard `AWS/SQS` metrics (`metrics.rs`); a no-op until attached.
    pub metrics: nimbus_core::metrics::Metrics,
}

pub struct ReceiveRequest {
    pub max: usize,
    pub visibility_ms: u64,
    pub wait_ms: u64,
    pub attempt_id: Option<String>,
}

impl Engine {
    pub fn new(clock: Clock, store: Arc<dyn SqsStore>) -> Result<Engine, nimbus_core::storage::StorageError> {
        let loaded = store.load()?;
        let mut queues = HashMap::new();
        let mut by_id = HashMap::new();
        let mut max_id = 0;
        for record in loaded.queues {
            max_id = max_id.max(record.id);
            let q = Arc::new(Queue {
                id: record.id,
                key: record.key.clone(),
                state: Mutex::new(QueueState::new(Arc::new(record))),
                notify: Notify::new(),
                deleted: AtomicBool::new(false),
                last_active_ms: AtomicU64::new(0),
            });
            by_id.insert(q.id, q.clone());
            queues.insert(q.key.clone(), q);
        }
        for (queue_id, m) in loaded.messages {
            if let Some(q) = by_id.get(&queue_id) {
                q.state.lock().restore(m);
            }
        }
        let now = clock.now_ms();
        for d in loaded.dedup {
            if d.expires_ms > now {
                if let Some(q) = by_id.get(&d.queue) {
                    q.state.lock().restore_dedup(d);
                }
            }
        }
        Ok(Engine { clock, store, queues: RwLock::new(queues), recently_deleted: Mutex::new(HashMap::new()), next_id: AtomicU64::new(max_id + 1), metrics: nimbus_core::metrics::Metrics::new() })
    }

    pub fn now(&self) -> u64 {
        self.clock.now_ms()
    }

    pub async fn commit(pending: Pending) -> SqsResult<()> {
        pending.wait().await.map_err(|e| SqsError::Internal(format!("storage failure: {e}")))
    }

    pub fn apply(&self, muts: Vec<Mutation>) -> Pending {
        self.store.apply(muts)
    }

    pub fn get(&self, key: &QueueKey) -> Option<Arc<Queue>> {
        self.queues.read().get(key).cloned()
    }

    pub fn get_by_arn(&self, arn: &str) -> Option<Arc<Queue>> {
        QueueArn::parse(arn).and_then(|k| self.get(&k))
    }

    /// Every queue of every account and region (the metrics sampler).
    pub fn all(&self) -> Vec<Arc<Queue>> {
        self.queues.read().values().cloned().collect()
    }

    /// Queues of one account and region, sorted by name.
    pub fn list(&self, account: &str, region: &str) -> Vec<Arc<Queue>> {
        let mut v: Vec<Arc<Queue>> =
            self.queues.read().values().filter(|q| q.key.account == account && q.key.region == region).cloned().collect();
        v.sort_by(|a, b| a.key.name.cmp(&b.key.name));
        v
    }

    /// Creates a queue, or returns the existing one (the caller compares attributes).
    pub async fn create(&self, key: QueueKey, fifo: bool, attributes: std::collections::BTreeMap<String, String>, tags: std::collections::BTreeMap<String, String>) -> SqsResult<(Arc<Queue>, bool)> {
        let now = self.now();
        let pending = {
            let mut queues = self.queues.write();
            if let Some(q) = queues.get(&key) {
                return Ok((q.clone(), false));
            }
            {
                let mut recent = self.recently_deleted.lock();
                recent.retain(|_, at| now < *at + 60_000);
                if recent.contains_key(&key) {
                    return Err(SqsError::QueueDeletedRecently);
                }
            }
            let id = self.next_id.fetch_add(1, Ordering::Relaxed);
            let record = Arc::new(QueueRecord { id, key: key.clone(), fifo, attributes, tags, created_s: now / 1000, modified_s: now / 1000 });
            let q = Arc::new(Queue {
                id,
                key: key.clone(),
                state: Mutex::new(QueueState::new(record.clone())),
                notify: Notify::new(),
                deleted: AtomicBool::new(false),
                last_active_ms: AtomicU64::new(0),
            });
            queues.insert(key, q.clone());
            (q, self.store.apply(vec![Mutation::PutQueue(record)]))
        };
        let (q, pending) = pending;
        Self::commit(pending).await?;
        Ok((q, true))
    }

    pub async fn delete(&self, queue: &Arc<Queue>) -> SqsResult<()> {
        let pending = {
            let mut queues = self.queues.write();
            if queues.get(&queue.key).map(|q| q.id) != Some(queue.id) {
                return Ok(());
            }
            queues.remove(&queue.key);
            self.recently_deleted.lock().insert(queue.key.clone(), self.now());
            self.store.apply(vec![Mutation::DeleteQueue(queue.id)])
        };
        queue.deleted.store(true, Ordering::Release);
        queue.notify.notify_waiters();
        Self::commit(pending).await
    }

    /// Replaces a queue's record (attributes, tags) durably.
    pub async fn update_record(&self, queue: &Queue, edit: impl FnOnce(&mut QueueRecord) -> SqsResult<()>) -> SqsResult<()> {
        let pending = {
            let mut st = queue.state.lock();
            let mut record = (*st.record).clone();
            edit(&mut record)?;
            record.modified_s = self.now() / 1000;
            let record = Arc::new(record);
            st.record = record.clone();
            self.store.apply(vec![Mutation::PutQueue(record)])
        };
        queue.notify.notify_waiters();
        Self::commit(pending).await
    }

    /// Enqueues messages under one lock and one commit (SendMessage and its batch form).
    pub async fn send(&self, queue: &Queue, messages: Vec<NewMessage>) -> SqsResult<Vec<crate::queue::Sent>> {
        let now = self.now();
        let (sent, pending) = {
            let mut st = queue.state.lock();
            let mut muts = Vec::with_capacity(messages.len());
            let sizes: crate::metrics::Sizes = messages.iter().map(|m| m.size).collect();
            let sent: Vec<_> = messages.into_iter().map(|m| st.send(now, m, &mut muts)).collect();
            (sent, (self.store.apply(muts), sizes))
        };
        let (pending, sizes) = pending;
        Self::commit(pending).await?;
        crate::metrics::sent(self, queue, &sizes);
        queue.notify.notify_waiters();
        Ok(sent)
    }

    /// The dead-letter queue a queue's redrive policy names, if it exists.
    fn dead_letter_queue(&self, queue: &Queue) -> Option<Arc<Queue>> {
        let policy = queue.state.lock().redrive_policy()?;
        self.get_by_arn(&policy.dead_letter_target_arn).filter(|d| d.id != queue.id)
    }

    /// Moves messages taken out of `from` into `to`, durably in one batch together with
    /// `from_muts` (the removals). Lock of `to` only.
    async fn move_messages(&self, to: &Queue, messages: Vec<Message>, from_muts: Vec<Mutation>, source_arn: Option<String>) -> SqsResult<()> {
        let now = self.now();
        let pending = {
            let mut st = to.state.lock();
            let mut muts = from_muts;
            for m in messages {
                let dead_letter_source = source_arn.clone().or(m.dead_letter_source.clone());
                let new = NewMessage {
                    body: m.body,
                    attributes: m.attributes,
                    md5_body: m.md5_body,
                    md5_attributes: m.md5_attributes,
                    trace_header: m.trace_header,
                    md5_system: m.md5_system,
                    sender_id: m.sender_id,
                    delay_ms: 0,
                    group_id: m.group_id,
                    dedup_id: m.dedup_id,
                    carried: Some(Carried {
                        message_id: m.message_id,
                        sent_ms: if st.fifo() { now } else { m.sent_ms },
                        dead_letter_source,
                        receive_count: m.receive_count,
                        first_receive_ms: m.first_receive_ms,
                    }),
                    size: 0,
                };
                st.send(now, new, &mut muts);
            }
            self.store.apply(muts)
        };
        Self::commit(pending).await?;
        to.notify.notify_waiters();
        Ok(())
    }

    /// ReceiveMessage, including the long poll: waits (without polling) until a message is
    /// visible, the wait time ends, or the queue is deleted.
    pub async fn receive(&self, queue: &Arc<Queue>, req: ReceiveRequest) -> SqsResult<Vec<Received>> {
        let deadline = self.now() + req.wait_ms;
        loop {
            let notified = queue.notify.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            let dlq = self.dead_letter_queue(queue);
            let now = self.now();
            let (got, dead, next, pending, dead_muts) = {
                let mut st = queue.state.lock();
                let mut muts = Vec::new();
                let (got, dead) = st.receive(now, req.max, req.visibility_ms, req.attempt_id.as_deref(), dlq.is_some(), &mut muts);
                // Removals of dead-lettered messages travel with their insertion into the DLQ.
                let (dead_muts, muts): (Vec<_>, Vec<_>) = muts.into_iter().partition(|m| match m {
                    Mutation::DeleteMessage { seq, .. } => dead.iter().any(|d| d.seq == *seq),
                    _ => false,
                });
                (got, dead, st.next_visible_at(now), self.store.apply(muts), dead_muts)
            };
            Self::commit(pending).await?;
            if let (Some(dlq), false) = (&dlq, dead.is_empty()) {
                // The receive that moves a message counts as one of its receives (AWS
                // reports it in the dead-letter queue's ApproximateReceiveCount).
                let dead = dead
                    .into_iter()
                    .map(|mut m| {
                        m.receive_count += 1;
                        m.first_receive_ms.get_or_insert(now);
                        m
                    })
                    .collect();
                self.move_messages(dlq, dead, dead_muts, Some(queue.arn())).await?;
            }
            if !got.is_empty() || now >= deadline || queue.deleted.load(Ordering::Acquire) {
                crate::metrics::received(self, queue, got.len());
                return Ok(got);
            }
            let wake_at = next.map(|n| n.min(deadline)).unwrap_or(deadline);
            tokio::select! {
                _ = &mut notified => {}
                _ = self.clock.sleep_until(wake_at) => {}
            }
        }
    }

    /// Takes visible messages out of `from` and sends them to where `route` says (message
    /// move tasks). Returns how many moved, or the ARN whose queue is missing.
    pub async fn move_batch(&self, from: &Arc<Queue>, max: usize, destination: Option<&str>) -> Result<usize, String> {
        let now = self.now();
        let (taken, muts) = {
            let mut st = from.state.lock();
            let mut muts = Vec::new();
            let taken = st.take_visible(now, max, &mut muts);
            (taken, muts)
        };
        if taken.is_empty() {
            return Ok(0);
        }
        let n = taken.len();
        // Group by destination queue; one durable batch per destination.
        let mut by_dest: HashMap<String, Vec<Message>> = HashMap::new();
        for m in taken {
            let dest = destination.map(str::to_string).or_else(|| m.dead_letter_source.clone()).unwrap_or_else(|| from.arn());
            by_dest.entry(dest).or_default().push(m);
        }
        let mut removals = Some(muts);
        for (dest, messages) in by_dest {
            let Some(q) = self.get_by_arn(&dest) else {
                // Put them back where they were.
                let back = removals.take().unwrap_or_default();
                let _ = self.move_messages(from, messages, back, None).await;
                return Err(dest);
            };
            let muts = removals.take().unwrap_or_default();
            let clear_source: Vec<Message> = messages
                .into_iter()
                .map(|mut m| {
                    // A moved message starts afresh in its destination.
                    m.dead_letter_source = None;
                    m.receive_count = 0;
                    m.first_receive_ms = None;
                    m
                })
                .collect();
            self.move_messages(&q, clear_source, muts, None).await.map_err(|_| dest.clone())?;
        }
        Ok(n)
    }
}
