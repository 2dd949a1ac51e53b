//! Tests of `path`: the examples of the AWS pages on paths, InputPath/Parameters and
//! ResultPath, and Jayway's JsonPath semantics AWS runs.
//! <https://docs.aws.amazon.com/step-functions/latest/dg/amazon-states-language-paths.html>
//! <https://docs.aws.amazon.com/step-functions/latest/dg/input-output-inputpath-params.html>
//! <https://docs.aws.amazon.com/step-functions/latest/dg/input-output-resultpath.html>

use super::*;
use serde_json::json;

fn scope<'a>(input: &'a Value, context: &'a Value, variables: &'a Map<String, Value>) -> Scope<'a> {
    Scope { input, context, variables }
}

fn sel(input: Value, path: &str) -> Result<Value, AslError> {
    let context = json!({});
    let vars = Map::new();
    select(&scope(&input, &context, &vars), path)
}

fn store() -> Value {
    json!({
        "store": {
            "book": [
                {"category": "reference", "author": "Nigel Rees", "title": "Sayings of the Century", "price": 8.95},
                {"category": "fiction", "author": "Evelyn Waugh", "title": "Sword of Honour", "price": 12.99},
                {"category": "fiction", "author": "Herman Melville", "title": "Moby Dick", "isbn": "0-553-21311-3", "price": 8.99},
                {"category": "fiction", "author": "J. R. R. Tolkien", "title": "The Lord of the Rings", "isbn": "0-395-19395-8", "price": 22.99}
            ],
            "bicycle": {"color": "red", "price": 19.95}
        },
        "expensive": 10
    })
}

#[test]
fn paths_page_reference_path_examples() {
    let input = json!({"foo": 123, "bar": ["a", "b", "c"], "car": {"cdr": true}});
    assert_eq!(sel(input.clone(), "$.foo").unwrap(), json!(123));
    assert_eq!(sel(input.clone(), "$.bar").unwrap(), json!(["a", "b", "c"]));
    assert_eq!(sel(input.clone(), "$.car.cdr").unwrap(), json!(true));
    assert_eq!(sel(input.clone(), "$").unwrap(), input);
}

#[test]
fn paths_page_bracket_notation_for_special_characters() {
    let input = json!({"abc": {"def ghi": 1, "x.y": 2, "it's": 3}});
    assert_eq!(sel(input.clone(), "$.abc.['def ghi']").unwrap(), json!(1));
    assert_eq!(sel(input.clone(), "$.abc['def ghi']").unwrap(), json!(1));
    assert_eq!(sel(input.clone(), "$['abc'][\"x.y\"]").unwrap(), json!(2));
    assert_eq!(sel(input, "$.abc['it\\'s']").unwrap(), json!(3));
}

#[test]
fn paths_indexes_negative_indexes_and_slices() {
    let input = json!({"a": [10, 20, 30, 40, 50]});
    assert_eq!(sel(input.clone(), "$.a[0]").unwrap(), json!(10));
    assert_eq!(sel(input.clone(), "$.a[-1]").unwrap(), json!(50));
    assert_eq!(sel(input.clone(), "$.a[1:3]").unwrap(), json!([20, 30]));
    assert_eq!(sel(input.clone(), "$.a[:2]").unwrap(), json!([10, 20]));
    assert_eq!(sel(input.clone(), "$.a[-2:]").unwrap(), json!([40, 50]));
    assert_eq!(sel(input.clone(), "$.a[::2]").unwrap(), json!([10, 30, 50]));
    assert_eq!(sel(input.clone(), "$.a[0,2]").unwrap(), json!([10, 30]));
    assert_eq!(sel(input.clone(), "$.a[7:9]").unwrap(), json!([]));
    assert_eq!(sel(input, "$.a[*]").unwrap(), json!([10, 20, 30, 40, 50]));
}

