//! S3's metadata store: buckets (with their configuration documents) and object versions
//! in SQLite (`<data-dir>/s3.db`, WAL, group commit through core's `storage::Writer`, the
//! same durability discipline as every other service). `--in-memory` uses SQLite's
//! in-memory database with the same code (and blob files in a temp dir removed at exit).
//!
//! Every change is one job on the group-committing writer, and the decision it depends on
//! (does the key exist, is the bucket empty, which version is latest) is taken inside
//! that job, so concurrent requests are ordered by the writer and never race. Object bytes
//! are not here: a version names its blob files (`segments`, a list of `(file, length)`:
//! one for a PutObject, one per part for a completed multipart upload, read back to back).
//! Other S3 tables (multipart uploads, …) are added with [`Store::add_schema`] and changed
//! in the same transactions through [`Store::transact`] and the `*_tx` functions here.
//!
//! Reads run on their own connections (WAL readers see every committed transaction;
//! an answer is given only after its change committed), so listings never wait on a
//! group commit; the in-memory database reads through the writer's connection.

use nimbus_core::storage::{Database, Durability, StorageError, Writer};
use parking_lot::Mutex;
use rusqlite::{params, Connection, OptionalExtension, Row};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashSet};
use std::path::{Path, PathBuf};
use std::future::Future;
use std::sync::Arc;

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS buckets (
    name TEXT PRIMARY KEY,
    account TEXT NOT NULL,
    region TEXT NOT NULL,
    created_ms INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS bucket_configs (
    bucket TEXT NOT NULL,
    kind TEXT NOT NULL,
    value TEXT NOT NULL,
    PRIMARY KEY (bucket, kind)
);
CREATE TABLE IF NOT EXISTS objects (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    bucket TEXT NOT NULL,
    key BLOB NOT NULL,
    version_id TEXT NOT NULL,
    is_latest INTEGER NOT NULL,
    delete_marker INTEGER NOT NULL,
    size INTEGER NOT NULL,
    etag TEXT NOT NULL,
    last_modified_ms INTEGER NOT NULL,
    storage_class TEXT NOT NULL,
    meta TEXT NOT NULL,
    tags TEXT NOT NULL,
    segments TEXT NOT NULL
);
CREATE UNIQUE INDEX IF NOT EXISTS objects_by_version ON objects (bucket, key, version_id);
DROP INDEX IF EXISTS objects_by_key;
CREATE INDEX IF NOT EXISTS objects_by_key_newest ON objects (bucket, key, seq DESC);
CREATE INDEX IF NOT EXISTS objects_latest ON objects (bucket, key) WHERE is_latest = 1;
";

/// A bucket as stored: who owns it, where, since when, and its configuration documents
/// by kind (`versioning`, `tagging`, `cors`, `policy`, `ownership`, `public-access-block`,
/// `notification`, `lifecycle`, …), each a JSON text.
#[derive(Debug, Clone)]
pub struct BucketRecord {
    pub name: String,
    pub account: String,
    pub region: String,
    pub created_ms: u64,
    pub configs: BTreeMap<String, String>,
}

/// One blob file of an object and how many of its bytes belong to the object.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Segment {
    pub file: String,
    pub len: u64,
}

/// A part of a multipart object, as GetObjectAttributes and `partNumber` reads need it.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct PartInfo {
    pub number: u32,
    pub size: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub etag: Option<String>,
    /// The part's checksum by algorithm name (`CRC32` → base64).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub checksums: BTreeMap<String, String>,
}

/// An object version's headers and metadata (the `meta` JSON column).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct ObjectMeta {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content_type: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cache_control: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content_disposition: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content_encoding: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content_language: Option<String>,
    /// The `Expires` header as sent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub website_redirect_location: Option<String>,
    /// `x-amz-meta-*` (names lower case, without the prefix).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub user: BTreeMap<String, String>,
    /// Additional checksums by algorithm name (`CRC32`, `CRC32C`, `CRC64NVME`, `SHA1`,
    /// `SHA256`) → base64 value.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub checksums: BTreeMap<String, String>,
    /// `FULL_OBJECT` or `COMPOSITE`, when there is a checksum.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub checksum_type: Option<String>,
    /// The parts of a multipart object (empty for a single PUT).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub parts: Vec<PartInfo>,
    /// `x-amz-server-side-encryption` as recorded (SSE-S3 `AES256` by default).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sse: Option<String>,
}

