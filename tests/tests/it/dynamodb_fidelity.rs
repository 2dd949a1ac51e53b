//! DynamoDB behaviours checked against AWS's documentation and recorded answers
//! (issue 11): the validation AWS performs, its error messages word for word, and the
//! semantics of edge cases — through the AWS SDK for Rust. Each test names the AWS page
//! it follows.

use aws_sdk_dynamodb::error::ProvideErrorMetadata;
use aws_sdk_dynamodb::types::AttributeValue as AV;
use aws_sdk_dynamodb::types::{
    AttributeDefinition, BillingMode, GlobalSecondaryIndex, GlobalSecondaryIndexUpdate, KeySchemaElement, KeyType, KeysAndAttributes, LocalSecondaryIndex,
    Projection, ProjectionType, Put, PutRequest, ReturnConsumedCapacity, ScalarAttributeType, Select, StreamSpecification, StreamViewType, Tag,
    TimeToLiveSpecification, TransactWriteItem, Update, WarmThroughput, WriteRequest, CreateGlobalSecondaryIndexAction,
};
use aws_sdk_dynamodb::Client;
use nimbus_tests::{expect_err_code, unique_name, Nimbus};

fn s(v: &str) -> AV {
    AV::S(v.into())
}
fn n(v: i64) -> AV {
    AV::N(v.to_string())
}
fn ad(a: &str, t: ScalarAttributeType) -> AttributeDefinition {
    AttributeDefinition::builder().attribute_name(a).attribute_type(t).build().unwrap()
}
fn ks(a: &str, t: KeyType) -> KeySchemaElement {
    KeySchemaElement::builder().attribute_name(a).key_type(t).build().unwrap()
}
fn projection(t: ProjectionType) -> Projection {
    Projection::builder().projection_type(t).build()
}

/// The message of a ValidationException (fails on any other outcome).
#[track_caller]
fn validation<T: std::fmt::Debug, E: ProvideErrorMetadata + std::fmt::Debug, R: std::fmt::Debug>(res: Result<T, aws_sdk_dynamodb::error::SdkError<E, R>>) -> String {
    let e = expect_err_code(res, "ValidationException");
    e.message().unwrap_or_default().to_string()
}

/// pk (S) + sk (N); GSI `by_g` on g (S) + sk, KEYS_ONLY.
async fn table(c: &Client) -> String {
    let name = unique_name("fid");
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
                .projection(projection(ProjectionType::KeysOnly))
                .build()
                .unwrap(),
        )
        .billing_mode(BillingMode::PayPerRequest)
        .send()
        .await
        .unwrap();
    name
}

/// A table keyed by pk (S) alone.
async fn hash_table(c: &Client) -> String {
    let name = unique_name("fidh");
    c.create_table()
        .table_name(&name)
        .attribute_definitions(ad("pk", ScalarAttributeType::S))
        .key_schema(ks("pk", KeyType::Hash))
        .billing_mode(BillingMode::PayPerRequest)
        .send()
        .await
        .unwrap();
    name
}

// ---- validation ----

/// https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/Query.FilterExpression.html:
/// "A filter expression cannot contain partition key or sort key attributes."
#[tokio::test]
async fn query_filter_on_key_attributes_is_refused() {
    let nim = Nimbus::start_in_memory();
    let c = nim.dynamodb_client();
    let t = table(&c).await;
    let q = || c.query().table_name(&t).key_condition_expression("pk = :p").expression_attribute_values(":p", s("a"));
    let m = validation(q().filter_expression("sk > :n").expression_attribute_values(":n", n(1)).send().await);
    assert_eq!(m, "Filter Expression can only contain non-primary key attributes: Primary key attribute: sk");
    let m = validation(q().filter_expression("attribute_exists(#k) AND v = :n").expression_attribute_names("#k", "pk").expression_attribute_values(":n", n(1)).send().await);
    assert_eq!(m, "Filter Expression can only contain non-primary key attributes: Primary key attribute: pk");
    // On an index, the index's key attributes are the ones refused.
    let m = validation(
        c.query().table_name(&t).index_name("by_g").key_condition_expression("g = :g").filter_expression("size(g) > :n")
            .expression_attribute_values(":g", s("x")).expression_attribute_values(":n", n(1)).send().await,
    );
    assert_eq!(m, "Filter Expression can only contain non-primary key attributes: Primary key attribute: g");
    // Non-key attributes are fine, and Scan may filter on keys.
    q().filter_expression("v > :n").expression_attribute_values(":n", n(1)).send().await.unwrap();
    c.scan().table_name(&t).filter_expression("sk > :n").expression_attribute_values(":n", n(1)).send().await.unwrap();
}

