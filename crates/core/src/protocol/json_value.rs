//! Request bodies to `serde_json::Value`: the same value `serde_json::from_slice` builds,
//! for the same inputs (anything serde_json rejects is rejected; see the differential tests
//! below), with less work on what AWS request bodies are made of: strings, often with many
//! escapes (a message body that is itself JSON escapes every quote).
//!
//! The body is checked as UTF-8 once. A string is decoded in one pass straight into its
//! `String` (serde_json grows a scratch buffer and copies it out again), runs of plain
//! characters found eight bytes at a time. Numbers are handed to serde_json itself, so they
//! parse exactly as before. Errors carry no detail: the codec answers every malformed body
//! with one fixed message.

use serde_json::{Map, Value};

/// serde_json's default nesting limit: 127 nested arrays or objects parse, 128 do not.
const MAX_DEPTH: usize = 128;

/// The body is not JSON (or not JSON that serde_json accepts).
#[derive(Debug)]
pub struct Invalid;

/// Parses one JSON value that fills `bytes` (surrounding whitespace allowed).
pub fn parse(bytes: &[u8]) -> Result<Value, Invalid> {
    let text = std::str::from_utf8(bytes).map_err(|_| Invalid)?;
    let mut p = Parser { text, s: text.as_bytes(), i: 0 };
    let v = p.value(0)?;
    p.skip_ws();
    if p.i != p.s.len() {
        return Err(Invalid);
    }
    Ok(v)
}

struct Parser<'a> {
    text: &'a str,
    s: &'a [u8],
    i: usize,
}

impl Parser<'_> {
    fn skip_ws(&mut self) {
        while let Some(b' ' | b'\n' | b'\r' | b'\t') = self.s.get(self.i) {
            self.i += 1;
        }
    }

    fn peek(&self) -> Option<u8> {
        self.s.get(self.i).copied()
    }

    /// A value; `depth` arrays or objects are open around it.
    fn value(&mut self, depth: usize) -> Result<Value, Invalid> {
        self.skip_ws();
        match self.peek().ok_or(Invalid)? {
            b'{' => self.object(depth + 1),
            b'[' => self.array(depth + 1),
            b'"' => self.string().map(Value::String),
            b't' => self.literal("true", Value::Bool(true)),
            b'f' => self.literal("false", Value::Bool(false)),
            b'n' => self.literal("null", Value::Null),
            b'-' | b'0'..=b'9' => self.number(),
            _ => Err(Invalid),
        }
    }

    fn literal(&mut self, word: &str, v: Value) -> Result<Value, Invalid> {
        if !self.s[self.i..].starts_with(word.as_bytes()) {
            return Err(Invalid);
        }
        self.i += word.len();
        Ok(v)
    }

    /// The longest run of number characters, parsed by serde_json (which rejects what is
    /// not a number, and decides integer or float exactly as it always does).
    fn number(&mut self) -> Result<Value, Invalid> {
        let start = self.i;
        while let Some(b'0'..=b'9' | b'-' | b'+' | b'.' | b'e' | b'E') = self.s.get(self.i) {
            self.i += 1;
        }
        let token = self.text.get(start..self.i).ok_or(Invalid)?;
        match serde_json::from_str::<Value>(token) {
            Ok(v @ Value::Number(_)) => Ok(v),
            _ => Err(Invalid),
        }
    }

    fn object(&mut self, depth: usize) -> Result<Value, Invalid> {
        if depth >= MAX_DEPTH {
            return Err(Invalid);
        }
        self.i += 1; // '{'
        let mut map = Map::new();
        self.skip_ws();
        if self.peek() == Some(b'}') {
            self.i += 1;
            return Ok(Value::Object(map));
        }
        loop {
            self.skip_ws();
            if self.peek() != Some(b'"') {
                return Err(Invalid);
            }
            let key = self.string()?;
            self.skip_ws();
            if self.peek() != Some(b':') {
                return Err(Invalid);
            }
            self.i += 1;
            let v = self.value(depth)?;
            // A repeated key keeps its first position and takes the last value, as in serde_json.
            map.insert(key, v);
            self.skip_ws();
            match self.peek() {
                Some(b',') => self.i += 1,
                Some(b'}') => {
                    self.i += 1;
                    return Ok(Value::Object(map));
                }
                _ => return Err(Invalid),
            }
        }
    }

    fn array(&mut self, depth: usize) -> Result<Value, Invalid> {
        if depth >= MAX_DEPTH {
            return Err(Invalid);
        }
        self.i += 1; // '['
        let mut items = Vec::new();
        self.skip_ws();
        if self.peek() == Some(b']') {
            self.i += 1;
            return Ok(Value::Array(items));
        }
        loop {
            items.push(self.value(depth)?);
            self.skip_ws();
            match self.peek() {
                Some(b',') => self.i += 1,
                Some(b']') => {
                    self.i += 1;
                    return Ok(Value::Array(items));
                }
                _ => return Err(Invalid),
            }
        }
    }

    /// A string, at its opening quote. One pass: runs of plain characters are found eight
    /// bytes at a time and copied whole; the output is created at the first escape, sized
    /// from what is left of the body (at most a few KiB; it grows past that if needed).
    fn string(&mut self) -> Result<String, Invalid> {
        let s = self.s;
        let start = self.i + 1;
        let mut i = start;
        let mut run = start; // first byte not yet copied to `out`
        let mut out: Option<String> = None;
        loop {
            i = skip_plain(s, i);
            match s.get(i) {
                Some(b'"') => {
                    // Quote and backslash are ASCII: every run ends on a character boundary.
                    let tail = self.text.get(run..i).ok_or(Invalid)?;
                    self.i = i + 1;
                    return Ok(match out {
                        None => tail.to_owned(),
                        Some(mut o) => {
                            o.push_str(tail);
                            o
                        }
                    });
                }
                Some(b'\\') => {
                    let o = out.get_or_insert_with(|| String::with_capacity((s.len() - start).min(4096)));
                    o.push_str(self.text.get(run..i).ok_or(Invalid)?);
                    i = unescape_one(s, i, o)?;
                    run = i;
                }
                // End of input, or a control character (they must be escaped).
                _ => return Err(Invalid),
            }
        }
    }
}

