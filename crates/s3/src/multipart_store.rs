//! Multipart uploads at rest: the uploads and their parts as rows of the S3 database
//! (`mpu_uploads`, `mpu_parts`, added to `store.rs`'s schema and changed in its
//! transactions: SQL over a connection). Each part's bytes are a blob file (`blobs.rs`); a
//! completed upload's part files become the object's segments, not copied, in the same
//! transaction that removes the upload's rows.

use crate::checksums::Algorithm;
use crate::multipart::Part;
use rusqlite::{params, Connection, OptionalExtension};

pub const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS mpu_uploads (
    upload_id TEXT PRIMARY KEY,
    bucket TEXT NOT NULL,
    key TEXT NOT NULL,
    initiated_ms INTEGER NOT NULL,
    settings TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS mpu_uploads_by_key ON mpu_uploads(bucket, key, initiated_ms, upload_id);
CREATE TABLE IF NOT EXISTS mpu_parts (
    upload_id TEXT NOT NULL,
    part_number INTEGER NOT NULL,
    size INTEGER NOT NULL,
    md5 TEXT NOT NULL,
    checksum TEXT,
    last_modified_ms INTEGER NOT NULL,
    file TEXT NOT NULL,
    PRIMARY KEY (upload_id, part_number)
);
";

/// An upload in progress.
#[derive(Debug, Clone, PartialEq)]
pub struct Upload {
    pub upload_id: String,
    pub bucket: String,
    pub key: String,
    pub initiated_ms: u64,
    /// What CreateMultipartUpload set for the object (content headers, metadata, tagging,
    /// storage class, checksum algorithm and type, owner), as input members.
    pub settings: serde_json::Value,
}

impl Upload {
    pub fn checksum_algorithm(&self) -> Option<Algorithm> {
        self.settings.get("ChecksumAlgorithm").and_then(|v| v.as_str()).and_then(Algorithm::parse)
    }

    pub fn storage_class(&self) -> String {
        self.settings.get("StorageClass").and_then(|v| v.as_str()).unwrap_or("STANDARD").to_string()
    }
}

/// A part row: the part and its file (relative to the uploads directory).
#[derive(Debug, Clone, PartialEq)]
pub struct StoredPart {
    pub part: Part,
    pub file: String,
}

pub fn insert_upload(conn: &Connection, u: &Upload) -> rusqlite::Result<()> {
    conn.execute(
        "INSERT INTO mpu_uploads (upload_id, bucket, key, initiated_ms, settings) VALUES (?1, ?2, ?3, ?4, ?5)",
        params![u.upload_id, u.bucket, u.key, u.initiated_ms as i64, u.settings.to_string()],
    )?;
    Ok(())
}

fn upload_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<Upload> {
    let settings: String = r.get(4)?;
    Ok(Upload {
        upload_id: r.get(0)?,
        bucket: r.get(1)?,
        key: r.get(2)?,
        initiated_ms: r.get::<_, i64>(3)? as u64,
        settings: serde_json::from_str(&settings).unwrap_or(serde_json::Value::Null),
    })
}

pub fn get_upload(conn: &Connection, upload_id: &str) -> rusqlite::Result<Option<Upload>> {
    conn.query_row("SELECT upload_id, bucket, key, initiated_ms, settings FROM mpu_uploads WHERE upload_id = ?1", params![upload_id], upload_row).optional()
}

/// What writing a part row did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PartPut {
    /// Stored; the file of the part it replaced, if any (to delete once committed).
    Stored(Option<String>),
    /// The upload was completed or aborted meanwhile.
    UploadGone,
}

/// Inserts or replaces a part, if its upload still exists (decided in the same transaction,
/// so a part never lands in an upload that completed or was aborted).
pub fn put_part(conn: &Connection, upload_id: &str, p: &StoredPart) -> rusqlite::Result<PartPut> {
    let exists: bool = conn.query_row("SELECT EXISTS(SELECT 1 FROM mpu_uploads WHERE upload_id = ?1)", params![upload_id], |r| r.get(0))?;
    if !exists {
        return Ok(PartPut::UploadGone);
    }
    let old: Option<String> = conn
        .query_row("SELECT file FROM mpu_parts WHERE upload_id = ?1 AND part_number = ?2", params![upload_id, p.part.number], |r| r.get(0))
        .optional()?;
    conn.execute(
        "INSERT OR REPLACE INTO mpu_parts (upload_id, part_number, size, md5, checksum, last_modified_ms, file) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        params![upload_id, p.part.number, p.part.size as i64, p.part.md5_hex, p.part.checksum, p.part.last_modified_ms as i64, p.file],
    )?;
    Ok(PartPut::Stored(old))
}

