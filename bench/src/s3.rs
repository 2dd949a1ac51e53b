//! S3 object throughput: PUT and GET of objects of a given size (1 KB, 8 MB) by C clients
//! on their own keep-alive connections for a fixed time, path-style, unsigned payloads
//! (`x-amz-content-sha256: UNSIGNED-PAYLOAD`, as SDKs send over TLS). Reports requests/s,
//! MB/s and latency p50 / p99 per target, and each target against the first. With
//! `--disk-dir`, also the disk's sequential write speed for 8 MiB files written with
//! `fdatasync` (what `dd bs=8M conv=fdatasync` measures): the ceiling for large objects.

use std::io::Write;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use bytes::Bytes;
use http::header::{HeaderMap, HeaderValue, AUTHORIZATION, CONTENT_TYPE, HOST};
use http::Method;

use crate::client::{status_error, RawConn, Target};
use crate::payload;

pub struct Config {
    pub targets: Vec<Target>,
    pub clients: Vec<usize>,
    pub duration: Duration,
    /// Object sizes in bytes.
    pub sizes: Vec<usize>,
    /// `put`, `get` or both.
    pub operations: Vec<String>,
    /// Where to measure the disk's write speed (skipped when `None`).
    pub disk_dir: Option<PathBuf>,
}

struct Row {
    target: String,
    operation: String,
    size: usize,
    clients: usize,
    per_s: f64,
    mb_per_s: f64,
    p50_ms: f64,
    p99_ms: f64,
    errors: usize,
}

fn headers(host: &str) -> HeaderMap {
    let mut h = HeaderMap::new();
    h.insert(HOST, HeaderValue::from_str(host).unwrap_or(HeaderValue::from_static("localhost")));
    h.insert("x-amz-date", HeaderValue::from_static(payload::AMZ_DATE));
    h.insert("x-amz-content-sha256", HeaderValue::from_static("UNSIGNED-PAYLOAD"));
    if let Ok(v) = HeaderValue::from_str(&payload::AUTHORIZATION.replace("/sqs/", "/s3/")) {
        h.insert(AUTHORIZATION, v);
    }
    h.insert(CONTENT_TYPE, HeaderValue::from_static("application/octet-stream"));
    h.insert("user-agent", HeaderValue::from_static("nimbus-bench/raw"));
    h
}

fn uri(path: &str) -> Result<http::Uri, String> {
    path.parse().map_err(|e| format!("{path}: {e}"))
}

/// A fresh bucket on `target`, and for GET one object of `size` bytes in it.
async fn prepare(target: &Target, size: usize, operation: &str) -> Result<(String, Bytes), String> {
    let mut conn = RawConn::new(target.addr);
    let bucket = format!("nimbus-bench-{}", &uuid::Uuid::new_v4().simple().to_string()[..12]);
    let h = headers(&target.host);
    let (status, _, body) = conn.request(Method::PUT, uri(&format!("/{bucket}"))?, &h, Bytes::new()).await?;
    if !status.is_success() {
        return Err(status_error("CreateBucket", status, &body));
    }
    let data = Bytes::from((0..size).map(|i| (i % 251) as u8).collect::<Vec<u8>>());
    if operation == "get" {
        let (status, _, body) = conn.request(Method::PUT, uri(&format!("/{bucket}/object"))?, &h, data.clone()).await?;
        if !status.is_success() {
            return Err(status_error("PutObject", status, &body));
        }
    }
    Ok((bucket, data))
}

