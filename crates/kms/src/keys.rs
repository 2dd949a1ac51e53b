//! KMS keys and aliases in memory per account and region, written through to the
//! document store before a call answers, read back (and their material unsealed) at
//! start. Resolves every form of KeyId AWS accepts (key id, key ARN, alias name, alias
//! ARN), creates AWS managed keys (`alias/aws/<service>`) on first use, and applies the
//! clock: a key whose DeletionDate has passed is gone, a key whose rotation is due rotates.

use crate::errors::{KmsError, KmsResult};
use crate::master::MasterKey;
use nimbus_core::doc_store::{Doc, DocStore};
use nimbus_core::Clock;
use parking_lot::RwLock;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

pub const DAY_MS: u64 = 86_400_000;

/// (account, region, key id).
pub type KeyRef = (String, String, String);

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Rotation {
    pub date_ms: u64,
    /// AUTOMATIC | ON_DEMAND
    pub kind: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Key {
    pub id: String,
    pub created_ms: u64,
    pub description: String,
    pub spec: String,
    pub usage: String,
    /// Enabled | Disabled | PendingDeletion | PendingImport
    pub state: String,
    pub origin: String,
    /// CUSTOMER | AWS
    pub manager: String,
    pub multi_region: bool,
    pub deletion_ms: Option<u64>,
    pub pending_days: Option<u32>,
    pub policy: String,
    #[serde(default)]
    pub tags: Vec<(String, String)>,
    /// Automatic rotation's period when enabled.
    pub rotation_days: Option<u32>,
    pub next_rotation_ms: Option<u64>,
    #[serde(default)]
    pub rotations: Vec<Rotation>,
    /// GetParametersForImport's wrapping key and token, for an EXTERNAL key.
    #[serde(default)]
    pub import: Option<crate::ops_import::PendingImport>,
    /// When imported key material expires (KEY_MATERIAL_EXPIRES).
    #[serde(default)]
    pub valid_to_ms: Option<u64>,
    /// An EXTERNAL key's material after it was deleted or expired, sealed: a reimport
    /// must bring the same material, as AWS requires.
    #[serde(default)]
    pub retired: Option<String>,
    /// Grants on the key (stored and listed; not enforced).
    #[serde(default)]
    pub grants: Vec<crate::ops_grants::Grant>,
    /// Each key-material version, sealed under the master key (index = version).
    pub sealed: Vec<String>,
    #[serde(skip)]
    pub material: Vec<Arc<Vec<u8>>>,
}

impl Key {
    pub fn arn(&self, account: &str, region: &str) -> String {
        format!("arn:aws:kms:{region}:{account}:key/{}", self.id)
    }

    pub fn current(&self) -> (u32, Arc<Vec<u8>>) {
        let v = self.material.len().saturating_sub(1);
        (v as u32, self.material.get(v).cloned().unwrap_or_default())
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Alias {
    pub target: String,
    pub created_ms: u64,
    pub updated_ms: u64,
}

pub struct Registry {
    pub keys: RwLock<BTreeMap<KeyRef, Arc<Key>>>,
    /// The earliest deletion / rotation / expiry deadline of any key (`u64::MAX`: none),
    /// so that applying the clock costs one load on the request path.
    earliest: AtomicU64,
    /// (account, region, alias name incl. `alias/`) → alias.
    pub aliases: RwLock<BTreeMap<KeyRef, Alias>>,
    docs: Arc<dyn DocStore>,
    master: MasterKey,
    pub clock: Clock,
    /// Woken when a deadline (deletion, rotation) may have moved earlier.
    pub changed: tokio::sync::Notify,
}

fn material_label(account: &str, region: &str, id: &str, version: usize) -> String {
    format!("{account}/{region}/{id}/{version}")
}

pub fn default_policy(account: &str) -> String {
    serde_json::to_string_pretty(&serde_json::json!({
        "Version": "2012-10-17",
        "Id": "key-default-1",
        "Statement": [{
            "Sid": "Enable IAM User Permissions",
            "Effect": "Allow",
            "Principal": {"AWS": format!("arn:aws:iam::{account}:root")},
            "Action": "kms:*",
            "Resource": "*"
        }]
    }))
    .unwrap_or_default()
}

impl Registry {
    pub fn open(docs: Arc<dyn DocStore>, master: MasterKey, clock: Clock) -> Result<Registry, String> {
        let mut keys = BTreeMap::new();
        let mut aliases = BTreeMap::new();
        for d in docs.load().map_err(|e| format!("{e:?}"))? {
            let [account, region, item] = d.keys;
            if let Some(id) = item.strip_prefix("key/") {
                let mut k: Key = serde_json::from_str(&d.doc).map_err(|e| e.to_string())?;
                k.material = k
                    .sealed
                    .iter()
                    .enumerate()
                    .map(|(v, s)| master.unseal(&material_label(&account, &region, id, v), s).map(Arc::new))
                    .collect::<Result<_, _>>()?;
                keys.insert((account, region, id.to_string()), Arc::new(k));
            } else if item.starts_with("alias/") {
                let a: Alias = serde_json::from_str(&d.doc).map_err(|e| e.to_string())?;
                aliases.insert((account, region, item), a);
            }
        }
        let reg = Registry { keys: RwLock::new(keys), aliases: RwLock::new(aliases), docs, master, clock, changed: tokio::sync::Notify::new(), earliest: AtomicU64::new(u64::MAX) };
        reg.refresh();
        Ok(reg)
    }

    pub async fn save_key(&self, account: &str, region: &str, key: &Key) -> KmsResult<()> {
        let doc = serde_json::to_string(key).map_err(|e| KmsError::Internal(e.to_string()))?;
        self.docs.put(Doc { keys: [account.into(), region.into(), format!("key/{}", key.id)], doc }).wait().await.map_err(KmsError::Internal)
    }

    pub async fn forget_key(&self, account: &str, region: &str, id: &str) -> KmsResult<()> {
        self.docs.delete([account.into(), region.into(), format!("key/{id}")]).wait().await.map_err(KmsError::Internal)
    }

    pub async fn save_alias(&self, account: &str, region: &str, name: &str, alias: Option<&Alias>) -> KmsResult<()> {
        let keys = [account.to_string(), region.to_string(), name.to_string()];
        let pending = match alias {
            Some(a) => self.docs.put(Doc { keys, doc: serde_json::to_string(a).map_err(|e| KmsError::Internal(e.to_string()))? }),
            None => self.docs.delete(keys),
        };
        pending.wait().await.map_err(KmsError::Internal)
    }

    /// Appends a fresh key-material version, sealed.
    pub fn add_material(&self, account: &str, region: &str, key: &mut Key, material: Vec<u8>) -> KmsResult<()> {
        let label = material_label(account, region, &key.id, key.sealed.len());
        key.sealed.push(self.master.seal(&label, &material).map_err(KmsError::Internal)?);
        key.material.push(Arc::new(material));
        Ok(())
    }

    /// Seals bytes that are not key material versions (wrapping keys, retired material).
    pub fn seal(&self, label: &str, bytes: &[u8]) -> KmsResult<String> {
        self.master.seal(label, bytes).map_err(KmsError::Internal)
    }

    pub fn unseal(&self, label: &str, sealed: &str) -> KmsResult<Vec<u8>> {
        self.master.unseal(label, sealed).map_err(KmsError::Internal)
    }

    /// Creates and stores a key.
    #[allow(clippy::too_many_arguments)]
    pub async fn create(&self, account: &str, region: &str, spec: &str, usage: &str, origin: &str, manager: &str, description: String, policy: Option<String>, tags: Vec<(String, String)>, multi_region: bool) -> KmsResult<Key> {
        let id = if multi_region { format!("mrk-{}", uuid::Uuid::new_v4().simple()) } else { uuid::Uuid::new_v4().to_string() };
        let mut key = Key {
            id,
            created_ms: self.clock.now_ms(),
            description,
            spec: spec.to_string(),
            usage: usage.to_string(),
            state: if origin == "EXTERNAL" { "PendingImport".into() } else { "Enabled".into() },
            origin: origin.to_string(),
            manager: manager.to_string(),
            multi_region,
            deletion_ms: None,
            pending_days: None,
            policy: policy.unwrap_or_else(|| default_policy(account)),
            tags,
            rotation_days: None,
            next_rotation_ms: None,
            rotations: Vec::new(),
            grants: Vec::new(),
            import: None,
            valid_to_ms: None,
            retired: None,
            sealed: Vec::new(),
            material: Vec::new(),
        };
        if origin != "EXTERNAL" {
            let spec = spec.to_string();
            let material = tokio::task::spawn_blocking(move || crate::spec::generate(&spec)).await.map_err(|e| KmsError::Internal(e.to_string()))??;
            self.add_material(account, region, &mut key, material)?;
        }
        if manager == "AWS" {
            // AWS managed keys rotate every year, always.
            key.rotation_days = Some(365);
            key.next_rotation_ms = Some(key.created_ms + 365 * DAY_MS);
        }
        self.save_key(account, region, &key).await?;
        self.keys.write().insert((account.into(), region.into(), key.id.clone()), Arc::new(key.clone()));
        self.refresh();
        Ok(key)
    }

    /// The key id a KeyId names (id, key ARN, alias name, alias ARN), without state checks.
    /// `alias/aws/<service>` creates the AWS managed key on first use.
    pub async fn resolve(&self, account: &str, region: &str, key_id: &str) -> KmsResult<String> {
        self.settle(account, region).await;
        let alias_name = if let Some(rest) = key_id.strip_prefix("arn:") {
            let parts: Vec<&str> = rest.splitn(5, ':').collect();
            if parts.len() != 5 || parts[1] != "kms" {
                return Err(KmsError::NotFound(format!("Invalid keyId {key_id}")));
            }
            if parts[2] != region || parts[3] != account {
                return Err(KmsError::NotFound(format!("Invalid arn {key_id}")));
            }
            if let Some(id) = parts[4].strip_prefix("key/") {
                return self.existing(account, region, id);
            }
            if parts[4].starts_with("alias/") {
                parts[4].to_string()
            } else {
                return Err(KmsError::NotFound(format!("Invalid keyId {key_id}")));
            }
        } else if key_id.starts_with("alias/") {
            key_id.to_string()
        } else {
            return self.existing(account, region, key_id);
        };
        let target = self.aliases.read().get(&(account.into(), region.into(), alias_name.clone())).map(|a| a.target.clone());
        match target {
            Some(t) => Ok(t),
            None if is_managed_alias(&alias_name) => self.managed_key(account, region, &alias_name).await,
            None => Err(KmsError::NotFound(format!("Alias arn:aws:kms:{region}:{account}:{alias_name} is not found."))),
        }
    }

    fn existing(&self, account: &str, region: &str, id: &str) -> KmsResult<String> {
        if self.keys.read().contains_key(&(account.into(), region.into(), id.into())) {
            Ok(id.to_string())
        } else if id.is_empty() {
            Err(KmsError::missing("keyId"))
        } else {
            Err(KmsError::NotFound(format!("Key 'arn:aws:kms:{region}:{account}:key/{id}' does not exist")))
        }
    }

    /// The AWS managed key behind `alias/aws/<service>`, created now if it does not exist.
    async fn managed_key(&self, account: &str, region: &str, alias: &str) -> KmsResult<String> {
        let service = alias.trim_start_matches("alias/aws/");
        let desc = format!("Default key that protects my {service} data when no other key is defined");
        let key = self.create(account, region, crate::spec::SYMMETRIC, crate::spec::ENCRYPT_DECRYPT, "AWS_KMS", "AWS", desc, None, Vec::new(), false).await?;
        let now = self.clock.now_ms();
        let a = Alias { target: key.id.clone(), created_ms: now, updated_ms: now };
        {
            // Two first uses at once: the alias that got in first wins.
            let mut aliases = self.aliases.write();
            let k = (account.to_string(), region.to_string(), alias.to_string());
            if let Some(existing) = aliases.get(&k) {
                return Ok(existing.target.clone());
            }
            aliases.insert(k, a.clone());
        }
        self.save_alias(account, region, alias, Some(&a)).await?;
        Ok(key.id)
    }

    /// A key (shared: changes replace it).
    pub fn get(&self, account: &str, region: &str, id: &str) -> KmsResult<Arc<Key>> {
        self.keys
            .read()
            .get(&(account.into(), region.into(), id.into()))
            .cloned()
            .ok_or_else(|| KmsError::NotFound(format!("Key 'arn:aws:kms:{region}:{account}:key/{id}' does not exist")))
    }

    /// Changes a key and stores it; `f` may refuse.
    pub async fn update<T>(&self, account: &str, region: &str, id: &str, f: impl FnOnce(&mut Key) -> KmsResult<T>) -> KmsResult<T> {
        let (out, key) = {
            let mut keys = self.keys.write();
            let key = keys
                .get_mut(&(account.into(), region.into(), id.into()))
                .ok_or_else(|| KmsError::NotFound(format!("Key 'arn:aws:kms:{region}:{account}:key/{id}' does not exist")))?;
            let mut copy = (**key).clone();
            let out = f(&mut copy)?;
            let copy = Arc::new(copy);
            *key = copy.clone();
            (out, copy)
        };
        self.refresh();
        self.save_key(account, region, &key).await?;
        Ok(out)
    }

    /// `update` with a change that cannot fail.
    pub async fn modify(&self, account: &str, region: &str, id: &str, f: impl FnOnce(&mut Key)) -> KmsResult<()> {
        self.update(account, region, id, |k| {
            f(k);
            Ok(())
        })
        .await
    }

    /// Applies the clock to one account and region: keys past their DeletionDate are
    /// deleted (with their aliases), keys whose automatic rotation is due rotate.
    pub async fn settle(&self, account: &str, region: &str) {
        let now = self.clock.now_ms();
        if self.earliest.load(Ordering::Acquire) > now {
            return;
        }
        let expired: Vec<String> = self
            .keys
            .read()
            .iter()
            .filter(|(k, v)| k.0 == account && k.1 == region && v.state != "PendingImport" && v.valid_to_ms.is_some_and(|d| d <= now))
            .map(|(k, _)| k.2.clone())
            .collect();
        for id in expired {
            let _ = self.modify(account, region, &id, crate::ops_import::forget_material).await;
        }
        let (gone, due): (Vec<String>, Vec<String>) = {
            let keys = self.keys.read();
            let mine = keys.iter().filter(|(k, _)| k.0 == account && k.1 == region);
            let gone = mine.clone().filter(|(_, v)| v.state == "PendingDeletion" && v.deletion_ms.is_some_and(|d| d <= now)).map(|(k, _)| k.2.clone()).collect();
            let due = mine.filter(|(_, v)| v.state == "Enabled" && v.next_rotation_ms.is_some_and(|d| d <= now)).map(|(k, _)| k.2.clone()).collect();
            (gone, due)
        };
        for id in gone {
            self.delete_now(account, region, &id).await;
        }
        for id in due {
            if let Err(e) = self.rotate(account, region, &id, "AUTOMATIC").await {
                tracing::warn!(key = %id, error = ?e, "kms: automatic rotation failed");
            }
        }
    }

    async fn delete_now(&self, account: &str, region: &str, id: &str) {
        let removed = self.keys.write().remove(&(account.into(), region.into(), id.into())).is_some();
        if !removed {
            return;
        }
        self.refresh();
        let _ = self.forget_key(account, region, id).await;
        let names: Vec<String> = {
            let mut aliases = self.aliases.write();
            let names: Vec<String> = aliases.iter().filter(|(k, a)| k.0 == account && k.1 == region && a.target == id).map(|(k, _)| k.2.clone()).collect();
            for n in &names {
                aliases.remove(&(account.into(), region.into(), n.clone()));
            }
            names
        };
        for n in names {
            let _ = self.save_alias(account, region, &n, None).await;
        }
    }

    /// New key material (automatic on the clock, or on demand); older versions stay for
    /// decryption.
    pub async fn rotate(&self, account: &str, region: &str, id: &str, kind: &str) -> KmsResult<()> {
        let spec = self.get(account, region, id)?.spec.clone();
        let material = tokio::task::spawn_blocking(move || crate::spec::generate(&spec)).await.map_err(|e| KmsError::Internal(e.to_string()))??;
        let kind = kind.to_string();
        let now = self.clock.now_ms();
        self.update(account, region, id, |k| {
            let date = match (kind.as_str(), k.next_rotation_ms) {
                ("AUTOMATIC", Some(d)) if d <= now => d,
                // Another caller (the timer, a request) rotated it first.
                ("AUTOMATIC", _) => return Ok(()),
                _ => now,
            };
            self.add_material(account, region, k, material)?;
            k.rotations.push(Rotation { date_ms: date, kind });
            if let (Some(days), Some(next)) = (k.rotation_days, k.next_rotation_ms) {
                if next <= now {
                    // The next automatic rotation, one period after the one just done.
                    let mut n = next;
                    while n <= now {
                        n += days as u64 * DAY_MS;
                    }
                    k.next_rotation_ms = Some(n);
                }
            }
            Ok(())
        })
        .await
    }

    /// The earliest deletion or rotation deadline of any key.
    pub fn next_deadline(&self) -> Option<u64> {
        self.keys
            .read()
            .values()
            .filter_map(|k| {
                let own = match k.state.as_str() {
                    "PendingDeletion" => k.deletion_ms,
                    "Enabled" => k.next_rotation_ms,
                    _ => None,
                };
                let expiry = if k.state == "PendingImport" { None } else { k.valid_to_ms };
                [own, expiry].into_iter().flatten().min()
            })
            .min()
    }

    /// Recomputes the earliest deadline and wakes the timer.
    fn refresh(&self) {
        self.earliest.store(self.next_deadline().unwrap_or(u64::MAX), Ordering::Release);
        self.changed.notify_one();
    }

    /// Every (account, region) holding keys.
    pub fn scopes(&self) -> Vec<(String, String)> {
        let mut v: Vec<(String, String)> = self.keys.read().keys().map(|k| (k.0.clone(), k.1.clone())).collect();
        v.dedup();
        v
    }
}

pub fn is_managed_alias(name: &str) -> bool {
    name.strip_prefix("alias/aws/").is_some_and(|s| !s.is_empty() && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_'))
}

/// Runs `settle` for every scope whenever the earliest deadline passes or keys change.
pub fn start_timer(reg: Arc<Registry>) {
    if tokio::runtime::Handle::try_current().is_err() {
        return;
    }
    tokio::spawn(async move {
        loop {
            let changed = reg.changed.notified();
            match reg.next_deadline() {
                Some(d) => {
                    tokio::select! {
                        _ = reg.clock.sleep_until(d) => {}
                        _ = changed => continue,
                    }
                }
                None => {
                    changed.await;
                    continue;
                }
            }
            for (a, r) in reg.scopes() {
                reg.settle(&a, &r).await;
            }
        }
    });
}
