//! AWS's policy evaluation logic (IAM User Guide, "Policy evaluation logic", "Policy
//! evaluation for requests within a single account", "Cross-account policy evaluation
//! logic", "Permissions boundaries for IAM entities", "Session policies"):
//!
//! 1. An explicit Deny in any applicable policy (identity, permissions boundary, session,
//!    resource) decides: ExplicitDeny.
//! 2. Same account: allowed when an identity-based policy OR the resource-based policy
//!    allows, and then only if the permissions boundary (when set) and the session
//!    policies (when the session has any) allow too — except that a resource-based policy
//!    naming the caller's own ARN (the IAM user ARN, the role session ARN, the federated
//!    user ARN) grants without those limits. One naming the role ARN, `*` or a service
//!    is limited by them. One naming only the account delegates to the account: it does
//!    not grant by itself, an identity-based policy must allow.
//! 3. Cross-account (`resource_account` ≠ the caller's account): the identity side
//!    (identity ∩ boundary ∩ session) AND the resource-based policy must both allow.
//! 4. The root user: identity policies do not apply; allowed in its own account unless a
//!    resource-based policy denies. Anonymous callers, service principals and
//!    web-identity / SAML callers (a `FederatedUser` with no account) are allowed only by
//!    a resource-based (or trust) policy.
//!
//! Hot path: statements are matched action first, then resource, principal, conditions;
//! nothing is allocated unless a pattern holds a policy variable or a `*` that stops at
//! colons.

use crate::policy::{Actions, Effect, Policy, Principals, Resources, Statement};
use crate::principal::{match_any, not_principal_exempts, How};
use crate::request::{PrincipalKind, Request};

/// The policies that apply to one request.
#[derive(Clone, Debug, Default)]
pub struct PolicySet<'a> {
    /// User, group and role policies, inline and managed.
    pub identity: Vec<&'a Policy>,
    /// The user's or role's permissions boundary.
    pub boundary: Option<&'a Policy>,
    /// Session policies (AssumeRole `Policy` / `PolicyArns`, GetFederationToken); `None`
    /// when the session has none. `Some(vec![])` allows nothing (a federation token
    /// without session policies).
    pub session: Option<Vec<&'a Policy>>,
    /// The resource-based policy (or the role's trust policy for `sts:AssumeRole`).
    pub resource: Option<&'a Policy>,
}

/// The outcome of evaluation.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Decision {
    Allow,
    ExplicitDeny,
    ImplicitDeny,
}

/// A policy type, as AWS names it in AccessDenied messages.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum PolicyType {
    Identity,
    PermissionsBoundary,
    Session,
    Resource,
}

impl PolicyType {
    /// The words AWS uses: "identity-based policy", "permissions boundary", "session
    /// policy", "resource-based policy".
    pub fn label(self) -> &'static str {
        match self {
            PolicyType::Identity => "identity-based policy",
            PolicyType::PermissionsBoundary => "permissions boundary",
            PolicyType::Session => "session policy",
            PolicyType::Resource => "resource-based policy",
        }
    }
}

/// A statement that decided: which policy (index into `identity` / `session`) and which
/// statement in it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct StatementRef {
    pub policy_type: PolicyType,
    pub policy_index: usize,
    pub statement_index: usize,
}

/// A decision with its reason: the statement that allowed or denied, or for an implicit
/// deny the policy type that had no Allow ("because no identity-based policy allows …").
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Explain {
    pub decision: Decision,
    pub statement: Option<StatementRef>,
    pub missing_allow: Option<PolicyType>,
}

impl Explain {
    fn allow(statement: Option<StatementRef>) -> Explain {
        Explain { decision: Decision::Allow, statement, missing_allow: None }
    }

    fn deny(statement: StatementRef) -> Explain {
        Explain { decision: Decision::ExplicitDeny, statement: Some(statement), missing_allow: None }
    }

    fn implicit(missing: PolicyType) -> Explain {
        Explain { decision: Decision::ImplicitDeny, statement: None, missing_allow: Some(missing) }
    }
}

/// What one policy says about a request.
#[derive(Clone, Copy, Debug, Default)]
struct Outcome {
    deny: Option<usize>,
    allow: Option<usize>,
    allow_direct: Option<usize>,
    /// An Allow that grants on its own in the same account (not by account delegation).
    allow_grant: Option<usize>,
}

impl Statement {
    /// Whether the statement applies to `req`, and how its principal matched.
    fn applies(&self, req: &Request) -> Option<How> {
        let action = match &self.actions {
            Actions::Action(list) => list.iter().any(|g| g.matches(req.action)),
            Actions::NotAction(list) => !list.iter().any(|g| g.matches(req.action)),
        };
        if !action {
            return None;
        }
        let resource = match &self.resources {
            Resources::Implicit => true,
            Resources::Resource(list) => list.iter().any(|p| p.matches(req.resource, req)),
            Resources::NotResource(list) => !list.iter().any(|p| p.matches(req.resource, req)),
        };
        if !resource {
            return None;
        }
        let how = match &self.principals {
            Principals::Implicit => How::Implicit,
            Principals::Principal(ids) => match_any(ids, req.principal)?,
            Principals::NotPrincipal(ids) if not_principal_exempts(ids, req.principal) => return None,
            Principals::NotPrincipal(_) => How::Other,
        };
        self.conditions.iter().all(|c| c.holds(req)).then_some(how)
    }
}