#[test]
fn paths_wildcards_and_deep_scan_return_arrays() {
    let s = store();
    assert_eq!(
        sel(s.clone(), "$.store.book[*].author").unwrap(),
        json!(["Nigel Rees", "Evelyn Waugh", "Herman Melville", "J. R. R. Tolkien"])
    );
    assert_eq!(
        sel(s.clone(), "$..author").unwrap(),
        json!(["Nigel Rees", "Evelyn Waugh", "Herman Melville", "J. R. R. Tolkien"])
    );
    assert_eq!(sel(s.clone(), "$.store.*").unwrap().as_array().unwrap().len(), 2);
    assert_eq!(sel(s.clone(), "$.store..price").unwrap(), json!([8.95, 12.99, 8.99, 22.99, 19.95]));
    assert_eq!(sel(s.clone(), "$..book[2].title").unwrap(), json!(["Moby Dick"]));
    assert_eq!(sel(s.clone(), "$..book[-1:].title").unwrap(), json!(["The Lord of the Rings"]));
    // A non-definite path with no match is an empty array, not an error.
    assert_eq!(sel(s, "$..nothing").unwrap(), json!([]));
}

#[test]
fn paths_filters() {
    let s = store();
    assert_eq!(
        sel(s.clone(), "$.store.book[?(@.price < 10)].title").unwrap(),
        json!(["Sayings of the Century", "Moby Dick"])
    );
    assert_eq!(sel(s.clone(), "$..book[?(@.isbn)].title").unwrap(), json!(["Moby Dick", "The Lord of the Rings"]));
    assert_eq!(sel(s.clone(), "$..book[?(!@.isbn)].price").unwrap(), json!([8.95, 12.99]));
    assert_eq!(
        sel(s.clone(), "$..book[?(@.price <= $['expensive'])].author").unwrap(),
        json!(["Nigel Rees", "Herman Melville"])
    );
    assert_eq!(
        sel(s.clone(), "$..book[?(@.category == 'fiction' && @.price > 20)].title").unwrap(),
        json!(["The Lord of the Rings"])
    );
    assert_eq!(
        sel(s.clone(), "$..book[?(@.price > 20 || @.category == \"reference\")].price").unwrap(),
        json!([8.95, 22.99])
    );
    assert_eq!(sel(s.clone(), "$..book[?(@.author =~ /.*REES/i)].price").unwrap(), json!([8.95]));
    assert_eq!(sel(s.clone(), "$..book[?(@.category in ['reference'])].price").unwrap(), json!([8.95]));
    assert_eq!(sel(s.clone(), "$..book[?(@.category nin ['fiction'])].price").unwrap(), json!([8.95]));
    assert_eq!(sel(s.clone(), "$..book[?(@.category != 'fiction')].price").unwrap(), json!([8.95]));
    assert_eq!(sel(s.clone(), "$..book[?((@.price > 9) && !(@.price > 20))].price").unwrap(), json!([12.99]));
    assert_eq!(sel(s, "$.store.bicycle[?(@.color == 'red')].price").unwrap(), json!([19.95]));
    let tags = json!({"items": [{"t": ["a", "b"]}, {"t": ["c"]}, {"t": []}]});
    assert_eq!(sel(tags.clone(), "$.items[?(@.t size 1)].t").unwrap(), json!([["c"]]));
    assert_eq!(sel(tags.clone(), "$.items[?(@.t empty true)]").unwrap(), json!([{"t": []}]));
    assert_eq!(sel(tags.clone(), "$.items[?(@.t subsetof ['a','b','z'])].t").unwrap(), json!([["a", "b"], []]));
    assert_eq!(sel(tags.clone(), "$.items[?(@.t anyof ['c'])].t").unwrap(), json!([["c"]]));
    assert_eq!(sel(tags.clone(), "$.items[?(@.t noneof ['a','c'])].t").unwrap(), json!([[]]));
    assert_eq!(sel(tags, "$.items[?(@.t.length() > 1)].t").unwrap(), json!([["a", "b"]]));
}

