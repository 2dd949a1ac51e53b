//! Amazon CloudWatch Logs for nimbus: what Lambda needs to write and read function logs.
//!
//! Layers, top to bottom: [`service`] (the `AwsService` entry point: decodes typed input,
//! dispatches the operations), `ops_*` (one file per family of operations: validation and
//! response shapes), [`engine`] (groups, streams and events in memory, every change also
//! handed to the store), [`store`] (durable storage behind a trait). Beside them:
//! [`filter`] (filter patterns), [`tokens`] (pagination tokens), [`sink`] (the
//! `LogSink` other services write through), [`filters`] (metric and subscription
//! filters), [`deliver`] (what new events do through them: metric data through
//! `MetricSink`, `awslogs` batches to Lambda through `EventInvoker`), [`insights`]
//! (the Logs Insights query language; its operations in `ops_insights`),
//! `ops_policies` (account resource policies and destinations).

pub mod api;
pub mod engine;
pub mod errors;
pub mod deliver;
pub mod filter;
pub mod filters;
pub mod insights;
mod filter_json;
pub mod filter_regex;
mod filter_space;
mod filter_text;
pub mod names;
mod ops_events;
mod ops_filters;
mod ops_groups;
pub mod ops_insights;
mod ops_policies;
mod ops_streams;
mod ops_tags;
pub mod service;
pub mod sink;
pub mod store;
pub mod tokens;

pub use service::LogsService;
