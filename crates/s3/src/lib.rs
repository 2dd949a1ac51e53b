//! Amazon S3 for nimbus (REST-XML). `service.rs` is the entry point the router calls;
//! `errors.rs` the S3 error codes with AWS's statuses and messages; `store.rs` the
//! metadata (buckets, object versions) in SQLite; `blobs.rs` the object bytes as files;
//! `buckets.rs` the bucket registry; `ops_*` the operations; `notify.rs` delivers
//! object events per the bucket's `notification_config.rs` as `event_record.rs` shapes them.

pub mod blobs;
pub mod buckets;
pub mod checksums;
pub mod cors;
pub mod errors;
pub mod event_record;
pub mod input;
pub mod lifecycle;
pub mod lifecycle_timer;
pub mod multipart;
pub mod multipart_store;
pub mod ops_multipart;
pub mod notification_config;
pub mod notify;
pub mod ops_attributes;
pub mod ops_bucket_events;
pub mod ops_buckets;
pub mod ops_config;
pub mod ops_copy;
pub mod ops_list;
pub mod ops_objects;
pub mod ops_versions;
pub mod policies;
pub mod service;
pub mod service_events;
pub mod store;
pub mod store_events;
pub mod tags;

pub use service::S3Service;

#[cfg(test)]
mod codec_tests;

#[cfg(test)]
mod wire_tests;
