//! The tokenizer: JSONata's operators, string and number literals, names (plain and
//! back-quoted), `$variables`, regex literals (only where an operand may start) and
//! `/* */` comments. Positions are character offsets.

use crate::JsonataError;

#[derive(Debug, Clone, PartialEq)]
pub enum Tok {
    Op(&'static str),
    Str(String),
    Num(f64),
    Name(String),
    /// A back-quoted name: never a keyword.
    Quoted(String),
    Var(String),
    Regex(String, String),
    End,
}

#[derive(Debug, Clone)]
pub struct Token {
    pub tok: Tok,
    /// Offset just after the token (as JSONata reports positions).
    pub pos: usize,
    pub start: usize,
}

const OPS2: [&str; 9] = ["..", ":=", "!=", ">=", "<=", "**", "~>", "?:", "??"];
const OPS1: &str = ".[]{}(),@#;:?+-*/%|=<>^&!~";

pub struct Lexer {
    chars: Vec<char>,
    pos: usize,
}

fn is_name_end(c: char) -> bool {
    c.is_whitespace() || OPS1.contains(c) || c == '"' || c == '\'' || c == '`' || c == '$'
}

impl Lexer {
    pub fn new(text: &str) -> Lexer {
        Lexer { chars: text.chars().collect(), pos: 0 }
    }

    fn err(&self, code: &str, pos: usize, msg: impl Into<String>) -> JsonataError {
        JsonataError::new(code, Some(pos), msg)
    }

    /// The next token; `prefix` says an operand may start here (so `/` opens a regex).
    pub fn next(&mut self, prefix: bool) -> Result<Token, JsonataError> {
        let c = &self.chars;
        loop {
            while self.pos < c.len() && c[self.pos].is_whitespace() {
                self.pos += 1;
            }
            if self.pos + 1 < c.len() && c[self.pos] == '/' && c[self.pos + 1] == '*' {
                let start = self.pos;
                self.pos += 2;
                loop {
                    if self.pos + 1 >= c.len() {
                        return Err(self.err("S0106", start, "Comment has no closing tag"));
                    }
                    if c[self.pos] == '*' && c[self.pos + 1] == '/' {
                        self.pos += 2;
                        break;
                    }
                    self.pos += 1;
                }
                continue;
            }
            break;
        }
        let start = self.pos;
        if self.pos >= c.len() {
            return Ok(Token { tok: Tok::End, pos: self.pos, start });
        }
        let ch = c[self.pos];
        if prefix && ch == '/' {
            return self.regex(start);
        }
        if self.pos + 1 < c.len() {
            let two: String = c[self.pos..self.pos + 2].iter().collect();
            if let Some(op) = OPS2.iter().find(|o| **o == two) {
                // `..` after a number is the range operator, never a decimal point.
                self.pos += 2;
                return Ok(Token { tok: Tok::Op(op), pos: self.pos, start });
            }
        }
        if let Some(i) = OPS1.find(ch) {
            self.pos += 1;
            return Ok(Token { tok: Tok::Op(&OPS1[i..i + 1]), pos: self.pos, start });
        }
        if ch == '"' || ch == '\'' {
            return self.string(ch, start);
        }
        if ch.is_ascii_digit() {
            return self.number(start);
        }
        if ch == '`' {
            self.pos += 1;
            let s = self.pos;
            while self.pos < c.len() && c[self.pos] != '`' {
                self.pos += 1;
            }
            if self.pos >= c.len() {
                return Err(self.err("S0105", start, "Quoted property name must be terminated with a backquote (`)"));
            }
            let name: String = c[s..self.pos].iter().collect();
            self.pos += 1;
            return Ok(Token { tok: Tok::Quoted(name), pos: self.pos, start });
        }
        if ch == '$' {
            self.pos += 1;
            let s = self.pos;
            if self.pos < c.len() && c[self.pos] == '$' {
                self.pos += 1;
                return Ok(Token { tok: Tok::Var("$".into()), pos: self.pos, start });
            }
            while self.pos < c.len() && !is_name_end(c[self.pos]) {
                self.pos += 1;
            }
            let name: String = c[s..self.pos].iter().collect();
            return Ok(Token { tok: Tok::Var(name), pos: self.pos, start });
        }
        while self.pos < c.len() && !is_name_end(c[self.pos]) {
            self.pos += 1;
        }
        let name: String = c[start..self.pos].iter().collect();
        Ok(Token { tok: Tok::Name(name), pos: self.pos, start })
    }

