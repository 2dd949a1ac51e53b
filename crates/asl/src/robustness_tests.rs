//! Robustness: every parser and evaluator of the crate takes arbitrary text (definitions are
//! user input) without panicking. Deterministic pseudo-random strings over each grammar's
//! alphabet.

use crate::{choice, intrinsics, path, template, timestamp, Scope};
use serde_json::{json, Map, Value};

struct Lcg(u64);

impl Lcg {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        self.0 >> 33
    }

    fn text(&mut self, alphabet: &[&str], max_len: u64) -> String {
        let len = self.next() % max_len;
        (0..len).map(|_| alphabet[(self.next() % alphabet.len() as u64) as usize]).collect()
    }
}

fn input() -> Value {
    json!({"a": [1, 2.5, "x", null, {"b": [true, {"c": "d"}]}], "s": "text", "n": -3, "o": {"k": {"k": 1}}})
}

#[test]
fn paths_and_result_paths_never_panic_on_arbitrary_text() {
    let alphabet = [
        "$", "$", ".", ".", "..", "a", "b", "k", "[", "]", "'", "\"", "*", "?", "(", ")", "@", "0", "1", "-", ":", ",",
        "<", ">", "=", "!", "&&", "||", " ", "length()", "é", "\\", "/", "in", "size", "true", "$$", "$v",
    ];
    let input = input();
    let context = json!({"Execution": {"Id": "x"}});
    let mut vars = Map::new();
    vars.insert("v".into(), json!({"a": 1}));
    let scope = Scope { input: &input, context: &context, variables: &vars };
    let mut rng = Lcg(7);
    for _ in 0..20_000 {
        let text = rng.text(&alphabet, 16);
        let _ = path::select(&scope, &text);
        let _ = path::select_for(&scope, &text, "f.$");
        let _ = path::select_reference(&scope, &text);
        let _ = path::select_items(&scope, &text);
        let _ = path::lookup_reference(&scope, &text);
        let _ = path::validate_result_path(&text);
        let _ = path::apply_result(&input, Some(&text), json!(1));
    }
}

#[test]
fn intrinsics_and_templates_never_panic_on_arbitrary_text() {
    let alphabet = [
        "States.", "Format", "Array", "ArrayRange", "Hash", "StringSplit", "MathRandom", "JsonMerge", "UUID", "(", ")",
        "(", ")", ",", "'", "'", "\\", "{", "}", "{}", "$.a", "$.s", "$.n", "$.o", "1", "-1", "2.5", "true", "null", " ",
        "é", "[", "]",
    ];
    let input = input();
    let context = json!({});
    let vars = Map::new();
    let scope = Scope { input: &input, context: &context, variables: &vars };
    let mut rng = Lcg(11);
    for _ in 0..20_000 {
        let text = rng.text(&alphabet, 14);
        let _ = intrinsics::eval(&text, &scope);
        let _ = intrinsics::validate(&text);
        let template = json!({"x.$": text, "y": [{"z.$": text}]});
        let _ = template::render(&template, &scope);
        let _ = template::validate(&template);
    }
}

#[test]
fn choice_patterns_and_timestamps_never_panic_on_arbitrary_text() {
    let alphabet = ["*", "\\", "a", "b", "é", "-", ":", "T", "Z", "+", "0", "1", "2", "9", ".", " "];
    let input = json!({"s": "ab*\\é", "t": "2016-03-14T01:59:00Z"});
    let context = json!({});
    let vars = Map::new();
    let scope = Scope { input: &input, context: &context, variables: &vars };
    let mut rng = Lcg(13);
    for _ in 0..20_000 {
        let text = rng.text(&alphabet, 30);
        let _ = timestamp::parse_rfc3339(&text);
        let _ = choice::matches(&json!({"Variable": "$.s", "StringMatches": text}), &scope);
        let _ = choice::matches(&json!({"Variable": "$.t", "TimestampLessThan": text}), &scope);
        let _ = choice::matches(&json!({"Variable": text, "IsPresent": true}), &scope);
    }
}
