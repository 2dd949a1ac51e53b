//! Lambda signatures (`function($a, $b)<n-s?:s>{…}`, <https://docs.jsonata.org/programming#function-signatures>):
//! parsed with the expression, checked when the lambda is called — types `b n s l a o f`
//! and the unions `j` (any JSON), `u` (b n s l), `x` (anything), choice groups `(ns)`, typed
//! arrays `a<n>`, and the modifiers `?` (optional), `+` (one or more), `-` (the context
//! when left out). A lone value passed for an array parameter becomes a one-item array.

use crate::eval::err;
use crate::value::Val;
use crate::JsonataError;

#[derive(Debug, Clone)]
pub struct Param {
    /// Accepted type letters (`x` accepts anything).
    types: String,
    /// For `a<…>`: the item type letters.
    items: Option<String>,
    optional: bool,
    variadic: bool,
    context: bool,
}

fn expand(c: char) -> &'static str {
    match c {
        'j' => "bnslao",
        'u' => "bnsl",
        'x' => "bnslaof",
        'b' => "b",
        'n' => "n",
        's' => "s",
        'l' => "l",
        'a' => "a",
        'o' => "o",
        'f' => "f",
        _ => "",
    }
}

/// Parses `<params:return>` (the return type is not checked).
pub fn parse(sig: &str, pos: usize) -> Result<Vec<Param>, JsonataError> {
    let inner = sig.trim().strip_prefix('<').and_then(|s| s.strip_suffix('>')).unwrap_or(sig);
    let chars: Vec<char> = inner.chars().collect();
    let mut params: Vec<Param> = Vec::new();
    let mut i = 0;
    let bad = |msg: &str| err("S0401", pos, msg.to_string());
    while i < chars.len() {
        let c = chars[i];
        match c {
            ':' => break,
            '?' | '+' | '-' => {
                let Some(p) = params.last_mut() else { return Err(bad("Type parameters can only be applied to functions and arrays")) };
                match c {
                    '?' => p.optional = true,
                    '+' => p.variadic = true,
                    _ => p.context = true,
                }
                i += 1;
            }
            '(' => {
                let close = chars[i..].iter().position(|&x| x == ')').map(|p| p + i).ok_or_else(|| bad("Unterminated choice group in signature"))?;
                let group: String = chars[i + 1..close].iter().collect();
                if group.contains('<') {
                    return Err(err("S0402", pos, "Choice groups containing parameterized types are not supported"));
                }
                let types: String = group.chars().flat_map(|g| expand(g).chars()).collect();
                params.push(Param { types, items: None, optional: false, variadic: false, context: false });
                i = close + 1;
            }
            '<' => {
                let Some(p) = params.last_mut() else { return Err(bad("Type parameters can only be applied to functions and arrays")) };
                let mut depth = 0;
                let mut j = i;
                while j < chars.len() {
                    match chars[j] {
                        '<' => depth += 1,
                        '>' => {
                            depth -= 1;
                            if depth == 0 {
                                break;
                            }
                        }
                        _ => {}
                    }
                    j += 1;
                }
                let body: String = chars[i + 1..j.min(chars.len())].iter().collect();
                if p.types == "a" {
                    p.items = Some(body.chars().flat_map(|g| expand(g).chars()).collect());
                } else if p.types != "f" {
                    return Err(bad("Type parameters can only be applied to functions and arrays"));
                }
                i = j + 1;
            }
            c if !expand(c).is_empty() => {
                params.push(Param { types: expand(c).to_string(), items: None, optional: false, variadic: false, context: false });
                i += 1;
            }
            _ => i += 1,
        }
    }
    Ok(params)
}

fn letter(v: &Val) -> char {
    match v {
        Val::Null => 'l',
        Val::Bool(_) => 'b',
        Val::Num(_) => 'n',
        Val::Str(_) => 's',
        Val::Arr(..) => 'a',
        Val::Obj(_) => 'o',
        Val::Func(_) => 'f',
    }
}

fn accepts(p: &Param, v: &Option<Val>) -> bool {
    match v {
        None => true,
        Some(v) => p.types.contains(letter(v)) || p.types.contains('a'),
    }
}

fn type_names(items: &str) -> String {
    let names: Vec<&str> = items
        .chars()
        .map(|c| match c {
            'a' => "arrays",
            'b' => "booleans",
            'f' => "functions",
            'n' => "numbers",
            'o' => "objects",
            's' => "strings",
            _ => "nulls",
        })
        .collect();
    names.join(" or ")
}

/// Checks (and adapts) the arguments of a call to a lambda with signature `params`.
pub fn validate(params: &[Param], mut args: Vec<Option<Val>>, context: &Option<Val>, pos: usize) -> Result<Vec<Option<Val>>, JsonataError> {
    let required = params.iter().filter(|p| !p.optional).count();
    if params.first().is_some_and(|p| p.context) && args.len() < required {
        args.insert(0, context.clone());
    }
    let mismatch = |i: usize| err("T0410", pos, format!("Argument {} of function \"lambda\" does not match function signature", i + 1));
    let mut out = Vec::with_capacity(args.len());
    let mut ai = 0;
    for p in params {
        let mut taken = 0;
        while let Some(arg) = args.get(ai) {
            if !accepts(p, arg) {
                break;
            }
            let mut arg = arg.clone();
            if let Some(v) = &arg {
                let l = letter(v);
                if p.types.contains('a') && l != 'a' && !p.types.contains(l) {
                    arg = Some(Val::array(vec![v.clone()]));
                }
            }
            if let (Some(items), Some(Val::Arr(a, _))) = (&p.items, &arg) {
                if !items.contains('x') && a.iter().any(|x| !items.contains(letter(x))) {
                    return Err(err("T0412", pos, format!("Argument {} of function \"lambda\" must be an array of {}", ai + 1, type_names(items))));
                }
            }
            out.push(arg);
            ai += 1;
            taken += 1;
            if !p.variadic {
                break;
            }
        }
        if taken == 0 && !p.optional {
            if ai < args.len() {
                return Err(mismatch(ai));
            }
            out.push(None);
        }
    }
    if ai < args.len() {
        return Err(mismatch(ai));
    }
    Ok(out)
}