/// https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_Query.html
/// (KeyConditionExpression): key condition values have the key attribute's type.
#[tokio::test]
async fn key_condition_values_must_have_the_schema_type() {
    let nim = Nimbus::start_in_memory();
    let c = nim.dynamodb_client();
    let t = table(&c).await;
    let mismatch = "One or more parameter values were invalid: Condition parameter type does not match schema type";
    let q = || c.query().table_name(&t).expression_attribute_values(":p", s("a"));
    assert_eq!(validation(q().key_condition_expression("pk = :p AND sk = :s").expression_attribute_values(":s", s("1")).send().await), mismatch);
    assert_eq!(validation(q().key_condition_expression("pk = :p AND sk > :s").expression_attribute_values(":s", s("1")).send().await), mismatch);
    assert_eq!(
        validation(q().key_condition_expression("pk = :p AND sk BETWEEN :a AND :b").expression_attribute_values(":a", n(1)).expression_attribute_values(":b", n(2)).expression_attribute_values(":x", s("unused")).send().await),
        "Value provided in ExpressionAttributeValues unused in expressions: keys: {:x}"
    );
    assert_eq!(validation(q().key_condition_expression("pk = :p AND begins_with(sk, :s)").expression_attribute_values(":s", s("1")).send().await), mismatch);
    assert_eq!(validation(c.query().table_name(&t).key_condition_expression("pk = :p").expression_attribute_values(":p", n(1)).send().await), mismatch);
    q().key_condition_expression("pk = :p AND sk BETWEEN :a AND :b").expression_attribute_values(":a", n(1)).expression_attribute_values(":b", n(2)).send().await.unwrap();
}

/// https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/Expressions.OperatorsAndFunctions.html:
/// `<`, `<=`, `>`, `>=` and BETWEEN compare numbers, strings and binaries only; a list,
/// map, set, boolean or null operand is refused.
#[tokio::test]
async fn ordering_comparisons_refuse_lists_maps_and_booleans() {
    let nim = Nimbus::start_in_memory();
    let c = nim.dynamodb_client();
    let t = hash_table(&c).await;
    let list = AV::L(vec![n(1)]);
    let m = validation(c.put_item().table_name(&t).item("pk", s("a")).condition_expression("v < :l").expression_attribute_values(":l", list.clone()).send().await);
    assert_eq!(m, "Invalid ConditionExpression: Incorrect operand type for operator or function; operator or function: <, operand type: L");
    let m = validation(c.scan().table_name(&t).filter_expression("v >= :m").expression_attribute_values(":m", AV::M(Default::default())).send().await);
    assert_eq!(m, "Invalid FilterExpression: Incorrect operand type for operator or function; operator or function: >=, operand type: M");
    let m = validation(
        c.scan().table_name(&t).filter_expression("v BETWEEN :a AND :b").expression_attribute_values(":a", AV::Bool(true)).expression_attribute_values(":b", AV::Bool(true)).send().await,
    );
    assert_eq!(m, "Invalid FilterExpression: Incorrect operand type for operator or function; operator or function: BETWEEN, operand type: BOOL");
    // Equality takes any type.
    c.scan().table_name(&t).filter_expression("v = :l").expression_attribute_values(":l", list).send().await.unwrap();
}

/// https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/Expressions.UpdateExpressions.html:
/// a path whose parent is missing or of another type cannot be updated.
#[tokio::test]
async fn update_paths_through_missing_or_wrong_parents_are_refused() {
    let nim = Nimbus::start_in_memory();
    let c = nim.dynamodb_client();
    let t = hash_table(&c).await;
    c.put_item().table_name(&t).item("pk", s("a")).item("m", AV::M(Default::default())).item("l", AV::L(vec![])).send().await.unwrap();
    let bad = "The document path provided in the update expression is invalid for update";
    let u = || c.update_item().table_name(&t).key("pk", s("a")).expression_attribute_values(":v", n(1));
    assert_eq!(validation(u().update_expression("SET absent.x = :v").send().await), bad);
    assert_eq!(validation(u().update_expression("SET m[0] = :v").send().await), bad);
    assert_eq!(validation(u().update_expression("SET l.x = :v").send().await), bad);
    assert_eq!(validation(u().update_expression("SET m.a.b = :v").send().await), bad);
    u().update_expression("SET m.a = :v, l[5] = :v").send().await.unwrap();
}

