//! PutParameter, DeleteParameter, DeleteParameters: the checks AWS makes on a new version
//! (type, tier and size, AllowedPattern, DataType, policies, tags), SecureString
//! encryption, version numbering and the 100-version limit.
//! <https://docs.aws.amazon.com/systems-manager/latest/APIReference/API_PutParameter.html>
//! <https://docs.aws.amazon.com/systems-manager/latest/userguide/parameter-store-advanced-parameters.html>

use crate::errors::{SsmError, SsmResult};
use crate::names;
use crate::params::{Meta, VersionMeta, MAX_VERSIONS};
use crate::secure::DEFAULT_KEY;
use crate::service::{flag, req, s, strings, SsmService};
use crate::store::Change;
use nimbus_core::RequestContext;
use serde_json::{json, Value};
use std::collections::BTreeMap;

const TYPES: [&str; 3] = ["String", "StringList", "SecureString"];
const STANDARD_MAX: usize = 4096;
const ADVANCED_MAX: usize = 8192;

/// A Standard / Advanced tier from the request, the existing parameter and the value.
fn resolve_tier(asked: Option<&str>, existing: Option<&str>, value_len: usize, policies: bool) -> SsmResult<&'static str> {
    let tier = match asked {
        Some("Standard") => "Standard",
        Some("Advanced") => "Advanced",
        Some("Intelligent-Tiering") if value_len > STANDARD_MAX || policies || existing == Some("Advanced") => "Advanced",
        Some("Intelligent-Tiering") => "Standard",
        Some(other) => return Err(SsmError::constraint(other, "tier", "Member must satisfy enum value set: [Advanced, Intelligent-Tiering, Standard]")),
        None if existing == Some("Advanced") => "Advanced",
        None => "Standard",
    };
    if tier == "Standard" && existing == Some("Advanced") {
        return Err(SsmError::Validation("This parameter uses the advanced-parameter tier. You can't downgrade a parameter from the advanced-parameter tier to the standard-parameter tier. If necessary, you can delete the advanced parameter and recreate it as a standard parameter.".into()));
    }
    if tier == "Standard" && value_len > STANDARD_MAX {
        return Err(SsmError::Validation(format!("Standard tier parameters support a maximum parameter value of {STANDARD_MAX} characters. To create a larger parameter value, upgrade the parameter to use the advanced-parameter tier. For more information, see https://docs.aws.amazon.com/systems-manager/latest/userguide/parameter-store-advanced-parameters.html")));
    }
    if value_len > ADVANCED_MAX {
        return Err(SsmError::constraint("***", "value", &format!("Member must have length less than or equal to {ADVANCED_MAX}")));
    }
    if tier == "Standard" && policies {
        return Err(SsmError::Validation("Parameter policies are supported only for the advanced-parameter tier. Use Tier Advanced or Intelligent-Tiering.".into()));
    }
    Ok(tier)
}

/// DataType: `text`, `aws:ec2:image` (an AMI id, String only) or `aws:ssm:integration`.
/// nimbus checks the AMI id's format; it cannot check that the image exists.
fn check_data_type(data_type: &str, ptype: &str, value: &str) -> SsmResult<()> {
    match data_type {
        "text" | "aws:ssm:integration" => Ok(()),
        "aws:ec2:image" => {
            if ptype != "String" {
                return Err(SsmError::Validation(format!("The data type aws:ec2:image is supported only for String parameters, not {ptype}.")));
            }
            let hex = value.strip_prefix("ami-").unwrap_or("");
            if (hex.len() == 8 || hex.len() == 17) && hex.chars().all(|c| c.is_ascii_digit() || ('a'..='f').contains(&c)) {
                Ok(())
            } else {
                Err(SsmError::Validation(format!("Parameter value, {value}, is not a valid AMI ID. Expected ami- followed by 8 or 17 lowercase hexadecimal characters.")))
            }
        }
        other => Err(SsmError::Validation(format!("The following data type is not supported: {other} (Data type names are all lowercase.)"))),
    }
}

/// Tags of a request (`Tags`: [{Key, Value}]) with AWS's limits.
pub(crate) fn parse_tags(input: &Value) -> SsmResult<Option<BTreeMap<String, String>>> {
    let Some(list) = input.get("Tags").and_then(Value::as_array) else { return Ok(None) };
    let mut tags = BTreeMap::new();
    for t in list {
        let key = t.get("Key").and_then(Value::as_str).ok_or_else(|| SsmError::missing("tags.member.key"))?;
        let value = t.get("Value").and_then(Value::as_str).ok_or_else(|| SsmError::missing("tags.member.value"))?;
        if key.is_empty() || key.chars().count() > 128 {
            return Err(SsmError::constraint(key, "tags.member.key", "Member must have length between 1 and 128"));
        }
        if value.chars().count() > 256 {
            return Err(SsmError::constraint(value, "tags.member.value", "Member must have length less than or equal to 256"));
        }
        if key.to_ascii_lowercase().starts_with("aws:") {
            return Err(SsmError::Validation(format!("Tag keys beginning with aws: are reserved: {key}")));
        }
        tags.insert(key.to_string(), value.to_string());
    }
    Ok(Some(tags))
}

