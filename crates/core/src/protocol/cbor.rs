//! CBOR (RFC 8949), as the Smithy RPC v2 CBOR protocol uses it: our own small reader and
//! writer of data items ([`Item`]: every major type 0–7, definite and indefinite lengths,
//! half/single/double floats, tags) and their conversion to and from the JSON value shape
//! services see, guided by the model's shapes: tag 1 (epoch seconds) for timestamps, byte
//! strings for blobs (base64 text in the JSON shape, as the JSON protocol has them).
//! Reading never panics: malformed input, truncation and excessive nesting are errors.

use crate::model::{ServiceModel, ShapeKind};
use base64::Engine;
use serde_json::{Map, Number, Value};

/// Deepest nesting of arrays, maps and tags read (no stack exhaustion on hostile input).
const MAX_DEPTH: usize = 128;

/// One CBOR data item.
#[derive(Debug, Clone, PartialEq)]
pub enum Item {
    /// Major type 0.
    Unsigned(u64),
    /// Major type 1: the value is `-1 - n`.
    Negative(u64),
    Bytes(Vec<u8>),
    Text(String),
    Array(Vec<Item>),
    Map(Vec<(Item, Item)>),
    Tag(u64, Box<Item>),
    Bool(bool),
    Null,
    Undefined,
    /// Other simple values (major type 7).
    Simple(u8),
    Float(f64),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CborError(pub String);

fn err<T>(m: impl Into<String>) -> Result<T, CborError> {
    Err(CborError(m.into()))
}

struct Reader<'a> {
    data: &'a [u8],
    pos: usize,
}

/// Marker for the "break" stop code (0xff) inside indefinite-length items.
enum Read {
    Item(Item),
    Break,
}

impl<'a> Reader<'a> {
    fn byte(&mut self) -> Result<u8, CborError> {
        let b = *self.data.get(self.pos).ok_or_else(|| CborError("unexpected end of CBOR input".into()))?;
        self.pos += 1;
        Ok(b)
    }

    fn take(&mut self, n: u64) -> Result<&'a [u8], CborError> {
        let n = usize::try_from(n).map_err(|_| CborError("CBOR length too large".into()))?;
        let end = self.pos.checked_add(n).filter(|e| *e <= self.data.len()).ok_or_else(|| CborError("unexpected end of CBOR input".into()))?;
        let s = &self.data[self.pos..end];
        self.pos = end;
        Ok(s)
    }

    /// The argument of a head with additional info `info` (`None`: indefinite length).
    fn argument(&mut self, info: u8) -> Result<Option<u64>, CborError> {
        let mut be = |n: u64| -> Result<u64, CborError> { Ok(self.take(n)?.iter().fold(0u64, |acc, b| (acc << 8) | u64::from(*b))) };
        match info {
            0..=23 => Ok(Some(u64::from(info))),
            24 => be(1).map(Some),
            25 => be(2).map(Some),
            26 => be(4).map(Some),
            27 => be(8).map(Some),
            31 => Ok(None),
            _ => err(format!("reserved CBOR additional information {info}")),
        }
    }

    /// A length: bounded by the bytes left (every element takes at least one byte).
    fn count(&self, n: u64) -> Result<usize, CborError> {
        let left = (self.data.len() - self.pos) as u64;
        if n > left {
            return err("unexpected end of CBOR input");
        }
        Ok(n as usize)
    }

    fn item(&mut self, depth: usize) -> Result<Item, CborError> {
        match self.read(depth)? {
            Read::Item(i) => Ok(i),
            Read::Break => err("unexpected CBOR break"),
        }
    }

    /// The chunks of an indefinite-length string of `major`, concatenated.
    fn chunks(&mut self, major: u8) -> Result<Vec<u8>, CborError> {
        let mut out = Vec::new();
        loop {
            let head = self.byte()?;
            if head == 0xff {
                return Ok(out);
            }
            if head >> 5 != major {
                return err("CBOR indefinite-length string chunk of the wrong type");
            }
            let Some(n) = self.argument(head & 0x1f)? else { return err("nested indefinite-length CBOR string") };
            out.extend_from_slice(self.take(n)?);
        }
    }

    fn read(&mut self, depth: usize) -> Result<Read, CborError> {
        if depth > MAX_DEPTH {
            return err("CBOR input nested too deeply");
        }
        let head = self.byte()?;
        let (major, info) = (head >> 5, head & 0x1f);
        if major == 7 {
            return Ok(Read::Item(match info {
                20 => Item::Bool(false),
                21 => Item::Bool(true),
                22 => Item::Null,
                23 => Item::Undefined,
                0..=19 => Item::Simple(info),
                24 => match self.byte()? {
                    v if v < 32 => return err("invalid CBOR simple value encoding"),
                    v => Item::Simple(v),
                },
                25 => Item::Float(f16_to_f64(self.argument(25)?.unwrap_or(0) as u16)),
                26 => Item::Float(f64::from(f32::from_bits(self.argument(26)?.unwrap_or(0) as u32))),
                27 => Item::Float(f64::from_bits(self.argument(27)?.unwrap_or(0))),
                31 => return Ok(Read::Break),
                _ => return err(format!("reserved CBOR additional information {info}")),
            }));
        }
        let arg = self.argument(info)?;
        let item = match (major, arg) {
            (0, Some(n)) => Item::Unsigned(n),
            (1, Some(n)) => Item::Negative(n),
            (2, Some(n)) => Item::Bytes(self.take(n)?.to_vec()),
            (2, None) => Item::Bytes(self.chunks(2)?),
            (3, n) => {
                let bytes = match n {
                    Some(n) => self.take(n)?.to_vec(),
                    None => self.chunks(3)?,
                };
                Item::Text(String::from_utf8(bytes).map_err(|_| CborError("CBOR text string is not valid UTF-8".into()))?)
            }
            (4, Some(n)) => {
                let n = self.count(n)?;
                let mut items = Vec::with_capacity(n);
                for _ in 0..n {
                    items.push(self.item(depth + 1)?);
                }
                Item::Array(items)
            }
            (4, None) => {
                let mut items = Vec::new();
                while let Read::Item(i) = self.read(depth + 1)? {
                    items.push(i);
                }
                Item::Array(items)
            }
            (5, Some(n)) => {
                let n = self.count(n)?;
                let mut pairs = Vec::with_capacity(n);
                for _ in 0..n {
                    let k = self.item(depth + 1)?;
                    pairs.push((k, self.item(depth + 1)?));
                }
                Item::Map(pairs)
            }
            (5, None) => {
                let mut pairs = Vec::new();
                while let Read::Item(k) = self.read(depth + 1)? {
                    pairs.push((k, self.item(depth + 1)?));
                }
                Item::Map(pairs)
            }
            (6, Some(tag)) => Item::Tag(tag, Box::new(self.item(depth + 1)?)),
            _ => return err("invalid indefinite length in CBOR"),
        };
        Ok(Read::Item(item))
    }
}

