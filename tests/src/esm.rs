//! Helpers shared by the event source mapping tests (`lambda_esm*.rs`): queues with their
//! ARNs, a table with a stream, reading a stream's records back, the on-failure
//! destination, the test keys `k00`, `k01`, …, and the forwarding function (a Python
//! handler that sends each record it gets to a queue) with the reader of that queue.

use crate::lambda::{self, FnSpec};
use crate::{sqs, unique_name, Nimbus};
use aws_sdk_dynamodb::types::{AttributeDefinition, BillingMode, KeySchemaElement, KeyType, ScalarAttributeType, StreamSpecification, StreamViewType};
use aws_sdk_dynamodbstreams::types::ShardIteratorType;
use aws_sdk_lambda::types::{DestinationConfig, OnFailure};
use aws_sdk_sqs::types::QueueAttributeName;
use std::time::{Duration, Instant};

/// Creates a queue named after `prefix` with these attributes; returns (url, arn).
pub async fn queue(c: &aws_sdk_sqs::Client, prefix: &str, attrs: &[(QueueAttributeName, &str)]) -> (String, String) {
    queue_named(c, &unique_name(prefix), attrs).await
}

/// Creates the queue `name`; returns (url, arn).
pub async fn queue_named(c: &aws_sdk_sqs::Client, name: &str, attrs: &[(QueueAttributeName, &str)]) -> (String, String) {
    let url = sqs::create_queue(c, name, attrs).await;
    let arn = sqs::queue_attrs(c, &url).await.remove(&QueueAttributeName::QueueArn).expect("QueueArn");
    (url, arn)
}

/// A table keyed by `pk` (S) with a stream of this view type; returns (name, stream ARN).
pub async fn stream_table(c: &aws_sdk_dynamodb::Client, view: StreamViewType) -> (String, String) {
    let name = unique_name("esmt");
    c.create_table()
        .table_name(&name)
        .attribute_definitions(AttributeDefinition::builder().attribute_name("pk").attribute_type(ScalarAttributeType::S).build().expect("attribute"))
        .key_schema(KeySchemaElement::builder().attribute_name("pk").key_type(KeyType::Hash).build().expect("key"))
        .billing_mode(BillingMode::PayPerRequest)
        .stream_specification(StreamSpecification::builder().stream_enabled(true).stream_view_type(view).build().expect("stream spec"))
        .send()
        .await
        .expect("create_table");
    let arn = c.describe_table().table_name(&name).send().await.expect("describe_table").table.and_then(|t| t.latest_stream_arn).expect("LatestStreamArn");
    (name, arn)
}

/// The stream's only shard and (pk, sequence number) of every record in it, in order.
pub async fn stream_records(n: &Nimbus, arn: &str) -> (String, Vec<(String, String)>) {
    let sc = n.streams_client();
    let d = sc.describe_stream().stream_arn(arn).send().await.expect("describe_stream").stream_description.expect("description");
    assert_eq!(d.shards().len(), 1, "one shard: {d:?}");
    let shard = d.shards()[0].shard_id.clone().expect("shard id");
    let mut it = sc.get_shard_iterator().stream_arn(arn).shard_id(&shard).shard_iterator_type(ShardIteratorType::TrimHorizon).send().await.expect("iterator").shard_iterator;
    let mut out = Vec::new();
    while let Some(i) = it {
        let r = sc.get_records().shard_iterator(i).send().await.expect("get_records");
        if r.records().is_empty() {
            break;
        }
        for rec in r.records() {
            let d = rec.dynamodb.as_ref().expect("dynamodb");
            let pk = match d.keys.as_ref().and_then(|k| k.get("pk")) {
                Some(aws_sdk_dynamodbstreams::types::AttributeValue::S(s)) => s.clone(),
                other => panic!("pk {other:?}"),
            };
            out.push((pk, d.sequence_number.clone().expect("sequence number")));
        }
        it = r.next_shard_iterator;
    }
    (shard, out)
}

/// The sequence number of `pk`'s (first) record.
pub fn seq_of(seqs: &[(String, String)], pk: &str) -> String {
    seqs.iter().find(|(k, _)| k == pk).unwrap_or_else(|| panic!("{pk} not in the stream")).1.clone()
}

/// An on-failure destination of this ARN.
pub fn on_failure(arn: &str) -> DestinationConfig {
    DestinationConfig::builder().on_failure(OnFailure::builder().destination(arn).build()).build()
}

/// The test keys: `k00`, `k01`, ….
pub fn key(i: usize) -> String {
    format!("k{i:02}")
}

/// Visible + in-flight messages.
pub async fn depth(c: &aws_sdk_sqs::Client, url: &str) -> i64 {
    sqs::attr_num(c, url, QueueAttributeName::ApproximateNumberOfMessages).await + sqs::attr_num(c, url, QueueAttributeName::ApproximateNumberOfMessagesNotVisible).await
}

/// Waits until the queue holds `want` messages (visible + in flight), at most `secs`.
pub async fn wait_depth(c: &aws_sdk_sqs::Client, url: &str, want: i64, secs: u64) {
    let deadline = Instant::now() + Duration::from_secs(secs);
    loop {
        let d = depth(c, url).await;
        if d == want {
            return;
        }
        assert!(Instant::now() < deadline, "queue depth is {d}, expected {want} within {secs} s");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Creates a queue (FIFO when `fifo`); returns (url, arn).
pub async fn queue_of_kind(c: &aws_sdk_sqs::Client, prefix: &str, fifo: bool) -> (String, String) {
    if fifo {
        queue_named(c, &format!("{}.fifo", unique_name(prefix)), &[(QueueAttributeName::FifoQueue, "true")]).await
    } else {
        queue(c, prefix, &[]).await
    }
}

/// Creates the Python function `handler` (e.g. `streams.handler`) forwarding what it gets
/// to `out_url`, with these extra environment variables; returns its name.
pub async fn forwarder(lam: &aws_sdk_lambda::Client, prefix: &str, handler: &str, out_url: &str, extra_env: &[(&str, &str)]) -> String {
    let name = unique_name(prefix);
    let mut spec = FnSpec::python(handler).env("OUT_URL", out_url).timeout(30);
    for (k, v) in extra_env {
        spec = spec.env(k, v);
    }
    lambda::create(lam, &name, spec).await;
    name
}

/// Reads (and deletes) messages from `url` until `want` arrived or `secs` passed; the
/// bodies as JSON, in the order received.
pub async fn collect(c: &aws_sdk_sqs::Client, url: &str, want: usize, secs: u64) -> Vec<serde_json::Value> {
    let deadline = Instant::now() + Duration::from_secs(secs);
    let mut out = Vec::new();
    while out.len() < want && Instant::now() < deadline {
        for m in sqs::receive(c, url, 10, 1, Some(30)).await {
            sqs::delete(c, url, &m).await;
            out.push(serde_json::from_str(m.body().unwrap_or_default()).expect("JSON body"));
        }
    }
    out
}

/// Whatever else arrives on `url` within `secs` (expected: nothing).
pub async fn extras(c: &aws_sdk_sqs::Client, url: &str, secs: u64) -> Vec<serde_json::Value> {
    collect(c, url, usize::MAX, secs).await
}
