//! Table-driven tests of the expression languages against one item: condition and
//! filter results, update results, key conditions, projections, and the
//! ValidationException messages AWS gives for bad expressions.

use nimbus_dynamodb_expr::expr::{
    parse_condition, parse_filter, parse_key_condition, parse_projection, parse_update, project, ExprError, SortCondition,
    Substitutions,
};
use nimbus_dynamodb_expr::value::{item_from_json, item_to_json};
use nimbus_dynamodb_expr::{AttributeValue, Item};
use serde_json::{json, Value};
use std::collections::HashMap;

fn item() -> Item {
    item_from_json(&json!({
        "pk": {"S": "p1"}, "sk": {"N": "5"}, "name": {"S": "alice"}, "age": {"N": "30"},
        "tags": {"SS": ["a", "b"]}, "nums": {"NS": ["1", "2"]}, "bins": {"BS": ["AQ=="]},
        "lst": {"L": [{"S": "x"}, {"N": "1"}, {"M": {"deep": {"S": "d"}}}]},
        "mp": {"M": {"a": {"N": "1"}, "b": {"M": {"c": {"S": "cc"}}}}},
        "flag": {"BOOL": true}, "nothing": {"NULL": true}, "bin": {"B": "AQID"}, "status": {"S": "on"}
    }))
    .unwrap()
}

fn values() -> HashMap<String, AttributeValue> {
    let v = json!({
        ":s": {"S": "alice"}, ":n30": {"N": "30"}, ":n10": {"N": "10"}, ":n40": {"N": "40"}, ":a": {"S": "a"},
        ":x": {"S": "x"}, ":al": {"S": "al"}, ":ty": {"S": "SS"}, ":bogus": {"S": "XX"}, ":one": {"N": "1"},
        ":list": {"L": [{"S": "y"}]}, ":ss": {"SS": ["c"]}, ":sa": {"SS": ["a"]}, ":sab": {"SS": ["a", "b"]}, ":ns": {"NS": ["2", "3"]},
        ":b": {"B": "AQ=="}, ":on": {"S": "on"}, ":t": {"BOOL": true}, ":m": {"M": {"k": {"S": "v"}}},
        ":p1": {"S": "p1"}, ":big": {"N": "9.9999999999999999999999999999999999999E+125"}
    });
    v.as_object().unwrap().iter().map(|(k, v)| (k.clone(), AttributeValue::from_json(v).unwrap())).collect()
}

fn names() -> HashMap<String, String> {
    [("#s", "status"), ("#n", "name"), ("#m", "mp"), ("#dot", "a.b")].iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
}

fn cond(text: &str) -> Result<bool, String> {
    let (n, v) = (names(), values());
    let subs = Substitutions::new(&n, &v);
    let c = parse_condition(text, &subs).map_err(|e| e.0)?;
    c.eval(&item()).map_err(|e| e.0)
}

