//! Applying a parsed UpdateExpression to an item: operands read the item as it was
//! before the update, then SET, ADD, DELETE and REMOVE change a copy that replaces the
//! item only if every action succeeds.

use super::update::{Actions, Operand, SetValue};
use super::{doc, ExprError, PathElem};
use crate::value::{AttributeValue, Item};
use std::cmp::Ordering;

fn wrong_type() -> ExprError {
    ExprError("An operand in the update expression has an incorrect data type".into())
}

pub(crate) fn apply(actions: &Actions, item: &mut Item, key_attributes: &[&str]) -> Result<Vec<String>, ExprError> {
    let mut changed: Vec<String> = Vec::new();
    for path in &actions.targets {
        if let Some(PathElem::Attr(name)) = path.first() {
            if key_attributes.contains(&name.as_str()) {
                return Err(ExprError(format!("Cannot update attribute {name}. This attribute is part of the key")));
            }
            if !changed.contains(name) {
                changed.push(name.clone());
            }
        }
    }
    let original = &*item;
    let values = actions.set.iter().map(|(_, v)| set_value(v, original)).collect::<Result<Vec<_>, _>>()?;
    let mut new = original.clone();
    for ((path, _), v) in actions.set.iter().zip(values) {
        doc::set(&mut new, path, v)?;
    }
    for (path, v) in &actions.add {
        let merged = match doc::get(&new, path) {
            None => v.clone(),
            Some(existing) => add(existing, v)?,
        };
        doc::set(&mut new, path, merged)?;
    }
    for (path, v) in &actions.delete {
        if let Some(existing) = doc::get(&new, path) {
            match delete(existing, v)? {
                Some(rest) => doc::set(&mut new, path, rest)?,
                None => doc::remove(&mut new, path)?,
            }
        }
    }
    let mut removals: Vec<&Vec<PathElem>> = actions.remove.iter().collect();
    // Later list elements first, so indexes keep meaning the original positions.
    removals.sort_by(|a, b| path_order(b, a));
    for path in removals {
        doc::remove(&mut new, path)?;
    }
    *item = new;
    Ok(changed)
}

fn path_order(a: &[PathElem], b: &[PathElem]) -> Ordering {
    for (x, y) in a.iter().zip(b) {
        let o = match (x, y) {
            (PathElem::Attr(p), PathElem::Attr(q)) => p.cmp(q),
            (PathElem::Index(p), PathElem::Index(q)) => p.cmp(q),
            (PathElem::Attr(_), PathElem::Index(_)) => Ordering::Less,
            (PathElem::Index(_), PathElem::Attr(_)) => Ordering::Greater,
        };
        if o != Ordering::Equal {
            return o;
        }
    }
    a.len().cmp(&b.len())
}

fn set_value(v: &SetValue, item: &Item) -> Result<AttributeValue, ExprError> {
    match v {
        SetValue::Single(o) => operand(o, item),
        SetValue::Plus(a, b) | SetValue::Minus(a, b) => {
            let (AttributeValue::N(x), AttributeValue::N(y)) = (operand(a, item)?, operand(b, item)?) else {
                return Err(wrong_type());
            };
            let result = if matches!(v, SetValue::Plus(..)) { x.add(&y) } else { x.sub(&y) };
            result.map(AttributeValue::N).map_err(|e| ExprError(e.0))
        }
    }
}

fn operand(o: &Operand, item: &Item) -> Result<AttributeValue, ExprError> {
    match o {
        Operand::Value(v) => Ok(v.clone()),
        Operand::Path(path) => doc::get(item, path)
            .cloned()
            .ok_or_else(|| ExprError("The provided expression refers to an attribute that does not exist in the item".into())),
        Operand::IfNotExists(path, default) => match doc::get(item, path) {
            Some(v) => Ok(v.clone()),
            None => operand(default, item),
        },
        Operand::ListAppend(a, b) => match (operand(a, item)?, operand(b, item)?) {
            (AttributeValue::L(mut x), AttributeValue::L(y)) => {
                x.extend(y);
                Ok(AttributeValue::L(x))
            }
            _ => Err(wrong_type()),
        },
    }
}

/// ADD to an existing value: number addition or set union.
fn add(existing: &AttributeValue, v: &AttributeValue) -> Result<AttributeValue, ExprError> {
    fn union<T: Clone + PartialEq>(a: &[T], b: &[T]) -> Vec<T> {
        let mut out = a.to_vec();
        out.extend(b.iter().filter(|m| !a.contains(m)).cloned());
        out
    }
    Ok(match (existing, v) {
        (AttributeValue::N(a), AttributeValue::N(b)) => AttributeValue::N(a.add(b).map_err(|e| ExprError(e.0))?),
        (AttributeValue::SS(a), AttributeValue::SS(b)) => AttributeValue::SS(union(a, b)),
        (AttributeValue::NS(a), AttributeValue::NS(b)) => AttributeValue::NS(union(a, b)),
        (AttributeValue::BS(a), AttributeValue::BS(b)) => AttributeValue::BS(union(a, b)),
        _ => return Err(wrong_type()),
    })
}

/// DELETE from an existing set; None when nothing is left (the attribute goes).
fn delete(existing: &AttributeValue, v: &AttributeValue) -> Result<Option<AttributeValue>, ExprError> {
    fn minus<T: Clone + PartialEq>(a: &[T], b: &[T]) -> Vec<T> {
        a.iter().filter(|m| !b.contains(m)).cloned().collect()
    }
    let rest = match (existing, v) {
        (AttributeValue::SS(a), AttributeValue::SS(b)) => AttributeValue::SS(minus(a, b)),
        (AttributeValue::NS(a), AttributeValue::NS(b)) => AttributeValue::NS(minus(a, b)),
        (AttributeValue::BS(a), AttributeValue::BS(b)) => AttributeValue::BS(minus(a, b)),
        _ => return Err(wrong_type()),
    };
    let empty = match &rest {
        AttributeValue::SS(s) => s.is_empty(),
        AttributeValue::NS(s) => s.is_empty(),
        AttributeValue::BS(s) => s.is_empty(),
        _ => false,
    };
    Ok((!empty).then_some(rest))
}
