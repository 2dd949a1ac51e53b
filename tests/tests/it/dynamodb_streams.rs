//! DynamoDB Streams through the AWS SDK for Rust: records for every change in order,
//! view types, no-op writes, iterators (types, expiry), disable / re-enable, the TTL
//! sweeper's service-identity records, and durability across kill -9.

use aws_sdk_dynamodb::types::{AttributeDefinition, BillingMode, KeySchemaElement, KeyType, ScalarAttributeType, StreamSpecification, StreamViewType, TimeToLiveSpecification};
use aws_sdk_dynamodb::types::AttributeValue as AV;
use aws_sdk_dynamodbstreams::types::{Record, ShardIteratorType};
use nimbus_tests::{expect_err_code, unique_name, Nimbus};

fn s(v: &str) -> AV {
    AV::S(v.into())
}

async fn table(c: &aws_sdk_dynamodb::Client, view: StreamViewType) -> (String, String) {
    let name = unique_name("strm");
    c.create_table()
        .table_name(&name)
        .attribute_definitions(AttributeDefinition::builder().attribute_name("pk").attribute_type(ScalarAttributeType::S).build().unwrap())
        .key_schema(KeySchemaElement::builder().attribute_name("pk").key_type(KeyType::Hash).build().unwrap())
        .billing_mode(BillingMode::PayPerRequest)
        .stream_specification(StreamSpecification::builder().stream_enabled(true).stream_view_type(view).build().unwrap())
        .send()
        .await
        .unwrap();
    let arn = c.describe_table().table_name(&name).send().await.unwrap().table.unwrap().latest_stream_arn.unwrap();
    (name, arn)
}

async fn all_records(sc: &aws_sdk_dynamodbstreams::Client, arn: &str) -> Vec<Record> {
    let d = sc.describe_stream().stream_arn(arn).send().await.unwrap().stream_description.unwrap();
    let shard = d.shards()[0].shard_id.clone().unwrap();
    let mut it = sc.get_shard_iterator().stream_arn(arn).shard_id(&shard).shard_iterator_type(ShardIteratorType::TrimHorizon).send().await.unwrap().shard_iterator;
    let mut out = Vec::new();
    while let Some(i) = it {
        let r = sc.get_records().shard_iterator(i).limit(2).send().await.unwrap();
        let n = r.records().len();
        out.extend(r.records().iter().cloned());
        it = r.next_shard_iterator;
        if n == 0 {
            break;
        }
    }
    out
}

#[tokio::test]
async fn records_in_order_with_images() {
    let n = Nimbus::start_in_memory();
    let c = n.dynamodb_client();
    let sc = n.streams_client();
    let (t, arn) = table(&c, StreamViewType::NewAndOldImages).await;
    c.put_item().table_name(&t).item("pk", s("a")).item("v", s("1")).send().await.unwrap();
    c.put_item().table_name(&t).item("pk", s("a")).item("v", s("1")).send().await.unwrap(); // no change: no record
    c.update_item().table_name(&t).key("pk", s("a")).update_expression("SET v = :v").expression_attribute_values(":v", s("2")).send().await.unwrap();
    c.delete_item().table_name(&t).key("pk", s("a")).send().await.unwrap();
    c.delete_item().table_name(&t).key("pk", s("a")).send().await.unwrap(); // nothing to delete
    let recs = all_records(&sc, &arn).await;
    let names: Vec<String> = recs.iter().map(|r| r.event_name.clone().unwrap().as_str().to_string()).collect();
    assert_eq!(names, vec!["INSERT", "MODIFY", "REMOVE"]);
    let seqs: Vec<u128> = recs.iter().map(|r| r.dynamodb.as_ref().unwrap().sequence_number.clone().unwrap().parse().unwrap()).collect();
    assert!(seqs.windows(2).all(|w| w[0] < w[1]));
    assert!(recs[0].dynamodb.as_ref().unwrap().sequence_number.as_ref().unwrap().len() >= 21);
    let m = recs[1].dynamodb.as_ref().unwrap();
    assert_eq!(m.old_image.as_ref().unwrap()["v"], aws_sdk_dynamodbstreams::types::AttributeValue::S("1".into()));
    assert_eq!(m.new_image.as_ref().unwrap()["v"], aws_sdk_dynamodbstreams::types::AttributeValue::S("2".into()));
    assert_eq!(recs[0].event_source.as_deref(), Some("aws:dynamodb"));
    assert_eq!(recs[0].event_version.as_deref(), Some("1.1"));
    assert_eq!(recs[0].aws_region.as_deref(), Some("us-east-1"));
    let listed = sc.list_streams().table_name(&t).send().await.unwrap();
    assert_eq!(listed.streams().len(), 1);
}

