//! Compiling (and validating) a pattern's JSON into the [`crate::ast`] form, with each
//! dialect's limits: SNS's five keys and 150 combinations and flat attribute policies,
//! the numeric range, and the AWS error text for every malformed construct.

use crate::ast::{AnythingBut, Cmp, Matcher, Object, Rule};
use crate::{leaf, Dialect, PatternError};
use serde_json::{Map, Value};

type Reason = String;

/// The dialect's error for `reason` (Lambda's text quotes the whole pattern instead).
pub fn error(d: Dialect, json: &str, reason: &str) -> PatternError {
    let message = match d {
        Dialect::EventBridge => format!("Event pattern is not valid. Reason: {reason}"),
        Dialect::SnsAttributes | Dialect::SnsBody => format!("Invalid parameter: FilterPolicy: {reason}"),
        Dialect::LambdaFilter => format!("Invalid filter pattern definition. {json}"),
    };
    PatternError { message }
}

/// The reason given for text that is not JSON.
pub fn json_reason(e: &serde_json::Error) -> String {
    format!("Filter is not valid JSON: {e}")
}

/// Compiles a whole pattern.
pub fn compile(value: &Value, d: Dialect) -> Result<Object, PatternError> {
    let wrap = |r: Reason| error(d, &value.to_string(), &r);
    let Value::Object(map) = value else { return Err(wrap("Filter is not an object".into())) };
    let root = object(map, d, 0).map_err(wrap)?;
    if matches!(d, Dialect::SnsAttributes | Dialect::SnsBody) {
        let (keys, combinations) = complexity(&root);
        if keys > 5 {
            return Err(wrap("Filter policy can not have more than 5 keys".into()));
        }
        if combinations > 150 {
            return Err(wrap("Filter policy is too complex".into()));
        }
    }
    Ok(root)
}

fn object(map: &Map<String, Value>, d: Dialect, depth: usize) -> Result<Object, Reason> {
    let mut out = Object::default();
    for (key, rule) in map {
        if key == "$or" {
            out.ors.push(or(rule, d, depth)?);
            continue;
        }
        match rule {
            Value::Object(inner) => {
                if d == Dialect::SnsAttributes {
                    return Err("Filter policy scope MessageAttributes does not support nested filter policy".into());
                }
                out.fields.push((key.clone(), Rule::Nested(object(inner, d, depth + 1)?)));
            }
            Value::Array(items) => {
                if items.is_empty() {
                    return Err("Empty arrays are not allowed".into());
                }
                let ms = items.iter().map(|i| matcher(key, i, d)).collect::<Result<Vec<_>, _>>()?;
                out.fields.push((key.clone(), Rule::Leaf(ms)));
            }
            _ => return Err(format!("\"{key}\" must be an object or an array")),
        }
    }
    Ok(out)
}

fn or(rule: &Value, d: Dialect, depth: usize) -> Result<Vec<Object>, Reason> {
    let Value::Array(alts) = rule else { return Err("Or relationship must be an array of objects".into()) };
    if alts.len() < 2 {
        return Err("Or relationship must contain at least two filters".into());
    }
    alts.iter()
        .map(|a| match a {
            Value::Object(m) => object(m, d, depth),
            _ => Err("Or relationship must be an array of objects".into()),
        })
        .collect()
}

fn matcher(key: &str, item: &Value, d: Dialect) -> Result<Matcher, Reason> {
    match item {
        Value::Number(n) => Ok(Matcher::Number(number(n)?)),
        Value::String(_) | Value::Bool(_) | Value::Null => Ok(Matcher::Exact(item.clone())),
        Value::Array(_) => Err(format!("Match value must be String, number, true, false, or null (in \"{key}\")")),
        Value::Object(m) => operator(m, d),
    }
}

fn number(n: &serde_json::Number) -> Result<f64, Reason> {
    n.as_f64().ok_or_else(|| format!("Value {n} is not a supported number"))
}

fn string<'a>(op: &str, v: &'a Value) -> Result<&'a str, Reason> {
    v.as_str().ok_or_else(|| format!("{op} match pattern must be a string"))
}

fn operator(m: &Map<String, Value>, d: Dialect) -> Result<Matcher, Reason> {
    let mut it = m.iter();
    let (Some((op, arg)), None) = (it.next(), it.next()) else {
        return Err("Only one key allowed in match expression".into());
    };
    match op.as_str() {
        "prefix" | "suffix" => {
            let (text, ignore_case) = match arg {
                Value::Object(o) => match (o.len(), o.get("equals-ignore-case")) {
                    (1, Some(v)) => (string("equals-ignore-case", v)?, true),
                    _ => return Err(format!("Unsupported {op} pattern: {arg}")),
                },
                v => (string(op, v)?, false),
            };
            let text = text.to_string();
            Ok(if op == "prefix" { Matcher::Prefix { text, ignore_case } } else { Matcher::Suffix { text, ignore_case } })
        }
        "equals-ignore-case" => Ok(Matcher::EqualsIgnoreCase(string(op, arg)?.to_string())),
        "wildcard" => {
            let p = string(op, arg)?;
            leaf::check_wildcard(p)?;
            Ok(Matcher::Wildcard(p.to_string()))
        }
        "exists" => match arg {
            Value::Bool(b) => Ok(Matcher::Exists(*b)),
            _ => Err("exists match pattern must be either true or false.".into()),
        },
        "cidr" => {
            let text = string(op, arg)?;
            leaf::parse_cidr(text).map(Matcher::Cidr).ok_or_else(|| format!("Malformed CIDR: {text}"))
        }
        "numeric" => numeric(arg, d),
        "anything-but" => anything_but(arg).map(Matcher::AnythingBut),
        other => Err(format!("Unrecognized match type {other}")),
    }
}

