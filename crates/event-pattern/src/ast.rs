//! The compiled form of a pattern: an object of field rules plus `$or` alternatives,
//! whose leaves are lists of matchers (any may match).

use std::net::IpAddr;

/// A pattern object: all `fields` must match and, for each `$or`, one alternative.
#[derive(Debug, Clone, Default)]
pub struct Object {
    pub fields: Vec<(String, Rule)>,
    pub ors: Vec<Vec<Object>>,
}

/// What a key of the pattern holds.
#[derive(Debug, Clone)]
pub enum Rule {
    /// A nested object pattern (`{"detail": {...}}`).
    Nested(Object),
    /// An array of allowed values / matchers; any may match.
    Leaf(Vec<Matcher>),
}

/// One element of a leaf array.
#[derive(Debug, Clone)]
pub enum Matcher {
    /// A string, boolean or null literal; exact JSON equality.
    Exact(serde_json::Value),
    /// A number literal; equality after rounding to the dialect's precision.
    Number(f64),
    Prefix { text: String, ignore_case: bool },
    Suffix { text: String, ignore_case: bool },
    EqualsIgnoreCase(String),
    Wildcard(String),
    Numeric(Vec<(Cmp, f64)>),
    Exists(bool),
    Cidr(Cidr),
    AnythingBut(AnythingBut),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cmp {
    Eq,
    Lt,
    Le,
    Gt,
    Ge,
}

/// `{"anything-but": ...}`: matches a present value that none of these match.
#[derive(Debug, Clone)]
pub enum AnythingBut {
    /// Literals (strings, numbers); numbers compare numerically.
    Values(Vec<Matcher>),
    Prefix(String),
    Suffix(String),
    Wildcards(Vec<String>),
    EqualsIgnoreCase(Vec<String>),
}

/// An IPv4 or IPv6 network.
#[derive(Debug, Clone)]
pub struct Cidr {
    pub net: IpAddr,
    pub bits: u8,
}
