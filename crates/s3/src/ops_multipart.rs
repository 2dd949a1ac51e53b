//! The multipart operations: CreateMultipartUpload, UploadPart, AbortMultipartUpload,
//! ListParts, ListMultipartUploads, and CompleteMultipartUpload's checks and assembly (the
//! object itself is committed by the objects' store through [`ObjectSeam`], referencing the
//! part files as its segments). Uploads and parts are rows of the S3 database
//! (`multipart_store.rs`) read back per request; part bytes are files.
//! <https://docs.aws.amazon.com/AmazonS3/latest/userguide/mpuoverview.html>

use crate::errors::{S3Error, S3Result};
use crate::multipart::{self, Algorithm, NamedPart, Part, MAX_LISTED};
use crate::multipart_store::{self as store, b64, Checksum, Expected, PartFiles, StoredPart, Upload};
use nimbus_core::service::BodyStream;
use nimbus_core::storage::{DomainStore, Durability};
use nimbus_core::{Clock, RequestContext};
use parking_lot::Mutex;
use rusqlite::Connection;
use serde_json::{json, Map, Value};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

const ALGORITHMS: [Algorithm; 5] = [Algorithm::Crc32, Algorithm::Crc32c, Algorithm::Crc64Nvme, Algorithm::Sha1, Algorithm::Sha256];

/// What multipart needs of buckets and objects.
pub trait ObjectSeam: Send + Sync {
    /// `Err(NoSuchBucket)` unless the bucket exists (for this caller).
    fn check_bucket(&self, ctx: &RequestContext, bucket: &str) -> S3Result<()>;
}

/// The database the upload rows live in: the S3 database on disk, or one in memory.
enum Db {
    Disk(DomainStore<()>),
    Memory(Mutex<Connection>),
}

impl Db {
    fn read<T>(&self, f: impl FnOnce(&Connection) -> rusqlite::Result<T>) -> S3Result<T> {
        match self {
            Db::Disk(s) => s.read(f).map_err(internal),
            Db::Memory(c) => f(&c.lock()).map_err(internal),
        }
    }

    /// Runs `f` in the next group commit and answers its result once committed.
    async fn write<T: Send + 'static>(&self, f: impl FnOnce(&Connection) -> rusqlite::Result<T> + Send + 'static) -> Result<T, rusqlite::Error> {
        match self {
            Db::Memory(c) => f(&c.lock()),
            Db::Disk(s) => {
                let out: Arc<Mutex<Option<Result<T, rusqlite::Error>>>> = Arc::default();
                let slot = out.clone();
                let pending = s.submit(Box::new(move |conn| {
                    // A failed operation is an answer, not a failed transaction.
                    let r = f(conn);
                    *slot.lock() = Some(r);
                    Ok(())
                }));
                pending.wait().await.map_err(|e| rusqlite::Error::ToSqlConversionFailure(e.into()))?;
                let r = out.lock().take();
                r.unwrap_or(Err(rusqlite::Error::InvalidQuery))
            }
        }
    }
}

fn internal(e: impl std::fmt::Display) -> S3Error {
    S3Error::other("InternalError", 500, format!("We encountered an internal error. Please try again. ({e})"))
}

/// Multipart uploads: their rows, their part files, the clock they are stamped on.
pub struct Multipart {
    db: Db,
    files: PartFiles,
    clock: Clock,
    /// `--in-memory`: the part files' temporary directory, removed when dropped.
    temp_root: Option<PathBuf>,
}

impl Drop for Multipart {
    fn drop(&mut self) {
        if let Some(root) = &self.temp_root {
            let _ = std::fs::remove_dir_all(root);
        }
    }
}

