//! Encrypt, Decrypt, ReEncrypt, GenerateDataKey(WithoutPlaintext) and GenerateRandom:
//! AES-256-GCM under a symmetric key's current material (`blob.rs`), RSA-OAEP under an
//! RSA key, the encryption context bound as additional authenticated data.
//! <https://docs.aws.amazon.com/kms/latest/APIReference/API_Encrypt.html>

use crate::errors::{KmsError, KmsResult};
use crate::keys::Key;
use crate::service::{b64, blob, check_usable, check_usage, context, s, KmsService};
use crate::spec::{ENCRYPT_DECRYPT, SYMMETRIC};
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::sync::Arc;

const MAX_PLAINTEXT: usize = 4096;
const MAX_CIPHERTEXT: usize = 6144;

fn incorrect_key() -> KmsError {
    KmsError::IncorrectKey("The key ID in the request does not identify a CMK that can perform this operation.".into())
}

fn check_plaintext(p: &[u8]) -> KmsResult<()> {
    if p.is_empty() {
        return Err(KmsError::Validation("1 validation error detected: Value at 'plaintext' failed to satisfy constraint: Member must have length greater than or equal to 1".into()));
    }
    if p.len() > MAX_PLAINTEXT {
        return Err(KmsError::Validation("1 validation error detected: Value at 'plaintext' failed to satisfy constraint: Member must have length less than or equal to 4096".into()));
    }
    Ok(())
}

fn check_ciphertext(c: &[u8], member: &str) -> KmsResult<()> {
    if c.is_empty() {
        return Err(KmsError::Validation(format!("1 validation error detected: Value at '{member}' failed to satisfy constraint: Member must have length greater than or equal to 1")));
    }
    if c.len() > MAX_CIPHERTEXT {
        return Err(KmsError::Validation(format!("1 validation error detected: Value at '{member}' failed to satisfy constraint: Member must have length less than or equal to 6144")));
    }
    Ok(())
}

/// The algorithm an Encrypt/Decrypt names for `key` (SYMMETRIC_DEFAULT by default),
/// InvalidKeyUsageException when the key does not offer it.
fn algorithm<'a>(key: &Key, account: &str, region: &str, given: Option<&'a str>) -> KmsResult<&'a str> {
    let alg = given.unwrap_or("SYMMETRIC_DEFAULT");
    if crate::spec::encryption_algorithms(&key.spec, &key.usage).contains(&alg) {
        Ok(alg)
    } else {
        Err(KmsError::InvalidKeyUsage(format!("Algorithm {alg} is incompatible with key spec {}. ({})", key.spec, key.arn(account, region))))
    }
}

fn no_context_for_rsa(ctx: &BTreeMap<String, String>) -> KmsResult<()> {
    if ctx.is_empty() {
        Ok(())
    } else {
        Err(KmsError::Validation("EncryptionContext is not supported with asymmetric KMS keys.".into()))
    }
}

fn refuse_recipient(input: &Value) -> KmsResult<()> {
    if input.get("Recipient").is_some() {
        return Err(KmsError::NotSupported("Recipient (Nitro Enclaves attestation)".into()));
    }
    Ok(())
}

/// GenerateRandom: 1–1024 random bytes.
pub(crate) fn generate_random(input: &Value) -> KmsResult<Value> {
    if s(input, "CustomKeyStoreId").is_some() {
        return Err(KmsError::NotSupported("CustomKeyStoreId".into()));
    }
    refuse_recipient(input)?;
    let n = match input.get("NumberOfBytes").and_then(Value::as_i64) {
        None => return Err(KmsError::Validation("Please specify number of bytes.".into())),
        Some(n) if n < 1 => return Err(KmsError::constraint(n, "numberOfBytes", "Member must have value greater than or equal to 1")),
        Some(n) if n > 1024 => return Err(KmsError::constraint(n, "numberOfBytes", "Member must have value less than or equal to 1024")),
        Some(n) => n as usize,
    };
    Ok(json!({ "Plaintext": b64(&crate::master::random_bytes(n).map_err(KmsError::Internal)?) }))
}

