//! KeyConditionExpression: the condition language restricted to equality on every
//! partition key attribute and conditions on a left-to-right prefix of the sort key's
//! attributes (equalities, then one = < <= > >= BETWEEN begins_with on the last one
//! named), and matching sort-key values against them.

use super::condition::{self, begins_with, CmpOp, Cond, Func, Operand};
use super::{ExprError, ExprKind, KeyCondition, PathElem, SortCondition, Substitutions};
use crate::value::AttributeValue;
use std::cmp::Ordering;

fn invalid(msg: &str) -> ExprError {
    ExprError(format!("Invalid KeyConditionExpression: {msg}"))
}

fn bad_operator(op: &str) -> ExprError {
    invalid(&format!("Invalid operator used in KeyConditionExpression: {op}"))
}

pub(crate) fn parse(text: &str, subs: &Substitutions, partition_keys: &[&str], sort_keys: &[&str]) -> Result<KeyCondition, ExprError> {
    let cond = condition::parse(text, subs, ExprKind::KeyCondition)?;
    let mut parts = Vec::new();
    flatten(&cond, &mut parts)?;
    let mut conditions: Vec<SortCondition> = Vec::new();
    for part in parts {
        let c = to_key_condition(part)?;
        if conditions.iter().any(|o| o.attribute() == c.attribute()) {
            return Err(invalid("KeyConditionExpressions must only contain one condition per key"));
        }
        conditions.push(c);
    }
    let mut partition = Vec::new();
    for name in partition_keys {
        let Some(at) = conditions.iter().position(|c| c.attribute() == *name) else {
            return Err(ExprError(format!("Query condition missed key schema element: {name}")));
        };
        let SortCondition::Eq(n, v) = conditions.remove(at) else {
            return Err(ExprError("Query key condition not supported".into()));
        };
        partition.push((n, v));
    }
    if conditions.iter().any(|c| !sort_keys.contains(&c.attribute())) {
        return Err(match sort_keys {
            [one] => ExprError(format!("Query condition missed key schema element: {one}")),
            _ => ExprError("Query key condition not supported".into()),
        });
    }
    let sort = sort_prefix(conditions, sort_keys)?;
    Ok(KeyCondition { partition, sort })
}

/// The sort-key conditions in key-schema order. They must cover a left-to-right prefix
/// of the sort key's attributes with equalities, except the last, which may be any
/// condition (<https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/GSI.html#GSI.MultiAttributeKeys>).
fn sort_prefix(mut conditions: Vec<SortCondition>, sort_keys: &[&str]) -> Result<Vec<SortCondition>, ExprError> {
    let position = |c: &SortCondition| sort_keys.iter().position(|k| *k == c.attribute()).unwrap_or(usize::MAX);
    conditions.sort_by_key(position);
    let Some(last) = conditions.last().map(position) else { return Ok(conditions) };
    let without_equality: Vec<&str> = sort_keys[..last]
        .iter()
        .filter(|k| !conditions.iter().any(|c| c.attribute() == **k && matches!(c, SortCondition::Eq(..))))
        .copied()
        .collect();
    if !without_equality.is_empty() {
        return Err(ExprError(format!(
            "RANGE key attributes {} must have equality conditions specified in the query because a condition is present on key attribute {}",
            without_equality.join(", "),
            sort_keys[last]
        )));
    }
    Ok(conditions)
}

/// The conditions joined by AND (parentheses allowed); any other operator is refused.
fn flatten<'c>(c: &'c Cond, out: &mut Vec<&'c Cond>) -> Result<(), ExprError> {
    match c {
        Cond::And(a, b) => {
            flatten(a, out)?;
            flatten(b, out)
        }
        Cond::Group(a) => flatten(a, out),
        Cond::Or(..) => Err(bad_operator("OR")),
        Cond::Not(..) => Err(bad_operator("NOT")),
        Cond::In(..) => Err(bad_operator("IN")),
        _ => {
            out.push(c);
            Ok(())
        }
    }
}

