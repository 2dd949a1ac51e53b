//! The Lambda Runtime API (`/2018-06-01/runtime/…`) that one execution environment's
//! process talks to, on a loopback port of its own (`AWS_LAMBDA_RUNTIME_API`).
//!
//! `next` hands the process the environment's next invocation (waiting for one without
//! polling); `response` and `error` complete it; `init/error` reports a failed start.

use bytes::Bytes;
use http::{Method, Request, Response, StatusCode};
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;
use parking_lot::Mutex;
use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;
use tokio::sync::{mpsc, oneshot, Notify};

/// Largest response a function may return (AWS: 6 MB).
pub const MAX_RESPONSE_BYTES: usize = 6_291_556;

/// One invocation handed to an environment.
pub struct Invocation {
    pub request_id: String,
    pub payload: Bytes,
    pub deadline_ms: u64,
    pub invoked_arn: String,
    pub trace_id: String,
    pub client_context: Option<String>,
    pub cognito_identity: Option<String>,
    pub reply: oneshot::Sender<Outcome>,
}

/// What the function's process answered.
#[derive(Debug)]
pub enum Outcome {
    Response(Bytes),
    /// A function error: the error document and the runtime's error type header.
    Error { body: Bytes, error_type: Option<String> },
}

pub struct RuntimeState {
    next: tokio::sync::Mutex<mpsc::Receiver<Invocation>>,
    in_flight: Mutex<HashMap<String, oneshot::Sender<Outcome>>>,
    /// Set when the process reported `init/error`.
    pub init_error: Mutex<Option<(Bytes, Option<String>)>>,
    /// Notified the first time the process asks for work (init finished) or fails init.
    pub ready: Notify,
    pub asked_once: std::sync::atomic::AtomicBool,
}

impl RuntimeState {
    pub fn new(rx: mpsc::Receiver<Invocation>) -> Arc<RuntimeState> {
        Arc::new(RuntimeState {
            next: tokio::sync::Mutex::new(rx),
            in_flight: Mutex::new(HashMap::new()),
            init_error: Mutex::new(None),
            ready: Notify::new(),
            asked_once: std::sync::atomic::AtomicBool::new(false),
        })
    }
}

fn reply(status: StatusCode, body: &'static str) -> Response<Full<Bytes>> {
    let mut r = Response::new(Full::new(Bytes::from_static(body.as_bytes())));
    *r.status_mut() = status;
    r.headers_mut().insert(http::header::CONTENT_TYPE, http::HeaderValue::from_static("application/json"));
    r
}

async fn handle(state: Arc<RuntimeState>, req: Request<Incoming>) -> Response<Full<Bytes>> {
    let path = req.uri().path().to_string();
    let method = req.method().clone();
    let Some(rest) = path.strip_prefix("/2018-06-01/runtime/") else {
        return reply(StatusCode::NOT_FOUND, r#"{"errorMessage":"not found","errorType":"InvalidRequest"}"#);
    };
    let error_type = req.headers().get("lambda-runtime-function-error-type").and_then(|v| v.to_str().ok()).map(str::to_string);
    match (method, rest) {
        (Method::GET, "invocation/next") => {
            if !state.asked_once.swap(true, std::sync::atomic::Ordering::AcqRel) {
                state.ready.notify_waiters();
            }
            let inv = {
                let mut rx = state.next.lock().await;
                match rx.recv().await {
                    Some(inv) => inv,
                    None => return reply(StatusCode::GONE, r#"{"errorMessage":"environment shutting down"}"#),
                }
            };
            let mut r = Response::new(Full::new(inv.payload));
            let h = r.headers_mut();
            let mut set = |k: &'static str, v: &str| {
                if let Ok(v) = http::HeaderValue::from_str(v) {
                    h.insert(k, v);
                }
            };
            set("lambda-runtime-aws-request-id", &inv.request_id);
            set("lambda-runtime-deadline-ms", &inv.deadline_ms.to_string());
            set("lambda-runtime-invoked-function-arn", &inv.invoked_arn);
            set("lambda-runtime-trace-id", &inv.trace_id);
            if let Some(c) = &inv.client_context {
                set("lambda-runtime-client-context", c);
            }
            if let Some(c) = &inv.cognito_identity {
                set("lambda-runtime-cognito-identity", c);
            }
            set("content-type", "application/json");
            state.in_flight.lock().insert(inv.request_id, inv.reply);
            r
        }
        (Method::POST, "init/error") => {
            let body = req.into_body().collect().await.map(|b| b.to_bytes()).unwrap_or_default();
            *state.init_error.lock() = Some((body, error_type));
            state.ready.notify_waiters();
            reply(StatusCode::ACCEPTED, r#"{"status":"OK"}"#)
        }
        (Method::POST, other) => {
            let Some((id, kind)) = other.strip_prefix("invocation/").and_then(|r| r.rsplit_once('/')) else {
                return reply(StatusCode::NOT_FOUND, r#"{"errorMessage":"not found","errorType":"InvalidRequest"}"#);
            };
            let Some(sender) = state.in_flight.lock().remove(id) else {
                return reply(StatusCode::BAD_REQUEST, r#"{"errorMessage":"Invalid request ID","errorType":"InvalidRequestID"}"#);
            };
            let body = match Limited::new(req.into_body(), MAX_RESPONSE_BYTES).collect().await {
                Ok(b) => b.to_bytes(),
                Err(_) => {
                    let doc = format!(
                        r#"{{"errorMessage":"Response payload size exceeded maximum allowed payload size ({MAX_RESPONSE_BYTES} bytes).","errorType":"Function.ResponseSizeTooLarge"}}"#
                    );
                    let _ = sender.send(Outcome::Error { body: Bytes::from(doc), error_type: Some("Function.ResponseSizeTooLarge".into()) });
                    return reply(StatusCode::PAYLOAD_TOO_LARGE, r#"{"errorMessage":"Exceeded maximum allowed payload size","errorType":"RequestEntityTooLarge"}"#);
                }
            };
            let outcome = match kind {
                "response" => Outcome::Response(body),
                "error" => Outcome::Error { body, error_type },
                _ => return reply(StatusCode::NOT_FOUND, r#"{"errorMessage":"not found","errorType":"InvalidRequest"}"#),
            };
            let _ = sender.send(outcome);
            reply(StatusCode::ACCEPTED, r#"{"status":"OK"}"#)
        }
        _ => reply(StatusCode::NOT_FOUND, r#"{"errorMessage":"not found","errorType":"InvalidRequest"}"#),
    }
}

/// Starts a Runtime API server on a free loopback port; it stops when the returned
/// handle is aborted.
pub async fn start(state: Arc<RuntimeState>) -> std::io::Result<(SocketAddr, tokio::task::JoinHandle<()>)> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    let task = tokio::spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else { continue };
            let _ = stream.set_nodelay(true);
            let state = state.clone();
            let svc = hyper::service::service_fn(move |req| {
                let state = state.clone();
                async move { Ok::<_, std::convert::Infallible>(handle(state, req).await) }
            });
            tokio::spawn(async move {
                let _ = hyper::server::conn::http1::Builder::new().serve_connection(hyper_util::rt::TokioIo::new(stream), svc).await;
            });
        }
    });
    Ok((addr, task))
}
