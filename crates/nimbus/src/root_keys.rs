//! Root key pairs, in front of the keys IAM and STS issue: account `000000000000`'s
//! (`NIMBUS_ROOT_ACCESS_KEY_ID` / `NIMBUS_ROOT_SECRET_ACCESS_KEY`) and, for multi-account
//! setups under `--auth sigv4` / `iam`, any other account's (`NIMBUS_ROOT_KEYS`, a
//! comma-separated list of `<account>:<access key id>:<secret>`). A root key signs as
//! `arn:aws:iam::<account>:root`.

use nimbus_core::internal::{CredentialResolver, ResolvedKey};
use std::collections::HashMap;
use std::sync::Arc;

/// Every root key pair by access key id, then `inner` (IAM users' keys, STS sessions).
pub struct RootKeys {
    keys: HashMap<String, ResolvedKey>,
    inner: Arc<dyn CredentialResolver>,
}

/// One `<account>:<access key id>:<secret>` entry of `NIMBUS_ROOT_KEYS`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RootKey {
    pub account: String,
    pub access_key_id: String,
    pub secret: String,
}

/// Parses `NIMBUS_ROOT_KEYS` (empty: none). The secret is everything after the second
/// colon; entries are separated by commas (neither appears in AWS-style keys).
pub fn parse(list: &str) -> Result<Vec<RootKey>, String> {
    let mut out: Vec<RootKey> = Vec::new();
    for (i, entry) in list.split(',').map(str::trim).enumerate().filter(|(_, e)| !e.is_empty()) {
        let mut parts = entry.splitn(3, ':');
        let (Some(account), Some(id), Some(secret)) = (parts.next(), parts.next(), parts.next()) else {
            return Err(format!("NIMBUS_ROOT_KEYS entry {}: expected <account>:<access key id>:<secret>", i + 1));
        };
        if account.len() != 12 || !account.bytes().all(|b| b.is_ascii_digit()) {
            return Err(format!("NIMBUS_ROOT_KEYS entry {}: the account must be 12 digits, got {account:?}", i + 1));
        }
        if id.is_empty() || secret.is_empty() {
            return Err(format!("NIMBUS_ROOT_KEYS entry {}: the access key id and the secret must not be empty", i + 1));
        }
        if out.iter().any(|k| k.access_key_id == id) {
            return Err(format!("NIMBUS_ROOT_KEYS: the access key id {id} is given twice"));
        }
        out.push(RootKey { account: account.to_string(), access_key_id: id.to_string(), secret: secret.to_string() });
    }
    Ok(out)
}

fn root(account: &str, secret: &str) -> ResolvedKey {
    ResolvedKey {
        secret_access_key: secret.to_string(),
        account_id: account.to_string(),
        principal_arn: format!("arn:aws:iam::{account}:root"),
        user_id: account.to_string(),
        session_token: None,
        expires_at_ms: None,
        active: true,
    }
}

impl RootKeys {
    /// The default account's pair plus `others`; an access key id given twice is an error.
    pub fn new(default: (&str, &str), others: Vec<RootKey>, inner: Arc<dyn CredentialResolver>) -> Result<RootKeys, String> {
        let mut keys = HashMap::new();
        keys.insert(default.0.to_string(), root(nimbus_core::auth::DEFAULT_ACCOUNT, default.1));
        for k in others {
            if keys.contains_key(&k.access_key_id) {
                return Err(format!("NIMBUS_ROOT_KEYS: the access key id {} is already the root key of account {}", k.access_key_id, nimbus_core::auth::DEFAULT_ACCOUNT));
            }
            keys.insert(k.access_key_id, root(&k.account, &k.secret));
        }
        Ok(RootKeys { keys, inner })
    }

    /// How many accounts have a root key pair (logged at start).
    pub fn accounts(&self) -> usize {
        let mut accounts: Vec<&str> = self.keys.values().map(|k| k.account_id.as_str()).collect();
        accounts.sort_unstable();
        accounts.dedup();
        accounts.len()
    }
}

impl CredentialResolver for RootKeys {
    fn resolve(&self, access_key_id: &str) -> Option<ResolvedKey> {
        if let Some(k) = self.keys.get(access_key_id) {
            return Some(k.clone());
        }
        self.inner.resolve(access_key_id)
    }
    fn note_used(&self, access_key_id: &str, service: &str, region: &str) {
        if !self.keys.contains_key(access_key_id) {
            self.inner.note_used(access_key_id, service, region);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use nimbus_core::internal::NoCredentials;

    #[test]
    fn entries_parse_and_bad_ones_are_named() {
        let keys = parse("111111111111:AKIAONE:s3cr/et+1, 222222222222:AKIATWO:a:b").expect("parses");
        assert_eq!(keys[0], RootKey { account: "111111111111".into(), access_key_id: "AKIAONE".into(), secret: "s3cr/et+1".into() });
        assert_eq!(keys[1].secret, "a:b");
        assert_eq!(parse("").expect("empty"), vec![]);
        assert!(parse("1111:AKIA:s").unwrap_err().contains("12 digits"));
        assert!(parse("111111111111:AKIA").unwrap_err().contains("expected <account>"));
        assert!(parse("111111111111::s").unwrap_err().contains("must not be empty"));
        assert!(parse("111111111111:K:s,222222222222:K:t").unwrap_err().contains("given twice"));
    }

    #[test]
    fn each_key_signs_as_its_account_root() {
        let keys = RootKeys::new(("test", "test"), parse("111111111111:AKIAONE:one").expect("parses"), Arc::new(NoCredentials)).expect("keys");
        assert_eq!(keys.resolve("AKIAONE").map(|k| k.principal_arn), Some("arn:aws:iam::111111111111:root".to_string()));
        assert_eq!(keys.resolve("test").map(|k| k.account_id), Some("000000000000".to_string()));
        assert!(keys.resolve("other").is_none());
        assert_eq!(keys.accounts(), 2);
        assert!(RootKeys::new(("test", "test"), parse("111111111111:test:x").expect("parses"), Arc::new(NoCredentials)).is_err());
    }
}