/// Parts with numbers above `after`, at most `limit`, in order.
pub fn list_parts(conn: &Connection, upload_id: &str, after: u32, limit: usize) -> rusqlite::Result<Vec<StoredPart>> {
    let mut stmt = conn.prepare_cached(
        "SELECT part_number, size, md5, checksum, last_modified_ms, file FROM mpu_parts WHERE upload_id = ?1 AND part_number > ?2 ORDER BY part_number LIMIT ?3",
    )?;
    let rows = stmt.query_map(params![upload_id, after, limit as i64], |r| {
        Ok(StoredPart {
            part: Part { number: r.get(0)?, size: r.get::<_, i64>(1)? as u64, md5_hex: r.get(2)?, checksum: r.get(3)?, last_modified_ms: r.get::<_, i64>(4)? as u64 },
            file: r.get(5)?,
        })
    })?;
    rows.collect()
}

/// Removes an upload and its part rows; the files of its parts.
pub fn delete_upload(conn: &Connection, upload_id: &str) -> rusqlite::Result<Vec<String>> {
    let mut stmt = conn.prepare_cached("SELECT file FROM mpu_parts WHERE upload_id = ?1")?;
    let files: Vec<String> = stmt.query_map(params![upload_id], |r| r.get(0))?.collect::<rusqlite::Result<_>>()?;
    conn.execute("DELETE FROM mpu_parts WHERE upload_id = ?1", params![upload_id])?;
    conn.execute("DELETE FROM mpu_uploads WHERE upload_id = ?1", params![upload_id])?;
    Ok(files)
}

/// Every upload of a bucket (DeleteBucket takes them with it).
pub fn uploads_of_bucket(conn: &Connection, bucket: &str) -> rusqlite::Result<Vec<String>> {
    let mut stmt = conn.prepare_cached("SELECT upload_id FROM mpu_uploads WHERE bucket = ?1")?;
    let ids = stmt.query_map(params![bucket], |r| r.get(0))?.collect();
    ids
}

