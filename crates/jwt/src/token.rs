//! A compact JWS (`header.payload.signature`): decoding, and verifying its signature with a
//! JWK. Algorithms are those ring verifies — RS256/384/512, PS256/384/512, ES256/384;
//! `none` and the HMAC algorithms are refused (a public key cannot check them).

use base64::Engine;
use serde_json::Value;

/// A JWT split into its parts; header and claims decoded.
#[derive(Debug, Clone)]
pub struct Jwt<'a> {
    pub header: Value,
    pub claims: Value,
    /// `header.payload`, the signed bytes.
    signed: &'a str,
    signature: Vec<u8>,
}

/// Why a signature does not verify.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SignatureError {
    /// The header's `alg` is missing, `none`, HMAC or unknown.
    Algorithm,
    /// The key does not fit the algorithm (an EC key for RS256) or is malformed.
    KeyMismatch,
    /// The signature does not match.
    Invalid,
}

pub fn b64url(s: &str) -> Option<Vec<u8>> {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(s.trim_end_matches('=')).ok()
}

impl<'a> Jwt<'a> {
    /// Splits and decodes a token; `None` when it is not three base64url parts with a JSON
    /// object header and JSON object claims.
    pub fn parse(token: &'a str) -> Option<Jwt<'a>> {
        let mut parts = token.split('.');
        let (header, payload, sig) = (parts.next()?, parts.next()?, parts.next()?);
        if parts.next().is_some() {
            return None;
        }
        let header: Value = serde_json::from_slice(&b64url(header)?).ok()?;
        let claims: Value = serde_json::from_slice(&b64url(payload)?).ok()?;
        if !header.is_object() || !claims.is_object() {
            return None;
        }
        Some(Jwt { header, claims, signed: &token[..token.rfind('.')?], signature: b64url(sig)? })
    }

    pub fn alg(&self) -> &str {
        self.header.get("alg").and_then(Value::as_str).unwrap_or("")
    }

    pub fn kid(&self) -> Option<&str> {
        self.header.get("kid").and_then(Value::as_str)
    }

    /// Verifies the signature with `jwk`.
    pub fn verify(&self, jwk: &Value) -> Result<(), SignatureError> {
        let verifier = algorithm(self.alg()).ok_or(SignatureError::Algorithm)?;
        let der = public_key(jwk, self.alg()).ok_or(SignatureError::KeyMismatch)?;
        ring::signature::UnparsedPublicKey::new(verifier, der).verify(self.signed.as_bytes(), &self.signature).map_err(|_| SignatureError::Invalid)
    }
}

/// The ring algorithm for a JWS `alg` nimbus verifies; `none` and HMAC are refused.
pub fn algorithm(alg: &str) -> Option<&'static dyn ring::signature::VerificationAlgorithm> {
    use ring::signature as s;
    Some(match alg {
        "RS256" => &s::RSA_PKCS1_2048_8192_SHA256,
        "RS384" => &s::RSA_PKCS1_2048_8192_SHA384,
        "RS512" => &s::RSA_PKCS1_2048_8192_SHA512,
        "PS256" => &s::RSA_PSS_2048_8192_SHA256,
        "PS384" => &s::RSA_PSS_2048_8192_SHA384,
        "PS512" => &s::RSA_PSS_2048_8192_SHA512,
        "ES256" => &s::ECDSA_P256_SHA256_FIXED,
        "ES384" => &s::ECDSA_P384_SHA384_FIXED,
        _ => return None,
    })
}

/// The public key bytes ring wants for a JWK: RSA as DER RSAPublicKey, EC as an
/// uncompressed point.
fn public_key(jwk: &Value, alg: &str) -> Option<Vec<u8>> {
    let field = |k: &str| jwk.get(k).and_then(Value::as_str).and_then(b64url);
    match jwk.get("kty").and_then(Value::as_str)? {
        "RSA" if alg.starts_with('R') || alg.starts_with('P') => Some(rsa_der(&field("n")?, &field("e")?)),
        "EC" if alg.starts_with('E') => {
            let mut point = vec![4u8];
            point.extend(field("x")?);
            point.extend(field("y")?);
            Some(point)
        }
        _ => None,
    }
}

