//! The Amazon States Language's JSONPath data language, with no I/O: what Step Functions
//! evaluates between states when `QueryLanguage` is `JSONPath` (the default).
//!
//! The contract the engine uses:
//! - `path::select(scope, "$.a.b[0]")` — a Path (`InputPath`, `OutputPath`, `ItemsPath`,
//!   `.$` values), `$` the input, `$$` the context object, `$name` a variable;
//!   `path::select_for(scope, path, "field.$")` names the template field in the cause;
//!   `path::select_reference` / `path::lookup_reference` for reference paths,
//!   `path::select_items` for `ItemsPath` (a miss is `States.ReferencePathConflict`); and
//!   `path::validate_path` / `validate_reference_path` / `validate_result_path` for definitions;
//! - `path::apply_result(input, result_path, result)` — `ResultPath` (a reference path;
//!   `None` is `"ResultPath": null`, which keeps the input);
//! - `template::render(template, scope)` — `Parameters`, `ResultSelector`, `ItemSelector`,
//!   `Assign`: `.$` keys resolved by path or intrinsic function; `template::validate` for
//!   definitions (AWS's "must be a valid JSONPath or a valid intrinsic function call");
//! - `intrinsics::eval("States.Format('{}', $.x)", scope)` (`eval_for` names the field,
//!   `validate` checks a definition);
//! - `choice::Rule::parse(&rule_json)` (definition errors as text), `rule.next()`,
//!   `rule.matches(scope)`;
//! - `timestamp::parse_rfc3339` / `format_rfc3339_millis` (Wait's `Timestamp`, the context
//!   object's times), `limits::check_size` / `check_size_for(value, state)` (256 KiB payloads,
//!   `States.DataLimitExceeded` with AWS's cause).
//!
//! Errors carry the Step Functions error name a state fails with (`States.Runtime`,
//! `States.IntrinsicFailure`, `States.ReferencePathConflict`, `States.DataLimitExceeded`)
//! and AWS's cause text without the engine's prefix ("An error occurred while executing the
//! state 'X' (entered at the event id #N). ").
//! <https://docs.aws.amazon.com/step-functions/latest/dg/amazon-states-language-paths.html>

pub mod choice;
pub mod intrinsics;
mod jsonpath;
pub mod limits;
pub mod path;
pub mod template;
pub mod timestamp;

#[cfg(test)]
mod robustness_tests;

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

    pub fn intrinsic_failure(cause: impl Into<String>) -> AslError {
        AslError { error: "States.IntrinsicFailure".into(), cause: cause.into() }
    }

    pub fn result_path_match_failure(cause: impl Into<String>) -> AslError {
        AslError { error: "States.ResultPathMatchFailure".into(), cause: cause.into() }
    }

    /// A reference path (`ResultPath`, `ItemsPath`) that cannot be applied to the input.
    pub fn reference_path_conflict(cause: impl Into<String>) -> AslError {
        AslError { error: "States.ReferencePathConflict".into(), cause: cause.into() }
    }

    pub fn data_limit_exceeded(cause: impl Into<String>) -> AslError {
        AslError { error: "States.DataLimitExceeded".into(), cause: cause.into() }
    }
}

impl std::fmt::Display for AslError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.error, self.cause)
    }
}

impl std::error::Error for AslError {}