fn f16_to_f64(h: u16) -> f64 {
    let exp = (h >> 10) & 0x1f;
    let mant = f64::from(h & 0x3ff);
    let v = match exp {
        0 => mant * 2f64.powi(-24),
        31 if mant == 0.0 => f64::INFINITY,
        31 => f64::NAN,
        e => (mant + 1024.0) * 2f64.powi(i32::from(e) - 25),
    };
    if h & 0x8000 != 0 {
        -v
    } else {
        v
    }
}

/// Reads exactly one data item from `data` (trailing bytes are an error).
pub fn decode_item(data: &[u8]) -> Result<Item, CborError> {
    let mut r = Reader { data, pos: 0 };
    let item = r.item(0)?;
    if r.pos != data.len() {
        return err("trailing bytes after the CBOR data item");
    }
    Ok(item)
}

fn head(out: &mut Vec<u8>, major: u8, n: u64) {
    let m = major << 5;
    if n < 24 {
        out.push(m | n as u8);
    } else if n <= 0xff {
        out.extend_from_slice(&[m | 24, n as u8]);
    } else if n <= 0xffff {
        out.push(m | 25);
        out.extend_from_slice(&(n as u16).to_be_bytes());
    } else if n <= 0xffff_ffff {
        out.push(m | 26);
        out.extend_from_slice(&(n as u32).to_be_bytes());
    } else {
        out.push(m | 27);
        out.extend_from_slice(&n.to_be_bytes());
    }
}

/// Writes `item` with definite lengths and the shortest heads; floats as doubles.
pub fn encode_item(item: &Item, out: &mut Vec<u8>) {
    match item {
        Item::Unsigned(n) => head(out, 0, *n),
        Item::Negative(n) => head(out, 1, *n),
        Item::Bytes(b) => {
            head(out, 2, b.len() as u64);
            out.extend_from_slice(b);
        }
        Item::Text(s) => {
            head(out, 3, s.len() as u64);
            out.extend_from_slice(s.as_bytes());
        }
        Item::Array(items) => {
            head(out, 4, items.len() as u64);
            items.iter().for_each(|i| encode_item(i, out));
        }
        Item::Map(pairs) => {
            head(out, 5, pairs.len() as u64);
            for (k, v) in pairs {
                encode_item(k, out);
                encode_item(v, out);
            }
        }
        Item::Tag(t, i) => {
            head(out, 6, *t);
            encode_item(i, out);
        }
        Item::Bool(false) => out.push(0xf4),
        Item::Bool(true) => out.push(0xf5),
        Item::Null => out.push(0xf6),
        Item::Undefined => out.push(0xf7),
        Item::Simple(v) if *v < 24 => out.push(0xe0 | v),
        Item::Simple(v) => out.extend_from_slice(&[0xf8, *v]),
        Item::Float(f) => {
            out.push(0xfb);
            out.extend_from_slice(&f.to_bits().to_be_bytes());
        }
    }
}

