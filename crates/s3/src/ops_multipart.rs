//! The multipart operations: CreateMultipartUpload, UploadPart, UploadPartCopy,
//! CompleteMultipartUpload, AbortMultipartUpload, ListParts, ListMultipartUploads. Uploads
//! and parts are rows of the S3 database (`multipart_store.rs`), read back per request;
//! part bytes are blob files; a completed upload's object references its part files as
//! segments (no copy), written in the same transaction that removes the upload.
//! <https://docs.aws.amazon.com/AmazonS3/latest/userguide/mpuoverview.html>

use crate::checksums::Algorithm;
use crate::errors::{S3Error, S3Result};
use crate::input::{bare_etag, opt_str, req_str};
use crate::multipart::{self, NamedPart, Part, MAX_LISTED};
use crate::multipart_store::{self as rows, PartPut, StoredPart, Upload};
use crate::ops_objects::{blob_error, check_key, content_md5, declared_checksum, meta_from_input, put_checksums, quoted, refused, secs, shown_version, verify_body, write_condition};
use crate::service::S3Service;
use crate::store::{ObjectVersion, PartInfo, Segment, WriteCondition};
use http_body_util::BodyExt;
use nimbus_core::service::{BodyStream, Streamed};
use nimbus_core::RequestContext;
use serde_json::{json, Map, Value};
use std::collections::BTreeMap;

/// The largest part (5 GiB).
const MAX_PART_BYTES: u64 = 5 << 30;

fn str_of(input: &Value, name: &str) -> String {
    opt_str(input, name).unwrap_or("").to_string()
}

fn owner(u: &Upload) -> Value {
    let id = u.settings.get("Owner").and_then(Value::as_str).unwrap_or("");
    json!({ "ID": id, "DisplayName": "nimbus" })
}

