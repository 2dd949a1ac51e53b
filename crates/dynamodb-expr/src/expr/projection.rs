//! ProjectionExpression: a comma-separated list of document paths, and cutting an
//! item down to the parts they name (list elements keep their relative order).

use super::lexer::Tok;
use super::parser::Parser;
use super::{doc, ExprError, ExprKind, Path, PathElem, Substitutions};
use crate::value::{AttributeValue, Item};
use std::collections::BTreeMap;

pub(crate) fn parse(text: &str, subs: &Substitutions) -> Result<Vec<Path>, ExprError> {
    let mut p = Parser::new(text, subs, ExprKind::Projection)?;
    let mut paths = vec![p.path()?];
    while *p.peek() == Tok::Comma {
        p.advance();
        paths.push(p.path()?);
    }
    p.finish()?;
    let refs: Vec<&[PathElem]> = paths.iter().map(Vec::as_slice).collect();
    if let Some(msg) = doc::first_clash(&refs) {
        return Err(p.err(&msg));
    }
    Ok(paths)
}

/// The paths as a tree: what to keep of each value.
enum Node {
    Whole,
    Keys(BTreeMap<String, Node>),
    Indexes(BTreeMap<usize, Node>),
}

fn insert(node: &mut Node, path: &[PathElem]) {
    let Some((first, rest)) = path.split_first() else {
        *node = Node::Whole;
        return;
    };
    let child = match (node, first) {
        (Node::Keys(m), PathElem::Attr(a)) => m.entry(a.clone()).or_insert_with(|| empty_for(rest)),
        (Node::Indexes(m), PathElem::Index(i)) => m.entry(*i).or_insert_with(|| empty_for(rest)),
        _ => return,
    };
    if !matches!(child, Node::Whole) {
        insert(child, rest);
    }
}

fn empty_for(rest: &[PathElem]) -> Node {
    match rest.first() {
        None => Node::Whole,
        Some(PathElem::Attr(_)) => Node::Keys(BTreeMap::new()),
        Some(PathElem::Index(_)) => Node::Indexes(BTreeMap::new()),
    }
}

fn keep(node: &Node, v: &AttributeValue) -> Option<AttributeValue> {
    match (node, v) {
        (Node::Whole, v) => Some(v.clone()),
        (Node::Keys(children), AttributeValue::M(m)) => {
            let kept = keep_keys(children, m);
            (!kept.is_empty()).then_some(AttributeValue::M(kept))
        }
        (Node::Indexes(children), AttributeValue::L(l)) => {
            let kept: Vec<AttributeValue> =
                children.iter().filter_map(|(i, child)| l.get(*i).and_then(|e| keep(child, e))).collect();
            (!kept.is_empty()).then_some(AttributeValue::L(kept))
        }
        _ => None,
    }
}

fn keep_keys(children: &BTreeMap<String, Node>, m: &BTreeMap<String, AttributeValue>) -> BTreeMap<String, AttributeValue> {
    children.iter().filter_map(|(k, child)| Some((k.clone(), keep(child, m.get(k)?)?))).collect()
}

pub(crate) fn project(paths: &[Path], item: &Item) -> Item {
    let mut root = Node::Keys(BTreeMap::new());
    for path in paths {
        if matches!(path.first(), Some(PathElem::Attr(_))) {
            insert(&mut root, path);
        }
    }
    match &root {
        Node::Keys(children) => keep_keys(children, item),
        _ => item.clone(),
    }
}
