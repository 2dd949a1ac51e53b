//! Groups and streams in memory, events in the store, and retention.
//!
//! Memory holds only what grows with the number of groups and streams: each stream's
//! figures (first/last event timestamp, last ingestion time, stored bytes, upload count),
//! updated as events are accepted and restored at start from the store's indexes and
//! stats. Events themselves are read from the store ([`Engine::events`]) after
//! [`Engine::sync`], which waits for every write submitted before it (see `store.rs`).
//!
//! One lock guards the registry: writes hold it briefly while they change memory and
//! submit the matching mutations (so the store sees changes in memory order); reads take
//! it shared. Nothing waits for the disk under the lock, and the store is never read
//! under it — callers await the returned `Pending` afterwards (or drop it, as the log
//! sink does).
//!
//! Retention: reads hide events older than the group's retention at once; the store
//! deletes them later, as AWS does ("typically up to 72 hours" after they expire,
//! <https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/Working-with-log-groups-and-streams.html>):
//! events more than [`DELETION_DELAY_MS`] past the retention period are deleted when
//! their group is next read or swept (the service's sweeper visits every group hourly
//! on the server's clock). Until then they are left out of `storedBytes`, as AWS does
//! with events "marked for deletion" ([`Engine::hidden_bytes`]).

use crate::errors::{LogsError, LogsResult};
use crate::filters::{self, Compiled, MetricFilterDef, SubscriptionDef};
use crate::store::{DocRecord, EventRecord, Expired, FilterRecord, GroupRecord, LogsStore, Mutation, Scan, StreamRecord};
use nimbus_core::storage::{Pending, StorageError};
use nimbus_core::Clock;
use parking_lot::RwLock;
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

pub use crate::store::EVENT_OVERHEAD;
pub const DAY_MS: u64 = 86_400_000;
/// How long after their retention period expired events stay in the store.
pub const DELETION_DELAY_MS: u64 = 3 * DAY_MS;
/// A group's expired events are deleted at most once per this much clock time.
pub const EXPIRY_STEP_MS: u64 = 3_600_000;
/// Events deleted per stream in one transaction of a retention pass.
pub const EXPIRY_BATCH: usize = 10_000;

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct GroupKey {
    pub account: String,
    pub region: String,
    pub name: String,
}

pub struct Group {
    pub id: u64,
    pub created_ms: u64,
    pub retention_days: Option<u32>,
    pub tags: BTreeMap<String, String>,
    pub streams: BTreeMap<String, Stream>,
    /// Metric filters by name (PutMetricFilter).
    pub metric_filters: BTreeMap<String, Arc<Compiled<MetricFilterDef>>>,
    /// Subscription filters by name (PutSubscriptionFilter).
    pub subscriptions: BTreeMap<String, Arc<Compiled<SubscriptionDef>>>,
    /// Events older than this have been deleted from the store.
    expired_below: u64,
}

/// A group's filters at one moment, shared with the code that applies them to new events.
#[derive(Default, Clone)]
pub struct FilterSet {
    pub metric: Vec<Arc<Compiled<MetricFilterDef>>>,
    pub subscriptions: Vec<Arc<Compiled<SubscriptionDef>>>,
}

impl FilterSet {
    pub fn is_empty(&self) -> bool {
        self.metric.is_empty() && self.subscriptions.is_empty()
    }
}

impl Group {
    fn new(id: u64, created_ms: u64, retention_days: Option<u32>) -> Group {
        Group {
            id,
            created_ms,
            retention_days,
            tags: BTreeMap::new(),
            streams: BTreeMap::new(),
            metric_filters: BTreeMap::new(),
            subscriptions: BTreeMap::new(),
            expired_below: 0,
        }
    }

    /// The oldest timestamp still readable under the retention policy.
    pub fn cutoff(&self, now_ms: u64) -> u64 {
        self.retention_days.map(|d| now_ms.saturating_sub(d as u64 * DAY_MS)).unwrap_or(0)
    }

    /// Events older than this are deleted from the store.
    fn deletion_horizon(&self, now_ms: u64) -> u64 {
        self.retention_days.map(|_| self.cutoff(now_ms).saturating_sub(DELETION_DELAY_MS)).unwrap_or(0)
    }

