//! What a message is made of, and the rules AWS applies to it on the way in: body
//! characters, message attributes (names, types, values, size), and the MD5 digests the
//! SDKs check (`MD5OfMessageBody`, `MD5OfMessageAttributes`, `MD5OfMessageSystemAttributes`).

use crate::errors::{SqsError, SqsResult};
use base64::Engine;
use md5::{Digest, Md5};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// A message attribute value as the API carries it; binary values are base64 on the wire
/// and kept that way.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "PascalCase")]
pub struct AttributeValue {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub string_value: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub binary_value: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub string_list_values: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub binary_list_values: Vec<String>,
    #[serde(default)]
    pub data_type: String,
}

pub type Attributes = BTreeMap<String, AttributeValue>;

/// Lower-case hex of bytes.
pub fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        s.push(DIGITS[(b >> 4) as usize] as char);
        s.push(DIGITS[(b & 0xf) as usize] as char);
    }
    s
}

pub fn md5_hex(bytes: &[u8]) -> String {
    hex(&Md5::digest(bytes))
}

fn b64(s: &str) -> Vec<u8> {
    base64::engine::general_purpose::STANDARD.decode(s).unwrap_or_default()
}

fn put_len_prefixed(h: &mut Md5, bytes: &[u8]) {
    h.update((bytes.len() as u32).to_be_bytes());
    h.update(bytes);
}

/// MD5 over attributes as AWS computes it: names sorted; each name, data type and value
/// length-prefixed (4-byte big-endian); a transport byte (1 string, 2 binary, 3 string
/// list, 4 binary list) chosen by the value field that is set.
pub fn md5_of_attributes(attrs: &Attributes) -> Option<String> {
    if attrs.is_empty() {
        return None;
    }
    let mut h = Md5::new();
    for (name, v) in attrs {
        put_len_prefixed(&mut h, name.as_bytes());
        put_len_prefixed(&mut h, v.data_type.as_bytes());
        if let Some(s) = &v.string_value {
            h.update([1u8]);
            put_len_prefixed(&mut h, s.as_bytes());
        } else if let Some(b) = &v.binary_value {
            h.update([2u8]);
            put_len_prefixed(&mut h, &b64(b));
        } else if !v.string_list_values.is_empty() {
            h.update([3u8]);
            for s in &v.string_list_values {
                put_len_prefixed(&mut h, s.as_bytes());
            }
        } else if !v.binary_list_values.is_empty() {
            h.update([4u8]);
            for b in &v.binary_list_values {
                put_len_prefixed(&mut h, &b64(b));
            }
        }
    }
    Some(hex(&h.finalize()))
}

/// Characters SQS accepts in a body or string attribute: #x9 | #xA | #xD | #x20–#xD7FF |
/// #xE000–#xFFFD | #x10000–#x10FFFF.
pub fn first_invalid_char(text: &str) -> Option<char> {
    // Fast path: printable ASCII, tab, newline and carriage return are always allowed.
    // A fold without early exit, so the compiler checks many bytes per instruction (this
    // runs over every message body).
    let ascii_ok = text.bytes().fold(true, |ok, b| ok & ((b.wrapping_sub(0x20) < 0x5f) | (b == b'\t') | (b == b'\n') | (b == b'\r')));
    if ascii_ok {
        return None;
    }
    text.chars().find(|&c| {
        let u = c as u32;
        !(u == 0x9 || u == 0xA || u == 0xD || (0x20..=0xD7FF).contains(&u) || (0xE000..=0xFFFD).contains(&u) || u >= 0x10000)
    })
}

pub fn check_body(body: &str) -> SqsResult<()> {
    if let Some(c) = first_invalid_char(body) {
        return Err(SqsError::InvalidMessageContents(format!(
            "Invalid binary character '#x{:X}' was found in the message body, the set of allowed characters is #x9 | #xA | #xD | #x20 to #xD7FF | #xE000 to #xFFFD | #x10000 to #x10FFFF",
            c as u32
        )));
    }
    Ok(())
}

