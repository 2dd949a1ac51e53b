//! The built-in function library (<https://docs.jsonata.org/string-functions> and the
//! numeric, aggregation, boolean, array, object, higher-order and date/time pages):
//! a table of name, arity, whether the context stands in for a missing first argument,
//! and the implementation. Argument checks raise JSONata's T0410/T0412 codes.

mod collections;
mod numbers;
mod strings;

use std::rc::Rc;

use collections::*;
use numbers::*;
use strings::*;

pub use numbers::round_half_even;
pub use strings::regex_match_object;

use crate::eval::{err, truthy, Ev, R};
use crate::func::Func;
use crate::value::Val;
use crate::JsonataError;

pub type Args<'x> = &'x [Option<Val>];

pub struct Builtin {
    pub name: &'static str,
    /// Required arguments (fewer, with `context`, means the context is the first).
    pub min: usize,
    pub max: usize,
    pub context: bool,
    pub f: fn(&Ev, Args, usize) -> R,
}

macro_rules! b {
    ($name:literal, $min:expr, $max:expr, $ctx:expr, $f:expr) => {
        Builtin { name: $name, min: $min, max: $max, context: $ctx, f: $f }
    };
}

static BUILTINS: &[Builtin] = &[
    // strings
    b!("string", 1, 2, true, string),
    b!("length", 1, 1, true, length),
    b!("substring", 2, 3, true, substring),
    b!("substringBefore", 2, 2, true, substring_before),
    b!("substringAfter", 2, 2, true, substring_after),
    b!("uppercase", 1, 1, true, |_, a, p| map_str(a, p, "uppercase", |s| s.to_uppercase())),
    b!("lowercase", 1, 1, true, |_, a, p| map_str(a, p, "lowercase", |s| s.to_lowercase())),
    b!("trim", 1, 1, true, |_, a, p| map_str(a, p, "trim", |s| s.split([' ', '\t', '\n', '\r']).filter(|w| !w.is_empty()).collect::<Vec<_>>().join(" "))),
    b!("pad", 2, 3, true, pad),
    b!("contains", 2, 2, true, contains),
    b!("split", 2, 3, true, split),
    b!("join", 1, 2, false, join),
    b!("match", 2, 3, true, match_fn),
    b!("replace", 3, 4, true, replace),
    b!("eval", 1, 2, false, eval_fn),
    b!("base64encode", 1, 1, true, |_, a, p| map_str(a, p, "base64encode", crate::encoding::base64_encode)),
    b!("base64decode", 1, 1, true, base64decode),
    b!("encodeUrlComponent", 1, 1, true, |_, a, p| map_str(a, p, "encodeUrlComponent", |s| crate::encoding::encode_uri(s, true))),
    b!("encodeUrl", 1, 1, true, |_, a, p| map_str(a, p, "encodeUrl", |s| crate::encoding::encode_uri(s, false))),
    b!("decodeUrlComponent", 1, 1, true, |_, a, p| decode_url(a, p, "decodeUrlComponent", true)),
    b!("decodeUrl", 1, 1, true, |_, a, p| decode_url(a, p, "decodeUrl", false)),
    b!("formatNumber", 2, 3, true, crate::format::format_number),
    b!("formatBase", 1, 2, true, crate::format::format_base),
    b!("formatInteger", 2, 2, true, crate::format::format_integer),
    b!("parseInteger", 2, 2, true, crate::format::parse_integer),
    // numbers
    b!("number", 1, 1, true, number),
    b!("abs", 1, 1, true, |_, a, p| map_num(a, p, "abs", f64::abs)),
    b!("floor", 1, 1, true, |_, a, p| map_num(a, p, "floor", f64::floor)),
    b!("ceil", 1, 1, true, |_, a, p| map_num(a, p, "ceil", f64::ceil)),
    b!("round", 1, 2, true, round),
    b!("power", 2, 2, true, power),
    b!("sqrt", 1, 1, true, sqrt),
    b!("random", 0, 0, false, |_, _, _| Ok(Some(Val::Num(rand::random::<f64>())))),
    // aggregation
    b!("sum", 1, 1, false, |_, a, p| aggregate(a, p, "sum", |n| Some(n.iter().sum()))),
    b!("max", 1, 1, false, |_, a, p| aggregate(a, p, "max", |n| n.iter().copied().reduce(f64::max))),
    b!("min", 1, 1, false, |_, a, p| aggregate(a, p, "min", |n| n.iter().copied().reduce(f64::min))),
    b!("average", 1, 1, false, |_, a, p| {
        aggregate(a, p, "average", |n| if n.is_empty() { None } else { Some(n.iter().sum::<f64>() / n.len() as f64) })
    }),
    b!("count", 1, 1, true, |_, a, _| Ok(Some(Val::Num(match arg(a, 0) {
        None => 0.0,
        Some(Val::Arr(x, _)) => x.len() as f64,
        Some(_) => 1.0,
    })))),
    // booleans
    b!("boolean", 1, 1, true, |_, a, _| Ok(arg(a, 0).map(|v| Val::Bool(truthy(&Some(v)))))),
    b!("not", 1, 1, true, |_, a, _| Ok(arg(a, 0).map(|v| Val::Bool(!truthy(&Some(v)))))),
    b!("exists", 1, 1, false, |_, a, _| Ok(Some(Val::Bool(arg(a, 0).is_some())))),
    // arrays
    b!("append", 2, 2, false, |_, a, _| Ok(crate::eval::append(arg(a, 0), arg(a, 1)).map(|v| v.with_flags(0)))),
    b!("sort", 1, 2, false, sort),
    b!("reverse", 1, 1, false, |_, a, _| Ok(arg(a, 0).map(|v| {
        let mut items = v.items();
        items.reverse();
        Val::array(items)
    }))),
    b!("shuffle", 1, 1, false, shuffle),
    b!("distinct", 1, 1, false, distinct),
    b!("zip", 1, usize::MAX, false, zip),
    b!("map", 2, 2, false, map),
    b!("filter", 2, 2, false, filter),
    b!("single", 1, 2, false, single),
    b!("reduce", 2, 3, false, reduce),
    b!("each", 2, 2, true, each),
    b!("sift", 2, 2, true, sift),
    // objects
    b!("keys", 1, 1, true, keys),
    b!("lookup", 2, 2, true, lookup_fn),
    b!("spread", 1, 1, true, spread),
    b!("merge", 1, 1, false, merge),
    b!("clone", 1, 1, false, |_, a, _| Ok(arg(a, 0))),
    b!("type", 1, 1, false, |_, a, _| Ok(arg(a, 0).map(|v| Val::str(v.type_name())))),
    b!("error", 0, 1, false, error),
    b!("assert", 2, 2, false, assert),
    // date/time
    b!("now", 0, 2, false, crate::datetime::now),
    b!("millis", 0, 0, false, crate::datetime::millis),
    b!("fromMillis", 1, 3, true, crate::datetime::from_millis),
    b!("toMillis", 1, 2, true, crate::datetime::to_millis),
];

