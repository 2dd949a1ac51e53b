//! Key specs and key usages: which combinations CreateKey accepts, the algorithms each
//! key offers (DescribeKey, GetPublicKey), and generating fresh key material.
//! <https://docs.aws.amazon.com/kms/latest/developerguide/symm-asymm-choose-key-spec.html>

use crate::errors::{KmsError, KmsResult};
use crate::master::random_bytes;

pub const SYMMETRIC: &str = "SYMMETRIC_DEFAULT";
pub const ENCRYPT_DECRYPT: &str = "ENCRYPT_DECRYPT";
pub const SIGN_VERIFY: &str = "SIGN_VERIFY";
pub const MAC: &str = "GENERATE_VERIFY_MAC";

pub const ALL_SPECS: &[&str] = &[
    "RSA_2048", "RSA_3072", "RSA_4096", "ECC_NIST_P256", "ECC_NIST_P384", "ECC_NIST_P521", "ECC_SECG_P256K1", "SYMMETRIC_DEFAULT", "HMAC_224", "HMAC_256",
    "HMAC_384", "HMAC_512", "SM2", "ML_DSA_44", "ML_DSA_65", "ML_DSA_87", "ECC_NIST_EDWARDS25519",
];
pub const ALL_USAGES: &[&str] = &["SIGN_VERIFY", "ENCRYPT_DECRYPT", "GENERATE_VERIFY_MAC", "KEY_AGREEMENT"];

/// The usages AWS allows for a spec (KEY_AGREEMENT is not implemented by nimbus).
fn usages(spec: &str) -> &'static [&'static str] {
    match spec {
        SYMMETRIC => &[ENCRYPT_DECRYPT],
        s if s.starts_with("RSA_") => &[ENCRYPT_DECRYPT, SIGN_VERIFY],
        "ECC_NIST_P256" | "ECC_NIST_P384" | "ECC_NIST_P521" => &[SIGN_VERIFY, "KEY_AGREEMENT"],
        "ECC_SECG_P256K1" => &[SIGN_VERIFY],
        s if s.starts_with("HMAC_") => &[MAC],
        _ => &[],
    }
}

/// CreateKey's check of KeySpec × KeyUsage; the usage to store.
pub fn check(spec: &str, usage: Option<&str>) -> KmsResult<&'static str> {
    if !ALL_SPECS.contains(&spec) {
        return Err(KmsError::constraint(spec, "keySpec", &format!("Member must satisfy enum value set: [{}]", ALL_SPECS.join(", "))));
    }
    if let Some(u) = usage {
        if !ALL_USAGES.contains(&u) {
            return Err(KmsError::constraint(u, "keyUsage", &format!("Member must satisfy enum value set: [{}]", ALL_USAGES.join(", "))));
        }
    }
    let allowed = usages(spec);
    if allowed.is_empty() {
        return Err(KmsError::NotSupported(format!("KeySpec {spec}")));
    }
    let usage = match usage {
        None if spec == SYMMETRIC => ENCRYPT_DECRYPT,
        None if spec.starts_with("HMAC_") => MAC,
        None => return Err(KmsError::Validation(format!("You must specify a KeyUsage value for an asymmetric KMS key with KeySpec {spec}."))),
        Some(u) => match allowed.iter().find(|a| **a == u) {
            Some(a) => a,
            None => return Err(KmsError::Validation(format!("KeyUsage {u} is not compatible with KeySpec {spec}"))),
        },
    };
    if usage == "KEY_AGREEMENT" {
        return Err(KmsError::NotSupported("KeyUsage KEY_AGREEMENT".into()));
    }
    Ok(usage)
}

pub fn is_rsa(spec: &str) -> bool {
    spec.starts_with("RSA_")
}
pub fn is_ecc(spec: &str) -> bool {
    spec.starts_with("ECC_")
}

pub fn encryption_algorithms(spec: &str, usage: &str) -> Vec<&'static str> {
    match (spec, usage) {
        (SYMMETRIC, _) => vec!["SYMMETRIC_DEFAULT"],
        (s, ENCRYPT_DECRYPT) if is_rsa(s) => vec!["RSAES_OAEP_SHA_1", "RSAES_OAEP_SHA_256"],
        _ => vec![],
    }
}

pub fn signing_algorithms(spec: &str, usage: &str) -> Vec<&'static str> {
    if usage != SIGN_VERIFY {
        return vec![];
    }
    match spec {
        s if is_rsa(s) => vec![
            "RSASSA_PSS_SHA_256", "RSASSA_PSS_SHA_384", "RSASSA_PSS_SHA_512", "RSASSA_PKCS1_V1_5_SHA_256", "RSASSA_PKCS1_V1_5_SHA_384", "RSASSA_PKCS1_V1_5_SHA_512",
        ],
        "ECC_NIST_P256" | "ECC_SECG_P256K1" => vec!["ECDSA_SHA_256"],
        "ECC_NIST_P384" => vec!["ECDSA_SHA_384"],
        "ECC_NIST_P521" => vec!["ECDSA_SHA_512"],
        _ => vec![],
    }
}

pub fn mac_algorithms(spec: &str) -> Vec<&'static str> {
    match spec {
        "HMAC_224" => vec!["HMAC_SHA_224"],
        "HMAC_256" => vec!["HMAC_SHA_256"],
        "HMAC_384" => vec!["HMAC_SHA_384"],
        "HMAC_512" => vec!["HMAC_SHA_512"],
        _ => vec![],
    }
}

/// Fresh key material: 32 bytes for symmetric keys, the digest size for HMAC keys,
/// PKCS#8 DER for key pairs.
pub fn generate(spec: &str) -> KmsResult<Vec<u8>> {
    let internal = KmsError::Internal;
    match spec {
        SYMMETRIC => random_bytes(32).map_err(internal),
        "HMAC_224" => random_bytes(28).map_err(internal),
        "HMAC_256" => random_bytes(32).map_err(internal),
        "HMAC_384" => random_bytes(48).map_err(internal),
        "HMAC_512" => random_bytes(64).map_err(internal),
        "RSA_2048" => crate::asym::rsa_generate(2048),
        "RSA_3072" => crate::asym::rsa_generate(3072),
        "RSA_4096" => crate::asym::rsa_generate(4096),
        s if s.starts_with("ECC_") => crate::asym::ec_generate(s),
        other => Err(KmsError::NotSupported(format!("KeySpec {other}"))),
    }
}
