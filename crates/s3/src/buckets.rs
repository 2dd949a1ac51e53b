//! The bucket registry: every bucket (a bounded set: AWS allows 10,000 per account) with
//! its configuration documents, in memory for every request's lookup, written through to
//! the store before a change is answered. Bucket names are global across accounts, as in
//! AWS. Also the naming rules (`InvalidBucketName`).
//! <https://docs.aws.amazon.com/AmazonS3/latest/userguide/bucketnamingrules.html>

use crate::errors::{S3Error, S3Result};
use crate::store::{BucketRecord, Store, Versioning};
use parking_lot::RwLock;
use serde_json::Value;
use std::collections::BTreeMap;
use std::sync::Arc;

/// Configuration kinds (the store's `bucket_configs.kind`).
pub mod kind {
    pub const VERSIONING: &str = "versioning";
    pub const TAGGING: &str = "tagging";
    pub const CORS: &str = "cors";
    pub const POLICY: &str = "policy";
    pub const OWNERSHIP: &str = "ownership";
    pub const PUBLIC_ACCESS_BLOCK: &str = "public-access-block";
    pub const NOTIFICATION: &str = "notification";
    pub const LIFECYCLE: &str = "lifecycle";
    pub const ENCRYPTION: &str = "encryption";
    pub const ACL: &str = "acl";
}

#[derive(Debug, Clone)]
pub struct Bucket {
    pub name: String,
    pub account: String,
    pub region: String,
    pub created_ms: u64,
    /// Configuration documents by kind (see [`kind`]), as JSON values.
    pub configs: BTreeMap<String, Value>,
}

impl Bucket {
    pub fn versioning(&self) -> Versioning {
        match self.configs.get(kind::VERSIONING).and_then(|v| v.get("Status")).and_then(Value::as_str) {
            Some("Enabled") => Versioning::Enabled,
            Some("Suspended") => Versioning::Suspended,
            _ => Versioning::Unversioned,
        }
    }
}

#[derive(Default)]
pub struct Buckets {
    map: RwLock<BTreeMap<String, Arc<Bucket>>>,
}

impl Buckets {
    pub fn load(records: Vec<BucketRecord>) -> Buckets {
        let map = records
            .into_iter()
            .map(|r| {
                let configs = r.configs.into_iter().filter_map(|(k, v)| serde_json::from_str(&v).ok().map(|v| (k, v))).collect();
                (r.name.clone(), Arc::new(Bucket { name: r.name, account: r.account, region: r.region, created_ms: r.created_ms, configs }))
            })
            .collect();
        Buckets { map: RwLock::new(map) }
    }

    pub fn get(&self, name: &str) -> Option<Arc<Bucket>> {
        self.map.read().get(name).cloned()
    }

    /// The bucket, or `NoSuchBucket`.
    pub fn require(&self, name: &str) -> S3Result<Arc<Bucket>> {
        self.get(name).ok_or_else(|| S3Error::NoSuchBucket { bucket: name.to_string() })
    }

    /// Every bucket, in name order.
    pub fn all(&self) -> Vec<Arc<Bucket>> {
        self.map.read().values().cloned().collect()
    }

    /// One configuration document of a bucket.
    pub fn config(&self, name: &str, kind: &str) -> Option<Value> {
        self.map.read().get(name).and_then(|b| b.configs.get(kind).cloned())
    }

    /// Creates a bucket: `Ok(false)` when the name is taken (the existing bucket is
    /// returned by `get`).
    pub async fn create(&self, store: &Store, bucket: Bucket) -> S3Result<bool> {
        let pending = {
            let mut map = self.map.write();
            if map.contains_key(&bucket.name) {
                return Ok(false);
            }
            let record = BucketRecord {
                name: bucket.name.clone(),
                account: bucket.account.clone(),
                region: bucket.region.clone(),
                created_ms: bucket.created_ms,
                configs: bucket.configs.iter().map(|(k, v)| (k.clone(), v.to_string())).collect(),
            };
            map.insert(bucket.name.clone(), Arc::new(bucket));
            store.create_bucket(record)
        };
        pending.await?;
        Ok(true)
    }

