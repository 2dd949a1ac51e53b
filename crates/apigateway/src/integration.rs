//! Running a route's integration for the data plane ("Work with integrations for HTTP APIs",
//! https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-develop-integrations.html):
//! `RequestParameters` applied to the request (Lambda and HTTP proxies) or evaluated into
//! the action's parameters (AWS service integrations), the call — Lambda through
//! `FunctionInvoker`, `HTTP_PROXY` through `http_proxy.rs`, SQS through `QueueSender` —
//! bounded by `TimeoutInMillis` on nimbus's clock (503 `{"message":"Service Unavailable"}`
//! past it, as AWS answers), then `ResponseParameters` applied to the answer. The
//! request's `Facts` get the integration's status, latency and error for access logs.

use crate::context::Facts;
use crate::data_plane::message;
use crate::event::{self, Incoming};
use crate::http_proxy::{self, ProxyError};
use crate::mapping::{self, Outgoing, Side, Source};
use crate::registry::Attrs;
use crate::service_integration;
use bytes::Bytes;
use http::{HeaderMap, HeaderName, HeaderValue};
use nimbus_core::internal::{EventPublisher, FunctionInvoker, QueueSender};
use nimbus_core::server::{DataRequest, DataResponse};
use nimbus_core::Clock;
use serde_json::{Map, Value};
use std::collections::HashMap;

/// HTTP APIs' integration timeout: default and most (API reference, Integration.TimeoutInMillis).
pub const MAX_TIMEOUT_MS: u64 = 30_000;

/// What an integration reaches.
pub struct Services<'a> {
    pub invoker: &'a dyn FunctionInvoker,
    pub queues: &'a dyn QueueSender,
    pub events: &'a dyn EventPublisher,
    pub clock: &'a Clock,
}

/// The request as routed.
pub struct Routed<'a> {
    pub req: &'a DataRequest,
    pub region: &'a str,
    /// The path without the stage.
    pub path: &'a str,
    pub path_parameters: HashMap<String, String>,
    pub stage_variables: Map<String, Value>,
    /// What the route's authorizer granted (its claims or context go into Lambda events).
    pub granted: crate::authorize::Granted,
    /// The trace the integration continues (`X-Amzn-Trace-Id`, the stage segment as parent).
    pub trace: String,
}

/// An integration's own answer, before response parameters.
struct Answer {
    status: u16,
    headers: Vec<(String, String)>,
    body: Bytes,
}

/// Why there is no answer: the gateway's status and message, and the integration error.
struct Failure {
    status: u16,
    message: String,
    integration_error: String,
}

impl Failure {
    fn internal(integration_error: String) -> Failure {
        Failure { status: 500, message: "Internal Server Error".into(), integration_error }
    }
}

fn text<'a>(i: &'a Attrs, name: &str) -> Option<&'a str> {
    i.get(name).and_then(Value::as_str)
}

/// The function ARN of an `AWS_PROXY` integration URI: a Lambda ARN, or the API Gateway
/// form `arn:aws:apigateway:<region>:lambda:path/2015-03-31/functions/<arn>/invocations`.
pub(crate) fn function_arn(uri: &str) -> &str {
    match uri.split_once("/functions/") {
        Some((_, rest)) => rest.strip_suffix("/invocations").unwrap_or(rest),
        None => uri,
    }
}

fn encode_query(pairs: &[(String, String)]) -> String {
    form_urlencoded::Serializer::new(String::new()).extend_pairs(pairs).finish()
}

