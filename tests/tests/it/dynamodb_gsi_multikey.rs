//! Global secondary indexes with multi-attribute keys (up to four HASH and four RANGE
//! attributes, November 2025) through the AWS SDK for Rust: CreateTable / UpdateTable
//! validation, sparse indexing, Query on every partition attribute and a left-to-right
//! prefix of the sort attributes, ordering, pagination, backfill, backups, PartiQL and a
//! restart. The rules are AWS's, from the developer guide's "Multi-attribute key schema"
//! (<https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/GSI.html#GSI.MultiAttributeKeys>)
//! and "Multi-attribute keys pattern"
//! (<https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/GSI.DesignPattern.MultiAttributeKeys.html>).

use aws_sdk_dynamodb::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_dynamodb::operation::query::builders::QueryFluentBuilder;
use aws_sdk_dynamodb::types::AttributeValue as AV;
use aws_sdk_dynamodb::types::{
    AttributeDefinition, BillingMode, CreateGlobalSecondaryIndexAction, GlobalSecondaryIndex, GlobalSecondaryIndexUpdate, KeySchemaElement, KeyType,
    LocalSecondaryIndex, Projection, ProjectionType, ScalarAttributeType,
};
use aws_sdk_dynamodb::Client;
use nimbus_tests::{expect_err_code, unique_name, Nimbus};
use std::collections::HashMap;
use std::fmt::Debug;

const INDEX: &str = "by_match";

fn s(v: &str) -> AV {
    AV::S(v.into())
}
fn n(v: i64) -> AV {
    AV::N(v.to_string())
}

fn attr(name: &str, t: ScalarAttributeType) -> AttributeDefinition {
    AttributeDefinition::builder().attribute_name(name).attribute_type(t).build().unwrap()
}

fn key(name: &str, t: KeyType) -> KeySchemaElement {
    KeySchemaElement::builder().attribute_name(name).key_type(t).build().unwrap()
}

fn all() -> Projection {
    Projection::builder().projection_type(ProjectionType::All).build()
}

/// The ValidationException message of a failed call.
fn validation<T: Debug, E: ProvideErrorMetadata + Debug, R: Debug>(res: Result<T, SdkError<E, R>>) -> String {
    let e = expect_err_code(res, "ValidationException");
    e.message().unwrap_or_default().to_string()
}

/// The index's key: HASH tenant (S), site (S); RANGE round (N), bracket (S), seq (N).
fn index_key() -> Vec<KeySchemaElement> {
    vec![
        key("tenant", KeyType::Hash),
        key("site", KeyType::Hash),
        key("round", KeyType::Range),
        key("bracket", KeyType::Range),
        key("seq", KeyType::Range),
    ]
}

fn index_attrs() -> Vec<AttributeDefinition> {
    vec![
        attr("tenant", ScalarAttributeType::S),
        attr("site", ScalarAttributeType::S),
        attr("round", ScalarAttributeType::N),
        attr("bracket", ScalarAttributeType::S),
        attr("seq", ScalarAttributeType::N),
    ]
}

/// A table keyed by `pk` (S) with the 2-HASH + 3-RANGE index.
async fn create_table(c: &Client) -> String {
    let name = unique_name("gsimulti");
    let gsi = GlobalSecondaryIndex::builder().index_name(INDEX).set_key_schema(Some(index_key())).projection(all()).build().unwrap();
    c.create_table()
        .table_name(&name)
        .set_attribute_definitions(Some([vec![attr("pk", ScalarAttributeType::S)], index_attrs()].concat()))
        .key_schema(key("pk", KeyType::Hash))
        .global_secondary_indexes(gsi)
        .billing_mode(BillingMode::PayPerRequest)
        .send()
        .await
        .unwrap();
    name
}

/// (pk, tenant, site, round, bracket, seq); None leaves the attribute out.
type Row = (&'static str, Option<&'static str>, Option<&'static str>, Option<i64>, Option<&'static str>, Option<i64>);