#[test]
fn conditions() {
    let t = Ok(true);
    let f = Ok(false);
    let cases: &[(&str, Result<bool, String>)] = &[
        ("#n = :s", t.clone()),
        ("#n <> :s", f.clone()),
        ("age = :n30", t.clone()),
        ("age < :n40", t.clone()),
        ("age <= :n30", t.clone()),
        ("age > :n30", f.clone()),
        ("age >= :n10", t.clone()),
        ("age = :s", f.clone()),
        ("age <> :s", t.clone()),
        ("absent <> :s", t.clone()),
        ("absent = :s", f.clone()),
        ("absent < :s", f.clone()),
        ("#n < :x", t.clone()),
        ("age BETWEEN :n10 AND :n40", t.clone()),
        ("age between :n10 and :n30", t.clone()),
        ("age BETWEEN :n40 AND :big", f.clone()),
        ("#n BETWEEN :a AND :x", t.clone()),
        ("age IN (:n10, :n30)", t.clone()),
        ("age IN (:n10)", f.clone()),
        ("attribute_exists(age)", t.clone()),
        ("attribute_exists(absent)", f.clone()),
        ("attribute_not_exists(absent)", t.clone()),
        ("attribute_exists(mp.b.c)", t.clone()),
        ("attribute_exists(mp.b.x)", f.clone()),
        ("attribute_exists(lst[2].deep)", t.clone()),
        ("attribute_exists(lst[3])", f.clone()),
        ("attribute_exists(#m.a)", t.clone()),
        ("attribute_exists(#dot)", f.clone()),
        ("attribute_type(tags, :ty)", t.clone()),
        ("attribute_type(age, :ty)", f.clone()),
        ("begins_with(#n, :al)", t.clone()),
        ("begins_with(#n, :x)", f.clone()),
        ("begins_with(bin, :b)", t.clone()),
        ("begins_with(age, :al)", f.clone()),
        ("contains(#n, :al)", t.clone()),
        ("contains(tags, :a)", t.clone()),
        ("contains(tags, :x)", f.clone()),
        ("contains(nums, :one)", t.clone()),
        ("contains(lst, :x)", t.clone()),
        ("contains(lst, :one)", t.clone()),
        ("contains(age, :one)", f.clone()),
        ("size(#n) = :n10", f.clone()),
        ("size(tags) < :n10", t.clone()),
        ("size(lst) > :one", t.clone()),
        ("size(age) > :one", f.clone()),
        ("size(absent) >= :one", f.clone()),
        ("NOT attribute_exists(age)", f.clone()),
        ("not not attribute_exists(age)", t.clone()),
        // NOT binds tighter than AND, AND tighter than OR.
        ("attribute_exists(absent) AND age = :n30 OR #n = :s", t.clone()),
        ("attribute_exists(absent) AND (age = :n30 OR #n = :s)", f.clone()),
        ("#n = :s OR attribute_exists(absent) AND attribute_exists(absent)", t.clone()),
        ("NOT attribute_exists(absent) AND attribute_exists(absent)", f.clone()),
        ("(age = :n30)", t.clone()),
        ("flag = :t", t.clone()),
        ("tags = :sab", t.clone()),
        ("mp.a = :one AND mp.b.c <> :x", t.clone()),
        ("#s = :on", t.clone()),
        // Errors.
        ("", Err("Invalid ConditionExpression: The expression can not be empty;".into())),
        ("status = :on", Err("Invalid ConditionExpression: Attribute name is a reserved keyword; reserved keyword: status".into())),
        ("a.Size = :on", Err("Invalid ConditionExpression: Attribute name is a reserved keyword; reserved keyword: Size".into())),
        ("#zz = :on", Err("Invalid ConditionExpression: An expression attribute name used in the document path is not defined; attribute name: #zz".into())),
        ("age = :zz", Err("Invalid ConditionExpression: An expression attribute value used in expression is not defined; attribute value: :zz".into())),
        ("a x", Err("Invalid ConditionExpression: Syntax error; token: \"x\", near: \"a x\"".into())),
        ("age =", Err("Invalid ConditionExpression: Syntax error; token: <EOF>, near: \"=\"".into())),
        ("age = :n30 AND", Err("Invalid ConditionExpression: Syntax error; token: <EOF>, near: \"AND\"".into())),
        ("age ! :n30", Err("Invalid ConditionExpression: Syntax error; token: \"!\", near: \"age !\"".into())),
        ("(age = :n30", Err("Invalid ConditionExpression: Syntax error; token: <EOF>, near: \":n30\"".into())),
        ("age = AND", Err("Invalid ConditionExpression: Syntax error; token: \"AND\", near: \"= AND\"".into())),
        ("((age = :n30))", Err("Invalid ConditionExpression: The expression has redundant parentheses;".into())),
        ("foo(age)", Err("Invalid ConditionExpression: Invalid function name; function: foo".into())),
        ("attribute_exists(age, name)", Err("Invalid ConditionExpression: Incorrect number of operands for operator or function; operator or function: attribute_exists, number of operands: 2".into())),
        ("attribute_exists(:s)", Err("Invalid ConditionExpression: Operator or function requires a document path; operator or function: attribute_exists".into())),
        ("begins_with(#n, :one)", Err("Invalid ConditionExpression: Incorrect operand type for operator or function; operator or function: begins_with, operand type: N".into())),
        ("attribute_type(age, :bogus)", Err("Invalid ConditionExpression: Invalid attribute type name found in type: XX, valid types: {B,NULL,SS,BOOL,L,BS,N,NS,S,M}".into())),
        ("age BETWEEN :n40 AND :n10", Err("Invalid ConditionExpression: The BETWEEN operator requires upper bound to be greater than or equal to lower bound; lower bound operand: AttributeValue: {N:40}, upper bound operand: AttributeValue: {N:10}".into())),
        ("age BETWEEN :n10 AND :s", Err("Invalid ConditionExpression: The BETWEEN operator requires same data type for lower and upper bounds; lower bound operand: AttributeValue: {N:10}, upper bound operand: AttributeValue: {S:alice}".into())),
        ("age = age", Err("Invalid ConditionExpression: The first operand must be distinct from the remaining operands for this operator or function; operator: =, first operand: [age]".into())),
        ("size(age)", Err("Invalid ConditionExpression: Syntax error; token: <EOF>, near: \")\"".into())),
        ("attribute_exists(age) = :t", Err("Invalid ConditionExpression: Syntax error; token: \"=\", near: \") =\"".into())),
        ("if_not_exists(age, :one) = :one", Err("Invalid ConditionExpression: The function is not allowed in a condition expression; function: if_not_exists".into())),
        ("lst[x] = :one", Err("Invalid ConditionExpression: Syntax error; token: \"x\", near: \"[x\"".into())),
    ];
    for (text, want) in cases {
        assert_eq!(&cond(text), want, "{text}");
    }
}

