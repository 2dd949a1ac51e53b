//! The two ways the load generator talks to a target:
//! - `raw`: one keep-alive HTTP/1.1 connection per client (hyper client `conn::http1`),
//!   sending pre-built JSON-protocol requests; the SDK is out of the measurement.
//! - `sdk`: aws-sdk-sqs over the plain-HTTP smithy hyper client (no TLS), one SDK client
//!   (with its own connection pool) shared by all the tasks, as an application would.

use std::net::SocketAddr;

use bytes::Bytes;
use http::header::{HeaderMap, HeaderValue, AUTHORIZATION, CONTENT_TYPE, HOST};
use http::{Method, Request, StatusCode};
use http_body_util::{BodyExt, Full};
use hyper::client::conn::http1::SendRequest;
use hyper_util::rt::TokioIo;
use tokio::net::TcpStream;

use crate::payload;

static REQUEST_TIMEOUT: std::sync::OnceLock<std::time::Duration> = std::sync::OnceLock::new();

/// Every request (raw and SDK) gives up after this long, so every loop stays bounded.
pub fn set_request_timeout(t: std::time::Duration) {
    let _ = REQUEST_TIMEOUT.set(t);
}

pub fn request_timeout() -> std::time::Duration {
    *REQUEST_TIMEOUT.get_or_init(|| std::time::Duration::from_secs(10))
}

/// Where a target lives: `NAME=http://host:port`.
#[derive(Clone, Debug)]
pub struct Target {
    pub name: String,
    pub url: String,
    pub addr: SocketAddr,
    pub host: String,
}

impl Target {
    pub async fn parse(spec: &str) -> Result<Target, String> {
        let (name, url) = spec
            .split_once('=')
            .ok_or_else(|| format!("target {spec:?}: expected NAME=URL"))?;
        let uri: http::Uri = url.parse().map_err(|e| format!("target {spec:?}: {e}"))?;
        if uri.scheme_str() != Some("http") {
            return Err(format!("target {spec:?}: only http:// URLs are supported"));
        }
        let authority = uri
            .authority()
            .ok_or_else(|| format!("target {spec:?}: URL has no host"))?
            .to_string();
        let hostport = if uri.port().is_some() {
            authority.clone()
        } else {
            format!("{authority}:80")
        };
        let addr = tokio::net::lookup_host(&hostport)
            .await
            .map_err(|e| format!("target {spec:?}: {e}"))?
            .next()
            .ok_or_else(|| format!("target {spec:?}: no address"))?;
        if !addr.ip().is_loopback() {
            return Err(format!(
                "target {spec:?}: {addr} is not a loopback address; this benchmark only sends traffic to 127.0.0.0/8 or ::1"
            ));
        }
        Ok(Target {
            name: name.to_string(),
            url: url.trim_end_matches('/').to_string(),
            addr,
            host: authority,
        })
    }
}

/// Pre-built header sets, one per operation, cloned into each request.
#[derive(Clone)]
pub struct Headers {
    pub send: HeaderMap,
    pub send_batch: HeaderMap,
    pub receive: HeaderMap,
    pub delete: HeaderMap,
    pub create_queue: HeaderMap,
    pub delete_queue: HeaderMap,
}

impl Headers {
    pub fn new(host: &str) -> Headers {
        let base = |op: &str| {
            let mut h = HeaderMap::new();
            h.insert(HOST, HeaderValue::from_str(host).unwrap());
            h.insert(
                CONTENT_TYPE,
                HeaderValue::from_static("application/x-amz-json-1.0"),
            );
            h.insert(
                "x-amz-target",
                HeaderValue::from_str(&format!("AmazonSQS.{op}")).unwrap(),
            );
            h.insert("x-amz-date", HeaderValue::from_static(payload::AMZ_DATE));
            h.insert(AUTHORIZATION, HeaderValue::from_static(payload::AUTHORIZATION));
            h.insert("user-agent", HeaderValue::from_static("nimbus-bench/raw"));
            h
        };
        Headers {
            send: base("SendMessage"),
            send_batch: base("SendMessageBatch"),
            receive: base("ReceiveMessage"),
            delete: base("DeleteMessage"),
            create_queue: base("CreateQueue"),
            delete_queue: base("DeleteQueue"),
        }
    }
}

