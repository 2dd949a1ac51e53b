//! DynamoDB data plane through the AWS SDK for Rust: single-item writes and reads,
//! conditions and ReturnValues, limits, Query / Scan, batches and transactions.

use aws_sdk_dynamodb::types::{
    AttributeDefinition, BillingMode, ConditionCheck, Delete, GlobalSecondaryIndex, KeySchemaElement, KeyType, KeysAndAttributes, Projection, ProjectionType, Put,
    PutRequest, ReturnConsumedCapacity, ReturnValue, ReturnValuesOnConditionCheckFailure, ScalarAttributeType, Select, TransactGetItem, TransactWriteItem, Update,
    WriteRequest, Get,
};
use aws_sdk_dynamodb::types::AttributeValue as AV;
use aws_sdk_dynamodb::Client;
use nimbus_tests::{expect_err_code, unique_name, Nimbus};
use std::collections::HashMap;

fn s(v: &str) -> AV {
    AV::S(v.into())
}
fn n(v: i64) -> AV {
    AV::N(v.to_string())
}

/// pk (S) + sk (N), GSI on g (KEYS_ONLY).
async fn table(c: &Client) -> String {
    let name = unique_name("items");
    let ad = |a: &str, t| AttributeDefinition::builder().attribute_name(a).attribute_type(t).build().unwrap();
    let ks = |a: &str, t| KeySchemaElement::builder().attribute_name(a).key_type(t).build().unwrap();
    c.create_table()
        .table_name(&name)
        .attribute_definitions(ad("pk", ScalarAttributeType::S))
        .attribute_definitions(ad("sk", ScalarAttributeType::N))
        .attribute_definitions(ad("g", ScalarAttributeType::S))
        .key_schema(ks("pk", KeyType::Hash))
        .key_schema(ks("sk", KeyType::Range))
        .global_secondary_indexes(
            GlobalSecondaryIndex::builder()
                .index_name("by_g")
                .key_schema(ks("g", KeyType::Hash))
                .key_schema(ks("sk", KeyType::Range))
                .projection(Projection::builder().projection_type(ProjectionType::KeysOnly).build())
                .build()
                .unwrap(),
        )
        .billing_mode(BillingMode::PayPerRequest)
        .send()
        .await
        .unwrap();
    name
}

#[tokio::test]
async fn put_get_update_delete_with_conditions() {
    let nim = Nimbus::start_in_memory();
    let c = nim.dynamodb_client();
    let t = table(&c).await;
    c.put_item().table_name(&t).item("pk", s("a")).item("sk", n(1)).item("v", s("one")).item("empty", s("")).send().await.unwrap();
    let got = c.get_item().table_name(&t).key("pk", s("a")).key("sk", n(1)).consistent_read(true).send().await.unwrap().item.unwrap();
    assert_eq!(got["v"], s("one"));
    assert_eq!(got["empty"], s(""), "empty strings are allowed outside keys");
    // Projection.
    let got = c.get_item().table_name(&t).key("pk", s("a")).key("sk", n(1)).projection_expression("#v").expression_attribute_names("#v", "v").send().await.unwrap();
    assert_eq!(got.item.unwrap().len(), 1);
    // Put with ALL_OLD.
    let out = c.put_item().table_name(&t).item("pk", s("a")).item("sk", n(1)).item("v", s("two")).return_values(ReturnValue::AllOld).send().await.unwrap();
    assert_eq!(out.attributes.unwrap()["v"], s("one"));
    // Condition failure with the old item.
    let err = expect_err_code(
        c.put_item()
            .table_name(&t)
            .item("pk", s("a"))
            .item("sk", n(1))
            .condition_expression("attribute_not_exists(pk)")
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
            .send()
            .await,
        "ConditionalCheckFailedException",
    );
    let svc = err.into_service_error();
    assert!(svc.to_string().contains("The conditional request failed"));
    match svc {
        aws_sdk_dynamodb::operation::put_item::PutItemError::ConditionalCheckFailedException(e) => assert_eq!(e.item.unwrap()["v"], s("two")),
        other => panic!("{other:?}"),
    }
    // Update with UPDATED_OLD / UPDATED_NEW / ALL_NEW.
    let out = c
        .update_item()
        .table_name(&t)
        .key("pk", s("a"))
        .key("sk", n(1))
        .update_expression("SET v = :v, c = :one")
        .expression_attribute_values(":v", s("three"))
        .expression_attribute_values(":one", n(1))
        .return_values(ReturnValue::UpdatedOld)
        .send()
        .await
        .unwrap();
    let old = out.attributes.unwrap();
    assert_eq!(old.len(), 1);
    assert_eq!(old["v"], s("two"));
    let out = c
        .update_item()
        .table_name(&t)
        .key("pk", s("a"))
        .key("sk", n(1))
        .update_expression("ADD c :one")
        .condition_expression("c = :one")
        .expression_attribute_values(":one", n(1))
        .return_values(ReturnValue::UpdatedNew)
        .return_consumed_capacity(ReturnConsumedCapacity::Total)
        .send()
        .await
        .unwrap();
    assert_eq!(out.attributes.unwrap()["c"], n(2));
    assert!(out.consumed_capacity.unwrap().capacity_units.unwrap() >= 1.0);
    // Upsert through UpdateItem, ALL_NEW.
    let out = c
        .update_item()
        .table_name(&t)
        .key("pk", s("b"))
        .key("sk", n(2))
        .update_expression("SET x = :x")
        .expression_attribute_values(":x", n(5))
        .return_values(ReturnValue::AllNew)
        .send()
        .await
        .unwrap();
    assert_eq!(out.attributes.unwrap().len(), 3);
    // Delete with a failing then passing condition.
    expect_err_code(
        c.delete_item().table_name(&t).key("pk", s("b")).key("sk", n(2)).condition_expression("x = :y").expression_attribute_values(":y", n(6)).send().await,
        "ConditionalCheckFailedException",
    );
    let out = c.delete_item().table_name(&t).key("pk", s("b")).key("sk", n(2)).return_values(ReturnValue::AllOld).send().await.unwrap();
    assert_eq!(out.attributes.unwrap()["x"], n(5));
    assert!(c.get_item().table_name(&t).key("pk", s("b")).key("sk", n(2)).send().await.unwrap().item.is_none());
}