/// https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/ServiceQuotas.html#limits-attributes:
/// key attribute names are 1 to 255 bytes, other names at least one character.
#[tokio::test]
async fn attribute_name_lengths() {
    let nim = Nimbus::start_in_memory();
    let c = nim.dynamodb_client();
    let long = "k".repeat(256);
    let m = validation(
        c.create_table().table_name(unique_name("names")).attribute_definitions(ad(&long, ScalarAttributeType::S)).key_schema(ks(&long, KeyType::Hash))
            .billing_mode(BillingMode::PayPerRequest).send().await,
    );
    assert_eq!(m, format!("1 validation error detected: Value '{long}' at 'attributeDefinitions.1.member.attributeName' failed to satisfy constraint: Member must have length less than or equal to 255"));
    let ok = "k".repeat(255);
    c.create_table().table_name(unique_name("names")).attribute_definitions(ad(&ok, ScalarAttributeType::S)).key_schema(ks(&ok, KeyType::Hash))
        .billing_mode(BillingMode::PayPerRequest).send().await.unwrap();
    let t = hash_table(&c).await;
    let m = validation(c.put_item().table_name(&t).item("pk", s("a")).item("", s("x")).send().await);
    assert!(m.starts_with("One or more parameter values were invalid"), "{m}");
    let m = validation(c.get_item().table_name(&t).key("pk", s("a")).projection_expression("#e").expression_attribute_names("#e", "").send().await);
    assert_eq!(m, "ExpressionAttributeNames contains invalid value: Empty attribute name for key #e");
    let m = validation(c.put_item().table_name(&t).item("pk", s("a")).item("n".repeat(65_536), s("x")).send().await);
    assert!(m.starts_with("One or more parameter values were invalid"), "{m}");
    // A long non-key name is fine.
    c.put_item().table_name(&t).item("pk", s("a")).item("n".repeat(65_535), s("x")).send().await.unwrap();
}

/// https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/ServiceQuotas.html#limits-partition-sort-keys:
/// index keys obey the 2,048 / 1,024-byte limits too; a new GSI's backfill leaves out
/// items whose values would not make a valid index key
/// (https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/GSI.OnlineOps.html).
#[tokio::test]
async fn index_key_sizes_and_backfill_of_invalid_keys() {
    let nim = Nimbus::start_in_memory();
    let c = nim.dynamodb_client();
    let t = table(&c).await;
    let m = validation(c.put_item().table_name(&t).item("pk", s("a")).item("sk", n(1)).item("g", s(&"x".repeat(2049))).send().await);
    assert_eq!(m, "One or more parameter values were invalid: Size of hashkey has exceeded the maximum size limit of 2048 bytes");
    c.put_item().table_name(&t).item("pk", s("a")).item("sk", n(1)).item("g", s(&"x".repeat(2048))).send().await.unwrap();
    // Items written before an index exists, with values the index cannot take.
    for (i, h) in [(1, "x".repeat(2049)), (2, String::new()), (3, "fine".to_string())] {
        c.put_item().table_name(&t).item("pk", s("b")).item("sk", n(i)).item("h", s(&h)).send().await.unwrap();
    }
    c.update_table()
        .table_name(&t)
        .attribute_definitions(ad("h", ScalarAttributeType::S))
        .global_secondary_index_updates(
            GlobalSecondaryIndexUpdate::builder()
                .create(CreateGlobalSecondaryIndexAction::builder().index_name("by_h").key_schema(ks("h", KeyType::Hash)).projection(projection(ProjectionType::All)).build().unwrap())
                .build(),
        )
        .send()
        .await
        .unwrap();
    let out = c.scan().table_name(&t).index_name("by_h").send().await.unwrap();
    assert_eq!(out.count, 1, "only the valid key was backfilled: {:?}", out.items);
}

/// https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_Query.html#DDB-Query-request-ExclusiveStartKey:
/// the start key is exactly the key of the table (and index) read.
#[tokio::test]
async fn exclusive_start_key_must_fit_the_view() {
    let nim = Nimbus::start_in_memory();
    let c = nim.dynamodb_client();
    let t = table(&c).await;
    for i in 0..3 {
        c.put_item().table_name(&t).item("pk", s("a")).item("sk", n(i)).item("g", s("x")).send().await.unwrap();
    }
    let invalid = "The provided starting key is invalid: The provided key element does not match the schema";
    assert_eq!(validation(c.scan().table_name(&t).exclusive_start_key("pk", s("a")).send().await), invalid);
    assert_eq!(validation(c.scan().table_name(&t).exclusive_start_key("pk", s("a")).exclusive_start_key("sk", n(1)).exclusive_start_key("v", n(1)).send().await), invalid);
    assert_eq!(validation(c.scan().table_name(&t).exclusive_start_key("pk", s("a")).exclusive_start_key("sk", s("1")).send().await), invalid);
    assert_eq!(validation(c.scan().table_name(&t).index_name("by_g").exclusive_start_key("pk", s("a")).exclusive_start_key("sk", n(1)).send().await), invalid);
    let q = || c.query().table_name(&t).key_condition_expression("pk = :p AND sk > :z").expression_attribute_values(":p", s("a")).expression_attribute_values(":z", n(0));
    assert_eq!(validation(q().exclusive_start_key("pk", s("other")).exclusive_start_key("sk", n(1)).send().await), invalid);
    assert_eq!(
        validation(q().exclusive_start_key("pk", s("a")).exclusive_start_key("sk", n(0)).send().await),
        "The provided starting key does not match the range key predicate"
    );
    let page = q().exclusive_start_key("pk", s("a")).exclusive_start_key("sk", n(1)).send().await.unwrap();
    assert_eq!(page.count, 1);
    let page = c.scan().table_name(&t).index_name("by_g").limit(1).send().await.unwrap();
    let next = c.scan().table_name(&t).index_name("by_g").set_exclusive_start_key(page.last_evaluated_key).send().await.unwrap();
    assert_eq!(next.count, 2);
}

