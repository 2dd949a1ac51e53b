//! The keys' control plane: CreateKey, DescribeKey, ListKeys, Enable/DisableKey,
//! UpdateKeyDescription, Schedule/CancelKeyDeletion, key policies and tags.
//! <https://docs.aws.amazon.com/kms/latest/APIReference/API_Operations.html>

use crate::errors::{KmsError, KmsResult};
use crate::keys::DAY_MS;
use crate::service::{metadata, page, paged, s, secs, KmsService};
use serde_json::{json, Value};

const MAX_DESCRIPTION: usize = 8192;
const MAX_POLICY: usize = 32768;

fn check_description(d: &str) -> KmsResult<()> {
    if d.chars().count() > MAX_DESCRIPTION {
        return Err(KmsError::constraint(d, "description", "Member must have length less than or equal to 8192"));
    }
    Ok(())
}

fn check_policy(p: &str) -> KmsResult<()> {
    if p.is_empty() || p.len() > MAX_POLICY {
        return Err(KmsError::constraint(p, "policy", "Member must have length less than or equal to 32768"));
    }
    match serde_json::from_str::<Value>(p) {
        Ok(Value::Object(_)) => Ok(()),
        _ => Err(KmsError::MalformedPolicy("The new key policy will not allow you to update the key policy in the future.".into())),
    }
}

/// A Tags member (`[{TagKey, TagValue}]`) checked as AWS does.
pub(crate) fn tags_of(input: &Value) -> KmsResult<Vec<(String, String)>> {
    let mut out: Vec<(String, String)> = Vec::new();
    for t in input.get("Tags").and_then(Value::as_array).into_iter().flatten() {
        let k = s(t, "TagKey").ok_or_else(|| KmsError::missing("tags.member.tagKey"))?;
        let v = s(t, "TagValue").ok_or_else(|| KmsError::missing("tags.member.tagValue"))?;
        if k.is_empty() || k.chars().count() > 128 {
            return Err(KmsError::constraint(k, "tags.member.tagKey", "Member must have length less than or equal to 128"));
        }
        if v.chars().count() > 256 {
            return Err(KmsError::constraint(v, "tags.member.tagValue", "Member must have length less than or equal to 256"));
        }
        if k.starts_with("aws:") {
            return Err(KmsError::Tag("Tags beginning with aws: are reserved.".into()));
        }
        out.retain(|(ek, _)| ek != k);
        out.push((k.to_string(), v.to_string()));
    }
    Ok(out)
}

impl KmsService {
    pub(crate) async fn create_key(&self, account: &str, region: &str, input: &Value) -> KmsResult<Value> {
        if s(input, "KeySpec").is_some() && s(input, "CustomerMasterKeySpec").is_some() {
            return Err(KmsError::Validation("You cannot specify KeySpec and CustomerMasterKeySpec in the same request. CustomerMasterKeySpec parameter is deprecated. Use KeySpec only.".into()));
        }
        let spec = s(input, "KeySpec").or_else(|| s(input, "CustomerMasterKeySpec")).unwrap_or(crate::spec::SYMMETRIC);
        let usage = crate::spec::check(spec, s(input, "KeyUsage"))?;
        let origin = s(input, "Origin").unwrap_or("AWS_KMS");
        match origin {
            "AWS_KMS" => {}
            "EXTERNAL" if spec == crate::spec::SYMMETRIC || spec.starts_with("HMAC_") => {}
            "EXTERNAL" => return Err(KmsError::NotSupported(format!("Origin EXTERNAL with KeySpec {spec}"))),
            "AWS_CLOUDHSM" | "EXTERNAL_KEY_STORE" => return Err(KmsError::NotSupported(format!("Origin {origin}"))),
            other => return Err(KmsError::constraint(other, "origin", "Member must satisfy enum value set: [EXTERNAL_KEY_STORE, AWS_CLOUDHSM, AWS_KMS, EXTERNAL]")),
        }
        if s(input, "CustomKeyStoreId").is_some() || s(input, "XksKeyId").is_some() {
            return Err(KmsError::NotSupported("Custom key stores".into()));
        }
        let description = s(input, "Description").unwrap_or_default().to_string();
        check_description(&description)?;
        let policy = s(input, "Policy").map(str::to_string);
        if let Some(p) = &policy {
            check_policy(p)?;
        }
        let tags = tags_of(input)?;
        let multi_region = input.get("MultiRegion").and_then(Value::as_bool).unwrap_or(false);
        let key = self.reg.create(account, region, spec, usage, origin, "CUSTOMER", description, policy, tags, multi_region).await?;
        Ok(json!({ "KeyMetadata": metadata(&key, account, region) }))
    }

