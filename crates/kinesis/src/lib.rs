//! Amazon Kinesis Data Streams for nimbus (JSON 1.1, target prefix `Kinesis_20131202`).
//!
//! [`service`] (model, registry, dispatch) → `ops_streams` (create, describe, list,
//! shards, limits), `ops_records` (put, iterators, get), `retention`, `ops_tags`,
//! `ops_encryption`, `ops_policies`, `reshard`, `consumers`, `subscribe` (SubscribeToShard's event stream) → [`stream`] (a stream's description and
//! working state) and [`store`] (`kinesis.db`: descriptions and records). [`keys`] holds
//! hash keys and sequence numbers, [`iterator`] shard iterators, [`limits`] per-shard
//! throughput. [`source`] is Kinesis as Lambda (`StreamSource`) and other services
//! (`RecordSink`) use it; [`authorization`] as IAM reads it (`ResourcePolicies`).

pub mod account;
pub mod authorization;
pub mod consumers;
pub mod errors;
pub mod iterator;
pub mod keys;
pub mod limits;
pub mod ops_encryption;
pub mod ops_policies;
pub mod ops_records;
pub mod ops_streams;
pub mod ops_tags;
pub mod reshard;
pub mod retention;
pub mod service;
pub mod source;
pub mod store;
pub mod subscribe;
pub mod stream;

pub use service::KinesisService;
