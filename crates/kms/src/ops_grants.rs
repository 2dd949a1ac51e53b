//! Grants: CreateGrant, ListGrants, RetireGrant, RevokeGrant, ListRetirableGrants. Grants
//! are stored on their key (durable, deleted with it) and listed as AWS lists them; nimbus
//! does not enforce them (nor key policies): see `docs/kms.md`.
//! <https://docs.aws.amazon.com/kms/latest/developerguide/grants.html>

use crate::errors::{KmsError, KmsResult};
use crate::service::{page, paged, s, secs, KmsService};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

const OPERATIONS: &[&str] = &[
    "Decrypt", "Encrypt", "GenerateDataKey", "GenerateDataKeyWithoutPlaintext", "ReEncryptFrom", "ReEncryptTo", "Sign", "Verify", "GetPublicKey", "CreateGrant", "RetireGrant",
    "DescribeKey", "GenerateDataKeyPair", "GenerateDataKeyPairWithoutPlaintext", "GenerateMac", "VerifyMac", "DeriveSharedSecret",
];

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Grant {
    pub id: String,
    pub token: String,
    pub name: Option<String>,
    pub grantee: String,
    pub retiring: Option<String>,
    pub operations: Vec<String>,
    pub constraints: Option<Value>,
    pub created_ms: u64,
}

