//! CopyObject (within and across buckets, `x-amz-copy-source` with a URL-encoded key and
//! `?versionId=`, metadata and tagging directives, `x-amz-copy-source-if-*`, the
//! copy-onto-itself rule) and DeleteObjects (up to 1,000 keys, quiet mode, per-key errors).
//! A copy's bytes are hard links to the source's files: no bytes are copied.
//! <https://docs.aws.amazon.com/AmazonS3/latest/API/API_CopyObject.html>
//! <https://docs.aws.amazon.com/AmazonS3/latest/API/API_DeleteObjects.html>

use crate::blobs::Pinned;
use crate::buckets::Bucket;
use crate::checksums::Algorithm;
use crate::errors::{S3Error, S3Result};
use crate::input::{etag_list_matches, opt_str, req_str};
use crate::ops_objects::{check_key, check_version_id, meta_from_input, put_checksums, quoted, refused, secs, shown_version, write_condition, MAX_PUT_BYTES};
use crate::service::S3Service;
use crate::store::{DeleteCondition, ObjectVersion, WriteCondition};
use nimbus_core::service::Streamed;
use nimbus_core::RequestContext;
use percent_encoding::percent_decode_str;
use serde_json::{json, Map, Value};
use std::sync::Arc;

/// The most keys one DeleteObjects may name.
const DELETE_LIMIT: usize = 1000;

/// `x-amz-copy-source`: `[/]bucket/key[?versionId=id]`, the key URL-encoded.
pub fn parse_copy_source(source: &str) -> S3Result<(String, String, Option<String>)> {
    let invalid = || S3Error::with("InvalidArgument", 400, "Copy Source must mention the source bucket and key: sourcebucket/sourcekey", &[("ArgumentName", "x-amz-copy-source".into()), ("ArgumentValue", source.to_string())]);
    let (path, query) = source.split_once('?').unwrap_or((source, ""));
    let path = path.strip_prefix('/').unwrap_or(path);
    let (bucket, key) = path.split_once('/').ok_or_else(invalid)?;
    let key = percent_decode_str(key).decode_utf8().map_err(|_| invalid())?.into_owned();
    let bucket = percent_decode_str(bucket).decode_utf8().map_err(|_| invalid())?.into_owned();
    if bucket.is_empty() || key.is_empty() {
        return Err(invalid());
    }
    let version = form_urlencoded::parse(query.as_bytes()).find(|(k, _)| k == "versionId").map(|(_, v)| v.into_owned());
    Ok((bucket, key, version))
}

/// `x-amz-copy-source-if-*` against the source, as AWS combines them: If-Match true lets
/// a false If-Unmodified-Since pass; If-None-Match false with If-Modified-Since true fails.
pub fn check_copy_conditions(input: &Value, v: &ObjectVersion) -> S3Result<()> {
    let lm = v.last_modified_ms / 1000;
    let date = |name: &str| opt_str(input, name).and_then(nimbus_core::time::parse_http_date).map(|ms| ms / 1000);
    let failed = |cond: &str| S3Error::with("PreconditionFailed", 412, "At least one of the pre-conditions you specified did not hold", &[("Condition", cond.to_string())]);
    match opt_str(input, "CopySourceIfMatch") {
        Some(m) if !etag_list_matches(m, &v.etag) => return Err(failed("x-amz-copy-source-If-Match")),
        Some(_) => {}
        None => {
            if date("CopySourceIfUnmodifiedSince").is_some_and(|d| lm > d) {
                return Err(failed("x-amz-copy-source-If-Unmodified-Since"));
            }
        }
    }
    match opt_str(input, "CopySourceIfNoneMatch") {
        Some(m) if etag_list_matches(m, &v.etag) => return Err(failed("x-amz-copy-source-If-None-Match")),
        Some(_) => {}
        None => {
            if date("CopySourceIfModifiedSince").is_some_and(|d| lm <= d) {
                return Err(failed("x-amz-copy-source-If-Modified-Since"));
            }
        }
    }
    Ok(())
}

impl S3Service {
    /// The source a copy names (CopyObject, UploadPartCopy), its conditions checked.
    /// The source a copy names (CopyObject, UploadPartCopy), its conditions checked, its
    /// files pinned while the result is held.
    pub fn copy_source(&self, input: &Value) -> S3Result<(Arc<Bucket>, ObjectVersion, Pinned)> {
        let (bucket, key, version) = parse_copy_source(req_str(input, "CopySource")?)?;
        let src_bucket = self.buckets.require(&bucket)?;
        let mut attempts = 0;
        let (v, pinned) = loop {
            attempts += 1;
            let v = match self.readable_version(&src_bucket, &key, version.as_deref(), "GET") {
                Err(S3Error::Aws(e)) if e.status == 405 => {
                    return Err(S3Error::with("InvalidRequest", 400, "The source of a copy request may not specifically refer to a delete marker by version id.", &[]));
                }
                other => other?,
            };
            if let Some(p) = self.blobs.pin(&v.segments) {
                break (v, p);
            }
            if attempts == 3 {
                return Err(S3Error::Internal(format!("the files of {bucket}/{key} are missing")));
            }
        };
        check_copy_conditions(input, &v)?;
        Ok((src_bucket, v, pinned))
    }

