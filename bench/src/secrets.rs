//! Reading secrets the way seed 001's functions do on every call: KMS `Decrypt` of a
//! small ciphertext blob, and Secrets Manager `GetSecretValue` of one secret. Per target
//! and client count, C clients on their own keep-alive connections send raw JSON 1.1
//! requests for a fixed time; the report gives requests/s and latency p50 / p99, and each
//! other target against the first. The key, blob and secret are made once per target
//! (CreateKey + Encrypt, CreateSecret) before the timed part.

use std::time::{Duration, Instant};

use base64::Engine;
use bytes::Bytes;
use http::header::{HeaderMap, HeaderValue, AUTHORIZATION, CONTENT_TYPE, HOST};

use crate::client::{status_error, RawConn, Target};
use crate::payload;

pub struct Config {
    pub targets: Vec<Target>,
    pub clients: Vec<usize>,
    pub duration: Duration,
    /// `decrypt`, `get-secret-value` or both.
    pub operations: Vec<String>,
}

struct Row {
    target: String,
    operation: String,
    clients: usize,
    per_s: f64,
    p50_ms: f64,
    p99_ms: f64,
    errors: usize,
}

/// JSON 1.1 headers for `prefix.op`, signed (by shape) for `service`.
fn headers(host: &str, service: &str, target: &str) -> HeaderMap {
    let mut h = HeaderMap::new();
    h.insert(HOST, HeaderValue::from_str(host).unwrap_or(HeaderValue::from_static("localhost")));
    h.insert(CONTENT_TYPE, HeaderValue::from_static("application/x-amz-json-1.1"));
    h.insert("x-amz-date", HeaderValue::from_static(payload::AMZ_DATE));
    let auth = payload::AUTHORIZATION.replace("/sqs/", &format!("/{service}/"));
    if let Ok(v) = HeaderValue::from_str(&auth) {
        h.insert(AUTHORIZATION, v);
    }
    if let Ok(v) = HeaderValue::from_str(target) {
        h.insert("x-amz-target", v);
    }
    h.insert("user-agent", HeaderValue::from_static("nimbus-bench/raw"));
    h
}

async fn call(conn: &mut RawConn, h: &HeaderMap, op: &str, body: serde_json::Value) -> Result<serde_json::Value, String> {
    let (status, answer) = conn.call(h, Bytes::from(body.to_string())).await?;
    if !status.is_success() {
        return Err(status_error(op, status, &answer));
    }
    serde_json::from_slice(&answer).map_err(|e| format!("{op}: {e}"))
}

/// The request each client repeats for `operation`, made ready on `target`.
async fn prepare(target: &Target, operation: &str) -> Result<(HeaderMap, Bytes), String> {
    let mut conn = RawConn::new(target.addr);
    let kms = |op: &str| headers(&target.host, "kms", &format!("TrentService.{op}"));
    let sm = |op: &str| headers(&target.host, "secretsmanager", &format!("secretsmanager.{op}"));
    match operation {
        "decrypt" => {
            let key = call(&mut conn, &kms("CreateKey"), "CreateKey", serde_json::json!({"Description": "nimbus-bench"})).await?;
            let key_id = key["KeyMetadata"]["KeyId"].as_str().ok_or("CreateKey: no KeyId")?.to_string();
            let plaintext = base64::engine::general_purpose::STANDARD.encode([7u8; 32]);
            let out = call(&mut conn, &kms("Encrypt"), "Encrypt", serde_json::json!({"KeyId": key_id, "Plaintext": plaintext})).await?;
            let blob = out["CiphertextBlob"].as_str().ok_or("Encrypt: no CiphertextBlob")?;
            Ok((kms("Decrypt"), Bytes::from(serde_json::json!({"CiphertextBlob": blob}).to_string())))
        }
        "get-secret-value" => {
            let name = format!("nimbus-bench-{}", &uuid::Uuid::new_v4().simple().to_string()[..12]);
            // SDKs fill ClientRequestToken in; a raw request must carry one (LocalStack insists).
            let token = uuid::Uuid::new_v4().to_string();
            let input = serde_json::json!({"Name": name, "ClientRequestToken": token, "SecretString": "{\"user\":\"app\",\"password\":\"s3cr3t-0123456789\"}"});
            call(&mut conn, &sm("CreateSecret"), "CreateSecret", input).await?;
            Ok((sm("GetSecretValue"), Bytes::from(serde_json::json!({"SecretId": name}).to_string())))
        }
        other => Err(format!("unknown operation {other} (decrypt, get-secret-value)")),
    }
}

async fn one(target: &Target, operation: &str, clients: usize, duration: Duration) -> Result<Row, String> {
    let (h, body) = prepare(target, operation).await?;
    let deadline = Instant::now() + duration;
    let mut tasks = Vec::new();
    for _ in 0..clients {
        let (h, body, addr) = (h.clone(), body.clone(), target.addr);
        tasks.push(tokio::spawn(async move {
            let mut conn = RawConn::new(addr);
            let (mut latencies, mut errors) = (Vec::new(), 0usize);
            while Instant::now() < deadline {
                let started = Instant::now();
                match conn.call(&h, body.clone()).await {
                    Ok((status, _)) if status.is_success() => latencies.push(started.elapsed().as_secs_f64() * 1000.0),
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
    Ok(Row { target: target.name.clone(), operation: operation.to_string(), clients, per_s: all.len() as f64 / duration.as_secs_f64(), p50_ms: pct(0.5), p99_ms: pct(0.99), errors })
}

pub async fn run(cfg: Config) -> Result<(), String> {
    let mut rows = Vec::new();
    for t in &cfg.targets {
        for op in &cfg.operations {
            for &c in &cfg.clients {
                match one(t, op, c, cfg.duration).await {
                    Ok(r) => rows.push(r),
                    Err(e) => eprintln!("{} {op} {c} clients: {e}", t.name),
                }
            }
        }
    }
    println!("Secrets: {} s per case, raw JSON 1.1 requests", cfg.duration.as_secs_f64());
    println!("{:<12} {:<18} {:>8} {:>12} {:>10} {:>10} {:>8}", "target", "operation", "clients", "req/s", "p50 ms", "p99 ms", "errors");
    for r in &rows {
        println!("{:<12} {:<18} {:>8} {:>12.0} {:>10.3} {:>10.3} {:>8}", r.target, r.operation, r.clients, r.per_s, r.p50_ms, r.p99_ms, r.errors);
    }
    if let Some(first) = cfg.targets.first() {
        for r in rows.iter().filter(|r| r.target != first.name) {
            if let Some(base) = rows.iter().find(|b| b.target == first.name && b.operation == r.operation && b.clients == r.clients) {
                println!("{} / {} {} at {} clients: {}", first.name, r.target, r.operation, r.clients, crate::report::ratio(base.per_s, r.per_s));
            }
        }
    }
    Ok(())
}
