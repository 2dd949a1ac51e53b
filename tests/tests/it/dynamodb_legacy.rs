//! DynamoDB's legacy conditional parameters through the AWS SDK for Rust:
//! AttributesToGet, KeyConditions, QueryFilter, ScanFilter, Expected, AttributeUpdates
//! and ConditionalOperator, their validation, and mixing them with expressions.

use aws_sdk_dynamodb::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_dynamodb::types::AttributeValue as AV;
use aws_sdk_dynamodb::types::{
    AttributeAction, AttributeDefinition, AttributeValueUpdate, BillingMode, ComparisonOperator as Op, Condition, ConditionalOperator, ExpectedAttributeValue,
    KeySchemaElement, KeyType, KeysAndAttributes, ReturnValue, ScalarAttributeType, Select,
};
use aws_sdk_dynamodb::Client;
use nimbus_tests::{expect_err_code, unique_name, Nimbus};
use std::collections::HashMap;
use std::fmt::Debug;

fn s(v: &str) -> AV {
    AV::S(v.into())
}
fn n(v: i64) -> AV {
    AV::N(v.to_string())
}
fn ss(v: &[&str]) -> AV {
    AV::Ss(v.iter().map(|x| x.to_string()).collect())
}

fn cond(op: Op, vals: Vec<AV>) -> Condition {
    Condition::builder().comparison_operator(op).set_attribute_value_list(if vals.is_empty() { None } else { Some(vals) }).build().unwrap()
}

/// The ValidationException message of a failed call.
fn validation<T: Debug, E: ProvideErrorMetadata + Debug, R: Debug>(res: Result<T, SdkError<E, R>>) -> String {
    let e = expect_err_code(res, "ValidationException");
    e.message().unwrap_or_default().to_string()
}

/// pk (S) + sk (N).
async fn table(c: &Client) -> String {
    let name = unique_name("legacy");
    let ad = |a: &str, t| AttributeDefinition::builder().attribute_name(a).attribute_type(t).build().unwrap();
    let ks = |a: &str, t| KeySchemaElement::builder().attribute_name(a).key_type(t).build().unwrap();
    c.create_table()
        .table_name(&name)
        .attribute_definitions(ad("pk", ScalarAttributeType::S))
        .attribute_definitions(ad("sk", ScalarAttributeType::N))
        .key_schema(ks("pk", KeyType::Hash))
        .key_schema(ks("sk", KeyType::Range))
        .billing_mode(BillingMode::PayPerRequest)
        .send()
        .await
        .unwrap();
    name
}

/// Items pk=p, sk=1..=5 with n=sk, s="item<sk>", tags (SS) on odd items, "opt" on sk<=2.
async fn seed(c: &Client, t: &str) {
    for i in 1..=5 {
        let mut put = c.put_item().table_name(t).item("pk", s("p")).item("sk", n(i)).item("n", n(i)).item("s", s(&format!("item{i}")));
        if i % 2 == 1 {
            put = put.item("tags", ss(&["odd", &format!("t{i}")]));
        }
        if i <= 2 {
            put = put.item("opt", AV::Bool(true));
        }
        put.send().await.unwrap();
    }
}

