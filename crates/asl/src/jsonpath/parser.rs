//! Parses a JSONPath string into `Path`. Errors are plain text: the caller (definition
//! validation, or an intrinsic's argument) wraps them in its own message.

use super::{CompareOp, Filter, Function, Operand, Path, Root, Segment, Selector};
use serde_json::{Number, Value};

pub fn parse(text: &str) -> Result<Path, String> {
    let mut cursor = Cursor::new(text);
    if !cursor.eat('$') {
        return Err(format!("The path '{text}' must begin with '$'"));
    }
    let root = if cursor.eat('$') {
        Root::Context
    } else if cursor.peek().is_some_and(is_variable_start) {
        let mut name = String::new();
        while let Some(c) = cursor.peek().filter(|c| is_variable_char(*c)) {
            name.push(c);
            cursor.bump();
        }
        Root::Variable(name)
    } else {
        Root::Input
    };
    let (segments, function) = parse_segments(&mut cursor, false)?;
    if let Some(c) = cursor.peek() {
        return Err(format!("Unexpected character '{c}' at position {} in the path '{text}'", cursor.pos));
    }
    Ok(Path { root, segments, function })
}

fn is_variable_start(c: char) -> bool {
    c.is_alphabetic() || c == '_'
}

fn is_variable_char(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

pub(crate) struct Cursor {
    chars: Vec<char>,
    pos: usize,
    /// Nesting of filter expressions (parentheses, `!`, nested filters), bounded so a
    /// definition cannot exhaust the stack.
    depth: usize,
}

/// Deepest nesting a filter expression may have.
const MAX_FILTER_DEPTH: usize = 64;

impl Cursor {
    pub(crate) fn new(text: &str) -> Cursor {
        Cursor { chars: text.chars().collect(), pos: 0, depth: 0 }
    }
    fn peek(&self) -> Option<char> {
        self.chars.get(self.pos).copied()
    }
    fn peek_at(&self, offset: usize) -> Option<char> {
        self.chars.get(self.pos + offset).copied()
    }
    fn bump(&mut self) -> Option<char> {
        let c = self.peek();
        if c.is_some() {
            self.pos += 1;
        }
        c
    }
    fn eat(&mut self, c: char) -> bool {
        if self.peek() == Some(c) {
            self.pos += 1;
            true
        } else {
            false
        }
    }
    fn eat_str(&mut self, s: &str) -> bool {
        let n = s.chars().count();
        if self.chars.len() >= self.pos + n && self.chars[self.pos..self.pos + n].iter().copied().eq(s.chars()) {
            self.pos += n;
            true
        } else {
            false
        }
    }
    fn skip_ws(&mut self) {
        while self.peek().is_some_and(char::is_whitespace) {
            self.pos += 1;
        }
    }
    fn expect(&mut self, c: char) -> Result<(), String> {
        if self.eat(c) {
            Ok(())
        } else {
            match self.peek() {
                Some(found) => Err(format!("Expected '{c}' but found '{found}' at position {}", self.pos)),
                None => Err(format!("Expected '{c}' but the path ended")),
            }
        }
    }
}

fn parse_segments(cursor: &mut Cursor, in_filter: bool) -> Result<(Vec<Segment>, Option<Function>), String> {
    let mut segments = Vec::new();
    loop {
        match cursor.peek() {
            Some('.') if cursor.peek_at(1) == Some('.') => {
                cursor.pos += 2;
                let selector = match cursor.peek() {
                    Some('[') => parse_bracket(cursor)?,
                    Some('*') => {
                        cursor.bump();
                        Selector::Wildcard
                    }
                    _ => Selector::Name(read_name(cursor, in_filter)?),
                };
                segments.push(Segment::Descendant(selector));
            }
            Some('.') => {
                cursor.bump();
                match cursor.peek() {
                    Some('[') => segments.push(Segment::Child(parse_bracket(cursor)?)),
                    Some('*') => {
                        cursor.bump();
                        segments.push(Segment::Child(Selector::Wildcard));
                    }
                    _ => {
                        let name = read_name(cursor, in_filter)?;
                        if cursor.eat('(') {
                            cursor.skip_ws();
                            cursor.expect(')')?;
                            let function = Function::from_name(&name)
                                .ok_or_else(|| format!("Function with name: {name} does not exist."))?;
                            return Ok((segments, Some(function)));
                        }
                        segments.push(Segment::Child(Selector::Name(name)));
                    }
                }
            }
            Some('[') => segments.push(Segment::Child(parse_bracket(cursor)?)),
            _ => return Ok((segments, None)),
        }
    }
}

fn read_name(cursor: &mut Cursor, in_filter: bool) -> Result<String, String> {
    let mut name = String::new();
    while let Some(c) = cursor.peek() {
        let stop = matches!(c, '.' | '[' | '(' | ')' | ']') || c.is_whitespace();
        let filter_stop = in_filter && matches!(c, '=' | '!' | '<' | '>' | '&' | '|' | ',');
        if stop || filter_stop {
            break;
        }
        name.push(c);
        cursor.bump();
    }
    if name.is_empty() {
        return Err(format!("Path must not end with a '.' or '..' (position {})", cursor.pos));
    }
    Ok(name)
}

fn parse_bracket(cursor: &mut Cursor) -> Result<Selector, String> {
    cursor.expect('[')?;
    cursor.skip_ws();
    let selector = match cursor.peek() {
        Some('?') => {
            cursor.bump();
            cursor.skip_ws();
            cursor.expect('(')?;
            let filter = parse_or(cursor)?;
            cursor.skip_ws();
            cursor.expect(')')?;
            Selector::Filter(Box::new(filter))
        }
        Some('*') => {
            cursor.bump();
            Selector::Wildcard
        }
        Some('\'') | Some('"') => {
            let mut names = vec![read_quoted(cursor)?];
            cursor.skip_ws();
            while cursor.eat(',') {
                cursor.skip_ws();
                names.push(read_quoted(cursor)?);
                cursor.skip_ws();
            }
            if names.len() == 1 {
                Selector::Name(names.remove(0))
            } else {
                Selector::Names(names)
            }
        }
        Some(c) if c == '-' || c == ':' || c.is_ascii_digit() => parse_index_or_slice(cursor)?,
        Some(c) => return Err(format!("Unexpected character '{c}' in brackets at position {}", cursor.pos)),
        None => return Err("Path ended inside brackets".to_string()),
    };
    cursor.skip_ws();
    cursor.expect(']')?;
    Ok(selector)
}

fn read_int(cursor: &mut Cursor) -> Result<Option<i64>, String> {
    cursor.skip_ws();
    let start = cursor.pos;
    if cursor.peek() == Some('-') {
        cursor.bump();
    }
    while cursor.peek().is_some_and(|c| c.is_ascii_digit()) {
        cursor.bump();
    }
    let text: String = cursor.chars[start..cursor.pos].iter().collect();
    cursor.skip_ws();
    if text.is_empty() {
        return Ok(None);
    }
    text.parse::<i64>().map(Some).map_err(|_| format!("Could not parse '{text}' as an array index"))
}

fn parse_index_or_slice(cursor: &mut Cursor) -> Result<Selector, String> {
    let first = read_int(cursor)?;
    if cursor.eat(':') {
        let end = read_int(cursor)?;
        let step = if cursor.eat(':') { read_int(cursor)? } else { None };
        if step == Some(0) {
            return Err("Slice step cannot be zero".to_string());
        }
        return Ok(Selector::Slice(first, end, step));
    }
    let first = first.ok_or_else(|| "Expected an array index".to_string())?;
    let mut list = vec![first];
    while cursor.eat(',') {
        list.push(read_int(cursor)?.ok_or_else(|| "Expected an array index after ','".to_string())?);
    }
    Ok(if list.len() == 1 { Selector::Index(first) } else { Selector::Indexes(list) })
}

fn read_quoted(cursor: &mut Cursor) -> Result<String, String> {
    let quote = cursor.bump().ok_or("Expected a quoted name")?;
    let mut out = String::new();
    loop {
        match cursor.bump() {
            None => return Err("Unterminated quoted name".to_string()),
            Some('\\') => match cursor.bump() {
                Some(c) => out.push(c),
                None => return Err("Unterminated quoted name".to_string()),
            },
            Some(c) if c == quote => return Ok(out),
            Some(c) => out.push(c),
        }
    }
}

fn parse_or(cursor: &mut Cursor) -> Result<Filter, String> {
    let mut left = parse_and(cursor)?;
    loop {
        cursor.skip_ws();
        if cursor.eat_str("||") {
            let right = parse_and(cursor)?;
            left = Filter::Or(Box::new(left), Box::new(right));
        } else {
            return Ok(left);
        }
    }
}

fn parse_and(cursor: &mut Cursor) -> Result<Filter, String> {
    let mut left = parse_unary(cursor)?;
    loop {
        cursor.skip_ws();
        if cursor.eat_str("&&") {
            let right = parse_unary(cursor)?;
            left = Filter::And(Box::new(left), Box::new(right));
        } else {
            return Ok(left);
        }
    }
}

fn parse_unary(cursor: &mut Cursor) -> Result<Filter, String> {
    cursor.depth += 1;
    if cursor.depth > MAX_FILTER_DEPTH {
        return Err(format!("A filter expression may nest at most {MAX_FILTER_DEPTH} levels"));
    }
    let result = parse_unary_inner(cursor);
    cursor.depth -= 1;
    result
}

fn parse_unary_inner(cursor: &mut Cursor) -> Result<Filter, String> {
    cursor.skip_ws();
    if cursor.peek() == Some('!') && cursor.peek_at(1) != Some('=') {
        cursor.bump();
        return Ok(Filter::Not(Box::new(parse_unary(cursor)?)));
    }
    if cursor.eat('(') {
        let inner = parse_or(cursor)?;
        cursor.skip_ws();
        cursor.expect(')')?;
        return Ok(inner);
    }
    let left = parse_operand(cursor)?;
    cursor.skip_ws();
    let Some(op) = parse_op(cursor)? else {
        return match left {
            Operand::Literal(_) => Err("A filter needs a path or a comparison".to_string()),
            path => Ok(Filter::Exists(path)),
        };
    };
    cursor.skip_ws();
    let right = match op {
        CompareOp::Regex(_) => Operand::Literal(Value::Null),
        _ => parse_operand(cursor)?,
    };
    Ok(Filter::Compare(left, op, right))
}

fn parse_op(cursor: &mut Cursor) -> Result<Option<CompareOp>, String> {
    for (token, op) in [
        ("==", CompareOp::Eq),
        ("!=", CompareOp::Ne),
        ("<=", CompareOp::Le),
        (">=", CompareOp::Ge),
        ("<", CompareOp::Lt),
        (">", CompareOp::Gt),
    ] {
        if cursor.eat_str(token) {
            return Ok(Some(op));
        }
    }
    if cursor.eat_str("=~") {
        cursor.skip_ws();
        return parse_regex(cursor).map(Some);
    }
    for (word, op) in [
        ("subsetof", CompareOp::SubsetOf),
        ("anyof", CompareOp::AnyOf),
        ("noneof", CompareOp::NoneOf),
        ("size", CompareOp::Size),
        ("empty", CompareOp::Empty),
        ("nin", CompareOp::Nin),
        ("in", CompareOp::In),
    ] {
        let start = cursor.pos;
        if cursor.eat_str(word) {
            if cursor.peek().is_some_and(|c| c.is_alphanumeric()) {
                cursor.pos = start;
                continue;
            }
            return Ok(Some(op));
        }
    }
    Ok(None)
}

fn parse_regex(cursor: &mut Cursor) -> Result<CompareOp, String> {
    cursor.expect('/')?;
    let mut pattern = String::new();
    loop {
        match cursor.bump() {
            None => return Err("Unterminated regular expression".to_string()),
            Some('\\') if cursor.peek() == Some('/') => {
                cursor.bump();
                pattern.push('/');
            }
            Some('\\') => {
                pattern.push('\\');
                if let Some(c) = cursor.bump() {
                    pattern.push(c);
                }
            }
            Some('/') => break,
            Some(c) => pattern.push(c),
        }
    }
    let mut flags = String::new();
    while let Some(c) = cursor.peek().filter(|c| c.is_ascii_alphabetic()) {
        flags.push(c);
        cursor.bump();
    }
    let pattern = if flags.contains('i') { format!("(?i)^(?:{pattern})$") } else { format!("^(?:{pattern})$") };
    regex_lite::Regex::new(&pattern).map(CompareOp::Regex).map_err(|e| format!("Invalid regular expression: {e}"))
}

fn parse_operand(cursor: &mut Cursor) -> Result<Operand, String> {
    cursor.skip_ws();
    match cursor.peek() {
        Some('@') => {
            cursor.bump();
            let (segments, function) = parse_segments(cursor, true)?;
            Ok(Operand::Current(segments, function))
        }
        Some('$') => {
            cursor.bump();
            let (segments, function) = parse_segments(cursor, true)?;
            Ok(Operand::Root(segments, function))
        }
        _ => parse_literal(cursor).map(Operand::Literal),
    }
}

fn parse_literal(cursor: &mut Cursor) -> Result<Value, String> {
    cursor.skip_ws();
    match cursor.peek() {
        Some('\'') | Some('"') => read_quoted(cursor).map(Value::String),
        Some('[') => {
            cursor.bump();
            let mut items = Vec::new();
            cursor.skip_ws();
            if !cursor.eat(']') {
                loop {
                    items.push(parse_literal(cursor)?);
                    cursor.skip_ws();
                    if cursor.eat(']') {
                        break;
                    }
                    cursor.expect(',')?;
                }
            }
            Ok(Value::Array(items))
        }
        Some(c) if c == '-' || c.is_ascii_digit() => {
            let start = cursor.pos;
            cursor.bump();
            while cursor.peek().is_some_and(|c| c.is_ascii_digit() || matches!(c, '.' | 'e' | 'E' | '+' | '-')) {
                cursor.bump();
            }
            let text: String = cursor.chars[start..cursor.pos].iter().collect();
            parse_number(&text).ok_or_else(|| format!("Invalid number '{text}' in filter"))
        }
        _ => {
            for (word, value) in [("true", Value::Bool(true)), ("false", Value::Bool(false)), ("null", Value::Null)] {
                if cursor.eat_str(word) {
                    return Ok(value);
                }
            }
            match cursor.peek() {
                Some(c) => Err(format!("Unexpected character '{c}' in filter at position {}", cursor.pos)),
                None => Err("Filter ended unexpectedly".to_string()),
            }
        }
    }
}

/// A JSON number from text: an integer when it is one, else a float.
pub fn parse_number(text: &str) -> Option<Value> {
    if let Ok(i) = text.parse::<i64>() {
        return Some(Value::Number(i.into()));
    }
    let f = text.parse::<f64>().ok()?;
    Number::from_f64(f).map(Value::Number)
}
