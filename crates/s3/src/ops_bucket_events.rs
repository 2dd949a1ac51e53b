//! The bucket operations of events and lifecycle: Put/GetBucketNotificationConfiguration
//! and Put/Get/DeleteBucketLifecycleConfiguration. Each configuration is kept in the
//! bucket's stored settings (through [`BucketSettings`], which the bucket store
//! implements) as the document Get answers with; the notifier and the lifecycle timer are
//! told of every change. Also the `x-amz-expiration` header of PUT / GET / HEAD.
//! <https://docs.aws.amazon.com/AmazonS3/latest/API/API_PutBucketNotificationConfiguration.html>
//! <https://docs.aws.amazon.com/AmazonS3/latest/API/API_GetBucketLifecycleConfiguration.html>

use crate::errors::{S3Error, S3Result};
use crate::event_record::BucketHome;
use crate::lifecycle::{expiration_header, LifecycleConfig};
use crate::notification_config::NotificationConfig;
use crate::notify::Notifier;
use nimbus_core::service::BoxFuture;
use nimbus_core::RequestContext;
use serde_json::{json, Value};
use tokio::sync::Notify;

/// The setting names under which the configurations are stored (the registry's kinds).
pub use crate::buckets::kind::{LIFECYCLE, NOTIFICATION};

/// A bucket's stored settings as these operations need them.
pub trait BucketSettings: Send + Sync {
    /// The bucket's owner and region; `NoSuchBucket` when it does not exist.
    fn home(&self, bucket: &str) -> S3Result<BucketHome>;
    /// A stored setting (`None`: never set, or deleted).
    fn setting(&self, bucket: &str, name: &str) -> S3Result<Option<Value>>;
    /// Stores (or, with `None`, removes) a setting durably before answering.
    fn set_setting<'a>(&'a self, bucket: &'a str, name: &'a str, value: Option<Value>) -> BoxFuture<'a, S3Result<()>>;
}

fn no_lifecycle(bucket: &str) -> S3Error {
    S3Error::NoSuchLifecycleConfiguration { bucket: bucket.to_string() }
}

fn bucket_of(input: &Value) -> S3Result<&str> {
    input.get("Bucket").and_then(Value::as_str).ok_or_else(|| S3Error::other("InvalidRequest", 400, "Missing required header for this request: Bucket"))
}

fn truthy(v: Option<&Value>) -> bool {
    match v {
        Some(Value::Bool(b)) => *b,
        Some(Value::String(s)) => s.eq_ignore_ascii_case("true"),
        _ => false,
    }
}

/// PutBucketNotificationConfiguration: checked, destinations validated (unless
/// `x-amz-skip-destination-validation: true`), stored, then the `s3:TestEvent`.
pub async fn put_notification(settings: &dyn BucketSettings, notifier: &Notifier, ctx: &RequestContext, input: &Value, now_ms: u64) -> S3Result<Value> {
    let bucket = bucket_of(input)?;
    let home = settings.home(bucket)?;
    let config = NotificationConfig::parse(input.get("NotificationConfiguration").unwrap_or(&Value::Null))?;
    if !truthy(input.get("SkipDestinationValidation")) {
        notifier.validate_destinations(bucket, &home, &config)?;
    }
    let stored = (!config.is_empty()).then(|| config.render());
    settings.set_setting(bucket, NOTIFICATION, stored).await?;
    notifier.send_test_events(ctx, bucket, &config, now_ms);
    notifier.set_config(bucket, home, Some(config));
    Ok(json!({}))
}

/// GetBucketNotificationConfiguration: the stored document, or an empty one.
pub fn get_notification(settings: &dyn BucketSettings, input: &Value) -> S3Result<Value> {
    let bucket = bucket_of(input)?;
    settings.home(bucket)?;
    Ok(settings.setting(bucket, NOTIFICATION)?.unwrap_or_else(|| json!({})))
}

/// PutBucketLifecycleConfiguration: checked, stored, the timer woken.
pub async fn put_lifecycle(settings: &dyn BucketSettings, timer: Option<&Notify>, input: &Value) -> S3Result<Value> {
    let bucket = bucket_of(input)?;
    settings.home(bucket)?;
    let config = LifecycleConfig::parse(input.get("LifecycleConfiguration"))?;
    settings.set_setting(bucket, LIFECYCLE, Some(config.document)).await?;
    if let Some(t) = timer {
        t.notify_one();
    }
    Ok(json!({ "TransitionDefaultMinimumObjectSize": "all_storage_classes_128K" }))
}

/// GetBucketLifecycleConfiguration: the rules, or `NoSuchLifecycleConfiguration`.
pub fn get_lifecycle(settings: &dyn BucketSettings, input: &Value) -> S3Result<Value> {
    let bucket = bucket_of(input)?;
    settings.home(bucket)?;
    match settings.setting(bucket, LIFECYCLE)? {
        Some(rules) => Ok(json!({ "Rules": rules, "TransitionDefaultMinimumObjectSize": "all_storage_classes_128K" })),
        None => Err(no_lifecycle(bucket)),
    }
}

/// DeleteBucketLifecycle: 204 whether or not there was one.
pub async fn delete_lifecycle(settings: &dyn BucketSettings, timer: Option<&Notify>, input: &Value) -> S3Result<Value> {
    let bucket = bucket_of(input)?;
    settings.home(bucket)?;
    settings.set_setting(bucket, LIFECYCLE, None).await?;
    if let Some(t) = timer {
        t.notify_one();
    }
    Ok(json!({}))
}

/// The bucket's lifecycle rules, if any (read per request for `x-amz-expiration`).
pub fn lifecycle_of(settings: &dyn BucketSettings, bucket: &str) -> Option<LifecycleConfig> {
    let doc = settings.setting(bucket, LIFECYCLE).ok().flatten()?;
    LifecycleConfig::from_document(&doc).ok()
}

/// `x-amz-expiration` for an object a rule expires (`Expiration` in PutObject's,
/// GetObject's and HeadObject's output).
pub fn expiration(config: &LifecycleConfig, key: &str, size: u64, tags: &[(String, String)], created_ms: u64) -> Option<String> {
    config.current_expiry(key, size, tags, created_ms).map(|(t, rule)| expiration_header(t, &rule.id))
}
