//! Function values: lambdas (closing over their frame and context), built-ins, native
//! functions from `Bindings`, partial applications, regex matchers, transforms and
//! `~>` compositions.

use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;
use std::sync::Arc;

use crate::ast::{Lambda, Transform};
use crate::bindings::NativeFunction;
use crate::builtins::Builtin;
use crate::value::Val;

/// A scope: variables bound by `:=`, lambda parameters or `@`/`#` tuple bindings.
/// `None` shadows an outer binding with *undefined*.
pub struct Frame {
    pub vars: RefCell<HashMap<String, Option<Val>>>,
    pub parent: Option<Rc<Frame>>,
}

impl Frame {
    pub fn lookup(&self, name: &str) -> Option<Option<Val>> {
        if let Some(v) = self.vars.borrow().get(name) {
            return Some(v.clone());
        }
        self.parent.as_ref().and_then(|p| p.lookup(name))
    }
}

pub enum Func {
    Lambda { def: Arc<Lambda>, env: Rc<Frame>, input: Option<Val> },
    Builtin(&'static Builtin),
    Native(NativeFunction),
    /// Arguments with `None` for each `?` placeholder.
    Partial(Rc<Func>, Vec<Option<Option<Val>>>),
    Regex(Arc<regex_lite::Regex>),
    /// A regex match's `next()`: the following match in the same string, from a byte offset.
    RegexNext(Arc<regex_lite::Regex>, std::rc::Rc<str>, usize),
    Transform { def: Arc<Transform>, env: Rc<Frame> },
    /// `f ~> g`: g(f(…)).
    Compose(Rc<Func>, Rc<Func>),
}

impl Func {
    /// How many arguments a higher-order function should pass to this one.
    pub fn arity(&self) -> usize {
        match self {
            Func::Lambda { def, .. } => def.params.len(),
            Func::Builtin(b) => b.min.max(1),
            Func::Native(..) => 1,
            Func::Partial(_, args) => args.iter().filter(|a| a.is_none()).count(),
            Func::Regex(_) | Func::Transform { .. } => 1,
            Func::RegexNext(..) => 0,
            Func::Compose(f, _) => f.arity(),
        }
    }
}