/// In (t1, eu) the index order is m3, m1, m4, m5, m2: round numerically (2 < 3 < 10),
/// then bracket, then seq numerically (1 < 10). m6 lacks bracket and m8 site, so
/// neither is in the index; m7 is in another partition (site us).
const ROWS: &[Row] = &[
    ("m1", Some("t1"), Some("eu"), Some(2), Some("upper"), Some(1)),
    ("m2", Some("t1"), Some("eu"), Some(10), Some("lower"), Some(3)),
    ("m3", Some("t1"), Some("eu"), Some(2), Some("lower"), Some(7)),
    ("m4", Some("t1"), Some("eu"), Some(2), Some("upper"), Some(10)),
    ("m5", Some("t1"), Some("eu"), Some(3), Some("upper"), Some(1)),
    ("m6", Some("t1"), Some("eu"), Some(2), None, Some(1)),
    ("m7", Some("t1"), Some("us"), Some(2), Some("upper"), Some(1)),
    ("m8", Some("t1"), None, Some(2), Some("upper"), Some(1)),
];

const ORDER: &[&str] = &["m3", "m1", "m4", "m5", "m2"];

async fn put_rows(c: &Client, table: &str) {
    for (pk, tenant, site, round, bracket, seq) in ROWS {
        let mut item = HashMap::from([("pk".to_string(), s(pk)), ("note".to_string(), s("x"))]);
        let mut add = |k: &str, v: Option<AV>| {
            if let Some(v) = v {
                item.insert(k.to_string(), v);
            }
        };
        add("tenant", tenant.map(s));
        add("site", site.map(s));
        add("round", round.map(n));
        add("bracket", bracket.map(s));
        add("seq", seq.map(n));
        c.put_item().table_name(table).set_item(Some(item)).send().await.unwrap();
    }
}

/// Every value a test's key conditions use.
fn values() -> HashMap<String, AV> {
    HashMap::from([
        (":t".into(), s("t1")),
        (":r".into(), s("eu")),
        (":two".into(), n(2)),
        (":three".into(), n(3)),
        (":ten".into(), n(10)),
        (":one".into(), n(1)),
        (":upper".into(), s("upper")),
        (":pre".into(), s("up")),
        (":x".into(), s("x")),
    ])
}

fn query(c: &Client, table: &str, kc: &str) -> QueryFluentBuilder {
    let used: HashMap<String, AV> = values().into_iter().filter(|(k, _)| kc.contains(k.as_str())).collect();
    let q = c.query().table_name(table).index_name(INDEX).key_condition_expression(kc).set_expression_attribute_values(Some(used));
    // `round` is a reserved word.
    if kc.contains("#r") {
        q.expression_attribute_names("#r", "round")
    } else {
        q
    }
}

/// The table keys a query returns, in order.
async fn pks(q: QueryFluentBuilder) -> Vec<String> {
    let out = q.send().await.unwrap();
    out.items().iter().map(|i| i["pk"].as_s().unwrap().clone()).collect()
}

const PARTITION: &str = "tenant = :t AND site = :r";

fn kc(rest: &str) -> String {
    if rest.is_empty() {
        PARTITION.to_string()
    } else {
        format!("{PARTITION} AND {rest}")
    }
}

