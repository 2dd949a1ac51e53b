//! Requests addressed to the REST-XML service (S3): which requests those are, and their
//! path from the client to the service and back.
//!
//! Addressing: virtual-hosted (`<bucket>.s3.localhost[:port]`, `<bucket>.s3.<region>.…`,
//! and `<bucket>.localhost` when the signature is scoped to `s3`) is turned into the
//! path-style path (`/<bucket>/<key>`) the model's URI templates match; path-style requests
//! are S3's when their signature (or presigned `X-Amz-Credential`) is scoped to `s3`, or,
//! unsigned, when no other service claims them. Bodies: an operation whose input payload
//! is a streaming blob (PutObject, UploadPart) gets the request body unread, as a stream
//! (decoded when `aws-chunked`, `protocol/aws_chunked.rs`, its trailing checksum headers as
//! the stream's trailers frame; checked against a hex `x-amz-content-sha256`);
//! a streamed output (GetObject) goes out as the service produces it. Every answer carries
//! `x-amz-request-id` and `x-amz-id-2`; errors are S3's `<Error>` document (no body for HEAD).

use crate::context::RequestContext;
use crate::error::AwsError;
use crate::model::Protocol;
use crate::protocol::aws_chunked::{self, BodyWatch, DecodedBody, Encoding};
use crate::protocol::{query, rest_xml, WireResponse};
use crate::server::{cors, Body, Router, MAX_BODY};
use crate::service::{BodyStream, Streamed};
use crate::sigv4::SignableRequest;
use bytes::Bytes;
use http::{HeaderMap, HeaderName, HeaderValue, Method, Request, Response, StatusCode};
use http_body_util::{BodyExt, Either, Full, Limited};
use hyper::body::Incoming;
use std::time::Instant;

impl Router {
    /// The path-style path of a request addressed to the REST-XML service, if it is one.
    pub(crate) fn rest_xml_path(&self, headers: &HeaderMap, uri: &http::Uri, method: &Method) -> Option<String> {
        self.rest_xml.as_ref()?;
        let path = uri.path();
        if headers.contains_key("x-amz-target") || headers.contains_key("smithy-protocol") || path.starts_with("/_nimbus/") || path.starts_with("/_localstack/") || path.starts_with("/_aws/") {
            return None;
        }
        let query = uri.query().unwrap_or("");
        let host = headers.get(http::header::HOST).and_then(|h| h.to_str().ok()).unwrap_or("");
        let host = host_without_port(host).to_ascii_lowercase();
        if let Some(bucket) = host.find(".s3.").map(|i| &host[..i]).filter(|b| !b.is_empty()) {
            return Some(format!("/{bucket}{path}"));
        }
        let params = query::parse_form(query.as_bytes());
        let scope = Self::caller(headers, Some(&params)).service;
        match scope.as_deref() {
            Some("s3") => match host.strip_suffix(".localhost").filter(|b| !b.is_empty() && !b.starts_with("s3")) {
                Some(bucket) => Some(format!("/{bucket}{path}")),
                None => Some(path.to_string()),
            },
            Some(_) => None,
            None => {
                let unsigned_s3 = host.starts_with("s3.") || (path != "/" && !params.contains_key("Action") && !self.rest_json_claims(method, path, query));
                unsigned_s3.then(|| path.to_string())
            }
        }
    }

    /// One request to the REST-XML service, from the wire to the service and back. An
    /// answer sent before the request body was read to its end (an error, mostly) says
    /// `Connection: close`: the connection is not reused with unread bytes on it.
    pub(crate) async fn route_rest_xml(&self, req: Request<Incoming>, peer: std::net::IpAddr, path: String) -> Response<Body> {
        let watch = BodyWatch::new();
        if hyper::body::Body::is_end_stream(req.body()) {
            watch.mark_finished();
        }
        let mut response = self.rest_xml_exchange(req, peer, path, &watch).await;
        if !watch.finished() {
            response.headers_mut().insert(http::header::CONNECTION, HeaderValue::from_static("close"));
        }
        response
    }

