//! WebSocket APIs' data plane ("Working with WebSocket APIs" in the API Gateway developer
//! guide): clients connect with a WebSocket upgrade to `<endpoint>/<stage>` — by path
//! (`/_aws/execute-api/<api-id>/<stage>`) or by host (`<api-id>.execute-api.localhost`) —
//! and the `@connections` API is served under the same stage.
//!
//! `handshake.rs` (upgrade, `$connect`) → `session.rs` (one connection's frames, limits,
//! timeouts, `$disconnect`) with `selection.rs` (RouteSelectionExpression), `invoke.rs`
//! (integrations through `FunctionInvoker`) and `event.rs` (the Lambda events);
//! `connections.rs` (the live connections) and `management.rs` (`@connections`).

mod connections;
mod event;
mod handshake;
mod invoke;
mod management;
mod selection;
mod session;

use crate::authorize::Authorizers;
use crate::registry::{ApiDoc, Registry};
use bytes::Bytes;
use connections::Connections;
use nimbus_core::data_plane::{DataRequest, DataResponse, UpgradeAnswer};
use nimbus_core::internal::FunctionInvoker;
use nimbus_core::Clock;
use serde_json::{json, Value};
use std::sync::Arc;

/// AWS's limits for WebSocket APIs ("Quotas for configuring and running a WebSocket API").
pub const MAX_FRAME: usize = 32 * 1024;
pub const MAX_MESSAGE: usize = 128 * 1024;
pub const IDLE_MS: u64 = 10 * 60 * 1000;
pub const LIFETIME_MS: u64 = 2 * 60 * 60 * 1000;

/// What every connection shares: the APIs, the functions, the clock, the live connections.
pub struct WebSockets {
    registry: Arc<Registry>,
    invoker: Arc<dyn FunctionInvoker>,
    /// `$connect`'s authorization (the same step as HTTP routes').
    authorizers: Arc<Authorizers>,
    clock: Clock,
    connections: Connections,
}

/// An id like AWS's connection, request and message ids (`L0SM9cOFvHcCIhw=`): 15 letters
/// and digits, then `=`.
pub fn aws_id() -> String {
    const CHARS: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    let id: String = (0..15).map(|_| CHARS[rand::random::<usize>() % CHARS.len()] as char).collect();
    id + "="
}

fn json_message(status: u16, message: &str) -> DataResponse {
    DataResponse {
        status,
        headers: vec![("content-type".into(), "application/json".into())],
        body: Bytes::from(json!({ "message": message }).to_string()),
    }
}

/// What API Gateway answers a request a WebSocket API does not serve (an unknown stage,
/// path or method): 403 `{"message":"Forbidden"}`, typed for the SDKs' management client.
fn forbidden() -> DataResponse {
    let mut out = json_message(403, "Forbidden");
    out.headers.push(("x-amzn-errortype".into(), "ForbiddenException".into()));
    out
}

fn is_websocket(doc: &ApiDoc) -> bool {
    doc.api.get("ProtocolType").and_then(Value::as_str) == Some("WEBSOCKET")
}

/// The stage a path (after the API id) names and the rest of it: a named stage first,
/// else the `$default` stage with the whole path.
fn stage_of(doc: &ApiDoc, path: &str) -> Option<(String, String)> {
    let (first, rest) = path.split_once('/').unwrap_or((path, ""));
    if !first.is_empty() && first != "$default" && doc.stages.contains_key(first) {
        return Some((first.to_string(), rest.to_string()));
    }
    doc.stages.contains_key("$default").then(|| ("$default".to_string(), path.to_string()))
}

impl WebSockets {
    pub fn new(registry: Arc<Registry>, invoker: Arc<dyn FunctionInvoker>, authorizers: Arc<Authorizers>, clock: Clock) -> WebSockets {
        WebSockets { registry, invoker, authorizers, clock, connections: Connections::default() }
    }

    /// An upgrade request. `Err` gives it back when it is no WebSocket handshake or its
    /// path names no WebSocket API (answered as a plain request).
    pub async fn upgrade(self: &Arc<Self>, req: DataRequest) -> Result<UpgradeAnswer, DataRequest> {
        let websocket = req.headers.get(http::header::UPGRADE).and_then(|v| v.to_str().ok()).is_some_and(|u| u.eq_ignore_ascii_case("websocket"));
        if !websocket {
            return Err(req);
        }
        let (api_id, rest) = req.path.split_once('/').unwrap_or((req.path.as_str(), ""));
        let Some((scope, doc)) = self.registry.find(api_id).filter(|(_, d)| is_websocket(d)) else { return Err(req) };
        let (api_id, rest) = (api_id.to_string(), rest.to_string());
        let Some((stage, after)) = stage_of(&doc, &rest) else { return Ok(UpgradeAnswer::Respond(forbidden())) };
        if !after.trim_matches('/').is_empty() {
            return Ok(UpgradeAnswer::Respond(forbidden()));
        }
        Ok(handshake::upgrade(self, req, (&api_id, &scope.0, &scope.1), &doc, stage).await)
    }

    /// A plain HTTP request to a WebSocket API (`rest`: the path after the API id): the
    /// `@connections` API under a stage, else 403 Forbidden.
    pub fn http(&self, req: &DataRequest, api_id: &str, doc: &ApiDoc, rest: &str, request_id: &str) -> DataResponse {
        let Some((_stage, after)) = stage_of(doc, rest) else { return forbidden() };
        match management::connection_id(&after) {
            Some(id) => management::handle(self, req, api_id, &id, request_id),
            None => forbidden(),
        }
    }
}
