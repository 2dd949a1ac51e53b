//! Amazon DynamoDB and DynamoDB Streams for nimbus.
//!
//! Layers, top to bottom: [`service`] (the two `AwsService`s: decode typed input,
//! dispatch), `ops_*` (one file per family of operations: validation and response
//! shapes), [`write`] (one item write: decode, condition, update, limits), [`engine`]
//! (table registry and the shared write path: memory, durable batch, stream record),
//! [`table`] (one table: items, indexes, TTL index), [`streams`] (records, iterators,
//! notification), [`ttl`] (the expiry sweeper), [`store`] (durable storage behind a
//! trait), [`metrics`] (the standard `AWS/DynamoDB` metrics). The data language (attribute values, expressions) is `nimbus-dynamodb-expr`.

pub mod api;
pub mod backups;
pub mod capacity;
pub mod engine;
pub mod errors;
pub mod exprs;
pub mod iam_keys;
pub mod keys;
pub mod kinesis_dest;
pub mod metrics;
mod legacy;
mod ops_backups;
mod ops_batch;
mod ops_insights;
mod ops_items;
mod ops_pitr;
mod ops_read;
mod ops_streams;
mod ops_tables;
mod ops_transact;
pub mod partiql;
pub mod schema;
pub mod service;
mod source;
pub mod store;
pub mod streams;
pub mod table;
mod tags;
pub mod time;
pub mod ttl;
pub mod write;

pub use service::{DynamoDbService, StreamsService};