    async fn rest_xml_exchange(&self, req: Request<Incoming>, peer: std::net::IpAddr, path: String, watch: &BodyWatch) -> Response<Body> {
        let started = Instant::now();
        let Some((idx, routes)) = &self.rest_xml else { return crate::server::plain(StatusCode::INTERNAL_SERVER_ERROR, "no REST-XML service").map(Either::Left) };
        let service = self.services[*idx].clone();
        let model = service.model();
        let (parts, body) = req.into_parts();
        let raw_query = parts.uri.query().unwrap_or("");
        let query_pairs: Vec<(String, String)> = form_urlencoded::parse(raw_query.as_bytes()).into_owned().collect();
        let params = query::parse_form(raw_query.as_bytes());
        let host = parts.headers.get(http::header::HOST).and_then(|h| h.to_str().ok()).unwrap_or("localhost:4566").to_string();
        let mut ctx = RequestContext::new(Self::caller(&parts.headers, Some(&params)), host, path.clone());
        ctx.set_trace_header(parts.headers.get("x-amzn-trace-id").and_then(|v| v.to_str().ok()).map(str::to_string));
        ctx.source_ip = Some(peer);
        ctx.protocol = Protocol::RestXml;
        let head = parts.method == Method::HEAD;
        let origin = parts.headers.get(http::header::ORIGIN).and_then(|v| v.to_str().ok()).map(str::to_string);
        if let (Some(origin), true) = (origin.as_deref(), parts.method == Method::OPTIONS) {
            return self.preflight_rest_xml(&service, &ctx, &path, origin, &parts.headers, started);
        }
        // A browser's request: the service's CORS rules (none matching: no CORS headers),
        // else the router's generic ones.
        let cors_answer = origin.as_deref().map(|o| match service.cors(&ctx, &path, o, parts.method.as_str(), &[]) {
            Some(Ok(h)) => Some(h),
            Some(Err(_)) => Some(Vec::new()),
            None => None,
        });
        let Some((op, labels)) = routes.find(parts.method.as_str(), &path, &query_pairs, &parts.headers) else {
            let mut err = AwsError::new("MethodNotAllowed", 405, "The specified method is not allowed against this resource.");
            err.members.insert("Method".into(), parts.method.as_str().into());
            err.members.insert("ResourceType".into(), (if path.trim_matches('/').contains('/') { "OBJECT" } else { "BUCKET" }).into());
            return self.finish_rest_xml(&ctx, "", started, rest_xml::encode_error(&err, &ctx.request_id, &host_id(&ctx)), None, head, cors_answer);
        };
        let op = op.to_string();
        let fail = |ctx: &RequestContext, e: &AwsError| self.finish_rest_xml(ctx, &op, started, rest_xml::encode_error(e, &ctx.request_id, &host_id(ctx)), None, head, cors_answer.clone());
        if let Err(e) = presigned_not_expired(&params, self.clock.now_ms()) {
            return fail(&ctx, &e);
        }
        let streaming = rest_xml::streams_input(model, &op);
        // aws-chunked, or a plain body with its SHA-256 in `x-amz-content-sha256`.
        let encoding = Encoding::of(&parts.headers);
        if let Encoding::Chunked { decoded_length: None, .. } = encoding {
            return fail(&ctx, &aws_chunked::missing_decoded_length());
        }
        let (bytes, stream) = if streaming {
            (Bytes::new(), Some(body))
        } else {
            match Limited::new(body, MAX_BODY).collect().await {
                Ok(b) => {
                    watch.mark_finished();
                    (b.to_bytes(), None)
                }
                Err(_) => return fail(&ctx, &AwsError::new("MaxMessageLengthExceeded", 400, "Your request was too big.")),
            }
        };
        // A whole body that is not what its `x-amz-content-sha256` says: S3's own error,
        // before the signature is looked at.
        if let (Encoding::PlainHashed(_), false) = (&encoding, streaming) {
            if let Err(e) = aws_chunked::decode_whole(bytes.clone(), &encoding, None) {
                return fail(&ctx, &e);
            }
        }
        let signable = SignableRequest { method: parts.method.as_str(), path: parts.uri.path(), query: raw_query, headers: &parts.headers, body: &bytes, body_streamed: streaming };
        if let Err(e) = self.auth.check(&signable, &model.signing_name, &op, &self.clock, &mut ctx) {
            return fail(&ctx, &e);
        }
        // Signed chunks are checked under `--auth sigv4` / `iam`, chained from the seed
        // signature just verified.
        let signer = self.auth.chunk_signer(&signable);
        if matches!(encoding, Encoding::Chunked { signed: true, .. }) && self.auth.mode() != crate::authn::AuthMode::Open && signer.is_none() {
            return fail(&ctx, &crate::sigv4::SigV4Error::SignatureDoesNotMatch.to_aws(crate::sigv4::style_for(&model.signing_name)));
        }
        let bytes = match (&encoding, streaming) {
            (Encoding::Chunked { .. }, false) => match aws_chunked::decode_whole(bytes, &encoding, signer.clone()) {
                Ok((decoded, _trailers)) => decoded,
                Err(e) => return fail(&ctx, &e),
            },
            _ => bytes,
        };
        let mut input = match rest_xml::decode(model, &op, &labels, &query_pairs, &parts.headers, &bytes) {
            Ok(v) => v,
            Err(e) => return fail(&ctx, &e),
        };
        if let (Encoding::Chunked { decoded_length, .. }, Some(obj)) = (&encoding, input.as_object_mut()) {
            // The object's length is `x-amz-decoded-content-length`, and `aws-chunked` is
            // how it travelled, not one of its content codings.
            if let Some(n) = decoded_length {
                obj.insert("ContentLength".into(), (*n as i64).into());
            }
            strip_aws_chunked(obj);
        }
        if let Err(e) = self.authorized(&ctx, &model.signing_name, &op, &input) {
            return fail(&ctx, &e);
        }
        let body = stream.map(|b| DecodedBody::new(b, &encoding, signer, watch.clone()).boxed());
        let result = self.run_streaming(&service, &ctx, &model.signing_name, &op, input, body).await;
        // A body that failed to decode answers with the decoder's error, whatever the
        // service made of the failed read.
        if let Some(e) = watch.error() {
            return fail(&ctx, &e);
        }
        match result {
            Ok(Streamed { output, body }) => {
                let wire = rest_xml::encode_ok(model, &op, &output);
                self.finish_rest_xml(&ctx, &op, started, wire, body, head, cors_answer.clone())
            }
            Err(e) => fail(&ctx, &e),
        }
    }

