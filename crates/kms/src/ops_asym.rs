//! Key pairs and HMAC keys: Sign / Verify (RAW and DIGEST), GetPublicKey, GenerateMac /
//! VerifyMac, GenerateDataKeyPair(WithoutPlaintext). The cryptography is `asym.rs`.
//! <https://docs.aws.amazon.com/kms/latest/APIReference/API_Sign.html>

use crate::errors::{KmsError, KmsResult};
use crate::service::{b64, blob, check_usage, context, s, KmsService};
use crate::spec::{MAC, SIGN_VERIFY};
use serde_json::{json, Value};

fn message(input: &Value) -> KmsResult<Vec<u8>> {
    let m = blob(input, "Message")?.ok_or_else(|| KmsError::missing("message"))?;
    if m.is_empty() {
        return Err(KmsError::Validation("1 validation error detected: Value at 'message' failed to satisfy constraint: Member must have length greater than or equal to 1".into()));
    }
    if m.len() > 4096 {
        return Err(KmsError::Validation("1 validation error detected: Value at 'message' failed to satisfy constraint: Member must have length less than or equal to 4096".into()));
    }
    Ok(m)
}

/// MessageType: RAW (default) or DIGEST.
fn is_digest(input: &Value) -> KmsResult<bool> {
    match s(input, "MessageType") {
        None | Some("RAW") => Ok(false),
        Some("DIGEST") => Ok(true),
        Some(other) => Err(KmsError::constraint(other, "messageType", "Member must satisfy enum value set: [RAW, DIGEST, EXTERNAL_MU]")),
    }
}

impl KmsService {
    pub(crate) async fn sign(&self, account: &str, region: &str, input: &Value) -> KmsResult<Value> {
        let msg = message(input)?;
        let digest = is_digest(input)?;
        let alg = s(input, "SigningAlgorithm").ok_or_else(|| KmsError::missing("signingAlgorithm"))?;
        let key = self.usable(account, region, s(input, "KeyId")).await?;
        check_usage(&key, account, region, SIGN_VERIFY, "Sign")?;
        let arn = key.arn(account, region);
        crate::asym::check_signing_algorithm(&key.spec, &key.usage, alg, &arn)?;
        let (spec, material, alg_s, m) = (key.spec.clone(), key.current().1, alg.to_string(), msg);
        let signature = tokio::task::spawn_blocking(move || crate::asym::sign(&spec, &material, &alg_s, &m, digest)).await.map_err(|e| KmsError::Internal(e.to_string()))??;
        Ok(json!({ "KeyId": arn, "Signature": b64(&signature), "SigningAlgorithm": alg }))
    }

    pub(crate) async fn verify(&self, account: &str, region: &str, input: &Value) -> KmsResult<Value> {
        let msg = message(input)?;
        let digest = is_digest(input)?;
        let alg = s(input, "SigningAlgorithm").ok_or_else(|| KmsError::missing("signingAlgorithm"))?;
        let signature = blob(input, "Signature")?.ok_or_else(|| KmsError::missing("signature"))?;
        let key = self.usable(account, region, s(input, "KeyId")).await?;
        check_usage(&key, account, region, SIGN_VERIFY, "Verify")?;
        let arn = key.arn(account, region);
        crate::asym::check_signing_algorithm(&key.spec, &key.usage, alg, &arn)?;
        if !crate::asym::verify(&key.spec, &key.current().1, alg, &msg, digest, &signature)? {
            return Err(KmsError::InvalidSignature(String::new()));
        }
        Ok(json!({ "KeyId": arn, "SignatureValid": true, "SigningAlgorithm": alg }))
    }

    /// <https://docs.aws.amazon.com/kms/latest/APIReference/API_GetPublicKey.html>
    pub(crate) async fn get_public_key(&self, account: &str, region: &str, input: &Value) -> KmsResult<Value> {
        let key = self.usable(account, region, s(input, "KeyId")).await?;
        let arn = key.arn(account, region);
        if !(crate::spec::is_rsa(&key.spec) || crate::spec::is_ecc(&key.spec)) {
            return Err(KmsError::Unsupported(format!("{arn} is not an asymmetric KMS key: it has no public key.")));
        }
        let der = crate::asym::public_key_der(&key.spec, &key.current().1)?;
        let mut out = json!({ "KeyId": arn, "PublicKey": b64(&der), "CustomerMasterKeySpec": key.spec, "KeySpec": key.spec, "KeyUsage": key.usage });
        let enc = crate::spec::encryption_algorithms(&key.spec, &key.usage);
        if !enc.is_empty() {
            out["EncryptionAlgorithms"] = json!(enc);
        }
        let sig = crate::spec::signing_algorithms(&key.spec, &key.usage);
        if !sig.is_empty() {
            out["SigningAlgorithms"] = json!(sig);
        }
        Ok(out)
    }

