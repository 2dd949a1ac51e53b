//! A small stand-in for `nimbus-asl` (the JSONPath data language, built on its own branch):
//! the same calls the engine makes — `select`, `apply_result`, `render`, `choice_matches` —
//! over simple paths (`$`, `$$`, `$var`, `.name`, `['name']`, `[n]`). The engine switches
//! to `nimbus_asl` once that crate lands; nothing else depends on this module.

use nimbus_asl::{AslError, Scope};
use serde_json::{Map, Value};

enum Step {
    Key(String),
    Index(i64),
}

fn parse_steps(path: &str) -> Result<(char, Option<String>, Vec<Step>), AslError> {
    let invalid = || AslError::runtime(format!("Invalid path: {path}"));
    let s = path.trim();
    let (root, rest, var) = if let Some(r) = s.strip_prefix("$$") {
        ('c', r, None)
    } else if let Some(r) = s.strip_prefix('$') {
        let name_len = r.find(|c: char| !(c.is_alphanumeric() || c == '_')).unwrap_or(r.len());
        if name_len > 0 {
            ('v', &r[name_len..], Some(r[..name_len].to_string()))
        } else {
            ('i', r, None)
        }
    } else {
        return Err(invalid());
    };
    let mut steps = Vec::new();
    let b = rest.as_bytes();
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'.' => {
                let start = i + 1;
                let mut j = start;
                while j < b.len() && b[j] != b'.' && b[j] != b'[' {
                    j += 1;
                }
                if j == start {
                    return Err(invalid());
                }
                steps.push(Step::Key(rest[start..j].to_string()));
                i = j;
            }
            b'[' => {
                let end = rest[i..].find(']').map(|e| i + e).ok_or_else(invalid)?;
                let inner = rest[i + 1..end].trim();
                if let Some(q) = inner.strip_prefix('\'').and_then(|x| x.strip_suffix('\'')) {
                    steps.push(Step::Key(q.to_string()));
                } else if let Some(q) = inner.strip_prefix('"').and_then(|x| x.strip_suffix('"')) {
                    steps.push(Step::Key(q.to_string()));
                } else {
                    steps.push(Step::Index(inner.parse().map_err(|_| invalid())?));
                }
                i = end + 1;
            }
            _ => return Err(invalid()),
        }
    }
    Ok((root, var, steps))
}

/// A Path's value; a path that matches nothing is an error, as Step Functions treats it.
pub fn select(scope: &Scope<'_>, path: &str) -> Result<Value, AslError> {
    let (root, var, steps) = parse_steps(path)?;
    let mut cur: &Value = match root {
        'c' => scope.context,
        'v' => {
            let name = var.unwrap_or_default();
            scope.variables.get(&name).ok_or_else(|| AslError::runtime(format!("The variable '${name}' is not defined")))?
        }
        _ => scope.input,
    };
    for st in &steps {
        let next = match st {
            Step::Key(k) => cur.get(k.as_str()),
            Step::Index(n) => cur.as_array().and_then(|a| if *n < 0 { a.len().checked_sub(n.unsigned_abs() as usize).and_then(|i| a.get(i)) } else { a.get(*n as usize) }),
        };
        cur = next.ok_or_else(|| AslError::runtime(format!("The JSONPath '{path}' could not be found in the input '{}'", scope.input)))?;
    }
    Ok(cur.clone())
}

/// `ResultPath`: `None` keeps the input; `$` replaces it; `$.a.b` sets that field.
pub fn apply_result(input: &Value, result_path: Option<&str>, result: Value) -> Result<Value, AslError> {
    let Some(path) = result_path else { return Ok(input.clone()) };
    let (root, _, steps) = parse_steps(path)?;
    if root != 'i' {
        return Err(AslError::runtime(format!("Invalid ResultPath: {path}")));
    }
    if steps.is_empty() {
        return Ok(result);
    }
    let mut out = input.clone();
    if !out.is_object() {
        out = Value::Object(Map::new());
    }
    let mut cur = &mut out;
    for (i, st) in steps.iter().enumerate() {
        let Step::Key(k) = st else { return Err(AslError::runtime(format!("Invalid ResultPath: {path}"))) };
        if !cur.is_object() {
            *cur = Value::Object(Map::new());
        }
        let obj = cur.as_object_mut().expect("an object");
        if i == steps.len() - 1 {
            obj.insert(k.clone(), result);
            break;
        }
        cur = obj.entry(k.clone()).or_insert_with(|| Value::Object(Map::new()));
    }
    Ok(out)
}

/// `Parameters`, `ResultSelector`, `ItemSelector`: `.$` keys by path.
pub fn render(template: &Value, scope: &Scope<'_>) -> Result<Value, AslError> {
    match template {
        Value::Object(m) => {
            let mut out = Map::new();
            for (k, v) in m {
                if let Some(key) = k.strip_suffix(".$") {
                    let expr = v.as_str().ok_or_else(|| AslError::runtime(format!("The value for the field '{k}' must be a STRING that contains a JSONPath but was a {}", type_name(v))))?;
                    if expr.starts_with("States.") {
                        return Err(AslError { error: "States.Runtime".into(), cause: format!("The intrinsic function in the field '{k}' is not supported by nimbus yet") });
                    }
                    out.insert(key.to_string(), select(scope, expr)?);
                } else {
                    out.insert(k.clone(), render(v, scope)?);
                }
            }
            Ok(Value::Object(out))
        }
        Value::Array(a) => Ok(Value::Array(a.iter().map(|v| render(v, scope)).collect::<Result<_, _>>()?)),
        other => Ok(other.clone()),
    }
}

