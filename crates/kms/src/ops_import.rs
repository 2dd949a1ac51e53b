//! EXTERNAL keys (imported key material): GetParametersForImport (an RSA wrapping key and
//! an import token valid 24 hours on nimbus's clock), ImportKeyMaterial (RSA-OAEP
//! unwrapping, `ExpirationModel` / `ValidTo` applied on the clock, a reimport must bring
//! the same material), DeleteImportedKeyMaterial. Symmetric and HMAC keys.
//! <https://docs.aws.amazon.com/kms/latest/developerguide/importing-keys.html>

use crate::errors::{KmsError, KmsResult};
use crate::keys::{Key, DAY_MS};
use crate::service::{b64, blob, s, secs, KmsService};
use base64::Engine;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PendingImport {
    /// base64 of the import token.
    pub token: String,
    /// The wrapping key's PKCS#8, sealed under the master key.
    pub wrapping: String,
    pub algorithm: String,
    pub valid_to_ms: u64,
}

fn import_label(account: &str, region: &str, id: &str) -> String {
    format!("{account}/{region}/{id}/import")
}

/// The key's material is gone (deleted or expired): PendingImport until reimported.
pub(crate) fn forget_material(k: &mut Key) {
    if let Some(s) = k.sealed.first() {
        k.retired = Some(s.clone());
    }
    k.sealed.clear();
    k.material.clear();
    k.valid_to_ms = None;
    if k.state != "PendingDeletion" {
        k.state = "PendingImport".into();
    }
}

fn external(key: &Key, account: &str, region: &str) -> KmsResult<()> {
    if key.origin != "EXTERNAL" {
        return Err(KmsError::Unsupported(format!("{} origin is {} which is not valid for this operation.", key.arn(account, region), key.origin)));
    }
    if key.state == "PendingDeletion" {
        return Err(KmsError::InvalidState(format!("{} is pending deletion.", key.arn(account, region))));
    }
    Ok(())
}

/// The lengths AWS accepts for imported material of each key spec.
fn material_fits(spec: &str, len: usize) -> bool {
    match spec {
        crate::spec::SYMMETRIC => len == 32,
        "HMAC_224" => (28..=64).contains(&len),
        "HMAC_256" => (32..=64).contains(&len),
        "HMAC_384" => (48..=128).contains(&len),
        "HMAC_512" => (64..=128).contains(&len),
        _ => false,
    }
}

impl KmsService {
    pub(crate) async fn get_parameters_for_import(&self, account: &str, region: &str, input: &Value) -> KmsResult<Value> {
        let algorithm = s(input, "WrappingAlgorithm").ok_or_else(|| KmsError::missing("wrappingAlgorithm"))?;
        match algorithm {
            "RSAES_OAEP_SHA_1" | "RSAES_OAEP_SHA_256" => {}
            "RSAES_PKCS1_V1_5" | "RSA_AES_KEY_WRAP_SHA_1" | "RSA_AES_KEY_WRAP_SHA_256" | "SM2PKE" => return Err(KmsError::NotSupported(format!("WrappingAlgorithm {algorithm}"))),
            other => {
                return Err(KmsError::constraint(other, "wrappingAlgorithm", "Member must satisfy enum value set: [RSAES_PKCS1_V1_5, RSAES_OAEP_SHA_1, RSAES_OAEP_SHA_256, RSA_AES_KEY_WRAP_SHA_1, RSA_AES_KEY_WRAP_SHA_256, SM2PKE]"))
            }
        }
        let bits = match s(input, "WrappingKeySpec").ok_or_else(|| KmsError::missing("wrappingKeySpec"))? {
            "RSA_2048" => 2048,
            "RSA_3072" => 3072,
            "RSA_4096" => 4096,
            "SM2" => return Err(KmsError::NotSupported("WrappingKeySpec SM2".into())),
            other => return Err(KmsError::constraint(other, "wrappingKeySpec", "Member must satisfy enum value set: [RSA_2048, RSA_3072, RSA_4096, SM2]")),
        };
        let key = self.key(account, region, s(input, "KeyId")).await?;
        external(&key, account, region)?;
        let wrapping = tokio::task::spawn_blocking(move || crate::asym::rsa_generate(bits)).await.map_err(|e| KmsError::Internal(e.to_string()))??;
        let public = crate::asym::public_key_der("RSA_", &wrapping)?;
        let token = crate::master::random_bytes(64).map_err(KmsError::Internal)?;
        let valid_to = self.reg.clock.now_ms() + DAY_MS;
        let pending = PendingImport {
            token: base64::engine::general_purpose::STANDARD.encode(&token),
            wrapping: self.reg.seal(&import_label(account, region, &key.id), &wrapping)?,
            algorithm: algorithm.to_string(),
            valid_to_ms: valid_to,
        };
        self.reg.modify(account, region, &key.id, |k| { k.import = Some(pending); }).await?;
        Ok(json!({ "KeyId": key.arn(account, region), "ImportToken": b64(&token), "PublicKey": b64(&public), "ParametersValidTo": secs(valid_to) }))
    }

