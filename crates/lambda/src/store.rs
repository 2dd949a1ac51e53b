//! Durable Lambda state: function documents (configuration of every version, aliases,
//! settings) and the queue of asynchronous invocations. SQLite through the shared
//! group-committing writer, or nothing (`--in-memory`).

use crate::function::Function;
use nimbus_core::storage::{Database, Durability, Pending, StorageError, Writer};
use rusqlite::params;
use std::path::Path;

/// An accepted asynchronous invocation, kept until it is done.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct QueuedEvent {
    pub id: String,
    pub account: String,
    pub region: String,
    pub function: String,
    pub qualifier: Option<String>,
    pub payload_b64: String,
    pub enqueued_ms: u64,
    pub attempts: u32,
    pub next_attempt_ms: u64,
    pub trace_id: String,
}

pub trait LambdaStore: Send + Sync {
    fn load_functions(&self) -> Result<Vec<Function>, StorageError>;
    fn load_mappings(&self) -> Result<Vec<crate::esm::Mapping>, StorageError>;
    fn put_mapping(&self, m: &crate::esm::Mapping) -> Pending;
    fn delete_mapping(&self, uuid: &str) -> Pending;
    fn load_events(&self) -> Result<Vec<QueuedEvent>, StorageError>;
    fn put_function(&self, f: &Function) -> Pending;
    fn delete_function(&self, account: &str, region: &str, name: &str) -> Pending;
    fn put_event(&self, e: &QueuedEvent) -> Pending;
    fn delete_event(&self, id: &str) -> Pending;
}

pub struct MemoryStore;

impl LambdaStore for MemoryStore {
    fn load_functions(&self) -> Result<Vec<Function>, StorageError> {
        Ok(Vec::new())
    }
    fn load_mappings(&self) -> Result<Vec<crate::esm::Mapping>, StorageError> {
        Ok(Vec::new())
    }
    fn put_mapping(&self, _: &crate::esm::Mapping) -> Pending {
        Pending::done()
    }
    fn delete_mapping(&self, _: &str) -> Pending {
        Pending::done()
    }
    fn load_events(&self) -> Result<Vec<QueuedEvent>, StorageError> {
        Ok(Vec::new())
    }
    fn put_function(&self, _: &Function) -> Pending {
        Pending::done()
    }
    fn delete_function(&self, _: &str, _: &str, _: &str) -> Pending {
        Pending::done()
    }
    fn put_event(&self, _: &QueuedEvent) -> Pending {
        Pending::done()
    }
    fn delete_event(&self, _: &str) -> Pending {
        Pending::done()
    }
}

pub struct SqliteStore {
    writer: Writer,
    functions: Vec<Function>,
    events: Vec<QueuedEvent>,
    mappings: Vec<crate::esm::Mapping>,
}

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS lambda_functions (
  account TEXT NOT NULL, region TEXT NOT NULL, name TEXT NOT NULL, doc TEXT NOT NULL,
  PRIMARY KEY (account, region, name)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS lambda_events (id TEXT PRIMARY KEY, doc TEXT NOT NULL) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS lambda_mappings (uuid TEXT PRIMARY KEY, doc TEXT NOT NULL) WITHOUT ROWID;
";

/// Every `doc` of a table, parsed (rows that no longer parse are skipped).
fn load_docs<T: serde::de::DeserializeOwned>(conn: &rusqlite::Connection, table: &str) -> Result<Vec<T>, StorageError> {
    let mut q = conn.prepare(&format!("SELECT doc FROM {table}"))?;
    let rows = q.query_map([], |r| r.get::<_, String>(0))?;
    Ok(rows.filter_map(|r| r.ok()).filter_map(|doc| serde_json::from_str(&doc).ok()).collect())
}

impl SqliteStore {
    pub fn open(path: &Path, durability: Durability) -> Result<SqliteStore, StorageError> {
        let db = Database::open(path, durability)?;
        db.conn().execute_batch(SCHEMA)?;
        let functions = load_docs(db.conn(), "lambda_functions")?;
        let events = load_docs(db.conn(), "lambda_events")?;
        let mappings = load_docs(db.conn(), "lambda_mappings")?;
        Ok(SqliteStore { writer: db.into_writer("lambda")?, functions, events, mappings })
    }
}

impl LambdaStore for SqliteStore {
    fn load_functions(&self) -> Result<Vec<Function>, StorageError> {
        Ok(self.functions.clone())
    }
    fn load_mappings(&self) -> Result<Vec<crate::esm::Mapping>, StorageError> {
        Ok(self.mappings.clone())
    }
    fn put_mapping(&self, m: &crate::esm::Mapping) -> Pending {
        let (uuid, doc) = (m.uuid.clone(), serde_json::to_string(m).unwrap_or_default());
        self.writer.submit(Box::new(move |c| {
            c.prepare_cached("INSERT OR REPLACE INTO lambda_mappings (uuid, doc) VALUES (?1, ?2)")?.execute(params![uuid, doc])?;
            Ok(())
        }))
    }
    fn delete_mapping(&self, uuid: &str) -> Pending {
        let uuid = uuid.to_string();
        self.writer.submit(Box::new(move |c| {
            c.prepare_cached("DELETE FROM lambda_mappings WHERE uuid = ?1")?.execute(params![uuid])?;
            Ok(())
        }))
    }
    fn load_events(&self) -> Result<Vec<QueuedEvent>, StorageError> {
        Ok(self.events.clone())
    }
    fn put_function(&self, f: &Function) -> Pending {
        let (account, region, name) = (f.account.clone(), f.region.clone(), f.name.clone());
        let doc = serde_json::to_string(f).unwrap_or_default();
        self.writer.submit(Box::new(move |c| {
            c.prepare_cached("INSERT OR REPLACE INTO lambda_functions (account, region, name, doc) VALUES (?1, ?2, ?3, ?4)")?
                .execute(params![account, region, name, doc])?;
            Ok(())
        }))
    }
    fn delete_function(&self, account: &str, region: &str, name: &str) -> Pending {
        let (account, region, name) = (account.to_string(), region.to_string(), name.to_string());
        self.writer.submit(Box::new(move |c| {
            c.prepare_cached("DELETE FROM lambda_functions WHERE account = ?1 AND region = ?2 AND name = ?3")?.execute(params![account, region, name])?;
            Ok(())
        }))
    }
    fn put_event(&self, e: &QueuedEvent) -> Pending {
        let (id, doc) = (e.id.clone(), serde_json::to_string(e).unwrap_or_default());
        self.writer.submit(Box::new(move |c| {
            c.prepare_cached("INSERT OR REPLACE INTO lambda_events (id, doc) VALUES (?1, ?2)")?.execute(params![id, doc])?;
            Ok(())
        }))
    }
    fn delete_event(&self, id: &str) -> Pending {
        let id = id.to_string();
        self.writer.submit(Box::new(move |c| {
            c.prepare_cached("DELETE FROM lambda_events WHERE id = ?1")?.execute(params![id])?;
            Ok(())
        }))
    }
}
