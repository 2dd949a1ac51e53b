//! `cloudwatch.db`: metrics (namespace, name, dimensions; one row each) and their
//! datapoints (time, unit, count/sum/min/max and, for raw values, the values with their
//! counts), read per query; alarms (one JSON document each, loaded at open: the alarm
//! engine keeps them in memory) and the alarm history (read per DescribeAlarmHistory,
//! trimmed to AWS's 30 days). Writes go through core's group-committing writer; reads
//! first wait for every earlier write (a barrier).

use nimbus_core::storage::{DomainStore, Durability, Pending, StorageError};
use rusqlite::{params, Connection, OptionalExtension};
use std::path::Path;

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS metrics (
  id INTEGER PRIMARY KEY, account TEXT NOT NULL, region TEXT NOT NULL, namespace TEXT NOT NULL,
  name TEXT NOT NULL, dims TEXT NOT NULL,
  UNIQUE (account, region, namespace, name, dims));
CREATE TABLE IF NOT EXISTS datapoints (
  metric INTEGER NOT NULL, ts_ms INTEGER NOT NULL, unit TEXT NOT NULL,
  count REAL NOT NULL, sum REAL NOT NULL, min REAL NOT NULL, max REAL NOT NULL, vals TEXT);
CREATE INDEX IF NOT EXISTS datapoints_by_metric ON datapoints (metric, ts_ms);
CREATE TABLE IF NOT EXISTS alarms (
  account TEXT NOT NULL, region TEXT NOT NULL, name TEXT NOT NULL, doc TEXT NOT NULL,
  PRIMARY KEY (account, region, name));
CREATE TABLE IF NOT EXISTS alarm_history (
  id INTEGER PRIMARY KEY, account TEXT NOT NULL, region TEXT NOT NULL, name TEXT NOT NULL,
  composite INTEGER NOT NULL, ts_ms INTEGER NOT NULL, kind TEXT NOT NULL, summary TEXT NOT NULL, data TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS alarm_history_by_time ON alarm_history (account, region, ts_ms);
";

/// One alarm history item as stored (`kind`: StateUpdate, ConfigurationUpdate or Action).
#[derive(Debug, Clone, PartialEq)]
pub struct HistoryRow {
    pub account: String,
    pub region: String,
    pub name: String,
    pub composite: bool,
    pub ts_ms: i64,
    pub kind: String,
    pub summary: String,
    pub data: String,
}

/// A change to the alarms or their history.
pub enum AlarmChange {
    Put { account: String, region: String, name: String, doc: String },
    Delete { account: String, region: String, name: String },
    History(HistoryRow),
    /// Drops history older than the time (AWS keeps 30 days).
    TrimHistory { before_ms: i64 },
}

/// What DescribeAlarmHistory asks for.
pub struct HistoryQuery<'a> {
    pub account: &'a str,
    pub region: &'a str,
    pub name: Option<&'a str>,
    pub kind: Option<&'a str>,
    /// Which alarm types: (metric, composite).
    pub types: (bool, bool),
    pub from_ms: i64,
    pub to_ms: i64,
    pub ascending: bool,
    /// The row id the previous page ended on.
    pub after: Option<i64>,
    pub limit: usize,
}

fn write_alarm(conn: &Connection, c: &AlarmChange) -> rusqlite::Result<()> {
    match c {
        AlarmChange::Put { account, region, name, doc } => {
            conn.prepare_cached("INSERT OR REPLACE INTO alarms (account, region, name, doc) VALUES (?1, ?2, ?3, ?4)")?.execute(params![account, region, name, doc])?;
        }
        AlarmChange::Delete { account, region, name } => {
            conn.prepare_cached("DELETE FROM alarms WHERE account = ?1 AND region = ?2 AND name = ?3")?.execute(params![account, region, name])?;
        }
        AlarmChange::History(h) => {
            conn.prepare_cached("INSERT INTO alarm_history (account, region, name, composite, ts_ms, kind, summary, data) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)")?
                .execute(params![h.account, h.region, h.name, h.composite, h.ts_ms, h.kind, h.summary, h.data])?;
        }
        AlarmChange::TrimHistory { before_ms } => {
            conn.prepare_cached("DELETE FROM alarm_history WHERE ts_ms < ?1")?.execute(params![before_ms])?;
        }
    }
    Ok(())
}

