//! The parsing machinery every expression language shares: a token cursor, AWS's
//! syntax-error text, document paths with `#name` substitution and reserved-word
//! checks, `:value` substitution, and the deferred semantic error (AWS reports syntax
//! errors before unknown names, reserved words and the like).

use super::lexer::{tokenize, Tok, Token};
use super::reserved::is_reserved;
use super::{ExprError, ExprKind, Path, PathElem, Substitutions};
use crate::value::AttributeValue;

/// Longest expression string AWS accepts, in bytes as sent (placeholders not substituted).
/// <https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/Constraints.html#limits-expression-parameters>
pub(crate) const MAX_EXPRESSION_BYTES: usize = 4096;
/// Most operators and functions one expression may use (same page).
pub(crate) const MAX_OPERATORS: usize = 300;
/// Deepest document path: 32 levels, the top-level attribute included (same page,
/// "Nested attribute depth").
pub(crate) const MAX_PATH_DEPTH: usize = 32;

pub(crate) struct Parser<'s, 'a> {
    src: &'s str,
    toks: Vec<Token>,
    pos: usize,
    pub kind: ExprKind,
    subs: &'s Substitutions<'a>,
    /// The first semantic error met while parsing, reported once the syntax is known good.
    deferred: Option<ExprError>,
    /// Operators and functions met so far (AWS stops at the 301st).
    operators: usize,
    /// How many parenthesised groups and NOTs enclose the parser's position: the parser
    /// recurses once per level, so this bounds its stack.
    depth: usize,
}

impl<'s, 'a> Parser<'s, 'a> {
    /// Tokenizes `src`; an empty expression or an unknown character is an error.
    pub fn new(src: &'s str, subs: &'s Substitutions<'a>, kind: ExprKind) -> Result<Self, ExprError> {
        if src.len() > MAX_EXPRESSION_BYTES {
            return Err(ExprError(format!(
                "Invalid {}: Expression size has exceeded the maximum allowed size; expression size: {}",
                kind.parameter(),
                src.len()
            )));
        }
        let toks = match tokenize(src) {
            Ok(toks) => toks,
            Err((before, bad)) => {
                let near_start = before.last().map_or(bad.at, |t| t.start);
                let near_end = bad.at + bad.ch.len_utf8();
                let p = Parser { src, toks: before, pos: 0, kind, subs, deferred: None, operators: 0, depth: 0 };
                return Err(p.err(&format!(
                    "Syntax error; token: \"{}\", near: \"{}\"",
                    bad.ch,
                    &src[near_start..near_end]
                )));
            }
        };
        let p = Parser { src, toks, pos: 0, kind, subs, deferred: None, operators: 0, depth: 0 };
        if p.toks.len() == 1 {
            return Err(p.err("The expression can not be empty;"));
        }
        Ok(p)
    }

    /// Counts one operator or function: "The expression contains too many operators;
    /// operator count: 301" once past AWS's limit.
    pub fn operator(&mut self) -> Result<(), ExprError> {
        self.operators += 1;
        if self.operators > MAX_OPERATORS {
            return Err(self.err(&format!("The expression contains too many operators; operator count: {}", self.operators)));
        }
        Ok(())
    }

    /// Enters one more level of nesting (a parenthesised group, a NOT). Every level of a
    /// valid expression holds an operator of its own (a group holding only a group is
    /// "redundant parentheses"), so a depth past the operator limit is refused as too
    /// many operators — before the recursion could exhaust the stack.
    pub fn enter(&mut self) -> Result<(), ExprError> {
        self.depth += 1;
        if self.depth > MAX_OPERATORS {
            return Err(self.err(&format!("The expression contains too many operators; operator count: {}", MAX_OPERATORS + 1)));
        }
        Ok(())
    }

    pub fn leave(&mut self) {
        self.depth -= 1;
    }

    /// "Invalid <Parameter>: <msg>".
    pub fn err(&self, msg: &str) -> ExprError {
        ExprError(format!("Invalid {}: {msg}", self.kind.parameter()))
    }

    pub fn peek(&self) -> &Tok {
        &self.toks[self.pos.min(self.toks.len() - 1)].tok
    }

    pub fn peek_at(&self, ahead: usize) -> &Tok {
        &self.toks[(self.pos + ahead).min(self.toks.len() - 1)].tok
    }

    pub fn advance(&mut self) -> Tok {
        let t = self.peek().clone();
        if self.pos < self.toks.len() - 1 {
            self.pos += 1;
        }
        t
    }

    /// Is the next token the keyword `kw` (any case)?
    pub fn at_keyword(&self, kw: &str) -> bool {
        matches!(self.peek(), Tok::Ident(w) if w.eq_ignore_ascii_case(kw))
    }