/// Why a message attribute name is refused, in AWS's words; None: the name is fine.
/// Letters (also non-ASCII ones, such as `ä`), digits, `_`, `-` and `.`; at most 256
/// characters; no `AWS.` or `Amazon.` prefix in any case; no leading or trailing `.`, and
/// no `..`.
fn attribute_name_problem(name: &str) -> Option<String> {
    if name.chars().count() > 256 {
        return Some(format!("Message (user) attribute name '{name}' is invalid. Message (user) attribute names must be shorter than 256 Bytes."));
    }
    if name.is_empty() || !name.chars().all(|c| c.is_alphanumeric() || c == '_' || c == '-' || c == '.') || name.contains("..") {
        return Some(format!("Message (user) attribute name '{name}' is invalid."));
    }
    let lower = name.to_lowercase();
    if lower.starts_with("aws.") || lower.starts_with("amazon.") || name.starts_with('.') || name.ends_with('.') {
        return Some(
            "You can't use message attribute names beginning with 'AWS.' or 'Amazon.'. These strings are reserved for internal use. Additionally, they cannot start or end with '.'."
                .into(),
        );
    }
    None
}

/// Validates message attributes and returns their size as SQS counts it toward
/// MaximumMessageSize (name + data type + value bytes).
pub fn check_attributes(attrs: &Attributes) -> SqsResult<usize> {
    if attrs.len() > 10 {
        return Err(SqsError::InvalidParameterValue(format!(
            "Number of message attributes [{}] exceeds the allowed maximum [10].",
            attrs.len()
        )));
    }
    let mut size = 0;
    for (name, v) in attrs {
        if let Some(problem) = attribute_name_problem(name) {
            return Err(SqsError::InvalidParameterValue(problem));
        }
        let dt = v.data_type.as_str();
        if dt.is_empty() {
            return Err(SqsError::InvalidParameterValue(format!("The message attribute '{name}' must contain non-empty message attribute type.")));
        }
        let base = dt.split('.').next().unwrap_or("");
        if dt.len() > 256 || !matches!(base, "String" | "Number" | "Binary") {
            return Err(SqsError::InvalidParameterValue(format!(
                "The type of message (user) attribute '{name}' is invalid. You must use only the following supported type prefixes: Binary, Number, String."
            )));
        }
        if !v.string_list_values.is_empty() || !v.binary_list_values.is_empty() {
            return Err(SqsError::InvalidParameterValue(format!(
                "Message (user) attribute '{name}' uses list values, which SQS has reserved and does not support."
            )));
        }
        let value_len = match base {
            "Binary" => {
                let Some(b) = v.binary_value.as_deref().filter(|b| !b.is_empty()) else {
                    return Err(SqsError::InvalidParameterValue(format!(
                        "The message attribute '{name}' must contain non-empty message attribute value for message attribute type 'Binary'."
                    )));
                };
                if v.string_value.is_some() {
                    return Err(SqsError::InvalidParameterValue(format!("Message (user) attribute '{name}' must contain only a BinaryValue.")));
                }
                match base64::engine::general_purpose::STANDARD.decode(b) {
                    Ok(bytes) => bytes.len(),
                    Err(_) => return Err(SqsError::InvalidParameterValue(format!("Message (user) attribute '{name}' has an invalid binary value."))),
                }
            }
            _ => {
                let Some(s) = v.string_value.as_deref().filter(|s| !s.is_empty()) else {
                    return Err(SqsError::InvalidParameterValue(format!(
                        "Message (user) attribute '{name}' must contain a non-empty value of type '{base}'."
                    )));
                };
                if v.binary_value.is_some() {
                    return Err(SqsError::InvalidParameterValue(format!("Message (user) attribute '{name}' must contain only a StringValue.")));
                }
                if first_invalid_char(s).is_some() {
                    return Err(SqsError::InvalidParameterValue(format!("Message (user) attribute '{name}' contains invalid characters.")));
                }
                if base == "Number" && !valid_number(s) {
                    return Err(SqsError::InvalidParameterValue(format!("Can't cast the value of message (user) attribute '{name}' to a number.")));
                }
                s.len()
            }
        };
        size += name.len() + dt.len() + value_len;
    }
    Ok(size)
}

