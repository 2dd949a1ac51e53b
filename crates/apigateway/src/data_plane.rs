//! The execute-api endpoint: `/_aws/execute-api/<api-id>/<stage>/<path>` (or
//! `/_aws/execute-api/<api-id>/<path>` when the API has a `$default` stage; or the same
//! without the prefix with `Host: <api-id>.execute-api.localhost`) picks the
//! API's route and runs its integration. Lambda proxy integrations run through
//! `FunctionInvoker`; their errors and malformed answers are AWS's 500
//! `{"message":"Internal Server Error"}`, a request no route matches is 404
//! `{"message":"Not Found"}`. WebSocket APIs' upgrades and `@connections` requests go to
//! `ws/`.

use crate::cors::Cors;
use crate::event::{self, Incoming};
use crate::throttle::{self, Throttle};
use crate::registry::{ApiDoc, Attrs, Registry};
use crate::routes::{self, RouteKey};
use crate::service_integration::{self, Source};
use bytes::Bytes;
use nimbus_core::internal::{FunctionInvoker, QueueSender};
use crate::ws::WebSockets;
use nimbus_core::data_plane::{DataPlane, DataRequest, DataResponse, UpgradeAnswer};
use nimbus_core::service::BoxFuture;
use nimbus_core::Clock;
use serde_json::{json, Map, Value};
use std::collections::HashMap;
use std::sync::Arc;

pub const PREFIX: &str = "/_aws/execute-api/";
/// `Host: <api-id>.execute-api.localhost[:port]` serves the same paths without the prefix.
pub const HOST_SUFFIX: &str = ".execute-api.localhost";

pub struct ExecuteApi {
    registry: Arc<Registry>,
    invoker: Arc<dyn FunctionInvoker>,
    queues: Arc<dyn QueueSender>,
    clock: Clock,
    throttle: Throttle,
    /// WebSocket APIs (`ws/`): upgrades and the `@connections` API.
    ws: Arc<WebSockets>,
}

fn message(status: u16, text: &str, request_id: &str) -> DataResponse {
    DataResponse {
        status,
        headers: vec![("content-type".into(), "application/json".into()), ("apigw-requestid".into(), request_id.to_string())],
        body: Bytes::from(json!({ "message": text }).to_string()),
    }
}

/// `apigw-requestid`: 14 random letters and digits and a `=`, like AWS's.
fn request_id() -> String {
    const CHARS: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    let id: String = (0..14).map(|_| CHARS[rand::random::<usize>() % CHARS.len()] as char).collect();
    id + "="
}

/// The function ARN of an `AWS_PROXY` integration URI: a Lambda ARN, or the API Gateway
/// form `arn:aws:apigateway:<region>:lambda:path/2015-03-31/functions/<arn>/invocations`.
pub(crate) fn function_arn(uri: &str) -> &str {
    match uri.split_once("/functions/") {
        Some((_, rest)) => rest.strip_suffix("/invocations").unwrap_or(rest),
        None => uri,
    }
}

/// The stage a path (after the API id) names and the rest of the path: a named stage's
/// prefix, else the `$default` stage with the whole path.
fn stage_of(doc: &ApiDoc, path: &str) -> Option<(String, String)> {
    let (first, rest) = path.split_once('/').unwrap_or((path, ""));
    if !first.is_empty() && first != "$default" && doc.stages.contains_key(first) {
        return Some((first.to_string(), format!("/{rest}")));
    }
    doc.stages.contains_key("$default").then(|| ("$default".to_string(), format!("/{path}")))
}

/// The route for a request: the most specific `METHOD /path` match, else `$default`.
fn pick_route<'a>(doc: &'a ApiDoc, method: &str, path: &str) -> Option<(&'a Attrs, HashMap<String, String>)> {
    let mut best: Option<(routes::Rank, &Attrs, HashMap<String, String>)> = None;
    let mut default = None;
    for r in doc.routes.values() {
        let Some(key) = r.get("RouteKey").and_then(Value::as_str).and_then(|k| routes::parse(k).ok()) else { continue };
        if key == RouteKey::Default {
            default = Some(r);
            continue;
        }
        if let Some((rank, params)) = routes::matches(&key, method, path) {
            if best.as_ref().is_none_or(|(b, _, _)| rank > *b) {
                best = Some((rank, r, params));
            }
        }
    }
    best.map(|(_, r, p)| (r, p)).or_else(|| default.map(|r| (r, HashMap::new())))
}

impl ExecuteApi {
    pub fn new(registry: Arc<Registry>, invoker: Arc<dyn FunctionInvoker>, queues: Arc<dyn QueueSender>, clock: Clock) -> ExecuteApi {
        let ws = Arc::new(WebSockets::new(registry.clone(), invoker.clone(), clock.clone()));
        ExecuteApi { registry, invoker, queues, clock, throttle: Throttle::default(), ws }
    }

