//! ListObjects (v1: `marker` / `NextMarker`) and ListObjectsV2 (`continuation-token`,
//! `start-after`, `fetch-owner`, `KeyCount`): prefix, delimiter and CommonPrefixes,
//! `max-keys` (at most 1,000), `encoding-type=url`, in UTF-8 binary key order. Keys are
//! read from the store a bounded page at a time; a common prefix is skipped in one step
//! (the next read starts after every key under it).
//! <https://docs.aws.amazon.com/AmazonS3/latest/API/API_ListObjectsV2.html>

use crate::errors::{S3Error, S3Result};
use crate::input::{opt_str, req_str};
use crate::ops_buckets::{decode_token, encode_token, owner};
use crate::ops_objects::{quoted, secs};
use crate::service::S3Service;
use crate::store::{KeyStart, ObjectVersion};
use nimbus_core::service::Streamed;
use serde_json::{json, Map, Value};

pub const MAX_KEYS: i64 = 1000;

pub enum Item {
    Object(ObjectVersion),
    Prefix(String),
}

pub struct Page {
    pub items: Vec<Item>,
    pub truncated: bool,
}

impl Page {
    /// Where the next page starts (exclusive): the last key, or past every key under the
    /// last common prefix (no UTF-8 key contains the byte 0xFF).
    pub fn resume_after(&self) -> Option<Vec<u8>> {
        self.items.last().map(|i| match i {
            Item::Object(v) => v.key.as_bytes().to_vec(),
            Item::Prefix(p) => {
                let mut b = p.as_bytes().to_vec();
                b.push(0xFF);
                b
            }
        })
    }
}

/// S3's URL encoding of keys in listings (`encoding-type=url`): every byte but the
/// unreserved characters and `/`.
pub fn url_encode(s: &str) -> String {
    const SET: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC.remove(b'-').remove(b'_').remove(b'.').remove(b'~').remove(b'/');
    percent_encoding::utf8_percent_encode(s, SET).to_string()
}

/// The `max-keys` of a request (default and ceiling 1,000).
pub fn max_keys(input: &Value) -> S3Result<usize> {
    let n = input.get("MaxKeys").and_then(Value::as_i64).unwrap_or(MAX_KEYS);
    if n < 0 {
        return Err(S3Error::with("InvalidArgument", 400, "max-keys cannot be negative", &[("ArgumentName", "max-keys".into()), ("ArgumentValue", n.to_string())]));
    }
    Ok(n.min(MAX_KEYS) as usize)
}

pub fn encoding(input: &Value) -> S3Result<bool> {
    match opt_str(input, "EncodingType") {
        None => Ok(false),
        Some(e) if e.eq_ignore_ascii_case("url") => Ok(true),
        Some(e) => Err(S3Error::with("InvalidArgument", 400, "Invalid Encoding Method specified in Request", &[("ArgumentName", "encoding-type".into()), ("ArgumentValue", e.to_string())])),
    }
}

