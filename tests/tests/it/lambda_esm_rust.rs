//! Event source mappings delivering to the **Rust** test function (`nimbus-test-fn`,
//! `tests/functions/rust`, on the official `lambda_runtime` crate) instead of the Python
//! ones used by `lambda_esm.rs` / `lambda_esm_streams.rs`.
//!
//! With `ESM_REPORT=1` the function answers a `Records` event per record (SQS body
//! `{"fail": true}` / `{"fail_once": true}` → `batchItemFailures` by `messageId`;
//! a DynamoDB `NewImage` with `poison` → the invocation errors, with `fail` →
//! `batchItemFailures` by `SequenceNumber`) and prints one `ESM-REPORT <json>` line per
//! invocation, which the tests read back through the CloudWatch Logs API
//! (`lambda::esm_reports`): the records it got, the ones it counted as processed, and the
//! ones it reported as failed.
//!
//! Covered: the function's own contract (direct Invoke); DynamoDB Streams with
//! BisectBatchOnFunctionError and an on-failure SQS destination (AWS's failure record
//! with DDBStreamBatchInfo); DynamoDB Streams ReportBatchItemFailures; SQS partial batch
//! failures; FIFO order per message group.

use aws_sdk_dynamodb::types::AttributeValue as AV;
use aws_sdk_dynamodb::types::StreamViewType;
use aws_sdk_lambda::types::{EventSourcePosition, FunctionResponseType};
use aws_sdk_sqs::types::{QueueAttributeName, SendMessageBatchRequestEntry};
use nimbus_tests::esm::{self, key, on_failure, queue, seq_of, wait_depth};
use nimbus_tests::lambda::{self, esm_reports, esm_reports_until, FnSpec};
use nimbus_tests::{sqs, unique_name, Nimbus};
use serde_json::{json, Value};
use std::collections::{BTreeMap, HashMap, HashSet};
use std::time::{Duration, Instant};

type Ddb = aws_sdk_dynamodb::Client;
type Lam = aws_sdk_lambda::Client;
type Sqs = aws_sdk_sqs::Client;

// ---------------------------------------------------------------------------------------
// Helpers

/// Creates the reporting Rust function; returns (name, ARN).
async fn reporter(lam: &Lam, extra_env: &[(&str, &str)]) -> (String, String) {
    let name = unique_name("esm-rs");
    let mut spec = lambda::rust_esm_reporter();
    for (k, v) in extra_env {
        spec = spec.env(k, v);
    }
    let arn = lambda::create(lam, &name, spec).await;
    (name, arn)
}

/// Puts item `pk`; `flag` ("poison" / "fail") adds that attribute, which the function reacts to.
async fn put(c: &Ddb, t: &str, pk: &str, flag: Option<&str>) {
    let mut req = c.put_item().table_name(t).item("pk", AV::S(pk.into())).item("v", AV::S("ok".into()));
    if let Some(f) = flag {
        req = req.item(f, AV::Bool(true));
    }
    req.send().await.expect("put_item");
}

fn pk_of(seqs: &[(String, String)], seq: &str) -> String {
    seqs.iter().find(|(_, s)| s == seq).map(|(k, _)| k.clone()).unwrap_or_else(|| format!("?{seq}"))
}

/// The sequence numbers of these keys, in the stream's order.
fn seqs_for(seqs: &[(String, String)], pks: &[String]) -> Vec<String> {
    pks.iter().map(|p| seq_of(seqs, p)).collect()
}

/// The ids (messageId / SequenceNumber) of a report's records.
fn ids(report: &Value) -> Vec<String> {
    report["records"].as_array().expect("records").iter().map(|r| r["id"].as_str().expect("id").to_string()).collect()
}

fn strs(v: &Value) -> Vec<String> {
    v.as_array().map(|a| a.iter().map(|x| x.as_str().expect("string id").to_string()).collect()).unwrap_or_default()
}

/// Every id the function counted as processed, over all invocations in start order.
fn processed(reports: &[Value]) -> Vec<String> {
    reports.iter().flat_map(|r| strs(&r["processed"])).collect()
}

/// Reads (and deletes) messages from `url` until `want` arrived or `secs` passed; bodies as JSON.
async fn collect(c: &Sqs, url: &str, want: usize, secs: u64) -> Vec<Value> {
    let deadline = Instant::now() + Duration::from_secs(secs);
    let mut out = Vec::new();
    while out.len() < want && Instant::now() < deadline {
        for m in sqs::receive(c, url, 10, 1, Some(30)).await {
            sqs::delete(c, url, &m).await;
            out.push(serde_json::from_str(m.body().unwrap()).expect("JSON body"));
        }
    }
    out
}

