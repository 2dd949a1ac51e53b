//! The identity directory: every account's IAM entities in memory (IAM is global — one
//! directory per account, not per region), each change written through to the store
//! before the call answers, and an index of access key ids (user keys and STS sessions)
//! that request authentication reads on every signed request.

use crate::entities::*;
use crate::errors::{IamError, IamResult};
use nimbus_core::doc_store::{Doc, DocStore};
use nimbus_core::internal::{CredentialResolver, ResolvedKey};
use nimbus_core::storage::Pending;
use nimbus_core::Clock;
use parking_lot::{Mutex, RwLock};
use serde::Serialize;
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

/// One account's IAM. Names are unique case-insensitively, so maps are keyed by the
/// lower-cased name and keep the name as given inside.
#[derive(Default)]
pub struct Account {
    pub id: String,
    pub users: BTreeMap<String, User>,
    pub groups: BTreeMap<String, Group>,
    pub roles: BTreeMap<String, Role>,
    /// Customer managed policies by ARN.
    pub policies: BTreeMap<String, ManagedPolicy>,
    pub instance_profiles: BTreeMap<String, InstanceProfile>,
    /// OIDC providers by ARN.
    pub oidc: BTreeMap<String, OidcProvider>,
    /// SAML providers by ARN.
    pub saml: BTreeMap<String, SamlProvider>,
    pub access_keys: BTreeMap<String, AccessKey>,
    pub sessions: HashMap<String, Session>,
    pub aliases: Vec<String>,
}

pub fn key(name: &str) -> String {
    name.to_ascii_lowercase()
}

impl Account {
    fn new(id: &str) -> Account {
        Account { id: id.to_string(), ..Default::default() }
    }

    pub fn role(&self, name: &str) -> IamResult<&Role> {
        self.roles.get(&key(name)).ok_or_else(|| IamError::NoSuchEntity(format!("The role with name {name} cannot be found.")))
    }
    pub fn role_mut(&mut self, name: &str) -> IamResult<&mut Role> {
        self.roles.get_mut(&key(name)).ok_or_else(|| IamError::NoSuchEntity(format!("The role with name {name} cannot be found.")))
    }
    pub fn user(&self, name: &str) -> IamResult<&User> {
        self.users.get(&key(name)).ok_or_else(|| IamError::NoSuchEntity(format!("The user with name {name} cannot be found.")))
    }
    pub fn user_mut(&mut self, name: &str) -> IamResult<&mut User> {
        self.users.get_mut(&key(name)).ok_or_else(|| IamError::NoSuchEntity(format!("The user with name {name} cannot be found.")))
    }
    pub fn group(&self, name: &str) -> IamResult<&Group> {
        self.groups.get(&key(name)).ok_or_else(|| IamError::NoSuchEntity(format!("The group with name {name} cannot be found.")))
    }
    pub fn group_mut(&mut self, name: &str) -> IamResult<&mut Group> {
        self.groups.get_mut(&key(name)).ok_or_else(|| IamError::NoSuchEntity(format!("The group with name {name} cannot be found.")))
    }
    pub fn profile(&self, name: &str) -> IamResult<&InstanceProfile> {
        self.instance_profiles.get(&key(name)).ok_or_else(|| IamError::NoSuchEntity(format!("Instance Profile {name} cannot be found.")))
    }
    pub fn profile_mut(&mut self, name: &str) -> IamResult<&mut InstanceProfile> {
        self.instance_profiles.get_mut(&key(name)).ok_or_else(|| IamError::NoSuchEntity(format!("Instance Profile {name} cannot be found.")))
    }
    pub fn customer_policy(&self, arn: &str) -> IamResult<&ManagedPolicy> {
        self.policies.get(arn).ok_or_else(|| IamError::NoSuchEntity(format!("Policy {arn} was not found.")))
    }
    pub fn customer_policy_mut(&mut self, arn: &str) -> IamResult<&mut ManagedPolicy> {
        self.policies.get_mut(arn).ok_or_else(|| IamError::NoSuchEntity(format!("Policy {arn} was not found.")))
    }

    /// How many users, groups and roles have this managed policy attached, and how many use it as a boundary.
    pub fn usage(&self, arn: &str) -> (usize, usize) {
        let attached = self.users.values().filter(|u| u.policies.attached.iter().any(|a| a == arn)).count()
            + self.groups.values().filter(|g| g.policies.attached.iter().any(|a| a == arn)).count()
            + self.roles.values().filter(|r| r.policies.attached.iter().any(|a| a == arn)).count();
        let boundary = self.users.values().filter(|u| u.permissions_boundary.as_deref() == Some(arn)).count()
            + self.roles.values().filter(|r| r.permissions_boundary.as_deref() == Some(arn)).count();
        (attached, boundary)
    }
}