/// One object version (or delete marker).
#[derive(Debug, Clone, Default)]
pub struct ObjectVersion {
    /// Store order: a newer version of a key has a larger `seq` (0 before insertion).
    pub seq: i64,
    pub bucket: String,
    pub key: String,
    /// `null` for the null version.
    pub version_id: String,
    pub is_latest: bool,
    pub delete_marker: bool,
    pub size: u64,
    /// Without quotes (`<md5 hex>` or `<md5 of md5s>-<parts>`).
    pub etag: String,
    pub last_modified_ms: u64,
    pub storage_class: String,
    pub meta: ObjectMeta,
    pub tags: Vec<(String, String)>,
    pub segments: Vec<Segment>,
}

/// The bucket's versioning state as a write sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Versioning {
    /// Never enabled: every version is the `null` version.
    Unversioned,
    Enabled,
    Suspended,
}

impl Versioning {
    /// The id a new version gets.
    pub fn new_version_id(self) -> String {
        match self {
            Versioning::Enabled => new_version_id(),
            _ => "null".to_string(),
        }
    }
}

/// AWS-like version ids: 32 URL-safe characters, unique.
pub fn new_version_id() -> String {
    uuid::Uuid::new_v4().simple().to_string()
}

/// A precondition checked against the latest version, atomically with the write.
#[derive(Debug, Clone)]
pub enum WriteCondition {
    /// `If-None-Match: *`: no current object.
    IfNoneMatchAny,
    /// `If-Match: <etag>` (unquoted, or `*`): the current object has this ETag.
    IfMatch(String),
}

/// DeleteObject's conditions (`If-Match`, `x-amz-if-match-last-modified-time`,
/// `x-amz-if-match-size`); all that are given must hold.
#[derive(Debug, Clone, Default)]
pub struct DeleteCondition {
    /// Unquoted (`*`: any current object).
    pub etag: Option<String>,
    pub last_modified_secs: Option<u64>,
    pub size: Option<u64>,
}

impl DeleteCondition {
    pub fn is_empty(&self) -> bool {
        self.etag.is_none() && self.last_modified_secs.is_none() && self.size.is_none()
    }
}

/// Why a conditional write did not happen.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WriteRefused {
    NoSuchBucket,
    /// The condition does not hold (412 PreconditionFailed).
    PreconditionFailed,
    /// `If-Match` on a key with no current object (404 NoSuchKey).
    NoSuchKey,
}

/// What a version write did.
#[derive(Debug, Clone)]
pub struct Written {
    /// The stored version (with its `seq`).
    pub version: ObjectVersion,
    /// Blob files no version references any more (a replaced `null` version): the caller
    /// removes them after the commit.
    pub freed: Vec<String>,
}

/// What a delete did.
#[derive(Debug, Clone, Default)]
pub struct Deleted {
    /// The version id removed or the delete marker created (`None` in an unversioned bucket).
    pub version_id: Option<String>,
    /// A delete marker was created, or the version removed was a delete marker.
    pub delete_marker: bool,
    /// Whether something was found to delete (a delete of nothing still answers 204).
    pub found: bool,
    pub freed: Vec<String>,
}

/// The metadata store.
pub struct Store {
    writer: Writer,
    /// Read connections (file database only).
    path: Option<PathBuf>,
    readers: Mutex<Vec<Connection>>,
    /// Queries (one column: a file name) of other tables that hold blob files, e.g. a
    /// multipart upload's parts: the orphan sweep keeps what they name.
    blob_keepers: Mutex<Vec<&'static str>>,
}

fn corrupt(e: impl std::fmt::Display) -> rusqlite::Error {
    rusqlite::Error::ToSqlConversionFailure(Box::new(std::io::Error::other(e.to_string())))
}

impl Store {
    /// Opens (or creates) `path`, or an in-memory database when `path` is `None`.
    pub fn open(path: Option<&Path>, durability: Durability) -> Result<Store, StorageError> {
        let db = Database::open(path.unwrap_or(Path::new(":memory:")), durability)?;
        db.conn().execute_batch(SCHEMA)?;
        Ok(Store { writer: db.into_writer("s3")?, path: path.map(Path::to_path_buf), readers: Mutex::new(Vec::new()), blob_keepers: Mutex::new(Vec::new()) })
    }

