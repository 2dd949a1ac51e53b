//! Acts on lifecycle rules on nimbus's clock. Every action S3 takes falls due at a midnight
//! UTC (expiry days are rounded up to one, dates are one), so the timer runs a pass, then
//! waits for the next midnight on the clock (a clock advance wakes it at once) or for a
//! configuration change — no polling. A pass walks each bucket with rules a page of keys
//! at a time: a current version past its expiry is deleted (unversioned bucket:
//! `LifecycleExpiration:Delete`) or gets a delete marker (versioned:
//! `LifecycleExpiration:DeleteMarkerCreated`); noncurrent versions past `NoncurrentDays`
//! beyond the `NewerNoncurrentVersions` kept are deleted; a delete marker left alone is
//! removed under `ExpiredObjectDeleteMarker`; multipart uploads older than
//! `DaysAfterInitiation` are aborted. Events go through `Notifier::system_event`.
//! The objects are reached through [`LifecycleObjects`], which the object store implements.
//! <https://docs.aws.amazon.com/AmazonS3/latest/userguide/intro-lifecycle-rules.html>

use crate::event_record::BucketHome;
use crate::lifecycle::{next_midnight, round_up_to_midnight, Expiration, LifecycleConfig, DAY_MS};
use crate::notify::{Notifier, ObjectEvent};
use nimbus_core::service::BoxFuture;
use nimbus_core::Clock;
use std::sync::Arc;
use tokio::sync::Notify;

/// Keys read per page.
const PAGE_KEYS: usize = 1000;

/// One version of an object as the timer sees it.
#[derive(Debug, Clone)]
pub struct VersionInfo {
    pub key: String,
    /// The version id (`null` for the null version; `None` where the store has none).
    pub version_id: Option<String>,
    pub is_latest: bool,
    pub delete_marker: bool,
    pub size: u64,
    pub last_modified_ms: u64,
    pub etag: Option<String>,
    pub tags: Vec<(String, String)>,
}

/// A bucket with lifecycle rules.
pub struct LifecycleBucket {
    pub name: String,
    pub home: BucketHome,
    pub config: LifecycleConfig,
    /// Versioning enabled or suspended: expiring a current version adds a delete marker.
    pub versioned: bool,
}

/// What the timer needs of the object store.
pub trait LifecycleObjects: Send + Sync {
    fn lifecycle_buckets(&self) -> Vec<LifecycleBucket>;
    /// Every version (newest first within a key) of up to `max_keys` keys after `after`.
    fn versions_page(&self, bucket: &str, after: Option<&str>, max_keys: usize) -> Vec<VersionInfo>;
    /// Deletes the current version (unversioned bucket) or puts a delete marker
    /// (versioned), as DeleteObject without a version id does; answers the marker's id.
    fn expire_current<'a>(&'a self, bucket: &'a str, key: &'a str) -> BoxFuture<'a, Result<Option<String>, String>>;
    /// Permanently deletes one version (or delete marker).
    fn delete_version<'a>(&'a self, bucket: &'a str, key: &'a str, version_id: Option<&'a str>) -> BoxFuture<'a, Result<(), String>>;
    /// In-progress multipart uploads: (key, upload id, initiated ms).
    fn uploads(&self, _bucket: &str) -> Vec<(String, String, u64)> {
        Vec::new()
    }
    fn abort_upload<'a>(&'a self, _bucket: &'a str, _key: &'a str, _upload_id: &'a str) -> BoxFuture<'a, Result<(), String>> {
        Box::pin(async { Ok(()) })
    }
}

/// The running timer: `changed` wakes it for a new or deleted configuration.
pub struct LifecycleTimer {
    pub changed: Arc<Notify>,
}

impl LifecycleTimer {
    pub fn start(clock: Clock, objects: Arc<dyn LifecycleObjects>, notifier: Arc<Notifier>) -> LifecycleTimer {
        let changed = Arc::new(Notify::new());
        let wake = changed.clone();
        tokio::spawn(async move {
            loop {
                let notified = wake.notified();
                tokio::pin!(notified);
                notified.as_mut().enable();
                run_pass(objects.as_ref(), &notifier, clock.now_ms()).await;
                let next = next_midnight(clock.now_ms());
                tokio::select! {
                    _ = clock.sleep_until(next) => {}
                    _ = notified => {}
                }
            }
        });
        LifecycleTimer { changed }
    }
}