/// Store writes collected while a change is made, submitted in order under the lock.
#[derive(Default)]
pub struct Changes {
    rows: Vec<(String, String, Option<String>)>,
    keys: Vec<(String, Option<ResolvedKey>)>,
}

impl Changes {
    pub fn put<T: Serialize>(&mut self, kind: &str, key: &str, entity: &T) {
        let doc = serde_json::to_string(entity).unwrap_or_default();
        self.rows.push((kind.to_string(), key.to_string(), Some(doc)));
    }
    pub fn delete(&mut self, kind: &str, key: &str) {
        self.rows.push((kind.to_string(), key.to_string(), None));
    }
    /// Updates the access key index (None removes the key).
    pub fn index_key(&mut self, id: &str, resolved: Option<ResolvedKey>) {
        self.keys.push((id.to_string(), resolved));
    }
    pub fn put_user(&mut self, u: &User) {
        self.put("user", &key(&u.name), u)
    }
    pub fn put_group(&mut self, g: &Group) {
        self.put("group", &key(&g.name), g)
    }
    pub fn put_role(&mut self, r: &Role) {
        self.put("role", &key(&r.name), r)
    }
    pub fn put_policy(&mut self, p: &ManagedPolicy) {
        self.put("policy", &p.arn, p)
    }
    pub fn put_profile(&mut self, p: &InstanceProfile) {
        self.put("profile", &key(&p.name), p)
    }
}

pub struct Directory {
    pub clock: Clock,
    store: Arc<dyn DocStore>,
    accounts: Mutex<HashMap<String, Account>>,
    keys: RwLock<HashMap<String, ResolvedKey>>,
    /// When each long-term access key was last used (time, service, region), in memory
    /// only: AWS too reports it with a delay and keeps it approximate.
    last_used: Mutex<HashMap<String, (u64, String, String)>>,
    /// Bumped by every change: compiled-policy caches compare it.
    generation: std::sync::atomic::AtomicU64,
    /// The generation, for those who wait for the next change (running event source
    /// mappings whose role lost a permission).
    changes: tokio::sync::watch::Sender<u64>,
}

pub fn user_key(k: &AccessKey, u: &User, account: &str) -> ResolvedKey {
    ResolvedKey {
        secret_access_key: k.secret.clone(),
        account_id: account.to_string(),
        principal_arn: u.arn.clone(),
        user_id: u.id.clone(),
        session_token: None,
        expires_at_ms: None,
        active: k.active,
    }
}

pub fn session_key(s: &Session) -> ResolvedKey {
    ResolvedKey {
        secret_access_key: s.secret.clone(),
        account_id: s.account.clone(),
        principal_arn: s.principal_arn.clone(),
        user_id: s.user_id.clone(),
        session_token: Some(s.token.clone()),
        expires_at_ms: Some(s.expires_ms),
        active: true,
    }
}

impl Directory {
    pub fn open(clock: Clock, store: Arc<dyn DocStore>) -> IamResult<Directory> {
        let mut accounts: HashMap<String, Account> = HashMap::new();
        let now = clock.now_ms();
        let mut expired = Vec::new();
        for row in store.load()? {
            let Doc { keys: [account, kind, name], doc } = row;
            let acct = accounts.entry(account.clone()).or_insert_with(|| Account::new(&account));
            let ok = match kind.as_str() {
                "user" => serde_json::from_str(&doc).map(|u| acct.users.insert(name.clone(), u)).is_ok(),
                "group" => serde_json::from_str(&doc).map(|g| acct.groups.insert(name.clone(), g)).is_ok(),
                "role" => serde_json::from_str(&doc).map(|r| acct.roles.insert(name.clone(), r)).is_ok(),
                "policy" => serde_json::from_str(&doc).map(|p| acct.policies.insert(name.clone(), p)).is_ok(),
                "profile" => serde_json::from_str(&doc).map(|p| acct.instance_profiles.insert(name.clone(), p)).is_ok(),
                "oidc" => serde_json::from_str(&doc).map(|p| acct.oidc.insert(name.clone(), p)).is_ok(),
                "saml" => serde_json::from_str(&doc).map(|p| acct.saml.insert(name.clone(), p)).is_ok(),
                "key" => serde_json::from_str(&doc).map(|k| acct.access_keys.insert(name.clone(), k)).is_ok(),
                "alias" => {
                    acct.aliases.push(name.clone());
                    true
                }
                "session" => match serde_json::from_str::<Session>(&doc) {
                    Ok(s) if s.expires_ms > now => {
                        acct.sessions.insert(name.clone(), s);
                        true
                    }
                    Ok(_) => {
                        expired.push((account.clone(), name.clone()));
                        true
                    }
                    Err(_) => false,
                },
                _ => false,
            };
            if !ok {
                tracing::warn!(account = %account, kind = %kind, key = %name, "iam: skipped a stored entity that no longer parses");
            }
        }
        for (account, id) in expired {
            drop(store.delete([account, "session".to_string(), id]));
        }
        let mut keys = HashMap::new();
        for acct in accounts.values() {
            for k in acct.access_keys.values() {
                if let Some(u) = acct.users.get(&key(&k.user_name)) {
                    keys.insert(k.id.clone(), user_key(k, u, &acct.id));
                }
            }
            for s in acct.sessions.values() {
                keys.insert(s.access_key_id.clone(), session_key(s));
            }
        }
        Ok(Directory { clock, store, accounts: Mutex::new(accounts), keys: RwLock::new(keys), last_used: Mutex::new(HashMap::new()), generation: Default::default(), changes: tokio::sync::watch::Sender::new(0) })
    }

