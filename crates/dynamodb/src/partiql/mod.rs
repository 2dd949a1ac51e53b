//! PartiQL for DynamoDB: ExecuteStatement, BatchExecuteStatement and ExecuteTransaction.
//! [`lexer`] and [`parser`] turn a statement into a [`parser::Statement`]; this module
//! renders its parts as ordinary DynamoDB expressions (names `#pN`, values `:pN`) and
//! splits key equalities out of a WHERE clause; [`exec`] plans each statement onto the
//! existing GetItem / Query / Scan / PutItem / UpdateItem / DeleteItem and transaction
//! paths, so conditions, updates and limits behave exactly as they do there.

pub mod exec;
pub mod lexer;
pub mod parser;

use crate::api::Expressions;
use crate::errors::DdbError;
use parser::{Cond, Operand, Path, Seg, SetValue};
use serde_json::Value;
use std::collections::HashMap;

/// Why a statement was rejected before it ran.
#[derive(Debug, Clone, PartialEq)]
pub enum ParseError {
    Syntax(String),
    TooDeep,
    /// More or fewer `Parameters` than `?`s.
    Parameters,
    /// Valid PartiQL that nimbus does not run; the text names the feature.
    Unsupported(String),
}

impl From<ParseError> for DdbError {
    fn from(e: ParseError) -> DdbError {
        let m = match e {
            ParseError::Syntax(d) => format!("Statement wasn't well formed, can't be processed: {d}"),
            ParseError::TooDeep => format!("Statement wasn't well formed, can't be processed: nested more than {} levels deep", parser::MAX_DEPTH),
            ParseError::Parameters => "Number of parameters in request and statement don't match.".into(),
            ParseError::Unsupported(what) => format!("{what} not supported by nimbus"),
        };
        DdbError::Validation(m)
    }
}

/// Collects the names and values an expression refers to.
#[derive(Default)]
pub struct Render {
    names: HashMap<String, String>,
    by_name: HashMap<String, String>,
    values: HashMap<String, Value>,
}

impl Render {
    fn name(&mut self, n: &str) -> String {
        if let Some(p) = self.by_name.get(n) {
            return p.clone();
        }
        let p = format!("#p{}", self.by_name.len());
        self.by_name.insert(n.to_string(), p.clone());
        self.names.insert(p.clone(), n.to_string());
        p
    }

    fn value(&mut self, v: &Value) -> String {
        let p = format!(":p{}", self.values.len());
        self.values.insert(p.clone(), v.clone());
        p
    }

    pub fn path(&mut self, path: &Path) -> String {
        let mut out = String::new();
        for seg in path {
            match seg {
                Seg::Name(n) => {
                    if !out.is_empty() {
                        out.push('.');
                    }
                    let p = self.name(n);
                    out.push_str(&p);
                }
                Seg::Index(i) => out.push_str(&format!("[{i}]")),
            }
        }
        out
    }

    pub fn paths(&mut self, paths: &[Path]) -> String {
        paths.iter().map(|p| self.path(p)).collect::<Vec<_>>().join(", ")
    }

    pub fn operand(&mut self, o: &Operand) -> String {
        match o {
            Operand::Path(p) => self.path(p),
            Operand::Value(v) => self.value(v),
            Operand::Size(p) => format!("size({})", self.path(p)),
        }
    }

    /// A condition in DynamoDB's condition-expression syntax (depth bounded by the parser).
    pub fn cond(&mut self, c: &Cond) -> String {
        match c {
            Cond::And(cs) => self.join(cs, " AND "),
            Cond::Or(cs) => self.join(cs, " OR "),
            Cond::Not(c) => format!("NOT ({})", self.cond(c)),
            Cond::Cmp(op, a, b) => format!("{} {op} {}", self.operand(a), self.operand(b)),
            Cond::Between(a, lo, hi) => format!("{} BETWEEN {} AND {}", self.operand(a), self.operand(lo), self.operand(hi)),
            Cond::In(a, items) => {
                let a = self.operand(a);
                let items: Vec<String> = items.iter().map(|i| self.operand(i)).collect();
                format!("{a} IN ({})", items.join(", "))
            }
            Cond::Exists(p, true) => format!("attribute_exists({})", self.path(p)),
            Cond::Exists(p, false) => format!("attribute_not_exists({})", self.path(p)),
            Cond::Func(f, args) => {
                let args: Vec<String> = args.iter().map(|a| self.operand(a)).collect();
                format!("{f}({})", args.join(", "))
            }
        }
    }

