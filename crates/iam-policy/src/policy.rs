//! The policy document: parsing and validating it as IAM does (IAM User Guide, "IAM JSON
//! policy grammar" and "IAM JSON policy elements"), into statements whose patterns are
//! compiled once, so evaluation does no parsing.

use serde_json::{Map, Value};

use crate::condition::Clause;
use crate::error::{self as e, PolicyError};
use crate::glob::{Glob, Mode};
use crate::principal::PrincipalId;
use crate::vars::Pattern;

/// Where a policy is used; decides which elements it must and must not have.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum PolicyKind {
    /// Attached to a user, group or role (also permissions boundaries and session
    /// policies): no Principal, Resource required.
    Identity,
    /// Attached to a resource (queue policy, function policy …): Principal and Resource
    /// required.
    Resource,
    /// A role's AssumeRolePolicyDocument: Principal required, no Resource.
    Trust,
}

/// The policy language version (the `Version` element).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum PolicyVersion {
    /// `2008-10-17`, also what a policy without `Version` is read as: no policy variables.
    V2008,
    /// `2012-10-17`.
    V2012,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Effect {
    Allow,
    Deny,
}

#[derive(Clone, Debug)]
pub(crate) enum Actions {
    Action(Vec<Glob>),
    NotAction(Vec<Glob>),
}

#[derive(Clone, Debug)]
pub(crate) enum Resources {
    /// Trust policies: the role itself.
    Implicit,
    Resource(Vec<Pattern>),
    NotResource(Vec<Pattern>),
}

#[derive(Clone, Debug)]
pub(crate) enum Principals {
    /// Identity policies: the identity the policy is attached to.
    Implicit,
    Principal(Vec<PrincipalId>),
    NotPrincipal(Vec<PrincipalId>),
}

/// One statement, compiled.
#[derive(Clone, Debug)]
pub(crate) struct Statement {
    pub(crate) sid: Option<String>,
    pub(crate) effect: Effect,
    pub(crate) actions: Actions,
    pub(crate) resources: Resources,
    pub(crate) principals: Principals,
    pub(crate) conditions: Vec<Clause>,
}

/// A parsed, validated policy document.
#[derive(Clone, Debug)]
pub struct Policy {
    pub(crate) kind: PolicyKind,
    pub(crate) version: PolicyVersion,
    pub(crate) explicit_version: bool,
    pub(crate) statements: Vec<Statement>,
}

impl Policy {
    /// Parses and validates like IAM does; the error carries AWS's MalformedPolicyDocument
    /// message.
    pub fn parse(doc: &str, kind: PolicyKind) -> Result<Policy, PolicyError> {
        let invalid_json = if kind == PolicyKind::Trust { e::INVALID_JSON } else { e::SYNTAX };
        let value: Value = serde_json::from_str(doc).map_err(|_| PolicyError::new(invalid_json))?;
        let obj = value.as_object().ok_or_else(|| PolicyError::new(e::SYNTAX))?;
        if obj.keys().any(|k| !matches!(k.as_str(), "Version" | "Id" | "Statement")) {
            return Err(PolicyError::new(e::SYNTAX));
        }
        let (version, explicit_version) = match obj.get("Version") {
            None => (PolicyVersion::V2008, false),
            Some(Value::String(v)) if v == "2012-10-17" => (PolicyVersion::V2012, true),
            Some(Value::String(v)) if v == "2008-10-17" => (PolicyVersion::V2008, true),
            Some(_) => return Err(PolicyError::new(e::LEGACY)),
        };
        if obj.get("Id").is_some_and(|id| !id.is_string()) {
            return Err(PolicyError::new(e::SYNTAX));
        }
        let raw = statement_objects(obj)?;
        let variables = version == PolicyVersion::V2012;
        let statements = raw.into_iter().map(|s| parse_statement(s, kind, variables)).collect::<Result<Vec<_>, _>>()?;
        check_sids(&statements, kind)?;
        Ok(Policy { kind, version, explicit_version, statements })
    }

    /// The kind the policy was parsed as.
    pub fn kind(&self) -> PolicyKind {
        self.kind
    }

    /// The language version (2008-10-17 when the document has no `Version`).
    pub fn version(&self) -> PolicyVersion {
        self.version
    }

    /// How many statements the policy has.
    pub fn statement_count(&self) -> usize {
        self.statements.len()
    }

