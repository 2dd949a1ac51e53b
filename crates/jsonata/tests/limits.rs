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
    let err = in_small_thread("($f := function($n){ $f($n + 1) }; $f(0))", Value::Null).unwrap_err();
    assert_eq!(err.code, "U1001");
}

#[test]
fn runaway_recursion_through_paths_is_u1001() {
    let input = serde_json::json!({"a": {"b": 1}});
    let err = in_small_thread("($f := function($o){ $o.a.{'a': $f($o)} }; $f($))", input).unwrap_err();
    assert_eq!(err.code, "U1001");
}

#[test]
fn moderate_recursion_succeeds() {
    let out = in_small_thread("($c := function($n){ $n = 0 ? 'done' : $c($n - 1) }; $c(100))", Value::Null).unwrap();
    assert_eq!(out, Some(Value::String("done".into())));
}

#[test]
fn deeply_nested_expression_text_is_u1001_not_a_crash() {
    let text: &'static str = Box::leak(format!("{}1{}", "(".repeat(3000), ")".repeat(3000)).into_boxed_str());
    let r = std::thread::Builder::new()
        .stack_size(2 << 20)
        .spawn(move || Expr::parse(text).map(|_| ()))
        .unwrap()
        .join();
    assert!(r.is_ok(), "parsing must not overflow the stack");
}