impl Multipart {
    /// On disk: rows in `<data>/s3/multipart.db`, part files under `<data>/s3/uploads/`.
    /// `None`: rows in memory, part files in a temporary directory removed at exit.
    pub fn open(data_dir: Option<&Path>, durability: Durability, clock: Clock) -> S3Result<Multipart> {
        match data_dir {
            Some(dir) => {
                let s3 = dir.join("s3");
                let db = DomainStore::open(&s3.join("multipart.db"), durability, "s3-multipart", store::SCHEMA, |_| Ok(())).map_err(internal)?;
                let files = PartFiles::new(s3.join("uploads"));
                let m = Multipart { db: Db::Disk(db), files, clock, temp_root: None };
                m.remove_orphan_files();
                Ok(m)
            }
            None => {
                let conn = Connection::open_in_memory().map_err(internal)?;
                conn.execute_batch(store::SCHEMA).map_err(internal)?;
                let root = std::env::temp_dir().join(format!("nimbus-s3-uploads-{}", uuid::Uuid::new_v4().simple()));
                Ok(Multipart { db: Db::Memory(Mutex::new(conn)), files: PartFiles::new(root.clone()), clock, temp_root: Some(root) })
            }
        }
    }

    /// Part files no row names (a crash between writing a file and committing its row, or
    /// between a commit and the unlink of the files it released) are removed at start.
    fn remove_orphan_files(&self) {
        let Ok(known) = self.db.read(store::all_part_files) else { return };
        let known: std::collections::HashSet<String> = known.into_iter().collect();
        let _ = std::fs::remove_dir_all(self.files.root().join(".tmp"));
        let Ok(uploads) = std::fs::read_dir(self.files.root()) else { return };
        for upload in uploads.flatten() {
            let Ok(parts) = std::fs::read_dir(upload.path()) else { continue };
            for part in parts.flatten() {
                let name = format!("{}/{}", upload.file_name().to_string_lossy(), part.file_name().to_string_lossy());
                if !known.contains(&name) {
                    let _ = std::fs::remove_file(part.path());
                }
            }
            let _ = std::fs::remove_dir(upload.path());
        }
    }

    /// A part file's path (the completed object's segments).
    pub fn part_path(&self, file: &str) -> PathBuf {
        self.files.path(file)
    }

    fn upload(&self, bucket: &str, key: &str, upload_id: &str) -> S3Result<Upload> {
        match self.db.read(|c| store::get_upload(c, upload_id))? {
            Some(u) if u.bucket == bucket && u.key == key => Ok(u),
            _ => Err(multipart::no_such_upload(upload_id)),
        }
    }

    pub async fn create(&self, ctx: &RequestContext, seam: &dyn ObjectSeam, input: &Value) -> S3Result<Value> {
        let (bucket, key) = (str_of(input, "Bucket"), str_of(input, "Key"));
        seam.check_bucket(ctx, &bucket)?;
        let algorithm = match input.get("ChecksumAlgorithm").and_then(|v| v.as_str()) {
            Some(a) => Some(Algorithm::parse(a).ok_or_else(|| {
                S3Error::detailed("InvalidRequest", 400, format!("Checksum algorithm {a} is not supported."), &[])
            })?),
            None => None,
        };
        let mut settings: Map<String, Value> = input.as_object().cloned().unwrap_or_default();
        settings.remove("Bucket");
        settings.remove("Key");
        if let Some(a) = algorithm {
            settings.insert("ChecksumAlgorithm".into(), a.name().into());
            // Composite checksums for every algorithm but CRC64NVME (full object only).
            let kind = if a == Algorithm::Crc64Nvme { "FULL_OBJECT" } else { settings.get("ChecksumType").and_then(|v| v.as_str()).unwrap_or("COMPOSITE") };
            settings.insert("ChecksumType".into(), kind.into());
        }
        settings.insert("Owner".into(), ctx.account_id.clone().into());
        let upload = Upload {
            upload_id: new_upload_id(),
            bucket: bucket.clone(),
            key: key.clone(),
            initiated_ms: self.clock.now_ms(),
            settings: Value::Object(settings),
        };
        let row = upload.clone();
        self.db.write(move |c| store::insert_upload(c, &row)).await.map_err(internal)?;
        let mut out = json!({ "Bucket": bucket, "Key": key, "UploadId": upload.upload_id });
        if let Some(a) = algorithm {
            out["ChecksumAlgorithm"] = a.name().into();
            out["ChecksumType"] = upload.settings["ChecksumType"].clone();
        }
        Ok(out)
    }

