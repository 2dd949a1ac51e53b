//! The table registry and the write path every operation shares: applying an item
//! change in memory (indexes, counts, TTL index), appending its stream record, and
//! handing both to the store in one batch while the table lock is held (so the store
//! sees changes in memory order); callers answer only after the batch committed.

use crate::backups::{Backup, BackupMeta};
use crate::errors::{DdbError, DdbResult};
use crate::keys::PKey;
use crate::schema::{StreamSettings, TableDef};
use crate::store::{DdbStore, Mutation};
use crate::streams::{event_name, images_for, shard_id, Stream, StreamMeta, StreamRecord};
use crate::table::TableState;
use crate::time::stream_label;
use nimbus_core::storage::{Pending, StorageError};
use nimbus_core::Clock;
use nimbus_dynamodb_expr::Item;
use parking_lot::{Mutex, RwLock};
use serde_json::Value;
use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use tokio::sync::{watch, Notify};

/// (account, region, table name)
pub type TableKey = (String, String, String);

pub struct Table {
    pub id: u64,
    pub state: Mutex<TableState>,
}

/// The durable changes of one API call, and the streams to wake once they committed.
#[derive(Default)]
pub struct Txn {
    pub batch: Vec<Mutation>,
    pub notify: Vec<(Arc<Stream>, u64)>,
    /// The writing request's downstream `X-Amzn-Trace-Id` (its DynamoDB segment as the
    /// parent), kept with the stream records it makes (never shown by GetRecords).
    pub trace: Option<Arc<str>>,
    /// Change records for the table's Kinesis destinations, sent once committed.
    pub kinesis: crate::kinesis_dest::Outgoing,
}

impl Txn {
    /// A transaction of the request `ctx` (its trace goes with the stream records).
    pub fn of(ctx: &nimbus_core::RequestContext) -> Txn {
        Txn { trace: ctx.downstream_trace().map(|t| Arc::from(t.render())), ..Txn::default() }
    }
}

/// A submitted batch: wait for the commit, then wake stream consumers.
pub struct Submitted {
    pending: Pending,
    notify: Vec<(Arc<Stream>, u64)>,
    kinesis: Option<(Arc<crate::kinesis_dest::KinesisOut>, crate::kinesis_dest::Outgoing)>,
}

impl Submitted {
    pub async fn wait(self) -> DdbResult<()> {
        self.pending.wait().await.map_err(DdbError::Internal)?;
        if let Some((out, records)) = self.kinesis {
            out.send(records);
        }
        for (stream, seq) in self.notify {
            stream.tx.send_if_modified(|v| {
                if *v < seq {
                    *v = seq;
                    true
                } else {
                    false
                }
            });
        }
        Ok(())
    }
}

/// A transaction's idempotency record: ClientRequestToken → the request it answered.
pub struct TokenRecord {
    pub expires_ms: u64,
    pub fingerprint: String,
    pub response: Value,
}

pub struct Engine {
    pub clock: Clock,
    store: Arc<dyn DdbStore>,
    tables: RwLock<BTreeMap<TableKey, Arc<Table>>>,
    next_table_id: AtomicU64,
    pub streams: RwLock<BTreeMap<String, Arc<Stream>>>,
    next_stream_id: AtomicU64,
    /// On-demand backups by ARN.
    pub backups: Mutex<BTreeMap<String, Backup>>,
    next_backup_id: AtomicU64,
    pub tokens: Mutex<HashMap<(String, String), TokenRecord>>,
    /// Wakes the TTL sweeper (TTL enabled, an item with a TTL written).
    pub ttl_wake: Arc<Notify>,
    /// The standard `AWS/DynamoDB` metrics (`metrics.rs`); a no-op until attached.
    pub metrics: nimbus_core::metrics::Metrics,
    /// Kinesis destinations' forwarder (`kinesis_dest.rs`).
    pub kinesis_out: Arc<crate::kinesis_dest::KinesisOut>,
}

