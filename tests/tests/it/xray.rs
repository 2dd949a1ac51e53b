//! AWS X-Ray through the AWS SDK for Rust: segments put and read back, AWS's checks,
//! trace summaries with filter expressions and pages, the segment nimbus records for a
//! traced SQS call, the X-Ray daemon's UDP protocol, OTLP export, sampling rules,
//! retention and durability.
//! <https://docs.aws.amazon.com/xray/latest/api/API_PutTraceSegments.html>
//! <https://docs.aws.amazon.com/xray/latest/api/API_GetTraceSummaries.html>
//! <https://docs.aws.amazon.com/xray/latest/api/API_BatchGetTraces.html>
//! <https://docs.aws.amazon.com/xray/latest/devguide/xray-api-sendingdata.html>

use aws_credential_types::Credentials;
use aws_sdk_xray::error::ProvideErrorMetadata;
use aws_sdk_xray::primitives::DateTime;
use aws_smithy_http_client::Builder as HttpClientBuilder;
use nimbus_tests::{Nimbus, StartOptions, DEFAULT_ACCESS_KEY, DEFAULT_REGION, DEFAULT_SECRET_KEY};
use serde_json::{json, Value};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

fn xray(n: &Nimbus) -> aws_sdk_xray::Client {
    let conf = aws_sdk_xray::Config::builder()
        .behavior_version(aws_sdk_xray::config::BehaviorVersion::latest())
        .credentials_provider(Credentials::new(DEFAULT_ACCESS_KEY, DEFAULT_SECRET_KEY, None, None, "nimbus-tests"))
        .region(aws_sdk_xray::config::Region::new(DEFAULT_REGION))
        .endpoint_url(n.endpoint())
        .http_client(HttpClientBuilder::new().build_http())
        .retry_config(aws_sdk_xray::config::retry::RetryConfig::disabled())
        .build();
    aws_sdk_xray::Client::from_conf(conf)
}

fn now_secs() -> f64 {
    SystemTime::now().duration_since(UNIX_EPOCH).expect("time").as_millis() as f64 / 1000.0
}

/// A trace id of now with `n` as its random part.
fn trace_id(n: u64) -> String {
    format!("1-{:08x}-{:024x}", now_secs() as u32, n)
}

fn seg(trace: &str, id: u64, name: &str, parent: Option<u64>, start: f64, end: f64, extra: Value) -> String {
    let mut d = json!({ "name": name, "id": format!("{id:016x}"), "trace_id": trace, "start_time": start, "end_time": end });
    if let Some(p) = parent {
        d["parent_id"] = json!(format!("{p:016x}"));
    }
    if let (Some(d), Value::Object(e)) = (d.as_object_mut(), extra) {
        d.extend(e);
    }
    d.to_string()
}

async fn documents(c: &aws_sdk_xray::Client, trace: &str) -> Vec<Value> {
    let out = c.batch_get_traces().trace_ids(trace).send().await.expect("batch_get_traces");
    out.traces().first().map(|t| t.segments().iter().map(|s| serde_json::from_str(s.document().expect("document")).expect("json")).collect()).unwrap_or_default()
}