#[test]
fn paths_functions() {
    let input = json!({"a": [1, 2, 3, 4], "o": {"x": 1, "y": 2}, "s": "héllo"});
    assert_eq!(sel(input.clone(), "$.a.length()").unwrap(), json!(4));
    assert_eq!(sel(input.clone(), "$.o.length()").unwrap(), json!(2));
    assert_eq!(sel(input.clone(), "$.s.length()").unwrap(), json!(5));
    assert_eq!(sel(input.clone(), "$.a.sum()").unwrap(), json!(10.0));
    assert_eq!(sel(input.clone(), "$.a.min()").unwrap(), json!(1.0));
    assert_eq!(sel(input.clone(), "$.a.max()").unwrap(), json!(4.0));
    assert_eq!(sel(input.clone(), "$.a.avg()").unwrap(), json!(2.5));
    assert_eq!(sel(input.clone(), "$.a.first()").unwrap(), json!(1));
    assert_eq!(sel(input.clone(), "$.a.last()").unwrap(), json!(4));
    assert_eq!(sel(input.clone(), "$.o.keys()").unwrap(), json!(["x", "y"]));
    assert_eq!(sel(input.clone(), "$..x.length()").unwrap(), json!(1));
    assert!(sel(input, "$.a.nope()").is_err());
}

#[test]
fn paths_multi_name_bracket_merges_into_one_object() {
    let input = json!({"a": 1, "b": 2, "c": 3});
    assert_eq!(sel(input, "$['a','c','z']").unwrap(), json!({"a": 1, "c": 3}));
}

#[test]
fn paths_context_object_and_variables() {
    let input = json!({"x": 1});
    let context = json!({"Execution": {"Id": "arn:exec", "Input": {"k": "v"}}, "Map": {"Item": {"Index": 2}}});
    let mut vars = Map::new();
    vars.insert("total".into(), json!(42));
    vars.insert("order".into(), json!({"id": "o-1", "lines": [{"sku": "a"}]}));
    let s = scope(&input, &context, &vars);
    assert_eq!(select(&s, "$$.Execution.Id").unwrap(), json!("arn:exec"));
    assert_eq!(select(&s, "$$.Execution.Input.k").unwrap(), json!("v"));
    assert_eq!(select(&s, "$$.Map.Item.Index").unwrap(), json!(2));
    assert_eq!(select(&s, "$$").unwrap(), context);
    assert_eq!(select(&s, "$total").unwrap(), json!(42));
    assert_eq!(select(&s, "$order.id").unwrap(), json!("o-1"));
    assert_eq!(select(&s, "$order.lines[0].sku").unwrap(), json!("a"));
    let err = select(&s, "$missing").unwrap_err();
    assert_eq!(err.error, "States.Runtime");
}

#[test]
fn paths_missing_field_is_states_runtime_with_jayway_cause() {
    let err = sel(json!({"a": {"b": 1}}), "$.x").unwrap_err();
    assert_eq!(err.error, "States.Runtime");
    assert_eq!(err.cause, "Invalid path '$.x' : No results for path: $['x']");
    let err = sel(json!({"a": {"b": 1}}), "$.a.c").unwrap_err();
    assert_eq!(err.cause, "Invalid path '$.a.c' : No results for path: $['a']['c']");
    let err = sel(json!({"a": {"b": 1}}), "$.x.y").unwrap_err();
    assert_eq!(err.cause, "Invalid path '$.x.y' : Missing property in path $['x']");
    let err = sel(json!({"a": [1]}), "$.a[3]").unwrap_err();
    assert_eq!(err.cause, "Invalid path '$.a[3]' : No results for path: $['a'][3]");
    let err = sel(json!({"a": 5}), "$.a.b").unwrap_err();
    assert_eq!(
        err.cause,
        "Invalid path '$.a.b' : Expected to find an object with property ['b'] in path $['a'] but found 'java.lang.Integer'. \
         This is not a json object according to the JsonProvider: 'com.jayway.jsonpath.spi.json.JsonSmartJsonProvider'."
    );
}

