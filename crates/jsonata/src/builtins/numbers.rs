//! Numeric and aggregation functions (<https://docs.jsonata.org/numeric-functions>,
//! <https://docs.jsonata.org/aggregation-functions>): `$number`'s casting rules, half-to-even
//! `$round`, `$power`, `$sqrt`, and `$sum`/`$max`/`$min`/`$average` over arrays of numbers.

use super::*;
use crate::eval::{err, Ev, R};
use crate::value::{js_number_string, stringify, Val};

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

pub(super) fn number(_: &Ev, a: Args, pos: usize) -> R {
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

pub(super) fn shift10(x: f64, p: i32) -> f64 {
    if p == 0 || x == 0.0 || !x.is_finite() {
        return x;
    }
    let s = format!("{x:e}");
    let Some((m, e)) = s.split_once('e') else { return x };
    let e: i32 = e.parse().unwrap_or(0);
    format!("{m}e{}", e.saturating_add(p)).parse().unwrap_or(x)
}

pub(super) fn round(_: &Ev, a: Args, pos: usize) -> R {
    let Some(n) = num_arg(a, 0, "round", pos)? else { return Ok(None) };
    let p = num_arg(a, 1, "round", pos)?.unwrap_or(0.0).trunc().clamp(-400.0, 400.0) as i32;
    Ok(Some(Val::Num(round_half_even(n, p))))
}

pub(super) fn power(_: &Ev, a: Args, pos: usize) -> R {
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

pub(super) fn sqrt(_: &Ev, a: Args, pos: usize) -> R {
    let Some(n) = num_arg(a, 0, "sqrt", pos)? else { return Ok(None) };
    if n < 0.0 {
        return Err(err("D3060", pos, format!("The sqrt function cannot be applied to a negative number: {}", js_number_string(n))));
    }
    Ok(Some(Val::Num(n.sqrt())))
}

pub(super) fn aggregate(a: Args, pos: usize, name: &str, f: impl Fn(&[f64]) -> Option<f64>) -> R {
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
