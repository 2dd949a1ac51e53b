//! Durable Step Functions state, `stepfunctions.db` (`--in-memory`: SQLite in memory):
//! - `resources`: state machines, their versions and aliases, and activities, one JSON
//!   document per ARN, read back whole at start (configuration, bounded by AWS's quotas);
//! - `executions`: one row per STANDARD execution (its JSON record: status, input,
//!   output, and while it runs the checkpoint it resumes from), read per call — executions
//!   grow with use, so only running ones are held in memory;
//! - `history`: each execution's events in order, written as the execution advances.
//!
//! - `map_runs`: one JSON document per distributed Map run (DescribeMapRun / ListMapRuns);
//! - `map_run_children`: which item (or batch) of a Map Run each child execution runs,
//!   so a resumed Map Run does not start a finished child again.
//!
//! EXPRESS executions are never written (AWS keeps no history of them either).

use nimbus_core::storage::{Database, Durability, Pending, StorageError, Writer};
use rusqlite::{params, OptionalExtension};
use serde_json::Value;
use std::path::Path;

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS resources (arn TEXT PRIMARY KEY, kind TEXT NOT NULL, doc TEXT NOT NULL) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS executions (arn TEXT PRIMARY KEY, machine_arn TEXT NOT NULL, start_ms INTEGER NOT NULL, status TEXT NOT NULL, doc TEXT NOT NULL, checkpoint TEXT) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS executions_by_machine ON executions (machine_arn, start_ms);
CREATE INDEX IF NOT EXISTS executions_by_status ON executions (status);
CREATE TABLE IF NOT EXISTS history (execution_arn TEXT NOT NULL, id INTEGER NOT NULL, doc TEXT NOT NULL, PRIMARY KEY (execution_arn, id)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS map_runs (arn TEXT PRIMARY KEY, execution_arn TEXT NOT NULL, start_ms INTEGER NOT NULL, doc TEXT NOT NULL) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS map_runs_by_execution ON map_runs (execution_arn, start_ms);
CREATE TABLE IF NOT EXISTS map_run_children (map_run_arn TEXT NOT NULL, idx INTEGER NOT NULL, execution_arn TEXT NOT NULL, PRIMARY KEY (map_run_arn, idx)) WITHOUT ROWID;
";

pub struct Store {
    writer: Writer,
    loaded: parking_lot::Mutex<Option<Vec<(String, String, Value)>>>,
}

/// One stored execution row.
#[derive(Debug, Clone)]
pub struct ExecutionRow {
    pub arn: String,
    pub machine_arn: String,
    pub start_ms: u64,
    pub status: String,
    pub doc: Value,
    /// Where a running execution resumes (kept apart from `doc`: it changes at every state).
    pub checkpoint: Option<String>,
}

impl Store {
    pub fn open(path: Option<&Path>, durability: Durability) -> Result<Store, StorageError> {
        let db = Database::open(path.unwrap_or(Path::new(":memory:")), durability)?;
        db.conn().execute_batch(SCHEMA)?;
        let loaded = {
            let mut q = db.conn().prepare("SELECT arn, kind, doc FROM resources")?;
            let rows = q.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?, r.get::<_, String>(2)?)))?;
            let mut out = Vec::new();
            for row in rows {
                let (arn, kind, doc) = row?;
                if let Ok(v) = serde_json::from_str(&doc) {
                    out.push((arn, kind, v));
                }
            }
            out
        };
        Ok(Store { writer: db.into_writer("stepfunctions")?, loaded: parking_lot::Mutex::new(Some(loaded)) })
    }

    /// Every stored resource `(arn, kind, doc)` (once, at start).
    pub fn take_resources(&self) -> Vec<(String, String, Value)> {
        self.loaded.lock().take().unwrap_or_default()
    }

    pub fn put_resource(&self, arn: &str, kind: &str, doc: &Value) -> Pending {
        let (arn, kind, doc) = (arn.to_string(), kind.to_string(), doc.to_string());
        self.writer.submit(Box::new(move |c| {
            c.prepare_cached("INSERT OR REPLACE INTO resources (arn, kind, doc) VALUES (?1, ?2, ?3)")?.execute(params![arn, kind, doc])?;
            Ok(())
        }))
    }

    pub fn delete_resource(&self, arn: &str) -> Pending {
        let arn = arn.to_string();
        self.writer.submit(Box::new(move |c| {
            c.prepare_cached("DELETE FROM resources WHERE arn = ?1")?.execute(params![arn])?;
            Ok(())
        }))
    }

    pub fn put_execution(&self, row: ExecutionRow) -> Pending {
        self.writer.submit(Box::new(move |c| {
            c.prepare_cached("INSERT OR REPLACE INTO executions (arn, machine_arn, start_ms, status, doc, checkpoint) VALUES (?1, ?2, ?3, ?4, ?5, ?6)")?
                .execute(params![row.arn, row.machine_arn, row.start_ms as i64, row.status, row.doc.to_string(), row.checkpoint])?;
            Ok(())
        }))
    }

    /// A running execution's new checkpoint (its record unchanged).
    pub fn put_checkpoint(&self, arn: &str, checkpoint: Option<String>) -> Pending {
        let arn = arn.to_string();
        self.writer.submit(Box::new(move |c| {
            c.prepare_cached("UPDATE executions SET checkpoint = ?2 WHERE arn = ?1")?.execute(params![arn, checkpoint])?;
            Ok(())
        }))
    }

    pub fn put_events(&self, execution_arn: &str, events: Vec<(u64, Value)>) -> Pending {
        if events.is_empty() {
            return Pending::done();
        }
        let arn = execution_arn.to_string();
        self.writer.submit(Box::new(move |c| {
            let mut q = c.prepare_cached("INSERT OR REPLACE INTO history (execution_arn, id, doc) VALUES (?1, ?2, ?3)")?;
            for (id, doc) in &events {
                q.execute(params![arn, *id as i64, doc.to_string()])?;
            }
            Ok(())
        }))
    }

    /// Removes a machine's executions and their histories, its Map Runs and their children
    /// (DeleteStateMachine).
    pub fn delete_executions_of(&self, machine_arn: &str) -> Pending {
        let m = machine_arn.to_string();
        self.writer.submit(Box::new(move |c| {
            // Its Map Runs' child executions (machine `<machine>/<label>`) go too.
            let children = format!("{m}/%");
            c.prepare_cached("DELETE FROM map_run_children WHERE map_run_arn IN (SELECT r.arn FROM map_runs r JOIN executions e ON e.arn = r.execution_arn WHERE e.machine_arn = ?1)")?.execute(params![m])?;
            c.prepare_cached("DELETE FROM map_runs WHERE execution_arn IN (SELECT arn FROM executions WHERE machine_arn = ?1)")?.execute(params![m])?;
            c.prepare_cached("DELETE FROM history WHERE execution_arn IN (SELECT arn FROM executions WHERE machine_arn = ?1 OR machine_arn LIKE ?2)")?.execute(params![m, children])?;
            c.prepare_cached("DELETE FROM executions WHERE machine_arn = ?1 OR machine_arn LIKE ?2")?.execute(params![m, children])?;
            Ok(())
        }))
    }

    fn row(r: &rusqlite::Row<'_>) -> rusqlite::Result<ExecutionRow> {
        let doc: String = r.get(4)?;
        Ok(ExecutionRow { arn: r.get(0)?, machine_arn: r.get(1)?, start_ms: r.get::<_, i64>(2)? as u64, status: r.get(3)?, doc: serde_json::from_str(&doc).unwrap_or(Value::Null), checkpoint: r.get(5)? })
    }

    pub fn execution(&self, arn: &str) -> Result<Option<ExecutionRow>, String> {
        self.writer
            .read(|c| c.prepare_cached("SELECT arn, machine_arn, start_ms, status, doc, checkpoint FROM executions WHERE arn = ?1")?.query_row(params![arn], Self::row).optional())
            .map_err(|e| e.to_string())
    }

    /// A machine's executions, newest first (`status` filters).
    pub fn executions_of(&self, machine_arn: &str, status: Option<&str>) -> Result<Vec<ExecutionRow>, String> {
        self.writer
            .read(|c| {
                let mut q = c.prepare_cached("SELECT arn, machine_arn, start_ms, status, doc, checkpoint FROM executions WHERE machine_arn = ?1 AND (?2 IS NULL OR status = ?2) ORDER BY start_ms DESC, arn DESC")?;
                let rows = q.query_map(params![machine_arn, status], Self::row)?;
                rows.collect()
            })
            .map_err(|e| e.to_string())
    }

    /// One page of a machine's executions, newest first: `limit` rows from `offset`.
    pub fn executions_page(&self, machine_arn: &str, status: Option<&str>, offset: usize, limit: usize) -> Result<Vec<ExecutionRow>, String> {
        self.writer
            .read(|c| {
                let mut q = c.prepare_cached(
                    "SELECT arn, machine_arn, start_ms, status, doc, checkpoint FROM executions WHERE machine_arn = ?1 AND (?2 IS NULL OR status = ?2) ORDER BY start_ms DESC, arn DESC LIMIT ?3 OFFSET ?4",
                )?;
                let rows = q.query_map(params![machine_arn, status, limit as i64, offset as i64], Self::row)?;
                rows.collect()
            })
            .map_err(|e| e.to_string())
    }

    /// Executions stored as RUNNING (to resume at start).
    pub fn running(&self) -> Result<Vec<ExecutionRow>, String> {
        self.writer
            .read(|c| {
                let mut q = c.prepare_cached("SELECT arn, machine_arn, start_ms, status, doc, checkpoint FROM executions WHERE status = 'RUNNING' ORDER BY start_ms")?;
                let rows = q.query_map([], Self::row)?;
                rows.collect()
            })
            .map_err(|e| e.to_string())
    }

    pub fn history(&self, execution_arn: &str) -> Result<Vec<Value>, String> {
        self.writer
            .read(|c| {
                let mut q = c.prepare_cached("SELECT doc FROM history WHERE execution_arn = ?1 ORDER BY id")?;
                let rows = q.query_map(params![execution_arn], |r| r.get::<_, String>(0))?;
                let mut out = Vec::new();
                for r in rows {
                    out.push(serde_json::from_str(&r?).unwrap_or(Value::Null));
                }
                Ok(out)
            })
            .map_err(|e| e.to_string())
    }

    /// A Map Run's record (its whole document, written as it advances).
    pub fn put_map_run(&self, arn: &str, execution_arn: &str, start_ms: u64, doc: &Value) -> Pending {
        let (arn, execution_arn, doc) = (arn.to_string(), execution_arn.to_string(), doc.to_string());
        self.writer.submit(Box::new(move |c| {
            c.prepare_cached("INSERT OR REPLACE INTO map_runs (arn, execution_arn, start_ms, doc) VALUES (?1, ?2, ?3, ?4)")?.execute(params![arn, execution_arn, start_ms as i64, doc])?;
            Ok(())
        }))
    }

    pub fn map_run(&self, arn: &str) -> Result<Option<Value>, String> {
        self.writer
            .read(|c| c.prepare_cached("SELECT doc FROM map_runs WHERE arn = ?1")?.query_row(params![arn], |r| r.get::<_, String>(0)).optional())
            .map(|d| d.and_then(|d| serde_json::from_str(&d).ok()))
            .map_err(|e| e.to_string())
    }

    /// The Map Runs an execution started, newest first.
    pub fn map_runs_of(&self, execution_arn: &str) -> Result<Vec<Value>, String> {
        self.writer
            .read(|c| {
                let mut q = c.prepare_cached("SELECT doc FROM map_runs WHERE execution_arn = ?1 ORDER BY start_ms DESC, arn DESC")?;
                let rows = q.query_map(params![execution_arn], |r| r.get::<_, String>(0))?;
                rows.collect::<rusqlite::Result<Vec<String>>>()
            })
            .map(|docs| docs.iter().filter_map(|d| serde_json::from_str(d).ok()).collect())
            .map_err(|e| e.to_string())
    }

    /// Which child execution runs item (or batch) `idx` of a Map Run.
    pub fn put_map_run_child(&self, map_run_arn: &str, idx: u64, execution_arn: &str) -> Pending {
        let (m, e) = (map_run_arn.to_string(), execution_arn.to_string());
        self.writer.submit(Box::new(move |c| {
            c.prepare_cached("INSERT OR REPLACE INTO map_run_children (map_run_arn, idx, execution_arn) VALUES (?1, ?2, ?3)")?.execute(params![m, idx as i64, e])?;
            Ok(())
        }))
    }

    /// A Map Run's children `(idx, execution ARN)`.
    pub fn map_run_children(&self, map_run_arn: &str) -> Result<Vec<(u64, String)>, String> {
        self.writer
            .read(|c| {
                let mut q = c.prepare_cached("SELECT idx, execution_arn FROM map_run_children WHERE map_run_arn = ?1 ORDER BY idx")?;
                let rows = q.query_map(params![map_run_arn], |r| Ok((r.get::<_, i64>(0)? as u64, r.get::<_, String>(1)?)))?;
                rows.collect()
            })
            .map_err(|e| e.to_string())
    }

    /// One page of a Map Run's stored (STANDARD) child executions, newest first.
    pub fn map_run_executions_page(&self, map_run_arn: &str, status: Option<&str>, offset: usize, limit: usize) -> Result<Vec<ExecutionRow>, String> {
        self.writer
            .read(|c| {
                let mut q = c.prepare_cached(
                    "SELECT e.arn, e.machine_arn, e.start_ms, e.status, e.doc, e.checkpoint FROM map_run_children m JOIN executions e ON e.arn = m.execution_arn WHERE m.map_run_arn = ?1 AND (?2 IS NULL OR e.status = ?2) ORDER BY e.start_ms DESC, e.arn DESC LIMIT ?3 OFFSET ?4",
                )?;
                let rows = q.query_map(params![map_run_arn, status, limit as i64, offset as i64], Self::row)?;
                rows.collect()
            })
            .map_err(|e| e.to_string())
    }
}
