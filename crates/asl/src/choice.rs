//! Choice rules (JSONPath). Being built; the signatures are the contract.

use crate::{AslError, Scope};
use serde_json::Value;

#[derive(Debug, Clone)]
pub struct Rule {
    _raw: Value,
}

impl Rule {
    pub fn parse(rule: &Value) -> Result<Rule, String> {
        Ok(Rule { _raw: rule.clone() })
    }

    pub fn matches(&self, _scope: &Scope) -> Result<bool, AslError> {
        Err(AslError::runtime("Choice rules are not supported by nimbus yet"))
    }
}