    pub async fn upload_part(&self, ctx: &RequestContext, seam: &dyn ObjectSeam, input: &Value, body: Option<BodyStream>) -> S3Result<Value> {
        let (bucket, key, upload_id) = (str_of(input, "Bucket"), str_of(input, "Key"), str_of(input, "UploadId"));
        seam.check_bucket(ctx, &bucket)?;
        let number = multipart::part_number(input.get("PartNumber").and_then(|v| v.as_i64()))?;
        let upload = self.upload(&bucket, &key, &upload_id)?;
        let algorithm = upload.checksum_algorithm();
        let expected = Expected {
            content_md5: input.get("ContentMD5").and_then(|v| v.as_str()).map(str::to_string),
            checksums: ALGORITHMS.iter().filter_map(|a| input.get(a.member()).and_then(|v| v.as_str()).map(|v| (*a, v.to_string()))).collect(),
        };
        let body = body.unwrap_or_else(|| http_body_util::BodyExt::boxed(http_body_util::Empty::<bytes::Bytes>::new().map_err(|never| match never {})));
        use http_body_util::BodyExt as _;
        let written = self.files.write(&upload_id, number, body, algorithm, expected.clone()).await?;
        let md5_hex = multipart::hex(&written.md5);
        let part = StoredPart {
            part: Part { number, size: written.size, md5_hex: md5_hex.clone(), checksum: written.checksum.as_ref().map(|(_, v)| b64(v)), last_modified_ms: self.clock.now_ms() },
            file: written.file.clone(),
        };
        let id = upload_id.clone();
        match self.db.write(move |c| store::put_part(c, &id, &part)).await {
            Ok(store::PartPut::Stored(replaced)) => self.files.remove(&replaced.into_iter().collect::<Vec<_>>()),
            Ok(store::PartPut::UploadGone) => {
                self.files.remove(&[written.file]);
                return Err(multipart::no_such_upload(&upload_id));
            }
            Err(e) => {
                self.files.remove(&[written.file]);
                return Err(internal(e));
            }
        }
        let mut out = json!({ "ETag": format!("\"{md5_hex}\"") });
        if let Some((a, v)) = &written.checksum {
            out[a.member()] = b64(v).into();
        }
        for (a, v) in &expected.checksums {
            out[a.member()] = v.clone().into();
        }
        Ok(out)
    }

    pub async fn abort(&self, ctx: &RequestContext, seam: &dyn ObjectSeam, input: &Value) -> S3Result<Value> {
        let (bucket, key, upload_id) = (str_of(input, "Bucket"), str_of(input, "Key"), str_of(input, "UploadId"));
        seam.check_bucket(ctx, &bucket)?;
        self.upload(&bucket, &key, &upload_id)?;
        let id = upload_id.clone();
        let files = self.db.write(move |c| store::delete_upload(c, &id)).await.map_err(internal)?;
        self.files.remove(&files);
        Ok(json!({}))
    }

    /// DeleteBucket: the bucket's uploads go with it (a general purpose bucket holding only
    /// incomplete uploads can be deleted).
    pub async fn drop_bucket(&self, bucket: &str) -> S3Result<()> {
        let bucket = bucket.to_string();
        let files = self
            .db
            .write(move |c| {
                let mut files = Vec::new();
                for id in store::uploads_of_bucket(c, &bucket)? {
                    files.extend(store::delete_upload(c, &id)?);
                }
                Ok(files)
            })
            .await
            .map_err(internal)?;
        self.files.remove(&files);
        Ok(())
    }

