//! UpdateExpression parsing: SET / REMOVE / ADD / DELETE clauses (each at most once),
//! SET's operands (`+`, `-`, if_not_exists, list_append), and AWS's checks on operand
//! types and overlapping paths.

use super::lexer::Tok;
use super::parser::Parser;
use super::{doc, ExprError, ExprKind, Path, PathElem, Substitutions};
use crate::value::AttributeValue;

#[derive(Debug, Clone)]
pub(crate) enum Operand {
    Path(Path),
    Value(AttributeValue),
    IfNotExists(Path, Box<Operand>),
    ListAppend(Box<Operand>, Box<Operand>),
}

#[derive(Debug, Clone)]
pub(crate) enum SetValue {
    Single(Operand),
    Plus(Operand, Operand),
    Minus(Operand, Operand),
}

#[derive(Debug, Clone, Default)]
pub(crate) struct Actions {
    pub set: Vec<(Path, SetValue)>,
    pub remove: Vec<Path>,
    pub add: Vec<(Path, AttributeValue)>,
    pub delete: Vec<(Path, AttributeValue)>,
    /// Every target path, in the order written.
    pub targets: Vec<Path>,
}

const CLAUSES: [&str; 4] = ["SET", "REMOVE", "ADD", "DELETE"];
const CONDITION_FUNCTIONS: [&str; 6] = ["attribute_exists", "attribute_not_exists", "attribute_type", "begins_with", "contains", "size"];

pub(crate) fn parse(text: &str, subs: &Substitutions) -> Result<Actions, ExprError> {
    let mut p = Parser::new(text, subs, ExprKind::Update)?;
    let mut actions = Actions::default();
    let mut seen = [false; 4];
    loop {
        if *p.peek() == Tok::Eof {
            break;
        }
        let Some(clause) = CLAUSES.iter().position(|c| p.at_keyword(c)) else { return Err(p.syntax_error()) };
        if seen[clause] {
            return Err(p.err(&format!("The \"{}\" section can only be used once in an update expression;", CLAUSES[clause])));
        }
        seen[clause] = true;
        p.advance();
        loop {
            parse_action(&mut p, clause, &mut actions)?;
            if *p.peek() != Tok::Comma {
                break;
            }
            p.advance();
        }
    }
    p.finish()?;
    check(&actions, &p)?;
    Ok(actions)
}

fn parse_action(p: &mut Parser, clause: usize, actions: &mut Actions) -> Result<(), ExprError> {
    let path = p.path()?;
    actions.targets.push(path.clone());
    match clause {
        0 => {
            p.expect(Tok::Eq)?;
            let left = parse_operand(p)?;
            let value = match p.peek() {
                Tok::Plus => {
                    p.advance();
                    p.operator()?;
                    SetValue::Plus(left, parse_operand(p)?)
                }
                Tok::Minus => {
                    p.advance();
                    p.operator()?;
                    SetValue::Minus(left, parse_operand(p)?)
                }
                _ => SetValue::Single(left),
            };
            actions.set.push((path, value));
        }
        1 => actions.remove.push(path),
        2 => {
            let v = p.value()?;
            actions.add.push((path, v));
        }
        _ => {
            let v = p.value()?;
            actions.delete.push((path, v));
        }
    }
    Ok(())
}

/// A function call whose arguments are still being read.
struct Call {
    name: String,
    args: Vec<Operand>,
}

/// A SET operand: a `:value`, a path, or `if_not_exists(path, operand)` /
/// `list_append(operand, operand)` nested to any depth. Nested calls wait on an
/// explicit stack rather than the worker's: 4 KB of text can nest ~250 calls.
fn parse_operand(p: &mut Parser) -> Result<Operand, ExprError> {
    let mut calls: Vec<Call> = Vec::new();
    loop {
        let mut done = match p.peek().clone() {
            Tok::Value(_) => Operand::Value(p.value()?),
            Tok::Ident(word) if *p.peek_at(1) == Tok::LParen => {
                p.advance();
                match word.as_str() {
                    "if_not_exists" | "list_append" => {}
                    w if CONDITION_FUNCTIONS.contains(&w) => {
                        return Err(p.err(&format!("The function is not allowed in an update expression; function: {word}")))
                    }
                    _ => return Err(p.err(&format!("Invalid function name; function: {word}"))),
                }
                p.operator()?;
                p.enter()?;
                p.expect(Tok::LParen)?;
                calls.push(Call { name: word, args: Vec::new() });
                continue;
            }
            Tok::Name(_) | Tok::Ident(_) => Operand::Path(p.path()?),
            _ => return Err(p.syntax_error()),
        };
        // An operand is complete: it is an argument of the innermost open call, which
        // either takes another one or closes.
        loop {
            let Some(call) = calls.last_mut() else { return Ok(done) };
            call.args.push(done);
            if *p.peek() == Tok::Comma {
                p.advance();
                break;
            }
            p.expect(Tok::RParen)?;
            p.leave();
            let Some(call) = calls.pop() else { return Err(p.syntax_error()) };
            done = finish_call(p, call)?;
        }
    }
}