/// The first index from `i` on that holds a quote, a backslash or a control character (or
/// the end): eight bytes per step, as serde_json does (a zero-byte test on each mask; the
/// lowest flagged byte is always a real hit).
fn skip_plain(s: &[u8], mut i: usize) -> usize {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGHS: u64 = 0x8080_8080_8080_8080;
    while let Some(chunk) = s.get(i..i + 8) {
        let mut word = [0u8; 8];
        word.copy_from_slice(chunk);
        let w = u64::from_le_bytes(word);
        let control = w.wrapping_sub(ONES * 0x20) & !w;
        let q = w ^ (ONES * u64::from(b'"'));
        let quote = q.wrapping_sub(ONES) & !q;
        let b = w ^ (ONES * u64::from(b'\\'));
        let backslash = b.wrapping_sub(ONES) & !b;
        let hits = (control | quote | backslash) & HIGHS;
        if hits != 0 {
            return i + (hits.trailing_zeros() / 8) as usize;
        }
        i += 8;
    }
    while let Some(&c) = s.get(i) {
        if c == b'"' || c == b'\\' || c < 0x20 {
            break;
        }
        i += 1;
    }
    i
}

/// Decodes the escape at `at` (a backslash) into `out`; returns the index after it.
fn unescape_one(s: &[u8], at: usize, out: &mut String) -> Result<usize, Invalid> {
    let esc = *s.get(at + 1).ok_or(Invalid)?;
    let mut next = at + 2;
    let c = match esc {
        b'"' => '"',
        b'\\' => '\\',
        b'/' => '/',
        b'b' => '\u{8}',
        b'f' => '\u{c}',
        b'n' => '\n',
        b'r' => '\r',
        b't' => '\t',
        b'u' => {
            let unit = hex4(s, next)?;
            next += 4;
            match unit {
                0xD800..=0xDBFF => {
                    // A leading surrogate must be followed by an escaped trailing one.
                    if s.get(next..next + 2) != Some(b"\\u") {
                        return Err(Invalid);
                    }
                    let low = hex4(s, next + 2)?;
                    if !(0xDC00..=0xDFFF).contains(&low) {
                        return Err(Invalid);
                    }
                    next += 6;
                    let code = 0x10000 + ((u32::from(unit) - 0xD800) << 10) + (u32::from(low) - 0xDC00);
                    char::from_u32(code).ok_or(Invalid)?
                }
                0xDC00..=0xDFFF => return Err(Invalid),
                _ => char::from_u32(u32::from(unit)).ok_or(Invalid)?,
            }
        }
        _ => return Err(Invalid),
    };
    out.push(c);
    Ok(next)
}