    async fn mac_of(&self, account: &str, region: &str, input: &Value, expected: Option<&[u8]>, operation: &str) -> KmsResult<(String, String, Option<Vec<u8>>)> {
        let msg = message(input)?;
        let alg = s(input, "MacAlgorithm").ok_or_else(|| KmsError::missing("macAlgorithm"))?;
        let key = self.usable(account, region, s(input, "KeyId")).await?;
        check_usage(&key, account, region, MAC, operation)?;
        let arn = key.arn(account, region);
        if !crate::spec::mac_algorithms(&key.spec).contains(&alg) {
            return Err(KmsError::InvalidKeyUsage(format!("Algorithm {alg} is incompatible with key spec {}. ({arn})", key.spec)));
        }
        Ok((arn, alg.to_string(), crate::asym::mac(&key.spec, &key.current().1, &msg, expected)?))
    }

    pub(crate) async fn generate_mac(&self, account: &str, region: &str, input: &Value) -> KmsResult<Value> {
        let (arn, alg, mac) = self.mac_of(account, region, input, None, "GenerateMac").await?;
        Ok(json!({ "KeyId": arn, "Mac": b64(&mac.unwrap_or_default()), "MacAlgorithm": alg }))
    }

    pub(crate) async fn verify_mac(&self, account: &str, region: &str, input: &Value) -> KmsResult<Value> {
        let given = blob(input, "Mac")?.ok_or_else(|| KmsError::missing("mac"))?;
        let (arn, alg, mac) = self.mac_of(account, region, input, Some(&given), "VerifyMac").await?;
        if mac.is_none() {
            return Err(KmsError::InvalidMac(String::new()));
        }
        Ok(json!({ "KeyId": arn, "MacValid": true, "MacAlgorithm": alg }))
    }

    /// <https://docs.aws.amazon.com/kms/latest/APIReference/API_GenerateDataKeyPair.html>
    pub(crate) async fn generate_data_key_pair(&self, account: &str, region: &str, input: &Value, with_plaintext: bool) -> KmsResult<Value> {
        if input.get("Recipient").is_some() {
            return Err(KmsError::NotSupported("Recipient (Nitro Enclaves attestation)".into()));
        }
        let key_id = s(input, "KeyId").ok_or_else(|| KmsError::missing("keyId"))?;
        let spec = s(input, "KeyPairSpec").ok_or_else(|| KmsError::missing("keyPairSpec"))?;
        match spec {
            "RSA_2048" | "RSA_3072" | "RSA_4096" | "ECC_NIST_P256" | "ECC_NIST_P384" | "ECC_NIST_P521" | "ECC_SECG_P256K1" => {}
            "SM2" => return Err(KmsError::NotSupported(format!("KeyPairSpec {spec}"))),
            other => return Err(KmsError::constraint(other, "keyPairSpec", "Member must satisfy enum value set: [RSA_2048, RSA_3072, RSA_4096, ECC_NIST_P256, ECC_NIST_P384, ECC_NIST_P521, ECC_SECG_P256K1, SM2]")),
        }
        let key = self.usable(account, region, Some(key_id)).await?;
        check_usage(&key, account, region, crate::spec::ENCRYPT_DECRYPT, "GenerateDataKeyPair")?;
        if key.spec != crate::spec::SYMMETRIC {
            return Err(KmsError::InvalidKeyUsage(format!("{} key spec is {}: data key pairs need a symmetric encryption KMS key.", key.arn(account, region), key.spec)));
        }
        let spec_s = spec.to_string();
        let private = tokio::task::spawn_blocking(move || crate::spec::generate(&spec_s)).await.map_err(|e| KmsError::Internal(e.to_string()))??;
        let public = crate::asym::public_key_der(spec, &private)?;
        let ctx = context(input, "EncryptionContext");
        let (ciphertext, arn) = self.encrypt_symmetric(account, region, &key.id, &private, &ctx).await?;
        let mut out = json!({ "PrivateKeyCiphertextBlob": b64(&ciphertext), "PublicKey": b64(&public), "KeyId": arn, "KeyPairSpec": spec });
        if with_plaintext {
            out["PrivateKeyPlaintext"] = b64(&private);
        }
        Ok(out)
    }
}
