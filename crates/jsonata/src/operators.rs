//! Binary operators after both sides are evaluated: arithmetic (`+ - * / %`), comparison
//! (`= != < <= > >=`), string concatenation `&`, membership `in` and the range `..`,
//! with JSONata's type rules and error codes (T2001/T2002, T2009/T2010, T2003/T2004, D2014).

use crate::ast::Op;
use crate::eval::{err, R};
use crate::value::{deep_equal, stringify, Val};

pub fn binary(op: Op, l: Option<Val>, r: Option<Val>, pos: usize) -> R {
    match op {
        Op::Add | Op::Sub | Op::Mul | Op::Div | Op::Mod => arithmetic(op, l, r, pos),
        Op::Eq | Op::Ne => {
            let (Some(a), Some(b)) = (l, r) else { return Ok(Some(Val::Bool(false))) };
            let eq = deep_equal(&a, &b);
            Ok(Some(Val::Bool(if op == Op::Eq { eq } else { !eq })))
        }
        Op::Lt | Op::Le | Op::Gt | Op::Ge => compare(op, l, r, pos),
        Op::Concat => {
            let mut s = l.map(|v| to_string(&v)).unwrap_or_default();
            s.push_str(&r.map(|v| to_string(&v)).unwrap_or_default());
            Ok(Some(Val::string(s)))
        }
        Op::In => {
            let (Some(a), Some(b)) = (l, r) else { return Ok(Some(Val::Bool(false))) };
            Ok(Some(Val::Bool(b.items().iter().any(|x| deep_equal(x, &a)))))
        }
        Op::Range => range(l, r, pos),
        Op::And | Op::Or | Op::Coalesce | Op::Elvis => Ok(None),
    }
}

/// `$string` of a value: strings as they are, everything else as JSON.
pub fn to_string(v: &Val) -> String {
    match v {
        Val::Str(s) => s.to_string(),
        other => stringify(other, false),
    }
}

fn arithmetic(op: Op, l: Option<Val>, r: Option<Val>, pos: usize) -> R {
    let sym = op.symbol();
    let a = match &l {
        None => None,
        Some(Val::Num(n)) => Some(*n),
        Some(_) => return Err(err("T2001", pos, format!("The left side of the \"{sym}\" operator must evaluate to a number"))),
    };
    let b = match &r {
        None => None,
        Some(Val::Num(n)) => Some(*n),
        Some(_) => return Err(err("T2002", pos, format!("The right side of the \"{sym}\" operator must evaluate to a number"))),
    };
    let (Some(a), Some(b)) = (a, b) else { return Ok(None) };
    let v = match op {
        Op::Add => a + b,
        Op::Sub => a - b,
        Op::Mul => a * b,
        Op::Div => a / b,
        _ => a % b,
    };
    if !v.is_finite() {
        return Err(err("D1001", pos, format!("Number out of range: {}", crate::value::js_number_string(v))));
    }
    Ok(Some(Val::Num(v)))
}

fn compare(op: Op, l: Option<Val>, r: Option<Val>, pos: usize) -> R {
    let sym = op.symbol();
    let comparable = |v: &Option<Val>| matches!(v, None | Some(Val::Num(_)) | Some(Val::Str(_)));
    if !comparable(&l) || !comparable(&r) {
        return Err(err("T2010", pos, format!("The expressions either side of operator \"{sym}\" must evaluate to numeric or string values")));
    }
    let (Some(a), Some(b)) = (l, r) else { return Ok(None) };
    let ord = match (&a, &b) {
        (Val::Num(x), Val::Num(y)) => x.partial_cmp(y),
        (Val::Str(x), Val::Str(y)) => Some(crate::builtins::cmp_utf16(x, y)),
        _ => {
            return Err(err(
                "T2009",
                pos,
                format!(
                    "The values {} and {} either side of operator \"{sym}\" must be of the same data type",
                    stringify(&a, false),
                    stringify(&b, false)
                ),
            ))
        }
    };
    let Some(ord) = ord else { return Ok(Some(Val::Bool(false))) };
    use std::cmp::Ordering::*;
    Ok(Some(Val::Bool(match op {
        Op::Lt => ord == Less,
        Op::Le => ord != Greater,
        Op::Gt => ord == Greater,
        _ => ord != Less,
    })))
}

fn range(l: Option<Val>, r: Option<Val>, pos: usize) -> R {
    let int = |v: &Option<Val>| match v {
        None => Ok(None),
        Some(Val::Num(n)) if n.fract() == 0.0 => Ok(Some(*n)),
        Some(_) => Err(()),
    };
    let a = int(&l).map_err(|_| err("T2003", pos, "The left side of the range operator (..) must evaluate to an integer"))?;
    let b = int(&r).map_err(|_| err("T2004", pos, "The right side of the range operator (..) must evaluate to an integer"))?;
    let (Some(a), Some(b)) = (a, b) else { return Ok(None) };
    if a > b {
        return Ok(None);
    }
    let size = b - a + 1.0;
    if size > 1e7 {
        return Err(err(
            "D2014",
            pos,
            format!(
                "The size of the sequence allocated by the range operator (..) must not exceed 1e7.  Attempted to allocate {}.",
                crate::value::js_number_string(size)
            ),
        ));
    }
    let (a, b) = (a as i64, b as i64);
    Ok(Some(Val::array((a..=b).map(|i| Val::Num(i as f64)).collect())))
}
