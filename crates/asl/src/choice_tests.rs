//! Tests of Choice Rules: every operator and its `…Path` form, type tests, nesting, type
//! mismatches and missing variables.
//! <https://docs.aws.amazon.com/step-functions/latest/dg/state-choice.html>

use super::*;
use serde_json::{json, Map};

fn eval_rule(rule: Value, input: Value) -> Result<bool, AslError> {
    let context = json!({"Execution": {"Name": "x"}});
    let mut vars = Map::new();
    vars.insert("limit".into(), json!(10));
    let rule = Rule::parse(&rule).unwrap_or_else(|e| panic!("{rule}: {e}"));
    rule.matches(&Scope { input: &input, context: &context, variables: &vars })
}

fn is(rule: Value, input: Value) -> bool {
    eval_rule(rule.clone(), input).unwrap_or_else(|e| panic!("{rule}: {e}"))
}

fn op(variable: &str, operator: &str, value: Value) -> Value {
    let mut rule = serde_json::Map::new();
    rule.insert("Variable".into(), json!(variable));
    rule.insert(operator.into(), value);
    Value::Object(rule)
}

#[test]
fn state_choice_page_example_routes_to_value_in_twenties() {
    let choices = [
        json!({"Not": {"Variable": "$.type", "StringEquals": "Private"}, "Next": "Public"}),
        json!({"Variable": "$.value", "NumericEquals": 0, "Next": "ValueIsZero"}),
        json!({"And": [{"Variable": "$.value", "NumericGreaterThanEquals": 20}, {"Variable": "$.value", "NumericLessThan": 30}], "Next": "ValueInTwenties"}),
    ];
    let input = json!({"type": "Private", "value": 22});
    let taken = choices.iter().map(|c| Rule::parse(c).unwrap()).find(|r| {
        let context = json!({});
        let vars = Map::new();
        r.matches(&Scope { input: &input, context: &context, variables: &vars }).unwrap()
    });
    assert_eq!(taken.unwrap().next(), Some("ValueInTwenties"));
}

#[test]
fn state_choice_string_operators() {
    let input = json!({"s": "MyStringABC"});
    assert!(is(op("$.s", "StringEquals", json!("MyStringABC")), input.clone()));
    assert!(!is(op("$.s", "StringEquals", json!("mystringabc")), input.clone()));
    assert!(is(op("$.s", "StringGreaterThan", json!("MyString")), input.clone()));
    assert!(!is(op("$.s", "StringGreaterThan", json!("MyStringABC")), input.clone()));
    assert!(is(op("$.s", "StringGreaterThanEquals", json!("MyStringABC")), input.clone()));
    assert!(is(op("$.s", "StringLessThan", json!("MyStringABD")), input.clone()));
    assert!(!is(op("$.s", "StringLessThan", json!("MyStringABC")), input.clone()));
    assert!(is(op("$.s", "StringLessThanEquals", json!("MyStringABC")), input.clone()));
    assert!(!is(op("$.s", "StringLessThanEquals", json!("A")), input.clone()));
    // Java's compareTo orders by UTF-16 code units: U+FF61 sorts after U+1F600 (a surrogate pair).
    assert!(is(op("$.s", "StringGreaterThan", json!("\u{1F600}")), json!({"s": "\u{FF61}"})));
}

#[test]
fn state_choice_string_matches_wildcards_and_escapes() {
    let rule = |pattern: &str| op("$.s", "StringMatches", json!(pattern));
    assert!(is(rule("log-*.txt"), json!({"s": "log-2020-01.txt"})));
    assert!(is(rule("log-*.txt"), json!({"s": "log-.txt"})));
    assert!(!is(rule("log-*.txt"), json!({"s": "log-1.txt.gz"})));
    assert!(is(rule("*"), json!({"s": ""})));
    assert!(is(rule("a*b*c"), json!({"s": "a--b--b--c"})));
    assert!(!is(rule("a*b*c"), json!({"s": "a--c--b"})));
    assert!(is(rule("exact"), json!({"s": "exact"})));
    assert!(!is(rule("exact"), json!({"s": "exactly"})));
    // `\*` is a literal asterisk (written "\\*" in JSON), `\\` a literal backslash.
    assert!(is(rule(r"five\*"), json!({"s": "five*"})));
    assert!(!is(rule(r"five\*"), json!({"s": "five stars"})));
    assert!(is(rule(r"C:\\*"), json!({"s": r"C:\dir"})));
    assert!(!is(rule("x*"), json!({"s": 5})));
}