#[test]
fn in_operand_limit() {
    let lst: Vec<String> = (0..101).map(|_| ":one".to_string()).collect();
    let text = format!("age IN ({})", lst.join(", "));
    assert_eq!(
        cond(&text),
        Err("Invalid ConditionExpression: The IN operator is provided with too many operands; number of operands: 101".into())
    );
    let text = format!("age IN ({})", lst[..100].join(", "));
    assert_eq!(cond(&text), Ok(false));
}

#[test]
fn filter_messages_name_the_filter() {
    let (n, v) = (names(), values());
    let subs = Substitutions::new(&n, &v);
    let e = parse_filter("status = :on", &subs).unwrap_err();
    assert_eq!(e.0, "Invalid FilterExpression: Attribute name is a reserved keyword; reserved keyword: status");
}

#[test]
fn unused_substitutions() {
    let (n, v) = (names(), values());
    let subs = Substitutions::new(&n, &v);
    parse_condition("#n = :s", &subs).unwrap();
    let e = subs.check_all_used().unwrap_err();
    assert_eq!(e.0, "Value provided in ExpressionAttributeNames unused in expressions: keys: {#dot, #m, #s}");
    let names_only: HashMap<String, String> = [("#n".to_string(), "name".to_string())].into();
    let one_value: HashMap<String, AttributeValue> = [(":s".to_string(), AttributeValue::S("x".into())), (":q".to_string(), AttributeValue::Null)].into();
    let subs = Substitutions::new(&names_only, &one_value);
    parse_condition("#n = :s", &subs).unwrap();
    assert_eq!(subs.check_all_used().unwrap_err().0, "Value provided in ExpressionAttributeValues unused in expressions: keys: {:q}");
    let subs = Substitutions::new(&names_only, &one_value);
    parse_update("SET #n = :s", &subs).unwrap();
    parse_condition("attribute_exists(x) AND x = :q", &subs).unwrap();
    assert_eq!(subs.check_all_used(), Ok(()));
}

