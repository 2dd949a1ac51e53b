//! The events and lifecycle part of the S3 service's dispatch: which operations
//! `ops_bucket_events.rs` answers (over the service's `StoreView`), the start of the notifier
//! from the stored configurations and of the lifecycle timer, and the lifecycle headers.

use crate::errors::S3Result;
use crate::ops_bucket_events as ops;
use crate::service::S3Service;
use nimbus_core::RequestContext;
use serde_json::Value;
use std::sync::Arc;

impl S3Service {
    /// Starts events and lifecycle on this service's store (the binary calls it once):
    /// loads every bucket's notification configuration into the notifier and starts the
    /// lifecycle timer.
    pub fn start_events(&self) {
        for b in self.buckets.all() {
            let Some(doc) = b.configs.get(ops::NOTIFICATION) else { continue };
            match crate::notification_config::NotificationConfig::parse(doc) {
                Ok(config) => self.notifier.set_config(&b.name, crate::event_record::BucketHome { account: b.account.clone(), region: b.region.clone() }, Some(config)),
                Err(e) => tracing::warn!(bucket = %b.name, error = %e, "s3: a stored notification configuration no longer parses"),
            }
        }
        let _ = self.lifecycle_timer.set(crate::lifecycle_timer::LifecycleTimer::start(self.clock.clone(), Arc::new(self.store_view()), self.notifier.clone()));
    }

    /// The notifier the object operations report to.
    pub fn notifier(&self) -> &Arc<crate::notify::Notifier> {
        &self.notifier
    }

    /// Answers the events and lifecycle operations (`None`: not one of them).
    pub(crate) async fn bucket_events(&self, ctx: &RequestContext, op: &str, input: &Value) -> Option<S3Result<Value>> {
        let view = self.store_view();
        let timer = self.lifecycle_timer.get().map(|t| t.changed.as_ref());
        Some(match op {
            "PutBucketNotificationConfiguration" => ops::put_notification(&view, &self.notifier, ctx, input, self.clock.now_ms()).await,
            "GetBucketNotificationConfiguration" => ops::get_notification(&view, input),
            "PutBucketLifecycleConfiguration" | "PutBucketLifecycle" => ops::put_lifecycle(&view, timer, input).await,
            "GetBucketLifecycleConfiguration" | "GetBucketLifecycle" => ops::get_lifecycle(&view, input),
            "DeleteBucketLifecycle" => ops::delete_lifecycle(&view, timer, input).await,
            _ => return None,
        })
    }
}

impl S3Service {
    /// Adds `AbortDate` / `AbortRuleId` (`x-amz-abort-date`, `x-amz-abort-rule-id`) to
    /// CreateMultipartUpload's and ListParts' output when a rule's
    /// `AbortIncompleteMultipartUpload` applies to the upload: its initiation plus the days,
    /// rounded up to midnight UTC (the earliest rule wins).
    pub(crate) fn with_abort_date(&self, input: &Value, mut out: nimbus_core::service::Streamed) -> nimbus_core::service::Streamed {
        let (Some(bucket), Some(key)) = (input.get("Bucket").and_then(Value::as_str), input.get("Key").and_then(Value::as_str)) else { return out };
        let Some(doc) = self.buckets.config(bucket, ops::LIFECYCLE) else { return out };
        let Ok(config) = crate::lifecycle::LifecycleConfig::from_document(&doc) else { return out };
        let Some(upload_id) = out.output.get("UploadId").or_else(|| input.get("UploadId")).and_then(Value::as_str).map(str::to_string) else { return out };
        let Ok(Some(upload)) = self.store.query(|c| crate::multipart_store::get_upload(c, &upload_id)) else { return out };
        let due = config
            .rules
            .iter()
            .filter(|r| r.enabled && key.starts_with(&r.filter.prefix))
            .filter_map(|r| r.abort_multipart_days.map(|d| (crate::lifecycle::round_up_to_midnight(upload.initiated_ms + d * crate::lifecycle::DAY_MS), r.id.clone())))
            .min();
        if let Some((t, id)) = due {
            out.output["AbortDate"] = serde_json::json!(t / 1000);
            out.output["AbortRuleId"] = Value::String(id);
        }
        out
    }

    /// A deleted bucket's notification configuration goes with it.
    pub(crate) fn forget_bucket_events(&self, input: &Value) {
        if let Some(b) = input.get("Bucket").and_then(Value::as_str) {
            self.notifier.set_config(b, crate::event_record::BucketHome { account: String::new(), region: String::new() }, None);
        }
    }

    /// Adds `Expiration` (`x-amz-expiration`) to PutObject's, CopyObject's,
    /// CompleteMultipartUpload's, GetObject's and HeadObject's output when one of the bucket's lifecycle rules expires the object (its size, tags
    /// and creation time as stored).
    pub(crate) fn with_expiration(&self, op: &str, input: &Value, mut out: nimbus_core::service::Streamed) -> nimbus_core::service::Streamed {
        let (Some(bucket), Some(key)) = (input.get("Bucket").and_then(Value::as_str), input.get("Key").and_then(Value::as_str)) else { return out };
        let Some(doc) = self.buckets.config(bucket, ops::LIFECYCLE) else { return out };
        let Ok(config) = crate::lifecycle::LifecycleConfig::from_document(&doc) else { return out };
        let written = matches!(op, "PutObject" | "CopyObject" | "CompleteMultipartUpload");
        let version = if written { out.output.get("VersionId") } else { input.get("VersionId") }.and_then(Value::as_str);
        let Ok(Some(v)) = self.store.get_version(bucket, key, version) else { return out };
        if !v.is_latest || v.delete_marker {
            return out;
        }
        if let Some(h) = ops::expiration(&config, key, v.size, &v.tags, v.last_modified_ms) {
            out.output["Expiration"] = Value::String(h);
        }
        out
    }
}