    /// Reads an account (created empty on first use).
    pub fn read<T>(&self, account: &str, f: impl FnOnce(&Account) -> IamResult<T>) -> IamResult<T> {
        let mut accounts = self.accounts.lock();
        let acct = accounts.entry(account.to_string()).or_insert_with(|| Account::new(account));
        f(acct)
    }

    /// Changes an account; the changes are committed before this returns. `f` must leave
    /// the account unchanged when it returns an error.
    pub async fn write<T>(&self, account: &str, f: impl FnOnce(&mut Account, &mut Changes) -> IamResult<T>) -> IamResult<T> {
        let mut changes = Changes::default();
        let (out, pending) = {
            let mut accounts = self.accounts.lock();
            let acct = accounts.entry(account.to_string()).or_insert_with(|| Account::new(account));
            let out = f(acct, &mut changes)?;
            let generation = self.generation.fetch_add(1, std::sync::atomic::Ordering::Release) + 1;
            self.changes.send_replace(generation);
            let mut last: Option<Pending> = None;
            for (kind, k, doc) in changes.rows {
                last = Some(match doc {
                    Some(doc) => self.store.put(Doc { keys: [account.to_string(), kind, k], doc }),
                    None => self.store.delete([account.to_string(), kind, k]),
                });
            }
            if !changes.keys.is_empty() {
                let mut index = self.keys.write();
                for (id, resolved) in changes.keys {
                    match resolved {
                        Some(r) => index.insert(id, r),
                        None => index.remove(&id),
                    };
                }
            }
            (out, last)
        };
        if let Some(p) = pending {
            p.wait().await.map_err(IamError::Internal)?;
        }
        Ok(out)
    }

    /// Records a use of a long-term key (STS session keys are not reported by AWS).
    pub fn note_used(&self, access_key_id: &str, service: &str, region: &str) {
        if access_key_id.starts_with("AKIA") {
            let now = self.clock.now_ms();
            self.last_used.lock().insert(access_key_id.to_string(), (now, service.to_string(), region.to_string()));
        }
    }

    pub fn last_used(&self, access_key_id: &str) -> Option<(u64, String, String)> {
        self.last_used.lock().get(access_key_id).cloned()
    }

    pub fn generation(&self) -> u64 {
        self.generation.load(std::sync::atomic::Ordering::Acquire)
    }

    /// Resolves once the generation differs from `seen`.
    pub async fn changed(&self, seen: u64) {
        let mut rx = self.changes.subscribe();
        let _ = rx.wait_for(|g| *g != seen).await;
    }

    /// Drops expired sessions of every account (called when sessions are created).
    pub fn prune_sessions(&self, account: &mut Account, changes: &mut Changes) {
        let now = self.clock.now_ms();
        let expired: Vec<String> = account.sessions.values().filter(|s| s.expires_ms <= now).map(|s| s.access_key_id.clone()).collect();
        for id in expired {
            account.sessions.remove(&id);
            changes.delete("session", &id);
            changes.index_key(&id, None);
        }
    }

    /// The session behind a temporary access key id, if any (STS and the authorizer need
    /// its role and session policies).
    pub fn session(&self, account: &str, access_key_id: &str) -> Option<Session> {
        self.accounts.lock().get(account).and_then(|a| a.sessions.get(access_key_id).cloned())
    }
}

impl CredentialResolver for Directory {
    fn resolve(&self, access_key_id: &str) -> Option<ResolvedKey> {
        self.keys.read().get(access_key_id).cloned()
    }
}
