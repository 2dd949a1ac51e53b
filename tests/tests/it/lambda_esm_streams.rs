//! Event source mappings from DynamoDB Streams to Lambda functions, through the AWS SDK
//! for Rust: in-order delivery, BisectBatchOnFunctionError, MaximumRetryAttempts and the
//! SQS on-failure destination (AWS's failure record with DDBStreamBatchInfo),
//! ReportBatchItemFailures, MaximumRecordAgeInSeconds (with the clock advanced),
//! StartingPosition LATEST / TRIM_HORIZON, durable checkpoints across kill -9, filter
//! criteria, validation, the event's shape, tumbling windows and ParallelizationFactor.
//!
//! The function is `tests/functions/python/streams.py`: it forwards one message per
//! record ({"pk","seq","event","batch"}) to a FIFO output queue (so the order it sent in
//! is the order the test reads), and raises (or, with PARTIAL=1, reports a batch item
//! failure) on a record whose NewImage has v = "poison".
//!
//! Batches are made deterministic by writing the items before creating the mapping
//! (TRIM_HORIZON): the first read then finds them all.

use aws_sdk_dynamodb::types::AttributeValue as AV;
use aws_sdk_dynamodb::types::StreamViewType;
use aws_sdk_lambda::types::{EventSourcePosition, Filter, FilterCriteria, FunctionResponseType};
use nimbus_tests::lambda::{self, expect_err, FnSpec};
use nimbus_tests::esm::{self, key, on_failure, seq_of};
use nimbus_tests::Nimbus;
use serde_json::{json, Value};
use std::collections::HashMap;
use std::time::{Duration, Instant};

type Ddb = aws_sdk_dynamodb::Client;
type Sqs = aws_sdk_sqs::Client;

fn s(v: &str) -> AV {
    AV::S(v.into())
}

async fn put(c: &Ddb, t: &str, pk: &str, v: &str) {
    c.put_item().table_name(t).item("pk", s(pk)).item("v", s(v)).send().await.expect("put_item");
}

/// Puts `k00`..`k{n-1}` in order, `v = "poison"` at the given indexes, else "ok".
async fn put_range(c: &Ddb, t: &str, from: usize, to: usize, poison: &[usize]) {
    for i in from..to {
        put(c, t, &key(i), if poison.contains(&i) { "poison" } else { "ok" }).await;
    }
}

fn pks(fwd: &[Value]) -> Vec<String> {
    fwd.iter().map(|v| v["pk"].as_str().unwrap().to_string()).collect()
}

/// Forwarded records are in strictly increasing sequence order (so no duplicates).
#[track_caller]
fn assert_in_order(fwd: &[Value]) {
    let seqs: Vec<u128> = fwd.iter().map(|v| v["seq"].as_str().unwrap().parse().unwrap()).collect();
    assert!(seqs.windows(2).all(|w| w[0] < w[1]), "not in sequence order (or repeated): {:?}", pks(fwd));
}

fn keys(range: impl IntoIterator<Item = usize>, skip: &[usize]) -> Vec<String> {
    range.into_iter().filter(|i| !skip.contains(i)).map(key).collect()
}

/// Checks AWS's on-failure record for a DynamoDB stream batch.
#[track_caller]
fn assert_failure_record(f: &Value, condition: &str, stream_arn: &str, start: &str, end: &str, size: u64) {
    assert_eq!(f["requestContext"]["condition"], json!(condition), "condition in {f:#}");
    let info = &f["DDBStreamBatchInfo"];
    assert_eq!(info["startSequenceNumber"], json!(start), "start in {f:#}");
    assert_eq!(info["endSequenceNumber"], json!(end), "end in {f:#}");
    assert_eq!(info["batchSize"], json!(size), "batchSize in {f:#}");
    assert_eq!(info["streamArn"], json!(stream_arn), "streamArn in {f:#}");
    assert!(info["shardId"].as_str().is_some_and(|s| !s.is_empty()), "shardId in {f:#}");
    for k in ["approximateArrivalOfFirstRecord", "approximateArrivalOfLastRecord"] {
        assert!(info[k].as_str().is_some_and(|s| s.len() >= 20 && s.contains('T')), "{k} in {f:#}");
    }
    assert!(f["requestContext"]["functionArn"].as_str().is_some_and(|a| a.starts_with("arn:aws:lambda:")), "functionArn in {f:#}");
    assert!(f["requestContext"]["approximateInvokeCount"].as_u64().is_some_and(|n| n >= 1), "approximateInvokeCount in {f:#}");
    assert!(f["timestamp"].is_string(), "timestamp in {f:#}");
}

/// 1. BatchSize 10, bisect, one retry, on-failure queue; 20 items with a poison in the
/// middle: every good record exactly once, in order; the poison alone in the failure
/// record; the shard moves on.
#[tokio::test]
async fn bisect_isolates_the_poison_record() {
    let n = Nimbus::start();
    let (c, lam, q) = (n.dynamodb_client(), n.lambda_client(), n.sqs_client());
    let (t, stream) = esm::stream_table(&c, StreamViewType::NewImage).await;
    let (out, _) = esm::queue_of_kind(&q, "out", true).await;
    let (dlq, dlq_arn) = esm::queue_of_kind(&q, "fail", false).await;
    let f = esm::forwarder(&lam, "esms-py", "streams.handler", &out, &[]).await;
    put_range(&c, &t, 0, 20, &[12]).await;
    let seqs = esm::stream_records(&n, &stream).await.1;
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

    let fwd = esm::collect(&q, &out, 19, 90).await;
    assert_eq!(pks(&fwd), keys(0..20, &[12]), "forwarded records");
    assert_in_order(&fwd);
    let fails = esm::collect(&q, &dlq, 1, 30).await;
    assert_eq!(fails.len(), 1, "one failure record");
    let poison = seq_of(&seqs, "k12");
    assert_failure_record(&fails[0], "RetryAttemptsExhausted", &stream, &poison, &poison, 1);
    // Bisection does not use up retries: the poison alone ran 1 + MaximumRetryAttempts times.
    assert_eq!(fails[0]["requestContext"]["approximateInvokeCount"], json!(2), "{:#}", fails[0]);

    put(&c, &t, "later", "ok").await;
    let more = esm::collect(&q, &out, 1, 30).await;
    assert_eq!(pks(&more), vec!["later"], "a later put is still processed");
    assert_eq!(more[0]["batch"], json!(1));
    assert!(esm::extras(&q, &out, 2).await.is_empty(), "nothing delivered twice");
    assert!(esm::extras(&q, &dlq, 1).await.is_empty(), "no second failure record");
}