impl Engine {
    pub fn new(clock: Clock, store: Arc<dyn DdbStore>) -> Result<Engine, StorageError> {
        let loaded = store.load()?;
        let mut tables = BTreeMap::new();
        let mut by_id: HashMap<u64, TableState> = HashMap::new();
        let mut max_table = 0;
        for def in loaded.tables {
            max_table = max_table.max(def.id);
            by_id.insert(def.id, TableState::new(def));
        }
        for (table, item) in loaded.items {
            if let Some(st) = by_id.get_mut(&table) {
                if let Some(key) = st.def.key.key_of(&item) {
                    st.put(&key, Some(Arc::new(item)));
                }
            }
        }
        for (id, st) in by_id {
            let key = (st.def.account.clone(), st.def.region.clone(), st.def.name.clone());
            tables.insert(key, Arc::new(Table { id, state: Mutex::new(st) }));
        }
        let mut records: HashMap<u64, Vec<StreamRecord>> = HashMap::new();
        for (stream, rec) in loaded.records {
            records.entry(stream).or_default().push(rec);
        }
        let first_seqs: HashMap<u64, u64> = loaded.first_seqs.into_iter().collect();
        let max_backup = loaded.backups.iter().map(|b| b.id).max().unwrap_or(0);
        let backups = loaded.backups.into_iter().map(|m| (m.arn.clone(), Backup { meta: Arc::new(m), items: None })).collect();
        let mut streams = BTreeMap::new();
        let mut max_stream = 0;
        for meta in loaded.streams {
            max_stream = max_stream.max(meta.id);
            let recs = records.remove(&meta.id).unwrap_or_default();
            let first = first_seqs.get(&meta.id).copied();
            streams.insert(meta.arn.clone(), Arc::new(Stream::new(meta, recs, first)));
        }
        Ok(Engine {
            clock,
            store,
            tables: RwLock::new(tables),
            next_table_id: AtomicU64::new(max_table + 1),
            streams: RwLock::new(streams),
            next_stream_id: AtomicU64::new(max_stream + 1),
            backups: Mutex::new(backups),
            next_backup_id: AtomicU64::new(max_backup + 1),
            tokens: Mutex::new(HashMap::new()),
            ttl_wake: Arc::new(Notify::new()),
            metrics: nimbus_core::metrics::Metrics::new(),
            kinesis_out: Default::default(),
        })
    }

    pub fn submit(&self, txn: Txn) -> Submitted {
        let kinesis = (!txn.kinesis.is_empty()).then(|| (self.kinesis_out.clone(), txn.kinesis));
        Submitted { pending: self.store.apply(txn.batch), notify: txn.notify, kinesis }
    }

    pub fn table(&self, account: &str, region: &str, name: &str) -> Option<Arc<Table>> {
        self.tables.read().get(&(account.to_string(), region.to_string(), name.to_string())).cloned()
    }

    pub fn table_names(&self, account: &str, region: &str) -> Vec<String> {
        self.tables.read().keys().filter(|(a, r, _)| a == account && r == region).map(|(_, _, n)| n.clone()).collect()
    }

    pub fn all_tables(&self) -> Vec<Arc<Table>> {
        self.tables.read().values().cloned().collect()
    }

    /// Registers a new table (with its stream when `view_type` is set); fails if the
    /// name is taken.
    pub fn create_table(&self, mut def: TableDef, view_type: Option<String>, txn: &mut Txn) -> DdbResult<Arc<Table>> {
        let key = (def.account.clone(), def.region.clone(), def.name.clone());
        let mut tables = self.tables.write();
        if tables.contains_key(&key) {
            return Err(DdbError::ResourceInUse(format!("Table already exists: {}", def.name)));
        }
        def.id = self.next_table_id.fetch_add(1, Ordering::Relaxed);
        if let Some(view) = view_type {
            self.open_stream(&mut def, view, txn);
        }
        txn.batch.push(Mutation::PutTable(Arc::new(def.clone())));
        let table = Arc::new(Table { id: def.id, state: Mutex::new(TableState::new(def)) });
        tables.insert(key, table.clone());
        Ok(table)
    }

    /// Removes a table from the registry; its stream is closed (and stays readable for
    /// 24 hours, as AWS keeps it).
    pub fn delete_table(&self, st: &mut TableState, txn: &mut Txn) {
        let key = (st.def.account.clone(), st.def.region.clone(), st.def.name.clone());
        self.tables.write().remove(&key);
        st.deleted = true;
        if let Some(s) = st.def.stream.take() {
            self.close_stream(&s.arn, txn);
        }
        if st.def.pitr.is_some() {
            txn.batch.push(Mutation::PitrDrop(st.def.id));
        }
        txn.batch.push(Mutation::DeleteTable(st.def.id));
    }

