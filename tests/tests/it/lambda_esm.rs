//! Event source mappings from SQS queues to Lambda functions, through the AWS SDK for
//! Rust: the API (validation, states, List filters, Update, Delete) and delivery (the
//! event's shape, deletes on success, ReportBatchItemFailures, function errors and the
//! visibility timeout, redrive to a DLQ, FIFO order per group, the batching window,
//! MaximumConcurrency, filter criteria, and a kill -9 restart mid-stream).
//!
//! Delivery tests use the Python function `tests/functions/python/esm.py`: every
//! invocation reports its records (and start/end times) to an output queue, and fails
//! or raises on the records that ask for it.

use aws_sdk_lambda::types::{EventSourcePosition, Filter, FilterCriteria, FunctionResponseType, ScalingConfig};
use aws_sdk_sqs::types::{MessageAttributeValue, QueueAttributeName, SendMessageBatchRequestEntry};
use nimbus_tests::lambda::{self, expect_err, FnSpec};
use nimbus_tests::esm::{queue, wait_depth};
use nimbus_tests::{sqs, unique_name, Nimbus};
use serde_json::{json, Value};
use std::collections::{BTreeMap, HashMap, HashSet};
use std::time::{Duration, Instant};

type Lam = aws_sdk_lambda::Client;
type Sqs = aws_sdk_sqs::Client;

async fn fifo_queue(c: &Sqs, attrs: &[(QueueAttributeName, &str)]) -> (String, String) {
    let mut all = vec![(QueueAttributeName::FifoQueue, "true"), (QueueAttributeName::ContentBasedDeduplication, "true")];
    all.extend(attrs.iter().cloned());
    let url = sqs::create_queue(c, &format!("{}.fifo", unique_name("esm")), &all).await;
    let arn = sqs::queue_attrs(c, &url).await.remove(&QueueAttributeName::QueueArn).expect("QueueArn");
    (url, arn)
}

/// The recording Python function (esm.handler) reporting to `out_url`; returns its name.
async fn recorder(lam: &Lam, out_url: &str, extra_env: &[(&str, &str)]) -> String {
    let name = unique_name("esm-py");
    // AWS requires the queue's visibility timeout to be at least the function's timeout.
    let mut spec = FnSpec::python("esm.handler").env("OUT_QUEUE_URL", out_url).timeout(5);
    for (k, v) in extra_env {
        spec = spec.env(k, v);
    }
    lambda::create(lam, &name, spec).await;
    name
}

/// Sends the bodies with SendMessageBatch (10 per call); `group` for FIFO queues.
async fn send_batch(c: &Sqs, url: &str, bodies: &[String], group: Option<&str>) {
    for chunk in bodies.chunks(10) {
        let mut req = c.send_message_batch().queue_url(url);
        for (i, b) in chunk.iter().enumerate() {
            let mut e = SendMessageBatchRequestEntry::builder().id(format!("m{i}")).message_body(b);
            if let Some(g) = group {
                e = e.message_group_id(g);
            }
            req = req.entries(e.build().unwrap());
        }
        let out = req.send().await.expect("send_message_batch");
        assert!(out.failed().is_empty(), "batch entries failed: {:?}", out.failed());
    }
}

/// Reads (and deletes) every invocation report that arrives on `out_url` until `done`
/// says enough or `secs` pass; returns them all, ordered by start time.
async fn reports_until(c: &Sqs, out_url: &str, secs: u64, done: impl Fn(&[Value]) -> bool) -> Vec<Value> {
    let deadline = Instant::now() + Duration::from_secs(secs);
    let mut all: Vec<Value> = Vec::new();
    loop {
        if done(&all) || Instant::now() >= deadline {
            break;
        }
        let msgs = sqs::receive(c, out_url, 10, 1, Some(30)).await;
        for m in msgs {
            sqs::delete(c, out_url, &m).await;
            all.push(serde_json::from_str(m.body().unwrap()).expect("report is JSON"));
        }
    }
    all.sort_by_key(|r| r["start_ns"].as_u64().unwrap_or(0));
    all
}

/// Every record of every report, in invocation order.
fn records(reports: &[Value]) -> Vec<Value> {
    reports.iter().flat_map(|r| r["records"].as_array().cloned().unwrap_or_default()).collect()
}

/// Deliveries per body.
fn by_body(reports: &[Value]) -> BTreeMap<String, Vec<Value>> {
    let mut m: BTreeMap<String, Vec<Value>> = BTreeMap::new();
    for r in records(reports) {
        m.entry(r["body"].as_str().unwrap().to_string()).or_default().push(r);
    }
    m
}

fn distinct_bodies(reports: &[Value]) -> usize {
    by_body(reports).len()
}

