//! Durable Secrets Manager state, `secretsmanager.db`: one metadata row per secret
//! (`secrets`: account, region, name → the JSON of `registry::Secret`, read back whole at
//! start into the in-memory index) and one row per secret version holding its value as
//! KMS ciphertext (`secret_values`: ARN, version id → blob). Values are users' data: they
//! are never loaded at start, only read back by GetSecretValue and friends. `--in-memory`
//! uses [`MemoryStore`], which keeps the same two maps in memory.

use nimbus_core::storage::{DomainStore, Durability, Pending, StorageError};
use parking_lot::Mutex;
use rusqlite::{params, Connection, OptionalExtension};
use std::collections::HashMap;
use std::path::Path;

/// One stored secret's metadata document under its key.
#[derive(Debug, Clone)]
pub struct StoredSecret {
    pub account: String,
    pub region: String,
    pub name: String,
    pub doc: String,
}

pub trait SecretStore: Send + Sync {
    /// Every secret's metadata (at start; a second call returns nothing).
    fn load(&self) -> Vec<StoredSecret>;
    /// Writes (or replaces) a secret's metadata.
    fn put_secret(&self, s: StoredSecret) -> Pending;
    /// Removes a secret's metadata and every version value of `arn`.
    fn delete_secret(&self, account: &str, region: &str, name: &str, arn: &str) -> Pending;
    /// Writes one version's ciphertext.
    fn put_value(&self, arn: &str, version_id: &str, ciphertext: Vec<u8>) -> Pending;
    /// Removes one version's ciphertext (a deprecated version past the limit).
    fn delete_value(&self, arn: &str, version_id: &str) -> Pending;
    /// Reads one version's ciphertext back (after every earlier write committed).
    fn get_value(&self, arn: &str, version_id: &str) -> Result<Option<Vec<u8>>, String>;
}

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS secrets (account TEXT NOT NULL, region TEXT NOT NULL, name TEXT NOT NULL, doc TEXT NOT NULL, PRIMARY KEY (account, region, name)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS secret_values (arn TEXT NOT NULL, version_id TEXT NOT NULL, ciphertext BLOB NOT NULL, PRIMARY KEY (arn, version_id)) WITHOUT ROWID;
";

pub struct SqliteStore {
    inner: DomainStore<Vec<StoredSecret>>,
}

impl SqliteStore {
    pub fn open(path: &Path, durability: Durability) -> Result<SqliteStore, StorageError> {
        Ok(SqliteStore { inner: DomainStore::open(path, durability, "secretsmanager", SCHEMA, load)? })
    }
}

fn load(c: &Connection) -> Result<Vec<StoredSecret>, StorageError> {
    let mut q = c.prepare("SELECT account, region, name, doc FROM secrets")?;
    let rows = q.query_map([], |r| Ok(StoredSecret { account: r.get(0)?, region: r.get(1)?, name: r.get(2)?, doc: r.get(3)? }))?;
    Ok(rows.collect::<Result<Vec<_>, _>>()?)
}

impl SecretStore for SqliteStore {
    fn load(&self) -> Vec<StoredSecret> {
        self.inner.take_loaded()
    }
    fn put_secret(&self, s: StoredSecret) -> Pending {
        self.inner.submit(Box::new(move |c| {
            c.prepare_cached("INSERT OR REPLACE INTO secrets (account, region, name, doc) VALUES (?1, ?2, ?3, ?4)")?.execute(params![s.account, s.region, s.name, s.doc])?;
            Ok(())
        }))
    }
    fn delete_secret(&self, account: &str, region: &str, name: &str, arn: &str) -> Pending {
        let (a, r, n, arn) = (account.to_string(), region.to_string(), name.to_string(), arn.to_string());
        self.inner.submit(Box::new(move |c| {
            c.prepare_cached("DELETE FROM secrets WHERE account = ?1 AND region = ?2 AND name = ?3")?.execute(params![a, r, n])?;
            c.prepare_cached("DELETE FROM secret_values WHERE arn = ?1")?.execute(params![arn])?;
            Ok(())
        }))
    }
    fn put_value(&self, arn: &str, version_id: &str, ciphertext: Vec<u8>) -> Pending {
        let (arn, v) = (arn.to_string(), version_id.to_string());
        self.inner.submit(Box::new(move |c| {
            c.prepare_cached("INSERT OR REPLACE INTO secret_values (arn, version_id, ciphertext) VALUES (?1, ?2, ?3)")?.execute(params![arn, v, ciphertext])?;
            Ok(())
        }))
    }
    fn delete_value(&self, arn: &str, version_id: &str) -> Pending {
        let (arn, v) = (arn.to_string(), version_id.to_string());
        self.inner.submit(Box::new(move |c| {
            c.prepare_cached("DELETE FROM secret_values WHERE arn = ?1 AND version_id = ?2")?.execute(params![arn, v])?;
            Ok(())
        }))
    }
    fn get_value(&self, arn: &str, version_id: &str) -> Result<Option<Vec<u8>>, String> {
        self.inner
            .read(|c| c.prepare_cached("SELECT ciphertext FROM secret_values WHERE arn = ?1 AND version_id = ?2")?.query_row(params![arn, version_id], |r| r.get::<_, Vec<u8>>(0)).optional())
            .map_err(|e| e.to_string())
    }
}

/// `--in-memory`: the same two maps, kept for the life of the process.
#[derive(Default)]
pub struct MemoryStore {
    values: Mutex<HashMap<(String, String), Vec<u8>>>,
}

impl SecretStore for MemoryStore {
    fn load(&self) -> Vec<StoredSecret> {
        Vec::new()
    }
    fn put_secret(&self, _: StoredSecret) -> Pending {
        Pending::done()
    }
    fn delete_secret(&self, _: &str, _: &str, _: &str, arn: &str) -> Pending {
        self.values.lock().retain(|(a, _), _| a != arn);
        Pending::done()
    }
    fn put_value(&self, arn: &str, version_id: &str, ciphertext: Vec<u8>) -> Pending {
        self.values.lock().insert((arn.to_string(), version_id.to_string()), ciphertext);
        Pending::done()
    }
    fn delete_value(&self, arn: &str, version_id: &str) -> Pending {
        self.values.lock().remove(&(arn.to_string(), version_id.to_string()));
        Pending::done()
    }
    fn get_value(&self, arn: &str, version_id: &str) -> Result<Option<Vec<u8>>, String> {
        Ok(self.values.lock().get(&(arn.to_string(), version_id.to_string())).cloned())
    }
}