/// `if_not_exists` / `list_append` from their arguments, with AWS's checks.
fn finish_call(p: &Parser, call: Call) -> Result<Operand, ExprError> {
    let Call { name, mut args } = call;
    if args.len() != 2 {
        return Err(p.err(&format!(
            "Incorrect number of operands for operator or function; operator or function: {name}, number of operands: {}",
            args.len()
        )));
    }
    let second = Box::new(args.pop().unwrap_or(Operand::Value(AttributeValue::Null)));
    let first = args.pop().unwrap_or(Operand::Value(AttributeValue::Null));
    if name == "list_append" {
        return Ok(Operand::ListAppend(Box::new(first), second));
    }
    match first {
        Operand::Path(path) => Ok(Operand::IfNotExists(path, second)),
        _ => Err(p.err("Operator or function requires a document path; operator or function: if_not_exists")),
    }
}

/// AWS's long type names, used in ADD / DELETE operand messages.
fn long_type_name(v: &AttributeValue) -> &'static str {
    match v {
        AttributeValue::S(_) => "STRING",
        AttributeValue::N(_) => "NUMBER",
        AttributeValue::B(_) => "BINARY",
        AttributeValue::Bool(_) => "BOOLEAN",
        AttributeValue::Null => "NULL",
        AttributeValue::M(_) => "MAP",
        AttributeValue::L(_) => "LIST",
        AttributeValue::SS(_) => "STRING_SET",
        AttributeValue::NS(_) => "NUMBER_SET",
        AttributeValue::BS(_) => "BINARY_SET",
    }
}

fn is_set(v: &AttributeValue) -> bool {
    matches!(v, AttributeValue::SS(_) | AttributeValue::NS(_) | AttributeValue::BS(_))
}

fn check(actions: &Actions, p: &Parser) -> Result<(), ExprError> {
    let refs: Vec<&[PathElem]> = actions.targets.iter().map(Vec::as_slice).collect();
    if let Some(msg) = doc::first_clash(&refs) {
        return Err(p.err(&msg));
    }
    let refused = |op: &str, v: &AttributeValue, set: &str| {
        p.err(&format!(
            "Incorrect operand type for operator or function; operator: {op}, operand type: {}, typeSet: {set}",
            long_type_name(v)
        ))
    };
    for (_, v) in &actions.add {
        if !(is_set(v) || matches!(v, AttributeValue::N(_))) {
            return Err(refused("ADD", v, "ALLOWED_FOR_ADD_OPERAND"));
        }
    }
    for (_, v) in &actions.delete {
        if !is_set(v) {
            return Err(refused("DELETE", v, "ALLOWED_FOR_DELETE_OPERAND"));
        }
    }
    for (_, value) in &actions.set {
        match value {
            SetValue::Single(o) => check_operand(o, p)?,
            SetValue::Plus(a, b) | SetValue::Minus(a, b) => {
                let op = if matches!(value, SetValue::Plus(..)) { "+" } else { "-" };
                for o in [a, b] {
                    check_operand(o, p)?;
                    if let Operand::Value(v) = o {
                        if !matches!(v, AttributeValue::N(_)) {
                            return Err(wrong_type(p, op, v));
                        }
                    }
                }
            }
        }
    }
    Ok(())
}

fn wrong_type(p: &Parser, function: &str, v: &AttributeValue) -> ExprError {
    p.err(&format!(
        "Incorrect operand type for operator or function; operator or function: {function}, operand type: {}",
        v.type_name()
    ))
}

fn check_operand(o: &Operand, p: &Parser) -> Result<(), ExprError> {
    match o {
        Operand::ListAppend(a, b) => {
            for x in [a, b] {
                check_operand(x, p)?;
                if let Operand::Value(v) = &**x {
                    if !matches!(v, AttributeValue::L(_)) {
                        return Err(wrong_type(p, "list_append", v));
                    }
                }
            }
            Ok(())
        }
        Operand::IfNotExists(_, d) => check_operand(d, p),
        _ => Ok(()),
    }
}
