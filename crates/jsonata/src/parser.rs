//! A Pratt parser from tokens to the syntax tree of `ast.rs`, with JSONata's binding
//! powers and syntax error codes (`S02xx`). Paths, predicates, `@`/`#` bindings,
//! order-by and group-by are folded into `Path` steps as they are parsed.

use std::sync::Arc;

use crate::ast::{Kind, Lambda, Node, Op, Pairs, Path, Stage, Step, Transform};
use crate::lexer::{Lexer, Tok, Token};
use crate::JsonataError;

pub fn parse(text: &str) -> Result<Node, JsonataError> {
    parse_dialect(text, true)
}

/// `v2_1`: accept JSONata 2.1's `?:` and `??` operators (Step Functions runs 2.0.6).
pub fn parse_dialect(text: &str, v2_1: bool) -> Result<Node, JsonataError> {
    Ok(parse_full(text, v2_1)?.0)
}

/// The tree and whether it uses the parent operator `%` (evaluation then tracks ancestry).
pub fn parse_full(text: &str, v2_1: bool) -> Result<(Node, bool), JsonataError> {
    let mut lexer = Lexer::new(text);
    let tok = lexer.next(true)?;
    let mut p = Parser { lexer, tok, text: text.chars().collect(), depth: 0, v2_1, uses_parent: false };
    let node = p.expression(0)?;
    if p.tok.tok != Tok::End {
        return Err(p.syntax_error());
    }
    Ok((node, p.uses_parent))
}

struct Parser {
    lexer: Lexer,
    tok: Token,
    text: Vec<char>,
    /// Nesting of `expression` calls, bounded so absurdly nested text cannot overflow the stack.
    depth: usize,
    v2_1: bool,
    uses_parent: bool,
}

const MAX_NESTING: usize = 100;

fn describe(t: &Tok) -> String {
    match t {
        Tok::Op(o) => o.to_string(),
        Tok::Str(s) => s.clone(),
        Tok::Num(n) => crate::value::js_number_string(*n),
        Tok::Name(n) | Tok::Quoted(n) => n.clone(),
        Tok::Var(v) => format!("${v}"),
        Tok::Regex(p, _) => format!("/{p}/"),
        Tok::End => "(end)".into(),
    }
}

fn lbp(t: &Tok) -> u32 {
    match t {
        Tok::Op(o) => match *o {
            "." => 75,
            "[" | "(" | "@" | "#" => 80,
            "{" => 70,
            "*" | "/" | "%" => 60,
            "+" | "-" | "&" => 50,
            "=" | "!=" | "<" | "<=" | ">" | ">=" | "^" | "~>" | "??" | "?:" => 40,
            "?" => 20,
            ":=" => 10,
            _ => 0,
        },
        Tok::Name(n) => match n.as_str() {
            "and" => 30,
            "or" => 25,
            "in" => 40,
            _ => 0,
        },
        _ => 0,
    }
}

/// After this token, may an operand start (so a `/` opens a regex)?
fn prefix_after(t: &Tok) -> bool {
    match t {
        Tok::Op(o) => !matches!(*o, ")" | "]" | "}"),
        Tok::Name(n) => matches!(n.as_str(), "and" | "or" | "in"),
        _ => false,
    }
}

fn node(kind: Kind, pos: usize) -> Node {
    Node { kind, pos }
}

impl Parser {
    fn advance(&mut self) -> Result<Token, JsonataError> {
        let prefix = prefix_after(&self.tok.tok);
        let next = self.lexer.next(prefix)?;
        Ok(std::mem::replace(&mut self.tok, next))
    }

    fn is_op(&self, op: &str) -> bool {
        matches!(&self.tok.tok, Tok::Op(o) if *o == op)
    }

    fn expect(&mut self, op: &str) -> Result<Token, JsonataError> {
        if self.is_op(op) {
            return self.advance();
        }
        if self.tok.tok == Tok::End {
            return Err(JsonataError::new("S0203", Some(self.tok.pos), format!("Expected \"{op}\" before end of expression")));
        }
        Err(JsonataError::new(
            "S0202",
            Some(self.tok.pos),
            format!("Expected \"{op}\", got \"{}\"", describe(&self.tok.tok)),
        ))
    }

    fn syntax_error(&self) -> JsonataError {
        JsonataError::new("S0201", Some(self.tok.pos), format!("Syntax error: \"{}\"", describe(&self.tok.tok)))
    }

