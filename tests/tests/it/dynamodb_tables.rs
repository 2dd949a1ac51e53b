//! DynamoDB control plane through the AWS SDK for Rust: tables, indexes, streams
//! settings, TTL, tags, limits, endpoints, waiters and AWS's errors.

use aws_sdk_dynamodb::types::{
    AttributeDefinition, BillingMode, CreateGlobalSecondaryIndexAction, GlobalSecondaryIndex, GlobalSecondaryIndexUpdate, KeySchemaElement, KeyType, LocalSecondaryIndex,
    Projection, ProjectionType, ProvisionedThroughput, ScalarAttributeType, StreamSpecification, StreamViewType, Tag, TableStatus, TimeToLiveSpecification,
};
use aws_sdk_dynamodb::types::AttributeValue as AV;
use aws_sdk_dynamodb::client::Waiters;
use aws_sdk_dynamodb::Client;
use nimbus_tests::{expect_err_code, unique_name, Nimbus};
use std::time::Duration;

fn attr(name: &str, t: ScalarAttributeType) -> AttributeDefinition {
    AttributeDefinition::builder().attribute_name(name).attribute_type(t).build().unwrap()
}
fn key(name: &str, t: KeyType) -> KeySchemaElement {
    KeySchemaElement::builder().attribute_name(name).key_type(t).build().unwrap()
}

async fn simple_table(c: &Client, name: &str) {
    c.create_table()
        .table_name(name)
        .attribute_definitions(attr("pk", ScalarAttributeType::S))
        .key_schema(key("pk", KeyType::Hash))
        .billing_mode(BillingMode::PayPerRequest)
        .send()
        .await
        .unwrap();
}

#[tokio::test]
async fn create_describe_waiters_delete() {
    let n = Nimbus::start_in_memory();
    let c = n.dynamodb_client();
    let name = unique_name("tbl");
    let out = c
        .create_table()
        .table_name(&name)
        .attribute_definitions(attr("pk", ScalarAttributeType::S))
        .attribute_definitions(attr("sk", ScalarAttributeType::N))
        .attribute_definitions(attr("lsk", ScalarAttributeType::S))
        .attribute_definitions(attr("gpk", ScalarAttributeType::B))
        .key_schema(key("pk", KeyType::Hash))
        .key_schema(key("sk", KeyType::Range))
        .local_secondary_indexes(
            LocalSecondaryIndex::builder()
                .index_name("by_lsk")
                .key_schema(key("pk", KeyType::Hash))
                .key_schema(key("lsk", KeyType::Range))
                .projection(Projection::builder().projection_type(ProjectionType::KeysOnly).build())
                .build()
                .unwrap(),
        )
        .global_secondary_indexes(
            GlobalSecondaryIndex::builder()
                .index_name("by_gpk")
                .key_schema(key("gpk", KeyType::Hash))
                .projection(Projection::builder().projection_type(ProjectionType::Include).non_key_attributes("x").build())
                .provisioned_throughput(ProvisionedThroughput::builder().read_capacity_units(5).write_capacity_units(5).build().unwrap())
                .build()
                .unwrap(),
        )
        .provisioned_throughput(ProvisionedThroughput::builder().read_capacity_units(5).write_capacity_units(7).build().unwrap())
        .stream_specification(StreamSpecification::builder().stream_enabled(true).stream_view_type(StreamViewType::NewImage).build().unwrap())
        .tags(Tag::builder().key("team").value("core").build().unwrap())
        .deletion_protection_enabled(true)
        .send()
        .await
        .unwrap();
    let d = out.table_description.unwrap();
    assert_eq!(d.table_status, Some(TableStatus::Creating));
    c.wait_until_table_exists().table_name(&name).wait(Duration::from_secs(10)).await.unwrap();
    let t = c.describe_table().table_name(&name).send().await.unwrap().table.unwrap();
    assert_eq!(t.table_status, Some(TableStatus::Active));
    assert_eq!(t.item_count, Some(0));
    assert_eq!(t.provisioned_throughput.as_ref().unwrap().write_capacity_units, Some(7));
    assert_eq!(t.local_secondary_indexes().len(), 1);
    let g = &t.global_secondary_indexes()[0];
    assert_eq!(g.index_status.as_ref().map(|s| s.as_str()), Some("ACTIVE"));
    let arn = t.latest_stream_arn.clone().unwrap();
    let label = t.latest_stream_label.clone().unwrap();
    assert_eq!(arn, format!("{}/stream/{}", t.table_arn.clone().unwrap(), label));
    assert_eq!(t.deletion_protection_enabled, Some(true));
    // Deletion protection.
    expect_err_code(c.delete_table().table_name(&name).send().await, "ValidationException");
    c.update_table().table_name(&name).deletion_protection_enabled(false).send().await.unwrap();
    // Duplicate create.
    expect_err_code(
        c.create_table()
            .table_name(&name)
            .attribute_definitions(attr("pk", ScalarAttributeType::S))
            .key_schema(key("pk", KeyType::Hash))
            .billing_mode(BillingMode::PayPerRequest)
            .send()
            .await,
        "ResourceInUseException",
    );
    let del = c.delete_table().table_name(&name).send().await.unwrap();
    assert_eq!(del.table_description.unwrap().table_status, Some(TableStatus::Deleting));
    c.wait_until_table_not_exists().table_name(&name).wait(Duration::from_secs(10)).await.unwrap();
    let e = expect_err_code(c.describe_table().table_name(&name).send().await, "ResourceNotFoundException");
    assert!(format!("{e:?}").contains("Requested resource not found"));
    expect_err_code(c.get_item().table_name(&name).key("pk", AV::S("a".into())).send().await, "ResourceNotFoundException");
}