/// Waits (up to 10 s) until the trace has a document for which `pred` holds.
async fn wait_for(c: &aws_sdk_xray::Client, trace: &str, pred: impl Fn(&Value) -> bool) -> Vec<Value> {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let docs = documents(c, trace).await;
        if docs.iter().any(&pred) {
            return docs;
        }
        assert!(Instant::now() < deadline, "no matching document in {trace}: {docs:#?}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn segments_round_trip_and_bad_documents_are_unprocessed() {
    let n = Nimbus::start_in_memory();
    let c = xray(&n);
    let t = trace_id(1);
    let now = now_secs();
    let out = c
        .put_trace_segments()
        .trace_segment_documents(seg(&t, 0xa1, "orders-api", None, now - 1.0, now, json!({ "http": { "request": { "method": "POST", "url": "http://x/orders" }, "response": { "status": 500 } }, "fault": true, "annotations": { "customer": "42" } })))
        // A subsegment sent on its own joins its parent segment.
        .trace_segment_documents(seg(&t, 0xa2, "DynamoDB", Some(0xa1), now - 0.5, now - 0.4, json!({ "type": "subsegment", "namespace": "aws" })))
        .trace_segment_documents("{not json")
        .trace_segment_documents(json!({ "name": "x", "id": "00000000000000b1", "trace_id": t, "start_time": now }).to_string())
        .trace_segment_documents(json!({ "name": "x", "id": "short", "trace_id": t, "start_time": now, "end_time": now }).to_string())
        .trace_segment_documents(json!({ "name": "x", "id": "00000000000000b2", "trace_id": "1-abc", "start_time": now, "end_time": now }).to_string())
        .send()
        .await
        .expect("put_trace_segments");
    let bad: Vec<(Option<&str>, Option<&str>)> = out.unprocessed_trace_segments().iter().map(|u| (u.id(), u.error_code())).collect();
    assert_eq!(bad, vec![(None, Some("InvalidSegment")), (Some("00000000000000b1"), Some("MissingEndTime")), (Some("short"), Some("InvalidId")), (Some("00000000000000b2"), Some("InvalidTraceId"))]);

    let got = c.batch_get_traces().trace_ids(&t).trace_ids(trace_id(999)).send().await.expect("batch_get_traces");
    let [trace] = got.traces() else { panic!("one trace: {got:?}") };
    assert_eq!(trace.id(), Some(t.as_str()));
    assert!((trace.duration().expect("duration") - 1.0).abs() < 0.01);
    let [segment] = trace.segments() else { panic!("one segment (the subsegment joined it): {trace:?}") };
    let doc: Value = serde_json::from_str(segment.document().expect("doc")).expect("json");
    assert_eq!(doc["subsegments"][0]["name"], "DynamoDB");
    assert_eq!(got.unprocessed_trace_ids(), [trace_id(999)]);

    // At most 5 ids per call, as AWS.
    let mut call = c.batch_get_traces();
    for i in 0..6 {
        call = call.trace_ids(trace_id(i));
    }
    let err = call.send().await.expect_err("6 ids");
    assert_eq!(err.code(), Some("InvalidRequestException"));
}

#[tokio::test]
async fn summaries_filter_and_page() {
    let n = Nimbus::start_in_memory();
    let c = xray(&n);
    let now = now_secs();
    // 230 traces: every 10th faults, every 7th has a slow root, every 3rd is annotated.
    let mut docs = Vec::new();
    for i in 0..230u64 {
        let t = trace_id(1000 + i);
        let dur = if i % 7 == 0 { 2.0 } else { 0.1 };
        let mut extra = json!({ "origin": "AWS::Lambda::Function" });
        if i % 10 == 0 {
            extra["fault"] = json!(true);
            extra["http"] = json!({ "response": { "status": 502 } });
        } else {
            extra["http"] = json!({ "response": { "status": 200 } });
        }
        if i % 3 == 0 {
            extra["annotations"] = json!({ "tier": "gold", "n": i });
        }
        let name = if i % 2 == 0 { "even-fn" } else { "odd-fn" };
        docs.push(seg(&t, 0x100 + i, name, None, now - dur, now, extra));
    }
    for chunk in docs.chunks(50) {
        let out = c.put_trace_segments().set_trace_segment_documents(Some(chunk.to_vec())).send().await.expect("put");
        assert!(out.unprocessed_trace_segments().is_empty());
    }
    let count = |filter: Option<&'static str>| {
        let c = c.clone();
        async move {
            let mut total = 0;
            let mut pages = 0;
            let mut token: Option<String> = None;
            loop {
                let out = c
                    .get_trace_summaries()
                    .start_time(DateTime::from_secs(now as i64 - 600))
                    .end_time(DateTime::from_secs(now as i64 + 600))
                    .set_filter_expression(filter.map(str::to_string))
                    .set_next_token(token.clone())
                    .send()
                    .await
                    .expect("get_trace_summaries");
                total += out.trace_summaries().len();
                pages += 1;
                token = out.next_token().map(str::to_string);
                if token.is_none() {
                    return (total, pages);
                }
            }
        }
    };
    assert_eq!(count(None).await, (230, 3), "100 per page");
    assert_eq!(count(Some("fault")).await.0, 23);
    assert_eq!(count(Some("ok")).await.0, 207);
    assert_eq!(count(Some("http.status = 502")).await.0, 23);
    assert_eq!(count(Some("duration >= 1")).await.0, 33);
    assert_eq!(count(Some("responsetime > 1 AND !fault")).await.0, 33 - 4);
    assert_eq!(count(Some("annotation.tier = \"gold\"")).await.0, 77);
    assert_eq!(count(Some("annotation.n >= 200")).await.0, 10);
    assert_eq!(count(Some("service(\"even-fn\")")).await.0, 115);
    assert_eq!(count(Some("service(id(name: \"odd-fn\", type: \"AWS::Lambda::Function\")) and (fault or annotation.tier = \"gold\")")).await.0, 38);

    let first = c.get_trace_summaries().start_time(DateTime::from_secs(now as i64 - 600)).end_time(DateTime::from_secs(now as i64 + 600)).filter_expression("fault").send().await.expect("summaries");
    let s = &first.trace_summaries()[0];
    assert_eq!(s.has_fault(), Some(true));
    assert_eq!(s.http().and_then(|h| h.http_status()), Some(502));
    assert!(s.service_ids().iter().any(|id| id.r#type() == Some("AWS::Lambda::Function")));

    let err = c.get_trace_summaries().start_time(DateTime::from_secs(now as i64 - 600)).end_time(DateTime::from_secs(now as i64)).filter_expression("edge(\"a\", \"b\")").send().await.expect_err("edge");
    assert_eq!(err.code(), Some("InvalidRequestException"));
    assert!(err.message().unwrap_or("").contains("not supported by nimbus"), "{err:?}");
    let err = c.get_trace_summaries().start_time(DateTime::from_secs(now as i64)).end_time(DateTime::from_secs(now as i64 - 60)).send().await.expect_err("reversed range");
    assert_eq!(err.code(), Some("InvalidRequestException"));
}

#[tokio::test]
async fn a_traced_sqs_call_records_its_segment() {
    let n = Nimbus::start_in_memory();
    let sqs = n.sqs_client();
    let c = xray(&n);
    let q = sqs.create_queue().queue_name("traced").send().await.expect("create_queue").queue_url().expect("url").to_string();
    let t = trace_id(77);
    let header = format!("Root={t};Parent=53995c3f42cd8ad8;Sampled=1");
    sqs.send_message()
        .queue_url(&q)
        .message_body("hello")
        .customize()
        .mutate_request(move |r| {
            r.headers_mut().insert("X-Amzn-Trace-Id", header.clone());
        })
        .send()
        .await
        .expect("send_message");
    // Not sampled: nothing recorded.
    let t0 = trace_id(78);
    let header0 = format!("Root={t0};Sampled=0");
    sqs.send_message().queue_url(&q).message_body("quiet").customize().mutate_request(move |r| {
        r.headers_mut().insert("X-Amzn-Trace-Id", header0.clone());
    }).send().await.expect("send_message");

    let docs = wait_for(&c, &t, |d| d["name"] == "SQS").await;
    let sqs_seg = docs.iter().find(|d| d["name"] == "SQS").expect("SQS segment");
    assert_eq!(sqs_seg["parent_id"], "53995c3f42cd8ad8");
    assert_eq!(sqs_seg["origin"], "AWS::SQS::Queue");
    assert_eq!(sqs_seg["aws"]["operation"], "SendMessage");
    assert_eq!(sqs_seg["aws"]["queue_url"], q.as_str());
    assert_eq!(sqs_seg["http"]["response"]["status"], 200);
    assert!(documents(&c, &t0).await.is_empty());

    // A failing traced call records the error and its cause.
    let t2 = trace_id(79);
    let header2 = format!("Root={t2};Sampled=1");
    sqs.send_message().queue_url(format!("{q}-missing")).message_body("x").customize().mutate_request(move |r| {
        r.headers_mut().insert("X-Amzn-Trace-Id", header2.clone());
    }).send().await.expect_err("no such queue");
    let docs = wait_for(&c, &t2, |d| d["name"] == "SQS").await;
    assert_eq!(docs[0]["error"], true);
    assert!(docs[0]["cause"]["exceptions"][0]["type"].as_str().unwrap_or("").contains("QueueDoesNotExist"), "{docs:#?}");
    let summaries = c.get_trace_summaries().start_time(DateTime::from_secs(now_secs() as i64 - 600)).end_time(DateTime::from_secs(now_secs() as i64 + 600)).filter_expression("service(\"SQS\") and error").send().await.expect("summaries");
    assert_eq!(summaries.trace_summaries().iter().filter_map(|s| s.id()).collect::<Vec<_>>(), vec![t2.as_str()]);
}

#[tokio::test]
async fn daemon_datagrams_join_the_trace() {
    let udp = std::net::UdpSocket::bind("127.0.0.1:0").expect("udp");
    let port = udp.local_addr().expect("addr").port();
    drop(udp);
    let n = Nimbus::start_with(StartOptions { in_memory: true, extra_args: vec!["--xray-daemon-address".into(), format!("127.0.0.1:{port}")], ..Default::default() });
    let c = xray(&n);
    let t = trace_id(5);
    let now = now_secs();
    c.put_trace_segments().trace_segment_documents(seg(&t, 0xc1, "caller", None, now - 1.0, now, json!({}))).send().await.expect("put");
    let sock = std::net::UdpSocket::bind("127.0.0.1:0").expect("udp client");
    let sub = seg(&t, 0xc2, "my-subsegment", Some(0xc1), now - 0.5, now - 0.2, json!({ "type": "subsegment", "annotations": { "step": "charge" } }));
    let datagram = format!("{{\"format\": \"json\", \"version\": 1}}\n{sub}");
    sock.send_to(datagram.as_bytes(), ("127.0.0.1", port)).expect("send datagram");
    // A datagram without the header is dropped.
    sock.send_to(seg(&t, 0xc3, "headerless", None, now, now, json!({})).as_bytes(), ("127.0.0.1", port)).expect("send");
    let docs = wait_for(&c, &t, |d| d["subsegments"][0]["name"] == "my-subsegment").await;
    assert_eq!(docs.len(), 1, "{docs:#?}");
    let s = c.get_trace_summaries().start_time(DateTime::from_secs(now as i64 - 60)).end_time(DateTime::from_secs(now as i64 + 60)).filter_expression("annotation.step = \"charge\"").send().await.expect("summaries");
    assert_eq!(s.trace_summaries().len(), 1);
}

/// A collector that answers 200 to every POST and hands each body over.
async fn collector() -> (u16, tokio::sync::mpsc::UnboundedReceiver<(String, Value)>) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let port = listener.local_addr().expect("addr").port();
    let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
    tokio::spawn(async move {
        loop {
            let Ok((mut s, _)) = listener.accept().await else { return };
            let tx = tx.clone();
            tokio::spawn(async move {
                let mut buf = Vec::new();
                let mut chunk = [0u8; 8192];
                loop {
                    let Ok(k) = s.read(&mut chunk).await else { return };
                    if k == 0 {
                        return;
                    }
                    buf.extend_from_slice(&chunk[..k]);
                    let Some(h) = buf.windows(4).position(|w| w == b"\r\n\r\n") else { continue };
                    let head = String::from_utf8_lossy(&buf[..h]).to_string();
                    let len = head.lines().find_map(|l| l.to_ascii_lowercase().strip_prefix("content-length:").map(|v| v.trim().parse::<usize>().unwrap_or(0))).unwrap_or(0);
                    if buf.len() < h + 4 + len {
                        continue;
                    }
                    let body: Value = serde_json::from_slice(&buf[h + 4..h + 4 + len]).unwrap_or(Value::Null);
                    let _ = tx.send((head.lines().next().unwrap_or("").to_string(), body));
                    let _ = s.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}").await;
                    return;
                }
            });
        }
    });
    (port, rx)
}