/// https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_TransactWriteItems.html:
/// ClientRequestToken is 1 to 36 characters; the items of one transaction total at most 4 MB.
#[tokio::test]
async fn transaction_token_length_and_aggregate_size() {
    let nim = Nimbus::start_in_memory();
    let c = nim.dynamodb_client();
    let t = hash_table(&c).await;
    let put = |k: &str, size: usize| {
        TransactWriteItem::builder().put(Put::builder().table_name(&t).item("pk", s(k)).item("v", s(&"x".repeat(size))).build().unwrap()).build()
    };
    let token = "t".repeat(37);
    let m = validation(c.transact_write_items().transact_items(put("a", 1)).client_request_token(&token).send().await);
    assert_eq!(m, format!("1 validation error detected: Value '{token}' at 'clientRequestToken' failed to satisfy constraint: Member must have length less than or equal to 36"));
    c.transact_write_items().transact_items(put("a", 1)).client_request_token("t".repeat(36)).send().await.unwrap();
    let mut big = c.transact_write_items();
    for i in 0..11 {
        big = big.transact_items(put(&format!("k{i}"), 390 * 1024));
    }
    assert_eq!(validation(big.send().await), "Transaction request cannot be larger than 4 MB");
    assert!(c.get_item().table_name(&t).key("pk", s("k0")).send().await.unwrap().item.is_none());
}

/// https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/Tagging.html#TaggingRestrictions
#[tokio::test]
async fn tag_keys_values_and_arns_are_validated() {
    let nim = Nimbus::start_in_memory();
    let c = nim.dynamodb_client();
    let t = hash_table(&c).await;
    let arn = c.describe_table().table_name(&t).send().await.unwrap().table.unwrap().table_arn.unwrap();
    let tag = |k: &str, v: &str| Tag::builder().key(k).value(v).build().unwrap();
    let long_key = "k".repeat(129);
    let m = validation(c.tag_resource().resource_arn(&arn).tags(tag(&long_key, "v")).send().await);
    assert_eq!(m, format!("1 validation error detected: Value '{long_key}' at 'tags.1.member.key' failed to satisfy constraint: Member must have length less than or equal to 128"));
    let long_value = "v".repeat(257);
    let m = validation(c.tag_resource().resource_arn(&arn).tags(tag("ok", "v")).tags(tag("k", &long_value)).send().await);
    assert_eq!(m, format!("1 validation error detected: Value '{long_value}' at 'tags.2.member.value' failed to satisfy constraint: Member must have length less than or equal to 256"));
    let m = validation(c.tag_resource().resource_arn(&arn).tags(tag("a#b", "v")).send().await);
    assert!(m.contains("at 'tags.1.member.key' failed to satisfy constraint: Member must satisfy regular expression pattern"), "{m}");
    let m = validation(c.untag_resource().resource_arn(&arn).tag_keys("").send().await);
    assert!(m.contains("at 'tagKeys.1.member' failed to satisfy constraint: Member must have length greater than or equal to 1"), "{m}");
    let mut many = c.tag_resource().resource_arn(&arn);
    for i in 0..51 {
        many = many.tags(tag(&format!("k{i}"), "v"));
    }
    expect_err_code(many.send().await, "LimitExceededException");
    c.tag_resource().resource_arn(&arn).tags(tag("env:stage/x", "a b+c=d@e.f_-")).send().await.unwrap();
    assert_eq!(c.list_tags_of_resource().resource_arn(&arn).send().await.unwrap().tags().len(), 1);
    // A wrong ARN.
    let m = validation(c.tag_resource().resource_arn("not-an-arn").tags(tag("a", "b")).send().await);
    assert!(m.starts_with("Invalid TableArn"), "{m}");
    expect_err_code(c.tag_resource().resource_arn(format!("{arn}-gone")).tags(tag("a", "b")).send().await, "ResourceNotFoundException");
}

// ---- error messages ----

