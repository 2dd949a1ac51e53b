//! AWS X-Ray for nimbus (REST-JSON, signing name `xray`): where every traced hop's
//! segments end up, and the API to read them back.
//!
//! [`service`] (model, dispatch, retention) → [`ops_traces`] (PutTraceSegments,
//! GetTraceSummaries, BatchGetTraces) / [`graph`] (GetServiceGraph, GetTraceGraph) /
//! [`sampling`] (sampling rules and targets) → [`recorder`] (one bounded channel into a
//! writer thread: core's `TraceSink`, PutTraceSegments and the daemon all write through
//! it) → [`store`] (`xray.db`: documents and per-trace summaries). [`segments`]: AWS's
//! checks on a segment document; [`summary`]: a trace's summary from its documents;
//! [`filter`]: filter expressions; [`daemon`]: the X-Ray daemon's UDP protocol; [`otlp`]:
//! export as OpenTelemetry spans.

pub mod daemon;
pub mod errors;
pub mod filter;
pub mod graph;
pub mod ops_traces;
pub mod otlp;
pub mod recorder;
pub mod sampling;
pub mod segments;
pub mod service;
pub mod store;
pub mod summary;

pub use service::XrayService;
