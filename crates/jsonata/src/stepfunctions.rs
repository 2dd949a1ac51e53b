//! Step Functions' JSONata extras (AWS: "Transforming data with JSONata in Step
//! Functions"): `$partition(array, size)`, `$range(start, end, step)`,
//! `$hash(data, algorithm)`, `$random([seed])`, `$uuid()`, `$parse(jsonString)` — the
//! JSONata counterparts of the `States.Array*`, `States.Hash`, `States.MathRandom`,
//! `States.UUID` and `States.StringToJson` intrinsics — and `$eval`, which Step Functions
//! does not offer (`$parse` replaces it).

use rand::{Rng, SeedableRng};
use serde_json::Value;

use crate::{Bindings, Expr, JsonataError};

type Out = Result<Option<Value>, JsonataError>;

fn fail(name: &str, msg: impl Into<String>) -> JsonataError {
    JsonataError::new("D3137", None, format!("${name}: {}", msg.into()))
}

fn number(v: &Option<Value>, name: &str, what: &str) -> Result<f64, JsonataError> {
    v.as_ref().and_then(Value::as_f64).ok_or_else(|| fail(name, format!("{what} must be a number")))
}

fn integer(v: &Option<Value>, name: &str, what: &str) -> Result<i64, JsonataError> {
    let n = number(v, name, what)?;
    if n.fract() != 0.0 {
        return Err(fail(name, format!("{what} must be an integer")));
    }
    Ok(n as i64)
}

fn num(n: i64) -> Value {
    Value::from(n)
}

/// `$partition(array, size)`: chunks of `size` items, the last one possibly shorter.
fn partition(args: &[Option<Value>]) -> Out {
    let items = match args.first().cloned().flatten() {
        None => return Ok(None),
        Some(Value::Array(a)) => a,
        Some(v) => vec![v],
    };
    let size = integer(&args.get(1).cloned().flatten(), "partition", "The chunk size")?;
    if size <= 0 {
        return Err(fail("partition", "The chunk size must be a positive integer"));
    }
    Ok(Some(Value::Array(items.chunks(size as usize).map(|c| Value::Array(c.to_vec())).collect())))
}

/// `$range(start, end, step)`: from start to end inclusive by step (which may be negative).
fn range(args: &[Option<Value>]) -> Out {
    let arg = |i: usize| args.get(i).cloned().flatten();
    let start = integer(&arg(0), "range", "The start")?;
    let end = integer(&arg(1), "range", "The end")?;
    let step = match arg(2) {
        None => 1,
        some => integer(&some, "range", "The step")?,
    };
    if step == 0 {
        return Err(fail("range", "The step must not be 0"));
    }
    let count = if (step > 0 && start > end) || (step < 0 && start < end) { 0 } else { (end - start) / step + 1 };
    if count > 1000 {
        return Err(fail("range", "The range must not have more than 1000 items"));
    }
    Ok(Some(Value::Array((0..count).map(|i| num(start + i * step)).collect())))
}

/// `$hash(data, algorithm)`: hex digest of the UTF-8 string.
fn hash(args: &[Option<Value>]) -> Out {
    use md5::Digest;
    let data = match args.first().cloned().flatten() {
        None => return Ok(None),
        Some(Value::String(s)) => s,
        Some(_) => return Err(fail("hash", "The data to hash must be a string")),
    };
    let algorithm = match args.get(1).cloned().flatten() {
        Some(Value::String(a)) => a,
        _ => "SHA-256".to_string(),
    };
    let hex = |bytes: &[u8]| bytes.iter().map(|b| format!("{b:02x}")).collect::<String>();
    let digest = match algorithm.as_str() {
        "MD5" => hex(&md5::Md5::digest(data.as_bytes())),
        "SHA-1" => hex(&sha1::Sha1::digest(data.as_bytes())),
        "SHA-256" => hex(&sha2::Sha256::digest(data.as_bytes())),
        "SHA-384" => hex(&sha2::Sha384::digest(data.as_bytes())),
        "SHA-512" => hex(&sha2::Sha512::digest(data.as_bytes())),
        other => {
            return Err(fail(
                "hash",
                format!("The hash algorithm {other:?} is not supported; use MD5, SHA-1, SHA-256, SHA-384 or SHA-512"),
            ))
        }
    };
    Ok(Some(Value::String(digest)))
}

/// `$random([seed])`: a number in [0, 1); the same seed always gives the same number.
fn random(args: &[Option<Value>]) -> Out {
    let n: f64 = match args.first().cloned().flatten() {
        None => rand::random(),
        Some(v) => {
            let seed = v.as_f64().ok_or_else(|| fail("random", "The seed must be a number"))?;
            rand::rngs::StdRng::seed_from_u64(seed.to_bits()).gen()
        }
    };
    Ok(Some(serde_json::Number::from_f64(n).map(Value::Number).unwrap_or(Value::from(0))))
}

fn uuid(_: &[Option<Value>]) -> Out {
    Ok(Some(Value::String(uuid::Uuid::new_v4().to_string())))
}

/// `$parse(jsonString)`: the JSON value the string holds.
fn parse_json(args: &[Option<Value>]) -> Out {
    match args.first().cloned().flatten() {
        None => Ok(None),
        Some(Value::String(s)) => serde_json::from_str(&s).map(Some).map_err(|e| fail("parse", format!("Invalid JSON string: {e}"))),
        Some(_) => Err(fail("parse", "The argument must be a string")),
    }
}

/// The expression inside a Step Functions JSONata string: `"{% … %}"` exactly (no
/// whitespace before `{%` or after `%}`), else `None` (a literal string).
pub fn expression_text(s: &str) -> Option<&str> {
    s.strip_prefix("{%")?.strip_suffix("%}")
}

/// Parses an expression as Step Functions does: JSONata 2.0.6 (no `?:`/`??`).
pub fn parse(text: &str) -> Result<Expr, JsonataError> {
    Expr::parse_2_0(text)
}

/// Adds Step Functions' functions to `bindings` (and withdraws `$eval`).
pub fn register(bindings: &mut Bindings) {
    bindings
        .function("partition", partition)
        .function("range", range)
        .function("hash", hash)
        .function("random", random)
        .function("uuid", uuid)
        .function("parse", parse_json)
        .function("eval", |_| {
            Err(JsonataError::new("T1006", None, "The $eval function is not supported by Step Functions; use $parse"))
        });
}