/// One keep-alive HTTP/1.1 connection. Reconnects after a transport error.
pub struct RawConn {
    addr: SocketAddr,
    sender: Option<SendRequest<Full<Bytes>>>,
}

impl RawConn {
    pub fn new(addr: SocketAddr) -> RawConn {
        RawConn { addr, sender: None }
    }

    async fn connect(&mut self) -> Result<(), String> {
        let stream = TcpStream::connect(self.addr)
            .await
            .map_err(|e| format!("connect {}: {e}", self.addr))?;
        let _ = stream.set_nodelay(true);
        let (sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
            .await
            .map_err(|e| format!("handshake: {e}"))?;
        tokio::spawn(async move {
            let _ = conn.await;
        });
        self.sender = Some(sender);
        Ok(())
    }

    /// Sends one `POST /` (JSON/query protocols); returns the status and the whole
    /// response body.
    pub async fn call(
        &mut self,
        headers: &HeaderMap,
        body: Bytes,
    ) -> Result<(StatusCode, Bytes), String> {
        self.request(Method::POST, http::Uri::from_static("/"), headers, body)
            .await
            .map(|(status, _, body)| (status, body))
    }

    /// Sends one request with any method and path (REST protocols); returns the status,
    /// the response headers and the whole response body.
    pub async fn request(
        &mut self,
        method: Method,
        uri: http::Uri,
        headers: &HeaderMap,
        body: Bytes,
    ) -> Result<(StatusCode, HeaderMap, Bytes), String> {
        let t = request_timeout();
        match tokio::time::timeout(t, self.call_inner(method, uri, headers, body)).await {
            Ok(r) => r,
            Err(_) => {
                // The connection may hold a late response: never reuse it.
                self.sender = None;
                Err(format!("timeout after {t:?}"))
            }
        }
    }

    async fn call_inner(
        &mut self,
        method: Method,
        uri: http::Uri,
        headers: &HeaderMap,
        body: Bytes,
    ) -> Result<(StatusCode, HeaderMap, Bytes), String> {
        if self.sender.as_ref().is_none_or(|s| s.is_closed()) {
            self.connect().await?;
        }
        if self.sender.as_mut().unwrap().ready().await.is_err() {
            // The server closed the idle connection (e.g. `Connection: close`, as
            // Werkzeug does): that is not an error, open a new one.
            self.connect().await?;
            if let Err(e) = self.sender.as_mut().unwrap().ready().await {
                self.sender = None;
                return Err(format!("connection: {e}"));
            }
        }
        let sender = self.sender.as_mut().unwrap();
        let mut req = Request::new(Full::new(body));
        *req.method_mut() = method;
        *req.uri_mut() = uri;
        *req.headers_mut() = headers.clone();
        let resp = match sender.send_request(req).await {
            Ok(r) => r,
            Err(e) => {
                self.sender = None;
                return Err(format!("request: {e}"));
            }
        };
        let (parts, body) = resp.into_parts();
        match body.collect().await {
            Ok(b) => Ok((parts.status, parts.headers, b.to_bytes())),
            Err(e) => {
                self.sender = None;
                Err(format!("response body: {e}"))
            }
        }
    }
}

pub fn status_error(op: &str, status: StatusCode, body: &[u8]) -> String {
    let snippet: String = String::from_utf8_lossy(&body[..body.len().min(200)]).into();
    format!("{op}: HTTP {status}: {snippet}")
}

#[derive(serde::Deserialize)]
struct ReceiveResponse {
    #[serde(rename = "Messages", default)]
    messages: Vec<ReceivedMessage>,
}

#[derive(serde::Deserialize)]
struct ReceivedMessage {
    #[serde(rename = "ReceiptHandle")]
    receipt_handle: String,
}

/// Raw-mode client for one queue: a connection plus the pre-built requests.
pub struct RawClient {
    conn: RawConn,
    headers: Headers,
    queue_url: String,
    send_body: Bytes,
    receive_body: Bytes,
}

impl RawClient {
    pub fn new(target: &Target, queue_url: &str, message: &str) -> RawClient {
        RawClient {
            conn: RawConn::new(target.addr),
            headers: Headers::new(&target.host),
            queue_url: queue_url.to_string(),
            send_body: Bytes::from(payload::send_message(queue_url, message)),
            receive_body: Bytes::from(payload::receive_message(queue_url)),
        }
    }

