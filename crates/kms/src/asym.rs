//! Key-pair and HMAC cryptography on vetted libraries: RSA (the `rsa` crate: key
//! generation, PSS and PKCS#1 v1.5 signatures over a digest, OAEP), ECDSA on P-256,
//! P-384, P-521 and secp256k1 (RustCrypto's `p256` / `p384` / `p521` / `k256`: randomized
//! signatures over a digest, so MessageType DIGEST works), HMAC (the `hmac` crate; ring
//! has no SHA-224). Key pairs are PKCS#8 DER; public keys are DER SubjectPublicKeyInfo
//! as GetPublicKey returns them.

use crate::errors::{KmsError, KmsResult};
use rsa::pkcs8::{DecodePrivateKey, EncodePrivateKey, EncodePublicKey};
use rsa::{Oaep, Pkcs1v15Sign, Pss, RsaPrivateKey};

fn internal<E: std::fmt::Display>(e: E) -> KmsError {
    KmsError::Internal(e.to_string())
}

pub fn rsa_generate(bits: usize) -> KmsResult<Vec<u8>> {
    let key = RsaPrivateKey::new(&mut rand::thread_rng(), bits).map_err(internal)?;
    Ok(key.to_pkcs8_der().map_err(internal)?.as_bytes().to_vec())
}

/// ECDSA on one curve: generate, public key, sign and verify a digest.
macro_rules! curve {
    ($m:ident, $krate:ident, $verifying:expr) => {
        mod $m {
            use super::internal;
            use crate::errors::KmsResult;
            use $krate::ecdsa::signature::hazmat::{PrehashVerifier, RandomizedPrehashSigner};
            use $krate::ecdsa::{Signature, SigningKey};
            use $krate::pkcs8::{DecodePrivateKey, EncodePrivateKey, EncodePublicKey};
            use $krate::SecretKey;

            pub fn generate() -> KmsResult<Vec<u8>> {
                let sk = SecretKey::random(&mut rand::rngs::OsRng);
                Ok(sk.to_pkcs8_der().map_err(internal)?.as_bytes().to_vec())
            }

            fn secret(pkcs8: &[u8]) -> KmsResult<SecretKey> {
                SecretKey::from_pkcs8_der(pkcs8).map_err(internal)
            }

            pub fn public_der(pkcs8: &[u8]) -> KmsResult<Vec<u8>> {
                Ok(secret(pkcs8)?.public_key().to_public_key_der().map_err(internal)?.as_bytes().to_vec())
            }

            pub fn sign(pkcs8: &[u8], digest: &[u8]) -> KmsResult<Vec<u8>> {
                let key = SigningKey::from_bytes(&secret(pkcs8)?.to_bytes()).map_err(internal)?;
                let sig: Signature = key.sign_prehash_with_rng(&mut rand::rngs::OsRng, digest).map_err(internal)?;
                Ok(sig.to_der().as_bytes().to_vec())
            }

            pub fn verify(pkcs8: &[u8], digest: &[u8], signature: &[u8]) -> KmsResult<bool> {
                let public = secret(pkcs8)?.public_key();
                let key = $verifying(&public)?;
                let Ok(sig) = Signature::from_der(signature) else { return Ok(false) };
                Ok(key.verify_prehash(digest, &sig).is_ok())
            }
        }
    };
}

curve!(ec_p256, p256, |p: &p256::PublicKey| -> KmsResult<p256::ecdsa::VerifyingKey> { Ok(p256::ecdsa::VerifyingKey::from(p)) });
curve!(ec_p384, p384, |p: &p384::PublicKey| -> KmsResult<p384::ecdsa::VerifyingKey> { Ok(p384::ecdsa::VerifyingKey::from(p)) });
curve!(ec_k256, k256, |p: &k256::PublicKey| -> KmsResult<k256::ecdsa::VerifyingKey> { Ok(k256::ecdsa::VerifyingKey::from(p)) });
// P-521's `VerifyingKey` is a newtype in `p521` built from the encoded point.
curve!(ec_p521, p521, |p: &p521::PublicKey| -> KmsResult<p521::ecdsa::VerifyingKey> {
    p521::ecdsa::VerifyingKey::from_encoded_point(&p521::EncodedPoint::from(*p)).map_err(internal)
});

