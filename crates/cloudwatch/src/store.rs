//! `cloudwatch.db`: metrics (namespace, name, dimensions; one row each) and their
//! datapoints (time, unit, count/sum/min/max and, for raw values, the values with their
//! counts). Nothing is held in memory: every query reads what it needs. Writes go through
//! core's group-committing writer; reads first wait for every earlier write (a barrier).

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
";

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

pub struct Store(DomainStore<()>);

fn load(_: &Connection) -> Result<(), StorageError> {
    Ok(())
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
