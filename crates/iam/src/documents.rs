//! Policy documents as IAM accepts them: size quotas per kind of policy, then the policy
//! grammar (`nimbus-iam-policy` parses and validates, with AWS's MalformedPolicyDocument
//! messages).

use crate::errors::{IamError, IamResult};
use nimbus_iam_policy::{Policy, PolicyKind};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DocKind {
    /// A managed policy version (6,144 characters, whitespace not counted).
    Managed,
    /// An inline policy of a user (2,048), group (5,120) or role (10,240).
    InlineUser,
    InlineGroup,
    InlineRole,
    /// A role's trust policy (2,048: the default `ACLSizePerRole` quota).
    Trust,
}

/// IAM counts policy size without whitespace.
fn size_without_whitespace(doc: &str) -> usize {
    doc.chars().filter(|c| !c.is_whitespace()).count()
}

/// Checks a document the caller sent for `kind`; `owner` names the entity for messages.
pub fn check(doc: &str, kind: DocKind, owner: &str) -> IamResult<Policy> {
    if doc.is_empty() {
        return Err(IamError::constraint("policyDocument", doc, "Member must have length greater than or equal to 1"));
    }
    let size = size_without_whitespace(doc);
    let quota = match kind {
        DocKind::Managed => (6_144, "Cannot exceed quota for PolicySize: 6144".to_string()),
        DocKind::InlineUser => (2_048, format!("Maximum policy size of 2048 bytes exceeded for user {owner}")),
        DocKind::InlineGroup => (5_120, format!("Maximum policy size of 5120 bytes exceeded for group {owner}")),
        DocKind::InlineRole => (10_240, format!("Maximum policy size of 10240 bytes exceeded for role {owner}")),
        DocKind::Trust => (2_048, "Cannot exceed quota for ACLSizePerRole: 2048".to_string()),
    };
    if size > quota.0 {
        return Err(IamError::LimitExceeded(quota.1));
    }
    let grammar = if kind == DocKind::Trust { PolicyKind::Trust } else { PolicyKind::Identity };
    let policy = Policy::parse(doc, grammar).map_err(|e| IamError::MalformedPolicyDocument(e.message))?;
    if kind == DocKind::Managed {
        policy.require_version_2012().map_err(|e| IamError::MalformedPolicyDocument(e.message))?;
    }
    Ok(policy)
}