    pub async fn send(&mut self) -> Result<(), String> {
        let (status, body) = self
            .conn
            .call(&self.headers.send, self.send_body.clone())
            .await?;
        if !status.is_success() {
            return Err(status_error("SendMessage", status, &body));
        }
        Ok(())
    }

    /// `Ok(None)` is an empty receive.
    pub async fn receive(&mut self) -> Result<Option<String>, String> {
        let (status, body) = self
            .conn
            .call(&self.headers.receive, self.receive_body.clone())
            .await?;
        if !status.is_success() {
            return Err(status_error("ReceiveMessage", status, &body));
        }
        let parsed: ReceiveResponse = serde_json::from_slice(&body)
            .map_err(|e| format!("ReceiveMessage: bad JSON ({e}): {}", String::from_utf8_lossy(&body[..body.len().min(200)])))?;
        Ok(parsed.messages.into_iter().next().map(|m| m.receipt_handle))
    }

    pub async fn delete(&mut self, receipt_handle: &str) -> Result<(), String> {
        let body = Bytes::from(payload::delete_message(&self.queue_url, receipt_handle));
        let (status, body) = self.conn.call(&self.headers.delete, body).await?;
        if !status.is_success() {
            return Err(status_error("DeleteMessage", status, &body));
        }
        Ok(())
    }
}

/// Setup and teardown calls go through the SDK (signed) when the bench signs with given
/// credentials (`NIMBUS_BENCH_ACCESS_KEY_ID`: servers that verify signatures).
fn signed_admin() -> bool {
    std::env::var_os("NIMBUS_BENCH_ACCESS_KEY_ID").is_some()
}

/// Setup and teardown calls (create/delete queue, prefill), over raw HTTP unless signed.
pub struct Admin {
    conn: RawConn,
    headers: Headers,
    target: Target,
}

impl Admin {
    pub fn new(target: &Target) -> Admin {
        Admin {
            conn: RawConn::new(target.addr),
            headers: Headers::new(&target.host),
            target: target.clone(),
        }
    }

    pub async fn create_queue(&mut self, name: &str) -> Result<String, String> {
        if signed_admin() {
            let out = build_sdk(&self.target).create_queue().queue_name(name).send().await.map_err(|e| sdk_err("CreateQueue", e))?;
            return out.queue_url.ok_or_else(|| "CreateQueue: no QueueUrl".to_string());
        }
        let (status, body) = self
            .conn
            .call(&self.headers.create_queue, Bytes::from(payload::create_queue(name)))
            .await?;
        if !status.is_success() {
            return Err(status_error("CreateQueue", status, &body));
        }
        let v: serde_json::Value = serde_json::from_slice(&body)
            .map_err(|e| format!("CreateQueue: bad JSON: {e}"))?;
        Ok(v.get("QueueUrl")
            .and_then(|u| u.as_str())
            .map(str::to_string)
            .unwrap_or_else(|| format!("{}/000000000000/{name}", self.target.url)))
    }

    pub async fn delete_queue(&mut self, queue_url: &str) -> Result<(), String> {
        if signed_admin() {
            build_sdk(&self.target).delete_queue().queue_url(queue_url).send().await.map_err(|e| sdk_err("DeleteQueue", e))?;
            return Ok(());
        }
        let (status, body) = self
            .conn
            .call(&self.headers.delete_queue, Bytes::from(payload::delete_queue(queue_url)))
            .await?;
        if !status.is_success() {
            return Err(status_error("DeleteQueue", status, &body));
        }
        Ok(())
    }

