//! JSON filter patterns: `{ $.a.b = "x*" }`, `!=`, numeric `< <= > >=`, `IS TRUE|FALSE|NULL`,
//! `NOT EXISTS`, array indexes `$.list[0]`, combined with `&&` / `||` and parentheses
//! (`&&` binds tighter). Only events whose whole message is JSON can match.
//!
//! Semantics: a selector that does not resolve makes its comparison false (except
//! `NOT EXISTS`); `!=` is "exists and differs"; string values may use `*` wildcards.
//! Values may be `%regex%` (see `filter_regex`; at most two per pattern). Wildcard
//! selectors (`$.*`, `[*]`) are refused as not supported.

use crate::errors::{LogsError, LogsResult};
use crate::filter::glob;
use serde_json::Value;

#[derive(Debug)]
pub enum JsonExpr {
    And(Box<JsonExpr>, Box<JsonExpr>),
    Or(Box<JsonExpr>, Box<JsonExpr>),
    Compare { path: Vec<Step>, op: Op, value: Literal },
    Is { path: Vec<Step>, value: Literal },
    NotExists(Vec<Step>),
}

#[derive(Debug)]
pub enum Step {
    Key(String),
    Index(usize),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
}

#[derive(Debug)]
pub enum Literal {
    Number(f64),
    Text(String),
    Bool(bool),
    Null,
    Regex(Box<crate::filter_regex::Regex>),
}

fn invalid(why: &str) -> LogsError {
    LogsError::InvalidParameter(format!("Invalid filter pattern: {why}"))
}

pub fn parse(pattern: &str) -> LogsResult<JsonExpr> {
    let inner = pattern
        .trim()
        .strip_prefix('{')
        .and_then(|p| p.strip_suffix('}'))
        .ok_or_else(|| invalid("a JSON pattern must be enclosed in { }"))?;
    let mut p = Parser { chars: inner.chars().collect(), i: 0, depth: 0, regexes: 0 };
    let expr = p.or()?;
    p.ws();
    if p.i < p.chars.len() {
        return Err(invalid(&format!("unexpected '{}'", p.rest())));
    }
    if p.regexes > crate::filter_regex::MAX_PER_PATTERN {
        return Err(invalid(&format!("a JSON pattern can hold at most {} regular expressions", crate::filter_regex::MAX_PER_PATTERN)));
    }
    Ok(expr)
}

/// Deepest parenthesis nesting parsed (the parser recurses once per level; a 1,024-
/// character pattern could otherwise ask for ~500 levels).
const MAX_GROUP_DEPTH: usize = 64;

struct Parser {
    chars: Vec<char>,
    i: usize,
    depth: usize,
    regexes: usize,
}

impl Parser {
    fn ws(&mut self) {
        while self.i < self.chars.len() && self.chars[self.i].is_whitespace() {
            self.i += 1;
        }
    }

