//! Choice Rules of the JSONPath query language: every comparison operator and its `…Path`
//! form, the type tests, `And`/`Or`/`Not`. A comparison whose variable has the wrong type is
//! false (AWS "doesn't attempt to match a numeric field to a string value"); a `Variable` (or
//! a `…Path` operand) that selects nothing fails the state with `States.Runtime` — except
//! under `IsPresent`, which exists to ask. Strings compare as Java's `String.compareTo`
//! (UTF-16 code units); timestamps as instants (RFC 3339, uppercase `T` and `Z`).
//! <https://docs.aws.amazon.com/step-functions/latest/dg/state-choice.html>

use crate::path::{lookup_reference, validate_reference_path};
use crate::timestamp::parse_rfc3339;
use crate::{AslError, Scope};
use serde_json::Value;
use std::cmp::Ordering;

/// A parsed Choice Rule.
#[derive(Debug, Clone, PartialEq)]
pub struct Rule {
    kind: Kind,
    next: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
enum Kind {
    And(Vec<Rule>),
    Or(Vec<Rule>),
    Not(Box<Rule>),
    Compare { variable: String, op: Op, operand: Operand },
}

#[derive(Debug, Clone, PartialEq)]
enum Operand {
    Literal(Value),
    Path(String),
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Op {
    String(Ordering, bool),
    StringMatches,
    Numeric(Ordering, bool),
    Boolean,
    Timestamp(Ordering, bool),
    IsNull,
    IsPresent,
    IsNumeric,
    IsString,
    IsBoolean,
    IsTimestamp,
}

/// Every comparison operator: (name, operator). `…Path` forms are these names + "Path"
/// (not for `StringMatches` and the type tests).
const OPERATORS: &[(&str, Op)] = &[
    ("StringEquals", Op::String(Ordering::Equal, false)),
    ("StringLessThan", Op::String(Ordering::Less, false)),
    ("StringGreaterThan", Op::String(Ordering::Greater, false)),
    ("StringLessThanEquals", Op::String(Ordering::Less, true)),
    ("StringGreaterThanEquals", Op::String(Ordering::Greater, true)),
    ("StringMatches", Op::StringMatches),
    ("NumericEquals", Op::Numeric(Ordering::Equal, false)),
    ("NumericLessThan", Op::Numeric(Ordering::Less, false)),
    ("NumericGreaterThan", Op::Numeric(Ordering::Greater, false)),
    ("NumericLessThanEquals", Op::Numeric(Ordering::Less, true)),
    ("NumericGreaterThanEquals", Op::Numeric(Ordering::Greater, true)),
    ("BooleanEquals", Op::Boolean),
    ("TimestampEquals", Op::Timestamp(Ordering::Equal, false)),
    ("TimestampLessThan", Op::Timestamp(Ordering::Less, false)),
    ("TimestampGreaterThan", Op::Timestamp(Ordering::Greater, false)),
    ("TimestampLessThanEquals", Op::Timestamp(Ordering::Less, true)),
    ("TimestampGreaterThanEquals", Op::Timestamp(Ordering::Greater, true)),
    ("IsNull", Op::IsNull),
    ("IsPresent", Op::IsPresent),
    ("IsNumeric", Op::IsNumeric),
    ("IsString", Op::IsString),
    ("IsBoolean", Op::IsBoolean),
    ("IsTimestamp", Op::IsTimestamp),
];

/// Fields a rule may carry besides its operator.
const RULE_FIELDS: [&str; 5] = ["Variable", "Next", "Comment", "Assign", "Output"];

impl Rule {
    /// Parses a top-level Choice Rule (its `Next` is kept; nested rules must not have one).
    pub fn parse(rule: &Value) -> Result<Rule, String> {
        parse_rule(rule, true)
    }

    /// The `Next` of a top-level rule.
    pub fn next(&self) -> Option<&str> {
        self.next.as_deref()
    }

