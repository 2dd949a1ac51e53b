//! nimbus-sns: Amazon SNS (query protocol).
//!
//! `service.rs` (model, dispatch, the shared `Sns` state) → `ops_topics.rs` (topics,
//! attributes via `topic_attrs.rs`, tags, permissions) / `ops_subscriptions.rs` /
//! `ops_publish.rs` (checks, filter policies via `filter.rs`, message attributes via
//! `message_attrs.rs`, the envelope and Lambda event of `envelope.rs`) → `registry.rs`
//! (topics and subscriptions in memory, written through to core's document table,
//! `store.rs`) and `delivery.rs` (durable deliveries to SQS through `QueueSender` and to
//! Lambda through `EventInvoker`, to HTTP endpoints through `http_delivery.rs`, retries on the
//! clock per `delivery_policy.rs`, RedrivePolicy dead-letter queues). `dedup.rs` keeps the
//! FIFO deduplication window (durable). `signing.rs` signs notifications. `policies.rs`
//! lets IAM read topic policies and tags. `data_plane.rs` serves `/_aws/sns/` (recorded
//! email/HTTP messages, the certificate). `metrics.rs` records the standard `AWS/SNS` metrics.

pub mod arns;
pub mod data_plane;
pub mod dedup;
pub mod delivery;
pub mod delivery_policy;
pub mod envelope;
pub mod errors;
pub mod filter;
pub mod http_delivery;
pub mod message_attrs;
pub mod metrics;
pub mod ops_publish;
pub mod ops_subscriptions;
pub mod ops_topics;
pub mod policies;
pub mod registry;
pub mod service;
pub mod signing;
pub mod store;
pub mod topic_attrs;

pub use service::SnsService;