    pub fn stored_bytes(&self) -> u64 {
        self.streams.values().map(|s| s.stored_bytes).sum()
    }
}

/// A stream's figures; its events are in the store.
pub struct Stream {
    pub id: u64,
    pub created_ms: u64,
    pub first_ts: Option<u64>,
    pub last_ts: Option<u64>,
    pub last_ingestion_ms: Option<u64>,
    pub stored_bytes: u64,
    /// Counts accepted PutLogEvents calls (the upload sequence token).
    pub uploads: u64,
    /// The oldest timestamp accepted since a retention pass was submitted.
    first_since_expiry: Option<u64>,
}

fn min_opt(a: Option<u64>, b: Option<u64>) -> Option<u64> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

impl Stream {
    fn new(id: u64, created_ms: u64) -> Stream {
        Stream { id, created_ms, first_ts: None, last_ts: None, last_ingestion_ms: None, stored_bytes: 0, uploads: 0, first_since_expiry: None }
    }

    /// Counts accepted events in the stream's figures.
    fn note(&mut self, events: &[EventRecord]) {
        for e in events {
            self.first_ts = min_opt(self.first_ts, Some(e.timestamp));
            self.first_since_expiry = min_opt(self.first_since_expiry, Some(e.timestamp));
            self.last_ts = self.last_ts.max(Some(e.timestamp));
            self.last_ingestion_ms = self.last_ingestion_ms.max(Some(e.ingestion_ms));
            self.stored_bytes += e.message.len() as u64;
        }
    }

    /// Applies a retention pass's outcome.
    fn expired(&mut self, outcome: &Expired) {
        self.stored_bytes = self.stored_bytes.saturating_sub(outcome.bytes);
        self.first_ts = min_opt(outcome.first_ts, self.first_since_expiry);
    }
}

/// The key of an account-level document: account, region, kind, name.
pub type DocKey = (String, String, String, String);

#[derive(Default)]
pub struct State {
    pub groups: BTreeMap<GroupKey, Group>,
    /// Resource policies and destinations (JSON definitions), see `ops_policies.rs`.
    pub docs: BTreeMap<DocKey, String>,
    next_id: u64,
    next_seq: u64,
}

impl State {
    pub fn group(&self, key: &GroupKey) -> LogsResult<&Group> {
        self.groups.get(key).ok_or(LogsError::GroupNotFound)
    }

    fn group_mut(&mut self, key: &GroupKey) -> LogsResult<&mut Group> {
        self.groups.get_mut(key).ok_or(LogsError::GroupNotFound)
    }

    fn id(&mut self) -> u64 {
        self.next_id += 1;
        self.next_id
    }

    /// Numbers `events` (in order) as accepted now.
    fn records(&mut self, now: u64, events: Vec<(u64, String)>) -> Vec<EventRecord> {
        events
            .into_iter()
            .map(|(timestamp, message)| {
                self.next_seq += 1;
                EventRecord { seq: self.next_seq, timestamp, ingestion_ms: now, message: Arc::from(message) }
            })
            .collect()
    }
}

pub struct Engine {
    pub clock: Clock,
    store: Arc<dyn LogsStore>,
    state: RwLock<State>,
    /// One retention pass at a time: a read that finds one running waits for it, then
    /// sees its outcome.
    expiry: tokio::sync::Mutex<()>,
    /// Logs Insights queries found in the store at start, for `ops_insights` to take.
    restored_queries: parking_lot::Mutex<Vec<DocRecord>>,
}

/// The kind of the stored documents that describe Logs Insights queries (their results
/// are `store::UNLOADED_KIND` documents of the same name).
pub const QUERY_KIND: &str = "query";

fn group_record(key: &GroupKey, g: &Group) -> GroupRecord {
    GroupRecord {
        id: g.id,
        account: key.account.clone(),
        region: key.region.clone(),
        name: key.name.clone(),
        created_ms: g.created_ms,
        retention_days: g.retention_days,
        tags: g.tags.clone(),
    }
}