impl KmsService {
    /// Encrypts under a symmetric key: (blob, key ARN). Also the `KeyService` path.
    pub(crate) async fn encrypt_symmetric(&self, account: &str, region: &str, key_id: &str, plaintext: &[u8], ctx: &BTreeMap<String, String>) -> KmsResult<(Vec<u8>, String)> {
        let key = self.usable(account, region, Some(key_id)).await?;
        check_usage(&key, account, region, ENCRYPT_DECRYPT, "Encrypt")?;
        if key.spec != SYMMETRIC {
            return Err(KmsError::InvalidKeyUsage(format!("Algorithm SYMMETRIC_DEFAULT is incompatible with key spec {}. ({})", key.spec, key.arn(account, region))));
        }
        let (version, material) = key.current();
        Ok((crate::blob::seal(&key.id, version, &material, account, region, ctx, plaintext)?, key.arn(account, region)))
    }

    /// Decrypts a symmetric blob (the blob names its key; `key_id`, when given, must be
    /// that key): (plaintext, key).
    pub(crate) async fn decrypt_symmetric(&self, account: &str, region: &str, key_id: Option<&str>, ciphertext: &[u8], ctx: &BTreeMap<String, String>) -> KmsResult<(Vec<u8>, Arc<Key>)> {
        let header = crate::blob::parse(ciphertext)?;
        if let Some(k) = key_id {
            let named = self.key(account, region, Some(k)).await?;
            if named.id != header.key_id {
                return Err(incorrect_key());
            }
        }
        self.reg.settle(account, region).await;
        let key = self.reg.get(account, region, header.key_id).map_err(|_| KmsError::InvalidCiphertext(String::new()))?;
        check_usable(&key, account, region)?;
        let material = key.material.get(header.version as usize).cloned().ok_or_else(|| KmsError::InvalidCiphertext(String::new()))?;
        let plain = crate::blob::open(ciphertext, &header, &material, account, region, ctx)?;
        Ok((plain, key))
    }

    pub(crate) async fn encrypt_op(&self, account: &str, region: &str, input: &Value) -> KmsResult<Value> {
        let key_id = s(input, "KeyId").ok_or_else(|| KmsError::missing("keyId"))?;
        let plaintext = blob(input, "Plaintext")?.ok_or_else(|| KmsError::missing("plaintext"))?;
        check_plaintext(&plaintext)?;
        let ctx = context(input, "EncryptionContext");
        let key = self.usable(account, region, Some(key_id)).await?;
        check_usage(&key, account, region, ENCRYPT_DECRYPT, "Encrypt")?;
        let alg = algorithm(&key, account, region, s(input, "EncryptionAlgorithm"))?;
        let ciphertext = if key.spec == SYMMETRIC {
            self.encrypt_symmetric(account, region, &key.id, &plaintext, &ctx).await?.0
        } else {
            no_context_for_rsa(&ctx)?;
            let (_, material) = key.current();
            crate::asym::rsa_encrypt(&material, alg, &plaintext)?
        };
        Ok(json!({ "CiphertextBlob": b64(&ciphertext), "KeyId": key.arn(account, region), "EncryptionAlgorithm": alg }))
    }

    /// Decrypt's work without the response: (plaintext, key, algorithm).
    async fn decrypt_any(&self, account: &str, region: &str, key_id: Option<&str>, ciphertext: &[u8], ctx: &BTreeMap<String, String>, alg: Option<&str>) -> KmsResult<(Vec<u8>, Arc<Key>, String)> {
        check_ciphertext(ciphertext, "ciphertextBlob")?;
        if let Some(k) = key_id {
            let key = self.key(account, region, Some(k)).await?;
            if key.spec != SYMMETRIC {
                check_usable(&key, account, region)?;
                check_usage(&key, account, region, ENCRYPT_DECRYPT, "Decrypt")?;
                let a = alg.ok_or_else(|| KmsError::InvalidKeyUsage(format!("Algorithm SYMMETRIC_DEFAULT is incompatible with key spec {}. ({})", key.spec, key.arn(account, region))))?;
                let a = algorithm(&key, account, region, Some(a))?.to_string();
                no_context_for_rsa(ctx)?;
                let (_, material) = key.current();
                let plain = crate::asym::rsa_decrypt(&material, &a, ciphertext)?;
                return Ok((plain, key, a));
            }
        }
        if let Some(a) = alg {
            if a != "SYMMETRIC_DEFAULT" {
                return Err(KmsError::InvalidCiphertext(String::new()));
            }
        }
        let (plain, key) = self.decrypt_symmetric(account, region, key_id, ciphertext, ctx).await?;
        check_usage(&key, account, region, ENCRYPT_DECRYPT, "Decrypt")?;
        Ok((plain, key, "SYMMETRIC_DEFAULT".into()))
    }

