//! `nimbus-bench sfn`: Step Functions state transitions/s of STANDARD (durable)
//! executions, over raw JSON 1.0 (`AWSStepFunctions.*`) on keep-alive connections.
//!
//! Two chains of `--states` states (default 10), each its own state machine:
//! - `pass`: Pass states, `S00 → S01 → … → S09` (End);
//! - `lambda`: Task states `arn:aws:states:::lambda:invoke` of the `provided.al2023` test
//!   function (`nimbus-test-fn`, `{"action":"echo"}`, `ResultPath: null`), made with
//!   CreateFunction as `nimbus-bench lambda` does. A target that cannot run it (no Lambda,
//!   or a Lambda that needs Docker) is skipped with the reason it gave.
//!
//! Setup per (target, chain): CreateStateMachine, one execution run to its end and its
//! GetExecutionHistory read: the `…StateEntered` events counted are the transitions per
//! execution the figures use (verified, not assumed; the history must say SUCCEEDED).
//!
//! A run: C clients in a closed loop, each StartExecution (`input` `{}`, a fresh name) and
//! then DescribeExecution in a loop (every `--poll`, default back to back, as users wait
//! on an execution) until the status is not RUNNING. An execution counts when it ends
//! with SUCCEEDED inside the measured window (after `--warmup`); executions/s = those /
//! duration, transitions/s = executions/s × transitions per execution; latency is
//! StartExecution sent → DescribeExecution showing SUCCEEDED (p50/p99), and "server ms"
//! is the execution's own stopDate − startDate. After the window, each client waits its
//! last execution out (not counted) so the next run starts on an idle server.
//! `--rounds` repeats every (target, chain, clients) run, alternating targets, and the
//! summary gives medians and the first target's ratio to each other one.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use bytes::Bytes;
use hdrhistogram::Histogram;
use http::Method;
use serde_json::{json, Map, Value};

use crate::apigw::hist;
use crate::awsjson::{self, median, ms_at, Service};
use crate::client::{RawConn, Target};
use crate::esm::{create_function, Rest};
use crate::lambda::zip_bootstrap;

pub const SFN: Service = Service {
    target_prefix: "AWSStepFunctions",
    content_type: "application/x-amz-json-1.0",
    signing_name: "states",
};

const ROLE: &str = "arn:aws:iam::000000000000:role/nimbus-bench-sfn";

#[derive(Clone, Copy, PartialEq, Eq, Debug, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Chain {
    Pass,
    Lambda,
}

impl Chain {
    pub fn parse(s: &str) -> Result<Chain, String> {
        match s {
            "pass" => Ok(Chain::Pass),
            "lambda" => Ok(Chain::Lambda),
            _ => Err(format!("unknown chain {s:?} (pass, lambda)")),
        }
    }
    fn name(self) -> &'static str {
        match self {
            Chain::Pass => "pass",
            Chain::Lambda => "lambda",
        }
    }
}

pub struct Config {
    pub targets: Vec<Target>,
    pub clients: Vec<usize>,
    pub duration: Duration,
    pub warmup: Duration,
    pub chains: Vec<Chain>,
    pub states: usize,
    pub bootstrap: PathBuf,
    /// Pause between DescribeExecution polls (zero: back to back).
    pub poll: Duration,
    pub rounds: usize,
    /// An execution still RUNNING after this long is an error.
    pub execution_timeout: Duration,
    pub pause: Duration,
    pub json: Option<String>,
}

/// One (target, chain) made ready: its state machine and what one execution does.
struct Prepared {
    state_machine_arn: String,
    transitions: usize,
    function: Option<String>,
}

#[derive(serde::Serialize, Clone)]
struct Row {
    round: usize,
    target: String,
    chain: Chain,
    clients: usize,
    executions: u64,
    executions_per_s: f64,
    transitions_per_s: f64,
    p50_ms: f64,
    p99_ms: f64,
    server_p50_ms: f64,
    server_p99_ms: f64,
    polls_per_execution: f64,
    errors: u64,
    first_error: Option<String>,
}

#[derive(serde::Serialize)]
struct Skipped {
    target: String,
    chain: Chain,
    reason: String,
}

/// The chain's ASL definition: `states` states named S00, S01, … in a line.
fn definition(chain: Chain, states: usize, function_arn: Option<&str>) -> Value {
    let mut all = Map::new();
    for i in 0..states {
        let mut s = match chain {
            Chain::Pass => json!({ "Type": "Pass" }),
            Chain::Lambda => json!({
                "Type": "Task",
                "Resource": "arn:aws:states:::lambda:invoke",
                "Parameters": { "FunctionName": function_arn.unwrap_or_default(), "Payload": { "action": "echo" } },
                "ResultPath": null,
            }),
        };
        if i + 1 < states {
            s["Next"] = json!(format!("S{:02}", i + 1));
        } else {
            s["End"] = json!(true);
        }
        all.insert(format!("S{i:02}"), s);
    }
    json!({ "Comment": format!("nimbus-bench {} chain", chain.name()), "StartAt": "S00", "States": all })
}

