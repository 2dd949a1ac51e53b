//! The evaluator: walks the syntax tree with JSONata's sequence semantics (flattening,
//! singleton unwrapping, `[]` keep-singleton, constructor arrays in paths), predicates,
//! `@`/`#` tuple streams, order-by, group-by, operators, blocks, closures and function
//! application. Functions themselves live in `builtins`.

use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::rc::Rc;
use std::sync::Arc;

use indexmap::IndexMap;

use crate::ast::{Kind, Lambda, Node, Op, Pairs, Path, Stage, Step};
use crate::bindings::Bindings;
use crate::func::{Frame, Func};
use crate::value::{from_json, to_json, Obj, Val, CONS, KEEP, SEQ};
use crate::JsonataError;

pub type R = Result<Option<Val>, JsonataError>;

/// Nested evaluation depth at which JSONata's stack-overflow error (U1001) is raised.
const MAX_DEPTH: usize = 5000;
/// Stack one evaluation may use before U1001: deep recursion must fail cleanly inside a
/// 2 MiB tokio worker (or test) thread, whatever the build's frame sizes.
const STACK_BUDGET: usize = 1024 * 1024;

fn stack_address() -> usize {
    let marker = 0u8;
    std::hint::black_box(&marker) as *const u8 as usize
}

pub fn err(code: &str, pos: usize, msg: impl Into<String>) -> JsonataError {
    JsonataError::new(code, Some(pos), msg)
}

#[cold]
#[inline(never)]
fn overflow(pos: usize) -> JsonataError {
    err("U1001", pos, "Stack overflow error: Check for non-terminating recursive function.  Consider rewriting as tail-recursive.")
}

/// Tail calls one evaluation may make (a runaway loop ends in U1001 instead of hanging).
const MAX_TAIL_CALLS: usize = 100_000;

/// A lambda body's outcome: a value, or a call in tail position still to be made.
enum Tail {
    Value(Option<Val>),
    Call(Rc<Func>, Vec<Option<Val>>, Option<Val>, usize),
}

/// One item of a tuple stream: the context value and the `@`/`#` bindings made so far.
#[derive(Clone)]
struct Tuple {
    at: Val,
    binds: Vec<(String, Val)>,
}

/// An item's ancestors, for `%`: its parent and, further up, the parent's ancestry.
pub struct Anc {
    val: Val,
    up: Option<Rc<Anc>>,
}

type Ancs = Vec<Option<Rc<Anc>>>;

pub struct Ev<'a> {
    /// Track ancestry for the parent operator (only when the expression uses `%`).
    pub track_parents: bool,
    /// The ancestry of the current context item.
    cur_anc: RefCell<Option<Rc<Anc>>>,
    pub bindings: &'a Bindings,
    pub root: Option<Val>,
    converted: RefCell<HashMap<String, Option<Val>>>,
    frames: RefCell<Vec<Rc<Frame>>>,
    depth: Cell<usize>,
    tail_calls: Cell<usize>,
    stack_base: usize,
    /// The context of the built-in call in progress (`$eval` evaluates against it).
    pub call_context: RefCell<Option<Val>>,
    /// `$now()`/`$millis()` are fixed for one evaluation.
    pub now_millis: Cell<Option<i64>>,
}

impl Drop for Ev<'_> {
    fn drop(&mut self) {
        // Closures stored in the frames they capture form cycles: break them.
        for f in self.frames.borrow().iter() {
            f.vars.borrow_mut().clear();
        }
    }
}

/// JSONata's boolean cast (`$boolean`).
pub fn truthy(v: &Option<Val>) -> bool {
    match v {
        None => false,
        Some(v) => truthy_val(v),
    }
}

pub fn truthy_val(v: &Val) -> bool {
    match v {
        Val::Null => false,
        Val::Bool(b) => *b,
        Val::Num(n) => *n != 0.0,
        Val::Str(s) => !s.is_empty(),
        Val::Arr(a, _) => match a.len() {
            0 => false,
            1 => truthy_val(&a[0]),
            _ => a.iter().any(truthy_val),
        },
        Val::Obj(o) => !o.is_empty(),
        Val::Func(_) => false,
    }
}

