//! The built-in function library (<https://docs.jsonata.org/string-functions> and the
//! numeric, aggregation, boolean, array, object, higher-order and date/time pages):
//! a table of name, arity, whether the context stands in for a missing first argument,
//! and the implementation. Argument checks raise JSONata's T0410/T0412 codes.

use std::rc::Rc;

use indexmap::IndexMap;

use crate::eval::{err, field, normalize, truthy, Ev, R};
use crate::func::Func;
use crate::value::{deep_equal, js_number_string, stringify, Obj, Val};
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

// ---- strings ----

fn string(_: &Ev, a: Args, pos: usize) -> R {
    let pretty = match arg(a, 1) {
        None => false,
        Some(Val::Bool(b)) => b,
        Some(_) => return Err(bad_arg("string", 1, pos)),
    };
    Ok(match arg(a, 0) {
        None => None,
        Some(Val::Str(s)) => Some(Val::Str(s)),
        Some(Val::Func(_)) => Some(Val::str("")),
        Some(Val::Num(n)) if !n.is_finite() => {
            return Err(err("D3001", pos, "Attempting to invoke string function on Infinity or NaN"))
        }
        Some(v) => Some(Val::string(stringify(&v, pretty))),
    })
}

fn length(_: &Ev, a: Args, pos: usize) -> R {
    Ok(str_arg(a, 0, "length", pos)?.map(|s| Val::Num(s.chars().count() as f64)))
}

fn substring(_: &Ev, a: Args, pos: usize) -> R {
    let Some(s) = str_arg(a, 0, "substring", pos)? else { return Ok(None) };
    let start = num_arg(a, 1, "substring", pos)?.ok_or_else(|| bad_arg("substring", 1, pos))?;
    let len = num_arg(a, 2, "substring", pos)?;
    let chars: Vec<char> = s.chars().collect();
    let n = chars.len() as i64;
    let mut start = start.trunc() as i64;
    if n.saturating_add(start) < 0 {
        start = 0;
    }
    let from = if start < 0 { (n + start).max(0) } else { start.min(n) };
    let to = match len {
        None => n,
        Some(l) if l <= 0.0 => return Ok(Some(Val::str(""))),
        Some(l) => {
            let l = l.trunc() as i64;
            let end = if start >= 0 { start.saturating_add(l) } else { (n + start).saturating_add(l) };
            end.clamp(0, n)
        }
    };
    if to <= from {
        return Ok(Some(Val::str("")));
    }
    Ok(Some(Val::string(chars[from as usize..to as usize].iter().collect())))
}

fn substring_before(_: &Ev, a: Args, pos: usize) -> R {
    let Some(s) = str_arg(a, 0, "substringBefore", pos)? else { return Ok(None) };
    let Some(c) = str_arg(a, 1, "substringBefore", pos)? else { return Ok(Some(Val::Str(s))) };
    Ok(Some(match s.find(&*c) {
        Some(i) => Val::str(&s[..i]),
        None => Val::Str(s),
    }))
}

fn substring_after(_: &Ev, a: Args, pos: usize) -> R {
    let Some(s) = str_arg(a, 0, "substringAfter", pos)? else { return Ok(None) };
    let Some(c) = str_arg(a, 1, "substringAfter", pos)? else { return Ok(Some(Val::Str(s))) };
    Ok(Some(match s.find(&*c) {
        Some(i) => Val::str(&s[i + c.len()..]),
        None => Val::Str(s),
    }))
}

fn pad(_: &Ev, a: Args, pos: usize) -> R {
    let Some(s) = str_arg(a, 0, "pad", pos)? else { return Ok(None) };
    let width = num_arg(a, 1, "pad", pos)?.ok_or_else(|| bad_arg("pad", 1, pos))?;
    let ch = str_arg(a, 2, "pad", pos)?.map(|c| c.to_string()).unwrap_or_else(|| " ".into());
    let len = s.chars().count() as i64;
    let pad_len = width.abs().trunc() as i64 - len;
    if pad_len <= 0 || ch.is_empty() {
        return Ok(Some(Val::Str(s)));
    }
    if pad_len > MAX_STRING {
        return Err(err("D1001", pos, format!("Number out of range: {}", js_number_string(width))));
    }
    let padding: String = ch.chars().cycle().take(pad_len as usize).collect();
    Ok(Some(Val::string(if width > 0.0 { format!("{s}{padding}") } else { format!("{padding}{s}") })))
}