/// A metric's identity. `dims`: canonical JSON `[[name, value], …]` sorted by name.
#[derive(Debug, Clone, PartialEq)]
pub struct MetricKey {
    pub account: String,
    pub region: String,
    pub namespace: String,
    pub name: String,
    pub dims: String,
}

/// One stored datapoint: a value, a set of values with counts, or a statistic set.
#[derive(Debug, Clone, PartialEq)]
pub struct Point {
    pub ts_ms: i64,
    pub unit: String,
    pub count: f64,
    pub sum: f64,
    pub min: f64,
    pub max: f64,
    /// `(value, count)` pairs when the raw values are known (percentiles need them).
    pub values: Option<Vec<(f64, f64)>>,
}

/// One PutMetricData datum's points for one metric.
pub struct Change {
    pub key: MetricKey,
    pub points: Vec<Point>,
}

/// The stored alarm documents, loaded once at open.
pub struct Store(DomainStore<Vec<String>>);

fn load(c: &Connection) -> Result<Vec<String>, StorageError> {
    let mut stmt = c.prepare("SELECT doc FROM alarms ORDER BY account, region, name")?;
    let docs = stmt.query_map([], |r| r.get(0))?.collect::<rusqlite::Result<Vec<String>>>()?;
    Ok(docs)
}

fn encode_values(v: &Option<Vec<(f64, f64)>>) -> Option<String> {
    v.as_ref().map(|pairs| serde_json::Value::from(pairs.iter().map(|(v, c)| serde_json::json!([v, c])).collect::<Vec<_>>()).to_string())
}

fn decode_values(text: Option<String>) -> Option<Vec<(f64, f64)>> {
    let doc: serde_json::Value = serde_json::from_str(&text?).ok()?;
    doc.as_array()?.iter().map(|p| Some((p.get(0)?.as_f64()?, p.get(1)?.as_f64()?))).collect()
}

fn write(conn: &Connection, c: &Change) -> rusqlite::Result<()> {
    let k = &c.key;
    conn.prepare_cached("INSERT OR IGNORE INTO metrics (account, region, namespace, name, dims) VALUES (?1, ?2, ?3, ?4, ?5)")?
        .execute(params![k.account, k.region, k.namespace, k.name, k.dims])?;
    let id: i64 = conn
        .prepare_cached("SELECT id FROM metrics WHERE account = ?1 AND region = ?2 AND namespace = ?3 AND name = ?4 AND dims = ?5")?
        .query_row(params![k.account, k.region, k.namespace, k.name, k.dims], |r| r.get(0))?;
    let mut insert = conn.prepare_cached("INSERT INTO datapoints VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)")?;
    for p in &c.points {
        insert.execute(params![id, p.ts_ms, p.unit, p.count, p.sum, p.min, p.max, encode_values(&p.values)])?;
    }
    Ok(())
}

/// A listed metric: its row id (the ListMetrics position), namespace, name and dims.
pub type Listed = (i64, String, String, String);

impl Store {
    /// `None`: `--in-memory` (an SQLite database in memory).
    pub fn open(path: Option<&Path>, durability: Durability) -> Result<Store, StorageError> {
        let path = path.unwrap_or(Path::new(":memory:"));
        DomainStore::open(path, durability, "cloudwatch", SCHEMA, load).map(Store)
    }

    pub fn apply(&self, changes: Vec<Change>) -> Pending {
        self.0.apply(changes, write)
    }

    /// The alarm documents stored at open (once).
    pub fn loaded_alarms(&self) -> Vec<String> {
        self.0.take_loaded()
    }