/// Sends each body with SendMessageBatch (10 per call, in order); `group(i)` gives the
/// FIFO message group of body `i`. Returns the MessageIds, in the bodies' order.
async fn send_all(c: &Sqs, url: &str, bodies: &[String], group: impl Fn(usize) -> Option<String>) -> Vec<String> {
    let mut out = Vec::new();
    for (ci, chunk) in bodies.chunks(10).enumerate() {
        let mut req = c.send_message_batch().queue_url(url);
        for (i, b) in chunk.iter().enumerate() {
            let e = SendMessageBatchRequestEntry::builder().id(format!("m{i}")).message_body(b).set_message_group_id(group(ci * 10 + i));
            req = req.entries(e.build().unwrap());
        }
        let res = req.send().await.expect("send_message_batch");
        assert!(res.failed().is_empty(), "batch entries failed: {:?}", res.failed());
        let by_id: HashMap<&str, &str> = res.successful().iter().map(|s| (s.id(), s.message_id())).collect();
        for i in 0..chunk.len() {
            out.push(by_id[format!("m{i}").as_str()].to_string());
        }
    }
    out
}

/// Seconds since the epoch of an ISO-8601 UTC time such as `2024-05-01T12:00:00.123Z`.
fn iso_secs(s: &str) -> Option<i64> {
    let num = |r: std::ops::Range<usize>| s.get(r)?.parse::<i64>().ok();
    let (y, mo, d, h, mi, sec) = (num(0..4)?, num(5..7)?, num(8..10)?, num(11..13)?, num(14..16)?, num(17..19)?);
    if s.as_bytes().get(10) != Some(&b'T') || !s.ends_with('Z') {
        return None;
    }
    // Days from the civil date (Howard Hinnant's algorithm).
    let y = if mo <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let doy = (153 * (mo + if mo > 2 { -3 } else { 9 }) + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    Some(days * 86_400 + h * 3600 + mi * 60 + sec)
}

fn now_secs() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() as i64
}

// ---------------------------------------------------------------------------------------
// The function's own contract

