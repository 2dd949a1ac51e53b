//! Array, object and higher-order functions (<https://docs.jsonata.org/array-functions>,
//! object-functions, higher-order-functions): stable sorting, `$distinct`, `$zip`, `$map`,
//! `$filter`, `$single`, `$reduce`, `$each`, `$sift`, `$keys`, `$lookup`, `$spread`,
//! `$merge`, `$error`, `$assert`.

use std::rc::Rc;

use indexmap::IndexMap;

use super::*;
use crate::eval::{err, field, normalize, truthy, Ev, R};
use crate::value::{deep_equal, Obj, Val};
use crate::JsonataError;

/// Stable merge sort with JSONata's comparator: `after(a, b)` true puts `a` after `b`.
pub fn merge_sort(items: Vec<Val>, after: &mut dyn FnMut(&Val, &Val) -> Result<bool, JsonataError>) -> Result<Vec<Val>, JsonataError> {
    if items.len() <= 1 {
        return Ok(items);
    }
    let mut items = items;
    let right = items.split_off(items.len() / 2);
    let left = merge_sort(items, after)?;
    let right = merge_sort(right, after)?;
    let mut out = Vec::with_capacity(left.len() + right.len());
    let (mut i, mut j) = (0, 0);
    while i < left.len() && j < right.len() {
        if after(&left[i], &right[j])? {
            out.push(right[j].clone());
            j += 1;
        } else {
            out.push(left[i].clone());
            i += 1;
        }
    }
    out.extend_from_slice(&left[i..]);
    out.extend_from_slice(&right[j..]);
    Ok(out)
}

pub(super) fn sort(ev: &Ev, a: Args, pos: usize) -> R {
    let Some(v) = arg(a, 0) else { return Ok(None) };
    let items = v.items();
    let sorted = match arg(a, 1) {
        Some(Val::Func(f)) => merge_sort(items, &mut |x, y| Ok(truthy(&ev.apply(&f, vec![Some(x.clone()), Some(y.clone())], &None, pos)?)))?,
        Some(_) => return Err(bad_arg("sort", 1, pos)),
        None => {
            let all_num = items.iter().all(|x| matches!(x, Val::Num(_)));
            let all_str = items.iter().all(|x| matches!(x, Val::Str(_)));
            if !all_num && !all_str {
                return Err(err(
                    "D3070",
                    pos,
                    "The single argument form of the sort function can only be applied to an array of strings or an array of numbers.  Use the second argument to specify a comparison function",
                ));
            }
            merge_sort(items, &mut |x, y| {
                Ok(match (x, y) {
                    (Val::Num(p), Val::Num(q)) => p > q,
                    (Val::Str(p), Val::Str(q)) => cmp_utf16(p, q) == std::cmp::Ordering::Greater,
                    _ => false,
                })
            })?
        }
    };
    Ok(Some(Val::array(sorted)))
}

pub(super) fn shuffle(_: &Ev, a: Args, _: usize) -> R {
    use rand::seq::SliceRandom;
    let Some(v) = arg(a, 0) else { return Ok(None) };
    let mut items = v.items();
    items.shuffle(&mut rand::thread_rng());
    Ok(Some(Val::array(items)))
}

pub(super) fn distinct(_: &Ev, a: Args, _: usize) -> R {
    let Some(v) = arg(a, 0) else { return Ok(None) };
    let Val::Arr(items, _) = &v else { return Ok(Some(v)) };
    let mut out: Vec<Val> = Vec::new();
    for x in items.iter() {
        if !out.iter().any(|y| deep_equal(x, y)) {
            out.push(x.clone());
        }
    }
    Ok(Some(Val::array(out)))
}

pub(super) fn zip(_: &Ev, a: Args, _: usize) -> R {
    let lists: Vec<Vec<Val>> = a.iter().map(|x| x.as_ref().map(|v| v.items()).unwrap_or_default()).collect();
    let n = lists.iter().map(Vec::len).min().unwrap_or(0);
    Ok(Some(Val::array((0..n).map(|i| Val::array(lists.iter().map(|l| l[i].clone()).collect())).collect())))
}

pub(super) fn hof_items(a: Args) -> Option<(Val, Vec<Val>)> {
    let v = arg(a, 0)?;
    let items = v.items();
    Some((Val::array(items.clone()), items))
}

pub(super) fn map(ev: &Ev, a: Args, pos: usize) -> R {
    let Some((whole, items)) = hof_items(a) else { return Ok(None) };
    let f = func_arg(a, 1, "map", pos)?;
    let mut out = Vec::new();
    for (i, x) in items.into_iter().enumerate() {
        if let Some(r) = ev.apply_hof(&f, &[Some(x), Some(Val::Num(i as f64)), Some(whole.clone())], pos)? {
            out.push(r);
        }
    }
    Ok(Some(Val::seq(out)))
}

pub(super) fn filter(ev: &Ev, a: Args, pos: usize) -> R {
    let Some((whole, items)) = hof_items(a) else { return Ok(None) };
    let f = func_arg(a, 1, "filter", pos)?;
    let mut out = Vec::new();
    for (i, x) in items.into_iter().enumerate() {
        if truthy(&ev.apply_hof(&f, &[Some(x.clone()), Some(Val::Num(i as f64)), Some(whole.clone())], pos)?) {
            out.push(x);
        }
    }
    Ok(Some(Val::seq(out)))
}