    async fn serve(&self, req: DataRequest) -> DataResponse {
        let rid = request_id();
        let not_found = || message(404, "Not Found", &rid);
        let (api_id, rest) = req.path.split_once('/').unwrap_or((req.path.as_str(), ""));
        let Some(((account, region), doc)) = self.registry.find(api_id) else { return not_found() };
        if doc.api.get("ProtocolType").and_then(Value::as_str) != Some("HTTP") {
            return self.ws.http(&req, api_id, &doc, rest, &rid);
        }
        let Some((stage, path)) = stage_of(&doc, rest) else { return not_found() };
        let cors = Cors::of(&doc.api);
        if let Some(cors) = cors.as_ref().filter(|_| Cors::is_preflight(&req.method, &req.headers)) {
            let mut headers = cors.preflight(&req.headers);
            headers.push(("apigw-requestid".into(), rid));
            return DataResponse { status: 204, headers, body: Bytes::new() };
        }
        let mut out = self.run(&req, (api_id, &account, &region), &doc, &stage, &path, rid).await;
        if let Some(cors) = cors {
            cors.decorate(&req.headers, &mut out.headers);
        }
        out
    }

    /// The request's route and integration, after the API and stage are known.
    async fn run(&self, req: &DataRequest, (api_id, account, region): (&str, &str, &str), doc: &ApiDoc, stage: &str, path: &str, rid: String) -> DataResponse {
        let not_found = || message(404, "Not Found", &rid);
        let Some((route, params)) = pick_route(doc, &req.method, path) else { return not_found() };
        let route_key = route.get("RouteKey").and_then(Value::as_str).unwrap_or("$default");
        if let Some(limits) = doc.stages.get(stage).and_then(|s| throttle::limits(s, route_key)) {
            let key = (api_id.to_string(), stage.to_string(), route_key.to_string());
            if !self.throttle.admit(key, limits, self.clock.now_ms()) {
                return message(429, "Too Many Requests", &rid);
            }
        }
        let integration = route.get("Target").and_then(Value::as_str).and_then(|t| t.strip_prefix("integrations/")).and_then(|id| doc.integrations.get(id));
        let Some(integration) = integration else { return not_found() };
        match integration.get("IntegrationType").and_then(Value::as_str) {
            Some("AWS_PROXY") => {}
            Some(other) => return message(500, &format!("{other} integrations are not supported by nimbus yet"), &rid),
            None => return message(500, "Internal Server Error", &rid),
        }
        let stage_variables = doc.stages.get(stage).and_then(|s| s.get("StageVariables")).and_then(Value::as_object).cloned().unwrap_or_else(Map::new);
        if let Some(subtype) = integration.get("IntegrationSubtype").and_then(Value::as_str) {
            let src = Source { body: &req.body, headers: &req.headers, query: &req.query, path_parameters: &params, stage_variables: &stage_variables, request_id: &rid };
            let mapped = integration.get("RequestParameters").and_then(Value::as_object).into_iter().flatten();
            let values = mapped.filter_map(|(k, v)| Some((k.clone(), service_integration::evaluate(v.as_str()?, &src)?))).collect();
            let answer = service_integration::call(self.queues.as_ref(), subtype, values, region, &rid).await;
            let mut out = message(answer.status, "", &rid);
            out.body = Bytes::from(answer.body.to_string());
            return out;
        }
        let v2 = integration.get("PayloadFormatVersion").and_then(Value::as_str) == Some("2.0");
        let uri = integration.get("IntegrationUri").and_then(Value::as_str).unwrap_or_default();
        let raw_path = if stage == "$default" { path.to_string() } else { format!("/{stage}{path}") };
        let incoming = Incoming {
            api_id,
            account_id: account,
            stage,
            route_key,
            method: &req.method,
            raw_path: &raw_path,
            raw_query: &req.query,
            headers: &req.headers,
            body: &req.body,
            host: &req.host,
            source_ip: req.source_ip.to_string(),
            path_parameters: params,
            stage_variables,
            request_id: &rid,
            now_ms: self.clock.now_ms(),
        };
        let event = if v2 { event::event_v2(&incoming) } else { event::event_v1(&incoming) };
        let payload = Bytes::from(event.to_string());
        let outcome = match self.invoker.invoke(function_arn(uri), payload).await {
            Ok(o) if !o.function_error => o,
            Ok(_) => return message(500, "Internal Server Error", &rid),
            Err(e) => {
                tracing::debug!(api = api_id, error = %e, "integration failed");
                return message(500, "Internal Server Error", &rid);
            }
        };
        let mapped = if v2 { event::response_v2(&outcome.payload) } else { event::response_v1(&outcome.payload) };
        match mapped {
            Some(m) => {
                let mut headers = m.headers;
                headers.push(("apigw-requestid".into(), rid));
                DataResponse { status: m.status, headers, body: m.body }
            }
            None => message(500, "Internal Server Error", &rid),
        }
    }
}

impl DataPlane for ExecuteApi {
    fn handle<'a>(&'a self, req: DataRequest) -> BoxFuture<'a, DataResponse> {
        Box::pin(self.serve(req))
    }

    /// WebSocket APIs take the connection; any other API answers the request as usual.
    fn upgrade<'a>(&'a self, req: DataRequest) -> BoxFuture<'a, UpgradeAnswer> {
        Box::pin(async move {
            match self.ws.upgrade(req).await {
                Ok(answer) => answer,
                Err(req) => UpgradeAnswer::Respond(self.serve(req).await),
            }
        })
    }
}
