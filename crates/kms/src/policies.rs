//! Key policies, tags and key references as IAM reads them (`ResourcePolicies`, under
//! `--auth iam`): a key's policy is its resource policy (AWS's default policy delegates to
//! the account's IAM policies), its tags are `aws:ResourceTag/<key>`, and an alias, a key
//! id or a ciphertext blob names the key ARN a request is authorized on.
//! <https://docs.aws.amazon.com/kms/latest/developerguide/control-access.html>

use crate::service::KmsService;
use base64::Engine;

/// `arn:aws:kms:<region>:<account>:key/<id>` → (account, region, id).
fn key_of(arn: &str) -> Option<(String, String, String)> {
    let rest = arn.strip_prefix("arn:")?;
    match rest.splitn(5, ':').collect::<Vec<_>>().as_slice() {
        [_, "kms", region, account, resource] => Some((account.to_string(), region.to_string(), resource.strip_prefix("key/")?.to_string())),
        _ => None,
    }
}

impl nimbus_core::internal::ResourcePolicies for KmsService {
    fn policy_of(&self, arn: &str) -> Option<String> {
        let key = key_of(arn)?;
        self.reg.keys.read().get(&key).map(|k| k.policy.clone())
    }

    fn tags_of(&self, arn: &str) -> Vec<(String, String)> {
        key_of(arn).and_then(|key| self.reg.keys.read().get(&key).map(|k| k.tags.clone())).unwrap_or_default()
    }

    fn canonical_arn(&self, account: &str, region: &str, reference: &str) -> Option<String> {
        let arn_of = |a: &str, r: &str, id: &str| format!("arn:aws:kms:{r}:{a}:key/{id}");
        let known = |a: &str, r: &str, id: &str| self.reg.keys.read().contains_key(&(a.to_string(), r.to_string(), id.to_string()));
        let alias = |a: &str, r: &str, name: &str| self.reg.aliases.read().get(&(a.to_string(), r.to_string(), name.to_string())).map(|al| arn_of(a, r, &al.target));
        if let Some(rest) = reference.strip_prefix("arn:") {
            let parts: Vec<&str> = rest.splitn(5, ':').collect();
            return match parts.as_slice() {
                [_, "kms", r, a, resource] if resource.starts_with("alias/") => alias(a, r, resource),
                [_, "kms", _, _, resource] if resource.starts_with("key/") => Some(reference.to_string()),
                _ => None,
            };
        }
        if reference.starts_with("alias/") {
            return alias(account, region, reference);
        }
        if known(account, region, reference) {
            return Some(arn_of(account, region, reference));
        }
        // A ciphertext blob names its key.
        let blob = base64::engine::general_purpose::STANDARD.decode(reference).ok()?;
        let header = crate::blob::parse(&blob).ok()?;
        Some(arn_of(account, region, header.key_id))
    }
}
