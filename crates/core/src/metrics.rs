//! The standard metrics services emit (AWS/Lambda, AWS/SQS, AWS/DynamoDB, …): an in-memory
//! aggregator between a service's hot path and the [`MetricSink`] (CloudWatch).
//!
//! A request must not pay for a store write per datapoint, so a service records into
//! [`Metrics`]: one hash of the borrowed key parts, one sharded-map lookup and a few adds
//! (count / sum / min / max, plus the distinct values of distribution metrics such as
//! Duration so percentiles still work). Nothing is allocated once a key has been seen in
//! the current flush window. A background task ([`MetricsHub::start`]) drains the map every
//! [`FLUSH_MS`] of nimbus's clock (and at once when tests move the clock) and hands the
//! buckets to the sink as statistic sets ([`MetricSet`]), one per (account, region,
//! namespace, name, dimensions, unit, minute). Points flushed twice within one minute are
//! two sets in that minute; CloudWatch's statistics combine them exactly.
//!
//! Services hold a [`Metrics`] handle from construction (recording is a no-op while it is
//! detached) and the binary attaches the shared hub with each service's `set_metrics`.

use crate::internal::{MetricSet, MetricSink};
use crate::Clock;
use parking_lot::Mutex;
use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};
use std::sync::{Arc, OnceLock};

/// How often (nimbus's clock) buffered buckets go to the sink.
pub const FLUSH_MS: u64 = 2_000;
/// Distinct values kept per bucket for percentiles (PutMetricData's `Values` limit).
const MAX_VALUES: usize = 150;
const SHARDS: usize = 16;

/// CloudWatch units the standard metrics use.
pub mod unit {
    pub const COUNT: &str = "Count";
    pub const MILLISECONDS: &str = "Milliseconds";
    pub const SECONDS: &str = "Seconds";
    pub const BYTES: &str = "Bytes";
}

/// Whether a metric keeps its distinct values (percentiles: Duration, latencies) or only
/// count / sum / min / max.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Kind {
    Counter,
    Distribution,
}

/// A service's handle: cheap to clone, shared by its parts; a no-op until attached.
#[derive(Clone, Default)]
pub struct Metrics {
    hub: Arc<OnceLock<Arc<MetricsHub>>>,
}

impl Metrics {
    pub fn new() -> Metrics {
        Metrics::default()
    }

    /// Connects this handle (and every clone of it) to the hub. Later calls are ignored.
    pub fn attach(&self, hub: Arc<MetricsHub>) {
        let _ = self.hub.set(hub);
    }

    pub fn enabled(&self) -> bool {
        self.hub.get().is_some()
    }

    /// The clock's current time as the hub sees it (0 when detached).
    pub fn now_ms(&self) -> u64 {
        self.hub.get().map(|h| h.clock.now_ms()).unwrap_or(0)
    }