async fn wait_enabled(lam: &Lam, uuid: &str) {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let m = lam.get_event_source_mapping().uuid(uuid).send().await.expect("get_event_source_mapping");
        if m.state() == Some("Enabled") {
            return;
        }
        assert!(Instant::now() < deadline, "mapping {uuid} not Enabled: {m:?}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// A plain mapping (batch size 10, no window); returns its UUID.
async fn map(lam: &Lam, arn: &str, function: &str, report_failures: bool) -> String {
    let mut req = lam.create_event_source_mapping().event_source_arn(arn).function_name(function).batch_size(10);
    if report_failures {
        req = req.function_response_types(FunctionResponseType::ReportBatchItemFailures);
    }
    req.send().await.expect("create_event_source_mapping").uuid.expect("UUID")
}

// ---------------------------------------------------------------------------------------
// API

#[tokio::test]
async fn create_validates_like_aws() {
    let n = Nimbus::start_in_memory();
    let (lam, c) = (n.lambda_client(), n.sqs_client());
    let (_url, arn) = queue(&c, "esm", &[]).await;
    let f = unique_name("rs");
    lambda::create(&lam, &f, FnSpec::rust()).await;
    let base = || lam.create_event_source_mapping().event_source_arn(&arn).function_name(&f);

    let msg = expect_err(base().batch_size(11).send().await, "InvalidParameterValueException", Some(400));
    assert!(msg.contains("Maximum batch window"), "{msg}");
    expect_err(base().batch_size(20).maximum_batching_window_in_seconds(301).send().await, "ValidationException", Some(400));
    expect_err(base().batch_size(10_001).maximum_batching_window_in_seconds(1).send().await, "ValidationException", Some(400));
    expect_err(base().batch_size(0).send().await, "ValidationException", Some(400));
    expect_err(
        base().scaling_config(ScalingConfig::builder().maximum_concurrency(1).build()).send().await,
        "ValidationException",
        Some(400),
    );
    let msg = expect_err(base().starting_position(EventSourcePosition::TrimHorizon).send().await, "InvalidParameterValueException", Some(400));
    assert!(msg.contains("StartingPosition"), "{msg}");
    expect_err(base().bisect_batch_on_function_error(true).send().await, "InvalidParameterValueException", Some(400));
    expect_err(
        base().filter_criteria(FilterCriteria::builder().filters(Filter::builder().pattern("{not json").build()).build()).send().await,
        "InvalidParameterValueException",
        Some(400),
    );
    expect_err(
        base().filter_criteria(FilterCriteria::builder().filters(Filter::builder().pattern(r#"{"body":{"a":[{"regex":"x"}]}}"#).build()).build()).send().await,
        "InvalidParameterValueException",
        Some(400),
    );

    // Streams are not implemented yet.
    let stream = "arn:aws:dynamodb:us-east-1:000000000000:table/t/stream/2024-01-01T00:00:00.000";
    let msg = expect_err(
        lam.create_event_source_mapping()
            .event_source_arn(stream)
            .function_name(&f)
            .starting_position(EventSourcePosition::Latest)
            .send()
            .await,
        "InvalidParameterValueException",
        Some(400),
    );
    // DynamoDB Streams sources are being added (esm_stream.rs): until then "not supported
    // by nimbus"; afterwards a stream that does not exist is refused ("Stream not found").
    assert!(msg.contains("not supported by nimbus") || msg.contains("Stream not found"), "{msg}");
    let kinesis = "arn:aws:kinesis:us-east-1:000000000000:stream/s";
    let msg = expect_err(
        lam.create_event_source_mapping()
            .event_source_arn(kinesis)
            .function_name(&f)
            .starting_position(EventSourcePosition::Latest)
            .send()
            .await,
        "InvalidParameterValueException",
        Some(400),
    );
    // Kinesis sources are mapped (lambda_esm_kinesis.rs): a stream that does not exist is refused.
    assert!(msg.contains("Stream not found"), "{msg}");

    // A queue that does not exist (AWS: InvalidParameterValueException from its ReceiveMessage probe).
    let missing = arn.rsplit_once(':').map(|(p, _)| format!("{p}:no-such-queue")).unwrap();
    let msg = expect_err(lam.create_event_source_mapping().event_source_arn(&missing).function_name(&f).send().await, "InvalidParameterValueException", Some(400));
    assert!(msg.contains("NonExistentQueue"), "{msg}");
    // A function that does not exist.
    expect_err(lam.create_event_source_mapping().event_source_arn(&arn).function_name("no-such-function").send().await, "ResourceNotFoundException", Some(404));

    // Nothing was created by the failed calls.
    let all = lam.list_event_source_mappings().send().await.expect("list");
    assert!(all.event_source_mappings().is_empty(), "{all:?}");

    // The valid extremes pass.
    let ok = base().batch_size(10_000).maximum_batching_window_in_seconds(300).send().await.expect("batch 10000 with window 300");
    assert_eq!(ok.batch_size(), Some(10_000));
    assert_eq!(ok.maximum_batching_window_in_seconds(), Some(300));

    // Unknown UUIDs.
    expect_err(lam.get_event_source_mapping().uuid("00000000-0000-0000-0000-000000000000").send().await, "ResourceNotFoundException", Some(404));
    expect_err(lam.delete_event_source_mapping().uuid("00000000-0000-0000-0000-000000000000").send().await, "ResourceNotFoundException", Some(404));
    expect_err(lam.update_event_source_mapping().uuid("00000000-0000-0000-0000-000000000000").batch_size(5).send().await, "ResourceNotFoundException", Some(404));
}

#[tokio::test]
async fn create_get_list_update_delete() {
    let n = Nimbus::start_in_memory();
    let (lam, c) = (n.lambda_client(), n.sqs_client());
    let (_u1, arn1) = queue(&c, "esm-a", &[]).await;
    let (_u2, arn2) = queue(&c, "esm-b", &[]).await;
    let f1 = unique_name("rs");
    let f2 = unique_name("rs");
    let f1_arn = lambda::create(&lam, &f1, FnSpec::rust()).await;
    lambda::create(&lam, &f2, FnSpec::rust()).await;

    let created = lam
        .create_event_source_mapping()
        .event_source_arn(&arn1)
        .function_name(&f1)
        .batch_size(5)
        .function_response_types(FunctionResponseType::ReportBatchItemFailures)
        .scaling_config(ScalingConfig::builder().maximum_concurrency(3).build())
        .filter_criteria(FilterCriteria::builder().filters(Filter::builder().pattern(r#"{"body":{"k":["v"]}}"#).build()).build())
        .send()
        .await
        .expect("create");
    assert_eq!(created.state(), Some("Creating"), "{created:?}");
    let uuid = created.uuid().unwrap().to_string();
    assert_eq!(created.event_source_arn(), Some(arn1.as_str()));
    assert_eq!(created.function_arn(), Some(f1_arn.as_str()));
    assert_eq!(created.batch_size(), Some(5));
    assert_eq!(created.maximum_batching_window_in_seconds(), Some(0));
    assert_eq!(created.function_response_types(), &[FunctionResponseType::ReportBatchItemFailures]);
    assert_eq!(created.scaling_config().and_then(|s| s.maximum_concurrency()), Some(3));
    let pattern = created.filter_criteria().unwrap().filters()[0].pattern().unwrap().to_string();
    assert_eq!(serde_json::from_str::<Value>(&pattern).unwrap(), json!({"body":{"k":["v"]}}));
    assert!(created.event_source_mapping_arn().unwrap().ends_with(&format!(":event-source-mapping:{uuid}")), "{created:?}");
    assert!(created.last_modified().is_some());

    wait_enabled(&lam, &uuid).await;

    // Function given by ARN, default batch size 10.
    let other = lam.create_event_source_mapping().event_source_arn(&arn2).function_name(&f1_arn).send().await.expect("create 2");
    assert_eq!(other.batch_size(), Some(10));
    let third = lam.create_event_source_mapping().event_source_arn(&arn1).function_name(&f2).send().await.expect("create 3");

    let by_fn = lam.list_event_source_mappings().function_name(&f1).send().await.expect("list by function");
    let mut ids: Vec<_> = by_fn.event_source_mappings().iter().map(|m| m.uuid().unwrap().to_string()).collect();
    ids.sort();
    let mut want = vec![uuid.clone(), other.uuid().unwrap().to_string()];
    want.sort();
    assert_eq!(ids, want);
    let by_src = lam.list_event_source_mappings().event_source_arn(&arn1).send().await.expect("list by source");
    let mut ids: Vec<_> = by_src.event_source_mappings().iter().map(|m| m.uuid().unwrap().to_string()).collect();
    ids.sort();
    let mut want = vec![uuid.clone(), third.uuid().unwrap().to_string()];
    want.sort();
    assert_eq!(ids, want);
    let both = lam.list_event_source_mappings().event_source_arn(&arn1).function_name(&f2).send().await.expect("list by both");
    assert_eq!(both.event_source_mappings().len(), 1);
    let page = lam.list_event_source_mappings().max_items(2).send().await.expect("list page");
    assert_eq!(page.event_source_mappings().len(), 2);
    let marker = page.next_marker().expect("NextMarker with 3 mappings and MaxItems 2");
    let rest = lam.list_event_source_mappings().max_items(2).marker(marker).send().await.expect("list page 2");
    assert_eq!(rest.event_source_mappings().len(), 1);
    assert!(rest.next_marker().is_none());

    // Update.
    let up = lam.update_event_source_mapping().uuid(&uuid).batch_size(50).maximum_batching_window_in_seconds(2).send().await.expect("update");
    assert_eq!(up.state(), Some("Updating"), "{up:?}");
    assert_eq!(up.batch_size(), Some(50));
    expect_err(
        lam.update_event_source_mapping().uuid(&uuid).maximum_batching_window_in_seconds(0).send().await,
        "InvalidParameterValueException",
        Some(400),
    );
    let got = lam.get_event_source_mapping().uuid(&uuid).send().await.expect("get");
    assert_eq!(got.batch_size(), Some(50));
    assert_eq!(got.maximum_batching_window_in_seconds(), Some(2));
    assert_eq!(got.state(), Some("Enabled"));
    lam.update_event_source_mapping().uuid(&uuid).enabled(false).send().await.expect("disable");
    let got = lam.get_event_source_mapping().uuid(&uuid).send().await.expect("get");
    assert_eq!(got.state(), Some("Disabled"));

    // Delete.
    let del = lam.delete_event_source_mapping().uuid(&uuid).send().await.expect("delete");
    assert_eq!(del.state(), Some("Deleting"));
    expect_err(lam.get_event_source_mapping().uuid(&uuid).send().await, "ResourceNotFoundException", Some(404));
    let left = lam.list_event_source_mappings().send().await.expect("list");
    assert_eq!(left.event_source_mappings().len(), 2);
}

// ---------------------------------------------------------------------------------------
// Delivery

#[tokio::test]
async fn event_shape_matches_aws_and_successes_are_deleted() {
    let n = Nimbus::start_in_memory();
    let (lam, c) = (n.lambda_client(), n.sqs_client());
    let (url, arn) = queue(&c, "esm-src", &[]).await;
    let (out, _) = queue(&c, "esm-out", &[]).await;
    let f = recorder(&lam, &out, &[]).await;
    let uuid = map(&lam, &arn, &f, false).await;
    wait_enabled(&lam, &uuid).await;

    let sent = c
        .send_message()
        .queue_url(&url)
        .message_body("hello esm")
        .message_attributes("color", MessageAttributeValue::builder().data_type("String").string_value("red").build().unwrap())
        .message_attributes("count", MessageAttributeValue::builder().data_type("Number").string_value("42").build().unwrap())
        .message_attributes(
            "blob",
            MessageAttributeValue::builder().data_type("Binary").binary_value(aws_sdk_sqs::primitives::Blob::new(b"\x00\x01bin".to_vec())).build().unwrap(),
        )
        .send()
        .await
        .expect("send");
    let before_ms = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_millis() as u64;
    let reports = reports_until(&c, &out, 60, |r| distinct_bodies(r) >= 1).await;
    let recs = records(&reports);
    assert_eq!(recs.len(), 1, "one delivery: {reports:?}");
    let r = &recs[0];
    let keys: HashSet<&str> = r.as_object().unwrap().keys().map(String::as_str).collect();
    let want: HashSet<&str> =
        ["messageId", "receiptHandle", "body", "attributes", "messageAttributes", "md5OfBody", "eventSource", "eventSourceARN", "awsRegion"].into();
    assert_eq!(keys, want, "record keys: {r}");
    assert_eq!(r["messageId"], json!(sent.message_id().unwrap()));
    assert!(r["receiptHandle"].as_str().is_some_and(|h| !h.is_empty()));
    assert_eq!(r["body"], json!("hello esm"));
    assert_eq!(r["md5OfBody"], json!(nimbus_tests::md5::hex(b"hello esm")));
    assert_eq!(r["eventSource"], json!("aws:sqs"));
    assert_eq!(r["eventSourceARN"], json!(arn));
    assert_eq!(r["awsRegion"], json!("us-east-1"));
    let attrs = r["attributes"].as_object().unwrap();
    let akeys: HashSet<&str> = attrs.keys().map(String::as_str).collect();
    assert_eq!(akeys, ["ApproximateReceiveCount", "SentTimestamp", "SenderId", "ApproximateFirstReceiveTimestamp"].into(), "attributes: {r}");
    assert_eq!(attrs["ApproximateReceiveCount"], json!("1"));
    for k in ["SentTimestamp", "ApproximateFirstReceiveTimestamp"] {
        let v: u64 = attrs[k].as_str().unwrap_or_else(|| panic!("{k} is a string: {r}")).parse().unwrap();
        assert!(v.abs_diff(before_ms) < 120_000, "{k} {v} is a recent epoch-ms time");
    }
    assert!(attrs["SenderId"].as_str().is_some_and(|s| !s.is_empty()));
    let ma = &r["messageAttributes"];
    assert_eq!(ma["color"], json!({"stringValue": "red", "stringListValues": [], "binaryListValues": [], "dataType": "String"}));
    assert_eq!(ma["count"], json!({"stringValue": "42", "stringListValues": [], "binaryListValues": [], "dataType": "Number"}));
    use base64::Engine;
    assert_eq!(
        ma["blob"],
        json!({"binaryValue": base64::engine::general_purpose::STANDARD.encode(b"\x00\x01bin"), "stringListValues": [], "binaryListValues": [], "dataType": "Binary"})
    );

    // Processed → deleted.
    wait_depth(&c, &url, 0, 20).await;
}

#[tokio::test]
async fn partial_batch_failure_returns_only_the_failed_messages() {
    let n = Nimbus::start_in_memory();
    let (lam, c) = (n.lambda_client(), n.sqs_client());
    let (url, arn) = queue(&c, "esm-src", &[(QueueAttributeName::VisibilityTimeout, "5")]).await;
    let (out, _) = queue(&c, "esm-out", &[]).await;
    let f = recorder(&lam, &out, &[]).await;
    let uuid = map(&lam, &arn, &f, true).await;
    wait_enabled(&lam, &uuid).await;

    let bodies: Vec<String> = (0..6).map(|i| json!({"i": i, "fail_once": i % 3 == 0}).to_string()).collect();
    send_batch(&c, &url, &bodies, None).await;
    // 6 first deliveries + 2 redeliveries.
    let reports = reports_until(&c, &out, 60, |r| records(r).len() >= 8).await;
    wait_depth(&c, &url, 0, 20).await;
    // Longer than the visibility timeout: a wrongly kept message would come back by then.
    tokio::time::sleep(Duration::from_secs(4)).await;
    let more = reports_until(&c, &out, 2, |_| false).await;
    assert!(more.is_empty(), "nothing is delivered after the redeliveries: {more:?}");
    let by = by_body(&reports);
    assert_eq!(by.len(), 6, "{reports:?}");
    for (body, deliveries) in &by {
        let counts: Vec<&str> = deliveries.iter().map(|d| d["attributes"]["ApproximateReceiveCount"].as_str().unwrap()).collect();
        if body.contains("\"fail_once\":true") {
            assert_eq!(counts, ["1", "2"], "a failed item comes back once: {body}");
        } else {
            assert_eq!(counts, ["1"], "a successful item is deleted: {body}");
        }
    }
}

#[tokio::test]
async fn function_error_returns_the_whole_batch_after_the_visibility_timeout() {
    let n = Nimbus::start_in_memory();
    let (lam, c) = (n.lambda_client(), n.sqs_client());
    let (url, arn) = queue(&c, "esm-src", &[(QueueAttributeName::VisibilityTimeout, "5")]).await;
    let (out, _) = queue(&c, "esm-out", &[]).await;
    let f = recorder(&lam, &out, &[]).await;
    // Queued before the mapping exists, so one receive takes all three into one batch.
    let bodies = vec![json!({"i": 0}).to_string(), json!({"i": 1, "raise_once": true}).to_string(), json!({"i": 2}).to_string()];
    send_batch(&c, &url, &bodies, None).await;
    let uuid = lam
        .create_event_source_mapping()
        .event_source_arn(&arn)
        .function_name(&f)
        .batch_size(10)
        .maximum_batching_window_in_seconds(1)
        .send()
        .await
        .expect("create")
        .uuid
        .unwrap();
    wait_enabled(&lam, &uuid).await;
    let t0 = Instant::now();
    // Done when all 3 were seen and every message of the raising invocation came back.
    let reports = reports_until(&c, &out, 60, |r| distinct_bodies(r) == 3 && records(r).len() >= 3 + raising_batch_len(r)).await;
    wait_depth(&c, &url, 0, 30).await;
    let first = reports.iter().find(|r| r["records"].as_array().unwrap().iter().any(|x| x["body"].as_str().unwrap().contains("raise_once"))).expect("raising invocation");
    let first_ids: Vec<String> = first["records"].as_array().unwrap().iter().map(|x| x["body"].as_str().unwrap().to_string()).collect();
    let by = by_body(&reports);
    for b in &first_ids {
        let d = &by[b];
        assert_eq!(d.len(), 2, "every message of the failed batch comes back: {b}: {d:?}");
        assert_eq!(d[1]["attributes"]["ApproximateReceiveCount"], json!("2"));
    }
    // The redelivery waited for the visibility timeout (5 s).
    // Measured from the first receive (the message's ApproximateFirstReceiveTimestamp), not
    // from the first invocation's start, which a loaded machine delays after the receive.
    let redelivery = reports.iter().filter(|r| r["records"][0]["attributes"]["ApproximateReceiveCount"] == json!("2")).min_by_key(|r| r["start_ns"].as_u64().unwrap()).unwrap();
    let redelivered_ms = redelivery["start_ns"].as_u64().unwrap() / 1_000_000;
    let first_receive_ms: u64 = redelivery["records"][0]["attributes"]["ApproximateFirstReceiveTimestamp"].as_str().and_then(|s| s.parse().ok()).expect("first receive timestamp");
    assert!(redelivered_ms.saturating_sub(first_receive_ms) >= 4_990, "redelivery only after the visibility timeout: {} ms after the first receive", redelivered_ms.saturating_sub(first_receive_ms));
    assert!(first_ids.len() >= 2, "the three queued messages went out as one batch: {reports:?} (after {:?})", t0.elapsed());
}

/// Records in the first invocation that raised.
fn raising_batch_len(reports: &[Value]) -> usize {
    reports
        .iter()
        .find(|r| r["records"].as_array().unwrap().iter().any(|x| x["body"].as_str().unwrap().contains("raise_once") && x["attributes"]["ApproximateReceiveCount"] == json!("1")))
        .map(|r| r["records"].as_array().unwrap().len())
        .unwrap_or(usize::MAX / 2)
}

/// AWS's documented success and failure conditions of a partial batch response
/// (https://docs.aws.amazon.com/lambda/latest/dg/services-sqs-errorhandling.html):
/// a null `batchItemFailures` list is a complete success; an empty or unknown
/// `itemIdentifier` is a complete failure.
#[tokio::test]
async fn batch_item_failure_responses_follow_aws_success_and_failure_conditions() {
    let n = Nimbus::start_in_memory();
    let (lam, c) = (n.lambda_client(), n.sqs_client());
    // Visibility 8 s: well above a cold start, so only failures come back.
    let (url, arn) = queue(&c, "esm-src", &[(QueueAttributeName::VisibilityTimeout, "8")]).await;
    let (out, _) = queue(&c, "esm-out", &[]).await;
    let f = recorder(&lam, &out, &[]).await;
    let uuid = lam
        .create_event_source_mapping()
        .event_source_arn(&arn)
        .function_name(&f)
        .batch_size(1)
        .function_response_types(FunctionResponseType::ReportBatchItemFailures)
        .send()
        .await
        .expect("create")
        .uuid
        .unwrap();
    wait_enabled(&lam, &uuid).await;
    let cases = [
        ("null-list", json!({"batchItemFailures": null}), 1),
        ("empty-list", json!({"batchItemFailures": []}), 1),
        ("null-response", Value::Null, 1),
        ("no-key", json!({"other": 1}), 1),
        ("unknown-id", json!({"batchItemFailures": [{"itemIdentifier": "00000000-not-in-this-batch"}]}), 2),
        ("empty-id", json!({"batchItemFailures": [{"itemIdentifier": ""}]}), 2),
        ("bad-key", json!({"batchItemFailures": [{"id": "x"}]}), 2),
        ("not-a-list", json!({"batchItemFailures": "nope"}), 2),
    ];
    let bodies: Vec<String> = cases.iter().map(|(name, resp, _)| json!({"case": name, "respond": resp}).to_string()).collect();
    send_batch(&c, &url, &bodies, None).await;
    let want_total: usize = cases.iter().map(|c| c.2).sum();
    let reports = reports_until(&c, &out, 60, |r| records(r).len() >= want_total).await;
    wait_depth(&c, &url, 0, 30).await;
    let late = reports_until(&c, &out, 2, |_| false).await;
    let mut all = reports.clone();
    all.extend(late);
    let by = by_body(&all);
    let mut wrong = Vec::new();
    for ((name, _, deliveries), body) in cases.iter().zip(&bodies) {
        let got = by.get(body).map(Vec::len).unwrap_or(0);
        if got != *deliveries {
            wrong.push(format!("{name}: delivered {got} time(s), AWS: {deliveries}"));
        }
    }
    assert!(wrong.is_empty(), "{wrong:?}");
}

/// BatchSize is capped by the 6 MB synchronous payload limit (AWS: "Lambda passes all of
/// the records in the batch to the function in a single call, up to the payload limit for
/// synchronous invocation (6 MB)").
#[tokio::test]
async fn batches_stay_under_the_6_mb_invoke_limit() {
    let n = Nimbus::start_in_memory();
    let (lam, c) = (n.lambda_client(), n.sqs_client());
    let (url, arn) = queue(&c, "esm-big", &[(QueueAttributeName::VisibilityTimeout, "5")]).await;
    let f = unique_name("rs");
    lambda::create(&lam, &f, FnSpec::rust()).await;
    // 50 messages of ~250 KB: 12.5 MB in all; two pollers gather ~25 each (> 6 MB).
    let big = "x".repeat(250 * 1024);
    for _ in 0..5 {
        let mut req = c.send_message_batch().queue_url(&url);
        for i in 0..10 {
            req = req.entries(SendMessageBatchRequestEntry::builder().id(format!("m{i}")).message_body(&big).build().unwrap());
        }
        // SendMessageBatch's 256 KB total limit: send one by one instead when refused.
        if req.send().await.is_err() {
            for _ in 0..10 {
                c.send_message().queue_url(&url).message_body(&big).send().await.expect("send big");
            }
        }
    }
    assert_eq!(sqs::attr_num(&c, &url, QueueAttributeName::ApproximateNumberOfMessages).await, 50);
    let uuid = lam
        .create_event_source_mapping()
        .event_source_arn(&arn)
        .function_name(&f)
        .batch_size(100)
        .maximum_batching_window_in_seconds(1)
        .scaling_config(ScalingConfig::builder().maximum_concurrency(2).build())
        .send()
        .await
        .expect("create")
        .uuid
        .unwrap();
    wait_enabled(&lam, &uuid).await;
    wait_depth(&c, &url, 0, 30).await;
    // The test function logs `ESM <now> <records> <min sent>` per batch.
    let logs = n.logs_client();
    let deadline = Instant::now() + Duration::from_secs(10);
    let sizes: Vec<u64> = loop {
        let ev = logs.filter_log_events().log_group_name(format!("/aws/lambda/{f}")).filter_pattern("ESM").send().await;
        let sizes: Vec<u64> = ev
            .map(|e| e.events().iter().filter_map(|e| e.message()?.split_whitespace().nth(2)?.parse().ok()).collect())
            .unwrap_or_default();
        if sizes.iter().sum::<u64>() >= 50 || Instant::now() > deadline {
            break sizes;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    assert!(sizes.iter().sum::<u64>() >= 50, "batches {sizes:?}");
    // 24 records of 250 KB (plus their envelopes) fit in 6 MB; 25 do not.
    assert!(sizes.iter().all(|&s| s <= 24), "a batch over the 6 MB payload limit: record counts {sizes:?}");
}

#[tokio::test]
async fn exhausted_retries_go_to_the_dlq() {
    let n = Nimbus::start_in_memory();
    let (lam, c) = (n.lambda_client(), n.sqs_client());
    let (dlq, dlq_arn) = queue(&c, "esm-dlq", &[]).await;
    let redrive = json!({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": 2}).to_string();
    let (url, arn) = queue(&c, "esm-src", &[(QueueAttributeName::VisibilityTimeout, "5"), (QueueAttributeName::RedrivePolicy, &redrive)]).await;
    let (out, _) = queue(&c, "esm-out", &[]).await;
    let f = recorder(&lam, &out, &[]).await;
    let uuid = map(&lam, &arn, &f, false).await;
    wait_enabled(&lam, &uuid).await;
    let bodies: Vec<String> = (0..3).map(|i| json!({"i": i, "raise": true}).to_string()).collect();
    send_batch(&c, &url, &bodies, None).await;

    let deadline = Instant::now() + Duration::from_secs(60);
    let mut in_dlq = Vec::new();
    while in_dlq.len() < 3 {
        assert!(Instant::now() < deadline, "only {} of 3 messages reached the DLQ", in_dlq.len());
        in_dlq.extend(sqs::drain(&c, &dlq, 3 - in_dlq.len()).await);
    }
    let got: HashSet<String> = in_dlq.iter().map(|m| m.body().unwrap().to_string()).collect();
    assert_eq!(got, bodies.iter().cloned().collect::<HashSet<_>>());
    wait_depth(&c, &url, 0, 10).await;
    let reports = reports_until(&c, &out, 3, |_| false).await;
    for (b, d) in by_body(&reports) {
        let counts: Vec<&str> = d.iter().map(|x| x["attributes"]["ApproximateReceiveCount"].as_str().unwrap()).collect();
        assert_eq!(counts, ["1", "2"], "two attempts (maxReceiveCount 2) for {b}");
    }
}

#[tokio::test]
async fn fifo_order_per_group_and_a_failing_group_does_not_block_others() {
    let n = Nimbus::start_in_memory();
    let (lam, c) = (n.lambda_client(), n.sqs_client());
    // A visibility timeout well above an invocation's duration (a Python cold start with
    // boto3 takes ~1 s here): a batch that outlives it becomes visible again and is
    // redelivered, as on AWS (which is why AWS asks for visibility ≥ function timeout).
    let (url, arn) = fifo_queue(&c, &[(QueueAttributeName::VisibilityTimeout, "5")]).await;
    let (out, _) = queue(&c, "esm-out", &[]).await;
    let f = recorder(&lam, &out, &[]).await;
    let uuid = lam
        .create_event_source_mapping()
        .event_source_arn(&arn)
        .function_name(&f)
        .batch_size(4)
        .function_response_types(FunctionResponseType::ReportBatchItemFailures)
        .send()
        .await
        .expect("create")
        .uuid
        .unwrap();
    wait_enabled(&lam, &uuid).await;
    for g in ["A", "B", "C"] {
        let bodies: Vec<String> = (0..15).map(|i| json!({"g": g, "i": i}).to_string()).collect();
        send_batch(&c, &url, &bodies, Some(g)).await;
    }
    // Group F: its second message always fails, so F-2.. never complete.
    let fbodies: Vec<String> = (0..5).map(|i| json!({"g": "F", "i": i, "fail": i == 1}).to_string()).collect();
    send_batch(&c, &url, &fbodies, Some("F")).await;

    let done = |r: &[Value]| {
        let by = by_body(r);
        ["A", "B", "C"].iter().all(|g| (0..15).all(|i| by.contains_key(&json!({"g": g, "i": i}).to_string())))
            && by.get(&fbodies[1]).map(|d| d.len() >= 2).unwrap_or(false)
    };
    let reports = reports_until(&c, &out, 90, done).await;
    assert!(done(&reports), "groups A, B, C complete while F keeps failing: {}", serde_json::to_string(&by_body(&reports).keys().collect::<Vec<_>>()).unwrap());
    // Order within each group, over all deliveries in invocation order.
    let mut per_group: HashMap<String, Vec<i64>> = HashMap::new();
    for r in records(&reports) {
        let b: Value = serde_json::from_str(r["body"].as_str().unwrap()).unwrap();
        per_group.entry(b["g"].as_str().unwrap().to_string()).or_default().push(b["i"].as_i64().unwrap());
    }
    for g in ["A", "B", "C"] {
        assert_eq!(per_group[g], (0..15).collect::<Vec<_>>(), "group {g} delivered once each, in order");
    }
    // F: 0 once, then 1 (and the messages after it, which are not deleted) over and over;
    // the sequence restarts at 1 each time and never skips ahead.
    let fseq = &per_group["F"];
    assert_eq!(fseq[0], 0, "{fseq:?}");
    let mut expect_next = 1;
    for &i in &fseq[1..] {
        assert!(i == 1 || i == expect_next, "F is redelivered from its failed message in order: {fseq:?}");
        expect_next = i + 1;
    }
    assert_eq!(fseq.iter().filter(|&&i| i == 0).count(), 1, "F-0 succeeded once: {fseq:?}");
}

#[tokio::test]
async fn batching_window_makes_fewer_bigger_batches() {
    let n = Nimbus::start_in_memory();
    let (lam, c) = (n.lambda_client(), n.sqs_client());
    let (url, arn) = queue(&c, "esm-src", &[]).await;
    let (out, _) = queue(&c, "esm-out", &[]).await;
    let f = recorder(&lam, &out, &[]).await;
    let uuid = lam
        .create_event_source_mapping()
        .event_source_arn(&arn)
        .function_name(&f)
        .batch_size(50)
        .maximum_batching_window_in_seconds(2)
        .send()
        .await
        .expect("create")
        .uuid
        .unwrap();
    wait_enabled(&lam, &uuid).await;
    // Warm the function so a cold start does not shape the batches.
    let warm = lambda::invoke(&lam, &f, &json!({"Records": []})).await;
    assert!(warm.function_error.is_none(), "{:?}", warm.payload);
    reports_until(&c, &out, 10, |r| !r.is_empty()).await;

    let bodies: Vec<String> = (0..50).map(|i| format!("w{i}")).collect();
    let t0 = Instant::now();
    send_batch(&c, &url, &bodies, None).await;
    let reports = reports_until(&c, &out, 60, |r| distinct_bodies(r) >= 50).await;
    assert_eq!(distinct_bodies(&reports), 50);
    let sizes: Vec<usize> = reports.iter().map(|r| r["records"].as_array().unwrap().len()).collect();
    // Without a window 50 messages take at least 5 invocations; with it one poller at a time
    // gathers up to 50 for 2 s, so the burst fills one batch (two if the sends straddle it).
    assert!(sizes.len() <= 2, "50 messages sent at once, BatchSize 50, window 2 s → one or two invocations, got {sizes:?}");
    assert!(sizes.iter().any(|&s| s > 10), "a batch bigger than one receive: {sizes:?}");
    eprintln!("batch sizes {sizes:?} in {:?}", t0.elapsed());
}

#[tokio::test]
async fn maximum_concurrency_caps_concurrent_invocations() {
    let n = Nimbus::start_in_memory();
    let (lam, c) = (n.lambda_client(), n.sqs_client());
    let (url, arn) = queue(&c, "esm-src", &[]).await;
    let (out, _) = queue(&c, "esm-out", &[]).await;
    let f = recorder(&lam, &out, &[("SLEEP_MS", "1000")]).await;
    let uuid = lam
        .create_event_source_mapping()
        .event_source_arn(&arn)
        .function_name(&f)
        .batch_size(1)
        .scaling_config(ScalingConfig::builder().maximum_concurrency(2).build())
        .send()
        .await
        .expect("create")
        .uuid
        .unwrap();
    wait_enabled(&lam, &uuid).await;
    let bodies: Vec<String> = (0..8).map(|i| format!("c{i}")).collect();
    send_batch(&c, &url, &bodies, None).await;
    let reports = reports_until(&c, &out, 90, |r| distinct_bodies(r) >= 8).await;
    assert_eq!(distinct_bodies(&reports), 8);
    let max = max_overlap(&reports);
    let pids: HashSet<u64> = reports.iter().map(|r| r["pid"].as_u64().unwrap()).collect();
    assert!(max <= 2, "at most 2 concurrent invocations, saw {max}");
    assert!(pids.len() <= 2, "at most 2 environments, saw {}", pids.len());
    assert_eq!(max, 2, "two pollers do run concurrently");
}

/// The most invocations that ran at once: the max overlap of the reports' [start, end].
fn max_overlap(reports: &[Value]) -> i32 {
    let mut edges: Vec<(u64, i32)> = Vec::new();
    for r in reports {
        edges.push((r["start_ns"].as_u64().unwrap(), 1));
        edges.push((r["end_ns"].as_u64().unwrap(), -1));
    }
    edges.sort();
    let (mut cur, mut max) = (0, 0);
    for (_, d) in edges {
        cur += d;
        max = max.max(cur);
    }
    max
}

/// With a backlog, pollers scale past the first five (AWS adds pollers while batches
/// come back full), up to the function's reserved concurrency; nothing is lost.
#[tokio::test]
async fn pollers_scale_up_with_a_backlog_to_the_reserved_concurrency() {
    let n = Nimbus::start_in_memory();
    let (lam, c) = (n.lambda_client(), n.sqs_client());
    let (url, arn) = queue(&c, "esm-src", &[]).await;
    let (out, _) = queue(&c, "esm-out", &[]).await;
    let f = recorder(&lam, &out, &[("SLEEP_MS", "300")]).await;
    lam.put_function_concurrency().function_name(&f).reserved_concurrent_executions(9).send().await.expect("reserve 9");
    let bodies: Vec<String> = (0..600).map(|i| format!("s{i}")).collect();
    send_batch(&c, &url, &bodies, None).await;
    let uuid = lam.create_event_source_mapping().event_source_arn(&arn).function_name(&f).batch_size(10).send().await.expect("create").uuid.unwrap();
    wait_enabled(&lam, &uuid).await;
    let reports = reports_until(&c, &out, 120, |r| distinct_bodies(r) >= 600).await;
    assert_eq!(distinct_bodies(&reports), 600, "every message processed");
    let max = max_overlap(&reports);
    assert!(max > 5, "more than the first five pollers ran at once, saw {max}");
    assert!(max <= 9, "never more than the reserved concurrency, saw {max}");
}

#[tokio::test]
async fn filter_criteria_drop_and_delete_unmatched_messages() {
    let n = Nimbus::start_in_memory();
    let (lam, c) = (n.lambda_client(), n.sqs_client());
    let (url, arn) = queue(&c, "esm-src", &[]).await;
    let (out, _) = queue(&c, "esm-out", &[]).await;
    let f = recorder(&lam, &out, &[]).await;
    let uuid = lam
        .create_event_source_mapping()
        .event_source_arn(&arn)
        .function_name(&f)
        .filter_criteria(
            FilterCriteria::builder()
                .filters(Filter::builder().pattern(r#"{"body": {"kind": ["order"], "total": [{"numeric": [">", 10]}]}}"#).build())
                .filters(Filter::builder().pattern(r#"{"messageAttributes": {"color": {"stringValue": ["red"]}}}"#).build())
                .build(),
        )
        .send()
        .await
        .expect("create")
        .uuid
        .unwrap();
    wait_enabled(&lam, &uuid).await;
    let attr = |v: &str| MessageAttributeValue::builder().data_type("String").string_value(v).build().unwrap();
    let send = |body: &'static str, color: Option<&'static str>| {
        let mut req = c.send_message().queue_url(&url).message_body(body);
        if let Some(col) = color {
            req = req.message_attributes("color", attr(col));
        }
        req.send()
    };
    send(r#"{"kind":"order","total":42}"#, None).await.unwrap();
    send(r#"{"kind":"order","total":5}"#, None).await.unwrap();
    send(r#"{"kind":"refund","total":42}"#, None).await.unwrap();
    send("plain text red", Some("red")).await.unwrap();
    send("plain text blue", Some("blue")).await.unwrap();
    send("plain text none", None).await.unwrap();
    wait_depth(&c, &url, 0, 30).await;
    let reports = reports_until(&c, &out, 30, |r| distinct_bodies(r) >= 2).await;
    tokio::time::sleep(Duration::from_secs(1)).await;
    let late = reports_until(&c, &out, 2, |_| false).await;
    let mut got: Vec<String> = by_body(&reports).into_keys().collect();
    got.extend(by_body(&late).into_keys());
    got.sort();
    assert_eq!(got, vec!["plain text red".to_string(), r#"{"kind":"order","total":42}"#.to_string()]);
}

#[tokio::test]
async fn disable_enable_and_delete_control_delivery() {
    let n = Nimbus::start_in_memory();
    let (lam, c) = (n.lambda_client(), n.sqs_client());
    let (url, arn) = queue(&c, "esm-src", &[]).await;
    let (out, _) = queue(&c, "esm-out", &[]).await;
    let f = recorder(&lam, &out, &[]).await;
    let uuid = map(&lam, &arn, &f, false).await;
    wait_enabled(&lam, &uuid).await;
    sqs::send(&c, &url, "one").await;
    let r = reports_until(&c, &out, 60, |r| distinct_bodies(r) >= 1).await;
    assert_eq!(by_body(&r).into_keys().collect::<Vec<_>>(), ["one"]);

    lam.update_event_source_mapping().uuid(&uuid).enabled(false).send().await.expect("disable");
    sqs::send(&c, &url, "two").await;
    let r = reports_until(&c, &out, 3, |r| !r.is_empty()).await;
    assert!(r.is_empty(), "nothing delivered while disabled: {r:?}");
    assert_eq!(sqs::attr_num(&c, &url, QueueAttributeName::ApproximateNumberOfMessages).await, 1, "the message waits, visible");

    lam.update_event_source_mapping().uuid(&uuid).enabled(true).send().await.expect("enable");
    let r = reports_until(&c, &out, 30, |r| distinct_bodies(r) >= 1).await;
    assert_eq!(by_body(&r).into_keys().collect::<Vec<_>>(), ["two"]);
    wait_depth(&c, &url, 0, 10).await;

    // BatchSize update takes effect: 3 messages in one SendMessageBatch, BatchSize 1 → 3 invocations.
    lam.update_event_source_mapping().uuid(&uuid).batch_size(1).send().await.expect("batch 1");
    send_batch(&c, &url, &["b1".into(), "b2".into(), "b3".into()], None).await;
    let r = reports_until(&c, &out, 30, |r| distinct_bodies(r) >= 3).await;
    assert!(r.iter().all(|x| x["records"].as_array().unwrap().len() == 1), "BatchSize 1: {r:?}");

    lam.delete_event_source_mapping().uuid(&uuid).send().await.expect("delete");
    sqs::send(&c, &url, "three").await;
    let r = reports_until(&c, &out, 3, |r| !r.is_empty()).await;
    assert!(r.is_empty(), "nothing delivered after delete: {r:?}");
    assert_eq!(sqs::attr_num(&c, &url, QueueAttributeName::ApproximateNumberOfMessages).await, 1);
}

#[tokio::test]
async fn restart_mid_stream_keeps_the_mapping_and_loses_nothing() {
    let mut n = Nimbus::start();
    if n.is_external() {
        return;
    }
    let (lam, c) = (n.lambda_client(), n.sqs_client());
    let (url, arn) = queue(&c, "esm-src", &[(QueueAttributeName::VisibilityTimeout, "5")]).await;
    let (out, _) = queue(&c, "esm-out", &[]).await;
    let f = recorder(&lam, &out, &[("SLEEP_MS", "100")]).await;
    let uuid = map(&lam, &arn, &f, false).await;
    wait_enabled(&lam, &uuid).await;

    let first: Vec<String> = (0..30).map(|i| format!("before-{i}")).collect();
    send_batch(&c, &url, &first, None).await;
    // Some, not all, processed: then kill -9.
    let seen = reports_until(&c, &out, 60, |r| distinct_bodies(r) >= 3).await;
    assert!(distinct_bodies(&seen) >= 3);
    n.kill9();
    n.restart();
    let (lam, c) = (n.lambda_client(), n.sqs_client());
    let got = lam.get_event_source_mapping().uuid(&uuid).send().await.expect("the mapping survives kill -9");
    assert_eq!(got.state(), Some("Enabled"));
    assert_eq!(got.event_source_arn(), Some(arn.as_str()));
    let second: Vec<String> = (0..30).map(|i| format!("after-{i}")).collect();
    send_batch(&c, &url, &second, None).await;

    let all: HashSet<String> = first.iter().chain(second.iter()).cloned().collect();
    let mut bodies: HashSet<String> = by_body(&seen).into_keys().collect();
    let deadline = Instant::now() + Duration::from_secs(90);
    while !all.is_subset(&bodies) && Instant::now() < deadline {
        let more = reports_until(&c, &out, 2, |_| false).await;
        bodies.extend(by_body(&more).into_keys());
    }
    let missing: Vec<&String> = all.difference(&bodies).collect();
    assert!(missing.is_empty(), "every acknowledged message is delivered after the restart; missing {missing:?}");
    wait_depth(&c, &url, 0, 30).await;
}

/// A queue mapping whose function was deleted. AWS keeps the mapping (DeleteFunction: "To
/// delete Lambda event source mappings that invoke a function, use
/// DeleteEventSourceMapping") and reports no `LastProcessingResult` for SQS sources (its
/// recorded GetEventSourceMapping answers carry `State` and `StateTransitionReason:
/// USER_INITIATED` only); nimbus does not fail silently: the server log warns, naming the
/// mapping and the missing function. Disabling / enabling answer `Disabling` / `Enabling`
/// (UpdateEventSourceMapping's State).
#[tokio::test]
async fn a_queue_mapping_whose_function_was_deleted_is_reported_in_the_log() {
    let n = Nimbus::start_in_memory();
    let (lam, c) = (n.lambda_client(), n.sqs_client());
    let (url, arn) = queue(&c, "esm-gone", &[(QueueAttributeName::VisibilityTimeout, "5")]).await;
    let (out, _) = queue(&c, "esm-out", &[]).await;
    let f = recorder(&lam, &out, &[]).await;
    let uuid = lam.create_event_source_mapping().event_source_arn(&arn).function_name(&f).send().await.expect("create mapping").uuid.unwrap();
    lam.delete_function().function_name(&f).send().await.expect("delete function");
    send_batch(&c, &url, &[json!({"i": 0}).to_string()], None).await;

    let deadline = Instant::now() + Duration::from_secs(30);
    let warned = |log: &str| log.lines().any(|l| l.contains("event source mapping failing") && l.contains(&uuid));
    while !warned(&n.log_tail(1 << 20)) && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let log = n.log_tail(1 << 20);
    let line = log.lines().find(|l| l.contains("event source mapping failing") && l.contains(&uuid)).unwrap_or_else(|| panic!("no warning in:\n{log}"));
    assert!(line.contains("WARN") && line.contains(&format!("function:{f}")) && line.contains("was deleted"), "{line}");

    let got = lam.get_event_source_mapping().uuid(&uuid).send().await.expect("get");
    assert_eq!(got.state(), Some("Enabled"));
    assert_eq!(got.state_transition_reason(), Some("USER_INITIATED"));
    assert_eq!(got.last_processing_result(), None, "AWS shows none for SQS sources");
    let off = lam.update_event_source_mapping().uuid(&uuid).enabled(false).send().await.expect("disable");
    assert_eq!(off.state(), Some("Disabling"));
    let on = lam.update_event_source_mapping().uuid(&uuid).enabled(true).send().await.expect("enable");
    assert_eq!(on.state(), Some("Enabling"));
}