    pub async fn list_parts(&self, ctx: &RequestContext, seam: &dyn ObjectSeam, input: &Value) -> S3Result<Value> {
        let (bucket, key, upload_id) = (str_of(input, "Bucket"), str_of(input, "Key"), str_of(input, "UploadId"));
        seam.check_bucket(ctx, &bucket)?;
        let upload = self.upload(&bucket, &key, &upload_id)?;
        let max = max_of(input, "MaxParts")?;
        let marker = input.get("PartNumberMarker").and_then(|v| v.as_i64()).unwrap_or(0).max(0) as u32;
        let mut parts = self.db.read(|c| store::list_parts(c, &upload_id, marker, max + 1))?;
        let truncated = parts.len() > max;
        parts.truncate(max);
        let algorithm = upload.checksum_algorithm();
        let listed: Vec<Value> = parts
            .iter()
            .map(|p| {
                let mut v = json!({ "PartNumber": p.part.number, "LastModified": secs(p.part.last_modified_ms), "ETag": p.part.etag(), "Size": p.part.size });
                if let (Some(a), Some(c)) = (algorithm, &p.part.checksum) {
                    v[a.member()] = c.clone().into();
                }
                v
            })
            .collect();
        let owner = owner(&upload);
        let mut out = json!({
            "Bucket": bucket, "Key": key, "UploadId": upload_id,
            "PartNumberMarker": marker, "MaxParts": max, "IsTruncated": truncated,
            "Parts": listed, "Initiator": owner, "Owner": owner, "StorageClass": upload.storage_class(),
        });
        if let Some(last) = parts.last().filter(|_| truncated) {
            out["NextPartNumberMarker"] = last.part.number.into();
        }
        if let Some(a) = algorithm {
            out["ChecksumAlgorithm"] = a.name().into();
            out["ChecksumType"] = upload.settings.get("ChecksumType").cloned().unwrap_or(Value::Null);
        }
        Ok(out)
    }

