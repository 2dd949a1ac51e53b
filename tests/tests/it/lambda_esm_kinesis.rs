//! Event source mappings from Kinesis data streams to Lambda functions, through the AWS
//! SDK for Rust: the seed-001 story on Kinesis (a poison record isolated by bisection,
//! the good records processed in order, the poison batch's KinesisBatchInfo on the
//! on-failure queue), ReportBatchItemFailures, AWS's Kinesis event record, StartingPosition
//! TRIM_HORIZON / LATEST / AT_TIMESTAMP on a stream of two shards, reading a split shard
//! to its end before its children, an enhanced fan-out consumer's ARN as the source,
//! ParallelizationFactor, a stored mapping resuming after kill -9,
//! filter criteria on the decoded data, and CreateEventSourceMapping's Kinesis checks.
//! <https://docs.aws.amazon.com/lambda/latest/dg/with-kinesis.html>
//!
//! The function is `tests/functions/python/kinesis.py`: each record's data is JSON
//! {"k", "v"}; it forwards one message per record ({"k","pk","seq","shard","batch"}) to a
//! FIFO output queue (so the order it sent in is the order the test reads), and raises
//! (or, with PARTIAL=1, reports a batch item failure) on a record whose v is "poison".
//!
//! Batches are made deterministic by putting the records before creating the mapping
//! (TRIM_HORIZON): the first read then finds them all.

use aws_sdk_kinesis::primitives::Blob;
use aws_sdk_lambda::types::{EventSourcePosition, Filter, FilterCriteria, FunctionResponseType};
use nimbus_tests::esm::{self, key, on_failure};
use nimbus_tests::lambda::{self, expect_err};
use nimbus_tests::{unique_name, Nimbus};
use serde_json::{json, Value};
use std::time::{Duration, Instant};

type Kin = aws_sdk_kinesis::Client;

fn kinesis(n: &Nimbus) -> Kin {
    crate::kinesis::client(n)
}

