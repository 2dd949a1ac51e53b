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

/// The identity of a partition key made of one or more values (in key-schema order).
/// One value is `encode_partition` of it, byte for byte as before multi-attribute keys
/// (table keys are stored in this form); several are each length-prefixed, so no two
/// lists of values share an encoding. One view only ever holds one of the two forms.
pub fn encode_values(values: &[&AttributeValue]) -> Vec<u8> {
    match values {
        [one] => encode_partition(one),
        many => {
            let mut out = Vec::new();
            for v in many {
                let e = encode_partition(v);
                out.extend_from_slice(&(e.len() as u32).to_be_bytes());
                out.extend_from_slice(&e);
            }
            out
        }
    }
}

/// A key in one view's order: partition bytes, then the sort values compared one after
/// another (none for a view without a sort key; an empty list sorts before every key of
/// its partition).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct PKey {
    pub pk: Vec<u8>,
    pub sk: Vec<KeyVal>,
}

impl PKey {
    pub fn new(pk: &[&AttributeValue], sk: &[&AttributeValue]) -> PKey {
        PKey { pk: encode_values(pk), sk: sk.iter().map(|v| KeyVal((*v).clone())).collect() }
    }
    /// The durable form: length-prefixed partition bytes, then the sort values' bytes
    /// (`encode_values`), the same bytes as before for one sort value or none.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = (self.pk.len() as u32).to_be_bytes().to_vec();
        out.extend_from_slice(&self.pk);
        if !self.sk.is_empty() {
            let values: Vec<&AttributeValue> = self.sk.iter().map(|k| &k.0).collect();
            out.extend_from_slice(&encode_values(&values));
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
        VKey { key: PKey { pk: pk.to_vec(), sk: Vec::new() }, table: None }
    }
    /// The first position after every key of a partition.
    pub fn partition_end(pk: &[u8]) -> VKey {
        let mut next = pk.to_vec();
        next.push(0);
        VKey { key: PKey { pk: next, sk: Vec::new() }, table: None }
    }
}

/// The most attributes a key part (partition or sort) of a global secondary index may
/// have (<https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/GSI.html#GSI.MultiAttributeKeys>).
pub const MAX_KEY_PART_ATTRIBUTES: usize = 4;

/// The key attributes of a view: the partition key's attributes (one for tables and
/// local indexes, up to four for a global index) and the sort key's (none or one for
/// tables and local indexes, up to four for a global index), each in key-schema order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeySchema {
    pub hash: Vec<(String, KeyType)>,
    pub range: Vec<(String, KeyType)>,
}

/// A key part as stored: one attribute as a pair (the form every definition had before
/// multi-attribute keys, still written for one), several as a list of pairs.
#[derive(serde::Serialize, serde::Deserialize)]
#[serde(untagged)]
enum StoredPart {
    One((String, KeyType)),
    Many(Vec<(String, KeyType)>),
}

impl StoredPart {
    fn of(part: &[(String, KeyType)]) -> Option<StoredPart> {
        match part {
            [] => None,
            [one] => Some(StoredPart::One(one.clone())),
            many => Some(StoredPart::Many(many.to_vec())),
        }
    }
    fn into_vec(self) -> Vec<(String, KeyType)> {
        match self {
            StoredPart::One(one) => vec![one],
            StoredPart::Many(many) => many,
        }
    }
}

#[derive(serde::Serialize, serde::Deserialize)]
struct StoredKeySchema {
    hash: StoredPart,
    range: Option<StoredPart>,
}

impl serde::Serialize for KeySchema {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let hash = StoredPart::of(&self.hash).unwrap_or(StoredPart::Many(Vec::new()));
        StoredKeySchema { hash, range: StoredPart::of(&self.range) }.serialize(s)
    }
}

impl<'de> serde::Deserialize<'de> for KeySchema {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let stored = StoredKeySchema::deserialize(d)?;
        Ok(KeySchema { hash: stored.hash.into_vec(), range: stored.range.map(StoredPart::into_vec).unwrap_or_default() })
    }
}

impl KeySchema {
    /// A table's (or local index's) key: one partition attribute, at most one sort one.
    pub fn simple(hash: (String, KeyType), range: Option<(String, KeyType)>) -> KeySchema {
        KeySchema { hash: vec![hash], range: range.into_iter().collect() }
    }

    /// Every key attribute: the partition key's, then the sort key's.
    pub fn attributes(&self) -> impl Iterator<Item = &(String, KeyType)> {
        self.hash.iter().chain(self.range.iter())
    }

    pub fn names(&self) -> Vec<&str> {
        self.attributes().map(|(n, _)| n.as_str()).collect()
    }