    /// Evaluates the rule against the scope (`$` the Choice state's effective input).
    pub fn matches(&self, scope: &Scope) -> Result<bool, AslError> {
        match &self.kind {
            Kind::And(rules) => {
                for rule in rules {
                    if !rule.matches(scope)? {
                        return Ok(false);
                    }
                }
                Ok(true)
            }
            Kind::Or(rules) => {
                for rule in rules {
                    if rule.matches(scope)? {
                        return Ok(true);
                    }
                }
                Ok(false)
            }
            Kind::Not(rule) => Ok(!rule.matches(scope)?),
            Kind::Compare { variable, op, operand } => {
                let value = lookup_reference(scope, variable)?;
                if let Op::IsPresent = op {
                    return Ok(value.is_some() == operand_bool(operand));
                }
                let value = value.ok_or_else(|| invalid_value(variable))?;
                let expected = match operand {
                    Operand::Literal(v) => v.clone(),
                    Operand::Path(p) => lookup_reference(scope, p)?.ok_or_else(|| invalid_value(p))?,
                };
                Ok(compare(*op, &value, &expected))
            }
        }
    }
}

/// Parses and evaluates a rule in one call; a rule that does not parse (the definition was
/// not validated) fails the state with `States.Runtime`.
pub fn matches(rule: &Value, scope: &Scope) -> Result<bool, AslError> {
    Rule::parse(rule).map_err(AslError::runtime)?.matches(scope)
}

fn operand_bool(operand: &Operand) -> bool {
    matches!(operand, Operand::Literal(Value::Bool(true)))
}

fn invalid_value(path: &str) -> AslError {
    AslError::runtime(format!("Invalid path '{path}': The choice state's condition path references an invalid value."))
}

fn parse_rule(rule: &Value, top_level: bool) -> Result<Rule, String> {
    let Value::Object(map) = rule else { return Err("A Choice Rule must be a JSON object".to_string()) };
    let next = match map.get("Next") {
        None => None,
        Some(_) if !top_level => {
            return Err("Nested Choice Rules (inside And, Or, Not) must not have a 'Next' field".to_string())
        }
        Some(Value::String(s)) => Some(s.clone()),
        Some(_) => return Err("The field 'Next' must be a string".to_string()),
    };
    let mut operators = map.keys().filter(|k| !RULE_FIELDS.contains(&k.as_str()));
    let Some(name) = operators.next() else {
        return Err("A Choice Rule must contain a comparison operator, 'And', 'Or' or 'Not'".to_string());
    };
    if let Some(extra) = operators.next() {
        return Err(format!("A Choice Rule has more than one operator: '{name}' and '{extra}'"));
    }
    let value = &map[name.as_str()];
    let kind = match name.as_str() {
        "And" | "Or" => {
            if map.contains_key("Variable") {
                return Err(format!("A Choice Rule with '{name}' must not have a 'Variable' field"));
            }
            let Some(items) = value.as_array().filter(|items| !items.is_empty()) else {
                return Err(format!("The value of '{name}' must be a non-empty array of Choice Rules"));
            };
            let rules = items.iter().map(|item| parse_rule(item, false)).collect::<Result<Vec<_>, _>>()?;
            if name == "And" {
                Kind::And(rules)
            } else {
                Kind::Or(rules)
            }
        }
        "Not" => {
            if map.contains_key("Variable") {
                return Err("A Choice Rule with 'Not' must not have a 'Variable' field".to_string());
            }
            Kind::Not(Box::new(parse_rule(value, false)?))
        }
        operator => parse_comparison(map.get("Variable"), operator, value)?,
    };
    Ok(Rule { kind, next })
}

fn parse_comparison(variable: Option<&Value>, name: &str, value: &Value) -> Result<Kind, String> {
    let variable = match variable {
        Some(Value::String(v)) => v.clone(),
        Some(_) => return Err("The field 'Variable' must be a string".to_string()),
        None => return Err(format!("The comparison '{name}' needs a 'Variable' field")),
    };
    validate_reference_path(&variable).map_err(|_| format!("The value for the field 'Variable' must be a valid Reference Path: '{variable}'"))?;
    if let Some((_, op)) = OPERATORS.iter().find(|(n, _)| *n == name) {
        check_literal(name, *op, value)?;
        return Ok(Kind::Compare { variable, op: *op, operand: Operand::Literal(value.clone()) });
    }
    let base = name.strip_suffix("Path").unwrap_or("");
    let path_op = OPERATORS
        .iter()
        .find(|(n, op)| *n == base && !matches!(op, Op::StringMatches) && !is_type_test(*op));
    match path_op {
        Some((_, op)) => {
            let Some(path) = value.as_str() else {
                return Err(format!("The value for the field '{name}' must be a valid Reference Path"));
            };
            validate_reference_path(path)
                .map_err(|_| format!("The value for the field '{name}' must be a valid Reference Path: '{path}'"))?;
            Ok(Kind::Compare { variable, op: *op, operand: Operand::Path(path.to_string()) })
        }
        None => Err(format!("'{name}' is not a supported Choice Rule operator")),
    }
}

fn is_type_test(op: Op) -> bool {
    matches!(op, Op::IsNull | Op::IsPresent | Op::IsNumeric | Op::IsString | Op::IsBoolean | Op::IsTimestamp)
}

fn check_literal(name: &str, op: Op, value: &Value) -> Result<(), String> {
    let ok = match op {
        Op::String(..) | Op::StringMatches => value.is_string(),
        Op::Numeric(..) => value.is_number(),
        Op::Boolean => value.is_boolean(),
        Op::Timestamp(..) => value.as_str().and_then(parse_rfc3339).is_some(),
        _ => value.is_boolean(),
    };
    if ok {
        return Ok(());
    }
    let kind = match op {
        Op::String(..) | Op::StringMatches => "a string",
        Op::Numeric(..) => "a number",
        Op::Timestamp(..) => "a timestamp (RFC 3339, e.g. 2016-08-18T17:33:00Z)",
        _ => "a boolean",
    };
    Err(format!("The value of '{name}' must be {kind}"))
}

fn compare(op: Op, value: &Value, expected: &Value) -> bool {
    match op {
        Op::String(ordering, or_equal) => match (value.as_str(), expected.as_str()) {
            (Some(a), Some(b)) => holds(java_compare(a, b), ordering, or_equal),
            _ => false,
        },
        Op::StringMatches => match (value.as_str(), expected.as_str()) {
            (Some(a), Some(pattern)) => wildcard_match(a, pattern),
            _ => false,
        },
        Op::Numeric(ordering, or_equal) => match (value.as_f64(), expected.as_f64()) {
            (Some(a), Some(b)) if value.is_number() && expected.is_number() => {
                a.partial_cmp(&b).is_some_and(|o| holds(o, ordering, or_equal))
            }
            _ => false,
        },
        Op::Boolean => match (value.as_bool(), expected.as_bool()) {
            (Some(a), Some(b)) => a == b,
            _ => false,
        },
        Op::Timestamp(ordering, or_equal) => {
            match (value.as_str().and_then(parse_rfc3339), expected.as_str().and_then(parse_rfc3339)) {
                (Some(a), Some(b)) => holds(a.cmp(&b), ordering, or_equal),
                _ => false,
            }
        }
        Op::IsNull => value.is_null() == (expected == &Value::Bool(true)),
        Op::IsNumeric => value.is_number() == (expected == &Value::Bool(true)),
        Op::IsString => value.is_string() == (expected == &Value::Bool(true)),
        Op::IsBoolean => value.is_boolean() == (expected == &Value::Bool(true)),
        Op::IsTimestamp => {
            value.as_str().and_then(parse_rfc3339).is_some() == (expected == &Value::Bool(true))
        }
        Op::IsPresent => true,
    }
}

fn holds(actual: Ordering, wanted: Ordering, or_equal: bool) -> bool {
    actual == wanted || (or_equal && actual == Ordering::Equal)
}

/// Java's `String.compareTo`: lexicographic over UTF-16 code units.
fn java_compare(a: &str, b: &str) -> Ordering {
    a.encode_utf16().cmp(b.encode_utf16())
}

/// `StringMatches`: `*` matches any run of characters; `\*` is a literal asterisk and `\\` a
/// literal backslash (written `\\*` and `\\\\` in the JSON definition).
fn wildcard_match(text: &str, pattern: &str) -> bool {
    #[derive(Clone, Copy, PartialEq)]
    enum Token {
        Char(char),
        Star,
    }
    let mut tokens = Vec::new();
    let mut chars = pattern.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => match chars.next() {
                Some(escaped) => tokens.push(Token::Char(escaped)),
                None => tokens.push(Token::Char('\\')),
            },
            '*' => tokens.push(Token::Star),
            other => tokens.push(Token::Char(other)),
        }
    }
    let text: Vec<char> = text.chars().collect();
    // Greedy matching with backtracking to the last star.
    let (mut t, mut p) = (0usize, 0usize);
    let mut star: Option<(usize, usize)> = None;
    while t < text.len() {
        match tokens.get(p) {
            Some(Token::Char(c)) if *c == text[t] => {
                t += 1;
                p += 1;
            }
            Some(Token::Star) => {
                star = Some((p, t));
                p += 1;
            }
            _ => match star {
                Some((sp, st)) => {
                    p = sp + 1;
                    t = st + 1;
                    star = Some((sp, st + 1));
                }
                None => return false,
            },
        }
    }
    tokens[p..].iter().all(|token| *token == Token::Star)
}

#[cfg(test)]
#[path = "choice_tests.rs"]
mod tests;