fn internal(e: StorageError) -> LogsError {
    LogsError::Internal(e.to_string())
}

impl Engine {
    pub fn new(clock: Clock, store: Arc<dyn LogsStore>) -> Result<Engine, StorageError> {
        let loaded = store.load()?;
        let mut state = State::default();
        let mut keys = BTreeMap::new();
        for g in loaded.groups {
            state.next_id = state.next_id.max(g.id);
            let key = GroupKey { account: g.account, region: g.region, name: g.name };
            keys.insert(g.id, key.clone());
            let mut group = Group::new(g.id, g.created_ms, g.retention_days);
            group.tags = g.tags;
            state.groups.insert(key, group);
        }
        for l in loaded.streams {
            state.next_id = state.next_id.max(l.record.id);
            state.next_seq = state.next_seq.max(l.max_seq);
            let Some(g) = keys.get(&l.record.group).and_then(|key| state.groups.get_mut(key)) else { continue };
            let mut s = Stream::new(l.record.id, l.record.created_ms);
            (s.first_ts, s.last_ts, s.last_ingestion_ms, s.stored_bytes) = (l.first_ts, l.last_ts, l.last_ingestion_ms, l.stored_bytes);
            g.streams.insert(l.record.name, s);
        }
        for f in loaded.filters {
            let Some(g) = keys.get(&f.group).and_then(|key| state.groups.get_mut(key)) else { continue };
            let restored = match f.kind.as_str() {
                filters::METRIC => serde_json::from_str(&f.body).map_err(|e| e.to_string()).and_then(|d| Compiled::metric(d).map_err(|e| format!("{e:?}"))).map(|c| {
                    g.metric_filters.insert(f.name.clone(), Arc::new(c));
                }),
                _ => serde_json::from_str(&f.body).map_err(|e| e.to_string()).and_then(|d| Compiled::subscription(d).map_err(|e| format!("{e:?}"))).map(|c| {
                    g.subscriptions.insert(f.name.clone(), Arc::new(c));
                }),
            };
            if let Err(e) = restored {
                tracing::error!(filter = %f.name, error = %e, "stored log filter could not be restored");
            }
        }
        let mut queries = Vec::new();
        for d in loaded.docs {
            if d.kind == QUERY_KIND {
                queries.push(d);
            } else {
                state.docs.insert((d.account, d.region, d.kind, d.name), d.body);
            }
        }
        Ok(Engine { clock, store, state: RwLock::new(state), expiry: tokio::sync::Mutex::new(()), restored_queries: parking_lot::Mutex::new(queries) })
    }

    /// Runs `f` with shared access to groups and streams.
    pub fn read<R>(&self, f: impl FnOnce(&State) -> R) -> R {
        f(&self.state.read())
    }

    /// Waits until every event accepted before this call can be read.
    pub async fn sync(&self) -> LogsResult<()> {
        self.store.barrier().wait().await.map_err(LogsError::Internal)
    }

    /// Events of one stream (by id) within `scan`; call after [`Engine::sync`].
    pub fn events(&self, stream: u64, scan: &Scan) -> LogsResult<Vec<EventRecord>> {
        self.store.read(stream, scan).map_err(internal)
    }

    pub fn create_group(&self, key: &GroupKey, tags: BTreeMap<String, String>) -> LogsResult<Pending> {
        let mut st = self.state.write();
        if st.groups.contains_key(key) {
            return Err(LogsError::GroupExists);
        }
        let mut g = Group::new(st.id(), self.clock.now_ms(), None);
        g.tags = tags;
        let pending = self.store.apply(vec![Mutation::PutGroup(group_record(key, &g))]);
        st.groups.insert(key.clone(), g);
        Ok(pending)
    }

    pub fn delete_group(&self, key: &GroupKey) -> LogsResult<Pending> {
        let mut st = self.state.write();
        let g = st.groups.remove(key).ok_or(LogsError::GroupNotFound)?;
        let streams = g.streams.values().map(|s| s.id).collect();
        Ok(self.store.apply(vec![Mutation::DeleteGroup { id: g.id, streams }]))
    }

