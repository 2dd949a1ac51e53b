//! Roles assumed by nimbus's own services on a user's behalf (`RoleAssumer`): Lambda
//! runs a function with its execution role's temporary credentials, issued as STS
//! issues them to `lambda.amazonaws.com`. And the calls services make on a user's
//! resources for another resource (`ServiceGrants`): SNS delivering to a queue is allowed
//! by the queue's policy naming `sns.amazonaws.com`, as AWS decides it.

use crate::directory::key;
use crate::entities::Session;
use crate::Iam;
use nimbus_core::internal::{RoleAssumer, RoleCredentials, ServiceCall, ServiceGrants};
use nimbus_core::service::BoxFuture;
use nimbus_iam_policy::{evaluate, ContextKeys, Decision, Policy, PolicyKind, PolicySet, Principal, Request};

/// `arn:aws:iam::<acct>:role/<path/>name` → (account, name).
pub fn parse_role_arn(arn: &str) -> Option<(&str, &str)> {
    let rest = arn.strip_prefix("arn:aws:iam::")?;
    let (account, resource) = rest.split_once(':')?;
    let path_name = resource.strip_prefix("role/")?;
    let name = path_name.rsplit('/').next()?;
    (account.len() == 12 && account.bytes().all(|b| b.is_ascii_digit()) && !name.is_empty()).then_some((account, name))
}

/// Whether a trust policy lets the service principal `service` assume the role, by the
/// same evaluator as every other decision.
pub fn trusts_service(trust: &str, role_arn: &str, service: &str) -> bool {
    let Ok(policy) = Policy::parse(trust, PolicyKind::Trust) else { return false };
    let principal = Principal::service(service);
    let context = ContextKeys::new();
    let set = PolicySet { identity: Vec::new(), boundary: None, session: None, resource: Some(&policy) };
    let req = Request { principal: &principal, action: "sts:AssumeRole", resource: role_arn, resource_account: None, context: &context };
    evaluate(&set, &req) == Decision::Allow
}

impl RoleAssumer for Iam {
    fn check_service_trust(&self, role_arn: &str, service: &str) -> Result<(), String> {
        let (account, name) = parse_role_arn(role_arn).ok_or_else(|| format!("{role_arn} is not a role ARN"))?;
        let trust = self.dir.read(account, |a| Ok(a.roles.get(&key(name)).map(|r| r.assume_role_policy.clone()))).map_err(|e| format!("{e:?}"))?;
        match trust {
            None => Err(format!("the role {role_arn} does not exist")),
            Some(doc) if trusts_service(&doc, role_arn, service) => Ok(()),
            Some(_) => Err(format!("the trust policy of {role_arn} does not allow {service} to assume it")),
        }
    }

    fn enforcing(&self) -> bool {
        Iam::enforcing(self)
    }

    fn role_allows(&self, role_arn: &str, action: &str, resource: &str) -> bool {
        !self.enforcing() || self.principal_allowed(role_arn, action, resource)
    }

    fn policy_version(&self) -> u64 {
        self.dir.generation()
    }

    fn policy_changed(&self, seen: u64) -> BoxFuture<'_, ()> {
        Box::pin(self.dir.changed(seen))
    }

    fn assume_for_service<'a>(&'a self, role_arn: &'a str, service: &'a str, session_name: &'a str, duration_s: u64) -> BoxFuture<'a, Result<RoleCredentials, String>> {
        Box::pin(async move {
            self.check_service_trust(role_arn, service)?;
            let (account, name) = parse_role_arn(role_arn).ok_or_else(|| format!("{role_arn} is not a role ARN"))?;
            let role = self.dir.read(account, |a| Ok(a.roles.get(&key(name)).cloned())).map_err(|e| format!("{e:?}"))?.ok_or("no such role")?;
            let session_name: String = session_name.chars().filter(|c| c.is_ascii_alphanumeric() || "_+=,.@-".contains(*c)).take(64).collect();
            let mut session = Session::new(
                account,
                format!("arn:aws:sts::{account}:assumed-role/{}/{session_name}", role.name),
                format!("{}:{session_name}", role.id),
                self.dir.clock.now_ms() + duration_s * 1000,
            );
            session.role_arn = Some(role.arn.clone());
            let creds = RoleCredentials {
                access_key_id: session.access_key_id.clone(),
                secret_access_key: session.secret.clone(),
                session_token: session.token.clone(),
                expires_at_ms: session.expires_ms,
            };
            crate::sts::issue(self, account, session, Some((role.name.clone(), "us-east-1".into()))).await.map_err(|e| format!("{e:?}"))?;
            Ok(creds)
        })
    }
}

impl ServiceGrants for Iam {
    /// A service principal has no identity policies: only the target's resource policy
    /// can allow it, with `aws:SourceArn`, `aws:SourceAccount` (and SNS's older
    /// `aws:SourceOwner`) and `aws:PrincipalServiceName` as condition keys.
    fn allows(&self, call: &ServiceCall<'_>) -> Result<(), String> {
        if !self.enforcing() {
            return Ok(());
        }
        let denied = || format!("the resource policy of {} does not allow {} to perform {} (aws:SourceArn {})", call.resource, call.service, call.action, call.source_arn);
        let Some(policy) = self.resource_policy(call.resource) else { return Err(denied()) };
        let principal = Principal::service(call.service);
        let mut context = ContextKeys::new();
        context.insert("aws:SourceArn", call.source_arn.to_string());
        context.insert("aws:SourceAccount", call.source_account.to_string());
        context.insert("aws:SourceOwner", call.source_account.to_string());
        context.insert("aws:PrincipalServiceName", call.service.to_string());
        context.insert("aws:SecureTransport", "true".to_string());
        let set = PolicySet { identity: Vec::new(), boundary: None, session: None, resource: Some(&policy) };
        let req = Request { principal: &principal, action: call.action, resource: call.resource, resource_account: call.resource.split(':').nth(4), context: &context };
        match evaluate(&set, &req) {
            Decision::Allow => Ok(()),
            _ => Err(denied()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn service_trust() {
        let t = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":["lambda.amazonaws.com"]},"Action":"sts:AssumeRole"}]}"#;
        let role = "arn:aws:iam::123456789012:role/r";
        assert!(trusts_service(t, role, "lambda.amazonaws.com"));
        assert!(!trusts_service(t, role, "states.amazonaws.com"));
        assert!(!trusts_service(&t.replace("Allow", "Deny"), role, "lambda.amazonaws.com"));
        assert_eq!(parse_role_arn("arn:aws:iam::123456789012:role/a/b/MyRole"), Some(("123456789012", "MyRole")));
        assert_eq!(parse_role_arn("arn:aws:iam::123456789012:user/x"), None);
    }
}
