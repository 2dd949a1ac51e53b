//! The intrinsic functions themselves, applied to evaluated arguments, with AWS's input
//! validation (the "Input validation" lists of the intrinsic functions page).
//! <https://docs.aws.amazon.com/step-functions/latest/dg/intrinsic-functions.html>

use super::java_random::JavaRandom;
use super::parser::{Arg, Call, Piece};
use crate::jsonpath::eval::json_eq;
use crate::limits::{payload_size, MAX_PAYLOAD_BYTES};
use crate::AslError;
use base64::Engine;
use serde_json::{Map, Value};

/// AWS: Base64Encode / Base64Decode / Hash accept at most 10,000 characters.
pub const MAX_STRING_CHARS: usize = 10_000;
/// AWS: "The newly generated array can't contain more than 1000 items."
pub const MAX_RANGE_ITEMS: usize = 1000;
/// The algorithms `States.Hash` accepts.
pub const HASH_ALGORITHMS: [&str; 5] = ["MD5", "SHA-1", "SHA-256", "SHA-384", "SHA-512"];

/// (minimum, maximum) argument counts; `None` when the function is unknown.
pub fn arity(name: &str) -> Option<(usize, Option<usize>)> {
    Some(match name {
        "States.Format" => (1, None),
        "States.Array" => (0, None),
        "States.UUID" => (0, Some(0)),
        "States.StringToJson" | "States.JsonToString" | "States.ArrayLength" | "States.ArrayUnique"
        | "States.Base64Encode" | "States.Base64Decode" => (1, Some(1)),
        "States.ArrayPartition" | "States.ArrayContains" | "States.ArrayGetItem" | "States.Hash"
        | "States.MathAdd" | "States.StringSplit" => (2, Some(2)),
        "States.ArrayRange" | "States.JsonMerge" => (3, Some(3)),
        "States.MathRandom" => (2, Some(3)),
        _ => return None,
    })
}

pub fn arity_message(name: &str, min: usize, max: Option<usize>, got: usize) -> String {
    let expected = match max {
        Some(max) if max == min => format!("{min}"),
        Some(max) => format!("{min} to {max}"),
        None => format!("at least {min}"),
    };
    let plural = if max == Some(1) && min == 1 { "argument" } else { "arguments" };
    format!("The intrinsic function {name} takes {expected} {plural}, but {got} were provided")
}

fn fail(name: &str, problem: impl std::fmt::Display) -> AslError {
    AslError::intrinsic_failure(format!("Invalid arguments in {name}: {problem}"))
}