    pub(crate) async fn copy_object(&self, ctx: &RequestContext, input: &Value) -> S3Result<Streamed> {
        let (bucket_name, key) = (req_str(input, "Bucket")?, req_str(input, "Key")?);
        let bucket = self.buckets.require(bucket_name)?;
        check_key(key)?;
        crate::ops_config::check_write_acl(&bucket, input)?;
        let (src_bucket, src, _pinned) = self.copy_source(input)?;
        if src.size > MAX_PUT_BYTES {
            return Err(S3Error::with("InvalidRequest", 400, format!("The specified copy source is larger than the maximum allowable size for a copy source: {MAX_PUT_BYTES}"), &[]));
        }
        let replace_meta = match opt_str(input, "MetadataDirective").unwrap_or("COPY") {
            "COPY" => false,
            "REPLACE" => true,
            other => return Err(S3Error::with("InvalidArgument", 400, "Unknown metadata directive.", &[("ArgumentName", "x-amz-metadata-directive".into()), ("ArgumentValue", other.to_string())])),
        };
        let replace_tags = match opt_str(input, "TaggingDirective").unwrap_or("COPY") {
            "COPY" => false,
            "REPLACE" => true,
            other => return Err(S3Error::with("InvalidArgument", 400, "Unknown tagging directive.", &[("ArgumentName", "x-amz-tagging-directive".into()), ("ArgumentValue", other.to_string())])),
        };
        let (new_meta, new_class) = meta_from_input(input)?;
        let same_object = src_bucket.name == bucket.name && src.key == key;
        let class_changed = opt_str(input, "StorageClass").is_some_and(|c| c != src.storage_class);
        let changes_something = replace_meta || class_changed || opt_str(input, "WebsiteRedirectLocation").is_some() || opt_str(input, "ServerSideEncryption").is_some() || opt_str(input, "ChecksumAlgorithm").is_some();
        if same_object && !changes_something {
            return Err(S3Error::with(
                "InvalidRequest",
                400,
                "This copy request is illegal because it is trying to copy an object to itself without changing the object's metadata, storage class, website redirect location or encryption attributes.",
                &[],
            ));
        }
        let mut meta = if replace_meta {
            new_meta
        } else {
            let mut m = src.meta.clone();
            m.checksums.clear();
            m.checksum_type = None;
            m.parts.clear();
            m
        };
        let storage_class = if opt_str(input, "StorageClass").is_some() { new_class } else { src.storage_class.clone() };
        let tags = if replace_tags {
            match opt_str(input, "Tagging") {
                Some(t) => crate::tags::parse_header(t)?,
                None => Vec::new(),
            }
        } else {
            src.tags.clone()
        };
        let condition = write_condition(input)?;
        // The copy is a single-part object: its ETag is the MD5 of its bytes.
        let etag = if src.meta.parts.is_empty() { src.etag.clone() } else { self.blobs.md5_of(&src.segments).await? };
        let wanted = match opt_str(input, "ChecksumAlgorithm") {
            Some(n) => Some(Algorithm::parse(n).ok_or_else(|| S3Error::with("InvalidRequest", 400, "Checksum algorithm provided is unsupported.", &[]))?),
            None => None,
        };
        let kept_full = src.meta.checksum_type.as_deref() != Some("COMPOSITE");
        let checksum = match (wanted, src.meta.checksums.iter().next()) {
            (None, Some((name, v))) if kept_full => Some((name.clone(), v.clone())),
            (Some(a), Some((name, v))) if kept_full && a.name() == name => Some((name.clone(), v.clone())),
            (a, _) => {
                let a = a.unwrap_or(Algorithm::Crc64Nvme);
                Some((a.name().to_string(), self.blobs.checksum_of(&src.segments, a).await?))
            }
        };
        if let Some((name, v)) = checksum {
            meta.checksums.insert(name, v);
            meta.checksum_type = Some("FULL_OBJECT".into());
        }
        let segments = self.blobs.duplicate(&src.segments).await?;
        let files: Vec<String> = segments.iter().map(|s| s.file.clone()).collect();
        let version = ObjectVersion {
            bucket: bucket.name.clone(),
            key: key.to_string(),
            version_id: bucket.versioning().new_version_id(),
            size: src.size,
            etag,
            last_modified_ms: self.clock.now_ms(),
            storage_class,
            meta,
            tags,
            segments,
            ..ObjectVersion::default()
        };
        let cond_name = if matches!(condition, Some(WriteCondition::IfNoneMatchAny)) { "If-None-Match" } else { "If-Match" };
        let w = match self.store.put_version(version, bucket.versioning(), condition).await {
            Ok(Ok(w)) => w,
            Ok(Err(r)) => {
                self.blobs.remove(&files);
                return Err(refused(r, &bucket.name, key, cond_name));
            }
            Err(e) => {
                self.blobs.remove(&files);
                return Err(e.into());
            }
        };
        self.blobs.remove(&w.freed);
        let v = &w.version;
        self.notify(ctx, "ObjectCreated:Copy", v);
        let mut result = Map::new();
        result.insert("ETag".into(), json!(quoted(&v.etag)));
        result.insert("LastModified".into(), secs(v.last_modified_ms));
        put_checksums(&mut result, &v.meta);
        let mut out = Map::new();
        out.insert("CopyObjectResult".into(), Value::Object(result));
        out.insert("ServerSideEncryption".into(), json!(v.meta.sse.clone().unwrap_or_else(|| "AES256".into())));
        if let Some(id) = crate::ops_objects::written_version(v) {
            out.insert("VersionId".into(), json!(id));
        }
        if let Some(id) = shown_version(&src_bucket, &src) {
            out.insert("CopySourceVersionId".into(), json!(id));
        }
        Ok(Streamed::value(Value::Object(out)))
    }

