//! Term filter patterns: `ERROR timeout` (every term must appear, case-sensitive),
//! `"quoted phrase"`, `?ERROR ?WARN` (any of them), `-term` (must not appear).
//!
//! Unquoted terms may hold letters, digits and `_` only (AWS asks for quotes around
//! anything else); `%regex%` terms and mixing `?` alternatives with other terms are
//! refused as not supported.

use crate::errors::{LogsError, LogsResult};

#[derive(Debug, Default)]
pub struct TextPattern {
    required: Vec<String>,
    any_of: Vec<String>,
    excluded: Vec<String>,
}

fn invalid(why: &str) -> LogsError {
    LogsError::InvalidParameter(format!("Invalid filter pattern: {why}"))
}

pub fn parse(pattern: &str) -> LogsResult<TextPattern> {
    let chars: Vec<char> = pattern.chars().collect();
    let mut out = TextPattern::default();
    let mut i = 0;
    while i < chars.len() {
        if chars[i].is_whitespace() {
            i += 1;
            continue;
        }
        let kind = chars[i];
        if kind == '?' || kind == '-' {
            i += 1;
        }
        let term = if chars.get(i) == Some(&'"') {
            let (term, next) = quoted(&chars, i)?;
            i = next;
            term
        } else {
            let start = i;
            while i < chars.len() && !chars[i].is_whitespace() {
                i += 1;
            }
            let term: String = chars[start..i].iter().collect();
            if term.starts_with('%') {
                return Err(LogsError::NotSupported("Regular expressions in filter patterns (%…%)".into()));
            }
            if let Some(bad) = term.chars().find(|c| !c.is_alphanumeric() && *c != '_') {
                return Err(invalid(&format!("unquoted term '{term}' contains '{bad}'; put terms with characters other than letters, digits and _ in double quotes")));
            }
            term
        };
        if term.is_empty() {
            return Err(invalid("empty term"));
        }
        match kind {
            '?' => out.any_of.push(term),
            '-' => out.excluded.push(term),
            _ => out.required.push(term),
        }
    }
    if !out.any_of.is_empty() && (!out.required.is_empty() || !out.excluded.is_empty()) {
        return Err(LogsError::NotSupported("Combining ?term alternatives with other terms".into()));
    }
    Ok(out)
}

/// Reads `"…"` starting at `start` (`\"` and `\\` escape); returns the text and the
/// index after the closing quote.
pub(crate) fn quoted(chars: &[char], start: usize) -> LogsResult<(String, usize)> {
    let mut s = String::new();
    let mut i = start + 1;
    while i < chars.len() {
        match chars[i] {
            '\\' if i + 1 < chars.len() => {
                s.push(chars[i + 1]);
                i += 2;
            }
            '"' => return Ok((s, i + 1)),
            c => {
                s.push(c);
                i += 1;
            }
        }
    }
    Err(invalid("unterminated quoted term"))
}

impl TextPattern {
    pub fn matches(&self, message: &str) -> bool {
        self.required.iter().all(|t| message.contains(t.as_str()))
            && !self.excluded.iter().any(|t| message.contains(t.as_str()))
            && (self.any_of.is_empty() || self.any_of.iter().any(|t| message.contains(t.as_str())))
    }
}