#[test]
fn state_choice_numeric_operators() {
    let input = json!({"n": 20, "f": 20.5});
    assert!(is(op("$.n", "NumericEquals", json!(20)), input.clone()));
    assert!(is(op("$.n", "NumericEquals", json!(20.0)), input.clone()));
    assert!(!is(op("$.n", "NumericEquals", json!(21)), input.clone()));
    assert!(is(op("$.f", "NumericGreaterThan", json!(20)), input.clone()));
    assert!(!is(op("$.n", "NumericGreaterThan", json!(20)), input.clone()));
    assert!(is(op("$.n", "NumericGreaterThanEquals", json!(20)), input.clone()));
    assert!(is(op("$.n", "NumericLessThan", json!(20.5)), input.clone()));
    assert!(!is(op("$.f", "NumericLessThan", json!(20.5)), input.clone()));
    assert!(is(op("$.f", "NumericLessThanEquals", json!(20.5)), input.clone()));
    assert!(!is(op("$.f", "NumericLessThanEquals", json!(-1)), input));
}

#[test]
fn state_choice_boolean_and_timestamp_operators() {
    assert!(is(op("$.b", "BooleanEquals", json!(true)), json!({"b": true})));
    assert!(!is(op("$.b", "BooleanEquals", json!(false)), json!({"b": true})));
    let input = json!({"t": "2001-01-01T12:00:00Z"});
    assert!(is(op("$.t", "TimestampEquals", json!("2001-01-01T12:00:00Z")), input.clone()));
    // Compared as instants, not as text.
    assert!(is(op("$.t", "TimestampEquals", json!("2001-01-01T13:00:00+01:00")), input.clone()));
    assert!(is(op("$.t", "TimestampGreaterThan", json!("2001-01-01T11:59:59.999Z")), input.clone()));
    assert!(is(op("$.t", "TimestampGreaterThanEquals", json!("2001-01-01T12:00:00Z")), input.clone()));
    assert!(is(op("$.t", "TimestampLessThan", json!("2001-01-01T12:00:00.001Z")), input.clone()));
    assert!(is(op("$.t", "TimestampLessThanEquals", json!("2001-01-01T12:00:00Z")), input.clone()));
    assert!(!is(op("$.t", "TimestampLessThan", json!("2001-01-01T12:00:00Z")), input));
    // A variable that is not a timestamp does not match.
    assert!(!is(op("$.t", "TimestampEquals", json!("2001-01-01T12:00:00Z")), json!({"t": "2001-01-01t12:00:00z"})));
}

#[test]
fn state_choice_path_variants_compare_two_values_of_the_input() {
    let input = json!({"a": "x", "b": "x", "n": 3, "m": 5, "t": true, "u": true,
        "t1": "2020-01-01T00:00:00Z", "t2": "2021-01-01T00:00:00Z"});
    assert!(is(op("$.a", "StringEqualsPath", json!("$.b")), input.clone()));
    assert!(!is(op("$.a", "StringLessThanPath", json!("$.b")), input.clone()));
    assert!(is(op("$.a", "StringLessThanEqualsPath", json!("$.b")), input.clone()));
    assert!(!is(op("$.a", "StringGreaterThanPath", json!("$.b")), input.clone()));
    assert!(is(op("$.a", "StringGreaterThanEqualsPath", json!("$.b")), input.clone()));
    assert!(!is(op("$.n", "NumericEqualsPath", json!("$.m")), input.clone()));
    assert!(is(op("$.n", "NumericLessThanPath", json!("$.m")), input.clone()));
    assert!(is(op("$.n", "NumericLessThanEqualsPath", json!("$.m")), input.clone()));
    assert!(is(op("$.m", "NumericGreaterThanPath", json!("$.n")), input.clone()));
    assert!(is(op("$.m", "NumericGreaterThanEqualsPath", json!("$.m")), input.clone()));
    assert!(is(op("$.t", "BooleanEqualsPath", json!("$.u")), input.clone()));
    assert!(!is(op("$.t1", "TimestampEqualsPath", json!("$.t2")), input.clone()));
    assert!(is(op("$.t1", "TimestampLessThanPath", json!("$.t2")), input.clone()));
    assert!(is(op("$.t1", "TimestampLessThanEqualsPath", json!("$.t2")), input.clone()));
    assert!(is(op("$.t2", "TimestampGreaterThanPath", json!("$.t1")), input.clone()));
    assert!(is(op("$.t2", "TimestampGreaterThanEqualsPath", json!("$.t1")), input.clone()));
    // Variables and the context object on either side.
    assert!(is(op("$.n", "NumericLessThanPath", json!("$limit")), input.clone()));
    assert!(is(op("$$.Execution.Name", "StringEquals", json!("x")), input.clone()));
    // A path operand that selects nothing is a runtime error, as the variable would be.
    let err = eval_rule(op("$.n", "NumericEqualsPath", json!("$.nope")), input).unwrap_err();
    assert_eq!(err.error, "States.Runtime");
    assert_eq!(err.cause, "Invalid path '$.nope': The choice state's condition path references an invalid value.");
}

