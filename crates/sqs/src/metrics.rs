//! SQS's standard CloudWatch metrics (namespace `AWS/SQS`, dimension `QueueName`), as
//! "Available CloudWatch metrics for Amazon SQS" documents them
//! (https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/sqs-available-cloudwatch-metrics.html):
//!
//! - counters recorded as requests happen, into core's in-memory aggregator (a hash lookup
//!   and a few adds, no I/O): NumberOfMessagesSent and SentMessageSize (API and service
//!   sends; not messages moved to a dead-letter queue by redrive, as on AWS),
//!   NumberOfMessagesReceived / NumberOfEmptyReceives (per ReceiveMessage call, long polls
//!   included, also an event source mapping's polls), NumberOfMessagesDeleted;
//! - gauges sampled once a minute on nimbus's clock for active queues (a queue with
//!   messages, or with a send, receive or delete in the last six hours):
//!   ApproximateNumberOfMessagesVisible / NotVisible / Delayed and
//!   ApproximateAgeOfOldestMessage (seconds).

use crate::engine::{Engine, Queue};
use nimbus_core::metrics::{unit, Metrics};
use std::sync::atomic::Ordering;
use std::sync::{Arc, Weak};

pub const NAMESPACE: &str = "AWS/SQS";
/// How long a queue stays active after its last send, receive or delete.
const ACTIVE_MS: u64 = 6 * 3600 * 1000;

/// The sizes of one send's messages (a batch has at most 10), without allocating.
#[derive(Default)]
pub struct Sizes {
    n: usize,
    each: [usize; 10],
}

impl FromIterator<usize> for Sizes {
    fn from_iter<I: IntoIterator<Item = usize>>(iter: I) -> Sizes {
        let mut s = Sizes::default();
        for size in iter {
            if s.n < s.each.len() {
                s.each[s.n] = size;
            }
            s.n += 1;
        }
        s
    }
}

fn record(metrics: &Metrics, q: &Queue, name: &'static str, unit: &'static str, value: f64) {
    metrics.record(&q.key.account, &q.key.region, NAMESPACE, name, &[("QueueName", &q.key.name)], unit, value);
}

fn touch(engine: &Engine, q: &Queue) {
    q.last_active_ms.store(engine.now(), Ordering::Relaxed);
}

/// Messages added by one send (SendMessage or a batch, or a service's send).
pub fn sent(engine: &Engine, q: &Queue, sizes: &Sizes) {
    if !engine.metrics.enabled() || sizes.n == 0 {
        return;
    }
    touch(engine, q);
    record(&engine.metrics, q, "NumberOfMessagesSent", unit::COUNT, sizes.n as f64);
    for size in &sizes.each[..sizes.n.min(sizes.each.len())] {
        record(&engine.metrics, q, "SentMessageSize", unit::BYTES, *size as f64);
    }
}

/// One ReceiveMessage call's outcome.
pub fn received(engine: &Engine, q: &Queue, n: usize) {
    if !engine.metrics.enabled() {
        return;
    }
    touch(engine, q);
    if n == 0 {
        record(&engine.metrics, q, "NumberOfEmptyReceives", unit::COUNT, 1.0);
    } else {
        record(&engine.metrics, q, "NumberOfMessagesReceived", unit::COUNT, n as f64);
    }
}

/// One successful DeleteMessage (or batch entry).
pub fn deleted(engine: &Engine, q: &Queue) {
    if !engine.metrics.enabled() {
        return;
    }
    touch(engine, q);
    record(&engine.metrics, q, "NumberOfMessagesDeleted", unit::COUNT, 1.0);
}

/// Samples every active queue's gauges at each minute of nimbus's clock, while the
/// engine lives.
pub fn start_sampler(engine: &Arc<Engine>) {
    let weak: Weak<Engine> = Arc::downgrade(engine);
    let clock = engine.clock.clone();
    tokio::spawn(async move {
        loop {
            let next = (clock.now_ms() / 60_000 + 1) * 60_000;
            clock.sleep_until(next).await;
            let Some(engine) = weak.upgrade() else { return };
            sample(&engine);
        }
    });
}

/// One sample of the gauges of every active queue.
pub fn sample(engine: &Engine) {
    let now = engine.now();
    for q in engine.all() {
        let (counts, oldest) = {
            let st = q.state.lock();
            (st.counts(now), st.oldest_sent_ms())
        };
        let active = oldest.is_some() || now.saturating_sub(q.last_active_ms.load(Ordering::Relaxed)) < ACTIVE_MS;
        if !active {
            continue;
        }
        let m = &engine.metrics;
        record(m, &q, "ApproximateNumberOfMessagesVisible", unit::COUNT, counts.visible as f64);
        record(m, &q, "ApproximateNumberOfMessagesNotVisible", unit::COUNT, counts.in_flight as f64);
        record(m, &q, "ApproximateNumberOfMessagesDelayed", unit::COUNT, counts.delayed as f64);
        let age_s = oldest.map(|sent| now.saturating_sub(sent) / 1000).unwrap_or(0);
        record(m, &q, "ApproximateAgeOfOldestMessage", unit::SECONDS, age_s as f64);
    }
}
