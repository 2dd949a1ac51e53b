//! PartiQL tokens: quoted ("...") and bare identifiers, string literals ('...'), numbers,
//! `?` parameters and punctuation. A flat loop over the text; no recursion.

use super::ParseError;

#[derive(Debug, Clone, PartialEq)]
pub enum Tok {
    /// An identifier; `true` when it was double-quoted (never a keyword then).
    Ident(String, bool),
    Str(String),
    Num(String),
    Param,
    Punct(&'static str),
}

const PUNCT: [&str; 21] = ["<<", ">>", "<>", "!=", "<=", ">=", "(", ")", "[", "]", "{", "}", ",", ".", ":", "=", "<", ">", "+", "-", "*"];

/// Splits a statement into tokens.
pub fn lex(text: &str) -> Result<Vec<Tok>, ParseError> {
    let chars: Vec<char> = text.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c.is_whitespace() || c == ';' {
            i += 1;
        } else if c == '"' || c == '\'' {
            let (s, next) = quoted(&chars, i, c)?;
            out.push(if c == '"' { Tok::Ident(s, true) } else { Tok::Str(s) });
            i = next;
        } else if c.is_ascii_digit() {
            let start = i;
            while i < chars.len() && (chars[i].is_ascii_alphanumeric() || chars[i] == '.' || ((chars[i] == '-' || chars[i] == '+') && matches!(chars[i - 1], 'e' | 'E'))) {
                i += 1;
            }
            out.push(Tok::Num(chars[start..i].iter().collect()));
        } else if c.is_alphabetic() || c == '_' {
            let start = i;
            while i < chars.len() && (chars[i].is_alphanumeric() || chars[i] == '_') {
                i += 1;
            }
            out.push(Tok::Ident(chars[start..i].iter().collect(), false));
        } else if c == '?' {
            out.push(Tok::Param);
            i += 1;
        } else {
            let rest: String = chars[i..chars.len().min(i + 2)].iter().collect();
            let p = PUNCT.iter().find(|p| rest.starts_with(**p)).ok_or_else(|| ParseError::Syntax(format!("Unexpected character: {c}")))?;
            out.push(Tok::Punct(p));
            i += p.chars().count();
        }
    }
    Ok(out)
}

/// A quoted run starting at `start`; a doubled quote stands for itself.
fn quoted(chars: &[char], start: usize, q: char) -> Result<(String, usize), ParseError> {
    let mut s = String::new();
    let mut i = start + 1;
    loop {
        match chars.get(i) {
            None => return Err(ParseError::Syntax("Unterminated quoted text".into())),
            Some(&c) if c == q && chars.get(i + 1) == Some(&q) => {
                s.push(q);
                i += 2;
            }
            Some(&c) if c == q => return Ok((s, i + 1)),
            Some(&c) => {
                s.push(c);
                i += 1;
            }
        }
    }
}
