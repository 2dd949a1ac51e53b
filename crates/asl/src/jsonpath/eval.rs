//! Evaluates a parsed `Path` against a document, as Jayway JsonPath (which AWS runs) does:
//! a definite path yields one value or fails with Jayway's "No results for path" family of
//! messages; an indefinite path yields an array of every match (possibly empty), skipping
//! what is missing.

use super::{render_segments, segments_definite, CompareOp, Filter, Function, Operand, Path, Segment, Selector};
use serde_json::{Map, Number, Value};

/// Why a definite path selected nothing, in Jayway's words.
#[derive(Debug, Clone, PartialEq)]
pub struct Missing(pub String);

/// Evaluates `path`'s segments and function against `root`.
pub fn evaluate(path: &Path, root: &Value) -> Result<Value, Missing> {
    evaluate_segments(&path.segments, path.function, root, root)
}

fn evaluate_segments(
    segments: &[Segment],
    function: Option<Function>,
    node: &Value,
    doc_root: &Value,
) -> Result<Value, Missing> {
    let value = if segments_definite(segments) {
        definite(segments, node)?
    } else {
        Value::Array(indefinite(segments, node, doc_root).into_iter().cloned().collect())
    };
    match function {
        None => Ok(value),
        Some(f) => apply_function(f, &value).ok_or_else(|| {
            Missing("Aggregation function attempted to calculate value using empty array".to_string())
        }),
    }
}

/// Walks a definite path, failing with Jayway's message at the first gap.
fn definite(segments: &[Segment], root: &Value) -> Result<Value, Missing> {
    let mut current = root;
    let last = segments.len().saturating_sub(1);
    for (i, segment) in segments.iter().enumerate() {
        let here = || render_segments(&segments[..i]);
        let Segment::Child(selector) = segment else { unreachable_definite() };
        match selector {
            Selector::Name(name) => {
                let Value::Object(map) = current else {
                    return Err(not_an_object(&format!("['{name}']"), &here(), current));
                };
                match map.get(name) {
                    Some(next) => current = next,
                    None if i == last => {
                        return Err(Missing(format!("No results for path: {}", render_segments(segments))))
                    }
                    None => {
                        return Err(Missing(format!("Missing property in path {}", render_segments(&segments[..=i]))))
                    }
                }
            }
            Selector::Names(names) => {
                let Value::Object(map) = current else {
                    return Err(not_an_object(&render_segments(&segments[i..=i])[1..], &here(), current));
                };
                let mut merged = Map::new();
                for name in names {
                    if let Some(v) = map.get(name) {
                        merged.insert(name.clone(), v.clone());
                    }
                }
                return Ok(Value::Object(merged));
            }
            Selector::Index(index) => {
                let items = match current {
                    Value::Array(items) => items,
                    Value::Null => return Err(Missing(format!("The path {} is null", here()))),
                    other => {
                        return Err(Missing(format!(
                            "Filter: [{index}] can only be applied to arrays. Current context is: {}",
                            compact(other)
                        )))
                    }
                };
                match resolve_index(*index, items.len()).and_then(|i| items.get(i)) {
                    Some(next) => current = next,
                    None => return Err(Missing(format!("No results for path: {}", render_segments(segments)))),
                }
            }
            _ => unreachable_definite(),
        }
    }
    Ok(current.clone())
}

fn unreachable_definite() -> ! {
    unreachable!("a definite path holds only names and indexes")
}

fn not_an_object(property: &str, path: &str, found: &Value) -> Missing {
    Missing(format!(
        "Expected to find an object with property {property} in path {path} but found '{}'. \
         This is not a json object according to the JsonProvider: '{JSON_PROVIDER}'.",
        java_type(found)
    ))
}

/// Jayway's default JSON provider, named in its messages. (Which provider AWS configures is not
/// documented; this is Jayway's default.)
const JSON_PROVIDER: &str = "com.jayway.jsonpath.spi.json.JsonSmartJsonProvider";

/// The JVM type Jayway's default provider gives a value, as its messages name it.
fn java_type(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "java.lang.Boolean",
        Value::Number(n) if n.as_i64().is_some_and(|i| i32::try_from(i).is_ok()) => "java.lang.Integer",
        Value::Number(n) if n.is_i64() || n.is_u64() => "java.lang.Long",
        Value::Number(_) => "java.lang.Double",
        Value::String(_) => "java.lang.String",
        Value::Array(_) => "net.minidev.json.JSONArray",
        Value::Object(_) => "net.minidev.json.JSONObject",
    }
}

fn compact(value: &Value) -> String {
    serde_json::to_string(value).unwrap_or_default()
}

fn resolve_index(index: i64, len: usize) -> Option<usize> {
    if index >= 0 {
        usize::try_from(index).ok()
    } else {
        let back = usize::try_from(index.checked_neg()?).ok()?;
        len.checked_sub(back)
    }
}

