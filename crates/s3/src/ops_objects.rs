//! Object operations: PutObject (streamed to a file; Content-MD5, additional checksums,
//! conditional writes, metadata, storage class, tagging), GetObject / HeadObject (versions,
//! delete markers, conditional requests, ranges, `partNumber`, `response-*` overrides,
//! checksum mode) and DeleteObject (delete markers by the bucket's versioning).
//! <https://docs.aws.amazon.com/AmazonS3/latest/API/API_PutObject.html>
//! <https://docs.aws.amazon.com/AmazonS3/latest/API/API_GetObject.html>

use crate::blobs::BlobError;
use crate::buckets::Bucket;
use crate::checksums::Algorithm;
use crate::errors::{S3Error, S3Result};
use crate::input::{bare_etag, etag_list_matches, opt_str, req_str};
use crate::notify::ObjectEvent;
use crate::service::S3Service;
use crate::store::{DeleteCondition, ObjectMeta, ObjectVersion, Segment, Versioning, WriteCondition, WriteRefused};
use base64::Engine;
use http_body_util::BodyExt;
use nimbus_core::service::{BodyStream, Streamed};
use nimbus_core::RequestContext;
use serde_json::{json, Map, Value};

/// The largest single PUT (5 GiB).
pub const MAX_PUT_BYTES: u64 = 5 << 30;
/// User metadata limit (keys and values, UTF-8 bytes).
const METADATA_LIMIT: usize = 2048;

pub const STORAGE_CLASSES: &[&str] = &["STANDARD", "REDUCED_REDUNDANCY", "STANDARD_IA", "ONEZONE_IA", "INTELLIGENT_TIERING", "GLACIER", "DEEP_ARCHIVE", "OUTPOSTS", "GLACIER_IR", "SNOW", "EXPRESS_ONEZONE"];

/// The `Status` value a 206 answer carries to the codec.
pub const STATUS: &str = nimbus_core::protocol::rest_xml::STATUS_MEMBER;

pub fn secs(ms: u64) -> Value {
    json!(ms as f64 / 1000.0)
}

pub fn quoted(etag: &str) -> String {
    format!("\"{etag}\"")
}

/// The key rules every object operation checks.
pub fn check_key(key: &str) -> S3Result<()> {
    if key.len() > 1024 {
        return Err(S3Error::with("KeyTooLongError", 400, "Your key is too long", &[("Size", key.len().to_string()), ("MaxSizeAllowed", "1024".into())]));
    }
    Ok(())
}

/// `versionId` as given: `null` or one nimbus made.
pub fn check_version_id(id: &str) -> S3Result<()> {
    if id == "null" || (id.len() == 32 && id.bytes().all(|b| b.is_ascii_hexdigit())) {
        Ok(())
    } else {
        Err(S3Error::with("InvalidArgument", 400, "Invalid version id specified", &[("ArgumentName", "versionId".into()), ("ArgumentValue", id.to_string())]))
    }
}

pub fn blob_error(e: BlobError) -> S3Error {
    match e {
        BlobError::Body(e) => S3Error::with("IncompleteBody", 400, format!("The request body terminated unexpectedly ({e})"), &[]),
        BlobError::TooLarge => S3Error::with("EntityTooLarge", 400, "Your proposed upload exceeds the maximum allowed object size.", &[("MaxSizeAllowed", MAX_PUT_BYTES.to_string())]),
        BlobError::Disk(e) => e.into(),
    }
}