/// 2. No bisect, no retries: the whole batch holding the poison goes to the failure
/// queue; the batches around it are processed.
#[tokio::test]
async fn without_bisect_the_whole_batch_fails() {
    let n = Nimbus::start();
    let (c, lam, q) = (n.dynamodb_client(), n.lambda_client(), n.sqs_client());
    let (t, stream) = esm::stream_table(&c, StreamViewType::NewImage).await;
    let (out, _) = esm::queue_of_kind(&q, "out", true).await;
    let (dlq, dlq_arn) = esm::queue_of_kind(&q, "fail", false).await;
    let f = esm::forwarder(&lam, "esms-py", "streams.handler", &out, &[]).await;
    put_range(&c, &t, 0, 25, &[12]).await;
    let seqs = esm::stream_records(&n, &stream).await.1;
    lam.create_event_source_mapping()
        .function_name(&f)
        .event_source_arn(&stream)
        .starting_position(EventSourcePosition::TrimHorizon)
        .batch_size(10)
        .maximum_retry_attempts(0)
        .destination_config(on_failure(&dlq_arn))
        .send()
        .await
        .expect("create mapping");

    let fwd = esm::collect(&q, &out, 15, 90).await;
    assert_eq!(pks(&fwd), keys((0..10).chain(20..25), &[]), "batches 1 and 3 forwarded");
    assert_in_order(&fwd);
    assert!(fwd[..10].iter().all(|v| v["batch"] == json!(10)), "first batch of 10: {fwd:?}");
    assert!(fwd[10..].iter().all(|v| v["batch"] == json!(5)), "last batch of 5: {fwd:?}");
    let fails = esm::collect(&q, &dlq, 1, 30).await;
    assert_eq!(fails.len(), 1, "one failure record");
    assert_failure_record(&fails[0], "RetryAttemptsExhausted", &stream, &seq_of(&seqs, "k10"), &seq_of(&seqs, "k19"), 10);
    assert_eq!(fails[0]["requestContext"]["approximateInvokeCount"], json!(1), "{:#}", fails[0]);
    assert!(esm::extras(&q, &out, 2).await.is_empty(), "nothing else forwarded");
}

/// 3. ReportBatchItemFailures (with bisection): the records before the poison once, the
/// poison retried alone until its retries are used up, the records after it once.
#[tokio::test]
async fn report_batch_item_failures_resumes_at_the_failed_record() {
    let n = Nimbus::start();
    let (c, lam, q) = (n.dynamodb_client(), n.lambda_client(), n.sqs_client());
    let (t, stream) = esm::stream_table(&c, StreamViewType::NewImage).await;
    let (out, _) = esm::queue_of_kind(&q, "out", true).await;
    let (trace, _) = esm::queue_of_kind(&q, "trace", false).await;
    let (dlq, dlq_arn) = esm::queue_of_kind(&q, "fail", false).await;
    let f = esm::forwarder(&lam, "esms-py", "streams.handler", &out, &[("PARTIAL", "1"), ("TRACE_URL", &trace)]).await;
    put_range(&c, &t, 0, 15, &[4]).await;
    let seqs = esm::stream_records(&n, &stream).await.1;
    lam.create_event_source_mapping()
        .function_name(&f)
        .event_source_arn(&stream)
        .starting_position(EventSourcePosition::TrimHorizon)
        .batch_size(10)
        .bisect_batch_on_function_error(true)
        .maximum_retry_attempts(2)
        .function_response_types(FunctionResponseType::ReportBatchItemFailures)
        .destination_config(on_failure(&dlq_arn))
        .send()
        .await
        .expect("create mapping");

    let fwd = esm::collect(&q, &out, 14, 90).await;
    assert_eq!(pks(&fwd), keys(0..15, &[4]), "forwarded records");
    assert_in_order(&fwd);
    assert!(fwd[..4].iter().all(|v| v["batch"] == json!(10)), "k00..k03 in the first invocation: {fwd:?}");
    let fails = esm::collect(&q, &dlq, 1, 30).await;
    assert_eq!(fails.len(), 1, "one failure record");
    let poison = seq_of(&seqs, "k04");
    assert_failure_record(&fails[0], "RetryAttemptsExhausted", &stream, &poison, &poison, 1);
    // The last invocation answered normally (a reported item failure, not a function error).
    let rc = &fails[0]["responseContext"];
    assert_eq!((rc["statusCode"].as_u64(), rc["executedVersion"].as_str()), (Some(200), Some("$LATEST")), "{rc}");
    assert!(rc.get("functionError").is_none(), "no function error in {rc}");

    // The invocations: the poison alone 1 + MaximumRetryAttempts times.
    let traces = esm::extras(&q, &trace, 2).await;
    let alone = traces.iter().filter(|t| t["seqs"] == json!([poison])).count();
    assert_eq!(alone, 3, "invocations of the poison alone; all invocations: {traces:?}");
    let with_first = traces.iter().filter(|t| t["seqs"][0] == json!(seq_of(&seqs, "k00"))).count();
    assert_eq!(with_first, 1, "the records before the poison were not retried: {traces:?}");
    assert!(esm::extras(&q, &out, 1).await.is_empty(), "nothing delivered twice");
}

