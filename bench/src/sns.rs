//! SNS fan-out: one topic with N SQS subscriptions (raw, `RawMessageDelivery=true`, or
//! with `--enveloped` SNS's signed JSON envelope), P
//! publishes from C concurrent clients (query protocol, one keep-alive connection each),
//! and one long-polling reader per queue. Reports publishes/s and, per message, the time
//! from its Publish request to its arrival in the last of the N queues (p50 / p99).
//! Targets are compared in one run (nimbus, LocalStack, moto: any SNS+SQS endpoint).

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http::header::{HeaderMap, HeaderValue, AUTHORIZATION, CONTENT_TYPE, HOST};

use crate::client::{status_error, Admin, RawConn, Target};
use crate::payload;

pub struct Config {
    pub targets: Vec<Target>,
    pub fanouts: Vec<usize>,
    pub publishes: usize,
    pub clients: usize,
    /// How long to wait for the last delivery after the last publish.
    pub drain_timeout: Duration,
    /// Subscriptions without RawMessageDelivery (signed envelopes).
    pub enveloped: bool,
}

/// One (target, fan-out) measurement.
struct Row {
    target: String,
    fanout: usize,
    publishes_per_s: f64,
    p50_ms: f64,
    p99_ms: f64,
    delivered: usize,
}

