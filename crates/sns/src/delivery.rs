//! Durable delivery of accepted publishes to SQS queues and Lambda functions. Publish
//! stores one `Delivery` document per matching subscription before it answers; this
//! worker then sends each one (SQS through `QueueSender`, Lambda through `EventInvoker`)
//! and removes the document. Documents left by a crash are read back at start and sent
//! again. Deliveries of one subscription go out one at a time in publish order (a lane per
//! subscription), so FIFO queues see a FIFO topic's order; a FIFO queue's lane waits for
//! its failed head instead of letting later deliveries overtake it.
//!
//! Failures are retried on nimbus's clock per `delivery_policy.rs`: SQS and Lambda with
//! AWS's policy for AWS-managed endpoints (100,015 retries over 23 days), HTTP/S endpoints
//! (`http_delivery.rs`) per their delivery policy. Each retry is due its delay after the
//! previous attempt was due plus the time that attempt took, so moving the clock past
//! several delays runs the skipped retries at once (a retry due at once is not stored
//! again). Then the message goes to the subscription's RedrivePolicy queue, if any.
//! https://docs.aws.amazon.com/sns/latest/dg/sns-message-delivery-retries.html

use crate::delivery_policy::RetryPolicy;
use crate::http_delivery::{self, Outcome};
use crate::registry::{commit, Registry};
use crate::store;
use nimbus_core::doc_store::Doc;
use nimbus_core::internal::{EventInvoker, QueueSender};
use nimbus_core::Clock;
use parking_lot::Mutex;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};
use tokio::sync::Notify;

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Delivery {
    pub id: String,
    /// Publish order across restarts.
    pub seq: u64,
    /// The topic owner's account (the document's key).
    pub account: String,
    pub subscription_arn: String,
    /// `sqs` or `lambda`.
    pub protocol: String,
    pub endpoint: String,
    /// SQS: SendMessage's input. Lambda: the event. HTTP: `{"headers": [[name, value]…],
    /// "payload": "…"}`.
    pub body: Value,
    /// HTTP: the subscription's retry policy when the publish was accepted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub policy: Option<RetryPolicy>,
    pub attempts: u32,
    pub next_ms: u64,
}

#[derive(Default)]
struct Lane {
    queue: BTreeMap<u64, Delivery>,
    running: bool,
}

pub struct Deliveries {
    due: Mutex<BTreeMap<(u64, u64), Delivery>>,
    lanes: Mutex<HashMap<String, Lane>>,
    wake: Notify,
    next_seq: AtomicU64,
    pub queues: Arc<dyn QueueSender>,
    pub functions: Arc<dyn EventInvoker>,
}

impl Deliveries {
    pub fn new(queues: Arc<dyn QueueSender>, functions: Arc<dyn EventInvoker>) -> Deliveries {
        Deliveries { due: Mutex::default(), lanes: Mutex::default(), wake: Notify::new(), next_seq: AtomicU64::new(1), queues, functions }
    }

    pub fn next_seq(&self) -> u64 {
        self.next_seq.fetch_add(1, Ordering::Relaxed)
    }

    fn schedule(&self, d: Delivery) {
        self.due.lock().insert((d.next_ms, d.seq), d);
        self.wake.notify_one();
    }

    /// Stores the deliveries of one publish, waits for the store, then schedules them.
    pub async fn accept(&self, registry: &Registry, batch: Vec<Delivery>) -> crate::errors::SnsResult<()> {
        let pendings: Vec<_> = batch.iter().map(|d| registry.store().put(doc_of(d))).collect();
        for p in pendings {
            commit(p).await?;
        }
        for d in batch {
            self.schedule(d);
        }
        Ok(())
    }
}

fn doc_of(d: &Delivery) -> Doc {
    Doc { keys: [store::DELIVERY.to_string(), d.account.clone(), d.id.clone()], doc: serde_json::to_string(d).unwrap_or_default() }
}

/// What the worker needs: the registry (dead-letter queues), the clock, the seams.
pub struct Worker {
    pub registry: Arc<Registry>,
    pub clock: Clock,
    pub deliveries: Arc<Deliveries>,
}

/// Starts the worker with the deliveries read back from the store.
pub fn start(w: Arc<Worker>, stored: Vec<Doc>) {
    let mut max_seq = 0;
    for d in stored {
        match serde_json::from_str::<Delivery>(&d.doc) {
            Ok(x) => {
                max_seq = max_seq.max(x.seq);
                w.deliveries.due.lock().insert((x.next_ms, x.seq), x);
            }
            Err(e) => tracing::error!(id = %d.keys[2], error = %e, "unreadable stored SNS delivery"),
        }
    }
    w.deliveries.next_seq.fetch_max(max_seq + 1, Ordering::Relaxed);
    tokio::spawn(async move {
        loop {
            let wake = w.deliveries.wake.notified();
            tokio::pin!(wake);
            wake.as_mut().enable();
            let now = w.clock.now_ms();
            let (ready, next) = {
                let mut due = w.deliveries.due.lock();
                let later = due.split_off(&(now + 1, 0));
                let ready: Vec<Delivery> = std::mem::replace(&mut *due, later).into_values().collect();
                (ready, due.keys().next().map(|(t, _)| *t))
            };
            for d in ready {
                enter_lane(&w, d);
            }
            match next {
                Some(t) => {
                    tokio::select! {
                        _ = &mut wake => {}
                        _ = w.clock.sleep_until(t) => {}
                    }
                }
                None => wake.await,
            }
        }
    });
}

