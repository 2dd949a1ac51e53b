//! The metadata index: every secret of every account and region in memory (name, ARN,
//! description, key, tags, policy, rotation settings, versions with their staging labels
//! and dates — never the values), written through to the store before a change answers.
//! Resolution of a `SecretId` (name, full ARN or partial ARN) and the staging rules
//! (at most one version per label) live here.

use crate::errors::{SmError, SmResult};
use crate::store::{SecretStore, StoredSecret};
use parking_lot::RwLock;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::sync::Arc;

pub const CURRENT: &str = "AWSCURRENT";
pub const PREVIOUS: &str = "AWSPREVIOUS";
pub const PENDING: &str = "AWSPENDING";
/// The AWS managed key secrets are encrypted under when they name none.
pub const DEFAULT_KEY: &str = "alias/aws/secretsmanager";
/// Versions kept before deprecated ones (no staging label) are removed, as AWS's quota.
/// <https://docs.aws.amazon.com/secretsmanager/latest/userguide/reference_limits.html>
pub const MAX_VERSIONS: usize = 100;
/// Versions younger than this are never removed (so a secret written more often than the
/// quota allows answers LimitExceededException).
/// <https://docs.aws.amazon.com/secretsmanager/latest/userguide/whats-in-a-secret.html>
pub const KEEP_YOUNGER_THAN_MS: u64 = 86_400_000;

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Version {
    pub id: String,
    pub stages: Vec<String>,
    pub created_ms: u64,
    #[serde(default)]
    pub last_accessed_day_ms: Option<u64>,
    /// The ARN of the KMS key its value is encrypted under.
    pub key_arn: String,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Rotation {
    pub lambda_arn: Option<String>,
    pub enabled: bool,
    pub automatically_after_days: Option<i64>,
    pub schedule_expression: Option<String>,
    pub duration: Option<String>,
    pub last_rotated_ms: Option<u64>,
    pub next_rotation_ms: Option<u64>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Secret {
    pub account: String,
    pub region: String,
    pub name: String,
    pub arn: String,
    pub description: Option<String>,
    /// The KmsKeyId the caller gave (None: the AWS managed key).
    pub kms_key_id: Option<String>,
    pub tags: Vec<(String, String)>,
    pub policy: Option<String>,
    pub created_ms: u64,
    pub last_changed_ms: u64,
    pub deleted_ms: Option<u64>,
    /// When a scheduled deletion happens.
    pub delete_at_ms: Option<u64>,
    /// Oldest first.
    pub versions: Vec<Version>,
    pub rotation: Rotation,
}

impl Secret {
    pub fn key_id(&self) -> &str {
        self.kms_key_id.as_deref().unwrap_or(DEFAULT_KEY)
    }

    pub fn version(&self, id: &str) -> Option<&Version> {
        self.versions.iter().find(|v| v.id == id)
    }

    pub fn version_with_stage(&self, stage: &str) -> Option<&Version> {
        self.versions.iter().find(|v| v.stages.iter().any(|s| s == stage))
    }

    /// Attaches `stage` to version `id`, taking it from whichever version had it; moving
    /// AWSCURRENT hands AWSPREVIOUS to the version that was current.
    /// <https://docs.aws.amazon.com/secretsmanager/latest/userguide/whats-in-a-secret.html#term_version>
    pub fn attach(&mut self, id: &str, stage: &str) {
        let previous_holder = self.version_with_stage(stage).map(|v| v.id.clone());
        if previous_holder.as_deref() == Some(id) {
            return;
        }
        for v in &mut self.versions {
            v.stages.retain(|s| s != stage);
        }
        if stage == CURRENT {
            if let Some(old) = previous_holder {
                for v in &mut self.versions {
                    v.stages.retain(|s| s != PREVIOUS);
                }
                if let Some(v) = self.versions.iter_mut().find(|v| v.id == old) {
                    v.stages.push(PREVIOUS.to_string());
                }
            }
        }
        if let Some(v) = self.versions.iter_mut().find(|v| v.id == id) {
            v.stages.push(stage.to_string());
        }
    }

    pub fn detach(&mut self, id: &str, stage: &str) {
        if let Some(v) = self.versions.iter_mut().find(|v| v.id == id) {
            v.stages.retain(|s| s != stage);
        }
    }

    /// Drops the oldest versions without a staging label, created at least a day before
    /// `now_ms`, beyond [`MAX_VERSIONS`]; returns their ids (their values are removed from
    /// the store too).
    pub fn prune(&mut self, now_ms: u64) -> Vec<String> {
        let mut dropped = Vec::new();
        while self.versions.len() > MAX_VERSIONS {
            match self.versions.iter().position(|v| v.stages.is_empty() && v.created_ms + KEEP_YOUNGER_THAN_MS <= now_ms) {
                Some(i) => dropped.push(self.versions.remove(i).id),
                None => break,
            }
        }
        dropped
    }
}

type Key = (String, String, String);

pub struct Registry {
    pub secrets: RwLock<BTreeMap<Key, Secret>>,
    pub store: Arc<dyn SecretStore>,
    clock: nimbus_core::Clock,
}

impl Registry {
    pub fn open(store: Arc<dyn SecretStore>, clock: nimbus_core::Clock) -> Result<Registry, String> {
        let mut secrets = BTreeMap::new();
        for row in store.load() {
            let s: Secret = serde_json::from_str(&row.doc).map_err(|e| format!("secret {}: {e}", row.name))?;
            secrets.insert((row.account, row.region, row.name), s);
        }
        Ok(Registry { secrets: RwLock::new(secrets), store, clock })
    }

    /// The name of the secret `id` names in (account, region): a name, a full ARN or a
    /// partial ARN (the ARN without its `-` and six random characters).
    /// <https://docs.aws.amazon.com/secretsmanager/latest/userguide/troubleshoot.html#ARN_secretnamehyphen>
    /// A secret whose recovery window has passed is gone, whether or not the timer has
    /// removed it yet.
    pub fn resolve(&self, account: &str, region: &str, id: &str) -> SmResult<String> {
        let secrets = self.secrets.read();
        let now = self.clock.now_ms();
        let live = |s: &Secret| s.delete_at_ms.is_none_or(|t| t > now);
        if id.starts_with("arn:") {
            let found = secrets
                .range((account.to_string(), region.to_string(), String::new())..)
                .take_while(|((a, r, _), _)| a == account && r == region)
                .find(|(_, s)| live(s) && (s.arn == id || s.arn.len() == id.len() + 7 && s.arn.starts_with(id) && s.arn.as_bytes()[id.len()] == b'-'));
            return found.map(|((_, _, n), _)| n.clone()).ok_or_else(SmError::not_found);
        }
        match secrets.get(&(account.to_string(), region.to_string(), id.to_string())) {
            Some(s) if live(s) => Ok(id.to_string()),
            _ => Err(SmError::not_found()),
        }
    }

    /// Whether the secret's recovery window has passed.
    pub fn expired(&self, s: &Secret) -> bool {
        s.delete_at_ms.is_some_and(|t| t <= self.clock.now_ms())
    }

    /// A copy of the secret `id` names.
    pub fn get(&self, account: &str, region: &str, id: &str) -> SmResult<Secret> {
        let name = self.resolve(account, region, id)?;
        self.secrets.read().get(&(account.to_string(), region.to_string(), name)).cloned().ok_or_else(SmError::not_found)
    }

    /// Stores `secret` (in memory, and submitted to the store in the same order).
    pub fn save(&self, secret: Secret) -> nimbus_core::storage::Pending {
        let mut secrets = self.secrets.write();
        let doc = serde_json::to_string(&secret).unwrap_or_default();
        let pending = self.store.put_secret(StoredSecret { account: secret.account.clone(), region: secret.region.clone(), name: secret.name.clone(), doc });
        secrets.insert((secret.account.clone(), secret.region.clone(), secret.name.clone()), secret);
        pending
    }

    pub fn remove(&self, secret: &Secret) -> nimbus_core::storage::Pending {
        let mut secrets = self.secrets.write();
        let pending = self.store.delete_secret(&secret.account, &secret.region, &secret.name, &secret.arn);
        secrets.remove(&(secret.account.clone(), secret.region.clone(), secret.name.clone()));
        pending
    }

    /// Every secret of (account, region), in name order.
    pub fn all(&self, account: &str, region: &str) -> Vec<Secret> {
        let secrets = self.secrets.read();
        secrets.range((account.to_string(), region.to_string(), String::new())..).take_while(|((a, r, _), _)| a == account && r == region).filter(|(_, s)| !self.expired(s)).map(|(_, s)| s.clone()).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn secret(n: usize) -> Secret {
        Secret {
            account: "1".into(),
            region: "r".into(),
            name: "s".into(),
            arn: "arn:aws:secretsmanager:r:1:secret:s-AbCdEf".into(),
            description: None,
            kms_key_id: None,
            tags: Vec::new(),
            policy: None,
            created_ms: 0,
            last_changed_ms: 0,
            deleted_ms: None,
            delete_at_ms: None,
            versions: (0..n).map(|i| Version { id: format!("v{i}"), stages: Vec::new(), created_ms: i as u64, last_accessed_day_ms: None, key_arn: String::new() }).collect(),
            rotation: Rotation::default(),
        }
    }

    #[test]
    fn awscurrent_moves_and_hands_awsprevious_on() {
        let mut s = secret(3);
        s.attach("v0", CURRENT);
        s.attach("v1", CURRENT);
        s.attach("v2", CURRENT);
        assert_eq!(s.version("v2").map(|v| v.stages.clone()), Some(vec![CURRENT.to_string()]));
        assert_eq!(s.version("v1").map(|v| v.stages.clone()), Some(vec![PREVIOUS.to_string()]));
        assert!(s.version("v0").is_some_and(|v| v.stages.is_empty()), "AWSPREVIOUS is on one version only");
        s.attach("v0", "CUSTOM");
        s.attach("v1", "CUSTOM");
        assert!(s.version("v0").is_some_and(|v| v.stages.is_empty()), "a label is on one version only");
        s.attach("v2", CURRENT);
        assert_eq!(s.version("v1").map(|v| v.stages.len()), Some(2), "re-attaching to the holder changes nothing");
    }

    #[test]
    fn versions_past_the_limit_drop_the_oldest_unlabelled_older_than_a_day() {
        let mut s = secret(MAX_VERSIONS + 3);
        s.attach("v0", CURRENT);
        assert!(s.prune(KEEP_YOUNGER_THAN_MS - 1).is_empty(), "every version is younger than a day");
        // v1 was created at 1 ms, v2 at 2 ms: a day later only they may go.
        assert_eq!(s.prune(KEEP_YOUNGER_THAN_MS + 2), ["v1", "v2"]);
        assert_eq!(s.versions.len(), MAX_VERSIONS + 1);
        let dropped = s.prune(2 * KEEP_YOUNGER_THAN_MS);
        assert_eq!(dropped, ["v3"]);
        assert_eq!(s.versions.len(), MAX_VERSIONS);
        assert!(s.version("v0").is_some(), "labelled versions stay");
    }
}