/// `max-parts` / `max-uploads`: up to 1000 (larger asks get 1000); a negative one refused.
fn max_of(input: &Value, member: &str, arg: &str) -> S3Result<usize> {
    match input.get(member).and_then(Value::as_i64) {
        None => Ok(MAX_LISTED),
        Some(n) if n < 0 => Err(S3Error::with(
            "InvalidArgument",
            400,
            format!("Argument {arg} must be an integer between 0 and 2147483647"),
            &[("ArgumentName", arg.to_string()), ("ArgumentValue", n.to_string())],
        )),
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

fn empty_body() -> BodyStream {
    http_body_util::Empty::<bytes::Bytes>::new().map_err(|never| match never {}).boxed()
}

impl S3Service {
    /// The upload `upload_id` of `bucket`/`key`, or `NoSuchUpload`.
    fn upload(&self, bucket: &str, key: &str, upload_id: &str) -> S3Result<Upload> {
        match self.store.query(|c| rows::get_upload(c, upload_id))? {
            Some(u) if u.bucket == bucket && u.key == key => Ok(u),
            _ => Err(multipart::no_such_upload(upload_id)),
        }
    }

    pub(crate) async fn create_multipart_upload(&self, ctx: &RequestContext, input: &Value) -> S3Result<Streamed> {
        let (bucket_name, key) = (req_str(input, "Bucket")?, req_str(input, "Key")?);
        let bucket = self.buckets.require(bucket_name)?;
        check_key(key)?;
        // The object's settings are checked now, as S3 does (bad storage class, metadata
        // too large, bad tagging), and kept for CompleteMultipartUpload.
        meta_from_input(input)?;
        if let Some(t) = opt_str(input, "Tagging") {
            crate::tags::parse_header(t)?;
        }
        let algorithm = match opt_str(input, "ChecksumAlgorithm") {
            Some(a) => Some(Algorithm::parse(a).ok_or_else(|| {
                S3Error::with("InvalidRequest", 400, "Checksum algorithm provided is unsupported. Please try again with any of the valid types: [CRC32, CRC32C, CRC64NVME, SHA1, SHA256]", &[])
            })?),
            None => None,
        };
        let mut settings: Map<String, Value> = input.as_object().cloned().unwrap_or_default();
        settings.remove("Bucket");
        settings.remove("Key");
        if let Some(a) = algorithm {
            settings.insert("ChecksumAlgorithm".into(), a.name().into());
            let asked = opt_str(input, "ChecksumType").unwrap_or(if a == Algorithm::Crc64Nvme { "FULL_OBJECT" } else { "COMPOSITE" });
            let allowed = match asked {
                "COMPOSITE" => a != Algorithm::Crc64Nvme,
                "FULL_OBJECT" => matches!(a, Algorithm::Crc32 | Algorithm::Crc32c | Algorithm::Crc64Nvme),
                _ => false,
            };
            if !allowed {
                return Err(S3Error::with("InvalidRequest", 400, format!("The {} checksum type cannot be used with the {} checksum algorithm.", asked, a.name().to_ascii_lowercase()), &[]));
            }
            settings.insert("ChecksumType".into(), asked.into());
        }
        settings.insert("Owner".into(), ctx.account_id.clone().into());
        let upload = Upload {
            upload_id: new_upload_id(),
            bucket: bucket.name.clone(),
            key: key.to_string(),
            initiated_ms: self.clock.now_ms(),
            settings: Value::Object(settings),
        };
        let row = upload.clone();
        self.store.transact(move |c| rows::insert_upload(c, &row)).await?;
        let mut out = json!({ "Bucket": bucket.name, "Key": key, "UploadId": upload.upload_id });
        if let Some(a) = algorithm {
            out["ChecksumAlgorithm"] = a.name().into();
            out["ChecksumType"] = upload.settings["ChecksumType"].clone();
        }
        Ok(Streamed::value(out))
    }

    /// Records a written part file as part `number` of `upload`; the part's output.
    async fn store_part(&self, upload: &Upload, number: u32, file: String, size: u64, md5_hex: String, checksum: Option<String>) -> S3Result<Part> {
        let part = Part { number, size, md5_hex, checksum, last_modified_ms: self.clock.now_ms() };
        let row = StoredPart { part: part.clone(), file: file.clone() };
        let id = upload.upload_id.clone();
        match self.store.transact(move |c| rows::put_part(c, &id, &row)).await {
            Ok(PartPut::Stored(replaced)) => {
                self.blobs.remove(&replaced.into_iter().collect::<Vec<_>>());
                Ok(part)
            }
            Ok(PartPut::UploadGone) => {
                self.blobs.remove(&[file]);
                Err(multipart::no_such_upload(&upload.upload_id))
            }
            Err(e) => {
                self.blobs.remove(&[file]);
                Err(e.into())
            }
        }
    }

    pub(crate) async fn upload_part(&self, input: &Value, body: Option<BodyStream>) -> S3Result<Streamed> {
        let (bucket_name, key, upload_id) = (req_str(input, "Bucket")?, req_str(input, "Key")?, str_of(input, "UploadId"));
        self.buckets.require(bucket_name)?;
        let number = multipart::part_number(input.get("PartNumber").and_then(Value::as_i64))?;
        let upload = self.upload(bucket_name, key, &upload_id)?;
        let md5 = content_md5(input)?;
        let declared = declared_checksum(input)?;
        let upload_algorithm = upload.checksum_algorithm();
        if let (Some(u), Some(d)) = (upload_algorithm, declared.0) {
            if u != d {
                return Err(S3Error::with(
                    "InvalidRequest",
                    400,
                    format!("Checksum Type mismatch occurred, expected checksum Type: {}, actual checksum Type: {}", u.name().to_ascii_lowercase(), d.name().to_ascii_lowercase()),
                    &[],
                ));
            }
        }
        let hashed: Vec<Algorithm> = upload_algorithm.or(declared.0).into_iter().collect();
        let written = self.blobs.write(body.unwrap_or_else(empty_body), &hashed, MAX_PART_BYTES).await.map_err(blob_error)?;
        let checked = async {
            if let Some(expected) = input.get("ContentLength").and_then(Value::as_u64) {
                if expected != written.size {
                    return Err(S3Error::with("IncompleteBody", 400, "You did not provide the number of bytes specified by the Content-Length HTTP header", &[]));
                }
            }
            verify_body(self, &written, md5, declared.clone()).await
        }
        .await;
        let sent_checksum = match checked {
            Ok(c) => c,
            Err(e) => {
                self.blobs.remove(std::slice::from_ref(&written.file));
                return Err(e);
            }
        };
        // The part's checksum in the upload's algorithm (for the composite checksum).
        let stored_checksum = upload_algorithm.and_then(|a| written.checksum(a).map(str::to_string));
        let part = self.store_part(&upload, number, written.file.clone(), written.size, written.md5_hex(), stored_checksum).await?;
        let mut out = Map::new();
        out.insert("ETag".into(), json!(part.etag()));
        out.insert("ServerSideEncryption".into(), json!("AES256"));
        if let Some((a, v)) = sent_checksum.filter(|(a, _)| Some(*a) == upload_algorithm || declared.0 == Some(*a)) {
            out.insert(a.member().into(), json!(v));
        }
        Ok(Streamed::value(Value::Object(out)))
    }

    pub(crate) async fn upload_part_copy(&self, input: &Value) -> S3Result<Streamed> {
        let (bucket_name, key, upload_id) = (req_str(input, "Bucket")?, req_str(input, "Key")?, str_of(input, "UploadId"));
        self.buckets.require(bucket_name)?;
        let number = multipart::part_number(input.get("PartNumber").and_then(Value::as_i64))?;
        let upload = self.upload(bucket_name, key, &upload_id)?;
        let (_, source, pinned) = self.copy_source(input)?;
        let (start, len) = match opt_str(input, "CopySourceRange") {
            None => (0, source.size),
            Some(r) => {
                let bad = || {
                    S3Error::with(
                        "InvalidArgument",
                        400,
                        format!("Range specified is not valid for source object of size: {}", source.size),
                        &[("ArgumentName", "x-amz-copy-source-range".into()), ("ArgumentValue", r.to_string())],
                    )
                };
                let (a, b) = r.trim().strip_prefix("bytes=").and_then(|s| s.split_once('-')).ok_or_else(bad)?;
                let (a, b) = (a.trim().parse::<u64>().map_err(|_| bad())?, b.trim().parse::<u64>().map_err(|_| bad())?);
                if a > b || b >= source.size {
                    return Err(bad());
                }
                (a, b - a + 1)
            }
        };
        let hashed: Vec<Algorithm> = upload.checksum_algorithm().into_iter().collect();
        let written = self.blobs.write(self.blobs.read(pinned, &source.segments, start, len), &hashed, MAX_PART_BYTES).await.map_err(blob_error)?;
        let checksum = upload.checksum_algorithm().and_then(|a| written.checksum(a).map(str::to_string));
        let part = self.store_part(&upload, number, written.file.clone(), written.size, written.md5_hex(), checksum.clone()).await?;
        let mut result = Map::new();
        result.insert("ETag".into(), json!(part.etag()));
        result.insert("LastModified".into(), secs(part.last_modified_ms));
        if let (Some(a), Some(c)) = (upload.checksum_algorithm(), checksum) {
            result.insert(a.member().into(), json!(c));
        }
        let mut out = json!({ "CopyPartResult": result });
        if source.version_id != "null" {
            out["CopySourceVersionId"] = source.version_id.clone().into();
        }
        Ok(Streamed::value(out))
    }

    pub(crate) async fn complete_multipart_upload(&self, ctx: &RequestContext, input: &Value) -> S3Result<Streamed> {
        let (bucket_name, key, upload_id) = (req_str(input, "Bucket")?, req_str(input, "Key")?, str_of(input, "UploadId"));
        let bucket = self.buckets.require(bucket_name)?;
        let upload = self.upload(bucket_name, key, &upload_id)?;
        let condition = write_condition(input)?;
        let algorithm = upload.checksum_algorithm();
        let named: Vec<NamedPart> = input
            .get("MultipartUpload")
            .and_then(|m| m.get("Parts"))
            .and_then(Value::as_array)
            .map(|parts| {
                parts
                    .iter()
                    .map(|p| NamedPart {
                        number: p.get("PartNumber").and_then(Value::as_i64).unwrap_or(0).clamp(0, u32::MAX as i64) as u32,
                        etag: opt_str(p, "ETag").unwrap_or("").to_string(),
                        checksum: algorithm.and_then(|a| opt_str(p, a.member()).map(str::to_string)),
                    })
                    .collect()
            })
            .unwrap_or_default();
        let stored = self.store.query(|c| rows::list_parts(c, &upload_id, 0, multipart::MAX_PART_NUMBER as usize))?;
        let files: BTreeMap<u32, String> = stored.iter().map(|p| (p.part.number, p.file.clone())).collect();
        let uploaded: BTreeMap<u32, Part> = stored.into_iter().map(|p| (p.part.number, p.part)).collect();
        let parts = multipart::parts_to_complete(&upload_id, &named, &uploaded)?;
        let etag = multipart::multipart_etag(&parts);
        let (mut meta, storage_class) = meta_from_input(&upload.settings)?;
        let tags = match opt_str(&upload.settings, "Tagging") {
            Some(t) => crate::tags::parse_header(t)?,
            None => Vec::new(),
        };
        if let Some(a) = algorithm {
            let full = upload.settings.get("ChecksumType").and_then(Value::as_str) == Some("FULL_OBJECT");
            let value = if full { multipart::full_object_crc(&parts, a) } else { multipart::composite_checksum(&parts, a) };
            // A whole-object checksum sent with the completion must be the one computed.
            if let (Some(sent), Some(v)) = (opt_str(input, a.member()), &value) {
                if sent.trim() != v && sent.trim() != v.split('-').next().unwrap_or("") {
                    return Err(S3Error::with("BadDigest", 400, format!("The {} you specified did not match the calculated checksum.", a.name()), &[]));
                }
            }
            if let Some(v) = value {
                meta.checksums.insert(a.name().to_string(), v);
                meta.checksum_type = Some(if full { "FULL_OBJECT" } else { "COMPOSITE" }.into());
            }
        }
        meta.parts = parts
            .iter()
            .map(|p| PartInfo {
                number: p.number,
                size: p.size,
                etag: Some(p.md5_hex.clone()),
                checksums: algorithm.zip(p.checksum.clone()).map(|(a, c)| BTreeMap::from([(a.name().to_string(), c)])).unwrap_or_default(),
            })
            .collect();
        let segments: Vec<Segment> = parts.iter().map(|p| Segment { file: files[&p.number].clone(), len: p.size }).collect();
        let version = ObjectVersion {
            bucket: bucket.name.clone(),
            key: key.to_string(),
            version_id: bucket.versioning().new_version_id(),
            size: parts.iter().map(|p| p.size).sum(),
            etag: bare_etag(&etag).to_string(),
            last_modified_ms: self.clock.now_ms(),
            storage_class,
            meta,
            tags,
            segments: segments.clone(),
            ..ObjectVersion::default()
        };
        // One transaction: the upload is still there with these very part files (not
        // aborted, no part re-uploaded meanwhile), the object is written under its
        // condition, and the upload's rows go.
        let versioning = bucket.versioning();
        let (id, used) = (upload_id.clone(), segments.iter().map(|s| s.file.clone()).collect::<Vec<_>>());
        let cond = condition.clone();
        let outcome = self
            .store
            .transact(move |c| {
                let current = rows::list_parts(c, &id, 0, multipart::MAX_PART_NUMBER as usize)?;
                let still = rows::get_upload(c, &id)?.is_some() && used.iter().all(|f| current.iter().any(|p| &p.file == f));
                if !still {
                    return Ok(Err(None));
                }
                match crate::store::put_version_tx(c, version, versioning, cond.as_ref())? {
                    Ok(written) => {
                        let files = rows::delete_upload(c, &id)?;
                        Ok(Ok((written, files)))
                    }
                    Err(refused) => Ok(Err(Some(refused))),
                }
            })
            .await?;
        let (written, upload_files) = match outcome {
            Ok(v) => v,
            Err(None) => return Err(multipart::no_such_upload(&upload_id)),
            Err(Some(r)) => {
                let cond_name = if matches!(condition, Some(WriteCondition::IfNoneMatchAny)) { "If-None-Match" } else { "If-Match" };
                return Err(refused(r, &bucket.name, key, cond_name));
            }
        };
        let kept: std::collections::HashSet<&String> = segments.iter().map(|s| &s.file).collect();
        let unused: Vec<String> = upload_files.into_iter().filter(|f| !kept.contains(f)).collect();
        self.blobs.remove(&unused);
        self.blobs.remove(&written.freed);
        let v = &written.version;
        self.notify(ctx, "ObjectCreated:CompleteMultipartUpload", v);
        let mut out = Map::new();
        out.insert("Location".into(), json!(format!("http://{}/{}/{}", ctx.host, bucket.name, key)));
        out.insert("Bucket".into(), json!(bucket.name));
        out.insert("Key".into(), json!(key));
        out.insert("ETag".into(), json!(quoted(&v.etag)));
        out.insert("ServerSideEncryption".into(), json!(v.meta.sse));
        if let Some(id) = shown_version(&bucket, v) {
            out.insert("VersionId".into(), json!(id));
        }
        put_checksums(&mut out, &v.meta);
        Ok(Streamed::value(Value::Object(out)))
    }

    pub(crate) async fn abort_multipart_upload(&self, input: &Value) -> S3Result<Streamed> {
        let (bucket_name, key, upload_id) = (req_str(input, "Bucket")?, req_str(input, "Key")?, str_of(input, "UploadId"));
        self.buckets.require(bucket_name)?;
        self.upload(bucket_name, key, &upload_id)?;
        let id = upload_id.clone();
        let files = self.store.transact(move |c| rows::delete_upload(c, &id)).await?;
        self.blobs.remove(&files);
        Ok(Streamed::value(json!({})))
    }

    pub(crate) async fn list_parts(&self, input: &Value) -> S3Result<Streamed> {
        let (bucket_name, key, upload_id) = (req_str(input, "Bucket")?, req_str(input, "Key")?, str_of(input, "UploadId"));
        self.buckets.require(bucket_name)?;
        let upload = self.upload(bucket_name, key, &upload_id)?;
        let max = max_of(input, "MaxParts", "max-parts")?;
        let marker = input.get("PartNumberMarker").and_then(Value::as_i64).unwrap_or(0).clamp(0, u32::MAX as i64) as u32;
        let mut parts = self.store.query(|c| rows::list_parts(c, &upload_id, marker, max + 1))?;
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
        let mut out = json!({
            "Bucket": bucket_name, "Key": key, "UploadId": upload_id,
            "PartNumberMarker": marker, "MaxParts": max, "IsTruncated": truncated,
            "Parts": listed, "Initiator": owner(&upload), "Owner": owner(&upload), "StorageClass": upload.storage_class(),
        });
        if let Some(last) = parts.last().filter(|_| truncated) {
            out["NextPartNumberMarker"] = last.part.number.into();
        }
        if let Some(a) = algorithm {
            out["ChecksumAlgorithm"] = a.name().into();
            out["ChecksumType"] = upload.settings.get("ChecksumType").cloned().unwrap_or(Value::Null);
        }
        Ok(Streamed::value(out))
    }

    pub(crate) async fn list_multipart_uploads(&self, input: &Value) -> S3Result<Streamed> {
        let bucket = req_str(input, "Bucket")?.to_string();
        self.buckets.require(&bucket)?;
        let prefix = str_of(input, "Prefix");
        let delimiter = str_of(input, "Delimiter");
        let key_marker = str_of(input, "KeyMarker");
        let id_marker = if key_marker.is_empty() { String::new() } else { str_of(input, "UploadIdMarker") };
        let max = max_of(input, "MaxUploads", "max-uploads")?;
        let mut uploads: Vec<Upload> = Vec::new();
        let mut prefixes: Vec<String> = Vec::new();
        let (mut after_key, mut after_id) = (key_marker.clone(), id_marker.clone());
        let mut truncated = false;
        let mut next: Option<(String, String)> = None;
        'pages: loop {
            let page = self.store.query(|c| rows::list_uploads(c, &bucket, &prefix, &after_key, &after_id, MAX_LISTED))?;
            let exhausted = page.len() < MAX_LISTED;
            for u in page {
                (after_key, after_id) = (u.key.clone(), u.upload_id.clone());
                // A key-marker that is a common prefix (a previous page's last) skips its keys.
                if !delimiter.is_empty() && key_marker.ends_with(&delimiter) && u.key.starts_with(&key_marker) {
                    continue;
                }
                let common = if delimiter.is_empty() { None } else { u.key[prefix.len()..].find(&delimiter).map(|i| u.key[..prefix.len() + i + delimiter.len()].to_string()) };
                if common.is_some() && prefixes.last() == common.as_ref() {
                    continue;
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
        let url = opt_str(input, "EncodingType") == Some("url");
        let enc = |s: &str| if url { crate::ops_list::url_encode(s) } else { s.to_string() };
        let listed: Vec<Value> = uploads
            .iter()
            .map(|u| {
                let mut v = json!({ "UploadId": u.upload_id, "Key": enc(&u.key), "Initiated": secs(u.initiated_ms), "StorageClass": u.storage_class(), "Owner": owner(u), "Initiator": owner(u) });
                if let Some(a) = u.checksum_algorithm() {
                    v["ChecksumAlgorithm"] = a.name().into();
                    v["ChecksumType"] = u.settings.get("ChecksumType").cloned().unwrap_or(Value::Null);
                }
                v
            })
            .collect();
        let mut out = json!({
            "Bucket": bucket, "KeyMarker": enc(&key_marker), "UploadIdMarker": id_marker,
            "MaxUploads": max, "IsTruncated": truncated, "Uploads": listed,
            "CommonPrefixes": prefixes.iter().map(|p| json!({ "Prefix": enc(p) })).collect::<Vec<_>>(),
        });
        if !prefix.is_empty() {
            out["Prefix"] = enc(&prefix).into();
        }
        if !delimiter.is_empty() {
            out["Delimiter"] = enc(&delimiter).into();
        }
        if let (true, Some((k, id))) = (truncated, next) {
            out["NextKeyMarker"] = enc(&k).into();
            out["NextUploadIdMarker"] = id.into();
        }
        if url {
            out["EncodingType"] = "url".into();
        }
        Ok(Streamed::value(out))
    }
}


/// A bucket's uploads in progress as the lifecycle timer sees them: (key, upload id,
/// initiated ms) — `LifecycleObjects::uploads`.
pub fn lifecycle_uploads(store: &crate::store::Store, bucket: &str) -> Vec<(String, String, u64)> {
    let mut out = Vec::new();
    let (mut after_key, mut after_id) = (String::new(), String::new());
    loop {
        let Ok(page) = store.query(|c| rows::list_uploads(c, bucket, "", &after_key, &after_id, MAX_LISTED)) else { return out };
        let done = page.len() < MAX_LISTED;
        for u in page {
            (after_key, after_id) = (u.key.clone(), u.upload_id.clone());
            out.push((u.key, u.upload_id, u.initiated_ms));
        }
        if done {
            return out;
        }
    }
}

/// Aborts an upload for `AbortIncompleteMultipartUpload` — `LifecycleObjects::abort_upload`.
/// An upload already gone is not an error.
pub async fn lifecycle_abort_upload(store: &crate::store::Store, blobs: &crate::blobs::Blobs, upload_id: &str) -> Result<(), String> {
    let id = upload_id.to_string();
    let files = store.transact(move |c| rows::delete_upload(c, &id)).await.map_err(|e| e.to_string())?;
    blobs.remove(&files);
    Ok(())
}
