//! Splits expression text into tokens, remembering where each came from so syntax
//! errors can quote the text near them as AWS does.

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Tok {
    /// A bare word: attribute name, function name or keyword (AND, SET, …).
    Ident(String),
    /// `#name`, an ExpressionAttributeNames placeholder.
    Name(String),
    /// `:value`, an ExpressionAttributeValues placeholder.
    Value(String),
    /// Unsigned digits (list indexes).
    Int(String),
    LParen,
    RParen,
    LBracket,
    RBracket,
    Comma,
    Dot,
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    Plus,
    Minus,
    Eof,
}

#[derive(Debug, Clone)]
pub(crate) struct Token {
    pub tok: Tok,
    pub start: usize,
    pub end: usize,
}

/// A character no token starts with, at this byte offset.
#[derive(Debug)]
pub(crate) struct BadChar {
    pub at: usize,
    pub ch: char,
}

fn is_word(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_'
}

pub(crate) fn tokenize(src: &str) -> Result<Vec<Token>, (Vec<Token>, BadChar)> {
    let mut out = Vec::new();
    let chars: Vec<(usize, char)> = src.char_indices().collect();
    let mut i = 0;
    let end_of = |i: usize| chars.get(i).map_or(src.len(), |&(at, _)| at);
    while i < chars.len() {
        let (start, c) = chars[i];
        if c.is_whitespace() {
            i += 1;
            continue;
        }
        let single = match c {
            '(' => Some(Tok::LParen),
            ')' => Some(Tok::RParen),
            '[' => Some(Tok::LBracket),
            ']' => Some(Tok::RBracket),
            ',' => Some(Tok::Comma),
            '.' => Some(Tok::Dot),
            '=' => Some(Tok::Eq),
            '+' => Some(Tok::Plus),
            '-' => Some(Tok::Minus),
            _ => None,
        };
        if let Some(tok) = single {
            i += 1;
            out.push(Token { tok, start, end: end_of(i) });
            continue;
        }
        let next = chars.get(i + 1).map(|&(_, n)| n);
        if c == '<' || c == '>' {
            let (tok, len) = match (c, next) {
                ('<', Some('>')) => (Tok::Ne, 2),
                ('<', Some('=')) => (Tok::Le, 2),
                ('>', Some('=')) => (Tok::Ge, 2),
                ('<', _) => (Tok::Lt, 1),
                _ => (Tok::Gt, 1),
            };
            i += len;
            out.push(Token { tok, start, end: end_of(i) });
            continue;
        }
        let word_start = if c == '#' || c == ':' { i + 1 } else { i };
        let mut j = word_start;
        while j < chars.len() && is_word(chars[j].1) {
            j += 1;
        }
        if j == word_start || (c != '#' && c != ':' && !is_word(c)) {
            return Err((out, BadChar { at: start, ch: c }));
        }
        let word: String = chars[word_start..j].iter().map(|&(_, ch)| ch).collect();
        let tok = match c {
            '#' => Tok::Name(format!("#{word}")),
            ':' => Tok::Value(format!(":{word}")),
            _ if word.bytes().all(|b| b.is_ascii_digit()) => Tok::Int(word),
            _ => Tok::Ident(word),
        };
        i = j;
        out.push(Token { tok, start, end: end_of(i) });
    }
    out.push(Token { tok: Tok::Eof, start: src.len(), end: src.len() });
    Ok(out)
}
