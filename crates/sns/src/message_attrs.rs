//! Publish's `MessageAttributes`: AWS's checks, and the three shapes a value takes on the
//! way out — the envelope's `{"Type","Value"}`, SQS message attributes for raw delivery,
//! and the `{name: value}` document filter policies match.
//! https://docs.aws.amazon.com/sns/latest/dg/sns-message-attributes.html

use crate::errors::{SnsError, SnsResult};
use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};
use std::collections::BTreeMap;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AttrValue {
    pub data_type: String,
    pub string_value: Option<String>,
    /// Base64, as the wire carries it.
    pub binary_value: Option<String>,
}

pub type Attributes = BTreeMap<String, AttrValue>;

fn bad(m: String) -> SnsError {
    SnsError::InvalidParameterValue(m)
}

fn valid_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 256
        && name.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'))
        && !name.starts_with('.')
        && !name.ends_with('.')
        && !name.contains("..")
        && !name.to_ascii_lowercase().starts_with("aws.")
        && !name.to_ascii_lowercase().starts_with("amazon.")
}

/// Reads and checks the input's `MessageAttributes` map.
pub fn parse(input: Option<&Value>) -> SnsResult<Attributes> {
    let mut out = Attributes::new();
    let Some(map) = input.and_then(Value::as_object) else { return Ok(out) };
    for (name, v) in map {
        if !valid_name(name) {
            return Err(SnsError::invalid(format!("MessageAttributes Reason: The message attribute name '{name}' is invalid")));
        }
        let data_type = v.get("DataType").and_then(Value::as_str).unwrap_or("").to_string();
        let string_value = v.get("StringValue").and_then(Value::as_str).map(str::to_string);
        let binary_value = v.get("BinaryValue").and_then(Value::as_str).map(str::to_string);
        let base = data_type.split('.').next().unwrap_or("");
        if data_type.is_empty() {
            return Err(bad(format!("The message attribute '{name}' must contain non-empty message attribute type.")));
        }
        if !matches!(base, "String" | "Number" | "Binary") {
            return Err(bad(format!(
                "The message attribute '{name}' has an invalid message attribute type, the set of supported type prefixes is Binary, Number, and String."
            )));
        }
        match base {
            "Binary" => {
                if binary_value.as_deref().is_none_or(str::is_empty) {
                    return Err(bad(format!("The message attribute '{name}' must contain non-empty message attribute value for message attribute type '{data_type}'.")));
                }
            }
            _ => {
                let Some(s) = string_value.as_deref().filter(|s| !s.is_empty()) else {
                    return Err(bad(format!("The message attribute '{name}' must contain non-empty message attribute value for message attribute type '{data_type}'.")));
                };
                if base == "Number" && number(s).is_none() {
                    return Err(bad(format!("Could not cast message attribute '{name}' value to number.")));
                }
                if data_type == "String.Array" && !serde_json::from_str::<Value>(s).is_ok_and(|a| a.is_array()) {
                    return Err(bad(format!("The message attribute '{name}' with type 'String.Array' must be a JSON array.")));
                }
            }
        }
        out.insert(name.clone(), AttrValue { data_type, string_value, binary_value });
    }
    Ok(out)
}

/// A Number attribute's value (AWS: -1e9..1e9 with up to 5 decimals; any finite number here).
fn number(s: &str) -> Option<Value> {
    let f: f64 = s.trim().parse().ok()?;
    if !f.is_finite() {
        return None;
    }
    match s.trim().parse::<i64>() {
        Ok(i) => Some(Value::from(i)),
        Err(_) => serde_json::Number::from_f64(f).map(Value::Number),
    }
}

/// Bytes the attributes count toward the 256 KB message limit (names, types, values).
pub fn size(attrs: &Attributes) -> usize {
    attrs.iter().map(|(n, v)| n.len() + v.data_type.len() + v.string_value.as_ref().map_or(0, String::len) + v.binary_value.as_ref().map_or(0, String::len)).sum()
}

/// The envelope's `MessageAttributes`: `{"name": {"Type": "String", "Value": "…"}}`.
pub fn envelope(attrs: &Attributes) -> Map<String, Value> {
    attrs
        .iter()
        .map(|(n, v)| {
            let value = v.string_value.clone().or_else(|| v.binary_value.clone()).unwrap_or_default();
            (n.clone(), json!({ "Type": v.data_type, "Value": value }))
        })
        .collect()
}

/// SQS SendMessage's `MessageAttributes` (raw message delivery).
pub fn for_sqs(attrs: &Attributes) -> Map<String, Value> {
    attrs
        .iter()
        .map(|(n, v)| {
            let mut m = Map::new();
            m.insert("DataType".into(), Value::from(v.data_type.clone()));
            if let Some(s) = &v.string_value {
                m.insert("StringValue".into(), Value::from(s.clone()));
            }
            if let Some(b) = &v.binary_value {
                m.insert("BinaryValue".into(), Value::from(b.clone()));
            }
            (n.clone(), Value::Object(m))
        })
        .collect()
}

/// The document a `MessageAttributes`-scope filter policy sees: String → string, Number →
/// number, String.Array → the array; Binary attributes are not matched.
pub fn filter_event(attrs: &Attributes) -> Value {
    let mut m = Map::new();
    for (n, v) in attrs {
        let Some(s) = &v.string_value else { continue };
        let value = if v.data_type == "String.Array" {
            serde_json::from_str(s).unwrap_or(Value::Null)
        } else if v.data_type.starts_with("Number") {
            number(s).unwrap_or(Value::Null)
        } else {
            Value::from(s.clone())
        };
        m.insert(n.clone(), value);
    }
    Value::Object(m)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn checks_and_shapes() {
        let a = parse(Some(&json!({"n": {"DataType": "Number", "StringValue": "12"}, "l": {"DataType": "String.Array", "StringValue": "[\"a\",1]"}}))).expect("valid");
        assert_eq!(filter_event(&a), json!({"l": ["a", 1], "n": 12}));
        assert!(parse(Some(&json!({"n": {"DataType": "Number", "StringValue": "x"}}))).is_err());
        assert!(parse(Some(&json!({"n": {"DataType": "Float", "StringValue": "1"}}))).is_err());
        assert!(parse(Some(&json!({"AWS.x": {"DataType": "String", "StringValue": "1"}}))).is_err());
        assert!(parse(Some(&json!({"s": {"DataType": "String"}}))).is_err());
    }
}
