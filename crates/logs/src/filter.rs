//! Filter patterns (FilterLogEvents' `filterPattern`): parsing picks the kind, matching
//! tests one event's message.
//!
//! Supported: term patterns (see `filter_text`), JSON patterns `{ … }` (see
//! `filter_json`), space-delimited patterns `[ … ]` (see `filter_space`) and standalone
//! regular expressions `%…%` (see `filter_regex`). What nimbus lacks is refused with an
//! InvalidParameterException saying so — nimbus never guesses at syntax.

use crate::errors::{LogsError, LogsResult};
use crate::filter_json::JsonExpr;
use crate::filter_regex::Regex;
use crate::filter_space::SpacePattern;
use crate::filter_text::TextPattern;
use std::collections::BTreeMap;

#[derive(Debug)]
pub enum Pattern {
    All,
    Text(TextPattern),
    Json(JsonExpr),
    Space(SpacePattern),
    Regex(Regex),
}

impl Pattern {
    pub fn parse(pattern: Option<&str>) -> LogsResult<Pattern> {
        let p = pattern.unwrap_or("").trim();
        if p.is_empty() || p == "\"\"" {
            return Ok(Pattern::All);
        }
        if p.len() > 1024 {
            return Err(LogsError::validation(p, "filterPattern", "Member must have length less than or equal to 1024"));
        }
        if p.starts_with('{') {
            return crate::filter_json::parse(p).map(Pattern::Json);
        }
        if p.starts_with('[') {
            return crate::filter_space::parse(p).map(Pattern::Space);
        }
        if p.len() >= 2 && p.starts_with('%') && p.ends_with('%') {
            return Regex::parse(p).map(Pattern::Regex);
        }
        crate::filter_text::parse(p).map(Pattern::Text)
    }

    pub fn matches(&self, message: &str) -> bool {
        match self {
            Pattern::All => true,
            Pattern::Text(t) => t.matches(message),
            Pattern::Json(j) => j.matches(message),
            Pattern::Space(s) => s.matches(message),
            Pattern::Regex(r) => r.is_match(message),
        }
    }

    /// The values a matching message yields (TestMetricFilter's `extractedValues`, and
    /// `$field` metric values): `$name` of space-delimited fields, `$.path` of JSON
    /// selectors; `None` when the message does not match.
    pub fn extract(&self, message: &str) -> Option<BTreeMap<String, String>> {
        match self {
            Pattern::Space(s) => s.extract(message),
            Pattern::Json(j) => j.extract(message),
            other => other.matches(message).then(BTreeMap::new),
        }
    }

    /// Whether `$name` names a field of this (space-delimited) pattern.
    pub fn has_field(&self, name: &str) -> bool {
        matches!(self, Pattern::Space(s) if s.has_field(name))
    }

    /// Whether the pattern uses a regular expression (AWS allows five such metric and
    /// subscription filters per log group).
    pub fn has_regex(&self) -> bool {
        match self {
            Pattern::Regex(_) => true,
            Pattern::Json(j) => j.has_regex(),
            Pattern::Space(s) => s.regexes > 0,
            _ => false,
        }
    }
}

