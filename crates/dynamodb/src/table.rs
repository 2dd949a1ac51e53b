//! One table's in-memory state: items by primary key, every secondary index as its own
//! ordered map (sparse: only items that have the index's key attributes), live counts,
//! and the TTL index (expiry second → key) the sweeper reads.

use crate::errors::{DdbError, DdbResult};
use crate::keys::{is_empty_scalar, PKey, VKey};
use crate::schema::{IndexDef, TableDef};
use nimbus_dynamodb_expr::value::item_size;
use nimbus_dynamodb_expr::{AttributeValue, Item, Number};
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Arc;

pub type View = BTreeMap<VKey, Arc<Item>>;

pub struct TableState {
    pub def: TableDef,
    pub items: View,
    pub indexes: HashMap<String, View>,
    pub index_bytes: HashMap<String, u64>,
    pub size_bytes: u64,
    /// (expiry epoch seconds, key) for items with a numeric TTL attribute.
    pub ttl: BTreeSet<(u64, PKey)>,
    pub deleted: bool,
}

impl TableState {
    pub fn new(def: TableDef) -> TableState {
        let mut st = TableState {
            indexes: def.indexes().map(|i| (i.name.clone(), View::new())).collect(),
            index_bytes: HashMap::new(),
            def,
            items: View::new(),
            size_bytes: 0,
            ttl: BTreeSet::new(),
            deleted: false,
        };
        st.index_bytes = st.indexes.keys().map(|k| (k.clone(), 0)).collect();
        st
    }

    pub fn get(&self, key: &PKey) -> Option<&Arc<Item>> {
        self.items.get(&VKey { key: key.clone(), table: None })
    }

    /// Replaces (or removes) the item at `key`, maintaining indexes, counts and the TTL
    /// index; returns the previous item.
    pub fn put(&mut self, key: &PKey, new: Option<Arc<Item>>) -> Option<Arc<Item>> {
        let vkey = VKey { key: key.clone(), table: None };
        let old = match &new {
            Some(item) => self.items.insert(vkey, item.clone()),
            None => self.items.remove(&vkey),
        };
        if let Some(o) = &old {
            self.size_bytes = self.size_bytes.saturating_sub(item_size(o) as u64);
            self.unindex(key, o);
        }
        if let Some(n) = &new {
            self.size_bytes += item_size(n) as u64;
            self.index(key, n);
        }
        old
    }

    fn index(&mut self, key: &PKey, item: &Arc<Item>) {
        let size = item_size(item) as u64;
        for idx in self.def.lsis.iter().chain(self.def.gsis.iter()) {
            if let Some(ik) = idx.key.key_of(item) {
                if let Some(view) = self.indexes.get_mut(&idx.name) {
                    view.insert(VKey { key: ik, table: Some(key.clone()) }, item.clone());
                    *self.index_bytes.entry(idx.name.clone()).or_default() += size;
                }
            }
        }
        if let Some(exp) = self.def.ttl_attribute.as_ref().and_then(|a| ttl_seconds(item.get(a))) {
            self.ttl.insert((exp, key.clone()));
        }
    }

    fn unindex(&mut self, key: &PKey, item: &Arc<Item>) {
        let size = item_size(item) as u64;
        for idx in self.def.lsis.iter().chain(self.def.gsis.iter()) {
            if let Some(ik) = idx.key.key_of(item) {
                if let Some(view) = self.indexes.get_mut(&idx.name) {
                    if view.remove(&VKey { key: ik, table: Some(key.clone()) }).is_some() {
                        let b = self.index_bytes.entry(idx.name.clone()).or_default();
                        *b = b.saturating_sub(size);
                    }
                }
            }
        }
        if let Some(exp) = self.def.ttl_attribute.as_ref().and_then(|a| ttl_seconds(item.get(a))) {
            self.ttl.remove(&(exp, key.clone()));
        }
    }

    /// Builds a new index from the items already present (UpdateTable's backfill).
    pub fn backfill(&mut self, idx: &IndexDef) {
        let mut view = View::new();
        let mut bytes = 0u64;
        for (k, item) in &self.items {
            if !idx.key.valid_key_values(item) {
                continue;
            }
            if let Some(ik) = idx.key.key_of(item) {
                bytes += item_size(item) as u64;
                view.insert(VKey { key: ik, table: Some(k.key.clone()) }, item.clone());
            }
        }
        self.indexes.insert(idx.name.clone(), view);
        self.index_bytes.insert(idx.name.clone(), bytes);
    }

    pub fn drop_index(&mut self, name: &str) {
        self.indexes.remove(name);
        self.index_bytes.remove(name);
    }

    /// Rebuilds the TTL index after the TTL attribute changed.
    pub fn rebuild_ttl(&mut self) {
        self.ttl.clear();
        if let Some(attr) = self.def.ttl_attribute.clone() {
            for (k, item) in &self.items {
                if let Some(exp) = ttl_seconds(item.get(&attr)) {
                    self.ttl.insert((exp, k.key.clone()));
                }
            }
        }
    }

    /// Index key attributes of an item being written must have the declared type and not
    /// be empty.
    pub fn validate_index_keys(&self, item: &Item) -> DdbResult<()> {
        for idx in self.def.indexes() {
            for (name, t) in idx.key.attributes() {
                let Some(v) = item.get(name) else { continue };
                if !t.matches(v) {
                    return Err(DdbError::validation(format!(
                        "One or more parameter values were invalid: Type mismatch for Index Key {name} Expected: {} Actual: {} IndexName: {}",
                        t.as_str(),
                        v.type_name(),
                        idx.name
                    )));
                }
                if is_empty_scalar(v) {
                    return Err(DdbError::validation(format!(
                        "One or more parameter values are not valid. A value specified for a secondary index key is not supported. The AttributeValue for a key attribute cannot contain an empty string value. IndexName: {}, IndexKey: {name}",
                        idx.name
                    )));
                }
            }
            // Index keys have the table's key size limits (2,048 / 1,024 bytes).
            idx.key.check_sizes(item)?;
        }
        Ok(())
    }

    pub fn counts(&self) -> crate::schema::Counts {
        crate::schema::Counts {
            item_count: self.items.len() as u64,
            size_bytes: self.size_bytes,
            indexes: self
                .indexes
                .iter()
                .map(|(n, v)| (n.clone(), (v.len() as u64, self.index_bytes.get(n).copied().unwrap_or(0))))
                .collect(),
        }
    }
}

/// A TTL attribute's expiry: a non-negative Number of epoch seconds (fractions dropped);
/// anything else never expires.
pub fn ttl_seconds(v: Option<&AttributeValue>) -> Option<u64> {
    match v {
        Some(AttributeValue::N(n)) => number_to_u64(n),
        _ => None,
    }
}

/// The integer part of a non-negative number that fits in u64 (TTL values are epoch
/// seconds, well inside f64's exact integer range).
pub fn number_to_u64(n: &Number) -> Option<u64> {
    let f: f64 = n.to_text().parse().ok()?;
    (f.is_finite() && f >= 0.0 && f < 1.8e19).then(|| f as u64)
}
