//! Expressions on one record: field lookups, arithmetic, comparisons, `like` / `=~`,
//! `in`, and the non-aggregate functions
//! (<https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/CWL_QuerySyntax-operations-functions.html>).
//!
//! A missing field is null; arithmetic or a function on null gives null; a comparison
//! with null is false. `=` compares numerically when both sides are numbers, else as
//! text; `like "text"` is a substring test, `like /re/` and `=~ /re/` a regex search.

use super::parser::Expr;
use super::value::Val;

/// A record: fields in the order they were added.
#[derive(Debug, Clone, Default)]
pub struct Record {
    pub fields: Vec<(String, Val)>,
}

impl Record {
    pub fn get(&self, name: &str) -> &Val {
        static NULL: Val = Val::Null;
        self.fields.iter().rev().find(|(n, _)| n == name).map(|(_, v)| v).unwrap_or(&NULL)
    }

    pub fn set(&mut self, name: &str, v: Val) {
        match self.fields.iter_mut().find(|(n, _)| n == name) {
            Some(slot) => slot.1 = v,
            None => self.fields.push((name.to_string(), v)),
        }
    }

    /// The event time (`@timestamp`), for `bin()` and `earliest` / `latest`.
    pub fn timestamp(&self) -> Option<i64> {
        match self.get("@timestamp") {
            Val::Time(t) => Some(*t),
            other => other.as_num().map(|n| n as i64),
        }
    }
}

fn text(v: &Val) -> Option<String> {
    v.text()
}

fn num(v: Val) -> Option<f64> {
    v.as_num()
}

fn equal(a: &Val, b: &Val) -> bool {
    if a.is_null() || b.is_null() {
        return false;
    }
    match (a.as_num(), b.as_num()) {
        (Some(x), Some(y)) => x == y,
        _ => a.text() == b.text(),
    }
}

fn floor_to(t: i64, period: i64) -> i64 {
    if period <= 0 {
        t
    } else {
        t.div_euclid(period) * period
    }
}

pub fn eval(e: &Expr, r: &Record) -> Val {
    match e {
        Expr::Field(f) => r.get(f).clone(),
        Expr::Str(s) => Val::Str(s.clone()),
        Expr::Num(n) => Val::Num(*n),
        Expr::Duration(ms) => Val::Num(*ms as f64),
        Expr::Regex(re) => Val::Str(re.as_str().to_string()),
        Expr::Star => Val::Bool(true),
        Expr::Neg(x) => num(eval(x, r)).map(|n| Val::Num(-n)).unwrap_or(Val::Null),
        Expr::Not(x) => Val::Bool(!eval(x, r).truthy()),
        Expr::In(x, items) => {
            let v = eval(x, r);
            Val::Bool(items.iter().any(|i| equal(&v, &eval(i, r))))
        }
        Expr::Binary(op, a, b) => binary(op, a, b, r),
        Expr::Call(f, args) => call(f, args, r),
    }
}

fn binary(op: &str, a: &Expr, b: &Expr, r: &Record) -> Val {
    match op {
        "and" => return Val::Bool(eval(a, r).truthy() && eval(b, r).truthy()),
        "or" => return Val::Bool(eval(a, r).truthy() || eval(b, r).truthy()),
        "like" | "=~" => {
            let Some(hay) = text(&eval(a, r)) else { return Val::Bool(false) };
            return Val::Bool(match b {
                Expr::Regex(re) => re.is_match(&hay),
                other if op == "like" => text(&eval(other, r)).is_some_and(|needle| hay.contains(&needle)),
                other => text(&eval(other, r)).and_then(|p| regex_lite::Regex::new(&p).ok()).is_some_and(|re| re.is_match(&hay)),
            });
        }
        _ => {}
    }
    let (x, y) = (eval(a, r), eval(b, r));
    match op {
        "=" => Val::Bool(equal(&x, &y)),
        "!=" => Val::Bool(!x.is_null() && !y.is_null() && !equal(&x, &y)),
        "<" | "<=" | ">" | ">=" => {
            if x.is_null() || y.is_null() {
                return Val::Bool(false);
            }
            let ord = match (x.as_num(), y.as_num()) {
                (Some(p), Some(q)) => p.partial_cmp(&q),
                _ => x.text().partial_cmp(&y.text()),
            };
            let Some(ord) = ord else { return Val::Bool(false) };
            Val::Bool(match op {
                "<" => ord.is_lt(),
                "<=" => ord.is_le(),
                ">" => ord.is_gt(),
                _ => ord.is_ge(),
            })
        }
        _ => {
            let (Some(p), Some(q)) = (x.as_num(), y.as_num()) else { return Val::Null };
            let n = match op {
                "+" => p + q,
                "-" => p - q,
                "*" => p * q,
                "/" if q != 0.0 => p / q,
                "%" if q != 0.0 => p % q,
                "^" => p.powf(q),
                _ => return Val::Null,
            };
            // Time plus or minus a duration stays a time.
            match (&x, op) {
                (Val::Time(_), "+" | "-") if !matches!(y, Val::Time(_)) => Val::Time(n as i64),
                _ => Val::Num(n),
            }
        }
    }
}