fn update(text: &str) -> Result<Value, String> {
    let (n, v) = (names(), values());
    let subs = Substitutions::new(&n, &v);
    let u = parse_update(text, &subs).map_err(|e| e.0)?;
    let mut it = item();
    u.apply(&mut it, &["pk", "sk"]).map_err(|e| e.0)?;
    Ok(item_to_json(&it))
}

#[test]
fn updates() {
    // (expression, attribute → expected DynamoDB JSON (null: absent)) or the error.
    let cases: &[(&str, Result<Value, &str>)] = &[
        ("SET age = :n10", Ok(json!({"age": {"N": "10"}}))),
        ("set age = age + :n10, #n = :x", Ok(json!({"age": {"N": "40"}, "name": {"S": "x"}}))),
        ("SET age = age - :n40", Ok(json!({"age": {"N": "-10"}}))),
        ("SET newer = :n10 + :n30", Ok(json!({"newer": {"N": "40"}}))),
        ("SET age = if_not_exists(age, :one), fresh = if_not_exists(fresh, :one)", Ok(json!({"age": {"N": "30"}, "fresh": {"N": "1"}}))),
        ("SET lst = list_append(lst, :list)", Ok(json!({"lst": {"L": [{"S": "x"}, {"N": "1"}, {"M": {"deep": {"S": "d"}}}, {"S": "y"}]}}))),
        ("SET lst = list_append(:list, lst)", Ok(json!({"lst": {"L": [{"S": "y"}, {"S": "x"}, {"N": "1"}, {"M": {"deep": {"S": "d"}}}]}}))),
        ("SET l2 = list_append(if_not_exists(l2, :list), :list)", Ok(json!({"l2": {"L": [{"S": "y"}, {"S": "y"}]}}))),
        ("SET lst[1] = :x", Ok(json!({"lst": {"L": [{"S": "x"}, {"S": "x"}, {"M": {"deep": {"S": "d"}}}]}}))),
        ("SET lst[10] = :x", Ok(json!({"lst": {"L": [{"S": "x"}, {"N": "1"}, {"M": {"deep": {"S": "d"}}}, {"S": "x"}]}}))),
        ("SET mp.b.c = :x, mp.z = :one", Ok(json!({"mp": {"M": {"a": {"N": "1"}, "b": {"M": {"c": {"S": "x"}}}, "z": {"N": "1"}}}}))),
        ("SET lst[2].deep = :x", Ok(json!({"lst": {"L": [{"S": "x"}, {"N": "1"}, {"M": {"deep": {"S": "x"}}}]}}))),
        ("SET cpy = mp.b", Ok(json!({"cpy": {"M": {"c": {"S": "cc"}}}}))),
        ("SET #s = :x", Ok(json!({"status": {"S": "x"}}))),
        ("REMOVE age, mp.a", Ok(json!({"age": null, "mp": {"M": {"b": {"M": {"c": {"S": "cc"}}}}}}))),
        ("REMOVE lst[0], lst[2]", Ok(json!({"lst": {"L": [{"N": "1"}]}}))),
        ("REMOVE absent, mp.nope", Ok(json!({"absent": null}))),
        ("ADD age :n10", Ok(json!({"age": {"N": "40"}}))),
        ("ADD cnt :one", Ok(json!({"cnt": {"N": "1"}}))),
        ("ADD tags :ss", Ok(json!({"tags": {"SS": ["a", "b", "c"]}}))),
        ("ADD nums :ns", Ok(json!({"nums": {"NS": ["1", "2", "3"]}}))),
        ("ADD newset :ss", Ok(json!({"newset": {"SS": ["c"]}}))),
        ("DELETE tags :sa", Ok(json!({"tags": {"SS": ["b"]}}))),
        ("DELETE tags :sab", Ok(json!({"tags": null}))),
        ("DELETE absent :sa", Ok(json!({"absent": null}))),
        ("SET a1 = :one REMOVE age ADD tags :ss DELETE nums :ns", Ok(json!({"a1": {"N": "1"}, "age": null, "tags": {"SS": ["a", "b", "c"]}, "nums": {"NS": ["1"]}}))),
        // Errors.
        ("", Err("Invalid UpdateExpression: The expression can not be empty;")),
        ("SET a = :one SET b = :one", Err("Invalid UpdateExpression: The \"SET\" section can only be used once in an update expression;")),
        ("REMOVE a REMOVE b", Err("Invalid UpdateExpression: The \"REMOVE\" section can only be used once in an update expression;")),
        ("SET a = :one, a.b = :one", Err("Invalid UpdateExpression: Two document paths overlap with each other; must remove or rewrite one of these paths; path one: [a], path two: [a, b]")),
        ("SET a = :one REMOVE a", Err("Invalid UpdateExpression: Two document paths overlap with each other; must remove or rewrite one of these paths; path one: [a], path two: [a]")),
        ("SET a.b = :one REMOVE a[1]", Err("Invalid UpdateExpression: Two document paths conflict with each other; must remove or rewrite one of these paths; path one: [a, b], path two: [a, [1]]")),
        ("SET pk = :x", Err("Cannot update attribute pk. This attribute is part of the key")),
        ("REMOVE sk", Err("Cannot update attribute sk. This attribute is part of the key")),
        ("SET age = #n + :one", Err("An operand in the update expression has an incorrect data type")),
        ("SET age = age + :s", Err("Invalid UpdateExpression: Incorrect operand type for operator or function; operator or function: +, operand type: S")),
        ("SET x = list_append(age, :list)", Err("An operand in the update expression has an incorrect data type")),
        ("SET x = list_append(lst, :s)", Err("Invalid UpdateExpression: Incorrect operand type for operator or function; operator or function: list_append, operand type: S")),
        ("SET x = absent", Err("The provided expression refers to an attribute that does not exist in the item")),
        ("SET age = age + :big", Err("Attempting to store more than 38 significant digits in a Number")),
        ("ADD age :s", Err("Invalid UpdateExpression: Incorrect operand type for operator or function; operator: ADD, operand type: STRING, typeSet: ALLOWED_FOR_ADD_OPERAND")),
        ("ADD age :list", Err("Invalid UpdateExpression: Incorrect operand type for operator or function; operator: ADD, operand type: LIST, typeSet: ALLOWED_FOR_ADD_OPERAND")),
        ("DELETE tags :one", Err("Invalid UpdateExpression: Incorrect operand type for operator or function; operator: DELETE, operand type: NUMBER, typeSet: ALLOWED_FOR_DELETE_OPERAND")),
        ("ADD #n :one", Err("An operand in the update expression has an incorrect data type")),
        ("ADD tags :ns", Err("An operand in the update expression has an incorrect data type")),
        ("DELETE age :sa", Err("An operand in the update expression has an incorrect data type")),
        ("SET nope.x = :one", Err("The document path provided in the update expression is invalid for update")),
        ("SET age.x = :one", Err("The document path provided in the update expression is invalid for update")),
        ("SET mp[0] = :one", Err("The document path provided in the update expression is invalid for update")),
        ("SET status = :x", Err("Invalid UpdateExpression: Attribute name is a reserved keyword; reserved keyword: status")),
        ("SET a = :nope", Err("Invalid UpdateExpression: An expression attribute value used in expression is not defined; attribute value: :nope")),
        ("SET a :one", Err("Invalid UpdateExpression: Syntax error; token: \":one\", near: \"a :one\"")),
        ("SET a = :one b = :one", Err("Invalid UpdateExpression: Syntax error; token: \"b\", near: \":one b\"")),
        ("ADD a b", Err("Invalid UpdateExpression: Syntax error; token: \"b\", near: \"a b\"")),
        ("UPSERT a = :one", Err("Invalid UpdateExpression: Syntax error; token: \"UPSERT\", near: \"UPSERT\"")),
        ("SET a = foo(b)", Err("Invalid UpdateExpression: Invalid function name; function: foo")),
        ("SET a = size(b)", Err("Invalid UpdateExpression: The function is not allowed in an update expression; function: size")),
        ("SET a = if_not_exists(:one, :one)", Err("Invalid UpdateExpression: Operator or function requires a document path; operator or function: if_not_exists")),
        ("SET a = list_append(:list)", Err("Invalid UpdateExpression: Incorrect number of operands for operator or function; operator or function: list_append, number of operands: 1")),
    ];
    for (text, want) in cases {
        let got = update(text);
        match want {
            Err(msg) => assert_eq!(got, Err(msg.to_string()), "{text}"),
            Ok(expect) => {
                let got = got.unwrap_or_else(|e| panic!("{text}: {e}"));
                for (k, v) in expect.as_object().unwrap() {
                    assert_eq!(got.get(k).unwrap_or(&Value::Null), v, "{text}: attribute {k}");
                }
            }
        }
    }
}