fn event(bucket: &str, key: &str, name: &'static str, v: &VersionInfo, version_id: Option<String>, now: u64) -> ObjectEvent {
    ObjectEvent { bucket: bucket.to_string(), key: key.to_string(), event_name: name, size: Some(v.size), etag: v.etag.clone(), version_id: version_id.filter(|id| id != "null"), time_ms: now }
}

/// One pass over every bucket with rules at time `now`.
pub async fn run_pass(objects: &dyn LifecycleObjects, notifier: &Notifier, now: u64) {
    for b in objects.lifecycle_buckets() {
        let mut after: Option<String> = None;
        loop {
            let page = objects.versions_page(&b.name, after.as_deref(), PAGE_KEYS);
            let Some(last) = page.last().map(|v| v.key.clone()) else { break };
            let mut start = 0;
            while start < page.len() {
                let end = page[start..].iter().position(|v| v.key != page[start].key).map(|i| start + i).unwrap_or(page.len());
                expire_key(objects, notifier, &b, &page[start..end], now).await;
                start = end;
            }
            after = Some(last);
        }
        for (key, upload_id, initiated) in objects.uploads(&b.name) {
            let due = b.config.rules.iter().filter(|r| r.enabled && key.starts_with(&r.filter.prefix)).filter_map(|r| r.abort_multipart_days).map(|d| round_up_to_midnight(initiated + d * DAY_MS)).min();
            if due.is_some_and(|t| t <= now) {
                if let Err(e) = objects.abort_upload(&b.name, &key, &upload_id).await {
                    tracing::warn!(bucket = %b.name, %key, error = %e, "s3 lifecycle: could not abort an upload");
                }
            }
        }
    }
}