    pub(crate) async fn describe_key(&self, account: &str, region: &str, input: &Value) -> KmsResult<Value> {
        let key = self.key(account, region, s(input, "KeyId")).await?;
        Ok(json!({ "KeyMetadata": metadata(&key, account, region) }))
    }

    pub(crate) async fn list_keys(&self, account: &str, region: &str, input: &Value) -> KmsResult<Value> {
        let (start, limit) = page(input)?;
        self.reg.settle(account, region).await;
        let mut keys: Vec<(u64, String, Value)> = self
            .reg
            .keys
            .read()
            .iter()
            .filter(|(k, _)| k.0 == account && k.1 == region)
            .map(|(_, k)| (k.created_ms, k.id.clone(), json!({ "KeyId": k.id, "KeyArn": k.arn(account, region) })))
            .collect();
        keys.sort_by(|a, b| (a.0, &a.1).cmp(&(b.0, &b.1)));
        Ok(paged(keys.into_iter().map(|k| k.2).collect(), start, limit, "Keys"))
    }

    pub(crate) async fn set_enabled(&self, account: &str, region: &str, input: &Value, enable: bool) -> KmsResult<Value> {
        let key = self.key(account, region, s(input, "KeyId")).await?;
        let arn = key.arn(account, region);
        self.reg
            .update(account, region, &key.id, |k| match k.state.as_str() {
                "Enabled" | "Disabled" => {
                    k.state = if enable { "Enabled" } else { "Disabled" }.into();
                    Ok(())
                }
                "PendingDeletion" => Err(KmsError::InvalidState(format!("{arn} is pending deletion."))),
                other => Err(KmsError::InvalidState(format!("{arn} is {other}."))),
            })
            .await?;
        Ok(json!({}))
    }

    pub(crate) async fn update_key_description(&self, account: &str, region: &str, input: &Value) -> KmsResult<Value> {
        let description = s(input, "Description").ok_or_else(|| KmsError::missing("description"))?.to_string();
        check_description(&description)?;
        let key = self.key(account, region, s(input, "KeyId")).await?;
        self.reg.modify(account, region, &key.id, |k| { k.description = description; }).await?;
        Ok(json!({}))
    }

    /// <https://docs.aws.amazon.com/kms/latest/APIReference/API_ScheduleKeyDeletion.html>
    pub(crate) async fn schedule_key_deletion(&self, account: &str, region: &str, input: &Value) -> KmsResult<Value> {
        let days = match input.get("PendingWindowInDays").and_then(Value::as_i64) {
            None => 30,
            Some(d) if d < 7 => return Err(KmsError::constraint(d, "pendingWindowInDays", "Member must have value greater than or equal to 7")),
            Some(d) if d > 30 => return Err(KmsError::constraint(d, "pendingWindowInDays", "Member must have value less than or equal to 30")),
            Some(d) => d as u32,
        };
        let key = self.key(account, region, s(input, "KeyId")).await?;
        let arn = key.arn(account, region);
        if key.manager == "AWS" {
            return Err(KmsError::Unsupported(format!("{arn} is an AWS managed key and cannot be deleted.")));
        }
        let when = self.reg.clock.now_ms() + days as u64 * DAY_MS;
        self.reg
            .update(account, region, &key.id, |k| {
                if k.state == "PendingDeletion" {
                    return Err(KmsError::InvalidState(format!("{arn} is pending deletion.")));
                }
                k.state = "PendingDeletion".into();
                k.deletion_ms = Some(when);
                k.pending_days = Some(days);
                Ok(())
            })
            .await?;
        Ok(json!({ "KeyId": arn, "DeletionDate": secs(when), "KeyState": "PendingDeletion", "PendingWindowInDays": days }))
    }

