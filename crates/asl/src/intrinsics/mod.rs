//! Intrinsic functions of the JSONPath query language: `intrinsics::eval("States.Format('{}',
//! $.x)", scope)`. Every function AWS lists, with its input validation; a failure is
//! `States.IntrinsicFailure`, a path argument that selects nothing is `States.Runtime`.
//! <https://docs.aws.amazon.com/step-functions/latest/dg/intrinsic-functions.html>

mod functions;
mod java_random;
pub mod parser;

use crate::{path, AslError, Scope};
use parser::{Arg, Call};
use serde_json::Value;

/// Evaluates an intrinsic function call against the scope.
pub fn eval(expr: &str, scope: &Scope) -> Result<Value, AslError> {
    eval_inner(expr, scope, None)
}

/// Like `eval`, for the value of the template field `field` (e.g. `"id.$"`): a path argument
/// that selects nothing names the field, as AWS does.
pub fn eval_for(expr: &str, scope: &Scope, field: &str) -> Result<Value, AslError> {
    eval_inner(expr, scope, Some(field))
}

/// Definition check: the call parses, names a known function, with an accepted argument count.
pub fn validate(expr: &str) -> Result<(), String> {
    let call = parser::parse(expr)?;
    check_call(&call)
}

fn check_call(call: &Call) -> Result<(), String> {
    let count = call.args.len();
    let (min, max) = functions::arity(&call.name).ok_or_else(|| format!("Unknown intrinsic function '{}'", call.name))?;
    if count < min || max.is_some_and(|max| count > max) {
        return Err(functions::arity_message(&call.name, min, max, count));
    }
    for arg in &call.args {
        if let Arg::Call(inner) = arg {
            check_call(inner)?;
        }
    }
    Ok(())
}

fn eval_inner(expr: &str, scope: &Scope, field: Option<&str>) -> Result<Value, AslError> {
    let call = parser::parse(expr)
        .map_err(|e| AslError::intrinsic_failure(format!("Invalid intrinsic function call '{expr}': {e}")))?;
    check_call(&call).map_err(AslError::intrinsic_failure)?;
    call_function(&call, scope, field)
}

fn call_function(call: &Call, scope: &Scope, field: Option<&str>) -> Result<Value, AslError> {
    let mut values = Vec::with_capacity(call.args.len());
    for arg in &call.args {
        values.push(match arg {
            Arg::Str(s, _) => Value::String(s.clone()),
            Arg::Number(n) => n.clone(),
            Arg::Bool(b) => Value::Bool(*b),
            Arg::Null => Value::Null,
            Arg::Path(p) => match field {
                Some(field) => path::select_for(scope, p, field)?,
                None => path::select(scope, p)?,
            },
            Arg::Call(inner) => call_function(inner, scope, field)?,
        });
    }
    functions::apply(call, values)
}

#[cfg(test)]
#[path = "tests.rs"]
mod tests;
