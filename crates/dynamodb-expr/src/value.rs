//! Attribute values: the `AttributeValue` and `Number` types and their public
//! operations. The work lives in the submodules: `number` (exact decimals), `json`
//! (DynamoDB JSON and validation), `size` (item size, key order), `equality`.

mod equality;
mod json;
mod number;
mod size;

pub use number::MAX_DIGITS;

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
    pub fn parse(text: &str) -> Result<Number, ValueError> {
        number::parse(text)
    }
    /// AWS's canonical text: no exponent notation unless needed? — as DynamoDB returns it.
    pub fn to_text(&self) -> String {
        number::to_text(self)
    }
    /// Exact sum and difference (errors on overflow or more than 38 digits).
    pub fn add(&self, other: &Number) -> Result<Number, ValueError> {
        number::add(self, other)
    }
    pub fn sub(&self, other: &Number) -> Result<Number, ValueError> {
        number::add(self, &other.negated())
    }
    pub fn cmp_value(&self, other: &Number) -> Ordering {
        number::cmp(self, other)
    }
}

impl AttributeValue {
    /// From DynamoDB JSON (`{"S": "x"}`, `{"N": "1"}`, `{"B": "<base64>"}`, …), validating as
    /// AWS does (exactly one type key, empty sets, duplicate set members, bad numbers).
    pub fn from_json(v: &serde_json::Value) -> Result<AttributeValue, ValueError> {
        json::from_json(v)
    }
    pub fn to_json(&self) -> serde_json::Value {
        json::to_json(self)
    }
    /// Equality as expressions see it: numbers by value, sets in any order.
    pub fn same_value(&self, other: &AttributeValue) -> bool {
        equality::same_value(self, other)
    }
    /// "S", "N", "B", "BOOL", "NULL", "M", "L", "SS", "NS", "BS".
    pub fn type_name(&self) -> &'static str {
        match self {
            AttributeValue::S(_) => "S",
            AttributeValue::N(_) => "N",
            AttributeValue::B(_) => "B",
            AttributeValue::Bool(_) => "BOOL",
            AttributeValue::Null => "NULL",
            AttributeValue::M(_) => "M",
            AttributeValue::L(_) => "L",
            AttributeValue::SS(_) => "SS",
            AttributeValue::NS(_) => "NS",
            AttributeValue::BS(_) => "BS",
        }
    }
    /// Size in bytes as AWS counts it toward the 400 KB item limit (value part only).
    pub fn size(&self) -> usize {
        size::value_size(self)
    }
    /// Order of key values of the same scalar type (S: UTF-8 bytes; N: numeric; B:
    /// unsigned bytes); `None` for different types or non-scalar values.
    pub fn key_cmp(&self, other: &AttributeValue) -> Option<Ordering> {
        size::key_cmp(self, other)
    }
}

/// Item size: for each attribute, name bytes + value size.
pub fn item_size(item: &Item) -> usize {
    size::item_size(item)
}

/// Items from a DynamoDB JSON map.
pub fn item_from_json(v: &serde_json::Value) -> Result<Item, ValueError> {
    json::item_from_json(v)
}

pub fn item_to_json(item: &Item) -> serde_json::Value {
    json::item_to_json(item)
}
