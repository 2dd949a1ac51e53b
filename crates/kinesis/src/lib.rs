//! Amazon Kinesis Data Streams for nimbus (JSON 1.1, target prefix `Kinesis_20131202`).
//!
//! [`service`] (model, dispatch). The operations, the record store and the
//! `StreamSource` that Lambda's event source mappings read are being built (issue 18);
//! an operation not yet here answers "… is not supported by nimbus".

pub mod service;

pub use service::KinesisService;
