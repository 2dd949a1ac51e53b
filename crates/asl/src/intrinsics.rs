//! Intrinsic functions (`States.Format`, …). Being built; the signature is the contract.

use crate::{AslError, Scope};
use serde_json::Value;

pub fn eval(expr: &str, _scope: &Scope) -> Result<Value, AslError> {
    Err(AslError::intrinsic_failure(format!("The intrinsic function '{expr}' is not supported by nimbus yet")))
}
