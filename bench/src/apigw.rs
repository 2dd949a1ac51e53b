//! `nimbus-bench apigw`: what an API Gateway HTTP API adds in front of a Lambda function.
//!
//! One `provided.al2023` test function (`nimbus-test-fn`, which echoes its event) and one
//! HTTP API made by quick create (`Target` = the function: an `AWS_PROXY` integration with
//! payload format 2.0 on a `$default` route and stage). One gateway call is made first and
//! the event the function received is kept; the direct side then invokes the function with
//! that same event, so the function does the same work on both sides and the difference is
//! the gateway: routing, building the event, mapping the answer.
//!
//! Per client count: N overlapping `sleep` invokes make N warm environments (not measured);
//! then `--rounds` times, alternately, a closed loop of direct `Invoke` calls and a closed
//! loop of `GET /_aws/execute-api/<api>/bench?x=1` through the gateway, each for
//! `--duration` after `--warmup`. Alternating rounds spread the machine's noise over both
//! sides; the table gives the median of the rounds' p50, p99 and throughput.
//!
//! With `--ws`, also WebSocket messages echoed through a WebSocket API's `$default` route
//! (`apigw_ws.rs`), `--rounds` rounds per client count.

use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use hdrhistogram::Histogram;
use http::header::{HeaderMap, HeaderValue, CONTENT_TYPE, HOST};
use http::{Method, StatusCode, Uri};
use serde_json::{json, Value};

use crate::apigw_ws;
use crate::client::{status_error, RawConn, Target};
use crate::esm::{create_function, Rest};
use crate::lambda::{base_headers, zip_bootstrap, AUTHORIZATION_LAMBDA};

/// A fixed (unverified) SigV4 header whose credential scope names `apigateway`, so nimbus
/// routes `/v2/apis` to API Gateway's control plane.
const AUTHORIZATION_APIGW: &str = "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20261122/us-east-1/apigateway/aws4_request, SignedHeaders=host;x-amz-date, Signature=0000000000000000000000000000000000000000000000000000000000000000";

pub struct Config {
    pub target: Target,
    pub bootstrap: std::path::PathBuf,
    pub clients: Vec<usize>,
    pub duration: Duration,
    pub warmup: Duration,
    pub rounds: usize,
    pub ws: bool,
    pub json: Option<String>,
}

/// One side's figures for one round.
#[derive(serde::Serialize, Clone, Default)]
pub struct Round {
    pub calls: u64,
    pub errors: u64,
    pub per_s: f64,
    pub p50_ms: f64,
    pub p99_ms: f64,
    pub first_error: Option<String>,
}

#[derive(serde::Serialize, Default)]
pub struct Row {
    pub clients: usize,
    pub direct: Vec<Round>,
    pub gateway: Vec<Round>,
    /// `--ws`: messages echoed through the WebSocket API.
    pub websocket: Vec<Round>,
}

/// How one side is called: method, path, headers and body of every request.
#[derive(Clone)]
struct Call {
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
}

impl Call {
    async fn once(&self, conn: &mut RawConn) -> Result<Bytes, String> {
        let (status, h, body) = conn.request(self.method.clone(), self.uri.clone(), &self.headers, self.body.clone()).await?;
        if status != StatusCode::OK || h.contains_key("x-amz-function-error") {
            return Err(status_error(&format!("{} {}", self.method, self.uri), status, &body));
        }
        Ok(body)
    }
}

pub(crate) fn hist() -> Histogram<u64> {
    Histogram::new_with_bounds(1, 60_000_000, 3).expect("histogram bounds")
}

async fn closed_loop(target: Target, call: Arc<Call>, record_from: Instant, end: Instant) -> Measured {
    let mut conn = RawConn::new(target.addr);
    let (mut lat, mut errors, mut first_error) = (hist(), 0u64, None);
    while Instant::now() < end {
        let t = Instant::now();
        let res = call.once(&mut conn).await;
        if t < record_from {
            continue;
        }
        match res {
            Ok(_) => lat.saturating_record(t.elapsed().as_micros().max(1) as u64),
            Err(e) => {
                errors += 1;
                first_error.get_or_insert(e);
            }
        }
    }
    (lat, errors, first_error)
}

/// What one client's loop measured: latencies, errors, the first error.
pub(crate) type Measured = (Histogram<u64>, u64, Option<String>);

/// Waits for every client of a round and merges what they measured over `duration`.
pub(crate) async fn gather(tasks: Vec<tokio::task::JoinHandle<Measured>>, duration: Duration) -> Round {
    let mut lat = hist();
    let mut r = Round::default();
    for t in tasks {
        match t.await {
            Ok((h, errors, first)) => {
                let _ = lat.add(&h);
                r.errors += errors;
                if r.first_error.is_none() {
                    r.first_error = first;
                }
            }
            Err(e) => {
                r.errors += 1;
                r.first_error.get_or_insert(format!("client task: {e}"));
            }
        }
    }
    r.calls = lat.len();
    r.per_s = r.calls as f64 / duration.as_secs_f64();
    if !lat.is_empty() {
        r.p50_ms = lat.value_at_quantile(0.50) as f64 / 1000.0;
        r.p99_ms = lat.value_at_quantile(0.99) as f64 / 1000.0;
    }
    r
}

