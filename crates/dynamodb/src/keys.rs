//! Key values and their order: the ordered key types the in-memory table and index maps
//! are keyed by, their durable byte form, and the validation AWS applies to key
//! attributes (types, empty values, size limits).

use crate::errors::{DdbError, DdbResult};
use nimbus_dynamodb_expr::{AttributeValue, Item};
use std::cmp::Ordering;

pub const MAX_PARTITION_KEY_BYTES: usize = 2048;
pub const MAX_SORT_KEY_BYTES: usize = 1024;

/// A key attribute's scalar type.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum KeyType {
    S,
    N,
    B,
}

impl KeyType {
    pub fn parse(s: &str) -> Option<KeyType> {
        match s {
            "S" => Some(KeyType::S),
            "N" => Some(KeyType::N),
            "B" => Some(KeyType::B),
            _ => None,
        }
    }
    pub fn as_str(self) -> &'static str {
        match self {
            KeyType::S => "S",
            KeyType::N => "N",
            KeyType::B => "B",
        }
    }
    pub fn matches(self, v: &AttributeValue) -> bool {
        matches!((self, v), (KeyType::S, AttributeValue::S(_)) | (KeyType::N, AttributeValue::N(_)) | (KeyType::B, AttributeValue::B(_)))
    }
}

/// A sort-key value ordered as DynamoDB orders it (S by UTF-8 bytes, N numerically, B
/// by unsigned bytes). Values in one map always share a type (the schema enforces it).
#[derive(Debug, Clone)]
pub struct KeyVal(pub AttributeValue);

fn type_rank(v: &AttributeValue) -> u8 {
    match v {
        AttributeValue::S(_) => 0,
        AttributeValue::N(_) => 1,
        AttributeValue::B(_) => 2,
        _ => 3,
    }
}

impl Ord for KeyVal {
    fn cmp(&self, other: &Self) -> Ordering {
        self.0.key_cmp(&other.0).unwrap_or_else(|| type_rank(&self.0).cmp(&type_rank(&other.0)))
    }
}
impl PartialOrd for KeyVal {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl PartialEq for KeyVal {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}
impl Eq for KeyVal {}

/// A partition value's identity as bytes: type tag, then the UTF-8 text, the canonical
/// number text, or the raw bytes.
pub fn encode_partition(v: &AttributeValue) -> Vec<u8> {
    let mut out = Vec::new();
    match v {
        AttributeValue::S(s) => {
            out.push(b'S');
            out.extend_from_slice(s.as_bytes());
        }
        AttributeValue::N(n) => {
            out.push(b'N');
            out.extend_from_slice(n.to_text().as_bytes());
        }
        AttributeValue::B(b) => {
            out.push(b'B');
            out.extend_from_slice(b);
        }
        other => {
            out.push(b'?');
            out.extend_from_slice(other.to_json().to_string().as_bytes());
        }
    }
    out
}

/// A key in one view's order: partition bytes, then the sort value.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct PKey {
    pub pk: Vec<u8>,
    pub sk: Option<KeyVal>,
}

impl PKey {
    pub fn new(pk: &AttributeValue, sk: Option<&AttributeValue>) -> PKey {
        PKey { pk: encode_partition(pk), sk: sk.map(|v| KeyVal(v.clone())) }
    }
    /// The durable form: length-prefixed partition bytes, then the sort value's bytes.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = (self.pk.len() as u32).to_be_bytes().to_vec();
        out.extend_from_slice(&self.pk);
        if let Some(sk) = &self.sk {
            out.extend_from_slice(&encode_partition(&sk.0));
        }
        out
    }
}

/// A position in a view (the table itself or one index). Index entries carry the
/// table key too, since index keys need not be unique.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct VKey {
    pub key: PKey,
    pub table: Option<PKey>,
}

impl VKey {
    /// The first possible position of a partition.
    pub fn partition_start(pk: &[u8]) -> VKey {
        VKey { key: PKey { pk: pk.to_vec(), sk: None }, table: None }
    }
    /// The first position after every key of a partition.
    pub fn partition_end(pk: &[u8]) -> VKey {
        let mut next = pk.to_vec();
        next.push(0);
        VKey { key: PKey { pk: next, sk: None }, table: None }
    }
}

/// The key attributes of a view: partition name and type, optional sort name and type.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct KeySchema {
    pub hash: (String, KeyType),
    pub range: Option<(String, KeyType)>,
}

impl KeySchema {
    pub fn names(&self) -> Vec<&str> {
        let mut v = vec![self.hash.0.as_str()];
        if let Some((r, _)) = &self.range {
            v.push(r.as_str());
        }
        v
    }

