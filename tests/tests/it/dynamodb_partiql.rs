//! DynamoDB PartiQL through the AWS SDK for Rust: ExecuteStatement (SELECT as GetItem /
//! Query / Scan, INSERT, UPDATE, DELETE, parameters, Limit and NextToken),
//! BatchExecuteStatement and ExecuteTransaction, with AWS's errors.
//! Reference: "PartiQL - a SQL-compatible query language for Amazon DynamoDB"
//! (ql-reference.select / .insert / .update / .delete) and the API reference pages of
//! ExecuteStatement, BatchExecuteStatement and ExecuteTransaction.

use aws_sdk_dynamodb::types::AttributeValue as AV;
use aws_sdk_dynamodb::types::{
    AttributeDefinition, BatchStatementRequest, BillingMode, GlobalSecondaryIndex, KeySchemaElement, KeyType, ParameterizedStatement, Projection, ProjectionType,
    ScalarAttributeType,
};
use aws_sdk_dynamodb::Client;
use nimbus_tests::{expect_err_code, unique_name, Nimbus};
use std::collections::HashMap;

fn s(v: &str) -> AV {
    AV::S(v.into())
}
fn n(v: i64) -> AV {
    AV::N(v.to_string())
}

/// pk (S) + sk (N), GSI by_g on g (ALL).
async fn table(c: &Client) -> String {
    let name = unique_name("pql");
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
                .projection(Projection::builder().projection_type(ProjectionType::All).build())
                .build()
                .unwrap(),
        )
        .billing_mode(BillingMode::PayPerRequest)
        .send()
        .await
        .unwrap();
    name
}

async fn exec(c: &Client, stmt: &str, params: Vec<AV>) -> Vec<HashMap<String, AV>> {
    let mut req = c.execute_statement().statement(stmt);
    for p in params {
        req = req.parameters(p);
    }
    req.send().await.unwrap_or_else(|e| panic!("{stmt}: {e:?}")).items.unwrap_or_default()
}