    fn expression(&mut self, rbp: u32) -> Result<Node, JsonataError> {
        if self.depth >= MAX_NESTING {
            return Err(JsonataError::new("U1001", Some(self.tok.pos), "Stack overflow error: the expression is nested too deeply"));
        }
        self.depth += 1;
        let r = self.expression_inner(rbp);
        self.depth -= 1;
        r
    }

    fn expression_inner(&mut self, rbp: u32) -> Result<Node, JsonataError> {
        let t = self.advance()?;
        let mut left = self.nud(t)?;
        while rbp < lbp(&self.tok.tok) {
            if !self.v2_1 && matches!(self.tok.tok, Tok::Op("??" | "?:")) {
                return Err(JsonataError::new(
                    "S0201",
                    Some(self.tok.pos),
                    format!("Syntax error: \"{}\" (an operator of JSONata 2.1; Step Functions supports JSONata 2.0.6)", describe(&self.tok.tok)),
                ));
            }
            let t = self.advance()?;
            left = self.led(t, left)?;
        }
        Ok(left)
    }

    #[inline(never)]
    fn nud(&mut self, t: Token) -> Result<Node, JsonataError> {
        let pos = t.pos;
        Ok(match t.tok {
            Tok::Num(n) => node(Kind::Num(n), pos),
            Tok::Str(s) => node(Kind::Str(s), pos),
            Tok::Quoted(n) => name_path(n, pos),
            Tok::Name(n) => match n.as_str() {
                "true" => node(Kind::Bool(true), pos),
                "false" => node(Kind::Bool(false), pos),
                "null" => node(Kind::Null, pos),
                "function" | "λ" if self.is_op("(") => self.lambda(pos)?,
                _ => name_path(n, pos),
            },
            Tok::Var(v) => node(Kind::Var(v), pos),
            Tok::Regex(pattern, flags) => regex_node(&pattern, &flags, pos)?,
            Tok::Op("-") => self.negation(pos)?,
            Tok::Op("*") => step_path(node(Kind::Wildcard, pos)),
            Tok::Op("**") => step_path(node(Kind::Descendant, pos)),
            Tok::Op("%") => {
                self.uses_parent = true;
                step_path(node(Kind::Parent, pos))
            }
            Tok::Op("?") => node(Kind::Placeholder, pos),
            Tok::Op("(") => self.block(pos)?,
            Tok::Op("[") => self.array(pos)?,
            Tok::Op("{") => node(Kind::Object(self.pairs()?), pos),
            Tok::Op("|") => self.transform(pos)?,
            Tok::End => return Err(JsonataError::new("S0207", Some(pos), "Unexpected end of expression")),
            Tok::Op(o) => return Err(not_unary(o, pos)),
        })
    }

    #[inline(never)]
    fn negation(&mut self, pos: usize) -> Result<Node, JsonataError> {
        let operand = self.expression(70)?;
        // A negated number literal is a number literal.
        Ok(if let Kind::Num(n) = operand.kind { node(Kind::Num(-n), pos) } else { node(Kind::Neg(Box::new(operand)), pos) })
    }

    /// `( expr; expr; … )` after the `(`.
    #[inline(never)]
    fn block(&mut self, pos: usize) -> Result<Node, JsonataError> {
        let mut items = Vec::new();
        while !self.is_op(")") {
            items.push(self.expression(0)?);
            if !self.is_op(";") {
                break;
            }
            self.advance()?;
        }
        self.expect(")")?;
        Ok(node(Kind::Block(items), pos))
    }

    /// `[ item, a..b, … ]` after the `[`; the range operator exists only here.
    #[inline(never)]
    fn array(&mut self, pos: usize) -> Result<Node, JsonataError> {
        let mut items = Vec::new();
        if !self.is_op("]") {
            loop {
                let item = self.expression(0)?;
                let item = if self.is_op("..") {
                    let t = self.advance()?;
                    let rhs = self.expression(0)?;
                    node(Kind::Binary(Op::Range, Box::new(item), Box::new(rhs)), t.pos)
                } else {
                    item
                };
                items.push(item);
                if !self.is_op(",") {
                    break;
                }
                self.advance()?;
            }
        }
        self.expect("]")?;
        Ok(node(Kind::Array(items, false), pos))
    }

