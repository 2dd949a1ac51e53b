//! Metric math for GetMetricData's `Expression` queries: `+ - * /` between time series and
//! numbers (series combined on the timestamps both have), unary minus, parentheses, the
//! ids of other queries, arrays `[a, b]`, `METRICS()` (every MetricStat query), and the
//! functions SUM, AVG, MIN, MAX (over an array: a series per timestamp; over one series:
//! a number), ABS and FILL(series, number).
//! <https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/using-metric-math.html>

use std::collections::BTreeMap;

/// A time series: period start (ms) → value.
pub type Series = BTreeMap<i64, f64>;

#[derive(Debug, Clone, PartialEq)]
pub enum Val {
    Number(f64),
    Series(Series),
    Array(Vec<Series>),
}

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Num(f64),
    Ident(String),
    Op(char),
}

fn lex(text: &str) -> Result<Vec<Tok>, String> {
    let mut out = Vec::new();
    let chars: Vec<char> = text.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c.is_whitespace() {
            i += 1;
        } else if c.is_ascii_digit() || c == '.' {
            let start = i;
            while i < chars.len() && (chars[i].is_ascii_digit() || chars[i] == '.') {
                i += 1;
            }
            let s: String = chars[start..i].iter().collect();
            out.push(Tok::Num(s.parse().map_err(|_| format!("Invalid number {s}"))?));
        } else if c.is_ascii_alphabetic() || c == '_' {
            let start = i;
            while i < chars.len() && (chars[i].is_ascii_alphanumeric() || chars[i] == '_') {
                i += 1;
            }
            out.push(Tok::Ident(chars[start..i].iter().collect()));
        } else if "+-*/()[],".contains(c) {
            out.push(Tok::Op(c));
            i += 1;
        } else {
            return Err(format!("Unexpected character '{c}'"));
        }
    }
    Ok(out)
}

/// What an expression may refer to: other queries' results by id, and the MetricStat ones.
pub struct Scope<'a> {
    pub by_id: &'a BTreeMap<String, Series>,
    pub metrics: &'a [Series],
}

struct Parser<'a, 's> {
    toks: Vec<Tok>,
    pos: usize,
    scope: &'a Scope<'s>,
    depth: usize,
}

/// Evaluates `text` (at most 1,024 characters, nesting at most 64 deep).
pub fn eval(text: &str, scope: &Scope<'_>) -> Result<Val, String> {
    if text.len() > 1024 {
        return Err("The expression is longer than 1024 characters".into());
    }
    let mut p = Parser { toks: lex(text)?, pos: 0, scope, depth: 0 };
    let v = p.expr()?;
    match p.toks.get(p.pos) {
        None => Ok(v),
        Some(t) => Err(format!("Unexpected {t:?} in the expression")),
    }
}

fn combine(a: Val, b: Val, f: impl Fn(f64, f64) -> f64 + Copy) -> Result<Val, String> {
    let on = |s: Series, g: &dyn Fn(f64) -> f64| s.into_iter().map(|(t, v)| (t, g(v))).collect::<Series>();
    Ok(match (a, b) {
        (Val::Number(x), Val::Number(y)) => Val::Number(f(x, y)),
        (Val::Series(s), Val::Number(y)) => Val::Series(on(s, &|v| f(v, y))),
        (Val::Number(x), Val::Series(s)) => Val::Series(on(s, &|v| f(x, v))),
        (Val::Series(s), Val::Series(r)) => Val::Series(s.into_iter().filter_map(|(t, v)| r.get(&t).map(|w| (t, f(v, *w)))).collect()),
        (Val::Array(a), Val::Number(y)) => Val::Array(a.into_iter().map(|s| on(s, &|v| f(v, y))).collect()),
        (Val::Number(x), Val::Array(a)) => Val::Array(a.into_iter().map(|s| on(s, &|v| f(x, v))).collect()),
        _ => return Err("Arithmetic between these operands is not supported".into()),
    })
}

fn aggregate(name: &str, v: Val) -> Result<Val, String> {
    let reduce = |vals: &[f64]| -> f64 {
        match name {
            "SUM" => vals.iter().sum(),
            "AVG" => vals.iter().sum::<f64>() / vals.len() as f64,
            "MIN" => vals.iter().copied().fold(f64::INFINITY, f64::min),
            _ => vals.iter().copied().fold(f64::NEG_INFINITY, f64::max),
        }
    };
    match v {
        Val::Series(s) => {
            let vals: Vec<f64> = s.values().copied().collect();
            Ok(Val::Number(if vals.is_empty() { 0.0 } else { reduce(&vals) }))
        }
        Val::Array(list) => {
            let mut by_time: BTreeMap<i64, Vec<f64>> = BTreeMap::new();
            for s in list {
                for (t, v) in s {
                    by_time.entry(t).or_default().push(v);
                }
            }
            Ok(Val::Series(by_time.into_iter().map(|(t, vals)| (t, reduce(&vals))).collect()))
        }
        Val::Number(n) => Ok(Val::Number(n)),
    }
}

impl Parser<'_, '_> {
    fn peek(&self) -> Option<&Tok> {
        self.toks.get(self.pos)
    }

    fn eat(&mut self, c: char) -> bool {
        if self.peek() == Some(&Tok::Op(c)) {
            self.pos += 1;
            true
        } else {
            false
        }
    }

    fn expect(&mut self, c: char) -> Result<(), String> {
        if self.eat(c) {
            Ok(())
        } else {
            Err(format!("Expected '{c}' in the expression"))
        }
    }

