//! Key rotation: Enable/DisableKeyRotation (RotationPeriodInDays 90–2560, automatic
//! rotation on nimbus's clock, `keys.rs`), GetKeyRotationStatus, RotateKeyOnDemand,
//! ListKeyRotations. Rotation adds key material; older blobs name their version and
//! still decrypt. <https://docs.aws.amazon.com/kms/latest/developerguide/rotate-keys.html>

use crate::errors::{KmsError, KmsResult};
use crate::keys::{Key, DAY_MS};
use crate::service::{check_usable, page, paged, s, secs, KmsService};
use serde_json::{json, Value};

/// Only symmetric encryption keys with AWS_KMS material rotate.
fn rotatable(key: &Key, account: &str, region: &str) -> KmsResult<()> {
    if key.spec != crate::spec::SYMMETRIC || key.origin != "AWS_KMS" {
        return Err(KmsError::Unsupported(format!("{} does not support key rotation: only symmetric encryption KMS keys with AWS_KMS key material rotate.", key.arn(account, region))));
    }
    Ok(())
}

impl KmsService {
    pub(crate) async fn enable_key_rotation(&self, account: &str, region: &str, input: &Value) -> KmsResult<Value> {
        let days = match input.get("RotationPeriodInDays").and_then(Value::as_i64) {
            None => 365,
            Some(d) if d < 90 => return Err(KmsError::constraint(d, "rotationPeriodInDays", "Member must have value greater than or equal to 90")),
            Some(d) if d > 2560 => return Err(KmsError::constraint(d, "rotationPeriodInDays", "Member must have value less than or equal to 2560")),
            Some(d) => d as u32,
        };
        let key = self.key(account, region, s(input, "KeyId")).await?;
        check_usable(&key, account, region)?;
        rotatable(&key, account, region)?;
        if key.manager == "AWS" {
            return Err(KmsError::Unsupported(format!("{} is an AWS managed key: its rotation cannot be changed.", key.arn(account, region))));
        }
        let now = self.reg.clock.now_ms();
        self.reg
            .update(account, region, &key.id, |k| {
                k.rotation_days = Some(days);
                k.next_rotation_ms = Some(now + days as u64 * DAY_MS);
                Ok(())
            })
            .await?;
        Ok(json!({}))
    }

    pub(crate) async fn disable_key_rotation(&self, account: &str, region: &str, input: &Value) -> KmsResult<Value> {
        let key = self.key(account, region, s(input, "KeyId")).await?;
        check_usable(&key, account, region)?;
        rotatable(&key, account, region)?;
        if key.manager == "AWS" {
            return Err(KmsError::Unsupported(format!("{} is an AWS managed key: its rotation cannot be changed.", key.arn(account, region))));
        }
        self.reg
            .update(account, region, &key.id, |k| {
                k.rotation_days = None;
                k.next_rotation_ms = None;
                Ok(())
            })
            .await?;
        Ok(json!({}))
    }

    pub(crate) async fn get_key_rotation_status(&self, account: &str, region: &str, input: &Value) -> KmsResult<Value> {
        let key = self.key(account, region, s(input, "KeyId")).await?;
        rotatable(&key, account, region)?;
        if key.state == "PendingDeletion" {
            return Err(KmsError::InvalidState(format!("{} is pending deletion.", key.arn(account, region))));
        }
        let mut out = json!({ "KeyId": key.arn(account, region), "KeyRotationEnabled": key.rotation_days.is_some() });
        if let Some(d) = key.rotation_days {
            out["RotationPeriodInDays"] = json!(d);
        }
        if let Some(n) = key.next_rotation_ms {
            out["NextRotationDate"] = secs(n);
        }
        Ok(out)
    }

    pub(crate) async fn rotate_key_on_demand(&self, account: &str, region: &str, input: &Value) -> KmsResult<Value> {
        let key = self.key(account, region, s(input, "KeyId")).await?;
        check_usable(&key, account, region)?;
        rotatable(&key, account, region)?;
        if key.rotations.iter().filter(|r| r.kind == "ON_DEMAND").count() >= 10 {
            return Err(KmsError::Validation("You have exceeded the maximum number of on-demand rotations (10) for this key.".into()));
        }
        self.reg.rotate(account, region, &key.id, "ON_DEMAND").await?;
        Ok(json!({ "KeyId": key.arn(account, region) }))
    }

    pub(crate) async fn list_key_rotations(&self, account: &str, region: &str, input: &Value) -> KmsResult<Value> {
        let (start, limit) = page(input)?;
        let key = self.key(account, region, s(input, "KeyId")).await?;
        rotatable(&key, account, region)?;
        let arn = key.arn(account, region);
        let items = key.rotations.iter().map(|r| json!({ "KeyId": arn, "RotationDate": secs(r.date_ms), "RotationType": r.kind })).collect();
        Ok(paged(items, start, limit, "Rotations"))
    }
}
