//! The entities IAM stores, one serde document each, and their response shapes
//! (`Role`, `User`, `Group`, `Policy`, … as the IAM API reference names the members).

use nimbus_core::time::iso8601;
use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};
use std::collections::BTreeMap;

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Tag {
    pub key: String,
    pub value: String,
}

pub fn tags_json(tags: &[Tag]) -> Value {
    Value::Array(tags.iter().map(|t| json!({"Key": t.key, "Value": t.value})).collect())
}

/// What every principal-like entity carries: inline policies (name → document) and
/// attached managed policies (ARNs, in attachment order).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Policies {
    pub inline: BTreeMap<String, String>,
    pub attached: Vec<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Role {
    pub name: String,
    pub id: String,
    pub path: String,
    pub arn: String,
    pub created_ms: u64,
    pub assume_role_policy: String,
    pub description: Option<String>,
    pub max_session_duration: u32,
    pub permissions_boundary: Option<String>,
    pub tags: Vec<Tag>,
    pub policies: Policies,
    #[serde(default)]
    pub last_used_ms: Option<u64>,
    #[serde(default)]
    pub last_used_region: Option<String>,
}

impl Role {
    /// The `Role` shape. `full` adds what only GetRole shows (`RoleLastUsed`, tags, boundary).
    pub fn to_json(&self, full: bool) -> Value {
        let mut m = Map::new();
        m.insert("Path".into(), json!(self.path));
        m.insert("RoleName".into(), json!(self.name));
        m.insert("RoleId".into(), json!(self.id));
        m.insert("Arn".into(), json!(self.arn));
        m.insert("CreateDate".into(), json!(iso8601(self.created_ms)));
        m.insert("AssumeRolePolicyDocument".into(), json!(crate::ids::encode_document(&self.assume_role_policy)));
        if let Some(d) = &self.description {
            m.insert("Description".into(), json!(d));
        }
        m.insert("MaxSessionDuration".into(), json!(self.max_session_duration));
        if full {
            if let Some(b) = &self.permissions_boundary {
                m.insert("PermissionsBoundary".into(), boundary_json(b));
            }
            if !self.tags.is_empty() {
                m.insert("Tags".into(), tags_json(&self.tags));
            }
            let mut used = Map::new();
            if let Some(ms) = self.last_used_ms {
                used.insert("LastUsedDate".into(), json!(iso8601(ms)));
            }
            if let Some(r) = &self.last_used_region {
                used.insert("Region".into(), json!(r));
            }
            m.insert("RoleLastUsed".into(), Value::Object(used));
        }
        Value::Object(m)
    }
}

