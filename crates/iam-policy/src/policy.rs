//! The policy document: its model, and compiling a document `validate` accepted (IAM
//! User Guide, "IAM JSON policy grammar" and "IAM JSON policy elements") into statements
//! whose patterns are compiled once, so evaluation does no parsing.

use serde_json::{Map, Value};

use crate::condition::Clause;
use crate::error::{self as e, PolicyError};
use crate::glob::{Glob, Mode};
use crate::principal::PrincipalId;
use crate::validate;
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
        let syntax = || PolicyError::new(e::SYNTAX);
        let obj = value.as_object().ok_or_else(syntax)?;
        if obj.keys().any(|k| !matches!(k.as_str(), "Version" | "Id" | "Statement")) {
            return Err(syntax());
        }
        let (version, explicit_version) = match obj.get("Version") {
            None => (PolicyVersion::V2008, false),
            Some(Value::String(v)) if v == "2012-10-17" => (PolicyVersion::V2012, true),
            Some(Value::String(v)) if v == "2008-10-17" => (PolicyVersion::V2008, true),
            Some(_) => return Err(syntax()),
        };
        if obj.get("Id").is_some_and(|id| !id.is_string()) {
            return Err(syntax());
        }
        let raw = statement_objects(obj)?;
        validate::statements(&raw, kind)?;
        let variables = version == PolicyVersion::V2012;
        let statements = raw.into_iter().map(|s| compile_statement(s, variables)).collect::<Result<Vec<_>, _>>()?;
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
    let syntax = || PolicyError::new(e::SYNTAX);
    match obj.get("Statement") {
        Some(Value::Object(s)) => Ok(vec![s]),
        Some(Value::Array(list)) if !list.is_empty() => list.iter().map(|s| s.as_object().ok_or_else(syntax)).collect(),
        _ => Err(syntax()),
    }
}

/// Compiles a statement that `validate` accepted.
fn compile_statement(s: &Map<String, Value>, variables: bool) -> Result<Statement, PolicyError> {
    let sid = s.get("Sid").and_then(Value::as_str).map(str::to_string);
    let effect = if s.get("Effect").and_then(Value::as_str) == Some("Deny") { Effect::Deny } else { Effect::Allow };
    let principals = match (s.get("Principal"), s.get("NotPrincipal")) {
        (Some(p), _) => Principals::Principal(crate::principal::parse(p)?),
        (None, Some(p)) => Principals::NotPrincipal(crate::principal::parse(p)?),
        (None, None) => Principals::Implicit,
    };
    let action_globs = |v: &Value| -> Result<Vec<Glob>, PolicyError> {
        Ok(validate::strings(v)?.into_iter().map(|a| Glob::new(a, Mode::Action)).collect())
    };
    let actions = match (s.get("Action"), s.get("NotAction")) {
        (Some(v), _) => Actions::Action(action_globs(v)?),
        (None, Some(v)) => Actions::NotAction(action_globs(v)?),
        (None, None) => Actions::Action(Vec::new()),
    };
    let patterns = |v: &Value| -> Result<Vec<Pattern>, PolicyError> {
        Ok(validate::strings(v)?.into_iter().map(|r| Pattern::new(r, Mode::Resource, variables)).collect())
    };
    let resources = match (s.get("Resource"), s.get("NotResource")) {
        (Some(v), _) => Resources::Resource(patterns(v)?),
        (None, Some(v)) => Resources::NotResource(patterns(v)?),
        (None, None) => Resources::Implicit,
    };
    let mut conditions = Vec::new();
    for (op, keys) in s.get("Condition").and_then(Value::as_object).into_iter().flatten() {
        for (key, values) in keys.as_object().into_iter().flatten() {
            let values = validate::condition_values(values)?;
            conditions.push(Clause::new(op, key, &values, variables).map_err(|_| PolicyError::new(e::SYNTAX))?);
        }
    }
    Ok(Statement { sid, effect, actions, resources, principals, conditions })
}