    /// Changes a group's tags with `f` (which may refuse); stored before the caller answers.
    pub fn change_tags(&self, key: &GroupKey, f: impl FnOnce(&mut BTreeMap<String, String>) -> LogsResult<()>) -> LogsResult<Pending> {
        let mut st = self.state.write();
        let g = st.group_mut(key)?;
        let mut tags = g.tags.clone();
        f(&mut tags)?;
        g.tags = tags;
        Ok(self.store.apply(vec![Mutation::PutGroup(group_record(key, g))]))
    }

    pub fn set_retention(&self, key: &GroupKey, days: Option<u32>) -> LogsResult<Pending> {
        let mut st = self.state.write();
        let g = st.group_mut(key)?;
        g.retention_days = days;
        Ok(self.store.apply(vec![Mutation::PutGroup(group_record(key, g))]))
    }

    pub fn create_stream(&self, key: &GroupKey, name: &str) -> LogsResult<Pending> {
        let mut st = self.state.write();
        let id = st.id();
        let g = st.group_mut(key)?;
        if g.streams.contains_key(name) {
            return Err(LogsError::StreamExists);
        }
        let s = Stream::new(id, self.clock.now_ms());
        let pending = self.store.apply(vec![Mutation::PutStream(StreamRecord { id, group: g.id, name: name.to_string(), created_ms: s.created_ms })]);
        g.streams.insert(name.to_string(), s);
        Ok(pending)
    }

    pub fn delete_stream(&self, key: &GroupKey, name: &str) -> LogsResult<Pending> {
        let mut st = self.state.write();
        let g = st.group_mut(key)?;
        let s = g.streams.remove(name).ok_or(LogsError::StreamNotFound)?;
        Ok(self.store.apply(vec![Mutation::DeleteStream(s.id)]))
    }

    /// Stores already-validated events in an existing stream; returns the commit and the
    /// stream's new upload count.
    pub fn put_events(&self, key: &GroupKey, stream: &str, events: Vec<(u64, String)>) -> LogsResult<(Pending, u64, Vec<EventRecord>)> {
        let now = self.clock.now_ms();
        let mut st = self.state.write();
        let id = st.group(key)?.streams.get(stream).ok_or(LogsError::StreamNotFound)?.id;
        let records = st.records(now, events);
        let s = st.group_mut(key)?.streams.get_mut(stream).ok_or(LogsError::StreamNotFound)?;
        s.note(&records);
        s.uploads += 1;
        let uploads = s.uploads;
        let accepted = records.clone();
        Ok((self.store.apply(vec![Mutation::InsertEvents { stream: id, events: records }]), uploads, accepted))
    }

    /// The log sink's path: creates the group and stream if missing, then stores the
    /// events unvalidated. Submits to the store without waiting.
    pub fn append(&self, key: &GroupKey, stream: &str, events: Vec<(u64, String)>) -> (Pending, Vec<EventRecord>) {
        let now = self.clock.now_ms();
        let mut batch = Vec::new();
        let mut st = self.state.write();
        if !st.groups.contains_key(key) {
            let g = Group::new(st.id(), now, None);
            batch.push(Mutation::PutGroup(group_record(key, &g)));
            st.groups.insert(key.clone(), g);
        }
        let new_id = st.id();
        let records = st.records(now, events);
        let Some(g) = st.groups.get_mut(key) else { return (Pending::done(), Vec::new()) };
        let group_id = g.id;
        let s = g.streams.entry(stream.to_string()).or_insert_with(|| {
            batch.push(Mutation::PutStream(StreamRecord { id: new_id, group: group_id, name: stream.to_string(), created_ms: now }));
            Stream::new(new_id, now)
        });
        s.note(&records);
        let accepted = records.clone();
        if !records.is_empty() {
            batch.push(Mutation::InsertEvents { stream: s.id, events: records });
        }
        (self.store.apply(batch), accepted)
    }

