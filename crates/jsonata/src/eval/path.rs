//! Path evaluation: steps over every input item with JSONata's flattening and singleton
//! rules, predicates (positions or booleans), `@`/`#` tuple streams, ancestry for `%`,
//! the JSON fast path for `$var.a.b`, and the field/wildcard/descendant lookups.

use std::rc::Rc;

use super::*;
use crate::ast::{Kind, Node, Path, Stage, Step};
use crate::func::Frame;
use crate::value::{from_json, Val, CONS, KEEP, SEQ};
use crate::JsonataError;

impl Ev<'_> {
    pub(super) fn eval_path(&self, path: &Path, input: &Option<Val>, env: &Rc<Frame>) -> R {
        // The commonest path, one plain field of an object (`price` in a predicate).
        if let [Step { node: Node { kind: Kind::Name(name), .. }, stages, focus: None, index: None }] = path.steps.as_slice() {
            if stages.is_empty() && path.group.is_none() && !path.keep_singleton {
                match input {
                    Some(Val::Obj(o)) => return Ok(o.get(name.as_str()).cloned()),
                    Some(Val::Arr(..)) => {}
                    _ => return Ok(None),
                }
            }
        }
        let first_is_var = match &path.steps[0].node.kind {
            Kind::Var(_) => true,
            Kind::Filter(inner, _) | Kind::Group(inner, _) => matches!(inner.kind, Kind::Var(_)),
            _ => false,
        };
        let mut inputs: Vec<Option<Val>> = match input {
            Some(Val::Arr(a, _)) if !first_is_var => a.iter().cloned().map(Some).collect(),
            other => vec![other.clone()],
        };
        let mut result: Val = Val::seq(Vec::new());
        let mut tuples: Option<Vec<Tuple>> = None;
        let last = path.steps.len() - 1;
        let mut ancs: Ancs = if self.track_parents { vec![self.cur_anc.borrow().clone(); inputs.len()] } else { Vec::new() };
        let mut start = 0;
        if path.group.is_none() {
            if let Some((consumed, value)) = self.json_prefix(path, env) {
                let Some(v) = value else { return Ok(None) };
                start = consumed;
                if consumed == path.steps.len() {
                    result = if matches!(v, Val::Arr(..)) { v } else { Val::seq(vec![v]) };
                } else {
                    inputs = v.items().into_iter().map(Some).collect();
                }
            }
        }
        for (i, step) in path.steps.iter().enumerate().skip(start) {
            if tuples.is_some() || step.is_tuple() {
                let stream = match tuples.take() {
                    Some(t) => t,
                    None => inputs
                        .iter()
                        .enumerate()
                        .filter_map(|(k, v)| {
                            v.as_ref().map(|v| Tuple { at: v.clone(), binds: Vec::new(), anc: ancs.get(k).cloned().flatten() })
                        })
                        .collect(),
                };
                let stream = self.tuple_step(step, stream, env)?;
                result = Val::seq(stream.iter().map(|t| t.at.clone()).collect());
                tuples = Some(stream);
                continue;
            }
            result = if i == 0 && matches!(step.node.kind, Kind::Array(_, true)) {
                self.eval(&step.node, input, env)?.unwrap_or_else(|| Val::seq(Vec::new()))
            } else {
                let (r, next_ancs) = self.step(step, &inputs, &ancs, env, i == last)?;
                if step.focus.is_none() {
                    ancs = next_ancs;
                }
                r
            };
            let empty = matches!(&result, Val::Arr(a, _) if a.is_empty());
            if empty {
                break;
            }
            if step.focus.is_none() {
                inputs = result.items().into_iter().map(Some).collect();
                if self.track_parents && ancs.len() != inputs.len() {
                    ancs = vec![None; inputs.len()];
                }
            }
        }
        if path.keep_singleton {
            result = match result {
                Val::Arr(a, f) if f & SEQ == 0 && f & CONS != 0 => Val::Arr(Rc::new(vec![Val::Arr(a, f)]), SEQ | KEEP),
                Val::Arr(a, f) => Val::Arr(a, f | SEQ | KEEP),
                v => Val::Arr(Rc::new(vec![v]), SEQ | KEEP),
            };
        }
        if let Some(pairs) = &path.group {
            return Ok(Some(match tuples {
                Some(t) => self.group(pairs, Vec::new(), Some(t), env)?,
                None => self.group(pairs, result.items().into_iter().map(Some).collect(), None, env)?,
            }));
        }
        Ok(Some(result))
    }

    /// A path starting `$var.name.name…` over a variable from `Bindings` is walked on the
    /// caller's JSON, and only the value reached is converted (Step Functions' `$states` can
    /// be large; most expressions read a small part of it). Returns the steps consumed and
    /// the value (`None`: undefined), or `None` when the path does not start that way.
    pub(super) fn json_prefix(&self, path: &Path, env: &Rc<Frame>) -> Option<(usize, Option<Val>)> {
        let first = &path.steps[0];
        let Kind::Var(name) = &first.node.kind else { return None };
        if !first.stages.is_empty() || first.is_tuple() || name.is_empty() || name == "$" {
            return None;
        }
        if env.lookup(name).is_some() || self.converted.borrow().contains_key(name) {
            return None;
        }
        let mut cur: &serde_json::Value = self.bindings.variables.get(name)?;
        let mut i = 1;
        while i < path.steps.len() {
            let step = &path.steps[i];
            let Kind::Name(field) = &step.node.kind else { break };
            if !step.stages.is_empty() || step.is_tuple() {
                break;
            }
            let serde_json::Value::Object(o) = cur else { break };
            match o.get(field.as_str()) {
                Some(v) => cur = v,
                None => return Some((i + 1, None)),
            }
            i += 1;
        }
        if i == 1 {
            return None;
        }
        Some((i, Some(from_json(cur))))
    }

    /// One step over every input item: predicates apply per item, results flatten one
    /// level (constructor arrays excepted); a lone array result at the last step stays the
    /// array itself.
    pub(super) fn step(&self, step: &Step, inputs: &[Option<Val>], ancs: &[Option<Rc<Anc>>], env: &Rc<Frame>, last: bool) -> Result<(Val, Ancs), JsonataError> {
        if let Kind::Sort(terms) = &step.node.kind {
            if self.track_parents && step.stages.is_empty() {
                // Sort the items together with their ancestry, so `%` still works after `^(…)`.
                let tuples: Vec<Tuple> = inputs
                    .iter()
                    .enumerate()
                    .filter_map(|(k, v)| v.as_ref().map(|v| Tuple { at: v.clone(), binds: Vec::new(), anc: ancs.get(k).cloned().flatten() }))
                    .collect();
                let sorted = self.sort_tuples(terms, tuples, env)?;
                let ancs = sorted.iter().map(|t| t.anc.clone()).collect();
                return Ok((Val::seq(sorted.into_iter().map(|t| t.at).collect()), ancs));
            }
            let items: Vec<Val> = inputs.iter().flatten().cloned().collect();
            let mut v = Some(Val::seq(self.sort(terms, items, env)?));
            for stage in &step.stages {
                if let Stage::Filter(p) = stage {
                    v = self.filter(p, v, env)?;
                }
            }
            let v = v.unwrap_or_else(|| Val::seq(Vec::new()));
            let n = if self.track_parents { v.items().len() } else { 0 };
            return Ok((v, vec![None; n]));
        }
        let track = self.track_parents;
        let mut results: Vec<(Val, Option<Rc<Anc>>)> = Vec::new();
        for (k, item) in inputs.iter().enumerate() {
            let mut res_anc = None;
            let saved = if track {
                let a_in = ancs.get(k).cloned().flatten();
                res_anc = if matches!(step.node.kind, Kind::Parent) {
                    a_in.as_ref().and_then(|a| a.up.clone())
                } else {
                    item.as_ref().map(|v| Rc::new(Anc { val: v.clone(), up: a_in.clone() }))
                };
                Some(self.cur_anc.replace(a_in))
            } else {
                None
            };
            let mut r = self.eval(&step.node, item, env);
            if track {
                *self.cur_anc.borrow_mut() = res_anc.clone();
            }
            if r.is_ok() {
                for stage in &step.stages {
                    if let Stage::Filter(p) = stage {
                        r = r.and_then(|v| self.filter(p, v, env));
                    }
                }
            }
            if let Some(s) = saved {
                *self.cur_anc.borrow_mut() = s;
            }
            if let Some(v) = r? {
                results.push((v, res_anc));
            }
        }
        if last && results.len() == 1 {
            if let (Val::Arr(a, f), _) = &results[0] {
                if f & SEQ == 0 {
                    let n = if track { a.len() } else { 0 };
                    let anc = results[0].1.clone();
                    return Ok((results.pop().map(|r| r.0).unwrap_or(Val::Null), vec![anc; n]));
                }
            }
        }
        let mut out = Vec::with_capacity(results.len());
        let mut out_ancs: Ancs = Vec::new();
        for (r, anc) in results {
            match r {
                Val::Arr(a, f) if f & CONS == 0 => {
                    if track {
                        out_ancs.extend(std::iter::repeat_n(anc, a.len()));
                    }
                    out.extend(a.iter().cloned());
                }
                v => {
                    if track {
                        out_ancs.push(anc);
                    }
                    out.push(v);
                }
            }
        }
        Ok((Val::seq(out), out_ancs))
    }

    pub(super) fn tuple_frame(&self, env: &Rc<Frame>, binds: &[(String, Val)]) -> Rc<Frame> {
        if binds.is_empty() {
            return env.clone();
        }
        let f = self.new_frame(Some(env.clone()));
        {
            let mut vars = f.vars.borrow_mut();
            for (k, v) in binds {
                vars.insert(k.clone(), Some(v.clone()));
            }
        }
        f
    }

    pub(super) fn tuple_step(&self, step: &Step, stream: Vec<Tuple>, env: &Rc<Frame>) -> Result<Vec<Tuple>, JsonataError> {
        let saved = if self.track_parents { Some(self.cur_anc.borrow().clone()) } else { None };
        let r = self.tuple_step_inner(step, stream, env);
        if let Some(s) = saved {
            *self.cur_anc.borrow_mut() = s;
        }
        r
    }

    /// Evaluates with `%` seeing `anc` (when ancestry is tracked).
    fn with_anc<T>(&self, anc: &Option<Rc<Anc>>, f: impl FnOnce() -> T) -> T {
        if self.track_parents {
            *self.cur_anc.borrow_mut() = anc.clone();
        }
        f()
    }

    pub(super) fn tuple_step_inner(&self, step: &Step, stream: Vec<Tuple>, env: &Rc<Frame>) -> Result<Vec<Tuple>, JsonataError> {
        let mut out: Vec<Tuple> = Vec::new();
        if let Kind::Sort(terms) = &step.node.kind {
            out = self.sort_tuples(terms, stream, env)?;
            if let Some(ix) = &step.index {
                for (i, t) in out.iter_mut().enumerate() {
                    t.binds.push((ix.clone(), Val::Num(i as f64)));
                }
            }
        } else {
            for t in &stream {
                let frame = self.tuple_frame(env, &t.binds);
                let Some(r) = self.with_anc(&t.anc, || self.eval(&step.node, &Some(t.at.clone()), &frame))? else { continue };
                let child_anc = if !self.track_parents {
                    None
                } else if matches!(step.node.kind, Kind::Parent) {
                    t.anc.as_ref().and_then(|a| a.up.clone())
                } else {
                    Some(Rc::new(Anc { val: t.at.clone(), up: t.anc.clone() }))
                };
                for (i, item) in r.items().into_iter().enumerate() {
                    let mut nt = t.clone();
                    match &step.focus {
                        Some(name) => nt.binds.push((name.clone(), item)),
                        None => {
                            nt.at = item;
                            nt.anc = child_anc.clone();
                        }
                    }
                    if let Some(ix) = &step.index {
                        nt.binds.push((ix.clone(), Val::Num(i as f64)));
                    }
                    out.push(nt);
                }
            }
        }
        for stage in &step.stages {
            match stage {
                Stage::Filter(pred) => out = self.filter_tuples(pred, out, env)?,
                Stage::Index(name) => {
                    for (i, t) in out.iter_mut().enumerate() {
                        t.binds.push((name.clone(), Val::Num(i as f64)));
                    }
                }
            }
        }
        Ok(out)
    }

    pub(super) fn filter_tuples(&self, pred: &Node, stream: Vec<Tuple>, env: &Rc<Frame>) -> Result<Vec<Tuple>, JsonataError> {
        let len = stream.len();
        let mut out = Vec::new();
        for (i, t) in stream.into_iter().enumerate() {
            let frame = self.tuple_frame(env, &t.binds);
            let r = self.with_anc(&t.anc, || self.eval(pred, &Some(t.at.clone()), &frame))?;
            if predicate_selects(&r, i, len) {
                out.push(t);
            }
        }
        Ok(out)
    }

    /// A predicate `[…]`: numbers (or arrays of numbers) select by position (negative from
    /// the end), anything else filters by its boolean value.
    pub fn filter(&self, pred: &Node, v: Option<Val>, env: &Rc<Frame>) -> R {
        let Some(v) = v else { return Ok(None) };
        let items = v.items();
        let len = items.len();
        // A literal index needs no per-item evaluation.
        if let Kind::Num(n) = pred.kind {
            let mut i = n.floor();
            if i < 0.0 {
                i += len as f64;
            }
            let picked = if i >= 0.0 && (i as usize) < len { vec![items[i as usize].clone()] } else { Vec::new() };
            return Ok(Some(Val::seq(picked)));
        }
        let mut out = Vec::new();
        for (i, item) in items.into_iter().enumerate() {
            let r = self.eval(pred, &Some(item.clone()), env)?;
            if predicate_selects(&r, i, len) {
                out.push(item);
            }
        }
        Ok(Some(Val::seq(out)))
    }
}

