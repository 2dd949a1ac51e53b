//! Object events: what an object change tells the bucket's notification configuration.
//! The object operations call [`Notifier::object_event`] once a change is committed; the
//! notifier matches it against the bucket's configuration and delivers AWS's event record.
//! (Skeleton: the interface the object operations call; delivery comes with the
//! notification work.)

use nimbus_core::RequestContext;

/// What happened to an object, named as S3 names event types after `s3:`
/// (`ObjectCreated:Put`, `ObjectRemoved:DeleteMarkerCreated`, `LifecycleExpiration:Delete`).
#[derive(Debug, Clone)]
pub struct ObjectEvent {
    pub bucket: String,
    /// The key as stored (not URL-encoded; the record encodes it).
    pub key: String,
    /// `ObjectCreated:Put`, `ObjectCreated:Copy`, `ObjectCreated:CompleteMultipartUpload`,
    /// `ObjectRemoved:Delete`, `ObjectRemoved:DeleteMarkerCreated`, `ObjectTagging:Put`, …
    pub event_name: &'static str,
    /// Object size in bytes (created events).
    pub size: Option<u64>,
    /// The ETag without quotes (created events).
    pub etag: Option<String>,
    /// The version id in a versioning-enabled or suspended bucket (`null` is not sent).
    pub version_id: Option<String>,
    /// When the change happened, epoch milliseconds on nimbus's clock.
    pub time_ms: u64,
}

/// Delivers object events (a no-op until notification delivery is built).
#[derive(Default)]
pub struct Notifier {}

impl Notifier {
    /// Called by an object operation after its change is committed, before it answers.
    /// Must not wait on a delivery.
    pub fn object_event(&self, _ctx: &RequestContext, _event: ObjectEvent) {}

    /// Called by the lifecycle timer (no request context: S3 itself is the actor).
    pub fn system_event(&self, _account: &str, _region: &str, _event: ObjectEvent) {}
}