enum Pattern {
    Str(Rc<str>),
    Re(std::sync::Arc<regex_lite::Regex>),
    /// A user-defined matcher: called with the string, it returns a match object
    /// (`match`, `start`, `end`, `groups`, `next()`) or undefined.
    Custom(Rc<Func>),
}

fn pattern_arg(a: Args, i: usize, name: &str, pos: usize) -> Result<Option<Pattern>, JsonataError> {
    match arg(a, i) {
        None => Ok(None),
        Some(Val::Str(s)) => Ok(Some(Pattern::Str(s))),
        Some(Val::Func(f)) => match &*f {
            Func::Regex(re) => Ok(Some(Pattern::Re(re.clone()))),
            _ => Ok(Some(Pattern::Custom(f.clone()))),
        },
        Some(_) => Err(bad_arg(name, i, pos)),
    }
}

/// The matches a custom matcher reports, following `next()` until undefined.
fn custom_matches(ev: &Ev, f: &Rc<Func>, s: &Rc<str>, limit: Option<usize>, name: &str, pos: usize) -> Result<Vec<Match>, JsonataError> {
    let bad = || {
        err("T1010", pos, format!("The matcher function argument passed to function \"{name}\" does not return the correct object structure"))
    };
    let chars: Vec<(usize, char)> = s.char_indices().collect();
    let byte_at = |i: f64| -> Option<usize> {
        if i < 0.0 || i.fract() != 0.0 {
            return None;
        }
        let i = i as usize;
        if i == chars.len() {
            Some(s.len())
        } else {
            chars.get(i).map(|(b, _)| *b)
        }
    };
    let mut out = Vec::new();
    let mut cur = ev.apply(f, vec![Some(Val::Str(s.clone()))], &None, pos)?;
    while limit.is_none_or(|l| out.len() < l) {
        let Some(Val::Obj(o)) = cur else { break };
        let text = o.get("match").and_then(|v| v.as_str()).ok_or_else(bad)?.to_string();
        let start = o.get("start").and_then(Val::as_num).and_then(byte_at).ok_or_else(bad)?;
        let end = o.get("end").and_then(Val::as_num).and_then(byte_at).ok_or_else(bad)?;
        let groups = match o.get("groups") {
            Some(Val::Arr(g, _)) => g.iter().map(|x| x.as_str().map(str::to_string).ok_or_else(bad)).collect::<Result<_, _>>()?,
            None => Vec::new(),
            Some(_) => return Err(bad()),
        };
        if end < start {
            return Err(bad());
        }
        out.push(Match { start, end, text, groups });
        cur = match o.get("next") {
            Some(Val::Func(next)) => ev.apply(next, Vec::new(), &None, pos)?,
            _ => None,
        };
    }
    Ok(out)
}

struct Match {
    start: usize,
    end: usize,
    text: String,
    groups: Vec<String>,
}

fn find_all(re: &regex_lite::Regex, s: &str, limit: Option<usize>, pos: usize) -> Result<Vec<Match>, JsonataError> {
    let mut out = Vec::new();
    for caps in re.captures_iter(s) {
        if limit.is_some_and(|l| out.len() >= l) {
            break;
        }
        let Some(m) = caps.get(0) else { continue };
        if m.as_str().is_empty() {
            return Err(err("D1004", pos, "Regular expression matches zero length string"));
        }
        let groups = (1..caps.len()).map(|g| caps.get(g).map(|x| x.as_str().to_string()).unwrap_or_default()).collect();
        out.push(Match { start: m.start(), end: m.end(), text: m.as_str().to_string(), groups });
    }
    Ok(out)
}

fn char_index(s: &str, byte: usize) -> f64 {
    s[..byte].chars().count() as f64
}