#[tokio::test]
async fn attributes_to_get() {
    let nim = Nimbus::start_in_memory();
    let c = nim.dynamodb_client();
    let t = table(&c).await;
    seed(&c, &t).await;
    let got = c.get_item().table_name(&t).key("pk", s("p")).key("sk", n(1)).attributes_to_get("s").attributes_to_get("tags").send().await.unwrap();
    let item = got.item.unwrap();
    assert_eq!(item.len(), 2, "{item:?}");
    assert_eq!(item["s"], s("item1"));
    // Attribute names are taken literally (reserved words and dots need no escaping).
    c.put_item().table_name(&t).item("pk", s("q")).item("sk", n(1)).item("name", s("x")).item("a.b", s("dotted")).send().await.unwrap();
    let item = c.get_item().table_name(&t).key("pk", s("q")).key("sk", n(1)).attributes_to_get("name").attributes_to_get("a.b").send().await.unwrap().item.unwrap();
    assert_eq!(item.len(), 2);
    assert_eq!(item["a.b"], s("dotted"));
    // BatchGetItem.
    let ka = KeysAndAttributes::builder()
        .keys(HashMap::from([("pk".to_string(), s("p")), ("sk".to_string(), n(2))]))
        .keys(HashMap::from([("pk".to_string(), s("p")), ("sk".to_string(), n(3))]))
        .attributes_to_get("n")
        .build()
        .unwrap();
    let out = c.batch_get_item().request_items(&t, ka).send().await.unwrap();
    let items = &out.responses.unwrap()[&t];
    assert_eq!(items.len(), 2);
    assert!(items.iter().all(|i| i.len() == 1 && i.contains_key("n")), "{items:?}");
    // Query and Scan.
    let out = c.scan().table_name(&t).attributes_to_get("sk").send().await.unwrap();
    assert!(out.items.unwrap().iter().all(|i| i.len() == 1 && i.contains_key("sk")));
    // Errors.
    let m = validation(c.get_item().table_name(&t).key("pk", s("p")).key("sk", n(1)).attributes_to_get("s").attributes_to_get("s").send().await);
    assert_eq!(m, "One or more parameter values were invalid: Duplicate value in attribute name: s");
    let m = validation(
        c.get_item().table_name(&t).key("pk", s("p")).key("sk", n(1)).attributes_to_get("s").projection_expression("#s").expression_attribute_names("#s", "s").send().await,
    );
    assert_eq!(m, "Can not use both expression and non-expression parameters in the same request: Non-expression parameters: {AttributesToGet} Expression parameters: {ProjectionExpression}");
    let m = validation(c.get_item().table_name(&t).key("pk", s("p")).key("sk", n(1)).attributes_to_get("s").expression_attribute_names("#s", "s").send().await);
    assert_eq!(m, "ExpressionAttributeNames can only be specified when using expressions");
    let m = validation(c.scan().table_name(&t).attributes_to_get("s").select(Select::AllAttributes).send().await);
    assert_eq!(m, "Cannot specify the AttributesToGet when choosing to get ALL_ATTRIBUTES");
    // SPECIFIC_ATTRIBUTES with AttributesToGet is fine.
    let out = c.scan().table_name(&t).attributes_to_get("s").select(Select::SpecificAttributes).send().await.unwrap();
    assert_eq!(out.count, 6);
}

#[tokio::test]
async fn scan_filter_every_operator() {
    let nim = Nimbus::start_in_memory();
    let c = nim.dynamodb_client();
    let t = table(&c).await;
    seed(&c, &t).await;
    let count = |attr: &'static str, op: Op, vals: Vec<AV>| {
        let c = c.clone();
        let t = t.clone();
        async move { c.scan().table_name(&t).scan_filter(attr, cond(op, vals)).send().await.unwrap().count }
    };
    assert_eq!(count("n", Op::Eq, vec![n(3)]).await, 1);
    assert_eq!(count("n", Op::Ne, vec![n(3)]).await, 4);
    assert_eq!(count("opt", Op::Ne, vec![AV::Bool(false)]).await, 5, "NE is true for a missing attribute");
    assert_eq!(count("n", Op::Le, vec![n(3)]).await, 3);
    assert_eq!(count("n", Op::Lt, vec![n(3)]).await, 2);
    assert_eq!(count("n", Op::Ge, vec![n(3)]).await, 3);
    assert_eq!(count("n", Op::Gt, vec![n(3)]).await, 2);
    assert_eq!(count("n", Op::Gt, vec![s("3")]).await, 0, "a value of another type never matches");
    assert_eq!(count("opt", Op::NotNull, vec![]).await, 2);
    assert_eq!(count("opt", Op::Null, vec![]).await, 3);
    assert_eq!(count("tags", Op::Contains, vec![s("t3")]).await, 1);
    assert_eq!(count("s", Op::Contains, vec![s("tem")]).await, 5);
    assert_eq!(count("tags", Op::NotContains, vec![s("t3")]).await, 2, "NOT_CONTAINS needs the attribute");
    assert_eq!(count("s", Op::BeginsWith, vec![s("item")]).await, 5);
    assert_eq!(count("s", Op::BeginsWith, vec![s("x")]).await, 0);
    assert_eq!(count("n", Op::In, vec![n(1), n(4), n(9)]).await, 2);
    assert_eq!(count("n", Op::Between, vec![n(2), n(4)]).await, 3);
    assert_eq!(count("s", Op::Between, vec![s("item2"), s("item3")]).await, 2);
    // Several conditions: AND by default, OR on request.
    let and = c.scan().table_name(&t).scan_filter("n", cond(Op::Gt, vec![n(1)])).scan_filter("opt", cond(Op::NotNull, vec![])).send().await.unwrap();
    assert_eq!(and.count, 1);
    let or = c
        .scan()
        .table_name(&t)
        .scan_filter("n", cond(Op::Gt, vec![n(4)]))
        .scan_filter("opt", cond(Op::NotNull, vec![]))
        .conditional_operator(ConditionalOperator::Or)
        .send()
        .await
        .unwrap();
    assert_eq!(or.count, 3);
    assert_eq!(or.scanned_count, 5);
    // Filter plus AttributesToGet.
    let out = c.scan().table_name(&t).scan_filter("n", cond(Op::Eq, vec![n(5)])).attributes_to_get("s").send().await.unwrap();
    assert_eq!(out.items.unwrap(), vec![HashMap::from([("s".to_string(), s("item5"))])]);
}

