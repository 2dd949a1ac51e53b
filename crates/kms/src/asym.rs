//! Key-pair and HMAC cryptography on vetted libraries: RSA (the `rsa` crate: key
//! generation, PSS and PKCS#1 v1.5 signatures over a digest, OAEP), ECDSA P-256 / P-384
//! (ring), HMAC (the `hmac` crate; SHA-224 is not in ring). Key pairs are PKCS#8 DER;
//! public keys are DER SubjectPublicKeyInfo as GetPublicKey returns them.

use crate::errors::{KmsError, KmsResult};
use ring::rand::SystemRandom;
use ring::signature::{self as sig, EcdsaKeyPair, KeyPair};
use rsa::pkcs8::{DecodePrivateKey, EncodePrivateKey, EncodePublicKey};
use rsa::{Oaep, Pkcs1v15Sign, Pss, RsaPrivateKey};

fn internal<E: std::fmt::Display>(e: E) -> KmsError {
    KmsError::Internal(e.to_string())
}

pub fn rsa_generate(bits: usize) -> KmsResult<Vec<u8>> {
    let key = RsaPrivateKey::new(&mut rand::thread_rng(), bits).map_err(internal)?;
    Ok(key.to_pkcs8_der().map_err(internal)?.as_bytes().to_vec())
}

fn ec_alg(spec: &str) -> KmsResult<(&'static sig::EcdsaSigningAlgorithm, &'static sig::EcdsaVerificationAlgorithm, &'static [u8])> {
    // The fixed DER prefix of an EC SubjectPublicKeyInfo (id-ecPublicKey + the curve's
    // OID + the BIT STRING header) before the uncompressed point (RFC 5480).
    const P256_SPKI: &[u8] = &[
        0x30, 0x59, 0x30, 0x13, 0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01, 0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07, 0x03, 0x42, 0x00,
    ];
    const P384_SPKI: &[u8] = &[0x30, 0x76, 0x30, 0x10, 0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01, 0x06, 0x05, 0x2b, 0x81, 0x04, 0x00, 0x22, 0x03, 0x62, 0x00];
    match spec {
        "ECC_NIST_P256" => Ok((&sig::ECDSA_P256_SHA256_ASN1_SIGNING, &sig::ECDSA_P256_SHA256_ASN1, P256_SPKI)),
        "ECC_NIST_P384" => Ok((&sig::ECDSA_P384_SHA384_ASN1_SIGNING, &sig::ECDSA_P384_SHA384_ASN1, P384_SPKI)),
        other => Err(KmsError::NotSupported(format!("KeySpec {other}"))),
    }
}

pub fn ec_generate(spec: &str) -> KmsResult<Vec<u8>> {
    let (alg, _, _) = ec_alg(spec)?;
    let doc = EcdsaKeyPair::generate_pkcs8(alg, &SystemRandom::new()).map_err(internal)?;
    Ok(doc.as_ref().to_vec())
}

/// DER SubjectPublicKeyInfo of a key pair.
pub fn public_key_der(spec: &str, pkcs8: &[u8]) -> KmsResult<Vec<u8>> {
    if spec.starts_with("RSA_") {
        let key = RsaPrivateKey::from_pkcs8_der(pkcs8).map_err(internal)?;
        return Ok(key.to_public_key().to_public_key_der().map_err(internal)?.as_bytes().to_vec());
    }
    let (alg, _, prefix) = ec_alg(spec)?;
    let kp = EcdsaKeyPair::from_pkcs8(alg, pkcs8, &SystemRandom::new()).map_err(internal)?;
    let mut out = prefix.to_vec();
    out.extend_from_slice(kp.public_key().as_ref());
    Ok(out)
}

/// The digest algorithm of a signing algorithm name and its output length.
fn hash_of(algorithm: &str) -> usize {
    if algorithm.ends_with("256") {
        32
    } else if algorithm.ends_with("384") {
        48
    } else {
        64
    }
}

fn digest(len: usize, message: &[u8]) -> Vec<u8> {
    use sha2::Digest;
    match len {
        32 => sha2::Sha256::digest(message).to_vec(),
        48 => sha2::Sha384::digest(message).to_vec(),
        _ => sha2::Sha512::digest(message).to_vec(),
    }
}

