//! Step Functions' JSONata extras, as AWS documents them in "Transforming data with
//! JSONata in Step Functions" (and the `States.*` intrinsics they replace), evaluated the
//! way the engine evaluates a state's `{% %}` expressions: `$states` bound, no input.

use nimbus_jsonata::{stepfunctions, Bindings, Expr, Value};
use serde_json::json;

fn sfn(expr: &str) -> Result<Option<Value>, nimbus_jsonata::JsonataError> {
    let mut b = Bindings::new();
    stepfunctions::register(&mut b);
    b.bind("states", json!({"input": {"content": "input data", "items": [1, 2, 3, 4, 5], "seed": 42}, "context": {}}));
    b.bind("customerName", json!("Ada"));
    stepfunctions::parse(expr)?.evaluate(&Value::Null, &b)
}

fn ok(expr: &str) -> Value {
    sfn(expr).unwrap_or_else(|e| panic!("{expr}: {e}")).unwrap_or_else(|| panic!("{expr}: undefined"))
}

#[test]
fn partition_splits_into_chunks_with_a_shorter_last_one() {
    assert_eq!(ok("$partition([1, 2, 3, 4, 5, 6, 7, 8, 9], 3)"), json!([[1, 2, 3], [4, 5, 6], [7, 8, 9]]));
    assert_eq!(ok("$partition($states.input.items, 2)"), json!([[1, 2], [3, 4], [5]]));
    assert_eq!(ok("$partition([], 2)"), json!([]));
    assert!(sfn("$partition([1, 2], 0)").is_err());
    assert!(sfn("$partition([1, 2], 'x')").is_err());
}

#[test]
fn range_is_inclusive_and_steps_either_way() {
    assert_eq!(ok("$range(0, 10, 2)"), json!([0, 2, 4, 6, 8, 10]));
    assert_eq!(ok("$range(1, 5, 1)"), json!([1, 2, 3, 4, 5]));
    assert_eq!(ok("$range(10, 0, -5)"), json!([10, 5, 0]));
    assert_eq!(ok("$range(1, 10, 4)"), json!([1, 5, 9]));
    assert_eq!(ok("$range(5, 1, 1)"), json!([]));
    assert!(sfn("$range(1, 5, 0)").is_err());
    assert!(sfn("$range(0, 5000, 1)").is_err(), "more than 1000 items, as States.ArrayRange");
}

#[test]
fn hash_supports_the_five_algorithms() {
    assert_eq!(ok("$hash('input data', 'MD5')"), json!("812f45842bc6d66ee14572ce20db8e86"));
    assert_eq!(ok("$hash($states.input.content, 'SHA-1')"), json!("aaff4a450a104cd177d28d18d74485e8cae074b7"));
    assert_eq!(
        ok("$hash('input data', 'SHA-256')"),
        json!("b4a697a057313163aee33cd8d40c66e9f0f177e00cac2de32475ffff6169c3e3")
    );
    assert_eq!(ok("$length($hash('input data', 'SHA-384'))"), json!(96));
    assert_eq!(ok("$length($hash('input data', 'SHA-512'))"), json!(128));
    let err = sfn("$hash('x', 'SHA-3')").unwrap_err();
    assert!(err.message.contains("SHA-3"), "{err}");
    assert!(sfn("$hash(5, 'MD5')").is_err());
}

#[test]
fn random_is_in_unit_interval_and_repeatable_with_a_seed() {
    let r = ok("$random()").as_f64().unwrap();
    assert!((0.0..1.0).contains(&r));
    let a = ok("$random($states.input.seed)");
    let b = ok("$random(42)");
    assert_eq!(a, b, "the same seed gives the same number");
    assert_ne!(ok("$random(42)"), ok("$random(43)"));
    assert!((0.0..1.0).contains(&a.as_f64().unwrap()));
}

#[test]
fn uuid_is_a_version_4_uuid() {
    let u = ok("$uuid()");
    let s = u.as_str().unwrap();
    assert_eq!(s.len(), 36);
    assert_eq!(&s[14..15], "4");
    assert_ne!(ok("$uuid()"), u);
}

#[test]
fn parse_reads_json_text() {
    assert_eq!(ok("$parse('{\"a\": [1, 2], \"b\": null}')"), json!({"a": [1, 2], "b": null}));
    assert_eq!(ok("$parse('\"s\"')"), json!("s"));
    assert_eq!(ok("$parse('[1,2]')[1]"), json!(2));
    assert!(sfn("$parse('{bad')").is_err());
    assert_eq!(sfn("$parse($states.input.missing)").unwrap(), None);
}

#[test]
fn eval_is_not_available_in_step_functions() {
    assert!(sfn("$eval('1 + 1')").is_err());
}

#[test]
fn states_and_assigned_variables_are_bound() {
    assert_eq!(ok("$states.input.items[$ > 3]"), json!([4, 5]));
    assert_eq!(ok("'Hello ' & $customerName"), json!("Hello Ada"));
    assert_eq!(ok("$sum($states.input.items)"), json!(15));
    assert_eq!(sfn("$states.input.nothing").unwrap(), None);
}