#[tokio::test]
async fn comparison_validation() {
    let nim = Nimbus::start_in_memory();
    let c = nim.dynamodb_client();
    let t = table(&c).await;
    let scan = |attr: &'static str, op: Op, vals: Vec<AV>| c.scan().table_name(&t).scan_filter(attr, cond(op, vals)).send();
    let arity = |op: &str| format!("One or more parameter values were invalid: Invalid number of argument(s) for the {op} ComparisonOperator");
    assert_eq!(validation(scan("a", Op::Eq, vec![]).await), arity("EQ"));
    assert_eq!(validation(scan("a", Op::Eq, vec![n(1), n(2)]).await), arity("EQ"));
    assert_eq!(validation(scan("a", Op::NotNull, vec![n(1)]).await), arity("NOT_NULL"));
    assert_eq!(validation(scan("a", Op::Null, vec![n(1)]).await), arity("NULL"));
    assert_eq!(validation(scan("a", Op::In, vec![]).await), arity("IN"));
    assert_eq!(validation(scan("a", Op::Between, vec![n(1)]).await), arity("BETWEEN"));
    assert_eq!(validation(scan("a", Op::BeginsWith, vec![s("a"), s("b")]).await), arity("BEGINS_WITH"));
    let ty = |op: &str, t: &str| format!("One or more parameter values were invalid: ComparisonOperator {op} is not valid for {t} AttributeValue type");
    assert_eq!(validation(scan("a", Op::Lt, vec![ss(&["x"])]).await), ty("LT", "SS"));
    assert_eq!(validation(scan("a", Op::Gt, vec![AV::Bool(true)]).await), ty("GT", "BOOL"));
    assert_eq!(validation(scan("a", Op::BeginsWith, vec![n(1)]).await), ty("BEGINS_WITH", "N"));
    assert_eq!(validation(scan("a", Op::Contains, vec![ss(&["x"])]).await), ty("CONTAINS", "SS"));
    assert_eq!(validation(scan("a", Op::In, vec![n(1), AV::L(vec![])]).await), ty("IN", "L"));
    assert_eq!(
        validation(scan("a", Op::Between, vec![n(1), s("2")]).await),
        "One or more parameter values were invalid: AttributeValues inside AttributeValueList must be of same type"
    );
    assert_eq!(
        validation(scan("a", Op::Between, vec![n(5), n(2)]).await),
        "The BETWEEN condition was provided a range where the lower bound is greater than the upper bound"
    );
    // EQ / NE take any type; CONTAINS takes BOOL and NULL too.
    scan("a", Op::Eq, vec![AV::M(HashMap::new())]).await.unwrap();
    scan("a", Op::Ne, vec![ss(&["x"])]).await.unwrap();
    scan("a", Op::Contains, vec![AV::Bool(true)]).await.unwrap();
    // Values are validated as values.
    let m = validation(scan("a", Op::Eq, vec![ss(&[])]).await);
    assert!(m.starts_with("One or more parameter values were invalid:"), "{m}");
    // Bad enums.
    let m = validation(c.scan().table_name(&t).scan_filter("a", cond(Op::from("SIMILAR"), vec![n(1)])).send().await);
    assert!(m.contains("at 'scanFilter.a.member.comparisonOperator' failed to satisfy constraint: Member must satisfy enum value set"), "{m}");
    let m = validation(
        c.scan().table_name(&t).scan_filter("a", cond(Op::Eq, vec![n(1)])).conditional_operator(ConditionalOperator::from("XOR")).send().await,
    );
    assert_eq!(m, "1 validation error detected: Value 'XOR' at 'conditionalOperator' failed to satisfy constraint: Member must satisfy enum value set: [AND, OR]");
    // Mixing with expressions, and substitutions without expressions.
    let m = validation(c.scan().table_name(&t).scan_filter("a", cond(Op::Eq, vec![n(1)])).filter_expression("attribute_exists(b)").send().await);
    assert_eq!(m, "Can not use both expression and non-expression parameters in the same request: Non-expression parameters: {ScanFilter} Expression parameters: {FilterExpression}");
    let m = validation(
        c.scan().table_name(&t).filter_expression("attribute_exists(b)").conditional_operator(ConditionalOperator::And).send().await,
    );
    assert_eq!(
        m,
        "Can not use both expression and non-expression parameters in the same request: Non-expression parameters: {ConditionalOperator} Expression parameters: {FilterExpression}"
    );
    let m = validation(c.scan().table_name(&t).scan_filter("a", cond(Op::Eq, vec![n(1)])).expression_attribute_values(":v", n(1)).send().await);
    assert_eq!(m, "ExpressionAttributeValues can only be specified when using expressions");
}

