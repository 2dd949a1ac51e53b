//! SecureString values through nimbus's KMS (`KeyService`): encrypted under the
//! parameter's key (default `alias/aws/ssm`) with the encryption context
//! `{"PARAMETER_ARN": "<parameter ARN>"}` as Parameter Store uses it, stored and returned
//! (without `WithDecryption`) as the base64 ciphertext blob.
//! <https://docs.aws.amazon.com/kms/latest/developerguide/services-parameter-store.html>

use crate::errors::{SsmError, SsmResult};
use crate::names;
use crate::service::SsmService;
use base64::Engine;
use nimbus_core::{AwsError, RequestContext};
use std::collections::BTreeMap;

/// The AWS managed key Parameter Store uses when no KeyId is given.
pub const DEFAULT_KEY: &str = "alias/aws/ssm";

fn context(ctx: &RequestContext, name: &str) -> BTreeMap<String, String> {
    BTreeMap::from([("PARAMETER_ARN".to_string(), names::arn(&ctx.account_id, &ctx.region, name))])
}

/// KMS's key errors as Parameter Store answers them on PutParameter.
fn key_error(key_id: &str, e: AwsError) -> SsmError {
    match e.code.as_ref() {
        "NotFoundException" | "DisabledException" | "KMSInvalidStateException" | "InvalidKeyUsageException" => {
            SsmError::InvalidKeyId(format!("{key_id}: {}", e.message))
        }
        _ => SsmError::Upstream(Box::new(e)),
    }
}

impl SsmService {
    pub(crate) async fn encrypt(&self, ctx: &RequestContext, key_id: &str, name: &str, plaintext: &str) -> SsmResult<String> {
        let blob = self
            .keys
            .encrypt(&ctx.account_id, &ctx.region, key_id, plaintext.as_bytes(), &context(ctx, name))
            .await
            .map_err(|e| key_error(key_id, e))?;
        Ok(base64::engine::general_purpose::STANDARD.encode(blob.ciphertext))
    }

    pub(crate) async fn decrypt(&self, ctx: &RequestContext, name: &str, stored: &str) -> SsmResult<String> {
        let blob = base64::engine::general_purpose::STANDARD.decode(stored).map_err(|e| SsmError::Internal(format!("stored ciphertext of {name}: {e}")))?;
        let plain = self.keys.decrypt(&ctx.account_id, &ctx.region, &blob, &context(ctx, name)).await.map_err(|e| SsmError::Upstream(Box::new(e)))?;
        String::from_utf8(plain).map_err(|e| SsmError::Internal(format!("decrypted value of {name}: {e}")))
    }
}
