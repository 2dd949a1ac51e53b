//! Parameter policies (Advanced tier): the document is checked and stored, and returned
//! as `ParameterInlinePolicy` entries; nimbus does not act on them (no expiry, no
//! EventBridge notifications). <https://docs.aws.amazon.com/systems-manager/latest/userguide/parameter-store-policies.html>

use crate::errors::{SsmError, SsmResult};
use serde_json::{json, Value};

const TYPES: [&str; 3] = ["Expiration", "ExpirationNotification", "NoChangeNotification"];

/// Checks a Policies document: a JSON array of objects with a known `Type`.
pub fn check(text: &str) -> SsmResult<()> {
    let doc: Value = serde_json::from_str(text).map_err(|_| SsmError::Validation("Invalid policies input: the policies must be a JSON array of policy objects.".into()))?;
    let list = doc.as_array().ok_or_else(|| SsmError::Validation("Invalid policies input: the policies must be a JSON array of policy objects.".into()))?;
    if list.len() > 10 {
        return Err(SsmError::Validation("A parameter can have at most 10 policies.".into()));
    }
    let mut seen = Vec::new();
    for p in list {
        let t = p.get("Type").and_then(Value::as_str).unwrap_or_default();
        if !TYPES.contains(&t) {
            return Err(SsmError::InvalidPolicyType(format!("The following policy type is not supported: {t}. Valid types include: [{}]", TYPES.join(", "))));
        }
        // One policy of each type.
        if seen.contains(&t) {
            return Err(SsmError::IncompatiblePolicy);
        }
        seen.push(t);
    }
    Ok(())
}

/// The stored document as the `Policies` list of DescribeParameters / GetParameterHistory.
pub fn render(text: Option<&str>) -> Value {
    let list = text.and_then(|t| serde_json::from_str::<Value>(t).ok()).and_then(|v| v.as_array().cloned()).unwrap_or_default();
    Value::Array(
        list.iter()
            .map(|p| json!({"PolicyText": p.to_string(), "PolicyType": p.get("Type").and_then(Value::as_str).unwrap_or_default(), "PolicyStatus": "Pending"}))
            .collect(),
    )
}
