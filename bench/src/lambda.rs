//! `nimbus-bench lambda`: warm-invoke throughput/latency and cold-start latency of a
//! Lambda function (the `provided.al2023` test function `nimbus-test-fn`), over raw
//! REST-JSON (`/2015-03-31/…`) on keep-alive HTTP/1.1 connections, no SDK.
//!
//! Per target: zip the bootstrap in memory, CreateFunction, wait for `State: Active`;
//! then for every client count: prime N environments (N concurrent `sleep` invokes, not
//! measured), warm up, and run N clients in a closed loop of `{"action":"echo"}` invokes
//! for the duration. Every `--tail-every`-th invoke asks for `LogType=Tail` and reads
//! nimbus's own `REPORT … Duration` (time inside the environment). Then `--cold-starts`
//! times: UpdateFunctionConfiguration (a new environment variable retires the warm
//! environments), wait for `LastUpdateStatus: Successful`, time one invoke (with
//! `LogType=Tail`, for the REPORT's `Init Duration`). Finally DeleteFunction.

use std::collections::HashSet;
use std::io::Write;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use bytes::Bytes;
use hdrhistogram::Histogram;
use http::header::{HeaderMap, HeaderValue, AUTHORIZATION, CONTENT_TYPE, HOST};
use http::{Method, StatusCode, Uri};

use crate::client::{status_error, RawConn, Target};
use crate::payload::AMZ_DATE;

/// A fixed, realistic (unverified) SigV4 header whose credential scope names `lambda`:
/// nimbus routes REST requests by the scope's service first.
pub const AUTHORIZATION_LAMBDA: &str = "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20261122/us-east-1/lambda/aws4_request, SignedHeaders=host;x-amz-date, Signature=0000000000000000000000000000000000000000000000000000000000000000";

const ROLE: &str = "arn:aws:iam::000000000000:role/bench";
const ECHO: &[u8] = br#"{"action":"echo"}"#;

pub struct Config {
    pub targets: Vec<Target>,
    pub clients: Vec<usize>,
    pub duration: Duration,
    pub warmup: Duration,
    pub bootstrap: PathBuf,
    pub cold_starts: usize,
    pub tail_every: u64,
    pub timeout_s: u32,
    pub memory_mb: u32,
    pub pause: Duration,
    pub keep_function: bool,
    pub json: Option<String>,
}

#[derive(serde::Serialize, Default)]
pub struct WarmResult {
    pub target: String,
    pub clients: usize,
    pub seconds: f64,
    pub invokes: u64,
    pub errors: u64,
    pub invokes_per_s: f64,
    pub p50_ms: f64,
    pub p99_ms: f64,
    pub p999_ms: f64,
    pub max_ms: f64,
    /// Distinct environment processes (the echo's `pid`) that served the measured invokes.
    pub environments: usize,
    /// REPORT `Duration` of the sampled (`LogType=Tail`) invokes: time inside nimbus's
    /// environment (Runtime API hand-over + handler + response), as nimbus measures it.
    pub report_samples: u64,
    pub report_duration_p50_ms: f64,
    pub report_duration_p99_ms: f64,
    pub first_error: Option<String>,
    pub setup_error: Option<String>,
}

#[derive(serde::Serialize, Default)]
pub struct ColdResult {
    pub target: String,
    pub samples: usize,
    pub errors: usize,
    /// Invokes whose REPORT had no `Init Duration` (an environment was reused).
    pub not_cold: usize,
    /// Client-side latency of the first invoke after the update.
    pub cold_p50_ms: f64,
    pub cold_p90_ms: f64,
    pub cold_max_ms: f64,
    /// nimbus's REPORT `Init Duration`: process spawn to its first `/invocation/next`.
    pub init_p50_ms: f64,
    pub init_p90_ms: f64,
    /// nimbus's REPORT `Duration` of the cold invoke.
    pub duration_p50_ms: f64,
    /// UpdateFunctionConfiguration sent → GetFunctionConfiguration shows Successful.
    pub update_p50_ms: f64,
    pub first_error: Option<String>,
}