/// Content headers, user metadata and storage class of a write (PutObject, CopyObject
/// with REPLACE, CreateMultipartUpload).
pub fn meta_from_input(input: &Value) -> S3Result<(ObjectMeta, String)> {
    // Object Lock needs a bucket created with it, which nimbus does not model.
    if ["ObjectLockMode", "ObjectLockRetainUntilDate", "ObjectLockLegalHoldStatus"].iter().any(|m| input.get(*m).is_some()) {
        return Err(S3Error::with("InvalidRequest", 400, "Bucket is missing Object Lock Configuration", &[]));
    }
    if input.get("SSECustomerAlgorithm").is_some() || input.get("SSECustomerKey").is_some() {
        return Err(S3Error::with("NotImplemented", 501, "Server-side encryption with customer-provided keys (SSE-C) is not supported by nimbus", &[]));
    }
    let mut meta = ObjectMeta {
        content_type: opt_str(input, "ContentType").map(str::to_string),
        cache_control: opt_str(input, "CacheControl").map(str::to_string),
        content_disposition: opt_str(input, "ContentDisposition").map(str::to_string),
        content_encoding: opt_str(input, "ContentEncoding").map(str::to_string),
        content_language: opt_str(input, "ContentLanguage").map(str::to_string),
        expires: opt_str(input, "Expires").map(str::to_string),
        website_redirect_location: opt_str(input, "WebsiteRedirectLocation").map(str::to_string),
        sse: Some(opt_str(input, "ServerSideEncryption").unwrap_or("AES256").to_string()),
        ..ObjectMeta::default()
    };
    // aws-chunked is how the body travelled, not what it is.
    if let Some(enc) = meta.content_encoding.take() {
        let kept: Vec<&str> = enc.split(',').map(str::trim).filter(|e| !e.is_empty() && !e.eq_ignore_ascii_case("aws-chunked")).collect();
        meta.content_encoding = (!kept.is_empty()).then(|| kept.join(","));
    }
    if let Some(Value::Object(m)) = input.get("Metadata") {
        let mut size = 0;
        for (k, v) in m {
            let v = v.as_str().unwrap_or_default();
            size += k.len() + v.len();
            meta.user.insert(k.to_ascii_lowercase(), v.to_string());
        }
        if size > METADATA_LIMIT {
            return Err(S3Error::with("MetadataTooLarge", 400, "Your metadata headers exceed the maximum allowed metadata size.", &[("Size", size.to_string()), ("MaxSizeAllowed", METADATA_LIMIT.to_string())]));
        }
    }
    let class = opt_str(input, "StorageClass").unwrap_or("STANDARD");
    if !STORAGE_CLASSES.contains(&class) {
        return Err(S3Error::with("InvalidStorageClass", 400, "The storage class you specified is not valid", &[("StorageClassRequested", class.to_string())]));
    }
    Ok((meta, class.to_string()))
}

/// The checksum a request declares: the algorithm (`x-amz-sdk-checksum-algorithm`, or
/// the `x-amz-checksum-*` header sent) and the value, when sent in a header.
pub fn declared_checksum(input: &Value) -> S3Result<(Option<Algorithm>, Option<String>)> {
    let mut sent: Option<(Algorithm, String)> = None;
    for a in Algorithm::ALL {
        if let Some(v) = opt_str(input, a.member()) {
            if sent.is_some() {
                return Err(S3Error::with("InvalidRequest", 400, "Expecting a single x-amz-checksum- header. Multiple checksum Types are not allowed.", &[]));
            }
            if !a.valid_value(v) {
                return Err(S3Error::with("InvalidRequest", 400, format!("Value for {} header is invalid.", a.header()), &[]));
            }
            sent = Some((a, v.trim().to_string()));
        }
    }
    let named = match opt_str(input, "ChecksumAlgorithm") {
        Some(n) => Some(Algorithm::parse(n).ok_or_else(|| {
            S3Error::with("InvalidRequest", 400, "Checksum algorithm provided is unsupported. Please try again with any of the valid types: [CRC32, CRC32C, CRC64NVME, SHA1, SHA256]", &[])
        })?),
        None => None,
    };
    if let (Some(n), Some((a, _))) = (named, &sent) {
        if n != *a {
            return Err(S3Error::with("InvalidRequest", 400, format!("Value for x-amz-sdk-checksum-algorithm header is invalid. Expected {} but got {}", a.name(), n.name()), &[]));
        }
    }
    Ok(match sent {
        Some((a, v)) => (Some(a), Some(v)),
        None => (named, None),
    })
}

