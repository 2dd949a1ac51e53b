//! A JSONata evaluator with no I/O, for Step Functions' `QueryLanguage: JSONata`.
//!
//! Being built (issue 18). The contract Step Functions uses:
//! - `Expr::parse(text)` — the expression inside `{% … %}`, or a parse error with its
//!   position and JSONata's error code (`S0201`, …);
//! - `expr.evaluate(input, &bindings)` — `Ok(None)` is JSONata's *undefined*;
//!   `bindings` hold variables (`$states`, `Assign`ed names) and extra native functions
//!   (Step Functions adds `$partition`, `$range`, `$hash`, `$random`, `$uuid`, `$parse`).
//! <https://docs.jsonata.org/overview>
