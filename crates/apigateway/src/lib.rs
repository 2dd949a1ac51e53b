//! nimbus-apigateway: Amazon API Gateway v2 HTTP and WebSocket APIs.
//!
//! `service.rs` (model, dispatch) → `ops_*.rs` (the control plane's operations) →
//! `registry.rs` (every API with its routes, integrations, stages and deployments in
//! memory, written through to `store.rs` before a call answers). `routes.rs` parses and
//! matches route keys; `data_plane.rs` serves `/_aws/execute-api/<api-id>/…` and invokes
//! Lambda proxy integrations through `FunctionInvoker` (`event.rs`: payload formats 2.0 and 1.0),
//! or AWS service integrations (`service_integration.rs`: SQS-SendMessage through `QueueSender`),
//! applying the API's CORS configuration (`cors.rs`) and the stage's throttling (`throttle.rs`).
//! WebSocket APIs' connections, routes and `@connections` API live in `ws/`; their route
//! and integration responses in `ops_responses.rs`.

pub mod cors;
pub mod data_plane;
pub mod errors;
pub mod event;
pub mod ops_apis;
pub mod ops_children;
pub mod ops_responses;
pub mod registry;
pub mod routes;
pub mod service;
pub mod service_integration;
pub mod store;
pub mod throttle;
pub mod ws;

pub use data_plane::ExecuteApi;
pub use service::ApiGatewayService;
