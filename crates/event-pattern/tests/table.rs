//! The table-driven test of the event-pattern engine: `table.json` lists patterns with
//! events that must and must not match (per dialect), and malformed patterns with the
//! message AWS answers for them; each row names the AWS documentation page it follows.

use nimbus_event_pattern::{Dialect, Pattern};
use serde_json::Value;

fn dialect(name: &str) -> Dialect {
    match name {
        "EventBridge" => Dialect::EventBridge,
        "SnsAttributes" => Dialect::SnsAttributes,
        "SnsBody" => Dialect::SnsBody,
        "LambdaFilter" => Dialect::LambdaFilter,
        other => panic!("unknown dialect {other}"),
    }
}

fn table() -> Value {
    serde_json::from_str(include_str!("table.json")).expect("table.json is JSON")
}

#[test]
fn patterns_match_as_documented() {
    let t = table();
    let rows = t["matches"].as_array().expect("matches");
    let mut failures = Vec::new();
    for row in rows {
        let doc = row["doc"].as_str().unwrap_or("?");
        let p = match Pattern::parse(&row["pattern"].to_string(), dialect(row["dialect"].as_str().unwrap_or(""))) {
            Ok(p) => p,
            Err(e) => {
                failures.push(format!("{doc}: pattern rejected: {e}"));
                continue;
            }
        };
        let want = row["match"].as_bool().expect("match is a bool");
        if p.matches(&row["event"]) != want {
            failures.push(format!("{doc}: expected match={want}"));
        }
    }
    assert!(failures.is_empty(), "{} of {} rows failed:\n{}", failures.len(), rows.len(), failures.join("\n"));
    assert!(rows.len() >= 60);
}

#[test]
fn bad_patterns_answer_aws_messages() {
    let t = table();
    let rows = t["invalid"].as_array().expect("invalid");
    let mut failures = Vec::new();
    for row in rows {
        let doc = row["doc"].as_str().unwrap_or("?");
        let text = row["pattern"].as_str().expect("pattern text");
        match Pattern::parse(text, dialect(row["dialect"].as_str().unwrap_or(""))) {
            Ok(_) => failures.push(format!("{doc}: accepted")),
            Err(e) if e.message != row["message"].as_str().unwrap_or("") => failures.push(format!("{doc}: got {:?}", e.message)),
            Err(_) => {}
        }
    }
    assert!(failures.is_empty(), "{} of {} rows failed:\n{}", failures.len(), rows.len(), failures.join("\n"));
}

#[test]
fn not_json_is_rejected_in_each_dialect() {
    for d in [Dialect::EventBridge, Dialect::SnsAttributes, Dialect::SnsBody] {
        let e = Pattern::parse("{not json", d).expect_err("rejected");
        assert!(e.message.contains("not valid JSON"), "{}", e.message);
    }
    let e = Pattern::parse("{not json", Dialect::LambdaFilter).expect_err("rejected");
    assert_eq!(e.message, "Invalid filter pattern definition. {not json");
}