/// Zips `bootstrap` (mode 0755) in memory.
pub(crate) fn zip_bootstrap(path: &PathBuf) -> Result<Vec<u8>, String> {
    let bin = std::fs::read(path).map_err(|e| {
        format!(
            "read {}: {e} (build it with `cargo build --release -p nimbus-test-fn`)",
            path.display()
        )
    })?;
    let mut w = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let opts = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated)
        .unix_permissions(0o755);
    w.start_file("bootstrap", opts)
        .map_err(|e| format!("zip: {e}"))?;
    w.write_all(&bin).map_err(|e| format!("zip: {e}"))?;
    Ok(w.finish().map_err(|e| format!("zip: {e}"))?.into_inner())
}

pub(crate) fn base_headers(host: &str, auth: &'static str) -> HeaderMap {
    let mut h = HeaderMap::new();
    h.insert(HOST, HeaderValue::from_str(host).unwrap());
    h.insert("x-amz-date", HeaderValue::from_static(AMZ_DATE));
    h.insert(AUTHORIZATION, HeaderValue::from_static(auth));
    h.insert("user-agent", HeaderValue::from_static("nimbus-bench/raw"));
    h
}

/// Pre-built requests for one function.
#[derive(Clone)]
struct Api {
    /// Invoke: `Content-Type: application/json`.
    invoke: HeaderMap,
    /// Invoke with `X-Amz-Log-Type: Tail`.
    invoke_tail: HeaderMap,
    /// Control plane (JSON body or none).
    control: HeaderMap,
    invoke_uri: Uri,
    config_uri: Uri,
    function_uri: Uri,
}

impl Api {
    fn new(target: &Target, name: &str) -> Api {
        let mut invoke = base_headers(&target.host, AUTHORIZATION_LAMBDA);
        invoke.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
        let mut invoke_tail = invoke.clone();
        invoke_tail.insert("x-amz-log-type", HeaderValue::from_static("Tail"));
        Api {
            invoke_tail,
            control: invoke.clone(),
            invoke,
            invoke_uri: format!("/2015-03-31/functions/{name}/invocations")
                .parse()
                .unwrap(),
            config_uri: format!("/2015-03-31/functions/{name}/configuration")
                .parse()
                .unwrap(),
            function_uri: format!("/2015-03-31/functions/{name}").parse().unwrap(),
        }
    }
}

/// What one invoke gave back.
struct Invoked {
    pid: Option<u32>,
    /// REPORT `Duration` and `Init Duration`, ms, when the log tail was asked for.
    duration_ms: Option<f64>,
    init_ms: Option<f64>,
}

async fn invoke(
    conn: &mut RawConn,
    api: &Api,
    body: &Bytes,
    tail: bool,
) -> Result<Invoked, String> {
    let headers = if tail { &api.invoke_tail } else { &api.invoke };
    let (status, h, resp) = conn
        .request(Method::POST, api.invoke_uri.clone(), headers, body.clone())
        .await?;
    if status != StatusCode::OK {
        return Err(status_error("Invoke", status, &resp));
    }
    if let Some(kind) = h.get("x-amz-function-error") {
        return Err(status_error(
            &format!("Invoke (function error {kind:?})"),
            status,
            &resp,
        ));
    }
    let mut out = Invoked {
        pid: find_pid(&resp),
        duration_ms: None,
        init_ms: None,
    };
    if tail {
        if let Some(log) = h
            .get("x-amz-log-result")
            .and_then(|v| B64.decode(v.as_bytes()).ok())
        {
            let log = String::from_utf8_lossy(&log);
            if let Some(report) = log.lines().rev().find(|l| l.starts_with("REPORT ")) {
                for field in report.split('\t').map(str::trim) {
                    let ms = |p: &str| {
                        field
                            .strip_prefix(p)
                            .and_then(|v| v.trim_end_matches(" ms").trim().parse::<f64>().ok())
                    };
                    if let Some(v) = ms("Duration: ") {
                        out.duration_ms = Some(v);
                    } else if let Some(v) = ms("Init Duration: ") {
                        out.init_ms = Some(v);
                    }
                }
            }
        }
    }
    Ok(out)
}

/// The echo response's `"pid": N` (the environment's process), without a full parse.
fn find_pid(body: &[u8]) -> Option<u32> {
    let key = b"\"pid\":";
    let i = body.windows(key.len()).rposition(|w| w == key)? + key.len();
    let digits: String = body[i..]
        .iter()
        .skip_while(|b| b.is_ascii_whitespace())
        .take_while(|b| b.is_ascii_digit())
        .map(|b| *b as char)
        .collect();
    digits.parse().ok()
}

