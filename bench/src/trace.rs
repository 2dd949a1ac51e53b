//! `nimbus-bench trace`: what tracing costs. In one run against one nimbus:
//! - SendMessage throughput without a trace header and with
//!   `X-Amzn-Trace-Id: Root=<new root per request>;Parent=…;Sampled=1` (nimbus then records
//!   an SQS segment per call), alternating the two for `--rounds` rounds so both see the
//!   same machine;
//! - the same for Lambda Invoke of the `provided.al2023` test function (untraced:
//!   `Sampled=0`, since Invoke without a header starts a trace as on AWS), when
//!   `--bootstrap` exists;
//! - GetTraceSummaries latency over `--traces` stored traces (loaded with
//!   PutTraceSegments, two segments each, 1% faulting): the first page without a filter,
//!   with `fault` (few matches: a longer scan) and with `service("checkout")`.
//! Raw HTTP/1.1 keep-alive requests, no SDK; closed loop of N clients per case.

use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use bytes::Bytes;
use http::header::{HeaderMap, HeaderValue, AUTHORIZATION, CONTENT_TYPE};
use http::{Method, Uri};

use crate::client::{status_error, Headers, RawConn, Target};
use crate::payload;

const AUTH_XRAY: &str = "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20261122/us-east-1/xray/aws4_request, SignedHeaders=host;x-amz-date, Signature=0000000000000000000000000000000000000000000000000000000000000000";

pub struct Config {
    pub target: Target,
    pub clients: Vec<usize>,
    pub duration: Duration,
    pub rounds: usize,
    pub bootstrap: PathBuf,
    pub traces: usize,
    pub samples: usize,
}

static ROOTS: AtomicU64 = AtomicU64::new(1);

fn now_s() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0)
}

/// A new sampled trace header (a new root per request, as independent requests have).
fn traced_header() -> HeaderValue {
    let n = ROOTS.fetch_add(1, Ordering::Relaxed);
    HeaderValue::from_str(&format!("Root=1-{:08x}-{:024x};Parent=53995c3f42cd8ad8;Sampled=1", now_s() as u32, n)).expect("header")
}

/// What one request of a case looks like.
#[derive(Clone)]
struct Req {
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
    /// Add a fresh sampled `X-Amzn-Trace-Id` to each request.
    traced: bool,
}

/// N clients in a closed loop for `duration`: (requests/s, p50 ms, p99 ms, errors).
async fn closed_loop(target: &Target, req: &Req, clients: usize, duration: Duration) -> (f64, f64, f64, u64) {
    let deadline = Instant::now() + duration;
    let mut tasks = Vec::new();
    for _ in 0..clients {
        let (req, addr) = (req.clone(), target.addr);
        tasks.push(tokio::spawn(async move {
            let mut conn = RawConn::new(addr);
            let (mut lat, mut errors) = (Vec::new(), 0u64);
            while Instant::now() < deadline {
                let mut h = req.headers.clone();
                if req.traced {
                    h.insert("x-amzn-trace-id", traced_header());
                }
                let t = Instant::now();
                match conn.request(req.method.clone(), req.uri.clone(), &h, req.body.clone()).await {
                    Ok((s, _, _)) if s.is_success() => lat.push(t.elapsed().as_secs_f64() * 1000.0),
                    _ => errors += 1,
                }
            }
            (lat, errors)
        }));
    }
    let (mut all, mut errors) = (Vec::new(), 0);
    for t in tasks {
        if let Ok((l, e)) = t.await {
            all.extend(l);
            errors += e;
        }
    }
    all.sort_by(|a, b| a.total_cmp(b));
    let pct = |p: f64| all.get(((all.len() as f64 * p) as usize).min(all.len().saturating_sub(1))).copied().unwrap_or(f64::NAN);
    (all.len() as f64 / duration.as_secs_f64(), pct(0.5), pct(0.99), errors)
}

/// Alternates the untraced and traced requests `rounds` times per client count; prints
/// the mean throughput of each and the cost.
async fn compare(cfg: &Config, what: &str, untraced: Req, traced: Req) {
    for &c in &cfg.clients {
        let (mut a, mut b) = (Vec::new(), Vec::new());
        let (mut pa, mut pb) = (Vec::new(), Vec::new());
        let mut errors = 0;
        for _ in 0..cfg.rounds {
            let (r, p50, _, e) = closed_loop(&cfg.target, &untraced, c, cfg.duration).await;
            a.push(r);
            pa.push(p50);
            errors += e;
            let (r, p50, _, e) = closed_loop(&cfg.target, &traced, c, cfg.duration).await;
            b.push(r);
            pb.push(p50);
            errors += e;
        }
        let mean = |v: &[f64]| v.iter().sum::<f64>() / v.len().max(1) as f64;
        let (ra, rb) = (mean(&a), mean(&b));
        println!(
            "{what:<12} {c:>3} clients  untraced {ra:>9.0}/s (p50 {:.3} ms)  traced {rb:>9.0}/s (p50 {:.3} ms)  cost {:>5.1}%  errors {errors}",
            mean(&pa),
            mean(&pb),
            (1.0 - rb / ra) * 100.0
        );
    }
}