async fn one(target: &Target, operation: &str, size: usize, clients: usize, duration: Duration) -> Result<Row, String> {
    let (bucket, data) = prepare(target, size, operation).await?;
    let deadline = Instant::now() + duration;
    let mut tasks = Vec::new();
    for c in 0..clients {
        let (h, data, addr, bucket, op) = (headers(&target.host), data.clone(), target.addr, bucket.clone(), operation.to_string());
        tasks.push(tokio::spawn(async move {
            let mut conn = RawConn::new(addr);
            let (mut latencies, mut errors, mut n) = (Vec::new(), 0usize, 0u64);
            while Instant::now() < deadline {
                let started = Instant::now();
                let result = if op == "put" {
                    n += 1;
                    match uri(&format!("/{bucket}/c{c}/o{}", n % 64)) {
                        Ok(u) => conn.request(Method::PUT, u, &h, data.clone()).await,
                        Err(e) => Err(e),
                    }
                } else {
                    match uri(&format!("/{bucket}/object")) {
                        Ok(u) => conn.request(Method::GET, u, &h, Bytes::new()).await,
                        Err(e) => Err(e),
                    }
                };
                match result {
                    Ok((status, _, body)) if status.is_success() && (op == "put" || body.len() == data.len()) => latencies.push(started.elapsed().as_secs_f64() * 1000.0),
                    _ => errors += 1,
                }
            }
            (latencies, errors)
        }));
    }
    let (mut all, mut errors) = (Vec::new(), 0);
    for t in tasks {
        let (l, e) = t.await.map_err(|e| e.to_string())?;
        all.extend(l);
        errors += e;
    }
    all.sort_by(|a, b| a.total_cmp(b));
    let pct = |p: f64| all.get(((all.len() as f64 * p) as usize).min(all.len().saturating_sub(1))).copied().unwrap_or(f64::NAN);
    let per_s = all.len() as f64 / duration.as_secs_f64();
    Ok(Row {
        target: target.name.clone(),
        operation: operation.to_string(),
        size,
        clients,
        per_s,
        mb_per_s: per_s * size as f64 / 1_000_000.0,
        p50_ms: pct(0.5),
        p99_ms: pct(0.99),
        errors,
    })
}

/// Sequential write speed of 8 MiB files, each written and `fdatasync`ed, for `duration`.
fn disk_speed(dir: &std::path::Path, duration: Duration) -> Result<f64, String> {
    let chunk = vec![0x5au8; 8 << 20];
    let path = dir.join(format!("nimbus-bench-disk-{}", std::process::id()));
    let started = Instant::now();
    let mut written = 0u64;
    while started.elapsed() < duration {
        let mut f = std::fs::File::create(&path).map_err(|e| format!("{}: {e}", path.display()))?;
        f.write_all(&chunk).map_err(|e| e.to_string())?;
        f.sync_data().map_err(|e| e.to_string())?;
        written += chunk.len() as u64;
    }
    let _ = std::fs::remove_file(&path);
    Ok(written as f64 / started.elapsed().as_secs_f64() / 1_000_000.0)
}

fn size_label(size: usize) -> String {
    if size >= 1 << 20 && size % (1 << 20) == 0 {
        format!("{}MiB", size >> 20)
    } else if size >= 1000 && size % 1000 == 0 {
        format!("{}KB", size / 1000)
    } else {
        format!("{size}B")
    }
}

pub async fn run(cfg: Config) -> Result<(), String> {
    let mut rows = Vec::new();
    for t in &cfg.targets {
        for op in &cfg.operations {
            for &size in &cfg.sizes {
                for &c in &cfg.clients {
                    match one(t, op, size, c, cfg.duration).await {
                        Ok(r) => rows.push(r),
                        Err(e) => eprintln!("{} {op} {} {c} clients: {e}", t.name, size_label(size)),
                    }
                }
            }
        }
    }
    println!("S3: {} s per case, raw path-style requests", cfg.duration.as_secs_f64());
    println!("{:<12} {:<5} {:>7} {:>8} {:>10} {:>10} {:>10} {:>10} {:>7}", "target", "op", "size", "clients", "req/s", "MB/s", "p50 ms", "p99 ms", "errors");
    for r in &rows {
        println!("{:<12} {:<5} {:>7} {:>8} {:>10.0} {:>10.1} {:>10.3} {:>10.3} {:>7}", r.target, r.operation, size_label(r.size), r.clients, r.per_s, r.mb_per_s, r.p50_ms, r.p99_ms, r.errors);
    }
    if let Some(first) = cfg.targets.first() {
        for r in rows.iter().filter(|r| r.target != first.name) {
            if let Some(base) = rows.iter().find(|b| b.target == first.name && b.operation == r.operation && b.size == r.size && b.clients == r.clients) {
                println!("{} / {} {} {} at {} clients: {}", first.name, r.target, r.operation, size_label(r.size), r.clients, crate::report::ratio(base.per_s, r.per_s));
            }
        }
    }
    if let Some(dir) = &cfg.disk_dir {
        let disk = disk_speed(dir, cfg.duration)?;
        println!("disk: {disk:.1} MB/s (8 MiB files with fdatasync in {})", dir.display());
        if let Some(first) = cfg.targets.first() {
            for r in rows.iter().filter(|r| r.target == first.name && r.operation == "put" && r.size >= 1 << 20) {
                println!("{} put {} at {} clients: {:.0}% of the disk's speed", first.name, size_label(r.size), r.clients, r.mb_per_s / disk * 100.0);
            }
        }
    }
    Ok(())
}
