//! JSON-protocol operations whose answer is an event stream (Kinesis SubscribeToShard,
//! `AwsService::streams_output`): the request is authenticated, decoded, checked and
//! authorized as every JSON request is, then the service's `call_streaming` answers either
//! an error (a JSON error response, as usual) or the stream, sent as
//! `application/vnd.amazon.eventstream` while the service produces it.

use crate::context::RequestContext;
use crate::error::AwsError;
use crate::protocol::{event_stream, json, json_types};
use crate::server::{Body, Router, MAX_BODY};
use crate::service::Streamed;
use http::{HeaderValue, Request, Response, StatusCode};
use http_body_util::{BodyExt, Either, Full, Limited};
use hyper::body::Incoming;
use std::sync::Arc;

impl Router {
    /// The service and operation of a JSON request whose answer is an event stream.
    pub(crate) fn json_event_stream(&self, headers: &http::HeaderMap) -> Option<(Arc<dyn crate::AwsService>, String)> {
        let target = headers.get("x-amz-target")?.to_str().ok()?;
        let (prefix, op) = target.rsplit_once('.')?;
        let service = &self.services[*self.by_target_prefix.get(prefix)?];
        service.streams_output(op).then(|| (service.clone(), op.to_string()))
    }

    pub(crate) async fn route_json_event_stream(&self, req: Request<Incoming>, peer: std::net::IpAddr, service: Arc<dyn crate::AwsService>, op: String) -> Response<Body> {
        let (parts, body) = req.into_parts();
        let model = service.model();
        let body = match Limited::new(body, MAX_BODY).collect().await {
            Ok(b) => b.to_bytes(),
            Err(_) => return crate::server::plain(StatusCode::PAYLOAD_TOO_LARGE, "request body too large").map(Either::Left),
        };
        let host = parts.headers.get(http::header::HOST).and_then(|h| h.to_str().ok()).unwrap_or("localhost:4566").to_string();
        let mut ctx = RequestContext::new(Self::caller(&parts.headers, None), host, parts.uri.path().to_string());
        ctx.set_trace_header(parts.headers.get("x-amzn-trace-id").and_then(|v| v.to_str().ok()).map(str::to_string));
        ctx.source_ip = Some(peer);
        let input_shape = model.operations.get(&op).and_then(|o| o.input.clone());
        let outcome: Result<Streamed, AwsError> = async {
            self.authenticate(&parts, &body, &model.signing_name, &op, &mut ctx)?;
            let input = json::decode(&body)?;
            if let Some(shape) = input_shape.as_deref() {
                json_types::check(model, shape, &input)?;
            }
            self.authorized(&ctx, &model.signing_name, &op, &input)?;
            self.run_streaming(&service, &ctx, &model.signing_name, &op, input, None).await
        }
        .await;
        tracing::debug!(service = %model.signing_name, operation = %op, ok = outcome.is_ok(), request_id = %ctx.request_id, "request (event stream)");
        let (status, content_type, body): (u16, &str, Body) = match outcome {
            Ok(Streamed { body: Some(stream), .. }) => (200, event_stream::CONTENT_TYPE, Either::Right(stream)),
            Ok(Streamed { output, body: None }) => {
                let wire = json::encode_ok(model, &output);
                (wire.status, wire.content_type, Either::Left(Full::new(wire.body)))
            }
            Err(e) => {
                let wire = json::encode_error(model, &e);
                (wire.status, wire.content_type, Either::Left(Full::new(wire.body)))
            }
        };
        let mut response = Response::new(body);
        *response.status_mut() = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        response.headers_mut().insert(http::header::CONTENT_TYPE, HeaderValue::from_static(content_type));
        if let Ok(v) = HeaderValue::from_str(&ctx.request_id) {
            response.headers_mut().insert("x-amzn-requestid", v);
        }
        response
    }
}