    /// The `Sid` of statement `index`, if it has one.
    pub fn sid(&self, index: usize) -> Option<&str> {
        self.statements.get(index).and_then(|s| s.sid.as_deref())
    }

    /// For callers that require the current language (the IAM console refuses a managed
    /// policy without `"Version": "2012-10-17"` with this message).
    pub fn require_version_2012(&self) -> Result<(), PolicyError> {
        if self.explicit_version && self.version == PolicyVersion::V2012 {
            Ok(())
        } else {
            Err(PolicyError::new(e::VERSION_2012))
        }
    }
}

fn statement_objects(obj: &Map<String, Value>) -> Result<Vec<&Map<String, Value>>, PolicyError> {
    match obj.get("Statement") {
        None => Err(PolicyError::new(e::MISSING_STATEMENT)),
        Some(Value::Object(s)) => Ok(vec![s]),
        Some(Value::Array(list)) if !list.is_empty() => {
            list.iter().map(|s| s.as_object().ok_or_else(|| PolicyError::new(e::SYNTAX))).collect()
        }
        Some(_) => Err(PolicyError::new(e::SYNTAX)),
    }
}

const STATEMENT_FIELDS: [&str; 9] =
    ["Sid", "Effect", "Principal", "NotPrincipal", "Action", "NotAction", "Resource", "NotResource", "Condition"];

fn parse_statement(s: &Map<String, Value>, kind: PolicyKind, variables: bool) -> Result<Statement, PolicyError> {
    if s.keys().any(|k| !STATEMENT_FIELDS.contains(&k.as_str())) {
        return Err(PolicyError::new(e::SYNTAX));
    }
    let sid = match s.get("Sid") {
        None => None,
        Some(Value::String(sid)) => Some(sid.clone()),
        Some(_) => return Err(PolicyError::new(e::SYNTAX)),
    };
    let effect = match s.get("Effect") {
        None => return Err(PolicyError::new(e::MISSING_EFFECT)),
        Some(Value::String(v)) if v == "Allow" => Effect::Allow,
        Some(Value::String(v)) if v == "Deny" => Effect::Deny,
        Some(_) => return Err(PolicyError::new(e::LEGACY)),
    };
    let principals = parse_principals(s, kind)?;
    let actions = parse_actions(s)?;
    let resources = parse_resources(s, kind, variables)?;
    let conditions = match s.get("Condition") {
        None => Vec::new(),
        Some(c) => parse_conditions(c, variables)?,
    };
    Ok(Statement { sid, effect, actions, resources, principals, conditions })
}

/// A string or a non-empty list of strings.
fn strings(v: &Value) -> Result<Vec<&str>, PolicyError> {
    match v {
        Value::String(s) => Ok(vec![s]),
        Value::Array(list) if !list.is_empty() => {
            list.iter().map(|x| x.as_str().ok_or_else(|| PolicyError::new(e::SYNTAX))).collect()
        }
        _ => Err(PolicyError::new(e::SYNTAX)),
    }
}

/// One of a pair of mutually exclusive elements (`Action` / `NotAction` …).
fn either<'a>(s: &'a Map<String, Value>, yes: &str, not: &str) -> Result<Option<(bool, &'a Value)>, PolicyError> {
    match (s.get(yes), s.get(not)) {
        (Some(_), Some(_)) => Err(PolicyError::new(e::SYNTAX)),
        (Some(v), None) => Ok(Some((false, v))),
        (None, Some(v)) => Ok(Some((true, v))),
        (None, None) => Ok(None),
    }
}

fn parse_actions(s: &Map<String, Value>) -> Result<Actions, PolicyError> {
    let Some((negated, v)) = either(s, "Action", "NotAction")? else {
        return Err(PolicyError::new(e::NO_ACTIONS));
    };
    let globs = strings(v)?.into_iter().map(parse_action).collect::<Result<Vec<_>, _>>()?;
    Ok(if negated { Actions::NotAction(globs) } else { Actions::Action(globs) })
}