#[test]
fn state_choice_type_tests() {
    let input = json!({"null": null, "n": 1.5, "s": "str", "b": false, "t": "2016-08-18T17:33:00Z", "o": {}});
    assert!(is(op("$.null", "IsNull", json!(true)), input.clone()));
    assert!(is(op("$.s", "IsNull", json!(false)), input.clone()));
    assert!(is(op("$.n", "IsNumeric", json!(true)), input.clone()));
    assert!(!is(op("$.s", "IsNumeric", json!(true)), input.clone()));
    assert!(is(op("$.s", "IsString", json!(true)), input.clone()));
    assert!(is(op("$.o", "IsString", json!(false)), input.clone()));
    assert!(is(op("$.b", "IsBoolean", json!(true)), input.clone()));
    assert!(!is(op("$.null", "IsBoolean", json!(true)), input.clone()));
    assert!(is(op("$.t", "IsTimestamp", json!(true)), input.clone()));
    assert!(is(op("$.s", "IsTimestamp", json!(false)), input.clone()));
    assert!(is(op("$.s", "IsPresent", json!(true)), input.clone()));
    assert!(is(op("$.nope", "IsPresent", json!(false)), input.clone()));
    assert!(!is(op("$.nope", "IsPresent", json!(true)), input.clone()));
    assert!(is(op("$.null", "IsPresent", json!(true)), input.clone()));
    assert!(is(op("$.o.deep.er", "IsPresent", json!(false)), input.clone()));
    assert!(is(op("$undefinedVariable", "IsPresent", json!(false)), input));
}

#[test]
fn state_choice_type_mismatch_is_false_and_not_inverts_it() {
    // "Step Functions doesn't attempt to match a numeric field to a string value."
    let input = json!({"n": 1, "s": "1"});
    assert!(!is(op("$.s", "NumericEquals", json!(1)), input.clone()));
    assert!(!is(op("$.n", "StringEquals", json!("1")), input.clone()));
    assert!(!is(op("$.n", "BooleanEquals", json!(true)), input.clone()));
    assert!(!is(op("$.n", "TimestampEquals", json!("2016-08-18T17:33:00Z")), input.clone()));
    assert!(is(json!({"Not": op("$.s", "NumericEquals", json!(1))}), input));
}

#[test]
fn state_choice_missing_variable_is_states_runtime() {
    for operator in ["StringEquals", "IsNull", "IsString", "IsNumeric", "IsBoolean", "IsTimestamp"] {
        let value = if operator == "StringEquals" { json!("x") } else { json!(true) };
        let err = eval_rule(op("$.missing", operator, value), json!({"a": 1})).unwrap_err();
        assert_eq!(err.error, "States.Runtime");
        assert_eq!(err.cause, "Invalid path '$.missing': The choice state's condition path references an invalid value.");
    }
    let err = eval_rule(op("$undefinedVariable", "NumericEquals", json!(1)), json!({})).unwrap_err();
    assert_eq!(err.cause, "Invalid path '$undefinedVariable': The choice state's condition path references an invalid value.");
}