/// The object a regex applied as a function returns: match, start, end, groups, and
/// `next()`, which gives the following match (undefined after the last).
pub fn regex_match_object(re: &std::sync::Arc<regex_lite::Regex>, s: &Rc<str>, from: usize) -> Option<Val> {
    if from > s.len() {
        return None;
    }
    let caps = re.captures_at(s, from)?;
    let m = caps.get(0)?;
    // After an empty match, move on by one character so next() always advances.
    let next_from = if m.end() > m.start() { m.end() } else { s[m.end()..].chars().next().map_or(s.len() + 1, |c| m.end() + c.len_utf8()) };
    let mut o: Obj = IndexMap::new();
    o.insert("match".into(), Val::str(m.as_str()));
    o.insert("start".into(), Val::Num(char_index(s, m.start())));
    o.insert("end".into(), Val::Num(char_index(s, m.end())));
    let groups = (1..caps.len()).map(|g| Val::str(caps.get(g).map(|x| x.as_str()).unwrap_or(""))).collect();
    o.insert("groups".into(), Val::array(groups));
    o.insert("next".into(), Val::Func(Rc::new(Func::RegexNext(re.clone(), s.clone(), next_from))));
    Some(Val::object(o))
}

fn contains(ev: &Ev, a: Args, pos: usize) -> R {
    let Some(s) = str_arg(a, 0, "contains", pos)? else { return Ok(None) };
    Ok(Some(Val::Bool(match pattern_arg(a, 1, "contains", pos)? {
        None => return Err(bad_arg("contains", 1, pos)),
        Some(Pattern::Str(p)) => s.contains(&*p),
        Some(Pattern::Re(re)) => re.is_match(&s),
        Some(Pattern::Custom(f)) => !custom_matches(ev, &f, &s, Some(1), "contains", pos)?.is_empty(),
    })))
}

fn limit_arg(a: Args, i: usize, name: &str, code: &str, msg: &str, pos: usize) -> Result<Option<usize>, JsonataError> {
    match num_arg(a, i, name, pos)? {
        None => Ok(None),
        Some(n) if n < 0.0 => Err(err(code, pos, msg)),
        Some(n) => Ok(Some(n.floor() as usize)),
    }
}

fn split(ev: &Ev, a: Args, pos: usize) -> R {
    let Some(s) = str_arg(a, 0, "split", pos)? else { return Ok(None) };
    let sep = pattern_arg(a, 1, "split", pos)?.ok_or_else(|| bad_arg("split", 1, pos))?;
    let limit = limit_arg(a, 2, "split", "D3020", "Third argument of split function must evaluate to a positive number", pos)?;
    let mut parts: Vec<String> = match sep {
        Pattern::Str(p) if p.is_empty() => s.chars().map(|c| c.to_string()).collect(),
        Pattern::Str(p) => s.split(&*p).map(str::to_string).collect(),
        Pattern::Re(re) => {
            let mut out = Vec::new();
            let mut last = 0;
            for m in re.find_iter(&s) {
                if m.as_str().is_empty() {
                    continue;
                }
                out.push(s[last..m.start()].to_string());
                last = m.end();
            }
            out.push(s[last..].to_string());
            out
        }
        Pattern::Custom(f) => {
            let mut out = Vec::new();
            let mut last = 0;
            for m in custom_matches(ev, &f, &s, None, "split", pos)? {
                if m.start >= last {
                    out.push(s[last..m.start].to_string());
                    last = m.end;
                }
            }
            out.push(s[last..].to_string());
            out
        }
    };
    if let Some(l) = limit {
        parts.truncate(l);
    }
    Ok(Some(Val::array(parts.into_iter().map(Val::string).collect())))
}

fn join(_: &Ev, a: Args, pos: usize) -> R {
    let Some(v) = arg(a, 0) else { return Ok(None) };
    let sep = str_arg(a, 1, "join", pos)?.map(|s| s.to_string()).unwrap_or_default();
    let mut parts = Vec::new();
    for item in v.items() {
        match item {
            Val::Str(s) => parts.push(s.to_string()),
            _ => return Err(err("T0412", pos, "Argument 1 of function \"join\" must be an array of strings")),
        }
    }
    Ok(Some(Val::string(parts.join(&sep))))
}

fn match_fn(ev: &Ev, a: Args, pos: usize) -> R {
    let Some(s) = str_arg(a, 0, "match", pos)? else { return Ok(None) };
    let pattern = pattern_arg(a, 1, "match", pos)?;
    let limit = limit_arg(a, 2, "match", "D3040", "Third argument of match function must evaluate to a positive number", pos)?;
    let matches = match pattern {
        Some(Pattern::Re(re)) => find_all(&re, &s, limit, pos)?,
        Some(Pattern::Custom(f)) => custom_matches(ev, &f, &s, limit, "match", pos)?,
        _ => return Err(bad_arg("match", 1, pos)),
    };
    let out = matches
        .into_iter()
        .map(|m| {
            let mut o: Obj = IndexMap::new();
            o.insert("match".into(), Val::string(m.text));
            o.insert("index".into(), Val::Num(char_index(&s, m.start)));
            o.insert("groups".into(), Val::array(m.groups.into_iter().map(Val::string).collect()));
            Val::object(o)
        })
        .collect();
    Ok(Some(Val::seq(out)))
}

