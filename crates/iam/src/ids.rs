//! Identifiers in IAM's formats: unique ids with their type prefix (`AIDA` user, `AROA`
//! role, `AGPA` group, `ANPA` policy, `AIPA` instance profile), access key ids (`AKIA`
//! long-term, `ASIA` temporary), secrets and session tokens; and the URL encoding IAM
//! applies to policy documents in its responses.

use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};
use rand::Rng;

const BASE32: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

fn random_from(alphabet: &[u8], len: usize) -> String {
    let mut rng = rand::thread_rng();
    (0..len).map(|_| alphabet[rng.gen_range(0..alphabet.len())] as char).collect()
}

/// A unique id: the type prefix and 17 more characters, 21 in all (IAM's length).
pub fn unique_id(prefix: &str) -> String {
    format!("{prefix}{}", random_from(BASE32, 17))
}

/// A long-term (`AKIA…`) or temporary (`ASIA…`) access key id: 20 characters.
pub fn access_key_id(prefix: &str) -> String {
    format!("{prefix}{}", random_from(BASE32, 16))
}

/// A 40-character secret access key.
pub fn secret_access_key() -> String {
    random_from(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/", 40)
}

/// A session token (AWS's are long opaque base64 strings).
pub fn session_token() -> String {
    format!("FwoGZXIvYXdzE{}", random_from(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/", 300))
}

/// RFC 3986 encoding as IAM returns policy documents (`%7B%22Version%22…`); the SDKs
/// decode it (boto3 and the CLI transparently, others leave it to the caller).
const DOC_ENCODE: &AsciiSet = &NON_ALPHANUMERIC.remove(b'-').remove(b'_').remove(b'.').remove(b'~');

pub fn encode_document(doc: &str) -> String {
    utf8_percent_encode(doc, DOC_ENCODE).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats() {
        let id = unique_id("AROA");
        assert_eq!(id.len(), 21);
        assert!(id.starts_with("AROA"));
        assert_eq!(access_key_id("AKIA").len(), 20);
        assert_eq!(secret_access_key().len(), 40);
        assert_eq!(encode_document("{\"a\": \"b c\"}"), "%7B%22a%22%3A%20%22b%20c%22%7D");
    }
}