/// Runs `integration` for the request and answers it; fills `facts`.
pub async fn run(services: &Services<'_>, integration: &Attrs, routed: &Routed<'_>, facts: &mut Facts) -> DataResponse {
    let rid = facts.request_id.clone();
    let timeout_ms = integration.get("TimeoutInMillis").and_then(Value::as_u64).unwrap_or(MAX_TIMEOUT_MS).min(MAX_TIMEOUT_MS);
    let started = services.clock.now_ms();
    let snapshot = facts.clone();
    let src = Source {
        body: &routed.req.body,
        headers: &routed.req.headers,
        query: &routed.req.query,
        path: routed.path,
        path_parameters: &routed.path_parameters,
        stage_variables: &routed.stage_variables,
        facts: &snapshot,
        response: None,
    };
    let call = call(services, integration, routed, &src);
    let outcome = tokio::select! {
        outcome = call => outcome,
        _ = services.clock.sleep_until(started + timeout_ms) => Err(Failure {
            status: 503,
            message: "Service Unavailable".into(),
            integration_error: format!("The integration did not answer within {timeout_ms} ms"),
        }),
    };
    facts.integration_latency_ms = Some(services.clock.now_ms().saturating_sub(started));
    let mut answer = match outcome {
        Ok((service_status, answer)) => {
            facts.integration_status = Some(service_status);
            facts.integration_answer_status = Some(answer.status);
            answer
        }
        Err(f) => {
            facts.integration_error = Some(f.integration_error);
            facts.error_message = Some(f.message.clone());
            return message(f.status, &f.message, &rid);
        }
    };
    if let Some(params) = integration.get("ResponseParameters").and_then(Value::as_object) {
        // Values read the integration's answer as it was.
        let (headers, body) = (answer.headers.clone(), answer.body.clone());
        let src = Source { response: Some((&headers, &body)), ..src };
        mapping::apply_response(params, &mut answer.status, &mut answer.headers, &src);
    }
    answer.headers.retain(|(k, _)| !k.eq_ignore_ascii_case("apigw-requestid"));
    answer.headers.push(("apigw-requestid".into(), rid));
    DataResponse { status: answer.status, headers: answer.headers, body: answer.body }
}

/// The integration's call: the status its service answered, and the answer.
async fn call(services: &Services<'_>, integration: &Attrs, routed: &Routed<'_>, src: &Source<'_>) -> Result<(u16, Answer), Failure> {
    let kind = text(integration, "IntegrationType").unwrap_or_default();
    if let Some(subtype) = text(integration, "IntegrationSubtype") {
        let mapped = integration.get("RequestParameters").and_then(Value::as_object).into_iter().flatten();
        let values = mapped.filter_map(|(k, v)| Some((k.clone(), mapping::evaluate(v.as_str()?, Side::Request, src)?))).collect();
        let backends = service_integration::Backends { queues: services.queues, events: services.events };
        let answer = service_integration::call(&backends, subtype, values, (&src.facts.account_id, routed.region), &src.facts.request_id, &routed.trace).await;
        let headers = vec![("content-type".to_string(), "application/json".to_string())];
        return Ok((answer.status, Answer { status: answer.status, headers, body: Bytes::from(answer.body.to_string()) }));
    }
    let mut out = Outgoing {
        path: routed.path.to_string(),
        query: crate::event::form_pairs(&routed.req.query),
        headers: routed.req.headers.iter().map(|(k, v)| (k.as_str().to_string(), String::from_utf8_lossy(v.as_bytes()).into_owned())).collect(),
    };
    let path_mapped = integration.get("RequestParameters").and_then(Value::as_object).map(|params| {
        mapping::apply_request(params, src, &mut out);
        params.contains_key("overwrite:path")
    });
    let path_mapped = path_mapped.unwrap_or(false);
    match kind {
        "AWS_PROXY" => lambda(services, integration, routed, src, &out, path_mapped).await,
        "HTTP_PROXY" => http(integration, routed, &out, path_mapped).await,
        other => Err(Failure::internal(format!("{other} integrations are not supported by nimbus yet"))),
    }
}