    /// `| location | update [, delete] |` after the first `|`.
    #[inline(never)]
    fn transform(&mut self, pos: usize) -> Result<Node, JsonataError> {
        let location = self.expression(0)?;
        self.expect("|")?;
        let update = self.expression(0)?;
        let delete = if self.is_op(",") {
            self.advance()?;
            Some(self.expression(0)?)
        } else {
            None
        };
        self.expect("|")?;
        Ok(node(Kind::Transform(Arc::new(Transform { location, update, delete })), pos))
    }

    /// `{ key: value, … }` after the `{`.
    fn pairs(&mut self) -> Result<Pairs, JsonataError> {
        let mut pairs = Vec::new();
        if !self.is_op("}") {
            loop {
                let key = self.expression(0)?;
                self.expect(":")?;
                let value = self.expression(0)?;
                pairs.push((key, value));
                if !self.is_op(",") {
                    break;
                }
                self.advance()?;
            }
        }
        self.expect("}")?;
        Ok(pairs)
    }

    fn lambda(&mut self, pos: usize) -> Result<Node, JsonataError> {
        self.expect("(")?;
        let mut params = Vec::new();
        if !self.is_op(")") {
            loop {
                let t = self.advance()?;
                match t.tok {
                    Tok::Var(v) => params.push(v),
                    other => {
                        return Err(JsonataError::new(
                            "S0208",
                            Some(t.pos),
                            format!("Parameter {} of function definition must be a variable name (start with $)", describe(&other)),
                        ))
                    }
                }
                if !self.is_op(",") {
                    break;
                }
                self.advance()?;
            }
        }
        self.expect(")")?;
        let mut signature = None;
        if self.is_op("<") {
            let start = self.tok.start;
            let mut depth = 0;
            let mut end;
            loop {
                let t = self.advance()?;
                match t.tok {
                    Tok::Op("<") => depth += 1,
                    Tok::Op(">") => depth -= 1,
                    Tok::End => return Err(JsonataError::new("S0203", Some(t.pos), "Expected \">\" before end of expression")),
                    _ => {}
                }
                end = t.pos;
                if depth == 0 {
                    break;
                }
            }
            let text: String = self.text[start..end].iter().collect();
            signature = Some(crate::signature::parse(&text, pos)?);
        }
        self.expect("{")?;
        let body = self.expression(0)?;
        self.expect("}")?;
        Ok(node(Kind::Lambda(Arc::new(Lambda { params, body, signature })), pos))
    }

