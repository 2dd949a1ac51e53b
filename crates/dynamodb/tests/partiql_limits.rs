//! The PartiQL parser on a small stack: no statement, however deeply nested
//! (parentheses, NOT chains, maps, lists), may overflow a worker's stack; beyond
//! `MAX_DEPTH` levels it answers a syntax error instead. Runs on a 256 KiB stack, as
//! crates/dynamodb-expr/tests/limits.rs does for the expression parsers.

use nimbus_dynamodb::partiql::parser::{parse, MAX_DEPTH};
use nimbus_dynamodb::partiql::ParseError;

const SMALL_STACK: usize = 256 * 1024;

fn on_small_stack(text: String) -> Result<(), ParseError> {
    std::thread::Builder::new().stack_size(SMALL_STACK).spawn(move || parse(&text, &[]).map(drop)).unwrap().join().expect("parser thread panicked")
}

#[test]
fn deep_nesting_is_refused_not_overflowed() {
    let wraps: Vec<(&str, &str, &str)> = vec![
        ("SELECT * FROM t WHERE ", "(", ")"),
        ("SELECT * FROM t WHERE ", "NOT ", ""),
        ("INSERT INTO t VALUE {'pk': 1, 'x': ", "[", "]"),
        ("INSERT INTO t VALUE {'pk': 1, 'x': ", "{'a': ", "}"),
    ];
    for (head, open, close) in wraps {
        for depth in [1, MAX_DEPTH / 2, MAX_DEPTH - 1, MAX_DEPTH + 1, 100_000] {
            let (body, tail) = if head.contains("WHERE") { ("a = 1", "") } else { ("1", "}") };
            let text = format!("{head}{}{body}{}{tail}", open.repeat(depth), close.repeat(depth));
            let r = on_small_stack(text);
            if depth > MAX_DEPTH {
                assert_eq!(r, Err(ParseError::TooDeep), "{open} x {depth}");
            } else {
                assert_eq!(r, Ok(()), "{open} x {depth}");
            }
        }
    }
}

#[test]
fn parameters_must_match_the_placeholders() {
    let one = [serde_json::json!({"S": "a"})];
    assert_eq!(parse("SELECT * FROM t WHERE a = ?", &[]).map(drop), Err(ParseError::Parameters));
    assert_eq!(parse("SELECT * FROM t WHERE a = 'x'", &one).map(drop), Err(ParseError::Parameters));
    assert!(parse("SELECT * FROM t WHERE a = ? AND b = '?'", &one).is_ok(), "a ? inside a string literal is not a parameter");
}

#[test]
fn random_token_soup_never_panics() {
    const PARTS: [&str; 34] = [
        "SELECT", "INSERT", "INTO", "VALUE", "UPDATE", "SET", "REMOVE", "DELETE", "FROM", "WHERE", "AND", "OR", "NOT", "BETWEEN", "IN", "IS", "MISSING", "(", ")",
        "[", "]", "{", "}", "<<", ">>", ",", ".", ":", "=", "<>", "?", "'s'", "1", "\"t\"",
    ];
    let mut seed: u64 = 0x9e37_79b9_7f4a_7c15;
    for _ in 0..3000 {
        let mut text = String::new();
        for _ in 0..(seed % 40) {
            seed = seed.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
            text.push_str(PARTS[(seed >> 33) as usize % PARTS.len()]);
            text.push(' ');
        }
        let _ = on_small_stack(text);
    }
}