    /// Turns point-in-time recovery on (logging every current item as of now) or off
    /// (dropping the log). Only stores that keep records can hold the log.
    pub fn set_pitr(&self, st: &mut TableState, period_days: Option<u32>, txn: &mut Txn) -> DdbResult<()> {
        match (period_days, &mut st.def.pitr) {
            (Some(_), _) if !self.store.keeps_records() => {
                return Err(DdbError::validation("Point-in-time recovery is not supported by nimbus with --in-memory"));
            }
            (Some(days), Some(on)) => on.period_days = days,
            (Some(days), None) => {
                let now = self.clock.now_ms();
                st.def.pitr = Some(crate::schema::PitrSettings { enabled_ms: now, period_days: days });
                for (vkey, item) in &st.items {
                    txn.batch.push(Mutation::PitrLog { table: st.def.id, at_ms: now, key: vkey.key.to_bytes(), item: Some(item.clone()) });
                }
            }
            (None, Some(_)) => {
                st.def.pitr = None;
                txn.batch.push(Mutation::PitrDrop(st.def.id));
            }
            (None, None) => {}
        }
        self.put_def(st, txn);
        Ok(())
    }

    /// The table's items at `at_ms`, from its point-in-time log.
    pub fn pitr_items(&self, st: &TableState, at_ms: u64) -> DdbResult<Vec<Arc<Item>>> {
        Ok(self.store.pitr_items(st.def.id, at_ms)?.into_iter().map(Arc::new).collect())
    }

    /// Starts a new stream for the table (new label and ARN).
    pub fn open_stream(&self, def: &mut TableDef, view_type: String, txn: &mut Txn) {
        let now = self.clock.now_ms();
        let mut at = now;
        let label = loop {
            let label = stream_label(at);
            if def.latest_stream.as_ref().map(|s| s.label != label).unwrap_or(true) {
                break label;
            }
            at += 1;
        };
        let arn = format!("{}/stream/{}", def.arn(), label);
        let meta = StreamMeta {
            id: self.next_stream_id.fetch_add(1, Ordering::Relaxed),
            arn: arn.clone(),
            label: label.clone(),
            account: def.account.clone(),
            region: def.region.clone(),
            table_name: def.name.clone(),
            view_type: view_type.clone(),
            key: def.key.clone(),
            created_ms: now,
            shard_id: shard_id(now),
            closed_ms: None,
            next_seq_floor: 0,
        };
        txn.batch.push(Mutation::PutStream(Arc::new(meta.clone())));
        self.streams.write().insert(arn.clone(), Arc::new(Stream::new(meta, Vec::new(), None)));
        let settings = StreamSettings { view_type, arn, label };
        def.stream = Some(settings.clone());
        def.latest_stream = Some(settings);
    }

    pub fn close_stream(&self, arn: &str, txn: &mut Txn) {
        if let Some(stream) = self.stream(arn) {
            let mut s = stream.state.lock();
            if s.meta.closed_ms.is_none() {
                s.meta.closed_ms = Some(self.clock.now_ms());
                txn.batch.push(Mutation::PutStream(Arc::new(s.meta.clone())));
                let last = s.next_seq - 1;
                txn.notify.push((stream.clone(), last + 1));
            }
        }
    }

    pub fn stream(&self, arn: &str) -> Option<Arc<Stream>> {
        self.streams.read().get(arn).cloned()
    }

    /// For event-source mappings: a receiver whose value is the stream's last sequence
    /// number; it changes when new records are committed (and when the stream closes).
    /// Wait with `changed().await` — no polling needed.
    pub fn subscribe(&self, stream_arn: &str) -> Option<watch::Receiver<u64>> {
        self.stream(stream_arn).map(|s| s.tx.subscribe())
    }