pub fn apply(call: &Call, args: Vec<Value>) -> Result<Value, AslError> {
    let name = call.name.as_str();
    match name {
        "States.Format" => format(call, &args),
        "States.StringToJson" => {
            let text = string_arg(name, &args[0], "the argument")?;
            // Recorded from AWS: an empty or blank string parses to null.
            if text.trim().is_empty() {
                return Ok(Value::Null);
            }
            let mut parsed: Value =
                serde_json::from_str(text).map_err(|e| fail(name, format!("the string is not valid JSON ({e})")))?;
            negative_zero_to_zero(&mut parsed);
            Ok(parsed)
        }
        "States.JsonToString" => Ok(Value::String(serde_json::to_string(&args[0]).unwrap_or_default())),
        "States.Array" => Ok(Value::Array(args)),
        "States.ArrayPartition" => {
            let items = array_arg(name, &args[0])?;
            let size = integer_arg(name, &args[1], "the chunk size")?;
            if size <= 0 {
                return Err(fail(name, "the chunk size must be a positive, non-zero integer"));
            }
            let chunks = items.chunks(size as usize).map(|c| Value::Array(c.to_vec())).collect();
            Ok(Value::Array(chunks))
        }
        "States.ArrayContains" => {
            let items = array_arg(name, &args[0])?;
            Ok(Value::Bool(items.iter().any(|item| json_eq(item, &args[1]))))
        }
        "States.ArrayRange" => array_range(name, &args),
        "States.ArrayGetItem" => {
            let items = array_arg(name, &args[0])?;
            let index = integer_arg(name, &args[1], "the index")?;
            usize::try_from(index)
                .ok()
                .and_then(|i| items.get(i))
                .cloned()
                .ok_or_else(|| fail(name, format!("the index {index} is out of bounds for an array of {} items", items.len())))
        }
        "States.ArrayLength" => Ok(Value::from(array_arg(name, &args[0])?.len())),
        "States.ArrayUnique" => {
            let items = array_arg(name, &args[0])?;
            let mut unique: Vec<Value> = Vec::new();
            for item in items {
                if !unique.iter().any(|seen| json_eq(seen, item)) {
                    unique.push(item.clone());
                }
            }
            Ok(Value::Array(unique))
        }
        "States.Base64Encode" => {
            let text = limited_string_arg(name, &args[0])?;
            Ok(Value::String(base64::engine::general_purpose::STANDARD.encode(text.as_bytes())))
        }
        "States.Base64Decode" => {
            let text = limited_string_arg(name, &args[0])?;
            let bytes = base64::engine::general_purpose::STANDARD
                .decode(text.as_bytes())
                .map_err(|_| fail(name, "the string is not valid Base64"))?;
            String::from_utf8(bytes).map(Value::String).map_err(|_| fail(name, "the decoded data is not UTF-8 text"))
        }
        "States.Hash" => hash(name, &args),
        "States.JsonMerge" => {
            let (Value::Object(first), Value::Object(second)) = (&args[0], &args[1]) else {
                return Err(fail(name, "the first two arguments must be JSON objects"));
            };
            match &args[2] {
                Value::Bool(false) => {}
                Value::Bool(true) => {
                    return Err(fail(
                        name,
                        "Step Functions only supports the shallow merging mode; the third argument must be false",
                    ))
                }
                _ => return Err(fail(name, "the third argument must be the boolean false")),
            }
            let mut merged: Map<String, Value> = first.clone();
            for (k, v) in second {
                merged.insert(k.clone(), v.clone());
            }
            Ok(Value::Object(merged))
        }
        "States.MathRandom" => math_random(name, &args),
        "States.MathAdd" => {
            let a = integer_arg(name, &args[0], "the first argument")?;
            let b = integer_arg(name, &args[1], "the second argument")?;
            a.checked_add(b).map(Value::from).ok_or_else(|| fail(name, "the sum overflows"))
        }
        "States.StringSplit" => {
            let text = string_arg(name, &args[0], "the first argument")?;
            let delimiters = string_arg(name, &args[1], "the delimiter")?;
            let parts = text
                .split(|c: char| delimiters.contains(c))
                .filter(|part| !part.is_empty())
                .map(|part| Value::String(part.to_string()))
                .collect();
            Ok(Value::Array(parts))
        }
        "States.UUID" => Ok(Value::String(uuid::Uuid::new_v4().to_string())),
        other => Err(AslError::intrinsic_failure(format!("Unknown intrinsic function '{other}'"))),
    }
}

/// A JVM parser reads `-0` as the integer 0 (recorded from AWS); serde_json reads it as -0.0.
fn negative_zero_to_zero(value: &mut Value) {
    match value {
        Value::Number(n) if n.as_f64() == Some(0.0) && n.as_f64().is_some_and(|f| f.is_sign_negative()) => {
            *value = Value::from(0)
        }
        Value::Array(items) => items.iter_mut().for_each(negative_zero_to_zero),
        Value::Object(map) => map.values_mut().for_each(negative_zero_to_zero),
        _ => {}
    }
}

fn string_arg<'a>(name: &str, value: &'a Value, what: &str) -> Result<&'a str, AslError> {
    value.as_str().ok_or_else(|| fail(name, format!("{what} must be a string")))
}

fn limited_string_arg<'a>(name: &str, value: &'a Value) -> Result<&'a str, AslError> {
    let text = string_arg(name, value, "the input")?;
    let chars = text.chars().count();
    if chars > MAX_STRING_CHARS {
        return Err(fail(
            name,
            format!("the input string has {chars} characters, more than the maximum of {MAX_STRING_CHARS}"),
        ));
    }
    Ok(text)
}

fn array_arg<'a>(name: &str, value: &'a Value) -> Result<&'a Vec<Value>, AslError> {
    let items = value.as_array().ok_or_else(|| fail(name, "the first argument must be an array"))?;
    if payload_size(value) > MAX_PAYLOAD_BYTES {
        return Err(fail(name, "the input array exceeds the payload size limit of 256 KiB"));
    }
    Ok(items)
}

/// An integer argument; a non-integer number is rounded to the nearest integer, half up, as
/// Java's `Math.round` (AWS: "Step Functions will round it off to the nearest integer").
fn integer_arg(name: &str, value: &Value, what: &str) -> Result<i64, AslError> {
    if let Some(i) = value.as_i64() {
        return Ok(i);
    }
    match value.as_f64() {
        Some(f) if f.is_finite() && f.abs() < 9.0e18 => Ok((f + 0.5).floor() as i64),
        _ => Err(fail(name, format!("{what} must be an integer"))),
    }
}