/// Whether `algorithm` is one the key offers (else InvalidKeyUsageException as AWS).
pub fn check_signing_algorithm(spec: &str, usage: &str, algorithm: &str, arn: &str) -> KmsResult<()> {
    if crate::spec::signing_algorithms(spec, usage).contains(&algorithm) {
        Ok(())
    } else {
        Err(KmsError::InvalidKeyUsage(format!("Algorithm {algorithm} is incompatible with key spec {spec}. ({arn})")))
    }
}

/// The message as signed: RAW messages hashed; DIGEST messages checked for length.
fn prehash(algorithm: &str, message: &[u8], digest_given: bool) -> KmsResult<Vec<u8>> {
    let len = hash_of(algorithm);
    if digest_given {
        if message.len() != len {
            return Err(KmsError::Validation(format!("Digest is invalid length for algorithm {algorithm}.")));
        }
        Ok(message.to_vec())
    } else {
        Ok(digest(len, message))
    }
}

fn rsa_padding_sign(algorithm: &str) -> Pkcs1v15Sign {
    match hash_of(algorithm) {
        32 => Pkcs1v15Sign::new::<sha2::Sha256>(),
        48 => Pkcs1v15Sign::new::<sha2::Sha384>(),
        _ => Pkcs1v15Sign::new::<sha2::Sha512>(),
    }
}

fn rsa_pss(algorithm: &str) -> Pss {
    match hash_of(algorithm) {
        32 => Pss::new::<sha2::Sha256>(),
        48 => Pss::new::<sha2::Sha384>(),
        _ => Pss::new::<sha2::Sha512>(),
    }
}

pub fn sign(spec: &str, pkcs8: &[u8], algorithm: &str, message: &[u8], digest_given: bool) -> KmsResult<Vec<u8>> {
    if spec.starts_with("RSA_") {
        let key = RsaPrivateKey::from_pkcs8_der(pkcs8).map_err(internal)?;
        let hashed = prehash(algorithm, message, digest_given)?;
        return if algorithm.starts_with("RSASSA_PSS") {
            key.sign_with_rng(&mut rand::thread_rng(), rsa_pss(algorithm), &hashed).map_err(internal)
        } else {
            key.sign(rsa_padding_sign(algorithm), &hashed).map_err(internal)
        };
    }
    if digest_given {
        return Err(KmsError::NotSupported(format!("MessageType DIGEST with a {spec} key")));
    }
    let (alg, _, _) = ec_alg(spec)?;
    let rng = SystemRandom::new();
    let kp = EcdsaKeyPair::from_pkcs8(alg, pkcs8, &rng).map_err(internal)?;
    Ok(kp.sign(&rng, message).map_err(internal)?.as_ref().to_vec())
}

pub fn verify(spec: &str, pkcs8: &[u8], algorithm: &str, message: &[u8], digest_given: bool, signature: &[u8]) -> KmsResult<bool> {
    if spec.starts_with("RSA_") {
        let key = RsaPrivateKey::from_pkcs8_der(pkcs8).map_err(internal)?.to_public_key();
        let hashed = prehash(algorithm, message, digest_given)?;
        let ok = if algorithm.starts_with("RSASSA_PSS") { key.verify(rsa_pss(algorithm), &hashed, signature) } else { key.verify(rsa_padding_sign(algorithm), &hashed, signature) };
        return Ok(ok.is_ok());
    }
    if digest_given {
        return Err(KmsError::NotSupported(format!("MessageType DIGEST with a {spec} key")));
    }
    let (alg, ver, _) = ec_alg(spec)?;
    let kp = EcdsaKeyPair::from_pkcs8(alg, pkcs8, &SystemRandom::new()).map_err(internal)?;
    Ok(sig::UnparsedPublicKey::new(ver, kp.public_key().as_ref()).verify(message, signature).is_ok())
}