    /// Adds one value to the current minute's bucket of a metric.
    #[inline]
    pub fn record(&self, account: &str, region: &str, namespace: &'static str, name: &'static str, dims: &[(&'static str, &str)], unit: &'static str, value: f64) {
        if let Some(hub) = self.hub.get() {
            hub.record(account, region, namespace, name, dims, unit, Kind::Counter, value);
        }
    }

    /// Like [`Metrics::record`], keeping the distinct values for percentiles.
    #[inline]
    pub fn record_distribution(&self, account: &str, region: &str, namespace: &'static str, name: &'static str, dims: &[(&'static str, &str)], unit: &'static str, value: f64) {
        if let Some(hub) = self.hub.get() {
            hub.record(account, region, namespace, name, dims, unit, Kind::Distribution, value);
        }
    }
}

/// The aggregator every service's [`Metrics`] records into.
pub struct MetricsHub {
    clock: Clock,
    shards: Vec<Mutex<Shard>>,
}

type Shard = HashMap<u64, Vec<(Key, Acc)>, BuildHasherDefault<IdentityHasher>>;

/// A bucket's identity, owned (built the first time a key is seen in a flush window).
struct Key {
    account: Box<str>,
    region: Box<str>,
    namespace: &'static str,
    name: &'static str,
    dims: Box<[(&'static str, Box<str>)]>,
    unit: &'static str,
    minute_ms: u64,
}

impl Key {
    fn matches(&self, account: &str, region: &str, namespace: &str, name: &str, dims: &[(&'static str, &str)], unit: &str, minute_ms: u64) -> bool {
        self.minute_ms == minute_ms
            && self.name == name
            && self.namespace == namespace
            && self.unit == unit
            && *self.account == *account
            && *self.region == *region
            && self.dims.len() == dims.len()
            && self.dims.iter().zip(dims).all(|((k1, v1), (k2, v2))| k1 == k2 && **v1 == **v2)
    }
}

struct Acc {
    count: f64,
    sum: f64,
    min: f64,
    max: f64,
    /// `(value, count)`: distribution metrics only; `None` once more than [`MAX_VALUES`]
    /// distinct values arrived (the bucket is then a plain statistic set).
    values: Option<Vec<(f64, f64)>>,
}

impl MetricsHub {
    /// A hub with no flush task (unit tests drain it with [`MetricsHub::drain`]).
    pub fn new(clock: Clock) -> Arc<MetricsHub> {
        Arc::new(MetricsHub { clock, shards: (0..SHARDS).map(|_| Mutex::new(Shard::default())).collect() })
    }

    /// A hub whose background task (on the current tokio runtime) flushes to `sink` every
    /// [`FLUSH_MS`] of the clock, and at once when the clock is moved.
    pub fn start(clock: Clock, sink: Arc<dyn MetricSink>) -> Arc<MetricsHub> {
        let hub = MetricsHub::new(clock.clone());
        let weak = Arc::downgrade(&hub);
        tokio::spawn(async move {
            loop {
                let next = clock.now_ms() + FLUSH_MS;
                clock.sleep_until(next).await;
                let Some(hub) = weak.upgrade() else { return };
                let sets = hub.drain();
                if !sets.is_empty() {
                    sink.put_sets(sets);
                }
            }
        });
        hub
    }

    pub fn clock(&self) -> &Clock {
        &self.clock
    }

    #[allow(clippy::too_many_arguments)]
    fn record(&self, account: &str, region: &str, namespace: &'static str, name: &'static str, dims: &[(&'static str, &str)], unit: &'static str, kind: Kind, value: f64) {
        if !value.is_finite() {
            return;
        }
        let minute_ms = self.clock.now_ms() / 60_000 * 60_000;
        let mut h = FxHasher::default();
        h.write(account.as_bytes());
        h.write(region.as_bytes());
        h.write(name.as_bytes());
        for (k, v) in dims {
            h.write(k.as_bytes());
            h.write(v.as_bytes());
        }
        h.write_u64(minute_ms);
        let hash = h.finish();
        let mut shard = self.shards[(hash as usize) % SHARDS].lock();
        let chain = shard.entry(hash).or_default();
        if let Some((_, acc)) = chain.iter_mut().find(|(k, _)| k.matches(account, region, namespace, name, dims, unit, minute_ms)) {
            acc.add(value);
            return;
        }
        let key = Key {
            account: account.into(),
            region: region.into(),
            namespace,
            name,
            dims: dims.iter().map(|(k, v)| (*k, Box::<str>::from(*v))).collect(),
            unit,
            minute_ms,
        };
        let values = (kind == Kind::Distribution).then(|| vec![(value, 1.0)]);
        chain.push((key, Acc { count: 1.0, sum: value, min: value, max: value, values }));
    }

    /// Takes every buffered bucket out, as statistic sets.
    pub fn drain(&self) -> Vec<MetricSet> {
        let mut out = Vec::new();
        for shard in &self.shards {
            let taken = std::mem::take(&mut *shard.lock());
            for (key, acc) in taken.into_values().flatten() {
                out.push(MetricSet {
                    account: key.account.into(),
                    region: key.region.into(),
                    namespace: key.namespace.to_string(),
                    name: key.name.to_string(),
                    dimensions: key.dims.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect(),
                    unit: key.unit.to_string(),
                    timestamp_ms: key.minute_ms,
                    sample_count: acc.count,
                    sum: acc.sum,
                    min: acc.min,
                    max: acc.max,
                    values: acc.values,
                });
            }
        }
        out
    }
}

impl Acc {
    #[inline]
    fn add(&mut self, v: f64) {
        self.count += 1.0;
        self.sum += v;
        if v < self.min {
            self.min = v;
        }
        if v > self.max {
            self.max = v;
        }
        if let Some(values) = &mut self.values {
            if let Some(slot) = values.iter_mut().find(|(x, _)| *x == v) {
                slot.1 += 1.0;
            } else if values.len() < MAX_VALUES {
                values.push((v, 1.0));
            } else {
                self.values = None;
            }
        }
    }
}

/// The map's keys are already hashes.
#[derive(Default)]
struct IdentityHasher(u64);

impl Hasher for IdentityHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.0 = (self.0 << 8) | *b as u64;
        }
    }
    fn write_u64(&mut self, n: u64) {
        self.0 = n;
    }
}

/// A small multiplicative hash (the Fx scheme) over the key's bytes: no allocation, a few
/// nanoseconds for a queue or function name.
#[derive(Default)]
struct FxHasher(u64);

const SEED: u64 = 0x51_7c_c1_b7_27_22_0a_95;

impl FxHasher {
    #[inline]
    fn add(&mut self, word: u64) {
        self.0 = (self.0.rotate_left(5) ^ word).wrapping_mul(SEED);
    }
}

impl Hasher for FxHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    #[inline]
    fn write(&mut self, bytes: &[u8]) {
        let mut chunks = bytes.chunks_exact(8);
        for c in &mut chunks {
            self.add(u64::from_le_bytes([c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7]]));
        }
        let mut last = 0u64;
        for (i, b) in chunks.remainder().iter().enumerate() {
            last |= (*b as u64) << (i * 8);
        }
        // The length separates "ab"+"c" from "a"+"bc".
        self.add(last ^ ((bytes.len() as u64) << 56));
    }
    fn write_u64(&mut self, n: u64) {
        self.add(n);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn detached_handle_records_nothing() {
        let m = Metrics::new();
        assert!(!m.enabled());
        m.record("1", "r", "AWS/SQS", "NumberOfMessagesSent", &[("QueueName", "q")], unit::COUNT, 1.0);
    }

    #[test]
    fn values_aggregate_per_key_and_minute() {
        let clock = Clock::new();
        let hub = MetricsHub::new(clock.clone());
        let m = Metrics::new();
        m.attach(hub.clone());
        for v in [1.0, 3.0, 2.0] {
            m.record("111", "us-east-1", "AWS/SQS", "SentMessageSize", &[("QueueName", "a")], unit::BYTES, v);
        }
        m.record("111", "us-east-1", "AWS/SQS", "SentMessageSize", &[("QueueName", "b")], unit::BYTES, 7.0);
        m.record("222", "us-east-1", "AWS/SQS", "SentMessageSize", &[("QueueName", "a")], unit::BYTES, 9.0);
        m.record_distribution("111", "us-east-1", "AWS/Lambda", "Duration", &[], unit::MILLISECONDS, 5.0);
        m.record_distribution("111", "us-east-1", "AWS/Lambda", "Duration", &[], unit::MILLISECONDS, 5.0);
        clock.advance_ms(60_000);
        m.record("111", "us-east-1", "AWS/SQS", "SentMessageSize", &[("QueueName", "a")], unit::BYTES, 4.0);
        let mut sets = hub.drain();
        sets.sort_by(|a, b| (&a.account, &a.name, &a.dimensions, a.timestamp_ms).cmp(&(&b.account, &b.name, &b.dimensions, b.timestamp_ms)));
        let got: Vec<_> = sets.iter().map(|s| (s.account.as_str(), s.name.as_str(), s.dimensions.first().map(|d| d.1.as_str()), s.sample_count, s.sum, s.min, s.max)).collect();
        assert_eq!(
            got,
            vec![
                ("111", "Duration", None, 2.0, 10.0, 5.0, 5.0),
                ("111", "SentMessageSize", Some("a"), 3.0, 6.0, 1.0, 3.0),
                ("111", "SentMessageSize", Some("a"), 1.0, 4.0, 4.0, 4.0),
                ("111", "SentMessageSize", Some("b"), 1.0, 7.0, 7.0, 7.0),
                ("222", "SentMessageSize", Some("a"), 1.0, 9.0, 9.0, 9.0),
            ]
        );
        assert_eq!(sets[0].values, Some(vec![(5.0, 2.0)]));
        assert_eq!(sets[1].values, None);
        assert_eq!(sets[1].timestamp_ms % 60_000, 0);
        assert!(sets[2].timestamp_ms > sets[1].timestamp_ms);
        assert!(hub.drain().is_empty(), "drained");
    }

    #[test]
    fn distributions_past_the_value_limit_become_statistic_sets() {
        let hub = MetricsHub::new(Clock::new());
        let m = Metrics::new();
        m.attach(hub.clone());
        for i in 0..=MAX_VALUES {
            m.record_distribution("1", "r", "AWS/Lambda", "Duration", &[("FunctionName", "f")], unit::MILLISECONDS, i as f64);
        }
        let sets = hub.drain();
        assert_eq!(sets.len(), 1);
        assert_eq!(sets[0].values, None);
        assert_eq!(sets[0].sample_count, (MAX_VALUES + 1) as f64);
    }

    /// The per-value cost on the hot path (run: `cargo test -p nimbus-core --release --lib
    /// record_cost -- --ignored --nocapture`).
    #[test]
    #[ignore]
    fn record_cost() {
        let hub = MetricsHub::new(Clock::new());
        let m = Metrics::new();
        m.attach(hub.clone());
        let n = 2_000_000;
        let started = std::time::Instant::now();
        for i in 0..n {
            m.record("000000000000", "us-east-1", "AWS/SQS", "NumberOfMessagesSent", &[("QueueName", "bench-queue-1")], unit::COUNT, (i & 7) as f64);
        }
        let per = started.elapsed().as_nanos() as f64 / n as f64;
        println!("record: {per:.1} ns per value (one key)");
        assert_eq!(hub.drain().iter().map(|s| s.sample_count).sum::<f64>(), n as f64);
    }

    #[test]
    fn hash_separates_split_points() {
        let h = |parts: &[&str]| {
            let mut f = FxHasher::default();
            for p in parts {
                f.write(p.as_bytes());
            }
            f.finish()
        };
        assert_ne!(h(&["ab", "c"]), h(&["a", "bc"]));
    }
}