/// The longest string a function will build (JavaScript's own limit is near 2^29).
const MAX_STRING: i64 = 1 << 28;

pub fn lookup(name: &str) -> Option<&'static Builtin> {
    BUILTINS.iter().find(|b| b.name == name)
}

pub fn arg(a: Args, i: usize) -> Option<Val> {
    a.get(i).cloned().flatten()
}

pub fn bad_arg(name: &str, i: usize, pos: usize) -> JsonataError {
    err("T0410", pos, format!("Argument {} of function \"{name}\" does not match function signature", i + 1))
}

/// A string argument (undefined stays undefined).
pub fn str_arg(a: Args, i: usize, name: &str, pos: usize) -> Result<Option<Rc<str>>, JsonataError> {
    match arg(a, i) {
        None => Ok(None),
        Some(Val::Str(s)) => Ok(Some(s)),
        Some(_) => Err(bad_arg(name, i, pos)),
    }
}

pub fn num_arg(a: Args, i: usize, name: &str, pos: usize) -> Result<Option<f64>, JsonataError> {
    match arg(a, i) {
        None => Ok(None),
        Some(Val::Num(n)) => Ok(Some(n)),
        Some(_) => Err(bad_arg(name, i, pos)),
    }
}

fn func_arg(a: Args, i: usize, name: &str, pos: usize) -> Result<Rc<Func>, JsonataError> {
    match arg(a, i) {
        Some(Val::Func(f)) => Ok(f),
        _ => Err(bad_arg(name, i, pos)),
    }
}

/// JavaScript's string ordering (UTF-16 code units).
pub fn cmp_utf16(a: &str, b: &str) -> std::cmp::Ordering {
    a.encode_utf16().cmp(b.encode_utf16())
}

fn map_str(a: Args, pos: usize, name: &str, f: impl Fn(&str) -> String) -> R {
    Ok(str_arg(a, 0, name, pos)?.map(|s| Val::string(f(&s))))
}

fn map_num(a: Args, pos: usize, name: &str, f: impl Fn(f64) -> f64) -> R {
    Ok(num_arg(a, 0, name, pos)?.map(|n| Val::Num(f(n))))
}
