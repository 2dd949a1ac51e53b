//! Evaluations per second of typical Step Functions expressions (parse once, evaluate
//! many): `cargo run --release -p nimbus-jsonata --example throughput`.

use std::time::Instant;

use nimbus_jsonata::{stepfunctions, Bindings, Expr, Value};
use serde_json::json;

fn main() {
    let mut b = Bindings::new();
    stepfunctions::register(&mut b);
    let items: Vec<Value> = (0..50).map(|i| json!({"id": i, "price": i as f64 * 1.5, "tags": ["a", "b"]})).collect();
    b.bind("states", json!({"input": {"order": {"id": "o-1", "items": items, "customer": {"name": "Ada"}}}, "context": {"Execution": {"Id": "x"}}}));
    let cases = [
        "$states.input.order.id",
        "$states.input.order.customer.name & ' ordered ' & $count($states.input.order.items) & ' items'",
        "$sum($states.input.order.items[price > 10].price)",
        "$states.input.order.items{ $string(id % 3): $sum(price) }",
        "$map($states.input.order.items, function($i){ {'id': $i.id, 'p': $round($i.price, 1)} })",
        "$states.input.order.items^(>price)[0].id",
    ];
    for text in cases {
        let e = Expr::parse(text).unwrap();
        let n = 20_000;
        let t = Instant::now();
        for _ in 0..n {
            std::hint::black_box(e.evaluate(&Value::Null, &b).unwrap());
        }
        let per = t.elapsed() / n;
        println!("{per:>10.2?}  {text}");
    }
}