/// Uploads of `bucket` in ListMultipartUploads order (key, then initiation, then id) whose
/// key starts with `prefix`, after the markers: with `key_marker` alone, keys after it;
/// with an `upload_id_marker` too, that key's uploads after that upload, then later keys.
/// At most `limit`.
pub fn list_uploads(conn: &Connection, bucket: &str, prefix: &str, key_marker: &str, upload_id_marker: &str, limit: usize) -> rusqlite::Result<Vec<Upload>> {
    let marker_position: Option<(i64, String)> = if !key_marker.is_empty() && !upload_id_marker.is_empty() {
        conn.query_row(
            "SELECT initiated_ms, upload_id FROM mpu_uploads WHERE bucket = ?1 AND key = ?2 AND upload_id = ?3",
            params![bucket, key_marker, upload_id_marker],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()?
    } else {
        None
    };
    let mut stmt = conn.prepare_cached(
        "SELECT upload_id, bucket, key, initiated_ms, settings FROM mpu_uploads
         WHERE bucket = ?1 AND substr(key, 1, length(?2)) = ?2
           AND (?3 = '' OR key > ?3 OR (key = ?3 AND ?4 IS NOT NULL AND (initiated_ms > ?4 OR (initiated_ms = ?4 AND upload_id > ?5))))
         ORDER BY key, initiated_ms, upload_id LIMIT ?6",
    )?;
    let (ms, id) = marker_position.map(|(m, i)| (Some(m), i)).unwrap_or((None, String::new()));
    let rows = stmt.query_map(params![bucket, prefix, key_marker, ms, id, limit as i64], upload_row)?;
    rows.collect()
}

/// DeleteBucket's hook, in its transaction: a general purpose bucket holding only
/// incomplete uploads can be deleted, and its uploads go with it (their part files are
/// removed after the commit, or by the sweep at the next start).
/// <https://docs.aws.amazon.com/AmazonS3/latest/userguide/empty-bucket.html>
pub fn drop_bucket_uploads(conn: &Connection, bucket: &str) -> rusqlite::Result<bool> {
    for id in uploads_of_bucket(conn, bucket)? {
        delete_upload(conn, &id)?;
    }
    Ok(true)
}

/// The part files of a bucket's uploads.
pub fn part_files_of_bucket(conn: &Connection, bucket: &str) -> rusqlite::Result<Vec<String>> {
    let mut stmt = conn.prepare_cached("SELECT p.file FROM mpu_parts p JOIN mpu_uploads u ON u.upload_id = p.upload_id WHERE u.bucket = ?1")?;
    let files = stmt.query_map(params![bucket], |r| r.get(0))?.collect();
    files
}

/// Every part file named by any row (kept by the blob sweep at start).
pub fn all_part_files(conn: &Connection) -> rusqlite::Result<Vec<String>> {
    let mut stmt = conn.prepare("SELECT file FROM mpu_parts")?;
    let files = stmt.query_map([], |r| r.get(0))?.collect();
    files
}

#[cfg(test)]
mod tests {
    use super::*;

    fn conn() -> Connection {
        let c = Connection::open_in_memory().unwrap();
        c.execute_batch(SCHEMA).unwrap();
        c
    }

    fn upload(id: &str, key: &str, ms: u64) -> Upload {
        Upload { upload_id: id.into(), bucket: "b".into(), key: key.into(), initiated_ms: ms, settings: serde_json::json!({}) }
    }

    fn part(n: u32) -> StoredPart {
        StoredPart { part: Part { number: n, size: n as u64, md5_hex: format!("{n:032x}"), checksum: None, last_modified_ms: 1 }, file: format!("u/{n}") }
    }

    #[test]
    fn uploads_list_in_key_then_initiation_order_after_markers() {
        let c = conn();
        for (id, key, ms) in [("u3", "a/2", 5), ("u1", "a/1", 9), ("u2", "a/2", 1), ("u4", "b", 2), ("u5", "c", 0)] {
            insert_upload(&c, &upload(id, key, ms)).unwrap();
        }
        let ids = |v: Vec<Upload>| v.into_iter().map(|u| u.upload_id).collect::<Vec<_>>();
        assert_eq!(ids(list_uploads(&c, "b", "", "", "", 100).unwrap()), ["u1", "u2", "u3", "u4", "u5"]);
        assert_eq!(ids(list_uploads(&c, "b", "a/", "", "", 100).unwrap()), ["u1", "u2", "u3"]);
        assert_eq!(ids(list_uploads(&c, "b", "", "a/2", "", 100).unwrap()), ["u4", "u5"]);
        assert_eq!(ids(list_uploads(&c, "b", "", "a/2", "u2", 100).unwrap()), ["u3", "u4", "u5"]);
        assert_eq!(ids(list_uploads(&c, "b", "", "", "", 2).unwrap()), ["u1", "u2"]);
        assert!(list_uploads(&c, "other", "", "", "", 100).unwrap().is_empty());
    }

    #[test]
    fn parts_replace_page_and_go_with_their_upload() {
        let c = conn();
        insert_upload(&c, &upload("u", "k", 0)).unwrap();
        for n in [3, 1, 2] {
            assert_eq!(put_part(&c, "u", &part(n)).unwrap(), PartPut::Stored(None));
        }
        let mut again = part(2);
        again.file = "u/2-new".into();
        assert_eq!(put_part(&c, "u", &again).unwrap(), PartPut::Stored(Some("u/2".into())));
        let numbers = |v: Vec<StoredPart>| v.into_iter().map(|p| p.part.number).collect::<Vec<_>>();
        assert_eq!(numbers(list_parts(&c, "u", 0, 2).unwrap()), [1, 2]);
        assert_eq!(numbers(list_parts(&c, "u", 2, 10).unwrap()), [3]);
        let mut files = delete_upload(&c, "u").unwrap();
        files.sort();
        assert_eq!(files, ["u/1", "u/2-new", "u/3"]);
        assert!(get_upload(&c, "u").unwrap().is_none());
        assert_eq!(put_part(&c, "u", &part(1)).unwrap(), PartPut::UploadGone);
    }
}