#[tokio::test]
async fn create_table_validation() {
    let n = Nimbus::start_in_memory();
    let c = n.dynamodb_client();
    // Key attribute not defined.
    expect_err_code(
        c.create_table()
            .table_name("valid_name")
            .attribute_definitions(attr("other", ScalarAttributeType::S))
            .key_schema(key("pk", KeyType::Hash))
            .billing_mode(BillingMode::PayPerRequest)
            .send()
            .await,
        "ValidationException",
    );
    // PROVISIONED without throughput.
    expect_err_code(
        c.create_table().table_name("valid_name").attribute_definitions(attr("pk", ScalarAttributeType::S)).key_schema(key("pk", KeyType::Hash)).send().await,
        "ValidationException",
    );
    // Unused attribute definition.
    expect_err_code(
        c.create_table()
            .table_name("valid_name")
            .attribute_definitions(attr("pk", ScalarAttributeType::S))
            .attribute_definitions(attr("extra", ScalarAttributeType::S))
            .key_schema(key("pk", KeyType::Hash))
            .billing_mode(BillingMode::PayPerRequest)
            .send()
            .await,
        "ValidationException",
    );
}

#[tokio::test]
async fn list_tables_paginates() {
    let n = Nimbus::start_in_memory();
    let c = n.dynamodb_client();
    for i in 0..7 {
        simple_table(&c, &format!("list-{i:02}")).await;
    }
    let mut seen = Vec::new();
    let mut start: Option<String> = None;
    loop {
        let out = c.list_tables().limit(3).set_exclusive_start_table_name(start.clone()).send().await.unwrap();
        seen.extend(out.table_names().iter().cloned());
        start = out.last_evaluated_table_name;
        if start.is_none() {
            break;
        }
    }
    assert_eq!(seen, (0..7).map(|i| format!("list-{i:02}")).collect::<Vec<_>>());
    let all: Vec<String> = c.list_tables().into_paginator().items().send().collect::<Result<Vec<_>, _>>().await.unwrap();
    assert_eq!(all.len(), 7);
}