#[tokio::test]
async fn validation_errors() {
    let nim = Nimbus::start_in_memory();
    let c = nim.dynamodb_client();
    let t = table(&c).await;
    // Missing key, wrong key type, empty key, oversized items and keys.
    expect_err_code(c.put_item().table_name(&t).item("pk", s("a")).send().await, "ValidationException");
    expect_err_code(c.put_item().table_name(&t).item("pk", n(1)).item("sk", n(1)).send().await, "ValidationException");
    expect_err_code(c.put_item().table_name(&t).item("pk", s("")).item("sk", n(1)).send().await, "ValidationException");
    expect_err_code(c.put_item().table_name(&t).item("pk", s("a")).item("sk", n(1)).item("g", s("")).send().await, "ValidationException");
    expect_err_code(c.put_item().table_name(&t).item("pk", s("a")).item("sk", n(1)).item("g", n(3)).send().await, "ValidationException");
    let big = "x".repeat(400 * 1024);
    expect_err_code(c.put_item().table_name(&t).item("pk", s("a")).item("sk", n(1)).item("big", s(&big)).send().await, "ValidationException");
    let almost = "x".repeat(400 * 1024 - 100);
    c.put_item().table_name(&t).item("pk", s("a")).item("sk", n(1)).item("big", s(&almost)).send().await.unwrap();
    expect_err_code(c.put_item().table_name(&t).item("pk", s(&"k".repeat(2049))).item("sk", n(1)).send().await, "ValidationException");
    c.put_item().table_name(&t).item("pk", s(&"k".repeat(2048))).item("sk", n(1)).send().await.unwrap();
    expect_err_code(c.get_item().table_name(&t).key("pk", s("a")).send().await, "ValidationException");
    // Legacy parameters work (dynamodb_legacy.rs covers them); mixing them with
    // expressions is refused as AWS refuses it.
    expect_err_code(
        c.get_item().table_name(&t).key("pk", s("a")).key("sk", n(1)).attributes_to_get("v").projection_expression("pk").send().await,
        "ValidationException",
    );
    // Unused expression values.
    expect_err_code(
        c.put_item().table_name(&t).item("pk", s("a")).item("sk", n(1)).condition_expression("attribute_exists(pk)").expression_attribute_values(":unused", n(1)).send().await,
        "ValidationException",
    );
}

