//! `nimbus-bench kinesis`: Kinesis Data Streams over raw JSON 1.1
//! (`Kinesis_20131202.*`) on keep-alive connections. Three workloads:
//!
//! - `put`: C clients in a closed loop of PutRecords, each call `--batch` (500) records of
//!   `--record-size` (100) bytes with distinct partition keys, into one stream of
//!   `--shards` shards; records/s counts the records the answers accepted (batch −
//!   `FailedRecordCount`), p50/p99 is one PutRecords call. Failed records (e.g.
//!   `ProvisionedThroughputExceededException`) are reported, not retried.
//! - `latency` (put → visible): one client on a 1-shard stream holding a `LATEST`
//!   iterator; `--samples` times: PutRecord of one record, then GetRecords on the iterator
//!   back to back until the record comes back. "put→visible" is PutRecord sent → the
//!   GetRecords answer holding it; "get after put" is the first GetRecords call after the
//!   PutRecord answer (the latency of GetRecords right after a put); "empty" is the
//!   GetRecords calls per sample that came back without the record.
//! - `get` (a filled shard): a 1-shard stream prefilled with `--fill` records (setup, not
//!   timed); C clients each read it from `TRIM_HORIZON` with GetRecords (`Limit`
//!   `--get-limit`) following `NextShardIterator`, starting over at the end; p50/p99 is
//!   one GetRecords call, records/s what they returned.
//!
//! Streams are made per target before the runs (CreateStream, waiting for ACTIVE) and
//! deleted after. `--rounds` repeats every run, alternating targets; the summary gives
//! medians and the first target against each other one (throughput: first / other;
//! latency: other / first, so above 1 means the first is faster either way).

use std::time::{Duration, Instant};

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use bytes::Bytes;
use hdrhistogram::Histogram;
use serde_json::{json, Value};

use crate::apigw::hist;
use crate::awsjson::{self, median, ms_at, Service};
use crate::client::{RawConn, Target};

pub const KINESIS: Service = Service {
    target_prefix: "Kinesis_20131202",
    content_type: "application/x-amz-json-1.1",
    signing_name: "kinesis",
};

#[derive(Clone, Copy, PartialEq, Eq, Debug, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Workload {
    Put,
    Latency,
    Get,
}

impl Workload {
    pub fn parse(s: &str) -> Result<Workload, String> {
        match s {
            "put" => Ok(Workload::Put),
            "latency" => Ok(Workload::Latency),
            "get" => Ok(Workload::Get),
            _ => Err(format!("unknown workload {s:?} (put, latency, get)")),
        }
    }
    fn name(self) -> &'static str {
        match self {
            Workload::Put => "put",
            Workload::Latency => "latency",
            Workload::Get => "get",
        }
    }
}

pub struct Config {
    pub targets: Vec<Target>,
    pub clients: Vec<usize>,
    pub duration: Duration,
    pub warmup: Duration,
    pub workloads: Vec<Workload>,
    pub shards: u32,
    pub batch: usize,
    pub record_size: usize,
    pub samples: usize,
    pub fill: usize,
    pub get_limit: usize,
    pub rounds: usize,
    pub pause: Duration,
    pub json: Option<String>,
}

#[derive(serde::Serialize, Clone)]
struct Row {
    round: usize,
    target: String,
    workload: Workload,
    clients: usize,
    /// PutRecords / GetRecords calls (put, get) or samples (latency) measured.
    calls: u64,
    records_per_s: f64,
    /// put, get: one call; latency: put→visible.
    p50_ms: f64,
    p99_ms: f64,
    /// latency only: the first GetRecords after the put.
    get_after_put_p50_ms: f64,
    get_after_put_p99_ms: f64,
    /// latency only: GetRecords calls per sample that did not have the record yet.
    empty_per_sample: f64,
    failed_records: u64,
    errors: u64,
    first_error: Option<String>,
}

impl Row {
    fn new(round: usize, target: &Target, workload: Workload, clients: usize) -> Row {
        Row {
            round,
            target: target.name.clone(),
            workload,
            clients,
            calls: 0,
            records_per_s: 0.0,
            p50_ms: 0.0,
            p99_ms: 0.0,
            get_after_put_p50_ms: 0.0,
            get_after_put_p99_ms: 0.0,
            empty_per_sample: 0.0,
            failed_records: 0,
            errors: 0,
            first_error: None,
        }
    }
}