/// A top-level attribute name.
fn key_name(op: &Operand) -> Result<Option<String>, ExprError> {
    match op {
        Operand::Path(path) => match path.as_slice() {
            [PathElem::Attr(name)] => Ok(Some(name.clone())),
            _ => Err(invalid("Key condition expression does not support nested attribute paths")),
        },
        Operand::Size(_) => Err(bad_operator("size")),
        Operand::Value(_) => Ok(None),
    }
}

fn value_of(op: &Operand) -> Option<AttributeValue> {
    match op {
        Operand::Value(v) => Some(v.clone()),
        _ => None,
    }
}

fn one_key_one_value() -> ExprError {
    invalid("A condition in a KeyConditionExpression must compare a key attribute with a value")
}

fn to_key_condition(c: &Cond) -> Result<SortCondition, ExprError> {
    match c {
        Cond::Cmp(op, a, b) => {
            let (name, value, op) = match (key_name(a)?, key_name(b)?) {
                (Some(n), None) => (n, value_of(b), *op),
                (None, Some(n)) => (n, value_of(a), flip(*op)),
                _ => return Err(one_key_one_value()),
            };
            let v = value.ok_or_else(one_key_one_value)?;
            Ok(match op {
                CmpOp::Eq => SortCondition::Eq(name, v),
                CmpOp::Lt => SortCondition::Lt(name, v),
                CmpOp::Le => SortCondition::Le(name, v),
                CmpOp::Gt => SortCondition::Gt(name, v),
                CmpOp::Ge => SortCondition::Ge(name, v),
                CmpOp::Ne => return Err(bad_operator("<>")),
            })
        }
        Cond::Between(a, low, high) => {
            let name = key_name(a)?.ok_or_else(one_key_one_value)?;
            match (value_of(low), value_of(high)) {
                (Some(l), Some(h)) => Ok(SortCondition::Between(name, l, h)),
                _ => Err(one_key_one_value()),
            }
        }
        Cond::Func(Func::BeginsWith, args) => {
            let (Some(a), Some(b)) = (args.first(), args.get(1)) else { return Err(one_key_one_value()) };
            let name = key_name(a)?.ok_or_else(one_key_one_value)?;
            let v = value_of(b).ok_or_else(one_key_one_value)?;
            Ok(SortCondition::BeginsWith(name, v))
        }
        Cond::Func(f, _) => Err(bad_operator(f.name())),
        _ => Err(one_key_one_value()),
    }
}

/// `:v < k` is `k > :v`.
fn flip(op: CmpOp) -> CmpOp {
    match op {
        CmpOp::Lt => CmpOp::Gt,
        CmpOp::Le => CmpOp::Ge,
        CmpOp::Gt => CmpOp::Lt,
        CmpOp::Ge => CmpOp::Le,
        other => other,
    }
}

pub(crate) fn sort_attribute(c: &SortCondition) -> &str {
    match c {
        SortCondition::Eq(n, _)
        | SortCondition::Lt(n, _)
        | SortCondition::Le(n, _)
        | SortCondition::Gt(n, _)
        | SortCondition::Ge(n, _)
        | SortCondition::Between(n, _, _)
        | SortCondition::BeginsWith(n, _) => n,
    }
}

pub(crate) fn sort_matches(c: &SortCondition, v: &AttributeValue) -> bool {
    let is = |bound: &AttributeValue, ok: fn(Ordering) -> bool| v.key_cmp(bound).is_some_and(ok);
    match c {
        SortCondition::Eq(_, b) => is(b, |o| o == Ordering::Equal),
        SortCondition::Lt(_, b) => is(b, |o| o == Ordering::Less),
        SortCondition::Le(_, b) => is(b, |o| o != Ordering::Greater),
        SortCondition::Gt(_, b) => is(b, |o| o == Ordering::Greater),
        SortCondition::Ge(_, b) => is(b, |o| o != Ordering::Less),
        SortCondition::Between(_, l, h) => is(l, |o| o != Ordering::Less) && is(h, |o| o != Ordering::Greater),
        SortCondition::BeginsWith(_, p) => begins_with(v, p),
    }
}