impl SsmService {
    pub(crate) async fn put_parameter(&self, ctx: &RequestContext, input: &Value) -> SsmResult<Value> {
        let name = names::checked(&ctx.account_id, &ctx.region, req(input, "Name")?)?;
        let value = req(input, "Value")?;
        if value.is_empty() {
            return Err(SsmError::constraint("", "value", "Member must have length greater than or equal to 1"));
        }
        let overwrite = flag(input, "Overwrite");
        let tags = parse_tags(input)?;
        if overwrite && tags.is_some() {
            return Err(SsmError::Validation("Invalid request: tags and overwrite can't be used together. To create a parameter with tags, please remove overwrite flag. To update tags for an existing parameter, please use AddTagsToResource or RemoveTagsFromResource.".into()));
        }
        if tags.as_ref().is_some_and(|t| t.len() > 50) {
            return Err(SsmError::TooManyTags);
        }
        let asked_type = s(input, "Type");
        if let Some(t) = asked_type {
            if !TYPES.contains(&t) {
                return Err(SsmError::constraint(t, "type", "Member must satisfy enum value set: [SecureString, StringList, String]"));
            }
        }
        if let Some(d) = s(input, "Description") {
            if d.chars().count() > 1024 {
                return Err(SsmError::constraint(d, "description", "Member must have length less than or equal to 1024"));
            }
        }
        if let Some(p) = s(input, "AllowedPattern") {
            if p.chars().count() > 1024 {
                return Err(SsmError::constraint(p, "allowedPattern", "Member must have length less than or equal to 1024"));
            }
        }
        if let Some(p) = s(input, "Policies") {
            crate::policies::check(p)?;
        }

        let existing = self.params.lock().get(&Self::scope(ctx)).and_then(|m| m.get(&name)).cloned();
        if existing.is_some() && !overwrite {
            return Err(SsmError::AlreadyExists);
        }
        let prev = existing.as_ref().map(|m| &m.current);
        let ptype = match (asked_type, prev) {
            (Some(t), Some(p)) if t != p.ptype => return Err(SsmError::HierarchyTypeMismatch),
            (Some(t), _) => t.to_string(),
            (None, Some(p)) => p.ptype.clone(),
            (None, None) => return Err(SsmError::Validation("A parameter type is required when you create a parameter.".into())),
        };
        // Omitted settings carry over from the version before.
        let description = s(input, "Description").map(str::to_string).or_else(|| prev.and_then(|p| p.description.clone()));
        let allowed_pattern = s(input, "AllowedPattern").map(str::to_string).or_else(|| prev.and_then(|p| p.allowed_pattern.clone()));
        let policies = s(input, "Policies").map(str::to_string).or_else(|| prev.and_then(|p| p.policies.clone()));
        let data_type = s(input, "DataType").map(str::to_string).or_else(|| prev.map(|p| p.data_type.clone())).unwrap_or_else(|| "text".into());
        let key_id = match ptype.as_str() {
            "SecureString" => Some(s(input, "KeyId").map(str::to_string).or_else(|| prev.and_then(|p| p.key_id.clone())).unwrap_or_else(|| DEFAULT_KEY.into())),
            _ if s(input, "KeyId").is_some() => {
                return Err(SsmError::Validation("KeyId is only valid for SecureString parameters.".into()));
            }
            _ => None,
        };
        let has_policies = policies.as_deref().is_some_and(|p| p.trim() != "[]");
        let tier = resolve_tier(s(input, "Tier"), prev.map(|p| p.tier.as_str()), value.chars().count(), has_policies)?;
        if let Some(p) = &allowed_pattern {
            let re = regex_lite::Regex::new(p).map_err(|e| SsmError::InvalidAllowedPattern(format!("The allowed pattern is not a valid regular expression: {e}")))?;
            if !re.is_match(value) {
                return Err(SsmError::PatternMismatch(p.clone()));
            }
        }
        check_data_type(&data_type, &ptype, value)?;
        let stored = match &key_id {
            Some(k) => self.encrypt(ctx, k, &name, value).await?,
            None => value.to_string(),
        };
        let vmeta = VersionMeta {
            ptype,
            key_id,
            description,
            allowed_pattern,
            tier: tier.to_string(),
            policies,
            data_type,
            modified_ms: self.clock.now_ms(),
            user: ctx.principal_arn.clone().unwrap_or_else(|| format!("arn:aws:iam::{}:root", ctx.account_id)),
        };

        let (pending, version) = {
            let mut all = self.params.lock();
            let scope = all.entry(Self::scope(ctx)).or_default();
            let now = scope.get(&name);
            // Another call may have created or changed it since the checks above (which
            // read `existing`): AWS's answer to concurrent updates.
            if now.is_some() && !overwrite {
                return Err(SsmError::AlreadyExists);
            }
            if now.map(|m| (m.version, m.current.modified_ms)) != existing.as_ref().map(|m| (m.version, m.current.modified_ms)) {
                return Err(SsmError::TooManyUpdates);
            }
            let mut meta = match now {
                Some(m) => m.clone(),
                None => Meta { version: 0, current: vmeta.clone(), labels: BTreeMap::new(), tags: tags.clone().unwrap_or_default() },
            };
            let mut drop = None;
            if meta.labels.len() >= MAX_VERSIONS {
                if let Some((&oldest, labels)) = meta.labels.iter().next() {
                    if !labels.is_empty() {
                        return Err(SsmError::MaxVersions { name: name.clone(), version: oldest });
                    }
                    drop = Some(oldest);
                }
            }
            if let Some(old) = drop {
                meta.labels.remove(&old);
            }
            meta.version += 1;
            meta.current = vmeta.clone();
            meta.labels.insert(meta.version, Vec::new());
            let change = Change::Put {
                account: ctx.account_id.clone(),
                region: ctx.region.clone(),
                name: name.clone(),
                meta: to_doc(&meta)?,
                version: meta.version,
                vmeta: to_doc(&vmeta)?,
                value: stored,
                drop,
            };
            let version = meta.version;
            scope.insert(name.clone(), meta);
            (self.store.apply(change), version)
        };
        pending.wait().await.map_err(SsmError::Internal)?;
        Ok(json!({"Version": version, "Tier": tier}))
    }