fn oaep(algorithm: &str) -> KmsResult<Oaep> {
    match algorithm {
        "RSAES_OAEP_SHA_1" => Ok(Oaep::new::<sha1::Sha1>()),
        "RSAES_OAEP_SHA_256" => Ok(Oaep::new::<sha2::Sha256>()),
        other => Err(KmsError::InvalidKeyUsage(format!("Algorithm {other} is incompatible with this key"))),
    }
}

pub fn rsa_encrypt(pkcs8: &[u8], algorithm: &str, plaintext: &[u8]) -> KmsResult<Vec<u8>> {
    let key = RsaPrivateKey::from_pkcs8_der(pkcs8).map_err(internal)?.to_public_key();
    key.encrypt(&mut rand::thread_rng(), oaep(algorithm)?, plaintext)
        .map_err(|_| KmsError::Validation(format!("Plaintext is too long for algorithm {algorithm} with this key.")))
}

pub fn rsa_decrypt(pkcs8: &[u8], algorithm: &str, ciphertext: &[u8]) -> KmsResult<Vec<u8>> {
    let key = RsaPrivateKey::from_pkcs8_der(pkcs8).map_err(internal)?;
    key.decrypt(oaep(algorithm)?, ciphertext).map_err(|_| KmsError::InvalidCiphertext(String::new()))
}

/// HMAC of `message`; with `expected`, whether it matches (the `hmac` crate's
/// constant-time check) — the MAC is then returned only if it does.
pub fn mac(spec: &str, key: &[u8], message: &[u8], expected: Option<&[u8]>) -> KmsResult<Option<Vec<u8>>> {
    use hmac::{KeyInit, Mac};
    macro_rules! run {
        ($h:ty) => {{
            let mut m = <hmac::Hmac<$h> as KeyInit>::new_from_slice(key).map_err(internal)?;
            m.update(message);
            match expected {
                None => Some(m.finalize().into_bytes().to_vec()),
                Some(e) => m.verify_slice(e).ok().map(|_| e.to_vec()),
            }
        }};
    }
    Ok(match spec {
        "HMAC_224" => run!(sha2_011::Sha224),
        "HMAC_256" => run!(sha2_011::Sha256),
        "HMAC_384" => run!(sha2_011::Sha384),
        "HMAC_512" => run!(sha2_011::Sha512),
        other => return Err(KmsError::InvalidKeyUsage(format!("KeySpec {other} cannot generate MACs"))),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ecdsa_signatures_verify_and_a_changed_message_does_not() {
        let k = ec_generate("ECC_NIST_P256").expect("gen");
        let s = sign("ECC_NIST_P256", &k, "ECDSA_SHA_256", b"hello", false).expect("sign");
        assert!(verify("ECC_NIST_P256", &k, "ECDSA_SHA_256", b"hello", false, &s).expect("verify"));
        assert!(!verify("ECC_NIST_P256", &k, "ECDSA_SHA_256", b"hellp", false, &s).expect("verify"));
        assert_eq!(public_key_der("ECC_NIST_P256", &k).expect("spki").len(), 91);
    }

    #[test]
    fn rsa_raw_and_digest_signatures_agree() {
        let k = rsa_generate(2048).expect("gen");
        let d = digest(32, b"msg");
        let s = sign("RSA_2048", &k, "RSASSA_PKCS1_V1_5_SHA_256", b"msg", false).expect("sign");
        assert!(verify("RSA_2048", &k, "RSASSA_PKCS1_V1_5_SHA_256", &d, true, &s).expect("verify"));
        let ct = rsa_encrypt(&k, "RSAES_OAEP_SHA_256", b"x").expect("enc");
        assert_eq!(rsa_decrypt(&k, "RSAES_OAEP_SHA_256", &ct).expect("dec"), b"x");
    }

    #[test]
    fn hmac_224_has_28_bytes() {
        let m = mac("HMAC_224", b"k", b"m", None).expect("mac").expect("some");
        assert_eq!(m.len(), 28);
        assert!(mac("HMAC_224", b"k", b"m", Some(&m)).expect("verify").is_some());
        assert!(mac("HMAC_224", b"k", b"n", Some(&m)).expect("verify").is_none());
    }
}