    pub fn expect(&mut self, tok: Tok) -> Result<(), ExprError> {
        if *self.peek() == tok {
            self.advance();
            Ok(())
        } else {
            Err(self.syntax_error())
        }
    }

    pub fn expect_end(&self) -> Result<(), ExprError> {
        if *self.peek() == Tok::Eof {
            Ok(())
        } else {
            Err(self.syntax_error())
        }
    }

    /// AWS's syntax error at the current token: `token: "x", near: "a x"`.
    pub fn syntax_error(&self) -> ExprError {
        let cur = &self.toks[self.pos.min(self.toks.len() - 1)];
        let prev = self.pos.checked_sub(1).map(|i| &self.toks[i]);
        if cur.tok == Tok::Eof {
            let near = prev.map_or("", |p| &self.src[p.start..p.end]);
            return self.err(&format!("Syntax error; token: <EOF>, near: \"{near}\""));
        }
        let near_start = prev.map_or(cur.start, |p| p.start);
        self.err(&format!(
            "Syntax error; token: \"{}\", near: \"{}\"",
            &self.src[cur.start..cur.end],
            &self.src[near_start..cur.end]
        ))
    }

    /// Records a semantic error; only the first one is kept.
    pub fn defer(&mut self, e: ExprError) {
        if self.deferred.is_none() {
            self.deferred = Some(e);
        }
    }

    /// Ends parsing: the deferred error, if any.
    pub fn finish(&mut self) -> Result<(), ExprError> {
        self.expect_end()?;
        match self.deferred.take() {
            Some(e) => Err(e),
            None => Ok(()),
        }
    }

    /// One attribute name of a path: a bare word (not reserved) or `#name`.
    fn path_name(&mut self) -> Result<String, ExprError> {
        match self.peek().clone() {
            Tok::Ident(word) => {
                self.advance();
                if is_reserved(&word) {
                    let e = self.err(&format!("Attribute name is a reserved keyword; reserved keyword: {word}"));
                    self.defer(e);
                }
                Ok(word)
            }
            Tok::Name(placeholder) => {
                self.advance();
                self.subs.used_names.borrow_mut().insert(placeholder.clone());
                match self.subs.names.get(&placeholder) {
                    Some(name) => Ok(name.clone()),
                    None => {
                        let e = self.err(&format!(
                            "An expression attribute name used in the document path is not defined; attribute name: {placeholder}"
                        ));
                        self.defer(e);
                        Ok(placeholder)
                    }
                }
            }
            _ => Err(self.syntax_error()),
        }
    }

    /// `name ( '.' name | '[' digits ']' )*`.
    pub fn path(&mut self) -> Result<Path, ExprError> {
        let mut path = vec![PathElem::Attr(self.path_name()?)];
        loop {
            match self.peek() {
                Tok::Dot => {
                    self.advance();
                    path.push(PathElem::Attr(self.path_name()?));
                }
                Tok::LBracket => {
                    self.advance();
                    let Tok::Int(digits) = self.peek().clone() else { return Err(self.syntax_error()) };
                    let index = match digits.parse::<usize>() {
                        Ok(i) => i,
                        Err(_) => return Err(self.syntax_error()),
                    };
                    self.advance();
                    self.expect(Tok::RBracket)?;
                    path.push(PathElem::Index(index));
                }
                _ => break,
            }
        }
        if path.len() > MAX_PATH_DEPTH {
            return Err(self.err(&format!("The document path has too many nesting levels; nesting levels: {}", path.len())));
        }
        Ok(path)
    }

    /// `:value` → its attribute value (Null stands in for an undefined one, whose
    /// error is deferred).
    pub fn value(&mut self) -> Result<AttributeValue, ExprError> {
        let Tok::Value(placeholder) = self.peek().clone() else { return Err(self.syntax_error()) };
        self.advance();
        self.subs.used_values.borrow_mut().insert(placeholder.clone());
        match self.subs.values.get(&placeholder) {
            Some(v) => Ok(v.clone()),
            None => {
                let e = self.err(&format!(
                    "An expression attribute value used in expression is not defined; attribute value: {placeholder}"
                ));
                self.defer(e);
                Ok(AttributeValue::Null)
            }
        }
    }
}

/// A value as AWS prints it in messages: `{N:5}`, `{S:abc}`.
pub(crate) fn value_text(v: &AttributeValue) -> String {
    let body = match v.to_json() {
        serde_json::Value::Object(m) => m.into_iter().next().map(|(_, b)| match b {
            serde_json::Value::String(s) => s,
            other => other.to_string(),
        }),
        _ => None,
    };
    format!("{{{}:{}}}", v.type_name(), body.unwrap_or_default())
}