impl S3Service {
    /// Up to `max` entries (objects and common prefixes) after `start`. Common prefixes
    /// that are a prefix of `seen` were returned before (a v1 marker) and are skipped.
    pub(crate) fn collect(&self, bucket: &str, prefix: &str, delimiter: &str, start: KeyStart<'_>, seen: Option<&[u8]>, max: usize) -> S3Result<Page> {
        let mut items = Vec::new();
        if max == 0 {
            return Ok(Page { items, truncated: false });
        }
        let (mut inclusive, mut cursor) = match start {
            KeyStart::After(k) => (false, k.to_vec()),
            KeyStart::From(k) => (true, k.to_vec()),
        };
        'pages: loop {
            let batch = (max - items.len() + 1).clamp(2, 1000);
            let rows = self.store.list_latest(bucket, prefix, if inclusive { KeyStart::From(&cursor) } else { KeyStart::After(&cursor) }, batch)?;
            let n = rows.len();
            inclusive = false;
            for v in rows {
                if !delimiter.is_empty() {
                    if let Some(i) = v.key[prefix.len()..].find(delimiter) {
                        let cp = v.key[..prefix.len() + i + delimiter.len()].to_string();
                        let mut past = cp.as_bytes().to_vec();
                        past.push(0xFF);
                        if !seen.is_some_and(|m| m.starts_with(cp.as_bytes())) {
                            if items.len() == max {
                                return Ok(Page { items, truncated: true });
                            }
                            items.push(Item::Prefix(cp));
                        }
                        cursor = past;
                        continue 'pages;
                    }
                }
                if items.len() == max {
                    return Ok(Page { items, truncated: true });
                }
                cursor = v.key.as_bytes().to_vec();
                items.push(Item::Object(v));
            }
            if n < batch {
                break;
            }
        }
        Ok(Page { items, truncated: false })
    }

    fn contents(page: &Page, encode: bool, owner_value: Option<&Value>) -> (Vec<Value>, Vec<Value>) {
        let enc = |s: &str| if encode { url_encode(s) } else { s.to_string() };
        let mut contents = Vec::new();
        let mut prefixes = Vec::new();
        for item in &page.items {
            match item {
                Item::Object(v) => {
                    let mut o = json!({
                        "Key": enc(&v.key), "LastModified": secs(v.last_modified_ms), "ETag": quoted(&v.etag), "Size": v.size, "StorageClass": v.storage_class,
                    });
                    if let Some(a) = v.meta.checksums.keys().next() {
                        o["ChecksumAlgorithm"] = json!([a]);
                        o["ChecksumType"] = json!(v.meta.checksum_type.clone().unwrap_or_else(|| "FULL_OBJECT".into()));
                    }
                    if let Some(ow) = owner_value {
                        o["Owner"] = ow.clone();
                    }
                    contents.push(o);
                }
                Item::Prefix(p) => prefixes.push(json!({"Prefix": enc(p)})),
            }
        }
        (contents, prefixes)
    }

    pub(crate) async fn list_objects_v2(&self, input: &Value) -> S3Result<Streamed> {
        let bucket = self.buckets.require(req_str(input, "Bucket")?)?;
        let prefix = opt_str(input, "Prefix").unwrap_or("");
        let delimiter = opt_str(input, "Delimiter").unwrap_or("");
        let max = max_keys(input)?;
        let encode = encoding(input)?;
        let token = opt_str(input, "ContinuationToken");
        let start_after = opt_str(input, "StartAfter");
        let position = match token {
            Some(t) => decode_token(t).filter(|_| !t.is_empty()).ok_or_else(|| S3Error::with("InvalidArgument", 400, "The continuation token provided is incorrect", &[("ArgumentName", "continuation-token".into())]))?,
            None => start_after.unwrap_or("").as_bytes().to_vec(),
        };
        let page = self.collect(&bucket.name, prefix, delimiter, KeyStart::After(&position), None, max)?;
        let fetch_owner = input.get("FetchOwner").and_then(Value::as_bool).unwrap_or(false);
        let owner_value = fetch_owner.then(|| owner(&bucket.account));
        let (contents, prefixes) = Self::contents(&page, encode, owner_value.as_ref());
        let enc = |s: &str| if encode { url_encode(s) } else { s.to_string() };
        let mut out = Map::new();
        out.insert("Name".into(), json!(bucket.name));
        out.insert("Prefix".into(), json!(enc(prefix)));
        if !delimiter.is_empty() {
            out.insert("Delimiter".into(), json!(enc(delimiter)));
        }
        out.insert("MaxKeys".into(), json!(max));
        out.insert("KeyCount".into(), json!(page.items.len()));
        out.insert("IsTruncated".into(), json!(page.truncated));
        if encode {
            out.insert("EncodingType".into(), json!("url"));
        }
        if let Some(t) = token {
            out.insert("ContinuationToken".into(), json!(t));
        }
        if let Some(s) = start_after {
            out.insert("StartAfter".into(), json!(enc(s)));
        }
        if page.truncated {
            if let Some(p) = page.resume_after() {
                out.insert("NextContinuationToken".into(), json!(encode_token(&p)));
            }
        }
        if !contents.is_empty() {
            out.insert("Contents".into(), Value::Array(contents));
        }
        if !prefixes.is_empty() {
            out.insert("CommonPrefixes".into(), Value::Array(prefixes));
        }
        Ok(Streamed::value(Value::Object(out)))
    }

    pub(crate) async fn list_objects(&self, input: &Value) -> S3Result<Streamed> {
        let bucket = self.buckets.require(req_str(input, "Bucket")?)?;
        let prefix = opt_str(input, "Prefix").unwrap_or("");
        let delimiter = opt_str(input, "Delimiter").unwrap_or("");
        let max = max_keys(input)?;
        let encode = encoding(input)?;
        let marker = opt_str(input, "Marker").unwrap_or("");
        let page = self.collect(&bucket.name, prefix, delimiter, KeyStart::After(marker.as_bytes()), (!marker.is_empty()).then_some(marker.as_bytes()), max)?;
        let owner_value = owner(&bucket.account);
        let (contents, prefixes) = Self::contents(&page, encode, Some(&owner_value));
        let enc = |s: &str| if encode { url_encode(s) } else { s.to_string() };
        let mut out = Map::new();
        out.insert("Name".into(), json!(bucket.name));
        out.insert("Prefix".into(), json!(enc(prefix)));
        out.insert("Marker".into(), json!(enc(marker)));
        if !delimiter.is_empty() {
            out.insert("Delimiter".into(), json!(enc(delimiter)));
        }
        out.insert("MaxKeys".into(), json!(max));
        out.insert("IsTruncated".into(), json!(page.truncated));
        if encode {
            out.insert("EncodingType".into(), json!("url"));
        }
        // NextMarker only with a delimiter (without one, the last key is the marker).
        if page.truncated && !delimiter.is_empty() {
            let last = page.items.last().map(|i| match i {
                Item::Object(v) => v.key.clone(),
                Item::Prefix(p) => p.clone(),
            });
            if let Some(l) = last {
                out.insert("NextMarker".into(), json!(enc(&l)));
            }
        }
        if !contents.is_empty() {
            out.insert("Contents".into(), Value::Array(contents));
        }
        if !prefixes.is_empty() {
            out.insert("CommonPrefixes".into(), Value::Array(prefixes));
        }
        Ok(Streamed::value(Value::Object(out)))
    }
}
