//! Space-delimited filter patterns: `[ip, user, ..., status_code = 4*, size > 1000]`
//! (<https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/FilterAndPatternSyntax.html>).
//!
//! A message is split into fields at spaces; text inside `"…"` or `[…]` is one field
//! (without its quotes or brackets). Each slot of the pattern names one field; `...`
//! stands for any number of fields (zero or more). Without `...` the message must have
//! exactly as many fields as the pattern. A slot may add conditions on its field:
//! `=` / `!=` (a number compares numerically, text may use `*` wildcards, `%regex%`),
//! `<`, `<=`, `>`, `>=` (numbers), joined with `&&` / `||` (`&&` binds tighter). A
//! condition names the slot's own field; naming another field in it is refused as not
//! supported. Matching tries every way `...` can stretch, remembering dead ends, so it
//! stays polynomial in the number of fields.

use crate::errors::{LogsError, LogsResult};
use crate::filter::glob;
use crate::filter_regex::Regex;
use std::collections::{BTreeMap, HashSet};

#[derive(Debug)]
pub struct SpacePattern {
    slots: Vec<Slot>,
    /// How many `%regex%` values the conditions hold.
    pub regexes: usize,
}

#[derive(Debug)]
enum Slot {
    Ellipsis,
    Field { name: String, cond: Option<Cond> },
}

#[derive(Debug)]
enum Cond {
    And(Box<Cond>, Box<Cond>),
    Or(Box<Cond>, Box<Cond>),
    Cmp(Op, Value),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Op {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
}

#[derive(Debug)]
enum Value {
    Number(f64),
    Text(String),
    Regex(Regex),
}

fn invalid(why: &str) -> LogsError {
    LogsError::InvalidParameter(format!("Invalid filter pattern: {why}"))
}

/// Splits at top-level commas (not inside quotes or `%…%`).
fn split_slots(inner: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let (mut quoted, mut regex) = (false, false);
    let mut escaped = false;
    for c in inner.chars() {
        if escaped {
            cur.push(c);
            escaped = false;
            continue;
        }
        match c {
            '\\' => {
                escaped = true;
                cur.push(c);
            }
            '"' if !regex => {
                quoted = !quoted;
                cur.push(c);
            }
            '%' if !quoted => {
                regex = !regex;
                cur.push(c);
            }
            ',' if !quoted && !regex => out.push(std::mem::take(&mut cur)),
            _ => cur.push(c),
        }
    }
    out.push(cur);
    out
}

struct SlotParser<'a> {
    chars: Vec<char>,
    i: usize,
    name: Option<String>,
    regexes: &'a mut usize,
}

impl SlotParser<'_> {
    fn ws(&mut self) {
        while self.chars.get(self.i).is_some_and(|c| c.is_whitespace()) {
            self.i += 1;
        }
    }

    fn eat(&mut self, s: &str) -> bool {
        self.ws();
        let n = s.chars().count();
        if self.chars.len() >= self.i + n && self.chars[self.i..self.i + n].iter().copied().eq(s.chars()) {
            self.i += n;
            true
        } else {
            false
        }
    }

    fn ident(&mut self) -> LogsResult<String> {
        self.ws();
        let start = self.i;
        while self.chars.get(self.i).is_some_and(|c| c.is_alphanumeric() || *c == '_' || *c == '-' || *c == '.') {
            self.i += 1;
        }
        let name: String = self.chars[start..self.i].iter().collect();
        if name.is_empty() {
            return Err(invalid(&format!("expected a field name at '{}'", self.chars[start..].iter().collect::<String>())));
        }
        Ok(name)
    }

    fn and(&mut self) -> LogsResult<Cond> {
        let mut left = self.cmp(false)?;
        while self.eat("&&") {
            left = Cond::And(Box::new(left), Box::new(self.cmp(false)?));
        }
        Ok(left)
    }

    /// `name op value`; the first condition's name was read by the caller.
    fn cmp(&mut self, named: bool) -> LogsResult<Cond> {
        if !named {
            let name = self.ident()?;
            if Some(&name) != self.name.as_ref() {
                return Err(LogsError::NotSupported(format!("A condition on field {name} inside the slot of field {}", self.name.clone().unwrap_or_default())));
            }
        }
        let op = [("!=", Op::Ne), ("<=", Op::Le), (">=", Op::Ge), ("=", Op::Eq), ("<", Op::Lt), (">", Op::Gt)]
            .into_iter()
            .find(|(s, _)| self.eat(s))
            .map(|(_, op)| op)
            .ok_or_else(|| invalid(&format!("expected a comparison operator at '{}'", self.chars[self.i..].iter().collect::<String>())))?;
        self.ws();
        let value = if self.chars.get(self.i) == Some(&'"') {
            let (text, next) = crate::filter_text::quoted(&self.chars, self.i)?;
            self.i = next;
            Value::Text(text)
        } else if self.chars.get(self.i) == Some(&'%') {
            let end = self.chars[self.i + 1..].iter().position(|c| *c == '%').ok_or_else(|| invalid("unterminated regular expression"))?;
            let term: String = self.chars[self.i..self.i + end + 2].iter().collect();
            self.i += end + 2;
            *self.regexes += 1;
            Value::Regex(Regex::parse(&term)?)
        } else {
            let start = self.i;
            while self.i < self.chars.len() && !self.chars[self.i].is_whitespace() {
                let two: String = self.chars[self.i..(self.i + 2).min(self.chars.len())].iter().collect();
                if two == "&&" || two == "||" {
                    break;
                }
                self.i += 1;
            }
            let w: String = self.chars[start..self.i].iter().collect();
            if w.is_empty() {
                return Err(invalid("missing value after the operator"));
            }
            match w.parse::<f64>() {
                Ok(n) if w.starts_with(|c: char| c.is_ascii_digit() || c == '-' || c == '+' || c == '.') => Value::Number(n),
                _ => Value::Text(w),
            }
        };
        if matches!(op, Op::Lt | Op::Le | Op::Gt | Op::Ge) && !matches!(value, Value::Number(_)) {
            return Err(invalid("<, <=, > and >= compare with numbers only"));
        }
        Ok(Cond::Cmp(op, value))
    }
}