#[test]
fn update_reports_changed_attributes_and_is_atomic() {
    let (n, v) = (names(), values());
    let subs = Substitutions::new(&n, &v);
    let u = parse_update("SET age = :one, mp.a = :n10 REMOVE lst[0] ADD tags :ss", &subs).unwrap();
    let mut it = item();
    assert_eq!(u.apply(&mut it, &["pk"]).unwrap(), vec!["age", "mp", "lst", "tags"]);
    let u = parse_update("SET age = :one ADD #n :one", &subs).unwrap();
    let mut it = item();
    assert!(u.apply(&mut it, &["pk"]).is_err());
    assert_eq!(it, item(), "a failed update leaves the item alone");
}

fn key(text: &str, sort: Option<&str>) -> Result<(String, AttributeValue, Option<SortCondition>), String> {
    let (n, v) = (names(), values());
    let subs = Substitutions::new(&n, &v);
    let sort: Vec<&str> = sort.into_iter().collect();
    let k = parse_key_condition(text, &subs, &["pk"], &sort).map_err(|e: ExprError| e.0)?;
    let (name, value) = k.partition.into_iter().next().ok_or("no partition condition")?;
    assert!(k.sort.len() <= 1, "{text}");
    Ok((name, value, k.sort.into_iter().next()))
}

