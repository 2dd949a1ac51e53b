//! The expression languages. SKELETON: signatures are the contract; bodies are to be
//! written (the module may become a directory: expr/mod.rs, parser.rs, eval.rs, …).

use crate::value::{AttributeValue, Item};
use std::collections::HashMap;

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
        todo!()
    }
}

/// A parsed ConditionExpression or FilterExpression.
#[derive(Debug, Clone)]
pub struct Condition {/* private AST */}

/// A parsed UpdateExpression.
#[derive(Debug, Clone)]
pub struct Update {/* private AST */}

/// A parsed KeyConditionExpression: equality on the partition key, optionally one
/// condition on the sort key.
#[derive(Debug, Clone, PartialEq)]
pub struct KeyCondition {
    pub partition_name: String,
    pub partition_value: AttributeValue,
    pub sort: Option<SortCondition>,
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
        todo!()
    }
    /// Does a sort-key value satisfy the condition?
    pub fn matches(&self, _v: &AttributeValue) -> bool {
        todo!()
    }
}

pub fn parse_condition(_text: &str, _subs: &Substitutions) -> Result<Condition, ExprError> {
    todo!()
}

impl Condition {
    /// Evaluates against an item (a missing item is an empty one).
    pub fn eval(&self, _item: &Item) -> Result<bool, ExprError> {
        todo!()
    }
}

pub fn parse_key_condition(_text: &str, _subs: &Substitutions, _partition_key: &str, _sort_key: Option<&str>) -> Result<KeyCondition, ExprError> {
    todo!()
}

pub fn parse_projection(_text: &str, _subs: &Substitutions) -> Result<Vec<Path>, ExprError> {
    todo!()
}

/// The parts of an item the paths name, nested as in the item.
pub fn project(_paths: &[Path], _item: &Item) -> Item {
    todo!()
}

pub fn parse_update(_text: &str, _subs: &Substitutions) -> Result<Update, ExprError> {
    todo!()
}

impl Update {
    /// Applies the update to `item` (key attributes may not be changed: the caller
    /// passes their names). Returns the top-level attribute names it changed, for
    /// ReturnValues UPDATED_OLD / UPDATED_NEW.
    pub fn apply(&self, _item: &mut Item, _key_attributes: &[&str]) -> Result<Vec<String>, ExprError> {
        todo!()
    }
}