#[test]
fn inputpath_params_field_named_in_the_cause() {
    // AWS: "The JSONPath '$.JobName' specified for the field 'JobName.$' could not be found in the input '{}'"
    let input = json!({});
    let context = json!({});
    let vars = Map::new();
    let err = select_for(&scope(&input, &context, &vars), "$.JobName", "JobName.$").unwrap_err();
    assert_eq!(err.error, "States.Runtime");
    assert_eq!(err.cause, "The JSONPath '$.JobName' specified for the field 'JobName.$' could not be found in the input '{}'");
    let input = json!({"JobName": "j"});
    assert_eq!(select_for(&scope(&input, &context, &vars), "$.JobName", "JobName.$").unwrap(), json!("j"));
}

#[test]
fn paths_reference_paths_refuse_operators() {
    for ok in ["$", "$.a", "$.a.b[0]", "$['a b'].c", "$$.Execution.Id", "$var.x"] {
        assert!(validate_reference_path(ok).is_ok(), "{ok}");
    }
    for bad in ["$..a", "$.a[*]", "$.a[1:2]", "$.a[?(@.b)]", "$.a.length()", "$.a[0,1]", "$['a','b']", "a.b", "$.a."] {
        assert!(validate_reference_path(bad).is_err(), "{bad}");
    }
    let input = json!({"a": [1, 2]});
    let context = json!({});
    let vars = Map::new();
    let s = scope(&input, &context, &vars);
    assert_eq!(select_reference(&s, "$.a[1]").unwrap(), json!(2));
    assert!(select_reference(&s, "$.a[*]").is_err());
    assert_eq!(lookup_reference(&s, "$.b").unwrap(), None);
    assert_eq!(lookup_reference(&s, "$.a").unwrap(), Some(json!([1, 2])));
}

#[test]
fn paths_syntax_validation() {
    for ok in ["$", "$.a", "$..a", "$.a[?(@.b > 1)]", "$.a.length()", "$$", "$.a[*].b", "$.a['x','y']"] {
        assert!(validate_path(ok).is_ok(), "{ok}");
    }
    for bad in ["", "a", "$.", "$.a[", "$.a[?(@.b >)]", "$.a]", "$.a[0", "$['a]", "$.a.nope()", "$.a b"] {
        assert!(validate_path(bad).is_err(), "{bad}");
    }
    assert!(validate_result_path("$.a").is_ok());
    assert!(validate_result_path("$$.a").is_err());
    assert!(validate_result_path("$x.a").is_err());
}

#[test]
fn resultpath_page_examples() {
    let input = json!({"comment": "This is a test of the input and output of a Task state.", "details": "Default example", "who": "AWS Step Functions"});
    let result = json!("Hello, AWS Step Functions!");
    // "ResultPath": "$" (the default) replaces the input with the result.
    assert_eq!(apply_result(&input, Some("$"), result.clone()).unwrap(), result);
    // "ResultPath": null discards the result and keeps the input.
    assert_eq!(apply_result(&input, None, result.clone()).unwrap(), input);
    // "ResultPath": "$.taskresult" adds the result to the input.
    let mut expected = input.clone();
    expected["taskresult"] = result.clone();
    assert_eq!(apply_result(&input, Some("$.taskresult"), result.clone()).unwrap(), expected);
    // "ResultPath": "$.strings.lambdaresult" creates the intermediate object.
    let out = apply_result(&input, Some("$.strings.lambdaresult"), result.clone()).unwrap();
    assert_eq!(out["strings"], json!({"lambdaresult": "Hello, AWS Step Functions!"}));
    // An existing field is replaced, siblings kept.
    let nested = json!({"master": {"detail": [1, 2, 3], "other": true}});
    let out = apply_result(&nested, Some("$.master.detail"), json!(6)).unwrap();
    assert_eq!(out, json!({"master": {"detail": 6, "other": true}}));
    // Into an array element.
    let out = apply_result(&nested, Some("$.master.detail[1]"), json!("x")).unwrap();
    assert_eq!(out["master"]["detail"], json!([1, "x", 3]));
}

