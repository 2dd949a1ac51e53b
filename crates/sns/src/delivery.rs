//! Durable delivery of accepted publishes to SQS queues and Lambda functions. Publish
//! stores its deliveries (one per matching subscription) as one document before it
//! answers; this worker then sends each one (SQS through `QueueSender`, Lambda through
//! `EventInvoker`) and removes the document when the last of them is done. A delivery
//! that must wait for a retry is stored on its own. Documents left by a crash are read
//! back at start and sent again (at least once: a finished delivery of a publish whose
//! others were not finished is sent again). Deliveries of one subscription go out one at a time in publish order (a lane per
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
use nimbus_core::internal::{EventInvoker, OpenGrants, QueueSender, ServiceCall, ServiceGrants};
use nimbus_core::Clock;
use parking_lot::Mutex;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock};
use tokio::sync::Notify;

/// The stored document of a publish's deliveries, removed when the last is done.
#[derive(Debug)]
pub struct Group {
    id: String,
    account: String,
    remaining: AtomicUsize,
}

/// How a publish's deliveries are stored together.
#[derive(Serialize, Deserialize)]
struct Stored<L> {
    deliveries: L,
}

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
    /// The publish's document while the delivery is stored in it (else its own).
    #[serde(skip)]
    pub group: Option<Arc<Group>>,
    /// The publisher's `X-Amzn-Trace-Id` (its SNS segment as the parent): each attempt
    /// records an SNS delivery segment and hands the endpoint the trace with that
    /// segment as the parent (SQS `AWSTraceHeader`, the Lambda invocation's trace,
    /// HTTP/S `X-Amzn-Trace-Id`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trace: Option<String>,
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
    /// The subscribers' resource policies (`--auth iam`): a queue's policy must allow
    /// `sqs:SendMessage` by `sns.amazonaws.com`, a function's `lambda:InvokeFunction`.
    grants: parking_lot::RwLock<Arc<dyn ServiceGrants>>,
    /// The standard `AWS/SNS` metrics (`metrics.rs`); a no-op until attached.
    pub metrics: nimbus_core::metrics::Metrics,
}

impl Deliveries {
    pub fn new(queues: Arc<dyn QueueSender>, functions: Arc<dyn EventInvoker>) -> Deliveries {
        Deliveries { due: Mutex::default(), lanes: Mutex::default(), wake: Notify::new(), next_seq: AtomicU64::new(1), queues, functions, grants: parking_lot::RwLock::new(Arc::new(OpenGrants)), metrics: nimbus_core::metrics::Metrics::new() }
    }

    /// Wires the resource-policy checks of deliveries (IAM, under `--auth iam`).
    pub fn set_grants(&self, grants: Arc<dyn ServiceGrants>) {
        *self.grants.write() = grants;
    }

    /// Whether the topic may send to `target` by the target's policy: SNS's
    /// "client-side" error when not, which is neither retried nor lost silently.
    /// <https://docs.aws.amazon.com/sns/latest/dg/subscribe-sqs-queue-to-sns-topic.html>
    fn permitted(&self, subscription_arn: &str, action: &str, target: &str) -> Result<(), String> {
        let topic = subscription_arn.rsplit_once(':').map_or(subscription_arn, |(t, _)| t);
        let account = topic.split(':').nth(4).unwrap_or("");
        let call = ServiceCall { service: "sns.amazonaws.com", action, resource: target, source_arn: topic, source_account: account };
        let grants = self.grants.read().clone();
        grants.allows(&call)
    }

    pub fn next_seq(&self) -> u64 {
        self.next_seq.fetch_add(1, Ordering::Relaxed)
    }

    fn schedule(&self, d: Delivery) {
        self.due.lock().insert((d.next_ms, d.seq), d);
        self.wake.notify_one();
    }

    /// Stores the deliveries of one publish (one document), waits for the store, then
    /// schedules them.
    pub async fn accept(&self, registry: &Registry, mut batch: Vec<Delivery>) -> crate::errors::SnsResult<()> {
        match batch.as_slice() {
            [] => return Ok(()),
            [one] => commit(registry.store().put(doc_of(one))).await?,
            [first, ..] => {
                let group = Arc::new(Group { id: format!("publish-{}", first.id), account: first.account.clone(), remaining: AtomicUsize::new(batch.len()) });
                let doc = serde_json::to_string(&Stored { deliveries: &batch }).unwrap_or_default();
                commit(registry.store().put(Doc { keys: [store::DELIVERY.to_string(), group.account.clone(), group.id.clone()], doc })).await?;
                for d in &mut batch {
                    d.group = Some(group.clone());
                }
            }
        }
        for d in batch {
            self.schedule(d);
        }
        Ok(())
    }
}

