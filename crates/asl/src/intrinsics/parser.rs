//! Parses an intrinsic function call — `States.Format('{} \{x\}', $.a, States.UUID())` —
//! into a call tree. String literals take the escapes AWS reserves (`\'`, `\{`, `\}`, `\\`;
//! any other backslash is an error); `{}` in a literal is a `States.Format` placeholder
//! unless its braces are escaped. At most 10 calls in one field.
//! <https://docs.aws.amazon.com/step-functions/latest/dg/intrinsic-functions.html>

/// AWS: "You can nest up to 10 intrinsic functions within a field."
pub const MAX_CALLS: usize = 10;

#[derive(Debug, Clone, PartialEq)]
pub struct Call {
    pub name: String,
    pub args: Vec<Arg>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Arg {
    /// A string literal: its value, and its pieces for `States.Format`.
    Str(String, Vec<Piece>),
    Number(serde_json::Value),
    Bool(bool),
    Null,
    Path(String),
    Call(Call),
}

/// A piece of a `States.Format` template.
#[derive(Debug, Clone, PartialEq)]
pub enum Piece {
    Text(String),
    Placeholder,
}

pub fn parse(text: &str) -> Result<Call, String> {
    let mut parser = Parser { chars: text.chars().collect(), pos: 0, calls: 0 };
    parser.skip_ws();
    let call = parser.call()?;
    parser.skip_ws();
    if parser.pos != parser.chars.len() {
        return Err(format!("Unexpected text after the intrinsic function call at position {}", parser.pos));
    }
    Ok(call)
}

/// Whether a `.$` value is written as an intrinsic call rather than a path.
pub fn looks_like_call(text: &str) -> bool {
    text.trim_start().starts_with("States.")
}

struct Parser {
    chars: Vec<char>,
    pos: usize,
    calls: usize,
}

impl Parser {
    fn peek(&self) -> Option<char> {
        self.chars.get(self.pos).copied()
    }

    fn skip_ws(&mut self) {
        while self.peek().is_some_and(char::is_whitespace) {
            self.pos += 1;
        }
    }

    fn call(&mut self) -> Result<Call, String> {
        let start = self.pos;
        while self.peek().is_some_and(|c| c.is_ascii_alphanumeric() || c == '.') {
            self.pos += 1;
        }
        let name: String = self.chars[start..self.pos].iter().collect();
        if !name.starts_with("States.") || name.len() == "States.".len() {
            return Err(format!("'{name}' is not an intrinsic function name"));
        }
        self.calls += 1;
        if self.calls > MAX_CALLS {
            return Err(format!("At most {MAX_CALLS} intrinsic functions can be nested in one field"));
        }
        self.skip_ws();
        if self.peek() != Some('(') {
            return Err(format!("Expected '(' after {name}"));
        }
        self.pos += 1;
        let mut args = Vec::new();
        self.skip_ws();
        if self.peek() == Some(')') {
            self.pos += 1;
            return Ok(Call { name, args });
        }
        loop {
            self.skip_ws();
            args.push(self.arg()?);
            self.skip_ws();
            match self.peek() {
                Some(',') => self.pos += 1,
                Some(')') => {
                    self.pos += 1;
                    return Ok(Call { name, args });
                }
                Some(c) => return Err(format!("Unexpected character '{c}' in the arguments of {name}")),
                None => return Err(format!("Missing ')' closing the arguments of {name}")),
            }
        }
    }

    fn arg(&mut self) -> Result<Arg, String> {
        match self.peek() {
            Some('\'') => self.string(),
            Some('$') => self.path(),
            Some(c) if c == '-' || c.is_ascii_digit() => self.number(),
            Some('S') => self.call().map(Arg::Call),
            Some(_) => {
                for (word, arg) in [("true", Arg::Bool(true)), ("false", Arg::Bool(false)), ("null", Arg::Null)] {
                    if self.chars[self.pos..].iter().take(word.len()).copied().eq(word.chars()) {
                        let after = self.chars.get(self.pos + word.len()).copied();
                        if !after.is_some_and(|c| c.is_alphanumeric() || c == '_') {
                            self.pos += word.len();
                            return Ok(arg);
                        }
                    }
                }
                Err(format!("Invalid argument at position {}", self.pos))
            }
            None => Err("Missing argument".to_string()),
        }
    }

    fn string(&mut self) -> Result<Arg, String> {
        self.pos += 1;
        let mut value = String::new();
        let mut pieces = Vec::new();
        let mut text = String::new();
        loop {
            match self.peek() {
                None => return Err("Unterminated string literal".to_string()),
                Some('\'') => {
                    self.pos += 1;
                    break;
                }
                Some('\\') => {
                    let escaped = self.chars.get(self.pos + 1).copied();
                    match escaped {
                        Some(c @ ('\'' | '{' | '}' | '\\')) => {
                            value.push(c);
                            text.push(c);
                            self.pos += 2;
                        }
                        _ => return Err("An open escape backslash '\\' was found in a string literal".to_string()),
                    }
                }
                Some('{') if self.chars.get(self.pos + 1) == Some(&'}') => {
                    value.push_str("{}");
                    if !text.is_empty() {
                        pieces.push(Piece::Text(std::mem::take(&mut text)));
                    }
                    pieces.push(Piece::Placeholder);
                    self.pos += 2;
                }
                Some(c) => {
                    value.push(c);
                    text.push(c);
                    self.pos += 1;
                }
            }
        }
        if !text.is_empty() {
            pieces.push(Piece::Text(text));
        }
        Ok(Arg::Str(value, pieces))
    }

    fn number(&mut self) -> Result<Arg, String> {
        let start = self.pos;
        self.pos += 1;
        while self.peek().is_some_and(|c| c.is_ascii_digit() || matches!(c, '.' | 'e' | 'E' | '+' | '-')) {
            self.pos += 1;
        }
        let text: String = self.chars[start..self.pos].iter().collect();
        crate::jsonpath::parser::parse_number(&text)
            .map(Arg::Number)
            .ok_or_else(|| format!("Invalid number '{text}'"))
    }

    /// A path runs to the next `,` or `)` outside brackets and quotes.
    fn path(&mut self) -> Result<Arg, String> {
        let start = self.pos;
        let mut depth = 0usize;
        let mut quote: Option<char> = None;
        while let Some(c) = self.peek() {
            match quote {
                Some(q) => {
                    if c == '\\' {
                        self.pos += 1;
                    } else if c == q {
                        quote = None;
                    }
                }
                None => match c {
                    '\'' | '"' => quote = Some(c),
                    '[' | '(' => depth += 1,
                    ']' => depth = depth.saturating_sub(1),
                    ')' if depth == 0 => break,
                    ')' => depth -= 1,
                    ',' if depth == 0 => break,
                    _ => {}
                },
            }
            self.pos += 1;
        }
        let text: String = self.chars[start..self.pos.min(self.chars.len())].iter().collect();
        let text = text.trim_end().to_string();
        crate::jsonpath::parser::parse(&text)?;
        Ok(Arg::Path(text))
    }
}