fn type_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "NULL",
        Value::Bool(_) => "BOOLEAN",
        Value::Number(_) => "NUMBER",
        Value::String(_) => "STRING",
        Value::Array(_) => "ARRAY",
        Value::Object(_) => "OBJECT",
    }
}

/// A JSONPath Choice rule (comparison operators, `And` / `Or` / `Not`, `IsPresent`,
/// `IsNull`, type tests, `…Path` comparisons).
pub fn choice_matches(rule: &Value, scope: &Scope<'_>) -> Result<bool, AslError> {
    if let Some(all) = rule.get("And").and_then(Value::as_array) {
        for r in all {
            if !choice_matches(r, scope)? {
                return Ok(false);
            }
        }
        return Ok(true);
    }
    if let Some(any) = rule.get("Or").and_then(Value::as_array) {
        for r in any {
            if choice_matches(r, scope)? {
                return Ok(true);
            }
        }
        return Ok(false);
    }
    if let Some(r) = rule.get("Not") {
        return Ok(!choice_matches(r, scope)?);
    }
    let var = rule.get("Variable").and_then(Value::as_str).ok_or_else(|| AslError::runtime("A Choice rule has no Variable"))?;
    let value = select(scope, var).ok();
    let Some((op, operand)) = rule.as_object().and_then(|m| m.iter().find(|(k, _)| !matches!(k.as_str(), "Variable" | "Next" | "Comment" | "Assign" | "Output"))) else {
        return Err(AslError::runtime("A Choice rule has no comparison"));
    };
    let (op, operand) = match op.strip_suffix("Path") {
        Some(base) if !matches!(op.as_str(), "IsPresent") => (base.to_string(), select(scope, operand.as_str().unwrap_or("$"))?),
        _ => (op.clone(), operand.clone()),
    };
    let op = op.as_str();
    match op {
        "IsPresent" => return Ok(value.is_some() == operand.as_bool().unwrap_or(true)),
        _ => {}
    }
    let Some(v) = value else {
        return Err(AslError::runtime(format!("Invalid path '{var}': The choice state's condition path references an invalid value.")));
    };
    let want = operand.as_bool().unwrap_or(true);
    let result = match op {
        "IsNull" => v.is_null() == want,
        "IsString" => v.is_string() == want,
        "IsNumeric" => v.is_number() == want,
        "IsBoolean" => v.is_boolean() == want,
        "IsTimestamp" => v.as_str().and_then(nimbus_core::time::parse_iso8601).is_some() == want,
        "BooleanEquals" => v.as_bool().is_some() && v.as_bool() == operand.as_bool(),
        "StringEquals" | "StringLessThan" | "StringGreaterThan" | "StringLessThanEquals" | "StringGreaterThanEquals" => match (v.as_str(), operand.as_str()) {
            (Some(a), Some(b)) => compare(op.trim_start_matches("String"), a.cmp(b)),
            _ => false,
        },
        "StringMatches" => match (v.as_str(), operand.as_str()) {
            (Some(a), Some(p)) => glob(a, p),
            _ => false,
        },
        "NumericEquals" | "NumericLessThan" | "NumericGreaterThan" | "NumericLessThanEquals" | "NumericGreaterThanEquals" => match (v.as_f64(), operand.as_f64()) {
            (Some(a), Some(b)) => a.partial_cmp(&b).is_some_and(|o| compare(op.trim_start_matches("Numeric"), o)),
            _ => false,
        },
        "TimestampEquals" | "TimestampLessThan" | "TimestampGreaterThan" | "TimestampLessThanEquals" | "TimestampGreaterThanEquals" => {
            match (v.as_str().and_then(nimbus_core::time::parse_iso8601), operand.as_str().and_then(nimbus_core::time::parse_iso8601)) {
                (Some(a), Some(b)) => compare(op.trim_start_matches("Timestamp"), a.cmp(&b)),
                _ => false,
            }
        }
        other => return Err(AslError::runtime(format!("Unknown Choice comparison: {other}"))),
    };
    Ok(result)
}

fn compare(op: &str, o: std::cmp::Ordering) -> bool {
    use std::cmp::Ordering::*;
    match op {
        "Equals" => o == Equal,
        "LessThan" => o == Less,
        "GreaterThan" => o == Greater,
        "LessThanEquals" => o != Greater,
        "GreaterThanEquals" => o != Less,
        _ => false,
    }
}

fn glob(s: &str, p: &str) -> bool {
    fn rec(s: &[char], p: &[char]) -> bool {
        match p.first() {
            None => s.is_empty(),
            Some('*') => (0..=s.len()).any(|i| rec(&s[i..], &p[1..])),
            Some('\\') if p.len() > 1 => s.first() == Some(&p[1]) && rec(&s[1..], &p[2..]),
            Some(c) => s.first() == Some(c) && rec(&s[1..], &p[1..]),
        }
    }
    rec(&s.chars().collect::<Vec<_>>(), &p.chars().collect::<Vec<_>>())
}