/// Expands `$0`, `$1`…, `$$` in a regex replacement string.
fn expand(replacement: &str, m: &Match) -> String {
    let chars: Vec<char> = replacement.chars().collect();
    let mut out = String::new();
    let mut i = 0;
    while i < chars.len() {
        if chars[i] != '$' {
            out.push(chars[i]);
            i += 1;
            continue;
        }
        if chars.get(i + 1) == Some(&'$') {
            out.push('$');
            i += 2;
            continue;
        }
        let mut j = i + 1;
        while j < chars.len() && chars[j].is_ascii_digit() {
            j += 1;
        }
        if j == i + 1 {
            out.push('$');
            i += 1;
            continue;
        }
        // The longest digit run naming an existing group (a lone digit always consumes).
        let digits: String = chars[i + 1..j].iter().collect();
        let mut k = digits.len();
        loop {
            let n: usize = digits[..k].parse().unwrap_or(0);
            if n <= m.groups.len() || k == 1 {
                if n == 0 {
                    out.push_str(&m.text);
                } else if n <= m.groups.len() {
                    out.push_str(&m.groups[n - 1]);
                }
                out.push_str(&digits[k..]);
                break;
            }
            k -= 1;
        }
        i = j;
    }
    out
}

fn replace(ev: &Ev, a: Args, pos: usize) -> R {
    let Some(s) = str_arg(a, 0, "replace", pos)? else { return Ok(None) };
    let pattern = pattern_arg(a, 1, "replace", pos)?.ok_or_else(|| bad_arg("replace", 1, pos))?;
    if matches!(&pattern, Pattern::Str(p) if p.is_empty()) {
        return Err(err("D3010", pos, "Second argument of replace function cannot be an empty string"));
    }
    let replacement = arg(a, 2);
    let limit = limit_arg(a, 3, "replace", "D3011", "Fourth argument of replace function must evaluate to a positive number", pos)?;
    let matches: Vec<Match> = match &pattern {
        Pattern::Str(p) => s
            .match_indices(&**p)
            .take(limit.unwrap_or(usize::MAX))
            .map(|(i, t)| Match { start: i, end: i + t.len(), text: t.to_string(), groups: Vec::new() })
            .collect(),
        Pattern::Re(re) => find_all(re, &s, limit, pos)?,
        Pattern::Custom(f) => custom_matches(ev, f, &s, limit, "replace", pos)?,
    };
    let mut out = String::new();
    let mut last = 0;
    for m in &matches {
        // A custom matcher could report overlapping or out-of-order matches: skip those.
        if m.start < last {
            continue;
        }
        out.push_str(&s[last..m.start]);
        match &replacement {
            Some(Val::Str(r)) => match pattern {
                Pattern::Str(_) => out.push_str(r),
                Pattern::Re(_) | Pattern::Custom(_) => out.push_str(&expand(r, m)),
            },
            Some(Val::Func(f)) => {
                let mut o: Obj = IndexMap::new();
                o.insert("match".into(), Val::str(&m.text));
                o.insert("index".into(), Val::Num(char_index(&s, m.start)));
                o.insert("groups".into(), Val::array(m.groups.iter().map(|g| Val::str(g)).collect()));
                match ev.apply(f, vec![Some(Val::object(o))], &None, pos)? {
                    Some(Val::Str(r)) => out.push_str(&r),
                    other => {
                        return Err(err(
                            "D3012",
                            pos,
                            format!("Attempted to replace a matched string with a non-string value: {}", other.map(|v| stringify(&v, false)).unwrap_or_default()),
                        ))
                    }
                }
            }
            _ => return Err(bad_arg("replace", 2, pos)),
        }
        last = m.end;
    }
    out.push_str(&s[last..]);
    Ok(Some(Val::string(out)))
}