#[tokio::test]
async fn query_scan_pagination_indexes() {
    let nim = Nimbus::start_in_memory();
    let c = nim.dynamodb_client();
    let t = table(&c).await;
    for i in 0..20 {
        let mut p = c.put_item().table_name(&t).item("pk", s(if i < 15 { "p" } else { "q" })).item("sk", n(i)).item("v", n(i * 10));
        if i % 3 == 0 {
            p = p.item("g", s("three"));
        }
        p.send().await.unwrap();
    }
    let q = c
        .query()
        .table_name(&t)
        .key_condition_expression("pk = :p AND sk BETWEEN :a AND :b")
        .expression_attribute_values(":p", s("p"))
        .expression_attribute_values(":a", n(3))
        .expression_attribute_values(":b", n(9))
        .scan_index_forward(false)
        .send()
        .await
        .unwrap();
    let sks: Vec<AV> = q.items().iter().map(|i| i["sk"].clone()).collect();
    assert_eq!(sks, (3..=9).rev().map(n).collect::<Vec<_>>());
    // Pagination with Limit + filter.
    let mut start = None;
    let mut got = Vec::new();
    let mut pages = 0;
    loop {
        let out = c
            .query()
            .table_name(&t)
            .key_condition_expression("pk = :p")
            .filter_expression("v >= :min")
            .expression_attribute_values(":p", s("p"))
            .expression_attribute_values(":min", n(50))
            .limit(4)
            .set_exclusive_start_key(start.take())
            .send()
            .await
            .unwrap();
        pages += 1;
        got.extend(out.items().iter().map(|i| i["sk"].clone()));
        match out.last_evaluated_key {
            Some(k) => start = Some(k),
            None => break,
        }
    }
    assert_eq!(got, (5..15).map(n).collect::<Vec<_>>());
    assert_eq!(pages, 4);
    // COUNT.
    let cnt = c.query().table_name(&t).key_condition_expression("pk = :p").expression_attribute_values(":p", s("q")).select(Select::Count).send().await.unwrap();
    assert_eq!(cnt.count, 5);
    assert!(cnt.items.is_none() || cnt.items().is_empty());
    // GSI (sparse, KEYS_ONLY).
    let gi = c.query().table_name(&t).index_name("by_g").key_condition_expression("g = :g").expression_attribute_values(":g", s("three")).send().await.unwrap();
    assert_eq!(gi.count, 7);
    assert!(gi.items()[0].get("v").is_none(), "KEYS_ONLY projection");
    expect_err_code(
        c.query().table_name(&t).index_name("by_g").key_condition_expression("g = :g").expression_attribute_values(":g", s("three")).consistent_read(true).send().await,
        "ValidationException",
    );
    // Scan with segments covers everything exactly once.
    let mut all = Vec::new();
    for seg in 0..3 {
        let out = c.scan().table_name(&t).segment(seg).total_segments(3).send().await.unwrap();
        all.extend(out.items().iter().map(|i| (i["pk"].clone(), i["sk"].clone())));
    }
    assert_eq!(all.len(), 20);
    let scan = c.scan().table_name(&t).filter_expression("v < :x").expression_attribute_values(":x", n(30)).send().await.unwrap();
    assert_eq!(scan.count, 3);
    assert_eq!(scan.scanned_count, 20);
}

#[tokio::test]
async fn one_megabyte_pages() {
    let nim = Nimbus::start_in_memory();
    let c = nim.dynamodb_client();
    let t = table(&c).await;
    let blob = "z".repeat(100 * 1024);
    for i in 0..25 {
        c.put_item().table_name(&t).item("pk", s("p")).item("sk", n(i)).item("b", s(&blob)).send().await.unwrap();
    }
    let q = c.query().table_name(&t).key_condition_expression("pk = :p").expression_attribute_values(":p", s("p")).send().await.unwrap();
    assert!(q.count < 25 && q.count >= 10, "a page stops at 1 MB: {}", q.count);
    assert!(q.last_evaluated_key.is_some());
}