pub fn parse(pattern: &str) -> LogsResult<SpacePattern> {
    let inner = pattern
        .trim()
        .strip_prefix('[')
        .and_then(|p| p.strip_suffix(']'))
        .ok_or_else(|| invalid("a space-delimited pattern must be enclosed in [ ]"))?;
    let mut slots = Vec::new();
    let mut regexes = 0;
    if inner.trim().is_empty() {
        return Err(invalid("a space-delimited pattern needs at least one field"));
    }
    for text in split_slots(inner) {
        let t = text.trim();
        if t == "..." {
            slots.push(Slot::Ellipsis);
            continue;
        }
        let mut p = SlotParser { chars: t.chars().collect(), i: 0, name: None, regexes: &mut regexes };
        let name = p.ident()?;
        p.name = Some(name.clone());
        p.ws();
        let cond = if p.i < p.chars.len() {
            // The first comparison's name is the slot's; the rest of the slot is `|| …` / `&& …`.
            let mut first = p.cmp(true)?;
            loop {
                if p.eat("&&") {
                    first = Cond::And(Box::new(first), Box::new(p.cmp(false)?));
                } else if p.eat("||") {
                    first = Cond::Or(Box::new(first), Box::new(p.and()?));
                } else {
                    break;
                }
            }
            p.ws();
            if p.i < p.chars.len() {
                return Err(invalid(&format!("unexpected '{}' in field {name}", p.chars[p.i..].iter().collect::<String>())));
            }
            Some(first)
        } else {
            None
        };
        slots.push(Slot::Field { name, cond });
    }
    if regexes > crate::filter_regex::MAX_PER_PATTERN {
        return Err(invalid(&format!("a space-delimited pattern can hold at most {} regular expressions", crate::filter_regex::MAX_PER_PATTERN)));
    }
    Ok(SpacePattern { slots, regexes })
}

/// The message's fields: space-separated, `"…"` and `[…]` kept whole.
pub fn tokenize(message: &str) -> Vec<&str> {
    let b = message.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        if b[i] == b' ' || b[i] == b'\t' {
            i += 1;
            continue;
        }
        let close = match b[i] {
            b'"' => Some(b'"'),
            b'[' => Some(b']'),
            _ => None,
        };
        if let Some(close) = close {
            if let Some(end) = b[i + 1..].iter().position(|c| *c == close) {
                out.push(&message[i + 1..i + 1 + end]);
                i += end + 2;
                continue;
            }
        }
        let start = i;
        while i < b.len() && b[i] != b' ' && b[i] != b'\t' {
            i += 1;
        }
        out.push(&message[start..i]);
    }
    out
}

fn number(s: &str) -> Option<f64> {
    s.trim().parse::<f64>().ok().filter(|n| n.is_finite())
}

impl Cond {
    fn holds(&self, field: &str) -> bool {
        match self {
            Cond::And(a, b) => a.holds(field) && b.holds(field),
            Cond::Or(a, b) => a.holds(field) || b.holds(field),
            Cond::Cmp(op, value) => {
                let eq = || match value {
                    Value::Number(n) => number(field) == Some(*n),
                    Value::Text(t) => glob(t, field),
                    Value::Regex(r) => r.is_match(field),
                };
                match op {
                    Op::Eq => eq(),
                    Op::Ne => !eq(),
                    _ => {
                        let (Some(f), Value::Number(n)) = (number(field), value) else { return false };
                        match op {
                            Op::Lt => f < *n,
                            Op::Le => f <= *n,
                            Op::Gt => f > *n,
                            _ => f >= *n,
                        }
                    }
                }
            }
        }
    }
}

