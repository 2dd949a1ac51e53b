//! The JSON protocol's type check of a request against its operation's input shape, as
//! AWS's front end makes it before a service sees the request: a JSON value of the wrong
//! kind for a member, or a blob that is not base64, is a `SerializationException` (not a
//! ValidationException), e.g. `NUMBER_VALUE cannot be converted to String` for
//! `{"S": 5}` in DynamoDB, or `Base64 encoded length is expected a multiple of 4 bytes
//! but found: 3`. Numbers and timestamps are left to the services. The walk keeps its own
//! stack, so nesting depth cannot exhaust the thread's.

use crate::error::AwsError;
use crate::model::{ServiceModel, ShapeKind};
use base64::Engine;
use serde_json::Value;

fn serialization(message: String) -> AwsError {
    AwsError::new("SerializationException", 400, message)
}

/// Coral's name for the JSON token a value starts with.
fn token(v: &Value) -> &'static str {
    match v {
        Value::Null => "VALUE_NULL",
        Value::Bool(true) => "TRUE_VALUE",
        Value::Bool(false) => "FALSE_VALUE",
        Value::Number(_) => "NUMBER_VALUE",
        Value::String(_) => "STRING_VALUE",
        Value::Array(_) => "START_ARRAY",
        Value::Object(_) => "START_OBJECT",
    }
}

/// The error for `v` where a value of `expected` kind belongs.
fn mismatch(v: &Value, expected: &str) -> AwsError {
    match v {
        Value::Object(_) => serialization("Start of structure or map found where not expected.".into()),
        Value::Array(_) => serialization("Start of list found where not expected".into()),
        other => serialization(format!("{} cannot be converted to {expected}", token(other))),
    }
}

fn check_blob(text: &str) -> Result<(), AwsError> {
    if text.len() % 4 != 0 {
        return Err(serialization(format!("Base64 encoded length is expected a multiple of 4 bytes but found: {}", text.len())));
    }
    base64::engine::general_purpose::STANDARD
        .decode(text)
        .map(|_| ())
        .map_err(|_| serialization(format!("Invalid Base64 character found in: {text}")))
}

/// Checks `input` against `shape` (the operation's input shape).
pub fn check(model: &ServiceModel, shape: &str, input: &Value) -> Result<(), AwsError> {
    let mut stack: Vec<(&str, &Value)> = vec![(shape, input)];
    while let Some((name, v)) = stack.pop() {
        if v.is_null() {
            continue;
        }
        let Some(shape) = model.shape(name) else { continue };
        match (&shape.kind, v) {
            (ShapeKind::Structure { members, .. }, Value::Object(m)) => {
                for member in members {
                    if let Some(child) = m.get(&member.name) {
                        stack.push((&member.shape, child));
                    }
                }
            }
            (ShapeKind::Structure { .. }, other) => return Err(mismatch(other, "Structure")),
            (ShapeKind::List { member }, Value::Array(items)) => stack.extend(items.iter().map(|i| (member.shape.as_str(), i))),
            (ShapeKind::List { .. }, other) => return Err(mismatch(other, "List")),
            (ShapeKind::Map { value, .. }, Value::Object(m)) => stack.extend(m.values().map(|i| (value.shape.as_str(), i))),
            (ShapeKind::Map { .. }, other) => return Err(mismatch(other, "Map")),
            (ShapeKind::String, Value::String(_)) => {}
            (ShapeKind::String, other) => return Err(mismatch(other, "String")),
            (ShapeKind::Boolean, Value::Bool(_)) => {}
            (ShapeKind::Boolean, other) => return Err(mismatch(other, "Boolean")),
            (ShapeKind::Blob, Value::String(s)) => check_blob(s)?,
            (ShapeKind::Blob, other) => return Err(mismatch(other, "Blob")),
            _ => {}
        }
    }
    Ok(())
}
