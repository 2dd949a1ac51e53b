//! The execute-api endpoint: `/_aws/execute-api/<api-id>/<stage>/<path>` (or
//! `/_aws/execute-api/<api-id>/<path>` when the API has a `$default` stage; or the same
//! without the prefix with `Host: <api-id>.execute-api.localhost`) picks the
//! API's route and runs its integration. Lambda proxy integrations run through
//! `FunctionInvoker`; their errors and malformed answers are AWS's 500
//! `{"message":"Internal Server Error"}`, a request no route matches is 404
//! `{"message":"Not Found"}`. A route's authorization (`authorize/`) runs before its
//! integration; integrations run in `integration.rs`; after each request on a stage the
//! stage's access log line is written (`access_log.rs`). WebSocket APIs' upgrades and
//! `@connections` requests go to `ws/`.

use crate::authorize::{AuthInput, Authorizers};
use crate::context::Facts;
use crate::cors::Cors;
use crate::integration::{self, Routed, Services};
use crate::throttle::{self, Throttle};
use crate::registry::{ApiDoc, Attrs, Registry};
use crate::routes::{self, RouteKey};
use crate::access_log;
use bytes::Bytes;
use crate::ws::WebSockets;
use nimbus_core::data_plane::{DataPlane, DataRequest, DataResponse, UpgradeAnswer};
use nimbus_core::internal::{EventPublisher, FunctionInvoker, LogSink, QueueSender};
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
    events: Arc<dyn EventPublisher>,
    logs: Arc<dyn LogSink>,
    clock: Clock,
    throttle: Throttle,
    authorizers: Arc<Authorizers>,
    /// WebSocket APIs (`ws/`): upgrades and the `@connections` API.
    ws: Arc<WebSockets>,
    /// The standard `AWS/ApiGateway` metrics (`metrics.rs`); a no-op until attached.
    metrics: nimbus_core::metrics::Metrics,
}