    #[inline(never)]
    fn led(&mut self, t: Token, left: Node) -> Result<Node, JsonataError> {
        let pos = t.pos;
        let binary = |p: &mut Parser, op: Op, bp: u32, left: Node| -> Result<Node, JsonataError> {
            let right = p.expression(bp)?;
            Ok(node(Kind::Binary(op, Box::new(left), Box::new(right)), pos))
        };
        match t.tok {
            Tok::Op(".") => {
                let right = self.expression(75)?;
                join_path(left, right)
            }
            Tok::Op("[") => {
                if self.is_op("]") {
                    self.advance()?;
                    return Ok(keep_array(left));
                }
                let pred = self.expression(0)?;
                self.expect("]")?;
                add_predicate(left, pred)
            }
            Tok::Op("{") => {
                let pairs = self.pairs()?;
                add_group(left, pairs, pos)
            }
            Tok::Op("(") => {
                let mut args = Vec::new();
                if !self.is_op(")") {
                    loop {
                        args.push(self.expression(0)?);
                        if !self.is_op(",") {
                            break;
                        }
                        self.advance()?;
                    }
                }
                self.expect(")")?;
                let partial = args.iter().any(|a| matches!(a.kind, Kind::Placeholder));
                let kind = if partial { Kind::Partial(Box::new(left), args) } else { Kind::Call(Box::new(left), args) };
                Ok(node(kind, pos))
            }
            Tok::Op(op @ ("@" | "#")) => {
                let v = self.advance()?;
                let Tok::Var(name) = v.tok else {
                    return Err(JsonataError::new(
                        "S0214",
                        Some(v.pos),
                        format!("The right side of {op} must be a variable name (start with $)"),
                    ));
                };
                bind_step(left, op == "@", name, pos)
            }
            Tok::Op("^") => {
                self.expect("(")?;
                let mut terms = Vec::new();
                loop {
                    let mut descending = false;
                    if self.is_op("<") || self.is_op(">") {
                        descending = self.is_op(">");
                        self.advance()?;
                    }
                    terms.push((self.expression(0)?, descending));
                    if !self.is_op(",") {
                        break;
                    }
                    self.advance()?;
                }
                self.expect(")")?;
                Ok(append_step(left, node(Kind::Sort(terms), pos)))
            }
            Tok::Op("?") => {
                let then = self.expression(0)?;
                let otherwise = if self.is_op(":") {
                    self.advance()?;
                    Some(Box::new(self.expression(0)?))
                } else {
                    None
                };
                Ok(node(Kind::Cond(Box::new(left), Box::new(then), otherwise), pos))
            }
            Tok::Op(":=") => {
                let Kind::Var(name) = left.kind else {
                    return Err(JsonataError::new("S0212", Some(pos), "The left side of := must be a variable name (start with $)"));
                };
                let value = self.expression(9)?;
                Ok(node(Kind::Bind(name, Box::new(value)), pos))
            }
            Tok::Op("~>") => {
                let right = self.expression(40)?;
                Ok(node(Kind::Apply(Box::new(left), Box::new(right)), pos))
            }
            Tok::Op("+") => binary(self, Op::Add, 50, left),
            Tok::Op("-") => binary(self, Op::Sub, 50, left),
            Tok::Op("*") => binary(self, Op::Mul, 60, left),
            Tok::Op("/") => binary(self, Op::Div, 60, left),
            Tok::Op("%") => binary(self, Op::Mod, 60, left),
            Tok::Op("=") => binary(self, Op::Eq, 40, left),
            Tok::Op("!=") => binary(self, Op::Ne, 40, left),
            Tok::Op("<") => binary(self, Op::Lt, 40, left),
            Tok::Op("<=") => binary(self, Op::Le, 40, left),
            Tok::Op(">") => binary(self, Op::Gt, 40, left),
            Tok::Op(">=") => binary(self, Op::Ge, 40, left),
            Tok::Op("&") => binary(self, Op::Concat, 50, left),
            Tok::Op("??") => binary(self, Op::Coalesce, 40, left),
            Tok::Op("?:") => binary(self, Op::Elvis, 40, left),
            Tok::Name(n) if n == "and" => binary(self, Op::And, 30, left),
            Tok::Name(n) if n == "or" => binary(self, Op::Or, 25, left),
            Tok::Name(n) if n == "in" => binary(self, Op::In, 40, left),
            other => Err(JsonataError::new("S0204", Some(pos), format!("Unknown operator: \"{}\"", describe(&other)))),
        }
    }
}

#[inline(never)]
fn regex_node(pattern: &str, flags: &str, pos: usize) -> Result<Node, JsonataError> {
    let mut src = String::new();
    if !flags.is_empty() {
        src.push_str(&format!("(?{flags})"));
    }
    src.push_str(pattern);
    let re = regex_lite::Regex::new(&src)
        .map_err(|e| JsonataError::new("S0303", Some(pos), format!("Invalid regular expression /{pattern}/: {e}")))?;
    Ok(node(Kind::Regex(Arc::new(re)), pos))
}

#[cold]
#[inline(never)]
fn not_unary(o: &str, pos: usize) -> JsonataError {
    JsonataError::new("S0211", Some(pos), format!("The symbol {o} cannot be used as a unary operator"))
}

fn name_path(name: String, pos: usize) -> Node {
    step_path(node(Kind::Name(name), pos))
}

fn plain_step(n: Node) -> Step {
    Step { node: n, stages: Vec::new(), focus: None, index: None }
}

fn step_path(n: Node) -> Node {
    let pos = n.pos;
    node(Kind::Path(Box::new(Path { steps: vec![plain_step(n)], keep_singleton: false, group: None })), pos)
}

/// A node as a path step: quoted strings are field names, array constructors keep their
/// arrays, other literals cannot be steps.
fn as_step(mut n: Node) -> Result<Step, JsonataError> {
    match n.kind {
        Kind::Str(s) => n.kind = Kind::Name(s),
        Kind::Num(_) | Kind::Bool(_) | Kind::Null => {
            let value = match &n.kind {
                Kind::Num(x) => crate::value::js_number_string(*x),
                Kind::Bool(b) => b.to_string(),
                _ => "null".into(),
            };
            return Err(JsonataError::new(
                "S0213",
                Some(n.pos),
                format!("The literal value {value} cannot be used as a step within a path expression"),
            ));
        }
        Kind::Array(items, false) => n.kind = Kind::Array(items, true),
        _ => {}
    }
    Ok(plain_step(n))
}