    /// Creates another S3 module's tables (idempotent `CREATE … IF NOT EXISTS`).
    pub fn add_schema(&self, sql: &str) -> Result<(), StorageError> {
        self.writer.read(|c| c.execute_batch(sql))
    }

    /// Runs `f` in the next group commit and answers its result once committed. `f`
    /// decides and writes atomically (it sees every earlier job's changes).
    /// The job is queued when this is called (in order with every other submission),
    /// not when the future is first polled.
    pub fn transact<T: Send + 'static>(&self, f: impl FnOnce(&Connection) -> rusqlite::Result<T> + Send + 'static) -> impl Future<Output = Result<T, StorageError>> + Send + 'static {
        let slot: Arc<Mutex<Option<T>>> = Arc::new(Mutex::new(None));
        let out = slot.clone();
        let pending = self.writer.submit(Box::new(move |c| {
            let v = f(c)?;
            *out.lock() = Some(v);
            Ok(())
        }));
        async move {
            pending.wait().await.map_err(|e| StorageError::Io(std::io::Error::other(e)))?;
            let value = slot.lock().take();
            value.ok_or_else(|| StorageError::Io(std::io::Error::other("transaction produced no result")))
        }
    }

    /// Runs a read on a connection of its own (sees every committed change).
    pub fn query<T>(&self, f: impl FnOnce(&Connection) -> rusqlite::Result<T>) -> Result<T, StorageError> {
        let Some(path) = &self.path else { return self.writer.read(f) };
        let conn = match self.readers.lock().pop() {
            Some(c) => c,
            None => {
                let c = Connection::open(path)?;
                c.busy_timeout(std::time::Duration::from_secs(5))?;
                c.set_prepared_statement_cache_capacity(32);
                c
            }
        };
        let out = f(&conn);
        let mut readers = self.readers.lock();
        if readers.len() < 8 {
            readers.push(conn);
        }
        Ok(out?)
    }

    // ---- buckets

    /// Every bucket with its configuration documents (read once at start).
    pub fn buckets(&self) -> Result<Vec<BucketRecord>, StorageError> {
        self.query(|c| {
            let mut out: BTreeMap<String, BucketRecord> = BTreeMap::new();
            let mut st = c.prepare("SELECT name, account, region, created_ms FROM buckets")?;
            let rows = st.query_map([], |r| Ok(BucketRecord { name: r.get(0)?, account: r.get(1)?, region: r.get(2)?, created_ms: r.get::<_, i64>(3)? as u64, configs: BTreeMap::new() }))?;
            for b in rows {
                let b = b?;
                out.insert(b.name.clone(), b);
            }
            let mut st = c.prepare("SELECT bucket, kind, value FROM bucket_configs")?;
            let rows = st.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?, r.get::<_, String>(2)?)))?;
            for row in rows {
                let (bucket, kind, value) = row?;
                if let Some(b) = out.get_mut(&bucket) {
                    b.configs.insert(kind, value);
                }
            }
            Ok(out.into_values().collect())
        })
    }

    pub fn create_bucket(&self, b: BucketRecord) -> impl Future<Output = Result<(), StorageError>> + Send + 'static {
        self.transact(move |c| {
            c.prepare_cached("INSERT OR REPLACE INTO buckets (name, account, region, created_ms) VALUES (?1, ?2, ?3, ?4)")?.execute(params![b.name, b.account, b.region, b.created_ms as i64])?;
            c.prepare_cached("DELETE FROM bucket_configs WHERE bucket = ?1")?.execute(params![b.name])?;
            for (kind, value) in &b.configs {
                set_bucket_config_tx(c, &b.name, kind, Some(value))?;
            }
            Ok(())
        })
    }

    /// Deletes an empty bucket; `Ok(false)` when it still holds object versions (or
    /// anything `also_empty` finds: another module's rows, e.g. multipart uploads).
    pub fn delete_bucket(&self, name: &str, also_empty: fn(&Connection, &str) -> rusqlite::Result<bool>) -> impl Future<Output = Result<bool, StorageError>> + Send + 'static {
        let name = name.to_string();
        self.transact(move |c| {
            let any: Option<i64> = c.prepare_cached("SELECT 1 FROM objects WHERE bucket = ?1 LIMIT 1")?.query_row(params![name], |r| r.get(0)).optional()?;
            if any.is_some() || !also_empty(c, &name)? {
                return Ok(false);
            }
            c.prepare_cached("DELETE FROM buckets WHERE name = ?1")?.execute(params![name])?;
            c.prepare_cached("DELETE FROM bucket_configs WHERE bucket = ?1")?.execute(params![name])?;
            Ok(true)
        })
    }

    /// Sets (or with `None` removes) one configuration document of a bucket.
    pub fn set_bucket_config(&self, bucket: &str, kind: &str, value: Option<String>) -> impl Future<Output = Result<(), StorageError>> + Send + 'static {
        let (bucket, kind) = (bucket.to_string(), kind.to_string());
        self.transact(move |c| set_bucket_config_tx(c, &bucket, &kind, value.as_deref()))
    }

    // ---- object versions

    /// Writes a new version of `v.bucket`/`v.key` (its `version_id` chosen by the caller
    /// from the bucket's versioning), after checking `condition`.
    pub fn put_version(&self, v: ObjectVersion, versioning: Versioning, condition: Option<WriteCondition>) -> impl Future<Output = Result<Result<Written, WriteRefused>, StorageError>> + Send + 'static {
        self.transact(move |c| put_version_tx(c, v, versioning, condition.as_ref()))
    }

    /// Deletes a key (no `version_id`: by the bucket's versioning, possibly creating a
    /// delete marker) or one version.
    pub fn delete(&self, bucket: &str, key: &str, version_id: Option<&str>, versioning: Versioning, now_ms: u64) -> impl Future<Output = Result<Result<Deleted, WriteRefused>, StorageError>> + Send + 'static {
        self.delete_if(bucket, key, version_id, versioning, now_ms, DeleteCondition::default())
    }

    /// [`Store::delete`] when the object (the version named, else the current one) still
    /// matches `condition` (DeleteObject's `If-Match`), checked atomically with the delete.
    pub fn delete_if(&self, bucket: &str, key: &str, version_id: Option<&str>, versioning: Versioning, now_ms: u64, condition: DeleteCondition) -> impl Future<Output = Result<Result<Deleted, WriteRefused>, StorageError>> + Send + 'static {
        let (bucket, key, version_id) = (bucket.to_string(), key.to_string(), version_id.map(str::to_string));
        self.transact(move |c| {
            if !condition.is_empty() {
                let target = get_version_tx(c, &bucket, &key, version_id.as_deref())?.filter(|v| !v.delete_marker);
                let Some(v) = target else { return Ok(Err(WriteRefused::NoSuchKey)) };
                let holds = condition.etag.as_deref().is_none_or(|e| e == "*" || e == v.etag)
                    && condition.last_modified_secs.is_none_or(|t| t == v.last_modified_ms / 1000)
                    && condition.size.is_none_or(|s| s == v.size);
                if !holds {
                    return Ok(Err(WriteRefused::PreconditionFailed));
                }
            }
            delete_tx(c, &bucket, &key, version_id.as_deref(), versioning, now_ms)
        })
    }

    /// Replaces the tags of a version (the latest when `version_id` is `None`); the
    /// version changed, or `None` when there is no such version (or it is a delete marker).
    pub fn set_tags(&self, bucket: &str, key: &str, version_id: Option<&str>, tags: Vec<(String, String)>) -> impl Future<Output = Result<Option<ObjectVersion>, StorageError>> + Send + 'static {
        let (bucket, key, version_id) = (bucket.to_string(), key.to_string(), version_id.map(str::to_string));
        self.transact(move |c| {
            let Some(mut v) = get_version_tx(c, &bucket, &key, version_id.as_deref())? else { return Ok(None) };
            if v.delete_marker {
                return Ok(None);
            }
            let text = serde_json::to_string(&tags).map_err(corrupt)?;
            c.prepare_cached("UPDATE objects SET tags = ?1 WHERE seq = ?2")?.execute(params![text, v.seq])?;
            v.tags = tags;
            Ok(Some(v))
        })
    }

    /// A version of a key: the latest (which may be a delete marker) or the one named.
    pub fn get_version(&self, bucket: &str, key: &str, version_id: Option<&str>) -> Result<Option<ObjectVersion>, StorageError> {
        self.query(|c| get_version_tx(c, bucket, key, version_id))
    }

    /// Latest versions that are not delete markers, in key order, with keys after `after`
    /// (or from `from`, inclusive) and starting with `prefix`; at most `limit`.
    pub fn list_latest(&self, bucket: &str, prefix: &str, start: KeyStart<'_>, limit: usize) -> Result<Vec<ObjectVersion>, StorageError> {
        self.query(|c| {
            let (op, from): (&str, &[u8]) = match start {
                KeyStart::After(k) => (">", k),
                KeyStart::From(k) => (">=", k),
            };
            let from = if from < prefix.as_bytes() { (">=", prefix.as_bytes()) } else { (op, from) };
            let sql = format!("SELECT {COLUMNS} FROM objects WHERE bucket = ?1 AND is_latest = 1 AND delete_marker = 0 AND key {} ?2 ORDER BY key LIMIT ?3", from.0);
            let mut st = c.prepare_cached(&sql)?;
            let rows = st.query_map(params![bucket, from.1, limit as i64], version_from_row)?;
            let mut out = Vec::new();
            for r in rows {
                let v = r?;
                if !v.key.starts_with(prefix) {
                    break;
                }
                out.push(v);
            }
            Ok(out)
        })
    }

    /// Every version (delete markers too) in key order, newest first within a key, after
    /// the position `after` (a key, and within it a version's `seq`), with `prefix`.
    pub fn list_versions(&self, bucket: &str, prefix: &str, after: VersionStart<'_>, limit: usize) -> Result<Vec<ObjectVersion>, StorageError> {
        self.query(|c| {
            let mut out = Vec::new();
            let (from_key, inclusive_key): (&[u8], bool) = match after {
                VersionStart::Beginning => (prefix.as_bytes(), true),
                VersionStart::AfterKey(k) => (k, false),
                VersionStart::FromKey(k) => (k, true),
                VersionStart::AfterVersion(k, seq) => {
                    // The rest of this key's versions (older than `seq`) first.
                    let sql = format!("SELECT {COLUMNS} FROM objects WHERE bucket = ?1 AND key = ?2 AND seq < ?3 ORDER BY seq DESC LIMIT ?4");
                    let mut st = c.prepare_cached(&sql)?;
                    for r in st.query_map(params![bucket, k, seq, limit as i64], version_from_row)? {
                        let v = r?;
                        if v.key.starts_with(prefix) {
                            out.push(v);
                        }
                    }
                    (k, false)
                }
            };
            if out.len() >= limit {
                return Ok(out);
            }
            let (op, from) = if from_key < prefix.as_bytes() { (">=", prefix.as_bytes()) } else { (if inclusive_key { ">=" } else { ">" }, from_key) };
            let sql = format!("SELECT {COLUMNS} FROM objects WHERE bucket = ?1 AND key {op} ?2 ORDER BY key, seq DESC LIMIT ?3");
            let mut st = c.prepare_cached(&sql)?;
            for r in st.query_map(params![bucket, from, (limit - out.len()) as i64], version_from_row)? {
                let v = r?;
                if !v.key.starts_with(prefix) {
                    break;
                }
                out.push(v);
            }
            Ok(out)
        })
    }

    /// Registers a query (one column: a blob file name) over another module's table whose
    /// files the orphan sweep must keep (`SELECT file FROM multipart_parts`). Call before
    /// the sweep (in `S3Service::open`).
    pub fn keep_blobs_named_by(&self, sql: &'static str) {
        self.blob_keepers.lock().push(sql);
    }

    /// Every blob file a version (or a registered keeper) names: the orphan sweep keeps these.
    pub fn referenced_files(&self) -> Result<HashSet<String>, StorageError> {
        let keepers = self.blob_keepers.lock().clone();
        self.query(|c| {
            let mut st = c.prepare("SELECT segments FROM objects WHERE delete_marker = 0")?;
            let mut out = HashSet::new();
            for r in st.query_map([], |r| r.get::<_, String>(0))? {
                let segs: Vec<Segment> = serde_json::from_str(&r?).map_err(corrupt)?;
                out.extend(segs.into_iter().map(|s| s.file));
            }
            for sql in keepers {
                let mut st = c.prepare(sql)?;
                for r in st.query_map([], |r| r.get::<_, String>(0))? {
                    out.insert(r?);
                }
            }
            Ok(out)
        })
    }
}

