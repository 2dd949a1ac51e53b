//! Evaluates one expression against JSON input: `cargo run -p nimbus-jsonata --example
//! jsonata -- '<expression>' ['<input json>']`.

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let Some(text) = args.get(1) else {
        eprintln!("usage: jsonata '<expression>' ['<input json>']");
        std::process::exit(2);
    };
    let input: serde_json::Value = args.get(2).map(|s| serde_json::from_str(s).expect("input JSON")).unwrap_or_default();
    let mut bindings = nimbus_jsonata::Bindings::new();
    nimbus_jsonata::stepfunctions::register(&mut bindings);
    match nimbus_jsonata::Expr::parse(text).and_then(|e| e.evaluate(&input, &bindings)) {
        Ok(Some(v)) => println!("{v}"),
        Ok(None) => println!("(undefined)"),
        Err(e) => println!("error {e}"),
    }
}