/// CreateTable's messages for duplicated attribute definitions and index names, and
/// UpdateTimeToLive's for a different attribute (as DynamoDB words them).
#[tokio::test]
async fn duplicate_definition_and_ttl_messages() {
    let nim = Nimbus::start_in_memory();
    let c = nim.dynamodb_client();
    let m = validation(
        c.create_table().table_name(unique_name("dup")).attribute_definitions(ad("pk", ScalarAttributeType::S)).attribute_definitions(ad("pk", ScalarAttributeType::N))
            .key_schema(ks("pk", KeyType::Hash)).billing_mode(BillingMode::PayPerRequest).send().await,
    );
    assert_eq!(m, "Attribute Name is duplicated: pk");
    let gsi = |name: &str| GlobalSecondaryIndex::builder().index_name(name).key_schema(ks("g", KeyType::Hash)).projection(projection(ProjectionType::All)).build().unwrap();
    let m = validation(
        c.create_table().table_name(unique_name("dup")).attribute_definitions(ad("pk", ScalarAttributeType::S)).attribute_definitions(ad("g", ScalarAttributeType::S))
            .key_schema(ks("pk", KeyType::Hash)).global_secondary_indexes(gsi("idx")).global_secondary_indexes(gsi("idx")).billing_mode(BillingMode::PayPerRequest).send().await,
    );
    assert_eq!(m, "One or more parameter values were invalid: Duplicate index name: idx");
    let t = hash_table(&c).await;
    let ttl = |a: &str, on: bool| TimeToLiveSpecification::builder().attribute_name(a).enabled(on).build().unwrap();
    c.update_time_to_live().table_name(&t).time_to_live_specification(ttl("exp", true)).send().await.unwrap();
    let m = validation(c.update_time_to_live().table_name(&t).time_to_live_specification(ttl("other", true)).send().await);
    assert_eq!(m, "TimeToLive is active on a different AttributeName: current AttributeName is exp");
    assert_eq!(validation(c.update_time_to_live().table_name(&t).time_to_live_specification(ttl("exp", true)).send().await), "TimeToLive is already enabled");
}

/// https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_BatchWriteItem.html:
/// a PutRequest item without its key is "The provided key element does not match the schema".
#[tokio::test]
async fn batch_write_put_without_key_says_key_element_does_not_match() {
    let nim = Nimbus::start_in_memory();
    let c = nim.dynamodb_client();
    let t = table(&c).await;
    let put = |item: Vec<(&str, AV)>| {
        let mut p = PutRequest::builder();
        for (k, v) in item {
            p = p.item(k, v);
        }
        WriteRequest::builder().put_request(p.build().unwrap()).build()
    };
    let m = validation(c.batch_write_item().request_items(&t, vec![put(vec![("pk", s("a")), ("v", n(1))])]).send().await);
    assert_eq!(m, "The provided key element does not match the schema");
    let m = validation(c.batch_write_item().request_items(&t, vec![put(vec![("pk", s("a")), ("sk", s("1"))])]).send().await);
    assert_eq!(m, "The provided key element does not match the schema");
    c.batch_write_item().request_items(&t, vec![put(vec![("pk", s("a")), ("sk", n(1))])]).send().await.unwrap();
}

/// https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_TransactWriteItems.html:
/// an update that fails on the item's data cancels the transaction with a ValidationError reason.
#[tokio::test]
async fn transaction_validation_error_is_a_cancellation_reason() {
    let nim = Nimbus::start_in_memory();
    let c = nim.dynamodb_client();
    let t = hash_table(&c).await;
    c.put_item().table_name(&t).item("pk", s("a")).item("v", s("text")).send().await.unwrap();
    let update = Update::builder().table_name(&t).key("pk", s("a")).update_expression("SET v = v + :one").expression_attribute_values(":one", n(1)).build().unwrap();
    let put = Put::builder().table_name(&t).item("pk", s("b")).build().unwrap();
    let err = c
        .transact_write_items()
        .transact_items(TransactWriteItem::builder().put(put).build())
        .transact_items(TransactWriteItem::builder().update(update).build())
        .send()
        .await
        .unwrap_err();
    let svc = err.into_service_error();
    match svc {
        aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError::TransactionCanceledException(e) => {
            let reasons = e.cancellation_reasons();
            assert_eq!(reasons[0].code(), Some("None"));
            assert_eq!(reasons[1].code(), Some("ValidationError"));
            assert_eq!(reasons[1].message(), Some("An operand in the update expression has an incorrect data type"));
            assert!(e.message().unwrap().ends_with("[None, ValidationError]"));
        }
        other => panic!("{other:?}"),
    }
    assert!(c.get_item().table_name(&t).key("pk", s("b")).send().await.unwrap().item.is_none());
}

// ---- semantics ----

