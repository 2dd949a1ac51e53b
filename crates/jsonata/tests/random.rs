//! Randomized expressions from a fixed seed: none may panic, and every one must give the
//! same outcome whether or not the evaluator skips converting its input (the parse-time
//! analysis that decides it must never change an answer).

use nimbus_jsonata::{Bindings, Expr, Value};
use rand::{Rng, SeedableRng};

const TOKENS: &[&str] = &[
    "a", "b", "Phone", "type", "$", "$$", "$x", "$states", "$states.input", ".", "[", "]", "{", "}", "(", ")", ",", ";", ":",
    "?", "+", "-", "*", "/", "%", "&", "=", "!=", "<", "and", "or", "in", "~>", "^(", ">", "#$i", "@$v", "**", "..", ":=",
    "1", "0", "-1", "2.5", "'s'", "true", "null", "function($x){$x}", "function(){a}", "λ($a,$b){$a+$b}", "$sum", "$string",
    "$string()", "$map", "$keys", "$count", "$eval('a')", "$eval", "$lookup", "$each", "$sift", "$merge", "$exists",
    "$uppercase()", "$length()", "$substring", "$split", "$replace", "/a+/", "[1,2]", "{'k': a}", "{'k': $}", "$x := a",
    "$x := $", "|a|{'b':1}|", "$v", "input", "x", "$substring(?, 1)", "$string(?)", "function($x)<s-:s>{$x}",
    "$uppercase ~> $trim", "^(a)", "{'k': $}", "$f()", "$f := $string", "$f := function($y)<x-:x>{$y}", "()",
    "$lookup(?, 'a')", "$partition", "$uuid()", "%.b", "$$.a", "$formatNumber", "$fromMillis", "$sort", "$reduce",
];

#[test]
fn random_expressions_do_not_panic_and_the_input_analysis_never_changes_an_answer() {
    let input: Value = serde_json::json!({
        "a": [{"b": 1, "type": "x"}, {"b": [2, 3], "type": "y"}],
        "Phone": [{"type": "home", "n": "1"}], "b": "str", "input": {"x": 9}
    });
    let mut bindings = Bindings::new();
    nimbus_jsonata::stepfunctions::register(&mut bindings);
    bindings.bind("x", serde_json::json!([1, 2, {"k": "v"}]));
    bindings.bind("states", serde_json::json!({"input": {"x": 5, "a": [1]}}));
    let mut rng = rand::rngs::StdRng::seed_from_u64(18);
    let mut mismatches = Vec::new();
    for _ in 0..40_000 {
        let len = rng.gen_range(1..9);
        let text = (0..len).map(|_| TOKENS[rng.gen_range(0..TOKENS.len())]).collect::<Vec<_>>().join(" ");
        let Ok(expr) = Expr::parse(&text) else { continue };
        if text.contains("uuid") {
            let _ = expr.evaluate(&input, &bindings);
            continue;
        }
        let skipped = expr.evaluate(&input, &bindings);
        let converted = expr.evaluate_converting_input(&input, &bindings);
        let same = match (&skipped, &converted) {
            (Ok(p), Ok(q)) => p == q,
            (Err(p), Err(q)) => p.code == q.code,
            _ => false,
        };
        if !same {
            mismatches.push(format!("{text}: {skipped:?} vs {converted:?}"));
        }
    }
    assert!(mismatches.is_empty(), "{mismatches:#?}");
}
