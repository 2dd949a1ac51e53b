//! `nimbus-bench esm`: SQS → Lambda event source mappings, with the `provided.al2023`
//! test function (`nimbus-test-fn`), which on an SQS event prints
//! `ESM <now ms> <records> <min SentTimestamp ms>` and returns `{}`.
//!
//! - **latency**: one idle mapping (BatchSize 1, no window); `--samples` times: send one
//!   message, wait until the queue is empty again (the mapping is idle), pause. Then the
//!   `ESM` lines are read back with CloudWatch Logs FilterLogEvents and each gives
//!   handler start − SentTimestamp: SendMessage accepted by nimbus → the handler running
//!   (receive, event build, Runtime API hand-over). Both clocks are the host's wall clock
//!   in whole milliseconds, so each sample is ±1 ms.
//! - **throughput**: per batch size, `--runs` times: a fresh queue prefilled with
//!   `--messages` messages (SendMessageBatch, 16 concurrent senders, not measured), then
//!   CreateEventSourceMapping (BatchSize N, `--window`) and the time until
//!   ApproximateNumberOfMessages + ApproximateNumberOfMessagesNotVisible is 0 (polled every
//!   25 ms); msg/s = messages / that time. The mapping's five pollers start with it, so
//!   the five environments' cold starts are inside the measurement.
//!
//! Control plane over raw REST-JSON (as `nimbus-bench lambda`), SQS through the SDK.

use std::sync::Arc;
use std::time::{Duration, Instant};

use aws_sdk_sqs::types::{QueueAttributeName, SendMessageBatchRequestEntry};
use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use bytes::Bytes;
use http::header::{HeaderValue, CONTENT_TYPE};
use http::{Method, Uri};
use serde_json::{json, Value};

use crate::client::{build_sdk, status_error, RawConn, Target};
use crate::lambda::{base_headers, zip_bootstrap, AUTHORIZATION_LAMBDA};

const ROLE: &str = "arn:aws:iam::000000000000:role/bench";

pub struct Config {
    pub target: Target,
    pub bootstrap: std::path::PathBuf,
    pub samples: usize,
    pub messages: usize,
    pub batch_sizes: Vec<u32>,
    pub window_s: u32,
    pub runs: usize,
    pub json: Option<String>,
}

pub(crate) struct Rest {
    conn: RawConn,
    headers: http::HeaderMap,
    logs_headers: http::HeaderMap,
}

impl Rest {
    pub(crate) fn new(target: &Target) -> Rest {
        let mut headers = base_headers(&target.host, AUTHORIZATION_LAMBDA);
        headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
        let mut logs_headers = base_headers(&target.host, AUTHORIZATION_LAMBDA);
        logs_headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/x-amz-json-1.1"));
        logs_headers.insert("x-amz-target", HeaderValue::from_static("Logs_20140328.FilterLogEvents"));
        Rest { conn: RawConn::new(target.addr), headers, logs_headers }
    }

    pub(crate) async fn call(&mut self, op: &str, method: Method, path: &str, body: Option<Value>) -> Result<Value, String> {
        let uri: Uri = path.parse().map_err(|e| format!("{path}: {e}"))?;
        let body = body.map(|b| Bytes::from(b.to_string())).unwrap_or_default();
        let (status, _, resp) = self.conn.request(method, uri, &self.headers, body).await?;
        if !status.is_success() {
            return Err(status_error(op, status, &resp));
        }
        Ok(serde_json::from_slice(&resp).unwrap_or(Value::Null))
    }

    async fn filter_logs(&mut self, group: &str, token: Option<String>) -> Result<Value, String> {
        let mut body = json!({ "logGroupName": group, "filterPattern": "ESM" });
        if let Some(t) = token {
            body["nextToken"] = json!(t);
        }
        let (status, resp) = self.conn.call(&self.logs_headers, Bytes::from(body.to_string())).await?;
        if !status.is_success() {
            return Err(status_error("FilterLogEvents", status, &resp));
        }
        serde_json::from_slice(&resp).map_err(|e| format!("FilterLogEvents: {e}"))
    }
}