/// Every node an indefinite path reaches, in document order; gaps are skipped.
fn indefinite<'a>(segments: &[Segment], node: &'a Value, doc_root: &'a Value) -> Vec<&'a Value> {
    let mut current = vec![node];
    for segment in segments {
        let mut next = Vec::new();
        for item in current {
            match segment {
                Segment::Child(selector) => select_children(selector, item, doc_root, &mut next),
                Segment::Descendant(selector) => scan(selector, item, doc_root, &mut next),
            }
        }
        current = next;
    }
    current
}

fn scan<'a>(selector: &Selector, node: &'a Value, doc_root: &'a Value, out: &mut Vec<&'a Value>) {
    select_children(selector, node, doc_root, out);
    match node {
        Value::Object(map) => map.values().for_each(|child| scan(selector, child, doc_root, out)),
        Value::Array(items) => items.iter().for_each(|child| scan(selector, child, doc_root, out)),
        _ => {}
    }
}

fn select_children<'a>(selector: &Selector, node: &'a Value, doc_root: &'a Value, out: &mut Vec<&'a Value>) {
    match selector {
        Selector::Name(name) => {
            if let Some(v) = node.as_object().and_then(|m| m.get(name)) {
                out.push(v);
            }
        }
        Selector::Names(names) => {
            if let Value::Object(map) = node {
                out.extend(names.iter().filter_map(|n| map.get(n)));
            }
        }
        Selector::Wildcard => match node {
            Value::Object(map) => out.extend(map.values()),
            Value::Array(items) => out.extend(items.iter()),
            _ => {}
        },
        Selector::Index(index) => {
            if let Value::Array(items) = node {
                if let Some(v) = resolve_index(*index, items.len()).and_then(|i| items.get(i)) {
                    out.push(v);
                }
            }
        }
        Selector::Indexes(list) => {
            if let Value::Array(items) = node {
                for index in list {
                    if let Some(v) = resolve_index(*index, items.len()).and_then(|i| items.get(i)) {
                        out.push(v);
                    }
                }
            }
        }
        Selector::Slice(start, end, step) => {
            if let Value::Array(items) = node {
                for i in slice_indexes(items.len(), *start, *end, step.unwrap_or(1)) {
                    out.push(&items[i]);
                }
            }
        }
        Selector::Filter(filter) => match node {
            Value::Array(items) => out.extend(items.iter().filter(|item| test(filter, item, doc_root))),
            Value::Object(_) if test(filter, node, doc_root) => out.push(node),
            _ => {}
        },
    }
}

/// Python-style slice bounds (`[1:3]`, `[-2:]`, `[::2]`, `[::-1]`).
fn slice_indexes(len: usize, start: Option<i64>, end: Option<i64>, step: i64) -> Vec<usize> {
    let len = len as i64;
    let clamp = |v: i64, lo: i64, hi: i64| v.max(lo).min(hi);
    let norm = |v: i64| if v < 0 { v + len } else { v };
    let mut out = Vec::new();
    if step > 0 {
        let s = clamp(start.map(norm).unwrap_or(0), 0, len);
        let e = clamp(end.map(norm).unwrap_or(len), 0, len);
        let mut i = s;
        while i < e {
            out.push(i as usize);
            i = i.saturating_add(step);
        }
    } else {
        let s = clamp(start.map(norm).unwrap_or(len - 1), -1, len - 1);
        let e = clamp(end.map(norm).unwrap_or(-1), -1, len - 1);
        let mut i = s;
        while i > e {
            out.push(i as usize);
            i = i.saturating_add(step);
        }
    }
    out
}

fn test(filter: &Filter, item: &Value, doc_root: &Value) -> bool {
    match filter {
        Filter::Or(a, b) => test(a, item, doc_root) || test(b, item, doc_root),
        Filter::And(a, b) => test(a, item, doc_root) && test(b, item, doc_root),
        Filter::Not(inner) => !test(inner, item, doc_root),
        Filter::Exists(operand) => match operand_value(operand, item, doc_root) {
            None => false,
            Some(Value::Array(items)) if operand_is_indefinite(operand) => !items.is_empty(),
            Some(_) => true,
        },
        Filter::Compare(left, op, right) => {
            let left = operand_value(left, item, doc_root);
            let right = operand_value(right, item, doc_root);
            compare(left.as_ref(), op, right.as_ref())
        }
    }
}

fn operand_is_indefinite(operand: &Operand) -> bool {
    match operand {
        Operand::Current(segments, None) | Operand::Root(segments, None) => {
            !segments_definite(segments)
        }
        _ => false,
    }
}

fn operand_value(operand: &Operand, item: &Value, doc_root: &Value) -> Option<Value> {
    match operand {
        Operand::Literal(v) => Some(v.clone()),
        Operand::Current(segments, function) => evaluate_segments(segments, *function, item, doc_root).ok(),
        Operand::Root(segments, function) => evaluate_segments(segments, *function, doc_root, doc_root).ok(),
    }
}

