//! Leaf-level string helpers: wildcard matching (`*`, with `\*` for a literal star),
//! CIDR membership, and number rounding to a dialect's precision.

use crate::ast::Cidr;
use crate::Dialect;
use std::net::IpAddr;

/// `*` matches any run of characters (including none); `\*` is a literal `*`.
pub fn wildcard(pattern: &str, text: &str) -> bool {
    let tokens = tokens(pattern);
    let t: Vec<char> = text.chars().collect();
    // Classic greedy two-pointer match with backtracking to the last star.
    let (mut ti, mut pi) = (0usize, 0usize);
    let (mut star, mut mark) = (None::<usize>, 0usize);
    while ti < t.len() {
        match tokens.get(pi) {
            Some(Tok::Star) => {
                star = Some(pi);
                mark = ti;
                pi += 1;
            }
            Some(Tok::Char(c)) if *c == t[ti] => {
                ti += 1;
                pi += 1;
            }
            _ => match star {
                Some(s) => {
                    pi = s + 1;
                    mark += 1;
                    ti = mark;
                }
                None => return false,
            },
        }
    }
    tokens[pi..].iter().all(|t| matches!(t, Tok::Star))
}

enum Tok {
    Star,
    Char(char),
}

fn tokens(pattern: &str) -> Vec<Tok> {
    let mut out = Vec::new();
    let mut chars = pattern.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' if matches!(chars.peek(), Some('*') | Some('\\')) => out.push(Tok::Char(chars.next().unwrap_or('\\'))),
            '*' => out.push(Tok::Star),
            c => out.push(Tok::Char(c)),
        }
    }
    out
}

/// Checks a wildcard pattern as AWS does: no two consecutive `*`.
pub fn check_wildcard(pattern: &str) -> Result<(), String> {
    let mut prev_star = false;
    let mut escaped = false;
    for (i, c) in pattern.chars().enumerate() {
        if escaped {
            escaped = false;
            prev_star = false;
            continue;
        }
        match c {
            '\\' => escaped = true,
            '*' if prev_star => return Err(format!("Consecutive wildcard characters at pos {i}")),
            '*' => prev_star = true,
            _ => prev_star = false,
        }
    }
    Ok(())
}

/// Parses `10.0.0.0/24` or `2001:db8::/32`.
pub fn parse_cidr(text: &str) -> Option<Cidr> {
    let (ip, bits) = text.split_once('/')?;
    let net: IpAddr = ip.parse().ok()?;
    let bits: u8 = bits.parse().ok()?;
    let max = if net.is_ipv4() { 32 } else { 128 };
    (bits <= max).then_some(Cidr { net, bits })
}

/// Is `ip` (text) inside the network?
pub fn in_cidr(cidr: &Cidr, ip: &str) -> bool {
    let Ok(addr) = ip.parse::<IpAddr>() else { return false };
    match (cidr.net, addr) {
        (IpAddr::V4(n), IpAddr::V4(a)) => prefix_eq(&n.octets(), &a.octets(), cidr.bits),
        (IpAddr::V6(n), IpAddr::V6(a)) => prefix_eq(&n.octets(), &a.octets(), cidr.bits),
        _ => false,
    }
}

fn prefix_eq(a: &[u8], b: &[u8], bits: u8) -> bool {
    let full = (bits / 8) as usize;
    if a[..full] != b[..full] {
        return false;
    }
    let rest = bits % 8;
    if rest == 0 {
        return true;
    }
    let mask = 0xffu8 << (8 - rest);
    (a[full] & mask) == (b[full] & mask)
}

/// Decimal digits after the point a dialect compares numbers with: SNS documents five,
/// EventBridge (and Lambda, which uses its grammar) six.
fn decimals(dialect: Dialect) -> i32 {
    match dialect {
        Dialect::SnsAttributes | Dialect::SnsBody => 5,
        Dialect::EventBridge | Dialect::LambdaFilter => 6,
    }
}

/// `n` rounded to the dialect's precision, so `300`, `300.0` and `3.0e2` are equal.
pub fn round(n: f64, dialect: Dialect) -> f64 {
    let scale = 10f64.powi(decimals(dialect));
    (n * scale).round() / scale
}

/// The largest magnitude a numeric pattern value may have.
pub fn numeric_limit(dialect: Dialect) -> f64 {
    match dialect {
        Dialect::SnsAttributes | Dialect::SnsBody => 1.0e9,
        Dialect::EventBridge | Dialect::LambdaFilter => 5.0e9,
    }
}