#[tokio::test]
async fn query_key_conditions_and_query_filter() {
    let nim = Nimbus::start_in_memory();
    let c = nim.dynamodb_client();
    let t = table(&c).await;
    seed(&c, &t).await;
    let out = c.query().table_name(&t).key_conditions("pk", cond(Op::Eq, vec![s("p")])).send().await.unwrap();
    assert_eq!(out.count, 5);
    let out = c
        .query()
        .table_name(&t)
        .key_conditions("pk", cond(Op::Eq, vec![s("p")]))
        .key_conditions("sk", cond(Op::Between, vec![n(2), n(4)]))
        .scan_index_forward(false)
        .send()
        .await
        .unwrap();
    let sks: Vec<AV> = out.items.unwrap().iter().map(|i| i["sk"].clone()).collect();
    assert_eq!(sks, vec![n(4), n(3), n(2)]);
    for (op, v, expect) in [(Op::Lt, 3, 2), (Op::Le, 3, 3), (Op::Gt, 3, 2), (Op::Ge, 3, 3), (Op::Eq, 3, 1)] {
        let out = c.query().table_name(&t).key_conditions("pk", cond(Op::Eq, vec![s("p")])).key_conditions("sk", cond(op.clone(), vec![n(v)])).send().await.unwrap();
        assert_eq!(out.count, expect, "{op:?}");
    }
    // QueryFilter, ConditionalOperator, AttributesToGet, Select COUNT.
    let out = c
        .query()
        .table_name(&t)
        .key_conditions("pk", cond(Op::Eq, vec![s("p")]))
        .query_filter("tags", cond(Op::Contains, vec![s("odd")]))
        .query_filter("opt", cond(Op::NotNull, vec![]))
        .conditional_operator(ConditionalOperator::Or)
        .attributes_to_get("sk")
        .send()
        .await
        .unwrap();
    assert_eq!(out.count, 4);
    assert_eq!(out.scanned_count, 5);
    assert!(out.items.unwrap().iter().all(|i| i.len() == 1));
    let out = c
        .query()
        .table_name(&t)
        .key_conditions("pk", cond(Op::Eq, vec![s("p")]))
        .query_filter("n", cond(Op::In, vec![n(1), n(2)]))
        .select(Select::Count)
        .send()
        .await
        .unwrap();
    assert_eq!(out.count, 2);
    assert!(out.items.is_none() || out.items.unwrap().is_empty());
    // KeyConditions may be combined with FilterExpression (only KeyConditionExpression conflicts).
    let out = c
        .query()
        .table_name(&t)
        .key_conditions("pk", cond(Op::Eq, vec![s("p")]))
        .filter_expression("#n > :v")
        .expression_attribute_names("#n", "n")
        .expression_attribute_values(":v", n(3))
        .send()
        .await
        .unwrap();
    assert_eq!(out.count, 2);
    // Errors.
    let m = validation(
        c.query()
            .table_name(&t)
            .key_conditions("pk", cond(Op::Eq, vec![s("p")]))
            .key_condition_expression("pk = :p")
            .expression_attribute_values(":p", s("p"))
            .send()
            .await,
    );
    assert_eq!(m, "Can not use both expression and non-expression parameters in the same request: Non-expression parameters: {KeyConditions} Expression parameters: {KeyConditionExpression}");
    let m = validation(
        c.query()
            .table_name(&t)
            .key_condition_expression("pk = :p")
            .expression_attribute_values(":p", s("p"))
            .query_filter("n", cond(Op::Eq, vec![n(1)]))
            .send()
            .await,
    );
    assert_eq!(m, "Can not use both expression and non-expression parameters in the same request: Non-expression parameters: {QueryFilter} Expression parameters: {KeyConditionExpression}");
    let m = validation(c.query().table_name(&t).key_conditions("pk", cond(Op::Ne, vec![s("p")])).send().await);
    assert_eq!(m, "Attempted conditional constraint is not an indexable operation");
    let m = validation(
        c.query()
            .table_name(&t)
            .key_conditions("pk", cond(Op::Eq, vec![s("p")]))
            .key_conditions("sk", cond(Op::Eq, vec![n(1)]))
            .key_conditions("n", cond(Op::Eq, vec![n(1)]))
            .send()
            .await,
    );
    assert_eq!(m, "Conditions can be of length 1 or 2 only");
    let m = validation(c.query().table_name(&t).key_conditions("sk", cond(Op::Eq, vec![n(1)])).send().await);
    assert_eq!(m, "Query condition missed key schema element: pk");
    let m = validation(c.query().table_name(&t).key_conditions("pk", cond(Op::Eq, vec![s("p")])).query_filter("sk", cond(Op::Gt, vec![n(1)])).send().await);
    assert_eq!(m, "QueryFilter can only contain non-primary key attributes: Primary key attribute: sk");
    let m = validation(c.query().table_name(&t).key_conditions("pk", cond(Op::Eq, vec![n(1)])).send().await);
    assert_eq!(m, "One or more parameter values were invalid: Condition parameter type does not match schema type");
    let m = validation(c.query().table_name(&t).key_conditions("pk", cond(Op::Eq, vec![])).send().await);
    assert_eq!(m, "One or more parameter values were invalid: Invalid number of argument(s) for the EQ ComparisonOperator");
}