    /// `run` for a streaming call: the API-call recorder sees the input and the outcome.
    pub(crate) async fn run_streaming(&self, service: &std::sync::Arc<dyn crate::AwsService>, ctx: &RequestContext, signing_name: &str, op: &str, input: serde_json::Value, body: Option<BodyStream>) -> Result<Streamed, AwsError> {
        let segment = ctx.segment_id.as_ref().map(|_| (self.clock.now_ms(), crate::trace_segments::resources(&input)));
        let result = match self.api_calls.as_ref().filter(|r| r.wants(signing_name, op)) {
            None => service.call_streaming(ctx, op, input, body).await,
            Some(recorder) => {
                let kept = input.clone();
                let result = service.call_streaming(ctx, op, input, body).await;
                recorder.record(crate::internal::ApiCall { ctx, service: signing_name, operation: op, input: &kept, outcome: result.as_ref().map(|s| &s.output) });
                result
            }
        };
        if let Some((start_ms, resources)) = segment {
            crate::trace_segments::record_call(ctx, signing_name, op, start_ms, self.clock.now_ms(), resources, result.as_ref().err());
        }
        result
    }

    /// Whether a REST-JSON service has a route for this request (unsigned requests go to S3
    /// only when none does).
    fn rest_json_claims(&self, method: &Method, path: &str, query: &str) -> bool {
        let pairs: Vec<(String, String)> = form_urlencoded::parse(query.as_bytes()).into_owned().collect();
        self.rest.iter().any(|(_, r)| r.find(method.as_str(), path, &pairs).is_some())
    }

    /// `OPTIONS` with `Origin`: the service's CORS rules decide (S3: the bucket's
    /// `CORSConfiguration`; 403 `AccessForbidden` "CORSResponse: …" when none allows it).
    fn preflight_rest_xml(&self, service: &std::sync::Arc<dyn crate::AwsService>, ctx: &RequestContext, path: &str, origin: &str, headers: &HeaderMap, started: Instant) -> Response<Body> {
        let method = headers.get(http::header::ACCESS_CONTROL_REQUEST_METHOD).and_then(|v| v.to_str().ok()).unwrap_or("");
        let asked: Vec<String> = headers
            .get(http::header::ACCESS_CONTROL_REQUEST_HEADERS)
            .and_then(|v| v.to_str().ok())
            .map(|v| v.split(',').map(|h| h.trim().to_ascii_lowercase()).filter(|h| !h.is_empty()).collect())
            .unwrap_or_default();
        match service.cors(ctx, path, origin, method, &asked) {
            None => cors::preflight(headers).map(Either::Left),
            Some(Ok(allowed)) => {
                let wire = WireResponse { status: 200, content_type: "application/xml", headers: allowed, body: Bytes::new() };
                self.finish_rest_xml(ctx, "PreflightRequest", started, wire, None, false, None)
            }
            Some(Err(e)) => self.finish_rest_xml(ctx, "PreflightRequest", started, rest_xml::encode_error(&e, &ctx.request_id, &host_id(ctx)), None, false, None),
        }
    }