/// A stream of `shards` shards, ACTIVE; returns (name, ARN).
async fn stream(c: &Kin, shards: i32) -> (String, String) {
    let name = unique_name("esmk");
    c.create_stream().stream_name(&name).shard_count(shards).send().await.expect("create_stream");
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let d = c.describe_stream_summary().stream_name(&name).send().await.expect("describe_stream_summary").stream_description_summary.expect("summary");
        if d.stream_status == aws_sdk_kinesis::types::StreamStatus::Active {
            return (name, d.stream_arn);
        }
        assert!(Instant::now() < deadline, "stream not ACTIVE: {d:?}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Puts {"k": k, "v": v} with partition key `pk`; returns (shard id, sequence number).
async fn put(c: &Kin, s: &str, pk: &str, k: &str, v: &str) -> (String, String) {
    let data = json!({"k": k, "v": v}).to_string();
    let r = c.put_record().stream_name(s).partition_key(pk).data(Blob::new(data)).send().await.expect("put_record");
    (r.shard_id, r.sequence_number)
}

/// Puts `k{from}`..`k{to-1}` with one partition key, `v = "poison"` at the given indexes;
/// returns their sequence numbers.
async fn put_range(c: &Kin, s: &str, pk: &str, from: usize, to: usize, poison: &[usize]) -> Vec<String> {
    let mut seqs = Vec::new();
    for i in from..to {
        seqs.push(put(c, s, pk, &key(i), if poison.contains(&i) { "poison" } else { "ok" }).await.1);
    }
    seqs
}

fn ks(fwd: &[Value]) -> Vec<String> {
    fwd.iter().map(|v| v["k"].as_str().unwrap().to_string()).collect()
}

fn keys(range: impl IntoIterator<Item = usize>, skip: &[usize]) -> Vec<String> {
    range.into_iter().filter(|i| !skip.contains(i)).map(key).collect()
}

/// AWS's on-failure record for a Kinesis batch.
/// <https://docs.aws.amazon.com/lambda/latest/dg/kinesis-on-failure-destination.html>
#[track_caller]
fn assert_failure_record(f: &Value, condition: &str, stream_arn: &str, start: &str, end: &str, size: u64) {
    assert_eq!(f["requestContext"]["condition"], json!(condition), "condition in {f:#}");
    assert!(f.get("DDBStreamBatchInfo").is_none(), "no DynamoDB info in {f:#}");
    let info = &f["KinesisBatchInfo"];
    assert_eq!(info["startSequenceNumber"], json!(start), "start in {f:#}");
    assert_eq!(info["endSequenceNumber"], json!(end), "end in {f:#}");
    assert_eq!(info["batchSize"], json!(size), "batchSize in {f:#}");
    assert_eq!(info["streamArn"], json!(stream_arn), "streamArn in {f:#}");
    assert!(info["shardId"].as_str().is_some_and(|s| s.starts_with("shardId-")), "shardId in {f:#}");
    for k in ["approximateArrivalOfFirstRecord", "approximateArrivalOfLastRecord"] {
        assert!(info[k].as_str().is_some_and(|s| s.len() >= 20 && s.contains('T')), "{k} in {f:#}");
    }
    assert!(f["requestContext"]["functionArn"].as_str().is_some_and(|a| a.starts_with("arn:aws:lambda:")), "functionArn in {f:#}");
    assert_eq!(f["version"], json!("1.0"), "version in {f:#}");
    assert!(f["timestamp"].is_string(), "timestamp in {f:#}");
}

/// 1. Seed 001 on Kinesis: BatchSize 10, bisect, one retry, on-failure queue; 20 records
/// of one partition key with a poison in the middle: every good record exactly once, in
/// order; the poison alone in the failure record; the shard moves on.
#[tokio::test]
async fn bisect_isolates_the_poison_record() {
    let n = Nimbus::start();
    let (k, lam, q) = (kinesis(&n), n.lambda_client(), n.sqs_client());
    let (s, arn) = stream(&k, 1).await;
    let (out, _) = esm::queue_of_kind(&q, "out", true).await;
    let (dlq, dlq_arn) = esm::queue_of_kind(&q, "fail", false).await;
    let f = esm::forwarder(&lam, "esmk-py", "kinesis.handler", &out, &[]).await;
    let seqs = put_range(&k, &s, "orders", 0, 20, &[12]).await;
    lam.create_event_source_mapping()
        .function_name(&f)
        .event_source_arn(&arn)
        .starting_position(EventSourcePosition::TrimHorizon)
        .batch_size(10)
        .bisect_batch_on_function_error(true)
        .maximum_retry_attempts(1)
        .destination_config(on_failure(&dlq_arn))
        .send()
        .await
        .expect("create mapping");

    let fwd = esm::collect(&q, &out, 19, 90).await;
    assert_eq!(ks(&fwd), keys(0..20, &[12]), "forwarded records");
    let got: Vec<&str> = fwd.iter().map(|v| v["seq"].as_str().unwrap()).collect();
    let want: Vec<&str> = seqs.iter().enumerate().filter(|(i, _)| *i != 12).map(|(_, s)| s.as_str()).collect();
    assert_eq!(got, want, "sequence numbers, in order");
    let fails = esm::collect(&q, &dlq, 1, 30).await;
    assert_eq!(fails.len(), 1, "one failure record");
    assert_failure_record(&fails[0], "RetryAttemptsExhausted", &arn, &seqs[12], &seqs[12], 1);
    // Bisection does not use up retries: the poison alone ran 1 + MaximumRetryAttempts times.
    assert_eq!(fails[0]["requestContext"]["approximateInvokeCount"], json!(2), "{:#}", fails[0]);
    assert_eq!(fails[0]["responseContext"]["functionError"], json!("Unhandled"), "{:#}", fails[0]);

    put(&k, &s, "orders", "later", "ok").await;
    let more = esm::collect(&q, &out, 1, 30).await;
    assert_eq!(ks(&more), vec!["later"], "a later put is still processed");
    assert!(esm::extras(&q, &out, 2).await.is_empty(), "nothing delivered twice");
    assert!(esm::extras(&q, &dlq, 1).await.is_empty(), "no second failure record");
}

/// 2. ReportBatchItemFailures: the records before the poison once; the batch from the
/// poison on retried until its retries are used up, then discarded to the failure queue.
#[tokio::test]
async fn report_batch_item_failures_resumes_at_the_failed_record() {
    let n = Nimbus::start();
    let (k, lam, q) = (kinesis(&n), n.lambda_client(), n.sqs_client());
    let (s, arn) = stream(&k, 1).await;
    let (out, _) = esm::queue_of_kind(&q, "out", true).await;
    let (trace, _) = esm::queue_of_kind(&q, "trace", false).await;
    let (dlq, dlq_arn) = esm::queue_of_kind(&q, "fail", false).await;
    let f = esm::forwarder(&lam, "esmk-py", "kinesis.handler", &out, &[("PARTIAL", "1"), ("TRACE_URL", &trace)]).await;
    let seqs = put_range(&k, &s, "p", 0, 15, &[4]).await;
    lam.create_event_source_mapping()
        .function_name(&f)
        .event_source_arn(&arn)
        .starting_position(EventSourcePosition::TrimHorizon)
        .batch_size(10)
        .maximum_retry_attempts(2)
        .function_response_types(FunctionResponseType::ReportBatchItemFailures)
        .destination_config(on_failure(&dlq_arn))
        .send()
        .await
        .expect("create mapping");

    // The rest of the first batch from the poison on is retried as a whole, then
    // discarded; the next batch goes on.
    let fwd = esm::collect(&q, &out, 9, 90).await;
    assert_eq!(ks(&fwd), keys(0..15, &[4, 5, 6, 7, 8, 9]), "forwarded records");
    let fails = esm::collect(&q, &dlq, 1, 30).await;
    assert_eq!(fails.len(), 1, "one failure record");
    assert_failure_record(&fails[0], "RetryAttemptsExhausted", &arn, &seqs[4], &seqs[9], 6);
    let rc = &fails[0]["responseContext"];
    assert_eq!((rc["statusCode"].as_u64(), rc["executedVersion"].as_str()), (Some(200), Some("$LATEST")), "{rc}");
    assert!(rc.get("functionError").is_none(), "a reported item failure is no function error: {rc}");
    let traces = esm::extras(&q, &trace, 2).await;
    let with_first = traces.iter().filter(|t| t["seqs"][0] == json!(seqs[0])).count();
    assert_eq!(with_first, 1, "the records before the poison were not retried: {traces:?}");
    // The first invocation (the whole batch) and MaximumRetryAttempts retries of the rest.
    let from_poison = traces.iter().filter(|t| t["seqs"][0] == json!(seqs[4])).count();
    assert_eq!(from_poison, 2, "the batch from the poison on was retried MaximumRetryAttempts times: {traces:?}");
    assert_eq!(fails[0]["requestContext"]["approximateInvokeCount"], json!(3), "{:#}", fails[0]);
    assert!(esm::extras(&q, &out, 1).await.is_empty(), "nothing delivered twice");
}

/// 3. The event: AWS's Kinesis record shape.
#[tokio::test]
async fn event_shape() {
    let n = Nimbus::start();
    let (k, lam, q) = (kinesis(&n), n.lambda_client(), n.sqs_client());
    let (s, arn) = stream(&k, 1).await;
    let (out, _) = esm::queue_of_kind(&q, "out", true).await;
    let (raw, _) = esm::queue_of_kind(&q, "raw", false).await;
    let f = esm::forwarder(&lam, "esmk-py", "kinesis.handler", &out, &[("RAW_URL", &raw)]).await;
    let (shard, seq) = put(&k, &s, "pk-1", "a", "ok").await;
    let (_, seq2) = put(&k, &s, "pk-2", "b", "ok").await;
    lam.create_event_source_mapping().function_name(&f).event_source_arn(&arn).starting_position(EventSourcePosition::TrimHorizon).send().await.expect("create mapping");
    let events = esm::collect(&q, &raw, 1, 60).await;
    assert_eq!(events.len(), 1, "one invocation");
    let records = events[0]["Records"].as_array().expect("Records");
    assert_eq!(records.len(), 2, "{:#}", events[0]);
    let r = &records[0];
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs_f64();
    assert_eq!(r["eventSource"], json!("aws:kinesis"), "{r:#}");
    assert_eq!(r["eventVersion"], json!("1.0"), "{r:#}");
    assert_eq!(r["eventName"], json!("aws:kinesis:record"), "{r:#}");
    assert_eq!(r["eventID"], json!(format!("{shard}:{seq}")), "{r:#}");
    assert_eq!(r["invokeIdentityArn"], json!(lambda::ROLE), "{r:#}");
    assert_eq!(r["awsRegion"], json!("us-east-1"), "{r:#}");
    assert_eq!(r["eventSourceARN"], json!(arn), "{r:#}");
    let kin = &r["kinesis"];
    assert_eq!(kin["kinesisSchemaVersion"], json!("1.0"), "{r:#}");
    assert_eq!(kin["partitionKey"], json!("pk-1"), "{r:#}");
    assert_eq!(kin["sequenceNumber"], json!(seq), "{r:#}");
    use base64::Engine;
    let data = base64::engine::general_purpose::STANDARD.decode(kin["data"].as_str().expect("data is base64 text")).expect("base64");
    assert_eq!(serde_json::from_slice::<Value>(&data).unwrap(), json!({"k": "a", "v": "ok"}));
    let at = kin["approximateArrivalTimestamp"].as_f64().expect("approximateArrivalTimestamp is a number of seconds");
    assert!((at - now).abs() < 120.0, "approximateArrivalTimestamp {at} vs now {now}");
    assert_eq!(records[1]["kinesis"]["sequenceNumber"], json!(seq2));
    let fwd = esm::collect(&q, &out, 2, 30).await;
    assert_eq!(ks(&fwd), vec!["a", "b"]);
    assert!(fwd.iter().all(|v| v["batch"] == json!(2)));
}

/// 4. TRIM_HORIZON, LATEST (every shard's end when the mapping was made) and
/// AT_TIMESTAMP (the server's clock moved 60 s between two groups of records) on a
/// stream of two shards.
#[tokio::test]
async fn starting_positions_on_two_shards() {
    let n = Nimbus::start_with_clock_control();
    let (k, lam, q) = (kinesis(&n), n.lambda_client(), n.sqs_client());
    let (s, arn) = stream(&k, 2).await;
    let mut shards = std::collections::HashSet::new();
    for i in 0..6 {
        shards.insert(put(&k, &s, &format!("key-{i}"), &key(i), "ok").await.0);
    }
    assert_eq!(shards.len(), 2, "the partition keys spread over both shards");
    let old_arrival = {
        let listed = k.list_shards().stream_name(&s).send().await.expect("list_shards");
        let mut newest = 0f64;
        for sh in listed.shards() {
            let it = k.get_shard_iterator().stream_name(&s).shard_id(sh.shard_id()).shard_iterator_type(aws_sdk_kinesis::types::ShardIteratorType::TrimHorizon).send().await.unwrap().shard_iterator.unwrap();
            for r in k.get_records().shard_iterator(it).send().await.unwrap().records() {
                newest = newest.max(r.approximate_arrival_timestamp().unwrap().as_secs_f64());
            }
        }
        newest
    };
    assert_ne!(n.advance_clock(60), 404, "the clock endpoint is enabled");
    for i in 6..10 {
        put(&k, &s, &format!("key-{i}"), &key(i), "ok").await;
    }
    let mut outs = Vec::new();
    for (pos, ts) in [(EventSourcePosition::TrimHorizon, None), (EventSourcePosition::Latest, None), (EventSourcePosition::AtTimestamp, Some(old_arrival + 30.0))] {
        let (out, _) = esm::queue_of_kind(&q, "out", false).await;
        let f = esm::forwarder(&lam, "esmk-py", "kinesis.handler", &out, &[]).await;
        let mut req = lam.create_event_source_mapping().function_name(&f).event_source_arn(&arn).starting_position(pos);
        if let Some(ts) = ts {
            req = req.starting_position_timestamp(aws_sdk_lambda::primitives::DateTime::from_secs_f64(ts));
        }
        let m = req.send().await.expect("create mapping");
        if ts.is_some() {
            let g = lam.get_event_source_mapping().uuid(m.uuid().unwrap()).send().await.unwrap();
            assert_eq!(g.starting_position(), Some(&EventSourcePosition::AtTimestamp));
            assert!(g.starting_position_timestamp().is_some_and(|t| (t.as_secs_f64() - old_arrival - 30.0).abs() < 1.0), "{g:?}");
        }
        outs.push(out);
    }
    for i in 10..12 {
        put(&k, &s, &format!("key-{i}"), &key(i), "ok").await;
    }
    let sorted = |mut v: Vec<String>| {
        v.sort();
        v
    };
    let trim = esm::collect(&q, &outs[0], 12, 60).await;
    assert_eq!(sorted(ks(&trim)), keys(0..12, &[]), "TRIM_HORIZON");
    let latest = esm::collect(&q, &outs[1], 2, 60).await;
    assert_eq!(sorted(ks(&latest)), keys(10..12, &[]), "LATEST");
    let at = esm::collect(&q, &outs[2], 6, 60).await;
    assert_eq!(sorted(ks(&at)), keys(6..12, &[]), "AT_TIMESTAMP");
    assert!(esm::extras(&q, &outs[1], 1).await.is_empty(), "LATEST skipped the older records");
    assert!(esm::extras(&q, &outs[2], 1).await.is_empty(), "AT_TIMESTAMP skipped the older records");
}

/// 5. Resharding: records of one partition key before and after a split are delivered in
/// order — the parent shard is read to its end before the child that has the key's later
/// records. Small batches and a slow function would interleave them otherwise.
#[tokio::test]
async fn split_shard_parent_is_read_before_its_children() {
    let n = Nimbus::start();
    let (k, lam, q) = (kinesis(&n), n.lambda_client(), n.sqs_client());
    let (s, arn) = stream(&k, 1).await;
    let (out, _) = esm::queue_of_kind(&q, "out", true).await;
    let f = esm::forwarder(&lam, "esmk-py", "kinesis.handler", &out, &[("SLEEP_MS", "150")]).await;
    let (parent, _) = put(&k, &s, "user-1", &key(0), "ok").await;
    put_range(&k, &s, "user-1", 1, 8, &[]).await;
    k.split_shard().stream_name(&s).shard_to_split(&parent).new_starting_hash_key("170141183460469231731687303715884105728").send().await.expect("split_shard");
    let deadline = Instant::now() + Duration::from_secs(30);
    while k.describe_stream_summary().stream_name(&s).send().await.unwrap().stream_description_summary.unwrap().stream_status != aws_sdk_kinesis::types::StreamStatus::Active {
        assert!(Instant::now() < deadline, "stream ACTIVE again after the split");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let mut child = String::new();
    for i in 8..16 {
        child = put(&k, &s, "user-1", &key(i), "ok").await.0;
    }
    assert_ne!(child, parent, "after the split the key's records go to a child shard");
    lam.create_event_source_mapping().function_name(&f).event_source_arn(&arn).starting_position(EventSourcePosition::TrimHorizon).batch_size(2).send().await.expect("create mapping");
    let fwd = esm::collect(&q, &out, 16, 90).await;
    assert_eq!(ks(&fwd), keys(0..16, &[]), "the parent's records, then the child's");
    let shards: Vec<&str> = fwd.iter().map(|v| v["shard"].as_str().unwrap()).collect();
    assert!(shards[..8].iter().all(|s| *s == parent) && shards[8..].iter().all(|s| *s == child), "{shards:?}");
    // New records keep flowing from the child.
    put(&k, &s, "user-1", "later", "ok").await;
    assert_eq!(ks(&esm::collect(&q, &out, 1, 30).await), vec!["later"]);
    assert!(esm::extras(&q, &out, 1).await.is_empty(), "nothing delivered twice");
}

/// 6. An enhanced fan-out consumer as the event source: the mapping keeps the consumer's
/// ARN, the records name the stream.
#[tokio::test]
async fn enhanced_fan_out_consumer_arn() {
    let n = Nimbus::start();
    let (k, lam, q) = (kinesis(&n), n.lambda_client(), n.sqs_client());
    let (s, arn) = stream(&k, 1).await;
    let consumer = k.register_stream_consumer().stream_arn(&arn).consumer_name("lambda-efo").send().await.expect("register_stream_consumer").consumer.expect("consumer").consumer_arn;
    assert!(consumer.starts_with(&format!("{arn}/consumer/lambda-efo:")), "{consumer}");
    let (out, _) = esm::queue_of_kind(&q, "out", true).await;
    let (raw, _) = esm::queue_of_kind(&q, "raw", false).await;
    let f = esm::forwarder(&lam, "esmk-py", "kinesis.handler", &out, &[("RAW_URL", &raw)]).await;
    put_range(&k, &s, "p", 0, 3, &[]).await;
    let m = lam.create_event_source_mapping().function_name(&f).event_source_arn(&consumer).starting_position(EventSourcePosition::TrimHorizon).send().await.expect("create mapping");
    assert_eq!(m.event_source_arn(), Some(consumer.as_str()));
    let fwd = esm::collect(&q, &out, 3, 60).await;
    assert_eq!(ks(&fwd), keys(0..3, &[]));
    let events = esm::collect(&q, &raw, 1, 10).await;
    assert_eq!(events[0]["Records"][0]["eventSourceARN"], json!(arn), "records name the stream: {:#}", events[0]);
    let listed = lam.list_event_source_mappings().event_source_arn(&consumer).send().await.unwrap();
    assert_eq!(listed.event_source_mappings().len(), 1);
    // A consumer that is not registered is refused.
    let unknown = format!("{arn}/consumer/nobody:1700000000");
    let other = esm::forwarder(&lam, "esmk-py", "kinesis.handler", &out, &[]).await;
    expect_err(lam.create_event_source_mapping().function_name(&other).event_source_arn(&unknown).starting_position(EventSourcePosition::Latest).send().await, "InvalidParameterValueException", Some(400));
}

/// 7. Filter criteria see the record's data decoded (the only key Kinesis filters on);
/// records that do not match are skipped, not failed.
/// <https://docs.aws.amazon.com/lambda/latest/dg/with-kinesis-filtering.html>
#[tokio::test]
async fn filter_criteria_on_the_decoded_data() {
    let n = Nimbus::start();
    let (k, lam, q) = (kinesis(&n), n.lambda_client(), n.sqs_client());
    let (s, arn) = stream(&k, 1).await;
    let (out, _) = esm::queue_of_kind(&q, "out", true).await;
    let f = esm::forwarder(&lam, "esmk-py", "kinesis.handler", &out, &[]).await;
    put_range(&k, &s, "p", 0, 6, &[1, 3]).await;
    let filter = Filter::builder().pattern(r#"{"data": {"v": ["ok"]}}"#).build();
    lam.create_event_source_mapping()
        .function_name(&f)
        .event_source_arn(&arn)
        .starting_position(EventSourcePosition::TrimHorizon)
        .filter_criteria(FilterCriteria::builder().filters(filter).build())
        .send()
        .await
        .expect("create mapping");
    let fwd = esm::collect(&q, &out, 4, 60).await;
    assert_eq!(ks(&fwd), vec!["k00", "k02", "k04", "k05"]);
    assert!(esm::extras(&q, &out, 2).await.is_empty(), "filtered records are not delivered");
}

/// 8. CreateEventSourceMapping's checks for Kinesis, and its settings as Get shows them.
#[tokio::test]
async fn validation_and_settings() {
    let n = Nimbus::start_in_memory();
    let (k, lam, q) = (kinesis(&n), n.lambda_client(), n.sqs_client());
    let (_s, arn) = stream(&k, 1).await;
    let (out, dlq_arn) = esm::queue_of_kind(&q, "fail", false).await;
    let f = esm::forwarder(&lam, "esmk-py", "kinesis.handler", &out, &[]).await;
    let base = || lam.create_event_source_mapping().function_name(&f).event_source_arn(&arn);

    let msg = expect_err(base().send().await, "InvalidParameterValueException", Some(400));
    assert!(msg.contains("startingPosition"), "{msg}");
    let msg = expect_err(base().starting_position(EventSourcePosition::AtTimestamp).send().await, "InvalidParameterValueException", Some(400));
    assert!(msg.contains("timestamp"), "{msg}");
    expect_err(base().starting_position(EventSourcePosition::Latest).batch_size(10_001).send().await, "ValidationException", Some(400));
    expect_err(base().starting_position(EventSourcePosition::Latest).parallelization_factor(11).send().await, "ValidationException", Some(400));
    expect_err(base().starting_position(EventSourcePosition::Latest).maximum_record_age_in_seconds(59).send().await, "ValidationException", Some(400));
    let gone = format!("{}-gone", arn);
    expect_err(lam.create_event_source_mapping().function_name(&f).event_source_arn(&gone).starting_position(EventSourcePosition::Latest).send().await, "InvalidParameterValueException", Some(400));
    let listed = lam.list_event_source_mappings().event_source_arn(&arn).send().await.unwrap();
    assert!(listed.event_source_mappings().is_empty(), "nothing was created by the failed calls: {listed:?}");

    // Kinesis takes up to 10,000 records a batch, without a batching window.
    let created = base()
        .starting_position(EventSourcePosition::Latest)
        .batch_size(10_000)
        .bisect_batch_on_function_error(true)
        .maximum_retry_attempts(3)
        .parallelization_factor(10)
        .tumbling_window_in_seconds(60)
        .destination_config(on_failure(&dlq_arn))
        .send()
        .await
        .expect("create mapping");
    let g = lam.get_event_source_mapping().uuid(created.uuid().unwrap()).send().await.unwrap();
    assert_eq!(g.batch_size(), Some(10_000));
    assert_eq!(g.starting_position(), Some(&EventSourcePosition::Latest));
    assert_eq!(g.parallelization_factor(), Some(10));
    assert_eq!(g.maximum_retry_attempts(), Some(3));
    assert_eq!(g.tumbling_window_in_seconds(), Some(60));
    assert_eq!(g.event_source_arn(), Some(arn.as_str()));
    assert_eq!(g.destination_config().and_then(|d| d.on_failure()).and_then(|o| o.destination()), Some(dlq_arn.as_str()));
    // One mapping per stream and function (AWS: ResourceConflictException naming the UUID).
    let msg = expect_err(base().starting_position(EventSourcePosition::TrimHorizon).send().await, "ResourceConflictException", Some(409));
    assert!(msg.contains(created.uuid().unwrap()), "{msg}");
    let other = esm::forwarder(&lam, "esmk-py", "kinesis.handler", &out, &[]).await;
    let defaults = lam.create_event_source_mapping().function_name(&other).event_source_arn(&arn).starting_position(EventSourcePosition::TrimHorizon).send().await.expect("defaults");
    assert_eq!((defaults.batch_size(), defaults.maximum_retry_attempts(), defaults.maximum_record_age_in_seconds()), (Some(100), Some(-1), Some(-1)));
}

/// 9. MaximumRecordAgeInSeconds with the server's clock moved 61 s: the failing batch is
/// discarded as RecordAgeExceeded to an SNS topic on-failure destination (delivered raw
/// to a queue subscribed to it), and the shard moves on.
#[tokio::test]
async fn record_age_exceeded_goes_to_an_sns_destination() {
    let n = Nimbus::start_with_clock_control();
    let (k, lam, q, sns) = (kinesis(&n), n.lambda_client(), n.sqs_client(), n.sns_client());
    let (s, arn) = stream(&k, 1).await;
    let (out, _) = esm::queue_of_kind(&q, "out", true).await;
    let (trace, _) = esm::queue_of_kind(&q, "trace", false).await;
    let (fails, fails_arn) = esm::queue_of_kind(&q, "fail", false).await;
    let topic = sns.create_topic().name(unique_name("esmk-fail")).send().await.expect("create_topic").topic_arn.expect("TopicArn");
    sns.subscribe().topic_arn(&topic).protocol("sqs").endpoint(&fails_arn).attributes("RawMessageDelivery", "true").send().await.expect("subscribe");
    let f = esm::forwarder(&lam, "esmk-py", "kinesis.handler", &out, &[("TRACE_URL", &trace)]).await;
    let seqs = put_range(&k, &s, "p", 0, 1, &[0]).await;
    lam.create_event_source_mapping()
        .function_name(&f)
        .event_source_arn(&arn)
        .starting_position(EventSourcePosition::TrimHorizon)
        .maximum_record_age_in_seconds(60)
        .destination_config(on_failure(&topic))
        .send()
        .await
        .expect("create mapping");
    let first = esm::collect(&q, &trace, 2, 60).await;
    assert!(first.len() >= 2, "the poison batch is retried: {first:?}");
    assert!(esm::collect(&q, &fails, 1, 1).await.is_empty(), "not discarded before it is 60 s old");
    assert_ne!(n.advance_clock(61), 404, "the clock endpoint is enabled");
    let got = esm::collect(&q, &fails, 1, 30).await;
    assert_eq!(got.len(), 1, "one failure record through SNS");
    assert_failure_record(&got[0], "RecordAgeExceeded", &arn, &seqs[0], &seqs[0], 1);
    put(&k, &s, "p", "later", "ok").await;
    assert_eq!(ks(&esm::collect(&q, &out, 1, 30).await), vec!["later"], "the shard moved on");
}

/// 10. ParallelizationFactor 4 on one shard: batches run at once (more than one execution
/// environment), every record once, each partition key's records in order.
#[tokio::test]
async fn parallelization_factor_keeps_each_partition_key_in_order() {
    let n = Nimbus::start();
    let (k, lam, q) = (kinesis(&n), n.lambda_client(), n.sqs_client());
    let (s, arn) = stream(&k, 1).await;
    let (out, _) = esm::queue_of_kind(&q, "out", true).await;
    let f = esm::forwarder(&lam, "esmk-py", "kinesis.handler", &out, &[("SLEEP_MS", "300")]).await;
    let mut seqs = Vec::new();
    for round in 0..3 {
        for p in 0..8 {
            seqs.push(put(&k, &s, &format!("user-{p}"), &format!("{p}-{round}"), "ok").await.1);
        }
    }
    lam.create_event_source_mapping().function_name(&f).event_source_arn(&arn).starting_position(EventSourcePosition::TrimHorizon).batch_size(3).parallelization_factor(4).send().await.expect("create mapping");
    let fwd = esm::collect(&q, &out, 24, 90).await;
    let mut got: Vec<String> = fwd.iter().map(|v| v["seq"].as_str().unwrap().to_string()).collect();
    got.sort();
    seqs.sort();
    assert_eq!(got, seqs, "every record once");
    for p in 0..8 {
        let per_key: Vec<String> = fwd.iter().filter(|v| v["pk"] == json!(format!("user-{p}"))).map(|v| v["k"].as_str().unwrap().to_string()).collect();
        assert_eq!(per_key, (0..3).map(|r| format!("{p}-{r}")).collect::<Vec<_>>(), "user-{p} in order");
    }
    let pids: std::collections::HashSet<u64> = fwd.iter().map(|v| v["pid"].as_u64().unwrap()).collect();
    assert!(pids.len() >= 2, "batches of the shard ran concurrently: {pids:?}");
}

/// 11. A Kinesis mapping is stored: after kill -9 it starts again (once Kinesis is wired)
/// and goes on from its checkpoint — the new records in order, none skipped (a batch
/// finished just before the kill may come again: at least once).
#[tokio::test]
async fn mapping_resumes_after_kill9() {
    let mut n = Nimbus::start();
    let (s, out) = {
        let (k, lam, q) = (kinesis(&n), n.lambda_client(), n.sqs_client());
        let (s, arn) = stream(&k, 1).await;
        let (out, _) = esm::queue_of_kind(&q, "out", true).await;
        let f = esm::forwarder(&lam, "esmk-py", "kinesis.handler", &out, &[]).await;
        lam.create_event_source_mapping().function_name(&f).event_source_arn(&arn).starting_position(EventSourcePosition::TrimHorizon).batch_size(3).send().await.expect("create mapping");
        put_range(&k, &s, "p", 0, 6, &[]).await;
        assert_eq!(ks(&esm::collect(&q, &out, 6, 60).await), keys(0..6, &[]), "before the restart");
        (s, out)
    };
    n.kill9();
    n.restart();
    let (k, q) = (kinesis(&n), n.sqs_client());
    put_range(&k, &s, "p", 6, 10, &[]).await;
    let mut fwd = esm::collect(&q, &out, 4, 60).await;
    while !ks(&fwd).ends_with(&keys(6..10, &[])) {
        let more = esm::collect(&q, &out, 1, 30).await;
        assert!(!more.is_empty(), "the new records after the restart: {:?}", ks(&fwd));
        fwd.extend(more);
    }
    let got = ks(&fwd);
    let again = &got[..got.len() - 4];
    assert!(again.len() <= 3 && again.iter().all(|k| keys(3..6, &[]).contains(k)), "at most the last batch again: {got:?}");
}