/// 4. MaximumRecordAgeInSeconds: a batch that keeps failing is discarded once its
/// oldest record is older than the limit (the server's clock advanced 61 s).
#[tokio::test]
async fn record_age_exceeded_goes_to_the_failure_queue() {
    let n = Nimbus::start_with_clock_control();
    let (c, lam, q) = (n.dynamodb_client(), n.lambda_client(), n.sqs_client());
    let (t, stream) = esm::stream_table(&c, StreamViewType::NewImage).await;
    let (out, _) = esm::queue_of_kind(&q, "out", true).await;
    let (trace, _) = esm::queue_of_kind(&q, "trace", false).await;
    let (dlq, dlq_arn) = esm::queue_of_kind(&q, "fail", false).await;
    let f = esm::forwarder(&lam, "esms-py", "streams.handler", &out, &[("TRACE_URL", &trace)]).await;
    put(&c, &t, "bad", "poison").await;
    let seqs = esm::stream_records(&n, &stream).await.1;
    lam.create_event_source_mapping()
        .function_name(&f)
        .event_source_arn(&stream)
        .starting_position(EventSourcePosition::TrimHorizon)
        .maximum_record_age_in_seconds(60)
        .destination_config(on_failure(&dlq_arn))
        .send()
        .await
        .expect("create mapping");

    // Retries forever (MaximumRetryAttempts defaults to -1) until the record is too old.
    let first = esm::collect(&q, &trace, 2, 60).await;
    assert!(first.len() >= 2, "the poison batch is retried: {first:?}");
    assert!(esm::collect(&q, &dlq, 1, 1).await.is_empty(), "not discarded before it is 60 s old");
    assert_ne!(n.advance_clock(61), 404, "the clock endpoint is enabled");
    let fails = esm::collect(&q, &dlq, 1, 30).await;
    assert_eq!(fails.len(), 1, "one failure record");
    let bad = seq_of(&seqs, "bad");
    assert_failure_record(&fails[0], "RecordAgeExceeded", &stream, &bad, &bad, 1);

    put(&c, &t, "later", "ok").await;
    let fwd = esm::collect(&q, &out, 1, 30).await;
    assert_eq!(pks(&fwd), vec!["later"], "the shard moved on");
}

/// 5. LATEST starts after what the stream held when the mapping was created;
/// TRIM_HORIZON at its oldest record.
#[tokio::test]
async fn starting_position_latest_and_trim_horizon() {
    let n = Nimbus::start();
    let (c, lam, q) = (n.dynamodb_client(), n.lambda_client(), n.sqs_client());
    let (t, stream) = esm::stream_table(&c, StreamViewType::NewImage).await;
    let (out_latest, _) = esm::queue_of_kind(&q, "latest", true).await;
    let (out_trim, _) = esm::queue_of_kind(&q, "trim", true).await;
    let f_latest = esm::forwarder(&lam, "esms-py", "streams.handler", &out_latest, &[]).await;
    let f_trim = esm::forwarder(&lam, "esms-py", "streams.handler", &out_trim, &[]).await;
    put_range(&c, &t, 0, 3, &[]).await;
    for (f, pos) in [(&f_latest, EventSourcePosition::Latest), (&f_trim, EventSourcePosition::TrimHorizon)] {
        lam.create_event_source_mapping().function_name(f).event_source_arn(&stream).starting_position(pos).send().await.expect("create mapping");
    }
    put_range(&c, &t, 3, 5, &[]).await;
    let trim = esm::collect(&q, &out_trim, 5, 60).await;
    assert_eq!(pks(&trim), keys(0..5, &[]), "TRIM_HORIZON");
    assert_in_order(&trim);
    let latest = esm::collect(&q, &out_latest, 2, 60).await;
    assert_eq!(pks(&latest), keys(3..5, &[]), "LATEST");
    assert!(esm::extras(&q, &out_latest, 2).await.is_empty(), "LATEST skipped the older records");
    assert!(esm::extras(&q, &out_trim, 1).await.is_empty());
}

/// 6. Checkpoints survive kill -9: after the restart the mapping resumes after the last
/// finished batch — nothing skipped, nothing finished delivered again.
#[tokio::test]
async fn checkpoint_survives_kill9() {
    let mut n = Nimbus::start();
    let (out, stream, t) = {
        let (c, lam, q) = (n.dynamodb_client(), n.lambda_client(), n.sqs_client());
        let (t, stream) = esm::stream_table(&c, StreamViewType::NewImage).await;
        let (out, _) = esm::queue_of_kind(&q, "out", true).await;
        let f = esm::forwarder(&lam, "esms-py", "streams.handler", &out, &[]).await;
        lam.create_event_source_mapping()
            .function_name(&f)
            .event_source_arn(&stream)
            .starting_position(EventSourcePosition::TrimHorizon)
            .batch_size(3)
            .send()
            .await
            .expect("create mapping");
        put_range(&c, &t, 0, 6, &[]).await;
        let fwd = esm::collect(&q, &out, 6, 60).await;
        assert_eq!(pks(&fwd), keys(0..6, &[]), "before the restart");
        assert_in_order(&fwd);
        // Let the last batch's checkpoint reach the store.
        tokio::time::sleep(Duration::from_millis(1000)).await;
        (out, stream, t)
    };
    n.kill9();
    n.restart();
    let (c, q) = (n.dynamodb_client(), n.sqs_client());
    put_range(&c, &t, 6, 10, &[]).await;
    let fwd = esm::collect(&q, &out, 4, 60).await;
    assert_eq!(pks(&fwd), keys(6..10, &[]), "after the restart: the new records only, none skipped");
    assert_in_order(&fwd);
    assert!(esm::extras(&q, &out, 2).await.is_empty(), "no record delivered twice");
    let seqs = esm::stream_records(&n, &stream).await.1;
    assert_eq!(fwd[0]["seq"], json!(seq_of(&seqs, "k06")));
}