/// https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/Expressions.OperatorsAndFunctions.html#Expressions.OperatorsAndFunctions.Functions:
/// contains() on a binary and a binary set; attribute_type and size with values.
#[tokio::test]
async fn contains_on_binaries_attribute_type_and_size() {
    let nim = Nimbus::start_in_memory();
    let c = nim.dynamodb_client();
    let t = hash_table(&c).await;
    let blob = |b: &[u8]| AV::B(aws_sdk_dynamodb::primitives::Blob::new(b.to_vec()));
    let blobs = |v: Vec<&[u8]>| AV::Bs(v.into_iter().map(|b| aws_sdk_dynamodb::primitives::Blob::new(b.to_vec())).collect());
    c.put_item().table_name(&t).item("pk", s("a")).item("b", blob(&[1, 2, 3, 4])).item("bs", blobs(vec![&[9], &[8, 7]])).item("l", AV::L(vec![n(1), n(2)])).send().await.unwrap();
    let count = |filter: &'static str, vals: Vec<(&'static str, AV)>| {
        let mut r = c.scan().table_name(&t).filter_expression(filter);
        for (k, v) in vals {
            r = r.expression_attribute_values(k, v);
        }
        async move { r.send().await.unwrap().count }
    };
    assert_eq!(count("contains(b, :x)", vec![(":x", blob(&[2, 3]))]).await, 1);
    assert_eq!(count("contains(b, :x)", vec![(":x", blob(&[3, 2]))]).await, 0);
    assert_eq!(count("contains(bs, :x)", vec![(":x", blob(&[8, 7]))]).await, 1);
    assert_eq!(count("contains(bs, :x)", vec![(":x", blob(&[8]))]).await, 0);
    assert_eq!(count("attribute_type(bs, :t)", vec![(":t", s("BS"))]).await, 1);
    assert_eq!(count("attribute_type(b, :t)", vec![(":t", s("S"))]).await, 0);
    assert_eq!(count("size(b) = :n AND size(l) < :m", vec![(":n", n(4)), (":m", n(3))]).await, 1);
    let m = validation(c.scan().table_name(&t).filter_expression("size(:v) > :n").expression_attribute_values(":v", s("abc")).expression_attribute_values(":n", n(1)).send().await);
    assert_eq!(m, "Invalid FilterExpression: Operator or function requires a document path; operator or function: size");
    let m = validation(c.scan().table_name(&t).filter_expression("attribute_type(b, :t)").expression_attribute_values(":t", n(1)).send().await);
    assert_eq!(m, "Invalid FilterExpression: Incorrect operand type for operator or function; operator or function: attribute_type, operand type: N");
}

/// https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_UpdateItem.html:
/// an update of a missing item that only removes attributes creates nothing (and emits
/// no stream record).
#[tokio::test]
async fn remove_only_update_of_a_missing_item_creates_nothing() {
    let nim = Nimbus::start_in_memory();
    let c = nim.dynamodb_client();
    let t = unique_name("rm");
    c.create_table()
        .table_name(&t)
        .attribute_definitions(ad("pk", ScalarAttributeType::S))
        .key_schema(ks("pk", KeyType::Hash))
        .billing_mode(BillingMode::PayPerRequest)
        .stream_specification(StreamSpecification::builder().stream_enabled(true).stream_view_type(StreamViewType::NewAndOldImages).build().unwrap())
        .send()
        .await
        .unwrap();
    let out = c.update_item().table_name(&t).key("pk", s("a")).update_expression("REMOVE x, y").return_values(aws_sdk_dynamodb::types::ReturnValue::AllNew).send().await.unwrap();
    assert!(out.attributes.is_none());
    assert!(c.get_item().table_name(&t).key("pk", s("a")).send().await.unwrap().item.is_none());
    assert_eq!(c.scan().table_name(&t).send().await.unwrap().count, 0);
    // A SET still creates the item.
    c.update_item().table_name(&t).key("pk", s("b")).update_expression("SET v = :v").expression_attribute_values(":v", n(1)).send().await.unwrap();
    // The stream has the one INSERT only; a put of the same item again changes nothing.
    c.put_item().table_name(&t).item("pk", s("b")).item("v", n(1)).send().await.unwrap();
    let arn = c.describe_table().table_name(&t).send().await.unwrap().table.unwrap().latest_stream_arn.unwrap();
    let sc = nim.streams_client();
    let shard = sc.describe_stream().stream_arn(&arn).send().await.unwrap().stream_description.unwrap().shards()[0].shard_id.clone().unwrap();
    let it = sc.get_shard_iterator().stream_arn(&arn).shard_id(&shard).shard_iterator_type(aws_sdk_dynamodbstreams::types::ShardIteratorType::TrimHorizon).send().await.unwrap();
    let records = sc.get_records().shard_iterator(it.shard_iterator.unwrap()).send().await.unwrap().records;
    let names: Vec<String> = records.unwrap_or_default().iter().map(|r| r.event_name.as_ref().unwrap().as_str().to_string()).collect();
    assert_eq!(names, vec!["INSERT"]);
}