#[tokio::test]
async fn batches() {
    let nim = Nimbus::start_in_memory();
    let c = nim.dynamodb_client();
    let t = table(&c).await;
    let puts: Vec<WriteRequest> = (0..25)
        .map(|i| WriteRequest::builder().put_request(PutRequest::builder().item("pk", s("b")).item("sk", n(i)).build().unwrap()).build())
        .collect();
    let out = c.batch_write_item().request_items(&t, puts).send().await.unwrap();
    assert!(out.unprocessed_items.unwrap_or_default().is_empty());
    let too_many: Vec<WriteRequest> = (0..26)
        .map(|i| WriteRequest::builder().put_request(PutRequest::builder().item("pk", s("b")).item("sk", n(i)).build().unwrap()).build())
        .collect();
    expect_err_code(c.batch_write_item().request_items(&t, too_many).send().await, "ValidationException");
    let keys: Vec<HashMap<String, AV>> = (0..30).map(|i| HashMap::from([("pk".to_string(), s("b")), ("sk".to_string(), n(i))])).collect();
    let out = c.batch_get_item().request_items(&t, KeysAndAttributes::builder().set_keys(Some(keys)).build().unwrap()).send().await.unwrap();
    assert_eq!(out.responses.unwrap()[&t].len(), 25);
    assert!(out.unprocessed_keys.unwrap_or_default().is_empty());
    let keys: Vec<HashMap<String, AV>> = (0..101).map(|i| HashMap::from([("pk".to_string(), s("b")), ("sk".to_string(), n(i))])).collect();
    expect_err_code(c.batch_get_item().request_items(&t, KeysAndAttributes::builder().set_keys(Some(keys)).build().unwrap()).send().await, "ValidationException");
}

#[tokio::test]
async fn transactions() {
    let nim = Nimbus::start_in_memory();
    let c = nim.dynamodb_client();
    let t1 = table(&c).await;
    let t2 = table(&c).await;
    c.put_item().table_name(&t1).item("pk", s("acct")).item("sk", n(1)).item("bal", n(100)).send().await.unwrap();
    let debit = |amount: i64| {
        TransactWriteItem::builder()
            .update(
                Update::builder()
                    .table_name(&t1)
                    .key("pk", s("acct"))
                    .key("sk", n(1))
                    .update_expression("SET bal = bal - :a")
                    .condition_expression("bal >= :a")
                    .expression_attribute_values(":a", n(amount))
                    .build()
                    .unwrap(),
            )
            .build()
    };
    let credit = TransactWriteItem::builder().put(Put::builder().table_name(&t2).item("pk", s("log")).item("sk", n(1)).build().unwrap()).build();
    c.transact_write_items().transact_items(debit(30)).transact_items(credit.clone()).client_request_token("tok-1").send().await.unwrap();
    // Same token, same request: answered again without applying twice.
    c.transact_write_items().transact_items(debit(30)).transact_items(credit.clone()).client_request_token("tok-1").send().await.unwrap();
    let bal = c.get_item().table_name(&t1).key("pk", s("acct")).key("sk", n(1)).send().await.unwrap().item.unwrap()["bal"].clone();
    assert_eq!(bal, n(70));
    expect_err_code(
        c.transact_write_items().transact_items(debit(1)).client_request_token("tok-1").send().await,
        "IdempotentParameterMismatchException",
    );
    // A failing condition cancels everything, with reasons in order.
    let check = TransactWriteItem::builder()
        .condition_check(ConditionCheck::builder().table_name(&t2).key("pk", s("nope")).key("sk", n(9)).condition_expression("attribute_exists(pk)").build().unwrap())
        .build();
    let del = TransactWriteItem::builder().delete(Delete::builder().table_name(&t2).key("pk", s("log")).key("sk", n(1)).build().unwrap()).build();
    let err = expect_err_code(c.transact_write_items().transact_items(del.clone()).transact_items(check).send().await, "TransactionCanceledException");
    match err.into_service_error() {
        aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError::TransactionCanceledException(e) => {
            let codes: Vec<_> = e.cancellation_reasons().iter().map(|r| r.code.clone().unwrap_or_default()).collect();
            assert_eq!(codes, vec!["None", "ConditionalCheckFailed"]);
        }
        other => panic!("{other:?}"),
    }
    assert!(c.get_item().table_name(&t2).key("pk", s("log")).key("sk", n(1)).send().await.unwrap().item.is_some());
    // Two actions on one item.
    expect_err_code(c.transact_write_items().transact_items(del.clone()).transact_items(del).send().await, "ValidationException");
    // TransactGetItems.
    let out = c
        .transact_get_items()
        .transact_items(TransactGetItem::builder().get(Get::builder().table_name(&t1).key("pk", s("acct")).key("sk", n(1)).build().unwrap()).build())
        .transact_items(TransactGetItem::builder().get(Get::builder().table_name(&t2).key("pk", s("none")).key("sk", n(1)).build().unwrap()).build())
        .send()
        .await
        .unwrap();
    let r = out.responses();
    assert_eq!(r.len(), 2);
    assert!(r[0].item.is_some() && r[1].item.is_none());
}
