//! `xray.db`: every segment document (one row per trace and segment id; a finished
//! segment replaces the in-progress one with its id, never the reverse) and one summary
//! row per trace, recomputed from the trace's documents whenever one of them arrives.
//! Nothing grows in memory: reads go to SQLite. Writes go through core's group-committing
//! writer (only the recorder's writer thread submits them, see `recorder.rs`).

use crate::segments::Doc;
use crate::summary::{self, Part};
use nimbus_core::storage::{DomainStore, Durability, Pending, StorageError};
use rusqlite::{params, Connection, OptionalExtension};
use serde_json::Value;
use std::collections::BTreeSet;
use std::path::Path;

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS segments (
  trace_id TEXT NOT NULL, id TEXT NOT NULL, parent_id TEXT, sub INTEGER NOT NULL,
  start REAL NOT NULL, end_time REAL, doc TEXT NOT NULL,
  PRIMARY KEY (trace_id, id)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS traces (
  trace_id TEXT PRIMARY KEY, id_time REAL NOT NULL, start REAL NOT NULL, end_time REAL NOT NULL,
  updated REAL NOT NULL, summary TEXT NOT NULL) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS traces_by_id_time ON traces (id_time, trace_id);
CREATE INDEX IF NOT EXISTS traces_by_updated ON traces (updated, trace_id);
CREATE INDEX IF NOT EXISTS traces_by_end ON traces (end_time, trace_id);
CREATE TABLE IF NOT EXISTS sampling_rules (name TEXT PRIMARY KEY, rule TEXT NOT NULL, created REAL NOT NULL, modified REAL NOT NULL);
";

/// Which time GetTraceSummaries' range applies to (`TimeRangeType`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum TimeColumn {
    /// The time in the trace id (the trace's start).
    TraceId,
    /// When the trace was last updated (a document arrived).
    Event,
    /// The trace's last segment end time.
    Service,
}

impl TimeColumn {
    fn column(self) -> &'static str {
        match self {
            TimeColumn::TraceId => "id_time",
            TimeColumn::Event => "updated",
            TimeColumn::Service => "end_time",
        }
    }
}

/// A stored document: `(id, parent_id, is a separate subsegment, document text)`.
pub type StoredDoc = (String, Option<String>, bool, String);

pub struct Store(DomainStore<()>);

fn load(_: &Connection) -> Result<(), StorageError> {
    Ok(())
}

/// The epoch seconds in a trace id (`1-<8 hex>-…`).
pub fn id_time(trace_id: &str) -> f64 {
    trace_id.get(2..10).and_then(|h| u32::from_str_radix(h, 16).ok()).map(f64::from).unwrap_or(0.0)
}

/// Writes a batch of documents and recomputes the summaries of the traces they touch.
fn write_batch(conn: &Connection, docs: &[Doc], now: f64) -> rusqlite::Result<()> {
    let mut upsert = conn.prepare_cached(
        "INSERT INTO segments (trace_id, id, parent_id, sub, start, end_time, doc) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)
         ON CONFLICT (trace_id, id) DO UPDATE SET parent_id = excluded.parent_id, sub = excluded.sub, start = excluded.start,
           end_time = excluded.end_time, doc = excluded.doc
         WHERE excluded.end_time IS NOT NULL OR segments.end_time IS NULL",
    )?;
    let mut touched = BTreeSet::new();
    for d in docs {
        upsert.execute(params![d.trace_id, d.id, d.parent_id, d.subsegment, d.start, d.end, d.doc.to_string()])?;
        touched.insert(d.trace_id.as_str());
    }
    for trace_id in touched {
        summarise(conn, trace_id, now)?;
    }
    Ok(())
}

/// Recomputes one trace's summary row from its documents.
fn summarise(conn: &Connection, trace_id: &str, now: f64) -> rusqlite::Result<()> {
    let mut stmt = conn.prepare_cached("SELECT id, parent_id, sub, start, end_time, doc FROM segments WHERE trace_id = ?1")?;
    let rows: Vec<(String, Option<String>, bool, f64, Option<f64>, Value)> = stmt
        .query_map([trace_id], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?, serde_json::from_str(&r.get::<_, String>(5)?).unwrap_or(Value::Null))))?
        .collect::<rusqlite::Result<_>>()?;
    if rows.is_empty() {
        return Ok(());
    }
    let parts: Vec<Part<'_>> = rows.iter().map(|(id, p, sub, s, e, doc)| Part { id, parent_id: p.as_deref(), subsegment: *sub, start: *s, end: *e, doc }).collect();
    let c = summary::compute(trace_id, &parts);
    conn.prepare_cached("INSERT OR REPLACE INTO traces (trace_id, id_time, start, end_time, updated, summary) VALUES (?1, ?2, ?3, ?4, ?5, ?6)")?
        .execute(params![trace_id, id_time(trace_id), c.start, c.end, now, c.summary.to_string()])?;
    Ok(())
}

impl Store {
    /// `None`: `--in-memory` (an SQLite database in memory).
    pub fn open(path: Option<&Path>, durability: Durability) -> Result<Store, StorageError> {
        let path = path.unwrap_or(Path::new(":memory:"));
        DomainStore::open(path, durability, "xray", SCHEMA, load).map(Store)
    }

