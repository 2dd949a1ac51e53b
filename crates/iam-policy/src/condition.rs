//! The Condition element: operators, `…IfExists`, the `ForAnyValue:` / `ForAllValues:`
//! set qualifiers, and how a clause is decided (IAM User Guide, "IAM JSON policy
//! elements: Condition operators", "Multivalued context keys", "Condition element").
//!
//! - Keys within one operator, and operators within a Condition: all must hold (AND).
//! - Values for one key: any may match (OR).
//! - A key missing from the request: the clause fails, except that negated operators
//!   (`StringNotEquals`, `ArnNotLike`, `NotIpAddress`, …) hold, `…IfExists` holds,
//!   `ForAllValues:` holds and `ForAnyValue:` fails; `Null` tests exactly that.
//! - A negated operator holds when the request value matches none of the values.
//! - Policy values are parsed once with the policy; a value that cannot be read for its
//!   operator (a number that is not one, a bad CIDR) matches nothing.

use std::net::IpAddr;

use base64::Engine as _;

use crate::date::parse_date_millis;
use crate::glob::Mode;
use crate::request::{lookup, Request};
use crate::vars::{Pattern, Text};

#[derive(Clone, Copy, Debug, PartialEq)]
enum Cmp {
    Eq,
    Lt,
    Le,
    Gt,
    Ge,
}

impl Cmp {
    fn holds<T: PartialOrd>(self, request: T, policy: T) -> bool {
        match self {
            Cmp::Eq => request == policy,
            Cmp::Lt => request < policy,
            Cmp::Le => request <= policy,
            Cmp::Gt => request > policy,
            Cmp::Ge => request >= policy,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq)]
enum Base {
    StringEquals,
    StringEqualsIgnoreCase,
    StringLike,
    Numeric(Cmp),
    Date(Cmp),
    Bool,
    Binary,
    Ip,
    Arn,
    Null,
}

#[derive(Clone, Copy, Debug, PartialEq)]
enum SetOp {
    Single,
    ForAnyValue,
    ForAllValues,
}

#[derive(Clone, Debug)]
enum Val {
    Text(Text),
    Pattern(Pattern),
    Num(f64),
    Date(i64),
    Bool(bool),
    Bytes(Vec<u8>),
    Ip(IpAddr, u8),
    Unreadable,
}

/// One key under one operator, e.g. `"StringLike": {"s3:prefix": ["home/*"]}`.
#[derive(Clone, Debug)]
pub(crate) struct Clause {
    base: Base,
    negated: bool,
    if_exists: bool,
    set: SetOp,
    key: Box<str>,
    values: Vec<Val>,
}

/// Why an operator name was refused.
pub(crate) struct UnknownOperator;

/// Reads an operator name into (base, negated, if_exists, set qualifier).
fn operator(name: &str) -> Result<(Base, bool, bool, SetOp), UnknownOperator> {
    let (set, rest) = if let Some(r) = name.strip_prefix("ForAnyValue:") {
        (SetOp::ForAnyValue, r)
    } else if let Some(r) = name.strip_prefix("ForAllValues:") {
        (SetOp::ForAllValues, r)
    } else {
        (SetOp::Single, name)
    };
    let (rest, if_exists) = match rest.strip_suffix("IfExists") {
        Some(r) => (r, true),
        None => (rest, false),
    };
    let (base, negated) = match rest {
        "StringEquals" => (Base::StringEquals, false),
        "StringNotEquals" => (Base::StringEquals, true),
        "StringEqualsIgnoreCase" => (Base::StringEqualsIgnoreCase, false),
        "StringNotEqualsIgnoreCase" => (Base::StringEqualsIgnoreCase, true),
        "StringLike" => (Base::StringLike, false),
        "StringNotLike" => (Base::StringLike, true),
        "NumericEquals" => (Base::Numeric(Cmp::Eq), false),
        "NumericNotEquals" => (Base::Numeric(Cmp::Eq), true),
        "NumericLessThan" => (Base::Numeric(Cmp::Lt), false),
        "NumericLessThanEquals" => (Base::Numeric(Cmp::Le), false),
        "NumericGreaterThan" => (Base::Numeric(Cmp::Gt), false),
        "NumericGreaterThanEquals" => (Base::Numeric(Cmp::Ge), false),
        "DateEquals" => (Base::Date(Cmp::Eq), false),
        "DateNotEquals" => (Base::Date(Cmp::Eq), true),
        "DateLessThan" => (Base::Date(Cmp::Lt), false),
        "DateLessThanEquals" => (Base::Date(Cmp::Le), false),
        "DateGreaterThan" => (Base::Date(Cmp::Gt), false),
        "DateGreaterThanEquals" => (Base::Date(Cmp::Ge), false),
        "Bool" => (Base::Bool, false),
        "BinaryEquals" => (Base::Binary, false),
        "IpAddress" => (Base::Ip, false),
        "NotIpAddress" => (Base::Ip, true),
        "ArnEquals" | "ArnLike" => (Base::Arn, false),
        "ArnNotEquals" | "ArnNotLike" => (Base::Arn, true),
        "Null" if !if_exists => (Base::Null, false),
        _ => return Err(UnknownOperator),
    };
    Ok((base, negated, if_exists, set))
}

/// Whether `name` is a condition operator (with its qualifier and suffix).
pub(crate) fn is_operator(name: &str) -> bool {
    operator(name).is_ok()
}

impl Clause {
    /// Builds a clause from its operator name, key and values (already stringified).
    pub(crate) fn new(op: &str, key: &str, values: &[String], variables: bool) -> Result<Clause, UnknownOperator> {
        let (base, negated, if_exists, set) = operator(op)?;
        let values = values.iter().map(|v| read_value(base, v, variables)).collect();
        Ok(Clause { base, negated, if_exists, set, key: key.to_ascii_lowercase().into(), values })
    }