/// 6b. A batch still running when the server is killed is delivered again after the
/// restart (at least once), and nothing after it is skipped.
#[tokio::test]
async fn unfinished_batch_is_redelivered_after_kill9() {
    let mut n = Nimbus::start();
    let (out, trace, t) = {
        let (c, lam, q) = (n.dynamodb_client(), n.lambda_client(), n.sqs_client());
        let (t, stream) = esm::stream_table(&c, StreamViewType::NewImage).await;
        let (out, _) = esm::queue_of_kind(&q, "out", true).await;
        let (trace, _) = esm::queue_of_kind(&q, "trace", false).await;
        let f = esm::forwarder(&lam, "esms-py", "streams.handler", &out, &[("TRACE_URL", &trace), ("SLEEP_MS", "3000")]).await;
        put_range(&c, &t, 0, 3, &[]).await;
        lam.create_event_source_mapping()
            .function_name(&f)
            .event_source_arn(&stream)
            .starting_position(EventSourcePosition::TrimHorizon)
            .send()
            .await
            .expect("create mapping");
        // The invocation has started (and sleeps 3 s before forwarding): kill it mid-batch.
        let started = esm::collect(&q, &trace, 1, 60).await;
        assert_eq!(started.len(), 1, "the first batch started");
        assert_eq!(started[0]["seqs"].as_array().map(Vec::len), Some(3));
        (out, trace, t)
    };
    n.kill9();
    n.restart();
    let (c, q) = (n.dynamodb_client(), n.sqs_client());
    put(&c, &t, &key(3), "ok").await;
    let deadline = Instant::now() + Duration::from_secs(60);
    let mut fwd: Vec<Value> = Vec::new();
    while Instant::now() < deadline && !pks(&fwd).contains(&key(3)) {
        fwd.extend(esm::collect(&q, &out, 1, 1).await);
    }
    fwd.extend(esm::extras(&q, &out, 2).await);
    // The killed invocation's process may still finish its sends to the restarted server,
    // so a record of the unfinished batch can arrive twice; but every record arrives, and
    // the first arrivals are in order.
    let mut first_seen: Vec<String> = Vec::new();
    let mut counts: HashMap<String, usize> = HashMap::new();
    for p in pks(&fwd) {
        if !first_seen.contains(&p) {
            first_seen.push(p.clone());
        }
        *counts.entry(p).or_default() += 1;
    }
    assert_eq!(first_seen, keys(0..4, &[]), "every record, none skipped: {:?}", pks(&fwd));
    assert!(counts.values().all(|&c| c <= 2), "at most the killed run and the redelivery: {counts:?}");
    assert_eq!(counts[&key(3)], 1, "the record after the unfinished batch once");
    let traces = esm::extras(&q, &trace, 1).await;
    assert!(!traces.is_empty(), "the unfinished batch was invoked again after the restart");
}

/// Updating a mapping while a batch is running restarts its poller, but the shard still
/// runs one batch at a time: the running batch is not started a second time.
#[tokio::test]
async fn update_during_a_batch_does_not_run_it_twice() {
    let n = Nimbus::start();
    let (c, lam, q) = (n.dynamodb_client(), n.lambda_client(), n.sqs_client());
    let (t, stream) = esm::stream_table(&c, StreamViewType::NewImage).await;
    let (out, _) = esm::queue_of_kind(&q, "out", true).await;
    let (trace, _) = esm::queue_of_kind(&q, "trace", false).await;
    let f = esm::forwarder(&lam, "esms-py", "streams.handler", &out, &[("TRACE_URL", &trace), ("SLEEP_MS", "2000")]).await;
    put_range(&c, &t, 0, 5, &[]).await;
    let uuid = lam
        .create_event_source_mapping()
        .function_name(&f)
        .event_source_arn(&stream)
        .starting_position(EventSourcePosition::TrimHorizon)
        .send()
        .await
        .expect("create mapping")
        .uuid
        .unwrap();
    let started = esm::collect(&q, &trace, 1, 60).await;
    assert_eq!(started.len(), 1, "the first batch started");
    lam.update_event_source_mapping().uuid(&uuid).maximum_retry_attempts(3).send().await.expect("update");
    put_range(&c, &t, 5, 7, &[]).await;
    let fwd = esm::collect(&q, &out, 7, 60).await;
    let fwd = [fwd, esm::extras(&q, &out, 3).await].concat();
    assert_eq!(pks(&fwd), keys(0..7, &[]), "every record once, in order");
    let traces = [started, esm::extras(&q, &trace, 1).await].concat();
    let first = traces.iter().filter(|t| t["seqs"].as_array().map(Vec::len) == Some(5)).count();
    assert_eq!(first, 1, "the first batch ran once: {traces:?}");
}

/// Disabling stops delivery; enabling again resumes at the checkpoint.
#[tokio::test]
async fn disable_and_enable_resume_at_the_checkpoint() {
    let n = Nimbus::start();
    let (c, lam, q) = (n.dynamodb_client(), n.lambda_client(), n.sqs_client());
    let (t, stream) = esm::stream_table(&c, StreamViewType::NewImage).await;
    let (out, _) = esm::queue_of_kind(&q, "out", true).await;
    let f = esm::forwarder(&lam, "esms-py", "streams.handler", &out, &[]).await;
    let uuid = lam
        .create_event_source_mapping()
        .function_name(&f)
        .event_source_arn(&stream)
        .starting_position(EventSourcePosition::Latest)
        .send()
        .await
        .expect("create mapping")
        .uuid
        .unwrap();
    put_range(&c, &t, 0, 2, &[]).await;
    assert_eq!(pks(&esm::collect(&q, &out, 2, 60).await), keys(0..2, &[]));
    lam.update_event_source_mapping().uuid(&uuid).enabled(false).send().await.expect("disable");
    put_range(&c, &t, 2, 4, &[]).await;
    assert!(esm::extras(&q, &out, 2).await.is_empty(), "nothing delivered while disabled");
    lam.update_event_source_mapping().uuid(&uuid).enabled(true).send().await.expect("enable");
    let fwd = esm::collect(&q, &out, 2, 60).await;
    assert_eq!(pks(&fwd), keys(2..4, &[]), "resumed after the last delivered record");
    assert!(esm::extras(&q, &out, 1).await.is_empty());
}