#[test]
fn state_choice_and_or_not_nesting() {
    let input = json!({"value": 25, "type": "Public"});
    let rule = json!({"Or": [
        {"And": [{"Variable": "$.value", "NumericGreaterThan": 30}, {"Variable": "$.type", "StringEquals": "Public"}]},
        {"Not": {"Not": {"Variable": "$.value", "NumericEquals": 25}}}
    ], "Next": "X"});
    assert!(is(rule, input.clone()));
    assert!(!is(json!({"And": [{"Variable": "$.value", "NumericEquals": 25}, {"Variable": "$.type", "StringEquals": "Private"}]}), input.clone()));
    assert!(is(json!({"Or": [{"Variable": "$.value", "NumericEquals": 1}, {"Variable": "$.type", "StringEquals": "Public"}]}), input.clone()));
    // And short-circuits: a later missing variable is not reached once one rule is false.
    assert!(!is(json!({"And": [{"Variable": "$.value", "NumericEquals": 1}, {"Variable": "$.nope", "NumericEquals": 1}]}), input.clone()));
    assert!(eval_rule(json!({"And": [{"Variable": "$.value", "NumericEquals": 25}, {"Variable": "$.nope", "NumericEquals": 1}]}), input).is_err());
}

#[test]
fn state_choice_rule_definition_errors() {
    for bad in [
        json!("not an object"),
        json!({"Variable": "$.a", "Next": "X"}),
        json!({"Variable": "$.a", "StringEquals": 5}),
        json!({"Variable": "$.a", "NumericEquals": "5"}),
        json!({"Variable": "$.a", "BooleanEquals": "true"}),
        json!({"Variable": "$.a", "TimestampEquals": "yesterday"}),
        json!({"Variable": "$.a", "IsNull": "yes"}),
        json!({"Variable": "$.a", "StringEquals": "x", "NumericEquals": 1}),
        json!({"Variable": "$.a", "StringEqualz": "x"}),
        json!({"Variable": "$.a", "StringMatchesPath": "$.b"}),
        json!({"Variable": "$.a", "IsNullPath": "$.b"}),
        json!({"Variable": "$.a", "StringEqualsPath": "not a path"}),
        json!({"Variable": "$..a", "StringEquals": "x"}),
        json!({"Variable": "$.a[*]", "StringEquals": "x"}),
        json!({"StringEquals": "x"}),
        json!({"And": []}),
        json!({"Or": {"Variable": "$.a", "IsNull": true}}),
        json!({"And": [{"Variable": "$.a", "IsNull": true, "Next": "X"}]}),
        json!({"Not": {"Variable": "$.a", "IsNull": true, "Next": "X"}}),
        json!({"Not": {"Variable": "$.a", "IsNull": true}, "Variable": "$.a"}),
    ] {
        assert!(Rule::parse(&bad).is_err(), "{bad}");
    }
    let rule = Rule::parse(&json!({"Variable": "$.a", "IsPresent": true, "Next": "Go", "Comment": "c"})).unwrap();
    assert_eq!(rule.next(), Some("Go"));
    // The one-call form.
    let input = json!({"a": 1});
    let context = json!({});
    let vars = Map::new();
    let scope = Scope { input: &input, context: &context, variables: &vars };
    assert!(matches(&json!({"Variable": "$.a", "NumericEquals": 1}), &scope).unwrap());
    assert_eq!(matches(&json!({"Variable": "$.a"}), &scope).unwrap_err().error, "States.Runtime");
}

// The type tests over the values AWS was recorded with (each with `true` and with `false`):
// only the matching type satisfies `true`, every other value satisfies `false`.
#[test]
fn state_choice_type_tests_match_recorded_aws_truth_tables() {
    let values = [
        json!(null), json!(0), json!(0.0), json!(1), json!(1.1), json!(""), json!(" "), json!("HelloWorld"),
        json!("2012-10-09T19:00:55"), json!("2012-10-09T19:00:55Z"), json!("2023-02-24"), json!([]), json!([""]),
        json!({}), json!({"A": 0}), json!(true), json!(false),
    ];
    for value in values {
        let kinds = [
            ("IsNull", value.is_null()),
            ("IsNumeric", value.is_number()),
            ("IsString", value.is_string()),
            ("IsBoolean", value.is_boolean()),
            ("IsPresent", true),
        ];
        for (operator, expected) in kinds {
            let input = json!({"Variable": value});
            assert_eq!(is(op("$.Variable", operator, json!(true)), input.clone()), expected, "{operator} {value} true");
            assert_eq!(is(op("$.Variable", operator, json!(false)), input), !expected, "{operator} {value} false");
        }
    }
}