    fn expr(&mut self) -> Result<Val, String> {
        self.depth += 1;
        if self.depth > 64 {
            return Err("The expression is nested too deeply".into());
        }
        let mut v = self.term()?;
        loop {
            if self.eat('+') {
                v = combine(v, self.term()?, |a, b| a + b)?;
            } else if self.eat('-') {
                v = combine(v, self.term()?, |a, b| a - b)?;
            } else {
                break;
            }
        }
        self.depth -= 1;
        Ok(v)
    }

    fn term(&mut self) -> Result<Val, String> {
        let mut v = self.unary()?;
        loop {
            if self.eat('*') {
                v = combine(v, self.unary()?, |a, b| a * b)?;
            } else if self.eat('/') {
                v = combine(v, self.unary()?, |a, b| a / b)?;
            } else {
                break;
            }
        }
        Ok(v)
    }

    fn unary(&mut self) -> Result<Val, String> {
        if self.eat('-') {
            return combine(Val::Number(0.0), self.unary()?, |a, b| a - b);
        }
        self.primary()
    }

    fn args(&mut self) -> Result<Vec<Val>, String> {
        self.expect('(')?;
        let mut out = Vec::new();
        if self.eat(')') {
            return Ok(out);
        }
        loop {
            out.push(self.expr()?);
            if self.eat(')') {
                return Ok(out);
            }
            self.expect(',')?;
        }
    }

    fn primary(&mut self) -> Result<Val, String> {
        match self.peek().cloned() {
            Some(Tok::Num(n)) => {
                self.pos += 1;
                Ok(Val::Number(n))
            }
            Some(Tok::Op('(')) => {
                self.pos += 1;
                let v = self.expr()?;
                self.expect(')')?;
                Ok(v)
            }
            Some(Tok::Op('[')) => {
                self.pos += 1;
                let mut list = Vec::new();
                loop {
                    match self.expr()? {
                        Val::Series(s) => list.push(s),
                        Val::Array(a) => list.extend(a),
                        Val::Number(_) => return Err("Arrays hold time series, not numbers".into()),
                    }
                    if self.eat(']') {
                        return Ok(Val::Array(list));
                    }
                    self.expect(',')?;
                }
            }
            Some(Tok::Ident(name)) => {
                self.pos += 1;
                if self.peek() != Some(&Tok::Op('(')) {
                    return self.scope.by_id.get(&name).cloned().map(Val::Series).ok_or_else(|| format!("Unknown metric id {name} in the expression"));
                }
                let args = self.args()?;
                let upper = name.to_ascii_uppercase();
                match (upper.as_str(), args.as_slice()) {
                    ("METRICS", []) => Ok(Val::Array(self.scope.metrics.to_vec())),
                    ("SUM" | "AVG" | "MIN" | "MAX", [v]) => aggregate(&upper, v.clone()),
                    ("ABS", [v]) => combine(v.clone(), Val::Number(0.0), |a, _| a.abs()),
                    ("FILL", [Val::Series(s), Val::Number(fill)]) => {
                        // Every period any MetricStat query has, filled where this one has none.
                        let mut out = s.clone();
                        for t in self.scope.metrics.iter().flat_map(|m| m.keys()) {
                            out.entry(*t).or_insert(*fill);
                        }
                        Ok(Val::Series(out))
                    }
                    _ => Err(format!("The function {name} with these arguments is not supported by nimbus")),
                }
            }
            other => Err(format!("Unexpected {other:?} in the expression")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn series(points: &[(i64, f64)]) -> Series {
        points.iter().copied().collect()
    }

    #[test]
    fn arithmetic_and_functions() {
        let a = series(&[(0, 1.0), (60, 2.0)]);
        let b = series(&[(0, 10.0), (120, 5.0)]);
        let by_id: BTreeMap<String, Series> = [("a".to_string(), a.clone()), ("b".to_string(), b.clone())].into();
        let metrics = vec![a, b];
        let scope = Scope { by_id: &by_id, metrics: &metrics };
        assert_eq!(eval("a + b", &scope).unwrap(), Val::Series(series(&[(0, 11.0)])));
        assert_eq!(eval("(a * 2 + 1) / 2", &scope).unwrap(), Val::Series(series(&[(0, 1.5), (60, 2.5)])));
        assert_eq!(eval("-a", &scope).unwrap(), Val::Series(series(&[(0, -1.0), (60, -2.0)])));
        assert_eq!(eval("SUM(METRICS())", &scope).unwrap(), Val::Series(series(&[(0, 11.0), (60, 2.0), (120, 5.0)])));
        assert_eq!(eval("MAX([a, b])", &scope).unwrap(), Val::Series(series(&[(0, 10.0), (60, 2.0), (120, 5.0)])));
        assert_eq!(eval("SUM(a)", &scope).unwrap(), Val::Number(3.0));
        assert_eq!(eval("FILL(a, 0)", &scope).unwrap(), Val::Series(series(&[(0, 1.0), (60, 2.0), (120, 0.0)])));
        assert_eq!(eval("ABS(a - 5)", &scope).unwrap(), Val::Series(series(&[(0, 4.0), (60, 3.0)])));
    }

    #[test]
    fn bad_expressions_are_errors() {
        let by_id = BTreeMap::new();
        let scope = Scope { by_id: &by_id, metrics: &[] };
        for bad in ["x", "1 +", "(1", "SUM(", "1 ? 2", "ANOMALY_DETECTION_BAND(1)", "[1]", "1 2", &"(".repeat(200)] {
            assert!(eval(bad, &scope).is_err(), "{bad}");
        }
    }
}