/// A key condition on a multi-attribute key: partition `pk`, `h2`; sort `sk`, `r2`, `r3`
/// (<https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/GSI.html#GSI.MultiAttributeKeys>).
fn multi_key(text: &str) -> Result<(Vec<String>, Vec<SortCondition>), String> {
    let (n, v) = (names(), values());
    let subs = Substitutions::new(&n, &v);
    let k = parse_key_condition(text, &subs, &["pk", "h2"], &["sk", "r2", "r3"]).map_err(|e: ExprError| e.0)?;
    Ok((k.partition.into_iter().map(|(n, _)| n).collect(), k.sort))
}

#[test]
fn multi_attribute_key_conditions() {
    let s = |x: &str| AttributeValue::S(x.into());
    let n = |x: &str| AttributeValue::N(nimbus_dynamodb_expr::Number::parse(x).unwrap());
    let both = vec!["pk".to_string(), "h2".to_string()];
    assert_eq!(multi_key("h2 = :a AND pk = :p1"), Ok((both.clone(), vec![])));
    assert_eq!(
        multi_key("r2 < :n10 AND pk = :p1 AND sk = :a AND h2 = :a"),
        Ok((both.clone(), vec![SortCondition::Eq("sk".into(), s("a")), SortCondition::Lt("r2".into(), n("10"))]))
    );
    assert_eq!(
        multi_key("pk = :p1 AND h2 = :a AND sk = :a AND r2 = :one AND begins_with(r3, :a)"),
        Ok((both, vec![SortCondition::Eq("sk".into(), s("a")), SortCondition::Eq("r2".into(), n("1")), SortCondition::BeginsWith("r3".into(), s("a"))]))
    );
    let errors: &[(&str, &str)] = &[
        ("pk = :p1", "Query condition missed key schema element: h2"),
        ("pk = :p1 AND h2 > :a", "Query key condition not supported"),
        ("pk = :p1 AND h2 = :a AND r2 = :one", "RANGE key attributes sk must have equality conditions specified in the query because a condition is present on key attribute r2"),
        ("pk = :p1 AND h2 = :a AND sk > :a AND r2 = :one", "RANGE key attributes sk must have equality conditions specified in the query because a condition is present on key attribute r2"),
        ("pk = :p1 AND h2 = :a AND r3 = :a", "RANGE key attributes sk, r2 must have equality conditions specified in the query because a condition is present on key attribute r3"),
        ("pk = :p1 AND h2 = :a AND extra = :a", "Query key condition not supported"),
        ("pk = :p1 AND h2 = :a AND sk = :a AND sk = :a", "Invalid KeyConditionExpression: KeyConditionExpressions must only contain one condition per key"),
    ];
    for (text, msg) in errors {
        assert_eq!(multi_key(text).map(|_| ()), Err(msg.to_string()), "{text}");
    }
}