fn entry(g: &Grant, key_arn: &str, account: &str) -> Value {
    let mut e = json!({
        "KeyId": key_arn,
        "GrantId": g.id,
        "GranteePrincipal": g.grantee,
        "IssuingAccount": format!("arn:aws:iam::{account}:root"),
        "Operations": g.operations,
        "CreationDate": secs(g.created_ms),
    });
    if let Some(n) = &g.name {
        e["Name"] = json!(n);
    }
    if let Some(r) = &g.retiring {
        e["RetiringPrincipal"] = json!(r);
    }
    if let Some(c) = &g.constraints {
        e["Constraints"] = c.clone();
    }
    e
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

impl KmsService {
    pub(crate) async fn create_grant(&self, account: &str, region: &str, input: &Value) -> KmsResult<Value> {
        let grantee = s(input, "GranteePrincipal").ok_or_else(|| KmsError::missing("granteePrincipal"))?.to_string();
        let ops: Vec<String> = input.get("Operations").and_then(Value::as_array).ok_or_else(|| KmsError::missing("operations"))?.iter().filter_map(|v| v.as_str().map(str::to_string)).collect();
        if ops.is_empty() {
            return Err(KmsError::constraint("[]", "operations", "Member must have length greater than or equal to 1"));
        }
        if let Some(bad) = ops.iter().find(|o| !OPERATIONS.contains(&o.as_str())) {
            return Err(KmsError::constraint(bad, "operations", &format!("Member must satisfy enum value set: [{}]", OPERATIONS.join(", "))));
        }
        let name = s(input, "Name").map(str::to_string);
        if let Some(n) = &name {
            if n.is_empty() || n.len() > 256 || !n.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, ':' | '/' | '_' | '-')) {
                return Err(KmsError::constraint(n, "name", "Member must satisfy regular expression pattern: ^[a-zA-Z0-9:/_-]+$"));
            }
        }
        let constraints = input.get("Constraints").cloned();
        if let Some(c) = &constraints {
            if c.get("EncryptionContextEquals").is_some() && c.get("EncryptionContextSubset").is_some() {
                return Err(KmsError::Validation("You cannot specify both EncryptionContextEquals and EncryptionContextSubset in the same grant constraint.".into()));
            }
        }
        let key = self.key(account, region, s(input, "KeyId")).await?;
        if key.state == "PendingDeletion" {
            return Err(KmsError::InvalidState(format!("{} is pending deletion.", key.arn(account, region))));
        }
        let random = crate::master::random_bytes(32 + 48).map_err(KmsError::Internal)?;
        let mut grant = Grant {
            id: hex(&random[..32]),
            token: base64::Engine::encode(&base64::engine::general_purpose::URL_SAFE_NO_PAD, &random[32..]),
            name,
            grantee,
            retiring: s(input, "RetiringPrincipal").map(str::to_string),
            operations: ops,
            constraints,
            created_ms: self.reg.clock.now_ms(),
        };
        let out = self
            .reg
            .update(account, region, &key.id, |k| {
                // A grant with the same name and the same parameters is the same grant (AWS's idempotency).
                if let Some(existing) = k.grants.iter().find(|g| g.name.is_some() && g.name == grant.name && g.grantee == grant.grantee && g.operations == grant.operations && g.retiring == grant.retiring && g.constraints == grant.constraints) {
                    grant = existing.clone();
                    return Ok(());
                }
                if k.grants.len() >= 50_000 {
                    return Err(KmsError::Validation("The number of grants on the key exceeds the limit.".into()));
                }
                k.grants.push(grant.clone());
                Ok(())
            })
            .await
            .map(|_| json!({ "GrantId": grant.id, "GrantToken": grant.token }))?;
        Ok(out)
    }

    pub(crate) async fn list_grants(&self, account: &str, region: &str, input: &Value) -> KmsResult<Value> {
        let (start, limit) = page(input)?;
        let key = self.key(account, region, s(input, "KeyId")).await?;
        let arn = key.arn(account, region);
        let items = key
            .grants
            .iter()
            .filter(|g| s(input, "GrantId").is_none_or(|id| id == g.id) && s(input, "GranteePrincipal").is_none_or(|p| p == g.grantee))
            .map(|g| entry(g, &arn, account))
            .collect();
        Ok(paged(items, start, limit, "Grants"))
    }

    pub(crate) async fn list_retirable_grants(&self, account: &str, region: &str, input: &Value) -> KmsResult<Value> {
        let (start, limit) = page(input)?;
        let principal = s(input, "RetiringPrincipal").ok_or_else(|| KmsError::missing("retiringPrincipal"))?;
        self.reg.settle(account, region).await;
        let items = self
            .reg
            .keys
            .read()
            .iter()
            .filter(|(k, _)| k.0 == account && k.1 == region)
            .flat_map(|(_, key)| {
                let arn = key.arn(account, region);
                key.grants.iter().filter(|g| g.retiring.as_deref() == Some(principal)).map(move |g| entry(g, &arn, account)).collect::<Vec<_>>()
            })
            .collect();
        Ok(paged(items, start, limit, "Grants"))
    }

    /// RetireGrant: by GrantToken, or by KeyId and GrantId.
    pub(crate) async fn retire_grant(&self, account: &str, region: &str, input: &Value) -> KmsResult<Value> {
        match (s(input, "GrantToken"), s(input, "KeyId"), s(input, "GrantId")) {
            (Some(token), _, _) => {
                self.reg.settle(account, region).await;
                let owner = self.reg.keys.read().iter().find(|(k, key)| k.0 == account && k.1 == region && key.grants.iter().any(|g| g.token == token)).map(|(k, _)| k.2.clone());
                let id = owner.ok_or_else(|| KmsError::InvalidGrantToken("Grant token is not valid.".into()))?;
                self.reg.modify(account, region, &id, |k| { k.grants.retain(|g| g.token != token); }).await?;
            }
            (None, Some(_), Some(grant_id)) => self.remove_grant(account, region, input, grant_id).await?,
            _ => return Err(KmsError::Validation("Either grant token or key ID and grant ID must be specified.".into())),
        }
        Ok(json!({}))
    }

    pub(crate) async fn revoke_grant(&self, account: &str, region: &str, input: &Value) -> KmsResult<Value> {
        let grant_id = s(input, "GrantId").ok_or_else(|| KmsError::missing("grantId"))?;
        self.remove_grant(account, region, input, grant_id).await?;
        Ok(json!({}))
    }

    async fn remove_grant(&self, account: &str, region: &str, input: &Value, grant_id: &str) -> KmsResult<()> {
        let key = self.key(account, region, s(input, "KeyId")).await?;
        self.reg
            .update(account, region, &key.id, |k| {
                let before = k.grants.len();
                k.grants.retain(|g| g.id != grant_id);
                if k.grants.len() == before {
                    return Err(KmsError::NotFound(format!("Grant ID {grant_id} not found")));
                }
                Ok(())
            })
            .await
    }
}