fn compare(left: Option<&Value>, op: &CompareOp, right: Option<&Value>) -> bool {
    let Some(left) = left else {
        return matches!(op, CompareOp::Ne) && right.is_some();
    };
    if let CompareOp::Regex(re) = op {
        return left.as_str().is_some_and(|s| re.is_match(s));
    }
    let Some(right) = right else { return matches!(op, CompareOp::Ne) };
    match op {
        CompareOp::Eq => json_eq(left, right),
        CompareOp::Ne => !json_eq(left, right),
        CompareOp::Lt => order(left, right).is_some_and(|o| o.is_lt()),
        CompareOp::Le => order(left, right).is_some_and(|o| o.is_le()),
        CompareOp::Gt => order(left, right).is_some_and(|o| o.is_gt()),
        CompareOp::Ge => order(left, right).is_some_and(|o| o.is_ge()),
        CompareOp::In => right.as_array().is_some_and(|r| r.iter().any(|v| json_eq(v, left))),
        CompareOp::Nin => right.as_array().is_some_and(|r| !r.iter().any(|v| json_eq(v, left))),
        CompareOp::SubsetOf => match (left.as_array(), right.as_array()) {
            (Some(l), Some(r)) => l.iter().all(|v| r.iter().any(|w| json_eq(v, w))),
            _ => false,
        },
        CompareOp::AnyOf => match (left.as_array(), right.as_array()) {
            (Some(l), Some(r)) => l.iter().any(|v| r.iter().any(|w| json_eq(v, w))),
            _ => false,
        },
        CompareOp::NoneOf => match (left.as_array(), right.as_array()) {
            (Some(l), Some(r)) => !l.iter().any(|v| r.iter().any(|w| json_eq(v, w))),
            _ => false,
        },
        CompareOp::Size => {
            let len = match left {
                Value::Array(a) => a.len(),
                Value::String(s) => s.chars().count(),
                _ => return false,
            };
            right.as_f64().is_some_and(|n| n == len as f64)
        }
        CompareOp::Empty => {
            let empty = match left {
                Value::Array(a) => a.is_empty(),
                Value::String(s) => s.is_empty(),
                _ => return false,
            };
            right.as_bool() == Some(empty)
        }
        CompareOp::Regex(_) => false,
    }
}

/// JSON equality with numbers compared by value (`1 == 1.0`).
pub fn json_eq(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => number_eq(x, y),
        (Value::Array(x), Value::Array(y)) => x.len() == y.len() && x.iter().zip(y).all(|(a, b)| json_eq(a, b)),
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len() && x.iter().all(|(k, v)| y.get(k).is_some_and(|w| json_eq(v, w)))
        }
        _ => a == b,
    }
}

fn number_eq(x: &Number, y: &Number) -> bool {
    match (x.as_i64(), y.as_i64()) {
        (Some(a), Some(b)) => a == b,
        _ => x.as_f64() == y.as_f64(),
    }
}

fn order(a: &Value, b: &Value) -> Option<std::cmp::Ordering> {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => x.as_f64()?.partial_cmp(&y.as_f64()?),
        (Value::String(x), Value::String(y)) => Some(x.cmp(y)),
        _ => None,
    }
}

fn apply_function(function: Function, value: &Value) -> Option<Value> {
    let numbers = || -> Vec<f64> {
        value.as_array().map(|items| items.iter().filter_map(Value::as_f64).collect()).unwrap_or_default()
    };
    let float = |f: f64| Number::from_f64(f).map(Value::Number);
    match function {
        Function::Length => match value {
            Value::Array(a) => Some(Value::from(a.len())),
            Value::Object(m) => Some(Value::from(m.len())),
            Value::String(s) => Some(Value::from(s.chars().count())),
            _ => None,
        },
        Function::Min => numbers().into_iter().reduce(f64::min).and_then(float),
        Function::Max => numbers().into_iter().reduce(f64::max).and_then(float),
        Function::Sum => {
            let n = numbers();
            if n.is_empty() { None } else { float(n.iter().sum()) }
        }
        Function::Avg => {
            let n = numbers();
            if n.is_empty() { None } else { float(n.iter().sum::<f64>() / n.len() as f64) }
        }
        Function::Stddev => {
            let n = numbers();
            if n.is_empty() {
                return None;
            }
            let mean = n.iter().sum::<f64>() / n.len() as f64;
            let variance = n.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / n.len() as f64;
            float(variance.sqrt())
        }
        Function::First => value.as_array().and_then(|a| a.first()).cloned(),
        Function::Last => value.as_array().and_then(|a| a.last()).cloned(),
        Function::Keys => value.as_object().map(|m| Value::Array(m.keys().cloned().map(Value::String).collect())),
    }
}
