//! Shared helpers for the iam-policy tests: a case builder that parses the policies of a
//! case, evaluates one request and reports every case that disagrees.
#![allow(dead_code)]

use nimbus_iam_policy::{evaluate, ContextKeys, Decision, Policy, PolicyKind, PolicySet, Principal, Request};

pub const A: &str = "111122223333";
pub const B: &str = "444455556666";

pub struct Case {
    pub name: &'static str,
    pub identity: Vec<String>,
    pub boundary: Option<String>,
    pub session: Option<Vec<String>>,
    pub resource_policy: Option<(String, PolicyKind)>,
    pub principal: Principal,
    pub action: &'static str,
    pub resource: String,
    pub resource_account: Option<&'static str>,
    pub context: ContextKeys,
    pub expect: Decision,
}

pub fn case(name: &'static str, principal: Principal, action: &'static str, resource: &str) -> Case {
    Case {
        name,
        identity: Vec::new(),
        boundary: None,
        session: None,
        resource_policy: None,
        principal,
        action,
        resource: resource.to_string(),
        resource_account: None,
        context: ContextKeys::new(),
        expect: Decision::ImplicitDeny,
    }
}

impl Case {
    pub fn identity(mut self, doc: &str) -> Case {
        self.identity.push(doc.to_string());
        self
    }
    pub fn boundary(mut self, doc: &str) -> Case {
        self.boundary = Some(doc.to_string());
        self
    }
    pub fn session(mut self, docs: &[&str]) -> Case {
        self.session = Some(docs.iter().map(|d| d.to_string()).collect());
        self
    }
    pub fn resource_policy(mut self, doc: &str) -> Case {
        self.resource_policy = Some((doc.to_string(), PolicyKind::Resource));
        self
    }
    pub fn trust(mut self, doc: &str) -> Case {
        self.resource_policy = Some((doc.to_string(), PolicyKind::Trust));
        self
    }
    pub fn owner(mut self, account: &'static str) -> Case {
        self.resource_account = Some(account);
        self
    }
    pub fn ctx(mut self, key: &str, value: &str) -> Case {
        self.context.insert(key, value);
        self
    }
    pub fn expect(mut self, d: Decision) -> Case {
        self.expect = d;
        self
    }

    /// Evaluates the case; `Err` describes a disagreement.
    pub fn run(&self) -> Result<(), String> {
        let parse = |doc: &str, kind| Policy::parse(doc, kind).map_err(|e| format!("{}: policy refused: {e}\n{doc}", self.name));
        let identity = self.identity.iter().map(|d| parse(d, PolicyKind::Identity)).collect::<Result<Vec<_>, _>>()?;
        let boundary = self.boundary.as_deref().map(|d| parse(d, PolicyKind::Identity)).transpose()?;
        let session = match &self.session {
            Some(list) => Some(list.iter().map(|d| parse(d, PolicyKind::Identity)).collect::<Result<Vec<_>, _>>()?),
            None => None,
        };
        let resource = self.resource_policy.as_ref().map(|(d, k)| parse(d, *k)).transpose()?;
        let set = PolicySet {
            identity: identity.iter().collect(),
            boundary: boundary.as_ref(),
            session: session.as_ref().map(|s| s.iter().collect()),
            resource: resource.as_ref(),
        };
        let req = Request {
            principal: &self.principal,
            action: self.action,
            resource: &self.resource,
            resource_account: self.resource_account,
            context: &self.context,
        };
        let got = evaluate(&set, &req);
        if got == self.expect {
            Ok(())
        } else {
            Err(format!("{}: expected {:?}, got {:?}", self.name, self.expect, got))
        }
    }
}

/// Runs every case and fails with the list of those that disagree.
pub fn run_all(cases: &[Case]) {
    let failures: Vec<String> = cases.iter().filter_map(|c| c.run().err()).collect();
    assert!(failures.is_empty(), "{} of {} cases failed:\n{}", failures.len(), cases.len(), failures.join("\n"));
}

/// A user of account `acct` with tags.
pub fn user(acct: &str, name: &str) -> Principal {
    let mut p = Principal::user(acct, name);
    p.user_id = format!("AIDA{}", name.to_uppercase());
    p
}

pub fn role_session(acct: &str, role: &str, session: &str) -> Principal {
    let mut p = Principal::assumed_role(acct, role, session);
    p.user_id = format!("AROA{}:{session}", role.to_uppercase());
    p
}
