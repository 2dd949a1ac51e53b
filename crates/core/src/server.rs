//! The HTTP front door: one port for every service.
//!
//! A request is routed by what AWS clients put on it — `X-Amz-Target` (JSON protocols),
//! the query `Action` (form POST or GET), the SigV4 credential scope's service name where
//! that is ambiguous — then decoded by the protocol codec, run by the service, and encoded
//! back. Internal endpoints live under `/_nimbus/` (and `/_localstack/health`); data
//! planes the binary registers (`DataPlane`: API Gateway's `/_aws/execute-api/`) get their
//! prefix's requests, unsigned and protocol-free, before AWS routing (`data_plane.rs`),
//! including protocol upgrades (WebSocket), whose connection the plane then takes over.
//! Also here, for every service: request bodies in `Content-Encoding: gzip`/`deflate`,
//! the JSON protocol's type check (SerializationException), response compression for
//! services that compress (DynamoDB), `GET /` health lines, CORS headers and preflights,
//! and the bound on request-line and header size.
//! Authentication (`--auth`, see `authn.rs`) runs once a request's service and operation
//! are known, before its input is decoded; its errors take the service's protocol shape.

use crate::auth::{self, Caller};
use crate::authn::Authenticator;
use crate::sigv4::SignableRequest;
use crate::clock::Clock;
use crate::context::RequestContext;
use crate::error::AwsError;
use crate::model::{Protocol, ServiceModel};
use crate::compression;
pub use crate::data_plane::{DataPlane, DataRequest, DataResponse};
use crate::data_plane::UpgradeAnswer;
use crate::protocol::{json, json_cbor, json_types, query, rest_json, rpc_v2_cbor, WireResponse};
use crate::service::AwsService;
use bytes::Bytes;
use http::{HeaderMap, HeaderName, HeaderValue, Method, Request, Response, StatusCode};
use http_body_util::{BodyExt, Either, Full, Limited};
use hyper::body::Incoming;
use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Instant;
use tokio::net::TcpListener;
use tokio::sync::watch;

/// A response body: whole (every service) or streamed (S3 objects).
pub type Body = Either<Full<Bytes>, crate::service::BodyStream>;

/// Largest request body accepted (SQS batches are ≤ 1 MiB of payload; base64 inflates).
pub(crate) const MAX_BODY: usize = 16 * 1024 * 1024;

/// Largest request line plus headers read (hyper answers 431 beyond it).
const MAX_HEAD_BYTES: usize = 64 * 1024;

