//! Attribute values. SKELETON: signatures are the contract; bodies are to be written.

use std::cmp::Ordering;
use std::collections::BTreeMap;

/// An item: attribute name → value.
pub type Item = BTreeMap<String, AttributeValue>;

/// An exact decimal with up to 38 significant digits, magnitude 1e-130 to 9.99…e125
/// (AWS's limits), kept normalised (no leading/trailing zeros in the digits).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Number {
    /// true for negative numbers (zero is never negative).
    pub negative: bool,
    /// Significant digits, most significant first, no leading or trailing zeros; empty
    /// for zero.
    pub digits: Vec<u8>,
    /// The value is 0.d1d2d3… × 10^exponent.
    pub exponent: i32,
}

#[derive(Debug, Clone, PartialEq)]
pub enum AttributeValue {
    S(String),
    N(Number),
    B(Vec<u8>),
    Bool(bool),
    Null,
    M(BTreeMap<String, AttributeValue>),
    L(Vec<AttributeValue>),
    SS(Vec<String>),
    NS(Vec<Number>),
    BS(Vec<Vec<u8>>),
}

/// A value AWS refuses, with the ValidationException message AWS gives.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct ValueError(pub String);

impl Number {
    /// Parses DynamoDB's number text ("1", "-0.50", "1E+3", "  7"?): AWS's rules and
    /// messages ("The parameter cannot be converted to a numeric value: x",
    /// "Number overflow. Attempting to store a number with magnitude larger than
    /// supported range", "Attempting to store more than 38 significant digits in a Number", …).
    pub fn parse(_text: &str) -> Result<Number, ValueError> {
        todo!()
    }
    /// AWS's canonical text: no exponent notation unless needed? — as DynamoDB returns it.
    pub fn to_text(&self) -> String {
        todo!()
    }
    /// Exact sum and difference (errors on overflow or more than 38 digits).
    pub fn add(&self, _other: &Number) -> Result<Number, ValueError> {
        todo!()
    }
    pub fn sub(&self, _other: &Number) -> Result<Number, ValueError> {
        todo!()
    }
    pub fn cmp_value(&self, _other: &Number) -> Ordering {
        todo!()
    }
}

impl AttributeValue {
    /// From DynamoDB JSON (`{"S": "x"}`, `{"N": "1"}`, `{"B": "<base64>"}`, …), validating as
    /// AWS does (exactly one type key, empty sets, duplicate set members, bad numbers).
    pub fn from_json(_v: &serde_json::Value) -> Result<AttributeValue, ValueError> {
        todo!()
    }
    pub fn to_json(&self) -> serde_json::Value {
        todo!()
    }
    /// "S", "N", "B", "BOOL", "NULL", "M", "L", "SS", "NS", "BS".
    pub fn type_name(&self) -> &'static str {
        todo!()
    }
    /// Size in bytes as AWS counts it toward the 400 KB item limit (value part only).
    pub fn size(&self) -> usize {
        todo!()
    }
    /// Order of key values of the same scalar type (S: UTF-8 bytes; N: numeric; B:
    /// unsigned bytes); `None` for different types or non-scalar values.
    pub fn key_cmp(&self, _other: &AttributeValue) -> Option<Ordering> {
        todo!()
    }
}

/// Item size: for each attribute, name bytes + value size.
pub fn item_size(_item: &Item) -> usize {
    todo!()
}

/// Items from a DynamoDB JSON map.
pub fn item_from_json(_v: &serde_json::Value) -> Result<Item, ValueError> {
    todo!()
}

pub fn item_to_json(_item: &Item) -> serde_json::Value {
    todo!()
}