/// `Content-MD5` decoded (16 bytes) or `InvalidDigest`.
pub fn content_md5(input: &Value) -> S3Result<Option<[u8; 16]>> {
    let Some(v) = opt_str(input, "ContentMD5") else { return Ok(None) };
    let invalid = || S3Error::with("InvalidDigest", 400, "The Content-MD5 you specified was invalid.", &[("Content-MD5", v.to_string())]);
    let bytes = base64::engine::general_purpose::STANDARD.decode(v.trim()).map_err(|_| invalid())?;
    let arr: [u8; 16] = bytes.try_into().map_err(|_| invalid())?;
    Ok(Some(arr))
}

/// Checks a written body against `Content-MD5` and the declared checksum (from its header
/// or the body's trailer) and returns the checksum to store.
pub async fn verify_body(svc: &S3Service, written: &crate::blobs::Written, md5: Option<[u8; 16]>, declared: (Option<Algorithm>, Option<String>)) -> S3Result<Option<(Algorithm, String)>> {
    if let Some(expected) = md5 {
        if expected != written.md5 {
            return Err(S3Error::with("BadDigest", 400, "The Content-MD5 you specified did not match what we received.", &[("ExpectedDigest", crate::blobs::hex(&expected)), ("CalculatedDigest", base64::engine::general_purpose::STANDARD.encode(written.md5))]));
        }
    }
    let (mut algorithm, mut value) = declared;
    // A trailing checksum (aws-chunked) is as if sent in the header.
    for (name, v) in &written.trailers {
        if let Some(a) = Algorithm::from_header(name.as_str()) {
            let v = String::from_utf8_lossy(v.as_bytes()).trim().to_string();
            if !a.valid_value(&v) {
                return Err(S3Error::with("InvalidRequest", 400, format!("Value for {} trailing header is invalid.", a.header()), &[]));
            }
            algorithm = Some(a);
            value = Some(v);
        }
    }
    let Some(a) = algorithm else { return Ok(written.checksums.first().cloned()) };
    let computed = match written.checksum(a) {
        Some(c) => c.to_string(),
        None => svc.blobs.checksum_of(&[Segment { file: written.file.clone(), len: written.size }], a).await?,
    };
    if let Some(v) = value {
        if v != computed {
            return Err(S3Error::with("BadDigest", 400, format!("The {} you specified did not match the calculated checksum.", a.name()), &[]));
        }
    }
    Ok(Some((a, computed)))
}

/// `If-None-Match: *` / `If-Match` on a write.
pub fn write_condition(input: &Value) -> S3Result<Option<WriteCondition>> {
    if let Some(v) = opt_str(input, "IfNoneMatch") {
        if v.trim() != "*" {
            return Err(S3Error::with("NotImplemented", 501, "A header you provided implies functionality that is not implemented", &[("Header", "If-None-Match".into())]));
        }
        return Ok(Some(WriteCondition::IfNoneMatchAny));
    }
    Ok(opt_str(input, "IfMatch").map(|v| WriteCondition::IfMatch(bare_etag(v).to_string())))
}

pub fn refused(r: WriteRefused, bucket: &str, key: &str, condition: &str) -> S3Error {
    match r {
        WriteRefused::NoSuchBucket => S3Error::NoSuchBucket { bucket: bucket.to_string() },
        WriteRefused::NoSuchKey => S3Error::NoSuchKey { key: key.to_string() },
        WriteRefused::PreconditionFailed => S3Error::with("PreconditionFailed", 412, "At least one of the pre-conditions you specified did not hold", &[("Condition", condition.to_string())]),
    }
}

/// The version id a response shows: none in a bucket that was never versioned.
pub fn shown_version(bucket: &Bucket, v: &ObjectVersion) -> Option<String> {
    (bucket.versioning() != Versioning::Unversioned || v.version_id != "null").then(|| v.version_id.clone())
}

/// The version id a write answers: none for a `null` version (a suspended bucket's write
/// answers without `x-amz-version-id`, as AWS's PutObject examples show).
pub fn written_version(v: &ObjectVersion) -> Option<String> {
    (v.version_id != "null").then(|| v.version_id.clone())
}

fn empty_body() -> BodyStream {
    http_body_util::Empty::<bytes::Bytes>::new().map_err(|never| match never {}).boxed()
}