pub(super) fn predicate_selects(r: &Option<Val>, i: usize, len: usize) -> bool {
    let index_hit = |n: f64| {
        let mut ix = n.floor();
        if ix < 0.0 {
            ix += len as f64;
        }
        ix == i as f64
    };
    match r {
        Some(Val::Num(n)) => index_hit(*n),
        Some(Val::Arr(a, _)) if !a.is_empty() && a.iter().all(|x| matches!(x, Val::Num(_))) => {
            a.iter().any(|x| index_hit(x.as_num().unwrap_or(f64::NAN)))
        }
        other => truthy(other),
    }
}

/// Field lookup, mapping over arrays (and flattening what they return).
pub fn field(v: &Val, name: &str) -> Option<Val> {
    match v {
        Val::Obj(o) => o.get(name).cloned(),
        Val::Arr(a, _) => {
            let mut out = Vec::new();
            for item in a.iter() {
                match field(item, name) {
                    Some(Val::Arr(inner, _)) => out.extend(inner.iter().cloned()),
                    Some(x) => out.push(x),
                    None => {}
                }
            }
            Some(Val::seq(out))
        }
        _ => None,
    }
}

pub(super) fn wildcard(v: &Val) -> Option<Val> {
    let mut out = Vec::new();
    match v {
        Val::Obj(o) => {
            for x in o.values() {
                match x {
                    Val::Arr(..) => flatten_into(x, &mut out),
                    x => out.push(x.clone()),
                }
            }
        }
        Val::Arr(a, _) => {
            for item in a.iter() {
                if let Some(w) = wildcard(item) {
                    out.extend(w.items());
                }
            }
        }
        _ => return None,
    }
    Some(Val::seq(out))
}

pub(super) fn flatten_into(v: &Val, out: &mut Vec<Val>) {
    match v {
        Val::Arr(a, _) => a.iter().for_each(|x| flatten_into(x, out)),
        x => out.push(x.clone()),
    }
}

pub(super) fn eval_descendants(input: &Option<Val>) -> Val {
    let mut out = Vec::new();
    if let Some(v) = input {
        descendants(v, &mut out);
    }
    Val::seq(out)
}

pub(super) fn descendants(v: &Val, out: &mut Vec<Val>) {
    match v {
        Val::Arr(a, _) => a.iter().for_each(|x| descendants(x, out)),
        Val::Obj(o) => {
            out.push(v.clone());
            o.values().for_each(|x| descendants(x, out));
        }
        x => out.push(x.clone()),
    }
}