fn call(f: &str, args: &[Expr], r: &Record) -> Val {
    let arg = |i: usize| args.get(i).map(|a| eval(a, r)).unwrap_or(Val::Null);
    let s = |i: usize| text(&arg(i));
    let n = |i: usize| num(arg(i));
    let str_fn = |g: &dyn Fn(String) -> String| s(0).map(|x| Val::Str(g(x))).unwrap_or(Val::Null);
    let num_fn = |g: &dyn Fn(f64) -> f64| n(0).map(|x| Val::Num(g(x))).unwrap_or(Val::Null);
    match f {
        "strlen" => s(0).map(|x| Val::Num(x.chars().count() as f64)).unwrap_or(Val::Null),
        "toupper" => str_fn(&|x| x.to_uppercase()),
        "tolower" => str_fn(&|x| x.to_lowercase()),
        "trim" => str_fn(&|x| x.trim().to_string()),
        "ltrim" => str_fn(&|x| x.trim_start().to_string()),
        "rtrim" => str_fn(&|x| x.trim_end().to_string()),
        "concat" => Val::Str(args.iter().filter_map(|a| text(&eval(a, r))).collect()),
        "substr" => {
            let Some(x) = s(0) else { return Val::Null };
            let chars: Vec<char> = x.chars().collect();
            let start = n(1).unwrap_or(0.0).max(0.0) as usize;
            let len = if args.len() > 2 { n(2).unwrap_or(0.0).max(0.0) as usize } else { usize::MAX };
            Val::Str(chars.iter().skip(start).take(len).collect())
        }
        "replace" => match (s(0), s(1), s(2)) {
            (Some(x), Some(from), Some(to)) if !from.is_empty() => Val::Str(x.replace(&from, &to)),
            (Some(x), _, _) => Val::Str(x),
            _ => Val::Null,
        },
        "strcontains" => match (s(0), s(1)) {
            (Some(x), Some(y)) => Val::Num(if x.contains(&y) { 1.0 } else { 0.0 }),
            _ => Val::Null,
        },
        "abs" => num_fn(&f64::abs),
        "ceil" => num_fn(&f64::ceil),
        "floor" => num_fn(&f64::floor),
        "sqrt" => num_fn(&f64::sqrt),
        "log" => num_fn(&f64::ln),
        "round" => {
            let digits = if args.len() > 1 { n(1).unwrap_or(0.0) as i32 } else { 0 };
            let scale = 10f64.powi(digits);
            num_fn(&|x| (x * scale).round() / scale)
        }
        "pow" => match (n(0), n(1)) {
            (Some(x), Some(y)) => Val::Num(x.powf(y)),
            _ => Val::Null,
        },
        "greatest" | "least" => {
            let vals: Vec<f64> = (0..args.len()).filter_map(n).collect();
            let pick = if f == "greatest" { vals.iter().copied().reduce(f64::max) } else { vals.iter().copied().reduce(f64::min) };
            pick.map(Val::Num).unwrap_or(Val::Null)
        }
        "datefloor" | "dateceil" => {
            let t = match arg(0) {
                Val::Time(t) => Some(t),
                other => other.as_num().map(|x| x as i64),
            };
            match (t, n(1)) {
                (Some(t), Some(p)) => {
                    let p = p as i64;
                    let down = floor_to(t, p);
                    Val::Time(if f == "dateceil" && down != t { down + p } else { down })
                }
                _ => Val::Null,
            }
        }
        "bin" => match (r.timestamp(), n(0)) {
            (Some(t), Some(p)) => Val::Time(floor_to(t, p as i64)),
            _ => Val::Null,
        },
        "frommillis" => n(0).map(|x| Val::Time(x as i64)).unwrap_or(Val::Null),
        "tomillis" => match arg(0) {
            Val::Time(t) => Val::Num(t as f64),
            other => other.as_num().map(Val::Num).unwrap_or(Val::Null),
        },
        "ispresent" => Val::Bool(!arg(0).is_null()),
        "isempty" => Val::Bool(s(0).is_none_or(|x| x.is_empty())),
        "isblank" => Val::Bool(s(0).is_none_or(|x| x.trim().is_empty())),
        "coalesce" => args.iter().map(|a| eval(a, r)).find(|v| !v.is_null()).unwrap_or(Val::Null),
        "isvalidip" => Val::Bool(s(0).is_some_and(|x| x.parse::<std::net::IpAddr>().is_ok())),
        _ => Val::Null,
    }
}