async fn get_configuration(conn: &mut RawConn, api: &Api) -> Result<serde_json::Value, String> {
    let (status, _, body) = conn
        .request(
            Method::GET,
            api.config_uri.clone(),
            &api.control,
            Bytes::new(),
        )
        .await?;
    if !status.is_success() {
        return Err(status_error("GetFunctionConfiguration", status, &body));
    }
    serde_json::from_slice(&body).map_err(|e| format!("GetFunctionConfiguration: bad JSON: {e}"))
}

/// Polls GetFunctionConfiguration until State is Active and LastUpdateStatus Successful.
async fn wait_ready(conn: &mut RawConn, api: &Api, limit: Duration) -> Result<Duration, String> {
    let t = Instant::now();
    loop {
        let c = get_configuration(conn, api).await?;
        let state = c.get("State").and_then(|v| v.as_str()).unwrap_or("");
        let update = c
            .get("LastUpdateStatus")
            .and_then(|v| v.as_str())
            .unwrap_or("Successful");
        if state == "Failed" || update == "Failed" {
            return Err(format!("function failed: {c}"));
        }
        if state == "Active" && update == "Successful" {
            return Ok(t.elapsed());
        }
        if t.elapsed() > limit {
            return Err(format!(
                "not Active/Successful after {limit:?} (State {state:?}, LastUpdateStatus {update:?})"
            ));
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

async fn create_function(
    target: &Target,
    api: &Api,
    name: &str,
    zip: &[u8],
    cfg: &Config,
) -> Result<(), String> {
    let body = serde_json::json!({
        "FunctionName": name,
        "Runtime": "provided.al2023",
        "Role": ROLE,
        "Handler": "bootstrap",
        "Code": { "ZipFile": B64.encode(zip) },
        "Description": "nimbus-bench lambda",
        "Timeout": cfg.timeout_s,
        "MemorySize": cfg.memory_mb,
        "Publish": false,
    });
    let mut conn = RawConn::new(target.addr);
    let (status, _, resp) = conn
        .request(
            Method::POST,
            Uri::from_static("/2015-03-31/functions"),
            &api.control,
            Bytes::from(serde_json::to_vec(&body).unwrap()),
        )
        .await?;
    if !status.is_success() {
        return Err(status_error("CreateFunction", status, &resp));
    }
    wait_ready(&mut conn, api, Duration::from_secs(60)).await?;
    Ok(())
}

async fn delete_function(target: &Target, api: &Api) -> Result<(), String> {
    let mut conn = RawConn::new(target.addr);
    let (status, _, resp) = conn
        .request(
            Method::DELETE,
            api.function_uri.clone(),
            &api.control,
            Bytes::new(),
        )
        .await?;
    if !status.is_success() {
        return Err(status_error("DeleteFunction", status, &resp));
    }
    Ok(())
}

fn hist() -> Histogram<u64> {
    // 1 µs .. 60 s, 3 significant figures.
    Histogram::new_with_bounds(1, 60_000_000, 3).unwrap()
}

struct Worker {
    lat: Histogram<u64>,
    report: Histogram<u64>,
    invokes: u64,
    errors: u64,
    pids: HashSet<u32>,
    first_error: Option<String>,
}

async fn warm_worker(
    target: Target,
    api: Arc<Api>,
    record_from: Instant,
    end: Instant,
    tail_every: u64,
) -> Worker {
    let mut conn = RawConn::new(target.addr);
    let body = Bytes::from_static(ECHO);
    let mut w = Worker {
        lat: hist(),
        report: hist(),
        invokes: 0,
        errors: 0,
        pids: HashSet::new(),
        first_error: None,
    };
    let mut n = 0u64;
    loop {
        let now = Instant::now();
        if now >= end {
            break;
        }
        let recording = now >= record_from;
        let tail = recording && tail_every > 0 && n % tail_every == 0;
        if recording {
            n += 1;
        }
        let t = Instant::now();
        match invoke(&mut conn, &api, &body, tail).await {
            Ok(r) => {
                if recording {
                    w.lat
                        .saturating_record(t.elapsed().as_micros().max(1) as u64);
                    w.invokes += 1;
                    if let Some(p) = r.pid {
                        w.pids.insert(p);
                    }
                    if let Some(d) = r.duration_ms {
                        w.report.saturating_record(((d * 1000.0) as u64).max(1));
                    }
                }
            }
            Err(e) => {
                if recording {
                    w.errors += 1;
                }
                w.first_error.get_or_insert(e);
            }
        }
    }
    w
}

async fn warm_run(cfg: &Config, target: &Target, api: &Arc<Api>, clients: usize) -> WarmResult {
    let mut r = WarmResult {
        target: target.name.clone(),
        clients,
        ..Default::default()
    };
    // Prime: N overlapping invokes make N environments (cold starts, not measured).
    let mut primes = Vec::new();
    for _ in 0..clients {
        let (target, api) = (target.clone(), api.clone());
        primes.push(tokio::spawn(async move {
            let mut conn = RawConn::new(target.addr);
            let body = Bytes::from_static(br#"{"action":"sleep","ms":300}"#);
            invoke(&mut conn, &api, &body, false).await.map(|_| ())
        }));
    }
    for p in primes {
        match p.await {
            Ok(Ok(())) => {}
            Ok(Err(e)) => {
                r.setup_error
                    .get_or_insert(format!("priming environments: {e}"));
            }
            Err(e) => {
                r.setup_error.get_or_insert(format!("priming task: {e}"));
            }
        }
    }
    if r.setup_error.is_some() {
        return r;
    }
    let start = Instant::now();
    let record_from = start + cfg.warmup;
    let end = record_from + cfg.duration;
    let mut tasks = Vec::new();
    for _ in 0..clients {
        tasks.push(tokio::spawn(warm_worker(
            target.clone(),
            api.clone(),
            record_from,
            end,
            cfg.tail_every,
        )));
    }
    let mut lat = hist();
    let mut report = hist();
    let mut pids = HashSet::new();
    for t in tasks {
        match t.await {
            Ok(w) => {
                lat.add(&w.lat).unwrap();
                report.add(&w.report).unwrap();
                r.invokes += w.invokes;
                r.errors += w.errors;
                pids.extend(w.pids);
                if r.first_error.is_none() {
                    r.first_error = w.first_error;
                }
            }
            Err(e) => {
                r.errors += 1;
                r.first_error
                    .get_or_insert(format!("client task panicked: {e}"));
            }
        }
    }
    let secs = Instant::now()
        .min(end)
        .saturating_duration_since(record_from)
        .as_secs_f64();
    r.seconds = secs;
    if secs > 0.0 {
        r.invokes_per_s = r.invokes as f64 / secs;
    }
    r.environments = pids.len();
    if !lat.is_empty() {
        r.p50_ms = lat.value_at_quantile(0.50) as f64 / 1000.0;
        r.p99_ms = lat.value_at_quantile(0.99) as f64 / 1000.0;
        r.p999_ms = lat.value_at_quantile(0.999) as f64 / 1000.0;
        r.max_ms = lat.max() as f64 / 1000.0;
    }
    r.report_samples = report.len();
    if !report.is_empty() {
        r.report_duration_p50_ms = report.value_at_quantile(0.50) as f64 / 1000.0;
        r.report_duration_p99_ms = report.value_at_quantile(0.99) as f64 / 1000.0;
    }
    r
}

/// Nearest-rank percentile of an ascending slice.
fn pct(sorted: &[f64], q: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let i = ((q * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len()) - 1;
    sorted[i]
}

fn sorted(mut v: Vec<f64>) -> Vec<f64> {
    v.sort_by(|a, b| a.partial_cmp(b).unwrap());
    v
}

async fn cold_run(cfg: &Config, target: &Target, api: &Api) -> ColdResult {
    let mut r = ColdResult {
        target: target.name.clone(),
        ..Default::default()
    };
    let mut conn = RawConn::new(target.addr);
    let body = Bytes::from_static(ECHO);
    let (mut lat, mut init, mut dur, mut upd) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    let run_id = uuid::Uuid::new_v4().simple().to_string();
    for i in 0..cfg.cold_starts {
        // A new configuration retires every warm environment: the next invoke is cold.
        let update = serde_json::json!({
            "Environment": { "Variables": { "BENCH_GENERATION": format!("{}-{i}", &run_id[..8]) } }
        });
        let t = Instant::now();
        let res = conn
            .request(
                Method::PUT,
                api.config_uri.clone(),
                &api.control,
                Bytes::from(serde_json::to_vec(&update).unwrap()),
            )
            .await;
        match res {
            Ok((s, _, b)) if !s.is_success() => {
                r.errors += 1;
                r.first_error
                    .get_or_insert(status_error("UpdateFunctionConfiguration", s, &b));
                continue;
            }
            Err(e) => {
                r.errors += 1;
                r.first_error.get_or_insert(e);
                continue;
            }
            Ok(_) => {}
        }
        if let Err(e) = wait_ready(&mut conn, api, Duration::from_secs(60)).await {
            r.errors += 1;
            r.first_error.get_or_insert(e);
            continue;
        }
        upd.push(t.elapsed().as_secs_f64() * 1000.0);
        let t = Instant::now();
        match invoke(&mut conn, api, &body, true).await {
            Ok(inv) => {
                lat.push(t.elapsed().as_secs_f64() * 1000.0);
                match inv.init_ms {
                    Some(v) => init.push(v),
                    None => r.not_cold += 1,
                }
                if let Some(d) = inv.duration_ms {
                    dur.push(d);
                }
            }
            Err(e) => {
                r.errors += 1;
                r.first_error.get_or_insert(e);
            }
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let (lat, init, dur, upd) = (sorted(lat), sorted(init), sorted(dur), sorted(upd));
    r.samples = lat.len();
    r.cold_p50_ms = pct(&lat, 0.5);
    r.cold_p90_ms = pct(&lat, 0.9);
    r.cold_max_ms = lat.last().copied().unwrap_or(0.0);
    r.init_p50_ms = pct(&init, 0.5);
    r.init_p90_ms = pct(&init, 0.9);
    r.duration_p50_ms = pct(&dur, 0.5);
    r.update_p50_ms = pct(&upd, 0.5);
    r
}

pub async fn run(cfg: Config) -> Result<(), String> {
    let zip = zip_bootstrap(&cfg.bootstrap)?;
    eprintln!(
        "lambda: {} zipped in memory: {} KiB",
        cfg.bootstrap.display(),
        zip.len() / 1024
    );
    let mut warm = Vec::new();
    let mut cold = Vec::new();
    for target in &cfg.targets {
        let name = format!(
            "bench-fn-{}",
            &uuid::Uuid::new_v4().simple().to_string()[..8]
        );
        let api = Arc::new(Api::new(target, &name));
        let t = Instant::now();
        if let Err(e) = create_function(target, &api, &name, &zip, &cfg).await {
            eprintln!("[lambda {:>10}] SETUP FAILED: {e}", target.name);
            warm.push(WarmResult {
                target: target.name.clone(),
                setup_error: Some(e),
                ..Default::default()
            });
            continue;
        }
        eprintln!(
            "[lambda {:>10}] created {name}, Active after {:.1} ms",
            target.name,
            t.elapsed().as_secs_f64() * 1000.0
        );
        for &c in &cfg.clients {
            eprint!("[lambda warm {:>10} c={:<4}] ", target.name, c);
            let r = warm_run(&cfg, target, &api, c).await;
            match &r.setup_error {
                Some(e) => eprintln!("SETUP FAILED: {e}"),
                None => eprintln!(
                    "{:>8.0} inv/s  p50 {:.3} ms  p99 {:.3} ms  p999 {:.3} ms  errors {}  envs {}  REPORT Duration p50 {:.3} ms{}",
                    r.invokes_per_s,
                    r.p50_ms,
                    r.p99_ms,
                    r.p999_ms,
                    r.errors,
                    r.environments,
                    r.report_duration_p50_ms,
                    r.first_error.as_ref().map(|e| format!("\n    first error: {e}")).unwrap_or_default()
                ),
            }
            warm.push(r);
            tokio::time::sleep(cfg.pause).await;
        }
        if cfg.cold_starts > 0 {
            eprint!(
                "[lambda cold {:>10} n={:<4}] ",
                target.name, cfg.cold_starts
            );
            let r = cold_run(&cfg, target, &api).await;
            eprintln!(
                "p50 {:.3} ms  p90 {:.3} ms  Init Duration p50 {:.3} ms  errors {}{}",
                r.cold_p50_ms,
                r.cold_p90_ms,
                r.init_p50_ms,
                r.errors,
                r.first_error
                    .as_ref()
                    .map(|e| format!("\n    first error: {e}"))
                    .unwrap_or_default()
            );
            cold.push(r);
        }
        if !cfg.keep_function {
            if let Err(e) = delete_function(target, &api).await {
                eprintln!("[lambda {:>10}] DeleteFunction {name}: {e}", target.name);
            }
        }
    }
    print_tables(&cfg, &warm, &cold);
    if let Some(path) = &cfg.json {
        let doc = serde_json::json!({
            "duration_s": cfg.duration.as_secs_f64(),
            "warmup_s": cfg.warmup.as_secs_f64(),
            "cold_starts": cfg.cold_starts,
            "tail_every": cfg.tail_every,
            "warm": warm,
            "cold": cold,
        });
        std::fs::write(path, serde_json::to_vec_pretty(&doc).unwrap())
            .map_err(|e| format!("write {path}: {e}"))?;
        eprintln!("results written to {path}");
    }
    Ok(())
}

fn print_tables(cfg: &Config, warm: &[WarmResult], cold: &[ColdResult]) {
    println!();
    println!(
        "== lambda warm invoke: provided.al2023 nimbus-test-fn, {{\"action\":\"echo\"}}, duration={:.1}s warmup={:.1}s (raw REST, one keep-alive connection per client)",
        cfg.duration.as_secs_f64(),
        cfg.warmup.as_secs_f64()
    );
    println!(
        "{:<12} {:>7} {:>10} {:>9} {:>9} {:>9} {:>9} {:>7} {:>5} {:>10} {:>10}  note",
        "target",
        "clients",
        "inv/s",
        "p50 ms",
        "p99 ms",
        "p999 ms",
        "max ms",
        "errors",
        "envs",
        "in-env p50",
        "in-env p99"
    );
    for r in warm {
        let note = match &r.setup_error {
            Some(e) => format!("setup failed: {}", e.chars().take(80).collect::<String>()),
            None => format!("{} REPORT samples", r.report_samples),
        };
        println!(
            "{:<12} {:>7} {:>10.0} {:>9.3} {:>9.3} {:>9.3} {:>9.3} {:>7} {:>5} {:>10.3} {:>10.3}  {}",
            r.target,
            r.clients,
            r.invokes_per_s,
            r.p50_ms,
            r.p99_ms,
            r.p999_ms,
            r.max_ms,
            r.errors,
            r.environments,
            r.report_duration_p50_ms,
            r.report_duration_p99_ms,
            note
        );
    }
    println!(
        "-- the echo handler's own work is microseconds, so the invoke latency is nimbus's overhead (HTTP + Invoke + Runtime API hand-over);\n   in-env = nimbus's REPORT Duration (from handing the event to the runtime to its response), from every {}th invoke's LogType=Tail",
        cfg.tail_every
    );
    if cold.is_empty() {
        return;
    }
    println!();
    println!(
        "== lambda cold start: UpdateFunctionConfiguration (new env var) → LastUpdateStatus Successful → one timed invoke, {} times",
        cfg.cold_starts
    );
    println!(
        "{:<12} {:>7} {:>9} {:>9} {:>9} {:>10} {:>10} {:>11} {:>10} {:>7} {:>8}",
        "target",
        "samples",
        "p50 ms",
        "p90 ms",
        "max ms",
        "init p50",
        "init p90",
        "in-env p50",
        "update p50",
        "errors",
        "not cold"
    );
    for r in cold {
        println!(
            "{:<12} {:>7} {:>9.3} {:>9.3} {:>9.3} {:>10.3} {:>10.3} {:>11.3} {:>10.3} {:>7} {:>8}",
            r.target,
            r.samples,
            r.cold_p50_ms,
            r.cold_p90_ms,
            r.cold_max_ms,
            r.init_p50_ms,
            r.init_p90_ms,
            r.duration_p50_ms,
            r.update_p50_ms,
            r.errors,
            r.not_cold
        );
    }
    println!("-- p50/p90/max: client-side latency of the cold invoke; init = REPORT Init Duration (spawn → first /invocation/next); update = PUT configuration → Successful");
}