#[tokio::test]
async fn keys_only_iterators_and_disable() {
    let n = Nimbus::start_in_memory();
    let c = n.dynamodb_client();
    let sc = n.streams_client();
    let (t, arn) = table(&c, StreamViewType::KeysOnly).await;
    for i in 0..3 {
        c.put_item().table_name(&t).item("pk", s(&format!("k{i}"))).item("v", s("x")).send().await.unwrap();
    }
    let recs = all_records(&sc, &arn).await;
    assert_eq!(recs.len(), 3);
    let d = recs[0].dynamodb.as_ref().unwrap();
    assert!(d.new_image.is_none() && d.old_image.is_none() && d.keys.is_some());
    let first_seq = d.sequence_number.clone().unwrap();
    let shard = sc.describe_stream().stream_arn(&arn).send().await.unwrap().stream_description.unwrap().shards()[0].shard_id.clone().unwrap();
    let after = sc
        .get_shard_iterator()
        .stream_arn(&arn)
        .shard_id(&shard)
        .shard_iterator_type(ShardIteratorType::AfterSequenceNumber)
        .sequence_number(&first_seq)
        .send()
        .await
        .unwrap();
    let r = sc.get_records().shard_iterator(after.shard_iterator.unwrap()).send().await.unwrap();
    assert_eq!(r.records().len(), 2);
    let latest = sc.get_shard_iterator().stream_arn(&arn).shard_id(&shard).shard_iterator_type(ShardIteratorType::Latest).send().await.unwrap();
    let r = sc.get_records().shard_iterator(latest.shard_iterator.unwrap()).send().await.unwrap();
    assert!(r.records().is_empty());
    // Disabling closes the shard: an iterator reaches its end.
    c.update_table().table_name(&t).stream_specification(StreamSpecification::builder().stream_enabled(false).build().unwrap()).send().await.unwrap();
    let desc = sc.describe_stream().stream_arn(&arn).send().await.unwrap().stream_description.unwrap();
    assert_eq!(desc.stream_status.as_ref().unwrap().as_str(), "DISABLED");
    assert!(desc.shards()[0].sequence_number_range.as_ref().unwrap().ending_sequence_number.is_some());
    let it = sc.get_shard_iterator().stream_arn(&arn).shard_id(&shard).shard_iterator_type(ShardIteratorType::TrimHorizon).send().await.unwrap();
    let r = sc.get_records().shard_iterator(it.shard_iterator.unwrap()).send().await.unwrap();
    assert_eq!(r.records().len(), 3);
    assert!(r.next_shard_iterator.is_none());
    expect_err_code(sc.describe_stream().stream_arn(format!("{arn}x")).send().await, "ResourceNotFoundException");
}

#[tokio::test]
async fn iterator_expiry_and_ttl_sweeper() {
    let n = Nimbus::start_with_clock_control();
    let c = n.dynamodb_client();
    let sc = n.streams_client();
    let (t, arn) = table(&c, StreamViewType::OldImage).await;
    c.update_time_to_live()
        .table_name(&t)
        .time_to_live_specification(TimeToLiveSpecification::builder().enabled(true).attribute_name("exp").build().unwrap())
        .send()
        .await
        .unwrap();
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs();
    c.put_item().table_name(&t).item("pk", s("old")).item("exp", AV::N((now + 60).to_string())).send().await.unwrap();
    c.put_item().table_name(&t).item("pk", s("keep")).item("exp", AV::N((now + 100_000).to_string())).send().await.unwrap();
    let shard = sc.describe_stream().stream_arn(&arn).send().await.unwrap().stream_description.unwrap().shards()[0].shard_id.clone().unwrap();
    let it = sc.get_shard_iterator().stream_arn(&arn).shard_id(&shard).shard_iterator_type(ShardIteratorType::TrimHorizon).send().await.unwrap().shard_iterator.unwrap();
    n.advance_clock(16 * 60);
    expect_err_code(sc.get_records().shard_iterator(it).send().await, "ExpiredIteratorException");
    // The sweeper wakes on the clock jump and deletes the expired item.
    let mut gone = false;
    for _ in 0..50 {
        if c.get_item().table_name(&t).key("pk", s("old")).send().await.unwrap().item.is_none() {
            gone = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert!(gone, "expired item deleted by the TTL sweeper");
    assert!(c.get_item().table_name(&t).key("pk", s("keep")).send().await.unwrap().item.is_some());
    let recs = all_records(&sc, &arn).await;
    let remove = recs.iter().find(|r| r.event_name.as_ref().map(|e| e.as_str()) == Some("REMOVE")).expect("a REMOVE record");
    let who = remove.user_identity.as_ref().unwrap();
    assert_eq!(who.r#type.as_deref(), Some("Service"));
    assert_eq!(who.principal_id.as_deref(), Some("dynamodb.amazonaws.com"));
}
