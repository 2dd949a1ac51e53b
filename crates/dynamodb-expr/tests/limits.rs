//! AWS's limits on expressions and nested values, and that no input within (or far
//! beyond) them can exhaust the parser's stack. Limits from
//! <https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/Constraints.html#limits-expression-parameters>:
//! 4 KB per expression string, 300 operators or functions, document paths 32 levels
//! deep, maps and lists nested 32 levels.
//!
//! Every parse runs on a thread with a 256 KiB stack — an eighth of a tokio worker's —
//! so a parser that recursed once per nesting level would overflow here first.

use nimbus_dynamodb_expr::expr::{parse_condition, parse_filter, parse_key_condition, parse_projection, parse_update, Substitutions};
use nimbus_dynamodb_expr::value::item_from_json;
use nimbus_dynamodb_expr::AttributeValue;
use serde_json::{json, Value};
use std::collections::HashMap;

const SMALL_STACK: usize = 256 * 1024;

fn on_small_stack<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
    std::thread::Builder::new().stack_size(SMALL_STACK).spawn(f).unwrap().join().expect("parser thread panicked")
}

fn subs_values() -> HashMap<String, AttributeValue> {
    [(":v".to_string(), AttributeValue::S("x".into())), (":l".to_string(), AttributeValue::L(vec![]))].into_iter().collect()
}

/// Parses `text` as each kind of expression that can hold it, on a small stack.
fn parse(kind: &'static str, text: String) -> Result<(), String> {
    on_small_stack(move || {
        let names = HashMap::new();
        let values = subs_values();
        let subs = Substitutions::new(&names, &values);
        match kind {
            "condition" => parse_condition(&text, &subs).map(drop),
            "filter" => parse_filter(&text, &subs).map(drop),
            "key" => parse_key_condition(&text, &subs, &["pk"], &["sk"]).map(drop),
            "projection" => parse_projection(&text, &subs).map(drop),
            "update" => parse_update(&text, &subs).map(drop),
            _ => unreachable!(),
        }
        .map_err(|e| e.0)
    })
}

fn repeat(s: &str, n: usize) -> String {
    s.repeat(n)
}

#[test]
fn expression_size_is_counted_in_bytes_as_sent() {
    // 4,096 bytes pass the size check (and fail later for their own reasons, if any);
    // 4,097 are refused with the size. Pynamo issue #979 shows AWS's wording.
    let at_limit = format!("a = :v{}", " ".repeat(4096 - 6));
    assert_eq!(at_limit.len(), 4096);
    assert_eq!(parse("condition", at_limit), Ok(()));
    let over = format!("a = :v{}", " ".repeat(4097 - 6));
    assert_eq!(
        parse("condition", over),
        Err("Invalid ConditionExpression: Expression size has exceeded the maximum allowed size; expression size: 4097".into())
    );
    let names: Vec<String> = (0..500).map(|i| format!("attr{i:04}")).collect();
    let projection = names.join(", ");
    let len = projection.len();
    assert_eq!(
        parse("projection", projection),
        Err(format!("Invalid ProjectionExpression: Expression size has exceeded the maximum allowed size; expression size: {len}"))
    );
}

#[test]
fn at_most_300_operators() {
    let clauses = |n: usize| (0..n).map(|i| format!("a{i} = :v")).collect::<Vec<_>>();
    // 150 comparisons joined by 149 ANDs: 299 operators.
    assert_eq!(parse("filter", clauses(150).join(" AND ")), Ok(()));
    // 151 comparisons and 150 ORs: the 301st operator is refused.
    assert_eq!(
        parse("filter", clauses(151).join(" OR ")),
        Err("Invalid FilterExpression: The expression contains too many operators; operator count: 301".into())
    );
    // Functions count too: `size(a)<:v` is two operators.
    let sizes = |n: usize| vec!["size(a)<:v"; n].join(" OR ");
    assert_eq!(parse("condition", sizes(100)), Ok(()));
    assert!(parse("condition", sizes(101)).unwrap_err().contains("too many operators; operator count: 301"));
    // In updates, + - and functions.
    let sums = (0..301).map(|i| format!("a{i}=b+:v")).collect::<Vec<_>>().join(",");
    assert_eq!(
        parse("update", format!("SET {sums}")),
        Err("Invalid UpdateExpression: The expression contains too many operators; operator count: 301".into())
    );
}