    /// Puts (`Some`) or deletes (`None`) the item at `key`: memory, durable mutation,
    /// and a stream record when something changed. Returns the previous item.
    pub fn change(&self, st: &mut TableState, key: &PKey, new: Option<Arc<Item>>, by_service: bool, txn: &mut Txn) -> Option<Arc<Item>> {
        let old = st.get(key).cloned();
        let same = match (&old, &new) {
            (None, None) => true,
            (Some(a), Some(b)) => a == b,
            _ => false,
        };
        if same {
            return old;
        }
        let has_ttl = st.def.ttl_attribute.as_ref().is_some_and(|a| new.as_ref().is_some_and(|n| n.contains_key(a)));
        st.put(key, new.clone());
        match &new {
            Some(item) => txn.batch.push(Mutation::PutItem { table: st.def.id, key: key.to_bytes(), item: item.clone() }),
            None => txn.batch.push(Mutation::DeleteItem { table: st.def.id, key: key.to_bytes() }),
        }
        if st.def.pitr.is_some() {
            txn.batch.push(Mutation::PitrLog { table: st.def.id, at_ms: self.clock.now_ms(), key: key.to_bytes(), item: new.clone() });
        }
        if has_ttl {
            self.ttl_wake.notify_one();
        }
        if !st.def.kinesis.is_empty() {
            let keys = st.def.key.key_item(old.as_deref().or(new.as_deref()).unwrap_or(&Item::new()));
            crate::kinesis_dest::capture(&st.def, &keys, old.as_deref(), new.as_deref(), by_service, self.clock.now_ms(), txn);
        }
        if let Some(settings) = &st.def.stream {
            if let Some(stream) = self.stream(&settings.arn) {
                let keys = st.def.key.key_item(old.as_deref().or(new.as_deref()).unwrap_or(&Item::new()));
                let name = event_name(old.is_some(), new.is_some());
                let (o, n) = images_for(&settings.view_type, old.clone(), new);
                let mut s = stream.state.lock();
                let seq = s.next_seq;
                s.next_seq += 1;
                let record = Arc::new(StreamRecord {
                    seq,
                    event_id: uuid_hex(),
                    event_name: name,
                    created_ms: self.clock.now_ms(),
                    keys,
                    old: o,
                    new: n,
                    by_service,
                    trace: txn.trace.clone(),
                });
                s.push(record.clone());
                if self.store.keeps_records() {
                    let committed = *stream.tx.borrow();
                    s.evict(committed);
                }
                drop(s);
                txn.batch.push(Mutation::AppendRecord { stream: stream_id_of(&stream), record });
                txn.notify.push((stream, seq));
            }
        }
        old
    }

    /// Writes a table's changed definition.
    pub fn put_def(&self, st: &TableState, txn: &mut Txn) {
        txn.batch.push(Mutation::PutTable(Arc::new(st.def.clone())));
    }

    /// Drops stream records past retention and streams closed for longer than it. The
    /// retention point of records kept only in the store is found there, with the
    /// stream unlocked while the store is read.
    pub fn trim_streams(&self) {
        let now = self.clock.now_ms();
        let horizon = now.saturating_sub(crate::streams::RETENTION_MS);
        let mut txn = Txn::default();
        let mut gone = Vec::new();
        let streams: Vec<(String, Arc<Stream>)> = self.streams.read().iter().map(|(a, s)| (a.clone(), s.clone())).collect();
        for (arn, stream) in streams {
            let (id, first, tail_start) = {
                let s = stream.state.lock();
                (s.meta.id, s.first_seq, s.tail_start())
            };
            // Past retention in the store (older than the tail)…
            let mut keep_from = first;
            if self.store.keeps_records() && first < tail_start {
                match self.store.retained_from(id, first, tail_start, horizon) {
                    Ok(seq) => keep_from = seq,
                    Err(e) => tracing::error!(error = %e, stream = id, "stream retention: reading the store failed"),
                }
            }
            let mut s = stream.state.lock();
            // …and in the tail.
            if keep_from >= s.tail_start() {
                keep_from = s.records.iter().find(|r| r.created_ms >= horizon).map_or(s.next_seq, |r| r.seq);
            }
            if keep_from > s.first_seq {
                s.trim_below(keep_from);
                txn.batch.push(Mutation::TrimRecords { stream: id, below: keep_from });
                if keep_from >= s.next_seq {
                    // Nothing left to read the next number from after a restart.
                    s.meta.next_seq_floor = s.next_seq;
                    txn.batch.push(Mutation::PutStream(Arc::new(s.meta.clone())));
                }
            }
            if s.meta.closed_ms.is_some_and(|c| c < horizon) {
                gone.push((arn, id));
            }
        }
        for table in self.all_tables() {
            let st = table.state.lock();
            if let Some(p) = &st.def.pitr {
                let horizon_ms = now.saturating_sub(p.period_days as u64 * 86_400_000);
                txn.batch.push(Mutation::PitrTrim { table: st.def.id, horizon_ms });
            }
        }
        if !gone.is_empty() {
            let mut streams = self.streams.write();
            for (arn, id) in gone {
                streams.remove(&arn);
                txn.batch.push(Mutation::DeleteStream(id));
            }
        }
        if !txn.batch.is_empty() {
            drop(self.store.apply(txn.batch));
        }
    }