/// (handler start ms, records, min SentTimestamp ms) of every `ESM` line.
async fn esm_lines(rest: &mut Rest, function: &str) -> Result<Vec<(u64, u64, u64)>, String> {
    let mut out = Vec::new();
    let mut token = None;
    loop {
        let page = rest.filter_logs(&format!("/aws/lambda/{function}"), token.take()).await?;
        for e in page["events"].as_array().cloned().unwrap_or_default() {
            let msg = e["message"].as_str().unwrap_or_default();
            let f: Vec<&str> = msg.split_whitespace().collect();
            if f.len() == 4 && f[0] == "ESM" {
                if let (Ok(a), Ok(b), Ok(c)) = (f[1].parse(), f[2].parse(), f[3].parse()) {
                    out.push((a, b, c));
                }
            }
        }
        match page["nextToken"].as_str() {
            Some(t) if !t.is_empty() => token = Some(t.to_string()),
            _ => return Ok(out),
        }
    }
}

/// CreateFunction of the test function (`env`: its environment variables), then waits
/// until it is Active.
pub(crate) async fn create_function(rest: &mut Rest, name: &str, zip: &[u8], env: Value) -> Result<(), String> {
    rest.call(
        "CreateFunction",
        Method::POST,
        "/2015-03-31/functions",
        Some(json!({
            "FunctionName": name, "Runtime": "provided.al2023", "Role": ROLE, "Handler": "bootstrap",
            "Code": { "ZipFile": B64.encode(zip) }, "Timeout": 30, "MemorySize": 128,
            "Environment": { "Variables": env },
        })),
    )
    .await?;
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let c = rest.call("GetFunctionConfiguration", Method::GET, &format!("/2015-03-31/functions/{name}/configuration"), None).await?;
        if c["State"] == "Active" {
            return Ok(());
        }
        if c["State"] == "Failed" {
            return Err(format!("{name} Failed: {} {}", c["StateReasonCode"], c["StateReason"]));
        }
        if Instant::now() > deadline {
            return Err(format!("{name} not Active: {c}"));
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

async fn create_mapping(rest: &mut Rest, arn: &str, function: &str, batch: u32, window: u32) -> Result<String, String> {
    let m = rest
        .call(
            "CreateEventSourceMapping",
            Method::POST,
            "/2015-03-31/event-source-mappings/",
            Some(json!({ "EventSourceArn": arn, "FunctionName": function, "BatchSize": batch, "MaximumBatchingWindowInSeconds": window })),
        )
        .await?;
    m["UUID"].as_str().map(str::to_string).ok_or_else(|| format!("no UUID in {m}"))
}

async fn delete_mapping(rest: &mut Rest, uuid: &str) -> Result<(), String> {
    rest.call("DeleteEventSourceMapping", Method::DELETE, &format!("/2015-03-31/event-source-mappings/{uuid}"), None).await.map(|_| ())
}

async fn queue(sqs: &aws_sdk_sqs::Client, name: &str) -> Result<(String, String), String> {
    let url = sqs
        .create_queue()
        .queue_name(name)
        .attributes(QueueAttributeName::VisibilityTimeout, "60")
        .send()
        .await
        .map_err(|e| format!("CreateQueue: {}", aws_sdk_sqs::error::DisplayErrorContext(e)))?
        .queue_url
        .unwrap_or_default();
    let arn = sqs
        .get_queue_attributes()
        .queue_url(&url)
        .attribute_names(QueueAttributeName::QueueArn)
        .send()
        .await
        .map_err(|e| format!("GetQueueAttributes: {}", aws_sdk_sqs::error::DisplayErrorContext(e)))?
        .attributes
        .and_then(|mut a| a.remove(&QueueAttributeName::QueueArn))
        .unwrap_or_default();
    Ok((url, arn))
}

async fn depth(sqs: &aws_sdk_sqs::Client, url: &str) -> Result<u64, String> {
    let a = sqs
        .get_queue_attributes()
        .queue_url(url)
        .attribute_names(QueueAttributeName::ApproximateNumberOfMessages)
        .attribute_names(QueueAttributeName::ApproximateNumberOfMessagesNotVisible)
        .send()
        .await
        .map_err(|e| format!("GetQueueAttributes: {}", aws_sdk_sqs::error::DisplayErrorContext(e)))?
        .attributes
        .unwrap_or_default();
    Ok(a.values().filter_map(|v| v.parse::<u64>().ok()).sum())
}

async fn wait_empty(sqs: &aws_sdk_sqs::Client, url: &str, poll: Duration, limit: Duration) -> Result<Duration, String> {
    let t = Instant::now();
    loop {
        if depth(sqs, url).await? == 0 {
            return Ok(t.elapsed());
        }
        if t.elapsed() > limit {
            return Err(format!("queue not empty after {limit:?}"));
        }
        tokio::time::sleep(poll).await;
    }
}

async fn prefill(sqs: &aws_sdk_sqs::Client, url: &str, n: usize) -> Result<(), String> {
    let calls = n.div_ceil(10);
    let next = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let mut tasks = Vec::new();
    for _ in 0..16 {
        let (sqs, url, next) = (sqs.clone(), url.to_string(), next.clone());
        tasks.push(tokio::spawn(async move {
            loop {
                let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                if i >= calls {
                    return Ok::<(), String>(());
                }
                let count = (n - i * 10).min(10);
                let mut req = sqs.send_message_batch().queue_url(&url);
                for j in 0..count {
                    req = req.entries(SendMessageBatchRequestEntry::builder().id(format!("m{j}")).message_body(format!("{{\"n\":{}}}", i * 10 + j)).build().unwrap());
                }
                req.send().await.map_err(|e| format!("SendMessageBatch: {}", aws_sdk_sqs::error::DisplayErrorContext(e)))?;
            }
        }));
    }
    for t in tasks {
        t.await.map_err(|e| e.to_string())??;
    }
    Ok(())
}

fn pct(sorted: &[f64], q: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    sorted[((sorted.len() as f64 - 1.0) * q).round() as usize]
}

fn median(v: &[f64]) -> f64 {
    let mut s = v.to_vec();
    s.sort_by(|a, b| a.partial_cmp(b).unwrap());
    pct(&s, 0.5)
}

pub async fn run(cfg: Config) -> Result<(), String> {
    let zip = zip_bootstrap(&cfg.bootstrap)?;
    let sqs = build_sdk(&cfg.target);
    let mut rest = Rest::new(&cfg.target);
    let id = || uuid::Uuid::new_v4().simple().to_string()[..8].to_string();
    let function = format!("bench-esm-{}", id());
    create_function(&mut rest, &function, &zip, json!({})).await?;
    let mut doc = json!({ "function": function });

    // (a) latency
    if cfg.samples > 0 {
        let (url, arn) = queue(&sqs, &format!("bench-esm-lat-{}", id())).await?;
        let uuid = create_mapping(&mut rest, &arn, &function, 1, 0).await?;
        // Warm: the first message starts the environment.
        sqs.send_message().queue_url(&url).message_body("warm").send().await.map_err(|e| format!("SendMessage: {e}"))?;
        wait_empty(&sqs, &url, Duration::from_millis(5), Duration::from_secs(30)).await?;
        tokio::time::sleep(Duration::from_millis(300)).await;
        let before = esm_lines(&mut rest, &function).await?.len();
        for i in 0..cfg.samples {
            sqs.send_message().queue_url(&url).message_body(format!("lat-{i}")).send().await.map_err(|e| format!("SendMessage: {e}"))?;
            wait_empty(&sqs, &url, Duration::from_millis(2), Duration::from_secs(30)).await?;
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        delete_mapping(&mut rest, &uuid).await?;
        tokio::time::sleep(Duration::from_millis(500)).await;
        let lines = esm_lines(&mut rest, &function).await?;
        let mut lat: Vec<f64> = lines.iter().skip(before).map(|&(start, _, sent)| start as f64 - sent as f64).collect();
        lat.sort_by(|a, b| a.partial_cmp(b).unwrap());
        println!();
        println!("== esm latency: SendMessage (SentTimestamp) → handler start, idle mapping, BatchSize 1, {} samples (ms, ±1)", lat.len());
        println!("p50 {:.0} ms  p90 {:.0} ms  p99 {:.0} ms  max {:.0} ms  min {:.0} ms", pct(&lat, 0.5), pct(&lat, 0.9), pct(&lat, 0.99), pct(&lat, 1.0), pct(&lat, 0.0));
        doc["latency_ms"] = json!({ "samples": lat.len(), "p50": pct(&lat, 0.5), "p90": pct(&lat, 0.9), "p99": pct(&lat, 0.99), "max": pct(&lat, 1.0), "all": lat });
    }

    // (b) throughput
    let mut rows = Vec::new();
    for &batch in &cfg.batch_sizes {
        let mut rates = Vec::new();
        let mut invocations = Vec::new();
        for run in 0..cfg.runs {
            let (url, arn) = queue(&sqs, &format!("bench-esm-tp-{}", id())).await?;
            prefill(&sqs, &url, cfg.messages).await?;
            let lines_before = esm_lines(&mut rest, &function).await?.len();
            let t = Instant::now();
            let uuid = create_mapping(&mut rest, &arn, &function, batch, cfg.window_s).await?;
            let limit = Duration::from_secs(120 + cfg.messages as u64 / 100);
            let took = wait_empty(&sqs, &url, Duration::from_millis(25), limit).await.map(|_| t.elapsed());
            delete_mapping(&mut rest, &uuid).await?;
            let took = took?;
            let rate = cfg.messages as f64 / took.as_secs_f64();
            tokio::time::sleep(Duration::from_millis(300)).await;
            let n_inv = esm_lines(&mut rest, &function).await?.len().saturating_sub(lines_before);
            eprintln!(
                "[esm throughput batch={batch} run={}] {} messages in {:.3} s = {:.0} msg/s, {} invocations (mean batch {:.1})",
                run + 1,
                cfg.messages,
                took.as_secs_f64(),
                rate,
                n_inv,
                cfg.messages as f64 / n_inv.max(1) as f64
            );
            rates.push(rate);
            invocations.push(n_inv as f64);
            let _ = sqs.delete_queue().queue_url(&url).send().await;
        }
        rows.push(json!({ "batch_size": batch, "window_s": cfg.window_s, "messages": cfg.messages, "runs": rates, "median_msg_per_s": median(&rates), "median_invocations": median(&invocations) }));
    }
    if !rows.is_empty() {
        println!();
        println!("== esm throughput: {} prefilled messages, no-op Rust function, window {} s, median of {} runs (mapping creation → queue empty)", cfg.messages, cfg.window_s, cfg.runs);
        println!("{:>10} {:>12} {:>12}  runs msg/s", "batch size", "msg/s", "invocations");
        for r in &rows {
            println!(
                "{:>10} {:>12.0} {:>12.0}  {:?}",
                r["batch_size"],
                r["median_msg_per_s"].as_f64().unwrap_or(0.0),
                r["median_invocations"].as_f64().unwrap_or(0.0),
                r["runs"].as_array().unwrap().iter().map(|v| v.as_f64().unwrap_or(0.0).round()).collect::<Vec<_>>()
            );
        }
        doc["throughput"] = json!(rows);
    }
    let _ = rest.call("DeleteFunction", Method::DELETE, &format!("/2015-03-31/functions/{function}"), None).await;
    if let Some(path) = &cfg.json {
        std::fs::write(path, serde_json::to_vec_pretty(&doc).unwrap()).map_err(|e| format!("write {path}: {e}"))?;
        eprintln!("results written to {path}");
    }
    Ok(())
}