    pub(crate) async fn import_key_material(&self, account: &str, region: &str, input: &Value) -> KmsResult<Value> {
        let token = blob(input, "ImportToken")?.ok_or_else(|| KmsError::missing("importToken"))?;
        let wrapped = blob(input, "EncryptedKeyMaterial")?.ok_or_else(|| KmsError::missing("encryptedKeyMaterial"))?;
        let valid_to = input.get("ValidTo").and_then(Value::as_f64).map(|v| (v * 1000.0) as u64);
        let now = self.reg.clock.now_ms();
        let valid_to = match (s(input, "ExpirationModel"), valid_to) {
            (Some("KEY_MATERIAL_EXPIRES"), None) => return Err(KmsError::Validation("A validTo date must be set if the ExpirationModel is KEY_MATERIAL_EXPIRES".into())),
            (Some("KEY_MATERIAL_EXPIRES"), Some(v)) | (None, Some(v)) => {
                if v <= now || v > now + 365 * DAY_MS {
                    return Err(KmsError::Validation("ValidTo must be in the future and at most 365 days from now.".into()));
                }
                Some(v)
            }
            (Some("KEY_MATERIAL_DOES_NOT_EXPIRE"), Some(_)) => return Err(KmsError::Validation("A validTo date is only valid if the specified ExpirationModel is KEY_MATERIAL_EXPIRES".into())),
            (Some("KEY_MATERIAL_DOES_NOT_EXPIRE"), None) | (None, None) => None,
            (Some(other), _) => return Err(KmsError::constraint(other, "expirationModel", "Member must satisfy enum value set: [KEY_MATERIAL_EXPIRES, KEY_MATERIAL_DOES_NOT_EXPIRE]")),
        };
        if s(input, "ImportType") == Some("NEW_KEY_MATERIAL") {
            return Err(KmsError::NotSupported("ImportType NEW_KEY_MATERIAL (rotation of imported key material)".into()));
        }
        let key = self.key(account, region, s(input, "KeyId")).await?;
        external(&key, account, region)?;
        let arn = key.arn(account, region);
        let pending = key.import.clone().ok_or_else(|| KmsError::InvalidImportToken(format!("{arn} has no import parameters: call GetParametersForImport first.")))?;
        if base64::engine::general_purpose::STANDARD.encode(&token) != pending.token {
            return Err(KmsError::InvalidImportToken("The import token is not valid for this KMS key.".into()));
        }
        if now >= pending.valid_to_ms {
            return Err(KmsError::ExpiredImportToken("The import token has expired: call GetParametersForImport again.".into()));
        }
        let wrapping = self.reg.unseal(&import_label(account, region, &key.id), &pending.wrapping)?;
        let material = crate::asym::rsa_decrypt(&wrapping, &pending.algorithm, &wrapped)?;
        if !material_fits(&key.spec, material.len()) {
            return Err(KmsError::IncorrectKeyMaterial(format!("The key material is not valid for a {} key.", key.spec)));
        }
        let previous = match (key.material.first(), &key.retired) {
            (Some(m), _) => Some(m.as_ref().clone()),
            (None, Some(sealed)) => Some(self.reg.unseal(&format!("{account}/{region}/{}/0", key.id), sealed)?),
            (None, None) => None,
        };
        if previous.as_ref().is_some_and(|p| *p != material) {
            return Err(KmsError::IncorrectKeyMaterial("The key material is not the key material previously imported into this KMS key.".into()));
        }
        let reg = &self.reg;
        self.reg
            .update(account, region, &key.id, |k| {
                if k.material.is_empty() {
                    k.sealed.clear();
                    reg.add_material(account, region, k, material)?;
                }
                if k.state == "PendingImport" {
                    k.state = "Enabled".into();
                }
                k.valid_to_ms = valid_to;
                k.import = None;
                Ok(())
            })
            .await?;
        Ok(json!({ "KeyId": arn }))
    }

    pub(crate) async fn delete_imported_key_material(&self, account: &str, region: &str, input: &Value) -> KmsResult<Value> {
        let key = self.key(account, region, s(input, "KeyId")).await?;
        if key.origin != "EXTERNAL" {
            return Err(KmsError::Unsupported(format!("{} origin is {} which is not valid for this operation.", key.arn(account, region), key.origin)));
        }
        self.reg.modify(account, region, &key.id, forget_material).await?;
        Ok(json!({ "KeyId": key.arn(account, region) }))
    }
}