fn base(target: &Target, auth: &'static str) -> HeaderMap {
    let mut h = HeaderMap::new();
    h.insert(http::header::HOST, HeaderValue::from_str(&target.host).unwrap_or(HeaderValue::from_static("localhost")));
    h.insert("x-amz-date", HeaderValue::from_static(payload::AMZ_DATE));
    h.insert(AUTHORIZATION, HeaderValue::from_static(auth));
    h.insert("user-agent", HeaderValue::from_static("nimbus-bench/raw"));
    h
}

async fn send_message(cfg: &Config) -> Result<(), String> {
    let headers = Headers::new(&cfg.target.host);
    let mut conn = RawConn::new(cfg.target.addr);
    let name = format!("trace-bench-{}", &uuid::Uuid::new_v4().simple().to_string()[..8]);
    let (status, body) = conn.call(&headers.create_queue, Bytes::from(serde_json::json!({ "QueueName": name }).to_string())).await?;
    if !status.is_success() {
        return Err(status_error("CreateQueue", status, &body));
    }
    let url: serde_json::Value = serde_json::from_slice(&body).map_err(|e| e.to_string())?;
    let url = url["QueueUrl"].as_str().ok_or("CreateQueue: no QueueUrl")?.to_string();
    let req = Req {
        method: Method::POST,
        uri: Uri::from_static("/"),
        headers: headers.send.clone(),
        body: Bytes::from(payload::send_message(&url, &payload::message_body(payload::DEFAULT_MESSAGE_SIZE))),
        traced: false,
    };
    compare(cfg, "SendMessage", req.clone(), Req { traced: true, ..req }).await;
    Ok(())
}

