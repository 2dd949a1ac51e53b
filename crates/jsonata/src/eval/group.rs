//! Order-by (`^(…)`, stable, numbers or strings per term) and group-by object
//! construction (keys group the items, each value is evaluated once per group), over plain
//! sequences and `@`/`#` tuple streams.

use std::rc::Rc;

use indexmap::IndexMap;

use super::*;
use crate::ast::{Node, Pairs};
use crate::func::Frame;
use crate::value::{Obj, Val};
use crate::JsonataError;

impl Ev<'_> {
    pub(super) fn sort_keys(&self, terms: &[(Node, bool)], item: &Val, env: &Rc<Frame>) -> Result<Vec<Option<Val>>, JsonataError> {
        let mut keys = Vec::with_capacity(terms.len());
        for (t, _) in terms {
            keys.push(self.eval(t, &Some(item.clone()), env)?);
        }
        Ok(keys)
    }

    pub(super) fn sort(&self, terms: &[(Node, bool)], items: Vec<Val>, env: &Rc<Frame>) -> Result<Vec<Val>, JsonataError> {
        let mut keyed = Vec::with_capacity(items.len());
        for item in items {
            let k = self.sort_keys(terms, &item, env)?;
            keyed.push((k, item));
        }
        let sorted = sort_keyed(terms, keyed)?;
        Ok(sorted.into_iter().map(|(_, v)| v).collect())
    }

    pub(super) fn sort_tuples(&self, terms: &[(Node, bool)], stream: Vec<Tuple>, env: &Rc<Frame>) -> Result<Vec<Tuple>, JsonataError> {
        let mut keyed = Vec::with_capacity(stream.len());
        for t in stream {
            let frame = self.tuple_frame(env, &t.binds);
            let mut keys = Vec::with_capacity(terms.len());
            for (term, _) in terms {
                if self.track_parents {
                    *self.cur_anc.borrow_mut() = t.anc.clone();
                }
                keys.push(self.eval(term, &Some(t.at.clone()), &frame)?);
            }
            keyed.push((keys, t));
        }
        Ok(sort_keyed(terms, keyed)?.into_iter().map(|(_, t)| t).collect())
    }

    /// Object construction over a sequence: each pair's key groups the items, the value is
    /// evaluated once per key over its group.
    pub(super) fn group(&self, pairs: &Pairs, items: Vec<Option<Val>>, tuples: Option<Vec<Tuple>>, env: &Rc<Frame>) -> Result<Val, JsonataError> {
        // Values grouped from several items have no single parent: `%` inside them is S0217.
        if self.track_parents && (items.len() > 1 || tuples.is_some()) {
            let saved = self.cur_anc.replace(None);
            let r = self.group_inner(pairs, items, tuples, env);
            *self.cur_anc.borrow_mut() = saved;
            return r;
        }
        self.group_inner(pairs, items, tuples, env)
    }

    fn group_inner(&self, pairs: &Pairs, items: Vec<Option<Val>>, tuples: Option<Vec<Tuple>>, env: &Rc<Frame>) -> Result<Val, JsonataError> {
        struct Group {
            items: Vec<Val>,
            tuples: Vec<Tuple>,
            pair: usize,
        }
        let mut groups: IndexMap<String, Group> = IndexMap::new();
        let entries: Vec<(Option<Val>, Option<Tuple>)> = match tuples {
            Some(t) => t.into_iter().map(|t| (Some(t.at.clone()), Some(t))).collect(),
            None if items.is_empty() => vec![(None, None)],
            None => items.into_iter().map(|i| (i, None)).collect(),
        };
        for (item, tuple) in &entries {
            let frame = match tuple {
                Some(t) => self.tuple_frame(env, &t.binds),
                None => env.clone(),
            };
            for (pi, (k, _)) in pairs.iter().enumerate() {
                let key = match self.eval(k, item, &frame)? {
                    None => continue,
                    Some(Val::Str(s)) => s.to_string(),
                    Some(other) => {
                        return Err(err(
                            "T1003",
                            k.pos,
                            format!("Key in object structure must evaluate to a string; got: {}", crate::value::stringify(&other, false)),
                        ))
                    }
                };
                match groups.get_mut(&key) {
                    Some(g) => {
                        if g.pair != pi {
                            return Err(err("D1009", k.pos, format!("Multiple key definitions evaluate to same key: {key:?}")));
                        }
                        if let Some(i) = item {
                            g.items.push(i.clone());
                        }
                        if let Some(t) = tuple {
                            g.tuples.push(t.clone());
                        }
                    }
                    None => {
                        groups.insert(
                            key,
                            Group { items: item.iter().cloned().collect(), tuples: tuple.iter().cloned().collect(), pair: pi },
                        );
                    }
                }
            }
        }
        let mut out: Obj = IndexMap::with_capacity(groups.len());
        for (key, g) in groups {
            let (context, frame) = if !g.tuples.is_empty() {
                let (at, binds) = reduce_tuples(&g.tuples);
                (at, self.tuple_frame(env, &binds))
            } else {
                let ctx = match g.items.len() {
                    0 => None,
                    1 => Some(g.items[0].clone()),
                    _ => Some(Val::seq(g.items)),
                };
                (ctx, env.clone())
            };
            if let Some(v) = self.eval(&pairs[g.pair].1, &context, &frame)? {
                out.insert(key.into(), v);
            }
        }
        Ok(Val::object(out))
    }
}

