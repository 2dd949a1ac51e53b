//! Aliases: CreateAlias, UpdateAlias, DeleteAlias, ListAliases. `alias/aws/` is reserved
//! for AWS managed keys (created on first use, `keys.rs`).
//! <https://docs.aws.amazon.com/kms/latest/APIReference/API_CreateAlias.html>

use crate::errors::{KmsError, KmsResult};
use crate::keys::Alias;
use crate::service::{page, paged, s, secs, KmsService};
use serde_json::{json, Value};

fn check_name(name: &str) -> KmsResult<()> {
    if name.is_empty() || name.len() > 256 {
        return Err(KmsError::constraint(name, "aliasName", "Member must have length less than or equal to 256"));
    }
    if !name.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, ':' | '/' | '_' | '-')) {
        return Err(KmsError::constraint(name, "aliasName", "Member must satisfy regular expression pattern: ^[a-zA-Z0-9:/_-]+$"));
    }
    if !name.starts_with("alias/") || name == "alias/" {
        return Err(KmsError::InvalidAliasName("Alias must start with the prefix \"alias/\". Please see https://docs.aws.amazon.com/kms/latest/developerguide/kms-alias.html".into()));
    }
    if name.starts_with("alias/aws/") {
        return Err(KmsError::NotAuthorized(format!("The alias prefix alias/aws/ is reserved for AWS managed keys: {name}")));
    }
    Ok(())
}

impl KmsService {
    /// The key an alias may point at: a key id or key ARN (not an alias), not being deleted.
    async fn alias_target(&self, account: &str, region: &str, target: Option<&str>) -> KmsResult<std::sync::Arc<crate::keys::Key>> {
        let target = target.ok_or_else(|| KmsError::missing("targetKeyId"))?;
        if target.starts_with("alias/") || target.contains(":alias/") {
            return Err(KmsError::Validation("Aliases must refer to keys. Not aliases".into()));
        }
        let key = self.key(account, region, Some(target)).await?;
        if key.state == "PendingDeletion" {
            return Err(KmsError::InvalidState(format!("{} is pending deletion.", key.arn(account, region))));
        }
        if key.manager == "AWS" {
            return Err(KmsError::NotAuthorized(format!("{} is an AWS managed key.", key.arn(account, region))));
        }
        Ok(key)
    }

    pub(crate) async fn create_alias(&self, account: &str, region: &str, input: &Value) -> KmsResult<Value> {
        let name = s(input, "AliasName").ok_or_else(|| KmsError::missing("aliasName"))?;
        check_name(name)?;
        let key = self.alias_target(account, region, s(input, "TargetKeyId")).await?;
        let now = self.reg.clock.now_ms();
        let a = Alias { target: key.id.clone(), created_ms: now, updated_ms: now };
        {
            let mut aliases = self.reg.aliases.write();
            let k = (account.to_string(), region.to_string(), name.to_string());
            if aliases.contains_key(&k) {
                return Err(KmsError::AlreadyExists(format!("An alias with the name arn:aws:kms:{region}:{account}:{name} already exists")));
            }
            aliases.insert(k, a.clone());
        }
        self.reg.save_alias(account, region, name, Some(&a)).await?;
        Ok(json!({}))
    }

    pub(crate) async fn update_alias(&self, account: &str, region: &str, input: &Value) -> KmsResult<Value> {
        let name = s(input, "AliasName").ok_or_else(|| KmsError::missing("aliasName"))?;
        check_name(name)?;
        let key = self.alias_target(account, region, s(input, "TargetKeyId")).await?;
        let k = (account.to_string(), region.to_string(), name.to_string());
        let current = self.reg.aliases.read().get(&k).cloned().ok_or_else(|| KmsError::NotFound(format!("Alias arn:aws:kms:{region}:{account}:{name} is not found.")))?;
        let old = self.reg.get(account, region, &current.target)?;
        if old.usage != key.usage || (old.spec == crate::spec::SYMMETRIC) != (key.spec == crate::spec::SYMMETRIC) {
            return Err(KmsError::Validation(format!(
                "{} key usage or type differs from {}: an alias can only move to a key of the same type and usage.",
                key.arn(account, region),
                old.arn(account, region)
            )));
        }
        let a = Alias { target: key.id.clone(), created_ms: current.created_ms, updated_ms: self.reg.clock.now_ms() };
        self.reg.aliases.write().insert(k, a.clone());
        self.reg.save_alias(account, region, name, Some(&a)).await?;
        Ok(json!({}))
    }

    pub(crate) async fn delete_alias(&self, account: &str, region: &str, input: &Value) -> KmsResult<Value> {
        let name = s(input, "AliasName").ok_or_else(|| KmsError::missing("aliasName"))?;
        if name.starts_with("alias/aws/") {
            return Err(KmsError::NotAuthorized(format!("The alias prefix alias/aws/ is reserved for AWS managed keys: {name}")));
        }
        let removed = self.reg.aliases.write().remove(&(account.to_string(), region.to_string(), name.to_string()));
        if removed.is_none() {
            return Err(KmsError::NotFound(format!("Alias arn:aws:kms:{region}:{account}:{name} is not found.")));
        }
        self.reg.save_alias(account, region, name, None).await?;
        Ok(json!({}))
    }

    pub(crate) async fn list_aliases(&self, account: &str, region: &str, input: &Value) -> KmsResult<Value> {
        let (start, limit) = page(input)?;
        let only = match s(input, "KeyId") {
            Some(k) if k.starts_with("alias/") || k.contains(":alias/") => return Err(KmsError::InvalidArn(format!("Invalid keyId {k}"))),
            Some(k) => Some(self.key(account, region, Some(k)).await?.id.clone()),
            None => {
                self.reg.settle(account, region).await;
                None
            }
        };
        let items = self
            .reg
            .aliases
            .read()
            .iter()
            .filter(|(k, a)| k.0 == account && k.1 == region && only.as_ref().is_none_or(|o| *o == a.target))
            .map(|(k, a)| {
                json!({
                    "AliasName": k.2,
                    "AliasArn": format!("arn:aws:kms:{region}:{account}:{}", k.2),
                    "TargetKeyId": a.target,
                    "CreationDate": secs(a.created_ms),
                    "LastUpdatedDate": secs(a.updated_ms),
                })
            })
            .collect();
        Ok(paged(items, start, limit, "Aliases"))
    }
}
