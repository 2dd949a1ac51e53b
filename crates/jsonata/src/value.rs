//! `Val`: the values an evaluation works on — JSON values plus JSONata's sequences and
//! functions — with cheap clones (`Rc`), conversion from/to `serde_json::Value`, JSONata's
//! deep equality and JavaScript's number-to-string rules.

use std::rc::Rc;

use indexmap::IndexMap;
use serde_json::Value;

use crate::func::Func;

/// Array flags: a *sequence* (a result JSONata flattens and unwraps when it holds one item),
/// one that keeps a single item (`[]` in a path), and an array built by a constructor in a
/// path step (not flattened into the step's results).
pub const SEQ: u8 = 1;
pub const KEEP: u8 = 2;
pub const CONS: u8 = 4;

pub type Obj = IndexMap<Rc<str>, Val>;

#[derive(Clone)]
pub enum Val {
    Null,
    Bool(bool),
    Num(f64),
    Str(Rc<str>),
    Arr(Rc<Vec<Val>>, u8),
    Obj(Rc<Obj>),
    Func(Rc<Func>),
}

impl std::fmt::Debug for Val {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Val::Func(_) => write!(f, "<function>"),
            v => write!(f, "{}", to_json(v).map(|j| j.to_string()).unwrap_or_default()),
        }
    }
}

impl Val {
    pub fn str(s: &str) -> Val {
        Val::Str(Rc::from(s))
    }
    pub fn string(s: String) -> Val {
        Val::Str(Rc::from(s))
    }
    pub fn array(v: Vec<Val>) -> Val {
        Val::Arr(Rc::new(v), 0)
    }
    pub fn seq(v: Vec<Val>) -> Val {
        Val::Arr(Rc::new(v), SEQ)
    }
    pub fn object(o: Obj) -> Val {
        Val::Obj(Rc::new(o))
    }
    pub fn is_seq(&self) -> bool {
        matches!(self, Val::Arr(_, f) if f & SEQ != 0)
    }
    pub fn as_num(&self) -> Option<f64> {
        match self {
            Val::Num(n) => Some(*n),
            _ => None,
        }
    }
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Val::Str(s) => Some(s),
            _ => None,
        }
    }
    /// The items of an array, or the value itself as a one-item slice.
    pub fn items(&self) -> Vec<Val> {
        match self {
            Val::Arr(a, _) => a.as_ref().clone(),
            v => vec![v.clone()],
        }
    }
    pub fn with_flags(self, flags: u8) -> Val {
        match self {
            Val::Arr(a, _) => Val::Arr(a, flags),
            v => v,
        }
    }
    pub fn type_name(&self) -> &'static str {
        match self {
            Val::Null => "null",
            Val::Bool(_) => "boolean",
            Val::Num(_) => "number",
            Val::Str(_) => "string",
            Val::Arr(..) => "array",
            Val::Obj(_) => "object",
            Val::Func(_) => "function",
        }
    }
}

/// Converts a JSON value (numbers become f64, as in JavaScript).
pub fn from_json(v: &Value) -> Val {
    match v {
        Value::Null => Val::Null,
        Value::Bool(b) => Val::Bool(*b),
        Value::Number(n) => Val::Num(n.as_f64().unwrap_or(0.0)),
        Value::String(s) => Val::str(s),
        Value::Array(a) => Val::array(a.iter().map(from_json).collect()),
        Value::Object(o) => Val::object(o.iter().map(|(k, v)| (Rc::from(k.as_str()), from_json(v))).collect()),
    }
}

/// A number as JSON: integers (within 2^53) as integers, others as floats.
/// Integral values print without a fraction, as JavaScript does (up to u64's range).
pub fn num_to_json(n: f64) -> Value {
    if n.fract() == 0.0 {
        if n == 0.0 {
            return Value::from(0);
        }
        if n.abs() < 9.2e18 {
            return Value::from(n as i64);
        }
        if n > 0.0 && n < 1.8e19 {
            return Value::from(n as u64);
        }
    }
    serde_json::Number::from_f64(n).map(Value::Number).unwrap_or(Value::Null)
}

/// Converts to JSON as `JSON.stringify` would: functions are dropped from objects, null in
/// arrays, undefined at the top.
pub fn to_json(v: &Val) -> Option<Value> {
    Some(match v {
        Val::Null => Value::Null,
        Val::Bool(b) => Value::Bool(*b),
        Val::Num(n) => num_to_json(*n),
        Val::Str(s) => Value::String(s.to_string()),
        Val::Arr(a, _) => Value::Array(a.iter().map(|x| to_json(x).unwrap_or(Value::Null)).collect()),
        Val::Obj(o) => {
            let mut m = serde_json::Map::with_capacity(o.len());
            for (k, x) in o.iter() {
                if let Some(j) = to_json(x) {
                    m.insert(k.to_string(), j);
                }
            }
            Value::Object(m)
        }
        Val::Func(_) => return None,
    })
}