#[tokio::test]
async fn finished_traces_are_exported_over_otlp() {
    let (port, mut posts) = collector().await;
    let n = Nimbus::start_with(StartOptions { in_memory: true, extra_args: vec!["--otlp-endpoint".into(), format!("http://127.0.0.1:{port}")], ..Default::default() });
    let c = xray(&n);
    let t = trace_id(0xabc);
    let now = now_secs();
    c.put_trace_segments()
        .trace_segment_documents(seg(&t, 0xd1, "checkout", Some(0xd0), now - 1.0, now, json!({ "fault": true, "aws": { "operation": "Invoke" },
            "subsegments": [{ "name": "DynamoDB", "id": "00000000000000d2", "namespace": "aws", "start_time": now - 0.5, "end_time": now - 0.4 }] })))
        .send()
        .await
        .expect("put");
    let (line, body) = tokio::time::timeout(Duration::from_secs(10), posts.recv()).await.expect("an OTLP POST within 10 s").expect("post");
    assert_eq!(line, "POST /v1/traces HTTP/1.1");
    let rs = &body["resourceSpans"][0];
    assert_eq!(rs["resource"]["attributes"][0], json!({ "key": "service.name", "value": { "stringValue": "checkout" } }));
    let spans = rs["scopeSpans"][0]["spans"].as_array().expect("spans");
    assert_eq!(spans.len(), 2);
    assert_eq!(spans[0]["traceId"], t[2..].replace('-', ""));
    assert_eq!(spans[0]["spanId"], "00000000000000d1");
    assert_eq!(spans[0]["parentSpanId"], "00000000000000d0");
    assert_eq!(spans[0]["kind"], 2);
    assert_eq!(spans[0]["status"]["code"], 2);
    assert_eq!(spans[0]["endTimeUnixNano"].as_str().map(str::len), Some(19));
    assert!(spans[0]["attributes"].as_array().expect("attrs").contains(&json!({ "key": "aws.operation", "value": { "stringValue": "Invoke" } })));
    assert_eq!(spans[1]["parentSpanId"], "00000000000000d1");
    assert_eq!(spans[1]["kind"], 3);
}

