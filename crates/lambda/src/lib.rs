//! AWS Lambda for nimbus: functions run as native processes behind the real Runtime API.
//!
//! Layers: [`service`] (entry point, dispatch, registry) → [`ops_functions`] (control
//! plane) and [`invoke`] / [`async_invoke`] (data plane) → [`pool`] (which environment,
//! concurrency) → [`environment`] (one process and its logs) → [`runtime_api`] (the HTTP
//! API the process speaks). [`code`] keeps packages; [`store`] keeps state;
//! [`interpreters`] finds the host's Python / Node.js for each managed runtime; [`metrics`]
//! records the standard `AWS/Lambda` metrics.

pub mod api;
pub mod async_invoke;
pub mod code;
pub mod destination_bus;
pub mod environment;
pub mod errors;
pub mod esm;
pub mod esm_access;
pub mod esm_kinesis;
pub mod esm_stream;
pub mod esm_window;
pub mod filter;
pub mod function;
pub mod interpreters;
pub mod invoke;
pub mod metrics;
mod ops_functions;
pub mod pool;
pub mod runtime_api;
pub mod runtimes;
pub mod service;
pub mod store;
pub mod xray;

pub use service::{LambdaConfig, LambdaService};