/// https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/LSI.html#LSI.Projections:
/// reading an LSI returns its projected attributes unless the request asks for others.
#[tokio::test]
async fn lsi_projections_return_projected_attributes() {
    let nim = Nimbus::start_in_memory();
    let c = nim.dynamodb_client();
    let t = unique_name("lsi");
    let lsi = |name: &str, p: Projection| LocalSecondaryIndex::builder().index_name(name).key_schema(ks("pk", KeyType::Hash)).key_schema(ks("l", KeyType::Range)).projection(p).build().unwrap();
    c.create_table()
        .table_name(&t)
        .attribute_definitions(ad("pk", ScalarAttributeType::S))
        .attribute_definitions(ad("sk", ScalarAttributeType::S))
        .attribute_definitions(ad("l", ScalarAttributeType::S))
        .key_schema(ks("pk", KeyType::Hash))
        .key_schema(ks("sk", KeyType::Range))
        .local_secondary_indexes(lsi("keys", projection(ProjectionType::KeysOnly)))
        .local_secondary_indexes(lsi("incl", Projection::builder().projection_type(ProjectionType::Include).non_key_attributes("a").build()))
        .billing_mode(BillingMode::PayPerRequest)
        .send()
        .await
        .unwrap();
    c.put_item().table_name(&t).item("pk", s("p")).item("sk", s("1")).item("l", s("x")).item("a", n(1)).item("b", n(2)).send().await.unwrap();
    let q = |idx: &str| c.query().table_name(&t).index_name(idx).key_condition_expression("pk = :p").expression_attribute_values(":p", s("p"));
    let names = |items: &[std::collections::HashMap<String, AV>]| {
        let mut k: Vec<String> = items[0].keys().cloned().collect();
        k.sort();
        k
    };
    assert_eq!(names(q("keys").send().await.unwrap().items()), vec!["l", "pk", "sk"]);
    assert_eq!(names(q("incl").send().await.unwrap().items()), vec!["a", "l", "pk", "sk"]);
    assert_eq!(names(q("incl").select(Select::AllProjectedAttributes).send().await.unwrap().items()), vec!["a", "l", "pk", "sk"]);
    // An LSI fetches the rest from the table when asked.
    assert_eq!(names(q("keys").select(Select::AllAttributes).send().await.unwrap().items()), vec!["a", "b", "l", "pk", "sk"]);
    assert_eq!(names(q("keys").projection_expression("b, l").send().await.unwrap().items()), vec!["b", "l"]);
}

/// https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_DeleteTable.html#API_DeleteTable_Examples:
/// DeleteTable's description has the name, status, sizes and throughput, not the schema.
#[tokio::test]
async fn delete_table_response_shape() {
    let nim = Nimbus::start_in_memory();
    let c = nim.dynamodb_client();
    let t = table(&c).await;
    let d = c.delete_table().table_name(&t).send().await.unwrap().table_description.unwrap();
    assert_eq!(d.table_name(), Some(t.as_str()));
    assert_eq!(d.table_status().map(|s| s.as_str()), Some("DELETING"));
    assert_eq!(d.item_count, Some(0));
    assert!(d.provisioned_throughput.is_some());
    assert!(d.key_schema.is_none() && d.attribute_definitions.is_none() && d.global_secondary_indexes.is_none());
}

/// https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/read-write-operations.html#read-operation-consumption:
/// BatchGetItem charges each item on its own (rounded up to 4 KB); a read of an index
/// reports its units under the index with INDEXES.
#[tokio::test]
async fn consumed_capacity_per_item_and_per_index() {
    let nim = Nimbus::start_in_memory();
    let c = nim.dynamodb_client();
    let t = table(&c).await;
    let mut keys = KeysAndAttributes::builder();
    for i in 0..5 {
        c.put_item().table_name(&t).item("pk", s("a")).item("sk", n(i)).item("g", s("x")).item("v", s(&"x".repeat(900))).send().await.unwrap();
        keys = keys.keys([("pk".to_string(), s("a")), ("sk".to_string(), n(i))].into_iter().collect());
    }
    let out = c.batch_get_item().request_items(&t, keys.build().unwrap()).return_consumed_capacity(ReturnConsumedCapacity::Total).send().await.unwrap();
    // Five eventually consistent reads of under 4 KB: 5 × 0.5.
    assert_eq!(out.consumed_capacity()[0].capacity_units, Some(2.5));
    let out = c
        .query()
        .table_name(&t)
        .index_name("by_g")
        .key_condition_expression("g = :g")
        .expression_attribute_values(":g", s("x"))
        .return_consumed_capacity(ReturnConsumedCapacity::Indexes)
        .send()
        .await
        .unwrap();
    let cc = out.consumed_capacity.unwrap();
    let gsi = cc.global_secondary_indexes.as_ref().and_then(|m| m.get("by_g")).expect("index breakdown");
    assert_eq!(gsi.capacity_units, cc.capacity_units);
    assert_eq!(cc.table.as_ref().and_then(|t| t.capacity_units), Some(0.0));
    let out = c.scan().table_name(&t).return_consumed_capacity(ReturnConsumedCapacity::Indexes).send().await.unwrap();
    let cc = out.consumed_capacity.unwrap();
    assert_eq!(cc.table.as_ref().and_then(|t| t.capacity_units), cc.capacity_units);
}

