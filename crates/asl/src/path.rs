//! Paths and reference paths: what the engine calls for `InputPath`, `OutputPath`,
//! `ItemsPath`, `SecondsPath`/`TimestampPath`, `ErrorPath`/`CausePath`, a `.$` value, and
//! `ResultPath`.
//!
//! Causes follow what AWS reports (the engine prefixes "An error occurred while executing the
//! state '…' (entered at the event id #N). "):
//! - a state-level path that selects nothing (`select`, `select_reference`):
//!   `Invalid path '$.x' : No results for path: $['x']` (Jayway's words after the colon);
//! - a `.$` field of a payload template (`select_for`):
//!   `The JSONPath '$.x' specified for the field 'x.$' could not be found in the input '{…}'`;
//! - `ResultPath` through a non-object, or an `ItemsPath` (`select_items`) that selects
//!   nothing: `States.ReferencePathConflict`, `Unable to apply step "b" to input {…}` — the
//!   name and text executions on AWS report (the ASL specification's generic name for the
//!   ResultPath case is `States.ResultPathMatchFailure`; AWS's runtime reports this one).
//!
//! <https://docs.aws.amazon.com/step-functions/latest/dg/amazon-states-language-paths.html>
//! <https://docs.aws.amazon.com/step-functions/latest/dg/input-output-resultpath.html>

use crate::jsonpath::{self, eval::Missing, Root, Segment, Selector};
use crate::{AslError, Scope};
use serde_json::{Map, Value};

/// Selects `path` (any JSONPath) from the scope. An indefinite path returns an array of its
/// matches; a definite one that matches nothing fails with `States.Runtime`.
pub fn select(scope: &Scope, path: &str) -> Result<Value, AslError> {
    if path == "$" {
        return Ok(scope.input.clone());
    }
    let parsed = parse(path)?;
    evaluate(scope, &parsed, path).map_err(|missing| invalid_path(path, &missing.0))
}

/// Like `select`, for the value of a `.$` field of `Parameters` / `ResultSelector` /
/// `ItemSelector` / `Assign`: a miss names the field as AWS does.
pub fn select_for(scope: &Scope, path: &str, field: &str) -> Result<Value, AslError> {
    if path == "$" {
        return Ok(scope.input.clone());
    }
    let parsed = parse(path)?;
    evaluate(scope, &parsed, path).map_err(|_| {
        AslError::runtime(format!(
            "The JSONPath '{path}' specified for the field '{field}' could not be found in the input '{}'",
            compact(scope.input)
        ))
    })
}

/// Selects a reference path (names and indexes only), e.g. `ItemsPath`, a Choice `Variable`.
pub fn select_reference(scope: &Scope, path: &str) -> Result<Value, AslError> {
    if path == "$" {
        return Ok(scope.input.clone());
    }
    let parsed = parse(path)?;
    if !parsed.is_reference() {
        return Err(invalid_path(path, "a reference path allows only names and array indexes"));
    }
    evaluate(scope, &parsed, path).map_err(|missing| invalid_path(path, &missing.0))
}

/// Like `select_reference`, but a miss is `None` rather than an error (Choice's `IsPresent`).
pub fn lookup_reference(scope: &Scope, path: &str) -> Result<Option<Value>, AslError> {
    let parsed = parse(path)?;
    if !parsed.is_reference() {
        return Err(invalid_path(path, "a reference path allows only names and array indexes"));
    }
    Ok(evaluate(scope, &parsed, path).ok())
}

/// Definition check for a Path (`InputPath`, `OutputPath`, a `.$` value): its syntax.
pub fn validate_path(path: &str) -> Result<(), String> {
    jsonpath::parser::parse(path).map(|_| ()).map_err(|e| format!("The value for the field must be a valid JSONPath: {e}"))
}

/// Definition check for a reference path (`ResultPath`, `ItemsPath`, Choice `Variable`, `…Path`
/// comparisons): names and indexes only.
/// <https://docs.aws.amazon.com/step-functions/latest/dg/amazon-states-language-paths.html#amazon-states-language-reference-paths>
pub fn validate_reference_path(path: &str) -> Result<(), String> {
    let parsed = jsonpath::parser::parse(path)
        .map_err(|e| format!("The value for the field must be a valid Reference Path: {e}"))?;
    if parsed.is_reference() {
        Ok(())
    } else {
        Err(format!("The value for the field must be a valid Reference Path: '{path}' is not a reference path"))
    }
}

/// Definition check for `ResultPath`: a reference path rooted at `$` (the context object and
/// variables cannot be written).
pub fn validate_result_path(path: &str) -> Result<(), String> {
    validate_reference_path(path)?;
    match jsonpath::parser::parse(path).map(|p| p.root) {
        Ok(Root::Input) => Ok(()),
        _ => Err(format!("The value for the field must be a valid Reference Path: '{path}' must start with '$.'")),
    }
}