#[tokio::test]
async fn expected_on_put_delete_update() {
    let nim = Nimbus::start_in_memory();
    let c = nim.dynamodb_client();
    let t = table(&c).await;
    let exists_false = ExpectedAttributeValue::builder().exists(false).build();
    // Exists false without Value: attribute_not_exists.
    c.put_item().table_name(&t).item("pk", s("a")).item("sk", n(1)).item("v", n(1)).expected("pk", exists_false.clone()).send().await.unwrap();
    expect_err_code(
        c.put_item().table_name(&t).item("pk", s("a")).item("sk", n(1)).expected("pk", exists_false.clone()).send().await,
        "ConditionalCheckFailedException",
    );
    // Value (Exists omitted or true): equality.
    let eq = |v: AV| ExpectedAttributeValue::builder().value(v).build();
    c.put_item().table_name(&t).item("pk", s("a")).item("sk", n(1)).item("v", n(2)).expected("v", eq(n(1))).send().await.unwrap();
    expect_err_code(
        c.put_item().table_name(&t).item("pk", s("a")).item("sk", n(1)).item("v", n(3)).expected("v", eq(n(1))).send().await,
        "ConditionalCheckFailedException",
    );
    let eq_true = ExpectedAttributeValue::builder().value(n(2)).exists(true).build();
    c.put_item().table_name(&t).item("pk", s("a")).item("sk", n(1)).item("v", n(3)).expected("v", eq_true).send().await.unwrap();
    // ComparisonOperator with AttributeValueList or Value, joined by AND / OR.
    let cmp = |op: Op, vals: Vec<AV>| ExpectedAttributeValue::builder().comparison_operator(op).set_attribute_value_list(Some(vals)).build();
    c.put_item()
        .table_name(&t)
        .item("pk", s("a"))
        .item("sk", n(1))
        .item("v", n(4))
        .expected("v", cmp(Op::Between, vec![n(1), n(3)]))
        .expected("missing", ExpectedAttributeValue::builder().comparison_operator(Op::Null).build())
        .send()
        .await
        .unwrap();
    expect_err_code(
        c.put_item()
            .table_name(&t)
            .item("pk", s("a"))
            .item("sk", n(1))
            .expected("v", cmp(Op::Gt, vec![n(10)]))
            .expected("missing", ExpectedAttributeValue::builder().comparison_operator(Op::NotNull).build())
            .send()
            .await,
        "ConditionalCheckFailedException",
    );
    c.put_item()
        .table_name(&t)
        .item("pk", s("a"))
        .item("sk", n(1))
        .item("v", n(5))
        .expected("v", ExpectedAttributeValue::builder().comparison_operator(Op::Lt).value(n(10)).build())
        .expected("missing", ExpectedAttributeValue::builder().comparison_operator(Op::NotNull).build())
        .conditional_operator(ConditionalOperator::Or)
        .send()
        .await
        .unwrap();
    // DeleteItem with Expected, failing then succeeding, with ALL_OLD.
    expect_err_code(c.delete_item().table_name(&t).key("pk", s("a")).key("sk", n(1)).expected("v", cmp(Op::In, vec![n(1), n(2)])).send().await, "ConditionalCheckFailedException");
    let out = c.delete_item().table_name(&t).key("pk", s("a")).key("sk", n(1)).expected("v", cmp(Op::In, vec![n(5)])).return_values(ReturnValue::AllOld).send().await.unwrap();
    assert_eq!(out.attributes.unwrap()["v"], n(5));
    // Errors.
    let put = || c.put_item().table_name(&t).item("pk", s("a")).item("sk", n(1));
    let m = validation(put().expected("v", ExpectedAttributeValue::builder().exists(true).build()).send().await);
    assert_eq!(m, "One or more parameter values were invalid: Value must be provided when Exists is true for Attribute: v");
    let m = validation(put().expected("v", ExpectedAttributeValue::builder().build()).send().await);
    assert_eq!(m, "One or more parameter values were invalid: Value must be provided when Exists is null for Attribute: v");
    let m = validation(put().expected("v", ExpectedAttributeValue::builder().exists(false).value(n(1)).build()).send().await);
    assert_eq!(m, "One or more parameter values were invalid: Value cannot be used when Exists is false for Attribute: v");
    let m = validation(put().expected("v", ExpectedAttributeValue::builder().comparison_operator(Op::Eq).exists(true).value(n(1)).build()).send().await);
    assert_eq!(m, "One or more parameter values were invalid: Exists and ComparisonOperator cannot be used together for Attribute: v");
    let m = validation(put().expected("v", ExpectedAttributeValue::builder().comparison_operator(Op::Eq).value(n(1)).attribute_value_list(n(1)).build()).send().await);
    assert_eq!(m, "One or more parameter values were invalid: Value and AttributeValueList cannot be used together for Attribute: v");
    let m = validation(put().expected("v", ExpectedAttributeValue::builder().attribute_value_list(n(1)).build()).send().await);
    assert_eq!(m, "One or more parameter values were invalid: AttributeValueList can only be used with a ComparisonOperator for Attribute: v");
    let m = validation(put().expected("v", ExpectedAttributeValue::builder().comparison_operator(Op::Eq).build()).send().await);
    assert_eq!(m, "One or more parameter values were invalid: Value or AttributeValueList must be used with ComparisonOperator: EQ for Attribute: v");
    let m = validation(put().expected("v", cmp(Op::Eq, vec![n(1), n(2)])).send().await);
    assert_eq!(m, "One or more parameter values were invalid: Invalid number of argument(s) for the EQ ComparisonOperator");
    let m = validation(put().expected("v", exists_false.clone()).condition_expression("attribute_exists(v)").send().await);
    assert_eq!(m, "Can not use both expression and non-expression parameters in the same request: Non-expression parameters: {Expected} Expression parameters: {ConditionExpression}");
    let m = validation(c.delete_item().table_name(&t).key("pk", s("a")).key("sk", n(1)).expected("v", exists_false).expression_attribute_names("#v", "v").send().await);
    assert_eq!(m, "ExpressionAttributeNames can only be specified when using expressions");
}