fn array_range(name: &str, args: &[Value]) -> Result<Value, AslError> {
    let start = integer_arg(name, &args[0], "the first argument")?;
    let end = integer_arg(name, &args[1], "the second argument")?;
    let step = integer_arg(name, &args[2], "the third argument")?;
    if step == 0 {
        return Err(fail(name, "the step (third argument) must be a non-zero integer"));
    }
    let count = if (step > 0 && start > end) || (step < 0 && start < end) {
        0
    } else {
        (end.abs_diff(start) / step.unsigned_abs()) + 1
    };
    if count > MAX_RANGE_ITEMS as u64 {
        return Err(fail(name, format!("the array would contain {count} items, more than the maximum of {MAX_RANGE_ITEMS}")));
    }
    Ok(Value::Array((0..count as i64).map(|i| Value::from(start + i * step)).collect()))
}

fn hash(name: &str, args: &[Value]) -> Result<Value, AslError> {
    use md5::Digest;
    let data = limited_string_arg(name, &args[0])?;
    let algorithm = string_arg(name, &args[1], "the algorithm")?;
    let digest: Vec<u8> = match algorithm {
        "MD5" => md5::Md5::digest(data.as_bytes()).to_vec(),
        "SHA-1" => sha1::Sha1::digest(data.as_bytes()).to_vec(),
        "SHA-256" => sha2::Sha256::digest(data.as_bytes()).to_vec(),
        "SHA-384" => sha2::Sha384::digest(data.as_bytes()).to_vec(),
        "SHA-512" => sha2::Sha512::digest(data.as_bytes()).to_vec(),
        other => {
            return Err(fail(
                name,
                format!("the algorithm '{other}' is not supported; use one of {}", HASH_ALGORITHMS.join(", ")),
            ))
        }
    };
    Ok(Value::String(digest.iter().map(|b| format!("{b:02x}")).collect()))
}

/// A random integer from the start (inclusive) to the end (exclusive); with a seed, drawn as a
/// JVM's `new Random(seed)` would.
fn math_random(name: &str, args: &[Value]) -> Result<Value, AslError> {
    let start = integer_arg(name, &args[0], "the start number")?;
    let end = integer_arg(name, &args[1], "the end number")?;
    let in_int = |v: i64| i32::try_from(v).is_ok();
    if !in_int(start) || !in_int(end) {
        return Err(fail(name, "the start and end numbers must be between -2147483648 and 2147483647"));
    }
    if end <= start {
        return Err(fail(name, "the end number must be greater than the start number"));
    }
    let Ok(bound) = i32::try_from(end - start) else {
        return Err(fail(name, "the range between the start and end numbers is too large"));
    };
    let offset = match args.get(2) {
        Some(seed) => {
            let seed = integer_arg(name, seed, "the seed")?;
            JavaRandom::new(seed).next_int(bound)
        }
        None => rand::Rng::gen_range(&mut rand::thread_rng(), 0..bound),
    };
    Ok(Value::from(start + i64::from(offset)))
}

fn format(call: &Call, args: &[Value]) -> Result<Value, AslError> {
    let name = call.name.as_str();
    let pieces = match &call.args[0] {
        Arg::Str(_, pieces) => pieces.clone(),
        _ => {
            let template = string_arg(name, &args[0], "the first argument")?;
            split_template(template)
        }
    };
    let placeholders = pieces.iter().filter(|p| matches!(p, Piece::Placeholder)).count();
    let values = &args[1..];
    if placeholders != values.len() {
        return Err(fail(
            name,
            format!("the number of arguments ({}) does not match the number of '{{}}' placeholders ({placeholders})", values.len()),
        ));
    }
    let mut out = String::new();
    let mut values = values.iter();
    for piece in pieces {
        match piece {
            Piece::Text(text) => out.push_str(&text),
            Piece::Placeholder => {
                if let Some(value) = values.next() {
                    render_format_value(&mut out, value);
                }
            }
        }
    }
    Ok(Value::String(out))
}

fn split_template(template: &str) -> Vec<Piece> {
    let mut pieces = Vec::new();
    let mut rest = template;
    while let Some(at) = rest.find("{}") {
        if at > 0 {
            pieces.push(Piece::Text(rest[..at].to_string()));
        }
        pieces.push(Piece::Placeholder);
        rest = &rest[at + 2..];
    }
    if !rest.is_empty() {
        pieces.push(Piece::Text(rest.to_string()));
    }
    pieces
}

/// How a value reads inside `States.Format`'s output: strings as-is, other scalars as JSON,
/// arrays `[a, b]` and objects `{k=v, k2=v2}` (the JVM's collection rendering AWS shows).
fn render_format_value(out: &mut String, value: &Value) {
    match value {
        Value::String(s) => out.push_str(s),
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                render_format_value(out, item);
            }
            out.push(']');
        }
        Value::Object(map) => {
            out.push('{');
            for (i, (k, v)) in map.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                out.push_str(k);
                out.push('=');
                render_format_value(out, v);
            }
            out.push('}');
        }
        other => out.push_str(&other.to_string()),
    }
}