#[test]
fn resultpath_through_a_non_object_is_reference_path_conflict() {
    let err = apply_result(&json!("scalar"), Some("$.error"), json!({})).unwrap_err();
    assert_eq!(err.error, "States.ReferencePathConflict");
    assert_eq!(err.cause, "Unable to apply step \"error\" to input \"scalar\"");
    let err = apply_result(&json!({"a": 5}), Some("$.a.b"), json!(1)).unwrap_err();
    assert_eq!(err.error, "States.ReferencePathConflict");
    assert_eq!(err.cause, "Unable to apply step \"b\" to input {\"a\":5}");
    // An array input (an SQS batch, say) cannot take a named step.
    let err = apply_result(&json!([{"messageId": "m"}]), Some("$.status"), json!(1)).unwrap_err();
    assert_eq!(err.error, "States.ReferencePathConflict");
    assert_eq!(err.cause, "Unable to apply step \"status\" to input [{\"messageId\":\"m\"}]");
    let err = apply_result(&json!({"a": [1]}), Some("$.a[4]"), json!(1)).unwrap_err();
    assert_eq!(err.error, "States.ReferencePathConflict");
    let err = apply_result(&json!({}), Some("$.a[*]"), json!(1)).unwrap_err();
    assert_eq!(err.error, "States.ResultPathMatchFailure");
}

#[test]
fn map_itemspath_miss_is_reference_path_conflict() {
    let input = json!({"source": "nightly", "a": {"list": [[1, 2], [3]]}});
    let context = json!({"Execution": {"Input": {"jobs": [1]}}});
    let vars = Map::new();
    let s = scope(&input, &context, &vars);
    assert_eq!(select_items(&s, "$").unwrap(), input);
    assert_eq!(select_items(&s, "$.a.list[1]").unwrap(), json!([3]));
    assert_eq!(select_items(&s, "$.a.list[-1]").unwrap(), json!([3]));
    assert_eq!(select_items(&s, "$$.Execution.Input.jobs").unwrap(), json!([1]));
    let err = select_items(&s, "$.jobs").unwrap_err();
    assert_eq!(err.error, "States.ReferencePathConflict");
    assert_eq!(
        err.cause,
        "Unable to apply step \"jobs\" to input {\"source\":\"nightly\",\"a\":{\"list\":[[1,2],[3]]}}"
    );
    let err = select_items(&s, "$.a.list[5]").unwrap_err();
    assert!(err.cause.starts_with("Unable to apply step \"5\" to input"));
    assert!(select_items(&s, "$.a[*]").is_err());
}

#[test]
fn paths_extreme_indexes_and_steps_do_not_overflow() {
    let input = json!({"a": [1, 2, 3]});
    for path in ["$.a[-9223372036854775808]", "$.a[9223372036854775807]"] {
        assert!(sel(input.clone(), path).is_err(), "{path}");
    }
    assert_eq!(sel(input.clone(), "$.a[::-9223372036854775808]").unwrap(), json!([3]));
    assert_eq!(sel(input.clone(), "$.a[::9223372036854775807]").unwrap(), json!([1]));
    assert_eq!(sel(input.clone(), "$.a[-9223372036854775808:9223372036854775807]").unwrap(), json!([1, 2, 3]));
    assert!(apply_result(&input, Some("$.a[-9223372036854775808]"), json!(0)).is_err());
}

#[test]
fn paths_deeply_nested_filters_are_refused_not_a_stack_overflow() {
    let deep = format!("$.a[?({}@.b{})]", "(".repeat(100_000), ")".repeat(100_000));
    assert!(validate_path(&deep).is_err());
    let nots = format!("$.a[?({}@.b)]", "!".repeat(100_000));
    assert!(validate_path(&nots).is_err());
    let nested = format!("$.a{}", "[?(@.b".repeat(50_000));
    assert!(validate_path(&nested).is_err());
    assert!(validate_path("$.a[?(((@.b)))]").is_ok());
}