#[tokio::test]
async fn create_describe_and_sparse_index() {
    let nimbus = Nimbus::start();
    let c = nimbus.dynamodb_client();
    let t = create_table(&c).await;
    put_rows(&c, &t).await;
    let d = c.describe_table().table_name(&t).send().await.unwrap().table.unwrap();
    let g = &d.global_secondary_indexes()[0];
    let ks: Vec<(String, String)> = g.key_schema().iter().map(|k| (k.attribute_name().to_string(), k.key_type().as_str().to_string())).collect();
    let expected: Vec<(String, String)> = index_key().iter().map(|k| (k.attribute_name().to_string(), k.key_type().as_str().to_string())).collect();
    assert_eq!(ks, expected, "the KeySchema as given");
    assert_eq!(d.key_schema().len(), 1);
    // An item is in the index only with every key attribute of the index.
    assert_eq!(g.item_count(), Some(6));
    let scanned = c.scan().table_name(&t).index_name(INDEX).send().await.unwrap();
    let mut in_index: Vec<String> = scanned.items().iter().map(|i| i["pk"].as_s().unwrap().clone()).collect();
    in_index.sort();
    assert_eq!(in_index, ["m1", "m2", "m3", "m4", "m5", "m7"]);
    // Removing one key attribute takes the item out; putting it back brings it in.
    c.update_item().table_name(&t).key("pk", s("m1")).update_expression("REMOVE seq").send().await.unwrap();
    assert_eq!(pks(query(&c, &t, &kc(""))).await, ["m3", "m4", "m5", "m2"]);
    c.update_item().table_name(&t).key("pk", s("m1")).update_expression("SET seq = :one").expression_attribute_values(":one", n(1)).send().await.unwrap();
    assert_eq!(pks(query(&c, &t, &kc(""))).await, ORDER);
    // An index key attribute of the wrong type is refused on write.
    let msg = validation(c.put_item().table_name(&t).item("pk", s("bad")).item("round", s("two")).send().await);
    assert_eq!(msg, format!("One or more parameter values were invalid: Type mismatch for Index Key round Expected: N Actual: S IndexName: {INDEX}"));
}

#[tokio::test]
async fn query_prefixes_operators_and_order() {
    let nimbus = Nimbus::start();
    let c = nimbus.dynamodb_client();
    let t = create_table(&c).await;
    put_rows(&c, &t).await;
    let cases: &[(&str, &[&str])] = &[
        ("", ORDER),
        ("#r = :two", &["m3", "m1", "m4"]),
        ("#r = :two AND bracket = :upper", &["m1", "m4"]),
        ("#r = :two AND bracket = :upper AND seq = :ten", &["m4"]),
        // Each operator on the last attribute named.
        ("#r = :two AND bracket = :upper AND seq < :ten", &["m1"]),
        ("#r = :two AND bracket = :upper AND seq <= :ten", &["m1", "m4"]),
        ("#r = :two AND bracket = :upper AND seq > :one", &["m4"]),
        ("#r = :two AND bracket = :upper AND seq >= :one", &["m1", "m4"]),
        ("#r = :two AND bracket = :upper AND seq BETWEEN :two AND :ten", &["m4"]),
        ("#r = :two AND begins_with(bracket, :pre)", &["m1", "m4"]),
        ("#r = :two AND bracket > :upper", &[]),
        ("#r > :two", &["m5", "m2"]),
        ("#r < :three", &["m3", "m1", "m4"]),
        ("#r BETWEEN :three AND :ten", &["m5", "m2"]),
        // Clauses in any order.
        ("seq = :one AND bracket = :upper AND #r = :two", &["m1"]),
    ];
    for (rest, want) in cases {
        let text = kc(rest);
        assert_eq!(pks(query(&c, &t, &text)).await, *want, "{text}");
        let mut back: Vec<&str> = want.to_vec();
        back.reverse();
        assert_eq!(pks(query(&c, &t, &text).scan_index_forward(false)).await, back, "{text} backwards");
    }
    // The other partition and a partition nobody has.
    let us = query(&c, &t, "site = :x AND tenant = :t").expression_attribute_values(":x", s("us"));
    assert_eq!(pks(us).await, ["m7"]);
    assert!(pks(query(&c, &t, "tenant = :t AND site = :x")).await.is_empty());
    // Select COUNT and a filter on a non-key attribute work as on any index.
    let counted = query(&c, &t, &kc("#r = :two")).select(aws_sdk_dynamodb::types::Select::Count).send().await.unwrap();
    assert_eq!(counted.count(), 3);
    let filtered = query(&c, &t, &kc("")).filter_expression("note = :x").expression_attribute_values(":x", s("x"));
    assert_eq!(pks(filtered).await, ORDER);
}

