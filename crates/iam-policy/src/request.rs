//! The request context a policy is evaluated against: who asks (`Principal`), what
//! (`action`, `resource`), and the condition keys (`ContextKeys`). Keys the principal
//! itself answers (`aws:username`, `aws:userid`, `aws:PrincipalArn`,
//! `aws:PrincipalAccount`, `aws:PrincipalType`, `aws:PrincipalTag/<k>`) are derived from
//! it when the context does not set them (IAM User Guide, "AWS global condition context
//! keys").

use std::collections::BTreeMap;

/// Who makes the request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Principal {
    /// The caller's ARN: `arn:aws:iam::A:user/U`, `arn:aws:sts::A:assumed-role/R/S`,
    /// `arn:aws:iam::A:root`, `arn:aws:sts::A:federated-user/N`; empty for anonymous.
    pub arn: String,
    /// The caller's account id (empty for anonymous and service principals).
    pub account: String,
    pub kind: PrincipalKind,
    /// The IAM user name (`aws:username`), for IAM users only.
    pub user_name: Option<String>,
    /// `aws:userid`: the user's unique id, or `role-id:session-name` for a role session.
    pub user_id: String,
    /// The principal's tags (`aws:PrincipalTag/<key>`).
    pub tags: BTreeMap<String, String>,
}

/// What kind of principal is asking.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PrincipalKind {
    /// The account's root user.
    Root,
    /// An IAM user.
    User,
    /// A role session; `role_arn` is the role's ARN (with its path).
    AssumedRole { role_arn: String },
    /// A GetFederationToken session (`arn:aws:sts::A:federated-user/N`, account set).
    /// With an empty `account` and the identity provider's ARN (or name, such as
    /// `cognito-identity.amazonaws.com`) as `arn`: a web-identity or SAML caller, for
    /// checking a trust policy's `Federated` principal in AssumeRoleWith….
    FederatedUser,
    /// An AWS service principal such as `sqs.amazonaws.com`.
    Service(String),
    /// An unauthenticated caller.
    Anonymous,
}

impl Principal {
    /// A principal with no name, id or tags; fill in the rest as needed.
    pub fn new(arn: impl Into<String>, account: impl Into<String>, kind: PrincipalKind) -> Principal {
        Principal {
            arn: arn.into(),
            account: account.into(),
            kind,
            user_name: None,
            user_id: String::new(),
            tags: BTreeMap::new(),
        }
    }

    /// The root user of `account`.
    pub fn root(account: &str) -> Principal {
        Principal::new(format!("arn:aws:iam::{account}:root"), account, PrincipalKind::Root)
    }

    /// The IAM user `name` (path `/`) of `account`.
    pub fn user(account: &str, name: &str) -> Principal {
        let mut p = Principal::new(format!("arn:aws:iam::{account}:user/{name}"), account, PrincipalKind::User);
        p.user_name = Some(name.to_string());
        p
    }

    /// A session of role `role` (path `/`) in `account`.
    pub fn assumed_role(account: &str, role: &str, session: &str) -> Principal {
        let role_arn = format!("arn:aws:iam::{account}:role/{role}");
        Principal::new(
            format!("arn:aws:sts::{account}:assumed-role/{role}/{session}"),
            account,
            PrincipalKind::AssumedRole { role_arn },
        )
    }

    /// An AWS service principal.
    pub fn service(name: &str) -> Principal {
        Principal::new("", "", PrincipalKind::Service(name.to_string()))
    }

    /// An unauthenticated caller.
    pub fn anonymous() -> Principal {
        Principal::new("", "", PrincipalKind::Anonymous)
    }

    /// `aws:PrincipalArn`: for a role session this is the role's ARN.
    pub fn principal_arn(&self) -> &str {
        match &self.kind {
            PrincipalKind::AssumedRole { role_arn } => role_arn,
            _ => &self.arn,
        }
    }

    fn principal_type(&self) -> &'static str {
        match self.kind {
            PrincipalKind::Root => "Account",
            PrincipalKind::User => "User",
            PrincipalKind::AssumedRole { .. } => "AssumedRole",
            PrincipalKind::FederatedUser => "FederatedUser",
            PrincipalKind::Service(_) => "Service",
            PrincipalKind::Anonymous => "Anonymous",
        }
    }
}

