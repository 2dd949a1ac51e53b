//! `Number`: DynamoDB's exact decimal. Parsing AWS's number text, the normalised form
//! DynamoDB answers with, exact addition and subtraction within AWS's limits (38
//! significant digits, magnitudes 1E-130 to 9.99…E+125), and numeric order.

use super::{Number, ValueError};
use std::cmp::Ordering;
use std::fmt;

/// Most significant digits a number may have.
pub const MAX_DIGITS: usize = 38;
/// Largest `exponent` (value 0.d… × 10^exponent): 9.99…E+125.
const MAX_EXPONENT: i64 = 126;
/// Smallest `exponent`: 1E-130 = 0.1 × 10^-129.
const MIN_EXPONENT: i64 = -129;

const MSG_OVERFLOW: &str = "Number overflow. Attempting to store a number with magnitude larger than supported range";
const MSG_UNDERFLOW: &str = "Number underflow. Attempting to store a number with magnitude smaller than supported range";
const MSG_DIGITS: &str = "Attempting to store more than 38 significant digits in a Number";

impl Number {
    /// Zero.
    pub fn zero() -> Number {
        Number { negative: false, digits: Vec::new(), exponent: 0 }
    }

    pub fn is_zero(&self) -> bool {
        self.digits.is_empty()
    }

    /// Builds a normalised number from digits (values 0–9, most significant first,
    /// leading/trailing zeros allowed) meaning 0.d1d2… × 10^exponent, checking AWS's limits.
    pub fn from_parts(negative: bool, digits: Vec<u8>, exponent: i64) -> Result<Number, ValueError> {
        let first = digits.iter().position(|&d| d != 0);
        let Some(first) = first else { return Ok(Number::zero()) };
        let last = digits.iter().rposition(|&d| d != 0).unwrap_or(first);
        let digits = digits[first..=last].to_vec();
        let exponent = exponent - first as i64;
        if exponent > MAX_EXPONENT {
            return Err(ValueError(MSG_OVERFLOW.into()));
        }
        if exponent < MIN_EXPONENT {
            return Err(ValueError(MSG_UNDERFLOW.into()));
        }
        if digits.len() > MAX_DIGITS {
            return Err(ValueError(MSG_DIGITS.into()));
        }
        Ok(Number { negative, digits, exponent: exponent as i32 })
    }

    /// The negated number (zero stays zero).
    pub fn negated(&self) -> Number {
        Number { negative: !self.negative && !self.is_zero(), ..self.clone() }
    }

    /// Bytes this number counts for in an item: about one byte per two significant
    /// digits, plus one, plus one more for negative numbers.
    pub fn size(&self) -> usize {
        self.digits.len().div_ceil(2) + 1 + usize::from(self.negative)
    }
}

/// Parses `[+-]digits[.digits][(e|E)[+-]digits]`, at least one mantissa digit.
pub(super) fn parse(text: &str) -> Result<Number, ValueError> {
    let bad = || {
        if text.is_empty() {
            ValueError("The parameter cannot be converted to a numeric value".into())
        } else {
            ValueError(format!("The parameter cannot be converted to a numeric value: {text}"))
        }
    };
    let bytes = text.as_bytes();
    let mut i = 0;
    let mut negative = false;
    if let Some(&c) = bytes.first() {
        if c == b'+' || c == b'-' {
            negative = c == b'-';
            i = 1;
        }
    }
    let mut digits = Vec::new();
    let mut int_len: i64 = 0;
    let mut seen_dot = false;
    while i < bytes.len() {
        match bytes[i] {
            c @ b'0'..=b'9' => {
                digits.push(c - b'0');
                if !seen_dot {
                    int_len += 1;
                }
            }
            b'.' if !seen_dot => seen_dot = true,
            _ => break,
        }
        i += 1;
    }
    if digits.is_empty() {
        return Err(bad());
    }
    let mut exp: i64 = 0;
    if i < bytes.len() && (bytes[i] == b'e' || bytes[i] == b'E') {
        i += 1;
        let mut exp_negative = false;
        if i < bytes.len() && (bytes[i] == b'+' || bytes[i] == b'-') {
            exp_negative = bytes[i] == b'-';
            i += 1;
        }
        let start = i;
        while i < bytes.len() && bytes[i].is_ascii_digit() {
            // Saturate: anything this large is out of range anyway.
            exp = (exp * 10 + i64::from(bytes[i] - b'0')).min(1_000_000_000);
            i += 1;
        }
        if i == start {
            return Err(bad());
        }
        if exp_negative {
            exp = -exp;
        }
    }
    if i != bytes.len() {
        return Err(bad());
    }
    let number = Number::from_parts(negative, digits, int_len + exp)?;
    Ok(number)
}