#[tokio::test]
async fn pagination_carries_every_key_attribute() {
    let nimbus = Nimbus::start();
    let c = nimbus.dynamodb_client();
    let t = create_table(&c).await;
    put_rows(&c, &t).await;
    for forward in [true, false] {
        let mut seen = Vec::new();
        let mut start = None;
        loop {
            let out = query(&c, &t, &kc("")).limit(2).scan_index_forward(forward).set_exclusive_start_key(start.take()).send().await.unwrap();
            seen.extend(out.items().iter().map(|i| i["pk"].as_s().unwrap().clone()));
            match out.last_evaluated_key {
                Some(k) => {
                    let mut names: Vec<&str> = k.keys().map(String::as_str).collect();
                    names.sort();
                    assert_eq!(names, ["bracket", "pk", "round", "seq", "site", "tenant"]);
                    start = Some(k);
                }
                None => break,
            }
        }
        let mut want: Vec<&str> = ORDER.to_vec();
        if !forward {
            want.reverse();
        }
        assert_eq!(seen, want, "forward: {forward}");
    }
    // A page inside a sort prefix resumes inside it.
    let first = query(&c, &t, &kc("#r = :two")).limit(1).send().await.unwrap();
    let lek = first.last_evaluated_key.unwrap();
    assert_eq!(lek["pk"], s("m3"));
    assert_eq!(pks(query(&c, &t, &kc("#r = :two")).set_exclusive_start_key(Some(lek.clone()))).await, ["m1", "m4"]);
    // A start key outside the key condition, or without an index key attribute, is refused.
    let msg = validation(query(&c, &t, &kc("#r = :three")).set_exclusive_start_key(Some(lek.clone())).send().await);
    assert_eq!(msg, "The provided starting key does not match the range key predicate");
    let mut partial = lek.clone();
    partial.remove("seq");
    let msg = validation(query(&c, &t, &kc("")).set_exclusive_start_key(Some(partial)).send().await);
    assert_eq!(msg, "The provided starting key is invalid: The provided key element does not match the schema");
}

#[tokio::test]
async fn query_validation() {
    let nimbus = Nimbus::start();
    let c = nimbus.dynamodb_client();
    let t = create_table(&c).await;
    let cases: &[(&str, &str)] = &[
        ("tenant = :t", "Query condition missed key schema element: site"),
        ("tenant = :t AND site > :r", "Query key condition not supported"),
        (
            "tenant = :t AND site = :r AND bracket = :upper",
            "RANGE key attributes round must have equality conditions specified in the query because a condition is present on key attribute bracket",
        ),
        (
            "tenant = :t AND site = :r AND #r > :two AND bracket = :upper",
            "RANGE key attributes round must have equality conditions specified in the query because a condition is present on key attribute bracket",
        ),
        (
            "tenant = :t AND site = :r AND #r = :two AND bracket >= :upper AND seq = :one",
            "RANGE key attributes bracket must have equality conditions specified in the query because a condition is present on key attribute seq",
        ),
        ("tenant = :t AND site = :r AND #r = :x", "One or more parameter values were invalid: Condition parameter type does not match schema type"),
        ("tenant = :t AND site = :two", "One or more parameter values were invalid: Condition parameter type does not match schema type"),
        ("tenant = :t AND site = :r AND note = :x", "Query key condition not supported"),
        ("tenant = :t AND site = :r AND #r = :two AND #r = :three", "Invalid KeyConditionExpression: KeyConditionExpressions must only contain one condition per key"),
    ];
    for (text, want) in cases {
        assert_eq!(validation(query(&c, &t, text).send().await), *want, "{text}");
    }
    // A FilterExpression may not read any key attribute of the index.
    let msg = validation(query(&c, &t, &kc("")).filter_expression("seq > :one").expression_attribute_values(":one", n(1)).send().await);
    assert_eq!(msg, "Filter Expression can only contain non-primary key attributes: Primary key attribute: seq");
}