    pub(crate) async fn delete_objects(&self, ctx: &RequestContext, input: &Value) -> S3Result<Streamed> {
        let bucket = self.buckets.require(req_str(input, "Bucket")?)?;
        let malformed = || S3Error::with("MalformedXML", 400, "The XML you provided was not well-formed or did not validate against our published schema", &[]);
        let objects = input.pointer("/Delete/Objects").and_then(Value::as_array).ok_or_else(malformed)?;
        if objects.is_empty() || objects.len() > DELETE_LIMIT {
            return Err(malformed());
        }
        let quiet = input.pointer("/Delete/Quiet").and_then(Value::as_bool).unwrap_or(false);
        let versioning = bucket.versioning();
        let now = self.clock.now_ms();
        // Every delete is queued before the first is awaited: one group commit for all.
        let mut pending = Vec::new();
        for o in objects {
            let key = o.get("Key").and_then(Value::as_str).unwrap_or("").to_string();
            let version_id = o.get("VersionId").and_then(Value::as_str).map(str::to_string);
            let checked = check_key(&key).and_then(|_| version_id.as_deref().map_or(Ok(()), check_version_id));
            let job = match checked {
                Ok(()) => {
                    // Each key may carry its own conditions (ETag, Size).
                    let condition = DeleteCondition {
                        etag: o.get("ETag").and_then(Value::as_str).map(|e| crate::input::bare_etag(e).to_string()),
                        last_modified_secs: None,
                        size: o.get("Size").and_then(Value::as_i64).map(|n| n.max(0) as u64),
                    };
                    Ok(self.store.delete_if(&bucket.name, &key, version_id.as_deref(), versioning, now, condition))
                }
                Err(e) => Err(e),
            };
            pending.push((key, version_id, job));
        }
        let mut deleted = Vec::new();
        let mut errors = Vec::new();
        for (key, version_id, job) in pending {
            let outcome = match job {
                Ok(f) => match f.await {
                    Ok(Ok(d)) => Ok(d),
                    Ok(Err(r)) => Err(refused(r, &bucket.name, &key, "If-Match")),
                    Err(e) => Err(S3Error::from(e)),
                },
                Err(e) => Err(e),
            };
            match outcome {
                Ok(d) => {
                    self.blobs.remove(&d.freed);
                    if d.found {
                        let event = if d.delete_marker && version_id.is_none() { "ObjectRemoved:DeleteMarkerCreated" } else { "ObjectRemoved:Delete" };
                        let v = ObjectVersion { bucket: bucket.name.clone(), key: key.clone(), version_id: d.version_id.clone().unwrap_or_else(|| "null".into()), ..ObjectVersion::default() };
                        self.notify(ctx, event, &v);
                    }
                    if quiet {
                        continue;
                    }
                    let mut entry = json!({"Key": key});
                    if let Some(id) = &version_id {
                        entry["VersionId"] = json!(id);
                    }
                    if d.delete_marker {
                        entry["DeleteMarker"] = json!(true);
                        entry["DeleteMarkerVersionId"] = json!(d.version_id);
                    }
                    deleted.push(entry);
                }
                Err(e) => {
                    let e: nimbus_core::AwsError = e.into();
                    let mut entry = json!({"Key": key, "Code": e.code, "Message": e.message});
                    if let Some(id) = &version_id {
                        entry["VersionId"] = json!(id);
                    }
                    errors.push(entry);
                }
            }
        }
        let mut out = Map::new();
        if !deleted.is_empty() {
            out.insert("Deleted".into(), Value::Array(deleted));
        }
        if !errors.is_empty() {
            out.insert("Errors".into(), Value::Array(errors));
        }
        Ok(Streamed::value(Value::Object(out)))
    }
}