/// DER `RSAPublicKey ::= SEQUENCE { modulus INTEGER, publicExponent INTEGER }`.
fn rsa_der(n: &[u8], e: &[u8]) -> Vec<u8> {
    let mut body = der_integer(n);
    body.extend(der_integer(e));
    der(0x30, &body)
}

fn der_integer(bytes: &[u8]) -> Vec<u8> {
    let trimmed: &[u8] = match bytes.iter().position(|b| *b != 0) {
        Some(i) => &bytes[i..],
        None => &[0],
    };
    let mut v = Vec::with_capacity(trimmed.len() + 1);
    if trimmed[0] & 0x80 != 0 {
        v.push(0);
    }
    v.extend_from_slice(trimmed);
    der(0x02, &v)
}

fn der(tag: u8, body: &[u8]) -> Vec<u8> {
    let mut out = vec![tag];
    let len = body.len();
    if len < 0x80 {
        out.push(len as u8);
    } else {
        let bytes: Vec<u8> = len.to_be_bytes().iter().copied().skip_while(|b| *b == 0).collect();
        out.push(0x80 | bytes.len() as u8);
        out.extend(bytes);
    }
    out.extend_from_slice(body);
    out
}

/// The key of the token's `kid` (or the only key when the token names none).
pub fn find_key<'k>(keys: &'k [Value], kid: Option<&str>) -> Option<&'k Value> {
    match kid {
        Some(kid) => keys.iter().find(|k| k.get("kid").and_then(Value::as_str) == Some(kid)),
        None if keys.len() == 1 => keys.first(),
        None => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refused_algorithms() {
        for alg in ["none", "HS256", "HS384", "HS512", ""] {
            assert!(algorithm(alg).is_none(), "{alg}");
        }
        assert!(algorithm("RS256").is_some());
    }

    #[test]
    fn der_integers_are_positive_and_minimal() {
        assert_eq!(der_integer(&[0x00, 0x80]), vec![0x02, 0x02, 0x00, 0x80]);
        assert_eq!(der_integer(&[0x01, 0x00, 0x01]), vec![0x02, 0x03, 0x01, 0x00, 0x01]);
        assert_eq!(der(0x30, &[0u8; 200])[..3], [0x30, 0x81, 200]);
    }

    #[test]
    fn kid_selection() {
        let keys = vec![serde_json::json!({"kid": "a"}), serde_json::json!({"kid": "b"})];
        assert_eq!(find_key(&keys, Some("b")).map(|k| k["kid"].clone()), Some(serde_json::json!("b")));
        assert!(find_key(&keys, Some("c")).is_none());
        assert!(find_key(&keys, None).is_none());
        assert!(find_key(&keys[..1], None).is_some());
    }

    #[test]
    fn parse_rejects_malformed_tokens() {
        let enc = |v: &str| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v);
        let good = format!("{}.{}.{}", enc(r#"{"alg":"RS256","kid":"k"}"#), enc(r#"{"sub":"x"}"#), enc("sig"));
        let jwt = Jwt::parse(&good).expect("parses");
        assert_eq!((jwt.alg(), jwt.kid(), jwt.claims["sub"].as_str()), ("RS256", Some("k"), Some("x")));
        for bad in ["", "a.b", "a.b.c.d", &format!("{}.{}.x", enc("[]"), enc("{}")), &format!("{}.{}.x", enc("{}"), enc("1"))] {
            assert!(Jwt::parse(bad).is_none(), "{bad}");
        }
        assert_eq!(jwt.verify(&serde_json::json!({"kty": "EC", "x": "AA", "y": "AA"})), Err(SignatureError::KeyMismatch));
    }
}