#[tokio::test]
async fn update_table_gsi_backfill_stream_and_billing() {
    let n = Nimbus::start_in_memory();
    let c = n.dynamodb_client();
    let name = unique_name("upd");
    simple_table(&c, &name).await;
    for i in 0..5 {
        let mut put = c.put_item().table_name(&name).item("pk", AV::S(format!("k{i}")));
        if i % 2 == 0 {
            put = put.item("g", AV::S("even".into()));
        }
        put.send().await.unwrap();
    }
    let out = c
        .update_table()
        .table_name(&name)
        .attribute_definitions(attr("g", ScalarAttributeType::S))
        .global_secondary_index_updates(
            GlobalSecondaryIndexUpdate::builder()
                .create(
                    CreateGlobalSecondaryIndexAction::builder()
                        .index_name("by_g")
                        .key_schema(key("g", KeyType::Hash))
                        .projection(Projection::builder().projection_type(ProjectionType::All).build())
                        .build()
                        .unwrap(),
                )
                .build(),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(out.table_description.unwrap().table_status, Some(TableStatus::Updating));
    let q = c
        .query()
        .table_name(&name)
        .index_name("by_g")
        .key_condition_expression("g = :g")
        .expression_attribute_values(":g", AV::S("even".into()))
        .send()
        .await
        .unwrap();
    assert_eq!(q.count, 3, "the new index was backfilled (sparse: only items with g)");
    let t = c.describe_table().table_name(&name).send().await.unwrap().table.unwrap();
    assert_eq!(t.global_secondary_indexes()[0].item_count, Some(3));
    assert_eq!(t.item_count, Some(5));

    // Enable a stream, disable it, enable again: a new stream ARN and label.
    let spec = |on: bool| {
        let b = StreamSpecification::builder().stream_enabled(on);
        if on { b.stream_view_type(StreamViewType::KeysOnly) } else { b }.build().unwrap()
    };
    c.update_table().table_name(&name).stream_specification(spec(true)).send().await.unwrap();
    let first = c.describe_table().table_name(&name).send().await.unwrap().table.unwrap().latest_stream_arn.unwrap();
    expect_err_code(c.update_table().table_name(&name).stream_specification(spec(true)).send().await, "ValidationException");
    c.update_table().table_name(&name).stream_specification(spec(false)).send().await.unwrap();
    let t = c.describe_table().table_name(&name).send().await.unwrap().table.unwrap();
    assert_eq!(t.stream_specification.unwrap().stream_enabled, false);
    tokio::time::sleep(Duration::from_millis(5)).await;
    c.update_table().table_name(&name).stream_specification(spec(true)).send().await.unwrap();
    let second = c.describe_table().table_name(&name).send().await.unwrap().table.unwrap().latest_stream_arn.unwrap();
    assert_ne!(first, second);

    // Billing mode change.
    c.update_table()
        .table_name(&name)
        .billing_mode(BillingMode::Provisioned)
        .provisioned_throughput(ProvisionedThroughput::builder().read_capacity_units(3).write_capacity_units(4).build().unwrap())
        .send()
        .await
        .unwrap();
    let t = c.describe_table().table_name(&name).send().await.unwrap().table.unwrap();
    assert_eq!(t.provisioned_throughput.unwrap().read_capacity_units, Some(3));

    // Delete the index.
    c.update_table()
        .table_name(&name)
        .global_secondary_index_updates(
            GlobalSecondaryIndexUpdate::builder()
                .delete(aws_sdk_dynamodb::types::DeleteGlobalSecondaryIndexAction::builder().index_name("by_g").build().unwrap())
                .build(),
        )
        .send()
        .await
        .unwrap();
    let t = c.describe_table().table_name(&name).send().await.unwrap().table.unwrap();
    assert!(t.global_secondary_indexes().is_empty());
    expect_err_code(
        c.query().table_name(&name).index_name("by_g").key_condition_expression("g = :g").expression_attribute_values(":g", AV::S("x".into())).send().await,
        "ValidationException",
    );
    expect_err_code(c.update_table().table_name(&name).send().await, "ValidationException");
}

#[tokio::test]
async fn ttl_tags_limits_endpoints() {
    let n = Nimbus::start_in_memory();
    let c = n.dynamodb_client();
    let name = unique_name("ttl");
    simple_table(&c, &name).await;
    let d = c.describe_time_to_live().table_name(&name).send().await.unwrap();
    assert_eq!(d.time_to_live_description.unwrap().time_to_live_status.unwrap().as_str(), "DISABLED");
    let spec = |on| TimeToLiveSpecification::builder().enabled(on).attribute_name("exp").build().unwrap();
    c.update_time_to_live().table_name(&name).time_to_live_specification(spec(true)).send().await.unwrap();
    let d = c.describe_time_to_live().table_name(&name).send().await.unwrap().time_to_live_description.unwrap();
    assert_eq!(d.time_to_live_status.unwrap().as_str(), "ENABLED");
    assert_eq!(d.attribute_name.as_deref(), Some("exp"));
    expect_err_code(c.update_time_to_live().table_name(&name).time_to_live_specification(spec(true)).send().await, "ValidationException");
    c.update_time_to_live().table_name(&name).time_to_live_specification(spec(false)).send().await.unwrap();

    let arn = c.describe_table().table_name(&name).send().await.unwrap().table.unwrap().table_arn.unwrap();
    c.tag_resource().resource_arn(&arn).tags(Tag::builder().key("a").value("1").build().unwrap()).tags(Tag::builder().key("b").value("2").build().unwrap()).send().await.unwrap();
    c.untag_resource().resource_arn(&arn).tag_keys("a").send().await.unwrap();
    let tags = c.list_tags_of_resource().resource_arn(&arn).send().await.unwrap();
    assert_eq!(tags.tags().len(), 1);
    assert_eq!(tags.tags()[0].key, "b");
    expect_err_code(
        c.list_tags_of_resource().resource_arn(format!("{arn}-missing")).send().await,
        "ResourceNotFoundException",
    );
    let l = c.describe_limits().send().await.unwrap();
    assert!(l.table_max_read_capacity_units.unwrap() > 0);
    let e = c.describe_endpoints().send().await.unwrap();
    assert_eq!(e.endpoints().len(), 1);
}
