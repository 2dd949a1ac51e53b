//! Payload templates (JSONPath): `Parameters`, `ResultSelector`, `ItemSelector`, `Assign`.
//! Being built; the signatures are the contract.

use crate::{AslError, Scope};
use serde_json::Value;

pub fn render(_template: &Value, _scope: &Scope) -> Result<Value, AslError> {
    Err(AslError::runtime("Payload templates are not supported by nimbus yet"))
}

pub fn validate(_template: &Value) -> Result<(), String> {
    Ok(())
}