    /// `cors`: `None` for a request without `Origin`; `Some(None)` for the router's
    /// generic CORS headers; `Some(Some(headers))` for the service's.
    #[allow(clippy::too_many_arguments)]
    fn finish_rest_xml(&self, ctx: &RequestContext, op: &str, started: Instant, wire: WireResponse, stream: Option<BodyStream>, head: bool, cors: Option<Option<Vec<(String, String)>>>) -> Response<Body> {
        tracing::debug!(service = "s3", operation = op, status = wire.status, latency_us = started.elapsed().as_micros() as u64, request_id = %ctx.request_id, "request");
        let body: Body = match stream {
            _ if head => Either::Left(Full::new(Bytes::new())),
            Some(s) => Either::Right(s),
            None => Either::Left(Full::new(wire.body.clone())),
        };
        let mut response = Response::new(body);
        *response.status_mut() = StatusCode::from_u16(wire.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let headers = response.headers_mut();
        for (k, v) in &wire.headers {
            if let (Ok(k), Ok(v)) = (HeaderName::from_bytes(k.as_bytes()), HeaderValue::from_bytes(v.as_bytes())) {
                headers.append(k, v);
            }
        }
        if !headers.contains_key(http::header::CONTENT_TYPE) && !wire.body.is_empty() {
            headers.insert(http::header::CONTENT_TYPE, HeaderValue::from_static(wire.content_type));
        }
        if let Ok(v) = HeaderValue::from_str(&ctx.request_id) {
            headers.insert(HeaderName::from_static("x-amz-request-id"), v);
        }
        if let Ok(v) = HeaderValue::from_str(&host_id(ctx)) {
            headers.insert(HeaderName::from_static("x-amz-id-2"), v);
        }
        headers.insert(http::header::SERVER, HeaderValue::from_static("AmazonS3"));
        match cors {
            Some(None) => cors::decorate(headers),
            Some(Some(extra)) => {
                for (k, v) in extra {
                    if let (Ok(k), Ok(v)) = (HeaderName::from_bytes(k.as_bytes()), HeaderValue::from_str(&v)) {
                        headers.insert(k, v);
                    }
                }
            }
            None => {}
        }
        response
    }
}

/// `ContentEncoding` without `aws-chunked` (left out entirely when nothing else remains).
fn strip_aws_chunked(input: &mut serde_json::Map<String, serde_json::Value>) {
    let Some(value) = input.get("ContentEncoding").and_then(|v| v.as_str()) else { return };
    let rest: Vec<&str> = value.split(',').map(str::trim).filter(|c| !c.is_empty() && !c.eq_ignore_ascii_case("aws-chunked")).collect();
    if rest.is_empty() {
        input.remove("ContentEncoding");
    } else {
        input.insert("ContentEncoding".into(), rest.join(", ").into());
    }
}

/// `x-amz-id-2`: an opaque id of the host that answered, derived from the request id.
fn host_id(ctx: &RequestContext) -> String {
    ctx.host_id()
}

fn host_without_port(host: &str) -> &str {
    match host.rsplit_once(':') {
        Some((h, port)) if port.bytes().all(|b| b.is_ascii_digit()) => h,
        _ => host,
    }
}

/// A presigned URL past `X-Amz-Date + X-Amz-Expires` is refused whatever the `--auth`
/// mode: `AccessDenied` "Request has expired", with the expiry and the server's time
/// (<https://docs.aws.amazon.com/AmazonS3/latest/userguide/using-presigned-url.html>).
/// A SigV2 query-signed URL (`AWSAccessKeyId`, `Signature`, `Expires` in epoch seconds:
/// what boto3 presigns for S3 unless told `signature_version='s3v4'`) expires the same way
/// (<https://docs.aws.amazon.com/AmazonS3/latest/userguide/RESTAuthentication.html#RESTAuthenticationQueryStringAuth>).
fn presigned_not_expired(params: &query::Params, now_ms: u64) -> Result<(), AwsError> {
    let (expiry_ms, x_amz_expires) = if let (Some(date), Some(expires)) = (params.get("X-Amz-Date"), params.get("X-Amz-Expires")) {
        let (Some(signed_ms), Ok(secs)) = (parse_amz_date(date), expires.parse::<u64>()) else { return Ok(()) };
        (signed_ms + secs * 1000, Some(expires))
    } else if let (Some(expires), true) = (params.get("Expires"), params.get("Signature").is_some() && params.get("AWSAccessKeyId").is_some()) {
        let Ok(epoch_s) = expires.parse::<u64>() else { return Ok(()) };
        (epoch_s * 1000, None)
    } else {
        return Ok(());
    };
    if now_ms <= expiry_ms {
        return Ok(());
    }
    let mut err = AwsError::new("AccessDenied", 403, "Request has expired");
    if let Some(expires) = x_amz_expires {
        err.members.insert("X-Amz-Expires".into(), expires.clone().into());
    }
    err.members.insert("Expires".into(), crate::time::iso8601(expiry_ms).into());
    err.members.insert("ServerTime".into(), crate::time::iso8601(now_ms).into());
    Err(err)
}

/// `20130524T000000Z` → milliseconds.
fn parse_amz_date(s: &str) -> Option<u64> {
    if s.len() != 16 || !s.is_ascii() {
        return None;
    }
    let iso = format!("{}-{}-{}T{}:{}:{}Z", &s[0..4], &s[4..6], &s[6..8], &s[9..11], &s[11..13], &s[13..15]);
    crate::time::parse_iso8601(&iso)
}
