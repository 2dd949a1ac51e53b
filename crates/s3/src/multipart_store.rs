//! Multipart uploads at rest: the uploads and their parts as rows (`mpu_uploads`,
//! `mpu_parts`; SQL over a connection, so the same functions serve the S3 database and the
//! `--in-memory` one), and each part's bytes as a file written from the request body as it
//! streams (`PartWriter`: MD5, the upload's checksum, `Content-MD5` and `x-amz-checksum-*`
//! checked; a temporary file renamed into place only when whole). A completed upload's
//! part files become the object's segments; they are not copied.

use crate::errors::{S3Error, S3Result};
use crate::multipart::{Algorithm, Part};
use base64::Engine;
use md5::{Digest, Md5};
use nimbus_core::service::BodyStream;
use rusqlite::{params, Connection, OptionalExtension};
use std::path::{Path, PathBuf};
use tokio::io::AsyncWriteExt;

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

/// Every part file named by any row (to tell orphans at start).
pub fn all_part_files(conn: &Connection) -> rusqlite::Result<Vec<String>> {
    let mut stmt = conn.prepare("SELECT file FROM mpu_parts")?;
    let files = stmt.query_map([], |r| r.get(0))?.collect();
    files
}

// ---------------------------------------------------------------------------------------
// Checksums

/// One of S3's additional checksums, computed as bytes stream.
pub enum Checksum {
    Crc(crc_fast::Digest, usize),
    Sha1(sha1::Sha1),
    Sha256(sha2::Sha256),
}

impl Checksum {
    pub fn new(a: Algorithm) -> Checksum {
        use crc_fast::CrcAlgorithm::*;
        match a {
            Algorithm::Crc32 => Checksum::Crc(crc_fast::Digest::new(Crc32IsoHdlc), 4),
            Algorithm::Crc32c => Checksum::Crc(crc_fast::Digest::new(Crc32Iscsi), 4),
            Algorithm::Crc64Nvme => Checksum::Crc(crc_fast::Digest::new(Crc64Nvme), 8),
            Algorithm::Sha1 => Checksum::Sha1(sha1::Sha1::new()),
            Algorithm::Sha256 => Checksum::Sha256(sha2::Sha256::new()),
        }
    }

    pub fn update(&mut self, data: &[u8]) {
        match self {
            Checksum::Crc(d, _) => d.update(data),
            Checksum::Sha1(d) => d.update(data),
            Checksum::Sha256(d) => d.update(data),
        }
    }

    /// The checksum's bytes (big-endian for the CRCs).
    pub fn finish(self) -> Vec<u8> {
        match self {
            Checksum::Crc(d, width) => d.finalize().to_be_bytes()[8 - width..].to_vec(),
            Checksum::Sha1(d) => d.finalize().to_vec(),
            Checksum::Sha256(d) => d.finalize().to_vec(),
        }
    }

    /// `a` over `data`, base64 (as `x-amz-checksum-*` carries it).
    pub fn of(a: Algorithm, data: &[u8]) -> Vec<u8> {
        let mut c = Checksum::new(a);
        c.update(data);
        c.finish()
    }
}

pub fn b64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

// ---------------------------------------------------------------------------------------
// Part files

/// Where part files live: `<root>/<upload id>/<part>-<unique>`; `<root>/.tmp` holds files
/// being written.
#[derive(Debug, Clone)]
pub struct PartFiles {
    root: PathBuf,
}

/// A part's bytes as written: size, MD5 and the requested checksums.
#[derive(Debug, Clone)]
pub struct WrittenPart {
    pub file: String,
    pub size: u64,
    pub md5: [u8; 16],
    /// The upload's algorithm's checksum (computed whether or not the client sent it).
    pub checksum: Option<(Algorithm, Vec<u8>)>,
}

/// What the request says the part's bytes are: `Content-MD5`, and an `x-amz-checksum-*`
/// header (or a trailer of the aws-chunked body) for `algorithm`.
#[derive(Debug, Default, Clone)]
pub struct Expected {
    pub content_md5: Option<String>,
    pub checksums: Vec<(Algorithm, String)>,
}

fn bad_digest_md5() -> S3Error {
    S3Error::other("BadDigest", 400, "The Content-MD5 you specified did not match what we received.")
}

fn bad_checksum(a: Algorithm) -> S3Error {
    S3Error::other("BadDigest", 400, format!("The {} you specified did not match the calculated checksum.", a.member().replace("Checksum", "x-amz-checksum-").to_ascii_lowercase()))
}

