//! The Amazon States Language's JSONPath data language, with no I/O: what Step Functions
//! evaluates between states when `QueryLanguage` is `JSONPath` (the default).
//!
//! Being built (issue 18). The contract the engine uses:
//! - `path::select(scope, "$.a.b[0]")` — a Path (`InputPath`, `OutputPath`, `ItemsPath`,
//!   `.$` values), `$` the input, `$$` the context object, `$name` a variable;
//! - `path::apply_result(input, result_path, result)` — `ResultPath` (a reference path;
//!   `None` is `"ResultPath": null`, which keeps the input);
//! - `template::render(template, scope)` — `Parameters`, `ResultSelector`, `ItemSelector`:
//!   `.$` keys resolved by path or intrinsic function;
//! - `intrinsics::eval("States.Format('{}', $.x)", scope)`;
//! - `choice::Rule::parse(&rule_json)` and `rule.matches(scope)`.
//!
//! Errors carry the Step Functions error name a state fails with (`States.Runtime`,
//! `States.IntrinsicFailure`, …) and AWS's cause text.
//! <https://docs.aws.amazon.com/step-functions/latest/dg/amazon-states-language-paths.html>

use serde_json::{Map, Value};

/// What an expression can see.
#[derive(Debug, Clone, Copy)]
pub struct Scope<'a> {
    /// `$`: the state's input (or, for `ResultSelector`, the task's result).
    pub input: &'a Value,
    /// `$$`: the context object (`Execution`, `State`, `StateMachine`, `Task`, `Map`).
    pub context: &'a Value,
    /// Variables set by `Assign`, read as `$name`.
    pub variables: &'a Map<String, Value>,
}

/// A failure in the data language: the state fails with `error` / `cause`.
#[derive(Debug, Clone, PartialEq)]
pub struct AslError {
    pub error: String,
    pub cause: String,
}

impl AslError {
    pub fn runtime(cause: impl Into<String>) -> AslError {
        AslError { error: "States.Runtime".into(), cause: cause.into() }
    }
}

impl std::fmt::Display for AslError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.error, self.cause)
    }
}

impl std::error::Error for AslError {}
