//! Groups, streams and events in memory, and the glue to durable storage.
//!
//! One lock guards the whole registry: writes hold it briefly while they change memory
//! and submit the matching mutations to the store (so the store sees changes in memory
//! order); reads take it shared. Nothing waits for the disk under the lock — callers
//! await the returned `Pending` afterwards (or drop it, as the log sink does).

use crate::errors::{LogsError, LogsResult};
use crate::store::{EventRecord, GroupRecord, LogsStore, Mutation, StreamRecord};
use nimbus_core::storage::{Pending, StorageError};
use nimbus_core::Clock;
use parking_lot::RwLock;
use std::collections::BTreeMap;
use std::sync::Arc;

/// Bytes AWS counts per event on top of its message.
pub const EVENT_OVERHEAD: usize = 26;
pub const DAY_MS: u64 = 86_400_000;

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
    pub streams: BTreeMap<String, Stream>,
}

impl Group {
    /// The oldest timestamp still readable under the retention policy.
    pub fn cutoff(&self, now_ms: u64) -> u64 {
        self.retention_days.map(|d| now_ms.saturating_sub(d as u64 * DAY_MS)).unwrap_or(0)
    }

    pub fn stored_bytes(&self) -> u64 {
        self.streams.values().map(|s| s.stored_bytes).sum()
    }
}

pub struct Stream {
    pub id: u64,
    pub created_ms: u64,
    /// Ordered by (timestamp, seq).
    pub events: Vec<EventRecord>,
    pub last_ingestion_ms: Option<u64>,
    pub stored_bytes: u64,
    /// Counts accepted PutLogEvents calls (the upload sequence token).
    pub uploads: u64,
}

impl Stream {
    fn new(id: u64, created_ms: u64) -> Stream {
        Stream { id, created_ms, events: Vec::new(), last_ingestion_ms: None, stored_bytes: 0, uploads: 0 }
    }

    fn insert(&mut self, e: EventRecord) {
        let at = self.events.partition_point(|x| (x.timestamp, x.seq) < (e.timestamp, e.seq));
        self.stored_bytes += e.message.len() as u64;
        self.last_ingestion_ms = Some(self.last_ingestion_ms.unwrap_or(0).max(e.ingestion_ms));
        self.events.insert(at, e);
    }

    pub fn first_timestamp(&self) -> Option<u64> {
        self.events.first().map(|e| e.timestamp)
    }

    pub fn last_timestamp(&self) -> Option<u64> {
        self.events.iter().map(|e| e.timestamp).max()
    }
}

#[derive(Default)]
pub struct State {
    pub groups: BTreeMap<GroupKey, Group>,
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
}

pub struct Engine {
    pub clock: Clock,
    store: Arc<dyn LogsStore>,
    state: RwLock<State>,
}

fn group_record(key: &GroupKey, g: &Group) -> GroupRecord {
    GroupRecord { id: g.id, account: key.account.clone(), region: key.region.clone(), name: key.name.clone(), created_ms: g.created_ms, retention_days: g.retention_days }
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
            state.groups.insert(key, Group { id: g.id, created_ms: g.created_ms, retention_days: g.retention_days, streams: BTreeMap::new() });
        }
        let mut streams = BTreeMap::new();
        for s in loaded.streams {
            state.next_id = state.next_id.max(s.id);
            if let Some(key) = keys.get(&s.group) {
                streams.insert(s.id, (key.clone(), s.name.clone()));
                if let Some(g) = state.groups.get_mut(key) {
                    g.streams.insert(s.name, Stream::new(s.id, s.created_ms));
                }
            }
        }
        for (stream_id, e) in loaded.events {
            state.next_seq = state.next_seq.max(e.seq);
            let Some((key, name)) = streams.get(&stream_id) else { continue };
            if let Some(s) = state.groups.get_mut(key).and_then(|g| g.streams.get_mut(name)) {
                s.stored_bytes += e.message.len() as u64;
                s.last_ingestion_ms = Some(s.last_ingestion_ms.unwrap_or(0).max(e.ingestion_ms));
                s.events.push(e); // already ordered by (timestamp, seq)
            }
        }
        Ok(Engine { clock, store, state: RwLock::new(state) })
    }

    /// Runs `f` with shared access to everything.
    pub fn read<R>(&self, f: impl FnOnce(&State) -> R) -> R {
        f(&self.state.read())
    }

    pub fn create_group(&self, key: &GroupKey) -> LogsResult<Pending> {
        let mut st = self.state.write();
        if st.groups.contains_key(key) {
            return Err(LogsError::GroupExists);
        }
        let g = Group { id: st.id(), created_ms: self.clock.now_ms(), retention_days: None, streams: BTreeMap::new() };
        let pending = self.store.apply(vec![Mutation::PutGroup(group_record(key, &g))]);
        st.groups.insert(key.clone(), g);
        Ok(pending)
    }

    pub fn delete_group(&self, key: &GroupKey) -> LogsResult<Pending> {
        let mut st = self.state.write();
        let g = st.groups.remove(key).ok_or(LogsError::GroupNotFound)?;
        Ok(self.store.apply(vec![Mutation::DeleteGroup(g.id)]))
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
    pub fn put_events(&self, key: &GroupKey, stream: &str, events: Vec<(u64, String)>) -> LogsResult<(Pending, u64)> {
        let now = self.clock.now_ms();
        let mut st = self.state.write();
        let mut seq = st.next_seq;
        let g = st.group_mut(key)?;
        let s = g.streams.get_mut(stream).ok_or(LogsError::StreamNotFound)?;
        let records: Vec<EventRecord> = events
            .into_iter()
            .map(|(timestamp, message)| {
                seq += 1;
                EventRecord { seq, timestamp, ingestion_ms: now, message: Arc::from(message) }
            })
            .collect();
        for r in &records {
            s.insert(r.clone());
        }
        s.uploads += 1;
        let uploads = s.uploads;
        let pending = self.store.apply(vec![Mutation::InsertEvents { stream: s.id, events: records }]);
        st.next_seq = seq;
        Ok((pending, uploads))
    }

    /// The log sink's path: creates the group and stream if missing, then stores the
    /// events unvalidated. Submits to the store without waiting.
    pub fn append(&self, key: &GroupKey, stream: &str, events: Vec<(u64, String)>) -> Pending {
        let now = self.clock.now_ms();
        let mut batch = Vec::new();
        let mut st = self.state.write();
        if !st.groups.contains_key(key) {
            let g = Group { id: st.id(), created_ms: now, retention_days: None, streams: BTreeMap::new() };
            batch.push(Mutation::PutGroup(group_record(key, &g)));
            st.groups.insert(key.clone(), g);
        }
        let new_id = st.id();
        let mut seq = st.next_seq;
        let Some(g) = st.groups.get_mut(key) else { return Pending::done() };
        let group_id = g.id;
        let s = g.streams.entry(stream.to_string()).or_insert_with(|| {
            batch.push(Mutation::PutStream(StreamRecord { id: new_id, group: group_id, name: stream.to_string(), created_ms: now }));
            Stream::new(new_id, now)
        });
        let records: Vec<EventRecord> = events
            .into_iter()
            .map(|(timestamp, message)| {
                seq += 1;
                EventRecord { seq, timestamp, ingestion_ms: now, message: Arc::from(message) }
            })
            .collect();
        for r in &records {
            s.insert(r.clone());
        }
        if !records.is_empty() {
            batch.push(Mutation::InsertEvents { stream: s.id, events: records });
        }
        st.next_seq = seq;
        self.store.apply(batch)
    }
}