#[test]
fn key_conditions() {
    let s = |x: &str| AttributeValue::S(x.into());
    let n = |x: &str| AttributeValue::N(nimbus_dynamodb_expr::Number::parse(x).unwrap());
    assert_eq!(key("pk = :p1", Some("sk")), Ok(("pk".into(), s("p1"), None)));
    assert_eq!(key("pk = :p1 AND sk < :n10", Some("sk")), Ok(("pk".into(), s("p1"), Some(SortCondition::Lt("sk".into(), n("10"))))));
    assert_eq!(key(":n10 > sk AND pk = :p1", Some("sk")), Ok(("pk".into(), s("p1"), Some(SortCondition::Lt("sk".into(), n("10"))))));
    assert_eq!(
        key("(pk = :p1) AND (sk BETWEEN :n10 AND :n30)", Some("sk")),
        Ok(("pk".into(), s("p1"), Some(SortCondition::Between("sk".into(), n("10"), n("30")))))
    );
    assert_eq!(key("pk = :p1 AND begins_with(sk, :a)", Some("sk")), Ok(("pk".into(), s("p1"), Some(SortCondition::BeginsWith("sk".into(), s("a"))))));
    let errors: &[(&str, &str)] = &[
        ("sk = :n10", "Query condition missed key schema element: pk"),
        ("pk = :p1 AND extra = :one", "Query condition missed key schema element: sk"),
        ("pk < :p1", "Query key condition not supported"),
        ("pk = :p1 OR sk = :one", "Invalid KeyConditionExpression: Invalid operator used in KeyConditionExpression: OR"),
        ("pk = :p1 AND NOT sk = :one", "Invalid KeyConditionExpression: Invalid operator used in KeyConditionExpression: NOT"),
        ("pk = :p1 AND sk <> :one", "Invalid KeyConditionExpression: Invalid operator used in KeyConditionExpression: <>"),
        ("pk = :p1 AND sk IN (:one)", "Invalid KeyConditionExpression: Invalid operator used in KeyConditionExpression: IN"),
        ("pk = :p1 AND attribute_exists(sk)", "Invalid KeyConditionExpression: Invalid operator used in KeyConditionExpression: attribute_exists"),
        ("pk = :p1 AND begins_with(sk, :one)", "Invalid KeyConditionExpression: Incorrect operand type for operator or function; operator or function: begins_with, operand type: N"),
        ("pk = :p1 AND sk = :one AND sk = :n10", "Invalid KeyConditionExpression: KeyConditionExpressions must only contain one condition per key"),
        ("pk = :p1 AND", "Invalid KeyConditionExpression: Syntax error; token: <EOF>, near: \"AND\""),
    ];
    for (text, msg) in errors {
        assert_eq!(key(text, Some("sk")).map(|_| ()), Err(msg.to_string()), "{text}");
    }
    assert_eq!(key("pk = :p1 AND sk = :one", None).map(|_| ()), Err("Query key condition not supported".into()));
}