/// https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/warm-throughput.html:
/// tables and GSIs report WarmThroughput; CreateTable / UpdateTable set it.
#[tokio::test]
async fn warm_throughput_is_reported_and_updated() {
    let nim = Nimbus::start_in_memory();
    let c = nim.dynamodb_client();
    let t = table(&c).await;
    let d = c.describe_table().table_name(&t).send().await.unwrap().table.unwrap();
    let w = d.warm_throughput.clone().unwrap();
    assert_eq!((w.read_units_per_second, w.write_units_per_second), (Some(12000), Some(4000)));
    assert_eq!(w.status.unwrap().as_str(), "ACTIVE");
    assert!(d.global_secondary_indexes()[0].warm_throughput.is_some());
    c.update_table().table_name(&t).warm_throughput(WarmThroughput::builder().read_units_per_second(15000).build()).send().await.unwrap();
    let w = c.describe_table().table_name(&t).send().await.unwrap().table.unwrap().warm_throughput.unwrap();
    assert_eq!((w.read_units_per_second, w.write_units_per_second), (Some(15000), Some(4000)));
    let t2 = unique_name("warm");
    c.create_table()
        .table_name(&t2)
        .attribute_definitions(ad("pk", ScalarAttributeType::S))
        .key_schema(ks("pk", KeyType::Hash))
        .billing_mode(BillingMode::PayPerRequest)
        .warm_throughput(WarmThroughput::builder().read_units_per_second(20000).write_units_per_second(5000).build())
        .send()
        .await
        .unwrap();
    let w = c.describe_table().table_name(&t2).send().await.unwrap().table.unwrap().warm_throughput.unwrap();
    assert_eq!((w.read_units_per_second, w.write_units_per_second), (Some(20000), Some(5000)));
}

/// https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_streams_GetShardIterator.html:
/// iterators look like AWS's (`<stream ARN>|1|…`); shard ids and sequence numbers are
/// validated by length as the API model says.
#[tokio::test]
async fn stream_iterators_and_input_validation() {
    let nim = Nimbus::start_in_memory();
    let c = nim.dynamodb_client();
    let t = unique_name("st");
    c.create_table()
        .table_name(&t)
        .attribute_definitions(ad("pk", ScalarAttributeType::S))
        .key_schema(ks("pk", KeyType::Hash))
        .billing_mode(BillingMode::PayPerRequest)
        .stream_specification(StreamSpecification::builder().stream_enabled(true).stream_view_type(StreamViewType::KeysOnly).build().unwrap())
        .send()
        .await
        .unwrap();
    c.put_item().table_name(&t).item("pk", s("a")).send().await.unwrap();
    let arn = c.describe_table().table_name(&t).send().await.unwrap().table.unwrap().latest_stream_arn.unwrap();
    let sc = nim.streams_client();
    let shard = sc.describe_stream().stream_arn(&arn).send().await.unwrap().stream_description.unwrap().shards()[0].shard_id.clone().unwrap();
    use aws_sdk_dynamodbstreams::types::ShardIteratorType as T;
    let it = sc.get_shard_iterator().stream_arn(&arn).shard_id(&shard).shard_iterator_type(T::TrimHorizon).send().await.unwrap().shard_iterator.unwrap();
    assert!(it.starts_with(&format!("{arn}|1|")), "{it}");
    let out = sc.get_records().shard_iterator(&it).send().await.unwrap();
    assert_eq!(out.records().len(), 1);
    assert!(out.next_shard_iterator.unwrap().starts_with(&format!("{arn}|1|")));
    let msg = |e: aws_sdk_dynamodbstreams::error::SdkError<_, _>| {
        let e: aws_sdk_dynamodbstreams::error::SdkError<aws_sdk_dynamodbstreams::operation::get_shard_iterator::GetShardIteratorError, _> = e;
        assert_eq!(e.code(), Some("ValidationException"), "{e:?}");
        e.message().unwrap_or_default().to_string()
    };
    let m = msg(sc.get_shard_iterator().stream_arn(&arn).shard_id("shard-1").shard_iterator_type(T::TrimHorizon).send().await.unwrap_err());
    assert_eq!(m, "1 validation error detected: Value 'shard-1' at 'shardId' failed to satisfy constraint: Member must have length greater than or equal to 28");
    let m = msg(sc.get_shard_iterator().stream_arn(&arn).shard_id(&shard).shard_iterator_type(T::AtSequenceNumber).sequence_number("12").send().await.unwrap_err());
    assert_eq!(m, "1 validation error detected: Value '12' at 'sequenceNumber' failed to satisfy constraint: Member must have length greater than or equal to 21");
    let e = sc.get_records().shard_iterator(format!("{arn}|1|bogus")).send().await.unwrap_err();
    assert_eq!(e.code(), Some("ValidationException"));
}

/// https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_DescribeContinuousBackups.html:
/// point-in-time recovery is DISABLED until someone enables it; an unknown table is
/// TableNotFoundException.
#[tokio::test]
async fn continuous_backups_start_disabled() {
    let nim = Nimbus::start_in_memory();
    let c = nim.dynamodb_client();
    let t = hash_table(&c).await;
    let d = c.describe_continuous_backups().table_name(&t).send().await.unwrap().continuous_backups_description.unwrap();
    assert_eq!(d.continuous_backups_status.as_str(), "ENABLED");
    let pitr = d.point_in_time_recovery_description.unwrap();
    assert_eq!(pitr.point_in_time_recovery_status.unwrap().as_str(), "DISABLED");
    expect_err_code(c.describe_continuous_backups().table_name(unique_name("gone")).send().await, "TableNotFoundException");
}
