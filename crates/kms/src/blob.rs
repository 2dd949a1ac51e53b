//! nimbus's ciphertext blob for symmetric keys. AWS's blob is opaque but names its key
//! (Decrypt needs no KeyId); nimbus's carries the key id and the key-material version
//! (so a rotated key still opens older blobs):
//!
//! ```text
//! 0x4e 0x01 | len(key id) u8 | key id (ASCII) | material version u32 BE | nonce (12) | AES-256-GCM ciphertext ‖ tag (16)
//! ```
//!
//! The GCM additional data is the header (everything before the nonce), the account
//! and region, and the encryption context (sorted, length-prefixed): a blob opened in
//! another account or region, or with another context, fails authentication —
//! InvalidCiphertextException, as on AWS.

use crate::errors::{KmsError, KmsResult};
use ring::aead::{Aad, LessSafeKey, Nonce, UnboundKey, AES_256_GCM, NONCE_LEN};
use ring::rand::{SecureRandom, SystemRandom};
use std::collections::BTreeMap;

const MAGIC: [u8; 2] = [0x4e, 0x01];
const TAG_LEN: usize = 16;

/// The header of a blob, read before its key is known.
pub struct Header<'a> {
    pub key_id: &'a str,
    pub version: u32,
    header_len: usize,
}

pub fn parse(blob: &[u8]) -> KmsResult<Header<'_>> {
    let bad = || KmsError::InvalidCiphertext(String::new());
    if blob.len() < 3 || blob[..2] != MAGIC {
        return Err(bad());
    }
    let n = blob[2] as usize;
    let header_len = 3 + n + 4;
    if blob.len() < header_len + NONCE_LEN + TAG_LEN {
        return Err(bad());
    }
    let key_id = std::str::from_utf8(&blob[3..3 + n]).map_err(|_| bad())?;
    let version = u32::from_be_bytes([blob[3 + n], blob[4 + n], blob[5 + n], blob[6 + n]]);
    Ok(Header { key_id, version, header_len })
}

fn aad(header: &[u8], account: &str, region: &str, context: &BTreeMap<String, String>) -> Vec<u8> {
    let mut a = header.to_vec();
    for part in [account, region] {
        a.extend_from_slice(&(part.len() as u32).to_be_bytes());
        a.extend_from_slice(part.as_bytes());
    }
    for (k, v) in context {
        for part in [k, v] {
            a.extend_from_slice(&(part.len() as u32).to_be_bytes());
            a.extend_from_slice(part.as_bytes());
        }
    }
    a
}

fn aes(material: &[u8]) -> KmsResult<LessSafeKey> {
    Ok(LessSafeKey::new(UnboundKey::new(&AES_256_GCM, material).map_err(|_| KmsError::Internal("bad key material".into()))?))
}

pub fn seal(key_id: &str, version: u32, material: &[u8], account: &str, region: &str, context: &BTreeMap<String, String>, plaintext: &[u8]) -> KmsResult<Vec<u8>> {
    let mut out = MAGIC.to_vec();
    out.push(key_id.len() as u8);
    out.extend_from_slice(key_id.as_bytes());
    out.extend_from_slice(&version.to_be_bytes());
    let aad = aad(&out, account, region, context);
    let mut nonce = [0u8; NONCE_LEN];
    SystemRandom::new().fill(&mut nonce).map_err(|_| KmsError::Internal("no randomness".into()))?;
    let mut buf = plaintext.to_vec();
    aes(material)?
        .seal_in_place_append_tag(Nonce::assume_unique_for_key(nonce), Aad::from(&aad), &mut buf)
        .map_err(|_| KmsError::Internal("encryption failed".into()))?;
    out.extend_from_slice(&nonce);
    out.extend_from_slice(&buf);
    Ok(out)
}

pub fn open(blob: &[u8], header: &Header<'_>, material: &[u8], account: &str, region: &str, context: &BTreeMap<String, String>) -> KmsResult<Vec<u8>> {
    let bad = || KmsError::InvalidCiphertext(String::new());
    let aad = aad(&blob[..header.header_len], account, region, context);
    let nonce = Nonce::try_assume_unique_for_key(&blob[header.header_len..header.header_len + NONCE_LEN]).map_err(|_| bad())?;
    let mut buf = blob[header.header_len + NONCE_LEN..].to_vec();
    let plain = aes(material)?.open_in_place(nonce, Aad::from(&aad), &mut buf).map_err(|_| bad())?;
    Ok(plain.to_vec())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn context_account_and_tampering_are_bound() {
        let m = [7u8; 32];
        let mut ctx = BTreeMap::new();
        ctx.insert("a".to_string(), "b".to_string());
        let blob = seal("k1", 3, &m, "111111111111", "us-east-1", &ctx, b"hi").expect("seal");
        let h = parse(&blob).expect("parse");
        assert_eq!((h.key_id, h.version), ("k1", 3));
        assert_eq!(open(&blob, &h, &m, "111111111111", "us-east-1", &ctx).expect("open"), b"hi");
        assert!(open(&blob, &h, &m, "222222222222", "us-east-1", &ctx).is_err());
        assert!(open(&blob, &h, &m, "111111111111", "us-east-1", &BTreeMap::new()).is_err());
        let mut t = blob.clone();
        let last = t.len() - 1;
        t[last] ^= 1;
        assert!(open(&t, &parse(&t).expect("parse"), &m, "111111111111", "us-east-1", &ctx).is_err());
        assert!(parse(b"xx").is_err());
    }
}