    /// Submits a batch of documents (`now`: epoch seconds, the traces' update time).
    pub fn write(&self, docs: Vec<Doc>, now: f64) -> Pending {
        if docs.is_empty() {
            return Pending::done();
        }
        self.0.submit(Box::new(move |conn| write_batch(conn, &docs, now)))
    }

    /// Deletes traces whose last update is before `before` (epoch seconds), with their
    /// documents.
    pub fn sweep(&self, before: f64) -> Pending {
        self.0.submit(Box::new(move |conn| {
            conn.prepare_cached("DELETE FROM segments WHERE trace_id IN (SELECT trace_id FROM traces WHERE updated < ?1)")?.execute([before])?;
            conn.prepare_cached("DELETE FROM traces WHERE updated < ?1")?.execute([before])?;
            Ok(())
        }))
    }

    /// Summaries with `from <= time <= to`, newest first, strictly after `cursor`
    /// (`(time, trace id)` of the last one returned), each handed to `visit` until it says
    /// stop. `visit` gets the time and the summary text.
    pub fn scan(&self, col: TimeColumn, from: f64, to: f64, alive_after: f64, cursor: Option<(f64, String)>, visit: &mut dyn FnMut(f64, &str, &str) -> bool) -> Result<(), StorageError> {
        let c = col.column();
        // No cursor: every row is before (MAX, "").
        let (ct, cid) = cursor.unwrap_or((f64::MAX, String::new()));
        self.0.read(|conn| {
            let sql = format!(
                "SELECT {c}, trace_id, summary FROM traces WHERE {c} >= ?1 AND {c} <= ?2 AND ({c}, trace_id) < (?3, ?4) AND updated >= ?5 ORDER BY {c} DESC, trace_id DESC"
            );
            let mut stmt = conn.prepare_cached(&sql)?;
            let mut rows = stmt.query(params![from, to, ct, cid, alive_after])?;
            while let Some(r) = rows.next()? {
                let t: f64 = r.get(0)?;
                let id = r.get_ref(1)?.as_str().map_err(|e| rusqlite::Error::FromSqlConversionFailure(1, rusqlite::types::Type::Text, Box::new(e)))?;
                let s = r.get_ref(2)?.as_str().map_err(|e| rusqlite::Error::FromSqlConversionFailure(2, rusqlite::types::Type::Text, Box::new(e)))?;
                if !visit(t, id, s) {
                    break;
                }
            }
            Ok(())
        })
    }

    /// One trace's summary and its last update (epoch seconds).
    pub fn summary(&self, trace_id: &str) -> Result<Option<(Value, f64)>, StorageError> {
        self.0.read(|conn| {
            let s: Option<(String, f64)> = conn.prepare_cached("SELECT summary, updated FROM traces WHERE trace_id = ?1")?.query_row([trace_id], |r| Ok((r.get(0)?, r.get(1)?))).optional()?;
            Ok(s.and_then(|(s, u)| serde_json::from_str(&s).ok().map(|v| (v, u))))
        })
    }

    /// One trace's documents, in start order.
    pub fn docs(&self, trace_id: &str) -> Result<Vec<StoredDoc>, StorageError> {
        self.0.read(|conn| {
            let mut stmt = conn.prepare_cached("SELECT id, parent_id, sub, doc FROM segments WHERE trace_id = ?1 ORDER BY start, id")?;
            let rows = stmt.query_map([trace_id], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))?;
            rows.collect()
        })
    }

    /// Ids of traces whose last segment ended within `from..=to`, newest first, at most `limit`.
    pub fn traces_ending(&self, from: f64, to: f64, alive_after: f64, limit: usize) -> Result<Vec<String>, StorageError> {
        self.0.read(|conn| {
            let mut stmt = conn.prepare_cached("SELECT trace_id FROM traces WHERE end_time >= ?1 AND start <= ?2 AND updated >= ?3 ORDER BY end_time DESC LIMIT ?4")?;
            let rows = stmt.query_map(params![from, to, alive_after, limit as i64], |r| r.get(0))?;
            rows.collect()
        })
    }

    /// The sampling rules made with CreateSamplingRule: (rule, created, modified).
    pub fn rules(&self) -> Result<Vec<(Value, f64, f64)>, StorageError> {
        self.0.read(|conn| {
            let mut stmt = conn.prepare_cached("SELECT rule, created, modified FROM sampling_rules")?;
            let rows = stmt.query_map([], |r| Ok((serde_json::from_str(&r.get::<_, String>(0)?).unwrap_or(Value::Null), r.get(1)?, r.get(2)?)))?;
            rows.collect()
        })
    }

    /// Stores (or with `None` deletes) a sampling rule; committed in the background.
    pub fn put_rule(&self, name: &str, rule: Option<(Value, f64, f64)>) -> Pending {
        let name = name.to_string();
        self.0.submit(Box::new(move |conn| {
            match &rule {
                Some((r, c, m)) => conn.execute("INSERT OR REPLACE INTO sampling_rules VALUES (?1, ?2, ?3, ?4)", params![name, r.to_string(), c, m])?,
                None => conn.execute("DELETE FROM sampling_rules WHERE name = ?1", [&name])?,
            };
            Ok(())
        }))
    }

    /// How many traces are stored.
    pub fn count(&self) -> Result<u64, StorageError> {
        self.0.read(|conn| conn.query_row("SELECT count(*) FROM traces", [], |r| r.get::<_, i64>(0)).map(|n| n as u64))
    }
}
