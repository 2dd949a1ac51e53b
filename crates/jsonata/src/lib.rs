//! A JSONata evaluator with no I/O, for Step Functions' `QueryLanguage: JSONata`.
//!
//! Written from the JSONata specification (<https://docs.jsonata.org/overview>). The contract
//! Step Functions codes against:
//! - [`Expr::parse`] — the expression inside `{% … %}`, or a [`JsonataError`] with JSONata's
//!   error code (`S0201`, `S0202`, …), the character position and a message;
//! - [`Expr::evaluate`] — `Ok(None)` is JSONata's *undefined*; runtime errors carry JSONata's
//!   codes (`T2001`, `D3030`, …);
//! - [`Bindings`] — variables (`$states`, names `Assign`ed by Step Functions) and extra native
//!   functions; [`stepfunctions::register`] adds Step Functions' `$partition`, `$range`,
//!   `$hash`, `$random`, `$uuid` and `$parse`.
//!
//! An `Expr` is parsed once and evaluated many times; it is `Send + Sync`.
//!
//! ```
//! use nimbus_jsonata::{stepfunctions, Bindings, Value};
//! use serde_json::json;
//!
//! let expr = stepfunctions::parse("$states.input.items[price > 10].name").unwrap();
//! let mut bindings = Bindings::new();
//! stepfunctions::register(&mut bindings);
//! bindings.bind("states", json!({"input": {"items": [{"name": "a", "price": 5}, {"name": "b", "price": 15}]}}));
//! assert_eq!(expr.evaluate(&Value::Null, &bindings).unwrap(), Some(json!("b")));
//!
//! let err = nimbus_jsonata::Expr::parse("1 +").unwrap_err();
//! assert_eq!(err.code, "S0207");
//! ```

mod analysis;
mod ast;
mod bindings;
mod builtins;
mod datetime;
mod encoding;
mod error;
mod eval;
mod format;
mod func;
mod lexer;
mod operators;
mod parser;
mod signature;
mod transform;
mod value;

pub mod stepfunctions;

use std::sync::Arc;

pub use bindings::{Bindings, NativeFunction};
pub use error::JsonataError;
pub use serde_json::Value;

/// A parsed JSONata expression: parse once, evaluate many times (`Send + Sync`).
#[derive(Debug, Clone)]
pub struct Expr {
    root: Arc<ast::Node>,
    /// The expression uses `%`, so evaluation tracks each item's ancestors.
    uses_parent: bool,
    /// The expression may read its input; if not, the input is never converted.
    reads_input: bool,
}

impl Expr {
    /// Parses `text` (the expression without the `{% %}` delimiters).
    pub fn parse(text: &str) -> Result<Expr, JsonataError> {
        let (root, uses_parent) = parser::parse_full(text, true)?;
        let reads_input = analysis::reads_input(&root, true);
        Ok(Expr { root: Arc::new(root), uses_parent, reads_input })
    }

    /// Parses as JSONata 2.0.6 (the version Step Functions supports): without 2.1's `?:`
    /// and `??` operators.
    pub fn parse_2_0(text: &str) -> Result<Expr, JsonataError> {
        let (root, uses_parent) = parser::parse_full(text, false)?;
        let reads_input = analysis::reads_input(&root, true);
        Ok(Expr { root: Arc::new(root), uses_parent, reads_input })
    }

    /// Evaluates against `input` (JSONata's `$` and `$$`) with `bindings`' variables and
    /// functions. `Ok(None)` is *undefined*.
    pub fn evaluate(&self, input: &Value, bindings: &Bindings) -> Result<Option<Value>, JsonataError> {
        // Expressions that cannot read the input (most of Step Functions') skip converting it.
        self.evaluate_with(input, bindings, self.reads_input)
    }

    /// `evaluate`, always converting the input (tests check the analysis against it).
    #[doc(hidden)]
    pub fn evaluate_converting_input(&self, input: &Value, bindings: &Bindings) -> Result<Option<Value>, JsonataError> {
        self.evaluate_with(input, bindings, true)
    }

    fn evaluate_with(&self, input: &Value, bindings: &Bindings, convert: bool) -> Result<Option<Value>, JsonataError> {
        let root = if convert { Some(value::from_json(input)) } else { Some(value::Val::Null) };
        let mut ev = eval::Ev::new(bindings, root.clone());
        ev.track_parents = self.uses_parent;
        let frame = ev.new_frame(None);
        let out = ev.eval(&self.root, &root, &frame)?;
        Ok(out.as_ref().and_then(value::to_json))
    }
}

/// JavaScript's number-to-string conversion as JSONata's `$string` applies it (15
/// significant digits, `1e+21` style exponents, integers without `.0`).
pub fn number_to_string(n: f64) -> String {
    value::js_number_string(value::round15(n))
}
