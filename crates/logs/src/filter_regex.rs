//! Regular expressions in filter patterns (`%…%`): standalone (`%ERROR|WARN%`) or as a
//! value in JSON and space-delimited patterns (`{ $.code = %4[0-9]{2}% }`).
//!
//! AWS accepts a subset (<https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/regex-expressions.html>):
//! letters and digits, the symbols `: _ # = @ / ; , -` and space, and the operators
//! `^ $ ? [ ] { } | \ * + .`; no `( )` groups and no multi-byte characters. At most two
//! regular expressions in one JSON or space-delimited pattern. Matching is a search
//! (anywhere in the text) with `regex-lite`, which runs in linear time.

use crate::errors::{LogsError, LogsResult};

/// Regular expressions one JSON or space-delimited pattern may hold.
pub const MAX_PER_PATTERN: usize = 2;

#[derive(Debug, Clone)]
pub struct Regex {
    source: String,
    compiled: regex_lite::Regex,
}

fn invalid(why: &str) -> LogsError {
    LogsError::InvalidParameter(format!("Invalid filter pattern: {why}"))
}

impl Regex {
    /// Compiles `%body%` (the `%` included).
    pub fn parse(term: &str) -> LogsResult<Regex> {
        let body = term
            .strip_prefix('%')
            .and_then(|t| t.strip_suffix('%'))
            .filter(|b| !b.is_empty())
            .ok_or_else(|| invalid(&format!("a regular expression must be enclosed in % %: {term}")))?;
        if let Some(bad) = body.chars().find(|c| !(c.is_ascii_alphanumeric() || ":_#=@/;,- ^$?[]{}|\\*+.".contains(*c))) {
            if bad == '(' || bad == ')' {
                return Err(invalid(&format!("the regular expression {term} uses '{bad}': sub-patterns in ( ) are not supported")));
            }
            return Err(invalid(&format!("the regular expression {term} contains the unsupported character '{bad}'")));
        }
        let compiled = regex_lite::Regex::new(body).map_err(|e| invalid(&format!("the regular expression {term} is not valid: {}", e.to_string().lines().last().unwrap_or(""))))?;
        Ok(Regex { source: term.to_string(), compiled })
    }

    pub fn is_match(&self, text: &str) -> bool {
        self.compiled.is_match(text)
    }

    pub fn source(&self) -> &str {
        &self.source
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn subset() {
        let r = Regex::parse(r"%\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}%").unwrap();
        assert!(r.is_match("from 10.0.0.1 ok"));
        assert!(!r.is_match("from host ok"));
        assert!(Regex::parse("%[Ee]rror|[Ff]ail%").unwrap().is_match("a fail"));
        assert!(Regex::parse("%^[hc]at%").unwrap().is_match("cat x"));
        assert!(!Regex::parse("%^[hc]at%").unwrap().is_match("x cat"));
        assert!(Regex::parse("%colou?r%").unwrap().is_match("color"));
        for bad in ["%(a|b)%", "%something!%", "%%", "%a", "%[a%", "%é%"] {
            assert!(Regex::parse(bad).is_err(), "{bad} should be refused");
        }
    }
}
