//! Filter patterns (FilterLogEvents' `filterPattern`): parsing picks the kind, matching
//! tests one event's message.
//!
//! Supported: term patterns (see `filter_text`) and JSON patterns `{ … }` (see
//! `filter_json`). Space-delimited `[ … ]` patterns and `%regex%` are refused with an
//! InvalidParameterException saying so — nimbus never guesses at syntax it lacks.

use crate::errors::{LogsError, LogsResult};
use crate::filter_json::JsonExpr;
use crate::filter_text::TextPattern;

#[derive(Debug)]
pub enum Pattern {
    All,
    Text(TextPattern),
    Json(JsonExpr),
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
            return Err(LogsError::NotSupported("The space-delimited filter pattern syntax ([ … ])".into()));
        }
        crate::filter_text::parse(p).map(Pattern::Text)
    }

    pub fn matches(&self, message: &str) -> bool {
        match self {
            Pattern::All => true,
            Pattern::Text(t) => t.matches(message),
            Pattern::Json(j) => j.matches(message),
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
    fn refused() {
        for p in ["[ip, user]", "%ERR.*%", "{ $.a = %x% }", "{ $.a[*] = 1 }", "{ $.* = 1 }", "?ERROR WARN", "{ $.a = 1", "{ $.a ~ 1 }", "{ $.a > \"x\" }", "foo.bar", "\"open"] {
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