    /// One SendMessageBatch of `n` entries; returns how many the server accepted.
    pub async fn send_batch(&mut self, body: Bytes, n: usize) -> Result<usize, String> {
        let (status, resp) = self.conn.call(&self.headers.send_batch, body).await?;
        if !status.is_success() {
            return Err(status_error("SendMessageBatch", status, &resp));
        }
        let v: serde_json::Value = serde_json::from_slice(&resp)
            .map_err(|e| format!("SendMessageBatch: bad JSON: {e}"))?;
        let failed = v
            .get("Failed")
            .and_then(|f| f.as_array())
            .map(|a| a.len())
            .unwrap_or(0);
        Ok(n.saturating_sub(failed))
    }
}

/// SDK-mode client; cheap to clone (the SDK client is an `Arc` inside).
#[derive(Clone)]
pub struct SdkClient {
    client: aws_sdk_sqs::Client,
    queue_url: String,
    message: String,
}

pub fn build_sdk(target: &Target) -> aws_sdk_sqs::Client {
    use aws_sdk_sqs::config::retry::RetryConfig;
    use aws_sdk_sqs::config::{BehaviorVersion, Credentials, Region};
    let http = aws_smithy_http_client::Builder::new().build_http();
    // `bench/auth.sh` signs as an IAM user of a `--auth iam` server.
    let key = std::env::var("NIMBUS_BENCH_ACCESS_KEY_ID").unwrap_or_else(|_| "AKIAIOSFODNN7EXAMPLE".into());
    let secret = std::env::var("NIMBUS_BENCH_SECRET_ACCESS_KEY").unwrap_or_else(|_| "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY".into());
    let creds = Credentials::new(key, secret, None, None, "nimbus-bench");
    let conf = aws_sdk_sqs::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new("us-east-1"))
        .endpoint_url(&target.url)
        .credentials_provider(creds)
        .http_client(http)
        // Errors are counted, not hidden behind retries.
        .retry_config(RetryConfig::disabled())
        .timeout_config(
            aws_sdk_sqs::config::timeout::TimeoutConfig::builder()
                .operation_timeout(request_timeout())
                .build(),
        )
        .build();
    aws_sdk_sqs::Client::from_conf(conf)
}

fn sdk_err<E: std::error::Error>(op: &str, e: E) -> String {
    // DisplayErrorContext shows the whole chain (service code, HTTP status).
    format!("{op}: {}", aws_sdk_sqs::error::DisplayErrorContext(e))
}

impl SdkClient {
    pub fn new(client: aws_sdk_sqs::Client, queue_url: &str, message: &str) -> SdkClient {
        SdkClient {
            client,
            queue_url: queue_url.to_string(),
            message: message.to_string(),
        }
    }

    pub async fn send(&mut self) -> Result<(), String> {
        self.client
            .send_message()
            .queue_url(&self.queue_url)
            .message_body(&self.message)
            .send()
            .await
            .map(|_| ())
            .map_err(|e| sdk_err("SendMessage", e))
    }

    pub async fn receive(&mut self) -> Result<Option<String>, String> {
        let out = self
            .client
            .receive_message()
            .queue_url(&self.queue_url)
            .max_number_of_messages(1)
            .wait_time_seconds(0)
            .send()
            .await
            .map_err(|e| sdk_err("ReceiveMessage", e))?;
        Ok(out
            .messages
            .unwrap_or_default()
            .into_iter()
            .next()
            .and_then(|m| m.receipt_handle))
    }

    pub async fn delete(&mut self, receipt_handle: &str) -> Result<(), String> {
        self.client
            .delete_message()
            .queue_url(&self.queue_url)
            .receipt_handle(receipt_handle)
            .send()
            .await
            .map(|_| ())
            .map_err(|e| sdk_err("DeleteMessage", e))
    }
}

pub enum Client {
    Raw(RawClient),
    Sdk(SdkClient),
}

impl Client {
    pub async fn send(&mut self) -> Result<(), String> {
        match self {
            Client::Raw(c) => c.send().await,
            Client::Sdk(c) => c.send().await,
        }
    }
    pub async fn receive(&mut self) -> Result<Option<String>, String> {
        match self {
            Client::Raw(c) => c.receive().await,
            Client::Sdk(c) => c.receive().await,
        }
    }
    pub async fn delete(&mut self, receipt_handle: &str) -> Result<(), String> {
        match self {
            Client::Raw(c) => c.delete(receipt_handle).await,
            Client::Sdk(c) => c.delete(receipt_handle).await,
        }
    }
}