#[test]
fn deep_nesting_is_refused_not_recursed() {
    // Each of these fits in 4 KB and nests far past anything valid.
    let not_chain = format!("{}a = :v", repeat("NOT ", 1000));
    assert!(parse("condition", not_chain).unwrap_err().contains("too many operators; operator count: 301"));
    let parens = format!("{}a = :v{}", repeat("(", 2000), repeat(")", 2000));
    for kind in ["condition", "filter", "key"] {
        let err = parse(kind, parens.clone()).unwrap_err();
        assert!(err.contains("too many operators"), "{kind}: {err}");
    }
    // Left-nested groups reach depth before any operator is seen.
    let left = format!("{}a = :v{}", repeat("(", 1500), repeat(") AND b = :v", 1500));
    assert!(parse("filter", left).unwrap_err().contains("Expression size has exceeded"));
    let left_small = format!("{}a = :v{}", repeat("(", 310), repeat(") AND b = :v", 310));
    assert!(left_small.len() <= 4096);
    assert!(parse("filter", left_small).unwrap_err().contains("too many operators; operator count: 301"));
    let unbalanced = repeat("(", 4000);
    assert!(parse("condition", unbalanced).unwrap_err().contains("too many operators"));
    // Update functions nested as deep as 4 KB allows parse (on the small stack).
    let appends = format!("SET a = {}:l{}", repeat("list_append(:l,", 255), repeat(")", 255));
    assert!(appends.len() <= 4096);
    assert_eq!(parse("update", appends), Ok(()));
    let if_not = format!("SET a = {}:v{}", repeat("if_not_exists(b,", 238), repeat(")", 238));
    assert!(if_not.len() <= 4096);
    assert_eq!(parse("update", if_not), Ok(()));
}

#[test]
fn document_paths_at_most_32_levels() {
    // Alternator's test suite records AWS's message for 33 levels.
    let ok = format!("a{}", repeat(".b", 31));
    assert_eq!(parse("projection", ok), Ok(()));
    let deep = format!("a{}", repeat(".b", 32));
    assert_eq!(
        parse("projection", deep),
        Err("Invalid ProjectionExpression: The document path has too many nesting levels; nesting levels: 33".into())
    );
    let indexes = format!("a{} = :v", repeat("[0]", 1300));
    assert_eq!(
        parse("condition", indexes),
        Err("Invalid ConditionExpression: The document path has too many nesting levels; nesting levels: 1301".into())
    );
    let long = format!("REMOVE a{}", repeat(".b", 2100));
    assert!(parse("update", long).unwrap_err().contains("Expression size has exceeded"));
    let long = format!("REMOVE a{}", repeat(".b", 1000));
    assert!(parse("update", long).unwrap_err().contains("too many nesting levels; nesting levels: 1001"));
}

fn nested_map(wraps: usize) -> Value {
    let mut v = json!({"S": "leaf"});
    for _ in 0..wraps {
        v = json!({"M": {"n": v}});
    }
    v
}

fn nested_list(wraps: usize) -> Value {
    let mut v = json!({"N": "1"});
    for _ in 0..wraps {
        v = json!({"L": [v]});
    }
    v
}

#[test]
fn values_nest_at_most_32_levels() {
    // The attribute itself is level 1: 31 wraps put the leaf at level 32 (accepted),
    // 32 wraps at level 33 (refused) — as captured against DynamoDB by public
    // conformance suites.
    const MSG: &str = "Nesting Levels have exceeded supported limits: Attributes in the item have nested levels beyond supported limit";
    for build in [nested_map as fn(usize) -> Value, nested_list] {
        let ok = json!({"pk": {"S": "k"}, "doc": build(31)});
        assert!(item_from_json(&ok).is_ok());
        let deep = json!({"pk": {"S": "k"}, "doc": build(32)});
        assert_eq!(item_from_json(&deep).map_err(|e| e.0), Err(MSG.to_string()));
        assert_eq!(AttributeValue::from_json(&build(32)).map_err(|e| e.0), Err(MSG.to_string()));
        assert!(AttributeValue::from_json(&build(31)).is_ok());
    }
}

#[test]
fn deepest_valid_expressions_parse_and_evaluate_on_a_small_stack() {
    let outcome = on_small_stack(|| {
        let names = HashMap::new();
        let values = subs_values();
        let subs = Substitutions::new(&names, &values);
        let mut item = item_from_json(&json!({"pk": {"S": "k"}, "a": {"S": "x"}, "l": {"L": []}})).unwrap();
        // 298 NOTs around one comparison: 299 operators, nesting 298 deep (an even count: true).
        let nots = format!("{}a = :v", repeat("NOT ", 298));
        let nots = parse_condition(&nots, &subs).map_err(|e| e.0)?.eval(&item).map_err(|e| e.0)?;
        // Right-nested groups, each with its own AND: 149 levels.
        let groups = format!("{}a = :v{}", repeat("(a = :v AND ", 149), repeat(")", 149));
        let groups = parse_condition(&groups, &subs).map_err(|e| e.0)?.eval(&item).map_err(|e| e.0)?;
        // 255 nested list_append calls applied to an item.
        let appends = format!("SET l = {}l{}", repeat("list_append(:l,", 255), repeat(")", 255));
        parse_update(&appends, &subs).map_err(|e| e.0)?.apply(&mut item, &["pk"]).map_err(|e| e.0)?;
        Ok::<_, String>((nots, groups))
    });
    assert_eq!(outcome, Ok((true, true)));
}
