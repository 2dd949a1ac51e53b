//! Reading and writing document paths (`a.b[2].c`) in items, plus the path
//! relationships AWS checks between the paths of one expression (overlap, conflict).

use super::{ExprError, PathElem};
use crate::value::{AttributeValue, Item};

/// The value at `path`, if every step exists with the right container type.
pub(crate) fn get<'i>(item: &'i Item, path: &[PathElem]) -> Option<&'i AttributeValue> {
    let (PathElem::Attr(first), rest) = path.split_first()? else { return None };
    let mut cur = item.get(first)?;
    for elem in rest {
        cur = match (elem, cur) {
            (PathElem::Attr(a), AttributeValue::M(m)) => m.get(a)?,
            (PathElem::Index(i), AttributeValue::L(l)) => l.get(*i)?,
            _ => return None,
        };
    }
    Some(cur)
}

fn invalid_for_update() -> ExprError {
    ExprError("The document path provided in the update expression is invalid for update".into())
}

/// The container holding the last element of `path`; its parents must exist.
fn parent_mut<'i>(item: &'i mut Item, path: &[PathElem]) -> Result<Option<&'i mut AttributeValue>, ExprError> {
    if path.len() == 1 {
        return Ok(None);
    }
    let Some(PathElem::Attr(first)) = path.first() else { return Err(invalid_for_update()) };
    let mut cur = item.get_mut(first).ok_or_else(invalid_for_update)?;
    for elem in &path[1..path.len() - 1] {
        cur = match (elem, cur) {
            (PathElem::Attr(a), AttributeValue::M(m)) => m.get_mut(a).ok_or_else(invalid_for_update)?,
            (PathElem::Index(i), AttributeValue::L(l)) => l.get_mut(*i).ok_or_else(invalid_for_update)?,
            _ => return Err(invalid_for_update()),
        };
    }
    Ok(Some(cur))
}

/// Sets the value at `path`. A list index past the end appends; the path's parents
/// must exist with the right types.
pub(crate) fn set(item: &mut Item, path: &[PathElem], value: AttributeValue) -> Result<(), ExprError> {
    let last = path.last().ok_or_else(invalid_for_update)?;
    match (parent_mut(item, path)?, last) {
        (None, PathElem::Attr(a)) => {
            item.insert(a.clone(), value);
        }
        (Some(AttributeValue::M(m)), PathElem::Attr(a)) => {
            m.insert(a.clone(), value);
        }
        (Some(AttributeValue::L(l)), PathElem::Index(i)) => match l.get_mut(*i) {
            Some(slot) => *slot = value,
            None => l.push(value),
        },
        _ => return Err(invalid_for_update()),
    }
    Ok(())
}

/// Removes the value at `path`; nothing there is not an error.
pub(crate) fn remove(item: &mut Item, path: &[PathElem]) -> Result<(), ExprError> {
    let Some(last) = path.last() else { return Ok(()) };
    let parent = match parent_mut(item, path) {
        Ok(p) => p,
        Err(_) => return Ok(()),
    };
    match (parent, last) {
        (None, PathElem::Attr(a)) => {
            item.remove(a);
        }
        (Some(AttributeValue::M(m)), PathElem::Attr(a)) => {
            m.remove(a);
        }
        (Some(AttributeValue::L(l)), PathElem::Index(i)) if *i < l.len() => {
            l.remove(*i);
        }
        _ => {}
    }
    Ok(())
}

/// How two paths of one expression relate, for AWS's checks.
pub(crate) enum Clash {
    /// One is a prefix of the other (or they are equal).
    Overlap,
    /// They diverge where one names a map key and the other a list index.
    Conflict,
}

pub(crate) fn clash(a: &[PathElem], b: &[PathElem]) -> Option<Clash> {
    for (x, y) in a.iter().zip(b) {
        match (x, y) {
            (PathElem::Attr(p), PathElem::Attr(q)) if p == q => {}
            (PathElem::Index(p), PathElem::Index(q)) if p == q => {}
            (PathElem::Attr(_), PathElem::Attr(_)) | (PathElem::Index(_), PathElem::Index(_)) => return None,
            _ => return Some(Clash::Conflict),
        }
    }
    Some(Clash::Overlap)
}

/// The first clash among `paths`, as AWS words it (without the "Invalid X: " prefix).
pub(crate) fn first_clash(paths: &[&[PathElem]]) -> Option<String> {
    for (j, b) in paths.iter().enumerate() {
        for a in &paths[..j] {
            let (word, one, two) = match clash(a, b) {
                None => continue,
                Some(Clash::Overlap) => ("overlap", a, b),
                Some(Clash::Conflict) => ("conflict", a, b),
            };
            return Some(format!(
                "Two document paths {word} with each other; must remove or rewrite one of these paths; path one: {}, path two: {}",
                super::path_text(one),
                super::path_text(two)
            ));
        }
    }
    None
}