/// The streams one target works on.
struct Streams {
    put: Option<String>,
    latency: Option<(String, String)>,
    get: Option<(String, String)>,
}

fn unique(prefix: &str) -> String {
    format!("{prefix}-{}", &uuid::Uuid::new_v4().simple().to_string()[..12])
}

fn data(size: usize) -> String {
    B64.encode(crate::payload::message_body(size))
}

/// CreateStream, then DescribeStreamSummary until ACTIVE; returns the first shard's id.
async fn create_stream(target: &Target, name: &str, shards: u32) -> Result<String, String> {
    let mut conn = RawConn::new(target.addr);
    awsjson::call(&mut conn, KINESIS, &target.host, "CreateStream", json!({ "StreamName": name, "ShardCount": shards })).await?;
    let t = Instant::now();
    loop {
        let d = awsjson::call(&mut conn, KINESIS, &target.host, "DescribeStreamSummary", json!({ "StreamName": name })).await?;
        if d["StreamDescriptionSummary"]["StreamStatus"] == "ACTIVE" {
            break;
        }
        if t.elapsed() > Duration::from_secs(60) {
            return Err(format!("stream {name} not ACTIVE after 60 s: {d}"));
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let shards = awsjson::call(&mut conn, KINESIS, &target.host, "ListShards", json!({ "StreamName": name })).await?;
    shards["Shards"][0]["ShardId"].as_str().map(str::to_string).ok_or_else(|| format!("ListShards: no shard in {shards}"))
}

async fn delete_stream(target: &Target, name: &str) -> Result<(), String> {
    let mut conn = RawConn::new(target.addr);
    awsjson::call(&mut conn, KINESIS, &target.host, "DeleteStream", json!({ "StreamName": name, "EnforceConsumerDeletion": true })).await.map(|_| ())
}

async fn iterator(conn: &mut RawConn, target: &Target, stream: &str, shard: &str, kind: &str) -> Result<String, String> {
    let it = awsjson::call(conn, KINESIS, &target.host, "GetShardIterator", json!({ "StreamName": stream, "ShardId": shard, "ShardIteratorType": kind })).await?;
    it["ShardIterator"].as_str().map(str::to_string).ok_or_else(|| format!("GetShardIterator: no ShardIterator in {it}"))
}

/// PutRecords of `n` records with partition keys `{key}-{i}`.
fn put_records_body(stream: &str, key: &str, n: usize, size: usize) -> Bytes {
    let d = data(size);
    let records: Vec<Value> = (0..n).map(|i| json!({ "Data": d, "PartitionKey": format!("{key}-{i}") })).collect();
    Bytes::from(json!({ "StreamName": stream, "Records": records }).to_string())
}

async fn prepare(cfg: &Config, target: &Target) -> Result<Streams, String> {
    let mut s = Streams { put: None, latency: None, get: None };
    if cfg.workloads.contains(&Workload::Put) {
        let name = unique("nimbus-bench-put");
        create_stream(target, &name, cfg.shards).await?;
        s.put = Some(name);
    }
    if cfg.workloads.contains(&Workload::Latency) {
        let name = unique("nimbus-bench-latency");
        let shard = create_stream(target, &name, 1).await?;
        s.latency = Some((name, shard));
    }
    if cfg.workloads.contains(&Workload::Get) {
        let name = unique("nimbus-bench-get");
        let shard = create_stream(target, &name, 1).await?;
        let mut conn = RawConn::new(target.addr);
        let h = KINESIS.headers(&target.host, "PutRecords");
        let mut left = cfg.fill;
        let t = Instant::now();
        while left > 0 {
            let n = left.min(500);
            let out = awsjson::call_raw(&mut conn, &h, "PutRecords", put_records_body(&name, "fill", n, cfg.record_size)).await?;
            let failed = out["FailedRecordCount"].as_u64().unwrap_or(0) as usize;
            left -= n - failed.min(n);
            if t.elapsed() > Duration::from_secs(300) {
                return Err(format!("filling {name}: {left} records still missing after 300 s"));
            }
        }
        eprintln!("kinesis: {} filled a shard with {} records in {:.1} s", target.name, cfg.fill, t.elapsed().as_secs_f64());
        s.get = Some((name, shard));
    }
    Ok(s)
}

struct Measured {
    lat: Histogram<u64>,
    records: u64,
    failed: u64,
    errors: u64,
    first_error: Option<String>,
}

fn measured() -> Measured {
    Measured { lat: hist(), records: 0, failed: 0, errors: 0, first_error: None }
}

fn us(d: Duration) -> u64 {
    d.as_micros().max(1) as u64
}

async fn put_client(target: Target, stream: String, client: usize, batch: usize, size: usize, record_from: Instant, end: Instant) -> Measured {
    let mut conn = RawConn::new(target.addr);
    let h = KINESIS.headers(&target.host, "PutRecords");
    let body = put_records_body(&stream, &format!("c{client}"), batch, size);
    let mut m = measured();
    while Instant::now() < end {
        let t = Instant::now();
        let res = awsjson::call_raw(&mut conn, &h, "PutRecords", body.clone()).await;
        if t < record_from {
            continue;
        }
        match res {
            Ok(out) => {
                m.lat.saturating_record(us(t.elapsed()));
                let failed = out["FailedRecordCount"].as_u64().unwrap_or(0);
                if failed > 0 && m.first_error.is_none() {
                    let code = out["Records"].as_array().and_then(|rs| rs.iter().find_map(|r| r["ErrorCode"].as_str().map(str::to_string)));
                    m.first_error = Some(format!("PutRecords: {failed} failed records ({})", code.unwrap_or_default()));
                }
                m.failed += failed;
                m.records += (batch as u64).saturating_sub(failed);
            }
            Err(e) => {
                m.errors += 1;
                m.first_error.get_or_insert(e);
            }
        }
    }
    m
}

async fn get_client(target: Target, stream: String, shard: String, limit: usize, record_from: Instant, end: Instant) -> Measured {
    let mut conn = RawConn::new(target.addr);
    let h = KINESIS.headers(&target.host, "GetRecords");
    let mut m = measured();
    'outer: while Instant::now() < end {
        let mut it = match iterator(&mut conn, &target, &stream, &shard, "TRIM_HORIZON").await {
            Ok(it) => it,
            Err(e) => {
                m.errors += 1;
                m.first_error.get_or_insert(e);
                continue;
            }
        };
        while Instant::now() < end {
            let t = Instant::now();
            let res = awsjson::call_raw(&mut conn, &h, "GetRecords", Bytes::from(json!({ "ShardIterator": it, "Limit": limit }).to_string())).await;
            let out = match res {
                Ok(out) => out,
                Err(e) => {
                    if t >= record_from {
                        m.errors += 1;
                        m.first_error.get_or_insert(e);
                    }
                    continue 'outer;
                }
            };
            let n = out["Records"].as_array().map(Vec::len).unwrap_or(0);
            if t >= record_from {
                m.lat.saturating_record(us(t.elapsed()));
                m.records += n as u64;
            }
            match out["NextShardIterator"].as_str() {
                Some(next) if n > 0 => it = next.to_string(),
                _ => continue 'outer,
            }
        }
    }
    m
}

/// The closed-loop runs (put, get) of one target and client count.
async fn closed(cfg: &Config, target: &Target, streams: &Streams, workload: Workload, clients: usize, round: usize) -> Row {
    let record_from = Instant::now() + cfg.warmup;
    let end = record_from + cfg.duration;
    let tasks: Vec<_> = (0..clients)
        .map(|c| match workload {
            Workload::Get => {
                let (s, shard) = streams.get.clone().unwrap_or_default();
                tokio::spawn(get_client(target.clone(), s, shard, cfg.get_limit, record_from, end))
            }
            _ => tokio::spawn(put_client(target.clone(), streams.put.clone().unwrap_or_default(), c, cfg.batch, cfg.record_size, record_from, end)),
        })
        .collect();
    let mut row = Row::new(round, target, workload, clients);
    let mut lat = hist();
    let mut records = 0;
    for t in tasks {
        match t.await {
            Ok(m) => {
                let _ = lat.add(&m.lat);
                records += m.records;
                row.failed_records += m.failed;
                row.errors += m.errors;
                if row.first_error.is_none() {
                    row.first_error = m.first_error;
                }
            }
            Err(e) => {
                row.errors += 1;
                row.first_error.get_or_insert(format!("client task: {e}"));
            }
        }
    }
    row.calls = lat.len();
    row.records_per_s = records as f64 / cfg.duration.as_secs_f64();
    row.p50_ms = ms_at(&lat, 0.5);
    row.p99_ms = ms_at(&lat, 0.99);
    row
}

/// put → visible, one client, `--samples` samples after 10 unrecorded ones.
async fn latency(cfg: &Config, target: &Target, stream: &str, shard: &str, round: usize) -> Row {
    let mut row = Row::new(round, target, Workload::Latency, 1);
    let mut conn = RawConn::new(target.addr);
    let put_h = KINESIS.headers(&target.host, "PutRecord");
    let get_h = KINESIS.headers(&target.host, "GetRecords");
    let put_body = Bytes::from(json!({ "StreamName": stream, "Data": data(cfg.record_size), "PartitionKey": "latency" }).to_string());
    let (mut visible, mut get_after) = (hist(), hist());
    let mut empty = 0u64;
    let mut it = match iterator(&mut conn, target, stream, shard, "LATEST").await {
        Ok(it) => it,
        Err(e) => {
            row.errors += 1;
            row.first_error = Some(e);
            return row;
        }
    };
    for i in 0..cfg.samples + 10 {
        let t0 = Instant::now();
        if let Err(e) = awsjson::call_raw(&mut conn, &put_h, "PutRecord", put_body.clone()).await {
            row.errors += 1;
            row.first_error.get_or_insert(e);
            continue;
        }
        let mut first = true;
        let mut sample_empty = 0;
        loop {
            let t = Instant::now();
            let out = match awsjson::call_raw(&mut conn, &get_h, "GetRecords", Bytes::from(json!({ "ShardIterator": it, "Limit": 100 }).to_string())).await {
                Ok(out) => out,
                Err(e) => {
                    row.errors += 1;
                    row.first_error.get_or_insert(e);
                    return finish_latency(row, &visible, &get_after, empty);
                }
            };
            let took = t.elapsed();
            if i >= 10 && first {
                get_after.saturating_record(us(took));
            }
            first = false;
            if let Some(next) = out["NextShardIterator"].as_str() {
                it = next.to_string();
            }
            if out["Records"].as_array().is_some_and(|r| !r.is_empty()) {
                if i >= 10 {
                    visible.saturating_record(us(t0.elapsed()));
                    empty += sample_empty;
                }
                break;
            }
            sample_empty += 1;
            if t0.elapsed() > Duration::from_secs(10) {
                row.errors += 1;
                row.first_error.get_or_insert("a put record was not visible after 10 s".to_string());
                return finish_latency(row, &visible, &get_after, empty);
            }
        }
    }
    finish_latency(row, &visible, &get_after, empty)
}

fn finish_latency(mut row: Row, visible: &Histogram<u64>, get_after: &Histogram<u64>, empty: u64) -> Row {
    row.calls = visible.len();
    row.p50_ms = ms_at(visible, 0.5);
    row.p99_ms = ms_at(visible, 0.99);
    row.get_after_put_p50_ms = ms_at(get_after, 0.5);
    row.get_after_put_p99_ms = ms_at(get_after, 0.99);
    row.empty_per_sample = if row.calls > 0 { empty as f64 / row.calls as f64 } else { 0.0 };
    row
}

fn print_row(r: &Row) {
    match r.workload {
        Workload::Latency => println!(
            "{:>5} {:<12} {:<8} {:>7} {:>8} {:>12} {:>9.3} {:>9.3}   get after put {:.3} / {:.3} ms, {:.2} empty GetRecords per sample, errors {}",
            r.round, r.target, r.workload.name(), r.clients, r.calls, "-", r.p50_ms, r.p99_ms, r.get_after_put_p50_ms, r.get_after_put_p99_ms, r.empty_per_sample, r.errors
        ),
        _ => println!(
            "{:>5} {:<12} {:<8} {:>7} {:>8} {:>12.0} {:>9.3} {:>9.3}   failed records {}, errors {}",
            r.round, r.target, r.workload.name(), r.clients, r.calls, r.records_per_s, r.p50_ms, r.p99_ms, r.failed_records, r.errors
        ),
    }
    if let Some(e) = &r.first_error {
        println!("      first error: {}", e.chars().take(300).collect::<String>());
    }
}

pub async fn run(cfg: Config) -> Result<(), String> {
    let mut ready: Vec<(usize, Streams)> = Vec::new();
    for (ti, t) in cfg.targets.iter().enumerate() {
        match prepare(&cfg, t).await {
            Ok(s) => ready.push((ti, s)),
            Err(e) => eprintln!("kinesis: {} skipped: {e}", t.name),
        }
    }
    println!(
        "Kinesis: {} s per run after {} s warm-up; put: PutRecords of {} × {} B records into {} shard(s); latency: {} samples; get: Limit {} on a shard of {} records",
        cfg.duration.as_secs_f64(),
        cfg.warmup.as_secs_f64(),
        cfg.batch,
        cfg.record_size,
        cfg.shards,
        cfg.samples,
        cfg.get_limit,
        cfg.fill
    );
    println!("{:>5} {:<12} {:<8} {:>7} {:>8} {:>12} {:>9} {:>9}", "round", "target", "workload", "clients", "calls", "records/s", "p50 ms", "p99 ms");
    let mut rows = Vec::new();
    for round in 1..=cfg.rounds {
        for &w in &cfg.workloads {
            let counts = if w == Workload::Latency { vec![1] } else { cfg.clients.clone() };
            for &clients in &counts {
                for (ti, streams) in &ready {
                    let target = &cfg.targets[*ti];
                    let r = match (w, &streams.latency) {
                        (Workload::Latency, Some((s, shard))) => latency(&cfg, target, s, shard, round).await,
                        (Workload::Latency, None) => continue,
                        _ => closed(&cfg, target, streams, w, clients, round).await,
                    };
                    print_row(&r);
                    rows.push(r);
                    tokio::time::sleep(cfg.pause).await;
                }
            }
        }
    }
    let mut summary = Vec::new();
    if let Some(base) = cfg.targets.first() {
        println!("medians over the round(s) that measured something (of {}): records/s (p50 / p99 ms)", cfg.rounds);
        for &w in &cfg.workloads {
            let counts = if w == Workload::Latency { vec![1] } else { cfg.clients.clone() };
            for clients in counts {
                let med = |name: &str| {
                    let rs: Vec<&Row> = rows.iter().filter(|r| r.target == name && r.workload == w && r.clients == clients && r.calls > 0).collect();
                    let m = |f: fn(&Row) -> f64| median(rs.iter().map(|r| f(r)).collect());
                    (m(|r| r.records_per_s), m(|r| r.p50_ms), m(|r| r.p99_ms), m(|r| r.get_after_put_p50_ms), m(|r| r.get_after_put_p99_ms), rs.len())
                };
                let b = med(&base.name);
                for t in &cfg.targets {
                    let v = med(&t.name);
                    if v.5 == 0 {
                        continue;
                    }
                    let other = t.name != base.name && b.5 > 0;
                    match w {
                        Workload::Latency => {
                            let ratio = if other { format!("  {} / {} p50 {}, p99 {}", t.name, base.name, crate::report::ratio(v.1, b.1), crate::report::ratio(v.2, b.2)) } else { String::new() };
                            println!("  {:<8} {:<12} put→visible {:.3} / {:.3} ms, get after put {:.3} / {:.3} ms{ratio}", w.name(), t.name, v.1, v.2, v.3, v.4);
                        }
                        _ => {
                            let ratio = if other { format!("  {} / {}: {}", base.name, t.name, crate::report::ratio(b.0, v.0)) } else { String::new() };
                            println!("  {:<8} {:>3} clients {:<12} {:>10.0} ({:.3} / {:.3}){ratio}", w.name(), clients, t.name, v.0, v.1, v.2);
                        }
                    }
                    summary.push(json!({ "target": t.name, "workload": w, "clients": clients, "records_per_s": v.0, "p50_ms": v.1, "p99_ms": v.2, "get_after_put_p50_ms": v.3, "get_after_put_p99_ms": v.4 }));
                }
            }
        }
    }
    for (ti, s) in &ready {
        let target = &cfg.targets[*ti];
        let names = [s.put.clone(), s.latency.as_ref().map(|l| l.0.clone()), s.get.as_ref().map(|g| g.0.clone())];
        for n in names.into_iter().flatten() {
            if let Err(e) = delete_stream(target, &n).await {
                eprintln!("kinesis: DeleteStream {n} on {}: {e}", target.name);
            }
        }
    }
    if let Some(path) = &cfg.json {
        let doc = json!({ "shards": cfg.shards, "batch": cfg.batch, "record_size": cfg.record_size, "duration_s": cfg.duration.as_secs_f64(), "runs": rows, "medians": summary });
        std::fs::write(path, serde_json::to_vec_pretty(&doc).unwrap_or_default()).map_err(|e| format!("{path}: {e}"))?;
    }
    Ok(())
}
