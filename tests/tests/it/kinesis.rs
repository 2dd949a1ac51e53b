//! Kinesis Data Streams through the AWS SDK for Rust: streams (provisioned and on-demand,
//! AWS's hash-key ranges), descriptions and listings with their pagination, records put
//! and read back in order with each iterator type, iterator expiry on nimbus's clock,
//! retention, tags, encryption through nimbus's KMS, resharding with ordered reads across
//! parent and child shards, per-shard throughput limits, enhanced fan-out consumers, and
//! AWS's error codes and messages for bad input.
//! <https://docs.aws.amazon.com/kinesis/latest/APIReference/API_Operations.html>

use aws_credential_types::Credentials;
use aws_sdk_kinesis::primitives::Blob;
use aws_sdk_kinesis::types::{
    EncryptionType, PutRecordsRequestEntry, ScalingType, ShardFilter, ShardFilterType,
    ShardIteratorType, StreamMode, StreamModeDetails,
};
use aws_sdk_kinesis::Client;
use nimbus_tests::{
    expect_err_message as err, unique_name, Nimbus, DEFAULT_ACCESS_KEY, DEFAULT_REGION,
    DEFAULT_SECRET_KEY,
};

const MAX_HASH: &str = "340282366920938463463374607431768211455";
const HALF_HASH: &str = "170141183460469231731687303715884105728";

pub fn client(n: &Nimbus) -> Client {
    let conf = aws_sdk_kinesis::Config::builder()
        .behavior_version(aws_sdk_kinesis::config::BehaviorVersion::latest())
        .credentials_provider(Credentials::new(
            DEFAULT_ACCESS_KEY,
            DEFAULT_SECRET_KEY,
            None,
            None,
            "nimbus-tests",
        ))
        .region(aws_sdk_kinesis::config::Region::new(DEFAULT_REGION))
        .endpoint_url(n.endpoint())
        .http_client(aws_smithy_http_client::Builder::new().build_http())
        .retry_config(aws_sdk_kinesis::config::retry::RetryConfig::disabled())
        .timeout_config(
            aws_sdk_kinesis::config::timeout::TimeoutConfig::builder()
                .operation_timeout(std::time::Duration::from_secs(60))
                .build(),
        )
        .build();
    Client::from_conf(conf)
}

/// A nimbus without the per-shard throughput limits (tests that read in quick loops
/// would pass AWS's 5 GetRecords per second).
fn start_unlimited() -> Nimbus {
    Nimbus::start_with(nimbus_tests::StartOptions {
        in_memory: true,
        extra_args: vec!["--kinesis-no-throughput-limits".into()],
        ..Default::default()
    })
}

async fn create(c: &Client, name: &str, shards: i32) {
    c.create_stream()
        .stream_name(name)
        .shard_count(shards)
        .send()
        .await
        .expect("create_stream");
}

async fn put(
    c: &Client,
    stream: &str,
    key: &str,
    data: &[u8],
    hash: Option<&str>,
) -> (String, String) {
    let mut req = c
        .put_record()
        .stream_name(stream)
        .partition_key(key)
        .data(Blob::new(data.to_vec()));
    if let Some(h) = hash {
        req = req.explicit_hash_key(h);
    }
    let out = req.send().await.expect("put_record");
    (
        out.shard_id().to_string(),
        out.sequence_number().to_string(),
    )
}

async fn iterator(
    c: &Client,
    stream: &str,
    shard: &str,
    kind: ShardIteratorType,
    seq: Option<&str>,
) -> String {
    let mut req = c
        .get_shard_iterator()
        .stream_name(stream)
        .shard_id(shard)
        .shard_iterator_type(kind);
    if let Some(s) = seq {
        req = req.starting_sequence_number(s);
    }
    req.send()
        .await
        .expect("get_shard_iterator")
        .shard_iterator()
        .expect("iterator")
        .to_string()
}

/// Every record of a shard from the iterator on, following NextShardIterator until a read
/// comes back empty (or the shard ends): (data, sequence numbers), and the child shards
/// named at the end of a closed shard.
async fn read_all(c: &Client, mut it: String) -> (Vec<String>, Vec<String>, Vec<String>) {
    let (mut data, mut seqs, mut children) = (Vec::new(), Vec::new(), Vec::new());
    loop {
        let out = c
            .get_records()
            .shard_iterator(&it)
            .send()
            .await
            .expect("get_records");
        for r in out.records() {
            data.push(String::from_utf8_lossy(r.data().as_ref()).to_string());
            seqs.push(r.sequence_number().to_string());
        }
        children.extend(out.child_shards().iter().map(|s| s.shard_id().to_string()));
        match out.next_shard_iterator() {
            Some(next) if !out.records().is_empty() => it = next.to_string(),
            _ => return (data, seqs, children),
        }
    }
}

