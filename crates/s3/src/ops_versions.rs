//! Versioning: Put/GetBucketVersioning (Enabled / Suspended; a bucket once versioned never
//! returns to unversioned) and ListObjectVersions (versions and delete markers in key
//! order, newest first within a key; `key-marker` / `version-id-marker`, prefix,
//! delimiter, `max-keys`).
//! <https://docs.aws.amazon.com/AmazonS3/latest/API/API_ListObjectVersions.html>

use crate::buckets::kind;
use crate::errors::{S3Error, S3Result};
use crate::input::{opt_str, req_str};
use crate::ops_buckets::owner;
use crate::ops_list::{encoding, max_keys, url_encode};
use crate::ops_objects::{check_version_id, quoted, secs};
use crate::service::S3Service;
use crate::store::VersionStart;
use nimbus_core::service::Streamed;
use serde_json::{json, Map, Value};

/// A listing position owned across pages.
enum Pos {
    Beginning,
    AfterKey(Vec<u8>),
    AfterVersion(Vec<u8>, i64),
}

impl Pos {
    fn as_start(&self) -> VersionStart<'_> {
        match self {
            Pos::Beginning => VersionStart::Beginning,
            Pos::AfterKey(k) => VersionStart::AfterKey(k),
            Pos::AfterVersion(k, seq) => VersionStart::AfterVersion(k, *seq),
        }
    }
}

impl S3Service {
    pub(crate) async fn put_bucket_versioning(&self, input: &Value) -> S3Result<Streamed> {
        let bucket = self.buckets.require(req_str(input, "Bucket")?)?;
        let config = input.get("VersioningConfiguration").cloned().unwrap_or(json!({}));
        let status = config.get("Status").and_then(Value::as_str);
        let malformed = || S3Error::with("MalformedXML", 400, "The XML you provided was not well-formed or did not validate against our published schema", &[]);
        let mut stored = Map::new();
        match status {
            Some(s @ ("Enabled" | "Suspended")) => {
                stored.insert("Status".into(), json!(s));
            }
            Some(_) => return Err(malformed()),
            None => {
                // Only MFADelete: the status stays as it was.
                if let Some(old) = bucket.configs.get(kind::VERSIONING).and_then(|v| v.get("Status")) {
                    stored.insert("Status".into(), old.clone());
                }
            }
        }
        match config.get("MFADelete").and_then(Value::as_str) {
            None | Some("Disabled") => {}
            Some("Enabled") => return Err(S3Error::with("InvalidRequest", 400, "DevPay and Mfa are mutually exclusive authorization methods.", &[])),
            Some(_) => return Err(malformed()),
        }
        if stored.is_empty() {
            return Ok(Streamed::value(json!({})));
        }
        self.buckets.set_config(&self.store, &bucket.name, kind::VERSIONING, Some(Value::Object(stored))).await?;
        Ok(Streamed::value(json!({})))
    }

    pub(crate) async fn get_bucket_versioning(&self, input: &Value) -> S3Result<Streamed> {
        let bucket = self.buckets.require(req_str(input, "Bucket")?)?;
        let status = bucket.configs.get(kind::VERSIONING).and_then(|v| v.get("Status")).cloned();
        Ok(Streamed::value(match status {
            Some(s) => json!({"Status": s}),
            None => json!({}),
        }))
    }