/// Filter criteria: records that match no pattern are skipped (and checkpointed).
#[tokio::test]
async fn filter_criteria_on_stream_records() {
    let n = Nimbus::start();
    let (c, lam, q) = (n.dynamodb_client(), n.lambda_client(), n.sqs_client());
    let (t, stream) = esm::stream_table(&c, StreamViewType::NewImage).await;
    let (out, _) = esm::queue_of_kind(&q, "out", true).await;
    let f = esm::forwarder(&lam, "esms-py", "streams.handler", &out, &[]).await;
    for (i, v) in ["keep", "drop", "keep", "drop", "keep"].iter().enumerate() {
        put(&c, &t, &key(i), v).await;
    }
    c.delete_item().table_name(&t).key("pk", s("k00")).send().await.unwrap();
    lam.create_event_source_mapping()
        .function_name(&f)
        .event_source_arn(&stream)
        .starting_position(EventSourcePosition::TrimHorizon)
        .filter_criteria(FilterCriteria::builder().filters(Filter::builder().pattern(r#"{"eventName":["INSERT"],"dynamodb":{"NewImage":{"v":{"S":["keep"]}}}}"#).build()).build())
        .send()
        .await
        .expect("create mapping");
    let fwd = esm::collect(&q, &out, 3, 60).await;
    assert_eq!(pks(&fwd), vec!["k00", "k02", "k04"]);
    assert!(fwd.iter().all(|v| v["event"] == json!("INSERT")));
    assert!(esm::extras(&q, &out, 2).await.is_empty(), "filtered records are not delivered");
}

/// 7. Validation and the stream settings in Get / List.
#[tokio::test]
async fn validation_and_settings() {
    let n = Nimbus::start_in_memory();
    let (c, lam, q) = (n.dynamodb_client(), n.lambda_client(), n.sqs_client());
    let (_t, stream) = esm::stream_table(&c, StreamViewType::NewAndOldImages).await;
    let (out, dlq_arn) = esm::queue_of_kind(&q, "fail", false).await;
    let f = esm::forwarder(&lam, "esms-py", "streams.handler", &out, &[]).await;
    let base = || lam.create_event_source_mapping().function_name(&f).event_source_arn(&stream);

    let r = base().send().await;
    let err = r.expect_err("StartingPosition is required");
    use aws_sdk_lambda::error::ProvideErrorMetadata;
    assert!(matches!(err.code(), Some("InvalidParameterValueException") | Some("ValidationException")), "missing StartingPosition: {err:?}");

    let ts = aws_sdk_lambda::primitives::DateTime::from_secs(1_700_000_000);
    expect_err(base().starting_position(EventSourcePosition::AtTimestamp).starting_position_timestamp(ts).send().await, "InvalidParameterValueException", Some(400));
    expect_err(base().starting_position(EventSourcePosition::Latest).maximum_retry_attempts(10_001).send().await, "ValidationException", Some(400));
    expect_err(base().starting_position(EventSourcePosition::Latest).maximum_retry_attempts(-2).send().await, "ValidationException", Some(400));
    expect_err(base().starting_position(EventSourcePosition::Latest).maximum_record_age_in_seconds(59).send().await, "ValidationException", Some(400));
    expect_err(base().starting_position(EventSourcePosition::Latest).maximum_record_age_in_seconds(604_801).send().await, "ValidationException", Some(400));
    expect_err(base().starting_position(EventSourcePosition::Latest).parallelization_factor(11).send().await, "ValidationException", Some(400));
    expect_err(base().starting_position(EventSourcePosition::Latest).tumbling_window_in_seconds(901).send().await, "ValidationException", Some(400));
    expect_err(base().starting_position(EventSourcePosition::Latest).tumbling_window_in_seconds(-1).send().await, "ValidationException", Some(400));
    let missing = format!("{}-gone/stream/2024-01-01T00:00:00.000", stream.split("/stream/").next().unwrap());
    expect_err(
        lam.create_event_source_mapping().function_name(&f).event_source_arn(&missing).starting_position(EventSourcePosition::Latest).send().await,
        "InvalidParameterValueException",
        Some(400),
    );
    // Nothing was created by the failed calls.
    let listed = lam.list_event_source_mappings().event_source_arn(&stream).send().await.unwrap();
    assert!(listed.event_source_mappings().is_empty(), "{listed:?}");

    let created = base()
        .starting_position(EventSourcePosition::TrimHorizon)
        .bisect_batch_on_function_error(true)
        .maximum_retry_attempts(5)
        .maximum_record_age_in_seconds(120)
        .parallelization_factor(4)
        .tumbling_window_in_seconds(120)
        .destination_config(on_failure(&dlq_arn))
        .send()
        .await
        .expect("create mapping");
    let uuid = created.uuid().unwrap().to_string();
    assert_eq!(created.batch_size(), Some(100), "default BatchSize for streams");
    let g = lam.get_event_source_mapping().uuid(&uuid).send().await.unwrap();
    assert_eq!(g.starting_position(), Some(&EventSourcePosition::TrimHorizon));
    assert_eq!(g.bisect_batch_on_function_error(), Some(true));
    assert_eq!(g.maximum_retry_attempts(), Some(5));
    assert_eq!(g.maximum_record_age_in_seconds(), Some(120));
    assert_eq!(g.parallelization_factor(), Some(4));
    assert_eq!(g.tumbling_window_in_seconds(), Some(120));
    assert_eq!(g.event_source_arn(), Some(stream.as_str()));
    assert_eq!(g.batch_size(), Some(100));
    assert_eq!(g.destination_config().and_then(|d| d.on_failure()).and_then(|o| o.destination()), Some(dlq_arn.as_str()));

    // Update validates the same way and keeps what it does not change.
    expect_err(lam.update_event_source_mapping().uuid(&uuid).maximum_retry_attempts(10_001).send().await, "ValidationException", Some(400));
    lam.update_event_source_mapping().uuid(&uuid).maximum_retry_attempts(-1).bisect_batch_on_function_error(false).send().await.expect("update");
    let g = lam.get_event_source_mapping().uuid(&uuid).send().await.unwrap();
    assert_eq!(g.maximum_retry_attempts(), Some(-1));
    assert_eq!(g.bisect_batch_on_function_error(), Some(false));
    assert_eq!(g.maximum_record_age_in_seconds(), Some(120));
    assert_eq!(g.destination_config().and_then(|d| d.on_failure()).and_then(|o| o.destination()), Some(dlq_arn.as_str()));
    let listed = lam.list_event_source_mappings().event_source_arn(&stream).send().await.unwrap();
    assert_eq!(listed.event_source_mappings().len(), 1);
    assert_eq!(listed.event_source_mappings()[0].starting_position(), Some(&EventSourcePosition::TrimHorizon));
}

/// 8. The event: AWS's DynamoDB Streams record shape, one record per change.
#[tokio::test]
async fn event_shape() {
    let n = Nimbus::start();
    let (c, lam, q) = (n.dynamodb_client(), n.lambda_client(), n.sqs_client());
    let (t, stream) = esm::stream_table(&c, StreamViewType::NewImage).await;
    let (out, _) = esm::queue_of_kind(&q, "out", true).await;
    let (raw, _) = esm::queue_of_kind(&q, "raw", false).await;
    let f = esm::forwarder(&lam, "esms-py", "streams.handler", &out, &[("RAW_URL", &raw)]).await;
    put(&c, &t, "k1", "a").await;
    c.update_item().table_name(&t).key("pk", s("k1")).update_expression("SET v = :v").expression_attribute_values(":v", s("b")).send().await.unwrap();
    c.delete_item().table_name(&t).key("pk", s("k1")).send().await.unwrap();
    let seqs = esm::stream_records(&n, &stream).await.1;
    assert_eq!(seqs.len(), 3);
    lam.create_event_source_mapping()
        .function_name(&f)
        .event_source_arn(&stream)
        .starting_position(EventSourcePosition::TrimHorizon)
        .send()
        .await
        .expect("create mapping");
    let events = esm::collect(&q, &raw, 1, 60).await;
    assert_eq!(events.len(), 1, "one invocation");
    let records = events[0]["Records"].as_array().expect("Records");
    assert_eq!(records.len(), 3, "{:#}", events[0]);
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs_f64();
    let mut ids = std::collections::HashSet::new();
    for (i, (r, name)) in records.iter().zip(["INSERT", "MODIFY", "REMOVE"]).enumerate() {
        assert!(r["eventID"].as_str().is_some_and(|s| !s.is_empty()), "eventID: {r:#}");
        ids.insert(r["eventID"].as_str().unwrap().to_string());
        assert_eq!(r["eventName"], json!(name), "{r:#}");
        assert_eq!(r["eventVersion"], json!("1.1"), "{r:#}");
        assert_eq!(r["eventSource"], json!("aws:dynamodb"), "{r:#}");
        assert_eq!(r["awsRegion"], json!("us-east-1"), "{r:#}");
        assert_eq!(r["eventSourceARN"], json!(stream), "{r:#}");
        let d = &r["dynamodb"];
        assert_eq!(d["Keys"], json!({"pk": {"S": "k1"}}), "{r:#}");
        assert_eq!(d["SequenceNumber"], json!(seqs[i].1), "{r:#}");
        assert!(d["SizeBytes"].as_u64().is_some_and(|b| b > 0), "SizeBytes: {r:#}");
        assert_eq!(d["StreamViewType"], json!("NEW_IMAGE"), "{r:#}");
        let at = d["ApproximateCreationDateTime"].as_f64().expect("ApproximateCreationDateTime is a number");
        assert!((at - now).abs() < 120.0, "ApproximateCreationDateTime {at} vs now {now}");
        assert!(d.get("OldImage").is_none(), "NEW_IMAGE has no OldImage: {r:#}");
    }
    assert_eq!(ids.len(), 3, "distinct eventIDs");
    assert_eq!(records[0]["dynamodb"]["NewImage"], json!({"pk": {"S": "k1"}, "v": {"S": "a"}}));
    assert_eq!(records[1]["dynamodb"]["NewImage"], json!({"pk": {"S": "k1"}, "v": {"S": "b"}}));
    assert!(records[2]["dynamodb"].get("NewImage").is_none(), "REMOVE has no NewImage");
    assert!(records[0]["dynamodb"]["SizeBytes"].as_u64() > records[2]["dynamodb"]["SizeBytes"].as_u64(), "an image adds to SizeBytes");

    // And the forwarder saw the same three, in order, in one batch.
    let fwd = esm::collect(&q, &out, 3, 30).await;
    let evs: Vec<&str> = fwd.iter().map(|v| v["event"].as_str().unwrap()).collect();
    assert_eq!(evs, vec!["INSERT", "MODIFY", "REMOVE"]);
    assert!(fwd.iter().all(|v| v["batch"] == json!(3)));
}

/// Seconds since the epoch of an ISO-8601 UTC time as the window fields spell it.
fn epoch_secs(iso: &str) -> i64 {
    let dt = aws_sdk_lambda::primitives::DateTime::from_str(iso, aws_sdk_lambda::primitives::DateTimeFormat::DateTime).unwrap_or_else(|e| panic!("{iso}: {e}"));
    dt.secs()
}

/// Windowed reports (streams.py with WINDOW=1) until `done` says enough or `secs` pass.
async fn window_reports(c: &Sqs, url: &str, secs: u64, done: impl Fn(&[Value]) -> bool) -> Vec<Value> {
    let deadline = Instant::now() + Duration::from_secs(secs);
    let mut all = Vec::new();
    while !done(&all) && Instant::now() < deadline {
        all.extend(esm::collect(c, url, 1, 1).await);
    }
    all
}

fn count(v: &Value) -> u64 {
    v["state_in"]["count"].as_u64().unwrap_or(0)
}

/// 9. Tumbling windows: batches of one window carry the state the function returned
/// last; when the window's end passes (the clock moved 61 s), one final invocation with
/// no records and `isFinalInvokeForWindow` gets the whole window's state; the next
/// record opens a new window with a fresh state.
#[tokio::test]
async fn tumbling_window_carries_state_and_ends_with_a_final_invoke() {
    let n = Nimbus::start_with_clock_control();
    let (c, lam, q) = (n.dynamodb_client(), n.lambda_client(), n.sqs_client());
    let (t, stream) = esm::stream_table(&c, StreamViewType::NewImage).await;
    let (out, _) = esm::queue_of_kind(&q, "out", true).await;
    let f = esm::forwarder(&lam, "esms-py", "streams.handler", &out, &[("WINDOW", "1")]).await;
    put_range(&c, &t, 0, 5, &[]).await;
    lam.create_event_source_mapping()
        .function_name(&f)
        .event_source_arn(&stream)
        .starting_position(EventSourcePosition::TrimHorizon)
        .batch_size(2)
        .tumbling_window_in_seconds(60)
        .send()
        .await
        .expect("create mapping");

    let records_seen = |r: &[Value]| r.iter().map(|v| v["n"].as_u64().unwrap()).sum::<u64>();
    let mut reports = window_reports(&q, &out, 60, |r| records_seen(r) >= 5).await;
    assert_eq!(records_seen(&reports), 5, "all five records delivered: {reports:#?}");
    assert_ne!(n.advance_clock(61), 404, "the clock endpoint is enabled");
    let windows_open = |r: &[Value]| {
        let opened: std::collections::BTreeSet<String> = r.iter().map(|v| v["window"]["start"].to_string()).collect();
        let closed = r.iter().filter(|v| v["final"] == json!(true)).count();
        closed >= opened.len()
    };
    reports.extend(window_reports(&q, &out, 60, |r| windows_open(&reports.iter().chain(r).cloned().collect::<Vec<_>>())).await);

    // Per window (the five puts may straddle a minute boundary): state chains through
    // the window's batches, and its final invocation has no records and the total.
    let mut per_window: std::collections::BTreeMap<i64, Vec<&Value>> = Default::default();
    for r in &reports {
        let (start, end) = (epoch_secs(r["window"]["start"].as_str().unwrap()), epoch_secs(r["window"]["end"].as_str().unwrap()));
        assert_eq!(end - start, 60, "a 60 s window: {r:#}");
        assert_eq!(start % 60, 0, "windows are aligned to their length: {r:#}");
        assert_eq!(r["shard"].as_str().map(|s| s.starts_with("shardId-")), Some(true), "shardId: {r:#}");
        assert_eq!(r["arn"], json!(stream), "eventSourceARN: {r:#}");
        assert_eq!(r["early"], json!(false), "{r:#}");
        per_window.entry(start).or_default().push(r);
    }
    let mut total = 0;
    let mut delivered = Vec::new();
    for (start, rs) in &per_window {
        let mut running = 0;
        for r in &rs[..rs.len() - 1] {
            assert_eq!(r["final"], json!(false), "only the last invocation of window {start} is final: {rs:#?}");
            assert_eq!(count(r), running, "the state carried into this batch of window {start}: {rs:#?}");
            assert!(r["n"].as_u64().unwrap() <= 2, "BatchSize 2: {r:#}");
            running += r["n"].as_u64().unwrap();
            delivered.extend(r["pks"].as_array().unwrap().iter().map(|p| p.as_str().unwrap().to_string()));
        }
        let last = rs.last().unwrap();
        assert_eq!(last["final"], json!(true), "window {start} ends with its final invocation: {rs:#?}");
        assert_eq!(last["n"], json!(0), "the final invocation has no records: {last:#}");
        assert_eq!(count(last), running, "the final invocation has the window's whole state: {rs:#?}");
        total += running;
    }
    assert_eq!(total, 5);
    assert_eq!(delivered, keys(0..5, &[]), "records in order, each once");

    // A later record opens a new window with a fresh state.
    put(&c, &t, "later", "ok").await;
    let next = window_reports(&q, &out, 60, |r| !r.is_empty()).await;
    assert_eq!(next.len(), 1, "{next:#?}");
    assert!(epoch_secs(next[0]["window"]["start"].as_str().unwrap()) > *per_window.keys().last().unwrap(), "a new window: {:#}", next[0]);
    assert_eq!(next[0]["state_in"], json!({}), "fresh state: {:#}", next[0]);
    assert_eq!(next[0]["final"], json!(false));
}

/// 10. A windowed function that answers without a state has failed (AWS's rule): with
/// MaximumRetryAttempts 0 the batch goes straight to the on-failure destination.
#[tokio::test]
async fn tumbling_window_response_without_state_is_a_failure() {
    let n = Nimbus::start();
    let (c, lam, q) = (n.dynamodb_client(), n.lambda_client(), n.sqs_client());
    let (t, stream) = esm::stream_table(&c, StreamViewType::NewImage).await;
    let (out, _) = esm::queue_of_kind(&q, "out", true).await;
    let (dlq, dlq_arn) = esm::queue_of_kind(&q, "fail", false).await;
    let f = esm::forwarder(&lam, "esms-py", "streams.handler", &out, &[("WINDOW", "1"), ("NO_STATE", "1")]).await;
    put(&c, &t, "k1", "ok").await;
    let seqs = esm::stream_records(&n, &stream).await.1;
    lam.create_event_source_mapping()
        .function_name(&f)
        .event_source_arn(&stream)
        .starting_position(EventSourcePosition::TrimHorizon)
        .tumbling_window_in_seconds(300)
        .maximum_retry_attempts(0)
        .destination_config(on_failure(&dlq_arn))
        .send()
        .await
        .expect("create mapping");
    let fails = esm::collect(&q, &dlq, 1, 60).await;
    assert_eq!(fails.len(), 1, "the batch is discarded as failed");
    let k1 = seq_of(&seqs, "k1");
    assert_failure_record(&fails[0], "RetryAttemptsExhausted", &stream, &k1, &k1, 1);
}

/// 11. ParallelizationFactor 4: several batches of one shard run at once (more than one
/// execution environment), every record is processed once, and each key's records stay
/// in order.
#[tokio::test]
async fn parallelization_factor_runs_batches_concurrently_in_order_per_key() {
    let n = Nimbus::start();
    let (c, lam, q) = (n.dynamodb_client(), n.lambda_client(), n.sqs_client());
    let (t, stream) = esm::stream_table(&c, StreamViewType::NewImage).await;
    let (out, _) = esm::queue_of_kind(&q, "out", true).await;
    let f = esm::forwarder(&lam, "esms-py", "streams.handler", &out, &[("SLEEP_MS", "300")]).await;
    for round in 0..3 {
        for k in 0..8 {
            put(&c, &t, &key(k), &format!("ok-{round}")).await;
        }
    }
    let seqs = esm::stream_records(&n, &stream).await.1;
    assert_eq!(seqs.len(), 24);
    lam.create_event_source_mapping()
        .function_name(&f)
        .event_source_arn(&stream)
        .starting_position(EventSourcePosition::TrimHorizon)
        .batch_size(3)
        .parallelization_factor(4)
        .send()
        .await
        .expect("create mapping");
    let fwd = esm::collect(&q, &out, 24, 90).await;
    assert_eq!(fwd.len(), 24, "every record once: {fwd:#?}");
    let mut got: Vec<String> = fwd.iter().map(|v| v["seq"].as_str().unwrap().to_string()).collect();
    got.sort();
    let mut want: Vec<String> = seqs.iter().map(|(_, s)| s.clone()).collect();
    want.sort();
    assert_eq!(got, want, "exactly the stream's records");
    for k in 0..8 {
        let per_key: Vec<Value> = fwd.iter().filter(|v| v["pk"] == json!(key(k))).cloned().collect();
        assert_eq!(per_key.len(), 3, "{}", key(k));
        assert_in_order(&per_key);
    }
    assert!(fwd.iter().all(|v| v["batch"].as_u64().is_some_and(|b| b <= 3)), "BatchSize 3");
    let pids: std::collections::HashSet<u64> = fwd.iter().map(|v| v["pid"].as_u64().unwrap()).collect();
    assert!(pids.len() >= 2, "batches of the shard ran concurrently in several environments: {pids:?}");
    assert!(esm::extras(&q, &out, 1).await.is_empty());
}

/// 12. A tumbling window's state is stored with the checkpoint: after kill -9 the open
/// window goes on from its stored state, and its final invocation has all of it.
#[tokio::test]
async fn tumbling_window_state_survives_kill9() {
    let mut n = Nimbus::start_with_clock_control();
    let (out, t, first) = {
        let (c, lam, q) = (n.dynamodb_client(), n.lambda_client(), n.sqs_client());
        let (t, stream) = esm::stream_table(&c, StreamViewType::NewImage).await;
        let (out, _) = esm::queue_of_kind(&q, "out", true).await;
        let f = esm::forwarder(&lam, "esms-py", "streams.handler", &out, &[("WINDOW", "1")]).await;
        lam.create_event_source_mapping()
            .function_name(&f)
            .event_source_arn(&stream)
            .starting_position(EventSourcePosition::TrimHorizon)
            .batch_size(2)
            .tumbling_window_in_seconds(900)
            .send()
            .await
            .expect("create mapping");
        put_range(&c, &t, 0, 2, &[]).await;
        let first = window_reports(&q, &out, 60, |r| r.iter().map(|v| v["n"].as_u64().unwrap()).sum::<u64>() >= 2).await;
        assert_eq!(first.iter().map(|v| v["n"].as_u64().unwrap()).sum::<u64>(), 2, "{first:#?}");
        // Let the state reach the store.
        tokio::time::sleep(Duration::from_millis(1000)).await;
        (out, t, first)
    };
    n.kill9();
    n.restart();
    let (c, q) = (n.dynamodb_client(), n.sqs_client());
    let window_of = |v: &Value| v["window"]["start"].as_str().unwrap().to_string();
    let before = window_of(first.last().unwrap());
    put(&c, &t, "k02", "ok").await;
    let after = window_reports(&q, &out, 60, |r| r.iter().any(|v| v["n"] == json!(1) && v["pks"] == json!(["k02"]))).await;
    let k02 = after.iter().find(|v| v["pks"] == json!(["k02"])).expect("k02 delivered");
    if window_of(k02) == before {
        assert_eq!(count(k02), 2, "the window went on from its stored state: {after:#?}");
    } else {
        // The puts straddled a window boundary: the old window closed with its stored state.
        let closed = after.iter().find(|v| v["final"] == json!(true) && window_of(v) == before).expect("the old window's final invocation");
        assert_eq!(count(closed), 2, "{after:#?}");
    }
    assert_ne!(n.advance_clock(901), 404, "the clock endpoint is enabled after the restart");
    let finals = window_reports(&q, &out, 60, |r| r.iter().any(|v| v["final"] == json!(true) && window_of(v) == window_of(k02))).await;
    let last = finals.iter().find(|v| v["final"] == json!(true) && window_of(v) == window_of(k02)).expect("final invocation");
    assert_eq!(count(last), count(k02) + 1, "the final state has every record of the window: {finals:#?}");
}

/// `LastProcessingResult` as AWS reports it for stream mappings (recorded answers: "No
/// records processed" at creation, "OK" once a batch went through, `StateTransitionReason`
/// "User action"; "PROBLEM: Function call failed" when invocations fail, as in the
/// developer guide's with-ddb example), here with the mapping's function deleted: the
/// shard holds its records, the server log warns naming the missing function, and once a
/// function of that name exists again the held records flow and the result is "OK" again.
#[tokio::test]
async fn last_processing_result_reports_a_deleted_function() {
    let n = Nimbus::start();
    let (c, lam, q) = (n.dynamodb_client(), n.lambda_client(), n.sqs_client());
    let (t, stream) = esm::stream_table(&c, StreamViewType::NewImage).await;
    let (out, _) = esm::queue_of_kind(&q, "out", true).await;
    let f = esm::forwarder(&lam, "esms-py", "streams.handler", &out, &[]).await;
    let created = lam
        .create_event_source_mapping()
        .function_name(&f)
        .event_source_arn(&stream)
        .starting_position(EventSourcePosition::Latest)
        .send()
        .await
        .expect("create mapping");
    assert_eq!(created.last_processing_result(), Some("No records processed"));
    assert_eq!(created.state_transition_reason(), Some("User action"));
    let uuid = created.uuid.unwrap();
    let result_becomes = |want: &'static str| {
        let (lam, uuid) = (lam.clone(), uuid.clone());
        async move {
            let deadline = Instant::now() + Duration::from_secs(60);
            loop {
                let got = lam.get_event_source_mapping().uuid(&uuid).send().await.expect("get mapping");
                if got.last_processing_result() == Some(want) || Instant::now() > deadline {
                    return got;
                }
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        }
    };

    put_range(&c, &t, 0, 2, &[]).await;
    assert_eq!(pks(&esm::collect(&q, &out, 2, 60).await), keys(0..2, &[]));
    assert_eq!(result_becomes("OK").await.last_processing_result(), Some("OK"));

    lam.delete_function().function_name(&f).send().await.expect("delete function");
    put_range(&c, &t, 2, 3, &[]).await;
    let got = result_becomes("PROBLEM: Function call failed").await;
    assert_eq!(got.last_processing_result(), Some("PROBLEM: Function call failed"));
    assert_eq!(got.state(), Some("Enabled"), "AWS keeps the mapping of a deleted function");
    let log = n.log_tail(1 << 20);
    let line = log.lines().find(|l| l.contains("event source mapping failing") && l.contains(&uuid)).unwrap_or_else(|| panic!("no warning in:\n{log}"));
    assert!(line.contains("WARN") && line.contains(&format!("function:{f}")) && line.contains("was deleted"), "{line}");

    lambda::create(&lam, &f, FnSpec::python("streams.handler").env("OUT_URL", &out).timeout(30)).await;
    assert_eq!(pks(&esm::collect(&q, &out, 1, 60).await), keys(2..3, &[]), "the held record, once the function exists again");
    assert_eq!(result_becomes("OK").await.last_processing_result(), Some("OK"));
    assert!(n.log_tail(1 << 20).contains("event source mapping recovered"));
}