/// A CreateTable with the given index KeySchema; its ValidationException message.
async fn create_error(c: &Client, elems: Vec<KeySchemaElement>, defined: &[&str]) -> String {
    let mut defs = vec![attr("pk", ScalarAttributeType::S)];
    defs.extend(defined.iter().map(|d| attr(d, ScalarAttributeType::S)));
    let gsi = GlobalSecondaryIndex::builder().index_name("gix").set_key_schema(Some(elems)).projection(all()).build().unwrap();
    validation(
        c.create_table()
            .table_name(unique_name("bad"))
            .set_attribute_definitions(Some(defs))
            .key_schema(key("pk", KeyType::Hash))
            .global_secondary_indexes(gsi)
            .billing_mode(BillingMode::PayPerRequest)
            .send()
            .await,
    )
}

#[tokio::test]
async fn create_table_validation() {
    let nimbus = Nimbus::start();
    let c = nimbus.dynamodb_client();
    let h = |n: &str| key(n, KeyType::Hash);
    let r = |n: &str| key(n, KeyType::Range);
    let p = "One or more parameter values were invalid: ";
    let abcde = ["a", "b", "c", "d", "e"];
    let cases: Vec<(Vec<KeySchemaElement>, &[&str], String)> = vec![
        (abcde.iter().map(|x| h(x)).collect(), &abcde, format!("{p}The KeySchema exceeds the maximum allowed number of HASH key attributes")),
        (
            [vec![h("a")], ["b", "c", "d", "e", "f"].iter().map(|x| r(x)).collect()].concat(),
            &["a", "b", "c", "d", "e", "f"],
            format!("{p}The KeySchema exceeds the maximum allowed number of RANGE key attributes"),
        ),
        (vec![h("a"), r("b"), h("c")], &["a", "b", "c"], format!("{p}All HASH key attributes must precede RANGE key attributes in the KeySchema")),
        (vec![r("a"), h("b")], &["a", "b"], format!("{p}Invalid KeySchema: The first KeySchemaElement is not a HASH key type")),
        (vec![h("a"), h("b"), r("a")], &["a", "b"], format!("{p}The KeySchema contains multiple key attributes with the same name")),
        (vec![h("a"), h("a")], &["a"], format!("{p}The KeySchema contains multiple key attributes with the same name")),
        (vec![h("a"), r("a")], &["a"], format!("{p}Both the Hash Key and the Range Key element in the KeySchema have the same name")),
        (vec![h("a"), h("b")], &["a"], format!("{p}Some index key attributes are not defined in AttributeDefinitions. Keys: [a, b], AttributeDefinitions: [pk, a]")),
    ];
    for (elems, defined, want) in cases {
        assert_eq!(create_error(&c, elems, defined).await, want);
    }
    // Four of each is the most, and accepted.
    let eight: Vec<&str> = vec!["h1", "h2", "h3", "h4", "r1", "r2", "r3", "r4"];
    let gsi = GlobalSecondaryIndex::builder()
        .index_name("gix")
        .set_key_schema(Some(eight.iter().map(|x| if x.starts_with('h') { h(x) } else { r(x) }).collect()))
        .projection(all())
        .build()
        .unwrap();
    let mut defs = vec![attr("pk", ScalarAttributeType::S)];
    defs.extend(eight.iter().map(|x| attr(x, ScalarAttributeType::S)));
    let name = unique_name("eight");
    c.create_table().table_name(&name).set_attribute_definitions(Some(defs)).key_schema(h("pk")).global_secondary_indexes(gsi).billing_mode(BillingMode::PayPerRequest).send().await.unwrap();
    let d = c.describe_table().table_name(&name).send().await.unwrap().table.unwrap();
    assert_eq!(d.global_secondary_indexes()[0].key_schema().len(), 8);
    // Tables and local indexes keep one HASH and at most one RANGE attribute.
    let msg = validation(
        c.create_table()
            .table_name(unique_name("bad"))
            .attribute_definitions(attr("a", ScalarAttributeType::S))
            .attribute_definitions(attr("b", ScalarAttributeType::S))
            .key_schema(h("a"))
            .key_schema(h("b"))
            .billing_mode(BillingMode::PayPerRequest)
            .send()
            .await,
    );
    assert_eq!(msg, format!("{p}Invalid KeySchema: The second KeySchemaElement is not a RANGE key type"));
    let lsi = LocalSecondaryIndex::builder().index_name("lix").key_schema(h("a")).key_schema(r("b")).key_schema(r("c")).projection(all()).build().unwrap();
    let msg = validation(
        c.create_table()
            .table_name(unique_name("bad"))
            .set_attribute_definitions(Some(["a", "b", "c"].iter().map(|x| attr(x, ScalarAttributeType::S)).collect()))
            .key_schema(h("a"))
            .key_schema(r("b"))
            .local_secondary_indexes(lsi)
            .billing_mode(BillingMode::PayPerRequest)
            .send()
            .await,
    );
    assert_eq!(msg, "1 validation error detected: Value '[]' at 'keySchema' failed to satisfy constraint: Member must have length less than or equal to 2");
}

