//! Durable API Gateway state: one JSON document per API (the API with its routes,
//! integrations, stages and deployments), keyed by (account, region, api id), written
//! through the shared group-committing writer and read back whole at start.

use nimbus_core::storage::{Database, Durability, Pending, StorageError};
use rusqlite::params;
use std::path::Path;

#[derive(Debug, Clone)]
pub struct Row {
    pub account: String,
    pub region: String,
    pub api_id: String,
    pub doc: String,
}

pub trait ApiStore: Send + Sync {
    /// Every stored API (at start).
    fn load(&self) -> Result<Vec<Row>, StorageError>;
    fn put(&self, row: Row) -> Pending;
    fn delete(&self, account: &str, region: &str, api_id: &str) -> Pending;
}

/// `--in-memory`: nothing kept.
pub struct MemoryStore;

impl ApiStore for MemoryStore {
    fn load(&self) -> Result<Vec<Row>, StorageError> {
        Ok(Vec::new())
    }
    fn put(&self, _: Row) -> Pending {
        Pending::done()
    }
    fn delete(&self, _: &str, _: &str, _: &str) -> Pending {
        Pending::done()
    }
}

pub struct SqliteStore {
    writer: nimbus_core::storage::Writer,
    loaded: parking_lot::Mutex<Vec<Row>>,
}

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS apigw_apis (
  account TEXT NOT NULL, region TEXT NOT NULL, api_id TEXT NOT NULL, doc TEXT NOT NULL,
  PRIMARY KEY (account, region, api_id)) WITHOUT ROWID;
";

impl SqliteStore {
    pub fn open(path: &Path, durability: Durability) -> Result<SqliteStore, StorageError> {
        let db = Database::open(path, durability)?;
        db.conn().execute_batch(SCHEMA)?;
        let rows = {
            let mut q = db.conn().prepare("SELECT account, region, api_id, doc FROM apigw_apis")?;
            let rows = q.query_map([], |r| Ok(Row { account: r.get(0)?, region: r.get(1)?, api_id: r.get(2)?, doc: r.get(3)? }))?;
            rows.collect::<Result<Vec<_>, _>>()?
        };
        Ok(SqliteStore { writer: db.into_writer("apigateway")?, loaded: parking_lot::Mutex::new(rows) })
    }
}

impl ApiStore for SqliteStore {
    fn load(&self) -> Result<Vec<Row>, StorageError> {
        Ok(std::mem::take(&mut *self.loaded.lock()))
    }
    fn put(&self, row: Row) -> Pending {
        self.writer.submit(Box::new(move |c| {
            c.prepare_cached("INSERT OR REPLACE INTO apigw_apis (account, region, api_id, doc) VALUES (?1, ?2, ?3, ?4)")?
                .execute(params![row.account, row.region, row.api_id, row.doc])?;
            Ok(())
        }))
    }
    fn delete(&self, account: &str, region: &str, api_id: &str) -> Pending {
        let (account, region, api_id) = (account.to_string(), region.to_string(), api_id.to_string());
        self.writer.submit(Box::new(move |c| {
            c.prepare_cached("DELETE FROM apigw_apis WHERE account = ?1 AND region = ?2 AND api_id = ?3")?.execute(params![account, region, api_id])?;
            Ok(())
        }))
    }
}