pub struct Router {
    pub(crate) services: Vec<Arc<dyn AwsService>>,
    pub(crate) by_target_prefix: HashMap<String, usize>,
    by_signing_name: HashMap<String, usize>,
    /// REST services' routes, by service index.
    pub(crate) rest: Vec<(usize, rest_json::Routes)>,
    /// The REST-XML service (S3) and its routes: requests addressed to a bucket go there
    /// (`server_rest_xml.rs`).
    pub(crate) rest_xml: Option<(usize, crate::protocol::rest_xml::Routes)>,
    pub(crate) clock: Clock,
    allow_clock_control: bool,
    pub(crate) auth: Authenticator,
    authorizer: Option<Arc<dyn crate::internal::Authorizer>>,
    /// Told of each finished request it wants (CloudTrail-style API call events).
    pub(crate) api_calls: Option<Arc<dyn crate::internal::ApiCallRecorder>>,
    /// Data planes by path prefix (`/_aws/execute-api/`), tried before AWS routing.
    data_planes: Vec<(&'static str, Arc<dyn DataPlane>)>,
    /// Data planes by host-name suffix (`.execute-api.localhost`): `Host: <id><suffix>[:port]`
    /// sends `<id><path>` to the plane, tried before the path prefixes.
    host_data_planes: Vec<(&'static str, Arc<dyn DataPlane>)>,
}

impl Router {
    pub fn new(clock: Clock, allow_clock_control: bool) -> Self {
        Router {
            services: Vec::new(),
            by_target_prefix: HashMap::new(),
            by_signing_name: HashMap::new(),
            rest: Vec::new(),
            rest_xml: None,
            clock,
            allow_clock_control,
            auth: Authenticator::open(),
            authorizer: None,
            api_calls: None,
            data_planes: Vec::new(),
            host_data_planes: Vec::new(),
        }
    }

    /// Sets the authentication mode and the keys it knows (default: open, none known).
    pub fn set_auth(&mut self, auth: Authenticator) {
        self.auth = auth;
    }

    /// Authorizes every decoded request before the service runs it (`--auth iam`).
    pub fn set_authorizer(&mut self, authorizer: Arc<dyn crate::internal::Authorizer>) {
        self.authorizer = Some(authorizer);
    }

    /// Tells `recorder` of every finished request it wants.
    pub fn set_api_call_recorder(&mut self, recorder: Arc<dyn crate::internal::ApiCallRecorder>) {
        self.api_calls = Some(recorder);
    }

    /// Runs an authorized request on its service, and tells the API-call recorder of it
    /// (the input is copied only for requests the recorder wants).
    pub(crate) async fn run(&self, service: &Arc<dyn AwsService>, ctx: &RequestContext, signing_name: &str, op: &str, input: serde_json::Value) -> Result<serde_json::Value, AwsError> {
        // An operation that starts a trace on AWS (Lambda's Invoke) gets one here when the
        // caller sent none; the context is copied only then.
        let started_trace;
        let ctx = if ctx.trace.is_none() && service.starts_trace(op) {
            let mut c = ctx.clone();
            c.start_trace(self.clock.now_ms());
            started_trace = c;
            &started_trace
        } else {
            ctx
        };
        let segment = ctx.segment_id.as_ref().map(|_| (self.clock.now_ms(), crate::trace_segments::resources(&input)));
        let result = match self.api_calls.as_ref().filter(|r| r.wants(signing_name, op)) {
            None => service.call(ctx, op, input).await,
            Some(recorder) => {
                let kept = input.clone();
                let result = service.call(ctx, op, input).await;
                recorder.record(crate::internal::ApiCall { ctx, service: signing_name, operation: op, input: &kept, outcome: result.as_ref() });
                result
            }
        };
        if let Some((start_ms, resources)) = segment {
            crate::trace_segments::record_call(ctx, signing_name, op, start_ms, self.clock.now_ms(), resources, result.as_ref().err());
        }
        result
    }

    /// A decoded request of a protocol that names the operation outside its body (JSON
    /// 1.0/1.1, RPC v2 CBOR): checked against the operation's input shape, authorized, run;
    /// the answer or the error written by the protocol's `ok` / `error`.
    #[allow(clippy::too_many_arguments)]
    async fn answer_decoded(
        &self,
        service: &Arc<dyn AwsService>,
        ctx: &RequestContext,
        op: &str,
        input_shape: Option<&str>,
        decoded: Result<serde_json::Value, AwsError>,
        ok: impl FnOnce(&serde_json::Value) -> WireResponse,
        error: impl Fn(&AwsError) -> WireResponse,
    ) -> WireResponse {
        let model = service.model();
        let checked = decoded.and_then(|input| match input_shape {
            Some(shape) => json_types::check(model, shape, &input).map(|_| input),
            None => Ok(input),
        });
        match checked.and_then(|input| self.authorized(ctx, &model.signing_name, op, &input).map(|_| input)) {
            Ok(input) => match self.run(service, ctx, &model.signing_name, op, input).await {
                Ok(out) => ok(&out),
                Err(e) => error(&e),
            },
            Err(e) => error(&e),
        }
    }

    /// The authorizer's decision on a decoded request (always allowed without one).
    pub(crate) fn authorized(&self, ctx: &RequestContext, service: &str, operation: &str, input: &serde_json::Value) -> Result<(), AwsError> {
        match &self.authorizer {
            Some(a) => a.authorize(ctx, service, operation, input),
            None => Ok(()),
        }
    }

    /// Runs the authentication check for a request to `service` / `operation`.
    pub(crate) fn authenticate(&self, parts: &http::request::Parts, raw_body: &[u8], service: &str, operation: &str, ctx: &mut RequestContext) -> Result<(), AwsError> {
        let req = SignableRequest {
            method: parts.method.as_str(),
            path: parts.uri.path(),
            query: parts.uri.query().unwrap_or(""),
            headers: &parts.headers,
            body: raw_body,
            body_streamed: false,
        };
        self.auth.check(&req, service, operation, &self.clock, ctx)
    }

    /// The services registered so far (the web console reads through them).
    pub fn services(&self) -> Vec<Arc<dyn AwsService>> {
        self.services.clone()
    }

    /// Sends every request whose path starts with `prefix` to `plane`.
    pub fn add_data_plane(&mut self, prefix: &'static str, plane: Arc<dyn DataPlane>) {
        self.data_planes.push((prefix, plane));
    }

    /// Sends every request whose `Host` is `<name><suffix>` (any port) to `plane`, with the
    /// path `<name><path>` — the same as `<prefix><name><path>` by path.
    pub fn add_host_data_plane(&mut self, suffix: &'static str, plane: Arc<dyn DataPlane>) {
        self.host_data_planes.push((suffix, plane));
    }

    /// The data plane a request goes to and the path it sees: by `Host` suffix first (checked
    /// without allocating), then by path prefix.
    fn data_plane_for(&self, headers: &HeaderMap, uri: &http::Uri) -> Option<(&Arc<dyn DataPlane>, String)> {
        let path = uri.path();
        if let Some(host) = headers.get(http::header::HOST).and_then(|h| h.to_str().ok()) {
            for (suffix, plane) in &self.host_data_planes {
                if let Some(name) = host_name_before(host, suffix) {
                    return Some((plane, format!("{name}{path}")));
                }
            }
        }
        let (prefix, plane) = self.data_planes.iter().find(|(p, _)| path.starts_with(p))?;
        Some((plane, path[prefix.len()..].to_string()))
    }

    /// A data plane's request: the plane answers everything itself (CORS included). An
    /// upgrade request (`Connection: upgrade`) goes to the plane's `upgrade`, which may
    /// switch protocols and take the connection over.
    async fn to_data_plane(&self, mut req: Request<Incoming>, plane: &Arc<dyn DataPlane>, rest: String, peer: std::net::IpAddr) -> Response<Full<Bytes>> {
        let switched = crate::data_plane::is_upgrade(req.headers()).then(|| hyper::upgrade::on(&mut req));
        let (parts, body) = req.into_parts();
        let body = match Limited::new(body, MAX_BODY).collect().await {
            Ok(b) => b.to_bytes(),
            Err(_) => return plain(StatusCode::PAYLOAD_TOO_LARGE, "request body too large"),
        };
        let req = data_request(&parts, rest, body, peer);
        let Some(switched) = switched else { return data_response(plane.handle(req).await) };
        match plane.upgrade(req).await {
            UpgradeAnswer::Respond(out) => data_response(out),
            UpgradeAnswer::Switch { response, then } => {
                tokio::spawn(async move {
                    match switched.await {
                        Ok(io) => then(Some(hyper_util::rt::TokioIo::new(io))).await,
                        Err(e) => {
                            tracing::debug!(error = %e, "protocol switch failed");
                            then(None).await
                        }
                    }
                });
                data_response(response)
            }
        }
    }

    pub fn register(&mut self, service: Arc<dyn AwsService>) {
        let idx = self.services.len();
        let model = service.model();
        if let Some(p) = &model.target_prefix {
            self.by_target_prefix.insert(p.clone(), idx);
        }
        self.by_signing_name.insert(model.signing_name.clone(), idx);
        if model.protocols.contains(&Protocol::RestJson) {
            self.rest.push((idx, rest_json::Routes::new(model)));
        }
        if model.protocols.contains(&Protocol::RestXml) {
            self.rest_xml = Some((idx, crate::protocol::rest_xml::Routes::new(model)));
        }
        self.services.push(service);
    }

    pub(crate) fn caller(headers: &HeaderMap, params: Option<&query::Params>) -> Caller {
        headers
            .get(http::header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(auth::from_authorization_header)
            .or_else(|| params.and_then(|p| p.get("X-Amz-Credential")).and_then(|c| auth::from_query_credential(c)))
            .unwrap_or_default()
    }

    /// Picks the service for a query request: the credential scope's service if we serve
    /// it, else the one service whose model has the action.
    fn query_service(&self, scope_service: Option<&str>, action: &str) -> Option<&Arc<dyn AwsService>> {
        if let Some(i) = scope_service.and_then(|s| self.by_signing_name.get(s)) {
            return Some(&self.services[*i]);
        }
        self.services
            .iter()
            .find(|s| s.model().protocols.contains(&Protocol::Query) && s.model().operations.contains_key(action))
    }

    /// One request: a CORS preflight is answered here; every other response carries the
    /// CORS headers when the request came from a browser (it has `Origin`).
    async fn handle(&self, req: Request<Incoming>, peer: std::net::IpAddr) -> Response<Body> {
        if let Some((plane, rest)) = self.data_plane_for(req.headers(), req.uri()) {
            return self.to_data_plane(req, plane, rest, peer).await.map(Either::Left);
        }
        if let Some(path) = self.rest_xml_path(req.headers(), req.uri(), req.method()) {
            return self.route_rest_xml(req, peer, path).await;
        }
        if let Some((service, op)) = self.json_event_stream(req.headers()) {
            return self.route_json_event_stream(req, peer, service, op).await;
        }
        let from_browser = req.headers().contains_key(http::header::ORIGIN);
        if from_browser && req.method() == Method::OPTIONS {
            return cors::preflight(req.headers()).map(Either::Left);
        }
        let mut response = self.route(req, peer).await.map(Either::Left);
        if from_browser {
            cors::decorate(response.headers_mut());
        }
        response
    }

    async fn route(&self, req: Request<Incoming>, peer: std::net::IpAddr) -> Response<Full<Bytes>> {
        let started = Instant::now();
        let (parts, body) = req.into_parts();
        let path = parts.uri.path().to_string();
        if path.starts_with("/_nimbus/") || path.starts_with("/_localstack/") {
            return self.internal(&parts.method, &path, parts.uri.query().unwrap_or(""));
        }
        let body = match Limited::new(body, MAX_BODY).collect().await {
            Ok(b) => b.to_bytes(),
            Err(_) => {
                return plain(StatusCode::PAYLOAD_TOO_LARGE, "request body too large");
            }
        };
        // The signature covers the body as sent (compressed or not).
        let raw_body = body.clone();
        let encoding = parts.headers.get(http::header::CONTENT_ENCODING).and_then(|v| v.to_str().ok());
        let body = match compression::decode_request(encoding, body, MAX_BODY) {
            Ok(b) => b,
            Err(compression::DecodeError::TooLarge) => return plain(StatusCode::PAYLOAD_TOO_LARGE, "request body too large"),
            Err(e) => return plain_owned(StatusCode::BAD_REQUEST, e.to_string()),
        };
        let host = parts.headers.get(http::header::HOST).and_then(|h| h.to_str().ok()).unwrap_or("localhost:4566").to_string();
        let trace_id = parts.headers.get("x-amzn-trace-id").and_then(|v| v.to_str().ok()).map(str::to_string);

        // Smithy RPC v2 CBOR: the path names service and operation.
        let rpc_v2 = parts.headers.get(rpc_v2_cbor::PROTOCOL_HEADER).is_some_and(|v| v.as_bytes() == rpc_v2_cbor::PROTOCOL_NAME.as_bytes());
        if let Some((target, op)) = rpc_v2.then(|| rpc_v2_cbor::parse_path(&path)).flatten() {
            let caller = Self::caller(&parts.headers, None);
            let mut ctx = RequestContext::new(caller, host, path.clone());
            ctx.set_trace_header(trace_id);
            ctx.source_ip = Some(peer);
            ctx.protocol = Protocol::RpcV2Cbor;
            let service = self.by_target_prefix.get(target).map(|i| &self.services[*i]).filter(|s| s.model().protocols.contains(&Protocol::RpcV2Cbor));
            let Some(service) = service else {
                let err = AwsError::unknown_operation(&format!("{target}.{op}"));
                return finish(&ctx, "unknown", op, started, error_without_model(&err, &ctx.request_id));
            };
            let model = service.model();
            if let Err(e) = self.authenticate(&parts, &raw_body, &model.signing_name, op, &mut ctx) {
                return finish(&ctx, &model.signing_name, op, started, rpc_v2_cbor::encode_error(model, &e));
            }
            let wire = match model.operations.get(op) {
                None => rpc_v2_cbor::encode_error(model, &AwsError::unknown_operation(&format!("{target}.{op}"))),
                Some(operation) => {
                    let (input, output) = (operation.input.as_deref(), operation.output.as_deref());
                    let decoded = rpc_v2_cbor::decode(model, input, &body);
                    self.answer_decoded(service, &ctx, op, input, decoded, |out| rpc_v2_cbor::encode_ok(model, output, out), |e| rpc_v2_cbor::encode_error(model, e)).await
                }
            };
            return finish(&ctx, &model.signing_name, op, started, wire);
        }

        // JSON protocols: X-Amz-Target names service and operation.
        if let Some(target) = parts.headers.get("x-amz-target").and_then(|v| v.to_str().ok()) {
            let caller = Self::caller(&parts.headers, None);
            let mut ctx = RequestContext::new(caller, host, path);
            ctx.set_trace_header(trace_id);
            ctx.source_ip = Some(peer);
            let (prefix, op) = target.rsplit_once('.').unwrap_or((target, ""));
            let Some(service) = self.by_target_prefix.get(prefix).map(|i| &self.services[*i]) else {
                let err = AwsError::unknown_operation(target);
                return finish(&ctx, "unknown", op, started, error_without_model(&err, &ctx.request_id));
            };
            let model = service.model();
            if let Err(e) = self.authenticate(&parts, &raw_body, &model.signing_name, op, &mut ctx) {
                return finish(&ctx, &model.signing_name, op, started, json::encode_error(model, &e));
            }
            let mut wire = match model.operations.get(op) {
                None => json::encode_error(model, &AwsError::unknown_operation(target)),
                // AWS CBOR: the same operation with CBOR bodies (the Java SDKs' Kinesis).
                Some(operation) if json_cbor::is_cbor(&parts.headers) => {
                    let (input, output) = (operation.input.as_deref(), operation.output.as_deref());
                    let decoded = json_cbor::decode(model, input, &body);
                    self.answer_decoded(service, &ctx, op, input, decoded, |out| json_cbor::encode_ok(model, output, out), |e| json_cbor::encode_error(model, e)).await
                }
                Some(operation) => {
                    let decoded = json::decode(&body);
                    self.answer_decoded(service, &ctx, op, operation.input.as_deref(), decoded, |out| json::encode_ok(model, out), |e| json::encode_error(model, e)).await
                }
            };
            if service.compresses_responses() {
                compress_response(&parts.headers, &mut wire);
            }
            // The checksum covers the body as sent (compressed or not), as AWS computes it.
            if service.checksums_responses() {
                wire.headers.push(("x-amz-crc32".to_string(), crc32fast::hash(&wire.body).to_string()));
            }
            return finish(&ctx, &model.signing_name, op, started, wire);
        }

        // Query protocol: form POST or GET with Action.
        let mut params = query::parse_form(parts.uri.query().unwrap_or("").as_bytes());
        let is_form = parts
            .headers
            .get(http::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .map(|ct| ct.starts_with("application/x-www-form-urlencoded"))
            .unwrap_or(false);
        if parts.method == Method::POST && is_form {
            params.extend(query::parse_form(&body));
        }
        let caller = Self::caller(&parts.headers, Some(&params));
        let scope_service = caller.service.clone();
        let mut ctx = RequestContext::new(caller, host, path);
        ctx.set_trace_header(trace_id);
        ctx.source_ip = Some(peer);
        if let Some(action) = params.get("Action").cloned() {
            ctx.protocol = Protocol::Query;
            let Some(service) = self.query_service(scope_service.as_deref(), &action) else {
                let err = AwsError::invalid_action(&action);
                return finish(&ctx, "unknown", &action, started, error_without_model(&err, &ctx.request_id));
            };
            let model = service.model();
            // Query services answer JSON instead of XML when the client asks for it.
            let json = parts.headers.get(http::header::ACCEPT).and_then(|v| v.to_str().ok()).is_some_and(|a| a.contains("application/json"));
            if let Err(e) = self.authenticate(&parts, &raw_body, &model.signing_name, &action, &mut ctx) {
                let wire = if json { query::encode_error_json(&e, &ctx.request_id) } else { query::encode_error(model, &e, &ctx.request_id) };
                return finish(&ctx, &model.signing_name, &action, started, wire);
            }
            let encode_error = |e: &AwsError| if json { query::encode_error_json(e, &ctx.request_id) } else { query::encode_error(model, e, &ctx.request_id) };
            let wire = match model.operations.get(&action) {
                None => encode_error(&service.unknown_action(&action)),
                Some(op) => match query::decode_input(model, op.input.as_deref(), &params) {
                    Ok(mut input) => {
                        service.adapt_query_input(&ctx, &action, &mut input);
                        if let Err(e) = self.authorized(&ctx, &model.signing_name, &action, &input) {
                            return finish(&ctx, &model.signing_name, &action, started, encode_error(&e));
                        }
                        match self.run(service, &ctx, &model.signing_name, &action, input).await {
                            Ok(out) if json => query::encode_ok_json(model, &action, &out, &ctx.request_id),
                            Ok(out) => query::encode_ok(model, &action, &out, &ctx.request_id),
                            Err(e) => encode_error(&e),
                        }
                    }
                    Err(e) => encode_error(&e),
                },
            };
            return finish(&ctx, &model.signing_name, &action, started, wire);
        }

        // `GET /` with no action: the endpoint's health line (DynamoDB answers one).
        if (parts.method == Method::GET || parts.method == Method::HEAD) && ctx.path == "/" {
            if let Some(line) = self.services.iter().find_map(|s| s.root_health_line(&ctx.region)) {
                let mut wire = WireResponse { status: 200, content_type: "text/plain", headers: Vec::new(), body: Bytes::from(line) };
                if parts.method == Method::HEAD {
                    wire.body = Bytes::new();
                }
                return finish(&ctx, "health", "GET /", started, wire);
            }
        }

        // REST protocols: the credential scope's service first, then any that has a route.
        let query_pairs: Vec<(String, String)> = form_urlencoded::parse(parts.uri.query().unwrap_or("").as_bytes()).into_owned().collect();
        let preferred = scope_service.as_deref().and_then(|s| self.by_signing_name.get(s)).copied();
        let mut candidates: Vec<&(usize, rest_json::Routes)> = self.rest.iter().filter(|(i, _)| Some(*i) == preferred).collect();
        candidates.extend(self.rest.iter().filter(|(i, _)| Some(*i) != preferred));
        ctx.protocol = Protocol::RestJson;
        for (idx, routes) in candidates {
            if let Some((op, labels)) = routes.find(parts.method.as_str(), &ctx.path, &query_pairs) {
                let service = &self.services[*idx];
                let model = service.model();
                if let Err(e) = self.authenticate(&parts, &raw_body, &model.signing_name, op, &mut ctx) {
                    return finish(&ctx, &model.signing_name, op, started, rest_json::encode_error(&e));
                }
                let decoded = rest_json::decode(model, op, &labels, &query_pairs, &parts.headers, &body)
                    .and_then(|input| self.authorized(&ctx, &model.signing_name, op, &input).map(|_| input));
                let wire = match decoded {
                    Ok(input) => match self.run(service, &ctx, &model.signing_name, op, input).await {
                        Ok(out) => rest_json::encode_ok(model, op, &out),
                        Err(e) => rest_json::encode_error(&e),
                    },
                    Err(e) => rest_json::encode_error(&e),
                };
                return finish(&ctx, &model.signing_name, op, started, wire);
            }
        }
        let err = AwsError::new("UnknownOperationException", 404, format!("No nimbus service handles {} {}", parts.method, ctx.path));
        finish(&ctx, "unknown", "", started, error_without_model(&err, &ctx.request_id))
    }

    fn internal(&self, method: &Method, path: &str, query: &str) -> Response<Full<Bytes>> {
        match (method, path) {
            (&Method::GET | &Method::HEAD, "/_nimbus/health" | "/_localstack/health") => {
                let mut services = serde_json::Map::new();
                for s in &self.services {
                    services.insert(s.model().signing_name.clone(), serde_json::Value::from(s.health()));
                }
                let body = serde_json::json!({
                    "services": services,
                    "edition": "nimbus",
                    "version": env!("CARGO_PKG_VERSION"),
                });
                json_response(StatusCode::OK, body.to_string())
            }
            (&Method::POST, "/_nimbus/clock/advance") if self.allow_clock_control => {
                let params = query::parse_form(query.as_bytes());
                let seconds: f64 = params.get("seconds").and_then(|s| s.parse().ok()).unwrap_or(0.0);
                if seconds < 0.0 {
                    return plain(StatusCode::BAD_REQUEST, "seconds must not be negative");
                }
                self.clock.advance_ms((seconds * 1000.0) as u64);
                json_response(StatusCode::OK, serde_json::json!({ "now_ms": self.clock.now_ms() }).to_string())
            }
            (&Method::GET, "/_nimbus/clock") => json_response(StatusCode::OK, serde_json::json!({ "now_ms": self.clock.now_ms() }).to_string()),
            _ => plain(StatusCode::NOT_FOUND, "not found"),
        }
    }
}

/// A data plane's view of a request: the path after the plane's prefix (or host).
fn data_request(parts: &http::request::Parts, rest: String, body: Bytes, peer: std::net::IpAddr) -> DataRequest {
    DataRequest {
        method: parts.method.as_str().to_string(),
        path: rest,
        query: parts.uri.query().unwrap_or("").to_string(),
        headers: parts.headers.clone(),
        body,
        host: parts.headers.get(http::header::HOST).and_then(|h| h.to_str().ok()).unwrap_or("localhost:4566").to_string(),
        source_ip: peer,
        request_id: crate::ids::uuid(),
    }
}

fn data_response(out: DataResponse) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(out.body));
    *response.status_mut() = StatusCode::from_u16(out.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    for (k, v) in &out.headers {
        if let (Ok(k), Ok(v)) = (HeaderName::from_bytes(k.as_bytes()), HeaderValue::from_str(v)) {
            response.headers_mut().append(k, v);
        }
    }
    response
}

/// An error for a request no service claimed: query-style XML, which every AWS SDK parses.
fn error_without_model(err: &AwsError, request_id: &str) -> WireResponse {
    let model = ServiceModel {
        signing_name: String::new(),
        target_prefix: None,
        json_version: "1.0".into(),
        xml_namespace: None,
        api_version: String::new(),
        query_compatible: false,
        protocols: vec![],
        operations: HashMap::new(),
        shapes: HashMap::new(),
    };
    query::encode_error(&model, err, request_id)
}

fn finish(ctx: &RequestContext, service: &str, op: &str, started: Instant, wire: WireResponse) -> Response<Full<Bytes>> {
    tracing::debug!(
        service,
        operation = op,
        status = wire.status,
        latency_us = started.elapsed().as_micros() as u64,
        account = %ctx.account_id,
        region = %ctx.region,
        request_id = %ctx.request_id,
        "request"
    );
    // Built by hand with constant header names: no name parsing or copying per request.
    // (HTTP/1 sends names in lower case whatever their spelling.)
    let Ok(status) = StatusCode::from_u16(wire.status) else {
        return plain(StatusCode::INTERNAL_SERVER_ERROR, "response build failed");
    };
    let mut response = Response::new(Full::new(wire.body));
    *response.status_mut() = status;
    let headers = response.headers_mut();
    headers.reserve(2 + wire.headers.len());
    headers.insert(http::header::CONTENT_TYPE, HeaderValue::from_static(wire.content_type));
    match HeaderValue::from_str(&ctx.request_id) {
        Ok(v) => headers.insert(REQUEST_ID, v),
        Err(_) => return plain(StatusCode::INTERNAL_SERVER_ERROR, "response build failed"),
    };
    for (k, v) in &wire.headers {
        match (HeaderName::from_bytes(k.as_bytes()), HeaderValue::from_str(v)) {
            (Ok(k), Ok(v)) => headers.append(k, v),
            _ => return plain(StatusCode::INTERNAL_SERVER_ERROR, "response build failed"),
        };
    }
    response
}

/// `name` when `host` is `<name><suffix>` or `<name><suffix>:<port>` (suffix compared
/// without case), `name` a single non-empty label.
fn host_name_before<'h>(host: &'h str, suffix: &str) -> Option<&'h str> {
    let name = match host.rsplit_once(':') {
        Some((n, port)) if port.bytes().all(|b| b.is_ascii_digit()) => n,
        _ => host,
    };
    let cut = name.len().checked_sub(suffix.len())?;
    let (label, tail) = (name.get(..cut)?, name.get(cut..)?);
    (tail.eq_ignore_ascii_case(suffix) && !label.is_empty() && !label.contains('.')).then_some(label)
}

pub(crate) const REQUEST_ID: HeaderName = HeaderName::from_static("x-amzn-requestid");

/// Compresses a successful response body of at least [`compression::RESPONSE_THRESHOLD`]
/// bytes when the request's `Accept-Encoding` allows gzip or deflate.
fn compress_response(headers: &HeaderMap, wire: &mut WireResponse) {
    if wire.status != 200 || wire.body.len() < compression::RESPONSE_THRESHOLD {
        return;
    }
    // Only the last Accept-Encoding header counts, as on DynamoDB.
    let Some(accept) = headers.get_all(http::header::ACCEPT_ENCODING).iter().last().and_then(|v| v.to_str().ok()) else { return };
    if let Some(enc) = compression::choose(accept) {
        wire.body = Bytes::from(compression::encode(enc, &wire.body));
        wire.headers.push(("content-encoding".to_string(), enc.name().to_string()));
    }
}

/// Cross-origin requests from browsers (the AWS SDK for JavaScript in a web page).
pub(crate) mod cors {
    use bytes::Bytes;
    use http::{HeaderMap, HeaderValue, Response, StatusCode};
    use http_body_util::Full;