/// Percent-encodes a form value (unreserved characters kept).
fn enc(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

fn sns_headers(host: &str) -> HeaderMap {
    let mut h = HeaderMap::new();
    h.insert(HOST, HeaderValue::from_str(host).unwrap_or(HeaderValue::from_static("localhost")));
    h.insert(CONTENT_TYPE, HeaderValue::from_static("application/x-www-form-urlencoded; charset=utf-8"));
    h.insert("x-amz-date", HeaderValue::from_static(payload::AMZ_DATE));
    // The credential scope names SNS, so every emulator routes the query request to it.
    h.insert(AUTHORIZATION, HeaderValue::from_static("AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20261122/us-east-1/sns/aws4_request, SignedHeaders=host;x-amz-date, Signature=0000000000000000000000000000000000000000000000000000000000000000"));
    h.insert("user-agent", HeaderValue::from_static("nimbus-bench/raw"));
    h
}

fn sqs_headers(host: &str, op: &str) -> HeaderMap {
    let mut h = crate::client::Headers::new(host).receive;
    if let Ok(v) = HeaderValue::from_str(&format!("AmazonSQS.{op}")) {
        h.insert("x-amz-target", v);
    }
    h
}

async fn sns_call(conn: &mut RawConn, headers: &HeaderMap, op: &str, params: &[(&str, &str)]) -> Result<String, String> {
    let mut form = format!("Action={op}&Version=2010-03-31");
    for (k, v) in params {
        form.push_str(&format!("&{k}={}", enc(v)));
    }
    let (status, body) = conn.call(headers, Bytes::from(form)).await?;
    if !status.is_success() {
        return Err(status_error(op, status, &body));
    }
    Ok(String::from_utf8_lossy(&body).into_owned())
}

/// The text of the first `<tag>…</tag>` of an XML answer.
fn xml_value(xml: &str, tag: &str) -> Option<String> {
    let open = format!("<{tag}>");
    let start = xml.find(&open)? + open.len();
    let end = xml[start..].find(&format!("</{tag}>"))?;
    Some(xml[start..start + end].to_string())
}

async fn one(target: &Target, fanout: usize, cfg: &Config) -> Result<Row, String> {
    let run = uuid::Uuid::new_v4().simple().to_string();
    let sns = sns_headers(&target.host);
    let mut admin_conn = RawConn::new(target.addr);
    let mut admin = Admin::new(target);
    let created = sns_call(&mut admin_conn, &sns, "CreateTopic", &[("Name", &format!("bench-{}", &run[..12]))]).await?;
    let topic = xml_value(&created, "TopicArn").ok_or("CreateTopic: no TopicArn")?;
    let mut queues = Vec::new();
    for i in 0..fanout {
        let name = format!("bench-{}-{i}", &run[..12]);
        let url = admin.create_queue(&name).await?;
        let arn = format!("arn:aws:sqs:us-east-1:000000000000:{name}");
        let raw = [("Attributes.entry.1.key", "RawMessageDelivery"), ("Attributes.entry.1.value", "true")];
        let mut params = vec![("TopicArn", topic.as_str()), ("Protocol", "sqs"), ("Endpoint", arn.as_str())];
        if !cfg.enveloped {
            params.extend(raw);
        }
        sns_call(&mut admin_conn, &sns, "Subscribe", &params).await?;
        queues.push(url);
    }

    // When each publish was sent, and when each message last arrived.
    let sent: Arc<Vec<Mutex<Option<Instant>>>> = Arc::new((0..cfg.publishes).map(|_| Mutex::new(None)).collect());
    let last: Arc<Vec<Mutex<(usize, Option<Instant>)>>> = Arc::new((0..cfg.publishes).map(|_| Mutex::new((0, None))).collect());
    let done = Arc::new(AtomicUsize::new(0));
    let deadline_after = cfg.drain_timeout;
    let mut readers = Vec::new();
    for url in &queues {
        let (url, last, done, addr, host, total) = (url.clone(), last.clone(), done.clone(), target.addr, target.host.clone(), cfg.publishes);
        readers.push(tokio::spawn(async move {
            let mut conn = RawConn::new(addr);
            let headers = sqs_headers(&host, "ReceiveMessage");
            let body = Bytes::from(serde_json::json!({"QueueUrl": url, "MaxNumberOfMessages": 10, "WaitTimeSeconds": 1, "VisibilityTimeout": 600}).to_string());
            let mut got = 0;
            let mut idle_since = Instant::now();
            while got < total && idle_since.elapsed() < deadline_after {
                let Ok((status, answer)) = conn.call(&headers, body.clone()).await else { continue };
                if !status.is_success() {
                    continue;
                }
                let now = Instant::now();
                let v: serde_json::Value = serde_json::from_slice(&answer).unwrap_or_default();
                for m in v.get("Messages").and_then(|m| m.as_array()).into_iter().flatten() {
                    // A raw body is the message; an envelope carries it as `Message`.
                    let body = m.get("Body").and_then(|b| b.as_str()).unwrap_or("");
                    let text = match body.starts_with('{') {
                        true => serde_json::from_str::<serde_json::Value>(body).ok().and_then(|e| e.get("Message").and_then(|x| x.as_str()).map(str::to_string)),
                        false => Some(body.to_string()),
                    };
                    let Some(seq) = text.and_then(|t| t.parse::<usize>().ok()) else { continue };
                    if let Some(slot) = last.get(seq) {
                        let mut s = slot.lock().unwrap_or_else(|e| e.into_inner());
                        s.0 += 1;
                        s.1 = Some(now);
                    }
                    got += 1;
                    idle_since = now;
                }
            }
            done.fetch_add(got, Ordering::Relaxed);
        }));
    }

    let next = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let mut publishers = Vec::new();
    for _ in 0..cfg.clients {
        let (next, sent, topic, addr, host, total) = (next.clone(), sent.clone(), topic.clone(), target.addr, target.host.clone(), cfg.publishes);
        publishers.push(tokio::spawn(async move {
            let mut conn = RawConn::new(addr);
            let headers = sns_headers(&host);
            loop {
                let seq = next.fetch_add(1, Ordering::Relaxed);
                if seq >= total {
                    return Ok::<(), String>(());
                }
                *sent[seq].lock().unwrap_or_else(|e| e.into_inner()) = Some(Instant::now());
                sns_call(&mut conn, &headers, "Publish", &[("TopicArn", &topic), ("Message", &seq.to_string())]).await?;
            }
        }));
    }
    for p in publishers {
        p.await.map_err(|e| e.to_string())??;
    }
    let publish_time = started.elapsed();
    for r in readers {
        let _ = r.await;
    }

    let mut latencies: Vec<f64> = (0..cfg.publishes)
        .filter_map(|i| {
            let s = (*sent[i].lock().unwrap_or_else(|e| e.into_inner()))?;
            let (count, at) = *last[i].lock().unwrap_or_else(|e| e.into_inner());
            (count >= fanout).then_some(())?;
            Some(at?.saturating_duration_since(s).as_secs_f64() * 1000.0)
        })
        .collect();
    latencies.sort_by(|a, b| a.total_cmp(b));
    let pct = |p: f64| latencies.get(((latencies.len() as f64 * p) as usize).min(latencies.len().saturating_sub(1))).copied().unwrap_or(f64::NAN);
    for url in &queues {
        let _ = admin.delete_queue(url).await;
    }
    let _ = sns_call(&mut admin_conn, &sns, "DeleteTopic", &[("TopicArn", &topic)]).await;
    Ok(Row {
        target: target.name.clone(),
        fanout,
        publishes_per_s: cfg.publishes as f64 / publish_time.as_secs_f64(),
        p50_ms: pct(0.50),
        p99_ms: pct(0.99),
        delivered: latencies.len(),
    })
}

pub async fn run(cfg: Config) -> Result<(), String> {
    let mut rows = Vec::new();
    for t in &cfg.targets {
        for &n in &cfg.fanouts {
            match one(t, n, &cfg).await {
                Ok(r) => rows.push(r),
                Err(e) => eprintln!("{} fan-out {n}: {e}", t.name),
            }
        }
    }
    let kind = if cfg.enveloped { "enveloped (signed)" } else { "raw" };
    println!("SNS fan-out: {} publishes, {} clients, {kind} SQS subscriptions", cfg.publishes, cfg.clients);
    println!("{:<12} {:>8} {:>14} {:>22} {:>22} {:>10}", "target", "subs", "publishes/s", "publish→last p50 ms", "publish→last p99 ms", "complete");
    for r in &rows {
        println!("{:<12} {:>8} {:>14.0} {:>22.2} {:>22.2} {:>10}", r.target, r.fanout, r.publishes_per_s, r.p50_ms, r.p99_ms, format!("{}/{}", r.delivered, cfg.publishes));
    }
    // Per fan-out, each target against the first one.
    if let Some(first) = cfg.targets.first() {
        for r in rows.iter().filter(|r| r.target != first.name) {
            if let Some(base) = rows.iter().find(|b| b.target == first.name && b.fanout == r.fanout) {
                println!("{} / {} at {} subscriptions: {} publishes/s", first.name, r.target, r.fanout, crate::report::ratio(base.publishes_per_s, r.publishes_per_s));
            }
        }
    }
    Ok(())
}