async fn invoke(cfg: &Config) -> Result<(), String> {
    let zip = crate::lambda::zip_bootstrap(&cfg.bootstrap)?;
    let name = format!("trace-bench-{}", &uuid::Uuid::new_v4().simple().to_string()[..8]);
    let mut control = base(&cfg.target, crate::lambda::AUTHORIZATION_LAMBDA);
    control.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    let body = serde_json::json!({
        "FunctionName": name, "Runtime": "provided.al2023", "Role": "arn:aws:iam::000000000000:role/bench",
        "Handler": "bootstrap", "Code": { "ZipFile": B64.encode(&zip) }, "Timeout": 30, "MemorySize": 128,
    });
    let mut conn = RawConn::new(cfg.target.addr);
    let (status, _, resp) = conn.request(Method::POST, Uri::from_static("/2015-03-31/functions"), &control, Bytes::from(body.to_string())).await?;
    if !status.is_success() {
        return Err(status_error("CreateFunction", status, &resp));
    }
    let get: Uri = format!("/2015-03-31/functions/{name}").parse().map_err(|e| format!("{e}"))?;
    let started = Instant::now();
    loop {
        let (_, _, resp) = conn.request(Method::GET, get.clone(), &control, Bytes::new()).await?;
        let v: serde_json::Value = serde_json::from_slice(&resp).unwrap_or_default();
        if v["Configuration"]["State"] == "Active" {
            break;
        }
        if started.elapsed() > Duration::from_secs(60) {
            return Err("function not Active after 60 s".into());
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let uri: Uri = format!("/2015-03-31/functions/{name}/invocations").parse().map_err(|e| format!("{e}"))?;
    let mut untraced = control.clone();
    untraced.insert("x-amzn-trace-id", HeaderValue::from_static("Root=1-5759e988-bd862e3fe1be46a994272793;Sampled=0"));
    let req = Req { method: Method::POST, uri, headers: untraced, body: Bytes::from_static(br#"{"action":"echo"}"#), traced: false };
    // Warm the environments the largest client count needs.
    let most = cfg.clients.iter().copied().max().unwrap_or(1);
    let _ = closed_loop(&cfg.target, &req, most, Duration::from_millis(500)).await;
    compare(cfg, "Invoke", req.clone(), Req { headers: control, traced: true, ..req }).await;
    let _ = conn.request(Method::DELETE, get, &base(&cfg.target, crate::lambda::AUTHORIZATION_LAMBDA), Bytes::new()).await;
    Ok(())
}

async fn summaries(cfg: &Config) -> Result<(), String> {
    let mut h = base(&cfg.target, AUTH_XRAY);
    h.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    let now = now_s();
    // Load: batches of 250 traces (500 documents) on 4 connections.
    let loaded = Instant::now();
    let per_batch = 250usize;
    let batches = cfg.traces.div_ceil(per_batch);
    let next = Arc::new(AtomicU64::new(0));
    let mut tasks = Vec::new();
    for _ in 0..4 {
        let (h, next, addr, total) = (h.clone(), next.clone(), cfg.target.addr, cfg.traces);
        tasks.push(tokio::spawn(async move {
            let mut conn = RawConn::new(addr);
            loop {
                let b = next.fetch_add(1, Ordering::Relaxed) as usize;
                if b >= batches {
                    return Ok::<(), String>(());
                }
                let mut docs = Vec::new();
                for i in b * per_batch..((b + 1) * per_batch).min(total) {
                    // Spread over the last hour, as live traffic would be.
                    let t = now as f64 - 3600.0 + (i as f64 / total as f64) * 3590.0;
                    let trace = format!("1-{:08x}-{:024x}", t as u32, 0xbe00_0000_0000u64 + i as u64);
                    let root = format!("{:016x}", 0x1000_0000u64 + i as u64 * 2);
                    let fault = i % 100 == 0;
                    let name = if i % 10 == 0 { "checkout" } else { "orders" };
                    docs.push(serde_json::json!({ "name": name, "id": root, "trace_id": trace, "start_time": t, "end_time": t + 0.120, "origin": "AWS::Lambda::Function",
                        "http": { "request": { "method": "POST", "url": "https://api.example.com/orders" }, "response": { "status": if fault { 502 } else { 200 } } },
                        "fault": fault, "annotations": { "customer": format!("c{}", i % 1000) } }).to_string());
                    docs.push(serde_json::json!({ "name": "SQS", "id": format!("{:016x}", 0x1000_0001u64 + i as u64 * 2), "parent_id": root, "trace_id": trace, "start_time": t + 0.01, "end_time": t + 0.02,
                        "origin": "AWS::SQS::Queue", "aws": { "operation": "SendMessage" } }).to_string());
                }
                let body = serde_json::json!({ "TraceSegmentDocuments": docs }).to_string();
                let (s, _, resp) = conn.request(Method::POST, Uri::from_static("/TraceSegments"), &h, Bytes::from(body)).await?;
                if !s.is_success() {
                    return Err(status_error("PutTraceSegments", s, &resp));
                }
            }
        }));
    }
    for t in tasks {
        t.await.map_err(|e| e.to_string())??;
    }
    println!("loaded {} traces ({} documents) in {:.1} s", cfg.traces, cfg.traces * 2, loaded.elapsed().as_secs_f64());
    let mut conn = RawConn::new(cfg.target.addr);
    for filter in [None, Some("fault"), Some("service(\"checkout\")"), Some("annotation.customer = \"c7\"")] {
        let mut body = serde_json::json!({ "StartTime": now - 3600, "EndTime": now + 60 });
        if let Some(f) = filter {
            body["FilterExpression"] = f.into();
        }
        let body = Bytes::from(body.to_string());
        let mut lat = Vec::new();
        let mut page = 0;
        for _ in 0..cfg.samples {
            let t = Instant::now();
            let (s, _, resp) = conn.request(Method::POST, Uri::from_static("/TraceSummaries"), &h, body.clone()).await?;
            lat.push(t.elapsed().as_secs_f64() * 1000.0);
            if !s.is_success() {
                return Err(status_error("GetTraceSummaries", s, &resp));
            }
            let v: serde_json::Value = serde_json::from_slice(&resp).unwrap_or_default();
            page = v["TraceSummaries"].as_array().map(Vec::len).unwrap_or(0);
        }
        lat.sort_by(|a, b| a.total_cmp(b));
        let pct = |p: f64| lat.get(((lat.len() as f64 * p) as usize).min(lat.len().saturating_sub(1))).copied().unwrap_or(f64::NAN);
        println!(
            "GetTraceSummaries first page over {} traces, filter {:<28} {page:>3} summaries  p50 {:>7.2} ms  p99 {:>7.2} ms",
            cfg.traces,
            filter.unwrap_or("(none)"),
            pct(0.5),
            pct(0.99)
        );
    }
    Ok(())
}

pub async fn run(cfg: Config) -> Result<(), String> {
    println!("Tracing cost: {} s per case, {} rounds alternating untraced/traced", cfg.duration.as_secs_f64(), cfg.rounds);
    send_message(&cfg).await?;
    if cfg.bootstrap.exists() {
        invoke(&cfg).await?;
    } else {
        println!("Invoke: skipped ({} not built: cargo build --release -p nimbus-test-fn)", cfg.bootstrap.display());
    }
    if cfg.traces > 0 {
        summaries(&cfg).await?;
    }
    Ok(())
}