/// Adds the stored checksum members (and `ChecksumType`) to an output.
pub fn put_checksums(out: &mut Map<String, Value>, meta: &ObjectMeta) {
    for (name, v) in &meta.checksums {
        if let Some(a) = Algorithm::parse(name) {
            out.insert(a.member().to_string(), json!(v));
        }
    }
    if !meta.checksums.is_empty() {
        out.insert("ChecksumType".into(), json!(meta.checksum_type.clone().unwrap_or_else(|| "FULL_OBJECT".into())));
    }
}

enum RangeAsk {
    Whole,
    Bytes(u64, u64),
    Unsatisfiable,
}

/// A `Range: bytes=…` header against an object of `size` bytes. Malformed or multiple
/// ranges are ignored (the whole object), as S3 does.
fn parse_range(h: &str, size: u64) -> RangeAsk {
    let Some(spec) = h.trim().strip_prefix("bytes=") else { return RangeAsk::Whole };
    if spec.contains(',') {
        return RangeAsk::Whole;
    }
    let Some((a, b)) = spec.trim().split_once('-') else { return RangeAsk::Whole };
    let (a, b) = (a.trim(), b.trim());
    if a.is_empty() {
        let Ok(n) = b.parse::<u64>() else { return RangeAsk::Whole };
        if n == 0 || size == 0 {
            return RangeAsk::Unsatisfiable;
        }
        return RangeAsk::Bytes(size.saturating_sub(n), size - 1);
    }
    let Ok(start) = a.parse::<u64>() else { return RangeAsk::Whole };
    let end = if b.is_empty() {
        u64::MAX
    } else {
        match b.parse::<u64>() {
            Ok(e) if e >= start => e,
            _ => return RangeAsk::Whole,
        }
    };
    if start >= size {
        return RangeAsk::Unsatisfiable;
    }
    RangeAsk::Bytes(start, end.min(size - 1))
}

/// GET/HEAD conditions in AWS's order: If-Match, else If-Unmodified-Since (412); then
/// If-None-Match, else If-Modified-Since (304). Dates compare at whole seconds.
/// <https://docs.aws.amazon.com/AmazonS3/latest/userguide/conditional-requests.html>
fn check_conditions(input: &Value, v: &ObjectVersion) -> S3Result<()> {
    let lm = v.last_modified_ms / 1000;
    let date = |name: &str| opt_str(input, name).and_then(nimbus_core::time::parse_http_date).map(|ms| ms / 1000);
    let failed = |cond: &str| S3Error::with("PreconditionFailed", 412, "At least one of the pre-conditions you specified did not hold", &[("Condition", cond.to_string())]);
    match opt_str(input, "IfMatch") {
        Some(m) => {
            if !etag_list_matches(m, &v.etag) {
                return Err(failed("If-Match"));
            }
        }
        None => {
            if let Some(d) = date("IfUnmodifiedSince") {
                if lm > d {
                    return Err(failed("If-Unmodified-Since"));
                }
            }
        }
    }
    let not_modified = || {
        S3Error::Aws(Box::new(nimbus_core::AwsError::new("NotModified", 304, "Not Modified")))
            .header("ETag", quoted(&v.etag))
            .header("Last-Modified", nimbus_core::time::http_date(v.last_modified_ms))
    };
    match opt_str(input, "IfNoneMatch") {
        Some(m) => {
            if etag_list_matches(m, &v.etag) {
                return Err(not_modified());
            }
        }
        None => {
            if let Some(d) = date("IfModifiedSince") {
                if lm <= d {
                    return Err(not_modified());
                }
            }
        }
    }
    Ok(())
}

