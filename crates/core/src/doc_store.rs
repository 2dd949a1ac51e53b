//! A durable table of JSON documents under a three-part text key, for the services whose
//! state is configuration — IAM's entities (account, kind, name), API Gateway's APIs
//! (account, region, id) — rather than users' data: every row is read back at start, and
//! each change is one row written through the shared group-committing writer
//! (`storage.rs`) before the call that made it answers. A service names its table and key
//! columns in a [`DocTable`]; `--in-memory` uses [`MemoryDocs`], which keeps nothing.

use crate::storage::{Database, Durability, Pending, StorageError, Writer};
use rusqlite::params;
use std::path::Path;
use std::sync::Arc;

/// A service's table: its name and its three key columns, in key order.
#[derive(Debug, Clone, Copy)]
pub struct DocTable {
    pub name: &'static str,
    pub keys: [&'static str; 3],
}

/// One stored document under its key.
#[derive(Debug, Clone)]
pub struct Doc {
    pub keys: [String; 3],
    pub doc: String,
}

pub trait DocStore: Send + Sync {
    /// Every stored document (at start; a second call returns nothing).
    fn load(&self) -> Result<Vec<Doc>, StorageError>;
    /// Writes (or replaces) one document.
    fn put(&self, doc: Doc) -> Pending;
    fn delete(&self, keys: [String; 3]) -> Pending;
}

/// `--in-memory`: nothing kept.
pub struct MemoryDocs;

impl DocStore for MemoryDocs {
    fn load(&self) -> Result<Vec<Doc>, StorageError> {
        Ok(Vec::new())
    }
    fn put(&self, _: Doc) -> Pending {
        Pending::done()
    }
    fn delete(&self, _: [String; 3]) -> Pending {
        Pending::done()
    }
}

pub struct SqliteDocs {
    writer: Writer,
    loaded: parking_lot::Mutex<Vec<Doc>>,
    insert: Arc<str>,
    delete: Arc<str>,
}

impl SqliteDocs {
    /// Opens (or creates) `path` with `table`, reading every row; `writer` names the
    /// writer thread in logs.
    pub fn open(path: &Path, durability: Durability, table: DocTable, writer: &str) -> Result<SqliteDocs, StorageError> {
        let DocTable { name, keys: [a, b, c] } = table;
        let db = Database::open(path, durability)?;
        db.conn().execute_batch(&format!(
            "CREATE TABLE IF NOT EXISTS {name} ({a} TEXT NOT NULL, {b} TEXT NOT NULL, {c} TEXT NOT NULL, doc TEXT NOT NULL, PRIMARY KEY ({a}, {b}, {c})) WITHOUT ROWID;"
        ))?;
        let rows = {
            let mut q = db.conn().prepare(&format!("SELECT {a}, {b}, {c}, doc FROM {name}"))?;
            let rows = q.query_map([], |r| Ok(Doc { keys: [r.get(0)?, r.get(1)?, r.get(2)?], doc: r.get(3)? }))?;
            rows.collect::<Result<Vec<_>, _>>()?
        };
        Ok(SqliteDocs {
            writer: db.into_writer(writer)?,
            loaded: parking_lot::Mutex::new(rows),
            insert: format!("INSERT OR REPLACE INTO {name} ({a}, {b}, {c}, doc) VALUES (?1, ?2, ?3, ?4)").into(),
            delete: format!("DELETE FROM {name} WHERE {a} = ?1 AND {b} = ?2 AND {c} = ?3").into(),
        })
    }
}

impl DocStore for SqliteDocs {
    fn load(&self) -> Result<Vec<Doc>, StorageError> {
        Ok(std::mem::take(&mut *self.loaded.lock()))
    }
    fn put(&self, doc: Doc) -> Pending {
        let sql = self.insert.clone();
        self.writer.submit(Box::new(move |c| {
            let [a, b, k] = &doc.keys;
            c.prepare_cached(&sql)?.execute(params![a, b, k, doc.doc])?;
            Ok(())
        }))
    }
    fn delete(&self, keys: [String; 3]) -> Pending {
        let sql = self.delete.clone();
        self.writer.submit(Box::new(move |c| {
            let [a, b, k] = &keys;
            c.prepare_cached(&sql)?.execute(params![a, b, k])?;
            Ok(())
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TABLE: DocTable = DocTable { name: "things", keys: ["account", "kind", "key"] };

    fn keys(a: &str, b: &str, c: &str) -> [String; 3] {
        [a.to_string(), b.to_string(), c.to_string()]
    }

    #[tokio::test]
    async fn documents_survive_a_reopen_and_deletes_stick() {
        let dir = std::env::temp_dir().join(format!("nimbus-docs-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("temp dir");
        let path = dir.join("docs.db");
        {
            let s = SqliteDocs::open(&path, Durability::Process, TABLE, "test").expect("open");
            s.put(Doc { keys: keys("1", "user", "a"), doc: "{\"v\":1}".into() }).wait().await.expect("put");
            s.put(Doc { keys: keys("1", "user", "a"), doc: "{\"v\":2}".into() }).wait().await.expect("replace");
            s.put(Doc { keys: keys("1", "user", "b"), doc: "{}".into() }).wait().await.expect("put");
            s.delete(keys("1", "user", "b")).wait().await.expect("delete");
        }
        let s = SqliteDocs::open(&path, Durability::Process, TABLE, "test").expect("reopen");
        let docs = s.load().expect("load");
        assert_eq!(docs.len(), 1);
        assert_eq!(docs[0].keys, keys("1", "user", "a"));
        assert_eq!(docs[0].doc, "{\"v\":2}");
        assert!(s.load().expect("second load").is_empty());
        drop(s);
        let _ = std::fs::remove_dir_all(&dir);
    }
}