#[tokio::test]
async fn update_table_adds_a_multi_attribute_index_with_backfill() {
    let nimbus = Nimbus::start();
    let c = nimbus.dynamodb_client();
    let t = unique_name("gsiadd");
    c.create_table().table_name(&t).attribute_definitions(attr("pk", ScalarAttributeType::S)).key_schema(key("pk", KeyType::Hash)).billing_mode(BillingMode::PayPerRequest).send().await.unwrap();
    put_rows(&c, &t).await;
    let create = |elems: Vec<KeySchemaElement>| {
        GlobalSecondaryIndexUpdate::builder().create(CreateGlobalSecondaryIndexAction::builder().index_name(INDEX).set_key_schema(Some(elems)).projection(all()).build().unwrap()).build()
    };
    // Five HASH attributes are refused here too.
    let five: Vec<KeySchemaElement> = ["tenant", "site", "round", "bracket", "seq"].iter().map(|x| key(x, KeyType::Hash)).collect();
    let msg = validation(c.update_table().table_name(&t).set_attribute_definitions(Some(index_attrs())).global_secondary_index_updates(create(five)).send().await);
    assert_eq!(msg, "One or more parameter values were invalid: The KeySchema exceeds the maximum allowed number of HASH key attributes");
    c.update_table().table_name(&t).set_attribute_definitions(Some(index_attrs())).global_secondary_index_updates(create(index_key())).send().await.unwrap();
    // The backfill indexes only the items with every key attribute.
    let d = c.describe_table().table_name(&t).send().await.unwrap().table.unwrap();
    assert_eq!(d.global_secondary_indexes()[0].item_count(), Some(6));
    assert_eq!(d.global_secondary_indexes()[0].key_schema().len(), 5);
    assert_eq!(pks(query(&c, &t, &kc(""))).await, ORDER);
    assert_eq!(pks(query(&c, &t, &kc("#r = :two AND bracket = :upper")).scan_index_forward(false)).await, ["m4", "m1"]);
}