pub(super) fn single(ev: &Ev, a: Args, pos: usize) -> R {
    let Some((whole, items)) = hof_items(a) else { return Ok(None) };
    let f = match arg(a, 1) {
        None => None,
        Some(Val::Func(f)) => Some(f),
        Some(_) => return Err(bad_arg("single", 1, pos)),
    };
    let mut found: Option<Val> = None;
    for (i, x) in items.into_iter().enumerate() {
        let hit = match &f {
            None => true,
            Some(f) => truthy(&ev.apply_hof(f, &[Some(x.clone()), Some(Val::Num(i as f64)), Some(whole.clone())], pos)?),
        };
        if hit {
            if found.is_some() {
                return Err(err("D3138", pos, "The $single() function expected exactly 1 matching result.  Instead it matched more."));
            }
            found = Some(x);
        }
    }
    match found {
        Some(x) => Ok(Some(x)),
        None => Err(err("D3139", pos, "The $single() function expected exactly 1 matching result.  Instead it matched 0.")),
    }
}

pub(super) fn reduce(ev: &Ev, a: Args, pos: usize) -> R {
    let Some((whole, items)) = hof_items(a) else { return Ok(None) };
    let f = func_arg(a, 1, "reduce", pos)?;
    if f.arity() < 2 {
        return Err(err("D3050", pos, "The second argument of reduce function must be a function with at least two arguments"));
    }
    let mut iter = items.into_iter().enumerate();
    let mut acc = match arg(a, 2) {
        Some(init) => Some(init),
        None => iter.next().map(|(_, x)| x),
    };
    for (i, x) in iter {
        acc = ev.apply_hof(&f, &[acc, Some(x), Some(Val::Num(i as f64)), Some(whole.clone())], pos)?;
    }
    Ok(acc)
}

pub(super) fn each(ev: &Ev, a: Args, pos: usize) -> R {
    let Some(v) = arg(a, 0) else { return Ok(None) };
    let Val::Obj(o) = &v else { return Err(bad_arg("each", 0, pos)) };
    let f = func_arg(a, 1, "each", pos)?;
    let mut out = Vec::new();
    for (k, x) in o.iter() {
        if let Some(r) = ev.apply_hof(&f, &[Some(x.clone()), Some(Val::str(k)), Some(v.clone())], pos)? {
            out.push(r);
        }
    }
    Ok(Some(Val::seq(out)))
}

pub(super) fn sift(ev: &Ev, a: Args, pos: usize) -> R {
    let Some(v) = arg(a, 0) else { return Ok(None) };
    let Val::Obj(o) = &v else { return Err(bad_arg("sift", 0, pos)) };
    let f = func_arg(a, 1, "sift", pos)?;
    let mut out: Obj = IndexMap::new();
    for (k, x) in o.iter() {
        if truthy(&ev.apply_hof(&f, &[Some(x.clone()), Some(Val::str(k)), Some(v.clone())], pos)?) {
            out.insert(k.clone(), x.clone());
        }
    }
    Ok(if out.is_empty() { None } else { Some(Val::object(out)) })
}

// ---- objects ----

pub(super) fn keys(_: &Ev, a: Args, _: usize) -> R {
    let Some(v) = arg(a, 0) else { return Ok(None) };
    let mut out: Vec<Rc<str>> = Vec::new();
    let mut add = |o: &Obj| {
        for k in o.keys() {
            if !out.contains(k) {
                out.push(k.clone());
            }
        }
    };
    match &v {
        Val::Obj(o) => add(o),
        Val::Arr(items, _) => items.iter().for_each(|x| if let Val::Obj(o) = x { add(o) }),
        _ => {}
    }
    Ok(Some(Val::seq(out.into_iter().map(Val::Str).collect())))
}

pub(super) fn lookup_fn(_: &Ev, a: Args, pos: usize) -> R {
    let Some(v) = arg(a, 0) else { return Ok(None) };
    let key = str_arg(a, 1, "lookup", pos)?.ok_or_else(|| bad_arg("lookup", 1, pos))?;
    Ok(normalize(field(&v, &key)))
}

pub(super) fn spread(_: &Ev, a: Args, _: usize) -> R {
    let Some(v) = arg(a, 0) else { return Ok(None) };
    fn go(v: &Val, out: &mut Vec<Val>) {
        match v {
            Val::Arr(items, _) => items.iter().for_each(|x| go(x, out)),
            Val::Obj(o) => {
                for (k, x) in o.iter() {
                    let mut one: Obj = IndexMap::new();
                    one.insert(k.clone(), x.clone());
                    out.push(Val::object(one));
                }
            }
            other => out.push(other.clone()),
        }
    }
    let mut out = Vec::new();
    go(&v, &mut out);
    Ok(Some(Val::seq(out)))
}

pub(super) fn merge(_: &Ev, a: Args, pos: usize) -> R {
    let Some(v) = arg(a, 0) else { return Ok(None) };
    let mut out: Obj = IndexMap::new();
    for item in v.items() {
        match item {
            Val::Obj(o) => {
                for (k, x) in o.iter() {
                    out.insert(k.clone(), x.clone());
                }
            }
            _ => return Err(err("T0412", pos, "Argument 1 of function \"merge\" must be an array of objects")),
        }
    }
    Ok(Some(Val::object(out)))
}

pub(super) fn error(_: &Ev, a: Args, pos: usize) -> R {
    let msg = str_arg(a, 0, "error", pos)?.map(|s| s.to_string()).unwrap_or_else(|| "$error() function evaluated".into());
    Err(err("D3137", pos, msg))
}

pub(super) fn assert(_: &Ev, a: Args, pos: usize) -> R {
    let cond = match arg(a, 0) {
        Some(Val::Bool(b)) => b,
        _ => return Err(bad_arg("assert", 0, pos)),
    };
    if !cond {
        let msg = str_arg(a, 1, "assert", pos)?.map(|s| s.to_string()).unwrap_or_else(|| "$assert() statement failed".into());
        return Err(err("D3141", pos, msg));
    }
    Ok(None)
}