    pub fn hash_names(&self) -> Vec<&str> {
        self.hash.iter().map(|(n, _)| n.as_str()).collect()
    }

    pub fn range_names(&self) -> Vec<&str> {
        self.range.iter().map(|(n, _)| n.as_str()).collect()
    }

    /// The first partition key attribute: a table's only one.
    pub fn first_hash(&self) -> &str {
        self.hash.first().map(|(n, _)| n.as_str()).unwrap_or_default()
    }

    /// The view key of an item, or None when the item lacks a key attribute (sparse
    /// indexes: an item is in a multi-attribute index only with every one of its key
    /// attributes) or has one of another type.
    pub fn key_of(&self, item: &Item) -> Option<PKey> {
        let values = |part: &[(String, KeyType)]| -> Option<Vec<&AttributeValue>> {
            part.iter().map(|(name, t)| item.get(name).filter(|v| t.matches(v))).collect()
        };
        Some(PKey::new(&values(&self.hash)?, &values(&self.range)?))
    }

    /// The key attributes of an item, as a map.
    pub fn key_item(&self, item: &Item) -> Item {
        self.names().into_iter().filter_map(|n| item.get(n).map(|v| (n.to_string(), v.clone()))).collect()
    }

    /// Checks the key attributes of a whole item being written (PutItem and friends).
    pub fn validate_item_keys(&self, item: &Item) -> DdbResult<()> {
        for (name, t) in self.attributes() {
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
        for (name, t) in self.attributes() {
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

    /// The partition key's values may take 2,048 bytes and the sort key's 1,024, summed
    /// over the attributes of a multi-attribute key.
    pub fn check_sizes(&self, item: &Item) -> DdbResult<()> {
        let total = |part: &[(String, KeyType)]| -> usize { part.iter().filter_map(|(n, _)| item.get(n)).map(scalar_len).sum() };
        if total(&self.hash) > MAX_PARTITION_KEY_BYTES {
            return Err(DdbError::validation(format!(
                "One or more parameter values were invalid: Size of hashkey has exceeded the maximum size limit of {MAX_PARTITION_KEY_BYTES} bytes"
            )));
        }
        if total(&self.range) > MAX_SORT_KEY_BYTES {
            return Err(DdbError::validation(format!(
                "One or more parameter values were invalid: Aggregated size of all range keys has exceeded the size limit of {MAX_SORT_KEY_BYTES} bytes"
            )));
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

#[cfg(test)]
mod tests {
    use super::*;

    fn s(v: &str) -> AttributeValue {
        AttributeValue::S(v.into())
    }

    #[test]
    fn single_attribute_definitions_keep_their_stored_form() {
        let old = r#"{"hash":["pk","S"],"range":["sk","N"]}"#;
        let k: KeySchema = serde_json::from_str(old).unwrap();
        assert_eq!(k, KeySchema::simple(("pk".into(), KeyType::S), Some(("sk".into(), KeyType::N))));
        assert_eq!(serde_json::to_string(&k).unwrap(), old);
        let hash_only = r#"{"hash":["pk","S"],"range":null}"#;
        let k: KeySchema = serde_json::from_str(hash_only).unwrap();
        assert_eq!(serde_json::to_string(&k).unwrap(), hash_only);
        let multi = KeySchema { hash: vec![("a".into(), KeyType::S), ("b".into(), KeyType::N)], range: vec![("c".into(), KeyType::B)] };
        let text = serde_json::to_string(&multi).unwrap();
        assert_eq!(text, r#"{"hash":[["a","S"],["b","N"]],"range":["c","B"]}"#);
        assert_eq!(serde_json::from_str::<KeySchema>(&text).unwrap(), multi);
    }

    #[test]
    fn single_attribute_keys_keep_their_durable_bytes() {
        let k = PKey::new(&[&s("p")], &[&s("x")]);
        let mut expected = 2u32.to_be_bytes().to_vec();
        expected.extend_from_slice(b"SpSx");
        assert_eq!(k.to_bytes(), expected);
        assert_eq!(PKey::new(&[&s("p")], &[]).to_bytes(), [&2u32.to_be_bytes()[..], b"Sp"].concat());
    }

    #[test]
    fn multi_attribute_partitions_do_not_collide() {
        assert_ne!(encode_values(&[&s("ab"), &s("c")]), encode_values(&[&s("a"), &s("bc")]));
        let lo = PKey::new(&[&s("p")], &[&s("a"), &s("z")]);
        let hi = PKey::new(&[&s("p")], &[&s("b"), &s("a")]);
        assert!(lo < hi, "sort values compare one after another");
    }
}