impl S3Service {
    pub(crate) async fn put_object(&self, ctx: &RequestContext, input: &Value, body: Option<BodyStream>) -> S3Result<Streamed> {
        let checked = (|| -> S3Result<_> {
            let (bucket_name, key) = (req_str(input, "Bucket")?, req_str(input, "Key")?);
            let bucket = self.buckets.require(bucket_name)?;
            check_key(key)?;
            crate::ops_config::check_write_acl(&bucket, input)?;
            let (meta, storage_class) = meta_from_input(input)?;
            let tags = match opt_str(input, "Tagging") {
                Some(t) => crate::tags::parse_header(t)?,
                None => Vec::new(),
            };
            Ok((key, bucket, meta, storage_class, tags, write_condition(input)?, content_md5(input)?, declared_checksum(input)?))
        })();
        let (key, bucket, mut meta, storage_class, tags, condition, md5, declared) = match checked {
            Ok(v) => v,
            // The body is left unread: the router closes the connection after the answer.
            Err(e) => return Err(e),
        };
        // Objects get a CRC64NVME checksum when none is asked for (as S3 does since 2025).
        let hashed = [declared.0.unwrap_or(Algorithm::Crc64Nvme)];
        let written = self.blobs.write(body.unwrap_or_else(empty_body), &hashed, MAX_PUT_BYTES).await.map_err(blob_error)?;
        let file = written.file.clone();
        let result = async {
            if let Some(expected) = input.get("ContentLength").and_then(Value::as_u64) {
                if expected != written.size {
                    return Err(S3Error::with("IncompleteBody", 400, "You did not provide the number of bytes specified by the Content-Length HTTP header", &[]));
                }
            }
            if let Some((a, v)) = verify_body(self, &written, md5, declared).await? {
                meta.checksums.insert(a.name().to_string(), v);
                meta.checksum_type = Some("FULL_OBJECT".into());
            }
            let version = ObjectVersion {
                bucket: bucket.name.clone(),
                key: key.to_string(),
                version_id: bucket.versioning().new_version_id(),
                size: written.size,
                etag: written.md5_hex(),
                last_modified_ms: self.clock.now_ms(),
                storage_class,
                meta,
                tags,
                segments: vec![Segment { file: file.clone(), len: written.size }],
                ..ObjectVersion::default()
            };
            let stored = self.store.put_version(version, bucket.versioning(), condition.clone()).await?;
            let cond_name = if matches!(condition, Some(WriteCondition::IfNoneMatchAny)) { "If-None-Match" } else { "If-Match" };
            stored.map_err(|r| refused(r, &bucket.name, key, cond_name))
        }
        .await;
        let w = match result {
            Ok(w) => w,
            Err(e) => {
                self.blobs.remove(&[file]);
                return Err(e);
            }
        };
        self.blobs.remove(&w.freed);
        let v = &w.version;
        self.notify(ctx, "ObjectCreated:Put", v);
        let mut out = Map::new();
        out.insert("ETag".into(), json!(quoted(&v.etag)));
        out.insert("ServerSideEncryption".into(), json!(v.meta.sse));
        if let Some(id) = written_version(v) {
            out.insert("VersionId".into(), json!(id));
        }
        put_checksums(&mut out, &v.meta);
        Ok(Streamed::value(Value::Object(out)))
    }

    /// Tells the notifier about a committed change.
    pub(crate) fn notify(&self, ctx: &RequestContext, event_name: &'static str, v: &ObjectVersion) {
        let created = event_name.starts_with("ObjectCreated");
        self.notifier.object_event(
            ctx,
            ObjectEvent {
                bucket: v.bucket.clone(),
                key: v.key.clone(),
                event_name,
                size: created.then_some(v.size),
                // Tagging events carry the object's ETag too (event_record.rs).
                etag: (created || event_name.starts_with("ObjectTagging")).then(|| v.etag.clone()).filter(|e| !e.is_empty()),
                version_id: (v.version_id != "null").then(|| v.version_id.clone()),
                time_ms: self.clock.now_ms(),
            },
        );
    }

    /// The version a GET/HEAD (or a copy source) names, with S3's answers for a missing
    /// key, a missing version and delete markers. `method` names the request in a 405.
    pub(crate) fn readable_version(&self, bucket: &Bucket, key: &str, version_id: Option<&str>, method: &str) -> S3Result<ObjectVersion> {
        if let Some(id) = version_id {
            check_version_id(id)?;
        }
        let found = self.store.get_version(&bucket.name, key, version_id)?;
        match (found, version_id) {
            (None, None) => Err(S3Error::NoSuchKey { key: key.to_string() }),
            (None, Some(id)) => Err(S3Error::with("NoSuchVersion", 404, "The specified version does not exist.", &[("Key", key.to_string()), ("VersionId", id.to_string())])),
            (Some(v), None) if v.delete_marker => Err(S3Error::NoSuchKey { key: key.to_string() }.header("x-amz-delete-marker", "true").header("x-amz-version-id", v.version_id)),
            (Some(v), Some(_)) if v.delete_marker => Err(S3Error::with("MethodNotAllowed", 405, "The specified method is not allowed against this resource.", &[("Method", method.to_string()), ("ResourceType", "DeleteMarker".into())])
                .header("x-amz-delete-marker", "true")
                .header("x-amz-version-id", v.version_id.clone())
                .header("Last-Modified", nimbus_core::time::http_date(v.last_modified_ms))),
            (Some(v), _) => Ok(v),
        }
    }