#[tokio::test]
async fn partiql_backups_and_legacy_key_conditions() {
    let nimbus = Nimbus::start();
    let c = nimbus.dynamodb_client();
    let t = create_table(&c).await;
    put_rows(&c, &t).await;
    // PartiQL: equalities on both partition attributes and a sort prefix become a Query.
    let stmt = format!(r#"SELECT pk FROM "{t}"."{INDEX}" WHERE tenant = 't1' AND site = 'eu' AND "round" = 2 AND bracket = 'upper'"#);
    let out = c.execute_statement().statement(stmt).send().await.unwrap();
    let got: Vec<String> = out.items().iter().map(|i| i["pk"].as_s().unwrap().clone()).collect();
    assert_eq!(got, ["m1", "m4"]);
    let stmt = format!(r#"SELECT pk FROM "{t}"."{INDEX}" WHERE tenant = 't1' AND site = 'eu' AND "round" > 2"#);
    let out = c.execute_statement().statement(stmt).send().await.unwrap();
    let got: Vec<String> = out.items().iter().map(|i| i["pk"].as_s().unwrap().clone()).collect();
    assert_eq!(got, ["m5", "m2"]);
    // Without every partition attribute it is a Scan of the index: the same rows.
    let stmt = format!(r#"SELECT pk FROM "{t}"."{INDEX}" WHERE tenant = 't1' AND bracket = 'lower'"#);
    let out = c.execute_statement().statement(stmt).send().await.unwrap();
    let mut got: Vec<String> = out.items().iter().map(|i| i["pk"].as_s().unwrap().clone()).collect();
    got.sort();
    assert_eq!(got, ["m2", "m3"]);
    // Legacy KeyConditions: one condition per key attribute.
    use aws_sdk_dynamodb::types::{ComparisonOperator as Op, Condition};
    let cond = |op: Op, v: AV| Condition::builder().comparison_operator(op).attribute_value_list(v).build().unwrap();
    let out = c
        .query()
        .table_name(&t)
        .index_name(INDEX)
        .key_conditions("tenant", cond(Op::Eq, s("t1")))
        .key_conditions("site", cond(Op::Eq, s("eu")))
        .key_conditions("round", cond(Op::Eq, n(2)))
        .key_conditions("bracket", cond(Op::Eq, s("upper")))
        .key_conditions("seq", cond(Op::Gt, n(1)))
        .send()
        .await
        .unwrap();
    assert_eq!(out.items().iter().map(|i| i["pk"].as_s().unwrap().as_str()).collect::<Vec<_>>(), ["m4"]);
    // A backup describes the index's whole KeySchema, and a restore queries like the source.
    let backup = c.create_backup().table_name(&t).backup_name("multi").send().await.unwrap().backup_details.unwrap().backup_arn;
    let desc = c.describe_backup().backup_arn(&backup).send().await.unwrap().backup_description.unwrap();
    let features = desc.source_table_feature_details.unwrap();
    assert_eq!(features.global_secondary_indexes()[0].key_schema().len(), 5);
    let restored = unique_name("restored");
    c.restore_table_from_backup().target_table_name(&restored).backup_arn(&backup).send().await.unwrap();
    assert_eq!(pks(query(&c, &restored, &kc(""))).await, ORDER);
}

#[tokio::test]
async fn multi_attribute_index_survives_a_restart() {
    let mut nimbus = Nimbus::start();
    if nimbus.is_external() {
        return;
    }
    let c = nimbus.dynamodb_client();
    let t = create_table(&c).await;
    put_rows(&c, &t).await;
    nimbus.restart();
    let c = nimbus.dynamodb_client();
    let d = c.describe_table().table_name(&t).send().await.unwrap().table.unwrap();
    let g = &d.global_secondary_indexes()[0];
    assert_eq!(g.key_schema().iter().map(|k| k.attribute_name()).collect::<Vec<_>>(), ["tenant", "site", "round", "bracket", "seq"]);
    assert_eq!(g.item_count(), Some(6));
    assert_eq!(pks(query(&c, &t, &kc(""))).await, ORDER);
    assert_eq!(pks(query(&c, &t, &kc("#r = :two AND bracket = :upper AND seq > :one"))).await, ["m4"]);
    // Writes after the restart land in the index too.
    c.put_item()
        .table_name(&t)
        .item("pk", s("m9"))
        .item("tenant", s("t1"))
        .item("site", s("eu"))
        .item("round", n(1))
        .item("bracket", s("a"))
        .item("seq", n(1))
        .send()
        .await
        .unwrap();
    assert_eq!(pks(query(&c, &t, &kc(""))).await[0], "m9");
}