    /// Deletes an empty bucket (`BucketNotEmpty` otherwise). `also_empty` checks other
    /// modules' rows in the same transaction.
    pub async fn delete(&self, store: &Store, name: &str, also_empty: fn(&rusqlite::Connection, &str) -> rusqlite::Result<bool>) -> S3Result<()> {
        self.require(name)?;
        if !store.delete_bucket(name, also_empty).await? {
            return Err(S3Error::with("BucketNotEmpty", 409, "The bucket you tried to delete is not empty", &[("BucketName", name.to_string())]));
        }
        self.map.write().remove(name);
        Ok(())
    }

    /// Sets (or with `None` removes) one configuration document, durably.
    pub async fn set_config(&self, store: &Store, name: &str, kind: &str, value: Option<Value>) -> S3Result<()> {
        let pending = {
            let mut map = self.map.write();
            let Some(b) = map.get_mut(name) else { return Err(S3Error::NoSuchBucket { bucket: name.to_string() }) };
            let mut changed = (**b).clone();
            match &value {
                Some(v) => changed.configs.insert(kind.to_string(), v.clone()),
                None => changed.configs.remove(kind),
            };
            *b = Arc::new(changed);
            store.set_bucket_config(name, kind, value.map(|v| v.to_string()))
        };
        pending.await?;
        Ok(())
    }
}

/// AWS's general purpose bucket naming rules.
pub fn validate_name(name: &str) -> S3Result<()> {
    let invalid = || Err(S3Error::with("InvalidBucketName", 400, "The specified bucket is not valid.", &[("BucketName", name.to_string())]));
    let bytes = name.as_bytes();
    if !(3..=63).contains(&bytes.len()) {
        return invalid();
    }
    if !bytes.iter().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || *b == b'.' || *b == b'-') {
        return invalid();
    }
    let edge_ok = |b: u8| b.is_ascii_lowercase() || b.is_ascii_digit();
    if !edge_ok(bytes[0]) || !edge_ok(bytes[bytes.len() - 1]) {
        return invalid();
    }
    if name.contains("..") || name.contains(".-") || name.contains("-.") {
        return invalid();
    }
    if name.parse::<std::net::Ipv4Addr>().is_ok() {
        return invalid();
    }
    const PREFIXES: [&str; 3] = ["xn--", "sthree-", "amzn-s3-demo-"];
    const SUFFIXES: [&str; 5] = ["-s3alias", "--ol-s3", ".mrap", "--x-s3", "--table-s3"];
    if PREFIXES.iter().any(|p| name.starts_with(p)) || SUFFIXES.iter().any(|s| name.ends_with(s)) {
        return invalid();
    }
    Ok(())
}

/// The regions a `LocationConstraint` may name (AWS's commercial regions, and `EU`).
pub const REGIONS: &[&str] = &[
    "af-south-1", "ap-east-1", "ap-east-2", "ap-northeast-1", "ap-northeast-2", "ap-northeast-3", "ap-south-1", "ap-south-2", "ap-southeast-1", "ap-southeast-2",
    "ap-southeast-3", "ap-southeast-4", "ap-southeast-5", "ap-southeast-7", "ca-central-1", "ca-west-1", "cn-north-1", "cn-northwest-1", "eu-central-1", "eu-central-2",
    "eu-north-1", "eu-south-1", "eu-south-2", "eu-west-1", "eu-west-2", "eu-west-3", "il-central-1", "me-central-1", "me-south-1", "mx-central-1", "sa-east-1",
    "us-east-1", "us-east-2", "us-gov-east-1", "us-gov-west-1", "us-west-1", "us-west-2", "EU",
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_follow_awss_rules() {
        for ok in ["abc", "my-bucket.1", "a".repeat(63).as_str(), "1bucket"] {
            assert!(validate_name(ok).is_ok(), "{ok}");
        }
        for bad in ["ab", "Abc", "a_b", "-abc", "abc-", "a..b", "192.168.1.1", "xn--abc", "abc-s3alias", "a".repeat(64).as_str(), "a.-b"] {
            assert!(validate_name(bad).is_err(), "{bad}");
        }
    }
}