#[cfg(test)]
mod tests {
    use super::super::parser::{parse, Command};
    use super::*;

    fn value(expr: &str, r: &Record) -> Val {
        let q = parse(&format!("fields {expr} as out")).unwrap();
        let Command::Fields(f) = &q[0] else { panic!() };
        eval(&f[0].expr, r)
    }

    #[test]
    fn functions_and_operators() {
        let mut r = Record::default();
        r.set("@timestamp", Val::Time(1_000_000));
        r.set("a", Val::Str("Hello World".into()));
        r.set("n", Val::Str("12".into()));
        assert_eq!(value("strlen(a)", &r), Val::Num(11.0));
        assert_eq!(value("toupper(a)", &r), Val::Str("HELLO WORLD".into()));
        assert_eq!(value("concat(a, '!', n)", &r), Val::Str("Hello World!12".into()));
        assert_eq!(value("substr(a, 6)", &r), Val::Str("World".into()));
        assert_eq!(value("substr(a, 0, 5)", &r), Val::Str("Hello".into()));
        assert_eq!(value("replace(a, 'World', 'there')", &r), Val::Str("Hello there".into()));
        assert_eq!(value("trim('  x ')", &r), Val::Str("x".into()));
        assert_eq!(value("n * 2 + 1", &r), Val::Num(25.0));
        assert_eq!(value("abs(-3.5)", &r), Val::Num(3.5));
        assert_eq!(value("ceil(2.1) + floor(2.9)", &r), Val::Num(5.0));
        assert_eq!(value("round(2.567, 2)", &r), Val::Num(2.57));
        assert_eq!(value("datefloor(@timestamp, 1m)", &r), Val::Time(960_000));
        assert_eq!(value("dateceil(@timestamp, 1m)", &r), Val::Time(1_020_000));
        assert_eq!(value("bin(1m)", &r), Val::Time(960_000));
        assert_eq!(value("fromMillis(5)", &r), Val::Time(5));
        assert_eq!(value("toMillis(@timestamp)", &r), Val::Num(1_000_000.0));
        assert_eq!(value("coalesce(missing, n)", &r), Val::Str("12".into()));
        assert_eq!(value("ispresent(missing)", &r), Val::Bool(false));
        assert_eq!(value("isempty(missing) and isblank('  ')", &r), Val::Bool(true));
        assert_eq!(value("a like 'World'", &r), Val::Bool(true));
        assert_eq!(value("a like /^H.*d$/", &r), Val::Bool(true));
        assert_eq!(value("a =~ /world/", &r), Val::Bool(false));
        assert_eq!(value("n in [1, 12]", &r), Val::Bool(true));
        assert_eq!(value("n not in [1, 12]", &r), Val::Bool(false));
        assert_eq!(value("n >= 12 and not (n < 3)", &r), Val::Bool(true));
        assert_eq!(value("missing = 1 or missing != 1", &r), Val::Bool(false));
    }
}