    /// Whether the clause holds for `req`.
    pub(crate) fn holds(&self, req: &Request) -> bool {
        let vals = lookup(req, &self.key);
        if self.base == Base::Null {
            let absent = vals.is_absent_or_empty();
            return self.values.iter().any(|v| matches!(v, Val::Bool(b) if *b == absent));
        }
        if vals.is_absent_or_empty() {
            return self.if_exists
                || match self.set {
                    SetOp::ForAllValues => true,
                    SetOp::ForAnyValue => false,
                    SetOp::Single => self.negated,
                };
        }
        let positive = |rv: &str| self.values.iter().any(|pv| value_matches(self.base, pv, rv, req));
        match self.set {
            SetOp::Single => vals.iter().any(positive) != self.negated,
            SetOp::ForAnyValue => vals.iter().any(|rv| positive(rv) != self.negated),
            SetOp::ForAllValues => vals.iter().all(|rv| positive(rv) != self.negated),
        }
    }
}

fn read_value(base: Base, v: &str, variables: bool) -> Val {
    match base {
        Base::StringEquals | Base::StringEqualsIgnoreCase => Val::Text(Text::new(v, variables)),
        Base::StringLike => Val::Pattern(Pattern::new(v, Mode::String, variables)),
        Base::Arn => Val::Pattern(Pattern::new(v, Mode::Arn, variables)),
        Base::Numeric(_) => v.trim().parse().map_or(Val::Unreadable, Val::Num),
        Base::Date(_) => parse_date_millis(v).map_or(Val::Unreadable, Val::Date),
        Base::Bool | Base::Null => read_bool(v).map_or(Val::Unreadable, Val::Bool),
        Base::Binary => base64::engine::general_purpose::STANDARD.decode(v.trim()).map_or(Val::Unreadable, Val::Bytes),
        Base::Ip => parse_cidr(v).map_or(Val::Unreadable, |(ip, bits)| Val::Ip(ip, bits)),
    }
}

fn read_bool(v: &str) -> Option<bool> {
    if v.eq_ignore_ascii_case("true") {
        Some(true)
    } else if v.eq_ignore_ascii_case("false") {
        Some(false)
    } else {
        None
    }
}

/// Whether one request value matches one policy value (before negation).
fn value_matches(base: Base, pv: &Val, rv: &str, req: &Request) -> bool {
    match (base, pv) {
        (Base::StringEquals, Val::Text(t)) => t.render(req).is_some_and(|s| s == rv),
        (Base::StringEqualsIgnoreCase, Val::Text(t)) => t.render(req).is_some_and(|s| eq_ignore_case(&s, rv)),
        (Base::StringLike | Base::Arn, Val::Pattern(p)) => p.matches(rv, req),
        (Base::Numeric(c), Val::Num(n)) => rv.trim().parse::<f64>().is_ok_and(|r| c.holds(r, *n)),
        (Base::Date(c), Val::Date(d)) => parse_date_millis(rv).is_some_and(|r| c.holds(r, *d)),
        (Base::Bool, Val::Bool(b)) => read_bool(rv) == Some(*b),
        (Base::Binary, Val::Bytes(b)) => base64::engine::general_purpose::STANDARD.decode(rv.trim()).is_ok_and(|r| &r == b),
        (Base::Ip, Val::Ip(net, bits)) => rv.trim().parse::<IpAddr>().is_ok_and(|ip| in_cidr(ip, *net, *bits)),
        _ => false,
    }
}

fn eq_ignore_case(a: &str, b: &str) -> bool {
    if a.is_ascii() && b.is_ascii() {
        a.eq_ignore_ascii_case(b)
    } else {
        a.to_lowercase() == b.to_lowercase()
    }
}

fn parse_cidr(v: &str) -> Option<(IpAddr, u8)> {
    let v = v.trim();
    let (ip, bits) = match v.split_once('/') {
        Some((ip, bits)) => (ip.parse::<IpAddr>().ok()?, Some(bits.parse::<u8>().ok()?)),
        None => (v.parse::<IpAddr>().ok()?, None),
    };
    let max = if ip.is_ipv4() { 32 } else { 128 };
    let bits = bits.unwrap_or(max);
    (bits <= max).then_some((ip, bits))
}

fn in_cidr(ip: IpAddr, net: IpAddr, bits: u8) -> bool {
    let (a, b, width) = match (ip, net) {
        (IpAddr::V4(a), IpAddr::V4(b)) => (u32::from(a) as u128, u32::from(b) as u128, 32),
        (IpAddr::V6(a), IpAddr::V6(b)) => (u128::from(a), u128::from(b), 128),
        _ => return false,
    };
    if bits == 0 {
        return true;
    }
    let shift = width - u32::from(bits);
    (a >> shift) == (b >> shift)
}
