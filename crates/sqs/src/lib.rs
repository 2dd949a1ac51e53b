//! Amazon SQS for nimbus.
//!
//! Layers, top to bottom: [`service`] (the `AwsService` entry point: decodes typed input,
//! dispatches the 23 operations), `ops_*` (one file per family of operations: validation
//! and response shapes), [`engine`] (queue registry, durability, long-poll waiting,
//! dead-lettering), [`queue`] (one queue's state machine), [`store`] (durable storage
//! behind a trait); [`metrics`] the standard `AWS/SQS` metrics.

pub mod api;
pub mod arn;
pub mod attributes;
pub mod engine;
pub mod errors;
pub mod message;
pub mod metrics;
pub mod move_tasks;
mod ops_messages;
mod ops_queues;
pub mod queue;
pub mod receipt;
pub mod service;
mod source;
pub mod store;

pub use service::SqsService;
