//! The events and lifecycle part of the S3 service's dispatch: which operations
//! `ops_bucket_events.rs` answers, and what they are wired to (the buckets' stored settings,
//! the notifier, the lifecycle timer).

use crate::errors::S3Result;
use crate::ops_bucket_events::{self as ops, BucketSettings};
use crate::service::S3Service;
use nimbus_core::{Clock, RequestContext};
use serde_json::Value;
use std::sync::{Arc, OnceLock};

#[derive(Default)]
pub struct EventsWiring {
    pub settings: OnceLock<Arc<dyn BucketSettings>>,
    pub clock: OnceLock<Clock>,
    pub timer: OnceLock<crate::lifecycle_timer::LifecycleTimer>,
}

impl S3Service {
    /// Wires events and lifecycle to the bucket store: loads every bucket's notification
    /// configuration into the notifier and starts the lifecycle timer.
    pub fn wire_events(&self, clock: Clock, settings: Arc<dyn BucketSettings>, objects: Arc<dyn crate::lifecycle_timer::LifecycleObjects>, buckets: Vec<String>) {
        for b in buckets {
            let (Ok(home), Ok(Some(doc))) = (settings.home(&b), settings.setting(&b, ops::NOTIFICATION)) else { continue };
            match crate::notification_config::NotificationConfig::parse(&doc) {
                Ok(config) => self.notifier.set_config(&b, home, Some(config)),
                Err(e) => tracing::warn!(bucket = %b, error = %e, "s3: a stored notification configuration no longer parses"),
            }
        }
        let _ = self.events.timer.set(crate::lifecycle_timer::LifecycleTimer::start(clock.clone(), objects, self.notifier.clone()));
        let _ = self.events.clock.set(clock);
        let _ = self.events.settings.set(settings);
    }

    /// The notifier the object operations report to.
    pub fn notifier(&self) -> &Arc<crate::notify::Notifier> {
        &self.notifier
    }

    /// Answers the events and lifecycle operations (`None`: not one of them, or not wired).
    pub(crate) async fn bucket_events(&self, ctx: &RequestContext, op: &str, input: &Value) -> Option<S3Result<Value>> {
        let settings = self.events.settings.get()?.as_ref();
        let timer = self.events.timer.get().map(|t| t.changed.as_ref());
        let now = self.events.clock.get().map(Clock::now_ms).unwrap_or_default();
        Some(match op {
            "PutBucketNotificationConfiguration" => ops::put_notification(settings, &self.notifier, ctx, input, now).await,
            "GetBucketNotificationConfiguration" => ops::get_notification(settings, input),
            "PutBucketLifecycleConfiguration" => ops::put_lifecycle(settings, timer, input).await,
            "GetBucketLifecycleConfiguration" => ops::get_lifecycle(settings, input),
            "DeleteBucketLifecycle" => ops::delete_lifecycle(settings, timer, input).await,
            _ => return None,
        })
    }
}

/// `k=v&k2=v2` (PutObject's `x-amz-tagging`) → tags.
fn parse_tagging(s: &str) -> Vec<(String, String)> {
    let decode = |p: &str| percent_encoding::percent_decode_str(&p.replace('+', " ")).decode_utf8_lossy().into_owned();
    s.split('&').filter(|p| !p.is_empty()).map(|p| p.split_once('=').map(|(k, v)| (decode(k), decode(v))).unwrap_or_else(|| (decode(p), String::new()))).collect()
}

impl S3Service {
    /// Adds `Expiration` (`x-amz-expiration`) to PutObject's, GetObject's and HeadObject's
    /// output when one of the bucket's lifecycle rules expires the object.
    pub fn add_expiration(&self, op: &str, input: &Value, output: &mut Value, tags_of: impl FnOnce() -> Vec<(String, String)>) {
        if !matches!(op, "PutObject" | "GetObject" | "HeadObject") || output.get("DeleteMarker").and_then(Value::as_bool) == Some(true) {
            return;
        }
        let Some(settings) = self.events.settings.get() else { return };
        let (Some(bucket), Some(key)) = (input.get("Bucket").and_then(Value::as_str), input.get("Key").and_then(Value::as_str)) else { return };
        let Some(config) = ops::lifecycle_of(settings.as_ref(), bucket) else { return };
        let (size, created_ms, tags) = if op == "PutObject" {
            let size = input.get("ContentLength").and_then(Value::as_u64).unwrap_or(0);
            let now = self.events.clock.get().map(Clock::now_ms).unwrap_or_default();
            let tags = input.get("Tagging").and_then(Value::as_str).map(parse_tagging).unwrap_or_default();
            (size, now, tags)
        } else {
            let size = output.get("ContentLength").and_then(Value::as_u64).unwrap_or(0);
            let created = output.get("LastModified").and_then(Value::as_f64).map(|s| (s * 1000.0) as u64).unwrap_or(0);
            let tags = if config.uses_tags() { tags_of() } else { Vec::new() };
            (size, created, tags)
        };
        if let Some(h) = ops::expiration(&config, key, size, &tags, created_ms) {
            output["Expiration"] = Value::String(h);
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn tagging_headers_parse() {
        assert_eq!(super::parse_tagging("a=1&b%20c=d+e&f"), vec![("a".into(), "1".into()), ("b c".into(), "d e".into()), ("f".into(), String::new())]);
    }
}