pub(crate) fn message(status: u16, text: &str, request_id: &str) -> DataResponse {
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

/// The path the client sent (and signed): without the prefix in the host form.
pub(crate) fn signed_path(req: &DataRequest, api_id: &str) -> String {
    let host = req.host.split(':').next().unwrap_or_default();
    let host_form = host.strip_suffix(HOST_SUFFIX).is_some_and(|name| name.eq_ignore_ascii_case(api_id));
    match req.path.strip_prefix(api_id) {
        Some(rest) if host_form => if rest.is_empty() { "/".to_string() } else { rest.to_string() },
        _ => format!("{PREFIX}{}", req.path),
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
    /// The gateway over `registry`'s APIs, reaching functions, queues, event buses and log
    /// groups through the other services.
    pub fn new(registry: Arc<Registry>, invoker: Arc<dyn FunctionInvoker>, queues: Arc<dyn QueueSender>, events: Arc<dyn EventPublisher>, logs: Arc<dyn LogSink>, clock: Clock) -> ExecuteApi {
        let authorizers = Arc::new(Authorizers::new(clock.clone(), invoker.clone()));
        let ws = Arc::new(WebSockets::new(registry.clone(), invoker.clone(), authorizers.clone(), clock.clone()));
        ExecuteApi { registry, invoker, queues, events, logs, clock, throttle: Throttle::default(), authorizers, ws, metrics: nimbus_core::metrics::Metrics::new() }
    }

    /// Where the standard `AWS/ApiGateway` metrics go (core's aggregator, `metrics.rs`).
    pub fn set_metrics(&self, hub: Arc<nimbus_core::metrics::MetricsHub>) {
        self.metrics.attach(hub);
    }

    /// The route authorization step (HTTP routes and WebSocket `$connect`); the binary sets
    /// its `AWS_IAM` verifier at start.
    pub fn authorizers(&self) -> &Authorizers {
        &self.authorizers
    }

    async fn serve(&self, mut req: DataRequest) -> DataResponse {
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
        let api_id = api_id.to_string();
        let started = std::time::Instant::now();
        let trace = crate::xray::StageTrace::begin(&mut req, self.clock.now_ms());
        let mut facts = self.facts(&req, &api_id, &account, &stage, &path, &rid);
        let mut out = self.run(&req, (&api_id, &account, &region), &doc, &stage, &path, rid.clone(), &mut facts, trace.downstream()).await;
        out.headers.push(("x-amzn-trace-id".into(), trace.response_header()));
        trace.finish(&req, &api_id, &stage, &rid, out.status, out.body.len(), self.clock.now_ms());
        if let Some(cors) = cors {
            cors.decorate(&req.headers, &mut out.headers);
        }
        let now = self.clock.now_ms();
        facts.status = Some(out.status);
        facts.response_length = Some(out.body.len());
        facts.response_latency_ms = Some(now.saturating_sub(facts.request_time_ms));
        crate::metrics::request(&self.metrics, &region, &facts, req.body.len(), started.elapsed().as_secs_f64() * 1000.0);
        if let Some(stage) = doc.stages.get(&stage) {
            access_log::write(self.logs.as_ref(), stage, &facts, now);
        }
        out
    }

    /// The `$context` facts known once the API and stage are.
    fn facts(&self, req: &DataRequest, api_id: &str, account: &str, stage: &str, path: &str, rid: &str) -> Facts {
        Facts {
            request_id: rid.to_string(),
            account_id: account.to_string(),
            api_id: api_id.to_string(),
            stage: stage.to_string(),
            http_method: req.method.clone(),
            path: if stage == "$default" { path.to_string() } else { format!("/{stage}{path}") },
            source_ip: req.source_ip.to_string(),
            user_agent: req.headers.get(http::header::USER_AGENT).and_then(|v| v.to_str().ok()).map(str::to_string),
            domain_name: req.host.clone(),
            request_time_ms: self.clock.now_ms(),
            ..Facts::default()
        }
    }

    /// The request's route and integration, after the API and stage are known.
    #[allow(clippy::too_many_arguments)]
    async fn run(&self, req: &DataRequest, (api_id, account, region): (&str, &str, &str), doc: &ApiDoc, stage: &str, path: &str, rid: String, facts: &mut Facts, trace: String) -> DataResponse {
        let not_found = |facts: &mut Facts| {
            facts.error_message = Some("Not Found".into());
            message(404, "Not Found", &rid)
        };
        let Some((route, params)) = pick_route(doc, &req.method, path) else { return not_found(facts) };
        let route_key = route.get("RouteKey").and_then(Value::as_str).unwrap_or("$default");
        facts.route_key = Some(route_key.to_string());
        if let Some(limits) = doc.stages.get(stage).and_then(|s| throttle::limits(s, route_key)) {
            let key = (api_id.to_string(), stage.to_string(), route_key.to_string());
            if !self.throttle.admit(key, limits, self.clock.now_ms()) {
                facts.error_message = Some("Too Many Requests".into());
                return message(429, "Too Many Requests", &rid);
            }
        }
        let stage_variables = doc.stages.get(stage).and_then(|s| s.get("StageVariables")).and_then(Value::as_object).cloned().unwrap_or_else(Map::new);
        let raw_path = if stage == "$default" { path.to_string() } else { format!("/{stage}{path}") };
        let signed_path = signed_path(req, api_id);
        let auth = AuthInput { req, api_id, account, region, stage, route_key, path, raw_path: &raw_path, signed_path: &signed_path, path_parameters: &params, stage_variables: &stage_variables, request_id: &rid };
        let granted = match self.authorizers.authorize(doc, route, &auth).await {
            Ok(granted) => granted,
            Err(refusal) => {
                let out = refusal.response(&rid);
                facts.error_message = serde_json::from_slice::<Value>(&out.body).ok().and_then(|v| v.get("message")?.as_str().map(str::to_string));
                return out;
            }
        };
        let integration = route.get("Target").and_then(Value::as_str).and_then(|t| t.strip_prefix("integrations/")).and_then(|id| doc.integrations.get(id));
        let Some(integration) = integration else { return not_found(facts) };
        let services = Services { invoker: self.invoker.as_ref(), queues: self.queues.as_ref(), events: self.events.as_ref(), clock: &self.clock };
        let routed = Routed { req, region, path, path_parameters: params, stage_variables, granted, trace };
        integration::run(&services, integration, &routed, facts).await
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