/// `ResultPath`: where the state's result goes in its raw input.
/// - `None` (`"ResultPath": null`): the result is discarded, the input passes through;
/// - `$`: the result replaces the input;
/// - `$.a.b`: the input with the result at `a.b`, intermediate objects created as needed.
///
/// A step through something that is not an object fails with `States.ReferencePathConflict`.
pub fn apply_result(input: &Value, result_path: Option<&str>, result: Value) -> Result<Value, AslError> {
    let Some(result_path) = result_path else { return Ok(input.clone()) };
    if result_path == "$" {
        return Ok(result);
    }
    let parsed = jsonpath::parser::parse(result_path)
        .map_err(|e| AslError::result_path_match_failure(format!("Invalid ResultPath '{result_path}': {e}")))?;
    if parsed.root != Root::Input || !parsed.is_reference() {
        return Err(AslError::result_path_match_failure(format!(
            "Invalid ResultPath '{result_path}': it must be a reference path starting with '$'"
        )));
    }
    let mut output = input.clone();
    let mut slot = &mut output;
    for segment in &parsed.segments {
        slot = step_into(slot, segment, input)?;
    }
    *slot = result;
    Ok(output)
}

fn step_into<'a>(slot: &'a mut Value, segment: &Segment, input: &Value) -> Result<&'a mut Value, AslError> {
    match segment {
        Segment::Child(Selector::Name(name)) => match slot {
            Value::Object(map) => Ok(map.entry(name.clone()).or_insert_with(|| Value::Object(Map::new()))),
            _ => Err(cannot_step(name, input)),
        },
        Segment::Child(Selector::Index(index)) => {
            let len = slot.as_array().map(Vec::len);
            match (slot, len) {
                (Value::Array(items), Some(len)) => {
                    let i = if *index < 0 { (len as i64).saturating_add(*index) } else { *index };
                    match usize::try_from(i).ok().filter(|i| *i < len) {
                        Some(i) => Ok(&mut items[i]),
                        None => Err(cannot_step(&index.to_string(), input)),
                    }
                }
                _ => Err(cannot_step(&index.to_string(), input)),
            }
        }
        _ => Err(AslError::result_path_match_failure("ResultPath must be a reference path")),
    }
}

fn cannot_step(step: &str, input: &Value) -> AslError {
    AslError::reference_path_conflict(format!("Unable to apply step \"{step}\" to input {}", compact(input)))
}

/// `ItemsPath`: a reference path whose miss is `States.ReferencePathConflict` naming the step
/// that could not be applied (`Unable to apply step "jobs" to input {"source":"nightly"}`).
pub fn select_items(scope: &Scope, path: &str) -> Result<Value, AslError> {
    if path == "$" {
        return Ok(scope.input.clone());
    }
    let parsed = parse(path)?;
    if !parsed.is_reference() {
        return Err(invalid_path(path, "a reference path allows only names and array indexes"));
    }
    let root = match &parsed.root {
        Root::Input => scope.input,
        Root::Context => scope.context,
        Root::Variable(name) => {
            scope.variables.get(name).ok_or_else(|| invalid_path(path, &format!("The variable '{name}' is not defined")))?
        }
    };
    let mut current = root;
    for segment in &parsed.segments {
        let next = match segment {
            Segment::Child(Selector::Name(name)) => current.get(name.as_str()).ok_or_else(|| cannot_step(name, root)),
            Segment::Child(Selector::Index(index)) => {
                let items = current.as_array();
                let len = items.map(Vec::len).unwrap_or(0) as i64;
                let i = if *index < 0 { len.saturating_add(*index) } else { *index };
                items
                    .and_then(|items| usize::try_from(i).ok().and_then(|i| items.get(i)))
                    .ok_or_else(|| cannot_step(&index.to_string(), root))
            }
            _ => Err(invalid_path(path, "a reference path allows only names and array indexes")),
        };
        current = next?;
    }
    Ok(current.clone())
}

fn parse(path: &str) -> Result<jsonpath::Path, AslError> {
    jsonpath::parser::parse(path).map_err(|e| invalid_path(path, &e))
}

fn evaluate(scope: &Scope, parsed: &jsonpath::Path, path: &str) -> Result<Value, Missing> {
    let root = match &parsed.root {
        Root::Input => scope.input,
        Root::Context => scope.context,
        Root::Variable(name) => match scope.variables.get(name) {
            Some(value) => value,
            None => return Err(Missing(format!("The variable '{name}' is not defined (in '{path}')"))),
        },
    };
    jsonpath::eval::evaluate(parsed, root)
}

fn invalid_path(path: &str, detail: &str) -> AslError {
    AslError::runtime(format!("Invalid path '{path}' : {detail}"))
}

pub(crate) fn compact(value: &Value) -> String {
    serde_json::to_string(value).unwrap_or_default()
}

#[cfg(test)]
#[path = "path_tests.rs"]
mod tests;
