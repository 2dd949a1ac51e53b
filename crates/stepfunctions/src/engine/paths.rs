//! The JSONPath calls the interpreter makes, over `nimbus-asl` (paths, reference paths,
//! `.$` templates with intrinsic functions, `ResultPath`, Choice rules, payload limits).

use nimbus_asl::{AslError, Scope};
use serde_json::Value;

pub fn select(scope: &Scope<'_>, path: &str) -> Result<Value, AslError> {
    if path.starts_with("States.") {
        return nimbus_asl::intrinsics::eval(path, scope);
    }
    nimbus_asl::path::select(scope, path)
}

pub fn select_items(scope: &Scope<'_>, path: &str) -> Result<Value, AslError> {
    nimbus_asl::path::select_items(scope, path)
}

pub fn apply_result(input: &Value, result_path: Option<&str>, result: Value) -> Result<Value, AslError> {
    nimbus_asl::path::apply_result(input, result_path, result)
}

pub fn render(template: &Value, scope: &Scope<'_>) -> Result<Value, AslError> {
    nimbus_asl::template::render(template, scope)
}

pub fn choice_matches(rule: &Value, scope: &Scope<'_>) -> Result<bool, AslError> {
    nimbus_asl::choice::matches(rule, scope)
}

/// A payload over 256 KiB fails the state with `States.DataLimitExceeded`.
pub fn check_size(value: &Value, state: &str) -> Result<(), AslError> {
    nimbus_asl::limits::check_size_for(value, state)
}

/// An RFC 3339 timestamp (Wait's `Timestamp`) in milliseconds since the epoch.
pub fn timestamp_ms(text: &str) -> Option<u64> {
    nimbus_asl::timestamp::parse_rfc3339(text).and_then(|t| u64::try_from(t.unix_millis()).ok())
}