fn into_path(left: Node) -> Result<(Box<Path>, usize), JsonataError> {
    let pos = left.pos;
    match left.kind {
        Kind::Path(p) => Ok((p, pos)),
        _ => Ok((Box::new(Path { steps: vec![as_step(left)?], keep_singleton: false, group: None }), pos)),
    }
}

fn join_path(left: Node, right: Node) -> Result<Node, JsonataError> {
    // A grouped path (`a{…}.b`) is one step: its object is what the next step reads.
    let left = match left.kind {
        Kind::Path(p) if p.group.is_some() => {
            let pos = left.pos;
            node(Kind::Path(Box::new(Path { steps: vec![plain_step(node(Kind::Path(p), pos))], keep_singleton: false, group: None })), pos)
        }
        _ => left,
    };
    let (mut path, pos) = into_path(left)?;
    match right.kind {
        Kind::Path(rp) => {
            let rp = *rp;
            path.keep_singleton |= rp.keep_singleton;
            path.steps.extend(rp.steps);
            if rp.group.is_some() {
                path.group = rp.group;
            }
        }
        _ => path.steps.push(as_step(right)?),
    }
    Ok(node(Kind::Path(path), pos))
}

fn append_step(left: Node, step: Node) -> Node {
    let pos = left.pos;
    match left.kind {
        Kind::Path(mut p) => {
            p.steps.push(plain_step(step));
            node(Kind::Path(p), pos)
        }
        _ => node(
            Kind::Path(Box::new(Path { steps: vec![plain_step(left), plain_step(step)], keep_singleton: false, group: None })),
            pos,
        ),
    }
}

fn keep_array(left: Node) -> Node {
    match left.kind {
        Kind::Path(mut p) => {
            p.keep_singleton = true;
            node(Kind::Path(p), left.pos)
        }
        _ => left,
    }
}

fn add_predicate(left: Node, pred: Node) -> Result<Node, JsonataError> {
    let pos = left.pos;
    match left.kind {
        Kind::Path(mut p) => {
            if p.group.is_some() {
                return Err(JsonataError::new("S0209", Some(pred.pos), "A predicate cannot follow a grouping expression in a step"));
            }
            if let Some(last) = p.steps.last_mut() {
                last.stages.push(Stage::Filter(pred));
            }
            Ok(node(Kind::Path(p), pos))
        }
        Kind::Filter(inner, mut preds) => {
            preds.push(pred);
            Ok(node(Kind::Filter(inner, preds), pos))
        }
        _ => Ok(node(Kind::Filter(Box::new(left), vec![pred]), pos)),
    }
}

fn add_group(left: Node, pairs: Pairs, pos: usize) -> Result<Node, JsonataError> {
    let lpos = left.pos;
    match left.kind {
        Kind::Path(mut p) => {
            if p.group.is_some() {
                return Err(JsonataError::new("S0210", Some(pos), "Each step can only have one grouping expression"));
            }
            p.group = Some(pairs);
            Ok(node(Kind::Path(p), lpos))
        }
        Kind::Group(..) => Err(JsonataError::new("S0210", Some(pos), "Each step can only have one grouping expression")),
        _ => Ok(node(Kind::Group(Box::new(left), pairs), lpos)),
    }
}

fn bind_step(left: Node, focus: bool, name: String, pos: usize) -> Result<Node, JsonataError> {
    let (mut path, lpos) = into_path(left)?;
    let Some(last) = path.steps.last_mut() else {
        return Err(JsonataError::new("S0201", Some(pos), "Syntax error"));
    };
    if focus {
        if !last.stages.is_empty() {
            return Err(JsonataError::new("S0215", Some(pos), "A context variable binding must precede any predicates on a step"));
        }
        if matches!(last.node.kind, Kind::Sort(_)) {
            return Err(JsonataError::new("S0216", Some(pos), "A context variable binding must precede the 'order-by' clause on a step"));
        }
        last.focus = Some(name);
    } else if last.stages.is_empty() {
        last.index = Some(name);
    } else {
        last.stages.push(Stage::Index(name));
    }
    Ok(node(Kind::Path(path), lpos))
}