    pub async fn list_uploads(&self, ctx: &RequestContext, seam: &dyn ObjectSeam, input: &Value) -> S3Result<Value> {
        let bucket = str_of(input, "Bucket");
        seam.check_bucket(ctx, &bucket)?;
        let prefix = str_of(input, "Prefix");
        let delimiter = str_of(input, "Delimiter");
        let key_marker = str_of(input, "KeyMarker");
        let id_marker = if key_marker.is_empty() { String::new() } else { str_of(input, "UploadIdMarker") };
        let max = max_of(input, "MaxUploads")?;
        let mut uploads = Vec::new();
        let mut prefixes: Vec<String> = Vec::new();
        let (mut after_key, mut after_id) = (key_marker.clone(), id_marker.clone());
        let mut truncated = false;
        let mut next: Option<(String, String)> = None;
        'pages: loop {
            let page = self.db.read(|c| store::list_uploads(c, &bucket, &prefix, &after_key, &after_id, MAX_LISTED))?;
            let exhausted = page.len() < MAX_LISTED;
            for u in page {
                (after_key, after_id) = (u.key.clone(), u.upload_id.clone());
                // A key-marker that is a common prefix (a previous page's last) skips its keys.
                if !delimiter.is_empty() && key_marker.ends_with(&delimiter) && u.key.starts_with(&key_marker) {
                    continue;
                }
                let common = (!delimiter.is_empty()).then(|| u.key[prefix.len()..].find(&delimiter).map(|i| u.key[..prefix.len() + i + delimiter.len()].to_string())).flatten();
                if let Some(p) = &common {
                    if prefixes.last() == Some(p) {
                        continue;
                    }
                }
                if uploads.len() + prefixes.len() == max {
                    truncated = true;
                    break 'pages;
                }
                match common {
                    Some(p) => {
                        next = Some((p.clone(), String::new()));
                        prefixes.push(p);
                    }
                    None => {
                        next = Some((u.key.clone(), u.upload_id.clone()));
                        uploads.push(u);
                    }
                }
            }
            if exhausted {
                break;
            }
        }
        let listed: Vec<Value> = uploads
            .iter()
            .map(|u| {
                let mut v = json!({ "UploadId": u.upload_id, "Key": u.key, "Initiated": secs(u.initiated_ms), "StorageClass": u.storage_class(), "Owner": owner(u), "Initiator": owner(u) });
                if let Some(a) = u.checksum_algorithm() {
                    v["ChecksumAlgorithm"] = a.name().into();
                    v["ChecksumType"] = u.settings.get("ChecksumType").cloned().unwrap_or(Value::Null);
                }
                v
            })
            .collect();
        let mut out = json!({
            "Bucket": bucket, "KeyMarker": key_marker, "UploadIdMarker": id_marker,
            "MaxUploads": max, "IsTruncated": truncated, "Uploads": listed,
            "CommonPrefixes": prefixes.iter().map(|p| json!({ "Prefix": p })).collect::<Vec<_>>(),
        });
        if !prefix.is_empty() {
            out["Prefix"] = prefix.into();
        }
        if !delimiter.is_empty() {
            out["Delimiter"] = delimiter.into();
        }
        if let (true, Some((k, id))) = (truncated, next) {
            out["NextKeyMarker"] = k.into();
            out["NextUploadIdMarker"] = id.into();
        }
        if input.get("EncodingType").and_then(|v| v.as_str()) == Some("url") {
            out["EncodingType"] = "url".into();
        }
        Ok(out)
    }

    /// CompleteMultipartUpload's checks and what the object is made of: the upload (its
    /// settings), the parts in order with their files, the ETag and the checksum.
    pub fn assemble(&self, input: &Value) -> S3Result<Assembly> {
        let (bucket, key, upload_id) = (str_of(input, "Bucket"), str_of(input, "Key"), str_of(input, "UploadId"));
        let upload = self.upload(&bucket, &key, &upload_id)?;
        let named: Vec<NamedPart> = input
            .get("MultipartUpload")
            .and_then(|m| m.get("Parts"))
            .and_then(|p| p.as_array())
            .map(|parts| {
                parts
                    .iter()
                    .map(|p| NamedPart {
                        number: p.get("PartNumber").and_then(|v| v.as_i64()).unwrap_or(0).clamp(0, u32::MAX as i64) as u32,
                        etag: p.get("ETag").and_then(|v| v.as_str()).unwrap_or("").to_string(),
                        checksum: upload.checksum_algorithm().and_then(|a| p.get(a.member()).and_then(|v| v.as_str()).map(str::to_string)),
                    })
                    .collect()
            })
            .unwrap_or_default();
        let stored = self.db.read(|c| store::list_parts(c, &upload_id, 0, multipart::MAX_PART_NUMBER as usize))?;
        let files: BTreeMap<u32, String> = stored.iter().map(|p| (p.part.number, p.file.clone())).collect();
        let uploaded: BTreeMap<u32, Part> = stored.into_iter().map(|p| (p.part.number, p.part)).collect();
        let parts = multipart::parts_to_complete(&upload_id, &named, &uploaded)?;
        let etag = multipart::multipart_etag(&parts);
        let checksum = upload.checksum_algorithm().and_then(|a| {
            if upload.settings.get("ChecksumType").and_then(|v| v.as_str()) == Some("FULL_OBJECT") {
                full_object_crc(a, &parts).map(|c| (a, c))
            } else {
                multipart::composite_checksum(&parts, |bytes| Checksum::of(a, bytes)).map(|c| (a, c))
            }
        });
        let segments = parts.iter().map(|p| Segment { path: self.files.path(&files[&p.number]), file: files[&p.number].clone(), size: p.size, number: p.number }).collect();
        Ok(Assembly { upload, etag, checksum, segments })
    }

    /// After the object was committed: the upload's rows go, and the files of the parts
    /// the object does not use.
    pub async fn finish(&self, assembly: &Assembly) -> S3Result<()> {
        let id = assembly.upload.upload_id.clone();
        let files = self.db.write(move |c| store::delete_upload(c, &id)).await.map_err(internal)?;
        let used: std::collections::HashSet<&String> = assembly.segments.iter().map(|s| &s.file).collect();
        let unused: Vec<String> = files.into_iter().filter(|f| !used.contains(f)).collect();
        self.files.remove(&unused);
        Ok(())
    }
}

