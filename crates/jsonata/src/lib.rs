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

mod bindings;
mod error;

pub mod stepfunctions;

pub use bindings::{Bindings, NativeFunction};
pub use error::JsonataError;
pub use serde_json::Value;

/// A parsed JSONata expression.
#[derive(Debug, Clone)]
pub struct Expr {
    text: String,
}

impl Expr {
    /// Parses `text` (the expression without the `{% %}` delimiters).
    pub fn parse(text: &str) -> Result<Expr, JsonataError> {
        Ok(Expr { text: text.to_string() })
    }

    /// Evaluates against `input` (JSONata's `$` and `$$`) with `bindings`' variables and
    /// functions. `Ok(None)` is *undefined*.
    pub fn evaluate(&self, _input: &Value, _bindings: &Bindings) -> Result<Option<Value>, JsonataError> {
        Err(JsonataError::new("S0500", Some(0), format!("JSONata evaluation of {:?} is not supported by nimbus yet", self.text)))
    }
}
