//! Event filtering (`FilterCriteria`): the event-pattern grammar Lambda shares with
//! EventBridge. A pattern is a JSON object whose leaves are arrays of allowed values —
//! literals (exact match, `null` included) or matchers: `{"prefix"}`, `{"suffix"}`,
//! `{"anything-but"}` (values, or a prefix/suffix), `{"numeric": [op, n, …]}`,
//! `{"exists": bool}`, `{"equals-ignore-case"}`, `{"wildcard"}` — and `"$or": [patterns]`.
//! An event matches when every field of the pattern matches (any value of an array
//! field may match).

use serde_json::Value;

/// Does `event` match `pattern`? Patterns are validated by [`validate`] first.
pub fn matches(pattern: &Value, event: &Value) -> bool {
    let Value::Object(fields) = pattern else { return false };
    fields.iter().all(|(key, rule)| {
        if key == "$or" {
            return rule.as_array().map(|alts| alts.iter().any(|p| matches(p, event))).unwrap_or(false);
        }
        let value = event.get(key);
        match rule {
            Value::Object(_) => value.map(|v| matches(rule, v)).unwrap_or(false),
            Value::Array(allowed) => allowed.iter().any(|a| leaf_matches(a, value)),
            _ => false,
        }
    })
}

/// The candidate values of a field: an array field offers each element.
fn candidates(value: Option<&Value>) -> Vec<&Value> {
    match value {
        Some(Value::Array(items)) => items.iter().collect(),
        Some(v) => vec![v],
        None => Vec::new(),
    }
}

fn leaf_matches(allowed: &Value, value: Option<&Value>) -> bool {
    match allowed {
        Value::Object(m) => {
            if let Some(Value::Bool(want)) = m.get("exists") {
                return value.is_some() == *want;
            }
            candidates(value).into_iter().any(|v| matcher(m, v))
        }
        literal => candidates(value).into_iter().any(|v| literal_eq(literal, v)),
    }
}

fn literal_eq(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => x.as_f64() == y.as_f64(),
        _ => a == b,
    }
}

fn matcher(m: &serde_json::Map<String, Value>, v: &Value) -> bool {
    let s = v.as_str();
    if let Some(p) = m.get("prefix") {
        return match p {
            Value::String(p) => s.map(|s| s.starts_with(p.as_str())).unwrap_or(false),
            Value::Object(o) => match (o.get("equals-ignore-case").and_then(Value::as_str), s) {
                (Some(p), Some(s)) => s.to_lowercase().starts_with(&p.to_lowercase()),
                _ => false,
            },
            _ => false,
        };
    }
    if let Some(Value::String(suffix)) = m.get("suffix") {
        return s.map(|s| s.ends_with(suffix.as_str())).unwrap_or(false);
    }
    if let Some(Value::String(e)) = m.get("equals-ignore-case") {
        return s.map(|s| s.eq_ignore_ascii_case(e) || s.to_lowercase() == e.to_lowercase()).unwrap_or(false);
    }
    if let Some(Value::String(w)) = m.get("wildcard") {
        return s.map(|s| wildcard(w, s)).unwrap_or(false);
    }
    if let Some(but) = m.get("anything-but") {
        return match but {
            Value::Array(values) => !values.iter().any(|x| literal_eq(x, v)),
            Value::Object(o) => match (o.get("prefix").and_then(Value::as_str), o.get("suffix").and_then(Value::as_str), s) {
                (Some(p), _, Some(s)) => !s.starts_with(p),
                (_, Some(x), Some(s)) => !s.ends_with(x),
                _ => false,
            },
            single => !literal_eq(single, v),
        };
    }
    if let Some(Value::Array(ops)) = m.get("numeric") {
        let Some(n) = v.as_f64() else { return false };
        return ops.chunks(2).all(|pair| match (pair.first().and_then(Value::as_str), pair.get(1).and_then(Value::as_f64)) {
            (Some("="), Some(x)) => n == x,
            (Some("<"), Some(x)) => n < x,
            (Some("<="), Some(x)) => n <= x,
            (Some(">"), Some(x)) => n > x,
            (Some(">="), Some(x)) => n >= x,
            _ => false,
        });
    }
    false
}

/// `*` matches any run of characters.
fn wildcard(pattern: &str, text: &str) -> bool {
    let parts: Vec<&str> = pattern.split('*').collect();
    if parts.len() == 1 {
        return pattern == text;
    }
    let (first, last) = (parts[0], parts[parts.len() - 1]);
    if !text.starts_with(first) || !text.ends_with(last) || text.len() < first.len() + last.len() {
        return false;
    }
    let mut rest = &text[first.len()..text.len() - last.len()];
    for mid in &parts[1..parts.len() - 1] {
        match rest.find(mid) {
            Some(i) => rest = &rest[i + mid.len()..],
            None => return false,
        }
    }
    true
}

const MATCHERS: &[&str] = &["prefix", "suffix", "anything-but", "numeric", "exists", "equals-ignore-case", "wildcard"];

/// Checks a pattern's grammar; the error is AWS's InvalidParameterValueException text.
pub fn validate(pattern: &Value) -> Result<(), String> {
    let bad = || format!("Invalid filter pattern definition. {pattern}");
    let Value::Object(fields) = pattern else { return Err(bad()) };
    for (key, rule) in fields {
        match rule {
            Value::Object(_) => validate(rule)?,
            Value::Array(alts) if key == "$or" => {
                for p in alts {
                    validate(p)?;
                }
            }
            Value::Array(allowed) => {
                for a in allowed {
                    if let Value::Object(m) = a {
                        if m.len() != 1 || !m.keys().all(|k| MATCHERS.contains(&k.as_str())) {
                            return Err(bad());
                        }
                    }
                }
            }
            _ => return Err(bad()),
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn grammar() {
        let e = json!({ "body": { "kind": "order", "total": 42, "tags": ["a", "b"], "name": "Widget-9" } });
        let ok = |p: Value| {
            validate(&p).unwrap();
            matches(&p, &e)
        };
        assert!(ok(json!({ "body": { "kind": ["order"] } })));
        assert!(!ok(json!({ "body": { "kind": ["refund"] } })));
        assert!(ok(json!({ "body": { "kind": [{ "prefix": "ord" }] } })));
        assert!(ok(json!({ "body": { "name": [{ "suffix": "-9" }] } })));
        assert!(ok(json!({ "body": { "kind": [{ "anything-but": ["refund"] }] } })));
        assert!(ok(json!({ "body": { "total": [{ "numeric": [">", 40, "<=", 42] }] } })));
        assert!(!ok(json!({ "body": { "total": [{ "numeric": [">", 42] }] } })));
        assert!(ok(json!({ "body": { "missing": [{ "exists": false }] } })));
        assert!(ok(json!({ "body": { "kind": [{ "equals-ignore-case": "ORDER" }] } })));
        assert!(ok(json!({ "body": { "name": [{ "wildcard": "Wid*-*" }] } })));
        assert!(ok(json!({ "body": { "tags": ["b"] } })));
        assert!(ok(json!({ "$or": [{ "body": { "kind": ["x"] } }, { "body": { "total": [42] } }] })));
        assert!(validate(&json!({ "body": { "kind": [{ "regex": "x" }] } })).is_err());
    }
}