impl PartFiles {
    pub fn new(root: PathBuf) -> PartFiles {
        PartFiles { root }
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    pub fn path(&self, file: &str) -> PathBuf {
        self.root.join(file)
    }

    /// Writes `body` as part `number` of `upload_id`: to a temporary file, checked against
    /// `expected`, then renamed into place. `algorithm`: the upload's checksum algorithm.
    pub async fn write(&self, upload_id: &str, number: u32, mut body: BodyStream, algorithm: Option<Algorithm>, mut expected: Expected) -> S3Result<WrittenPart> {
        use http_body_util::BodyExt;
        let tmp_dir = self.root.join(".tmp");
        tokio::fs::create_dir_all(&tmp_dir).await.map_err(io_error)?;
        let tmp = tmp_dir.join(uuid::Uuid::new_v4().simple().to_string());
        let mut file = tokio::fs::File::create(&tmp).await.map_err(io_error)?;
        let mut md5 = Md5::new();
        // The upload's algorithm, and any other the request names.
        let mut algorithms: Vec<Algorithm> = algorithm.into_iter().collect();
        for (a, _) in &expected.checksums {
            if !algorithms.contains(a) {
                algorithms.push(*a);
            }
        }
        let mut sums: Vec<(Algorithm, Checksum)> = algorithms.iter().map(|a| (*a, Checksum::new(*a))).collect();
        let mut size = 0u64;
        let result: S3Result<()> = async {
            while let Some(frame) = body.frame().await {
                let frame = frame.map_err(body_error)?;
                match frame.into_data() {
                    Ok(data) => {
                        md5.update(&data);
                        for (_, c) in sums.iter_mut() {
                            c.update(&data);
                        }
                        size += data.len() as u64;
                        file.write_all(&data).await.map_err(io_error)?;
                    }
                    Err(frame) => {
                        if let Ok(trailers) = frame.into_trailers() {
                            for (name, value) in trailers.iter() {
                                let Some(a) = name.as_str().strip_prefix("x-amz-checksum-").and_then(Algorithm::parse) else { continue };
                                if let Ok(v) = value.to_str() {
                                    expected.checksums.push((a, v.to_string()));
                                    if !sums.iter().any(|(x, _)| *x == a) {
                                        // A trailer for an algorithm not computed: not checkable.
                                        return Err(S3Error::other("InvalidRequest", 400, "The checksum trailer names an algorithm the request did not announce."));
                                    }
                                }
                            }
                        }
                    }
                }
            }
            file.flush().await.map_err(io_error)?;
            file.sync_data().await.map_err(io_error)?;
            Ok(())
        }
        .await;
        drop(file);
        let md5: [u8; 16] = md5.finalize().into();
        let checked = result.and_then(|()| {
            if let Some(sent) = &expected.content_md5 {
                if base64::engine::general_purpose::STANDARD.decode(sent.trim()).ok().as_deref() != Some(&md5[..]) {
                    return Err(bad_digest_md5());
                }
            }
            Ok(())
        });
        let mut computed: Vec<(Algorithm, Vec<u8>)> = sums.into_iter().map(|(a, c)| (a, c.finish())).collect();
        let checked = checked.and_then(|()| {
            for (a, sent) in &expected.checksums {
                let ours = computed.iter().find(|(x, _)| x == a).map(|(_, v)| b64(v));
                if ours.as_deref() != Some(sent.trim()) {
                    return Err(bad_checksum(*a));
                }
            }
            Ok(())
        });
        if let Err(e) = checked {
            let _ = tokio::fs::remove_file(&tmp).await;
            return Err(e);
        }
        let name = format!("{upload_id}/{number}-{}", uuid::Uuid::new_v4().simple());
        let dest = self.root.join(&name);
        if let Some(dir) = dest.parent() {
            tokio::fs::create_dir_all(dir).await.map_err(io_error)?;
        }
        tokio::fs::rename(&tmp, &dest).await.map_err(io_error)?;
        let checksum = algorithm.and_then(|a| computed.iter().position(|(x, _)| *x == a).map(|i| computed.swap_remove(i)));
        Ok(WrittenPart { file: name, size, md5, checksum })
    }

    /// Removes part files (and their upload's directory once empty); errors are ignored.
    pub fn remove(&self, files: &[String]) {
        for f in files {
            let path = self.root.join(f);
            let _ = std::fs::remove_file(&path);
            if let Some(dir) = path.parent() {
                let _ = std::fs::remove_dir(dir);
            }
        }
    }
}

fn io_error(e: std::io::Error) -> S3Error {
    S3Error::other("InternalError", 500, format!("We encountered an internal error. Please try again. ({e})"))
}

/// A failed body read: the decoder's S3 error when it raised one (the router answers with
/// it anyway), else the body was cut short.
fn body_error(e: std::io::Error) -> S3Error {
    match nimbus_core::protocol::aws_chunked::aws_error_of(&e) {
        Some(err) => S3Error::other("IncompleteBody", err.status, err.message),
        None => S3Error::other("IncompleteBody", 400, "You did not provide the number of bytes specified by the Content-Length HTTP header."),
    }
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

    #[test]
    fn checksums_match_known_values() {
        assert_eq!(Checksum::of(Algorithm::Crc32, b"123456789"), 0xcbf4_3926u32.to_be_bytes());
        assert_eq!(Checksum::of(Algorithm::Crc32c, b"123456789"), 0xe306_9283u32.to_be_bytes());
        assert_eq!(b64(&Checksum::of(Algorithm::Sha256, b"")), "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=");
    }
}