/// Queues a ready delivery on its subscription's lane, starting the lane's runner if idle.
fn enter_lane(w: &Arc<Worker>, d: Delivery) {
    let sub = d.subscription_arn.clone();
    let start = {
        let mut lanes = w.deliveries.lanes.lock();
        let lane = lanes.entry(sub.clone()).or_default();
        lane.queue.insert(d.seq, d);
        !std::mem::replace(&mut lane.running, true)
    };
    if start {
        let w = w.clone();
        tokio::spawn(async move { run_lane(&w, &sub).await });
    }
}

async fn run_lane(w: &Arc<Worker>, sub: &str) {
    loop {
        let next = {
            let mut lanes = w.deliveries.lanes.lock();
            let Some(lane) = lanes.get_mut(sub) else { return };
            match lane.queue.pop_first() {
                Some((_, d)) => d,
                None => {
                    lanes.remove(sub);
                    return;
                }
            }
        };
        let mut d = next;
        // A FIFO queue's lane waits for its failed head (on the clock) so order holds;
        // other lanes go on and retry the failed one later.
        while let Some(retry) = attempt(w, d).await {
            if !retry.endpoint.ends_with(".fifo") {
                w.deliveries.schedule(retry);
                break;
            }
            w.clock.sleep_until(retry.next_ms).await;
            d = retry;
        }
    }
}

async fn send(w: &Worker, d: &Delivery) -> Outcome {
    let retry = |r: Result<(), String>| match r {
        Ok(()) => Outcome::Delivered,
        Err(e) => Outcome::Retry(e),
    };
    match d.protocol.as_str() {
        "sqs" => retry(w.deliveries.queues.send_message(&d.endpoint, d.body.clone()).await.map(|_| ()).map_err(|e| e.to_string())),
        "lambda" => retry(w.deliveries.functions.invoke_event(&d.endpoint, bytes::Bytes::from(d.body.to_string())).await),
        "http" => {
            let headers: Vec<(String, String)> = serde_json::from_value(d.body["headers"].clone()).unwrap_or_default();
            http_delivery::post(&d.endpoint, &headers, d.body["payload"].as_str().unwrap_or("").to_string()).await
        }
        other => Outcome::Permanent(format!("protocol {other} is not delivered by the worker")),
    }
}

/// The wait before the next attempt after `attempts` failed ones, or `None` when the
/// policy is exhausted.
fn next_delay(d: &Delivery) -> Option<u64> {
    static AWS_MANAGED: OnceLock<RetryPolicy> = OnceLock::new();
    let p = d.policy.as_ref().unwrap_or_else(|| AWS_MANAGED.get_or_init(RetryPolicy::aws_managed));
    (d.attempts <= p.num_retries).then(|| p.delay_ms(d.attempts))
}

/// One attempt; `Some` is the delivery to retry at its `next_ms` (already stored).
async fn attempt(w: &Arc<Worker>, mut d: Delivery) -> Option<Delivery> {
    // An unsubscribed endpoint (or a deleted topic's) gets nothing more.
    if w.registry.subscription(&d.subscription_arn).is_err() {
        forget(w, &d).await;
        return None;
    }
    d.attempts += 1;
    let started = w.clock.now_ms();
    let outcome = send(w, &d).await;
    let delay = match &outcome {
        Outcome::Retry(_) => next_delay(&d),
        _ => None,
    };
    match (outcome, delay) {
        (Outcome::Delivered, _) => {
            forget(w, &d).await;
            None
        }
        (Outcome::Retry(e), Some(delay_ms)) => {
            tracing::debug!(subscription = %d.subscription_arn, attempt = d.attempts, error = %e, "SNS delivery failed; retrying");
            let now = w.clock.now_ms();
            d.next_ms += now.saturating_sub(started) + delay_ms;
            if d.next_ms > now {
                if let Err(e) = w.registry.store().put(doc_of(&d)).wait().await {
                    tracing::error!(error = %e, "could not store an SNS delivery's retry");
                }
            }
            Some(d)
        }
        (Outcome::Retry(e) | Outcome::Permanent(e), _) => {
            // Confirmations are not dead-lettered (they carry no message).
            let confirmation = d.body["headers"].to_string().contains("SubscriptionConfirmation");
            let dlq = w.registry.subscription(&d.subscription_arn).ok().and_then(|s| s.dead_letter_arn()).filter(|_| !confirmation);
            match dlq {
                Some(q) => {
                    let input = match d.protocol.as_str() {
                        "sqs" => d.body.clone(),
                        "http" => serde_json::json!({ "MessageBody": d.body["payload"].as_str().unwrap_or("") }),
                        _ => serde_json::json!({ "MessageBody": d.body["Records"][0]["Sns"].to_string() }),
                    };
                    let mut input = input;
                    if let Some(m) = input.as_object_mut() {
                        // The dead-letter queue's type decides about FIFO members.
                        if !q.ends_with(".fifo") {
                            m.remove("MessageGroupId");
                            m.remove("MessageDeduplicationId");
                        }
                    }
                    if let Err(err) = w.deliveries.queues.send_message(&q, input).await {
                        tracing::warn!(subscription = %d.subscription_arn, dlq = %q, error = %err, "SNS dead-letter delivery failed");
                    }
                }
                None => tracing::warn!(subscription = %d.subscription_arn, error = %e, "SNS delivery failed after retries; dropped (no RedrivePolicy)"),
            }
            forget(w, &d).await;
            None
        }
    }
}

async fn forget(w: &Worker, d: &Delivery) {
    if let Err(e) = w.registry.store().delete([store::DELIVERY.to_string(), d.account.clone(), d.id.clone()]).wait().await {
        tracing::error!(error = %e, "could not remove a finished SNS delivery");
    }
}
