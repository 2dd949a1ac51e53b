//! The Principal / NotPrincipal element (IAM User Guide, "AWS JSON policy elements:
//! Principal"): who a resource or trust policy statement speaks of, and how a request's
//! principal is matched against it.
//!
//! - `"*"` or `{"AWS": "*"}`: everyone, anonymous callers included.
//! - an account id or `arn:aws:iam::<acct>:root`: any principal of that account, by
//!   delegation ("This delegates authority to the account"): an identity-based policy
//!   of the caller must allow too, in the same account as across accounts (as a role
//!   trust policy naming the account needs the caller's own `sts:AssumeRole` permission).
//! - a user, role, role-session or federated-user ARN: that principal; a role ARN also
//!   matches every session of that role (`arn:aws:sts::<acct>:assumed-role/<role>/<s>`).
//! - `{"Service": "sqs.amazonaws.com"}`: that service.
//! - `{"Federated": "<provider>"}`: a web-identity / SAML caller of that provider (pass a
//!   `PrincipalKind::FederatedUser` whose `arn` is the provider's ARN or name).
//! - `{"CanonicalUser": …}` is S3's and matches nothing here.
//!
//! NotPrincipal ("AWS JSON policy elements: NotPrincipal") exempts a caller only when
//! every identity AWS checks is listed: the account (id or `:root`) and the user ARN for
//! a user; the account, the role ARN and the session ARN for a role session; the account
//! and the federated user ARN for a federated user. Naming only the user leaves the user
//! denied by a `Deny` with NotPrincipal, as the page warns.

use serde_json::Value;

use crate::error::{self as e, PolicyError};
use crate::request::{Principal, PrincipalKind};

/// One entry of a Principal element.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum PrincipalId {
    Everyone,
    Account(String),
    Arn(String),
    Service(String),
    Federated(String),
    CanonicalUser(String),
}

/// How a request's principal matched a statement's Principal element. Decides whether
/// permissions boundaries and session policies limit what a resource policy grants.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum How {
    /// Identity policies: no Principal element.
    Implicit,
    /// By the principal's own ARN: the user ARN, the role session ARN, the federated
    /// user ARN.
    Direct,
    /// A role session by its role's ARN.
    Role,
    /// By `*`, a service, or NotPrincipal.
    Other,
    /// By the account (id or `:root` ARN): delegation to the account's own policies.
    Account,
}

pub(crate) fn parse(v: &Value) -> Result<Vec<PrincipalId>, PolicyError> {
    match v {
        Value::String(s) if s == "*" => Ok(vec![PrincipalId::Everyone]),
        Value::Object(map) if !map.is_empty() => {
            let mut ids = Vec::new();
            for (kind, values) in map {
                for value in values_of(kind, values)? {
                    ids.push(parse_one(kind, value)?);
                }
            }
            Ok(ids)
        }
        _ => Err(PolicyError::new(e::SYNTAX)),
    }
}

fn values_of<'a>(kind: &str, v: &'a Value) -> Result<Vec<&'a str>, PolicyError> {
    match v {
        Value::String(s) => Ok(vec![s]),
        Value::Array(list) if !list.is_empty() => list
            .iter()
            .map(|x| x.as_str().ok_or_else(|| e::invalid_principal(kind, &x.to_string())))
            .collect(),
        other => Err(e::invalid_principal(kind, &other.to_string())),
    }
}

fn parse_one(kind: &str, value: &str) -> Result<PrincipalId, PolicyError> {
    match kind {
        "AWS" => parse_aws(value).ok_or_else(|| e::invalid_principal(kind, value)),
        "Service" if !value.is_empty() => Ok(PrincipalId::Service(value.to_string())),
        "Federated" if !value.is_empty() => Ok(PrincipalId::Federated(value.to_string())),
        "CanonicalUser" if !value.is_empty() => Ok(PrincipalId::CanonicalUser(value.to_string())),
        _ => Err(e::invalid_principal(kind, value)),
    }
}

fn is_account(s: &str) -> bool {
    s.len() == 12 && s.bytes().all(|b| b.is_ascii_digit())
}

/// An `AWS` principal: `*`, an account id, or an IAM / STS principal ARN (no wildcards).
fn parse_aws(v: &str) -> Option<PrincipalId> {
    if v == "*" {
        return Some(PrincipalId::Everyone);
    }
    if is_account(v) {
        return Some(PrincipalId::Account(v.to_string()));
    }
    let parts: Vec<&str> = v.splitn(6, ':').collect();
    let [arn, partition, service, region, account, resource] = parts[..] else { return None };
    if arn != "arn" || partition.is_empty() || !region.is_empty() || !is_account(account) || v.contains(['*', '?']) {
        return None;
    }
    let ok = match service {
        "iam" if resource == "root" => return Some(PrincipalId::Account(account.to_string())),
        "iam" => ["user/", "role/", "group/"].iter().any(|p| resource.starts_with(p) && resource.len() > p.len()),
        "sts" => ["assumed-role/", "federated-user/"].iter().any(|p| resource.starts_with(p) && resource.len() > p.len()),
        _ => false,
    };
    ok.then(|| PrincipalId::Arn(v.to_string()))
}

/// How `p` matches one Principal entry, if it does.
pub(crate) fn match_one(id: &PrincipalId, p: &Principal) -> Option<How> {
    let authenticated = matches!(
        p.kind,
        PrincipalKind::Root | PrincipalKind::User | PrincipalKind::AssumedRole { .. } | PrincipalKind::FederatedUser
    );
    match id {
        PrincipalId::Everyone => Some(How::Other),
        PrincipalId::Account(a) => (authenticated && p.account == *a).then_some(How::Account),
        PrincipalId::Arn(arn) if authenticated && *arn == p.arn => Some(How::Direct),
        PrincipalId::Arn(arn) => match &p.kind {
            PrincipalKind::AssumedRole { role_arn } if role_arn == arn => Some(How::Role),
            _ => None,
        },
        PrincipalId::Service(s) => matches!(&p.kind, PrincipalKind::Service(n) if n == s).then_some(How::Other),
        PrincipalId::Federated(f) => (p.kind == PrincipalKind::FederatedUser && p.arn == *f).then_some(How::Direct),
        PrincipalId::CanonicalUser(_) => None,
    }
}

/// The best way `p` matches any entry of a Principal list.
pub(crate) fn match_any(ids: &[PrincipalId], p: &Principal) -> Option<How> {
    let rank = |h: &How| match h {
        How::Direct => 4,
        How::Role => 3,
        How::Other | How::Implicit => 2,
        How::Account => 1,
    };
    ids.iter().filter_map(|id| match_one(id, p)).max_by_key(rank)
}

/// Whether a NotPrincipal list exempts `p` (see the module comment).
pub(crate) fn not_principal_exempts(ids: &[PrincipalId], p: &Principal) -> bool {
    if ids.contains(&PrincipalId::Everyone) {
        return true;
    }
    let arn_listed = |arn: &str| ids.iter().any(|id| matches!(id, PrincipalId::Arn(a) if a == arn));
    let account_listed = ids.iter().any(|id| matches!(id, PrincipalId::Account(a) if *a == p.account));
    match &p.kind {
        PrincipalKind::Root => account_listed,
        PrincipalKind::User | PrincipalKind::FederatedUser => account_listed && arn_listed(&p.arn),
        PrincipalKind::AssumedRole { role_arn } => account_listed && arn_listed(role_arn) && arn_listed(&p.arn),
        PrincipalKind::Service(s) => ids.iter().any(|id| matches!(id, PrincipalId::Service(n) if n == s)),
        PrincipalKind::Anonymous => false,
    }
}