async fn lambda(services: &Services<'_>, integration: &Attrs, routed: &Routed<'_>, src: &Source<'_>, out: &Outgoing, path_mapped: bool) -> Result<(u16, Answer), Failure> {
    let facts = src.facts;
    let v2 = text(integration, "PayloadFormatVersion") == Some("2.0");
    let uri = text(integration, "IntegrationUri").unwrap_or_default();
    let mut headers = HeaderMap::new();
    for (k, v) in &out.headers {
        if let (Ok(k), Ok(v)) = (HeaderName::from_bytes(k.as_bytes()), HeaderValue::from_str(v)) {
            headers.append(k, v);
        }
    }
    let raw_path = if path_mapped { out.path.clone() } else { facts.path.clone() };
    let raw_query = if out.query == crate::event::form_pairs(&routed.req.query) { routed.req.query.clone() } else { encode_query(&out.query) };
    let incoming = Incoming {
        api_id: &facts.api_id,
        account_id: &facts.account_id,
        stage: &facts.stage,
        route_key: facts.route_key.as_deref().unwrap_or("$default"),
        method: &routed.req.method,
        raw_path: &raw_path,
        raw_query: &raw_query,
        headers: &headers,
        body: &routed.req.body,
        host: &routed.req.host,
        source_ip: routed.req.source_ip.to_string(),
        path_parameters: routed.path_parameters.clone(),
        stage_variables: routed.stage_variables.clone(),
        request_id: &facts.request_id,
        now_ms: facts.request_time_ms,
    };
    let mut event = if v2 { event::event_v2(&incoming) } else { event::event_v1(&incoming) };
    routed.granted.decorate(&mut event, v2);
    let outcome = match services.invoker.invoke_traced(function_arn(uri), Bytes::from(event.to_string()), Some(routed.trace.clone())).await {
        Ok(o) if !o.function_error => o,
        Ok(_) => return Err(Failure::internal("The Lambda function returned an error".into())),
        Err(e) => {
            tracing::debug!(api = %facts.api_id, error = %e, "integration failed");
            return Err(Failure::internal(e));
        }
    };
    let mapped = if v2 { event::response_v2(&outcome.payload) } else { event::response_v1(&outcome.payload) };
    let m = mapped.ok_or_else(|| Failure::internal("The Lambda function's response is malformed".into()))?;
    Ok((200, Answer { status: m.status, headers: m.headers, body: m.body }))
}

async fn http(integration: &Attrs, routed: &Routed<'_>, out: &Outgoing, path_mapped: bool) -> Result<(u16, Answer), Failure> {
    let uri = text(integration, "IntegrationUri").unwrap_or_default();
    let target = http_proxy::parse_uri(uri).map_err(proxy_failure)?;
    let path = if path_mapped { out.path.clone() } else { http_proxy::upstream_path(&target.path, &out.path, &routed.path_parameters) };
    let mut query = target.query.clone();
    let mapped_query = encode_query(&out.query);
    if !mapped_query.is_empty() {
        if !query.is_empty() {
            query.push('&');
        }
        query.push_str(&mapped_query);
    }
    let path_and_query = if query.is_empty() { path } else { format!("{path}?{query}") };
    let method = match text(integration, "IntegrationMethod") {
        Some(m) if m != "ANY" => m.to_string(),
        _ => routed.req.method.clone(),
    };
    let headers = forwarded_headers(&out.headers, routed.req);
    let upstream = http_proxy::send(&method, &target, &path_and_query, &headers, routed.req.body.clone()).await.map_err(proxy_failure)?;
    Ok((upstream.status, Answer { status: upstream.status, headers: upstream.headers, body: upstream.body }))
}

fn proxy_failure(e: ProxyError) -> Failure {
    match e {
        ProxyError::Unsupported(m) => Failure { status: 500, message: m.clone(), integration_error: m },
        ProxyError::Unreachable(m) => Failure::internal(m),
    }
}

/// The client's headers without hop-by-hop ones, plus the proxy headers AWS adds.
fn forwarded_headers(headers: &[(String, String)], req: &DataRequest) -> Vec<(String, String)> {
    let ip = req.source_ip.to_string();
    let mut out: Vec<(String, String)> = headers.iter().filter(|(k, _)| !http_proxy::is_hop_by_hop(k) && !k.starts_with("x-forwarded-") && k != "forwarded").cloned().collect();
    let prior = headers.iter().find(|(k, _)| k == "x-forwarded-for").map(|(_, v)| format!("{v}, "));
    let port = req.host.rsplit_once(':').map(|(_, p)| p).filter(|p| p.bytes().all(|b| b.is_ascii_digit())).unwrap_or("80");
    out.push(("x-forwarded-for".into(), format!("{}{ip}", prior.unwrap_or_default())));
    out.push(("x-forwarded-port".into(), port.to_string()));
    out.push(("x-forwarded-proto".into(), "http".into()));
    out.push(("forwarded".into(), format!("for={ip};host={};proto=http", req.host)));
    out
}