#[tokio::test]
async fn streams_are_created_described_listed_and_deleted() {
    let n = Nimbus::start_in_memory();
    let c = client(&n);
    create(&c, "three", 3).await;
    c.create_stream()
        .stream_name("od")
        .stream_mode_details(
            StreamModeDetails::builder()
                .stream_mode(StreamMode::OnDemand)
                .build()
                .unwrap(),
        )
        .send()
        .await
        .expect("on-demand");

    let msg = err(
        c.create_stream()
            .stream_name("three")
            .shard_count(1)
            .send()
            .await,
        "ResourceInUseException",
    );
    assert_eq!(
        msg,
        "Stream three under account 000000000000 already exists."
    );
    err(
        c.create_stream()
            .stream_name("bad name!")
            .shard_count(1)
            .send()
            .await,
        "ValidationException",
    );
    err(
        c.create_stream()
            .stream_name("zero")
            .shard_count(0)
            .send()
            .await,
        "ValidationException",
    );

    // Hash-key ranges as AWS assigns three shards: an even split of 2^128.
    let d = c
        .describe_stream()
        .stream_name("three")
        .send()
        .await
        .expect("describe")
        .stream_description
        .expect("description");
    assert_eq!(d.stream_status().as_str(), "ACTIVE");
    assert_eq!(d.retention_period_hours(), 24);
    assert_eq!(
        d.stream_arn(),
        "arn:aws:kinesis:us-east-1:000000000000:stream/three"
    );
    assert_eq!(
        d.stream_mode_details().map(|m| m.stream_mode().as_str()),
        Some("PROVISIONED")
    );
    let ranges: Vec<(&str, &str)> = d
        .shards()
        .iter()
        .map(|s| {
            (
                s.hash_key_range().unwrap().starting_hash_key(),
                s.hash_key_range().unwrap().ending_hash_key(),
            )
        })
        .collect();
    assert_eq!(
        ranges,
        vec![
            ("0", "113427455640312821154458202477256070484"),
            (
                "113427455640312821154458202477256070485",
                "226854911280625642308916404954512140969"
            ),
            ("226854911280625642308916404954512140970", MAX_HASH),
        ]
    );
    assert_eq!(d.shards()[0].shard_id(), "shardId-000000000000");
    let start = d.shards()[0]
        .sequence_number_range()
        .unwrap()
        .starting_sequence_number();
    assert_eq!(start.len(), 56, "{start}");
    assert!(d.shards()[0]
        .sequence_number_range()
        .unwrap()
        .ending_sequence_number()
        .is_none());
    assert!(!d.has_more_shards());

    // DescribeStream pages shards with Limit / ExclusiveStartShardId.
    let page = c
        .describe_stream()
        .stream_name("three")
        .limit(2)
        .send()
        .await
        .unwrap()
        .stream_description
        .unwrap();
    assert_eq!(page.shards().len(), 2);
    assert!(page.has_more_shards());
    let rest = c
        .describe_stream()
        .stream_name("three")
        .exclusive_start_shard_id("shardId-000000000001")
        .send()
        .await
        .unwrap()
        .stream_description
        .unwrap();
    assert_eq!(
        rest.shards()
            .iter()
            .map(|s| s.shard_id())
            .collect::<Vec<_>>(),
        vec!["shardId-000000000002"]
    );

    // On-demand streams start with four shards.
    let od = c
        .describe_stream_summary()
        .stream_name("od")
        .send()
        .await
        .unwrap()
        .stream_description_summary
        .unwrap();
    assert_eq!(od.open_shard_count(), 4);
    assert_eq!(
        od.stream_mode_details().map(|m| m.stream_mode().as_str()),
        Some("ON_DEMAND")
    );
    assert_eq!(od.consumer_count(), Some(0));

    // UpdateStreamMode keeps the shards and switches the capacity mode.
    c.update_stream_mode()
        .stream_arn("arn:aws:kinesis:us-east-1:000000000000:stream/od")
        .stream_mode_details(StreamModeDetails::builder().stream_mode(StreamMode::Provisioned).build().unwrap())
        .send()
        .await
        .expect("update_stream_mode");
    let od = c.describe_stream_summary().stream_name("od").send().await.unwrap().stream_description_summary.unwrap();
    assert_eq!(od.stream_mode_details().map(|m| m.stream_mode().as_str()), Some("PROVISIONED"));
    assert_eq!(od.open_shard_count(), 4);
    c.update_stream_mode()
        .stream_arn("arn:aws:kinesis:us-east-1:000000000000:stream/od")
        .stream_mode_details(StreamModeDetails::builder().stream_mode(StreamMode::OnDemand).build().unwrap())
        .send()
        .await
        .expect("back to on-demand");

    // ListStreams: names in order, paginated by NextToken.
    let first = c.list_streams().limit(1).send().await.unwrap();
    assert_eq!(first.stream_names(), ["od"]);
    assert!(first.has_more_streams());
    assert_eq!(
        first.stream_summaries()[0].stream_arn(),
        "arn:aws:kinesis:us-east-1:000000000000:stream/od"
    );
    let second = c
        .list_streams()
        .next_token(first.next_token().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(second.stream_names(), ["three"]);
    assert!(!second.has_more_streams());

    // ListShards: MaxResults, NextToken (without StreamName), ShardFilter.
    let ls = c
        .list_shards()
        .stream_name("three")
        .max_results(2)
        .send()
        .await
        .unwrap();
    assert_eq!(ls.shards().len(), 2);
    let token = ls.next_token().expect("token").to_string();
    let msg = err(
        c.list_shards()
            .stream_name("three")
            .next_token(&token)
            .send()
            .await,
        "InvalidArgumentException",
    );
    assert!(
        msg.contains("NextToken and StreamName cannot be provided together"),
        "{msg}"
    );
    let ls2 = c.list_shards().next_token(&token).send().await.unwrap();
    assert_eq!(
        ls2.shards()
            .iter()
            .map(|s| s.shard_id())
            .collect::<Vec<_>>(),
        vec!["shardId-000000000002"]
    );
    assert!(ls2.next_token().is_none());
    let after = c
        .list_shards()
        .stream_name("three")
        .shard_filter(
            ShardFilter::builder()
                .r#type(ShardFilterType::AfterShardId)
                .shard_id("shardId-000000000000")
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(after.shards().len(), 2);
    let by_arn = c
        .list_shards()
        .stream_arn("arn:aws:kinesis:us-east-1:000000000000:stream/three")
        .exclusive_start_shard_id("shardId-000000000000")
        .send()
        .await
        .unwrap();
    assert_eq!(by_arn.shards().len(), 2);

    let limits = c.describe_limits().send().await.unwrap();
    assert_eq!(limits.open_shard_count(), 7);
    assert_eq!(limits.on_demand_stream_count(), 1);
    assert_eq!(limits.shard_limit(), 500);

    // Unknown streams, deletion.
    let msg = err(
        c.describe_stream().stream_name("nope").send().await,
        "ResourceNotFoundException",
    );
    assert_eq!(msg, "Stream nope under account 000000000000 not found.");
    c.delete_stream()
        .stream_name("three")
        .send()
        .await
        .expect("delete");
    err(
        c.describe_stream_summary()
            .stream_name("three")
            .send()
            .await,
        "ResourceNotFoundException",
    );
    err(
        c.delete_stream().stream_name("three").send().await,
        "ResourceNotFoundException",
    );
    assert_eq!(
        c.list_streams().send().await.unwrap().stream_names(),
        ["od"]
    );

    // Over the account's shard limit.
    let msg = err(
        c.create_stream()
            .stream_name("huge")
            .shard_count(600)
            .send()
            .await,
        "LimitExceededException",
    );
    assert!(
        msg.starts_with(
            "This request would exceed the shard limit for the account 000000000000 in us-east-1."
        ),
        "{msg}"
    );
}

#[tokio::test]
async fn records_are_put_routed_by_hash_key_and_read_back_in_order() {
    let n = start_unlimited();
    let c = client(&n);
    create(&c, "s", 2).await;

    // ExplicitHashKey picks the shard whose range holds it; the MD5 of the partition key otherwise.
    let (shard, seq0) = put(&c, "s", "k", b"first", Some("0")).await;
    assert_eq!(shard, "shardId-000000000000");
    assert_eq!(seq0.len(), 56);
    let (shard, _) = put(&c, "s", "k", b"high", Some(MAX_HASH)).await;
    assert_eq!(shard, "shardId-000000000001");
    let (shard, _) = put(&c, "s", "k", b"mid", Some(HALF_HASH)).await;
    assert_eq!(shard, "shardId-000000000001");
    // md5("a") = 0cc175b9… < 2^127: shard 0.
    let (shard, seq1) = put(&c, "s", "a", b"second", None).await;
    assert_eq!(shard, "shardId-000000000000");
    assert!(seq1 > seq0, "sequence numbers grow within a shard");

    // PutRecords: per-record results in order.
    let mut req = c.put_records().stream_name("s");
    for i in 0..10 {
        req = req.records(
            PutRecordsRequestEntry::builder()
                .partition_key("a")
                .data(Blob::new(format!("r{i}")))
                .build()
                .unwrap(),
        );
    }
    let out = req.send().await.expect("put_records");
    assert_eq!(out.failed_record_count(), Some(0));
    assert_eq!(out.records().len(), 10);
    assert!(out
        .records()
        .iter()
        .all(|r| r.shard_id() == Some("shardId-000000000000")));
    assert_eq!(out.encryption_type(), Some(&EncryptionType::None));
    let seqs: Vec<&str> = out
        .records()
        .iter()
        .map(|r| r.sequence_number().unwrap())
        .collect();
    assert!(seqs.windows(2).all(|w| w[0] < w[1]));

    // TRIM_HORIZON reads the shard in order; Limit bounds a read.
    let it = iterator(
        &c,
        "s",
        "shardId-000000000000",
        ShardIteratorType::TrimHorizon,
        None,
    )
    .await;
    let page = c
        .get_records()
        .shard_iterator(&it)
        .limit(2)
        .send()
        .await
        .unwrap();
    assert_eq!(page.records().len(), 2);
    assert!(page.millis_behind_latest().unwrap_or(0) >= 0);
    assert_eq!(page.records()[0].partition_key(), Some("k"));
    assert!(page.records()[0].approximate_arrival_timestamp().is_some());
    let (data, all_seqs, _) = read_all(&c, it).await;
    let mut want = vec!["first".to_string(), "second".to_string()];
    want.extend((0..10).map(|i| format!("r{i}")));
    assert_eq!(data, want);

    // AT / AFTER_SEQUENCE_NUMBER.
    let at = iterator(
        &c,
        "s",
        "shardId-000000000000",
        ShardIteratorType::AtSequenceNumber,
        Some(&all_seqs[2]),
    )
    .await;
    assert_eq!(
        read_all(&c, at).await.0.first().map(String::as_str),
        Some("r0")
    );
    let after = iterator(
        &c,
        "s",
        "shardId-000000000000",
        ShardIteratorType::AfterSequenceNumber,
        Some(&all_seqs[2]),
    )
    .await;
    assert_eq!(
        read_all(&c, after).await.0.first().map(String::as_str),
        Some("r1")
    );

    // LATEST sees only what comes after it; caught up, MillisBehindLatest is 0.
    let latest = iterator(
        &c,
        "s",
        "shardId-000000000000",
        ShardIteratorType::Latest,
        None,
    )
    .await;
    let empty = c
        .get_records()
        .shard_iterator(&latest)
        .send()
        .await
        .unwrap();
    assert!(empty.records().is_empty());
    assert_eq!(empty.millis_behind_latest(), Some(0));
    put(&c, "s", "a", b"later", None).await;
    let next = empty.next_shard_iterator().unwrap();
    assert_eq!(read_all(&c, next.to_string()).await.0, vec!["later"]);

    // AT_TIMESTAMP: from the first record that arrived at or after the time.
    let ts = c
        .get_shard_iterator()
        .stream_name("s")
        .shard_id("shardId-000000000001")
        .shard_iterator_type(ShardIteratorType::AtTimestamp)
        .timestamp(aws_sdk_kinesis::primitives::DateTime::from_secs(0))
        .send()
        .await
        .unwrap();
    assert_eq!(
        read_all(&c, ts.shard_iterator().unwrap().to_string())
            .await
            .0,
        vec!["high", "mid"]
    );

    // The other shard's sequence number on this shard, a foreign one, a bad shard, a bad iterator.
    let (_, other) = put(&c, "s", "k", b"x", Some(MAX_HASH)).await;
    let msg = err(
        c.get_shard_iterator()
            .stream_name("s")
            .shard_id("shardId-000000000000")
            .shard_iterator_type(ShardIteratorType::AtSequenceNumber)
            .starting_sequence_number(&other)
            .send()
            .await,
        "InvalidArgumentException",
    );
    assert!(msg.contains("shardId-000000000001"), "{msg}");
    let msg = err(
        c.get_shard_iterator()
            .stream_name("s")
            .shard_id("shardId-000000000000")
            .shard_iterator_type(ShardIteratorType::AtSequenceNumber)
            .starting_sequence_number("12345")
            .send()
            .await,
        "InvalidArgumentException",
    );
    assert!(
        msg.contains("is invalid because it did not come from this stream"),
        "{msg}"
    );
    let msg = err(
        c.get_shard_iterator()
            .stream_name("s")
            .shard_id("shardId-000000000009")
            .shard_iterator_type(ShardIteratorType::TrimHorizon)
            .send()
            .await,
        "ResourceNotFoundException",
    );
    assert_eq!(
        msg,
        "Shard shardId-000000000009 in stream s under account 000000000000 does not exist"
    );
    err(
        c.get_records()
            .shard_iterator("not-an-iterator")
            .send()
            .await,
        "InvalidArgumentException",
    );
    err(
        c.get_records()
            .shard_iterator(&latest)
            .limit(10_001)
            .send()
            .await,
        "ValidationException",
    );

    // Bad records: too many, too big, a hash key past 2^128-1, an empty partition key, a missing stream.
    let mut too_many = c.put_records().stream_name("s");
    for _ in 0..501 {
        too_many = too_many.records(
            PutRecordsRequestEntry::builder()
                .partition_key("a")
                .data(Blob::new("x"))
                .build()
                .unwrap(),
        );
    }
    err(too_many.send().await, "ValidationException");
    err(
        c.put_record()
            .stream_name("s")
            .partition_key("a")
            .data(Blob::new(vec![0u8; (10 << 20) + 1]))
            .send()
            .await,
        "ValidationException",
    );
    let msg = err(
        c.put_record()
            .stream_name("s")
            .partition_key("a")
            .data(Blob::new("x"))
            .explicit_hash_key("340282366920938463463374607431768211456")
            .send()
            .await,
        "InvalidArgumentException",
    );
    assert!(msg.starts_with("Invalid ExplicitHashKey."), "{msg}");
    err(
        c.put_record()
            .stream_name("s")
            .partition_key("")
            .data(Blob::new("x"))
            .send()
            .await,
        "ValidationException",
    );
    err(
        c.put_record()
            .stream_name("missing")
            .partition_key("a")
            .data(Blob::new("x"))
            .send()
            .await,
        "ResourceNotFoundException",
    );
    let mut too_big = c.put_records().stream_name("s");
    for _ in 0..6 {
        too_big = too_big.records(
            PutRecordsRequestEntry::builder()
                .partition_key("a")
                .data(Blob::new(vec![1u8; 1 << 20]))
                .build()
                .unwrap(),
        );
    }
    err(too_big.send().await, "InvalidArgumentException");
}

#[tokio::test]
async fn iterators_expire_after_five_minutes_and_retention_trims_records() {
    let n = Nimbus::start_with_clock_control();
    let c = client(&n);
    let name = unique_name("ret");
    create(&c, &name, 1).await;
    put(&c, &name, "a", b"old", None).await;
    let it = iterator(
        &c,
        &name,
        "shardId-000000000000",
        ShardIteratorType::TrimHorizon,
        None,
    )
    .await;
    n.advance_clock(301);
    let msg = err(
        c.get_records().shard_iterator(&it).send().await,
        "ExpiredIteratorException",
    );
    assert!(
        msg.starts_with("Iterator expired. The iterator was created at time "),
        "{msg}"
    );
    assert!(
        msg.ends_with(
            "which is further in the future than the tolerated delay of 300000 milliseconds."
        ),
        "{msg}"
    );

    // Retention: 24 h to 8760 h, each call in its own direction.
    let msg = err(
        c.increase_stream_retention_period()
            .stream_name(&name)
            .retention_period_hours(12)
            .send()
            .await,
        "InvalidArgumentException",
    );
    assert_eq!(msg, "Minimum allowed retention period is 24 hours. Requested retention period (12 hours) is too short.");
    let msg = err(
        c.increase_stream_retention_period()
            .stream_name(&name)
            .retention_period_hours(9000)
            .send()
            .await,
        "InvalidArgumentException",
    );
    assert_eq!(msg, "Maximum allowed retention period is 8760 hours. Requested retention period (9000 hours) is too long.");
    c.increase_stream_retention_period()
        .stream_name(&name)
        .retention_period_hours(48)
        .send()
        .await
        .expect("increase");
    let msg = err(
        c.increase_stream_retention_period()
            .stream_name(&name)
            .retention_period_hours(36)
            .send()
            .await,
        "InvalidArgumentException",
    );
    assert!(
        msg.contains("can not be shorter than existing retention period (48 hours)"),
        "{msg}"
    );
    let msg = err(
        c.decrease_stream_retention_period()
            .stream_name(&name)
            .retention_period_hours(72)
            .send()
            .await,
        "InvalidArgumentException",
    );
    assert!(
        msg.contains("can not be longer than existing retention period (48 hours)"),
        "{msg}"
    );
    c.decrease_stream_retention_period()
        .stream_name(&name)
        .retention_period_hours(24)
        .send()
        .await
        .expect("decrease");
    let d = c
        .describe_stream_summary()
        .stream_name(&name)
        .send()
        .await
        .unwrap()
        .stream_description_summary
        .unwrap();
    assert_eq!(d.retention_period_hours(), 24);

    // A day later the first record is past retention; a new one is still there.
    n.advance_clock(23 * 3600);
    put(&c, &name, "a", b"new", None).await;
    n.advance_clock(3600 + 60);
    let it = iterator(
        &c,
        &name,
        "shardId-000000000000",
        ShardIteratorType::TrimHorizon,
        None,
    )
    .await;
    assert_eq!(read_all(&c, it).await.0, vec!["new"]);
}

#[tokio::test]
async fn tags_and_kms_encryption() {
    let n = Nimbus::start_in_memory();
    let c = client(&n);
    c.create_stream()
        .stream_name("t")
        .shard_count(1)
        .tags("team", "data")
        .send()
        .await
        .expect("create with tags");
    c.add_tags_to_stream()
        .stream_name("t")
        .tags("env", "dev")
        .tags("team", "core")
        .send()
        .await
        .expect("add tags");
    let tags = c
        .list_tags_for_stream()
        .stream_name("t")
        .send()
        .await
        .unwrap();
    assert_eq!(
        tags.tags()
            .iter()
            .map(|t| (t.key(), t.value().unwrap_or("")))
            .collect::<Vec<_>>(),
        vec![("env", "dev"), ("team", "core")]
    );
    assert!(!tags.has_more_tags());
    let page = c
        .list_tags_for_stream()
        .stream_name("t")
        .limit(1)
        .send()
        .await
        .unwrap();
    assert!(page.has_more_tags());
    c.remove_tags_from_stream()
        .stream_name("t")
        .tag_keys("env")
        .send()
        .await
        .unwrap();
    let arn = "arn:aws:kinesis:us-east-1:000000000000:stream/t";
    c.tag_resource()
        .resource_arn(arn)
        .tags("owner", "me")
        .send()
        .await
        .expect("tag_resource");
    c.untag_resource()
        .resource_arn(arn)
        .tag_keys("team")
        .send()
        .await
        .expect("untag_resource");
    let by_arn = c
        .list_tags_for_resource()
        .resource_arn(arn)
        .send()
        .await
        .unwrap();
    assert_eq!(
        by_arn.tags().iter().map(|t| t.key()).collect::<Vec<_>>(),
        vec!["owner"]
    );
    let mut many = c.add_tags_to_stream().stream_name("t");
    for i in 0..50 {
        many = many.tags(format!("k{i}"), "v");
    }
    err(many.send().await, "LimitExceededException");

    // Encryption under nimbus's KMS: the AWS managed key, shown on the stream and records.
    c.start_stream_encryption()
        .stream_name("t")
        .encryption_type(EncryptionType::Kms)
        .key_id("alias/aws/kinesis")
        .send()
        .await
        .expect("start encryption");
    let d = c
        .describe_stream()
        .stream_name("t")
        .send()
        .await
        .unwrap()
        .stream_description
        .unwrap();
    assert_eq!(d.encryption_type(), Some(&EncryptionType::Kms));
    assert_eq!(d.key_id(), Some("alias/aws/kinesis"));
    let out = c
        .put_record()
        .stream_name("t")
        .partition_key("a")
        .data(Blob::new("secret"))
        .send()
        .await
        .unwrap();
    assert_eq!(out.encryption_type(), Some(&EncryptionType::Kms));
    let it = iterator(
        &c,
        "t",
        "shardId-000000000000",
        ShardIteratorType::TrimHorizon,
        None,
    )
    .await;
    let got = c.get_records().shard_iterator(it).send().await.unwrap();
    assert_eq!(got.records()[0].data().as_ref(), b"secret");
    assert_eq!(
        got.records()[0].encryption_type(),
        Some(&EncryptionType::Kms)
    );
    err(
        c.start_stream_encryption()
            .stream_name("t")
            .encryption_type(EncryptionType::Kms)
            .key_id("arn:aws:kms:us-east-1:000000000000:key/00000000-0000-0000-0000-000000000000")
            .send()
            .await,
        "KMSNotFoundException",
    );
    c.stop_stream_encryption()
        .stream_name("t")
        .encryption_type(EncryptionType::Kms)
        .key_id("alias/aws/kinesis")
        .send()
        .await
        .expect("stop");
    let d = c
        .describe_stream_summary()
        .stream_name("t")
        .send()
        .await
        .unwrap()
        .stream_description_summary
        .unwrap();
    assert_eq!(d.encryption_type(), Some(&EncryptionType::None));
}

#[tokio::test]
async fn resharding_closes_parents_and_reads_stay_ordered_across_children() {
    let n = start_unlimited();
    let c = client(&n);
    create(&c, "r", 1).await;
    for i in 0..3 {
        put(&c, "r", "a", format!("p{i}").as_bytes(), None).await;
    }
    // Split the one shard in the middle of the key space.
    c.split_shard()
        .stream_name("r")
        .shard_to_split("shardId-000000000000")
        .new_starting_hash_key(HALF_HASH)
        .send()
        .await
        .expect("split");
    let shards = c.list_shards().stream_name("r").send().await.unwrap();
    let ids: Vec<&str> = shards.shards().iter().map(|s| s.shard_id()).collect();
    assert_eq!(
        ids,
        vec![
            "shardId-000000000000",
            "shardId-000000000001",
            "shardId-000000000002"
        ]
    );
    assert!(
        shards.shards()[0]
            .sequence_number_range()
            .unwrap()
            .ending_sequence_number()
            .is_some(),
        "the parent is closed"
    );
    assert_eq!(
        shards.shards()[1].parent_shard_id(),
        Some("shardId-000000000000")
    );
    assert_eq!(
        shards.shards()[1]
            .hash_key_range()
            .unwrap()
            .ending_hash_key(),
        "170141183460469231731687303715884105727"
    );
    assert_eq!(
        shards.shards()[2]
            .hash_key_range()
            .unwrap()
            .starting_hash_key(),
        HALF_HASH
    );
    let open = c
        .list_shards()
        .stream_name("r")
        .shard_filter(
            ShardFilter::builder()
                .r#type(ShardFilterType::AtLatest)
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(open.shards().len(), 2);

    let (s_low, _) = put(&c, "r", "a", b"low", Some("1")).await;
    let (s_high, _) = put(&c, "r", "a", b"high", Some(MAX_HASH)).await;
    assert_eq!(
        (s_low.as_str(), s_high.as_str()),
        ("shardId-000000000001", "shardId-000000000002")
    );

    // The closed parent reads to its end, then names its children.
    let it = iterator(
        &c,
        "r",
        "shardId-000000000000",
        ShardIteratorType::TrimHorizon,
        None,
    )
    .await;
    let (data, parent_seqs, children) = read_all(&c, it).await;
    assert_eq!(data, vec!["p0", "p1", "p2"]);
    assert_eq!(
        children,
        vec!["shardId-000000000001", "shardId-000000000002"]
    );
    let it = iterator(
        &c,
        "r",
        "shardId-000000000001",
        ShardIteratorType::TrimHorizon,
        None,
    )
    .await;
    let (data, _, _) = read_all(&c, it).await;
    assert_eq!(data, vec!["low"]);
    // Writing to a closed shard's range goes to its child.
    assert!(!parent_seqs.is_empty());

    // Merge the two children back; errors for closed and non-adjacent shards.
    let msg = err(
        c.split_shard()
            .stream_name("r")
            .shard_to_split("shardId-000000000000")
            .new_starting_hash_key(HALF_HASH)
            .send()
            .await,
        "ResourceInUseException",
    );
    assert!(msg.contains("has already been merged or split"), "{msg}");
    err(
        c.split_shard()
            .stream_name("r")
            .shard_to_split("shardId-000000000001")
            .new_starting_hash_key("0")
            .send()
            .await,
        "InvalidArgumentException",
    );
    c.merge_shards()
        .stream_name("r")
        .shard_to_merge("shardId-000000000001")
        .adjacent_shard_to_merge("shardId-000000000002")
        .send()
        .await
        .expect("merge");
    let d = c
        .describe_stream()
        .stream_name("r")
        .send()
        .await
        .unwrap()
        .stream_description
        .unwrap();
    let merged = d
        .shards()
        .iter()
        .find(|s| s.shard_id() == "shardId-000000000003")
        .expect("merged shard");
    assert_eq!(merged.parent_shard_id(), Some("shardId-000000000001"));
    assert_eq!(
        merged.adjacent_parent_shard_id(),
        Some("shardId-000000000002")
    );
    assert_eq!(merged.hash_key_range().unwrap().starting_hash_key(), "0");
    assert_eq!(merged.hash_key_range().unwrap().ending_hash_key(), MAX_HASH);
    let it = iterator(
        &c,
        "r",
        "shardId-000000000002",
        ShardIteratorType::TrimHorizon,
        None,
    )
    .await;
    assert_eq!(read_all(&c, it).await.2, vec!["shardId-000000000003"]);

    // UpdateShardCount: uniform scaling, at most double, at least half.
    let out = c
        .update_shard_count()
        .stream_name("r")
        .target_shard_count(2)
        .scaling_type(ScalingType::UniformScaling)
        .send()
        .await
        .expect("update_shard_count");
    assert_eq!(
        (out.current_shard_count(), out.target_shard_count()),
        (Some(1), Some(2))
    );
    let open = c
        .list_shards()
        .stream_name("r")
        .shard_filter(
            ShardFilter::builder()
                .r#type(ShardFilterType::AtLatest)
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap();
    let ranges: Vec<(&str, &str)> = open
        .shards()
        .iter()
        .map(|s| {
            (
                s.hash_key_range().unwrap().starting_hash_key(),
                s.hash_key_range().unwrap().ending_hash_key(),
            )
        })
        .collect();
    assert_eq!(
        ranges,
        vec![
            ("0", "170141183460469231731687303715884105727"),
            (HALF_HASH, MAX_HASH)
        ]
    );
    assert!(open
        .shards()
        .iter()
        .all(|s| s.parent_shard_id() == Some("shardId-000000000003")));
    let msg = err(
        c.update_shard_count()
            .stream_name("r")
            .target_shard_count(5)
            .scaling_type(ScalingType::UniformScaling)
            .send()
            .await,
        "InvalidArgumentException",
    );
    assert!(msg.contains("cannot scale up over double"), "{msg}");
    let msg = err(
        c.merge_shards()
            .stream_name("r")
            .shard_to_merge("shardId-000000000004")
            .adjacent_shard_to_merge("shardId-000000000004")
            .send()
            .await,
        "InvalidArgumentException",
    );
    assert!(msg.contains("are not an adjacent pair of shards"), "{msg}");
}

#[tokio::test]
async fn per_shard_throughput_limits_and_the_switch_to_turn_them_off() {
    let n = Nimbus::start_with_clock_control();
    let c = client(&n);
    create(&c, "lim", 1).await;
    // 1 MiB/s in: of three 400 KB records in one call, the third is refused.
    let mut req = c.put_records().stream_name("lim");
    for _ in 0..3 {
        req = req.records(
            PutRecordsRequestEntry::builder()
                .partition_key("a")
                .data(Blob::new(vec![7u8; 400_000]))
                .build()
                .unwrap(),
        );
    }
    let out = req.send().await.expect("put_records");
    assert_eq!(out.failed_record_count(), Some(1));
    let failed = &out.records()[2];
    assert_eq!(
        failed.error_code(),
        Some("ProvisionedThroughputExceededException")
    );
    assert_eq!(failed.error_message(), Some("Rate exceeded for shard shardId-000000000000 in stream lim under account 000000000000."));
    assert!(failed.sequence_number().is_none());

    // 2 MiB/s out: a read of ~10 MB holds the shard's next reads back for ~5 s.
    for _ in 0..9 {
        n.advance_clock(1);
        let mut req = c.put_records().stream_name("lim");
        for _ in 0..2 {
            req = req.records(
                PutRecordsRequestEntry::builder()
                    .partition_key("a")
                    .data(Blob::new(vec![7u8; 500_000]))
                    .build()
                    .unwrap(),
            );
        }
        assert_eq!(req.send().await.unwrap().failed_record_count(), Some(0));
    }
    let it = iterator(
        &c,
        "lim",
        "shardId-000000000000",
        ShardIteratorType::TrimHorizon,
        None,
    )
    .await;
    let big = c.get_records().shard_iterator(&it).send().await.unwrap();
    assert!(big.records().len() >= 18);
    let msg = err(
        c.get_records()
            .shard_iterator(big.next_shard_iterator().unwrap())
            .send()
            .await,
        "ProvisionedThroughputExceededException",
    );
    assert!(msg.contains("shardId-000000000000"), "{msg}");

    // Switched off: the same write goes through whole.
    let off = start_unlimited();
    let c = client(&off);
    create(&c, "free", 1).await;
    let mut req = c.put_records().stream_name("free");
    for _ in 0..4 {
        req = req.records(
            PutRecordsRequestEntry::builder()
                .partition_key("a")
                .data(Blob::new(vec![7u8; 400_000]))
                .build()
                .unwrap(),
        );
    }
    assert_eq!(req.send().await.unwrap().failed_record_count(), Some(0));
}

#[tokio::test]
async fn enhanced_fan_out_consumers_are_registered_described_listed_and_deregistered() {
    let n = Nimbus::start_in_memory();
    let c = client(&n);
    create(&c, "efo", 1).await;
    let arn = "arn:aws:kinesis:us-east-1:000000000000:stream/efo";
    let reg = c
        .register_stream_consumer()
        .stream_arn(arn)
        .consumer_name("app")
        .send()
        .await
        .expect("register")
        .consumer
        .unwrap();
    assert!(
        reg.consumer_arn()
            .starts_with("arn:aws:kinesis:us-east-1:000000000000:stream/efo/consumer/app:"),
        "{}",
        reg.consumer_arn()
    );
    assert_eq!(reg.consumer_status().as_str(), "ACTIVE");
    err(
        c.register_stream_consumer()
            .stream_arn(arn)
            .consumer_name("app")
            .send()
            .await,
        "ResourceInUseException",
    );
    let by_arn = c
        .describe_stream_consumer()
        .consumer_arn(reg.consumer_arn())
        .send()
        .await
        .unwrap()
        .consumer_description
        .unwrap();
    assert_eq!(by_arn.stream_arn(), arn);
    let by_name = c
        .describe_stream_consumer()
        .stream_arn(arn)
        .consumer_name("app")
        .send()
        .await
        .unwrap()
        .consumer_description
        .unwrap();
    assert_eq!(by_name.consumer_arn(), reg.consumer_arn());
    c.register_stream_consumer()
        .stream_arn(arn)
        .consumer_name("other")
        .send()
        .await
        .unwrap();
    let page = c
        .list_stream_consumers()
        .stream_arn(arn)
        .max_results(1)
        .send()
        .await
        .unwrap();
    assert_eq!(page.consumers().len(), 1);
    let rest = c
        .list_stream_consumers()
        .stream_arn(arn)
        .next_token(page.next_token().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(rest.consumers()[0].consumer_name(), "other");
    let summary = c
        .describe_stream_summary()
        .stream_name("efo")
        .send()
        .await
        .unwrap()
        .stream_description_summary
        .unwrap();
    assert_eq!(summary.consumer_count(), Some(2));

    // Resource policies on the stream and on a consumer, given back as put.
    let policy = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:root"},"Action":"kinesis:GetRecords","Resource":"*"}]}"#;
    c.put_resource_policy().resource_arn(arn).policy(policy).send().await.expect("put_resource_policy");
    c.put_resource_policy().resource_arn(reg.consumer_arn()).policy(policy).send().await.expect("policy on the consumer");
    assert_eq!(c.get_resource_policy().resource_arn(arn).send().await.unwrap().policy(), policy);
    assert_eq!(c.get_resource_policy().resource_arn(reg.consumer_arn()).send().await.unwrap().policy(), policy);
    err(c.put_resource_policy().resource_arn(arn).policy("not json").send().await, "InvalidArgumentException");
    c.delete_resource_policy().resource_arn(arn).send().await.expect("delete_resource_policy");
    assert_eq!(c.get_resource_policy().resource_arn(arn).send().await.unwrap().policy(), "{}");
    err(c.delete_resource_policy().resource_arn(arn).send().await, "ResourceNotFoundException");

    // A stream with consumers is deleted only with EnforceConsumerDeletion.
    err(
        c.delete_stream().stream_name("efo").send().await,
        "ResourceInUseException",
    );
    c.deregister_stream_consumer()
        .consumer_arn(reg.consumer_arn())
        .send()
        .await
        .expect("deregister");
    err(
        c.describe_stream_consumer()
            .consumer_arn(reg.consumer_arn())
            .send()
            .await,
        "ResourceNotFoundException",
    );
    c.delete_stream()
        .stream_name("efo")
        .enforce_consumer_deletion(true)
        .send()
        .await
        .expect("delete with consumers");
}

/// Acknowledged records survive `kill -9`: every sequence number a PutRecords answered is
/// read back after a restart, in order, with its data.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn acknowledged_records_survive_sigkill() {
    let mut n = Nimbus::start_with(nimbus_tests::StartOptions {
        extra_args: vec!["--kinesis-no-throughput-limits".into()],
        ..Default::default()
    });
    if n.is_external() {
        eprintln!("skipped: crash tests need a spawned server");
        return;
    }
    let c = client(&n);
    create(&c, "crash", 2).await;
    let acked = std::sync::Arc::new(std::sync::Mutex::new(Vec::<(String, String, String)>::new()));
    let mut tasks = Vec::new();
    for t in 0..4 {
        let (c, acked) = (c.clone(), acked.clone());
        tasks.push(tokio::spawn(async move {
            for i in 0..100_000u32 {
                let mut req = c.put_records().stream_name("crash");
                let bodies: Vec<String> = (0..20).map(|j| format!("t{t}-{i}-{j}")).collect();
                for b in &bodies {
                    req = req.records(
                        PutRecordsRequestEntry::builder()
                            .partition_key(b.clone())
                            .data(Blob::new(b.clone()))
                            .build()
                            .unwrap(),
                    );
                }
                let Ok(out) = req.send().await else { return };
                let mut a = acked.lock().unwrap();
                for (b, r) in bodies
                    .iter()
                    .zip(out.records())
                    .filter(|(_, r)| r.error_code().is_none())
                {
                    a.push((
                        r.shard_id().unwrap_or_default().to_string(),
                        r.sequence_number().unwrap_or_default().to_string(),
                        b.clone(),
                    ));
                }
            }
        }));
    }
    while acked.lock().unwrap().len() < 2_000 {
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    n.kill9();
    for t in tasks {
        let _ = t.await;
    }
    n.restart();
    let c = client(&n);
    let mut stored = std::collections::HashMap::new();
    for shard in ["shardId-000000000000", "shardId-000000000001"] {
        let it = iterator(&c, "crash", shard, ShardIteratorType::TrimHorizon, None).await;
        let (data, seqs, _) = read_all(&c, it).await;
        assert!(
            seqs.windows(2).all(|w| w[0] < w[1]),
            "records of {shard} in order"
        );
        for (d, s) in data.into_iter().zip(seqs) {
            stored.insert((shard.to_string(), s), d);
        }
    }
    let acked = acked.lock().unwrap();
    for (shard, seq, body) in acked.iter() {
        assert_eq!(
            stored.get(&(shard.clone(), seq.clone())),
            Some(body),
            "acknowledged record {seq} on {shard} lost"
        );
    }
}

/// The records of the next SubscribeToShardEvent (skipping none), with its continuation
/// and child shards; `None` when the stream ended.
async fn next_event(
    rx: &mut aws_sdk_kinesis::operation::subscribe_to_shard::SubscribeToShardOutput,
) -> Option<(Vec<String>, String, Vec<String>)> {
    use aws_sdk_kinesis::types::SubscribeToShardEventStream as E;
    let got = tokio::time::timeout(std::time::Duration::from_secs(30), rx.event_stream.recv()).await.expect("an event within 30 s").expect("event stream");
    match got? {
        E::SubscribeToShardEvent(ev) => Some((
            ev.records().iter().map(|r| String::from_utf8_lossy(r.data().as_ref()).to_string()).collect(),
            ev.continuation_sequence_number().to_string(),
            ev.child_shards().iter().map(|c| c.shard_id().to_string()).collect(),
        )),
        other => panic!("unexpected event {other:?}"),
    }
}

#[tokio::test]
async fn subscribe_to_shard_streams_records_as_they_arrive_through_the_sdk() {
    let n = Nimbus::start_with_clock_control();
    let c = client(&n);
    create(&c, "fan", 1).await;
    let arn = "arn:aws:kinesis:us-east-1:000000000000:stream/fan";
    let consumer = c.register_stream_consumer().stream_arn(arn).consumer_name("reader").send().await.unwrap().consumer.unwrap().consumer_arn().to_string();
    for i in 0..3 {
        put(&c, "fan", "a", format!("e{i}").as_bytes(), None).await;
    }
    let start = aws_sdk_kinesis::types::StartingPosition::builder().r#type(ShardIteratorType::TrimHorizon).build().unwrap();
    let mut sub = c.subscribe_to_shard().consumer_arn(&consumer).shard_id("shardId-000000000000").starting_position(start.clone()).send().await.expect("subscribe_to_shard");
    let again = c.subscribe_to_shard().consumer_arn(&consumer).shard_id("shardId-000000000000").starting_position(start.clone()).send().await;
    let e = again.expect_err("a second subscription within 5 seconds");
    assert_eq!(aws_sdk_kinesis::error::ProvideErrorMetadata::code(&e), Some("ResourceInUseException"), "{e:?}");
    let (first, _, _) = next_event(&mut sub).await.expect("first event");
    assert_eq!(first, vec!["e0", "e1", "e2"]);

    // Records put later arrive on the open subscription.
    let (_, last_seq) = put(&c, "fan", "a", b"live", None).await;
    let mut seen = Vec::new();
    let mut continuation = String::new();
    while seen.is_empty() {
        let (records, cont, _) = next_event(&mut sub).await.expect("live event");
        seen.extend(records);
        continuation = cont;
    }
    assert_eq!(seen, vec!["live"]);
    assert_eq!(continuation, last_seq);

    // A subscription lasts five minutes of nimbus's clock.
    n.advance_clock(301);
    let mut ended = false;
    for _ in 0..3 {
        if next_event(&mut sub).await.is_none() {
            ended = true;
            break;
        }
    }
    assert!(ended, "the subscription ends after five minutes");

    // Resuming after the continuation; a closed shard ends with its children.
    c.split_shard().stream_name("fan").shard_to_split("shardId-000000000000").new_starting_hash_key(HALF_HASH).send().await.unwrap();
    let after = aws_sdk_kinesis::types::StartingPosition::builder().r#type(ShardIteratorType::AfterSequenceNumber).sequence_number(&continuation).build().unwrap();
    let mut sub = c.subscribe_to_shard().consumer_arn(&consumer).shard_id("shardId-000000000000").starting_position(after).send().await.unwrap();
    let (records, _, children) = next_event(&mut sub).await.expect("closing event");
    assert!(records.is_empty());
    assert_eq!(children, vec!["shardId-000000000001", "shardId-000000000002"]);
    assert!(next_event(&mut sub).await.is_none(), "the stream ends at a closed shard's end");

    // Errors come back before any event, as AWS's errors.
    let err = c.subscribe_to_shard().consumer_arn(format!("{arn}/consumer/nobody:1")).shard_id("shardId-000000000000").starting_position(start.clone()).send().await;
    let e = err.expect_err("unknown consumer");
    assert_eq!(aws_sdk_kinesis::error::ProvideErrorMetadata::code(&e), Some("ResourceNotFoundException"), "{e:?}");
    let err = c.subscribe_to_shard().consumer_arn(&consumer).shard_id("shardId-000000000042").starting_position(start).send().await;
    let e = err.expect_err("unknown shard");
    assert_eq!(aws_sdk_kinesis::error::ProvideErrorMetadata::code(&e), Some("ResourceNotFoundException"), "{e:?}");
}

/// Large records (https://docs.aws.amazon.com/streams/latest/dev/large-records.html):
/// 1 MiB by default, UpdateMaxRecordSize up to 10 MiB (ValidationException outside
/// 1024..10240), PutRecords requests up to 10 MiB, and a large record bursts past the
/// shard's 1 MiB/s, which is then paid off on nimbus's clock.
#[tokio::test]
async fn large_records_need_update_max_record_size_and_burst_past_the_shard_rate() {
    let n = Nimbus::start_with_clock_control();
    let c = client(&n);
    create(&c, "big", 1).await;
    let summary = c.describe_stream_summary().stream_name("big").send().await.unwrap();
    let arn = summary.stream_description_summary().unwrap().stream_arn().to_string();
    assert_eq!(summary.stream_description_summary().unwrap().max_record_size_in_kib(), Some(1024));
    let two_mib = vec![1u8; 2 << 20];
    let msg = err(c.put_record().stream_name("big").partition_key("k").data(Blob::new(two_mib.clone())).send().await, "InvalidArgumentException");
    assert_eq!(msg, format!("The size of the record's data blob and partition key ({} bytes) exceeds the maximum of 1048576 bytes.", (2 << 20) + 1));
    err(c.update_max_record_size().stream_arn(&arn).max_record_size_in_kib(1023).send().await, "ValidationException");
    err(c.update_max_record_size().stream_arn(&arn).max_record_size_in_kib(10241).send().await, "ValidationException");
    err(c.update_max_record_size().stream_arn(format!("{arn}-gone")).max_record_size_in_kib(4096).send().await, "ResourceNotFoundException");
    c.update_max_record_size().stream_arn(&arn).max_record_size_in_kib(4096).send().await.expect("update_max_record_size");
    let summary = c.describe_stream_summary().stream_arn(&arn).send().await.unwrap();
    assert_eq!(summary.stream_description_summary().unwrap().max_record_size_in_kib(), Some(4096));

    // The 2 MiB record now goes in: the shard's second is unused, so it bursts; the shard
    // then owes one more second of writes.
    let (_, seq) = put(&c, "big", "k", &two_mib, None).await;
    let held = err(c.put_record().stream_name("big").partition_key("k").data(Blob::new(vec![1])).send().await, "ProvisionedThroughputExceededException");
    assert!(held.contains("shardId-000000000000"), "{held}");
    n.advance_clock(1);
    assert!(c.put_record().stream_name("big").partition_key("k").data(Blob::new(vec![1])).send().await.is_err(), "still paying off");
    n.advance_clock(1);
    put(&c, "big", "k", b"small", None).await;
    // Read back whole.
    let it = iterator(&c, "big", "shardId-000000000000", ShardIteratorType::AtSequenceNumber, Some(&seq)).await;
    let got = c.get_records().shard_iterator(it).send().await.unwrap();
    assert_eq!(got.records()[0].data().as_ref().len(), 2 << 20);
    // Over the stream's 4 MiB.
    err(c.put_record().stream_name("big").partition_key("k").data(Blob::new(vec![1u8; 4 << 20])).send().await, "InvalidArgumentException");

    // PutRecords: 10 MiB a request (three 3 MiB records fit, four of 2.6 MiB do not).
    let off = start_unlimited();
    let c2 = client(&off);
    create(&c2, "many", 1).await;
    let arn2 = c2.describe_stream_summary().stream_name("many").send().await.unwrap().stream_description_summary().unwrap().stream_arn().to_string();
    c2.update_max_record_size().stream_arn(&arn2).max_record_size_in_kib(10240).send().await.unwrap();
    let entry = || PutRecordsRequestEntry::builder().partition_key("p").data(Blob::new(vec![2u8; 3 << 20])).build().unwrap();
    let ok = c2.put_records().stream_name("many").records(entry()).records(entry()).records(entry()).send().await.unwrap();
    assert_eq!(ok.failed_record_count(), Some(0));
    let over = || PutRecordsRequestEntry::builder().partition_key("p").data(Blob::new(vec![2u8; 2_700_000])).build().unwrap();
    let msg = err(c2.put_records().stream_name("many").records(over()).records(over()).records(over()).records(over()).send().await, "InvalidArgumentException");
    assert!(msg.starts_with("Records size exceeds 10 MB limit."), "{msg}");
}

/// Account settings: the minimum throughput billing commitment, its 24-hour minimum
/// (https://docs.aws.amazon.com/kinesis/latest/APIReference/API_MinimumThroughputBillingCommitmentInput.html),
/// and warm throughput, which needs it, on on-demand streams only.
#[tokio::test]
async fn account_commitment_gates_warm_throughput_and_lasts_a_day() {
    use aws_sdk_kinesis::types::{MinimumThroughputBillingCommitmentInput, MinimumThroughputBillingCommitmentInputStatus as In, MinimumThroughputBillingCommitmentOutputStatus as Out};
    let n = Nimbus::start_with_clock_control();
    let c = client(&n);
    let commitment = |s: In| MinimumThroughputBillingCommitmentInput::builder().status(s).build().unwrap();
    let none = c.describe_account_settings().send().await.unwrap();
    assert_eq!(none.minimum_throughput_billing_commitment().unwrap().status(), &Out::Disabled);
    c.create_stream().stream_name("od").stream_mode_details(StreamModeDetails::builder().stream_mode(StreamMode::OnDemand).build().unwrap()).send().await.unwrap();
    create(&c, "prov", 1).await;
    err(c.update_stream_warm_throughput().stream_name("od").warm_throughput_mibps(100).send().await, "InvalidArgumentException");

    let on = c.update_account_settings().minimum_throughput_billing_commitment(commitment(In::Enabled)).send().await.unwrap();
    let on = on.minimum_throughput_billing_commitment().unwrap();
    assert_eq!(on.status(), &Out::Enabled);
    let started = on.started_at().unwrap().secs();
    assert_eq!(on.earliest_allowed_end_at().unwrap().secs(), started + 24 * 3600);

    let warm = c.update_stream_warm_throughput().stream_name("od").warm_throughput_mibps(100).send().await.unwrap();
    assert_eq!(warm.stream_name(), Some("od"));
    assert_eq!(warm.warm_throughput().unwrap().target_mibps(), Some(100));
    let summary = c.describe_stream_summary().stream_name("od").send().await.unwrap();
    assert_eq!(summary.stream_description_summary().unwrap().warm_throughput().unwrap().current_mibps(), Some(100));
    err(c.update_stream_warm_throughput().stream_name("prov").warm_throughput_mibps(100).send().await, "InvalidArgumentException");
    err(c.update_stream_warm_throughput().stream_name("od").warm_throughput_mibps(20_000).send().await, "LimitExceededException");
    let od2 = c.create_stream().stream_name("od2").stream_mode_details(StreamModeDetails::builder().stream_mode(StreamMode::OnDemand).build().unwrap()).warm_throughput_mibps(50).send().await;
    od2.expect("create_stream with warm throughput");
    let s2 = c.describe_stream_summary().stream_name("od2").send().await.unwrap();
    assert_eq!(s2.stream_description_summary().unwrap().warm_throughput().unwrap().target_mibps(), Some(50));

    // Disabling within the first day keeps it until the earliest end; then it is disabled.
    n.advance_clock(3600);
    let off = c.update_account_settings().minimum_throughput_billing_commitment(commitment(In::Disabled)).send().await.unwrap();
    assert_eq!(off.minimum_throughput_billing_commitment().unwrap().status(), &Out::EnabledUntilEarliestAllowedEnd);
    n.advance_clock(23 * 3600 + 1);
    let later = c.describe_account_settings().send().await.unwrap();
    let later = later.minimum_throughput_billing_commitment().unwrap();
    assert_eq!(later.status(), &Out::Disabled);
    assert_eq!(later.ended_at().unwrap().secs(), started + 24 * 3600);
    err(c.update_stream_warm_throughput().stream_name("od").warm_throughput_mibps(10).send().await, "InvalidArgumentException");
}
