//! String functions (<https://docs.jsonata.org/string-functions>): casting, slicing, case,
//! padding, and the regex-aware `$contains`/`$split`/`$match`/`$replace` (regex literals,
//! strings or custom matcher functions), `$eval`, base64 and URL coding.

use std::rc::Rc;

use indexmap::IndexMap;

use super::*;
use crate::eval::{err, Ev, R};
use crate::func::Func;
use crate::value::{js_number_string, stringify, Obj, Val};
use crate::JsonataError;

pub(super) fn string(_: &Ev, a: Args, pos: usize) -> R {
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

pub(super) fn length(_: &Ev, a: Args, pos: usize) -> R {
    Ok(str_arg(a, 0, "length", pos)?.map(|s| Val::Num(s.chars().count() as f64)))
}

pub(super) fn substring(_: &Ev, a: Args, pos: usize) -> R {
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

pub(super) fn substring_before(_: &Ev, a: Args, pos: usize) -> R {
    let Some(s) = str_arg(a, 0, "substringBefore", pos)? else { return Ok(None) };
    let Some(c) = str_arg(a, 1, "substringBefore", pos)? else { return Ok(Some(Val::Str(s))) };
    Ok(Some(match s.find(&*c) {
        Some(i) => Val::str(&s[..i]),
        None => Val::Str(s),
    }))
}

pub(super) fn substring_after(_: &Ev, a: Args, pos: usize) -> R {
    let Some(s) = str_arg(a, 0, "substringAfter", pos)? else { return Ok(None) };
    let Some(c) = str_arg(a, 1, "substringAfter", pos)? else { return Ok(Some(Val::Str(s))) };
    Ok(Some(match s.find(&*c) {
        Some(i) => Val::str(&s[i + c.len()..]),
        None => Val::Str(s),
    }))
}

pub(super) fn pad(_: &Ev, a: Args, pos: usize) -> R {
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

pub(super) enum Pattern {
    Str(Rc<str>),
    Re(std::sync::Arc<regex_lite::Regex>),
    /// A user-defined matcher: called with the string, it returns a match object
    /// (`match`, `start`, `end`, `groups`, `next()`) or undefined.
    Custom(Rc<Func>),
}

pub(super) fn pattern_arg(a: Args, i: usize, name: &str, pos: usize) -> Result<Option<Pattern>, JsonataError> {
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
pub(super) fn custom_matches(ev: &Ev, f: &Rc<Func>, s: &Rc<str>, limit: Option<usize>, name: &str, pos: usize) -> Result<Vec<Match>, JsonataError> {
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

pub(super) struct Match {
    start: usize,
    end: usize,
    text: String,
    groups: Vec<String>,
}

pub(super) fn find_all(re: &regex_lite::Regex, s: &str, limit: Option<usize>, pos: usize) -> Result<Vec<Match>, JsonataError> {
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

pub(super) fn char_index(s: &str, byte: usize) -> f64 {
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

pub(super) fn contains(ev: &Ev, a: Args, pos: usize) -> R {
    let Some(s) = str_arg(a, 0, "contains", pos)? else { return Ok(None) };
    Ok(Some(Val::Bool(match pattern_arg(a, 1, "contains", pos)? {
        None => return Err(bad_arg("contains", 1, pos)),
        Some(Pattern::Str(p)) => s.contains(&*p),
        Some(Pattern::Re(re)) => re.is_match(&s),
        Some(Pattern::Custom(f)) => !custom_matches(ev, &f, &s, Some(1), "contains", pos)?.is_empty(),
    })))
}

pub(super) fn limit_arg(a: Args, i: usize, name: &str, code: &str, msg: &str, pos: usize) -> Result<Option<usize>, JsonataError> {
    match num_arg(a, i, name, pos)? {
        None => Ok(None),
        Some(n) if n < 0.0 => Err(err(code, pos, msg)),
        Some(n) => Ok(Some(n.floor() as usize)),
    }
}

pub(super) fn split(ev: &Ev, a: Args, pos: usize) -> R {
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

pub(super) fn join(_: &Ev, a: Args, pos: usize) -> R {
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

pub(super) fn match_fn(ev: &Ev, a: Args, pos: usize) -> R {
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
pub(super) fn expand(replacement: &str, m: &Match) -> String {
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

pub(super) fn replace(ev: &Ev, a: Args, pos: usize) -> R {
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

pub(super) fn eval_fn(ev: &Ev, a: Args, pos: usize) -> R {
    let Some(text) = str_arg(a, 0, "eval", pos)? else { return Ok(None) };
    let node = crate::parser::parse(&text)
        .map_err(|e| err("D3120", pos, format!("Syntax error in expression passed to function eval: {}", e.message)))?;
    let ctx = if a.len() > 1 { arg(a, 1) } else { ev.call_context.borrow().clone() };
    let frame = ev.new_frame(None);
    ev.eval(&node, &ctx, &frame)
        .map_err(|e| err("D3121", pos, format!("Dynamic error evaluating the expression passed to function eval: {}", e.message)))
}

pub(super) fn base64decode(_: &Ev, a: Args, pos: usize) -> R {
    let Some(s) = str_arg(a, 0, "base64decode", pos)? else { return Ok(None) };
    Ok(Some(Val::string(crate::encoding::base64_decode(&s))))
}

pub(super) fn decode_url(a: Args, pos: usize, name: &str, component: bool) -> R {
    let Some(s) = str_arg(a, 0, name, pos)? else { return Ok(None) };
    match crate::encoding::decode_uri(&s, component) {
        Some(d) => Ok(Some(Val::string(d))),
        None => Err(err("D3140", pos, format!("Malformed URL passed to ${name}(): {s:?}"))),
    }
}
