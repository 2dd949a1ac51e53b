//! Event filtering (`FilterCriteria`) on the shared event-pattern engine
//! (`nimbus-event-pattern`, dialect `LambdaFilter`): validating a mapping's patterns and
//! matching records. Patterns are stored as JSON; they are compiled when matched.
//! <https://docs.aws.amazon.com/lambda/latest/dg/invocation-eventfiltering.html>

use nimbus_event_pattern::{Dialect, Pattern};
use serde_json::Value;

/// Validates a filter's pattern text; the error is AWS's InvalidParameterValueException text.
pub fn parse(text: &str) -> Result<Value, String> {
    Pattern::parse(text, Dialect::LambdaFilter).map_err(|e| e.message)?;
    serde_json::from_str(text).map_err(|_| format!("Invalid filter pattern definition. {text}"))
}

/// Compiles stored patterns (validated when stored; an invalid one never matches).
pub fn compile(patterns: &[Value]) -> Vec<Pattern> {
    patterns.iter().filter_map(|p| Pattern::from_value(p, Dialect::LambdaFilter).ok()).collect()
}

/// Does `event` match `pattern`?
pub fn matches(pattern: &Value, event: &Value) -> bool {
    Pattern::from_value(pattern, Dialect::LambdaFilter).map(|p| p.matches(event)).unwrap_or(false)
}