type Keyed<T> = Vec<(Vec<Option<Val>>, T)>;

pub(super) fn sort_keyed<T>(terms: &[(Node, bool)], keyed: Keyed<T>) -> Result<Keyed<T>, JsonataError> {
    // Validate first so the comparator cannot fail.
    for (ti, (term, _)) in terms.iter().enumerate() {
        let mut kind: Option<&'static str> = None;
        for (keys, _) in &keyed {
            match &keys[ti] {
                None => {}
                Some(v @ (Val::Num(_) | Val::Str(_))) => {
                    let t = v.type_name();
                    if let Some(k) = kind {
                        if k != t {
                            return Err(err(
                                "T2007",
                                term.pos,
                                "Type mismatch when comparing values in order-by clause".to_string(),
                            ));
                        }
                    }
                    kind = Some(t);
                }
                Some(_) => {
                    return Err(err("T2008", term.pos, "The expressions within an order-by clause must evaluate to numeric or string values"))
                }
            }
        }
    }
    let mut keyed = keyed;
    keyed.sort_by(|(a, _), (b, _)| {
        for (ti, (_, desc)) in terms.iter().enumerate() {
            let ord = match (&a[ti], &b[ti]) {
                (None, None) => std::cmp::Ordering::Equal,
                (None, _) => return std::cmp::Ordering::Greater,
                (_, None) => return std::cmp::Ordering::Less,
                (Some(Val::Num(x)), Some(Val::Num(y))) => x.partial_cmp(y).unwrap_or(std::cmp::Ordering::Equal),
                (Some(Val::Str(x)), Some(Val::Str(y))) => crate::builtins::cmp_utf16(x, y),
                _ => std::cmp::Ordering::Equal,
            };
            let ord = if *desc { ord.reverse() } else { ord };
            if ord != std::cmp::Ordering::Equal {
                return ord;
            }
        }
        std::cmp::Ordering::Equal
    });
    Ok(keyed)
}

/// Merges a group's tuples: the context and each binding become the items of all tuples.
pub(super) fn reduce_tuples(tuples: &[Tuple]) -> (Option<Val>, Vec<(String, Val)>) {
    if tuples.len() == 1 {
        return (Some(tuples[0].at.clone()), tuples[0].binds.clone());
    }
    let mut at: Option<Val> = None;
    let mut binds: IndexMap<String, Option<Val>> = IndexMap::new();
    for t in tuples {
        at = append(at, Some(t.at.clone()));
        for (k, v) in &t.binds {
            let cur = binds.shift_remove(k).flatten();
            binds.insert(k.clone(), append(cur, Some(v.clone())));
        }
    }
    (at, binds.into_iter().filter_map(|(k, v)| v.map(|v| (k, v))).collect())
}
