//! Base64 (`$base64encode` takes each character as a byte, 0x00–0xFF; `$base64decode`
//! reads the bytes as UTF-8, as JSONata documents) and
//! JavaScript's `encodeURI`/`encodeURIComponent`/`decodeURI`/`decodeURIComponent`.

use base64::Engine;

pub fn base64_encode(s: &str) -> String {
    let bytes: Vec<u8> = s.chars().map(|c| (c as u32 & 0xFF) as u8).collect();
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

pub fn base64_decode(s: &str) -> String {
    let cleaned: String = s.chars().filter(|c| !c.is_whitespace()).collect();
    let trimmed = cleaned.trim_end_matches('=');
    let bytes = base64::engine::general_purpose::STANDARD_NO_PAD.decode(trimmed).unwrap_or_default();
    String::from_utf8_lossy(&bytes).into_owned()
}

const URI_UNRESERVED: &str = "-_.!~*'()";
const URI_RESERVED: &str = ";,/?:@&=+$#";

pub fn encode_uri(s: &str, component: bool) -> String {
    let mut out = String::new();
    for c in s.chars() {
        if c.is_ascii_alphanumeric() || URI_UNRESERVED.contains(c) || (!component && URI_RESERVED.contains(c)) {
            out.push(c);
        } else {
            let mut buf = [0u8; 4];
            for b in c.encode_utf8(&mut buf).bytes() {
                out.push_str(&format!("%{b:02X}"));
            }
        }
    }
    out
}

/// `None` when the escapes are malformed or not UTF-8 (JavaScript's URIError).
pub fn decode_uri(s: &str, component: bool) -> Option<String> {
    let b = s.as_bytes();
    let mut out: Vec<u8> = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] != b'%' {
            out.push(b[i]);
            i += 1;
            continue;
        }
        let hex = s.get(i + 1..i + 3)?;
        let byte = u8::from_str_radix(hex, 16).ok()?;
        if !component && byte < 0x80 && URI_RESERVED.contains(byte as char) {
            out.extend_from_slice(&b[i..i + 3]);
        } else {
            out.push(byte);
        }
        i += 3;
    }
    String::from_utf8(out).ok()
}
