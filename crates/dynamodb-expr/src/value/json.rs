//! DynamoDB JSON: reading attribute values and items from the wire form
//! (`{"S": "x"}`, `{"N": "1"}`, `{"B": "<base64>"}`, …) with AWS's validation and
//! messages, and writing them back.

use super::{AttributeValue, Item, Number, ValueError};
use base64::Engine;
use serde_json::{Map, Value};
use std::collections::BTreeMap;

const TYPE_KEYS: [&str; 10] = ["S", "N", "B", "BOOL", "NULL", "M", "L", "SS", "NS", "BS"];

fn invalid(msg: &str) -> ValueError {
    ValueError(format!("One or more parameter values were invalid: {msg}"))
}

fn empty() -> ValueError {
    ValueError("Supplied AttributeValue is empty, must contain exactly one of the supported datatypes".into())
}

/// Deepest nesting of maps and lists: a top-level attribute is level 1, a value inside
/// a map or list one level below its parent; a value at level 33 is refused.
/// <https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/Constraints.html#limits-attributes-nested-depth>
pub const MAX_NESTING_LEVELS: usize = 32;

pub(super) fn from_json(v: &Value) -> Result<AttributeValue, ValueError> {
    value_at(v, 1)
}

/// The value at nesting `level` (recursion is bounded by the level check, not by the input).
fn value_at(v: &Value, level: usize) -> Result<AttributeValue, ValueError> {
    if level > MAX_NESTING_LEVELS {
        return Err(ValueError(
            "Nesting Levels have exceeded supported limits: Attributes in the item have nested levels beyond supported limit".into(),
        ));
    }
    let Value::Object(obj) = v else { return Err(empty()) };
    let mut present = obj.iter().filter(|(k, v)| TYPE_KEYS.contains(&k.as_str()) && !v.is_null());
    let Some((key, body)) = present.next() else { return Err(empty()) };
    if present.next().is_some() {
        return Err(ValueError(
            "Supplied AttributeValue has more than one datatypes set, must contain exactly one of the supported datatypes".into(),
        ));
    }
    let wrong = || ValueError(format!("Unexpected value for type {key}: {body}"));
    match key.as_str() {
        "S" => body.as_str().map(|s| AttributeValue::S(s.to_string())).ok_or_else(wrong),
        "N" => Number::parse(body.as_str().ok_or_else(wrong)?).map(AttributeValue::N),
        "B" => decode_binary(body.as_str().ok_or_else(wrong)?).map(AttributeValue::B),
        "BOOL" => body.as_bool().map(AttributeValue::Bool).ok_or_else(wrong),
        "NULL" => match body.as_bool() {
            Some(true) => Ok(AttributeValue::Null),
            Some(false) => Err(invalid("Null attribute value types must have the value of true")),
            None => Err(wrong()),
        },
        "M" => {
            let Value::Object(m) = body else { return Err(wrong()) };
            map_at(m, level + 1).map(AttributeValue::M)
        }
        "L" => {
            let Value::Array(items) = body else { return Err(wrong()) };
            items.iter().map(|i| value_at(i, level + 1)).collect::<Result<Vec<_>, _>>().map(AttributeValue::L)
        }
        "SS" => {
            let texts = strings(body).ok_or_else(wrong)?;
            check_set(&texts, &texts, "string")?;
            Ok(AttributeValue::SS(texts))
        }
        "NS" => {
            let texts = strings(body).ok_or_else(wrong)?;
            let numbers = texts.iter().map(|t| Number::parse(t)).collect::<Result<Vec<_>, _>>()?;
            check_set(&numbers, &texts, "number")?;
            Ok(AttributeValue::NS(numbers))
        }
        "BS" => {
            let texts = strings(body).ok_or_else(wrong)?;
            let blobs = texts.iter().map(|t| decode_binary(t)).collect::<Result<Vec<_>, _>>()?;
            check_set(&blobs, &texts, "binary")?;
            Ok(AttributeValue::BS(blobs))
        }
        _ => Err(empty()),
    }
}

fn strings(v: &Value) -> Option<Vec<String>> {
    v.as_array()?.iter().map(|s| s.as_str().map(str::to_string)).collect()
}

fn decode_binary(text: &str) -> Result<Vec<u8>, ValueError> {
    base64::engine::general_purpose::STANDARD
        .decode(text)
        .map_err(|_| ValueError(format!("Invalid Binary value: {text} is not valid base64")))
}

/// Refuses empty sets and duplicate members (`shown` is the members as the caller wrote them).
fn check_set<T: PartialEq>(members: &[T], shown: &[String], kind: &str) -> Result<(), ValueError> {
    if members.is_empty() {
        return Err(invalid(&format!("An {kind} set  may not be empty")));
    }
    let duplicated = members.iter().enumerate().any(|(i, m)| members[..i].contains(m));
    if duplicated {
        return Err(invalid(&format!("Input collection [{}] contains duplicates.", shown.join(", "))));
    }
    Ok(())
}

/// A map's members, each at `level`.
fn map_at(m: &Map<String, Value>, level: usize) -> Result<BTreeMap<String, AttributeValue>, ValueError> {
    m.iter().map(|(k, v)| Ok((k.clone(), value_at(v, level)?))).collect()
}

pub(super) fn to_json(v: &AttributeValue) -> Value {
    let b64 = |b: &[u8]| Value::String(base64::engine::general_purpose::STANDARD.encode(b));
    let (key, body) = match v {
        AttributeValue::S(s) => ("S", Value::String(s.clone())),
        AttributeValue::N(n) => ("N", Value::String(n.to_text())),
        AttributeValue::B(b) => ("B", b64(b)),
        AttributeValue::Bool(b) => ("BOOL", Value::Bool(*b)),
        AttributeValue::Null => ("NULL", Value::Bool(true)),
        AttributeValue::M(m) => ("M", item_to_json(m)),
        AttributeValue::L(l) => ("L", Value::Array(l.iter().map(to_json).collect())),
        AttributeValue::SS(s) => ("SS", Value::Array(s.iter().cloned().map(Value::String).collect())),
        AttributeValue::NS(s) => ("NS", Value::Array(s.iter().map(|n| Value::String(n.to_text())).collect())),
        AttributeValue::BS(s) => ("BS", Value::Array(s.iter().map(|b| b64(b)).collect())),
    };
    let mut obj = Map::new();
    obj.insert(key.to_string(), body);
    Value::Object(obj)
}

pub(super) fn item_from_json(v: &Value) -> Result<Item, ValueError> {
    match v {
        Value::Object(m) => map_at(m, 1),
        _ => Err(ValueError("Item must be a map of attribute names to attribute values".into())),
    }
}

pub(super) fn item_to_json(item: &Item) -> Value {
    Value::Object(item.iter().map(|(k, v)| (k.clone(), to_json(v))).collect())
}