/// `*` matches any run of characters; everything else literally.
pub fn glob(pattern: &str, text: &str) -> bool {
    let p: Vec<char> = pattern.chars().collect();
    let t: Vec<char> = text.chars().collect();
    let (mut pi, mut ti) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while ti < t.len() {
        if pi < p.len() && p[pi] == '*' {
            star = Some((pi, ti));
            pi += 1;
        } else if pi < p.len() && p[pi] == t[ti] {
            pi += 1;
            ti += 1;
        } else if let Some((sp, st)) = star {
            pi = sp + 1;
            ti = st + 1;
            star = Some((sp, st + 1));
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|c| *c == '*')
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(p: &str, msg: &str) -> bool {
        Pattern::parse(Some(p)).unwrap_or_else(|e| panic!("{p}: {e:?}")).matches(msg)
    }

    #[test]
    fn globs() {
        assert!(glob("a*c", "abbbc"));
        assert!(glob("*", ""));
        assert!(!glob("a*c", "abd"));
        assert!(glob("*b*", "abc"));
    }

    #[test]
    fn terms() {
        assert!(m("ERROR", "an ERROR here"));
        assert!(!m("ERROR", "an error here"));
        assert!(m("ERROR timeout", "ERROR: timeout"));
        assert!(!m("ERROR timeout", "ERROR: ok"));
        assert!(m("\"took 5 ms\"", "it took 5 ms"));
        assert!(!m("\"took 5 ms\"", "took 5  ms"));
        assert!(m("?ERROR ?WARN", "WARN x"));
        assert!(!m("?ERROR ?WARN", "INFO x"));
        assert!(m("ERROR -Exiting", "ERROR boom"));
        assert!(!m("ERROR -Exiting", "ERROR Exiting"));
        assert!(m("", "anything"));
    }

    #[test]
    fn json() {
        let msg = r#"{"level":"error","n":7,"a":{"b":"xyz"},"ok":true,"list":[1,"two"],"nothing":null}"#;
        assert!(m(r#"{ $.level = "error" }"#, msg));
        assert!(m("{ $.level = error }", msg));
        assert!(!m(r#"{ $.level = "info" }"#, msg));
        assert!(m(r#"{ $.a.b != "x" }"#, msg));
        assert!(!m(r#"{ $.a.b != "xyz" }"#, msg));
        assert!(m("{ $.n > 5 }", msg));
        assert!(!m("{ $.n < 5 }", msg));
        assert!(m("{ $.n >= 7 && $.n <= 7 }", msg));
        assert!(m(r#"{ ($.n = 1 || $.n = 7) && $.level = "err*" }"#, msg));
        assert!(!m(r#"{ $.n = 1 || ($.n = 7 && $.level = "x*") }"#, msg));
        assert!(m(r#"{ $.a.b = "*y*" }"#, msg));
        assert!(m("{ $.ok IS TRUE }", msg));
        assert!(m("{ $.nothing IS NULL }", msg));
        assert!(m("{ $.missing NOT EXISTS }", msg));
        assert!(m(r#"{ $.list[1] = "two" }"#, msg));
        assert!(!m(r#"{ $.missing = "x" }"#, msg));
        assert!(!m(r#"{ $.level = "error" }"#, "not json"));
    }

    #[test]
    fn regex_and_space_delimited() {
        assert!(m("%ERR[A-Z]+%", "an ERROR here"));
        assert!(!m("%^ERR%", "an ERROR here"));
        assert!(m(r#"{ $.code = %^4[0-9]{2}$% }"#, r#"{"code":"404"}"#));
        assert!(m("[ip, ..., status=4*, size>100]", "1.2.3.4 a b 404 512"));
        let p = Pattern::parse(Some("[ip, ..., status, size]")).unwrap();
        let v = p.extract("1.2.3.4 a b 404 512").unwrap();
        assert_eq!((v["$status"].as_str(), v["$size"].as_str()), ("404", "512"));
        let j = Pattern::parse(Some("{ $.a.b = 1 && $.c NOT EXISTS }")).unwrap();
        assert_eq!(j.extract(r#"{"a":{"b":1}}"#).unwrap()["$.a.b"], "1");
    }

    #[test]
    fn refused() {
        for p in ["[ip user]", "%ERR(x)%", "{ $.a = %x% && $.b = %y% && $.c = %z% }", "{ $.a[*] = 1 }", "{ $.* = 1 }", "?ERROR WARN", "{ $.a = 1", "{ $.a ~ 1 }", "{ $.a > \"x\" }", "foo.bar", "\"open"] {
            assert!(Pattern::parse(Some(p)).is_err(), "{p} should be refused");
        }
    }

    /// The longest pattern AWS accepts (1,024 characters) nested as deep as it can be:
    /// refused, on a 256 KiB stack, without recursing once per level.
    #[test]
    fn deep_nesting_is_refused_on_a_small_stack() {
        let deep = format!("{{ {}$.a = 1{} }}", "(".repeat(506), ")".repeat(506));
        assert!(deep.len() <= 1024);
        let refused = std::thread::Builder::new()
            .stack_size(256 * 1024)
            .spawn(move || Pattern::parse(Some(&deep)).is_err())
            .unwrap()
            .join()
            .unwrap();
        assert!(refused);
        let ok = format!("{{ {}$.a = 1{} }}", "(".repeat(64), ")".repeat(64));
        assert!(m(&ok, r#"{"a":1}"#));
    }
}
