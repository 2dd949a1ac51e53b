//! The evaluator: walks the syntax tree with JSONata's sequence semantics (empty is
//! undefined, singletons unwrap unless kept), constructors, operators, blocks, closures,
//! function application (tail calls loop) and the U1001 guards. Paths live in `path.rs`,
//! order-by and group-by in `group.rs`, the functions themselves in `builtins`.

use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::rc::Rc;
use std::sync::Arc;

use crate::ast::{Kind, Lambda, Node, Op, Pairs, Step};
use crate::bindings::Bindings;
use crate::func::{Frame, Func};
use crate::value::{from_json, to_json, Val, CONS, KEEP, SEQ};
use crate::JsonataError;

mod group;
mod path;

pub use path::field;
use path::{eval_descendants, wildcard};

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
    /// The ancestry of `at` (only when the expression uses `%`).
    anc: Option<Rc<Anc>>,
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
