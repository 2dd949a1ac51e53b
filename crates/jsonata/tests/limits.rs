//! Deep recursion fails with JSONata's U1001 instead of overflowing the thread's stack,
//! in a thread as small as a tokio worker's (2 MiB).

use nimbus_jsonata::{Bindings, Expr, Value};

fn in_small_thread(expr: &'static str, input: Value) -> Result<Option<Value>, nimbus_jsonata::JsonataError> {
    std::thread::Builder::new()
        .stack_size(2 << 20)
        .spawn(move || Expr::parse(expr).unwrap().evaluate(&input, &Bindings::new()))
        .unwrap()
        .join()
        .unwrap()
}

#[test]
fn runaway_recursion_is_u1001() {
    let err = in_small_thread("($f := function($n){ 1 + $f($n + 1) }; $f(0))", Value::Null).unwrap_err();
    assert_eq!(err.code, "U1001");
}

#[test]
fn tail_recursion_runs_in_constant_stack_and_runaway_loops_end() {
    let out = in_small_thread("($c := function($n, $a){ $n = 0 ? $a : $c($n - 1, $a + 1) }; $c(50000, 0))", Value::Null).unwrap();
    assert_eq!(out, Some(serde_json::json!(50000)));
    let err = in_small_thread("($f := function($n){ $f($n + 1) }; $f(0))", Value::Null).unwrap_err();
    assert_eq!(err.code, "U1001");
    assert!(err.message.contains("infinite loop"), "{}", err.message);
}

#[test]
fn runaway_recursion_through_paths_is_u1001() {
    let input = serde_json::json!({"a": {"b": 1}});
    let err = in_small_thread("($f := function($o){ $o.a.{'a': $f($o)} }; $f($))", input).unwrap_err();
    assert_eq!(err.code, "U1001");
}

#[test]
fn moderate_recursion_succeeds() {
    let out = in_small_thread("($c := function($n){ $n = 0 ? 'done' : $c($n - 1) & '' }; $c(60))", Value::Null).unwrap();
    assert_eq!(out, Some(Value::String("done".into())));
}

#[test]
fn deeply_nested_expression_text_is_u1001_not_a_crash() {
    let texts = [
        format!("{}1{}", "(".repeat(3000), ")".repeat(3000)),
        format!("{}1{}", "[".repeat(3000), "]".repeat(3000)),
        format!("{}1{}", "{'a':".repeat(3000), "}".repeat(3000)),
        format!("{}1{}", "$f(".repeat(3000), ")".repeat(3000)),
        format!("{}1", "-".repeat(3000)),
        format!("{}x{}", "a[".repeat(3000), "]".repeat(3000)),
        format!("{}1{}", "function($x){".repeat(3000), "}".repeat(3000)),
        format!("1{}", " ? 1 : 1".repeat(3000)),
    ];
    for text in texts {
        let r = std::thread::Builder::new()
            .stack_size(2 << 20)
            .spawn(move || match Expr::parse(&text) {
                Ok(e) => e.evaluate(&Value::Null, &Bindings::new()).map(|_| ()),
                Err(e) => Err(e),
            })
            .unwrap()
            .join();
        assert!(r.is_ok(), "parsing and evaluating must not overflow the stack");
    }
}

/// Hostile arguments end in an error or a value, never a panic (debug builds check overflow).
#[test]
fn extreme_arguments_do_not_panic() {
    let exprs = [
        "$substring('abc', 1e300)",
        "$substring('abc', -1e300, 1e300)",
        "$substring('abc', 1, 1e300)",
        "$round(1.5, 1e10)",
        "$round(1.5, -1e10)",
        "$pad('a', 1e12)",
        "$pad('a', -1e300, 'xy')",
        "$formatInteger(-1e300, '0')",
        "$formatInteger(1e300, 'w')",
        "$formatInteger(-1e300, 'w')",
        "$formatInteger(1e300, 'I')",
        "$formatInteger(1e300, 'a')",
        "$formatBase(1e300, 2)",
        "$formatNumber(1e300, '#,##0.00')",
        "$formatNumber(-1e-300, '0.00e0')",
        "$fromMillis(1e300)",
        "$fromMillis(-1e300, '[Y]')",
        "$fromMillis(0, '[Y]', '+99999')",
        "$toMillis('99999999999999-01-01')",
        "$toMillis('2020-01-01T99:99:99Z')",
        "$toMillis('999999999999/1/1', '[Y]/[M]/[D]')",
        "$toMillis('1/1/1', '[D]/[M]/[Y]')",
        "$power(2, 1e300)",
        "[1..1e300]",
        "[-1e300..1e300]",
        "$number('9999999999999999999999999')",
        "$split('abc', '', 1e300)",
        "$match('aaa', /a/, 1e300)",
        "$replace('aaa', 'a', 'b', 1e300)",
        "$string(1e308 * 10)",
        "$sum([1e308, 1e308])",
        "$formatNumber(1, '')",
        "$formatNumber(1, ';')",
        "$fromMillis(0, '[')",
        "$fromMillis(0, '[]')",
        "$fromMillis(0, '[Y,]')",
        "$fromMillis(0, '[Y,-]')",
        "$parseInteger('', '0')",
        "$parseInteger('zzzzzzzzzzzzzzzzzz', 'a')",
        "$parseInteger('MMMMMMMMMMMMMMMMMMMMMMMMMMMMMMMMMMMMMMMMMMMMMMMMMMMMM', 'I')",
        "$base64decode('%%%')",
        "$decodeUrl('%')",
        "$decodeUrlComponent('%zz')",
        "'\\ud800'",
        "$eval('$eval(\"1\")')",
        "$sort([3, 1], function($a){ $a })",
        "$reduce([1, 2], function($a, $b){ $undefined($a) })",
        "function($a)<a<>:n>{1}",
        "function($a)<(:n>{1}",
        "function($a)<n<n>:n>{1}",
    ];
    for e in exprs {
        if let Ok(expr) = Expr::parse(e) {
            let _ = expr.evaluate(&Value::Null, &Bindings::new());
        }
    }
}