    pub fn apply_alarms(&self, changes: Vec<AlarmChange>) -> Pending {
        self.0.apply(changes, write_alarm)
    }

    /// A page of alarm history: `(row id, item)`.
    pub fn history(&self, q: &HistoryQuery<'_>) -> Result<Vec<(i64, HistoryRow)>, StorageError> {
        let order = if q.ascending { "ASC" } else { "DESC" };
        let after_cmp = if q.ascending { "id > ?8" } else { "id < ?8" };
        let sql = format!(
            "SELECT id, account, region, name, composite, ts_ms, kind, summary, data FROM alarm_history \
             WHERE account = ?1 AND region = ?2 AND (?3 IS NULL OR name = ?3) AND (?4 IS NULL OR kind = ?4) \
             AND ((composite = 0 AND ?5) OR (composite = 1 AND ?6)) AND ts_ms >= ?7 AND ts_ms <= ?9 AND (?8 IS NULL OR {after_cmp}) \
             ORDER BY id {order} LIMIT ?10"
        );
        self.0.read(|c| {
            let mut stmt = c.prepare_cached(&sql)?;
            let rows = stmt.query_map(params![q.account, q.region, q.name, q.kind, q.types.0, q.types.1, q.from_ms, q.after, q.to_ms, q.limit as i64], |r| {
                Ok((
                    r.get(0)?,
                    HistoryRow { account: r.get(1)?, region: r.get(2)?, name: r.get(3)?, composite: r.get(4)?, ts_ms: r.get(5)?, kind: r.get(6)?, summary: r.get(7)?, data: r.get(8)? },
                ))
            })?;
            rows.collect()
        })
    }

    /// Waits until every write submitted before it is committed.
    pub async fn barrier(&self) -> Result<(), StorageError> {
        self.0.submit(Box::new(|_| Ok(()))).wait().await.map_err(|e| StorageError::Io(std::io::Error::other(e)))
    }

    /// Metrics after row `after` in row order, filtered by namespace and name.
    pub fn metrics(&self, account: &str, region: &str, namespace: Option<&str>, name: Option<&str>, after: i64) -> Result<Vec<Listed>, StorageError> {
        self.0.read(|c| {
            let mut stmt = c.prepare_cached(
                "SELECT id, namespace, name, dims FROM metrics WHERE account = ?1 AND region = ?2 AND id > ?3 \
                 AND (?4 IS NULL OR namespace = ?4) AND (?5 IS NULL OR name = ?5) ORDER BY id",
            )?;
            let rows = stmt.query_map(params![account, region, after, namespace, name], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))?;
            rows.collect()
        })
    }

    /// The row id of a metric, if it has ever had data.
    pub fn metric_id(&self, k: &MetricKey) -> Result<Option<i64>, StorageError> {
        self.0.read(|c| {
            c.prepare_cached("SELECT id FROM metrics WHERE account = ?1 AND region = ?2 AND namespace = ?3 AND name = ?4 AND dims = ?5")?
                .query_row(params![k.account, k.region, k.namespace, k.name, k.dims], |r| r.get(0))
                .optional()
        })
    }

    /// A metric's datapoints with `from <= ts < to`, in time order.
    pub fn points(&self, metric: i64, from_ms: i64, to_ms: i64) -> Result<Vec<Point>, StorageError> {
        self.0.read(|c| {
            let mut stmt = c.prepare_cached("SELECT ts_ms, unit, count, sum, min, max, vals FROM datapoints WHERE metric = ?1 AND ts_ms >= ?2 AND ts_ms < ?3 ORDER BY ts_ms")?;
            let rows = stmt.query_map(params![metric, from_ms, to_ms], |r| {
                Ok(Point { ts_ms: r.get(0)?, unit: r.get(1)?, count: r.get(2)?, sum: r.get(3)?, min: r.get(4)?, max: r.get(5)?, values: decode_values(r.get(6)?) })
            })?;
            rows.collect()
        })
    }
}