fn eval_fn(ev: &Ev, a: Args, pos: usize) -> R {
    let Some(text) = str_arg(a, 0, "eval", pos)? else { return Ok(None) };
    let node = crate::parser::parse(&text)
        .map_err(|e| err("D3120", pos, format!("Syntax error in expression passed to function eval: {}", e.message)))?;
    let ctx = if a.len() > 1 { arg(a, 1) } else { ev.call_context.borrow().clone() };
    let frame = ev.new_frame(None);
    ev.eval(&node, &ctx, &frame)
        .map_err(|e| err("D3121", pos, format!("Dynamic error evaluating the expression passed to function eval: {}", e.message)))
}

fn base64decode(_: &Ev, a: Args, pos: usize) -> R {
    let Some(s) = str_arg(a, 0, "base64decode", pos)? else { return Ok(None) };
    Ok(Some(Val::string(crate::encoding::base64_decode(&s))))
}

fn decode_url(a: Args, pos: usize, name: &str, component: bool) -> R {
    let Some(s) = str_arg(a, 0, name, pos)? else { return Ok(None) };
    match crate::encoding::decode_uri(&s, component) {
        Some(d) => Ok(Some(Val::string(d))),
        None => Err(err("D3140", pos, format!("Malformed URL passed to ${name}(): {s:?}"))),
    }
}

// ---- numbers ----

/// JSONata's `$number` string syntax: JSON numbers, plus 0x/0o/0b integers.
pub fn parse_number(s: &str) -> Option<f64> {
    let t = s.trim();
    let lower = t.to_ascii_lowercase();
    for (prefix, radix) in [("0x", 16), ("0o", 8), ("0b", 2)] {
        if let Some(rest) = lower.strip_prefix(prefix) {
            return i64::from_str_radix(rest, radix).ok().map(|n| n as f64);
        }
    }
    let b = t.as_bytes();
    let mut i = 0;
    if b.first() == Some(&b'-') {
        i += 1;
    }
    let int_start = i;
    while i < b.len() && b[i].is_ascii_digit() {
        i += 1;
    }
    if i == int_start || (b[int_start] == b'0' && i - int_start > 1) {
        return None;
    }
    if i < b.len() && b[i] == b'.' {
        i += 1;
        let f = i;
        while i < b.len() && b[i].is_ascii_digit() {
            i += 1;
        }
        if i == f {
            return None;
        }
    }
    if i < b.len() && (b[i] == b'e' || b[i] == b'E') {
        i += 1;
        if i < b.len() && (b[i] == b'+' || b[i] == b'-') {
            i += 1;
        }
        let e = i;
        while i < b.len() && b[i].is_ascii_digit() {
            i += 1;
        }
        if i == e {
            return None;
        }
    }
    if i != b.len() || t.len() != s.len() {
        return None;
    }
    t.parse().ok().filter(|n: &f64| n.is_finite())
}

fn number(_: &Ev, a: Args, pos: usize) -> R {
    Ok(match arg(a, 0) {
        None => None,
        Some(Val::Num(n)) => Some(Val::Num(n)),
        Some(Val::Bool(b)) => Some(Val::Num(if b { 1.0 } else { 0.0 })),
        Some(Val::Str(s)) => match parse_number(&s) {
            Some(n) => Some(Val::Num(n)),
            None => return Err(err("D3030", pos, format!("Unable to cast value to a number: {:?}", s.to_string()))),
        },
        Some(v) => return Err(err("D3030", pos, format!("Unable to cast value to a number: {}", stringify(&v, false)))),
    })
}

/// Round half to even at `precision` decimal places, moving the decimal point in the
/// number's decimal text so that 2.675 stays 2.675 (not 2.67499…) before rounding.
pub fn round_half_even(n: f64, precision: i32) -> f64 {
    let shifted = shift10(n, precision);
    let t = shifted.trunc();
    let r = if (shifted - t).abs() == 0.5 {
        if t % 2.0 == 0.0 {
            t
        } else {
            t + shifted.signum()
        }
    } else {
        shifted.round()
    };
    let out = shift10(r, precision.saturating_neg());
    if out == 0.0 {
        0.0
    } else {
        out
    }
}

fn shift10(x: f64, p: i32) -> f64 {
    if p == 0 || x == 0.0 || !x.is_finite() {
        return x;
    }
    let s = format!("{x:e}");
    let Some((m, e)) = s.split_once('e') else { return x };
    let e: i32 = e.parse().unwrap_or(0);
    format!("{m}e{}", e.saturating_add(p)).parse().unwrap_or(x)
}

