//! The bucket and object store as events, lifecycle and Lambda see it: `BucketSettings`
//! on the bucket registry (configurations under the `notification` / `lifecycle` kinds),
//! `LifecycleObjects` on the object versions (deletes as DeleteObject makes them, blob
//! files freed after the commit) and the incomplete multipart uploads (aborted as
//! AbortMultipartUpload does), and core's `ObjectReader` (Lambda's `Code.S3Bucket` /
//! `S3Key` / `S3ObjectVersion`) reading a version's bytes whole.

use crate::blobs::Blobs;
use crate::buckets::Buckets;
use crate::errors::{S3Error, S3Result};
use crate::event_record::BucketHome;
use crate::lifecycle::LifecycleConfig;
use crate::lifecycle_timer::{LifecycleBucket, LifecycleObjects, VersionInfo};
use crate::ops_bucket_events::{BucketSettings, LIFECYCLE};
use crate::service::S3Service;
use crate::store::{ObjectVersion, Store, VersionStart, Versioning};
use nimbus_core::service::BoxFuture;
use nimbus_core::{AwsError, Clock};
use serde_json::Value;
use std::sync::Arc;

/// The registry and the store, shared with the service.
#[derive(Clone)]
pub struct StoreView {
    pub buckets: Arc<Buckets>,
    pub store: Arc<Store>,
    pub blobs: Arc<Blobs>,
    pub clock: Clock,
}

impl BucketSettings for StoreView {
    fn home(&self, bucket: &str) -> S3Result<BucketHome> {
        let b = self.buckets.require(bucket)?;
        Ok(BucketHome { account: b.account.clone(), region: b.region.clone() })
    }

    fn setting(&self, bucket: &str, name: &str) -> S3Result<Option<Value>> {
        self.buckets.require(bucket)?;
        Ok(self.buckets.config(bucket, name))
    }

    fn set_setting<'a>(&'a self, bucket: &'a str, name: &'a str, value: Option<Value>) -> BoxFuture<'a, S3Result<()>> {
        Box::pin(async move { self.buckets.set_config(&self.store, bucket, name, value).await })
    }
}

fn info(v: ObjectVersion) -> VersionInfo {
    VersionInfo {
        key: v.key,
        version_id: Some(v.version_id),
        is_latest: v.is_latest,
        delete_marker: v.delete_marker,
        size: v.size,
        last_modified_ms: v.last_modified_ms,
        etag: (!v.delete_marker).then_some(v.etag),
        tags: v.tags,
    }
}

impl StoreView {
    fn versioning(&self, bucket: &str) -> Versioning {
        self.buckets.get(bucket).map(|b| b.versioning()).unwrap_or(Versioning::Unversioned)
    }

    async fn delete(&self, bucket: &str, key: &str, version_id: Option<&str>) -> Result<Option<String>, String> {
        let versioning = self.versioning(bucket);
        let d = self.store.delete(bucket, key, version_id, versioning, self.clock.now_ms()).await.map_err(|e| e.to_string())?.map_err(|r| format!("{r:?}"))?;
        self.blobs.remove(&d.freed);
        Ok(d.version_id)
    }
}

impl LifecycleObjects for StoreView {
    fn lifecycle_buckets(&self) -> Vec<LifecycleBucket> {
        self.buckets
            .all()
            .into_iter()
            .filter_map(|b| {
                let doc = b.configs.get(LIFECYCLE)?;
                let config = LifecycleConfig::from_document(doc).ok()?;
                Some(LifecycleBucket { name: b.name.clone(), home: BucketHome { account: b.account.clone(), region: b.region.clone() }, config, versioned: b.versioning() != Versioning::Unversioned })
            })
            .collect()
    }

    /// Whole keys only: a page cut inside a key's versions ends before that key, unless it
    /// is the page's only key (then all its versions are read).
    fn versions_page(&self, bucket: &str, after: Option<&str>, max_keys: usize) -> Vec<VersionInfo> {
        let start = match after {
            Some(k) => VersionStart::AfterKey(k.as_bytes()),
            None => VersionStart::Beginning,
        };
        let Ok(mut page) = self.store.list_versions(bucket, "", start, max_keys) else { return Vec::new() };
        if page.len() == max_keys {
            if let Some(last) = page.last().map(|v| v.key.clone()) {
                let whole: Vec<ObjectVersion> = page.iter().filter(|v| v.key != last).cloned().collect();
                if whole.is_empty() {
                    let all = self.store.list_versions(bucket, &last, VersionStart::FromKey(last.as_bytes()), usize::MAX / 2).unwrap_or_default();
                    page = all.into_iter().filter(|v| v.key == last).collect();
                } else {
                    page = whole;
                }
            }
        }
        page.into_iter().map(info).collect()
    }

    fn expire_current<'a>(&'a self, bucket: &'a str, key: &'a str) -> BoxFuture<'a, Result<Option<String>, String>> {
        Box::pin(self.delete(bucket, key, None))
    }

    fn delete_version<'a>(&'a self, bucket: &'a str, key: &'a str, version_id: Option<&'a str>) -> BoxFuture<'a, Result<(), String>> {
        Box::pin(async move { self.delete(bucket, key, version_id).await.map(|_| ()) })
    }

    fn uploads(&self, bucket: &str) -> Vec<(String, String, u64)> {
        crate::ops_multipart::lifecycle_uploads(&self.store, bucket)
    }

    fn abort_upload<'a>(&'a self, _bucket: &'a str, _key: &'a str, upload_id: &'a str) -> BoxFuture<'a, Result<(), String>> {
        Box::pin(crate::ops_multipart::lifecycle_abort_upload(&self.store, &self.blobs, upload_id))
    }
}

impl S3Service {
    /// The view events and lifecycle work through.
    pub fn store_view(&self) -> StoreView {
        StoreView { buckets: self.buckets.clone(), store: self.store.clone(), blobs: self.blobs.clone(), clock: self.clock.clone() }
    }
}

/// Lambda's `Code.S3Bucket` / `S3Key` / `S3ObjectVersion`: the version's bytes, with S3's
/// error when there is none.
impl nimbus_core::internal::ObjectReader for S3Service {
    fn read_object<'a>(&'a self, _account: &'a str, _region: &'a str, bucket: &'a str, key: &'a str, version_id: Option<&'a str>, max_bytes: u64) -> BoxFuture<'a, Result<bytes::Bytes, AwsError>> {
        Box::pin(async move {
            use http_body_util::BodyExt;
            let b = self.buckets.require(bucket).map_err(AwsError::from)?;
            let v = self.readable_version(&b, key, version_id, "GET").map_err(AwsError::from)?;
            if v.size > max_bytes {
                return Err(AwsError::from(S3Error::other("EntityTooLarge", 400, "Your proposed upload exceeds the maximum allowed object size.")));
            }
            let pinned = self.blobs.pin(&v.segments).ok_or_else(|| AwsError::from(S3Error::Internal(format!("the files of {bucket}/{key} are missing"))))?;
            let body = self.blobs.read(pinned, &v.segments, 0, v.size);
            let collected = body.collect().await.map_err(|e| AwsError::from(S3Error::Internal(e.to_string())))?;
            Ok(collected.to_bytes())
        })
    }
}