    fn rest(&self) -> String {
        self.chars[self.i..].iter().collect()
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

    fn or(&mut self) -> LogsResult<JsonExpr> {
        let mut left = self.and()?;
        while self.eat("||") {
            left = JsonExpr::Or(Box::new(left), Box::new(self.and()?));
        }
        Ok(left)
    }

    fn and(&mut self) -> LogsResult<JsonExpr> {
        let mut left = self.atom()?;
        while self.eat("&&") {
            left = JsonExpr::And(Box::new(left), Box::new(self.atom()?));
        }
        Ok(left)
    }

    fn atom(&mut self) -> LogsResult<JsonExpr> {
        if self.eat("(") {
            self.depth += 1;
            if self.depth > MAX_GROUP_DEPTH {
                return Err(invalid(&format!("parentheses nested deeper than {MAX_GROUP_DEPTH} levels are not supported by nimbus")));
            }
            let e = self.or()?;
            self.depth -= 1;
            if !self.eat(")") {
                return Err(invalid("missing ')'"));
            }
            return Ok(e);
        }
        let path = self.selector()?;
        if self.eat("IS") {
            self.ws();
            let word = self.word();
            let value = match word.as_str() {
                "TRUE" => Literal::Bool(true),
                "FALSE" => Literal::Bool(false),
                "NULL" => Literal::Null,
                _ => return Err(invalid(&format!("IS must be followed by TRUE, FALSE or NULL, not '{word}'"))),
            };
            return Ok(JsonExpr::Is { path, value });
        }
        if self.eat("NOT") {
            if self.eat("EXISTS") {
                return Ok(JsonExpr::NotExists(path));
            }
            return Err(invalid("NOT must be followed by EXISTS"));
        }
        let op = self.op()?;
        let value = self.literal()?;
        if matches!(op, Op::Lt | Op::Le | Op::Gt | Op::Ge) && !matches!(value, Literal::Number(_)) {
            return Err(invalid("<, <=, > and >= compare with numbers only"));
        }
        Ok(JsonExpr::Compare { path, op, value })
    }

    fn selector(&mut self) -> LogsResult<Vec<Step>> {
        if !self.eat("$") {
            return Err(invalid(&format!("expected a selector starting with $ at '{}'", self.rest())));
        }
        let mut path = Vec::new();
        loop {
            match self.chars.get(self.i) {
                Some('.') => {
                    self.i += 1;
                    let start = self.i;
                    while self.i < self.chars.len() && !self.chars[self.i].is_whitespace() && !".[]=!<>()&|\"".contains(self.chars[self.i]) {
                        self.i += 1;
                    }
                    let key: String = self.chars[start..self.i].iter().collect();
                    if key == "*" {
                        return Err(LogsError::NotSupported("Wildcard selectors ($.*)".into()));
                    }
                    if key.is_empty() {
                        return Err(invalid("empty property name in selector"));
                    }
                    path.push(Step::Key(key));
                }
                Some('[') => {
                    self.i += 1;
                    let start = self.i;
                    while self.i < self.chars.len() && self.chars[self.i] != ']' {
                        self.i += 1;
                    }
                    let index: String = self.chars[start..self.i].iter().collect();
                    self.i += 1;
                    if index.trim() == "*" {
                        return Err(LogsError::NotSupported("Wildcard array selectors ([*])".into()));
                    }
                    path.push(Step::Index(index.trim().parse().map_err(|_| invalid(&format!("bad array index '{index}'")))?));
                }
                _ => break,
            }
        }
        if path.is_empty() {
            return Err(LogsError::NotSupported("A selector without a property ($ alone)".into()));
        }
        Ok(path)
    }

    fn op(&mut self) -> LogsResult<Op> {
        for (s, op) in [("!=", Op::Ne), ("<=", Op::Le), (">=", Op::Ge), ("=", Op::Eq), ("<", Op::Lt), (">", Op::Gt)] {
            if self.eat(s) {
                return Ok(op);
            }
        }
        Err(invalid(&format!("expected a comparison operator at '{}'", self.rest())))
    }

    /// A bare word: up to whitespace, `)`, `&&` or `||`.
    fn word(&mut self) -> String {
        let start = self.i;
        while self.i < self.chars.len() && !self.chars[self.i].is_whitespace() && self.chars[self.i] != ')' {
            let two: String = self.chars[self.i..(self.i + 2).min(self.chars.len())].iter().collect();
            if two == "&&" || two == "||" {
                break;
            }
            self.i += 1;
        }
        self.chars[start..self.i].iter().collect()
    }

    fn literal(&mut self) -> LogsResult<Literal> {
        self.ws();
        if self.chars.get(self.i) == Some(&'"') {
            let (text, next) = crate::filter_text::quoted(&self.chars, self.i)?;
            self.i = next;
            return Ok(Literal::Text(text));
        }
        let w = self.word();
        if w.is_empty() {
            return Err(invalid("missing value after the operator"));
        }
        if w.starts_with('%') {
            self.regexes += 1;
            return crate::filter_regex::Regex::parse(&w).map(|r| Literal::Regex(Box::new(r)));
        }
        if w.starts_with(|c: char| c.is_ascii_digit() || c == '-' || c == '+' || c == '.') {
            if let Ok(n) = w.parse::<f64>() {
                return Ok(Literal::Number(n));
            }
        }
        Ok(match w.as_str() {
            "true" => Literal::Bool(true),
            "false" => Literal::Bool(false),
            "null" => Literal::Null,
            _ => Literal::Text(w),
        })
    }
}

fn resolve<'v>(doc: &'v Value, path: &[Step]) -> Option<&'v Value> {
    path.iter().try_fold(doc, |v, step| match step {
        Step::Key(k) => v.get(k.as_str()),
        Step::Index(i) => v.get(*i),
    })
}