fn number(f: f64) -> Value {
    match Number::from_f64(f) {
        Some(n) => Value::Number(n),
        // JSON has no NaN or infinities: services see the text and reject it as a value.
        None if f.is_nan() => Value::String("NaN".into()),
        None if f > 0.0 => Value::String("Infinity".into()),
        None => Value::String("-Infinity".into()),
    }
}

/// The JSON shape of `item` read as a value of `shape` (`None`: no model guidance).
pub fn to_value(model: &ServiceModel, shape: Option<&str>, item: Item) -> Result<Value, CborError> {
    let kind = shape.and_then(|s| model.shape(s)).map(|s| &s.kind);
    Ok(match item {
        Item::Unsigned(n) => Value::from(n),
        Item::Negative(n) => match i64::try_from(n) {
            Ok(v) => Value::from(-1 - v),
            Err(_) => number(-1.0 - n as f64),
        },
        Item::Float(f) => number(f),
        Item::Bytes(b) => Value::String(base64::engine::general_purpose::STANDARD.encode(b)),
        Item::Text(s) => Value::String(s),
        Item::Bool(b) => Value::Bool(b),
        Item::Null | Item::Undefined => Value::Null,
        Item::Simple(v) => return err(format!("unexpected CBOR simple value {v}")),
        // Tag 1: epoch-seconds timestamps; other tags carry their content as is.
        Item::Tag(_, inner) => to_value(model, shape, *inner)?,
        Item::Array(items) => {
            let member = match kind {
                Some(ShapeKind::List { member }) => Some(member.shape.as_str()),
                _ => None,
            };
            Value::Array(items.into_iter().map(|i| to_value(model, member, i)).collect::<Result<_, _>>()?)
        }
        Item::Map(pairs) => {
            let mut out = Map::new();
            for (k, v) in pairs {
                let Item::Text(k) = k else { return err("CBOR map key is not a text string") };
                let child = match kind {
                    Some(ShapeKind::Structure { members, .. }) => members.iter().find(|m| m.name == k).map(|m| m.shape.as_str()),
                    Some(ShapeKind::Map { value, .. }) => Some(value.shape.as_str()),
                    _ => None,
                };
                let v = to_value(model, child, v)?;
                // Structures: a null member is an absent member.
                if v.is_null() && matches!(kind, Some(ShapeKind::Structure { .. })) {
                    continue;
                }
                out.insert(k, v);
            }
            Value::Object(out)
        }
    })
}

/// The CBOR item for `value` written as a value of `shape`.
pub fn from_value(model: &ServiceModel, shape: Option<&str>, value: &Value) -> Item {
    let kind = shape.and_then(|s| model.shape(s)).map(|s| &s.kind);
    match (kind, value) {
        (_, Value::Null) => Item::Null,
        (Some(ShapeKind::Timestamp), Value::Number(n)) => Item::Tag(1, Box::new(num_item(n, false))),
        (Some(ShapeKind::Timestamp), Value::String(s)) => match crate::time::parse_iso8601(s) {
            Some(ms) => Item::Tag(1, Box::new(Item::Float(ms as f64 / 1000.0))),
            None => Item::Text(s.clone()),
        },
        (Some(ShapeKind::Blob), Value::String(s)) => match base64::engine::general_purpose::STANDARD.decode(s) {
            Ok(b) => Item::Bytes(b),
            Err(_) => Item::Bytes(s.as_bytes().to_vec()),
        },
        (Some(ShapeKind::Float), Value::Number(n)) => Item::Float(n.as_f64().unwrap_or(0.0)),
        (_, Value::Number(n)) => num_item(n, true),
        (_, Value::Bool(b)) => Item::Bool(*b),
        (_, Value::String(s)) => Item::Text(s.clone()),
        (_, Value::Array(items)) => {
            let member = match kind {
                Some(ShapeKind::List { member }) => Some(member.shape.as_str()),
                _ => None,
            };
            Item::Array(items.iter().map(|i| from_value(model, member, i)).collect())
        }
        (_, Value::Object(m)) => Item::Map(
            m.iter()
                .filter(|(_, v)| !v.is_null())
                .map(|(k, v)| {
                    let child = match kind {
                        Some(ShapeKind::Structure { members, .. }) => members.iter().find(|m| &m.name == k).map(|m| m.shape.as_str()),
                        Some(ShapeKind::Map { value, .. }) => Some(value.shape.as_str()),
                        _ => None,
                    };
                    (Item::Text(k.clone()), from_value(model, child, v))
                })
                .collect(),
        ),
    }
}

fn num_item(n: &Number, ints: bool) -> Item {
    if let Some(u) = n.as_u64() {
        return Item::Unsigned(u);
    }
    if let Some(i) = n.as_i64() {
        return Item::Negative((-1 - i) as u64);
    }
    let f = n.as_f64().unwrap_or(0.0);
    if ints && f.fract() == 0.0 && f.abs() < 9.0e15 {
        return if f >= 0.0 { Item::Unsigned(f as u64) } else { Item::Negative((-1.0 - f) as u64) };
    }
    Item::Float(f)
}

#[cfg(test)]
#[path = "cbor_tests.rs"]
mod tests;