    /// Bytes of each stream of `key` (by id) that are past retention but not deleted
    /// yet: AWS leaves events "marked for deletion" out of `storedBytes`. Reads the
    /// store only for streams that hold such events.
    pub async fn hidden_bytes(&self, key: &GroupKey) -> LogsResult<HashMap<u64, u64>> {
        let now = self.clock.now_ms();
        let (cutoff, streams) = self.read(|st| {
            let Ok(g) = st.group(key) else { return (0, Vec::new()) };
            let cutoff = g.cutoff(now);
            (cutoff, g.streams.values().filter(|s| s.first_ts.is_some_and(|t| t < cutoff)).map(|s| s.id).collect::<Vec<u64>>())
        });
        let mut out = HashMap::new();
        if streams.is_empty() {
            return Ok(out);
        }
        self.sync().await?;
        for id in streams {
            out.insert(id, self.store.bytes_before(id, cutoff).map_err(internal)?);
        }
        Ok(out)
    }

    /// The group's filters now (empty when the group does not exist).
    pub fn filter_set(&self, key: &GroupKey) -> FilterSet {
        let st = self.state.read();
        let Some(g) = st.groups.get(key) else { return FilterSet::default() };
        FilterSet { metric: g.metric_filters.values().cloned().collect(), subscriptions: g.subscriptions.values().cloned().collect() }
    }

    /// Creates or replaces a metric filter; at most `limit` per group.
    pub fn put_metric_filter(&self, key: &GroupKey, filter: Compiled<MetricFilterDef>, limit: usize) -> LogsResult<Pending> {
        let mut st = self.state.write();
        let g = st.group_mut(key)?;
        let name = filter.def.filter_name.clone();
        if !g.metric_filters.contains_key(&name) && g.metric_filters.len() >= limit {
            return Err(LogsError::LimitExceeded);
        }
        let body = serde_json::to_string(&filter.def).map_err(|e| LogsError::Internal(e.to_string()))?;
        let pending = self.store.apply(vec![Mutation::PutFilter(FilterRecord { group: g.id, kind: filters::METRIC.into(), name: name.clone(), body })]);
        g.metric_filters.insert(name, Arc::new(filter));
        Ok(pending)
    }

    /// Creates or replaces a subscription filter; at most `limit` per group.
    pub fn put_subscription(&self, key: &GroupKey, filter: Compiled<SubscriptionDef>, limit: usize) -> LogsResult<Pending> {
        let mut st = self.state.write();
        let g = st.group_mut(key)?;
        let name = filter.def.filter_name.clone();
        if !g.subscriptions.contains_key(&name) && g.subscriptions.len() >= limit {
            return Err(LogsError::LimitExceeded);
        }
        let body = serde_json::to_string(&filter.def).map_err(|e| LogsError::Internal(e.to_string()))?;
        let pending = self.store.apply(vec![Mutation::PutFilter(FilterRecord { group: g.id, kind: filters::SUBSCRIPTION.into(), name: name.clone(), body })]);
        g.subscriptions.insert(name, Arc::new(filter));
        Ok(pending)
    }

    /// Deletes a filter of `kind` (`filters::METRIC` or `filters::SUBSCRIPTION`).
    pub fn delete_filter(&self, key: &GroupKey, kind: &str, name: &str) -> LogsResult<Pending> {
        let mut st = self.state.write();
        let g = st.group_mut(key)?;
        let removed = if kind == filters::METRIC { g.metric_filters.remove(name).is_some() } else { g.subscriptions.remove(name).is_some() };
        if !removed {
            return Err(LogsError::FilterNotFound);
        }
        Ok(self.store.apply(vec![Mutation::DeleteFilter { group: g.id, kind: kind.into(), name: name.into() }]))
    }

    /// Changes the account-level document `key` with `f`, which sees the documents of
    /// its kind in the account and region and the current one, and answers the new body
    /// (`None` deletes it). Stored before the caller answers.
    pub fn change_doc<R>(&self, key: DocKey, f: impl FnOnce(&BTreeMap<DocKey, String>, Option<&String>) -> LogsResult<(Option<String>, R)>) -> LogsResult<(Pending, R)> {
        let mut st = self.state.write();
        let (body, out) = f(&st.docs, st.docs.get(&key))?;
        let (account, region, kind, name) = key.clone();
        let m = match &body {
            Some(b) => Mutation::PutDoc(DocRecord { account, region, kind, name, body: b.clone() }),
            None => Mutation::DeleteDoc { account, region, kind, name },
        };
        match body {
            Some(b) => st.docs.insert(key, b),
            None => st.docs.remove(&key),
        };
        Ok((self.store.apply(vec![m]), out))
    }