/// The Rust function with ESM_REPORT=1 answers `Records` events like the Python test
/// functions (checked through a plain Invoke, no mapping), and without it keeps the
/// benchmark's `ESM <now ms> <records> <min sent>` line and `{}` answer.
#[tokio::test]
async fn rust_function_reports_and_answers_records() {
    let n = Nimbus::start_in_memory();
    let (lam, logs) = (n.lambda_client(), n.logs_client());
    let (f, _) = reporter(&lam, &[]).await;
    let sqs_rec = |id: &str, body: Value, count: &str, group: Option<&str>| {
        let mut attrs = json!({"ApproximateReceiveCount": count, "SentTimestamp": "1700000000000"});
        if let Some(g) = group {
            attrs["MessageGroupId"] = json!(g);
        }
        json!({"messageId": id, "body": body.to_string(), "attributes": attrs, "eventSource": "aws:sqs"})
    };
    let ddb_rec = |seq: &str, flag: Option<&str>| {
        let mut image = json!({"pk": {"S": seq}});
        if let Some(f) = flag {
            image[f] = json!({"BOOL": true});
        }
        json!({"eventID": format!("e{seq}"), "eventName": "INSERT", "eventSource": "aws:dynamodb",
               "dynamodb": {"Keys": {"pk": {"S": seq}}, "NewImage": image, "SequenceNumber": seq}})
    };

    // SQS standard: fail always, fail_once on the first receive only.
    let ev = json!({"Records": [
        sqs_rec("a", json!({"i": 0}), "1", None),
        sqs_rec("b", json!({"fail": true}), "3", None),
        sqs_rec("c", json!({"fail_once": true}), "1", None),
        sqs_rec("d", json!({"fail_once": true}), "2", None),
        sqs_rec("e", json!("not an object"), "1", None),
    ]});
    let r = lambda::invoke(&lam, &f, &ev).await;
    assert_eq!(r.function_error, None, "{:?}", r.payload);
    assert_eq!(r.payload, json!({"batchItemFailures": [{"itemIdentifier": "b"}, {"itemIdentifier": "c"}]}));

    // SQS FIFO: the failed record and everything after it.
    let ev = json!({"Records": [
        sqs_rec("f0", json!({}), "1", Some("g")),
        sqs_rec("f1", json!({"fail": true}), "1", Some("g")),
        sqs_rec("f2", json!({}), "1", Some("g")),
    ]});
    let r = lambda::invoke(&lam, &f, &ev).await;
    assert_eq!(r.payload, json!({"batchItemFailures": [{"itemIdentifier": "f1"}, {"itemIdentifier": "f2"}]}));

    // raise / raise_once: a function error.
    let ev = json!({"Records": [sqs_rec("x", json!({}), "1", None), sqs_rec("y", json!({"raise_once": true}), "1", None)]});
    let r = lambda::invoke(&lam, &f, &ev).await;
    assert_eq!(r.function_error.as_deref(), Some("Unhandled"), "{:?}", r.payload);
    assert_eq!(r.payload["errorType"], json!("EsmRecordFailure"), "{:?}", r.payload);
    let ev = json!({"Records": [sqs_rec("y", json!({"raise_once": true}), "2", None)]});
    let r = lambda::invoke(&lam, &f, &ev).await;
    assert_eq!(r.function_error, None, "raise_once only on the first receive: {:?}", r.payload);

    // DynamoDB: `fail` → its SequenceNumber, the records after it unprocessed; `poison` → error.
    let ev = json!({"Records": [ddb_rec("100", None), ddb_rec("200", Some("fail")), ddb_rec("300", None), ddb_rec("400", Some("fail"))]});
    let r = lambda::invoke(&lam, &f, &ev).await;
    assert_eq!(r.payload, json!({"batchItemFailures": [{"itemIdentifier": "200"}]}));
    let ev = json!({"Records": [ddb_rec("500", None), ddb_rec("600", Some("poison"))]});
    let r = lambda::invoke(&lam, &f, &ev).await;
    assert_eq!(r.function_error.as_deref(), Some("Unhandled"), "{:?}", r.payload);
    assert!(r.payload["errorMessage"].as_str().is_some_and(|m| m.contains("600")), "{:?}", r.payload);
    // Not a Records event: the old actions still work.
    let r = lambda::invoke(&lam, &f, &json!({"action": "sleep", "ms": 1})).await;
    assert_eq!(r.payload["slept"], json!(1));

    // What the reports say (read back through CloudWatch Logs).
    let reports = esm_reports_until(&logs, &f, 10, |r| r.len() >= 6).await;
    // (outcome, records, processed, failures) per invocation.
    type Want<'a> = (&'a str, Vec<&'a str>, Vec<&'a str>, Vec<&'a str>);
    let want: Vec<Want> = vec![
        ("partial", vec!["a", "b", "c", "d", "e"], vec!["a", "d", "e"], vec!["b", "c"]),
        ("partial", vec!["f0", "f1", "f2"], vec!["f0"], vec!["f1", "f2"]),
        ("error", vec!["x", "y"], vec![], vec![]),
        ("ok", vec!["y"], vec!["y"], vec![]),
        ("partial", vec!["100", "200", "300", "400"], vec!["100"], vec!["200"]),
        ("error", vec!["500", "600"], vec![], vec![]),
    ];
    // One report per Records invocation (the sleep action prints none).
    assert_eq!(reports.len(), want.len(), "{reports:#?}");
    for (r, (outcome, recs, done, failed)) in reports.iter().zip(&want) {
        assert_eq!(r["outcome"], json!(outcome), "{r:#}");
        assert_eq!(ids(r), *recs, "{r:#}");
        assert_eq!(strs(&r["processed"]), *done, "{r:#}");
        assert_eq!(strs(&r["failures"]), *failed, "{r:#}");
        assert!(r["request_id"].as_str().is_some_and(|s| !s.is_empty()), "{r:#}");
        assert!(r["end_ns"].as_u64() >= r["start_ns"].as_u64(), "{r:#}");
    }
    assert_eq!(reports[0]["source"], json!("aws:sqs"));
    assert_eq!(reports[0]["records"][1]["body"], json!(r#"{"fail":true}"#));
    assert_eq!(reports[4]["source"], json!("aws:dynamodb"));
    assert_eq!(reports[4]["records"][0]["keys"], json!({"pk": {"S": "100"}}));

    // Without ESM_REPORT: the benchmark's line and `{}`, no report.
    let plain = unique_name("rs-plain");
    lambda::create(&lam, &plain, FnSpec::rust()).await;
    let r = lambda::invoke(&lam, &plain, &json!({"Records": [sqs_rec("p", json!({"fail": true}), "1", None)]})).await;
    assert_eq!(r.function_error, None);
    assert_eq!(r.payload, json!({}), "the benchmark relies on {{}}");
    let deadline = Instant::now() + Duration::from_secs(10);
    let lines: Vec<String> = loop {
        let ev = logs.filter_log_events().log_group_name(format!("/aws/lambda/{plain}")).send().await;
        let lines: Vec<String> = ev.map(|e| e.events().iter().filter_map(|e| e.message().map(str::to_string)).collect()).unwrap_or_default();
        if lines.iter().any(|l| l.starts_with("ESM ")) || Instant::now() > deadline {
            break lines;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    let esm: Vec<&String> = lines.iter().filter(|l| l.starts_with("ESM ")).collect();
    assert_eq!(esm.len(), 1, "{lines:?}");
    let parts: Vec<&str> = esm[0].split_whitespace().collect();
    assert_eq!(parts.len(), 4, "{esm:?}");
    assert!(parts[1].parse::<u64>().is_ok_and(|ms| ms > 1_600_000_000_000), "{esm:?}");
    assert_eq!(&parts[2..], ["1", "1700000000000"], "{esm:?}");
    assert!(!lines.iter().any(|l| l.starts_with("ESM-REPORT")), "{lines:?}");
    assert!(esm_reports(&logs, &plain).await.is_empty());
}

// ---------------------------------------------------------------------------------------
// DynamoDB Streams

/// AWS's on-failure record for a discarded DynamoDB stream batch
/// (https://docs.aws.amazon.com/lambda/latest/dg/services-dynamodb-errors.html).
#[track_caller]
fn assert_ddb_failure_record(f: &Value, function_arn: &str, stream_arn: &str, shard: &str, start: &str, end: &str, size: u64) {
    assert_eq!(f["requestContext"]["condition"], json!("RetryAttemptsExhausted"), "condition in {f:#}");
    assert_eq!(f["requestContext"]["functionArn"], json!(function_arn), "functionArn in {f:#}");
    assert!(f["requestContext"]["requestId"].as_str().is_some_and(|s| !s.is_empty()), "requestId in {f:#}");
    assert_eq!(f["responseContext"]["statusCode"], json!(200), "{f:#}");
    assert_eq!(f["version"], json!("1.0"), "{f:#}");
    let ts = f["timestamp"].as_str().and_then(iso_secs).unwrap_or_else(|| panic!("timestamp in {f:#}"));
    assert!((ts - now_secs()).abs() < 120, "timestamp is now: {f:#}");
    let info = &f["DDBStreamBatchInfo"];
    assert_eq!(info["shardId"], json!(shard), "shardId in {f:#}");
    assert_eq!(info["startSequenceNumber"], json!(start), "startSequenceNumber in {f:#}");
    assert_eq!(info["endSequenceNumber"], json!(end), "endSequenceNumber in {f:#}");
    assert_eq!(info["batchSize"], json!(size), "batchSize in {f:#}");
    assert_eq!(info["streamArn"], json!(stream_arn), "streamArn in {f:#}");
    let first = info["approximateArrivalOfFirstRecord"].as_str().and_then(iso_secs).unwrap_or_else(|| panic!("approximateArrivalOfFirstRecord in {f:#}"));
    let last = info["approximateArrivalOfLastRecord"].as_str().and_then(iso_secs).unwrap_or_else(|| panic!("approximateArrivalOfLastRecord in {f:#}"));
    assert!(first <= last && (first - now_secs()).abs() < 120, "arrival times in {f:#}");
    if size == 1 {
        assert_eq!(info["approximateArrivalOfFirstRecord"], info["approximateArrivalOfLastRecord"], "one record: {f:#}");
    }
}

/// Every invocation got its records in stream order, and every record it counted as
/// processed is one of them.
#[track_caller]
fn assert_batches_in_order(reports: &[Value], seqs: &[(String, String)]) {
    for r in reports {
        let s: Vec<u128> = ids(r).iter().map(|x| x.parse().expect("numeric SequenceNumber")).collect();
        assert!(s.windows(2).all(|w| w[0] < w[1]), "records out of order in {r:#}");
        let named: Vec<String> = ids(r).iter().map(|x| pk_of(seqs, x)).collect();
        assert!(named.iter().all(|p| !p.starts_with('?')), "records not in the stream: {named:?}");
    }
}

/// Seed-001: BatchSize 10, BisectBatchOnFunctionError, MaximumRetryAttempts 1 and an
/// on-failure SQS queue; 20 records with one poison (k12) among them. Every good record
/// is processed exactly once, in order; the poison is isolated and its batch (alone)
/// described to the on-failure queue with the stream's shard and its sequence number;
/// then the shard moves on.
#[tokio::test]
async fn stream_poison_record_is_bisected_out_and_reported() {
    let n = Nimbus::start();
    let (c, lam, q, logs) = (n.dynamodb_client(), n.lambda_client(), n.sqs_client(), n.logs_client());
    let (t, stream) = esm::stream_table(&c, StreamViewType::NewImage).await;
    let (dlq, dlq_arn) = queue(&q, "esmrs-fail", &[]).await;
    let (f, f_arn) = reporter(&lam, &[]).await;
    for i in 0..20 {
        put(&c, &t, &key(i), (i == 12).then_some("poison")).await;
    }
    let (shard, seqs) = esm::stream_records(&n, &stream).await;
    assert_eq!(seqs.len(), 20);
    lam.create_event_source_mapping()
        .function_name(&f)
        .event_source_arn(&stream)
        .starting_position(EventSourcePosition::TrimHorizon)
        .batch_size(10)
        .bisect_batch_on_function_error(true)
        .maximum_retry_attempts(1)
        .destination_config(on_failure(&dlq_arn))
        .send()
        .await
        .expect("create mapping");

    let fails = collect(&q, &dlq, 1, 30).await;
    let reports = esm_reports_until(&logs, &f, 20, |r| processed(r).len() >= 19).await;
    let good: Vec<String> = (0..20).filter(|&i| i != 12).map(key).collect();
    let named = |ids: &[String]| ids.iter().map(|s| pk_of(&seqs, s)).collect::<Vec<_>>();
    assert_eq!(named(&processed(&reports)), good, "every good record processed once, in order");
    assert_eq!(processed(&reports), seqs_for(&seqs, &good));
    assert_batches_in_order(&reports, &seqs);

    let poison = seq_of(&seqs, "k12");
    let with_poison: Vec<&Value> = reports.iter().filter(|r| ids(r).contains(&poison)).collect();
    assert!(with_poison.iter().all(|r| r["outcome"] == json!("error")), "every batch holding the poison failed: {with_poison:#?}");
    let alone = with_poison.iter().filter(|r| ids(r) == std::slice::from_ref(&poison)).count();
    // Bisection isolates it; MaximumRetryAttempts 1 allows one retry of it alone.
    assert!((1..=2).contains(&alone), "the poison ran alone {alone} times; batches with it: {:?}", with_poison.iter().map(|r| named(&ids(r))).collect::<Vec<_>>());
    eprintln!("invocations: {:?}", reports.iter().map(|r| (named(&ids(r)), r["outcome"].as_str().unwrap_or_default().to_string())).collect::<Vec<_>>());
    // The first invocation got the first full batch of 10.
    assert_eq!(named(&ids(&reports[0])), (0..10).map(key).collect::<Vec<_>>(), "first batch");

    assert_eq!(fails.len(), 1, "one failure record");
    assert_ddb_failure_record(&fails[0], &f_arn, &stream, &shard, &poison, &poison, 1);
    // The batch's last invocation returned a function error (AWS's example record: "Unhandled").
    assert_eq!(fails[0]["responseContext"]["functionError"], json!("Unhandled"), "{:#}", fails[0]);
    let count = fails[0]["requestContext"]["approximateInvokeCount"].as_u64().expect("approximateInvokeCount");
    assert!(count >= 1 && count as usize <= with_poison.len(), "approximateInvokeCount {count}, invocations with the poison {}", with_poison.len());

    // The shard moved on: a later record is processed, alone, once.
    put(&c, &t, "later", None).await;
    let (_, all_seqs) = esm::stream_records(&n, &stream).await;
    assert_eq!(all_seqs[..20], seqs[..], "the stream kept its records");
    let later = seq_of(&all_seqs, "later");
    let reports = esm_reports_until(&logs, &f, 20, |r| processed(r).contains(&later)).await;
    let last = reports.last().unwrap();
    assert_eq!(ids(last), std::slice::from_ref(&later), "the later record in a batch of its own: {last:#}");
    assert_eq!(last["outcome"], json!("ok"));
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let reports = esm_reports(&logs, &f).await;
    let mut want = seqs_for(&seqs, &good);
    want.push(later);
    assert_eq!(processed(&reports), want, "nothing processed twice");
    assert!(collect(&q, &dlq, 1, 1).await.is_empty(), "no second failure record");
}

/// ReportBatchItemFailures on a stream: the function names the failed record by its
/// SequenceNumber; AWS then retries from that checkpoint, so the records before it are
/// not sent again, and (with bisection) the failed record ends up alone on the failure
/// queue while the ones after it are processed once.
#[tokio::test]
async fn stream_report_batch_item_failures_resumes_at_the_sequence_number() {
    let n = Nimbus::start();
    let (c, lam, q, logs) = (n.dynamodb_client(), n.lambda_client(), n.sqs_client(), n.logs_client());
    let (t, stream) = esm::stream_table(&c, StreamViewType::NewImage).await;
    let (dlq, dlq_arn) = queue(&q, "esmrs-fail", &[]).await;
    let (f, f_arn) = reporter(&lam, &[]).await;
    for i in 0..10 {
        put(&c, &t, &key(i), (i == 3).then_some("fail")).await;
    }
    let (shard, seqs) = esm::stream_records(&n, &stream).await;
    lam.create_event_source_mapping()
        .function_name(&f)
        .event_source_arn(&stream)
        .starting_position(EventSourcePosition::TrimHorizon)
        .batch_size(10)
        .bisect_batch_on_function_error(true)
        .maximum_retry_attempts(1)
        .function_response_types(FunctionResponseType::ReportBatchItemFailures)
        .destination_config(on_failure(&dlq_arn))
        .send()
        .await
        .expect("create mapping");

    let fails = collect(&q, &dlq, 1, 30).await;
    let reports = esm_reports_until(&logs, &f, 20, |r| processed(r).len() >= 9).await;
    let named = |ids: &[String]| ids.iter().map(|s| pk_of(&seqs, s)).collect::<Vec<_>>();
    let good: Vec<String> = (0..10).filter(|&i| i != 3).map(key).collect();
    assert_eq!(named(&processed(&reports)), good, "every good record processed once, in order");
    assert_batches_in_order(&reports, &seqs);
    let failed = seq_of(&seqs, "k03");
    assert_eq!(named(&ids(&reports[0])), (0..10).map(key).collect::<Vec<_>>(), "first batch");
    assert_eq!(strs(&reports[0]["failures"]), std::slice::from_ref(&failed), "the function reported k03 by its SequenceNumber");
    // Retried from the checkpoint: k00..k02 were in the first invocation only.
    for p in ["k00", "k01", "k02"] {
        let s = seq_of(&seqs, p);
        let n = reports.iter().filter(|r| ids(r).contains(&s)).count();
        assert_eq!(n, 1, "{p} was sent {n} times: {:?}", reports.iter().map(|r| named(&ids(r))).collect::<Vec<_>>());
    }
    assert!(reports[1..].iter().all(|r| ids(r).iter().all(|s| s.parse::<u128>().unwrap() >= failed.parse::<u128>().unwrap())), "retries start at the checkpoint");

    assert_eq!(fails.len(), 1, "one failure record: {fails:#?}");
    assert_ddb_failure_record(&fails[0], &f_arn, &stream, &shard, &failed, &failed, 1);
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(named(&processed(&esm_reports(&logs, &f).await)), good, "nothing processed twice");
    assert!(collect(&q, &dlq, 1, 1).await.is_empty(), "no second failure record");
}

// ---------------------------------------------------------------------------------------
// SQS

/// Deliveries per messageId, in invocation order.
fn deliveries(reports: &[Value]) -> BTreeMap<String, Vec<(Value, u64)>> {
    let mut m: BTreeMap<String, Vec<(Value, u64)>> = BTreeMap::new();
    for r in reports {
        for rec in r["records"].as_array().unwrap() {
            m.entry(rec["id"].as_str().unwrap().to_string()).or_default().push((rec.clone(), r["start_ns"].as_u64().unwrap()));
        }
    }
    m
}

/// SQS with ReportBatchItemFailures: only the messages the function lists come back
/// (after the visibility timeout, ApproximateReceiveCount 2); the rest of the batch is
/// deleted at once.
#[tokio::test]
async fn sqs_partial_batch_failure_returns_only_the_failed_messages() {
    let n = Nimbus::start_in_memory();
    let (lam, c, logs) = (n.lambda_client(), n.sqs_client(), n.logs_client());
    // Visibility 5 s ≥ the function's timeout (3 s by default).
    let (url, arn) = queue(&c, "esmrs-src", &[(QueueAttributeName::VisibilityTimeout, "5")]).await;
    let (f, _) = reporter(&lam, &[]).await;
    let bodies: Vec<String> = (0..6).map(|i| json!({"i": i, "fail_once": i % 3 == 0}).to_string()).collect();
    // Queued before the mapping exists, so the first receive finds them all.
    let msg_ids = send_all(&c, &url, &bodies, |_| None).await;
    let failing: HashSet<String> = [msg_ids[0].clone(), msg_ids[3].clone()].into();
    lam.create_event_source_mapping()
        .event_source_arn(&arn)
        .function_name(&f)
        .batch_size(10)
        .function_response_types(FunctionResponseType::ReportBatchItemFailures)
        .send()
        .await
        .expect("create mapping");

    // First round: the four good ones processed, the two failing ones reported.
    let first = esm_reports_until(&logs, &f, 20, |r| processed(r).len() >= 4).await;
    assert_eq!(processed(&first).len(), 4, "{first:#?}");
    // The successes were deleted; the failures are in flight until their visibility timeout.
    wait_depth(&c, &url, 2, 4).await;
    assert_eq!(sqs::attr_num(&c, &url, QueueAttributeName::ApproximateNumberOfMessages).await, 0, "the failed messages stay invisible");
    assert!(
        first.iter().any(|r| !strs(&r["processed"]).is_empty() && !strs(&r["failures"]).is_empty()),
        "an invocation with both successes and failures (a partial batch): {first:#?}"
    );
    let reported: HashSet<String> = first.iter().flat_map(|r| strs(&r["failures"])).collect();
    assert_eq!(reported, failing, "the function listed the fail_once messages");

    // Second round: the two come back and succeed; then the queue is empty for good.
    let reports = esm_reports_until(&logs, &f, 20, |r| processed(r).len() >= 6).await;
    wait_depth(&c, &url, 0, 10).await;
    // Longer than the visibility timeout: a message wrongly kept would come back by then.
    tokio::time::sleep(Duration::from_secs(6)).await;
    let reports_after = esm_reports(&logs, &f).await;
    assert_eq!(reports_after.len(), reports.len(), "nothing delivered after the redeliveries: {reports_after:#?}");

    let by = deliveries(&reports_after);
    assert_eq!(by.keys().cloned().collect::<HashSet<_>>(), msg_ids.iter().cloned().collect::<HashSet<_>>(), "every message delivered");
    for (i, id) in msg_ids.iter().enumerate() {
        let d = &by[id];
        assert!(d.iter().all(|(rec, _)| rec["body"] == json!(bodies[i])), "{id}: {d:?}");
        let counts: Vec<&str> = d.iter().map(|(rec, _)| rec["attributes"]["ApproximateReceiveCount"].as_str().unwrap()).collect();
        if failing.contains(id) {
            assert_eq!(counts, ["1", "2"], "a failed message comes back once: {}", bodies[i]);
            // From the first receive (not from the first invocation's start, which a loaded
            // machine delays) to the second invocation's start.
            let first_receive_ms: u64 = d[1].0["attributes"]["ApproximateFirstReceiveTimestamp"].as_str().and_then(|s| s.parse().ok()).expect("first receive timestamp");
            let gap_ms = (d[1].1 / 1_000_000).saturating_sub(first_receive_ms);
            assert!(gap_ms >= 4_990, "redelivered only after the 5 s visibility timeout, got {gap_ms} ms after the first receive");
        } else {
            assert_eq!(counts, ["1"], "a successful message is deleted: {}", bodies[i]);
        }
    }
    let mut done = processed(&reports_after);
    done.sort();
    let mut all = msg_ids.clone();
    all.sort();
    assert_eq!(done, all, "each message processed exactly once");
}

/// FIFO: within a message group, messages reach the function in order, one batch of a
/// group at a time; a failed message (and, as AWS asks of FIFO functions, everything
/// after it in the batch) comes back before anything later of its group.
#[tokio::test]
async fn sqs_fifo_keeps_message_group_order() {
    let n = Nimbus::start_in_memory();
    let (lam, c, logs) = (n.lambda_client(), n.sqs_client(), n.logs_client());
    let name = format!("{}.fifo", unique_name("esmrs"));
    let url = sqs::create_queue(
        &c,
        &name,
        &[(QueueAttributeName::FifoQueue, "true"), (QueueAttributeName::ContentBasedDeduplication, "true"), (QueueAttributeName::VisibilityTimeout, "5")],
    )
    .await;
    let arn = sqs::queue_attrs(&c, &url).await.remove(&QueueAttributeName::QueueArn).expect("QueueArn");
    // A short sleep per invocation, so that two batches of one group running at once would overlap.
    let (f, _) = reporter(&lam, &[("ESM_SLEEP_MS", "100")]).await;
    lam.create_event_source_mapping()
        .event_source_arn(&arn)
        .function_name(&f)
        .batch_size(5)
        .function_response_types(FunctionResponseType::ReportBatchItemFailures)
        .send()
        .await
        .expect("create mapping");

    // Group F (4 messages, F-1 fails once) first, then A, B, C with 8 messages each,
    // interleaved.
    let mut msgs: Vec<(String, usize)> = (0..4).map(|i| ("F".to_string(), i)).collect();
    for i in 0..8 {
        for g in ["A", "B", "C"] {
            msgs.push((g.to_string(), i));
        }
    }
    let bodies: Vec<String> = msgs.iter().map(|(g, i)| json!({"g": g, "i": i, "fail_once": g == "F" && *i == 1}).to_string()).collect();
    let msg_ids = send_all(&c, &url, &bodies, |k| Some(msgs[k].0.clone())).await;
    let total = msgs.len();
    let of: HashMap<String, (String, usize)> = msg_ids.iter().cloned().zip(msgs.iter().cloned()).collect();

    let reports = esm_reports_until(&logs, &f, 25, |r| processed(r).len() >= total).await;
    wait_depth(&c, &url, 0, 10).await;
    tokio::time::sleep(Duration::from_secs(1)).await;
    let reports_after = esm_reports(&logs, &f).await;
    assert_eq!(reports_after.len(), reports.len(), "nothing delivered after all were processed");

    // Each group processed exactly once, in order.
    let mut per_group: BTreeMap<String, Vec<usize>> = BTreeMap::new();
    for id in processed(&reports) {
        let (g, i) = of.get(&id).unwrap_or_else(|| panic!("unknown message {id}")).clone();
        per_group.entry(g).or_default().push(i);
    }
    for (g, n) in [("A", 8), ("B", 8), ("C", 8), ("F", 4)] {
        assert_eq!(per_group.get(g).cloned().unwrap_or_default(), (0..n).collect::<Vec<_>>(), "group {g} processed once each, in order");
    }

    // Every delivery of a group starts at its first unprocessed message and is in order;
    // batches of one group never run at the same time.
    let mut next: HashMap<String, usize> = HashMap::new();
    let mut last_end: HashMap<String, u64> = HashMap::new();
    let trace: Vec<Vec<String>> = reports.iter().map(|r| ids(r).iter().map(|id| format!("{}{}", of[id].0, of[id].1)).collect()).collect();
    eprintln!("FIFO invocations: {trace:?}");
    for r in &reports {
        let done: HashSet<String> = strs(&r["processed"]).into_iter().collect();
        let mut seen: BTreeMap<String, Vec<(usize, bool)>> = BTreeMap::new();
        for id in ids(r) {
            let (g, i) = of[&id].clone();
            seen.entry(g).or_default().push((i, done.contains(&id)));
        }
        let (start, end) = (r["start_ns"].as_u64().unwrap(), r["end_ns"].as_u64().unwrap());
        for (g, items) in seen {
            let from = *next.get(&g).unwrap_or(&0);
            let idx: Vec<usize> = items.iter().map(|x| x.0).collect();
            assert_eq!(idx, (from..from + idx.len()).collect::<Vec<_>>(), "group {g} delivered from its first unprocessed message, in order; invocations: {trace:?}");
            let ok = items.iter().take_while(|x| x.1).count();
            assert!(items[ok..].iter().all(|x| !x.1), "processed is a prefix: {trace:?}");
            next.insert(g.clone(), from + ok);
            if let Some(prev) = last_end.get(&g) {
                assert!(*prev <= start, "two batches of group {g} at once; invocations: {trace:?}");
            }
            last_end.insert(g, end);
        }
    }
    // F-1 failed once: delivered twice (receive counts 1 and 2), F-2.. only after it came back.
    let by = deliveries(&reports);
    let f1 = &msg_ids[msgs.iter().position(|m| m == &("F".to_string(), 1)).unwrap()];
    let counts: Vec<&str> = by[f1].iter().map(|(rec, _)| rec["attributes"]["ApproximateReceiveCount"].as_str().unwrap()).collect();
    assert_eq!(counts, ["1", "2"], "F-1 failed once; invocations: {trace:?}");
    assert!(by[f1].iter().all(|(rec, _)| rec["attributes"]["MessageGroupId"] == json!("F")));
}