    pub(crate) async fn list_object_versions(&self, input: &Value) -> S3Result<Streamed> {
        let bucket = self.buckets.require(req_str(input, "Bucket")?)?;
        let prefix = opt_str(input, "Prefix").unwrap_or("");
        let delimiter = opt_str(input, "Delimiter").unwrap_or("");
        let max = max_keys(input)?;
        let encode = encoding(input)?;
        let key_marker = opt_str(input, "KeyMarker").unwrap_or("");
        let version_marker = opt_str(input, "VersionIdMarker").filter(|v| !v.is_empty());
        let enc = |s: &str| if encode { url_encode(s) } else { s.to_string() };
        let mut start = if key_marker.is_empty() { Pos::Beginning } else { Pos::AfterKey(key_marker.as_bytes().to_vec()) };
        if let Some(vm) = version_marker {
            if key_marker.is_empty() {
                return Err(S3Error::with("InvalidArgument", 400, "A version-id marker cannot be specified without a key marker.", &[("ArgumentName", "version-id-marker".into()), ("ArgumentValue", vm.to_string())]));
            }
            check_version_id(vm)?;
            if let Some(v) = self.store.get_version(&bucket.name, key_marker, Some(vm))? {
                start = Pos::AfterVersion(key_marker.as_bytes().to_vec(), v.seq);
            }
        }
        let owner_value = owner(&bucket.account);
        let mut versions = Vec::new();
        let mut markers = Vec::new();
        let mut prefixes: Vec<Value> = Vec::new();
        let mut count = 0usize;
        let mut truncated = false;
        let mut last: Option<(String, String)> = None;
        'pages: loop {
            if max == 0 {
                break;
            }
            let batch = (max - count + 1).clamp(2, 1000);
            let rows = self.store.list_versions(&bucket.name, prefix, start.as_start(), batch)?;
            let n = rows.len();
            for v in rows {
                if !delimiter.is_empty() {
                    if let Some(i) = v.key[prefix.len()..].find(delimiter) {
                        let cp = v.key[..prefix.len() + i + delimiter.len()].to_string();
                        if count == max {
                            truncated = true;
                            break 'pages;
                        }
                        count += 1;
                        prefixes.push(json!({"Prefix": enc(&cp)}));
                        last = Some((cp.clone(), String::new()));
                        let mut past = cp.into_bytes();
                        past.push(0xFF);
                        start = Pos::AfterKey(past);
                        continue 'pages;
                    }
                }
                if count == max {
                    truncated = true;
                    break 'pages;
                }
                count += 1;
                let mut entry = json!({"Key": enc(&v.key), "VersionId": v.version_id, "IsLatest": v.is_latest, "LastModified": secs(v.last_modified_ms), "Owner": owner_value});
                if v.delete_marker {
                    markers.push(entry);
                } else {
                    entry["ETag"] = json!(quoted(&v.etag));
                    entry["Size"] = json!(v.size);
                    entry["StorageClass"] = json!(v.storage_class);
                    if let Some(a) = v.meta.checksums.keys().next() {
                        entry["ChecksumAlgorithm"] = json!([a]);
                        entry["ChecksumType"] = json!(v.meta.checksum_type.clone().unwrap_or_else(|| "FULL_OBJECT".into()));
                    }
                    versions.push(entry);
                }
                last = Some((v.key.clone(), v.version_id.clone()));
                start = Pos::AfterVersion(v.key.clone().into_bytes(), v.seq);
            }
            if n < batch {
                break;
            }
        }
        let mut out = Map::new();
        out.insert("Name".into(), json!(bucket.name));
        out.insert("Prefix".into(), json!(enc(prefix)));
        out.insert("KeyMarker".into(), json!(enc(key_marker)));
        out.insert("VersionIdMarker".into(), json!(version_marker.unwrap_or("")));
        if !delimiter.is_empty() {
            out.insert("Delimiter".into(), json!(enc(delimiter)));
        }
        out.insert("MaxKeys".into(), json!(max));
        out.insert("IsTruncated".into(), json!(truncated));
        if encode {
            out.insert("EncodingType".into(), json!("url"));
        }
        if truncated {
            if let Some((k, v)) = last {
                out.insert("NextKeyMarker".into(), json!(enc(&k)));
                if !v.is_empty() {
                    out.insert("NextVersionIdMarker".into(), json!(v));
                }
            }
        }
        if !versions.is_empty() {
            out.insert("Versions".into(), Value::Array(versions));
        }
        if !markers.is_empty() {
            out.insert("DeleteMarkers".into(), Value::Array(markers));
        }
        if !prefixes.is_empty() {
            out.insert("CommonPrefixes".into(), Value::Array(prefixes));
        }
        Ok(Streamed::value(Value::Object(out)))
    }
}