/// One key's versions, newest first.
async fn expire_key(objects: &dyn LifecycleObjects, notifier: &Notifier, b: &LifecycleBucket, versions: &[VersionInfo], now: u64) {
    let Some(first) = versions.first() else { return };
    let key = first.key.as_str();
    let home = &b.home;
    let mut remaining: Vec<&VersionInfo> = versions.iter().collect();
    // The current version.
    if first.is_latest && !first.delete_marker {
        if let Some((due, _)) = b.config.current_expiry(key, first.size, &first.tags, first.last_modified_ms) {
            if due <= now {
                match objects.expire_current(&b.name, key).await {
                    Ok(marker) if b.versioned => notifier.system_event(&home.account, &home.region, event(&b.name, key, "LifecycleExpiration:DeleteMarkerCreated", first, marker, now)),
                    Ok(_) => {
                        notifier.system_event(&home.account, &home.region, event(&b.name, key, "LifecycleExpiration:Delete", first, first.version_id.clone(), now));
                        return;
                    }
                    Err(e) => tracing::warn!(bucket = %b.name, key, error = %e, "s3 lifecycle: could not expire an object"),
                }
            }
        }
    }
    // Noncurrent versions: each became noncurrent when the next newer one was written.
    for rule in b.config.rules.iter().filter(|r| r.enabled) {
        let Some((days, newer)) = rule.noncurrent else { continue };
        let mut kept = 0u64;
        for (i, v) in versions.iter().enumerate().skip(1) {
            if !rule.filter.matches(key, v.size, &v.tags) {
                continue;
            }
            kept += 1;
            if newer.is_some_and(|n| kept <= n) {
                continue;
            }
            let since = versions[i - 1].last_modified_ms;
            if round_up_to_midnight(since + days * DAY_MS) > now {
                continue;
            }
            match objects.delete_version(&b.name, key, v.version_id.as_deref()).await {
                Ok(()) => {
                    remaining.retain(|x| x.version_id != v.version_id);
                    if !v.delete_marker {
                        notifier.system_event(&home.account, &home.region, event(&b.name, key, "LifecycleExpiration:Delete", v, v.version_id.clone(), now));
                    }
                }
                Err(e) => tracing::warn!(bucket = %b.name, key, error = %e, "s3 lifecycle: could not delete a noncurrent version"),
            }
        }
    }
    // A delete marker that is all that is left of the object.
    if let [only] = remaining.as_slice() {
        let marker_rule = b.config.rules.iter().any(|r| r.enabled && key.starts_with(&r.filter.prefix) && r.expiration == Some(Expiration::ExpiredObjectDeleteMarker));
        if only.is_latest && only.delete_marker && marker_rule {
            if let Err(e) = objects.delete_version(&b.name, key, only.version_id.as_deref()).await {
                tracing::warn!(bucket = %b.name, key, error = %e, "s3 lifecycle: could not remove an expired delete marker");
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use parking_lot::Mutex;
    use serde_json::json;

    /// An in-memory bucket: versions newest first per key.
    struct Fake {
        versioned: bool,
        config: LifecycleConfig,
        versions: Mutex<Vec<VersionInfo>>,
        log: Mutex<Vec<String>>,
    }

    impl LifecycleObjects for Fake {
        fn lifecycle_buckets(&self) -> Vec<LifecycleBucket> {
            vec![LifecycleBucket { name: "b".into(), home: BucketHome { account: "a".into(), region: "r".into() }, config: self.config.clone(), versioned: self.versioned }]
        }
        fn versions_page(&self, _: &str, after: Option<&str>, _: usize) -> Vec<VersionInfo> {
            self.versions.lock().iter().filter(|v| after.is_none_or(|a| v.key.as_str() > a)).cloned().collect()
        }
        fn expire_current<'a>(&'a self, _: &'a str, key: &'a str) -> BoxFuture<'a, Result<Option<String>, String>> {
            self.log.lock().push(format!("expire {key}"));
            Box::pin(async { Ok(None) })
        }
        fn delete_version<'a>(&'a self, _: &'a str, key: &'a str, v: Option<&'a str>) -> BoxFuture<'a, Result<(), String>> {
            self.log.lock().push(format!("delete {key} {}", v.unwrap_or("null")));
            Box::pin(async { Ok(()) })
        }
    }

    fn v(key: &str, id: &str, latest: bool, marker: bool, at_day: u64) -> VersionInfo {
        VersionInfo { key: key.into(), version_id: Some(id.into()), is_latest: latest, delete_marker: marker, size: 1, last_modified_ms: at_day * DAY_MS + 1000, etag: None, tags: Vec::new() }
    }

    #[tokio::test]
    async fn passes_expire_what_is_due() {
        let config = LifecycleConfig::parse(Some(&json!({"Rules": [
            {"ID": "cur", "Status": "Enabled", "Filter": {"Prefix": "tmp/"}, "Expiration": {"Days": 2}},
            {"ID": "old", "Status": "Enabled", "Filter": {"Prefix": "v/"}, "NoncurrentVersionExpiration": {"NoncurrentDays": 1, "NewerNoncurrentVersions": 1}},
            {"ID": "dm", "Status": "Enabled", "Filter": {"Prefix": "m/"}, "Expiration": {"ExpiredObjectDeleteMarker": true}}
        ]}))).expect("valid");
        let fake = Fake {
            versioned: true,
            config,
            versions: Mutex::new(vec![
                v("m/x", "m1", true, true, 0),
                v("tmp/a", "t1", true, false, 10),
                v("v/k", "v3", true, false, 12),
                v("v/k", "v2", false, false, 11),
                v("v/k", "v1", false, false, 10),
            ]),
            log: Mutex::new(Vec::new()),
        };
        let notifier = Notifier::default();
        // Day 12 at noon: tmp/a (day 10 + 2 days → midnight of day 13) and v1 (noncurrent
        // since day 11 + 1 day → midnight of day 13) are not yet due; the lone marker is.
        run_pass(&fake, &notifier, 12 * DAY_MS + DAY_MS / 2).await;
        assert_eq!(*fake.log.lock(), vec!["delete m/x m1".to_string()]);
        fake.log.lock().clear();
        run_pass(&fake, &notifier, 13 * DAY_MS).await;
        // v2 is the one newer noncurrent version kept.
        assert_eq!(*fake.log.lock(), vec!["delete m/x m1".to_string(), "expire tmp/a".to_string(), "delete v/k v1".to_string()]);
    }
}