impl SpacePattern {
    pub fn matches(&self, message: &str) -> bool {
        self.extract(message).is_some()
    }

    /// The named fields' values (`$name` → text) when the message matches.
    pub fn extract(&self, message: &str) -> Option<BTreeMap<String, String>> {
        let tokens = tokenize(message);
        let mut assigned = vec![0usize; self.slots.len()];
        let mut dead = HashSet::new();
        if !self.assign(&tokens, 0, 0, &mut assigned, &mut dead) {
            return None;
        }
        let mut out = BTreeMap::new();
        for (slot, t) in self.slots.iter().zip(&assigned) {
            if let Slot::Field { name, .. } = slot {
                out.insert(format!("${name}"), tokens[*t].to_string());
            }
        }
        Some(out)
    }

    fn assign(&self, tokens: &[&str], si: usize, ti: usize, assigned: &mut [usize], dead: &mut HashSet<(usize, usize)>) -> bool {
        if si == self.slots.len() {
            return ti == tokens.len();
        }
        if dead.contains(&(si, ti)) {
            return false;
        }
        let ok = match &self.slots[si] {
            Slot::Ellipsis => (ti..=tokens.len()).any(|k| self.assign(tokens, si + 1, k, assigned, dead)),
            Slot::Field { cond, .. } => {
                ti < tokens.len() && cond.as_ref().is_none_or(|c| c.holds(tokens[ti])) && {
                    assigned[si] = ti;
                    self.assign(tokens, si + 1, ti + 1, assigned, dead)
                }
            }
        };
        if !ok {
            dead.insert((si, ti));
        }
        ok
    }

    /// Whether the pattern names `field` (for `$field` metric values and dimensions).
    pub fn has_field(&self, field: &str) -> bool {
        self.slots.iter().any(|s| matches!(s, Slot::Field { name, .. } if name == field))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const APACHE: &str = r#"127.0.0.1 - frank [10/Oct/2000:13:25:15 -0700] "GET /apache_pb.gif HTTP/1.0" 200 1534"#;

    fn m(p: &str, msg: &str) -> bool {
        parse(p).unwrap_or_else(|e| panic!("{p}: {e:?}")).matches(msg)
    }

    #[test]
    fn fields_and_extraction() {
        let p = parse("[ip, user, username, timestamp, request, status_code, bytes]").unwrap();
        let v = p.extract(APACHE).unwrap();
        assert_eq!(v["$ip"], "127.0.0.1");
        assert_eq!(v["$timestamp"], "10/Oct/2000:13:25:15 -0700");
        assert_eq!(v["$request"], "GET /apache_pb.gif HTTP/1.0");
        assert_eq!(v["$bytes"], "1534");
        assert!(!m("[ip, user]", APACHE), "field count must match without ...");
    }

    #[test]
    fn conditions_and_ellipsis() {
        assert!(m("[..., status_code=2*, size>1000]", APACHE));
        assert!(!m("[..., status_code=4*, size>1000]", APACHE));
        assert!(m("[ip, ..., status_code = 200, bytes]", APACHE));
        assert!(m("[ip=127.*, ...]", APACHE));
        assert!(m("[..., status_code = 404 || status_code = 200, bytes <= 1534]", APACHE));
        assert!(!m("[..., status_code != 200, bytes]", APACHE));
        assert!(m("[..., status_code >= 200 && status_code < 300, bytes]", APACHE));
        assert!(m(r#"[ip, user, username = "frank", ...]"#, APACHE));
        assert!(m("[..., request = *gif*, status, bytes]", APACHE));
        assert!(m("[..., status = %^2[0-9]{2}$%, bytes]", APACHE));
        assert!(m("[a, ..., b, ..., c]", "x y z"));
        assert!(!m("[a, ..., b, ..., c, d]", "x y z"));
        assert!(m("[...]", ""));
    }

    #[test]
    fn refused() {
        for p in ["[]", "[a b]", "[a = ]", "[a > x]", "[a = 1 || b = 2]", "[a = %x%, b = %y%, c = %z%]", "[a, (b)]"] {
            assert!(parse(p).is_err(), "{p} should be refused");
        }
    }

    #[test]
    fn many_ellipses_stay_fast() {
        let p = parse(&format!("[{}, last = zzz]", vec!["..."; 40].join(", "))).unwrap();
        let msg = vec!["a"; 200].join(" ");
        assert!(!p.matches(&msg));
    }
}