/// `[op, n]`, `[">"/">=", lo, "<"/"<=", hi]` or `["=", n]`.
fn numeric(arg: &Value, d: Dialect) -> Result<Matcher, Reason> {
    let Value::Array(items) = arg else { return Err("Value of numeric must be an array.".into()) };
    if items.is_empty() || items.len() % 2 != 0 || items.len() > 4 {
        return Err("Numeric expression must be one or two [operator, number] pairs".into());
    }
    let limit = leaf::numeric_limit(d);
    let mut ops = Vec::new();
    for pair in items.chunks(2) {
        let op = match pair[0].as_str() {
            Some("=") => Cmp::Eq,
            Some("<") => Cmp::Lt,
            Some("<=") => Cmp::Le,
            Some(">") => Cmp::Gt,
            Some(">=") => Cmp::Ge,
            _ => return Err(format!("Unrecognized numeric range operator: {}", pair[0])),
        };
        let Value::Number(n) = &pair[1] else { return Err(format!("Value of {} must be numeric", pair[0].as_str().unwrap_or("?"))) };
        let n = number(n)?;
        if !(-limit..=limit).contains(&n) {
            return Err(format!("Value of {} must be between -{limit:.1E} and {limit:.1E} inclusive", pair[0].as_str().unwrap_or("?")));
        }
        ops.push((op, n));
    }
    if ops.len() == 2 {
        let lower = matches!(ops[0].0, Cmp::Gt | Cmp::Ge);
        let upper = matches!(ops[1].0, Cmp::Lt | Cmp::Le);
        if !lower || !upper {
            return Err("Numeric range must be a lower bound (> or >=) followed by an upper bound (< or <=)".into());
        }
        if ops[0].1 >= ops[1].1 {
            return Err("Bottom must be less than top".into());
        }
    }
    Ok(Matcher::Numeric(ops))
}

fn anything_but(arg: &Value) -> Result<AnythingBut, Reason> {
    match arg {
        Value::String(_) | Value::Number(_) => Ok(AnythingBut::Values(vec![literal(arg)?])),
        Value::Array(items) => {
            if items.is_empty() {
                return Err("Empty arrays are not allowed".into());
            }
            let strings = items.iter().all(Value::is_string);
            let numbers = items.iter().all(Value::is_number);
            if !strings && !numbers {
                return Err("Inside anything but list, either all values are number or string, mixed type is not supported".into());
            }
            Ok(AnythingBut::Values(items.iter().map(literal).collect::<Result<_, _>>()?))
        }
        Value::Object(m) => {
            let mut it = m.iter();
            let (Some((op, v)), None) = (it.next(), it.next()) else {
                return Err(format!("Unsupported anything-but pattern: {arg}"));
            };
            let list = |op: &str| -> Result<Vec<String>, Reason> {
                match v {
                    Value::String(s) => Ok(vec![s.clone()]),
                    Value::Array(a) if !a.is_empty() => a.iter().map(|x| string(op, x).map(str::to_string)).collect(),
                    _ => Err(format!("{op} match pattern must be a string or a non-empty array of strings")),
                }
            };
            match op.as_str() {
                "prefix" => Ok(AnythingBut::Prefix(string(op, v)?.to_string())),
                "suffix" => Ok(AnythingBut::Suffix(string(op, v)?.to_string())),
                "wildcard" => {
                    let ps = list(op)?;
                    for p in &ps {
                        leaf::check_wildcard(p)?;
                    }
                    Ok(AnythingBut::Wildcards(ps))
                }
                "equals-ignore-case" => Ok(AnythingBut::EqualsIgnoreCase(list(op)?)),
                _ => Err(format!("Unsupported anything-but pattern: {op}")),
            }
        }
        _ => Err("Inside anything but list, start|null|boolean is not supported.".into()),
    }
}

fn literal(v: &Value) -> Result<Matcher, Reason> {
    match v {
        Value::Number(n) => Ok(Matcher::Number(number(n)?)),
        other => Ok(Matcher::Exact(other.clone())),
    }
}

/// SNS's complexity: (keys, combinations). Keys are the leaf keys of the largest `$or`
/// branch plus the AND-ed keys; combinations multiply the lengths of the AND-ed value
/// arrays and add over `$or` alternatives.
fn complexity(o: &Object) -> (usize, usize) {
    let mut keys = 0usize;
    let mut combos = 1usize;
    for (_, rule) in &o.fields {
        let (k, c) = match rule {
            Rule::Nested(inner) => complexity(inner),
            Rule::Leaf(ms) => (1, ms.len()),
        };
        keys += k;
        combos = combos.saturating_mul(c);
    }
    for alts in &o.ors {
        let parts: Vec<(usize, usize)> = alts.iter().map(complexity).collect();
        keys += parts.iter().map(|p| p.0).max().unwrap_or(0);
        combos = combos.saturating_mul(parts.iter().map(|p| p.1).sum::<usize>().max(1));
    }
    (keys, combos)
}
