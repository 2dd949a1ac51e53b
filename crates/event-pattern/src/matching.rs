//! Matching a compiled pattern against an event (a JSON value). A missing field is
//! only matched by `{"exists": false}`; an array in the event offers each element.

use crate::ast::{AnythingBut, Cmp, Matcher, Object, Rule};
use crate::{leaf, Dialect};
use serde_json::Value;

static EMPTY: Value = Value::Null;

/// All fields and one alternative of every `$or` must match.
pub fn object(o: &Object, event: &Value, d: Dialect) -> bool {
    o.fields.iter().all(|(key, rule)| field(rule, event.get(key.as_str()), d)) && o.ors.iter().all(|alts| alts.iter().any(|a| object(a, event, d)))
}

fn field(rule: &Rule, value: Option<&Value>, d: Dialect) -> bool {
    match rule {
        Rule::Nested(o) => match value {
            // An array of objects matches when one element does.
            Some(Value::Array(items)) if items.iter().any(Value::is_object) => items.iter().filter(|v| v.is_object()).any(|v| object(o, v, d)),
            Some(v @ Value::Object(_)) => object(o, v, d),
            // The nested fields are absent: only `exists: false` can match.
            _ => object(o, &EMPTY, d),
        },
        Rule::Leaf(ms) => ms.iter().any(|m| leaf_matches(m, value, d)),
    }
}

/// A field "exists" when it is present and a leaf (not an object), as AWS documents.
fn exists(value: Option<&Value>) -> bool {
    match value {
        None | Some(Value::Object(_)) => false,
        Some(Value::Array(items)) => !items.is_empty(),
        Some(_) => true,
    }
}

fn leaf_matches(m: &Matcher, value: Option<&Value>, d: Dialect) -> bool {
    if let Matcher::Exists(want) = m {
        return exists(value) == *want;
    }
    match value {
        Some(Value::Array(items)) => items.iter().any(|v| one(m, v, d)),
        Some(v) => one(m, v, d),
        None => false,
    }
}

fn lower(s: &str) -> String {
    s.to_lowercase()
}

fn one(m: &Matcher, v: &Value, d: Dialect) -> bool {
    let s = v.as_str();
    match m {
        Matcher::Exact(lit) => lit == v,
        Matcher::Number(n) => v.as_f64().map(|x| leaf::round(x, d) == leaf::round(*n, d)).unwrap_or(false),
        Matcher::Prefix { text, ignore_case: false } => s.is_some_and(|s| s.starts_with(text.as_str())),
        Matcher::Prefix { text, ignore_case: true } => s.is_some_and(|s| lower(s).starts_with(&lower(text))),
        Matcher::Suffix { text, ignore_case: false } => s.is_some_and(|s| s.ends_with(text.as_str())),
        Matcher::Suffix { text, ignore_case: true } => s.is_some_and(|s| lower(s).ends_with(&lower(text))),
        Matcher::EqualsIgnoreCase(text) => s.is_some_and(|s| lower(s) == lower(text)),
        Matcher::Wildcard(p) => s.is_some_and(|s| leaf::wildcard(p, s)),
        Matcher::Cidr(c) => s.is_some_and(|s| leaf::in_cidr(c, s)),
        Matcher::Numeric(ops) => match v.as_f64() {
            Some(x) => {
                let x = leaf::round(x, d);
                ops.iter().all(|(op, bound)| {
                    let b = leaf::round(*bound, d);
                    match op {
                        Cmp::Eq => x == b,
                        Cmp::Lt => x < b,
                        Cmp::Le => x <= b,
                        Cmp::Gt => x > b,
                        Cmp::Ge => x >= b,
                    }
                })
            }
            None => false,
        },
        Matcher::Exists(_) => false,
        Matcher::AnythingBut(but) => anything_but(but, v, d),
    }
}

fn anything_but(but: &AnythingBut, v: &Value, d: Dialect) -> bool {
    let s = v.as_str();
    match but {
        AnythingBut::Values(list) => !list.iter().any(|m| one(m, v, d)),
        AnythingBut::Prefix(p) => s.is_some_and(|s| !s.starts_with(p.as_str())),
        AnythingBut::Suffix(x) => s.is_some_and(|s| !s.ends_with(x.as_str())),
        AnythingBut::Wildcards(ps) => s.is_some_and(|s| !ps.iter().any(|p| leaf::wildcard(p, s))),
        AnythingBut::EqualsIgnoreCase(list) => s.is_some_and(|s| !list.iter().any(|x| lower(x) == lower(s))),
    }
}
