//! ConditionExpression / FilterExpression: the AST, its parser (precedence
//! NOT > AND > OR, comparisons, BETWEEN, IN, functions), AWS's semantic checks, and
//! evaluation against an item.

use super::doc;
use super::lexer::Tok;
use super::parser::{value_text, Parser};
use super::{path_text, ExprError, ExprKind, Path, Substitutions};
use crate::value::{AttributeValue, Item, Number};
use std::borrow::Cow;
use std::cmp::Ordering;

/// Most values an IN list may hold.
const MAX_IN_OPERANDS: usize = 100;

#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Operand {
    Path(Path),
    Value(AttributeValue),
    Size(Path),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum CmpOp {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
}

impl CmpOp {
    pub fn symbol(self) -> &'static str {
        match self {
            CmpOp::Eq => "=",
            CmpOp::Ne => "<>",
            CmpOp::Lt => "<",
            CmpOp::Le => "<=",
            CmpOp::Gt => ">",
            CmpOp::Ge => ">=",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Func {
    AttributeExists,
    AttributeNotExists,
    AttributeType,
    BeginsWith,
    Contains,
}

impl Func {
    fn from_name(name: &str) -> Option<Func> {
        Some(match name {
            "attribute_exists" => Func::AttributeExists,
            "attribute_not_exists" => Func::AttributeNotExists,
            "attribute_type" => Func::AttributeType,
            "begins_with" => Func::BeginsWith,
            "contains" => Func::Contains,
            _ => return None,
        })
    }
    pub fn name(self) -> &'static str {
        match self {
            Func::AttributeExists => "attribute_exists",
            Func::AttributeNotExists => "attribute_not_exists",
            Func::AttributeType => "attribute_type",
            Func::BeginsWith => "begins_with",
            Func::Contains => "contains",
        }
    }
    fn arity(self) -> usize {
        match self {
            Func::AttributeExists | Func::AttributeNotExists => 1,
            _ => 2,
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Cond {
    Or(Box<Cond>, Box<Cond>),
    And(Box<Cond>, Box<Cond>),
    Not(Box<Cond>),
    /// A parenthesised condition (kept to spot redundant parentheses).
    Group(Box<Cond>),
    Cmp(CmpOp, Operand, Operand),
    Between(Operand, Operand, Operand),
    In(Operand, Vec<Operand>),
    Func(Func, Vec<Operand>),
}

const KEYWORDS: [&str; 5] = ["AND", "OR", "NOT", "BETWEEN", "IN"];
const UPDATE_FUNCTIONS: [&str; 2] = ["if_not_exists", "list_append"];

pub(crate) fn parse(text: &str, subs: &Substitutions, kind: ExprKind) -> Result<Cond, ExprError> {
    let mut p = Parser::new(text, subs, kind)?;
    let cond = parse_or(&mut p)?;
    p.finish()?;
    check(&cond, &p)?;
    Ok(cond)
}

/// An operator waiting on the parse stack for its right-hand side (or, for `(`, its `)`).
enum Pending {
    Open,
    Not,
    And(Cond),
    Or(Cond),
}

/// `or := and (OR and)*`, `and := not (AND not)*`, `not := NOT not | '(' or ')' | primary`,
/// parsed with an explicit stack instead of recursion, so the nesting an input can
/// ask for costs heap, not the worker's stack. Syntax errors fall on the same tokens
/// as a recursive-descent parser's would.
fn parse_or(p: &mut Parser) -> Result<Cond, ExprError> {
    let mut stack: Vec<Pending> = Vec::new();
    loop {
        // Where a `not` begins: NOTs and opening parentheses, then a primary.
        let mut operand = loop {
            if p.at_keyword("NOT") {
                p.advance();
                p.operator()?;
                p.enter()?;
                stack.push(Pending::Not);
            } else if *p.peek() == Tok::LParen {
                p.advance();
                p.enter()?;
                stack.push(Pending::Open);
            } else {
                break parse_primary(p)?;
            }
        };
        // After an operand: apply what binds tighter than the next operator.
        loop {
            if p.at_keyword("AND") {
                operand = reduce(&mut stack, operand, p, |top| matches!(top, Pending::Not | Pending::And(_)));
                p.advance();
                p.operator()?;
                stack.push(Pending::And(operand));
                break;
            }
            if p.at_keyword("OR") {
                operand = reduce(&mut stack, operand, p, |top| !matches!(top, Pending::Open));
                p.advance();
                p.operator()?;
                stack.push(Pending::Or(operand));
                break;
            }
            operand = reduce(&mut stack, operand, p, |top| !matches!(top, Pending::Open));
            match stack.pop() {
                None => return Ok(operand),
                Some(_open) => {
                    p.expect(Tok::RParen)?;
                    p.leave();
                    operand = Cond::Group(Box::new(operand));
                }
            }
        }
    }
}

/// Pops and applies pending operators while `applies` holds for the top one.
fn reduce(stack: &mut Vec<Pending>, mut operand: Cond, p: &mut Parser, applies: impl Fn(&Pending) -> bool) -> Cond {
    while let Some(top) = stack.pop() {
        if !applies(&top) {
            stack.push(top);
            break;
        }
        operand = match top {
            Pending::Not => {
                p.leave();
                Cond::Not(Box::new(operand))
            }
            Pending::And(left) => Cond::And(Box::new(left), Box::new(operand)),
            Pending::Or(left) => Cond::Or(Box::new(left), Box::new(operand)),
            Pending::Open => Cond::Group(Box::new(operand)),
        };
    }
    operand
}

fn parse_primary(p: &mut Parser) -> Result<Cond, ExprError> {
    if let (Tok::Ident(name), Tok::LParen) = (p.peek().clone(), p.peek_at(1).clone()) {
        if let Some(func) = Func::from_name(&name) {
            p.advance();
            p.operator()?;
            let args = parse_args(p)?;
            if args.len() != func.arity() {
                return Err(p.err(&format!(
                    "Incorrect number of operands for operator or function; operator or function: {}, number of operands: {}",
                    func.name(),
                    args.len()
                )));
            }
            return Ok(Cond::Func(func, args));
        }
    }
    let left = parse_operand(p)?;
    let op = match p.peek() {
        Tok::Eq => CmpOp::Eq,
        Tok::Ne => CmpOp::Ne,
        Tok::Lt => CmpOp::Lt,
        Tok::Le => CmpOp::Le,
        Tok::Gt => CmpOp::Gt,
        Tok::Ge => CmpOp::Ge,
        _ if p.at_keyword("BETWEEN") => {
            p.advance();
            p.operator()?;
            let low = parse_operand(p)?;
            if !p.at_keyword("AND") {
                return Err(p.syntax_error());
            }
            p.advance();
            let high = parse_operand(p)?;
            return Ok(Cond::Between(left, low, high));
        }
        _ if p.at_keyword("IN") => {
            p.advance();
            p.operator()?;
            let list = parse_args(p)?;
            if list.is_empty() {
                return Err(p.syntax_error());
            }
            return Ok(Cond::In(left, list));
        }
        _ => return Err(p.syntax_error()),
    };
    p.advance();
    p.operator()?;
    let right = parse_operand(p)?;
    Ok(Cond::Cmp(op, left, right))
}

/// `( operand, … )`, possibly empty.
fn parse_args(p: &mut Parser) -> Result<Vec<Operand>, ExprError> {
    p.expect(Tok::LParen)?;
    let mut args = Vec::new();
    if *p.peek() == Tok::RParen {
        p.advance();
        return Ok(args);
    }
    loop {
        args.push(parse_operand(p)?);
        match p.peek() {
            Tok::Comma => {
                p.advance();
            }
            Tok::RParen => {
                p.advance();
                return Ok(args);
            }
            _ => return Err(p.syntax_error()),
        }
    }
}

/// A path, a `:value`, or `size(path)`.
fn parse_operand(p: &mut Parser) -> Result<Operand, ExprError> {
    match p.peek().clone() {
        Tok::Value(_) => Ok(Operand::Value(p.value()?)),
        Tok::Name(_) => Ok(Operand::Path(p.path()?)),
        Tok::Ident(word) if *p.peek_at(1) == Tok::LParen => {
            if word == "size" {
                p.advance();
                p.operator()?;
                // `size(size(…))`: the inner size is not a document path. Said before
                // reading the argument, so nested sizes never recurse.
                if matches!((p.peek_at(1), p.peek_at(2)), (Tok::Ident(w), Tok::LParen) if w == "size") {
                    return Err(p.err("Operator or function requires a document path; operator or function: size"));
                }
                let mut args = parse_args(p)?;
                if args.len() != 1 {
                    return Err(p.err(&format!(
                        "Incorrect number of operands for operator or function; operator or function: size, number of operands: {}",
                        args.len()
                    )));
                }
                return match args.pop() {
                    Some(Operand::Path(path)) => Ok(Operand::Size(path)),
                    _ => Err(p.err("Operator or function requires a document path; operator or function: size")),
                };
            }
            if Func::from_name(&word).is_some() {
                return Err(p.err(&format!(
                    "The function is not allowed to be used this way in an expression; function: {word}"
                )));
            }
            if UPDATE_FUNCTIONS.contains(&word.as_str()) {
                let what = p.kind.parameter().trim_end_matches("Expression").to_ascii_lowercase();
                return Err(p.err(&format!("The function is not allowed in a {what} expression; function: {word}")));
            }
            Err(p.err(&format!("Invalid function name; function: {word}")))
        }
        Tok::Ident(word) if KEYWORDS.iter().any(|k| word.eq_ignore_ascii_case(k)) => Err(p.syntax_error()),
        Tok::Ident(_) => Ok(Operand::Path(p.path()?)),
        _ => Err(p.syntax_error()),
    }
}

/// AWS's checks on a syntactically valid condition, node by node in the order written
/// (a worklist, not recursion: the tree may be a few hundred levels deep).
fn check(root: &Cond, p: &Parser) -> Result<(), ExprError> {
    let mut todo = vec![root];
    while let Some(c) = todo.pop() {
        match c {
            Cond::Or(a, b) | Cond::And(a, b) => {
                todo.push(b);
                todo.push(a);
            }
            Cond::Not(a) => todo.push(a),
            Cond::Group(inner) => {
                if matches!(**inner, Cond::Group(_)) {
                    return Err(p.err("The expression has redundant parentheses;"));
                }
                todo.push(inner);
            }
            leaf => check_leaf(leaf, p)?,
        }
    }
    Ok(())
}

fn check_leaf(c: &Cond, p: &Parser) -> Result<(), ExprError> {
    match c {
        Cond::Cmp(op, a, b) => {
            if !matches!(op, CmpOp::Eq | CmpOp::Ne) {
                orderable(op.symbol(), &[a, b], p)?;
            }
            distinct(op.symbol(), a, std::slice::from_ref(b), p)
        }
        Cond::Between(a, low, high) => {
            orderable("BETWEEN", &[a, low, high], p)?;
            distinct("BETWEEN", a, &[low.clone(), high.clone()], p)?;
            if let (Operand::Value(l), Operand::Value(h)) = (low, high) {
                let bounds = format!("lower bound operand: AttributeValue: {}, upper bound operand: AttributeValue: {}", value_text(l), value_text(h));
                match l.key_cmp(h) {
                    None => return Err(p.err(&format!("The BETWEEN operator requires same data type for lower and upper bounds; {bounds}"))),
                    Some(Ordering::Greater) => {
                        return Err(p.err(&format!(
                            "The BETWEEN operator requires upper bound to be greater than or equal to lower bound; {bounds}"
                        )))
                    }
                    _ => {}
                }
            }
            Ok(())
        }
        Cond::In(a, list) => {
            if list.len() > MAX_IN_OPERANDS {
                return Err(p.err(&format!("The IN operator is provided with too many operands; number of operands: {}", list.len())));
            }
            distinct("IN", a, list, p)
        }
        Cond::Func(func, args) => check_function(*func, args, p),
        Cond::Or(..) | Cond::And(..) | Cond::Not(_) | Cond::Group(_) => Ok(()),
    }
}

/// `<`, `<=`, `>`, `>=` and BETWEEN order only numbers, strings and binaries: a value
/// operand of another type (a list, a map, a set, a boolean, null) is refused.
fn orderable(op: &str, operands: &[&Operand], p: &Parser) -> Result<(), ExprError> {
    for o in operands {
        if let Operand::Value(v) = o {
            if !matches!(v, AttributeValue::N(_) | AttributeValue::S(_) | AttributeValue::B(_)) {
                return Err(p.err(&format!("Incorrect operand type for operator or function; operator or function: {op}, operand type: {}", v.type_name())));
            }
        }
    }
    Ok(())
}

/// "The first operand must be distinct from the remaining operands…" for `a = a`.
fn distinct(op: &str, first: &Operand, rest: &[Operand], p: &Parser) -> Result<(), ExprError> {
    if let Operand::Path(path) = first {
        if rest.iter().any(|o| o == first) {
            return Err(p.err(&format!(
                "The first operand must be distinct from the remaining operands for this operator or function; operator: {op}, first operand: {}",
                path_text(path)
            )));
        }
    }
    Ok(())
}

fn check_function(func: Func, args: &[Operand], p: &Parser) -> Result<(), ExprError> {
    let wrong_type = |v: &AttributeValue| {
        p.err(&format!(
            "Incorrect operand type for operator or function; operator or function: {}, operand type: {}",
            func.name(),
            v.type_name()
        ))
    };
    let needs_path = matches!(func, Func::AttributeExists | Func::AttributeNotExists | Func::AttributeType);
    if needs_path && !matches!(args.first(), Some(Operand::Path(_))) {
        return Err(p.err(&format!("Operator or function requires a document path; operator or function: {}", func.name())));
    }
    match func {
        Func::BeginsWith => {
            for arg in args {
                if let Operand::Value(v) = arg {
                    if !matches!(v, AttributeValue::S(_) | AttributeValue::B(_)) {
                        return Err(wrong_type(v));
                    }
                }
            }
        }
        Func::AttributeType => match args.get(1) {
            Some(Operand::Value(AttributeValue::S(t))) => {
                const TYPES: [&str; 10] = ["S", "SS", "N", "NS", "B", "BS", "BOOL", "NULL", "L", "M"];
                if !TYPES.contains(&t.as_str()) {
                    return Err(p.err(&format!(
                        "Invalid attribute type name found in type: {t}, valid types: {{B,NULL,SS,BOOL,L,BS,N,NS,S,M}}"
                    )));
                }
            }
            Some(Operand::Value(v)) => return Err(wrong_type(v)),
            _ => {}
        },
        _ => {}
    }
    Ok(())
}

// ---- evaluation ----

pub(crate) fn eval(c: &Cond, item: &Item) -> bool {
    match c {
        Cond::Or(a, b) => eval(a, item) || eval(b, item),
        Cond::And(a, b) => eval(a, item) && eval(b, item),
        Cond::Not(a) => !eval(a, item),
        Cond::Group(a) => eval(a, item),
        Cond::Cmp(op, a, b) => compare(*op, resolve(a, item).as_deref(), resolve(b, item).as_deref()),
        Cond::Between(a, low, high) => {
            let v = resolve(a, item);
            compare(CmpOp::Ge, v.as_deref(), resolve(low, item).as_deref())
                && compare(CmpOp::Le, v.as_deref(), resolve(high, item).as_deref())
        }
        Cond::In(a, list) => {
            let v = resolve(a, item);
            list.iter().any(|o| compare(CmpOp::Eq, v.as_deref(), resolve(o, item).as_deref()))
        }
        Cond::Func(func, args) => eval_function(*func, args, item),
    }
}

/// An operand's value in `item` (None: the path names nothing, or size() of a value
/// without a size).
pub(crate) fn resolve<'i>(op: &'i Operand, item: &'i Item) -> Option<Cow<'i, AttributeValue>> {
    match op {
        Operand::Value(v) => Some(Cow::Borrowed(v)),
        Operand::Path(path) => doc::get(item, path).map(Cow::Borrowed),
        Operand::Size(path) => {
            let n = size_of(doc::get(item, path)?)?;
            Number::parse(&n.to_string()).ok().map(|n| Cow::Owned(AttributeValue::N(n)))
        }
    }
}

/// What size() returns: string and binary lengths in bytes, element counts of sets,
/// lists and maps.
fn size_of(v: &AttributeValue) -> Option<usize> {
    Some(match v {
        AttributeValue::S(s) => s.len(),
        AttributeValue::B(b) => b.len(),
        AttributeValue::SS(s) => s.len(),
        AttributeValue::NS(s) => s.len(),
        AttributeValue::BS(s) => s.len(),
        AttributeValue::L(l) => l.len(),
        AttributeValue::M(m) => m.len(),
        _ => return None,
    })
}

/// A comparison; missing values and values of different types compare false (and
/// `<>` true).
pub(crate) fn compare(op: CmpOp, a: Option<&AttributeValue>, b: Option<&AttributeValue>) -> bool {
    let (Some(a), Some(b)) = (a, b) else { return op == CmpOp::Ne };
    match op {
        CmpOp::Eq => a.same_value(b),
        CmpOp::Ne => !a.same_value(b),
        _ => match a.key_cmp(b) {
            None => false,
            Some(ord) => match op {
                CmpOp::Lt => ord == Ordering::Less,
                CmpOp::Le => ord != Ordering::Greater,
                CmpOp::Gt => ord == Ordering::Greater,
                _ => ord != Ordering::Less,
            },
        },
    }
}

/// begins_with on strings or binaries.
pub(crate) fn begins_with(a: &AttributeValue, prefix: &AttributeValue) -> bool {
    match (a, prefix) {
        (AttributeValue::S(s), AttributeValue::S(p)) => s.starts_with(p.as_str()),
        (AttributeValue::B(s), AttributeValue::B(p)) => s.starts_with(p),
        _ => false,
    }
}

fn contains(a: &AttributeValue, b: &AttributeValue) -> bool {
    match (a, b) {
        (AttributeValue::S(s), AttributeValue::S(sub)) => s.contains(sub.as_str()),
        (AttributeValue::B(b), AttributeValue::B(sub)) => sub.is_empty() || b.windows(sub.len()).any(|w| w == sub.as_slice()),
        (AttributeValue::SS(set), AttributeValue::S(m)) => set.contains(m),
        (AttributeValue::NS(set), AttributeValue::N(m)) => set.contains(m),
        (AttributeValue::BS(set), AttributeValue::B(m)) => set.contains(m),
        (AttributeValue::L(list), m) => list.iter().any(|e| e.same_value(m)),
        _ => false,
    }
}

fn eval_function(func: Func, args: &[Operand], item: &Item) -> bool {
    let arg = |i: usize| args.get(i).and_then(|o| resolve(o, item));
    match func {
        Func::AttributeExists => arg(0).is_some(),
        Func::AttributeNotExists => arg(0).is_none(),
        Func::AttributeType => match (arg(0), arg(1)) {
            (Some(v), Some(t)) => matches!(&*t, AttributeValue::S(name) if name == v.type_name()),
            _ => false,
        },
        Func::BeginsWith => match (arg(0), arg(1)) {
            (Some(a), Some(b)) => begins_with(&a, &b),
            _ => false,
        },
        Func::Contains => match (arg(0), arg(1)) {
            (Some(a), Some(b)) => contains(&a, &b),
            _ => false,
        },
    }
}