/// Condition keys of a request: names are case-insensitive, each key has one or more
/// values (multivalued keys such as `aws:TagKeys`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ContextKeys(BTreeMap<String, Vec<String>>);

impl ContextKeys {
    pub fn new() -> ContextKeys {
        ContextKeys::default()
    }

    /// Adds a value to `key` (keeps values already there).
    pub fn insert(&mut self, key: &str, value: impl Into<String>) -> &mut ContextKeys {
        self.0.entry(key.to_ascii_lowercase()).or_default().push(value.into());
        self
    }

    /// Sets every value of `key` (an empty list makes the key present but empty).
    pub fn set(&mut self, key: &str, values: Vec<String>) -> &mut ContextKeys {
        self.0.insert(key.to_ascii_lowercase(), values);
        self
    }

    /// Builder form of [`ContextKeys::insert`].
    pub fn with(mut self, key: &str, value: impl Into<String>) -> ContextKeys {
        self.insert(key, value);
        self
    }

    /// The values of `key` (case-insensitive), if present.
    pub fn get(&self, key: &str) -> Option<&[String]> {
        self.0.get(&key.to_ascii_lowercase()).map(Vec::as_slice)
    }

    fn get_lower(&self, key: &str) -> Option<&[String]> {
        self.0.get(key).map(Vec::as_slice)
    }
}

/// One request to authorize.
#[derive(Clone, Copy, Debug)]
pub struct Request<'a> {
    pub principal: &'a Principal,
    /// `service:Operation`, matched case-insensitively.
    pub action: &'a str,
    /// The resource ARN, or `*` for actions without resource-level permissions.
    pub resource: &'a str,
    /// The account owning the resource; `None` means the caller's account.
    pub resource_account: Option<&'a str>,
    pub context: &'a ContextKeys,
}

impl Request<'_> {
    /// Whether the resource belongs to another account than the caller's.
    pub fn is_cross_account(&self) -> bool {
        self.resource_account.is_some_and(|a| a != self.principal.account)
    }
}

/// The values a key has in a request: none, a list, or one derived value.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Vals<'a> {
    Absent,
    List(&'a [String]),
    One(&'a str),
}

impl<'a> Vals<'a> {
    pub(crate) fn is_absent_or_empty(&self) -> bool {
        match self {
            Vals::Absent => true,
            Vals::List(l) => l.is_empty(),
            Vals::One(_) => false,
        }
    }

    pub(crate) fn iter(&self) -> impl Iterator<Item = &'a str> + '_ {
        let (list, one): (&'a [String], Option<&'a str>) = match *self {
            Vals::Absent => (&[], None),
            Vals::List(l) => (l, None),
            Vals::One(s) => (&[], Some(s)),
        };
        list.iter().map(String::as_str).chain(one)
    }

    /// The single value a policy variable takes.
    pub(crate) fn single(&self) -> Option<&'a str> {
        match *self {
            Vals::One(s) => Some(s),
            Vals::List([one]) => Some(one),
            _ => None,
        }
    }
}

/// Looks up a condition key, given in lowercase.
pub(crate) fn lookup<'a>(req: &Request<'a>, key: &str) -> Vals<'a> {
    if let Some(v) = req.context.get_lower(key) {
        return Vals::List(v);
    }
    let p: &'a Principal = req.principal;
    if matches!(p.kind, PrincipalKind::Anonymous) {
        return Vals::Absent;
    }
    match key {
        "aws:username" => p.user_name.as_deref().filter(|_| p.kind == PrincipalKind::User).map_or(Vals::Absent, Vals::One),
        "aws:userid" if !p.user_id.is_empty() => Vals::One(&p.user_id),
        "aws:principalarn" if !p.arn.is_empty() => Vals::One(p.principal_arn()),
        "aws:principalaccount" if !p.account.is_empty() => Vals::One(&p.account),
        "aws:principaltype" => Vals::One(p.principal_type()),
        "aws:principalservicename" => match &p.kind {
            PrincipalKind::Service(s) => Vals::One(s),
            _ => Vals::Absent,
        },
        _ => match key.strip_prefix("aws:principaltag/") {
            Some(tag) => p
                .tags
                .iter()
                .find(|(k, _)| k.eq_ignore_ascii_case(tag))
                .map_or(Vals::Absent, |(_, v)| Vals::One(v)),
            None => Vals::Absent,
        },
    }
}