    /// GetObject and HeadObject (`head`: no body).
    pub(crate) async fn get_object(&self, input: &Value, head: bool) -> S3Result<Streamed> {
        let (bucket_name, key) = (req_str(input, "Bucket")?, req_str(input, "Key")?);
        let bucket = self.buckets.require(bucket_name)?;
        // The version's files are pinned before reading; one replaced (and removed) between
        // the lookup and the pin is looked up again.
        let mut attempts = 0;
        let (v, pinned) = loop {
            attempts += 1;
            let v = self.readable_version(&bucket, key, opt_str(input, "VersionId"), if head { "HEAD" } else { "GET" })?;
            if head {
                break (v, None);
            }
            if let Some(p) = self.blobs.pin(&v.segments) {
                break (v, Some(p));
            }
            if attempts == 3 {
                return Err(S3Error::Internal(format!("the files of {}/{key} are missing", bucket.name)));
            }
        };
        check_conditions(input, &v)?;
        let mut out = Map::new();
        let size = v.size;
        let part_number = input.get("PartNumber").and_then(Value::as_i64);
        let range = opt_str(input, "Range");
        let mut partial: Option<(u64, u64)> = None;
        if let Some(n) = part_number {
            if range.is_some() {
                return Err(S3Error::with("InvalidRequest", 400, "Cannot specify both Range header and partNumber query parameter", &[]));
            }
            if !(1..=10_000).contains(&n) {
                return Err(S3Error::with("InvalidArgument", 400, "Part number must be an integer between 1 and 10000, inclusive", &[("ArgumentName", "partNumber".into()), ("ArgumentValue", n.to_string())]));
            }
            let parts: Vec<u64> = if v.meta.parts.is_empty() { vec![size] } else { v.meta.parts.iter().map(|p| p.size).collect() };
            let Some(len) = parts.get(n as usize - 1) else {
                return Err(S3Error::with("InvalidPartNumber", 416, "The requested partnumber is not satisfiable", &[("PartNumberRequested", n.to_string()), ("ActualPartCount", parts.len().to_string())]));
            };
            let start: u64 = parts[..n as usize - 1].iter().sum();
            if !v.meta.parts.is_empty() {
                out.insert("PartsCount".into(), json!(parts.len()));
            }
            if *len > 0 {
                partial = Some((start, start + len - 1));
            }
        } else if let Some(r) = range {
            match parse_range(r, size) {
                RangeAsk::Whole => {}
                RangeAsk::Bytes(a, b) => partial = Some((a, b)),
                RangeAsk::Unsatisfiable => {
                    return Err(S3Error::with("InvalidRange", 416, "The requested range is not satisfiable", &[("RangeRequested", r.to_string()), ("ActualObjectSize", size.to_string())]).header("Content-Range", format!("bytes */{size}")));
                }
            }
        }
        let (start, len) = match partial {
            Some((a, b)) => {
                out.insert(STATUS.into(), json!(206));
                out.insert("ContentRange".into(), json!(format!("bytes {a}-{b}/{size}")));
                (a, b - a + 1)
            }
            None => (0, size),
        };
        out.insert("ContentLength".into(), json!(len));
        out.insert("ETag".into(), json!(quoted(&v.etag)));
        out.insert("LastModified".into(), secs(v.last_modified_ms));
        out.insert("AcceptRanges".into(), json!("bytes"));
        let m = &v.meta;
        let over = |member: &str, stored: &Option<String>| opt_str(input, member).map(str::to_string).or_else(|| stored.clone());
        out.insert("ContentType".into(), json!(over("ResponseContentType", &m.content_type).unwrap_or_else(|| "binary/octet-stream".into())));
        for (member, resp, stored) in [
            ("CacheControl", "ResponseCacheControl", &m.cache_control),
            ("ContentDisposition", "ResponseContentDisposition", &m.content_disposition),
            ("ContentEncoding", "ResponseContentEncoding", &m.content_encoding),
            ("ContentLanguage", "ResponseContentLanguage", &m.content_language),
            ("Expires", "ResponseExpires", &m.expires),
        ] {
            if let Some(val) = over(resp, stored) {
                out.insert(member.into(), json!(val));
            }
        }
        if let Some(w) = &m.website_redirect_location {
            out.insert("WebsiteRedirectLocation".into(), json!(w));
        }
        if !m.user.is_empty() {
            out.insert("Metadata".into(), json!(m.user));
        }
        if let Some(sse) = &m.sse {
            out.insert("ServerSideEncryption".into(), json!(sse));
        }
        if v.storage_class != "STANDARD" {
            out.insert("StorageClass".into(), json!(v.storage_class));
        }
        if !v.tags.is_empty() {
            out.insert("TagCount".into(), json!(v.tags.len()));
        }
        if let Some(id) = shown_version(&bucket, &v) {
            out.insert("VersionId".into(), json!(id));
        }
        let whole = partial.is_none() || (part_number.is_some() && v.meta.parts.is_empty());
        if opt_str(input, "ChecksumMode").is_some_and(|c| c.eq_ignore_ascii_case("ENABLED")) && whole {
            put_checksums(&mut out, m);
        }
        let body = pinned.map(|p| self.blobs.read(p, &v.segments, start, len));
        Ok(Streamed { output: Value::Object(out), body })
    }