/// SQS numbers: up to 38 significant digits, between -10^128 and 10^126.
fn valid_number(s: &str) -> bool {
    let t = s.trim();
    let t = t.strip_prefix(['-', '+']).unwrap_or(t);
    let (mantissa, exp) = match t.split_once(['e', 'E']) {
        Some((m, e)) => (m, e.parse::<i32>().ok()),
        None => (t, Some(0)),
    };
    let Some(exp) = exp else { return false };
    let (int, frac) = mantissa.split_once('.').unwrap_or((mantissa, ""));
    if int.is_empty() && frac.is_empty() {
        return false;
    }
    if !int.bytes().chain(frac.bytes()).all(|b| b.is_ascii_digit()) {
        return false;
    }
    let digits: String = int.chars().chain(frac.chars()).collect();
    let significant = digits.trim_start_matches('0').trim_end_matches('0');
    if significant.len() > 38 {
        return false;
    }
    let magnitude = int.trim_start_matches('0').len() as i32 + exp;
    magnitude <= 126
}

/// Does a ReceiveMessage `MessageAttributeNames` filter select `name`?
pub fn attribute_selected(filters: &[String], name: &str) -> bool {
    filters.iter().any(|f| match f.as_str() {
        "All" | ".*" => true,
        f => match f.strip_suffix(".*") {
            Some(prefix) => name.starts_with(prefix),
            None => f == name,
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(v: &str) -> AttributeValue {
        AttributeValue { string_value: Some(v.into()), data_type: "String".into(), ..Default::default() }
    }

    #[test]
    fn attribute_md5_matches_aws_vectors() {
        let mut a = Attributes::new();
        a.insert("Foo".into(), s("Bar"));
        assert_eq!(md5_of_attributes(&a).unwrap(), "ae7155c6026991b6d54b11589678bf9c");
        let mut b = Attributes::new();
        b.insert("General".into(), s("Kenobi"));
        b.insert("Hello".into(), s("There"));
        b.insert("Help.Me".into(), s("Me"));
        assert_eq!(md5_of_attributes(&b).unwrap(), "4c360f3fdafd970e05fae2f149d997f5");
        let mut c = Attributes::new();
        c.insert(
            "binaryAttribute".into(),
            AttributeValue {
                binary_value: Some(base64::engine::general_purpose::STANDARD.encode(b"Hello binary world!")),
                data_type: "Binary".into(),
                ..Default::default()
            },
        );
        assert_eq!(md5_of_attributes(&c).unwrap(), "31a92b15d92f8db860eda32aceb656c3");
        let mut d = Attributes::new();
        d.insert(
            "customNumberTypeAttrib".into(),
            AttributeValue { string_value: Some("4563442423554324324264524243.32543234".into()), data_type: "Number.float".into(), ..Default::default() },
        );
        assert_eq!(md5_of_attributes(&d).unwrap(), "9fe1b90bbd9965bdf77bac517c7d2495");
        assert_eq!(md5_hex(b"msg"), "6e2baaf3b97dbeef01c0043275f9a0e7");
    }

    #[test]
    fn attribute_names() {
        assert_eq!(attribute_name_problem("Straße.Größe_1-x"), None);
        assert_eq!(attribute_name_problem("AWSish"), None);
        for reserved in ["AWS.x", "aws.x", "Amazon.x", "AMAZON.x", ".x", "x."] {
            assert!(attribute_name_problem(reserved).unwrap().starts_with("You can't use message attribute names beginning with 'AWS.'"), "{reserved}");
        }
        assert!(attribute_name_problem("a..b").is_some());
        assert!(attribute_name_problem("a b").is_some());
        assert!(attribute_name_problem("").is_some());
    }

    #[test]
    fn body_characters() {
        assert!(check_body("hello\n\tworld ✓ 😀").is_ok());
        assert!(check_body("bad\u{0}").is_err());
        assert!(check_body("bad\u{FFFF}").is_err());
    }

    #[test]
    fn numbers_and_filters() {
        assert!(valid_number("1.5e3"));
        assert!(valid_number("-0.001"));
        assert!(!valid_number("abc"));
        assert!(!valid_number("1".repeat(39).as_str()));
        // AWS treats `prefix.*` as a plain prefix: `Hel.*` selects Hello and Help.Me.
        assert!(attribute_selected(&["Hel.*".into()], "Help.Me"));
        assert!(attribute_selected(&["Hel.*".into()], "Hello"));
        assert!(!attribute_selected(&["Hel.*".into()], "General"));
        assert!(attribute_selected(&["All".into()], "x"));
    }
}