/// A delivery is done with its stored document: its own is removed, or its publish's
/// once the last delivery of it is done. Not waited for: a removal lost in a crash only
/// sends the delivery again.
fn release(registry: &Registry, d: &mut Delivery) {
    let keys = match d.group.take() {
        Some(g) if g.remaining.fetch_sub(1, Ordering::AcqRel) == 1 => [store::DELIVERY.to_string(), g.account.clone(), g.id.clone()],
        Some(_) => return,
        None => [store::DELIVERY.to_string(), d.account.clone(), d.id.clone()],
    };
    drop(registry.store().delete(keys));
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

/// The deliveries of one stored document: a publish's, or one delivery's.
fn read_back(d: &Doc) -> Result<Vec<Delivery>, serde_json::Error> {
    if let Ok(stored) = serde_json::from_str::<Stored<Vec<Delivery>>>(&d.doc) {
        let group = Arc::new(Group { id: d.keys[2].clone(), account: d.keys[1].clone(), remaining: AtomicUsize::new(stored.deliveries.len()) });
        return Ok(stored.deliveries.into_iter().map(|mut x| {
            x.group = Some(group.clone());
            x
        }).collect());
    }
    serde_json::from_str::<Delivery>(&d.doc).map(|x| vec![x])
}

/// Starts the worker with the deliveries read back from the store.
pub fn start(w: Arc<Worker>, stored: Vec<Doc>) {
    let mut max_seq = 0;
    for d in stored {
        match read_back(&d) {
            Ok(xs) => {
                for x in xs {
                    max_seq = max_seq.max(x.seq);
                    w.deliveries.due.lock().insert((x.next_ms, x.seq), x);
                }
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

/// One attempt, traced: records the SNS delivery segment when the publish was traced
/// (and sampled, and segments are recorded).
/// <https://docs.aws.amazon.com/xray/latest/devguide/xray-services-sns.html>
async fn send(w: &Worker, d: &Delivery) -> Outcome {
    let Some(t) = d.trace.as_deref().and_then(nimbus_core::trace::TraceHeader::parse) else { return send_untraced(w, d, None).await };
    if !(t.is_sampled() && nimbus_core::trace::recording()) {
        return send_untraced(w, d, Some(t.render())).await;
    }
    let id = nimbus_core::trace::new_segment_id();
    let start = w.clock.now_ms();
    let outcome = send_untraced(w, d, Some(t.with_parent(&id).render())).await;
    let topic_arn = d.subscription_arn.rsplit_once(':').map(|(t, _)| t).unwrap_or("");
    let mut segment = nimbus_core::trace::Segment::new("SNS", &t.root, &id, t.parent.as_deref(), start, w.clock.now_ms())
        .origin("AWS::SNS::Topic")
        .aws("operation", "Deliver")
        .aws("topic_arn", topic_arn)
        .aws("subscription", d.subscription_arn.as_str())
        .aws("protocol", d.protocol.as_str())
        .aws("endpoint", d.endpoint.as_str());
    match &outcome {
        Outcome::Delivered => {}
        Outcome::Retry(why) => segment = segment.failure(true, "DeliveryFailed", why),
        Outcome::Permanent(why) => segment = segment.failure(false, "DeliveryFailed", why),
    }
    nimbus_core::trace::record(segment);
    outcome
}

async fn send_untraced(w: &Worker, d: &Delivery, trace: Option<String>) -> Outcome {
    let retry = |r: Result<(), String>| match r {
        Ok(()) => Outcome::Delivered,
        Err(e) => Outcome::Retry(e),
    };
    let action = match d.protocol.as_str() {
        "sqs" => Some("sqs:SendMessage"),
        "lambda" => Some("lambda:InvokeFunction"),
        _ => None,
    };
    if let Some(action) = action {
        if let Err(why) = w.deliveries.permitted(&d.subscription_arn, action, &d.endpoint) {
            return Outcome::Permanent(why);
        }
    }
    match d.protocol.as_str() {
        "sqs" => retry(w.deliveries.queues.send_message_traced(&d.endpoint, d.body.clone(), trace).await.map(|_| ()).map_err(|e| e.to_string())),
        "lambda" => retry(w.deliveries.functions.invoke_event_traced(&d.endpoint, bytes::Bytes::from(d.body.to_string()), trace).await),
        "http" => {
            let mut headers: Vec<(String, String)> = serde_json::from_value(d.body["headers"].clone()).unwrap_or_default();
            if let Some(t) = trace {
                headers.push(("x-amzn-trace-id".to_string(), t));
            }
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
    if !w.registry.has_subscription(&d.subscription_arn) {
        release(&w.registry, &mut d);
        return None;
    }
    d.attempts += 1;
    // The attempt's own duration, in real time: a clock jump while it runs (a test moving
    // time) is not part of it.
    let started = std::time::Instant::now();
    let outcome = send(w, &d).await;
    let delay = match &outcome {
        Outcome::Retry(_) => next_delay(&d),
        _ => None,
    };
    match (outcome, delay) {
        (Outcome::Delivered, _) => {
            crate::metrics::notification(&w.deliveries.metrics, &d.subscription_arn, "NumberOfNotificationsDelivered");
            release(&w.registry, &mut d);
            None
        }
        (Outcome::Retry(e), Some(delay_ms)) => {
            tracing::debug!(subscription = %d.subscription_arn, attempt = d.attempts, error = %e, "SNS delivery failed; retrying");
            // HTTP/S endpoints count every failed attempt; the others only the last.
            if d.protocol == "http" || d.protocol == "https" {
                crate::metrics::notification(&w.deliveries.metrics, &d.subscription_arn, "NumberOfNotificationsFailed");
            }
            let now = w.clock.now_ms();
            d.next_ms += started.elapsed().as_millis() as u64 + delay_ms;
            // A retry still in its publish's document is stored on its own from now on
            // (the publish's document may go first); one already due is not stored again.
            if d.next_ms > now || d.group.is_some() {
                if let Err(e) = w.registry.store().put(doc_of(&d)).wait().await {
                    tracing::error!(error = %e, "could not store an SNS delivery's retry");
                }
            }
            if d.group.is_some() {
                release(&w.registry, &mut d);
            }
            Some(d)
        }
        (Outcome::Retry(e) | Outcome::Permanent(e), _) => {
            crate::metrics::notification(&w.deliveries.metrics, &d.subscription_arn, "NumberOfNotificationsFailed");
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
                    let sent = match w.deliveries.permitted(&d.subscription_arn, "sqs:SendMessage", &q) {
                        Ok(()) => w.deliveries.queues.send_message(&q, input).await.map(|_| ()).map_err(|e| e.to_string()),
                        Err(why) => Err(why),
                    };
                    match sent {
                        Ok(()) => crate::metrics::notification(&w.deliveries.metrics, &d.subscription_arn, "NumberOfNotificationsRedrivenToDlq"),
                        Err(err) => {
                            crate::metrics::notification(&w.deliveries.metrics, &d.subscription_arn, "NumberOfNotificationsFailedToRedriveToDlq");
                            tracing::warn!(subscription = %d.subscription_arn, dlq = %q, error = %err, "SNS dead-letter delivery failed");
                        }
                    }
                }
                None => tracing::warn!(subscription = %d.subscription_arn, error = %e, "SNS delivery failed after retries; dropped (no RedrivePolicy)"),
            }
            release(&w.registry, &mut d);
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn delivery(id: &str) -> Delivery {
        Delivery {
            id: id.into(),
            seq: 1,
            account: "000000000000".into(),
            subscription_arn: "arn:aws:sns:us-east-1:000000000000:t:1".into(),
            protocol: "sqs".into(),
            endpoint: "arn:aws:sqs:us-east-1:000000000000:q".into(),
            body: serde_json::json!({"MessageBody": "m"}),
            policy: None,
            attempts: 0,
            next_ms: 0,
            group: None,
            trace: None,
        }
    }

    #[test]
    fn a_publish_document_reads_back_as_its_deliveries_in_one_group() {
        let doc = serde_json::to_string(&Stored { deliveries: vec![delivery("a"), delivery("b")] }).unwrap();
        let keys = [store::DELIVERY.to_string(), "000000000000".to_string(), "publish-a".to_string()];
        let back = read_back(&Doc { keys: keys.clone(), doc }).unwrap();
        assert_eq!(back.iter().map(|d| d.id.as_str()).collect::<Vec<_>>(), ["a", "b"]);
        let group = back[0].group.as_ref().unwrap();
        assert!(Arc::ptr_eq(group, back[1].group.as_ref().unwrap()));
        assert_eq!((group.id.as_str(), group.remaining.load(Ordering::Relaxed)), ("publish-a", 2));
        // A single delivery's document is itself, with no group.
        let one = read_back(&Doc { keys, doc: serde_json::to_string(&delivery("c")).unwrap() }).unwrap();
        assert!(one.len() == 1 && one[0].id == "c" && one[0].group.is_none());
    }
}