#[tokio::test]
async fn sampling_rules_default_and_custom() {
    let mut n = Nimbus::start();
    let c = xray(&n);
    let rules = c.get_sampling_rules().send().await.expect("rules");
    let [d] = rules.sampling_rule_records() else { panic!("only the default rule: {rules:?}") };
    let r = d.sampling_rule().expect("rule");
    assert_eq!((r.rule_name(), r.priority(), r.fixed_rate(), r.reservoir_size()), (Some("Default"), 10000, 0.05, 1));
    assert_eq!(r.rule_arn(), Some("arn:aws:xray:us-east-1:000000000000:sampling-rule/Default"));
    let rule = aws_sdk_xray::types::SamplingRule::builder()
        .rule_name("orders")
        .resource_arn("*")
        .priority(5)
        .fixed_rate(0.5)
        .reservoir_size(2)
        .service_name("orders")
        .service_type("*")
        .host("*")
        .http_method("POST")
        .url_path("/orders*")
        .version(1)
        .build()
        .expect("rule");
    c.create_sampling_rule().sampling_rule(rule.clone()).send().await.expect("create");
    let err = c.create_sampling_rule().sampling_rule(rule).send().await.expect_err("duplicate");
    assert_eq!(err.code(), Some("InvalidRequestException"));
    let err = c.delete_sampling_rule().rule_name("Default").send().await.expect_err("default stays");
    assert_eq!(err.code(), Some("InvalidRequestException"));
    let stats = aws_sdk_xray::types::SamplingStatisticsDocument::builder()
        .rule_name("orders")
        .client_id("0123456789abcdef01234567")
        .timestamp(DateTime::from_secs(now_secs() as i64))
        .request_count(10)
        .sampled_count(5)
        .build()
        .expect("stats");
    let targets = c.get_sampling_targets().sampling_statistics_documents(stats).send().await.expect("targets");
    let [t] = targets.sampling_target_documents() else { panic!("{targets:?}") };
    assert_eq!((t.rule_name(), t.fixed_rate(), t.reservoir_quota()), (Some("orders"), 0.5, Some(2)));
    // Rules survive a restart.
    n.restart();
    let c = xray(&n);
    let names: Vec<String> = c.get_sampling_rules().send().await.expect("rules").sampling_rule_records().iter().filter_map(|r| r.sampling_rule().and_then(|r| r.rule_name()).map(str::to_string)).collect();
    assert_eq!(names, vec!["orders", "Default"]);
}

#[tokio::test]
async fn traces_survive_a_crash_and_expire_after_30_days() {
    let mut n = Nimbus::start_with_clock_control();
    let c = xray(&n);
    let t = trace_id(42);
    let now = now_secs();
    c.put_trace_segments().trace_segment_documents(seg(&t, 0xe1, "durable", None, now - 1.0, now, json!({}))).send().await.expect("put");
    n.kill9();
    n.restart();
    let c = xray(&n);
    assert_eq!(documents(&c, &t).await.len(), 1, "acknowledged segments survive kill -9");
    n.advance_clock(29 * 86_400);
    assert_eq!(documents(&c, &t).await.len(), 1, "kept for 30 days");
    n.advance_clock(2 * 86_400);
    let out = c.batch_get_traces().trace_ids(&t).send().await.expect("batch_get_traces");
    assert!(out.traces().is_empty(), "expired after 30 days: {out:?}");
}