async fn round(cfg: &Config, call: &Arc<Call>, clients: usize) -> Round {
    let record_from = Instant::now() + cfg.warmup;
    let end = record_from + cfg.duration;
    let tasks: Vec<_> = (0..clients).map(|_| tokio::spawn(closed_loop(cfg.target.clone(), call.clone(), record_from, end))).collect();
    gather(tasks, cfg.duration).await
}

fn median(mut v: Vec<f64>) -> f64 {
    if v.is_empty() {
        return 0.0;
    }
    v.sort_by(|a, b| a.total_cmp(b));
    v[v.len() / 2]
}

/// One API Gateway control-plane call (REST-JSON); the answer's JSON.
pub(crate) async fn control(target: &Target, method: &str, path: &str, body: Option<Value>) -> Result<Value, String> {
    let mut headers = base_headers(&target.host, AUTHORIZATION_APIGW);
    headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    let method: Method = method.parse().map_err(|e| format!("{method}: {e}"))?;
    let uri: Uri = path.parse().map_err(|e| format!("{path}: {e}"))?;
    let body = body.map(|b| Bytes::from(b.to_string())).unwrap_or_default();
    let (status, _, resp) = RawConn::new(target.addr).request(method.clone(), uri, &headers, body).await?;
    if !status.is_success() {
        return Err(status_error(&format!("{method} {path}"), status, &resp));
    }
    Ok(serde_json::from_slice(&resp).unwrap_or(Value::Null))
}

/// Quick-creates the HTTP API in front of `function_arn`; returns its id.
async fn create_api(target: &Target, function_arn: &str) -> Result<String, String> {
    let v = control(target, "POST", "/v2/apis", Some(json!({ "name": "nimbus-bench", "protocolType": "HTTP", "target": function_arn }))).await?;
    v["apiId"].as_str().map(str::to_string).ok_or_else(|| format!("CreateApi: no apiId in {v}"))
}

async fn delete_api(target: &Target, api_id: &str) {
    if let Err(e) = control(target, "DELETE", &format!("/v2/apis/{api_id}"), None).await {
        eprintln!("apigw: DeleteApi {api_id}: {e}");
    }
}

