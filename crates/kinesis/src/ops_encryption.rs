//! Server-side encryption: StartStreamEncryption / StopStreamEncryption with a KMS key
//! checked through nimbus's KMS (`KeyService`: the key must exist and be usable; the AWS
//! managed `alias/aws/kinesis` is made on first use). Records put while encryption is on
//! carry `EncryptionType: KMS`; the stream shows `EncryptionType` and `KeyId`. Data at
//! rest in `kinesis.db` is not encrypted by nimbus (what clients see is the same).
//! <https://docs.aws.amazon.com/kinesis/latest/APIReference/API_StartStreamEncryption.html>

use crate::errors::{KinesisError, KinesisResult};
use crate::service::{req, KinesisService};
use nimbus_core::{AwsError, RequestContext};
use serde_json::{json, Value};
use std::collections::BTreeMap;

/// KMS's errors as Kinesis names them.
fn kms_error(e: AwsError) -> KinesisError {
    let code = match e.code.as_ref() {
        "NotFoundException" => "KMSNotFoundException",
        "DisabledException" => "KMSDisabledException",
        "KMSInvalidStateException" => "KMSInvalidStateException",
        "AccessDeniedException" => "KMSAccessDeniedException",
        "InvalidKeyUsageException" => "KMSInvalidStateException",
        "ThrottlingException" => "KMSThrottlingException",
        _ => return KinesisError::Internal(format!("{}: {}", e.code, e.message)),
    };
    KinesisError::Kms(code, e.message)
}

fn check_type(input: &Value) -> KinesisResult<()> {
    match req(input, "EncryptionType")? {
        "KMS" => Ok(()),
        "NONE" => Err(KinesisError::InvalidArgument(
            "EncryptionType NONE is not a valid encryption type for this operation; use KMS."
                .into(),
        )),
        other => Err(KinesisError::constraint(
            other,
            "encryptionType",
            "Member must satisfy enum value set: [KMS, NONE]",
        )),
    }
}

impl KinesisService {
    pub(crate) async fn start_encryption(
        &self,
        ctx: &RequestContext,
        input: &Value,
    ) -> KinesisResult<Value> {
        check_type(input)?;
        let key_id = req(input, "KeyId")?.to_string();
        if key_id.is_empty() || key_id.len() > 2048 {
            return Err(KinesisError::constraint(
                &key_id,
                "keyId",
                "Member must have length less than or equal to 2048",
            ));
        }
        let handle = self.stream(ctx, input)?;
        let (account, region, arn) = {
            let st = handle.state.lock();
            (
                st.meta.account.clone(),
                st.meta.region.clone(),
                st.meta.arn(),
            )
        };
        if let Some(keys) = self.keys.get() {
            let context = BTreeMap::from([("aws:kinesis:arn".to_string(), arn)]);
            keys.encrypt(&account, &region, &key_id, b"kinesis", &context)
                .await
                .map_err(kms_error)?;
        }
        let pending = {
            let mut st = handle.state.lock();
            st.meta.encryption_key = Some(key_id);
            self.save_meta(&st.meta)
        };
        pending.wait().await.map_err(KinesisError::Internal)?;
        Ok(json!({}))
    }

    pub(crate) async fn stop_encryption(
        &self,
        ctx: &RequestContext,
        input: &Value,
    ) -> KinesisResult<Value> {
        check_type(input)?;
        req(input, "KeyId")?;
        let handle = self.stream(ctx, input)?;
        let pending = {
            let mut st = handle.state.lock();
            st.meta.encryption_key = None;
            self.save_meta(&st.meta)
        };
        pending.wait().await.map_err(KinesisError::Internal)?;
        Ok(json!({}))
    }
}