    pub(crate) async fn delete_object(&self, ctx: &RequestContext, input: &Value) -> S3Result<Streamed> {
        let (bucket_name, key) = (req_str(input, "Bucket")?, req_str(input, "Key")?);
        let bucket = self.buckets.require(bucket_name)?;
        let version_id = opt_str(input, "VersionId");
        if let Some(id) = version_id {
            check_version_id(id)?;
        }
        let condition = DeleteCondition {
            etag: opt_str(input, "IfMatch").map(|e| bare_etag(e).to_string()),
            last_modified_secs: opt_str(input, "IfMatchLastModifiedTime").map(|t| nimbus_core::time::parse_http_date(t).map(|ms| ms / 1000).ok_or_else(|| S3Error::with("InvalidArgument", 400, "Invalid value for x-amz-if-match-last-modified-time", &[]))).transpose()?,
            size: input.get("IfMatchSize").and_then(Value::as_i64).map(|n| n.max(0) as u64),
        };
        let d = self.delete_key_if(ctx, &bucket, key, version_id, condition).await?;
        let mut out = Map::new();
        if d.delete_marker {
            out.insert("DeleteMarker".into(), json!(true));
        }
        if let Some(id) = d.version_id {
            out.insert("VersionId".into(), json!(id));
        }
        Ok(Streamed::value(Value::Object(out)))
    }

    /// One key's delete (DeleteObject and each of DeleteObjects), with its event.
    pub(crate) async fn delete_key_if(&self, ctx: &RequestContext, bucket: &Bucket, key: &str, version_id: Option<&str>, condition: DeleteCondition) -> S3Result<crate::store::Deleted> {
        let versioning = bucket.versioning();
        let d = self.store.delete_if(&bucket.name, key, version_id, versioning, self.clock.now_ms(), condition).await?.map_err(|r| refused(r, &bucket.name, key, "If-Match"))?;
        self.blobs.remove(&d.freed);
        if d.found {
            let event = if d.delete_marker && version_id.is_none() { "ObjectRemoved:DeleteMarkerCreated" } else { "ObjectRemoved:Delete" };
            let v = ObjectVersion { bucket: bucket.name.clone(), key: key.to_string(), version_id: d.version_id.clone().unwrap_or_else(|| "null".into()), ..ObjectVersion::default() };
            self.notify(ctx, event, &v);
        }
        Ok(d)
    }
}
