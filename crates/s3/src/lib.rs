//! Amazon S3 for nimbus (REST-XML). `service.rs` is the entry point the router calls;
//! `errors.rs` the S3 error codes with AWS's statuses and messages; `notify.rs` delivers
//! object events per the bucket's `notification_config.rs` as `event_record.rs` shapes them.

pub mod cors;
pub mod errors;
pub mod event_record;
pub mod lifecycle;
pub mod lifecycle_timer;
pub mod notification_config;
pub mod multipart;
pub mod notify;
pub mod ops_bucket_events;
pub mod service;
pub mod service_events;

pub use service::S3Service;

#[cfg(test)]
mod codec_tests;

#[cfg(test)]
mod wire_tests;