fn parse_action(a: &str) -> Result<Glob, PolicyError> {
    if a != "*" {
        let Some((vendor, rest)) = a.split_once(':') else {
            return Err(PolicyError::new(e::VENDOR_PREFIX));
        };
        if rest.contains(':') {
            return Err(PolicyError::new(e::ONE_COLON));
        }
        if vendor.is_empty() {
            return Err(PolicyError::new(e::VENDOR_PREFIX));
        }
        if vendor.contains(['*', '?']) {
            return Err(PolicyError::new(e::VENDOR_WILDCARD));
        }
    }
    Ok(Glob::new(a, Mode::Action))
}

fn parse_resources(s: &Map<String, Value>, kind: PolicyKind, variables: bool) -> Result<Resources, PolicyError> {
    if kind == PolicyKind::Trust {
        return match ["Resource", "NotResource"].into_iter().find(|f| s.contains_key(*f)) {
            Some(field) => Err(e::prohibited(field)),
            None => Ok(Resources::Implicit),
        };
    }
    let Some((negated, v)) = either(s, "Resource", "NotResource")? else {
        return Err(PolicyError::new(e::NO_RESOURCES));
    };
    let mut patterns = Vec::new();
    for r in strings(v)? {
        if r != "*" && !r.starts_with("arn:") {
            return Err(e::resource_format(r));
        }
        patterns.push(Pattern::new(r, Mode::Resource, variables));
    }
    Ok(if negated { Resources::NotResource(patterns) } else { Resources::Resource(patterns) })
}

fn parse_principals(s: &Map<String, Value>, kind: PolicyKind) -> Result<Principals, PolicyError> {
    let found = either(s, "Principal", "NotPrincipal")?;
    match (kind, found) {
        (PolicyKind::Identity, None) => Ok(Principals::Implicit),
        (PolicyKind::Identity, Some(_)) => Err(PolicyError::new(e::NO_PRINCIPAL_ALLOWED)),
        (PolicyKind::Resource, None) => Err(PolicyError::new(e::MISSING_PRINCIPAL)),
        (PolicyKind::Trust, None) => Err(PolicyError::new(e::TRUST_NO_PRINCIPAL)),
        (_, Some((negated, v))) => {
            let ids = crate::principal::parse(v)?;
            Ok(if negated { Principals::NotPrincipal(ids) } else { Principals::Principal(ids) })
        }
    }
}

/// `{"Operator": {"key": value-or-values, …}, …}`.
fn parse_conditions(c: &Value, variables: bool) -> Result<Vec<Clause>, PolicyError> {
    let ops = c.as_object().ok_or_else(|| PolicyError::new(e::SYNTAX))?;
    let mut clauses = Vec::new();
    for (op, keys) in ops {
        let keys = keys.as_object().filter(|k| !k.is_empty()).ok_or_else(|| PolicyError::new(e::SYNTAX))?;
        for (key, values) in keys {
            if !key.contains(':') {
                return Err(PolicyError::new(e::VENDOR_PREFIX));
            }
            let values = condition_values(values)?;
            clauses.push(Clause::new(op, key, &values, variables).map_err(|_| PolicyError::new(e::SYNTAX))?);
        }
    }
    Ok(clauses)
}

/// Condition values may be strings, numbers or booleans, alone or in a list.
fn condition_values(v: &Value) -> Result<Vec<String>, PolicyError> {
    let one = |x: &Value| match x {
        Value::String(s) => Ok(s.clone()),
        Value::Number(n) => Ok(n.to_string()),
        Value::Bool(b) => Ok(b.to_string()),
        _ => Err(PolicyError::new(e::SYNTAX)),
    };
    match v {
        Value::Array(list) if !list.is_empty() => list.iter().map(one).collect(),
        Value::Array(_) => Err(PolicyError::new(e::SYNTAX)),
        x => Ok(vec![one(x)?]),
    }
}

fn check_sids(statements: &[Statement], kind: PolicyKind) -> Result<(), PolicyError> {
    let mut seen = std::collections::HashSet::new();
    for sid in statements.iter().filter_map(|s| s.sid.as_deref()).filter(|s| !s.is_empty()) {
        // Queue and function policies use "__default_statement_ID", "lambda-1" …: only
        // IAM's own documents are held to alphanumeric Sids.
        if kind != PolicyKind::Resource && !sid.chars().all(|c| c.is_ascii_alphanumeric()) {
            return Err(PolicyError::new(e::SID_ALNUM));
        }
        if !seen.insert(sid) {
            return Err(PolicyError::new(e::SID_UNIQUE));
        }
    }
    Ok(())
}