    pub(crate) async fn decrypt_op(&self, account: &str, region: &str, input: &Value) -> KmsResult<Value> {
        refuse_recipient(input)?;
        let ciphertext = blob(input, "CiphertextBlob")?.ok_or_else(|| KmsError::missing("ciphertextBlob"))?;
        let ctx = context(input, "EncryptionContext");
        let (plain, key, alg) = self.decrypt_any(account, region, s(input, "KeyId"), &ciphertext, &ctx, s(input, "EncryptionAlgorithm")).await?;
        Ok(json!({ "KeyId": key.arn(account, region), "Plaintext": b64(&plain), "EncryptionAlgorithm": alg }))
    }

    /// <https://docs.aws.amazon.com/kms/latest/APIReference/API_ReEncrypt.html>
    pub(crate) async fn re_encrypt(&self, account: &str, region: &str, input: &Value) -> KmsResult<Value> {
        let ciphertext = blob(input, "CiphertextBlob")?.ok_or_else(|| KmsError::missing("ciphertextBlob"))?;
        let dest_id = s(input, "DestinationKeyId").ok_or_else(|| KmsError::missing("destinationKeyId"))?;
        let src_ctx = context(input, "SourceEncryptionContext");
        let (plain, src, src_alg) = self.decrypt_any(account, region, s(input, "SourceKeyId"), &ciphertext, &src_ctx, s(input, "SourceEncryptionAlgorithm")).await?;
        let dest = self.usable(account, region, Some(dest_id)).await?;
        check_usage(&dest, account, region, ENCRYPT_DECRYPT, "ReEncrypt")?;
        let dest_alg = algorithm(&dest, account, region, s(input, "DestinationEncryptionAlgorithm"))?;
        let dest_ctx = context(input, "DestinationEncryptionContext");
        let out = if dest.spec == SYMMETRIC {
            self.encrypt_symmetric(account, region, &dest.id, &plain, &dest_ctx).await?.0
        } else {
            no_context_for_rsa(&dest_ctx)?;
            crate::asym::rsa_encrypt(&dest.current().1, dest_alg, &plain)?
        };
        Ok(json!({
            "CiphertextBlob": b64(&out),
            "SourceKeyId": src.arn(account, region),
            "KeyId": dest.arn(account, region),
            "SourceEncryptionAlgorithm": src_alg,
            "DestinationEncryptionAlgorithm": dest_alg,
        }))
    }

    /// <https://docs.aws.amazon.com/kms/latest/APIReference/API_GenerateDataKey.html>
    pub(crate) async fn generate_data_key(&self, account: &str, region: &str, input: &Value, with_plaintext: bool) -> KmsResult<Value> {
        refuse_recipient(input)?;
        let key_id = s(input, "KeyId").ok_or_else(|| KmsError::missing("keyId"))?;
        let n = match (s(input, "KeySpec"), input.get("NumberOfBytes").and_then(Value::as_i64)) {
            (Some(_), Some(_)) | (None, None) => return Err(KmsError::Validation("Please specify either number of bytes or key spec.".into())),
            (Some("AES_256"), None) => 32,
            (Some("AES_128"), None) => 16,
            (Some(other), None) => return Err(KmsError::constraint(other, "keySpec", "Member must satisfy enum value set: [AES_256, AES_128]")),
            (None, Some(n)) if n < 1 => return Err(KmsError::constraint(n, "numberOfBytes", "Member must have value greater than or equal to 1")),
            (None, Some(n)) if n > 1024 => return Err(KmsError::constraint(n, "numberOfBytes", "Member must have value less than or equal to 1024")),
            (None, Some(n)) => n as usize,
        };
        let key = self.usable(account, region, Some(key_id)).await?;
        check_usage(&key, account, region, ENCRYPT_DECRYPT, "GenerateDataKey")?;
        if key.spec != SYMMETRIC {
            return Err(KmsError::InvalidKeyUsage(format!("{} key spec is {}: data keys need a symmetric encryption KMS key.", key.arn(account, region), key.spec)));
        }
        let data_key = crate::master::random_bytes(n).map_err(KmsError::Internal)?;
        let ctx = context(input, "EncryptionContext");
        let (ciphertext, arn) = self.encrypt_symmetric(account, region, &key.id, &data_key, &ctx).await?;
        let mut out = json!({ "CiphertextBlob": b64(&ciphertext), "KeyId": arn });
        if with_plaintext {
            out["Plaintext"] = b64(&data_key);
        }
        Ok(out)
    }
}