pub fn boundary_json(arn: &str) -> Value {
    json!({"PermissionsBoundaryType": "PermissionsBoundaryPolicy", "PermissionsBoundaryArn": arn})
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct User {
    pub name: String,
    pub id: String,
    pub path: String,
    pub arn: String,
    pub created_ms: u64,
    pub permissions_boundary: Option<String>,
    pub tags: Vec<Tag>,
    pub policies: Policies,
    /// Group names, in the order the user joined them.
    pub groups: Vec<String>,
}

impl User {
    pub fn to_json(&self, full: bool) -> Value {
        let mut m = Map::new();
        m.insert("Path".into(), json!(self.path));
        m.insert("UserName".into(), json!(self.name));
        m.insert("UserId".into(), json!(self.id));
        m.insert("Arn".into(), json!(self.arn));
        m.insert("CreateDate".into(), json!(iso8601(self.created_ms)));
        if full {
            if let Some(b) = &self.permissions_boundary {
                m.insert("PermissionsBoundary".into(), boundary_json(b));
            }
            if !self.tags.is_empty() {
                m.insert("Tags".into(), tags_json(&self.tags));
            }
        }
        Value::Object(m)
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Group {
    pub name: String,
    pub id: String,
    pub path: String,
    pub arn: String,
    pub created_ms: u64,
    pub policies: Policies,
}

impl Group {
    pub fn to_json(&self) -> Value {
        json!({"Path": self.path, "GroupName": self.name, "GroupId": self.id, "Arn": self.arn, "CreateDate": iso8601(self.created_ms)})
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PolicyVersion {
    pub id: String,
    pub document: String,
    pub created_ms: u64,
}

/// A customer managed policy (AWS managed ones come from the catalogue in `managed.rs`).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ManagedPolicy {
    pub name: String,
    pub id: String,
    pub path: String,
    pub arn: String,
    pub description: Option<String>,
    pub created_ms: u64,
    pub updated_ms: u64,
    pub default_version: String,
    pub versions: Vec<PolicyVersion>,
    /// The number the next version gets (`v{n}`); versions are never renumbered.
    pub next_version: u32,
    pub tags: Vec<Tag>,
}

impl ManagedPolicy {
    pub fn default_document(&self) -> &str {
        self.versions.iter().find(|v| v.id == self.default_version).map(|v| v.document.as_str()).unwrap_or("")
    }

    /// The `Policy` shape; `attachments` is counted by the caller.
    pub fn to_json(&self, attachments: usize, boundary_uses: usize, full: bool) -> Value {
        let mut m = Map::new();
        m.insert("PolicyName".into(), json!(self.name));
        m.insert("PolicyId".into(), json!(self.id));
        m.insert("Arn".into(), json!(self.arn));
        m.insert("Path".into(), json!(self.path));
        m.insert("DefaultVersionId".into(), json!(self.default_version));
        m.insert("AttachmentCount".into(), json!(attachments));
        m.insert("PermissionsBoundaryUsageCount".into(), json!(boundary_uses));
        m.insert("IsAttachable".into(), json!(true));
        if full {
            if let Some(d) = &self.description {
                m.insert("Description".into(), json!(d));
            }
        }
        m.insert("CreateDate".into(), json!(iso8601(self.created_ms)));
        m.insert("UpdateDate".into(), json!(iso8601(self.updated_ms)));
        if full && !self.tags.is_empty() {
            m.insert("Tags".into(), tags_json(&self.tags));
        }
        Value::Object(m)
    }
}

pub fn version_json(v: &PolicyVersion, default: &str, with_document: bool) -> Value {
    let mut m = Map::new();
    if with_document {
        m.insert("Document".into(), json!(crate::ids::encode_document(&v.document)));
    }
    m.insert("VersionId".into(), json!(v.id));
    m.insert("IsDefaultVersion".into(), json!(v.id == default));
    m.insert("CreateDate".into(), json!(iso8601(v.created_ms)));
    Value::Object(m)
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct InstanceProfile {
    pub name: String,
    pub id: String,
    pub path: String,
    pub arn: String,
    pub created_ms: u64,
    pub roles: Vec<String>,
    pub tags: Vec<Tag>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct AccessKey {
    pub id: String,
    pub secret: String,
    pub user_name: String,
    pub active: bool,
    pub created_ms: u64,
    #[serde(default)]
    pub last_used_ms: Option<u64>,
    #[serde(default)]
    pub last_used_service: Option<String>,
    #[serde(default)]
    pub last_used_region: Option<String>,
}

impl AccessKey {
    pub fn status(&self) -> &'static str {
        if self.active {
            "Active"
        } else {
            "Inactive"
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct OidcProvider {
    /// The URL without `https://` (the ARN's resource part).
    pub url: String,
    pub arn: String,
    pub client_ids: Vec<String>,
    pub thumbprints: Vec<String>,
    pub created_ms: u64,
    pub tags: Vec<Tag>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SamlProvider {
    pub name: String,
    pub arn: String,
    pub metadata: String,
    pub created_ms: u64,
    pub valid_until_ms: u64,
    pub tags: Vec<Tag>,
}

/// Temporary credentials handed out by STS, kept until they expire.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Session {
    pub access_key_id: String,
    pub secret: String,
    pub token: String,
    pub expires_ms: u64,
    pub account: String,
    /// `arn:aws:sts::<acct>:assumed-role/<role>/<session>`, a federated user, or the
    /// caller itself (GetSessionToken).
    pub principal_arn: String,
    pub user_id: String,
    /// The role assumed, for the policies that apply.
    pub role_arn: Option<String>,
    /// Session policies: the inline `Policy` and the documents of `PolicyArns`.
    pub session_policies: Vec<String>,
    pub session_policy_arns: Vec<String>,
    pub tags: Vec<Tag>,
    pub source_identity: Option<String>,
    /// The IAM user a GetSessionToken / GetFederationToken session acts for.
    #[serde(default)]
    pub parent_arn: Option<String>,
}

impl Session {
    /// New temporary credentials (`ASIA…`, a secret, a session token) for `principal_arn`,
    /// with no role, session policies or tags yet.
    pub fn new(account: &str, principal_arn: String, user_id: String, expires_ms: u64) -> Session {
        Session {
            access_key_id: crate::ids::access_key_id("ASIA"),
            secret: crate::ids::secret_access_key(),
            token: crate::ids::session_token(),
            expires_ms,
            account: account.to_string(),
            principal_arn,
            user_id,
            role_arn: None,
            session_policies: Vec::new(),
            session_policy_arns: Vec::new(),
            tags: Vec::new(),
            source_identity: None,
            parent_arn: None,
        }
    }
}