#[tokio::test]
async fn attribute_updates() {
    let nim = Nimbus::start_in_memory();
    let c = nim.dynamodb_client();
    let t = table(&c).await;
    let upd = |action: AttributeAction, v: Option<AV>| AttributeValueUpdate::builder().action(action).set_value(v).build();
    // PUT (also the default action) creates the item.
    let out = c
        .update_item()
        .table_name(&t)
        .key("pk", s("a"))
        .key("sk", n(1))
        .attribute_updates("name", upd(AttributeAction::Put, Some(s("x"))))
        .attribute_updates("count", AttributeValueUpdate::builder().value(n(1)).build())
        .attribute_updates("tags", upd(AttributeAction::Add, Some(ss(&["a", "b", "c"]))))
        .attribute_updates("gone", upd(AttributeAction::Delete, None))
        .return_values(ReturnValue::AllNew)
        .send()
        .await
        .unwrap();
    let item = out.attributes.unwrap();
    assert_eq!(item["name"], s("x"));
    assert_eq!(item["count"], n(1));
    assert!(!item.contains_key("gone"));
    // ADD to a number and to a set, DELETE from a set, DELETE an attribute; Expected too.
    let out = c
        .update_item()
        .table_name(&t)
        .key("pk", s("a"))
        .key("sk", n(1))
        .attribute_updates("count", upd(AttributeAction::Add, Some(n(5))))
        .attribute_updates("fresh", upd(AttributeAction::Add, Some(n(-2))))
        .attribute_updates("tags", upd(AttributeAction::Delete, Some(ss(&["a", "zz"]))))
        .attribute_updates("name", upd(AttributeAction::Delete, None))
        .expected("count", ExpectedAttributeValue::builder().value(n(1)).build())
        .return_values(ReturnValue::UpdatedNew)
        .send()
        .await
        .unwrap();
    let new = out.attributes.unwrap();
    assert_eq!(new["count"], n(6));
    assert_eq!(new["fresh"], n(-2));
    let mut tags = match &new["tags"] {
        AV::Ss(v) => v.clone(),
        other => panic!("{other:?}"),
    };
    tags.sort();
    assert_eq!(tags, vec!["b", "c"]);
    assert!(!new.contains_key("name"));
    let item = c.get_item().table_name(&t).key("pk", s("a")).key("sk", n(1)).consistent_read(true).send().await.unwrap().item.unwrap();
    assert!(!item.contains_key("name"));
    // A failed Expected leaves the item alone.
    expect_err_code(
        c.update_item()
            .table_name(&t)
            .key("pk", s("a"))
            .key("sk", n(1))
            .attribute_updates("count", upd(AttributeAction::Add, Some(n(1))))
            .expected("count", ExpectedAttributeValue::builder().value(n(1)).build())
            .send()
            .await,
        "ConditionalCheckFailedException",
    );
    // Errors.
    let update = || c.update_item().table_name(&t).key("pk", s("a")).key("sk", n(1));
    let m = validation(update().attribute_updates("x", upd(AttributeAction::Put, None)).send().await);
    assert_eq!(m, "One or more parameter values were invalid: Only DELETE action is allowed when no attribute value is specified");
    let m = validation(update().attribute_updates("x", upd(AttributeAction::Add, None)).send().await);
    assert_eq!(m, "One or more parameter values were invalid: Only DELETE action is allowed when no attribute value is specified");
    let m = validation(update().attribute_updates("x", upd(AttributeAction::Add, Some(s("str")))).send().await);
    assert_eq!(m, "One or more parameter values were invalid: ADD action is not supported for the type S");
    let m = validation(update().attribute_updates("x", upd(AttributeAction::Delete, Some(n(1)))).send().await);
    assert_eq!(m, "One or more parameter values were invalid: DELETE action with value is not supported for the type N");
    let m = validation(update().attribute_updates("sk", upd(AttributeAction::Put, Some(n(2)))).send().await);
    assert!(m.contains("Cannot update attribute sk. This attribute is part of the key"), "{m}");
    let m = validation(update().attribute_updates("x", upd(AttributeAction::Put, Some(n(1)))).update_expression("SET y = :v").expression_attribute_values(":v", n(1)).send().await);
    assert_eq!(m, "Can not use both expression and non-expression parameters in the same request: Non-expression parameters: {AttributeUpdates} Expression parameters: {UpdateExpression}");
    let m = validation(update().expected("x", ExpectedAttributeValue::builder().exists(false).build()).update_expression("SET y = :v").expression_attribute_values(":v", n(1)).send().await);
    assert_eq!(m, "Can not use both expression and non-expression parameters in the same request: Non-expression parameters: {Expected} Expression parameters: {UpdateExpression}");
    let m = validation(update().attribute_updates("x", upd(AttributeAction::from("MERGE"), Some(n(1)))).send().await);
    assert!(m.contains("at 'attributeUpdates.x.member.action' failed to satisfy constraint"), "{m}");
}