fn unique(prefix: &str) -> String {
    format!("{prefix}-{}", &uuid::Uuid::new_v4().simple().to_string()[..12])
}

/// The end of one execution: Ok(server-side ms, polls) on SUCCEEDED.
async fn run_execution(conn: &mut RawConn, target: &Target, h: &(http::HeaderMap, http::HeaderMap), arn: &str, poll: Duration, limit: Duration) -> Result<(Option<f64>, u64), String> {
    let body = json!({ "stateMachineArn": arn, "name": uuid::Uuid::new_v4().to_string(), "input": "{}" });
    let started = awsjson::call_raw(conn, &h.0, "StartExecution", Bytes::from(body.to_string())).await?;
    let exec = started["executionArn"].as_str().ok_or_else(|| format!("StartExecution on {}: no executionArn in {started}", target.name))?;
    let describe = Bytes::from(json!({ "executionArn": exec }).to_string());
    let t = Instant::now();
    let mut polls = 0u64;
    loop {
        let d = awsjson::call_raw(conn, &h.1, "DescribeExecution", describe.clone()).await?;
        polls += 1;
        match d["status"].as_str().unwrap_or("") {
            "RUNNING" | "PENDING_REDRIVE" => {}
            "SUCCEEDED" => {
                let server = match (d["startDate"].as_f64(), d["stopDate"].as_f64()) {
                    (Some(a), Some(b)) => Some((b - a) * 1000.0),
                    _ => None,
                };
                return Ok((server, polls));
            }
            other => {
                let why = format!("{} {}", d["error"].as_str().unwrap_or(""), d["cause"].as_str().unwrap_or(""));
                return Err(format!("execution {other}: {}", why.trim().chars().take(300).collect::<String>()));
            }
        }
        if t.elapsed() > limit {
            return Err(format!("execution still RUNNING after {limit:?}"));
        }
        if !poll.is_zero() {
            tokio::time::sleep(poll).await;
        }
    }
}

fn headers(target: &Target) -> (http::HeaderMap, http::HeaderMap) {
    (SFN.headers(&target.host, "StartExecution"), SFN.headers(&target.host, "DescribeExecution"))
}