/// Items a/1..a/5 (v = i, g = 'even'/'odd'), b/1.
async fn seed(c: &Client, t: &str) {
    for i in 1..=5 {
        let g = if i % 2 == 0 { "even" } else { "odd" };
        exec(c, &format!(r#"INSERT INTO "{t}" VALUE {{'pk': 'a', 'sk': ?, 'v': ?, 'g': '{g}', 'tags': <<'x', 'y'>>, 'm': {{'k': [1, 'two']}}}}"#), vec![n(i), n(i * 10)]).await;
    }
    exec(c, &format!(r#"INSERT INTO "{t}" VALUE {{'pk': 'b', 'sk': 1, 'v': 99}}"#), vec![]).await;
}

#[tokio::test]
async fn select_by_whole_key_partition_key_and_scan() {
    let nim = Nimbus::start_in_memory();
    let c = nim.dynamodb_client();
    let t = table(&c).await;
    seed(&c, &t).await;
    // Whole key: one item (GetItem), with the literal types INSERT wrote.
    let items = exec(&c, &format!(r#"SELECT * FROM "{t}" WHERE pk = 'a' AND sk = 2"#), vec![]).await;
    assert_eq!(items.len(), 1);
    assert_eq!(items[0]["v"], n(20));
    assert_eq!(items[0]["tags"], AV::Ss(vec!["x".into(), "y".into()]));
    assert_eq!(items[0]["m"], AV::M([("k".to_string(), AV::L(vec![n(1), s("two")]))].into()));
    // Partition key only: a Query, in sort-key order.
    let items = exec(&c, &format!(r#"SELECT sk FROM "{t}" WHERE pk = ?"#), vec![s("a")]).await;
    let sks: Vec<AV> = items.iter().map(|i| i["sk"].clone()).collect();
    assert_eq!(sks, (1..=5).map(n).collect::<Vec<_>>());
    assert_eq!(items[0].len(), 1, "projection keeps only sk");
    // Sort-key range and a non-key filter.
    let items = exec(&c, &format!(r#"SELECT * FROM "{t}" WHERE pk = 'a' AND sk BETWEEN 2 AND 5 AND v <> 30 AND g = 'even'"#), vec![]).await;
    assert_eq!(items.iter().map(|i| i["sk"].clone()).collect::<Vec<_>>(), vec![n(2), n(4)]);
    // No key: a Scan with OR, IN, IS MISSING, functions, nested paths.
    let items = exec(&c, &format!(r#"SELECT pk FROM "{t}" WHERE v IN [10, 99] OR (begins_with(g, 'ev') AND m.k[1] = 'two' AND size(tags) = 2)"#), vec![]).await;
    assert_eq!(items.len(), 4);
    let items = exec(&c, &format!(r#"SELECT * FROM "{t}" WHERE g IS MISSING"#), vec![]).await;
    assert_eq!(items.len(), 1);
    assert_eq!(items[0]["pk"], s("b"));
    let items = exec(&c, &format!(r#"SELECT * FROM "{t}" WHERE g IS NOT MISSING AND NOT contains(g, 'dd')"#), vec![]).await;
    assert_eq!(items.len(), 2);
    // NOT binds tighter than AND, AND tighter than OR; parentheses regroup.
    let items = exec(&c, &format!(r#"SELECT * FROM "{t}" WHERE NOT v = 10 AND v < 40 OR v = 99"#), vec![]).await;
    assert_eq!(items.len(), 3, "20, 30, 99");
    let items = exec(&c, &format!(r#"SELECT * FROM "{t}" WHERE NOT (v = 10 OR v = 20) AND (v < 40 OR (pk = 'b' AND v != 0))"#), vec![]).await;
    assert_eq!(items.len(), 2, "30, 99");
    // Key attribute used outside a key condition (OR): still answered (as a Scan).
    let items = exec(&c, &format!(r#"SELECT * FROM "{t}" WHERE pk = 'a' AND (sk = 1 OR sk = 5)"#), vec![]).await;
    assert_eq!(items.len(), 2);
    // An index in FROM.
    let items = exec(&c, &format!(r#"SELECT * FROM "{t}"."by_g" WHERE g = 'odd'"#), vec![]).await;
    assert_eq!(items.len(), 3);
    // ConsistentRead is accepted on table reads.
    let out = c.execute_statement().statement(format!(r#"SELECT * FROM "{t}" WHERE pk = 'b'"#)).consistent_read(true).send().await.unwrap();
    assert_eq!(out.items.unwrap().len(), 1);
    // ReturnConsumedCapacity is answered by the operation the statement became.
    let out = c
        .execute_statement()
        .statement(format!(r#"SELECT * FROM "{t}" WHERE pk = 'b' AND sk = 1"#))
        .return_consumed_capacity(aws_sdk_dynamodb::types::ReturnConsumedCapacity::Total)
        .send()
        .await
        .unwrap();
    assert_eq!(out.consumed_capacity.unwrap().table_name.as_deref(), Some(t.as_str()));
}

#[tokio::test]
async fn select_pages_with_limit_and_next_token() {
    let nim = Nimbus::start_in_memory();
    let c = nim.dynamodb_client();
    let t = table(&c).await;
    seed(&c, &t).await;
    for stmt in [format!(r#"SELECT * FROM "{t}" WHERE pk = 'a'"#), format!(r#"SELECT * FROM "{t}""#)] {
        let (mut seen, mut token, mut pages) = (0, None, 0);
        loop {
            let out = c.execute_statement().statement(&stmt).limit(2).set_next_token(token).send().await.unwrap();
            let got = out.items.unwrap_or_default().len();
            assert!(got <= 2);
            seen += got;
            pages += 1;
            token = out.next_token;
            if token.is_none() {
                break;
            }
        }
        assert!(pages >= 3, "{stmt}: {pages} pages");
        assert_eq!(seen, if stmt.contains("WHERE") { 5 } else { 6 });
    }
    let err = expect_err_code(c.execute_statement().statement(format!(r#"SELECT * FROM "{t}""#)).next_token("garbage!").send().await, "ValidationException");
    assert!(format!("{err:?}").contains("Invalid NextToken"));
}

#[tokio::test]
async fn insert_of_an_existing_key_is_a_duplicate_item() {
    let nim = Nimbus::start_in_memory();
    let c = nim.dynamodb_client();
    let t = table(&c).await;
    let stmt = format!(r#"INSERT INTO "{t}" VALUE {{'pk': ?, 'sk': ?}}"#);
    exec(&c, &stmt, vec![s("k"), n(1)]).await;
    let err = expect_err_code(c.execute_statement().statement(&stmt).parameters(s("k")).parameters(n(1)).send().await, "DuplicateItemException");
    assert_eq!(err.into_service_error().meta().message(), Some("Duplicate primary key exists in table"));
}

#[tokio::test]
async fn update_set_remove_with_conditions() {
    let nim = Nimbus::start_in_memory();
    let c = nim.dynamodb_client();
    let t = table(&c).await;
    seed(&c, &t).await;
    let out = exec(&c, &format!(r#"UPDATE "{t}" SET v = v + 5, note = ?, m.k[0] = 7 SET l = list_append([1], [2]) REMOVE g, tags WHERE pk = 'a' AND sk = 1"#), vec![s("hi")]).await;
    assert!(out.is_empty());
    let item = c.get_item().table_name(&t).key("pk", s("a")).key("sk", n(1)).send().await.unwrap().item.unwrap();
    assert_eq!(item["v"], n(15));
    assert_eq!(item["note"], s("hi"));
    assert_eq!(item["l"], AV::L(vec![n(1), n(2)]));
    assert!(!item.contains_key("g") && !item.contains_key("tags"));
    assert_eq!(item["m"], AV::M([("k".to_string(), AV::L(vec![n(7), s("two")]))].into()));
    // An extra condition that does not hold.
    let err = expect_err_code(
        c.execute_statement().statement(format!(r#"UPDATE "{t}" SET v = 0 WHERE pk = 'a' AND sk = 1 AND v > 100"#)).send().await,
        "ConditionalCheckFailedException",
    );
    assert_eq!(err.into_service_error().meta().message(), Some("The conditional request failed"));
    // UPDATE only changes existing items.
    expect_err_code(c.execute_statement().statement(format!(r#"UPDATE "{t}" SET v = 0 WHERE pk = 'zz' AND sk = 1"#)).send().await, "ConditionalCheckFailedException");
    // The WHERE must fix the whole key.
    let err = expect_err_code(c.execute_statement().statement(format!(r#"UPDATE "{t}" SET v = 0 WHERE pk = 'a'"#)).send().await, "ValidationException");
    assert_eq!(err.into_service_error().meta().message(), Some("Where clause does not contain a mandatory equality on all key attributes"));
}

#[tokio::test]
async fn delete_with_conditions() {
    let nim = Nimbus::start_in_memory();
    let c = nim.dynamodb_client();
    let t = table(&c).await;
    seed(&c, &t).await;
    expect_err_code(c.execute_statement().statement(format!(r#"DELETE FROM "{t}" WHERE pk = 'a' AND sk = 2 AND v = 1"#)).send().await, "ConditionalCheckFailedException");
    exec(&c, &format!(r#"DELETE FROM "{t}" WHERE pk = 'a' AND sk = 2 AND v = 20"#), vec![]).await;
    assert!(c.get_item().table_name(&t).key("pk", s("a")).key("sk", n(2)).send().await.unwrap().item.is_none());
    expect_err_code(c.execute_statement().statement(format!(r#"DELETE FROM "{t}" WHERE sk = 2"#)).send().await, "ValidationException");
}

#[tokio::test]
async fn bad_statements_are_validation_errors() {
    let nim = Nimbus::start_in_memory();
    let c = nim.dynamodb_client();
    let t = table(&c).await;
    let msg = |stmt: String, params: Vec<AV>| {
        let c = c.clone();
        async move {
            let err = expect_err_code(c.execute_statement().statement(stmt).set_parameters(Some(params).filter(|p| !p.is_empty())).send().await, "ValidationException");
            err.into_service_error().meta().message().unwrap_or_default().to_string()
        }
    };
    assert_eq!(msg("CREATE TABLE x".into(), vec![]).await, "Statement wasn't well formed, can't be processed: Expected data manipulation");
    assert!(msg(format!(r#"SELECT * FROM "{t}" WHERE"#), vec![]).await.starts_with("Statement wasn't well formed, can't be processed:"));
    assert!(msg(format!(r#"SELECT * FROM "{t}" WHERE pk = 'unterminated"#), vec![]).await.starts_with("Statement wasn't well formed"));
    assert_eq!(msg(format!(r#"SELECT * FROM "{t}" WHERE pk = ?"#), vec![]).await, "Number of parameters in request and statement don't match.");
    assert_eq!(msg(format!(r#"SELECT * FROM "{t}" WHERE pk = 'a'"#), vec![s("x")]).await, "Number of parameters in request and statement don't match.");
    assert!(msg(format!(r#"SELECT * FROM "{t}"."nope""#), vec![]).await.contains("nope"));
    // Deep nesting is refused, not a crashed worker.
    let deep = format!(r#"SELECT * FROM "{t}" WHERE {}pk = 'a'{}"#, "(".repeat(5000), ")".repeat(5000));
    assert!(msg(deep, vec![]).await.starts_with("Statement wasn't well formed"));
    let deep = format!(r#"INSERT INTO "{t}" VALUE {{'pk': 'a', 'sk': 1, 'x': {}1{}}}"#, "[".repeat(5000), "]".repeat(5000));
    assert!(msg(deep, vec![]).await.starts_with("Statement wasn't well formed"));
    expect_err_code(c.execute_statement().statement(r#"SELECT * FROM "no_such_table""#).send().await, "ResourceNotFoundException");
    // Just inside the nesting limit the statement runs (NOT x 60 = NOT x 0 on an even count).
    let inside = format!(r#"SELECT * FROM "{t}" WHERE {}({}v = 1{})"#, "NOT ".repeat(30), "(".repeat(30), ")".repeat(30));
    assert!(c.execute_statement().statement(inside).send().await.is_ok());
    // What nimbus does not run says so.
    assert_eq!(msg(format!(r#"SELECT * FROM "{t}" WHERE pk = 'a' ORDER BY sk DESC"#), vec![]).await, "ORDER BY is not supported by nimbus");
    assert_eq!(msg(format!(r#"UPDATE "{t}" SET s = set_add(s, <<'x'>>) WHERE pk = 'a' AND sk = 1"#), vec![]).await, "set_add() in UPDATE is not supported by nimbus");
    assert_eq!(msg(format!(r#"DELETE FROM "{t}" WHERE pk = 'a' AND sk = 1 RETURNING ALL OLD *"#), vec![]).await, "RETURNING is not supported by nimbus");
    assert_eq!(msg(format!(r#"SELECT * FROM "{t}" WHERE x IS NULL"#), vec![]).await, "IS NULL and IS <type> predicates are not supported by nimbus");
}

#[tokio::test]
async fn batch_execute_statement_reports_errors_per_statement() {
    let nim = Nimbus::start_in_memory();
    let c = nim.dynamodb_client();
    let t = table(&c).await;
    let st = |text: String, params: Vec<AV>| BatchStatementRequest::builder().statement(text).set_parameters(Some(params).filter(|p| !p.is_empty())).build().unwrap();
    let ins = format!(r#"INSERT INTO "{t}" VALUE {{'pk': ?, 'sk': 1}}"#);
    let out = c.batch_execute_statement().statements(st(ins.clone(), vec![s("x")])).statements(st(ins.clone(), vec![s("x")])).statements(st(ins, vec![s("y")])).send().await.unwrap();
    let r = out.responses.unwrap();
    assert_eq!(r.len(), 3);
    assert!(r[0].error.is_none() && r[2].error.is_none());
    let e = r[1].error.as_ref().unwrap();
    assert_eq!(e.code.as_ref().map(|c| c.as_str()), Some("DuplicateItem"));
    let get = format!(r#"SELECT * FROM "{t}" WHERE pk = ? AND sk = 1"#);
    let out = c.batch_execute_statement().statements(st(get.clone(), vec![s("y")])).statements(st(get, vec![s("none")])).send().await.unwrap();
    let r = out.responses.unwrap();
    assert_eq!(r[0].item.as_ref().unwrap()["pk"], s("y"));
    assert_eq!(r[0].table_name.as_deref(), Some(t.as_str()));
    assert!(r[1].item.is_none() && r[1].error.is_none());
    // A batch SELECT must name a whole key.
    let out = c.batch_execute_statement().statements(st(format!(r#"SELECT * FROM "{t}" WHERE pk = 'y'"#), vec![])).send().await.unwrap();
    assert_eq!(out.responses.unwrap()[0].error.as_ref().unwrap().code.as_ref().map(|c| c.as_str()), Some("ValidationError"));
    // Reads and writes do not mix in one batch (API_BatchExecuteStatement).
    let mixed = c.batch_execute_statement().statements(st(format!(r#"SELECT * FROM "{t}" WHERE pk = 'y' AND sk = 1"#), vec![])).statements(st(format!(r#"DELETE FROM "{t}" WHERE pk = 'y' AND sk = 1"#), vec![]));
    expect_err_code(mixed.send().await, "ValidationException");
    // At most 25 statements.
    let mut req = c.batch_execute_statement();
    for i in 0..26 {
        req = req.statements(st(format!(r#"SELECT * FROM "{t}" WHERE pk = 'p{i}' AND sk = 1"#), vec![]));
    }
    expect_err_code(req.send().await, "ValidationException");
}

#[tokio::test]
async fn execute_transaction_is_atomic_and_idempotent() {
    let nim = Nimbus::start_in_memory();
    let c = nim.dynamodb_client();
    let t = table(&c).await;
    let ps = |text: String, params: Vec<AV>| ParameterizedStatement::builder().statement(text).set_parameters(Some(params).filter(|p| !p.is_empty())).build().unwrap();
    exec(&c, &format!(r#"INSERT INTO "{t}" VALUE {{'pk': 'a', 'sk': 1, 'v': 1}}"#), vec![]).await;
    let writes = vec![
        ps(format!(r#"INSERT INTO "{t}" VALUE {{'pk': ?, 'sk': 1}}"#), vec![s("new")]),
        ps(format!(r#"UPDATE "{t}" SET v = v + 1 WHERE pk = 'a' AND sk = 1"#), vec![]),
    ];
    c.execute_transaction().set_transact_statements(Some(writes.clone())).client_request_token("tok-1").send().await.unwrap();
    // Replay with the same token: no second increment.
    c.execute_transaction().set_transact_statements(Some(writes)).client_request_token("tok-1").send().await.unwrap();
    let item = c.get_item().table_name(&t).key("pk", s("a")).key("sk", n(1)).send().await.unwrap().item.unwrap();
    assert_eq!(item["v"], n(2));
    // Same token, different statements.
    let other = vec![ps(format!(r#"DELETE FROM "{t}" WHERE pk = 'a' AND sk = 1"#), vec![])];
    expect_err_code(c.execute_transaction().set_transact_statements(Some(other)).client_request_token("tok-1").send().await, "IdempotentParameterMismatchException");
    // A duplicate INSERT cancels the whole transaction.
    let bad = vec![
        ps(format!(r#"UPDATE "{t}" SET v = 100 WHERE pk = 'a' AND sk = 1"#), vec![]),
        ps(format!(r#"INSERT INTO "{t}" VALUE {{'pk': 'new', 'sk': 1}}"#), vec![]),
    ];
    let err = expect_err_code(c.execute_transaction().set_transact_statements(Some(bad)).send().await, "TransactionCanceledException");
    match err.into_service_error() {
        aws_sdk_dynamodb::operation::execute_transaction::ExecuteTransactionError::TransactionCanceledException(e) => {
            let codes: Vec<_> = e.cancellation_reasons.unwrap().iter().map(|r| r.code.clone().unwrap_or_default()).collect();
            assert_eq!(codes, vec!["None", "DuplicateItem"]);
        }
        other => panic!("{other:?}"),
    }
    let item = c.get_item().table_name(&t).key("pk", s("a")).key("sk", n(1)).send().await.unwrap().item.unwrap();
    assert_eq!(item["v"], n(2), "nothing of the cancelled transaction applied");
    // A read transaction.
    let reads = vec![ps(format!(r#"SELECT * FROM "{t}" WHERE pk = 'a' AND sk = 1"#), vec![]), ps(format!(r#"SELECT v FROM "{t}" WHERE pk = 'new' AND sk = 1"#), vec![])];
    let out = c.execute_transaction().set_transact_statements(Some(reads)).send().await.unwrap();
    let r = out.responses.unwrap();
    assert_eq!(r[0].item.as_ref().unwrap()["v"], n(2));
    assert!(r[1].item.as_ref().map(|i| i.is_empty()).unwrap_or(true));
    // More than 100 statements.
    let many: Vec<_> = (0..101).map(|i| ps(format!(r#"DELETE FROM "{t}" WHERE pk = 'p{i}' AND sk = 1"#), vec![])).collect();
    expect_err_code(c.execute_transaction().set_transact_statements(Some(many)).send().await, "ValidationException");
}