/// Four hex digits at `at`.
fn hex4(s: &[u8], at: usize) -> Result<u16, Invalid> {
    let digits = s.get(at..at + 4).ok_or(Invalid)?;
    let mut v: u16 = 0;
    for &d in digits {
        let n = match d {
            b'0'..=b'9' => d - b'0',
            b'a'..=b'f' => d - b'a' + 10,
            b'A'..=b'F' => d - b'A' + 10,
            _ => return Err(Invalid),
        };
        v = (v << 4) | u16::from(n);
    }
    Ok(v)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{Rng, SeedableRng};

    /// Same accept/reject decision as serde_json, and the same value, key order included.
    fn check(input: &[u8]) {
        let ours = parse(input).ok().map(|v| serde_json::to_string(&v).unwrap_or_default());
        let theirs = serde_json::from_slice::<Value>(input).ok().map(|v| serde_json::to_string(&v).unwrap_or_default());
        assert_eq!(ours, theirs, "input: {:?}", String::from_utf8_lossy(input));
    }

    #[test]
    fn agrees_with_serde_json_on_examples() {
        let cases: &[&str] = &[
            r#"{"QueueUrl":"http://localhost:4566/000000000000/q","MessageBody":"{\"a\":1,\"b\":[\"x\",\"y\"]} "}"#,
            r#"{"a":1,"a":2,"b":{"c":[1,2.5,-3e2,true,false,null]}}"#,
            r#"  {"k" : "v" }  "#,
            r#"{"u":"\u00e9\u4e2d\ud83d\ude00\/\b\f\n\r\t\\\""}"#,
            "{\"raw\":\"é中😀\"}",
            r#"{"n":[0,-0,1.0,1e400,12345678901234567890,-9223372036854775808,0.1e-5,1E+2]}"#,
            r#"{"bad":01}"#,
            r#"{"bad":1.}"#,
            r#"{"bad":-}"#,
            r#"{"bad":+1}"#,
            r#"{"bad":.5}"#,
            r#"{"lone":"\ud83d"}"#,
            r#"{"lone":"\ud83dx"}"#,
            r#"{"lone":"\ud83d\u0041"}"#,
            r#"{"lone":"\ude00"}"#,
            r#"{"esc":"\x"}"#,
            r#"{"esc":"\u12"}"#,
            r#"{"esc":"\u12G4"}"#,
            "{\"ctl\":\"a\u{1}b\"}",
            "{\"ctl\":\"a\tb\"}",
            r#"{"trailing":1,}"#,
            r#"[1,2,]"#,
            r#"{"a":1}x"#,
            r#"{"a":1} {"b":2}"#,
            r#"{"a" 1}"#,
            r#"{a:1}"#,
            r#"{"a":tru}"#,
            r#"{"a":nulll}"#,
            r#"{"unterminated":"abc"#,
            r#"{"unterminated":"abc\"#,
            r#"{"unterminated":"abc\""#,
            r#""just a string""#,
            r#"[]"#,
            r#"{}"#,
            r#"3"#,
            "",
            " ",
            "{\"a\":1}\u{0}",
        ];
        for c in cases {
            check(c.as_bytes());
        }
        check(b"{\"invalid utf8\":\"\xff\"}");
        check(b"\xef\xbb\xbf{}");
    }

    #[test]
    fn nesting_limit_matches() {
        for depth in [126, 127, 128, 129] {
            let arrays = format!("{}{}", "[".repeat(depth), "]".repeat(depth));
            check(arrays.as_bytes());
            let objects = format!("{}1{}", "{\"a\":".repeat(depth), "}".repeat(depth));
            check(objects.as_bytes());
        }
    }

    /// Random documents (valid, then randomly cut or corrupted) against serde_json.
    #[test]
    fn agrees_with_serde_json_on_random_documents() {
        let mut rng = rand::rngs::StdRng::seed_from_u64(7);
        let pieces: &[&str] = &[
            "a", "é", "😀", "\\\"", "\\\\", "\\/", "\\n", "\\t", "\\u0041", "\\u00e9", "\\ud83d\\ude00", "\\ud83d", "\\ude00", "\\x", "\u{1}", " ", "\"", "{",
        ];
        fn value(rng: &mut rand::rngs::StdRng, pieces: &[&str], depth: u32, out: &mut String) {
            match rng.gen_range(0..if depth > 4 { 4 } else { 6 }) {
                0 => {
                    out.push('"');
                    for _ in 0..rng.gen_range(0..6) {
                        out.push_str(pieces[rng.gen_range(0..pieces.len())]);
                    }
                    out.push('"');
                }
                1 => out.push_str(["0", "-1", "1.5", "2e3", "-0.0e-1", "01", "1.", "18446744073709551616", "1e999"][rng.gen_range(0..9)]),
                2 => out.push_str(["true", "false", "null"][rng.gen_range(0..3)]),
                3 => out.push_str(["", " ", "\n\t"][rng.gen_range(0..3)]),
                4 => {
                    out.push('[');
                    for i in 0..rng.gen_range(0..4) {
                        if i > 0 {
                            out.push(',');
                        }
                        value(rng, pieces, depth + 1, out);
                    }
                    out.push(']');
                }
                _ => {
                    out.push('{');
                    for i in 0..rng.gen_range(0..4) {
                        if i > 0 {
                            out.push(',');
                        }
                        out.push_str(["\"k\"", "\"a\"", "\"k\\u0041\"", "k", "\"\""][rng.gen_range(0..5)]);
                        out.push(':');
                        value(rng, pieces, depth + 1, out);
                    }
                    out.push('}');
                }
            }
        }
        let mut valid = 0;
        for _ in 0..20_000 {
            let mut doc = String::new();
            value(&mut rng, pieces, 0, &mut doc);
            check(doc.as_bytes());
            valid += usize::from(serde_json::from_str::<Value>(&doc).is_ok());
            let mut bytes = doc.into_bytes();
            if !bytes.is_empty() {
                let cut = rng.gen_range(0..bytes.len());
                check(&bytes[..cut]);
                let at = rng.gen_range(0..bytes.len());
                bytes[at] = [b'"', b'\\', b'{', b'}', b',', b':', b'0', 0x80][rng.gen_range(0..8)];
                check(&bytes);
            }
        }
        // The generator must exercise the accepting path too, nested values included.
        assert!(valid > 2_000, "only {valid} valid documents");
    }
}