/// `$append` semantics: arrays concatenate, values join as items, undefined vanishes.
pub fn append(a: Option<Val>, b: Option<Val>) -> Option<Val> {
    match (a, b) {
        (None, b) => b,
        (a, None) => a,
        (Some(a), Some(b)) => {
            let mut items = a.items();
            match b {
                Val::Arr(bb, _) => items.extend(bb.iter().cloned()),
                b => items.push(b),
            }
            Some(Val::seq(items).with_flags(if a.is_seq() { SEQ } else { 0 }))
        }
    }
}

/// Collapses a sequence: empty is undefined, one item (unless kept) is that item.
pub fn normalize(v: Option<Val>) -> Option<Val> {
    match v {
        Some(Val::Arr(a, f)) if f & SEQ != 0 => match a.len() {
            0 => None,
            1 if f & KEEP == 0 => Some(a[0].clone()),
            _ => Some(Val::Arr(a, f)),
        },
        v => v,
    }
}

impl<'a> Ev<'a> {
    pub fn new(bindings: &'a Bindings, root: Option<Val>) -> Ev<'a> {
        Ev {
            track_parents: false,
            cur_anc: RefCell::new(None),
            bindings,
            root,
            converted: RefCell::new(HashMap::new()),
            frames: RefCell::new(Vec::new()),
            depth: Cell::new(0),
            tail_calls: Cell::new(0),
            call_context: RefCell::new(None),
            stack_base: stack_address(),
            now_millis: Cell::new(None),
        }
    }

    pub fn new_frame(&self, parent: Option<Rc<Frame>>) -> Rc<Frame> {
        let f = Rc::new(Frame { vars: RefCell::new(HashMap::new()), parent });
        self.frames.borrow_mut().push(f.clone());
        f
    }

    fn lookup(&self, name: &str, input: &Option<Val>, env: &Rc<Frame>) -> Option<Val> {
        match name {
            "" => return input.clone(),
            "$" => return self.root.clone(),
            _ => {}
        }
        if let Some(v) = env.lookup(name) {
            return v;
        }
        if let Some(v) = self.converted.borrow().get(name) {
            return v.clone();
        }
        if let Some(json) = self.bindings.variables.get(name) {
            let v = Some(from_json(json));
            self.converted.borrow_mut().insert(name.to_string(), v.clone());
            return v;
        }
        if let Some(f) = self.bindings.functions.get(name) {
            return Some(Val::Func(Rc::new(Func::Native(f.clone()))));
        }
        crate::builtins::lookup(name).map(|b| Val::Func(Rc::new(Func::Builtin(b))))
    }

    pub fn eval(&self, node: &Node, input: &Option<Val>, env: &Rc<Frame>) -> R {
        let d = self.depth.get();
        if d > MAX_DEPTH || stack_address().abs_diff(self.stack_base) > STACK_BUDGET {
            return Err(overflow(node.pos));
        }
        self.depth.set(d + 1);
        let r = self.eval_kind(node, input, env);
        self.depth.set(d);
        Ok(normalize(r?))
    }

    /// Dispatches on the node kind. Each non-trivial kind has its own (never inlined)
    /// method so this frame, which every nested evaluation passes through, stays small.
    fn eval_kind(&self, node: &Node, input: &Option<Val>, env: &Rc<Frame>) -> R {
        let pos = node.pos;
        match &node.kind {
            Kind::Str(s) => Ok(Some(Val::str(s))),
            Kind::Num(n) => Ok(Some(Val::Num(*n))),
            Kind::Bool(b) => Ok(Some(Val::Bool(*b))),
            Kind::Null => Ok(Some(Val::Null)),
            Kind::Regex(re) => Ok(Some(Val::Func(Rc::new(Func::Regex(re.clone()))))),
            Kind::Var(name) => Ok(self.lookup(name, input, env)),
            Kind::Name(name) => Ok(input.as_ref().and_then(|v| field(v, name))),
            Kind::Wildcard => Ok(input.as_ref().and_then(wildcard)),
            Kind::Descendant => Ok(Some(eval_descendants(input))),
            Kind::Parent => match self.cur_anc.borrow().as_ref() {
                Some(a) => Ok(Some(a.val.clone())),
                None => Err(err("S0217", pos, "The object representing the 'parent' cannot be derived from this expression")),
            },
            Kind::Path(p) => self.eval_path(p, input, env),
            Kind::Filter(inner, preds) => self.eval_filter(inner, preds, input, env),
            Kind::Group(inner, pairs) => self.eval_group_node(inner, pairs, input, env),
            Kind::Neg(inner) => self.eval_neg(inner, input, env, pos),
            Kind::Array(items, cons) => self.eval_array(items, *cons, input, env),
            Kind::Object(pairs) => self.eval_object(pairs, input, env),
            Kind::Binary(op, l, r) => self.binary(*op, l, r, input, env, pos),
            Kind::Cond(c, t, e) => self.eval_cond(c, t, e.as_deref(), input, env),
            Kind::Block(items) => self.eval_block(items, input, env),
            Kind::Bind(name, value) => self.eval_bind(name, value, input, env),
            Kind::Lambda(def) => Ok(Some(Val::Func(Rc::new(Func::Lambda { def: def.clone(), env: env.clone(), input: input.clone() })))),
            Kind::Transform(def) => Ok(Some(Val::Func(Rc::new(Func::Transform { def: def.clone(), env: env.clone() })))),
            Kind::Placeholder => Ok(None),
            Kind::Call(f, args) => self.eval_call(f, args, input, env, pos),
            Kind::Partial(f, args) => self.eval_partial(f, args, input, env),
            Kind::Apply(l, r) => self.chain(l, r, input, env, pos),
            Kind::Sort(terms) => self.eval_sort_node(terms, input, env),
        }
    }

    #[inline(never)]
    fn eval_filter(&self, inner: &Node, preds: &[Node], input: &Option<Val>, env: &Rc<Frame>) -> R {
        let mut v = self.eval(inner, input, env)?;
        for p in preds {
            v = self.filter(p, v, env)?;
        }
        Ok(v)
    }

    #[inline(never)]
    fn eval_group_node(&self, inner: &Node, pairs: &Pairs, input: &Option<Val>, env: &Rc<Frame>) -> R {
        let v = self.eval(inner, input, env)?;
        Ok(Some(self.group(pairs, v.map(|v| v.items()).unwrap_or_default().into_iter().map(Some).collect(), None, env)?))
    }

    #[inline(never)]
    fn eval_neg(&self, inner: &Node, input: &Option<Val>, env: &Rc<Frame>, pos: usize) -> R {
        match self.eval(inner, input, env)? {
            None => Ok(None),
            Some(Val::Num(n)) => Ok(Some(Val::Num(-n))),
            Some(v) => Err(err("D1002", pos, format!("Cannot negate a non-numeric value: {}", crate::value::stringify(&v, false)))),
        }
    }

    #[inline(never)]
    fn eval_array(&self, items: &[Node], cons: bool, input: &Option<Val>, env: &Rc<Frame>) -> R {
        let mut out: Vec<Val> = Vec::new();
        for item in items {
            let v = self.eval(item, input, env)?;
            match (v, &item.kind) {
                (None, _) => {}
                (Some(v), Kind::Array(..)) => out.push(v),
                (Some(Val::Arr(a, _)), _) => out.extend(a.iter().cloned()),
                (Some(v), _) => out.push(v),
            }
        }
        Ok(Some(Val::Arr(Rc::new(out), if cons { CONS } else { 0 })))
    }

    #[inline(never)]
    fn eval_object(&self, pairs: &Pairs, input: &Option<Val>, env: &Rc<Frame>) -> R {
        let items = match input {
            Some(Val::Arr(a, _)) => a.iter().cloned().map(Some).collect(),
            other => vec![other.clone()],
        };
        Ok(Some(self.group(pairs, items, None, env)?))
    }

    #[inline(never)]
    fn eval_cond(&self, c: &Node, t: &Node, e: Option<&Node>, input: &Option<Val>, env: &Rc<Frame>) -> R {
        if truthy(&self.eval(c, input, env)?) {
            self.eval(t, input, env)
        } else if let Some(e) = e {
            self.eval(e, input, env)
        } else {
            Ok(None)
        }
    }

    #[inline(never)]
    fn eval_block(&self, items: &[Node], input: &Option<Val>, env: &Rc<Frame>) -> R {
        let frame = self.new_frame(Some(env.clone()));
        let mut last = None;
        for item in items {
            last = self.eval(item, input, &frame)?;
        }
        Ok(last)
    }

    #[inline(never)]
    fn eval_bind(&self, name: &str, value: &Node, input: &Option<Val>, env: &Rc<Frame>) -> R {
        let v = self.eval(value, input, env)?;
        env.vars.borrow_mut().insert(name.to_string(), v.clone());
        Ok(v)
    }

    #[inline(never)]
    fn eval_call(&self, f: &Node, args: &[Node], input: &Option<Val>, env: &Rc<Frame>, pos: usize) -> R {
        let func = self.callee(f, input, env, false)?;
        let mut values = Vec::with_capacity(args.len());
        for a in args {
            values.push(self.eval(a, input, env)?);
        }
        self.apply(&func, values, input, pos)
    }

    #[inline(never)]
    fn eval_partial(&self, f: &Node, args: &[Node], input: &Option<Val>, env: &Rc<Frame>) -> R {
        let func = self.callee(f, input, env, true)?;
        let mut values = Vec::with_capacity(args.len());
        for a in args {
            values.push(if matches!(a.kind, Kind::Placeholder) { None } else { Some(self.eval(a, input, env)?) });
        }
        Ok(Some(Val::Func(Rc::new(Func::Partial(func, values)))))
    }

    #[inline(never)]
    fn eval_sort_node(&self, terms: &[(Node, bool)], input: &Option<Val>, env: &Rc<Frame>) -> R {
        let items = input.as_ref().map(|v| v.items()).unwrap_or_default();
        Ok(Some(Val::seq(self.sort(terms, items, env)?)))
    }

    fn callee(&self, f: &Node, input: &Option<Val>, env: &Rc<Frame>, partial: bool) -> Result<Rc<Func>, JsonataError> {
        match self.eval(f, input, env)? {
            Some(Val::Func(func)) => Ok(func),
            _ => {
                let (code_named, code) = if partial { ("T1007", "T1008") } else { ("T1005", "T1006") };
                let verb = if partial { "partially apply" } else { "invoke" };
                if let Kind::Path(p) = &f.kind {
                    if let [Step { node: Node { kind: Kind::Name(n), .. }, .. }] = p.steps.as_slice() {
                        if crate::builtins::lookup(n).is_some() {
                            return Err(err(code_named, f.pos, format!("Attempted to {verb} a non-function. Did you mean ${n}?")));
                        }
                    }
                }
                Err(err(code, f.pos, format!("Attempted to {verb} a non-function")))
            }
        }
    }

    /// `lhs ~> rhs`: rhs a call gets lhs as its first argument; two functions compose.
    fn chain(&self, l: &Node, r: &Node, input: &Option<Val>, env: &Rc<Frame>, pos: usize) -> R {
        let lhs = self.eval(l, input, env)?;
        if let Kind::Call(f, args) = &r.kind {
            let func = self.callee(f, input, env, false)?;
            let mut values = vec![lhs];
            for a in args {
                values.push(self.eval(a, input, env)?);
            }
            return self.apply(&func, values, input, pos);
        }
        let Some(Val::Func(func)) = self.eval(r, input, env)? else {
            return Err(err("T2006", pos, "The right side of the function application operator ~> must be a function"));
        };
        if let Some(Val::Func(lf)) = lhs {
            return Ok(Some(Val::Func(Rc::new(Func::Compose(lf, func)))));
        }
        self.apply(&func, vec![lhs], input, pos)
    }

    /// Calls a function value. `input` is the caller's context (for built-ins that take the
    /// context as their first argument when it is left out).
    pub fn apply(&self, func: &Rc<Func>, mut args: Vec<Option<Val>>, input: &Option<Val>, pos: usize) -> R {
        let d = self.depth.get();
        if d > MAX_DEPTH {
            return Err(overflow(pos));
        }
        self.depth.set(d + 1);
        let r = self.apply_inner(func, &mut args, input, pos);
        self.depth.set(d);
        r.map(normalize)
    }

    #[inline(never)]
    fn apply_inner(&self, func: &Rc<Func>, args: &mut Vec<Option<Val>>, input: &Option<Val>, pos: usize) -> R {
        match &**func {
            Func::Lambda { def, env, input: captured } => match &def.signature {
                Some(sig) => {
                    let checked = crate::signature::validate(sig, std::mem::take(args), input, pos)?;
                    self.apply_lambda(def, env, captured, checked)
                }
                None => self.apply_lambda(def, env, captured, std::mem::take(args)),
            },
            Func::Builtin(b) => self.apply_builtin(b, args, input, pos),
            _ => self.apply_other(func, args, input, pos),
        }
    }

    #[inline(never)]
    fn apply_builtin(&self, b: &crate::builtins::Builtin, args: &mut Vec<Option<Val>>, input: &Option<Val>, pos: usize) -> R {
        let from_context = b.context && args.len() < b.min;
        if from_context {
            args.insert(0, input.clone());
        }
        if args.len() > b.max {
            return Err(err("T0410", pos, format!("Argument {} of function \"{}\" does not match function signature", b.max + 1, b.name)));
        }
        if b.name == "eval" {
            *self.call_context.borrow_mut() = input.clone();
        }
        let r = (b.f)(self, args, pos);
        match r {
            // The context stood in for argument 1 and was the wrong type.
            Err(e) if from_context && e.code == "T0410" && e.message.starts_with("Argument 1 ") => Err(err(
                "T0411",
                pos,
                format!("Context value is not a compatible type with argument 1 of function \"{}\"", b.name),
            )),
            r => r,
        }
    }

    #[inline(never)]
    fn apply_other(&self, func: &Rc<Func>, args: &mut Vec<Option<Val>>, input: &Option<Val>, pos: usize) -> R {
        match &**func {
            Func::Native(f) => {
                let json: Vec<Option<serde_json::Value>> = args.iter().map(|a| a.as_ref().and_then(to_json)).collect();
                let out = f(&json).map_err(|mut e| {
                    if e.position.is_none() {
                        e.position = Some(pos);
                    }
                    e
                });
                Ok(out?.as_ref().map(from_json))
            }
            Func::Partial(f, bound) => {
                let mut supplied = std::mem::take(args).into_iter();
                let full: Vec<Option<Val>> =
                    bound.iter().map(|b| match b { Some(v) => v.clone(), None => supplied.next().flatten() }).collect();
                self.apply(f, full, input, pos)
            }
            Func::Regex(re) => {
                let s = match args.first().cloned().flatten() {
                    None => return Ok(None),
                    Some(Val::Str(s)) => s,
                    Some(_) => return Err(err("T0410", pos, "Argument 1 of function \"regex\" does not match function signature")),
                };
                Ok(crate::builtins::regex_match_object(re, &s, 0))
            }
            Func::RegexNext(re, s, from) => Ok(crate::builtins::regex_match_object(re, s, *from)),
            Func::Transform { def, env } => {
                let target = args.first().cloned().flatten();
                crate::transform::apply(self, def, target, env)
            }
            Func::Compose(f, g) => {
                let mid = self.apply(f, std::mem::take(args), input, pos)?;
                self.apply(g, vec![mid], input, pos)
            }
            Func::Lambda { .. } | Func::Builtin(_) => self.apply_inner(func, args, input, pos),
        }
    }

    /// Calls a lambda. A call in tail position (the body's last expression, through
    /// conditions and blocks) to another lambda loops here instead of nesting, so tail
    /// recursion runs in constant stack; the loop is bounded against runaway evaluations.
    #[inline(never)]
    fn apply_lambda(&self, def: &Arc<Lambda>, env: &Rc<Frame>, captured: &Option<Val>, args: Vec<Option<Val>>) -> R {
        let (mut def, mut env, mut captured, mut args) = (def.clone(), env.clone(), captured.clone(), args);
        loop {
            let frame = self.new_frame(Some(env.clone()));
            {
                let mut vars = frame.vars.borrow_mut();
                for (i, p) in def.params.iter().enumerate() {
                    vars.insert(p.clone(), args.get(i).cloned().flatten());
                }
            }
            match self.eval_tail(&def.body, &captured, &frame)? {
                Tail::Value(v) => return Ok(v),
                Tail::Call(func, call_args, call_input, pos) => {
                    let Func::Lambda { def: next, env: next_env, input: next_input } = &*func else {
                        return self.apply(&func, call_args, &call_input, pos);
                    };
                    let n = self.tail_calls.get() + 1;
                    self.tail_calls.set(n);
                    if n > MAX_TAIL_CALLS {
                        return Err(err("U1001", pos, "Expression evaluation timeout: Check for infinite loop"));
                    }
                    args = match &next.signature {
                        Some(sig) => crate::signature::validate(sig, call_args, &call_input, pos)?,
                        None => call_args,
                    };
                    def = next.clone();
                    env = next_env.clone();
                    captured = next_input.clone();
                }
            }
        }
    }

    /// Evaluates a lambda body, returning a call in tail position unevaluated.
    fn eval_tail(&self, node: &Node, input: &Option<Val>, env: &Rc<Frame>) -> Result<Tail, JsonataError> {
        match &node.kind {
            Kind::Cond(c, t, e) => {
                if truthy(&self.eval(c, input, env)?) {
                    self.eval_tail(t, input, env)
                } else if let Some(e) = e {
                    self.eval_tail(e, input, env)
                } else {
                    Ok(Tail::Value(None))
                }
            }
            Kind::Block(items) if !items.is_empty() => {
                let frame = self.new_frame(Some(env.clone()));
                for item in &items[..items.len() - 1] {
                    self.eval(item, input, &frame)?;
                }
                self.eval_tail(&items[items.len() - 1], input, &frame)
            }
            Kind::Call(f, args) => {
                let func = self.callee(f, input, env, false)?;
                let mut values = Vec::with_capacity(args.len());
                for a in args {
                    values.push(self.eval(a, input, env)?);
                }
                Ok(Tail::Call(func, values, input.clone(), node.pos))
            }
            _ => Ok(Tail::Value(self.eval(node, input, env)?)),
        }
    }

    /// Calls `func` with as many of `args` as it takes (higher-order functions).
    pub fn apply_hof(&self, func: &Rc<Func>, args: &[Option<Val>], pos: usize) -> R {
        let n = func.arity().min(args.len());
        self.apply(func, args[..n].to_vec(), &None, pos)
    }

    // ---- paths ----

    fn eval_path(&self, path: &Path, input: &Option<Val>, env: &Rc<Frame>) -> R {
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
                    None => inputs.iter().flatten().map(|v| Tuple { at: v.clone(), binds: Vec::new() }).collect(),
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
    fn json_prefix(&self, path: &Path, env: &Rc<Frame>) -> Option<(usize, Option<Val>)> {
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
    fn step(&self, step: &Step, inputs: &[Option<Val>], ancs: &[Option<Rc<Anc>>], env: &Rc<Frame>, last: bool) -> Result<(Val, Ancs), JsonataError> {
        if let Kind::Sort(terms) = &step.node.kind {
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

    fn tuple_frame(&self, env: &Rc<Frame>, binds: &[(String, Val)]) -> Rc<Frame> {
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

    fn tuple_step(&self, step: &Step, stream: Vec<Tuple>, env: &Rc<Frame>) -> Result<Vec<Tuple>, JsonataError> {
        // Ancestry is not tracked through `@`/`#` tuple streams: `%` there is S0217.
        if self.track_parents {
            let saved = self.cur_anc.replace(None);
            let r = self.tuple_step_inner(step, stream, env);
            *self.cur_anc.borrow_mut() = saved;
            return r;
        }
        self.tuple_step_inner(step, stream, env)
    }

    fn tuple_step_inner(&self, step: &Step, stream: Vec<Tuple>, env: &Rc<Frame>) -> Result<Vec<Tuple>, JsonataError> {
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
                let Some(r) = self.eval(&step.node, &Some(t.at.clone()), &frame)? else { continue };
                for (i, item) in r.items().into_iter().enumerate() {
                    let mut nt = t.clone();
                    match &step.focus {
                        Some(name) => nt.binds.push((name.clone(), item)),
                        None => nt.at = item,
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

    fn filter_tuples(&self, pred: &Node, stream: Vec<Tuple>, env: &Rc<Frame>) -> Result<Vec<Tuple>, JsonataError> {
        let len = stream.len();
        let mut out = Vec::new();
        for (i, t) in stream.into_iter().enumerate() {
            let frame = self.tuple_frame(env, &t.binds);
            let r = self.eval(pred, &Some(t.at.clone()), &frame)?;
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

    // ---- order-by and group-by ----

    fn sort_keys(&self, terms: &[(Node, bool)], item: &Val, env: &Rc<Frame>) -> Result<Vec<Option<Val>>, JsonataError> {
        let mut keys = Vec::with_capacity(terms.len());
        for (t, _) in terms {
            keys.push(self.eval(t, &Some(item.clone()), env)?);
        }
        Ok(keys)
    }

    fn sort(&self, terms: &[(Node, bool)], items: Vec<Val>, env: &Rc<Frame>) -> Result<Vec<Val>, JsonataError> {
        let mut keyed = Vec::with_capacity(items.len());
        for item in items {
            let k = self.sort_keys(terms, &item, env)?;
            keyed.push((k, item));
        }
        let sorted = sort_keyed(terms, keyed)?;
        Ok(sorted.into_iter().map(|(_, v)| v).collect())
    }

    fn sort_tuples(&self, terms: &[(Node, bool)], stream: Vec<Tuple>, env: &Rc<Frame>) -> Result<Vec<Tuple>, JsonataError> {
        let mut keyed = Vec::with_capacity(stream.len());
        for t in stream {
            let frame = self.tuple_frame(env, &t.binds);
            let mut keys = Vec::with_capacity(terms.len());
            for (term, _) in terms {
                keys.push(self.eval(term, &Some(t.at.clone()), &frame)?);
            }
            keyed.push((keys, t));
        }
        Ok(sort_keyed(terms, keyed)?.into_iter().map(|(_, t)| t).collect())
    }

    /// Object construction over a sequence: each pair's key groups the items, the value is
    /// evaluated once per key over its group.
    fn group(&self, pairs: &Pairs, items: Vec<Option<Val>>, tuples: Option<Vec<Tuple>>, env: &Rc<Frame>) -> Result<Val, JsonataError> {
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

    // ---- operators ----

    #[inline(never)]
    fn binary(&self, op: Op, l: &Node, r: &Node, input: &Option<Val>, env: &Rc<Frame>, pos: usize) -> R {
        match op {
            Op::And => {
                return Ok(Some(Val::Bool(truthy(&self.eval(l, input, env)?) && truthy(&self.eval(r, input, env)?))));
            }
            Op::Or => {
                return Ok(Some(Val::Bool(truthy(&self.eval(l, input, env)?) || truthy(&self.eval(r, input, env)?))));
            }
            Op::Coalesce => {
                let lv = self.eval(l, input, env)?;
                return if lv.is_some() { Ok(lv) } else { self.eval(r, input, env) };
            }
            Op::Elvis => {
                let lv = self.eval(l, input, env)?;
                return if truthy(&lv) { Ok(lv) } else { self.eval(r, input, env) };
            }
            _ => {}
        }
        let lv = self.eval(l, input, env)?;
        let rv = self.eval(r, input, env)?;
        crate::operators::binary(op, lv, rv, pos)
    }
}

fn predicate_selects(r: &Option<Val>, i: usize, len: usize) -> bool {
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

type Keyed<T> = Vec<(Vec<Option<Val>>, T)>;

fn sort_keyed<T>(terms: &[(Node, bool)], keyed: Keyed<T>) -> Result<Keyed<T>, JsonataError> {
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
fn reduce_tuples(tuples: &[Tuple]) -> (Option<Val>, Vec<(String, Val)>) {
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

fn wildcard(v: &Val) -> Option<Val> {
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

fn flatten_into(v: &Val, out: &mut Vec<Val>) {
    match v {
        Val::Arr(a, _) => a.iter().for_each(|x| flatten_into(x, out)),
        x => out.push(x.clone()),
    }
}

fn eval_descendants(input: &Option<Val>) -> Val {
    let mut out = Vec::new();
    if let Some(v) = input {
        descendants(v, &mut out);
    }
    Val::seq(out)
}

fn descendants(v: &Val, out: &mut Vec<Val>) {
    match v {
        Val::Arr(a, _) => a.iter().for_each(|x| descendants(x, out)),
        Val::Obj(o) => {
            out.push(v.clone());
            o.values().for_each(|x| descendants(x, out));
        }
        x => out.push(x.clone()),
    }
}