    /// Response headers a page may read: the ones the SDKs look at.
    const EXPOSE: &str = "x-amzn-RequestId,x-amzn-ErrorType,x-amzn-ErrorMessage,x-amz-crc32,x-amzn-query-error,Date";
    const METHODS: &str = "GET,POST,PUT,DELETE,HEAD,OPTIONS,PATCH";
    const DEFAULT_HEADERS: &str = "authorization,content-type,content-encoding,x-amz-content-sha256,x-amz-date,x-amz-security-token,x-amz-target,x-amz-user-agent,amz-sdk-invocation-id,amz-sdk-request";

    pub fn decorate(headers: &mut HeaderMap) {
        headers.insert(http::header::ACCESS_CONTROL_ALLOW_ORIGIN, HeaderValue::from_static("*"));
        headers.insert(http::header::ACCESS_CONTROL_EXPOSE_HEADERS, HeaderValue::from_static(EXPOSE));
    }

    /// `OPTIONS` with `Origin`: 200, no body, what the browser may send.
    pub fn preflight(request: &HeaderMap) -> Response<Full<Bytes>> {
        let mut r = Response::new(Full::new(Bytes::new()));
        *r.status_mut() = StatusCode::OK;
        let h = r.headers_mut();
        decorate(h);
        h.insert(http::header::ACCESS_CONTROL_ALLOW_METHODS, HeaderValue::from_static(METHODS));
        let asked = request.get(http::header::ACCESS_CONTROL_REQUEST_HEADERS).cloned();
        h.insert(http::header::ACCESS_CONTROL_ALLOW_HEADERS, asked.unwrap_or(HeaderValue::from_static(DEFAULT_HEADERS)));
        h.insert(http::header::ACCESS_CONTROL_MAX_AGE, HeaderValue::from_static("172800"));
        r
    }
}

pub(crate) fn plain(status: StatusCode, text: &'static str) -> Response<Full<Bytes>> {
    let mut r = Response::new(Full::new(Bytes::from_static(text.as_bytes())));
    *r.status_mut() = status;
    r
}

fn plain_owned(status: StatusCode, text: String) -> Response<Full<Bytes>> {
    let mut r = Response::new(Full::new(Bytes::from(text)));
    *r.status_mut() = status;
    r
}

fn json_response(status: StatusCode, body: String) -> Response<Full<Bytes>> {
    let mut r = Response::new(Full::new(Bytes::from(body)));
    *r.status_mut() = status;
    r.headers_mut().insert(http::header::CONTENT_TYPE, http::HeaderValue::from_static("application/json"));
    r
}

/// Serves `router` on `listener` until `shutdown` turns true; then stops accepting and
/// lets in-flight connections finish their current requests. Connections may switch
/// protocols (a data plane's WebSocket): hyper's graceful-shutdown watcher does not take
/// upgradeable connections, so each connection task holds a `done` sender and shutdown
/// waits for the last one to drop.
pub async fn serve(listener: TcpListener, router: Arc<Router>, mut shutdown: watch::Receiver<bool>) -> std::io::Result<()> {
    let (done, mut all_done) = tokio::sync::mpsc::channel::<()>(1);
    loop {
        tokio::select! {
            accepted = listener.accept() => {
                let (stream, peer): (tokio::net::TcpStream, SocketAddr) = match accepted {
                    Ok(a) => a,
                    Err(e) => { tracing::warn!(error = %e, "accept failed"); continue; }
                };
                let _ = stream.set_nodelay(true);
                let router = router.clone();
                let svc = hyper::service::service_fn(move |req| {
                    let router = router.clone();
                    async move { Ok::<_, std::convert::Infallible>(router.handle(req, peer.ip()).await) }
                });
                // Request lines and headers larger than MAX_HEAD_BYTES are refused by
                // hyper (431 / 414) before any routing.
                let conn = hyper::server::conn::http1::Builder::new()
                    .keep_alive(true)
                    .max_buf_size(MAX_HEAD_BYTES)
                    .serve_connection(hyper_util::rt::TokioIo::new(stream), svc)
                    .with_upgrades();
                let mut stop = shutdown.clone();
                let done = done.clone();
                tokio::spawn(async move {
                    let _done = done;
                    tokio::pin!(conn);
                    let ended = tokio::select! {
                        ended = conn.as_mut() => ended,
                        _ = async { stop.wait_for(|stopping| *stopping).await.is_ok() } => {
                            conn.as_mut().graceful_shutdown();
                            conn.await
                        }
                    };
                    if let Err(e) = ended {
                        tracing::trace!(error = %e, "connection ended with error");
                    }
                });
            }
            _ = shutdown.changed() => break,
        }
    }
    drop(listener);
    drop(done);
    tokio::select! {
        _ = all_done.recv() => {}
        _ = tokio::time::sleep(std::time::Duration::from_secs(25)) => {
            tracing::warn!("connections still open after 25 s; closing");
        }
    }
    Ok(())
}

#[cfg(test)]
mod host_tests {
    use super::host_name_before;

    const SUFFIX: &str = ".execute-api.localhost";

    #[test]
    fn host_with_and_without_port() {
        assert_eq!(host_name_before("abc123.execute-api.localhost:4566", SUFFIX), Some("abc123"));
        assert_eq!(host_name_before("abc123.execute-api.localhost", SUFFIX), Some("abc123"));
        assert_eq!(host_name_before("ABC.Execute-API.localhost:1", SUFFIX), Some("ABC"));
    }

    #[test]
    fn other_hosts_are_not_data_plane() {
        assert_eq!(host_name_before("localhost:4566", SUFFIX), None);
        assert_eq!(host_name_before(".execute-api.localhost", SUFFIX), None);
        assert_eq!(host_name_before("a.b.execute-api.localhost", SUFFIX), None);
        assert_eq!(host_name_before("sqs.us-east-1.localhost", SUFFIX), None);
        assert_eq!(host_name_before("é", SUFFIX), None);
    }
}