/// What a completed upload's object is made of.
#[derive(Debug, Clone)]
pub struct Assembly {
    pub upload: Upload,
    /// `"<md5 of md5s>-N"`.
    pub etag: String,
    /// The object's checksum (`<b64>-N` composite, or the full-object CRC).
    pub checksum: Option<(Algorithm, String)>,
    pub segments: Vec<Segment>,
}

/// One part of a completed object: its file, size and part number.
#[derive(Debug, Clone)]
pub struct Segment {
    pub path: PathBuf,
    pub file: String,
    pub size: u64,
    pub number: u32,
}

/// The full-object CRC of a multipart object, combined from the parts' CRCs.
fn full_object_crc(a: Algorithm, parts: &[&Part]) -> Option<String> {
    use base64::Engine;
    let alg = match a {
        Algorithm::Crc32 => crc_fast::CrcAlgorithm::Crc32IsoHdlc,
        Algorithm::Crc32c => crc_fast::CrcAlgorithm::Crc32Iscsi,
        Algorithm::Crc64Nvme => crc_fast::CrcAlgorithm::Crc64Nvme,
        _ => return None,
    };
    let width = if a == Algorithm::Crc64Nvme { 8 } else { 4 };
    let mut combined: Option<u64> = None;
    for p in parts {
        let raw = base64::engine::general_purpose::STANDARD.decode(p.checksum.as_deref()?).ok()?;
        let value = raw.iter().fold(0u64, |acc, b| (acc << 8) | *b as u64);
        combined = Some(match combined {
            None => value,
            Some(c) => crc_fast::checksum_combine(alg, c, value, p.size),
        });
    }
    Some(b64(&combined?.to_be_bytes()[8 - width..]))
}

fn owner(u: &Upload) -> Value {
    let id = u.settings.get("Owner").and_then(|v| v.as_str()).unwrap_or("");
    json!({ "ID": id, "DisplayName": "nimbus" })
}

fn str_of(input: &Value, name: &str) -> String {
    input.get(name).and_then(|v| v.as_str()).unwrap_or("").to_string()
}

fn secs(ms: u64) -> f64 {
    ms as f64 / 1000.0
}

/// `max-parts` / `max-uploads`: 0 to 1000 (larger asks get 1000), a negative one refused.
fn max_of(input: &Value, member: &str) -> S3Result<usize> {
    match input.get(member).and_then(|v| v.as_i64()) {
        None => Ok(MAX_LISTED),
        Some(n) if n < 0 => {
            let arg = if member == "MaxParts" { "max-parts" } else { "max-uploads" };
            Err(S3Error::detailed("InvalidArgument", 400, format!("Argument {arg} must be an integer between 0 and 2147483647"), &[("ArgumentName", arg), ("ArgumentValue", &n.to_string())]))
        }
        Some(n) => Ok((n as usize).min(MAX_LISTED)),
    }
}

/// An opaque upload id (S3's are long URL-safe strings).
fn new_upload_id() -> String {
    use base64::Engine;
    let mut bytes = Vec::with_capacity(48);
    for _ in 0..3 {
        bytes.extend_from_slice(uuid::Uuid::new_v4().as_bytes());
    }
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}