#[test]
fn sort_condition_matching() {
    let n = |x: &str| AttributeValue::N(nimbus_dynamodb_expr::Number::parse(x).unwrap());
    let s = |x: &str| AttributeValue::S(x.into());
    let name = || "sk".to_string();
    assert!(SortCondition::Eq(name(), n("5")).matches(&n("5.0")));
    assert!(SortCondition::Lt(name(), n("10")).matches(&n("9")));
    assert!(!SortCondition::Lt(name(), n("10")).matches(&n("10")));
    assert!(SortCondition::Le(name(), n("10")).matches(&n("10")));
    assert!(SortCondition::Gt(name(), s("a")).matches(&s("b")));
    assert!(SortCondition::Ge(name(), s("b")).matches(&s("b")));
    assert!(SortCondition::Between(name(), n("1"), n("3")).matches(&n("3")));
    assert!(!SortCondition::Between(name(), n("1"), n("3")).matches(&n("3.5")));
    assert!(SortCondition::BeginsWith(name(), s("ab")).matches(&s("abc")));
    assert!(!SortCondition::BeginsWith(name(), s("ab")).matches(&s("a")));
    assert!(!SortCondition::Eq(name(), s("5")).matches(&n("5")));
    assert_eq!(SortCondition::Between(name(), n("1"), n("3")).attribute(), "sk");
}

fn projection(text: &str) -> Result<Value, String> {
    let (n, v) = (names(), values());
    let subs = Substitutions::new(&n, &v);
    let paths = parse_projection(text, &subs).map_err(|e| e.0)?;
    Ok(item_to_json(&project(&paths, &item())))
}

#[test]
fn projections() {
    assert_eq!(projection("age, #n"), Ok(json!({"age": {"N": "30"}, "name": {"S": "alice"}})));
    assert_eq!(projection("mp.b.c, absent"), Ok(json!({"mp": {"M": {"b": {"M": {"c": {"S": "cc"}}}}}})));
    assert_eq!(projection("lst[2].deep, lst[0]"), Ok(json!({"lst": {"L": [{"S": "x"}, {"M": {"deep": {"S": "d"}}}]}})));
    assert_eq!(projection("lst[7], mp.zz"), Ok(json!({})));
    assert_eq!(projection("#m.a, #m.b"), Ok(json!({"mp": {"M": {"a": {"N": "1"}, "b": {"M": {"c": {"S": "cc"}}}}}})));
    assert_eq!(
        projection("mp, mp.a"),
        Err("Invalid ProjectionExpression: Two document paths overlap with each other; must remove or rewrite one of these paths; path one: [mp], path two: [mp, a]".into())
    );
    assert_eq!(
        projection("age, age"),
        Err("Invalid ProjectionExpression: Two document paths overlap with each other; must remove or rewrite one of these paths; path one: [age], path two: [age]".into())
    );
    assert_eq!(
        projection("a.b, a[0]"),
        Err("Invalid ProjectionExpression: Two document paths conflict with each other; must remove or rewrite one of these paths; path one: [a, b], path two: [a, [0]]".into())
    );
    assert_eq!(projection("name"), Err("Invalid ProjectionExpression: Attribute name is a reserved keyword; reserved keyword: name".into()));
    assert_eq!(projection("age,"), Err("Invalid ProjectionExpression: Syntax error; token: <EOF>, near: \",\"".into()));
    assert_eq!(projection(""), Err("Invalid ProjectionExpression: The expression can not be empty;".into()));
}