    fn join(&mut self, cs: &[Cond], sep: &str) -> String {
        cs.iter().map(|c| format!("({})", self.cond(c))).collect::<Vec<_>>().join(sep)
    }

    /// A conjunction of conditions, or None when there are none.
    pub fn all(&mut self, cs: &[Cond]) -> Option<String> {
        match cs.len() {
            0 => None,
            1 => Some(self.cond(&cs[0])),
            _ => Some(self.join(cs, " AND ")),
        }
    }

    /// An update expression for SET and REMOVE clauses.
    pub fn update(&mut self, sets: &[(Path, SetValue)], removes: &[Path]) -> String {
        let mut out = String::new();
        if !sets.is_empty() {
            let parts: Vec<String> = sets.iter().map(|(p, v)| format!("{} = {}", self.path(p), self.set_value(v))).collect();
            out.push_str(&format!("SET {}", parts.join(", ")));
        }
        if !removes.is_empty() {
            out.push_str(&format!(" REMOVE {}", self.paths(removes)));
        }
        out
    }

    fn set_value(&mut self, v: &SetValue) -> String {
        match v {
            SetValue::Operand(o) => self.operand(o),
            SetValue::Arith(a, op, b) => format!("{} {op} {}", self.operand(a), self.operand(b)),
            SetValue::ListAppend(a, b) => format!("list_append({}, {})", self.operand(a), self.operand(b)),
        }
    }

    pub fn exprs(self) -> Expressions {
        Expressions {
            expression_attribute_names: (!self.names.is_empty()).then_some(self.names),
            expression_attribute_values: (!self.values.is_empty()).then_some(self.values),
        }
    }
}

/// The top-level AND terms of a WHERE clause.
pub fn conjuncts(c: Cond) -> Vec<Cond> {
    match c {
        Cond::And(cs) => cs,
        other => vec![other],
    }
}

/// `key = value` (either way round) → the value.
fn key_eq<'a>(c: &'a Cond, key: &str) -> Option<&'a Value> {
    let is_key = |o: &Operand| matches!(o, Operand::Path(p) if p.len() == 1 && p[0] == Seg::Name(key.to_string()));
    match c {
        Cond::Cmp("=", a, Operand::Value(v)) if is_key(a) => Some(v),
        Cond::Cmp("=", Operand::Value(v), b) if is_key(b) => Some(v),
        _ => None,
    }
}

/// Takes the first `key = value` term out of `conds`.
pub fn take_key(conds: &mut Vec<Cond>, key: &str) -> Option<Value> {
    let i = conds.iter().position(|c| key_eq(c, key).is_some())?;
    let c = conds.remove(i);
    key_eq(&c, key).cloned()
}

/// Whether a condition can serve as a Query's sort-key condition on `key`.
pub fn is_sort_condition(c: &Cond, key: &str) -> bool {
    let is_key = |o: &Operand| matches!(o, Operand::Path(p) if p.len() == 1 && p[0] == Seg::Name(key.to_string()));
    let is_val = |o: &Operand| matches!(o, Operand::Value(_));
    match c {
        Cond::Cmp(op, a, b) => *op != "<>" && is_key(a) && is_val(b),
        Cond::Between(a, lo, hi) => is_key(a) && is_val(lo) && is_val(hi),
        Cond::Func(f, args) => f == "begins_with" && args.len() == 2 && is_key(&args[0]) && is_val(&args[1]),
        _ => false,
    }
}

/// Whether a condition mentions the top-level attribute `name` anywhere.
pub fn mentions(c: &Cond, name: &str) -> bool {
    let op = |o: &Operand| match o {
        Operand::Path(p) | Operand::Size(p) => p.first() == Some(&Seg::Name(name.to_string())),
        Operand::Value(_) => false,
    };
    match c {
        Cond::And(cs) | Cond::Or(cs) => cs.iter().any(|c| mentions(c, name)),
        Cond::Not(c) => mentions(c, name),
        Cond::Cmp(_, a, b) => op(a) || op(b),
        Cond::Between(a, b, d) => op(a) || op(b) || op(d),
        Cond::In(a, items) => op(a) || items.iter().any(op),
        Cond::Exists(p, _) => p.first() == Some(&Seg::Name(name.to_string())),
        Cond::Func(_, args) => args.iter().any(op),
    }
}
