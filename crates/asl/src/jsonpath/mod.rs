//! JSONPath as Step Functions evaluates it (AWS runs Jayway JsonPath): the syntax tree, its
//! parser (`parser`) and its evaluator (`eval`). Internal to the crate; `crate::path` is the
//! contract the engine calls.
//!
//! Supported: `$` / `$$` / `$name` roots, dot and bracket names (`$.a`, `$['a b']`, `$.['a']`),
//! indexes (negative too), slices `[1:3]` / `[::2]`, wildcards `.*` / `[*]`, deep scan `..`,
//! unions `[0,2]` / `['a','b']`, filters `[?(@.price < 10 && @.tag)]` (comparisons, `=~`
//! regex, `in`/`nin`/`subsetof`/`anyof`/`noneof`/`size`/`empty`, `!`, parentheses) and a
//! trailing function (`length()`, `size()`, `min()`, `max()`, `avg()`, `sum()`, `stddev()`,
//! `first()`, `last()`, `keys()`).
//! <https://docs.aws.amazon.com/step-functions/latest/dg/amazon-states-language-paths.html>

pub mod eval;
pub mod parser;

use serde_json::Value;

/// What a path starts from.
#[derive(Debug, Clone, PartialEq)]
pub enum Root {
    /// `$`: the input.
    Input,
    /// `$$`: the context object.
    Context,
    /// `$name`: a variable set by `Assign`.
    Variable(String),
}

/// A parsed path.
#[derive(Debug, Clone, PartialEq)]
pub struct Path {
    pub root: Root,
    pub segments: Vec<Segment>,
    pub function: Option<Function>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Segment {
    /// `.x`, `[...]`.
    Child(Selector),
    /// `..x`, `..[...]`, `..*`.
    Descendant(Selector),
}

#[derive(Debug, Clone, PartialEq)]
pub enum Selector {
    Name(String),
    /// Several names in one bracket: at the end of a path Jayway merges them into one object.
    Names(Vec<String>),
    Wildcard,
    Index(i64),
    Indexes(Vec<i64>),
    Slice(Option<i64>, Option<i64>, Option<i64>),
    Filter(Box<Filter>),
}

#[derive(Debug, Clone, PartialEq)]
pub enum Filter {
    Or(Box<Filter>, Box<Filter>),
    And(Box<Filter>, Box<Filter>),
    Not(Box<Filter>),
    Exists(Operand),
    Compare(Operand, CompareOp, Operand),
}

#[derive(Debug, Clone)]
pub enum CompareOp {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    Regex(regex_lite::Regex),
    In,
    Nin,
    SubsetOf,
    AnyOf,
    NoneOf,
    Size,
    Empty,
}

impl PartialEq for CompareOp {
    fn eq(&self, other: &Self) -> bool {
        match (self, other) {
            (CompareOp::Regex(a), CompareOp::Regex(b)) => a.as_str() == b.as_str(),
            _ => std::mem::discriminant(self) == std::mem::discriminant(other),
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum Operand {
    /// `@...`: relative to the item being filtered.
    Current(Vec<Segment>, Option<Function>),
    /// `$...`: relative to the document root.
    Root(Vec<Segment>, Option<Function>),
    Literal(Value),
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Function {
    Length,
    Min,
    Max,
    Avg,
    Sum,
    Stddev,
    First,
    Last,
    Keys,
}

impl Function {
    pub fn from_name(name: &str) -> Option<Function> {
        Some(match name {
            "length" | "size" => Function::Length,
            "min" => Function::Min,
            "max" => Function::Max,
            "avg" => Function::Avg,
            "sum" => Function::Sum,
            "stddev" => Function::Stddev,
            "first" => Function::First,
            "last" => Function::Last,
            "keys" => Function::Keys,
            _ => return None,
        })
    }
}

impl Path {
    /// A reference path: names and indexes only, no function (`@ .. , : ? *` refused).
    /// <https://docs.aws.amazon.com/step-functions/latest/dg/amazon-states-language-paths.html#amazon-states-language-reference-paths>
    pub fn is_reference(&self) -> bool {
        self.function.is_none()
            && self.segments.iter().all(|segment| {
                matches!(segment, Segment::Child(Selector::Name(_)) | Segment::Child(Selector::Index(_)))
            })
    }
}

/// A definite path names at most one node (Jayway's rule): only names, indexes, and a
/// closing multi-name bracket (which merges into one object). Anything else returns an array.
pub fn segments_definite(segments: &[Segment]) -> bool {
    let last = segments.len().saturating_sub(1);
    segments.iter().enumerate().all(|(i, segment)| match segment {
        Segment::Child(Selector::Name(_)) | Segment::Child(Selector::Index(_)) => true,
        Segment::Child(Selector::Names(_)) => i == last,
        _ => false,
    })
}

/// Jayway's rendering of a path prefix, used in its "No results for path: $['a']['b']" text.
pub fn render_segments(segments: &[Segment]) -> String {
    let mut out = String::from("$");
    for segment in segments {
        match segment {
            Segment::Child(selector) => render_selector(&mut out, selector),
            Segment::Descendant(selector) => {
                out.push_str("..");
                render_selector(&mut out, selector);
            }
        }
    }
    out
}

fn render_selector(out: &mut String, selector: &Selector) {
    match selector {
        Selector::Name(name) => out.push_str(&format!("['{name}']")),
        Selector::Names(names) => {
            let quoted: Vec<String> = names.iter().map(|n| format!("'{n}'")).collect();
            out.push_str(&format!("[{}]", quoted.join(",")));
        }
        Selector::Wildcard => out.push_str("[*]"),
        Selector::Index(i) => out.push_str(&format!("[{i}]")),
        Selector::Indexes(list) => {
            let list: Vec<String> = list.iter().map(|i| i.to_string()).collect();
            out.push_str(&format!("[{}]", list.join(",")));
        }
        Selector::Slice(a, b, c) => {
            let part = |v: &Option<i64>| v.map(|v| v.to_string()).unwrap_or_default();
            match c {
                Some(_) => out.push_str(&format!("[{}:{}:{}]", part(a), part(b), part(c))),
                None => out.push_str(&format!("[{}:{}]", part(a), part(b))),
            }
        }
        Selector::Filter(_) => out.push_str("[?]"),
    }
}