#[test]
fn native_functions_see_undefined_arguments_as_none() {
    let mut b = Bindings::new();
    b.function("probe", |args| Ok(Some(json!(args.iter().map(|a| a.is_some()).collect::<Vec<_>>()))));
    let out = Expr::parse("$probe(1, nothing, 'x')").unwrap().evaluate(&json!({}), &b).unwrap();
    assert_eq!(out, Some(json!([true, false, true])));
}

#[test]
fn errors_carry_code_position_and_message() {
    let e = Expr::parse("1 +").unwrap_err();
    assert_eq!(e.code, "S0207");
    assert!(e.position.is_some());
    let e = Expr::parse("'a' + 1").unwrap().evaluate(&Value::Null, &Bindings::new()).unwrap_err();
    assert_eq!(e.code, "T2001");
    assert_eq!(e.message, "The left side of the \"+\" operator must evaluate to a number");
}

#[test]
fn an_expression_is_shared_across_threads() {
    fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<Expr>();
    assert_send_sync::<Bindings>();
    let e = std::sync::Arc::new(Expr::parse("$x * 2").unwrap());
    let handles: Vec<_> = (0..4)
        .map(|i| {
            let e = e.clone();
            std::thread::spawn(move || {
                let mut b = Bindings::new();
                b.bind("x", json!(i));
                e.evaluate(&Value::Null, &b).unwrap()
            })
        })
        .collect();
    let out: Vec<_> = handles.into_iter().map(|h| h.join().unwrap()).collect();
    assert_eq!(out, vec![Some(json!(0)), Some(json!(2)), Some(json!(4)), Some(json!(6))]);
}

#[test]
fn step_functions_parses_jsonata_2_0_6_without_the_2_1_operators() {
    assert_eq!(sfn("$states.input.missing ?? 'd'").unwrap_err().code, "S0201");
    assert_eq!(sfn("'' ?: 'd'").unwrap_err().code, "S0201");
    assert_eq!(ok("$states.input.missing ? 1 : 2"), json!(2));
    assert_eq!(Expr::parse("nothing ?? 'd'").unwrap().evaluate(&Value::Null, &Bindings::new()).unwrap(), Some(json!("d")));
}

#[test]
fn expression_text_recognises_only_exact_delimiters() {
    assert_eq!(stepfunctions::expression_text("{% $states.input %}"), Some(" $states.input "));
    assert_eq!(stepfunctions::expression_text("{%1%}"), Some("1"));
    assert_eq!(stepfunctions::expression_text(" {% 1 %}"), None);
    assert_eq!(stepfunctions::expression_text("{% 1 %} "), None);
    assert_eq!(stepfunctions::expression_text("$states.input"), None);
}

/// Expressions that cannot read their input give the same answers whether or not the
/// input is converted (the evaluator skips converting it for them).
#[test]
fn input_is_read_exactly_when_the_expression_can_read_it() {
    let input = json!({"a": 1, "items": [1, 2, 3]});
    let mut b = Bindings::new();
    stepfunctions::register(&mut b);
    b.bind("states", json!({"input": {"x": 5}}));
    let eval = |e: &str| Expr::parse(e).unwrap().evaluate(&input, &b).unwrap();
    // Reads the input:
    assert_eq!(eval("a"), Some(json!(1)));
    assert_eq!(eval("$.a"), Some(json!(1)));
    assert_eq!(eval("$$.items[1]"), Some(json!(2)));
    assert_eq!(eval("$count(items)"), Some(json!(3)));
    assert_eq!(eval("$string()"), Some(json!("{\"a\":1,\"items\":[1,2,3]}")));
    assert_eq!(eval("{'k': a}"), Some(json!({"k": 1})));
    assert_eq!(eval("($f := function(){ a }; $f())"), Some(json!(1)));
    assert_eq!(eval("$states.input.($$.a + x)"), Some(json!(6)));
    assert_eq!(eval("**.items[0]"), Some(json!(1)));
    // Does not read it:
    assert_eq!(eval("$states.input.x"), Some(json!(5)));
    assert_eq!(eval("{'k': $states.input.x}"), Some(json!({"k": 5})));
    assert_eq!(eval("$states.input.{'v': x}"), Some(json!({"v": 5})));
    assert_eq!(eval("$uuid() != ''"), Some(json!(true)));
}

#[test]
fn numbers_come_out_as_javascript_prints_them() {
    let text = |e: &str| serde_json::to_string(&Expr::parse(e).unwrap().evaluate(&Value::Null, &Bindings::new()).unwrap().unwrap()).unwrap();
    assert_eq!(text("2e17"), "200000000000000000");
    assert_eq!(text("6 / 3"), "2");
    assert_eq!(text("-0"), "0");
    assert_eq!(text("0.1 + 0.2"), "0.30000000000000004");
    assert_eq!(text("1e19"), "10000000000000000000");
    assert_eq!(text("$string(1e21)"), "\"1e+21\"");
}