/// JSONata's deep equality (`=`, `in`, `$distinct`).
pub fn deep_equal(a: &Val, b: &Val) -> bool {
    match (a, b) {
        (Val::Null, Val::Null) => true,
        (Val::Bool(x), Val::Bool(y)) => x == y,
        (Val::Num(x), Val::Num(y)) => x == y,
        (Val::Str(x), Val::Str(y)) => x == y,
        (Val::Arr(x, _), Val::Arr(y, _)) => x.len() == y.len() && x.iter().zip(y.iter()).all(|(p, q)| deep_equal(p, q)),
        (Val::Obj(x), Val::Obj(y)) => {
            x.len() == y.len() && x.iter().all(|(k, v)| y.get(k).is_some_and(|w| deep_equal(v, w)))
        }
        (Val::Func(x), Val::Func(y)) => Rc::ptr_eq(x, y),
        _ => false,
    }
}

/// JavaScript's `Number.prototype.toString()` for a finite number.
pub fn js_number_string(n: f64) -> String {
    if n == 0.0 {
        return "0".into();
    }
    if !n.is_finite() {
        return if n.is_nan() { "NaN".into() } else if n > 0.0 { "Infinity".into() } else { "-Infinity".into() };
    }
    let neg = n < 0.0;
    let sci = format!("{:e}", n.abs());
    let (mant, exp) = sci.split_once('e').unwrap_or((&sci, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    let digits: String = mant.chars().filter(|c| c.is_ascii_digit()).collect();
    let k = digits.len() as i32;
    let p = exp + 1; // position of the decimal point relative to the digits
    let mut out = String::new();
    if neg {
        out.push('-');
    }
    if k <= p && p <= 21 {
        out.push_str(&digits);
        out.extend(std::iter::repeat_n('0', (p - k) as usize));
    } else if 0 < p && p <= 21 {
        out.push_str(&digits[..p as usize]);
        out.push('.');
        out.push_str(&digits[p as usize..]);
    } else if -6 < p && p <= 0 {
        out.push_str("0.");
        out.extend(std::iter::repeat_n('0', (-p) as usize));
        out.push_str(&digits);
    } else {
        out.push_str(&digits[..1]);
        if k > 1 {
            out.push('.');
            out.push_str(&digits[1..]);
        }
        out.push('e');
        out.push(if p > 0 { '+' } else { '-' });
        out.push_str(&(p - 1).abs().to_string());
    }
    out
}

/// A number rounded to 15 significant digits (`Number(n.toPrecision(15))`), as JSONata does
/// when it turns numbers into strings.
pub fn round15(n: f64) -> f64 {
    if n == 0.0 || !n.is_finite() {
        return n;
    }
    format!("{:.14e}", n).parse().unwrap_or(n)
}

/// JSON text of a value as `$string` writes it: numbers to 15 significant digits,
/// functions as "" (in objects dropped), optionally pretty-printed with 2-space indents.
pub fn stringify(v: &Val, pretty: bool) -> String {
    let mut out = String::new();
    write_json(v, pretty, 0, &mut out);
    out
}

fn write_json(v: &Val, pretty: bool, depth: usize, out: &mut String) {
    match v {
        Val::Null => out.push_str("null"),
        Val::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Val::Num(n) => {
            if n.is_finite() {
                out.push_str(&js_number_string(round15(*n)))
            } else {
                out.push_str("null")
            }
        }
        Val::Str(s) => out.push_str(&Value::String(s.to_string()).to_string()),
        Val::Func(_) => out.push_str("\"\""),
        Val::Arr(a, _) => {
            if a.is_empty() {
                out.push_str("[]");
                return;
            }
            out.push('[');
            for (i, x) in a.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                newline(pretty, depth + 1, out);
                write_json(x, pretty, depth + 1, out);
            }
            newline(pretty, depth, out);
            out.push(']');
        }
        Val::Obj(o) => {
            if o.is_empty() {
                out.push_str("{}");
                return;
            }
            out.push('{');
            let mut first = true;
            for (k, x) in o.iter() {
                if !first {
                    out.push(',');
                }
                first = false;
                newline(pretty, depth + 1, out);
                out.push_str(&Value::String(k.to_string()).to_string());
                out.push(':');
                if pretty {
                    out.push(' ');
                }
                write_json(x, pretty, depth + 1, out);
            }
            newline(pretty, depth, out);
            out.push('}');
        }
    }
}

fn newline(pretty: bool, depth: usize, out: &mut String) {
    if pretty {
        out.push('\n');
        out.extend(std::iter::repeat_n(' ', depth * 2));
    }
}
