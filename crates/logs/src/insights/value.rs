//! Values in a Logs Insights record, how AWS prints them (every result value is a
//! string; timestamps as `2026-12-04 17:05:09.123`), and AWS's sort order for `sort`
//! (<https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/CWL_QuerySyntax-Sort.html>):
//! non-numbers before numbers; non-numbers compared in chunks of digits (by length,
//! then value) and of other characters (by Unicode).

use std::cmp::Ordering;

#[derive(Debug, Clone, PartialEq)]
pub enum Val {
    Null,
    Str(String),
    Num(f64),
    Bool(bool),
    /// Milliseconds since the epoch.
    Time(i64),
}

impl Val {
    pub fn is_null(&self) -> bool {
        matches!(self, Val::Null)
    }

    pub fn as_num(&self) -> Option<f64> {
        match self {
            Val::Num(n) => Some(*n),
            Val::Time(t) => Some(*t as f64),
            Val::Bool(b) => Some(if *b { 1.0 } else { 0.0 }),
            Val::Str(s) => s.trim().parse::<f64>().ok().filter(|n| n.is_finite()),
            Val::Null => None,
        }
    }

    pub fn truthy(&self) -> bool {
        match self {
            Val::Null => false,
            Val::Bool(b) => *b,
            Val::Num(n) => *n != 0.0,
            Val::Time(_) => true,
            Val::Str(s) => !s.is_empty() && s != "false",
        }
    }

    /// The value as AWS prints it; `None` for a missing value.
    pub fn text(&self) -> Option<String> {
        match self {
            Val::Null => None,
            Val::Str(s) => Some(s.clone()),
            Val::Num(n) => Some(number_text(*n)),
            Val::Bool(b) => Some(if *b { "1" } else { "0" }.to_string()),
            Val::Time(t) => Some(time_text(*t)),
        }
    }
}

pub fn number_text(n: f64) -> String {
    if n.fract() == 0.0 && n.abs() < 1e15 {
        format!("{}", n as i64)
    } else {
        format!("{n}")
    }
}

/// `2026-12-04 17:05:09.123` (UTC), as Insights prints `@timestamp`.
pub fn time_text(ms: i64) -> String {
    let days = ms.div_euclid(86_400_000);
    let rem = ms.rem_euclid(86_400_000);
    let (y, m, d) = nimbus_core::time::civil_from_days(days);
    format!("{y:04}-{m:02}-{d:02} {:02}:{:02}:{:02}.{:03}", rem / 3_600_000, rem / 60_000 % 60, rem / 1000 % 60, rem % 1000)
}

fn is_number_text(s: &str) -> bool {
    !s.is_empty() && s.trim().parse::<f64>().is_ok()
}

/// Chunks of digits and of non-digits.
fn chunks(s: &str) -> Vec<(bool, &str)> {
    let mut out = Vec::new();
    let mut start = 0;
    let mut digit: Option<bool> = None;
    for (i, c) in s.char_indices() {
        let d = c.is_ascii_digit();
        if digit.is_some_and(|x| x != d) {
            out.push((digit.unwrap_or(false), &s[start..i]));
            start = i;
        }
        digit = Some(d);
    }
    if start < s.len() {
        out.push((digit.unwrap_or(false), &s[start..]));
    }
    out
}

fn natural(a: &str, b: &str) -> Ordering {
    let (ca, cb) = (chunks(a), chunks(b));
    for ((da, xa), (db, xb)) in ca.iter().zip(cb.iter()) {
        let ord = match (da, db) {
            (true, true) => {
                let (ta, tb) = (xa.trim_start_matches('0'), xb.trim_start_matches('0'));
                ta.len().cmp(&tb.len()).then_with(|| ta.cmp(tb)).then_with(|| xa.len().cmp(&xb.len()))
            }
            _ => xa.cmp(xb),
        };
        if ord != Ordering::Equal {
            return ord;
        }
    }
    ca.len().cmp(&cb.len())
}

/// AWS's ascending order; missing values sort last.
pub fn compare(a: &Val, b: &Val) -> Ordering {
    match (a, b) {
        (Val::Null, Val::Null) => Ordering::Equal,
        (Val::Null, _) => Ordering::Greater,
        (_, Val::Null) => Ordering::Less,
        (Val::Time(x), Val::Time(y)) => x.cmp(y),
        _ => {
            let (na, nb) = (numeric(a), numeric(b));
            match (na, nb) {
                (Some(x), Some(y)) => x.partial_cmp(&y).unwrap_or(Ordering::Equal),
                (Some(_), None) => Ordering::Greater,
                (None, Some(_)) => Ordering::Less,
                (None, None) => natural(&a.text().unwrap_or_default(), &b.text().unwrap_or_default()),
            }
        }
    }
}

fn numeric(v: &Val) -> Option<f64> {
    match v {
        Val::Num(n) => Some(*n),
        Val::Time(t) => Some(*t as f64),
        Val::Str(s) if is_number_text(s) => s.trim().parse().ok(),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times() {
        assert_eq!(time_text(0), "1970-01-01 00:00:00.000");
        assert_eq!(time_text(1_733_331_909_123), "2024-12-04 17:05:09.123");
        assert_eq!(time_text(951_782_400_000), "2000-02-29 00:00:00.000");
    }

    #[test]
    fn sort_order() {
        let mut v: Vec<Val> = ["0", "A", "5A", "111A", "@", "!:", "a12345hfh", "A9876fghj", "10", "2"].iter().map(|s| Val::Str(s.to_string())).collect();
        v.sort_by(compare);
        let t: Vec<String> = v.iter().map(|x| x.text().unwrap()).collect();
        assert_eq!(t, ["!:", "5A", "111A", "@", "A", "A9876fghj", "a12345hfh", "0", "2", "10"]);
        assert_eq!(number_text(3.0), "3");
        assert_eq!(number_text(2.5), "2.5");
    }
}