    /// The queries found in the store at start (once).
    pub fn take_restored_queries(&self) -> Vec<DocRecord> {
        std::mem::take(&mut *self.restored_queries.lock())
    }

    /// Writes or deletes documents that are not kept in memory (Logs Insights queries).
    pub fn apply_docs(&self, batch: Vec<Mutation>) -> Pending {
        self.store.apply(batch)
    }

    /// A document from the store; call after [`Engine::sync`].
    pub fn read_doc(&self, account: &str, region: &str, kind: &str, name: &str) -> LogsResult<Option<String>> {
        self.store.read_doc(account, region, kind, name).map_err(internal)
    }

    /// Every group's key (for the sweeper).
    pub fn group_keys(&self) -> Vec<GroupKey> {
        self.state.read().groups.keys().cloned().collect()
    }

    /// Deletes the group's events that are past retention and the deletion delay from
    /// the store, if due, and waits for it; the group's figures follow each pass. Passes
    /// delete at most [`EXPIRY_BATCH`] events per stream, so other writes to the store
    /// interleave with a large deletion instead of waiting for all of it.
    pub async fn expire(&self, key: &GroupKey) -> LogsResult<()> {
        let _one_at_a_time = self.expiry.lock().await;
        let Some((group_id, horizon, mut due)) = self.start_expiry(key) else { return Ok(()) };
        while !due.is_empty() {
            let expiry = self.store.expire(due, horizon, EXPIRY_BATCH);
            expiry.pending.wait().await.map_err(LogsError::Internal)?;
            let mut st = self.state.write();
            let Some(g) = st.groups.get_mut(key).filter(|g| g.id == group_id) else { return Ok(()) };
            due = Vec::new();
            for outcome in expiry.outcome.lock().iter() {
                if let Some(s) = g.streams.values_mut().find(|s| s.id == outcome.stream) {
                    s.expired(outcome);
                    if outcome.more {
                        due.push(outcome.stream);
                    }
                }
            }
            if due.is_empty() {
                g.expired_below = g.expired_below.max(horizon);
            }
        }
        Ok(())
    }

    /// The group's id, deletion horizon and the streams holding events below it, when a
    /// retention pass is due (not when the last one is recent).
    fn start_expiry(&self, key: &GroupKey) -> Option<(u64, u64, Vec<u64>)> {
        let now = self.clock.now_ms();
        let mut st = self.state.write();
        let g = st.groups.get_mut(key)?;
        let horizon = g.deletion_horizon(now);
        if horizon < g.expired_below.saturating_add(EXPIRY_STEP_MS) {
            return None;
        }
        let due: Vec<u64> = g.streams.values().filter(|s| s.first_ts.is_some_and(|t| t < horizon)).map(|s| s.id).collect();
        if due.is_empty() {
            g.expired_below = horizon;
            return None;
        }
        for s in g.streams.values_mut() {
            s.first_since_expiry = None;
        }
        Some((g.id, horizon, due))
    }
}

/// Runs retention over every group now and then: hourly on the server's clock (and at
/// once when the clock is moved). Needs a Tokio runtime; without one, reads still expire
/// the groups they touch.
pub fn spawn_sweeper(engine: &Arc<Engine>) {
    if tokio::runtime::Handle::try_current().is_err() {
        return;
    }
    let weak = Arc::downgrade(engine);
    let clock = engine.clock.clone();
    tokio::spawn(async move {
        loop {
            let Some(engine) = weak.upgrade() else { return };
            for key in engine.group_keys() {
                if let Err(e) = engine.expire(&key).await {
                    tracing::error!(error = ?e, group = %key.name, "log retention pass failed");
                }
            }
            drop(engine);
            clock.sleep_until(clock.now_ms() + EXPIRY_STEP_MS).await;
        }
    });
}