fn equals(field: &Value, value: &Literal) -> bool {
    match (field, value) {
        (Value::Number(n), Literal::Number(x)) => n.as_f64() == Some(*x),
        (Value::String(s), Literal::Text(t)) => glob(t, s),
        (Value::Bool(b), Literal::Bool(x)) => b == x,
        (Value::Null, Literal::Null) => true,
        (Value::String(s), Literal::Regex(r)) => r.is_match(s),
        (Value::Number(n), Literal::Regex(r)) => r.is_match(&n.to_string()),
        _ => false,
    }
}

/// `$.a.b[0]` as written.
fn selector_text(path: &[Step]) -> String {
    let mut s = String::from("$");
    for step in path {
        match step {
            Step::Key(k) => {
                s.push('.');
                s.push_str(k);
            }
            Step::Index(i) => s.push_str(&format!("[{i}]")),
        }
    }
    s
}

fn text_of(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

impl JsonExpr {
    pub fn matches(&self, message: &str) -> bool {
        match serde_json::from_str::<Value>(message) {
            Ok(doc) => self.eval(&doc),
            Err(_) => false,
        }
    }

    /// Whether a value is a `%regex%`.
    pub fn has_regex(&self) -> bool {
        match self {
            JsonExpr::And(a, b) | JsonExpr::Or(a, b) => a.has_regex() || b.has_regex(),
            JsonExpr::Compare { value: Literal::Regex(_), .. } => true,
            _ => false,
        }
    }

    /// TestMetricFilter's `extractedValues` of a matching message: each selector the
    /// pattern names that resolves (`$.a.b` → its value as text).
    pub fn extract(&self, message: &str) -> Option<std::collections::BTreeMap<String, String>> {
        let doc = serde_json::from_str::<Value>(message).ok()?;
        if !self.eval(&doc) {
            return None;
        }
        let mut out = std::collections::BTreeMap::new();
        self.collect(&doc, &mut out);
        Some(out)
    }

    fn collect(&self, doc: &Value, out: &mut std::collections::BTreeMap<String, String>) {
        match self {
            JsonExpr::And(a, b) | JsonExpr::Or(a, b) => {
                a.collect(doc, out);
                b.collect(doc, out);
            }
            JsonExpr::NotExists(_) => {}
            JsonExpr::Is { path, .. } | JsonExpr::Compare { path, .. } => {
                if let Some(v) = resolve(doc, path) {
                    out.insert(selector_text(path), text_of(v));
                }
            }
        }
    }

    fn eval(&self, doc: &Value) -> bool {
        match self {
            JsonExpr::And(a, b) => a.eval(doc) && b.eval(doc),
            JsonExpr::Or(a, b) => a.eval(doc) || b.eval(doc),
            JsonExpr::NotExists(path) => resolve(doc, path).is_none(),
            JsonExpr::Is { path, value } => resolve(doc, path).is_some_and(|f| equals(f, value)),
            JsonExpr::Compare { path, op, value } => {
                let Some(field) = resolve(doc, path) else { return false };
                match op {
                    Op::Eq => equals(field, value),
                    Op::Ne => !equals(field, value),
                    _ => match (field.as_f64(), value) {
                        (Some(f), Literal::Number(x)) => match op {
                            Op::Lt => f < *x,
                            Op::Le => f <= *x,
                            Op::Gt => f > *x,
                            _ => f >= *x,
                        },
                        _ => false,
                    },
                }
            }
        }
    }
}