    /// Takes a backup of `st` (definition and items, as of now) named `name`.
    pub fn create_backup(&self, st: &TableState, name: &str, txn: &mut Txn) -> Arc<BackupMeta> {
        let created_ms = self.clock.now_ms();
        let items: Arc<Vec<Arc<Item>>> = Arc::new(st.items.values().cloned().collect());
        let meta = Arc::new(BackupMeta {
            id: self.next_backup_id.fetch_add(1, Ordering::Relaxed),
            arn: crate::backups::backup_arn(&st.def, created_ms),
            name: name.to_string(),
            table: st.def.clone(),
            created_ms,
            item_count: items.len() as u64,
            size_bytes: st.size_bytes,
        });
        txn.batch.push(Mutation::PutBackup { meta: meta.clone(), items: items.clone() });
        let kept = (!self.store.keeps_records()).then_some(items);
        self.backups.lock().insert(meta.arn.clone(), Backup { meta: meta.clone(), items: kept });
        meta
    }

    pub fn delete_backup(&self, arn: &str, txn: &mut Txn) -> Option<Arc<BackupMeta>> {
        let gone = self.backups.lock().remove(arn)?;
        txn.batch.push(Mutation::DeleteBackup(gone.meta.id));
        Some(gone.meta)
    }

    /// A backup's items: from memory, or read back from the store.
    pub fn backup_items(&self, backup: &Backup) -> DdbResult<Vec<Arc<Item>>> {
        match &backup.items {
            Some(items) => Ok(items.iter().cloned().collect()),
            None => Ok(self.store.backup_items(backup.meta.id)?.into_iter().map(Arc::new).collect()),
        }
    }

    /// Up to `limit` records of `stream` from sequence number `from` on: the tail's from
    /// memory, older ones from the store (read with the stream unlocked).
    pub fn read_stream(&self, stream: &Stream, mut from: u64, limit: usize) -> DdbResult<Vec<Arc<StreamRecord>>> {
        let mut out: Vec<Arc<StreamRecord>> = Vec::new();
        while out.len() < limit {
            let (id, below) = {
                let s = stream.state.lock();
                let start = s.tail_start();
                if from >= start || !self.store.keeps_records() {
                    out.extend(s.records.iter().filter(|r| r.seq >= from).take(limit - out.len()).cloned());
                    return Ok(out);
                }
                (s.meta.id, start)
            };
            let older = self.store.read_records(id, from, below, limit - out.len()).map_err(|e| DdbError::Internal(e.to_string()))?;
            from = if older.len() < limit - out.len() { below } else { older.last().map_or(below, |r| r.seq + 1) };
            out.extend(older.into_iter().map(Arc::new));
        }
        Ok(out)
    }
}

impl Engine {
    /// Forgets transaction tokens older than their 10-minute window.
    pub fn expire_tokens(&self) {
        let now = self.clock.now_ms();
        self.tokens.lock().retain(|_, t| t.expires_ms > now);
    }
}

fn stream_id_of(stream: &Stream) -> u64 {
    stream.state.lock().meta.id
}

/// A 32-hex-digit event id, like AWS's.
fn uuid_hex() -> String {
    format!("{:032x}", rand::random::<u128>())
}
