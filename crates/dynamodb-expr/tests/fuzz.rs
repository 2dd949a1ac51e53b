//! A bounded fuzz run of the expression parsers and the DynamoDB JSON value decoder:
//! random token soup (and random nested values) must come back as `Ok` or a
//! ValidationException message — never a panic, never a stack overflow. Each case runs
//! on a 256 KiB stack (an eighth of a tokio worker's).
//!
//! Deterministic: the seed is fixed unless `NIMBUS_FUZZ_SEED` is set; the run lasts
//! `NIMBUS_FUZZ_SECONDS` (default 3). A failure prints the seed and the input.

use nimbus_dynamodb_expr::expr::{parse_condition, parse_filter, parse_key_condition, parse_projection, parse_update, Substitutions};
use nimbus_dynamodb_expr::value::item_from_json;
use nimbus_dynamodb_expr::AttributeValue;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::{json, Value};
use std::collections::HashMap;
use std::time::{Duration, Instant};

const PIECES: &[&str] = &[
    "a", "b", "#n", "#missing", ":v", ":n", ":l", ":m", ":undefined", "(", ")", "(", ")", "[", "]", "[0]", "[99999999999999999999]", ".",
    ",", " ", " ", "=", "<>", "<", "<=", ">", ">=", "+", "-", " AND ", " OR ", "NOT ", " BETWEEN ", " IN ", "SET ", " REMOVE ",
    " ADD ", " DELETE ", "size(", "attribute_exists(", "attribute_not_exists(", "attribute_type(", "begins_with(", "contains(",
    "if_not_exists(", "list_append(", "pk", "sk", "é", "\u{0}", "\"", "'", "$", "0", "12", "name", "status", "((", "))",
];

fn budget() -> Duration {
    let secs = std::env::var("NIMBUS_FUZZ_SECONDS").ok().and_then(|s| s.parse().ok()).unwrap_or(3.0);
    Duration::from_secs_f64(secs)
}

fn seed() -> u64 {
    std::env::var("NIMBUS_FUZZ_SEED").ok().and_then(|s| s.parse().ok()).unwrap_or(0x6e696d627573)
}

fn expression(rng: &mut StdRng) -> String {
    let mut out = String::new();
    let target = match rng.gen_range(0..10) {
        0 => rng.gen_range(3000..5000),
        1..=3 => rng.gen_range(200..1500),
        _ => rng.gen_range(1..80),
    };
    while out.len() < target {
        // Runs of one piece build deep nesting; single pieces build everything else.
        let piece = PIECES[rng.gen_range(0..PIECES.len())];
        let times = if rng.gen_ratio(1, 20) { rng.gen_range(10..600) } else { 1 };
        for _ in 0..times {
            out.push_str(piece);
        }
    }
    out
}

fn value(rng: &mut StdRng, depth: usize) -> Value {
    let deep = depth < 40 && rng.gen_ratio(2, 3);
    match rng.gen_range(0..if deep { 12 } else { 9 }) {
        0 => json!({"S": "x"}),
        1 => json!({"N": (["1", "-0", "1e400", "abc", "99999999999999999999999999999999999999999"][rng.gen_range(0..5)])}),
        2 => json!({"B": (["AQ==", "!!", ""][rng.gen_range(0..3)])}),
        3 => json!({"BOOL": rng.gen_bool(0.5)}),
        4 => json!({"NULL": rng.gen_bool(0.8)}),
        5 => json!({"SS": ["a", "a"]}),
        6 => json!({"NS": []}),
        7 => json!({"S": 5, "N": "1"}),
        8 => json!({}),
        9 | 10 => json!({"M": {"k": value(rng, depth + 1), "j": value(rng, depth + 1)}}),
        _ => json!({"L": [value(rng, depth + 1)]}),
    }
}

fn on_small_stack(f: impl FnOnce() + Send + 'static) -> bool {
    std::thread::Builder::new().stack_size(256 * 1024).spawn(f).map(|h| h.join().is_ok()).unwrap_or(false)
}

fn parse_everything(text: String) {
    let names: HashMap<String, String> = [("#n".to_string(), "name".to_string())].into_iter().collect();
    let values: HashMap<String, AttributeValue> = [
        (":v", json!({"S": "x"})),
        (":n", json!({"N": "1"})),
        (":l", json!({"L": [{"S": "y"}]})),
        (":m", json!({"M": {"k": {"S": "v"}}})),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), AttributeValue::from_json(&v).unwrap()))
    .collect();
    let subs = Substitutions::new(&names, &values);
    let mut item = item_from_json(&json!({"pk": {"S": "k"}, "a": {"L": [{"S": "x"}]}, "name": {"S": "n"}})).unwrap();
    if let Ok(c) = parse_condition(&text, &subs) {
        let _ = c.eval(&item);
    }
    let _ = parse_filter(&text, &subs);
    let _ = parse_key_condition(&text, &subs, &["pk"], &["sk"]);
    let _ = parse_projection(&text, &subs);
    if let Ok(u) = parse_update(&text, &subs) {
        let _ = u.apply(&mut item, &["pk"]);
    }
}

#[test]
fn random_expressions_never_panic() {
    let seed = seed();
    let mut rng = StdRng::seed_from_u64(seed);
    let started = Instant::now();
    let mut cases = 0;
    while started.elapsed() < budget() {
        let text = expression(&mut rng);
        let shown = text.chars().take(300).collect::<String>();
        assert!(on_small_stack(move || parse_everything(text)), "seed {seed}, case {cases}: {shown}…");
        cases += 1;
    }
    eprintln!("{cases} random expressions parsed (seed {seed})");
    assert!(cases > 100);
}

#[test]
fn random_values_never_panic() {
    let seed = seed();
    let mut rng = StdRng::seed_from_u64(seed ^ 0xa11);
    let started = Instant::now();
    let mut cases = 0;
    while started.elapsed() < budget() {
        let v = value(&mut rng, 0);
        let shown = v.to_string().chars().take(300).collect::<String>();
        let ok = on_small_stack(move || {
            if let Ok(parsed) = AttributeValue::from_json(&v) {
                let back = parsed.to_json();
                assert_eq!(AttributeValue::from_json(&back).ok(), Some(parsed), "a decoded value must survive a round trip");
            }
            let _ = item_from_json(&json!({"doc": v}));
        });
        assert!(ok, "seed {seed}, case {cases}: {shown}…");
        cases += 1;
    }
    eprintln!("{cases} random values decoded (seed {seed})");
    assert!(cases > 100);
}
