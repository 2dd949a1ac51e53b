//! The event-pattern engine: the one content-filtering grammar behind EventBridge event
//! patterns, SNS subscription filter policies (both `FilterPolicyScope`s) and Lambda's
//! event-source-mapping `FilterCriteria`. A pattern is compiled once by [`Pattern::parse`]
//! (which validates it with the dialect's AWS error text) and then matched against many
//! events by [`Pattern::matches`]. No I/O, no clock: pure functions of the JSON.
//!
//! AWS references:
//! - <https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-event-patterns.html>
//! - <https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-create-pattern-operators.html>
//! - <https://docs.aws.amazon.com/sns/latest/dg/sns-subscription-filter-policies.html>
//! - <https://docs.aws.amazon.com/sns/latest/dg/subscription-filter-policy-constraints.html>
//! - <https://docs.aws.amazon.com/lambda/latest/dg/invocation-eventfiltering.html>

mod ast;
mod compile;
mod leaf;
mod matching;

use serde_json::Value;

/// Which service's rules (limits, number range, nesting, error text) a pattern follows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    /// EventBridge event patterns: "Event pattern is not valid. Reason: ...".
    EventBridge,
    /// SNS filter policy with `FilterPolicyScope=MessageAttributes`: flat (no nesting), the
    /// event is `{attribute name: value}` as the SNS service builds it.
    SnsAttributes,
    /// SNS filter policy with `FilterPolicyScope=MessageBody`: nested keys allowed.
    SnsBody,
    /// Lambda event source mapping `FilterCriteria.Filters[].Pattern`.
    LambdaFilter,
}

/// A pattern that failed validation; `message` is the text AWS answers for the dialect.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PatternError {
    pub message: String,
}

impl std::fmt::Display for PatternError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for PatternError {}

/// A compiled pattern.
#[derive(Debug, Clone)]
pub struct Pattern {
    root: ast::Object,
    dialect: Dialect,
}

impl Pattern {
    /// Parses and validates `json` under `dialect`'s rules.
    pub fn parse(json: &str, dialect: Dialect) -> Result<Pattern, PatternError> {
        let value: Value = serde_json::from_str(json).map_err(|e| compile::error(dialect, json, &compile::json_reason(&e)))?;
        Self::from_value(&value, dialect).map_err(|e| match dialect {
            // Lambda quotes the pattern text as given.
            Dialect::LambdaFilter => compile::error(dialect, json, ""),
            _ => e,
        })
    }

    /// Like [`Pattern::parse`] for an already-parsed JSON value.
    pub fn from_value(value: &Value, dialect: Dialect) -> Result<Pattern, PatternError> {
        let root = compile::compile(value, dialect)?;
        Ok(Pattern { root, dialect })
    }

    /// Does `event` match? Every field of the pattern must match; an array in the event
    /// matches when any of its elements does.
    pub fn matches(&self, event: &Value) -> bool {
        matching::object(&self.root, event, self.dialect)
    }

    /// The dialect the pattern was parsed under.
    pub fn dialect(&self) -> Dialect {
        self.dialect
    }
}
