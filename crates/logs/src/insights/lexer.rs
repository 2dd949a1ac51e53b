//! Logs Insights query text → tokens, each with its character offsets (for
//! MalformedQueryException's `location`).
//!
//! `/…/` is a regular expression where one can stand (after `like`, `=~`, `parse` and
//! `parse FIELD`, `(`, `,`, `[`), and division elsewhere. `5m`-style durations (for
//! `bin()`, `datefloor()`) are one token. `#` starts a comment to the end of the line.
//! Names may hold `@`, `.` and `_` (`@message`, `a.b.c`) or be quoted in backticks.

use super::QueryError;

#[derive(Debug, Clone, PartialEq)]
pub enum Tok {
    Ident(String),
    Str(String),
    Num(f64),
    /// A duration in milliseconds, with its text (`5m`).
    Duration(u64, String),
    Regex(String),
    Pipe,
    Comma,
    LParen,
    RParen,
    LBracket,
    RBracket,
    Op(&'static str),
}

#[derive(Debug, Clone)]
pub struct Token {
    pub tok: Tok,
    pub start: usize,
    pub end: usize,
}

/// Milliseconds of a duration unit (AWS's `bin()` units).
fn unit_ms(unit: &str) -> Option<u64> {
    Some(match unit {
        "ms" => 1,
        "s" | "sec" | "second" | "seconds" => 1_000,
        "m" | "min" | "minute" | "minutes" => 60_000,
        "h" | "hr" | "hour" | "hours" => 3_600_000,
        "d" | "day" | "days" => 86_400_000,
        "w" | "week" | "weeks" => 7 * 86_400_000,
        "mo" | "month" | "months" => 30 * 86_400_000,
        "q" | "quarter" | "quarters" => 91 * 86_400_000,
        "y" | "year" | "years" => 365 * 86_400_000,
        _ => return None,
    })
}

fn regex_may_follow(prev: &[Token]) -> bool {
    match prev.last().map(|t| &t.tok) {
        None => false,
        Some(Tok::LParen | Tok::Comma | Tok::LBracket) => true,
        Some(Tok::Op(op)) => *op == "=~" || *op == "=" || *op == "!=",
        Some(Tok::Ident(w)) => {
            let w = w.to_ascii_lowercase();
            w == "like" || w == "parse" || matches!(prev.len().checked_sub(2).map(|i| &prev[i].tok), Some(Tok::Ident(p)) if p.eq_ignore_ascii_case("parse"))
        }
        _ => false,
    }
}

pub fn lex(text: &str) -> Result<Vec<Token>, QueryError> {
    let c: Vec<char> = text.chars().collect();
    let mut out: Vec<Token> = Vec::new();
    let mut i = 0;
    while i < c.len() {
        let ch = c[i];
        let start = i;
        if ch.is_whitespace() {
            i += 1;
            continue;
        }
        if ch == '#' {
            while i < c.len() && c[i] != '\n' {
                i += 1;
            }
            continue;
        }
        let tok = match ch {
            '|' if c.get(i + 1) != Some(&'|') => {
                i += 1;
                Tok::Pipe
            }
            ',' => {
                i += 1;
                Tok::Comma
            }
            '(' => {
                i += 1;
                Tok::LParen
            }
            ')' => {
                i += 1;
                Tok::RParen
            }
            '[' => {
                i += 1;
                Tok::LBracket
            }
            ']' => {
                i += 1;
                Tok::RBracket
            }
            '\'' | '"' => {
                let mut s = String::new();
                i += 1;
                loop {
                    match c.get(i) {
                        None => return Err(QueryError::at(start, c.len(), "unterminated string literal")),
                        Some('\\') if i + 1 < c.len() => {
                            s.push(match c[i + 1] {
                                'n' => '\n',
                                't' => '\t',
                                other => other,
                            });
                            i += 2;
                        }
                        Some(q) if *q == ch => {
                            i += 1;
                            break;
                        }
                        Some(other) => {
                            s.push(*other);
                            i += 1;
                        }
                    }
                }
                Tok::Str(s)
            }
            '`' => {
                let end = c[i + 1..].iter().position(|x| *x == '`').ok_or_else(|| QueryError::at(start, c.len(), "unterminated quoted field name"))?;
                let name: String = c[i + 1..i + 1 + end].iter().collect();
                i += end + 2;
                Tok::Ident(name)
            }
            '/' if regex_may_follow(&out) => {
                let mut s = String::new();
                i += 1;
                loop {
                    match c.get(i) {
                        None => return Err(QueryError::at(start, c.len(), "unterminated regular expression")),
                        Some('\\') if c.get(i + 1) == Some(&'/') => {
                            s.push('/');
                            i += 2;
                        }
                        Some('\\') if i + 1 < c.len() => {
                            s.push('\\');
                            s.push(c[i + 1]);
                            i += 2;
                        }
                        Some('/') => {
                            i += 1;
                            break;
                        }
                        Some(other) => {
                            s.push(*other);
                            i += 1;
                        }
                    }
                }
                // Flags after the closing slash (`/x/i`) are not part of AWS's syntax.
                Tok::Regex(s)
            }
            d if d.is_ascii_digit() || (d == '.' && c.get(i + 1).is_some_and(|n| n.is_ascii_digit())) => {
                while i < c.len() && (c[i].is_ascii_digit() || c[i] == '.') {
                    i += 1;
                }
                if i < c.len() && (c[i] == 'e' || c[i] == 'E') && c.get(i + 1).is_some_and(|n| n.is_ascii_digit() || *n == '-' || *n == '+') {
                    i += 2;
                    while i < c.len() && c[i].is_ascii_digit() {
                        i += 1;
                    }
                }
                let num: String = c[start..i].iter().collect();
                let n: f64 = num.parse().map_err(|_| QueryError::at(start, i, &format!("invalid number {num}")))?;
                let ustart = i;
                while i < c.len() && c[i].is_ascii_alphabetic() {
                    i += 1;
                }
                if i > ustart {
                    let unit: String = c[ustart..i].iter().collect();
                    let ms = unit_ms(&unit).ok_or_else(|| QueryError::at(start, i, &format!("invalid time unit '{unit}'")))?;
                    Tok::Duration((n * ms as f64) as u64, c[start..i].iter().collect())
                } else {
                    Tok::Num(n)
                }
            }
            a if a.is_alphabetic() || a == '@' || a == '_' || a == '$' => {
                while i < c.len() && (c[i].is_alphanumeric() || matches!(c[i], '@' | '_' | '.' | '$' | '-') ) {
                    // A `-` continues a name only when a letter follows (`x-amz-id`), not in `a - b`.
                    if c[i] == '-' && !c.get(i + 1).is_some_and(|n| n.is_alphabetic()) {
                        break;
                    }
                    i += 1;
                }
                Tok::Ident(c[start..i].iter().collect())
            }
            _ => {
                let two: String = c[i..(i + 2).min(c.len())].iter().collect();
                let op: &'static str = match two.as_str() {
                    "=~" => "=~",
                    "!=" => "!=",
                    "<=" => "<=",
                    ">=" => ">=",
                    "==" => "=",
                    "&&" => "and",
                    "||" => "or",
                    _ => match ch {
                        '=' => "=",
                        '<' => "<",
                        '>' => ">",
                        '+' => "+",
                        '-' => "-",
                        '*' => "*",
                        '/' => "/",
                        '%' => "%",
                        '^' => "^",
                        '!' => "not",
                        _ => return Err(QueryError::at(start, start + 1, &format!("unexpected symbol found {ch}"))),
                    },
                };
                i += if matches!(two.as_str(), "=~" | "!=" | "<=" | ">=" | "==" | "&&" | "||") { 2 } else { 1 };
                Tok::Op(op)
            }
        };
        out.push(Token { tok, start, end: i });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn toks(s: &str) -> Vec<Tok> {
        lex(s).unwrap().into_iter().map(|t| t.tok).collect()
    }

    #[test]
    fn tokens() {
        assert_eq!(
            toks("stats count(*) by bin(5m) | filter a.b >= 2"),
            vec![
                Tok::Ident("stats".into()),
                Tok::Ident("count".into()),
                Tok::LParen,
                Tok::Op("*"),
                Tok::RParen,
                Tok::Ident("by".into()),
                Tok::Ident("bin".into()),
                Tok::LParen,
                Tok::Duration(300_000, "5m".into()),
                Tok::RParen,
                Tok::Pipe,
                Tok::Ident("filter".into()),
                Tok::Ident("a.b".into()),
                Tok::Op(">="),
                Tok::Num(2.0),
            ]
        );
        assert_eq!(toks("parse @message /id=(?<id>\\d+)/")[2], Tok::Regex("id=(?<id>\\d+)".into()));
        assert_eq!(toks("filter x like /a\\/b/")[3], Tok::Regex("a/b".into()));
        assert_eq!(toks("fields a / 2")[2], Tok::Op("/"));
        assert_eq!(toks("fields `my field` # comment")[1], Tok::Ident("my field".into()));
        assert!(lex("fields 'open").is_err());
        assert!(lex("stats count(*) by bin(5parsecs)").is_err());
    }
}