pub fn ec_generate(spec: &str) -> KmsResult<Vec<u8>> {
    match spec {
        "ECC_NIST_P256" => ec_p256::generate(),
        "ECC_NIST_P384" => ec_p384::generate(),
        "ECC_NIST_P521" => ec_p521::generate(),
        "ECC_SECG_P256K1" => ec_k256::generate(),
        other => Err(KmsError::NotSupported(format!("KeySpec {other}"))),
    }
}

/// DER SubjectPublicKeyInfo of a key pair.
pub fn public_key_der(spec: &str, pkcs8: &[u8]) -> KmsResult<Vec<u8>> {
    match spec {
        s if s.starts_with("RSA_") => {
            let key = RsaPrivateKey::from_pkcs8_der(pkcs8).map_err(internal)?;
            Ok(key.to_public_key().to_public_key_der().map_err(internal)?.as_bytes().to_vec())
        }
        "ECC_NIST_P256" => ec_p256::public_der(pkcs8),
        "ECC_NIST_P384" => ec_p384::public_der(pkcs8),
        "ECC_NIST_P521" => ec_p521::public_der(pkcs8),
        "ECC_SECG_P256K1" => ec_k256::public_der(pkcs8),
        other => Err(KmsError::NotSupported(format!("KeySpec {other}"))),
    }
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
    let hashed = prehash(algorithm, message, digest_given)?;
    match spec {
        s if s.starts_with("RSA_") => {
            let key = RsaPrivateKey::from_pkcs8_der(pkcs8).map_err(internal)?;
            if algorithm.starts_with("RSASSA_PSS") {
                key.sign_with_rng(&mut rand::thread_rng(), rsa_pss(algorithm), &hashed).map_err(internal)
            } else {
                key.sign(rsa_padding_sign(algorithm), &hashed).map_err(internal)
            }
        }
        "ECC_NIST_P256" => ec_p256::sign(pkcs8, &hashed),
        "ECC_NIST_P384" => ec_p384::sign(pkcs8, &hashed),
        "ECC_NIST_P521" => ec_p521::sign(pkcs8, &hashed),
        "ECC_SECG_P256K1" => ec_k256::sign(pkcs8, &hashed),
        other => Err(KmsError::NotSupported(format!("KeySpec {other}"))),
    }
}

pub fn verify(spec: &str, pkcs8: &[u8], algorithm: &str, message: &[u8], digest_given: bool, signature: &[u8]) -> KmsResult<bool> {
    let hashed = prehash(algorithm, message, digest_given)?;
    match spec {
        s if s.starts_with("RSA_") => {
            let key = RsaPrivateKey::from_pkcs8_der(pkcs8).map_err(internal)?.to_public_key();
            let ok = if algorithm.starts_with("RSASSA_PSS") { key.verify(rsa_pss(algorithm), &hashed, signature) } else { key.verify(rsa_padding_sign(algorithm), &hashed, signature) };
            Ok(ok.is_ok())
        }
        "ECC_NIST_P256" => ec_p256::verify(pkcs8, &hashed, signature),
        "ECC_NIST_P384" => ec_p384::verify(pkcs8, &hashed, signature),
        "ECC_NIST_P521" => ec_p521::verify(pkcs8, &hashed, signature),
        "ECC_SECG_P256K1" => ec_k256::verify(pkcs8, &hashed, signature),
        other => Err(KmsError::NotSupported(format!("KeySpec {other}"))),
    }
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
    use hmac::{Mac, digest::KeyInit};
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
        "HMAC_224" => run!(sha2::Sha224),
        "HMAC_256" => run!(sha2::Sha256),
        "HMAC_384" => run!(sha2::Sha384),
        "HMAC_512" => run!(sha2::Sha512),
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
        for (spec, alg) in [("ECC_NIST_P384", "ECDSA_SHA_384"), ("ECC_NIST_P521", "ECDSA_SHA_512"), ("ECC_SECG_P256K1", "ECDSA_SHA_256")] {
            let k = ec_generate(spec).expect("gen");
            let s = sign(spec, &k, alg, b"m", false).expect("sign");
            let d = digest(hash_of(alg), b"m");
            assert!(verify(spec, &k, alg, &d, true, &s).expect("verify digest"), "{spec}");
            assert!(!verify(spec, &k, alg, b"n", false, &s).expect("verify"), "{spec}");
        }
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