    pub(crate) async fn cancel_key_deletion(&self, account: &str, region: &str, input: &Value) -> KmsResult<Value> {
        let key = self.key(account, region, s(input, "KeyId")).await?;
        let arn = key.arn(account, region);
        self.reg
            .update(account, region, &key.id, |k| {
                if k.state != "PendingDeletion" {
                    return Err(KmsError::InvalidState(format!("{arn} is not pending deletion.")));
                }
                k.state = "Disabled".into();
                k.deletion_ms = None;
                k.pending_days = None;
                Ok(())
            })
            .await?;
        Ok(json!({ "KeyId": arn }))
    }

    fn policy_name(input: &Value) -> KmsResult<()> {
        match s(input, "PolicyName") {
            None | Some("default") => Ok(()),
            Some(other) => Err(KmsError::NotFound(format!("Policy {other} does not exist."))),
        }
    }

    pub(crate) async fn get_key_policy(&self, account: &str, region: &str, input: &Value) -> KmsResult<Value> {
        let key = self.key(account, region, s(input, "KeyId")).await?;
        Self::policy_name(input)?;
        Ok(json!({ "Policy": key.policy, "PolicyName": "default" }))
    }

    pub(crate) async fn put_key_policy(&self, account: &str, region: &str, input: &Value) -> KmsResult<Value> {
        let policy = s(input, "Policy").ok_or_else(|| KmsError::missing("policy"))?.to_string();
        check_policy(&policy)?;
        let key = self.key(account, region, s(input, "KeyId")).await?;
        Self::policy_name(input)?;
        if key.manager == "AWS" {
            return Err(KmsError::Unsupported(format!("{} is an AWS managed key: its policy cannot be changed.", key.arn(account, region))));
        }
        self.reg.modify(account, region, &key.id, |k| { k.policy = policy; }).await?;
        Ok(json!({}))
    }

    pub(crate) async fn list_key_policies(&self, account: &str, region: &str, input: &Value) -> KmsResult<Value> {
        self.key(account, region, s(input, "KeyId")).await?;
        Ok(json!({ "PolicyNames": ["default"], "Truncated": false }))
    }

    pub(crate) async fn tag_resource(&self, account: &str, region: &str, input: &Value) -> KmsResult<Value> {
        let tags = tags_of(input)?;
        let key = self.key(account, region, s(input, "KeyId")).await?;
        if key.manager == "AWS" {
            return Err(KmsError::Unsupported(format!("{} is an AWS managed key and cannot be tagged.", key.arn(account, region))));
        }
        self.reg
            .update(account, region, &key.id, |k| {
                for (tk, tv) in tags {
                    k.tags.retain(|(ek, _)| *ek != tk);
                    k.tags.push((tk, tv));
                }
                if k.tags.len() > 50 {
                    return Err(KmsError::Tag("The number of tags on the key exceeds the limit of 50.".into()));
                }
                Ok(())
            })
            .await?;
        Ok(json!({}))
    }

    pub(crate) async fn untag_resource(&self, account: &str, region: &str, input: &Value) -> KmsResult<Value> {
        let names: Vec<String> = input.get("TagKeys").and_then(Value::as_array).ok_or_else(|| KmsError::missing("tagKeys"))?.iter().filter_map(|v| v.as_str().map(str::to_string)).collect();
        let key = self.key(account, region, s(input, "KeyId")).await?;
        self.reg.modify(account, region, &key.id, |k| { k.tags.retain(|(tk, _)| !names.contains(tk)); }).await?;
        Ok(json!({}))
    }

    pub(crate) async fn list_resource_tags(&self, account: &str, region: &str, input: &Value) -> KmsResult<Value> {
        let (start, limit) = page(input)?;
        let key = self.key(account, region, s(input, "KeyId")).await?;
        let tags = key.tags.iter().map(|(k, v)| json!({ "TagKey": k, "TagValue": v })).collect();
        Ok(paged(tags, start, limit, "Tags"))
    }
}
