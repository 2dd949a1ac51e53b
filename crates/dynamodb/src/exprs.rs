//! A request's ExpressionAttributeNames / Values, decoded once and lent to the
//! expression parsers of `nimbus-dynamodb-expr`, plus AWS's checks on them.

use crate::api::Expressions;
use crate::errors::{DdbError, DdbResult};
use nimbus_dynamodb_expr::expr::Substitutions;
use nimbus_dynamodb_expr::AttributeValue;
use std::collections::HashMap;

pub struct Subs {
    names: HashMap<String, String>,
    values: HashMap<String, AttributeValue>,
    has_names: bool,
    has_values: bool,
}

impl Subs {
    pub fn new(e: &Expressions) -> DdbResult<Subs> {
        let names = e.expression_attribute_names.clone().unwrap_or_default();
        if e.expression_attribute_names.as_ref().is_some_and(|n| n.is_empty()) {
            return Err(DdbError::validation("ExpressionAttributeNames must not be empty"));
        }
        if e.expression_attribute_values.as_ref().is_some_and(|n| n.is_empty()) {
            return Err(DdbError::validation("ExpressionAttributeValues must not be empty"));
        }
        let mut sorted: Vec<(&String, &String)> = names.iter().collect();
        sorted.sort();
        if let Some((k, _)) = sorted.iter().find(|(_, v)| v.is_empty()) {
            return Err(DdbError::validation(format!("ExpressionAttributeNames contains invalid value: Empty attribute name for key {k}")));
        }
        if let Some((k, _)) = sorted.iter().find(|(_, v)| v.len() > crate::write::MAX_ATTRIBUTE_NAME_BYTES) {
            return Err(DdbError::validation(format!("ExpressionAttributeNames contains invalid value: Attribute name too long for key {k}")));
        }
        let mut values = HashMap::new();
        for (k, v) in e.expression_attribute_values.iter().flatten() {
            let av = AttributeValue::from_json(v).map_err(|err| DdbError::validation(format!("ExpressionAttributeValues contains invalid value: {} for key {k}", err.0)))?;
            values.insert(k.clone(), av);
        }
        Ok(Subs { has_names: e.expression_attribute_names.is_some(), has_values: e.expression_attribute_values.is_some(), names, values })
    }

    pub fn get(&self) -> Substitutions<'_> {
        Substitutions::new(&self.names, &self.values)
    }

    /// Names and values are only allowed with an expression.
    pub fn require_expression(&self, any_expression: bool) -> DdbResult<()> {
        if !any_expression {
            if self.has_names {
                return Err(DdbError::validation("ExpressionAttributeNames can only be specified when using expressions"));
            }
            if self.has_values {
                return Err(DdbError::validation("ExpressionAttributeValues can only be specified when using expressions"));
            }
        }
        Ok(())
    }
}

/// Runs after every expression of a request was parsed.
pub fn check_used(subs: &Substitutions<'_>) -> DdbResult<()> {
    subs.check_all_used().map_err(DdbError::from)
}

/// An empty expression string is refused as AWS refuses it.
pub fn non_empty<'a>(text: Option<&'a str>, name: &str) -> DdbResult<Option<&'a str>> {
    match text {
        Some(t) if t.trim().is_empty() => Err(DdbError::validation(format!("Invalid {name}: The expression can not be empty;"))),
        other => Ok(other),
    }
}