/// N overlapping `sleep` invokes, so N environments are warm before measuring.
async fn prime(target: &Target, invoke: &Call, n: usize) -> Result<(), String> {
    let sleep = Call { body: Bytes::from_static(br#"{"action":"sleep","ms":300}"#), ..invoke.clone() };
    let tasks: Vec<_> = (0..n)
        .map(|_| {
            let (target, sleep) = (target.clone(), sleep.clone());
            tokio::spawn(async move { sleep.once(&mut RawConn::new(target.addr)).await.map(|_| ()) })
        })
        .collect();
    for t in tasks {
        t.await.map_err(|e| format!("prime: {e}"))??;
    }
    Ok(())
}

pub async fn run(cfg: Config) -> Result<(), String> {
    let zip = zip_bootstrap(&cfg.bootstrap)?;
    let target = cfg.target.clone();
    let name = format!("bench-apigw-{}", &uuid::Uuid::new_v4().simple().to_string()[..8]);
    let mut rest = Rest::new(&target);
    create_function(&mut rest, &name, &zip, json!({})).await?;
    let function_arn = format!("arn:aws:lambda:us-east-1:000000000000:function:{name}");
    let api_id = create_api(&target, &function_arn).await?;
    eprintln!("apigw: function {name}, HTTP API {api_id}");
    let ws = match cfg.ws {
        true => {
            // The WebSocket route's function answers proxy responses (a MESSAGE event back).
            let ws_name = format!("{name}-ws");
            create_function(&mut rest, &ws_name, &zip, json!({ "APIGW_PROXY": "1" })).await?;
            let id = apigw_ws::create_api(&target, &format!("arn:aws:lambda:us-east-1:000000000000:function:{ws_name}")).await?;
            eprintln!("apigw: function {ws_name}, WebSocket API {id}");
            Some((ws_name, id))
        }
        false => None,
    };

    let mut gw_headers = HeaderMap::new();
    gw_headers.insert(HOST, HeaderValue::from_str(&target.host).map_err(|e| e.to_string())?);
    gw_headers.insert("user-agent", HeaderValue::from_static("nimbus-bench/raw"));
    let gateway = Call {
        method: Method::GET,
        uri: format!("/_aws/execute-api/{api_id}/bench?x=1").parse().map_err(|e| format!("{e}"))?,
        headers: gw_headers,
        body: Bytes::new(),
    };
    // The event the gateway builds, read back from the echo: the direct side's payload.
    let echoed: Value = serde_json::from_slice(&gateway.once(&mut RawConn::new(target.addr)).await?).map_err(|e| format!("gateway answer: {e}"))?;
    let event = echoed.get("echo").cloned().ok_or_else(|| format!("gateway answer has no echo: {echoed}"))?;
    let mut invoke_headers = base_headers(&target.host, AUTHORIZATION_LAMBDA);
    invoke_headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    let direct = Call {
        method: Method::POST,
        uri: format!("/2015-03-31/functions/{name}/invocations").parse().map_err(|e| format!("{e}"))?,
        headers: invoke_headers,
        body: Bytes::from(event.to_string()),
    };
    eprintln!("apigw: event of {} bytes", direct.body.len());
    let (gateway, direct) = (Arc::new(gateway), Arc::new(direct));

    let mut rows = Vec::new();
    for &c in &cfg.clients {
        prime(&target, &direct, c).await?;
        let mut row = Row { clients: c, ..Default::default() };
        for i in 0..cfg.rounds {
            let d = round(&cfg, &direct, c).await;
            let g = round(&cfg, &gateway, c).await;
            eprintln!(
                "[apigw c={c:<3} round {i}] direct {:>7.0}/s p50 {:.3} ms p99 {:.3} ms err {} | gateway {:>7.0}/s p50 {:.3} ms p99 {:.3} ms err {}{}",
                d.per_s, d.p50_ms, d.p99_ms, d.errors, g.per_s, g.p50_ms, g.p99_ms, g.errors,
                d.first_error.iter().chain(g.first_error.iter()).next().map(|e| format!("\n    first error: {e}")).unwrap_or_default()
            );
            row.direct.push(d);
            row.gateway.push(g);
            if let Some((_, ws_api)) = &ws {
                let w = apigw_ws::round(&target, ws_api, c, cfg.warmup, cfg.duration).await;
                eprintln!(
                    "[apigw c={c:<3} round {i}] websocket {:>7.0} msg/s p50 {:.3} ms p99 {:.3} ms err {}{}",
                    w.per_s, w.p50_ms, w.p99_ms, w.errors,
                    w.first_error.as_ref().map(|e| format!("\n    first error: {e}")).unwrap_or_default()
                );
                row.websocket.push(w);
            }
        }
        rows.push(row);
    }
    delete_api(&target, &api_id).await;
    let _ = rest.call("DeleteFunction", Method::DELETE, &format!("/2015-03-31/functions/{name}"), None).await;
    if let Some((ws_name, ws_api)) = &ws {
        delete_api(&target, ws_api).await;
        let _ = rest.call("DeleteFunction", Method::DELETE, &format!("/2015-03-31/functions/{ws_name}"), None).await;
    }

    println!();
    println!(
        "== apigw: HTTP API (payload 2.0, quick create) -> provided.al2023 echo function vs direct Invoke of the same event; median of {} rounds, {:.1}s each",
        cfg.rounds,
        cfg.duration.as_secs_f64()
    );
    println!("| clients | direct req/s | gateway req/s | ratio | direct p50 ms | gateway p50 ms | added p50 ms | direct p99 ms | gateway p99 ms |");
    println!("|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
    for r in &rows {
        let m = |v: &[Round], f: fn(&Round) -> f64| median(v.iter().map(f).collect());
        let (dr, gr) = (m(&r.direct, |x| x.per_s), m(&r.gateway, |x| x.per_s));
        let (dp, gp) = (m(&r.direct, |x| x.p50_ms), m(&r.gateway, |x| x.p50_ms));
        println!(
            "| {} | {:.0} | {:.0} | {:.2}x | {:.3} | {:.3} | {:+.3} | {:.3} | {:.3} |",
            r.clients, dr, gr, if dr > 0.0 { gr / dr } else { 0.0 }, dp, gp, gp - dp,
            m(&r.direct, |x| x.p99_ms), m(&r.gateway, |x| x.p99_ms)
        );
    }
    if ws.is_some() {
        println!();
        println!("== apigw --ws: WebSocket API two-way $default route -> provided.al2023 function (APIGW_PROXY=1), one message in flight per client; median of {} rounds", cfg.rounds);
        println!("| clients | msg/s | p50 ms | p99 ms | errors |");
        println!("|---:|---:|---:|---:|---:|");
        for r in &rows {
            let m = |f: fn(&Round) -> f64| median(r.websocket.iter().map(f).collect());
            println!("| {} | {:.0} | {:.3} | {:.3} | {} |", r.clients, m(|x| x.per_s), m(|x| x.p50_ms), m(|x| x.p99_ms), r.websocket.iter().map(|x| x.errors).sum::<u64>());
        }
    }
    if let Some(path) = &cfg.json {
        let doc = json!({ "duration_s": cfg.duration.as_secs_f64(), "rounds": cfg.rounds, "rows": rows });
        std::fs::write(path, serde_json::to_vec_pretty(&doc).map_err(|e| e.to_string())?).map_err(|e| format!("write {path}: {e}"))?;
    }
    Ok(())
}
