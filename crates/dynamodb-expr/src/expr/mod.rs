//! The expression languages: the public types and entry points. Parsing is shared by
//! `lexer` and `parser`; each language has its own module (`condition`, `key`,
//! `projection`, `update`), and `doc` reads and writes document paths in items.

mod condition;
mod doc;
mod key;
mod lexer;
mod names;
mod parser;
mod projection;
mod reserved;
mod update;
mod update_apply;

use crate::value::{AttributeValue, Item};
use std::collections::HashMap;

pub use reserved::is_reserved;

/// A ValidationException message, word for word as AWS gives it where AWS documents it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct ExprError(pub String);

/// One element of a document path: `a.b[2].c` → [Attr("a"), Attr("b"), Index(2), Attr("c")].
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum PathElem {
    Attr(String),
    Index(usize),
}

pub type Path = Vec<PathElem>;

/// The substitutions of one request. Tracks which names and values the request's
/// expressions used, so unused ones can be reported as AWS does.
pub struct Substitutions<'a> {
    pub names: &'a HashMap<String, String>,
    pub values: &'a HashMap<String, AttributeValue>,
    pub used_names: std::cell::RefCell<std::collections::HashSet<String>>,
    pub used_values: std::cell::RefCell<std::collections::HashSet<String>>,
}

impl<'a> Substitutions<'a> {
    pub fn new(names: &'a HashMap<String, String>, values: &'a HashMap<String, AttributeValue>) -> Self {
        Substitutions { names, values, used_names: Default::default(), used_values: Default::default() }
    }
    /// After parsing every expression of a request: "Value provided in
    /// ExpressionAttributeNames unused in expressions: keys: {#a}" and the same for values.
    pub fn check_all_used(&self) -> Result<(), ExprError> {
        let unused = |all: Vec<&String>, used: &std::collections::HashSet<String>| {
            let mut keys: Vec<&str> = all.into_iter().filter(|k| !used.contains(*k)).map(String::as_str).collect();
            keys.sort_unstable();
            keys.join(", ")
        };
        let names = unused(self.names.keys().collect(), &self.used_names.borrow());
        if !names.is_empty() {
            return Err(ExprError(format!("Value provided in ExpressionAttributeNames unused in expressions: keys: {{{names}}}")));
        }
        let values = unused(self.values.keys().collect(), &self.used_values.borrow());
        if !values.is_empty() {
            return Err(ExprError(format!("Value provided in ExpressionAttributeValues unused in expressions: keys: {{{values}}}")));
        }
        Ok(())
    }
}

/// A parsed ConditionExpression or FilterExpression.
#[derive(Debug, Clone)]
pub struct Condition {
    root: condition::Cond,
}

/// A parsed UpdateExpression.
#[derive(Debug, Clone)]
pub struct Update {
    actions: update::Actions,
}

/// A parsed KeyConditionExpression: equality on each partition key attribute (in
/// key-schema order), and conditions on a prefix of the sort key's attributes (in
/// key-schema order: equalities, then any condition on the last).
#[derive(Debug, Clone, PartialEq)]
pub struct KeyCondition {
    pub partition: Vec<(String, AttributeValue)>,
    pub sort: Vec<SortCondition>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum SortCondition {
    Eq(String, AttributeValue),
    Lt(String, AttributeValue),
    Le(String, AttributeValue),
    Gt(String, AttributeValue),
    Ge(String, AttributeValue),
    Between(String, AttributeValue, AttributeValue),
    BeginsWith(String, AttributeValue),
}

impl SortCondition {
    pub fn attribute(&self) -> &str {
        key::sort_attribute(self)
    }
    /// Does a sort-key value satisfy the condition?
    pub fn matches(&self, v: &AttributeValue) -> bool {
        key::sort_matches(self, v)
    }
}

/// Which expression parameter a text came from; it names the parameter in messages
/// ("Invalid FilterExpression: …").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExprKind {
    Condition,
    Filter,
    KeyCondition,
    Projection,
    Update,
}

impl ExprKind {
    pub fn parameter(self) -> &'static str {
        match self {
            ExprKind::Condition => "ConditionExpression",
            ExprKind::Filter => "FilterExpression",
            ExprKind::KeyCondition => "KeyConditionExpression",
            ExprKind::Projection => "ProjectionExpression",
            ExprKind::Update => "UpdateExpression",
        }
    }
}

pub fn parse_condition(text: &str, subs: &Substitutions) -> Result<Condition, ExprError> {
    parse_condition_as(text, subs, ExprKind::Condition)
}

/// A FilterExpression: the condition language, with "Invalid FilterExpression" messages.
pub fn parse_filter(text: &str, subs: &Substitutions) -> Result<Condition, ExprError> {
    parse_condition_as(text, subs, ExprKind::Filter)
}

/// The condition language, with messages naming `kind`'s parameter.
pub fn parse_condition_as(text: &str, subs: &Substitutions, kind: ExprKind) -> Result<Condition, ExprError> {
    Ok(Condition { root: condition::parse(text, subs, kind)? })
}

impl Condition {
    /// Evaluates against an item (a missing item is an empty one).
    pub fn eval(&self, item: &Item) -> Result<bool, ExprError> {
        Ok(condition::eval(&self.root, item))
    }
}

/// A KeyConditionExpression against a key of `partition_keys` (one for a table, up to
/// four for a global index) and `sort_keys` (none to four), in key-schema order.
pub fn parse_key_condition(text: &str, subs: &Substitutions, partition_keys: &[&str], sort_keys: &[&str]) -> Result<KeyCondition, ExprError> {
    key::parse(text, subs, partition_keys, sort_keys)
}

pub fn parse_projection(text: &str, subs: &Substitutions) -> Result<Vec<Path>, ExprError> {
    projection::parse(text, subs)
}

/// The parts of an item the paths name, nested as in the item.
pub fn project(paths: &[Path], item: &Item) -> Item {
    projection::project(paths, item)
}

pub fn parse_update(text: &str, subs: &Substitutions) -> Result<Update, ExprError> {
    Ok(Update { actions: update::parse(text, subs)? })
}

impl Update {
    /// Applies the update to `item` (key attributes may not be changed: the caller
    /// passes their names). Returns the top-level attribute names it changed, for
    /// ReturnValues UPDATED_OLD / UPDATED_NEW.
    pub fn apply(&self, item: &mut Item, key_attributes: &[&str]) -> Result<Vec<String>, ExprError> {
        update_apply::apply(&self.actions, item, key_attributes)
    }
}

/// A path as AWS prints it in messages: `[a, b, [2]]`.
pub fn path_text(path: &[PathElem]) -> String {
    let parts: Vec<String> = path
        .iter()
        .map(|e| match e {
            PathElem::Attr(a) => a.clone(),
            PathElem::Index(i) => format!("[{i}]"),
        })
        .collect();
    format!("[{}]", parts.join(", "))
}