/// Creates the function (lambda chain) and the state machine, runs one execution to its
/// end and counts its transitions in the history.
async fn prepare(cfg: &Config, target: &Target, chain: Chain) -> Result<Prepared, String> {
    let mut conn = RawConn::new(target.addr);
    let mut function = None;
    let mut function_arn = None;
    if chain == Chain::Lambda {
        let zip = zip_bootstrap(&cfg.bootstrap)?;
        let name = unique("nimbus-bench-sfn");
        let mut rest = Rest::new(target);
        create_function(&mut rest, &name, &zip, json!({})).await?;
        let c = rest.call("GetFunctionConfiguration", Method::GET, &format!("/2015-03-31/functions/{name}/configuration"), None).await?;
        function_arn = Some(c["FunctionArn"].as_str().ok_or_else(|| format!("GetFunctionConfiguration: no FunctionArn in {c}"))?.to_string());
        function = Some(name);
    }
    let def = definition(chain, cfg.states, function_arn.as_deref());
    let created = awsjson::call(
        &mut conn,
        SFN,
        &target.host,
        "CreateStateMachine",
        json!({ "name": unique(&format!("nimbus-bench-{}", chain.name())), "definition": def.to_string(), "roleArn": ROLE, "type": "STANDARD" }),
    )
    .await?;
    let arn = created["stateMachineArn"].as_str().ok_or_else(|| format!("CreateStateMachine: no stateMachineArn in {created}"))?.to_string();
    let mut prepared = Prepared { state_machine_arn: arn.clone(), transitions: cfg.states, function };
    // One execution to its end, then its history: what one execution really does.
    let h = headers(target);
    let limit = cfg.execution_timeout.max(Duration::from_secs(60));
    let body = json!({ "stateMachineArn": arn, "name": unique("check"), "input": "{}" });
    let started = awsjson::call_raw(&mut conn, &h.0, "StartExecution", Bytes::from(body.to_string())).await?;
    let exec = started["executionArn"].as_str().ok_or("StartExecution: no executionArn")?.to_string();
    let t = Instant::now();
    loop {
        let d = awsjson::call(&mut conn, SFN, &target.host, "DescribeExecution", json!({ "executionArn": exec })).await?;
        match d["status"].as_str().unwrap_or("") {
            "RUNNING" => {}
            "SUCCEEDED" => break,
            other => {
                let _ = cleanup(target, &prepared).await;
                return Err(format!("the check execution ended {other}: {} {}", d["error"].as_str().unwrap_or(""), d["cause"].as_str().unwrap_or("").chars().take(400).collect::<String>()));
            }
        }
        if t.elapsed() > limit {
            let _ = cleanup(target, &prepared).await;
            return Err(format!("the check execution is still RUNNING after {limit:?}"));
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let mut entered = 0usize;
    let mut token: Option<String> = None;
    loop {
        let mut body = json!({ "executionArn": exec, "maxResults": 1000 });
        if let Some(t) = token.take() {
            body["nextToken"] = json!(t);
        }
        let page = awsjson::call(&mut conn, SFN, &target.host, "GetExecutionHistory", body).await?;
        entered += page["events"].as_array().map(|es| es.iter().filter(|e| e["type"].as_str().is_some_and(|t| t.ends_with("StateEntered"))).count()).unwrap_or(0);
        match page["nextToken"].as_str() {
            Some(t) if !t.is_empty() => token = Some(t.to_string()),
            _ => break,
        }
    }
    if entered != cfg.states {
        eprintln!("sfn: {} {} chain: the history shows {entered} states entered, not {}; using {entered}", target.name, chain.name(), cfg.states);
    }
    prepared.transitions = entered.max(1);
    Ok(prepared)
}

async fn cleanup(target: &Target, p: &Prepared) -> Result<(), String> {
    let mut conn = RawConn::new(target.addr);
    awsjson::call(&mut conn, SFN, &target.host, "DeleteStateMachine", json!({ "stateMachineArn": p.state_machine_arn })).await?;
    if let Some(f) = &p.function {
        Rest::new(target).call("DeleteFunction", Method::DELETE, &format!("/2015-03-31/functions/{f}"), None).await?;
    }
    Ok(())
}

struct Measured {
    lat: Histogram<u64>,
    server: Histogram<u64>,
    polls: u64,
    errors: u64,
    first_error: Option<String>,
}

async fn client(target: Target, arn: String, poll: Duration, limit: Duration, record_from: Instant, end: Instant) -> Measured {
    let mut conn = RawConn::new(target.addr);
    let h = headers(&target);
    let mut m = Measured { lat: hist(), server: hist(), polls: 0, errors: 0, first_error: None };
    while Instant::now() < end {
        let t = Instant::now();
        let res = run_execution(&mut conn, &target, &h, &arn, poll, limit).await;
        let done = Instant::now();
        if done < record_from || done > end {
            continue;
        }
        match res {
            Ok((server, polls)) => {
                m.lat.saturating_record(t.elapsed().as_micros().max(1) as u64);
                if let Some(s) = server {
                    m.server.saturating_record((s * 1000.0).max(1.0) as u64);
                }
                m.polls += polls;
            }
            Err(e) => {
                m.errors += 1;
                m.first_error.get_or_insert(e);
            }
        }
    }
    m
}

async fn one_run(cfg: &Config, target: &Target, chain: Chain, p: &Prepared, clients: usize, round: usize) -> Row {
    let record_from = Instant::now() + cfg.warmup;
    let end = record_from + cfg.duration;
    let tasks: Vec<_> = (0..clients)
        .map(|_| tokio::spawn(client(target.clone(), p.state_machine_arn.clone(), cfg.poll, cfg.execution_timeout, record_from, end)))
        .collect();
    let (mut lat, mut server, mut polls, mut errors, mut first_error) = (hist(), hist(), 0u64, 0u64, None);
    for t in tasks {
        match t.await {
            Ok(m) => {
                let _ = lat.add(&m.lat);
                let _ = server.add(&m.server);
                polls += m.polls;
                errors += m.errors;
                if first_error.is_none() {
                    first_error = m.first_error;
                }
            }
            Err(e) => {
                errors += 1;
                first_error.get_or_insert(format!("client task: {e}"));
            }
        }
    }
    let executions = lat.len();
    let per_s = executions as f64 / cfg.duration.as_secs_f64();
    Row {
        round,
        target: target.name.clone(),
        chain,
        clients,
        executions,
        executions_per_s: per_s,
        transitions_per_s: per_s * p.transitions as f64,
        p50_ms: ms_at(&lat, 0.5),
        p99_ms: ms_at(&lat, 0.99),
        server_p50_ms: ms_at(&server, 0.5),
        server_p99_ms: ms_at(&server, 0.99),
        polls_per_execution: if executions > 0 { polls as f64 / executions as f64 } else { 0.0 },
        errors,
        first_error,
    }
}

fn print_row(r: &Row) {
    println!(
        "{:>5} {:<12} {:<7} {:>7} {:>10} {:>10.1} {:>13.0} {:>9.2} {:>9.2} {:>10.2} {:>8.1} {:>7}",
        r.round, r.target, r.chain.name(), r.clients, r.executions, r.executions_per_s, r.transitions_per_s, r.p50_ms, r.p99_ms, r.server_p50_ms, r.polls_per_execution, r.errors
    );
    if let Some(e) = &r.first_error {
        println!("      first error: {}", e.chars().take(300).collect::<String>());
    }
}

pub async fn run(cfg: Config) -> Result<(), String> {
    // Setup first, for every target and chain; a chain a target cannot run is skipped.
    let mut prepared: Vec<(usize, Chain, Prepared)> = Vec::new();
    let mut skipped = Vec::new();
    for (ti, t) in cfg.targets.iter().enumerate() {
        for &chain in &cfg.chains {
            match prepare(&cfg, t, chain).await {
                Ok(p) => {
                    eprintln!("sfn: {} {} chain ready: {} transitions per execution", t.name, chain.name(), p.transitions);
                    prepared.push((ti, chain, p));
                }
                Err(reason) => {
                    eprintln!("sfn: {} {} chain skipped: {reason}", t.name, chain.name());
                    skipped.push(Skipped { target: t.name.clone(), chain, reason });
                }
            }
        }
    }
    println!(
        "Step Functions: STANDARD executions, {} states per chain, {} s per run after {} s warm-up, DescribeExecution poll {} ms",
        cfg.states,
        cfg.duration.as_secs_f64(),
        cfg.warmup.as_secs_f64(),
        cfg.poll.as_millis()
    );
    println!(
        "{:>5} {:<12} {:<7} {:>7} {:>10} {:>10} {:>13} {:>9} {:>9} {:>10} {:>8} {:>7}",
        "round", "target", "chain", "clients", "execs", "execs/s", "transitions/s", "p50 ms", "p99 ms", "server p50", "polls", "errors"
    );
    let mut rows = Vec::new();
    for round in 1..=cfg.rounds {
        for &chain in &cfg.chains {
            for &clients in &cfg.clients {
                for (ti, _, p) in prepared.iter().filter(|(_, c, _)| *c == chain) {
                    let r = one_run(&cfg, &cfg.targets[*ti], chain, p, clients, round).await;
                    print_row(&r);
                    rows.push(r);
                    tokio::time::sleep(cfg.pause).await;
                }
            }
        }
    }
    for s in &skipped {
        println!("skipped: {} {} chain: {}", s.target, s.chain.name(), s.reason.chars().take(400).collect::<String>());
    }
    // Medians over the rounds, and the first target against each other one.
    let mut summary = Vec::new();
    if let Some(base) = cfg.targets.first() {
        println!("medians over {} round(s): transitions/s (p50 / p99 ms of an execution)", cfg.rounds);
        for &chain in &cfg.chains {
            for &clients in &cfg.clients {
                let med = |name: &str| {
                    let rs: Vec<&Row> = rows.iter().filter(|r| r.target == name && r.chain == chain && r.clients == clients && r.executions > 0).collect();
                    (median(rs.iter().map(|r| r.transitions_per_s).collect()), median(rs.iter().map(|r| r.p50_ms).collect()), median(rs.iter().map(|r| r.p99_ms).collect()), rs.len())
                };
                let (b, bp50, bp99, bn) = med(&base.name);
                for t in &cfg.targets {
                    let (v, p50, p99, n) = med(&t.name);
                    if n == 0 {
                        continue;
                    }
                    let ratio = if t.name == base.name || bn == 0 { String::new() } else { format!("  {} / {}: {}", base.name, t.name, crate::report::ratio(b, v)) };
                    println!("  {:<7} {:>3} clients {:<12} {:>10.0} ({p50:.2} / {p99:.2}){ratio}", chain.name(), clients, t.name, v);
                    summary.push(json!({ "target": t.name, "chain": chain, "clients": clients, "transitions_per_s": v, "p50_ms": p50, "p99_ms": p99, "ratio_baseline": if t.name == base.name { Value::Null } else { json!(if v > 0.0 { b / v } else { 0.0 }) }, "baseline_p50_ms": bp50, "baseline_p99_ms": bp99 }));
                }
            }
        }
    }
    for (ti, _, p) in &prepared {
        if let Err(e) = cleanup(&cfg.targets[*ti], p).await {
            eprintln!("sfn: cleanup on {}: {e}", cfg.targets[*ti].name);
        }
    }
    if let Some(path) = &cfg.json {
        let doc = json!({ "states": cfg.states, "duration_s": cfg.duration.as_secs_f64(), "poll_ms": cfg.poll.as_millis() as u64, "runs": rows, "medians": summary, "skipped": skipped });
        std::fs::write(path, serde_json::to_vec_pretty(&doc).unwrap_or_default()).map_err(|e| format!("{path}: {e}"))?;
    }
    Ok(())
}