fn round(_: &Ev, a: Args, pos: usize) -> R {
    let Some(n) = num_arg(a, 0, "round", pos)? else { return Ok(None) };
    let p = num_arg(a, 1, "round", pos)?.unwrap_or(0.0).trunc().clamp(-400.0, 400.0) as i32;
    Ok(Some(Val::Num(round_half_even(n, p))))
}

fn power(_: &Ev, a: Args, pos: usize) -> R {
    let Some(b) = num_arg(a, 0, "power", pos)? else { return Ok(None) };
    let e = num_arg(a, 1, "power", pos)?.ok_or_else(|| bad_arg("power", 1, pos))?;
    let r = b.powf(e);
    if !r.is_finite() {
        return Err(err(
            "D3061",
            pos,
            format!(
                "The power function has resulted in a value that cannot be represented as a JSON number: base={}, exponent={}",
                js_number_string(b),
                js_number_string(e)
            ),
        ));
    }
    Ok(Some(Val::Num(r)))
}

fn sqrt(_: &Ev, a: Args, pos: usize) -> R {
    let Some(n) = num_arg(a, 0, "sqrt", pos)? else { return Ok(None) };
    if n < 0.0 {
        return Err(err("D3060", pos, format!("The sqrt function cannot be applied to a negative number: {}", js_number_string(n))));
    }
    Ok(Some(Val::Num(n.sqrt())))
}

fn aggregate(a: Args, pos: usize, name: &str, f: impl Fn(&[f64]) -> Option<f64>) -> R {
    let Some(v) = arg(a, 0) else { return Ok(None) };
    let mut nums = Vec::new();
    for item in v.items() {
        match item {
            Val::Num(n) => nums.push(n),
            _ => return Err(err("T0412", pos, format!("Argument 1 of function \"{name}\" must be an array of numbers"))),
        }
    }
    Ok(f(&nums).map(Val::Num))
}

// ---- arrays ----

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

fn sort(ev: &Ev, a: Args, pos: usize) -> R {
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

fn shuffle(_: &Ev, a: Args, _: usize) -> R {
    use rand::seq::SliceRandom;
    let Some(v) = arg(a, 0) else { return Ok(None) };
    let mut items = v.items();
    items.shuffle(&mut rand::thread_rng());
    Ok(Some(Val::array(items)))
}

fn distinct(_: &Ev, a: Args, _: usize) -> R {
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

fn zip(_: &Ev, a: Args, _: usize) -> R {
    let lists: Vec<Vec<Val>> = a.iter().map(|x| x.as_ref().map(|v| v.items()).unwrap_or_default()).collect();
    let n = lists.iter().map(Vec::len).min().unwrap_or(0);
    Ok(Some(Val::array((0..n).map(|i| Val::array(lists.iter().map(|l| l[i].clone()).collect())).collect())))
}

fn hof_items(a: Args) -> Option<(Val, Vec<Val>)> {
    let v = arg(a, 0)?;
    let items = v.items();
    Some((Val::array(items.clone()), items))
}

fn map(ev: &Ev, a: Args, pos: usize) -> R {
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

fn filter(ev: &Ev, a: Args, pos: usize) -> R {
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

fn single(ev: &Ev, a: Args, pos: usize) -> R {
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

fn reduce(ev: &Ev, a: Args, pos: usize) -> R {
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

fn each(ev: &Ev, a: Args, pos: usize) -> R {
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

fn sift(ev: &Ev, a: Args, pos: usize) -> R {
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

fn keys(_: &Ev, a: Args, _: usize) -> R {
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

fn lookup_fn(_: &Ev, a: Args, pos: usize) -> R {
    let Some(v) = arg(a, 0) else { return Ok(None) };
    let key = str_arg(a, 1, "lookup", pos)?.ok_or_else(|| bad_arg("lookup", 1, pos))?;
    Ok(normalize(field(&v, &key)))
}

fn spread(_: &Ev, a: Args, _: usize) -> R {
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

fn merge(_: &Ev, a: Args, pos: usize) -> R {
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

fn error(_: &Ev, a: Args, pos: usize) -> R {
    let msg = str_arg(a, 0, "error", pos)?.map(|s| s.to_string()).unwrap_or_else(|| "$error() function evaluated".into());
    Err(err("D3137", pos, msg))
}

fn assert(_: &Ev, a: Args, pos: usize) -> R {
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

