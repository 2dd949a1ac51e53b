//! A version's value through KMS: `SecretString` or `SecretBinary` sealed by core's
//! `KeyService` under the secret's key with the encryption context AWS uses,
//! `{"SecretARN": <arn>, "SecretVersionId": <id>}`, and the ciphertext written to the
//! store; read back and opened the same way.
//! <https://docs.aws.amazon.com/secretsmanager/latest/userguide/security-encryption.html>

use crate::errors::{SmError, SmResult};
use crate::service::Inner;
use std::collections::BTreeMap;

/// A secret's value as the caller gave it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SecretValue {
    String(String),
    Binary(Vec<u8>),
}

impl SecretValue {
    /// One tag byte (0 string, 1 binary), then the bytes.
    fn encode(&self) -> Vec<u8> {
        let (tag, body): (u8, &[u8]) = match self {
            SecretValue::String(s) => (0, s.as_bytes()),
            SecretValue::Binary(b) => (1, b),
        };
        let mut out = Vec::with_capacity(body.len() + 1);
        out.push(tag);
        out.extend_from_slice(body);
        out
    }

    fn decode(bytes: Vec<u8>) -> SmResult<SecretValue> {
        match bytes.split_first() {
            Some((0, rest)) => String::from_utf8(rest.to_vec()).map(SecretValue::String).map_err(|_| SmError::decryption()),
            Some((1, rest)) => Ok(SecretValue::Binary(rest.to_vec())),
            _ => Err(SmError::decryption()),
        }
    }
}

fn context(arn: &str, version_id: &str) -> BTreeMap<String, String> {
    BTreeMap::from([("SecretARN".to_string(), arn.to_string()), ("SecretVersionId".to_string(), version_id.to_string())])
}

impl Inner {
    /// Encrypts `value` for version `version_id` of `arn` under `key_id`; the ciphertext
    /// and the key's ARN. Nothing is stored yet.
    pub(crate) async fn seal(&self, account: &str, region: &str, arn: &str, version_id: &str, key_id: &str, value: &SecretValue) -> SmResult<(Vec<u8>, String)> {
        let ctx = context(arn, version_id);
        match self.keys.encrypt(account, region, key_id, &value.encode(), &ctx).await {
            Ok(b) => Ok((b.ciphertext, b.key_arn)),
            Err(e) => {
                tracing::debug!(error = %e, key = key_id, "secretsmanager: KMS refused to encrypt");
                Err(SmError::encryption())
            }
        }
    }

    /// Reads version `version_id` of `arn` from the store and decrypts it.
    pub(crate) async fn open(&self, account: &str, region: &str, arn: &str, version_id: &str) -> SmResult<SecretValue> {
        let blob = self.reg.store.get_value(arn, version_id).map_err(SmError::Internal)?;
        let blob = blob.ok_or_else(|| SmError::ResourceNotFound(format!("Secrets Manager can't find the specified secret value for VersionId: {version_id}")))?;
        let ctx = context(arn, version_id);
        match self.keys.decrypt(account, region, &blob, &ctx).await {
            Ok(p) => SecretValue::decode(p),
            Err(e) => {
                tracing::debug!(error = %e, "secretsmanager: KMS refused to decrypt");
                Err(SmError::decryption())
            }
        }
    }
}
