//! Policy variables (IAM User Guide, "IAM policy elements: Variables and tags"):
//! `${aws:username}`, `${aws:PrincipalTag/team}`, `${key, 'default'}`, and the escapes
//! `${*}`, `${?}`, `${$}` for a literal `*`, `?`, `$`. Only in policies of Version
//! 2012-10-17, in Resource / NotResource and condition values; in 2008-10-17 policies
//! the text is literal. A variable whose key the request does not have (and that has no
//! default) has no value: that value matches nothing, so `StringEquals` / `StringLike`
//! fail and `StringNotEquals` / `StringNotLike` hold ("Policy variables with no value").

use std::borrow::Cow;

use crate::glob::{Glob, Mode};
use crate::request::{lookup, Request};

#[derive(Clone, Debug)]
pub(crate) enum Part {
    Text(Box<str>),
    Var { key: Box<str>, default: Option<Box<str>> },
    Escaped(&'static str),
}

/// Splits `s` into text and variables; `None` when it has no variable.
fn parse(s: &str) -> Option<Vec<Part>> {
    if !s.contains("${") {
        return None;
    }
    let mut parts = Vec::new();
    let mut rest = s;
    while let Some(start) = rest.find("${") {
        let Some(len) = rest[start..].find('}') else { break };
        let inner = rest[start + 2..start + len].trim();
        if start > 0 {
            parts.push(Part::Text(rest[..start].into()));
        }
        parts.push(match inner {
            "*" => Part::Escaped("*"),
            "?" => Part::Escaped("?"),
            "$" => Part::Escaped("$"),
            _ => var(inner),
        });
        rest = &rest[start + len + 1..];
    }
    if !rest.is_empty() {
        parts.push(Part::Text(rest.into()));
    }
    Some(parts)
}

fn var(inner: &str) -> Part {
    let (key, default) = match inner.split_once(',') {
        Some((k, d)) => {
            let d = d.trim();
            let d = d.strip_prefix('\'').and_then(|d| d.strip_suffix('\'')).unwrap_or(d);
            // Within the quotes, '' stands for one quote.
            (k.trim(), Some(d.replace("''", "'").into()))
        }
        None => (inner, None),
    };
    Part::Var { key: key.to_ascii_lowercase().into(), default }
}

fn resolve<'a>(parts: &'a [Part], req: &Request<'a>) -> Option<Vec<(&'a str, bool)>> {
    parts
        .iter()
        .map(|p| match p {
            Part::Text(t) => Some((&**t, true)),
            Part::Escaped(e) => Some((*e, false)),
            Part::Var { key, default } => lookup(req, key).single().or(default.as_deref()).map(|v| (v, false)),
        })
        .collect()
}

/// A wildcard pattern that may hold policy variables.
#[derive(Clone, Debug)]
pub(crate) enum Pattern {
    Static(Glob),
    Template(Vec<Part>, Mode),
}

impl Pattern {
    pub(crate) fn new(s: &str, mode: Mode, variables: bool) -> Pattern {
        match parse(s).filter(|_| variables) {
            Some(parts) => Pattern::Template(parts, mode),
            None => Pattern::Static(Glob::new(s, mode)),
        }
    }

    pub(crate) fn matches(&self, text: &str, req: &Request) -> bool {
        match self {
            Pattern::Static(g) => g.matches(text),
            Pattern::Template(parts, mode) => {
                resolve(parts, req).is_some_and(|pieces| Glob::from_pieces(pieces, *mode).matches(text))
            }
        }
    }
}

/// A literal string that may hold policy variables (StringEquals and friends).
#[derive(Clone, Debug)]
pub(crate) enum Text {
    Static(Box<str>),
    Template(Vec<Part>),
}

impl Text {
    pub(crate) fn new(s: &str, variables: bool) -> Text {
        match parse(s).filter(|_| variables) {
            Some(parts) => Text::Template(parts),
            None => Text::Static(s.into()),
        }
    }

    pub(crate) fn render<'a>(&'a self, req: &Request<'a>) -> Option<Cow<'a, str>> {
        match self {
            Text::Static(s) => Some(Cow::Borrowed(s)),
            Text::Template(parts) => resolve(parts, req).map(|p| Cow::Owned(p.into_iter().map(|(s, _)| s).collect())),
        }
    }
}
