//! Amazon S3 for nimbus (REST-XML). `service.rs` is the entry point the router calls;
//! `errors.rs` the S3 error codes with AWS's statuses and messages.

pub mod cors;
pub mod errors;
pub mod multipart;
pub mod multipart_store;
pub mod ops_multipart;
pub mod notify;
pub mod service;

pub use service::S3Service;

#[cfg(test)]
mod codec_tests;

#[cfg(test)]
mod wire_tests;
