//! Amazon EventBridge (JSON 1.1, target prefix `AWSEvents`): event buses, PutEvents,
//! rules (event patterns on the shared `nimbus-event-pattern` engine, schedules on
//! nimbus's clock), targets (SQS incl. FIFO, Lambda's asynchronous invoke) with
//! `Input` / `InputPath` / `InputTransformer`, retries and SQS dead-letter queues.
//! Configuration (buses, rules with their targets) is durable in core's document table.
//! `api_calls.rs` turns nimbus's own write API calls into CloudTrail-style events;
//! `metrics.rs` records the standard `AWS/Events` metrics.

pub mod api_calls;
pub mod archives;
pub mod errors;
pub mod metrics;
pub mod registry;
pub mod replays;
pub mod service;
pub mod store;
pub mod transform;

mod deliver;
mod names;
mod ops_archives;
mod ops_buses;
mod ops_events;
mod ops_rules;
mod ops_tags;
mod ops_targets;
mod timer;

pub use service::{EventsService, Targets};
