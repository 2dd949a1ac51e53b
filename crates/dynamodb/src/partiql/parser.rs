//! PartiQL statements → [`Statement`]: recursive descent over the tokens, with every
//! nesting level (parentheses, NOT, maps, lists, sets) counted against [`MAX_DEPTH`] so
//! no statement can exhaust a worker's stack. `?` parameters are bound while parsing.

use super::lexer::Tok;
use super::ParseError;
use serde_json::{json, Map, Value};

/// Deepest nesting a statement may use (DynamoDB itself allows 32 levels of documents).
pub const MAX_DEPTH: usize = 64;

#[derive(Debug, Clone, PartialEq)]
pub enum Seg {
    Name(String),
    Index(u64),
}

pub type Path = Vec<Seg>;

#[derive(Debug, Clone)]
pub enum Operand {
    Path(Path),
    /// An attribute value in DynamoDB JSON.
    Value(Value),
    Size(Path),
}

#[derive(Debug, Clone)]
pub enum Cond {
    And(Vec<Cond>),
    Or(Vec<Cond>),
    Not(Box<Cond>),
    Cmp(&'static str, Operand, Operand),
    Between(Operand, Operand, Operand),
    In(Operand, Vec<Operand>),
    /// `IS MISSING` (false) / `IS NOT MISSING` (true).
    Exists(Path, bool),
    /// begins_with, contains, attribute_exists, attribute_not_exists, attribute_type.
    Func(String, Vec<Operand>),
}

#[derive(Debug, Clone)]
pub enum SetValue {
    Operand(Operand),
    Arith(Operand, &'static str, Operand),
    ListAppend(Operand, Operand),
}

#[derive(Debug, Clone)]
pub enum Statement {
    Select { table: String, index: Option<String>, projection: Option<Vec<Path>>, filter: Option<Cond> },
    Insert { table: String, item: Value },
    Update { table: String, sets: Vec<(Path, SetValue)>, removes: Vec<Path>, filter: Cond },
    Delete { table: String, filter: Cond },
}

/// A pending operator of the condition parser.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Op {
    Open,
    Not,
    And,
    Or,
}

fn invalid() -> ParseError {
    ParseError::Syntax("Invalid condition".into())
}

/// Applies the NOTs waiting on top of the stack to the last operand.
fn reduce_nots(ops: &mut Vec<Op>, out: &mut Vec<Cond>) -> Result<(), ParseError> {
    while ops.last() == Some(&Op::Not) {
        ops.pop();
        apply(Op::Not, out)?;
    }
    Ok(())
}

/// Combines operands on `out` with `op` (AND / OR lists are flattened).
fn apply(op: Op, out: &mut Vec<Cond>) -> Result<(), ParseError> {
    let right = out.pop().ok_or_else(invalid)?;
    let combined = match op {
        Op::Not => Cond::Not(Box::new(right)),
        Op::And | Op::Or => {
            let left = out.pop().ok_or_else(invalid)?;
            let mut terms = match (op, left) {
                (Op::And, Cond::And(v)) | (Op::Or, Cond::Or(v)) => v,
                (_, l) => vec![l],
            };
            terms.push(right);
            if op == Op::And {
                Cond::And(terms)
            } else {
                Cond::Or(terms)
            }
        }
        Op::Open => return Err(invalid()),
    };
    out.push(combined);
    Ok(())
}

struct Parser<'a> {
    toks: Vec<Tok>,
    pos: usize,
    params: &'a [Value],
    next_param: usize,
    depth: usize,
}

/// Parses one statement, binding `params` to its `?`s in order.
pub fn parse(text: &str, params: &[Value]) -> Result<Statement, ParseError> {
    let toks = super::lexer::lex(text)?;
    let mut p = Parser { toks, pos: 0, params, next_param: 0, depth: 0 };
    let stmt = p.statement()?;
    if let Some(t) = p.peek() {
        return Err(ParseError::Syntax(format!("Unexpected token: {}", show(t))));
    }
    if p.next_param != params.len() {
        return Err(ParseError::Parameters);
    }
    Ok(stmt)
}