/// Plain decimal text without exponent, as DynamoDB returns numbers.
pub(super) fn to_text(n: &Number) -> String {
    if n.is_zero() {
        return "0".into();
    }
    let mut out = String::new();
    if n.negative {
        out.push('-');
    }
    let digits: String = n.digits.iter().map(|d| char::from(b'0' + d)).collect();
    let len = n.digits.len() as i64;
    let exp = i64::from(n.exponent);
    if exp <= 0 {
        out.push_str("0.");
        out.extend(std::iter::repeat_n('0', (-exp) as usize));
        out.push_str(&digits);
    } else if exp >= len {
        out.push_str(&digits);
        out.extend(std::iter::repeat_n('0', (exp - len) as usize));
    } else {
        out.push_str(&digits[..exp as usize]);
        out.push('.');
        out.push_str(&digits[exp as usize..]);
    }
    out
}

/// The coefficient digits of `n` scaled so that its value is coef × 10^scale.
fn scale_of(n: &Number) -> i64 {
    i64::from(n.exponent) - n.digits.len() as i64
}

/// Both magnitudes as equally long digit vectors (with one spare leading digit for a
/// carry) over a common scale.
fn aligned(a: &Number, b: &Number) -> (Vec<u8>, Vec<u8>, i64) {
    let scale = scale_of(a).min(scale_of(b));
    let widen = |n: &Number| {
        let mut v = n.digits.clone();
        v.extend(std::iter::repeat_n(0, (scale_of(n) - scale) as usize));
        v
    };
    let (mut x, mut y) = (widen(a), widen(b));
    let width = x.len().max(y.len()) + 1;
    pad_left(&mut x, width);
    pad_left(&mut y, width);
    (x, y, scale)
}

fn pad_left(v: &mut Vec<u8>, width: usize) {
    let mut padded = vec![0; width - v.len()];
    padded.append(v);
    *v = padded;
}

/// x + y for equally long digit vectors (x has room for the carry).
fn mag_add(x: &[u8], y: &[u8]) -> Vec<u8> {
    let mut out = vec![0; x.len()];
    let mut carry = 0;
    for i in (0..x.len()).rev() {
        let s = x[i] + y[i] + carry;
        out[i] = s % 10;
        carry = s / 10;
    }
    out
}

/// x - y for equally long digit vectors with x ≥ y.
fn mag_sub(x: &[u8], y: &[u8]) -> Vec<u8> {
    let mut out = vec![0; x.len()];
    let mut borrow = 0i8;
    for i in (0..x.len()).rev() {
        let mut d = x[i] as i8 - y[i] as i8 - borrow;
        borrow = 0;
        if d < 0 {
            d += 10;
            borrow = 1;
        }
        out[i] = d as u8;
    }
    out
}

pub(super) fn add(a: &Number, b: &Number) -> Result<Number, ValueError> {
    if a.is_zero() {
        return Ok(b.clone());
    }
    if b.is_zero() {
        return Ok(a.clone());
    }
    let (x, y, scale) = aligned(a, b);
    let (negative, digits) = if a.negative == b.negative {
        (a.negative, mag_add(&x, &y))
    } else if x >= y {
        (a.negative, mag_sub(&x, &y))
    } else {
        (b.negative, mag_sub(&y, &x))
    };
    let exponent = digits.len() as i64 + scale;
    Number::from_parts(negative, digits, exponent)
}

pub(super) fn cmp(a: &Number, b: &Number) -> Ordering {
    let sign = |n: &Number| if n.is_zero() { 0 } else if n.negative { -1 } else { 1 };
    let (sa, sb) = (sign(a), sign(b));
    if sa != sb || sa == 0 {
        return sa.cmp(&sb);
    }
    let magnitude = a.exponent.cmp(&b.exponent).then_with(|| a.digits.cmp(&b.digits));
    if sa < 0 {
        magnitude.reverse()
    } else {
        magnitude
    }
}

impl fmt::Display for Number {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&to_text(self))
    }
}

impl PartialOrd for Number {
    fn partial_cmp(&self, other: &Number) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Number {
    fn cmp(&self, other: &Number) -> Ordering {
        cmp(self, other)
    }
}