impl Policy {
    fn outcome(&self, req: &Request) -> Outcome {
        let mut out = Outcome::default();
        for (i, st) in self.statements.iter().enumerate() {
            let Some(how) = st.applies(req) else { continue };
            match st.effect {
                Effect::Deny => {
                    out.deny = Some(i);
                    return out;
                }
                Effect::Allow => {
                    out.allow.get_or_insert(i);
                    if how == How::Direct {
                        out.allow_direct.get_or_insert(i);
                    }
                    if how != How::Account {
                        out.allow_grant.get_or_insert(i);
                    }
                }
            }
        }
        out
    }
}

/// Evaluates a request against the policies that apply to it.
pub fn evaluate(set: &PolicySet, req: &Request) -> Decision {
    explain(set, req).decision
}

/// Like [`evaluate`], with the statement or policy type that decided.
pub fn explain(set: &PolicySet, req: &Request) -> Explain {
    let at = |policy_type, policy_index, statement_index| StatementRef { policy_type, policy_index, statement_index };
    let res = set.resource.map(|p| p.outcome(req)).unwrap_or_default();
    let res_allow = res.allow.map(|i| at(PolicyType::Resource, 0, i));
    let kind = &req.principal.kind;
    // A web-identity / SAML caller (a federated principal of no account) has no
    // identity-based policies: like a service, only the trust policy decides.
    let external = *kind == PrincipalKind::FederatedUser && req.principal.account.is_empty();
    if external || matches!(kind, PrincipalKind::Root | PrincipalKind::Anonymous | PrincipalKind::Service(_)) {
        if let Some(i) = res.deny {
            return Explain::deny(at(PolicyType::Resource, 0, i));
        }
        let own_root = matches!(kind, PrincipalKind::Root) && !req.is_cross_account();
        return match (own_root, res_allow) {
            (true, s) => Explain::allow(s),
            (false, Some(s)) => Explain::allow(Some(s)),
            (false, None) => Explain::implicit(PolicyType::Resource),
        };
    }

    // Each policy is evaluated once; nothing is collected.
    let mut deny = None;
    let mut id_allow = None;
    for (pi, p) in set.identity.iter().enumerate() {
        let o = p.outcome(req);
        if let Some(si) = o.deny {
            deny = Some(at(PolicyType::Identity, pi, si));
            break;
        }
        if id_allow.is_none() {
            id_allow = o.allow.map(|si| at(PolicyType::Identity, pi, si));
        }
    }
    let mut boundary_ok = true;
    if let (None, Some(b)) = (deny, set.boundary) {
        let o = b.outcome(req);
        deny = o.deny.map(|si| at(PolicyType::PermissionsBoundary, 0, si));
        boundary_ok = o.allow.is_some();
    }
    let mut session_ok = true;
    if let (None, Some(list)) = (deny, &set.session) {
        session_ok = false;
        for (pi, p) in list.iter().enumerate() {
            let o = p.outcome(req);
            if let Some(si) = o.deny {
                deny = Some(at(PolicyType::Session, pi, si));
                break;
            }
            session_ok |= o.allow.is_some();
        }
    }
    // 1. explicit deny anywhere
    if let Some(d) = deny.or_else(|| res.deny.map(|si| at(PolicyType::Resource, 0, si))) {
        return Explain::deny(d);
    }

    let limits = || {
        if !boundary_ok {
            Some(PolicyType::PermissionsBoundary)
        } else if !session_ok {
            Some(PolicyType::Session)
        } else {
            None
        }
    };

    if req.is_cross_account() {
        // 3. both sides must allow
        if id_allow.is_none() {
            return Explain::implicit(PolicyType::Identity);
        }
        if let Some(t) = limits() {
            return Explain::implicit(t);
        }
        return match res_allow {
            Some(s) => Explain::allow(Some(s)),
            None => Explain::implicit(PolicyType::Resource),
        };
    }

    // 2. same account
    if let Some(i) = res.allow_direct {
        return Explain::allow(Some(at(PolicyType::Resource, 0, i)));
    }
    let res_grant = res.allow_grant.map(|i| at(PolicyType::Resource, 0, i));
    let Some(grant) = id_allow.or(res_grant) else {
        return Explain::implicit(PolicyType::Identity);
    };
    match limits() {
        Some(t) => Explain::implicit(t),
        None => Explain::allow(Some(grant)),
    }
}
