//! Subscription filter policies: a subscription's `FilterPolicy` compiled once (when set,
//! and at start), then matched against each publish — against the message attributes as
//! `{name: value}` (`FilterPolicyScope=MessageAttributes`, the default) or against the
//! message body parsed as JSON (`MessageBody`).
//! https://docs.aws.amazon.com/sns/latest/dg/sns-message-filtering.html

use crate::errors::{SnsError, SnsResult};
use nimbus_event_pattern::{Dialect, Pattern};
use serde_json::Value;
use std::collections::BTreeMap;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    MessageAttributes,
    MessageBody,
}

pub struct Filter {
    scope: Scope,
    pattern: Pattern,
}

impl std::fmt::Debug for Filter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Filter({:?})", self.scope)
    }
}

/// `FilterPolicyScope`'s value, checked.
pub fn scope_of(value: Option<&str>) -> SnsResult<Scope> {
    match value {
        None | Some("MessageAttributes") => Ok(Scope::MessageAttributes),
        Some("MessageBody") => Ok(Scope::MessageBody),
        Some(_) => Err(SnsError::invalid("Attributes Reason: FilterPolicyScope: Invalid value [Valid values: MessageAttributes, MessageBody]")),
    }
}

impl Filter {
    /// The compiled filter of a subscription's attributes, `None` without a policy.
    pub fn of(attributes: &BTreeMap<String, String>) -> SnsResult<Option<Filter>> {
        let scope = scope_of(attributes.get("FilterPolicyScope").map(String::as_str))?;
        match attributes.get("FilterPolicy").map(|p| p.trim()) {
            None | Some("") | Some("{}") => Ok(None),
            Some(policy) => {
                let dialect = match scope {
                    Scope::MessageAttributes => Dialect::SnsAttributes,
                    Scope::MessageBody => Dialect::SnsBody,
                };
                // The engine words the message as SNS does ("Invalid parameter: FilterPolicy: …").
                let pattern = Pattern::parse(policy, dialect).map_err(|e| SnsError::InvalidParameter(e.message))?;
                Ok(Some(Filter { scope, pattern }))
            }
        }
    }

    /// Whether a publish passes the filter: `attributes` is the `{name: value}` document
    /// (`message_attrs::filter_event`), `body` parses the message (JSON, else null).
    pub fn matches(&self, attributes: &Value, body: &dyn Fn() -> Value) -> bool {
        match self.scope {
            Scope::MessageAttributes => self.pattern.matches(attributes),
            Scope::MessageBody => self.pattern.matches(&body()),
        }
    }
}