    /// The view key of an item, or None when the item lacks a key attribute (sparse
    /// indexes) or has one of another type.
    pub fn key_of(&self, item: &Item) -> Option<PKey> {
        let h = item.get(&self.hash.0).filter(|v| self.hash.1.matches(v))?;
        let r = match &self.range {
            Some((name, t)) => Some(item.get(name).filter(|v| t.matches(v))?),
            None => None,
        };
        Some(PKey::new(h, r))
    }

    /// The key attributes of an item, as a map.
    pub fn key_item(&self, item: &Item) -> Item {
        self.names().into_iter().filter_map(|n| item.get(n).map(|v| (n.to_string(), v.clone()))).collect()
    }

    /// Checks the key attributes of a whole item being written (PutItem and friends).
    pub fn validate_item_keys(&self, item: &Item) -> DdbResult<()> {
        for (name, t) in std::iter::once(&self.hash).chain(self.range.iter()) {
            let v = item
                .get(name)
                .ok_or_else(|| DdbError::validation(format!("One or more parameter values were invalid: Missing the key {name} in the item")))?;
            check_key_value(name, *t, v)?;
        }
        self.check_sizes(item)
    }

    /// Checks a request's Key: exactly the key attributes with the right types.
    pub fn validate_key(&self, key: &Item) -> DdbResult<PKey> {
        let mismatch = || DdbError::validation("The provided key element does not match the schema");
        if key.len() != self.names().len() {
            return Err(mismatch());
        }
        for (name, t) in std::iter::once(&self.hash).chain(self.range.iter()) {
            let v = key.get(name).ok_or_else(mismatch)?;
            if !t.matches(v) {
                return Err(mismatch());
            }
            if is_empty_scalar(v) {
                return Err(DdbError::validation(format!(
                    "One or more parameter values are not valid. The AttributeValue for a key attribute cannot contain an empty {} value. Key: {name}",
                    empty_kind(v)
                )));
            }
        }
        self.check_sizes(key)?;
        self.key_of(key).ok_or_else(mismatch)
    }

    /// Do the item's values for these key attributes make a valid key (present, of the
    /// declared type, not empty, within the size limits)? A GSI backfill skips items
    /// for which they do not.
    pub fn valid_key_values(&self, item: &Item) -> bool {
        self.key_of(item).is_some()
            && self.names().iter().all(|n| item.get(*n).is_some_and(|v| !is_empty_scalar(v)))
            && self.check_sizes(item).is_ok()
    }

    pub fn check_sizes(&self, item: &Item) -> DdbResult<()> {
        if let Some(v) = item.get(&self.hash.0) {
            if scalar_len(v) > MAX_PARTITION_KEY_BYTES {
                return Err(DdbError::validation(format!(
                    "One or more parameter values were invalid: Size of hashkey has exceeded the maximum size limit of {MAX_PARTITION_KEY_BYTES} bytes"
                )));
            }
        }
        if let Some((name, _)) = &self.range {
            if let Some(v) = item.get(name) {
                if scalar_len(v) > MAX_SORT_KEY_BYTES {
                    return Err(DdbError::validation(format!(
                        "One or more parameter values were invalid: Aggregated size of all range keys has exceeded the size limit of {MAX_SORT_KEY_BYTES} bytes"
                    )));
                }
            }
        }
        Ok(())
    }
}

fn check_key_value(name: &str, t: KeyType, v: &AttributeValue) -> DdbResult<()> {
    if !t.matches(v) {
        return Err(DdbError::validation(format!(
            "One or more parameter values were invalid: Type mismatch for key {name} expected: {} actual: {}",
            t.as_str(),
            v.type_name()
        )));
    }
    if is_empty_scalar(v) {
        return Err(DdbError::validation(format!(
            "One or more parameter values are not valid. The AttributeValue for a key attribute cannot contain an empty {} value. Key: {name}",
            empty_kind(v)
        )));
    }
    Ok(())
}

pub fn is_empty_scalar(v: &AttributeValue) -> bool {
    matches!(v, AttributeValue::S(s) if s.is_empty()) || matches!(v, AttributeValue::B(b) if b.is_empty())
}

fn empty_kind(v: &AttributeValue) -> &'static str {
    if matches!(v, AttributeValue::B(_)) {
        "binary"
    } else {
        "string"
    }
}

fn scalar_len(v: &AttributeValue) -> usize {
    match v {
        AttributeValue::S(s) => s.len(),
        AttributeValue::B(b) => b.len(),
        other => other.size(),
    }
}