fn show(t: &Tok) -> String {
    match t {
        Tok::Ident(s, _) | Tok::Num(s) => s.clone(),
        Tok::Str(s) => format!("'{s}'"),
        Tok::Param => "?".into(),
        Tok::Punct(p) => (*p).into(),
    }
}

impl Parser<'_> {
    fn peek(&self) -> Option<&Tok> {
        self.toks.get(self.pos)
    }

    fn next(&mut self) -> Result<Tok, ParseError> {
        let t = self.toks.get(self.pos).cloned().ok_or_else(|| ParseError::Syntax("Unexpected end of statement".into()))?;
        self.pos += 1;
        Ok(t)
    }

    fn is_kw(&self, kw: &str) -> bool {
        matches!(self.peek(), Some(Tok::Ident(s, false)) if s.eq_ignore_ascii_case(kw))
    }

    fn eat_kw(&mut self, kw: &str) -> bool {
        let yes = self.is_kw(kw);
        if yes {
            self.pos += 1;
        }
        yes
    }

    fn expect_kw(&mut self, kw: &str) -> Result<(), ParseError> {
        if self.eat_kw(kw) {
            return Ok(());
        }
        Err(ParseError::Syntax(format!("Expected {kw}")))
    }

    fn is_punct(&self, p: &str) -> bool {
        matches!(self.peek(), Some(Tok::Punct(q)) if *q == p)
    }

    fn eat_punct(&mut self, p: &str) -> bool {
        let yes = self.is_punct(p);
        if yes {
            self.pos += 1;
        }
        yes
    }

    fn expect_punct(&mut self, p: &str) -> Result<(), ParseError> {
        if self.eat_punct(p) {
            return Ok(());
        }
        Err(ParseError::Syntax(format!("Expected {p}")))
    }

    fn enter(&mut self) -> Result<(), ParseError> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(ParseError::TooDeep);
        }
        Ok(())
    }

    fn statement(&mut self) -> Result<Statement, ParseError> {
        if self.eat_kw("SELECT") {
            self.select()
        } else if self.eat_kw("INSERT") {
            self.insert()
        } else if self.eat_kw("UPDATE") {
            self.update()
        } else if self.eat_kw("DELETE") {
            self.delete()
        } else {
            Err(ParseError::Syntax("Expected data manipulation".into()))
        }
    }

    fn name(&mut self) -> Result<String, ParseError> {
        match self.next()? {
            Tok::Ident(s, _) => Ok(s),
            t => Err(ParseError::Syntax(format!("Unexpected token: {}", show(&t)))),
        }
    }

    fn select(&mut self) -> Result<Statement, ParseError> {
        let projection = if self.eat_punct("*") {
            None
        } else {
            let mut paths = vec![self.path()?];
            while self.eat_punct(",") {
                paths.push(self.path()?);
            }
            Some(paths)
        };
        self.expect_kw("FROM")?;
        let table = self.name()?;
        let index = if self.eat_punct(".") { Some(self.name()?) } else { None };
        let filter = if self.eat_kw("WHERE") { Some(self.condition()?) } else { None };
        if self.is_kw("ORDER") {
            return Err(ParseError::Unsupported("ORDER BY is".into()));
        }
        Ok(Statement::Select { table, index, projection, filter })
    }

    fn insert(&mut self) -> Result<Statement, ParseError> {
        self.expect_kw("INTO")?;
        let table = self.name()?;
        self.expect_kw("VALUE")?;
        let item = self.value()?;
        if item.get("M").is_none() {
            return Err(ParseError::Syntax("INSERT VALUE must be a map (tuple)".into()));
        }
        Ok(Statement::Insert { table, item })
    }

    fn update(&mut self) -> Result<Statement, ParseError> {
        let table = self.name()?;
        let (mut sets, mut removes) = (Vec::new(), Vec::new());
        loop {
            let is_set = if self.eat_kw("SET") {
                true
            } else if self.eat_kw("REMOVE") {
                false
            } else {
                break;
            };
            loop {
                if is_set {
                    let path = self.path()?;
                    self.expect_punct("=")?;
                    sets.push((path, self.set_value()?));
                } else {
                    removes.push(self.path()?);
                }
                if !self.eat_punct(",") {
                    break;
                }
            }
        }
        if sets.is_empty() && removes.is_empty() {
            return Err(ParseError::Syntax("Expected SET or REMOVE".into()));
        }
        self.expect_kw("WHERE")?;
        let filter = self.condition()?;
        self.no_returning()?;
        Ok(Statement::Update { table, sets, removes, filter })
    }

    fn no_returning(&self) -> Result<(), ParseError> {
        if self.is_kw("RETURNING") {
            return Err(ParseError::Unsupported("RETURNING is".into()));
        }
        Ok(())
    }

    fn set_value(&mut self) -> Result<SetValue, ParseError> {
        if let (Some(Tok::Ident(f, false)), Some(Tok::Punct("("))) = (self.peek(), self.toks.get(self.pos + 1)) {
            if !f.eq_ignore_ascii_case("list_append") && !f.eq_ignore_ascii_case("size") {
                return Err(ParseError::Unsupported(format!("{f}() in UPDATE is")));
            }
        }
        if self.is_kw("list_append") && matches!(self.toks.get(self.pos + 1), Some(Tok::Punct("("))) {
            self.pos += 2;
            let a = self.operand()?;
            self.expect_punct(",")?;
            let b = self.operand()?;
            self.expect_punct(")")?;
            return Ok(SetValue::ListAppend(a, b));
        }
        let a = self.operand()?;
        for op in ["+", "-"] {
            if self.eat_punct(op) {
                return Ok(SetValue::Arith(a, op, self.operand()?));
            }
        }
        Ok(SetValue::Operand(a))
    }

    fn delete(&mut self) -> Result<Statement, ParseError> {
        self.expect_kw("FROM")?;
        let table = self.name()?;
        self.expect_kw("WHERE")?;
        let filter = self.condition()?;
        self.no_returning()?;
        Ok(Statement::Delete { table, filter })
    }

    /// A WHERE condition, parsed without recursion: an operator stack (shunting-yard)
    /// holds pending `(`, NOT, AND and OR; nesting (open parentheses plus NOTs) is
    /// capped at [`MAX_DEPTH`] so the resulting tree stays shallow.
    fn condition(&mut self) -> Result<Cond, ParseError> {
        let mut ops: Vec<Op> = Vec::new();
        let mut out: Vec<Cond> = Vec::new();
        loop {
            loop {
                let op = if self.eat_kw("NOT") {
                    Op::Not
                } else if self.eat_punct("(") {
                    Op::Open
                } else {
                    break;
                };
                ops.push(op);
                if ops.iter().filter(|o| matches!(o, Op::Not | Op::Open)).count() > MAX_DEPTH {
                    return Err(ParseError::TooDeep);
                }
            }
            out.push(self.predicate()?);
            reduce_nots(&mut ops, &mut out)?;
            while self.is_punct(")") && ops.contains(&Op::Open) {
                self.pos += 1;
                while let Some(op) = ops.pop() {
                    if op == Op::Open {
                        break;
                    }
                    apply(op, &mut out)?;
                }
                reduce_nots(&mut ops, &mut out)?;
            }
            let op = if self.eat_kw("AND") {
                Op::And
            } else if self.eat_kw("OR") {
                Op::Or
            } else {
                break;
            };
            while let Some(&top) = ops.last() {
                if top == Op::And || (top == Op::Or && op == Op::Or) {
                    ops.pop();
                    apply(top, &mut out)?;
                } else {
                    break;
                }
            }
            ops.push(op);
        }
        while let Some(op) = ops.pop() {
            if op == Op::Open {
                return Err(ParseError::Syntax("Expected )".into()));
            }
            apply(op, &mut out)?;
        }
        match (out.pop(), out.is_empty()) {
            (Some(c), true) => Ok(c),
            _ => Err(ParseError::Syntax("Invalid condition".into())),
        }
    }

    fn predicate(&mut self) -> Result<Cond, ParseError> {
        if let Some(Tok::Ident(f, false)) = self.peek() {
            let f = f.to_ascii_lowercase();
            let is_call = matches!(self.toks.get(self.pos + 1), Some(Tok::Punct("(")));
            if is_call && matches!(f.as_str(), "begins_with" | "contains" | "attribute_exists" | "attribute_not_exists" | "attribute_type") {
                self.pos += 2;
                let mut args = vec![self.operand()?];
                while self.eat_punct(",") {
                    args.push(self.operand()?);
                }
                self.expect_punct(")")?;
                return Ok(Cond::Func(f, args));
            }
        }
        let left = self.operand()?;
        if self.eat_kw("BETWEEN") {
            let lo = self.operand()?;
            self.expect_kw("AND")?;
            return Ok(Cond::Between(left, lo, self.operand()?));
        }
        if self.eat_kw("IN") {
            return self.in_list(left);
        }
        if self.eat_kw("IS") {
            let negated = self.eat_kw("NOT");
            if !self.eat_kw("MISSING") {
                return Err(ParseError::Unsupported("IS NULL and IS <type> predicates are".into()));
            }
            let Operand::Path(p) = left else {
                return Err(ParseError::Syntax("IS MISSING needs an attribute path".into()));
            };
            return Ok(Cond::Exists(p, negated));
        }
        let op = match self.next()? {
            Tok::Punct(p @ ("=" | "<>" | "<" | "<=" | ">" | ">=")) => p,
            Tok::Punct("!=") => "<>",
            t => return Err(ParseError::Syntax(format!("Unexpected token: {}", show(&t)))),
        };
        Ok(Cond::Cmp(op, left, self.operand()?))
    }

    fn in_list(&mut self, left: Operand) -> Result<Cond, ParseError> {
        let close = if self.eat_punct("[") {
            "]"
        } else {
            self.expect_punct("(")?;
            ")"
        };
        let mut items = vec![self.operand()?];
        while self.eat_punct(",") {
            items.push(self.operand()?);
        }
        self.expect_punct(close)?;
        Ok(Cond::In(left, items))
    }

    fn operand(&mut self) -> Result<Operand, ParseError> {
        match self.peek() {
            Some(Tok::Ident(f, false)) if f.eq_ignore_ascii_case("size") && matches!(self.toks.get(self.pos + 1), Some(Tok::Punct("("))) => {
                self.pos += 2;
                let p = self.path()?;
                self.expect_punct(")")?;
                Ok(Operand::Size(p))
            }
            Some(Tok::Ident(s, false)) if ["true", "false", "null"].iter().any(|k| s.eq_ignore_ascii_case(k)) => Ok(Operand::Value(self.value()?)),
            Some(Tok::Ident(..)) => Ok(Operand::Path(self.path()?)),
            _ => Ok(Operand::Value(self.value()?)),
        }
    }

    fn path(&mut self) -> Result<Path, ParseError> {
        let mut path = vec![Seg::Name(self.name()?)];
        loop {
            if self.eat_punct(".") {
                path.push(Seg::Name(self.name()?));
            } else if self.eat_punct("[") {
                match self.next()? {
                    Tok::Num(n) => path.push(Seg::Index(n.parse().map_err(|_| ParseError::Syntax(format!("Invalid list index: {n}")))?)),
                    Tok::Str(s) => path.push(Seg::Name(s)),
                    t => return Err(ParseError::Syntax(format!("Unexpected token: {}", show(&t)))),
                }
                self.expect_punct("]")?;
            } else {
                return Ok(path);
            }
        }
    }

    /// A literal or `?` as an attribute value in DynamoDB JSON.
    fn value(&mut self) -> Result<Value, ParseError> {
        self.boxed_value().map(|b| *b)
    }

    // Maps, lists and sets recurse through here once per level; the Boxes keep those
    // frames small (they are large in debug builds).
    fn boxed_value(&mut self) -> Result<Box<Value>, ParseError> {
        let body: fn(&mut Self) -> Result<Box<Value>, ParseError> = match self.peek() {
            Some(Tok::Punct("{")) => Self::map_body,
            Some(Tok::Punct("[")) => Self::list_body,
            Some(Tok::Punct("<<")) => Self::set_body,
            _ => return self.scalar().map(Box::new),
        };
        self.pos += 1;
        self.enter()?;
        let v = body(self)?;
        self.depth -= 1;
        Ok(v)
    }

    fn scalar(&mut self) -> Result<Value, ParseError> {
        match self.next()? {
            Tok::Str(s) => Ok(json!({ "S": s })),
            Tok::Num(n) => Ok(json!({ "N": n })),
            Tok::Punct("-") => match self.next()? {
                Tok::Num(n) => Ok(json!({ "N": format!("-{n}") })),
                t => Err(ParseError::Syntax(format!("Unexpected token: {}", show(&t)))),
            },
            Tok::Param => {
                let v = self.params.get(self.next_param).cloned().ok_or(ParseError::Parameters)?;
                self.next_param += 1;
                Ok(v)
            }
            Tok::Ident(s, false) if s.eq_ignore_ascii_case("true") => Ok(json!({ "BOOL": true })),
            Tok::Ident(s, false) if s.eq_ignore_ascii_case("false") => Ok(json!({ "BOOL": false })),
            Tok::Ident(s, false) if s.eq_ignore_ascii_case("null") => Ok(json!({ "NULL": true })),
            t => Err(ParseError::Syntax(format!("Unexpected token: {}", show(&t)))),
        }
    }

    fn map_body(&mut self) -> Result<Box<Value>, ParseError> {
        let mut m = Map::new();
        if self.eat_punct("}") {
            return Ok(Box::new(json!({ "M": m })));
        }
        loop {
            let key = match self.next()? {
                Tok::Str(s) => s,
                t => return Err(ParseError::Syntax(format!("Unexpected token: {}", show(&t)))),
            };
            self.expect_punct(":")?;
            let v = self.boxed_value()?;
            m.insert(key, *v);
            if self.eat_punct("}") {
                return Ok(Box::new(json!({ "M": m })));
            }
            self.expect_punct(",")?;
        }
    }

    fn list_body(&mut self) -> Result<Box<Value>, ParseError> {
        let items = self.items("]")?;
        Ok(Box::new(json!({ "L": items })))
    }

    fn set_body(&mut self) -> Result<Box<Value>, ParseError> {
        let items = self.items(">>")?;
        for ty in ["S", "N", "B"] {
            if !items.is_empty() && items.iter().all(|v| v.get(ty).is_some()) {
                let members: Vec<Value> = items.iter().filter_map(|v| v.get(ty).cloned()).collect();
                return Ok(Box::new(json!({ format!("{ty}S"): members })));
            }
        }
        Err(ParseError::Syntax("A set must hold strings, numbers or binaries of one type".into()))
    }

    fn items(&mut self, close: &str) -> Result<Vec<Value>, ParseError> {
        let mut items = Vec::new();
        if self.eat_punct(close) {
            return Ok(items);
        }
        loop {
            let v = self.boxed_value()?;
            items.push(*v);
            if self.eat_punct(close) {
                return Ok(items);
            }
            self.expect_punct(",")?;
        }
    }
}