    fn regex(&mut self, start: usize) -> Result<Token, JsonataError> {
        let c = &self.chars;
        self.pos += 1;
        let s = self.pos;
        let mut depth = 0i32;
        loop {
            if self.pos >= c.len() {
                return Err(self.err("S0302", start, "No terminating / in regular expression"));
            }
            let ch = c[self.pos];
            if ch == '\\' {
                self.pos += 2;
                continue;
            }
            if ch == '[' {
                depth += 1;
            } else if ch == ']' && depth > 0 {
                depth -= 1;
            } else if ch == '/' && depth == 0 {
                break;
            }
            self.pos += 1;
        }
        let pattern: String = c[s..self.pos].iter().collect();
        if pattern.is_empty() {
            return Err(self.err("S0301", start, "Empty regular expressions are not allowed"));
        }
        self.pos += 1;
        let fs = self.pos;
        while self.pos < c.len() && matches!(c[self.pos], 'i' | 'm') {
            self.pos += 1;
        }
        let flags: String = c[fs..self.pos].iter().collect();
        Ok(Token { tok: Tok::Regex(pattern, flags), pos: self.pos, start })
    }

    fn string(&mut self, quote: char, start: usize) -> Result<Token, JsonataError> {
        let c = &self.chars;
        self.pos += 1;
        let mut out = String::new();
        loop {
            if self.pos >= c.len() {
                return Err(self.err("S0101", start, "String literal must be terminated by a matching quote"));
            }
            let ch = c[self.pos];
            if ch == quote {
                self.pos += 1;
                return Ok(Token { tok: Tok::Str(out), pos: self.pos, start });
            }
            if ch == '\\' {
                self.pos += 1;
                let e = c.get(self.pos).copied().unwrap_or('\0');
                match e {
                    '"' | '\\' | '/' | '\'' => out.push(e),
                    'b' => out.push('\u{8}'),
                    'f' => out.push('\u{c}'),
                    'n' => out.push('\n'),
                    'r' => out.push('\r'),
                    't' => out.push('\t'),
                    'u' => {
                        let code = self.hex4(self.pos + 1)?;
                        self.pos += 4;
                        // A surrogate pair written as two escapes.
                        if (0xD800..0xDC00).contains(&code)
                            && c.get(self.pos + 1) == Some(&'\\')
                            && c.get(self.pos + 2) == Some(&'u')
                        {
                            let low = self.hex4(self.pos + 3)?;
                            if (0xDC00..0xE000).contains(&low) {
                                self.pos += 6;
                                let cp = 0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00);
                                out.push(char::from_u32(cp).unwrap_or('\u{FFFD}'));
                                self.pos += 1;
                                continue;
                            }
                        }
                        out.push(char::from_u32(code).unwrap_or('\u{FFFD}'));
                    }
                    _ => return Err(self.err("S0103", self.pos, format!("Unsupported escape sequence: \\{e}"))),
                }
                self.pos += 1;
                continue;
            }
            out.push(ch);
            self.pos += 1;
        }
    }

    fn hex4(&self, at: usize) -> Result<u32, JsonataError> {
        let s: String = self.chars.iter().skip(at).take(4).collect();
        if s.len() == 4 && s.chars().all(|h| h.is_ascii_hexdigit()) {
            Ok(u32::from_str_radix(&s, 16).unwrap_or(0xFFFD))
        } else {
            Err(self.err("S0104", at, "The escape sequence \\u must be followed by 4 hex digits"))
        }
    }

    fn number(&mut self, start: usize) -> Result<Token, JsonataError> {
        let c = &self.chars;
        let digits = |p: &mut usize| {
            let s = *p;
            while *p < c.len() && c[*p].is_ascii_digit() {
                *p += 1;
            }
            *p > s
        };
        let mut p = self.pos;
        if c[p] == '0' {
            p += 1;
        } else {
            digits(&mut p);
        }
        if p + 1 < c.len() && c[p] == '.' && c[p + 1].is_ascii_digit() {
            p += 1;
            digits(&mut p);
        }
        if p < c.len() && (c[p] == 'e' || c[p] == 'E') {
            let mut q = p + 1;
            if q < c.len() && (c[q] == '+' || c[q] == '-') {
                q += 1;
            }
            if digits(&mut q) {
                p = q;
            }
        }
        let text: String = c[self.pos..p].iter().collect();
        let n: f64 = text.parse().unwrap_or(f64::NAN);
        if !n.is_finite() {
            return Err(self.err("S0102", start, format!("Number out of range: {text}")));
        }
        self.pos = p;
        Ok(Token { tok: Tok::Num(n), pos: self.pos, start })
    }
}
