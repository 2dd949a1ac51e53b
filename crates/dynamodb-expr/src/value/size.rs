//! Sizes as AWS counts them toward the 400 KB item limit, and the order of key values.

use super::{AttributeValue, Item};
use std::cmp::Ordering;

/// Size of a value (its attribute name not included): strings their UTF-8 bytes,
/// numbers about one byte per two significant digits plus one, binary its bytes,
/// BOOL and NULL one byte, sets the sum of their members, lists and maps three bytes
/// plus one byte per element plus the elements (and, for maps, the element names).
pub(super) fn value_size(v: &AttributeValue) -> usize {
    match v {
        AttributeValue::S(s) => s.len(),
        AttributeValue::N(n) => n.size(),
        AttributeValue::B(b) => b.len(),
        AttributeValue::Bool(_) | AttributeValue::Null => 1,
        AttributeValue::SS(s) => s.iter().map(String::len).sum(),
        AttributeValue::NS(s) => s.iter().map(|n| n.size()).sum(),
        AttributeValue::BS(s) => s.iter().map(Vec::len).sum(),
        AttributeValue::L(l) => 3 + l.iter().map(|e| 1 + value_size(e)).sum::<usize>(),
        AttributeValue::M(m) => 3 + m.iter().map(|(k, e)| 1 + k.len() + value_size(e)).sum::<usize>(),
    }
}

pub(super) fn item_size(item: &Item) -> usize {
    item.iter().map(|(k, v)| k.len() + value_size(v)).sum()
}

pub(super) fn key_cmp(a: &AttributeValue, b: &AttributeValue) -> Option<Ordering> {
    match (a, b) {
        (AttributeValue::S(x), AttributeValue::S(y)) => Some(x.as_bytes().cmp(y.as_bytes())),
        (AttributeValue::N(x), AttributeValue::N(y)) => Some(x.cmp_value(y)),
        (AttributeValue::B(x), AttributeValue::B(y)) => Some(x.cmp(y)),
        _ => None,
    }
}
