//! nimbus-apigateway: Amazon API Gateway v2 HTTP and WebSocket APIs.
//!
//! `service.rs` (model, dispatch) → `ops_*.rs` (the control plane's operations) →
//! `registry.rs` (every API with its routes, integrations, stages and deployments in
//! memory, written through to `store.rs` before a call answers). `routes.rs` parses and
//! matches route keys; `data_plane.rs` serves `/_aws/execute-api/<api-id>/…` and invokes
//! Lambda proxy integrations through `FunctionInvoker` (`event.rs`: payload formats 2.0 and 1.0),
//! `HTTP_PROXY` integrations (`http_proxy.rs`), or AWS service integrations
//! (`service_integration.rs`: SQS-SendMessage / ReceiveMessage / DeleteMessage / PurgeQueue
//! through `QueueSender`) — `integration.rs` runs them with their timeout and parameter
//! mapping (`mapping.rs`) — applying the API's CORS configuration (`cors.rs`) and the
//! stage's throttling (`throttle.rs`), and writing the stage's access logs (`access_log.rs`,
//! from the request's `$context` facts in `context.rs`).
//! `ops_authorizers.rs` keeps JWT and Lambda REQUEST authorizers; `authorize/` enforces a
//! route's `JWT`, `CUSTOM` or `AWS_IAM` authorization on the data plane.
//! WebSocket APIs' connections, routes and `@connections` API live in `ws/`; their route
//! and integration responses in `ops_responses.rs`. `metrics.rs` records the standard
//! `AWS/ApiGateway` metrics of HTTP API requests.

pub mod access_log;
pub mod authorize;
pub mod context;
pub mod cors;
pub mod data_plane;
pub mod errors;
pub mod event;
pub mod http_proxy;
pub mod integration;
pub mod mapping;
pub mod metrics;
pub mod ops_apis;
pub mod ops_authorizers;
pub mod ops_children;
pub mod ops_responses;
pub mod registry;
pub mod routes;
pub mod service;
pub mod service_integration;
pub mod store;
pub mod throttle;
pub mod ws;
pub mod xray;

pub use data_plane::ExecuteApi;
pub use service::ApiGatewayService;
