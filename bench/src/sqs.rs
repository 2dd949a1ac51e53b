//! `nimbus-bench sqs`: closed-loop load against one or more SQS endpoints.
//!
//! For every (workload, mode, target, client count): create a fresh queue, (prefill it
//! for `recv-delete`), run N clients in a closed loop for warmup + duration, record the
//! latency of every request issued after the warmup in an HDR histogram, delete the
//! queue. Every loop is bounded by the duration; a drained queue ends a run early.

use crate::report::ratio;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use hdrhistogram::Histogram;

use crate::client::{build_sdk, Admin, Client, RawClient, SdkClient, Target};
use crate::payload;

#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Workload {
    Send,
    RecvDelete,
}

impl Workload {
    pub fn parse(s: &str) -> Result<Workload, String> {
        match s {
            "send" => Ok(Workload::Send),
            "recv-delete" | "receive-delete" => Ok(Workload::RecvDelete),
            _ => Err(format!("unknown workload {s:?} (send | recv-delete)")),
        }
    }
    pub fn name(self) -> &'static str {
        match self {
            Workload::Send => "send",
            Workload::RecvDelete => "recv-delete",
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Mode {
    Raw,
    Sdk,
}

impl Mode {
    pub fn parse(s: &str) -> Result<Mode, String> {
        match s {
            "raw" => Ok(Mode::Raw),
            "sdk" => Ok(Mode::Sdk),
            _ => Err(format!("unknown mode {s:?} (raw | sdk)")),
        }
    }
    pub fn name(self) -> &'static str {
        match self {
            Mode::Raw => "raw",
            Mode::Sdk => "sdk",
        }
    }
}

pub struct Config {
    pub targets: Vec<Target>,
    pub clients: Vec<usize>,
    pub duration: Duration,
    pub warmup: Duration,
    pub modes: Vec<Mode>,
    pub workloads: Vec<Workload>,
    pub message_size: usize,
    pub prefill: u64,
    pub prefill_timeout: Duration,
    pub pause: Duration,
    pub baseline: String,
    pub null_name: String,
    pub json: Option<String>,
}

#[derive(serde::Serialize)]
pub struct RunResult {
    pub target: String,
    pub workload: Workload,
    pub mode: Mode,
    pub clients: usize,
    /// Seconds of measurement (after warmup; shorter if the queue drained).
    pub seconds: f64,
    /// Successful requests in the measurement window.
    pub requests: u64,
    /// Messages sent (send) or received and deleted (recv-delete).
    pub messages: u64,
    pub errors: u64,
    /// ReceiveMessage calls that returned no message.
    pub empty_receives: u64,
    pub req_per_s: f64,
    pub msg_per_s: f64,
    pub p50_ms: f64,
    pub p99_ms: f64,
    pub p999_ms: f64,
    pub max_ms: f64,
    /// Messages put in the queue before the rounds (recv-delete), all rounds together.
    pub prefilled: u64,
    /// recv-delete: fill-and-drain rounds it took to measure `duration`.
    pub rounds: u32,
    pub first_error: Option<String>,
    pub setup_error: Option<String>,
}

struct WorkerStats {
    hist: Histogram<u64>,
    requests: u64,
    messages: u64,
    errors: u64,
    empty: u64,
    first_error: Option<String>,
}

impl WorkerStats {
    fn new() -> WorkerStats {
        WorkerStats {
            // 1 µs .. 60 s, 3 significant figures.
            hist: Histogram::new_with_bounds(1, 60_000_000, 3).unwrap(),
            requests: 0,
            messages: 0,
            errors: 0,
            empty: 0,
            first_error: None,
        }
    }
    fn record(&mut self, started: Instant, recording: bool) {
        if recording {
            let us = started.elapsed().as_micros().max(1) as u64;
            self.hist.saturating_record(us);
            self.requests += 1;
        }
    }
    fn error(&mut self, e: String, recording: bool) {
        if recording {
            self.errors += 1;
        }
        if self.first_error.is_none() {
            self.first_error = Some(e);
        }
    }
}

struct Shared {
    start: Instant,
    record_from: Instant,
    end: Instant,
    stop: AtomicBool,
    /// Nanoseconds after `start` at which the queue was found drained (0 = never).
    drained_at_ns: AtomicU64,
}

/// After this many consecutive empty receives a client declares the queue drained.
const DRAINED_AFTER_EMPTY: u32 = 3;

async fn worker(mut client: Client, workload: Workload, shared: Arc<Shared>) -> (Client, WorkerStats) {
    let mut st = WorkerStats::new();
    let mut consecutive_empty = 0u32;
    loop {
        let now = Instant::now();
        if now >= shared.end || shared.stop.load(Ordering::Relaxed) {
            break;
        }
        let recording = now >= shared.record_from;
        match workload {
            Workload::Send => {
                let t = Instant::now();
                match client.send().await {
                    Ok(()) => {
                        st.record(t, recording);
                        if recording {
                            st.messages += 1;
                        }
                    }
                    Err(e) => st.error(e, recording),
                }
            }
            Workload::RecvDelete => {
                let t = Instant::now();
                match client.receive().await {
                    Ok(Some(handle)) => {
                        consecutive_empty = 0;
                        st.record(t, recording);
                        let t = Instant::now();
                        match client.delete(&handle).await {
                            Ok(()) => {
                                st.record(t, recording);
                                if recording {
                                    st.messages += 1;
                                }
                            }
                            Err(e) => st.error(e, recording),
                        }
                    }
                    Ok(None) => {
                        st.record(t, recording);
                        if recording {
                            st.empty += 1;
                        }
                        consecutive_empty += 1;
                        if consecutive_empty >= DRAINED_AFTER_EMPTY {
                            let at = shared.start.elapsed().as_nanos() as u64;
                            let _ = shared.drained_at_ns.compare_exchange(
                                0,
                                at.max(1),
                                Ordering::SeqCst,
                                Ordering::SeqCst,
                            );
                            shared.stop.store(true, Ordering::SeqCst);
                            break;
                        }
                    }
                    Err(e) => st.error(e, recording),
                }
            }
        }
    }
    (client, st)
}

/// Fills the queue with SendMessageBatch (10 per call) over 16 connections, until
/// `count` messages are in or `timeout` has passed.
async fn prefill(
    target: &Target,
    queue_url: &str,
    message: &str,
    count: u64,
    timeout: Duration,
) -> Result<(u64, Option<String>), String> {
    let body = Bytes::from(payload::send_message_batch(queue_url, message, 10));
    let issued = Arc::new(AtomicU64::new(0));
    let accepted = Arc::new(AtomicU64::new(0));
    let deadline = Instant::now() + timeout;
    let mut tasks = Vec::new();
    for _ in 0..16 {
        let (target, body, issued, accepted) = (target.clone(), body.clone(), issued.clone(), accepted.clone());
        tasks.push(tokio::spawn(async move {
            let mut admin = Admin::new(&target);
            let mut first_err = None;
            let mut errors = 0u32;
            while Instant::now() < deadline && issued.fetch_add(10, Ordering::Relaxed) < count {
                match admin.send_batch(body.clone(), 10).await {
                    Ok(n) => {
                        accepted.fetch_add(n as u64, Ordering::Relaxed);
                    }
                    Err(e) => {
                        errors += 1;
                        first_err.get_or_insert(e);
                        if errors > 20 {
                            break;
                        }
                    }
                }
            }
            first_err
        }));
    }
    let mut first_err = None;
    for t in tasks {
        if let Ok(Some(e)) = t.await {
            first_err.get_or_insert(e);
        }
    }
    let n = accepted.load(Ordering::Relaxed);
    if n == 0 {
        return Err(first_err.unwrap_or_else(|| "prefill: no message accepted".into()));
    }
    Ok((n, first_err))
}

async fn run_one(cfg: &Config, target: &Target, workload: Workload, mode: Mode, clients: usize) -> RunResult {
    let mut result = RunResult {
        target: target.name.clone(),
        workload,
        mode,
        clients,
        seconds: 0.0,
        requests: 0,
        messages: 0,
        errors: 0,
        empty_receives: 0,
        req_per_s: 0.0,
        msg_per_s: 0.0,
        p50_ms: 0.0,
        p99_ms: 0.0,
        p999_ms: 0.0,
        max_ms: 0.0,
        prefilled: 0,
        rounds: 0,
        first_error: None,
        setup_error: None,
    };
    let message = payload::message_body(cfg.message_size);
    let qname = format!(
        "bench-{}-{}-c{}-{}",
        workload.name(),
        mode.name(),
        clients,
        &uuid::Uuid::new_v4().simple().to_string()[..8]
    );
    let mut admin = Admin::new(target);
    let queue_url = match admin.create_queue(&qname).await {
        Ok(u) => u,
        Err(e) => {
            result.setup_error = Some(e);
            return result;
        }
    };
    let sdk = if mode == Mode::Sdk { Some(build_sdk(target)) } else { None };
    let mut clients_v: Vec<Client> = (0..clients)
        .map(|_| match &sdk {
            Some(s) => Client::Sdk(SdkClient::new(s.clone(), &queue_url, &message)),
            None => Client::Raw(RawClient::new(target, &queue_url, &message)),
        })
        .collect();
    let mut hist: Histogram<u64> = Histogram::new_with_bounds(1, 60_000_000, 3).unwrap();
    let mut measured = Duration::ZERO;
    let wall_start = Instant::now();
    // recv-delete runs in rounds: fill the queue with `prefill` messages (not measured),
    // consume until drained or out of time (measured), repeat. The queue depth thus
    // stays between 0 and `prefill` for every target, whatever its speed.
    let wall_cap = cfg.warmup + cfg.duration * 3 + cfg.prefill_timeout;
    let mut round = 0u32;
    while measured < cfg.duration {
        if round > 0 && wall_start.elapsed() > wall_cap {
            eprint!("(stopped after {round} rounds: wall-clock cap) ");
            break;
        }
        round += 1;
        if workload == Workload::RecvDelete {
            match prefill(target, &queue_url, &message, cfg.prefill, cfg.prefill_timeout).await {
                Ok((n, err)) => {
                    result.prefilled += n;
                    if n < cfg.prefill {
                        eprint!(
                            "(prefill stopped at {n} of {}{}) ",
                            cfg.prefill,
                            err.map(|e| format!(": {e}"))
                                .unwrap_or_else(|| ": --prefill-timeout reached".into())
                        );
                    }
                }
                Err(e) => {
                    if round == 1 {
                        result.setup_error = Some(format!("prefill: {e}"));
                    } else {
                        result.first_error.get_or_insert(format!("prefill: {e}"));
                    }
                    break;
                }
            }
        }
        let start = Instant::now();
        let warmup = if round == 1 { cfg.warmup } else { Duration::ZERO };
        let shared = Arc::new(Shared {
            start,
            record_from: start + warmup,
            end: start + warmup + (cfg.duration - measured),
            stop: AtomicBool::new(false),
            drained_at_ns: AtomicU64::new(0),
        });
        let mut tasks = Vec::with_capacity(clients);
        for client in clients_v.drain(..) {
            tasks.push(tokio::spawn(worker(client, workload, shared.clone())));
        }
        for t in tasks {
            match t.await {
                Ok((client, st)) => {
                    clients_v.push(client);
                    hist.add(&st.hist).unwrap();
                    result.requests += st.requests;
                    result.messages += st.messages;
                    result.errors += st.errors;
                    result.empty_receives += st.empty;
                    if result.first_error.is_none() {
                        result.first_error = st.first_error;
                    }
                }
                Err(e) => {
                    result.errors += 1;
                    result.first_error.get_or_insert(format!("client task panicked: {e}"));
                }
            }
        }
        if clients_v.is_empty() {
            break;
        }
        let finished = Instant::now();
        let drained = shared.drained_at_ns.load(Ordering::SeqCst);
        let window_end = if drained > 0 {
            (start + Duration::from_nanos(drained)).min(shared.end)
        } else {
            finished.min(shared.end)
        };
        measured += window_end.saturating_duration_since(shared.record_from);
        if drained == 0 && finished >= shared.end {
            // Ran out of time, not out of messages: done.
            measured = measured.max(cfg.duration);
        }
    }
    result.rounds = round;
    let secs = measured.as_secs_f64();
    result.seconds = secs;
    if secs > 0.0 {
        result.req_per_s = result.requests as f64 / secs;
        result.msg_per_s = result.messages as f64 / secs;
    }
    if !hist.is_empty() {
        result.p50_ms = hist.value_at_quantile(0.50) as f64 / 1000.0;
        result.p99_ms = hist.value_at_quantile(0.99) as f64 / 1000.0;
        result.p999_ms = hist.value_at_quantile(0.999) as f64 / 1000.0;
        result.max_ms = hist.max() as f64 / 1000.0;
    }
    // Best effort; a fresh connection, since the clients' ones are gone.
    let _ = Admin::new(target).delete_queue(&queue_url).await;
    result
}

pub async fn run(cfg: Config) -> Result<(), String> {
    let mut all: Vec<RunResult> = Vec::new();
    for &workload in &cfg.workloads {
        for &mode in &cfg.modes {
            let mut section = Vec::new();
            for target in &cfg.targets {
                for &clients in &cfg.clients {
                    eprint!(
                        "[{} {} {:>10} c={:<4}] ",
                        workload.name(),
                        mode.name(),
                        target.name,
                        clients
                    );
                    let r = run_one(&cfg, target, workload, mode, clients).await;
                    eprintln!("{}", one_line(&r));
                    section.push(r);
                    tokio::time::sleep(cfg.pause).await;
                }
            }
            print_section(&cfg, workload, mode, &section);
            all.extend(section);
        }
    }
    if let Some(path) = &cfg.json {
        let doc = serde_json::json!({
            "duration_s": cfg.duration.as_secs_f64(),
            "warmup_s": cfg.warmup.as_secs_f64(),
            "message_size": cfg.message_size,
            "results": all,
        });
        std::fs::write(path, serde_json::to_vec_pretty(&doc).unwrap())
            .map_err(|e| format!("write {path}: {e}"))?;
        eprintln!("results written to {path}");
    }
    Ok(())
}

fn one_line(r: &RunResult) -> String {
    if let Some(e) = &r.setup_error {
        return format!("SETUP FAILED: {e}");
    }
    let mut s = format!(
        "{:>9.0} req/s {:>9.0} msg/s  p50 {:.3} ms  p99 {:.3} ms  p999 {:.3} ms  errors {}",
        r.req_per_s, r.msg_per_s, r.p50_ms, r.p99_ms, r.p999_ms, r.errors
    );
    if r.prefilled > 0 {
        s.push_str(&format!("  prefilled {}", r.prefilled));
    }
    if r.workload == Workload::RecvDelete {
        s.push_str(&format!("  rounds {}", r.rounds));
    }
    if let Some(e) = &r.first_error {
        s.push_str(&format!("\n    first error: {e}"));
    }
    s
}

fn print_section(cfg: &Config, workload: Workload, mode: Mode, rs: &[RunResult]) {
    println!();
    println!(
        "== workload={} mode={} duration={:.1}s warmup={:.1}s message={}B{}",
        workload.name(),
        mode.name(),
        cfg.duration.as_secs_f64(),
        cfg.warmup.as_secs_f64(),
        cfg.message_size,
        if workload == Workload::RecvDelete {
            " (req = ReceiveMessage or DeleteMessage; msg = one message received and deleted; latency over both)"
        } else {
            ""
        }
    );
    println!(
        "{:<12} {:>7} {:>10} {:>10} {:>9} {:>9} {:>9} {:>9} {:>7} {:>7}  note",
        "target", "clients", "req/s", "msg/s", "p50 ms", "p99 ms", "p999 ms", "max ms", "errors", "empty"
    );
    for r in rs {
        let note = match &r.setup_error {
            Some(e) => format!("setup failed: {}", e.chars().take(80).collect::<String>()),
            None if r.workload == Workload::RecvDelete => {
                format!("{} round(s) of {} msgs", r.rounds, cfg.prefill)
            }
            None => String::new(),
        };
        println!(
            "{:<12} {:>7} {:>10.0} {:>10.0} {:>9.3} {:>9.3} {:>9.3} {:>9.3} {:>7} {:>7}  {}",
            r.target, r.clients, r.req_per_s, r.msg_per_s, r.p50_ms, r.p99_ms, r.p999_ms, r.max_ms, r.errors,
            r.empty_receives, note
        );
    }
    // Ratios: baseline (nimbus) against every other target, same client count.
    let others: Vec<&str> = {
        let mut v: Vec<&str> = Vec::new();
        for r in rs {
            if r.target != cfg.baseline && !v.contains(&r.target.as_str()) {
                v.push(&r.target);
            }
        }
        v
    };
    if !rs.iter().any(|r| r.target == cfg.baseline) || others.is_empty() {
        return;
    }
    println!(
        "-- ratios {b}/peer: throughput (>1 = {b} faster), p50 and p99 latency (<1 = {b} faster)",
        b = cfg.baseline
    );
    println!(
        "{:<24} {:>7} {:>11} {:>9} {:>9}",
        "ratio", "clients", "throughput", "p50", "p99"
    );
    for other in &others {
        for &c in &cfg.clients {
            let b = rs.iter().find(|r| r.target == cfg.baseline && r.clients == c);
            let o = rs.iter().find(|r| r.target == *other && r.clients == c);
            if let (Some(b), Some(o)) = (b, o) {
                let label = if *other == cfg.null_name {
                    format!("{}/{} (ceiling)", cfg.baseline, other)
                } else {
                    format!("{}/{}", cfg.baseline, other)
                };
                println!(
                    "{:<24} {:>7} {:>11} {:>9} {:>9}",
                    label,
                    c,
                    ratio(b.req_per_s, o.req_per_s),
                    ratio(b.p50_ms, o.p50_ms),
                    ratio(b.p99_ms, o.p99_ms)
                );
            }
        }
    }
}