    pub(crate) async fn delete_parameter(&self, ctx: &RequestContext, input: &Value) -> SsmResult<Value> {
        let name = names::plain(&ctx.account_id, &ctx.region, req(input, "Name")?).ok_or(SsmError::NotFound)?;
        if !self.remove(ctx, &name).await? {
            return Err(SsmError::NotFound);
        }
        Ok(json!({}))
    }

    pub(crate) async fn delete_parameters(&self, ctx: &RequestContext, input: &Value) -> SsmResult<Value> {
        let list = strings(input, "Names");
        if list.is_empty() || list.len() > 10 {
            return Err(SsmError::constraint(format!("{list:?}"), "names", "Member must have length between 1 and 10"));
        }
        let (mut deleted, mut invalid) = (Vec::new(), Vec::new());
        for n in list {
            let removed = match names::plain(&ctx.account_id, &ctx.region, &n) {
                Some(name) => self.remove(ctx, &name).await?,
                None => false,
            };
            if removed {
                deleted.push(n);
            } else {
                invalid.push(n);
            }
        }
        Ok(json!({"DeletedParameters": deleted, "InvalidParameters": invalid}))
    }

    /// Deletes a parameter and all its versions; false when there is none.
    async fn remove(&self, ctx: &RequestContext, name: &str) -> SsmResult<bool> {
        let pending = {
            let mut all = self.params.lock();
            let Some(scope) = all.get_mut(&Self::scope(ctx)) else { return Ok(false) };
            if scope.remove(name).is_none() {
                return Ok(false);
            }
            self.store.apply(Change::Delete { account: ctx.account_id.clone(), region: ctx.region.clone(), name: name.to_string() })
        };
        pending.wait().await.map_err(SsmError::Internal)?;
        Ok(true)
    }
}

/// A stored document's JSON.
fn to_doc<T: serde::Serialize>(v: &T) -> SsmResult<String> {
    serde_json::to_string(v).map_err(|e| SsmError::Internal(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tiers_follow_size_policies_and_no_downgrade() {
        assert_eq!(resolve_tier(None, None, 4096, false).ok(), Some("Standard"));
        assert!(resolve_tier(None, None, 4097, false).is_err());
        assert_eq!(resolve_tier(Some("Advanced"), None, 8192, false).ok(), Some("Advanced"));
        assert!(resolve_tier(Some("Advanced"), None, 8193, false).is_err());
        assert_eq!(resolve_tier(Some("Intelligent-Tiering"), None, 10, false).ok(), Some("Standard"));
        assert_eq!(resolve_tier(Some("Intelligent-Tiering"), None, 10, true).ok(), Some("Advanced"));
        assert_eq!(resolve_tier(Some("Intelligent-Tiering"), Some("Advanced"), 10, false).ok(), Some("Advanced"));
        assert_eq!(resolve_tier(None, Some("Advanced"), 10, false).ok(), Some("Advanced"));
        assert!(resolve_tier(Some("Standard"), Some("Advanced"), 10, false).is_err());
        assert!(resolve_tier(Some("Standard"), None, 10, true).is_err());
        assert!(resolve_tier(Some("Premium"), None, 10, false).is_err());
    }

    #[test]
    fn data_types() {
        assert!(check_data_type("text", "SecureString", "x").is_ok());
        assert!(check_data_type("aws:ec2:image", "String", "ami-0123abcd").is_ok());
        assert!(check_data_type("aws:ec2:image", "String", "ami-0123456789abcdef0").is_ok());
        assert!(check_data_type("aws:ec2:image", "String", "ami-0123ABCD").is_err());
        assert!(check_data_type("aws:ec2:image", "String", "ami-0123abc").is_err());
        assert!(check_data_type("aws:ec2:image", "StringList", "ami-0123abcd").is_err());
        assert!(check_data_type("Text", "String", "x").is_err());
    }
}
