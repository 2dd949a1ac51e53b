//! Conformance cases written from the JSONata documentation's examples
//! (<https://docs.jsonata.org>): each case in `tests/cases/*.json` is an expression, an
//! input (inline `input`, or `data` naming a document in `tests/data.json`), optional
//! `bindings`, and the expected `result`, `undefined: true`, or error `code`. Cases in
//! `stepfunctions-*.json` also see Step Functions' extra functions.

use std::path::Path;

use nimbus_jsonata::{Bindings, Expr, Value};

fn same(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => x.as_f64() == y.as_f64(),
        (Value::Array(x), Value::Array(y)) => x.len() == y.len() && x.iter().zip(y).all(|(p, q)| same(p, q)),
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len() && x.iter().all(|(k, v)| y.get(k).is_some_and(|w| same(v, w)))
        }
        _ => a == b,
    }
}

#[test]
fn conformance() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests");
    let data: Value = serde_json::from_str(&std::fs::read_to_string(dir.join("data.json")).unwrap()).unwrap();
    let mut files: Vec<_> = std::fs::read_dir(dir.join("cases")).unwrap().map(|e| e.unwrap().path()).collect();
    files.sort();
    let (mut passed, mut failures) = (0, Vec::new());
    for file in files {
        let cases: Vec<Value> = serde_json::from_str(&std::fs::read_to_string(&file).unwrap())
            .unwrap_or_else(|e| panic!("{}: {e}", file.display()));
        let name = file.file_name().unwrap().to_string_lossy().to_string();
        for case in cases {
            let expr = case["expr"].as_str().unwrap();
            let input = match case.get("data").and_then(Value::as_str) {
                Some(d) => data[d].clone(),
                None => case.get("input").cloned().unwrap_or(Value::Null),
            };
            let mut bindings = Bindings::new();
            if let Some(Value::Object(b)) = case.get("bindings") {
                for (k, v) in b {
                    bindings.bind(k, v.clone());
                }
            }
            bindings.now(1_510_067_557_121);
            // Files named stepfunctions-* run as Step Functions evaluates: its extras bound.
            if name.starts_with("stepfunctions") {
                nimbus_jsonata::stepfunctions::register(&mut bindings);
            }
            let parsed = Expr::parse(expr);
            let got = parsed.clone().and_then(|e| e.evaluate(&input, &bindings));
            // The evaluator skips converting the input for expressions that cannot read it:
            // converting it anyway must not change the answer (random functions aside).
            if let Ok(e) = &parsed {
                if !expr.contains("$random") && !expr.contains("$shuffle") && !expr.contains("$uuid") {
                    let full = e.evaluate_converting_input(&input, &bindings);
                    let same_outcome = match (&got, &full) {
                        (Ok(a), Ok(b)) => a == b,
                        (Err(a), Err(b)) => a.code == b.code,
                        _ => false,
                    };
                    if !same_outcome {
                        failures.push(format!("{name}: {expr}\n    input analysis changed the answer: {got:?} vs {full:?}"));
                        continue;
                    }
                }
            }
            let ok = match (&got, case.get("code")) {
                (Err(e), Some(code)) => code.as_str() == Some(e.code.as_str()),
                (Ok(_), Some(_)) => false,
                (Err(_), None) => false,
                (Ok(None), None) => case.get("undefined") == Some(&Value::Bool(true)),
                (Ok(Some(v)), None) => case.get("result").is_some_and(|r| same(v, r)),
            };
            if ok {
                passed += 1;
            } else {
                let expected = case.get("code").or(case.get("result")).cloned().unwrap_or(Value::String("undefined".into()));
                failures.push(format!("{name}: {expr}\n    expected {expected}\n    got      {got:?}"));
            }
        }
    }
    println!("{passed} passed, {} failed", failures.len());
    for f in &failures {
        println!("{f}");
    }
    assert!(failures.is_empty(), "{} of {} conformance cases failed", failures.len(), passed + failures.len());
}