/// Where a key listing starts.
#[derive(Debug, Clone, Copy)]
pub enum KeyStart<'a> {
    After(&'a [u8]),
    From(&'a [u8]),
}

/// Where a version listing starts.
#[derive(Debug, Clone, Copy)]
pub enum VersionStart<'a> {
    Beginning,
    AfterKey(&'a [u8]),
    FromKey(&'a [u8]),
    /// After the version with this `seq` of this key.
    AfterVersion(&'a [u8], i64),
}

const COLUMNS: &str = "seq, bucket, key, version_id, is_latest, delete_marker, size, etag, last_modified_ms, storage_class, meta, tags, segments";

fn version_from_row(r: &Row<'_>) -> rusqlite::Result<ObjectVersion> {
    let key: Vec<u8> = r.get(2)?;
    let meta: String = r.get(10)?;
    let tags: String = r.get(11)?;
    let segments: String = r.get(12)?;
    Ok(ObjectVersion {
        seq: r.get(0)?,
        bucket: r.get(1)?,
        key: String::from_utf8(key).map_err(corrupt)?,
        version_id: r.get(3)?,
        is_latest: r.get::<_, i64>(4)? != 0,
        delete_marker: r.get::<_, i64>(5)? != 0,
        size: r.get::<_, i64>(6)? as u64,
        etag: r.get(7)?,
        last_modified_ms: r.get::<_, i64>(8)? as u64,
        storage_class: r.get(9)?,
        meta: serde_json::from_str(&meta).map_err(corrupt)?,
        tags: serde_json::from_str(&tags).map_err(corrupt)?,
        segments: serde_json::from_str(&segments).map_err(corrupt)?,
    })
}

pub fn set_bucket_config_tx(c: &Connection, bucket: &str, kind: &str, value: Option<&str>) -> rusqlite::Result<()> {
    match value {
        Some(v) => c.prepare_cached("INSERT OR REPLACE INTO bucket_configs (bucket, kind, value) VALUES (?1, ?2, ?3)")?.execute(params![bucket, kind, v])?,
        None => c.prepare_cached("DELETE FROM bucket_configs WHERE bucket = ?1 AND kind = ?2")?.execute(params![bucket, kind])?,
    };
    Ok(())
}

pub fn bucket_exists_tx(c: &Connection, bucket: &str) -> rusqlite::Result<bool> {
    Ok(c.prepare_cached("SELECT 1 FROM buckets WHERE name = ?1")?.query_row(params![bucket], |r| r.get::<_, i64>(0)).optional()?.is_some())
}

/// The latest version of a key, or the named one.
pub fn get_version_tx(c: &Connection, bucket: &str, key: &str, version_id: Option<&str>) -> rusqlite::Result<Option<ObjectVersion>> {
    match version_id {
        None => c.prepare_cached(&format!("SELECT {COLUMNS} FROM objects WHERE bucket = ?1 AND key = ?2 AND is_latest = 1"))?.query_row(params![bucket, key.as_bytes()], version_from_row).optional(),
        Some(id) => c.prepare_cached(&format!("SELECT {COLUMNS} FROM objects WHERE bucket = ?1 AND key = ?2 AND version_id = ?3"))?.query_row(params![bucket, key.as_bytes(), id], version_from_row).optional(),
    }
}

fn insert_version(c: &Connection, v: &ObjectVersion) -> rusqlite::Result<i64> {
    let meta = serde_json::to_string(&v.meta).map_err(corrupt)?;
    let tags = serde_json::to_string(&v.tags).map_err(corrupt)?;
    let segments = serde_json::to_string(&v.segments).map_err(corrupt)?;
    c.prepare_cached("UPDATE objects SET is_latest = 0 WHERE bucket = ?1 AND key = ?2 AND is_latest = 1")?.execute(params![v.bucket, v.key.as_bytes()])?;
    c.prepare_cached(
        "INSERT INTO objects (bucket, key, version_id, is_latest, delete_marker, size, etag, last_modified_ms, storage_class, meta, tags, segments)
         VALUES (?1, ?2, ?3, 1, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
    )?
    .execute(params![v.bucket, v.key.as_bytes(), v.version_id, v.delete_marker as i64, v.size as i64, v.etag, v.last_modified_ms as i64, v.storage_class, meta, tags, segments])?;
    Ok(c.last_insert_rowid())
}

/// Removes one stored version (by `seq`); if it was the latest, the newest remaining
/// version becomes the latest. Returns its blob files.
fn remove_version(c: &Connection, v: &ObjectVersion) -> rusqlite::Result<Vec<String>> {
    c.prepare_cached("DELETE FROM objects WHERE seq = ?1")?.execute(params![v.seq])?;
    if v.is_latest {
        c.prepare_cached("UPDATE objects SET is_latest = 1 WHERE seq = (SELECT MAX(seq) FROM objects WHERE bucket = ?1 AND key = ?2)")?.execute(params![v.bucket, v.key.as_bytes()])?;
    }
    Ok(v.segments.iter().map(|s| s.file.clone()).collect())
}

/// The write of a new version, atomically with its precondition: under `Enabled` it is
/// added beside the others; otherwise it replaces the `null` version. `v.version_id` must
/// be `null` unless versioning is enabled.
pub fn put_version_tx(c: &Connection, mut v: ObjectVersion, versioning: Versioning, condition: Option<&WriteCondition>) -> rusqlite::Result<Result<Written, WriteRefused>> {
    if !bucket_exists_tx(c, &v.bucket)? {
        return Ok(Err(WriteRefused::NoSuchBucket));
    }
    let current = get_version_tx(c, &v.bucket, &v.key, None)?.filter(|cur| !cur.delete_marker);
    match (condition, &current) {
        (Some(WriteCondition::IfNoneMatchAny), Some(_)) => return Ok(Err(WriteRefused::PreconditionFailed)),
        (Some(WriteCondition::IfMatch(_)), None) => return Ok(Err(WriteRefused::NoSuchKey)),
        (Some(WriteCondition::IfMatch(etag)), Some(cur)) if etag != "*" && *etag != cur.etag => return Ok(Err(WriteRefused::PreconditionFailed)),
        _ => {}
    }
    let mut freed = Vec::new();
    if versioning != Versioning::Enabled {
        v.version_id = "null".to_string();
        if let Some(old) = get_version_tx(c, &v.bucket, &v.key, Some("null"))? {
            freed = remove_version(c, &ObjectVersion { is_latest: false, ..old })?;
        }
    }
    v.is_latest = true;
    v.seq = insert_version(c, &v)?;
    Ok(Ok(Written { version: v, freed }))
}

/// DeleteObject's change (see [`Store::delete`]).
pub fn delete_tx(c: &Connection, bucket: &str, key: &str, version_id: Option<&str>, versioning: Versioning, now_ms: u64) -> rusqlite::Result<Result<Deleted, WriteRefused>> {
    if !bucket_exists_tx(c, bucket)? {
        return Ok(Err(WriteRefused::NoSuchBucket));
    }
    if let Some(id) = version_id {
        let Some(v) = get_version_tx(c, bucket, key, Some(id))? else {
            return Ok(Ok(Deleted { version_id: Some(id.to_string()), ..Deleted::default() }));
        };
        let freed = remove_version(c, &v)?;
        return Ok(Ok(Deleted { version_id: Some(v.version_id.clone()), delete_marker: v.delete_marker, found: true, freed }));
    }
    match versioning {
        Versioning::Unversioned => {
            let Some(v) = get_version_tx(c, bucket, key, Some("null"))? else { return Ok(Ok(Deleted::default())) };
            let freed = remove_version(c, &v)?;
            Ok(Ok(Deleted { version_id: None, delete_marker: false, found: true, freed }))
        }
        Versioning::Enabled | Versioning::Suspended => {
            let mut freed = Vec::new();
            let marker_id = versioning.new_version_id();
            if versioning == Versioning::Suspended {
                if let Some(old) = get_version_tx(c, bucket, key, Some("null"))? {
                    freed = remove_version(c, &ObjectVersion { is_latest: false, ..old })?;
                }
            }
            let marker = ObjectVersion {
                bucket: bucket.to_string(),
                key: key.to_string(),
                version_id: marker_id.clone(),
                delete_marker: true,
                last_modified_ms: now_ms,
                storage_class: "STANDARD".to_string(),
                ..ObjectVersion::default()
            };
            insert_version(c, &marker)?;
            Ok(Ok(Deleted { version_id: Some(marker_id), delete_marker: true, found: true, freed }))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn version(key: &str, id: &str, etag: &str) -> ObjectVersion {
        ObjectVersion { bucket: "b".into(), key: key.into(), version_id: id.into(), etag: etag.into(), storage_class: "STANDARD".into(), segments: vec![Segment { file: format!("f-{etag}"), len: 1 }], ..ObjectVersion::default() }
    }

    async fn store_with_bucket() -> Store {
        let s = Store::open(None, Durability::Process).expect("open");
        s.create_bucket(BucketRecord { name: "b".into(), account: "a".into(), region: "us-east-1".into(), created_ms: 1, configs: BTreeMap::new() }).await.expect("bucket");
        s
    }

    #[tokio::test]
    async fn null_versions_replace_and_free_their_files() {
        let s = store_with_bucket().await;
        s.put_version(version("k", "null", "e1"), Versioning::Unversioned, None).await.expect("put").expect("written");
        let w = s.put_version(version("k", "null", "e2"), Versioning::Unversioned, None).await.expect("put").expect("written");
        assert_eq!(w.freed, vec!["f-e1".to_string()]);
        assert_eq!(s.get_version("b", "k", None).expect("get").expect("latest").etag, "e2");
        let refused = s.put_version(version("k", "null", "e3"), Versioning::Unversioned, Some(WriteCondition::IfNoneMatchAny)).await.expect("put");
        assert_eq!(refused.err(), Some(WriteRefused::PreconditionFailed));
        let refused = s.put_version(version("k", "null", "e3"), Versioning::Unversioned, Some(WriteCondition::IfMatch("e1".into()))).await.expect("put");
        assert_eq!(refused.err(), Some(WriteRefused::PreconditionFailed));
        assert!(s.put_version(version("k", "null", "e3"), Versioning::Unversioned, Some(WriteCondition::IfMatch("e2".into()))).await.expect("put").is_ok());
        assert!(!s.delete_bucket("b", |_, _| Ok(true)).await.expect("delete"), "not empty");
    }

    #[tokio::test]
    async fn versions_and_delete_markers_list_newest_first_in_key_order() {
        let s = store_with_bucket().await;
        for (k, id) in [("b", "v1"), ("a", "v2"), ("b", "v3")] {
            s.put_version(version(k, id, id), Versioning::Enabled, None).await.expect("put").expect("written");
        }
        let d = s.delete("b", "a", None, Versioning::Enabled, 5).await.expect("delete").expect("ok");
        assert!(d.delete_marker);
        assert!(s.get_version("b", "a", None).expect("get").expect("marker").delete_marker);
        let latest: Vec<String> = s.list_latest("b", "", KeyStart::From(b""), 10).expect("list").into_iter().map(|v| v.key).collect();
        assert_eq!(latest, vec!["b"]);
        let all: Vec<(String, bool)> = s.list_versions("b", "", VersionStart::Beginning, 10).expect("versions").into_iter().map(|v| (v.key, v.is_latest)).collect();
        assert_eq!(all, vec![("a".into(), true), ("a".into(), false), ("b".into(), true), ("b".into(), false)]);
        // Removing the marker makes the previous version current again.
        let marker = d.version_id.expect("marker id");
        s.delete("b", "a", Some(&marker), Versioning::Enabled, 6).await.expect("delete").expect("ok");
        assert_eq!(s.get_version("b", "a", None).expect("get").expect("back").version_id, "v2");
        let first = s.list_versions("b", "", VersionStart::Beginning, 2).expect("page");
        let rest = s.list_versions("b", "", VersionStart::AfterVersion(first[1].key.as_bytes(), first[1].seq), 10).expect("page 2");
        assert_eq!(rest.iter().map(|v| v.version_id.as_str()).collect::<Vec<_>>(), vec!["v1"]);
    }
}
