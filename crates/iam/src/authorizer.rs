//! Request authorization for `--auth iam`: each request's operation becomes IAM checks
//! (`actions.rs`: action + resource ARN, from AWS's Service Authorization Reference),
//! each decided by AWS's policy evaluation logic (`nimbus-iam-policy`) over the caller's
//! identity policies (user + groups, or role + session policies), permissions boundary,
//! and the resource's own policy (an SQS queue policy, a Lambda function policy) when a
//! service provides it. Compiled policies are cached per principal and invalidated by
//! any IAM change (the directory's generation).

use crate::directory::key;
use crate::entities::{Policies, Session};
use crate::ops_policies::lookup;
use crate::Iam;
use nimbus_core::internal::ResourcePolicies;
use nimbus_core::{AwsError, RequestContext};
use nimbus_iam_policy::{explain, ContextKeys, Decision, Policy, PolicyKind, PolicySet, Principal, PrincipalKind, Request};
use parking_lot::Mutex;
use serde_json::Value;
use std::collections::HashMap;
use std::sync::Arc;

/// A compiled policy and where it came from (SimulatePrincipalPolicy's `SourcePolicyId`
/// and `SourcePolicyType`: an inline policy's name with `user` / `group` / `role`, a
/// managed policy's ARN with `managed` / `aws-managed`).
pub struct Sourced {
    pub id: String,
    pub kind: &'static str,
    pub policy: Arc<Policy>,
}

/// A caller's policies, compiled.
pub struct Compiled {
    pub principal: Principal,
    pub identity: Vec<Sourced>,
    pub boundary: Option<Arc<Policy>>,
    pub session: Option<Vec<Arc<Policy>>>,
}

#[derive(Default)]
pub struct Caches {
    /// principal ARN + access key → (directory generation, compiled policies).
    principals: Mutex<HashMap<String, (u64, Arc<Compiled>)>>,
    /// Resource policy text → compiled (bounded: cleared past 1,024 entries).
    resource: Mutex<HashMap<String, Arc<Policy>>>,
    /// Services that hold resource policies, by ARN service (`sqs`, `lambda`).
    pub sources: Mutex<HashMap<String, Arc<dyn ResourcePolicies>>>,
}

fn parse_identity(doc: &str) -> Option<Arc<Policy>> {
    match Policy::parse(doc, PolicyKind::Identity) {
        Ok(p) => Some(Arc::new(p)),
        Err(e) => {
            tracing::warn!(error = %e.message, "iam: a stored policy no longer parses; it is ignored");
            None
        }
    }
}

/// The protocol shape of an access denial, per service (AWS's error names differ).
fn denied(service: &str, message: String) -> AwsError {
    match service {
        // EventBridge, SSM, KMS and Secrets Manager: CommonErrors, AccessDeniedException "HTTP Status Code: 400".
        "dynamodb" | "logs" | "events" | "ssm" | "kms" | "secretsmanager" => AwsError::new("AccessDeniedException", 400, message),
        // Kinesis (its model's AccessDeniedException, no HTTP status: 400) and Step
        // Functions (CommonErrors: AccessDeniedException, 400).
        "kinesis" | "states" => AwsError::new("AccessDeniedException", 400, message),
        // API Gateway v2: AccessDeniedException, "HTTP Status Code: 403".
        "lambda" | "apigateway" => AwsError::new("AccessDeniedException", 403, message),
        "sqs" => AwsError::new("AccessDenied", 403, message).with_query_code("AccessDenied"),
        // SNS: AuthorizationError, 403 (https://docs.aws.amazon.com/sns/latest/api/CommonErrors.html).
        "sns" => AwsError::new("AuthorizationError", 403, message).with_query_code("AuthorizationError"),
        // S3: its error document, AccessDenied 403 "Access Denied"
        // (https://docs.aws.amazon.com/AmazonS3/latest/API/ErrorResponses.html).
        "s3" => AwsError::new("AccessDenied", 403, "Access Denied"),
        _ => AwsError::new("AccessDenied", 403, message),
    }
}

impl Iam {
    /// Registers the service that answers resource policies for ARNs of `arn_service`.
    pub fn add_resource_policies(&self, arn_service: &str, source: Arc<dyn ResourcePolicies>) {
        self.caches.sources.lock().insert(arn_service.to_string(), source);
    }

    fn compile(&self, ctx: &RequestContext) -> Arc<Compiled> {
        let arn = ctx.principal_arn.clone().unwrap_or_else(|| format!("arn:aws:iam::{}:root", ctx.account_id));
        let cache_key = format!("{arn}\u{0}{}", ctx.access_key_id);
        let generation = self.dir.generation();
        if let Some((g, c)) = self.caches.principals.lock().get(&cache_key) {
            if *g == generation {
                return c.clone();
            }
        }
        let session = self.dir.session(&ctx.account_id, &ctx.access_key_id);
        let compiled = Arc::new(self.compile_uncached(&arn, &ctx.account_id, ctx.user_id.clone().unwrap_or_default(), session));
        let mut cache = self.caches.principals.lock();
        if cache.len() > 4096 {
            cache.clear();
        }
        cache.insert(cache_key, (generation, compiled.clone()));
        compiled
    }

    pub(crate) fn compile_uncached(&self, arn: &str, account: &str, user_id: String, session: Option<Session>) -> Compiled {
        let mut out = Compiled { principal: Principal::root(account), identity: Vec::new(), boundary: None, session: None };
        out.principal.user_id = user_id;
        let _ = self.dir.read(account, |a| {
            let mut add = |p: &Policies, holder: &'static str| {
                for (name, doc) in &p.inline {
                    if let Some(policy) = parse_identity(doc) {
                        out.identity.push(Sourced { id: name.clone(), kind: holder, policy });
                    }
                }
                for m in p.attached.iter().filter_map(|m| lookup(a, m)) {
                    if let Some(policy) = parse_identity(m.default_document()) {
                        let kind = if crate::managed::is_aws_managed(&m.arn) { "aws-managed" } else { "managed" };
                        out.identity.push(Sourced { id: m.arn.clone(), kind, policy });
                    }
                }
            };
            let boundary_of = |b: &Option<String>| b.as_deref().and_then(|arn| lookup(a, arn)).and_then(|m| parse_identity(m.default_document()));
            // The user behind a GetSessionToken / GetFederationToken session, or the caller itself.
            let user_arn = session.as_ref().and_then(|s| s.parent_arn.clone()).unwrap_or_else(|| arn.to_string());
            if let Some((_, path_name)) = user_arn.split_once(":user/") {
                let name = path_name.rsplit('/').next().unwrap_or(path_name);
                if let Some(u) = a.users.get(&key(name)) {
                    add(&u.policies, "user");
                    for g in &u.groups {
                        if let Some(group) = a.groups.get(&key(g)) {
                            add(&group.policies, "group");
                        }
                    }
                    out.boundary = boundary_of(&u.permissions_boundary);
                    out.principal.tags = u.tags.iter().map(|t| (t.key.clone(), t.value.clone())).collect();
                    if session.is_none() || arn.contains(":user/") {
                        out.principal.kind = PrincipalKind::User;
                        out.principal.arn = u.arn.clone();
                        out.principal.user_name = Some(u.name.clone());
                    }
                }
            }
            // A role or group named directly (SimulatePrincipalPolicy's PolicySourceArn).
            if let Some((_, path_name)) = arn.split_once(":role/") {
                if let Some(r) = a.roles.get(&key(path_name.rsplit('/').next().unwrap_or(path_name))) {
                    add(&r.policies, "role");
                    out.boundary = boundary_of(&r.permissions_boundary);
                    out.principal.kind = PrincipalKind::AssumedRole { role_arn: r.arn.clone() };
                    out.principal.arn = r.arn.clone();
                }
            }
            if let Some((_, path_name)) = arn.split_once(":group/") {
                if let Some(g) = a.groups.get(&key(path_name.rsplit('/').next().unwrap_or(path_name))) {
                    add(&g.policies, "group");
                    out.principal.kind = PrincipalKind::User;
                    out.principal.arn = g.arn.clone();
                }
            }
            if let Some(s) = &session {
                if let Some(role_arn) = &s.role_arn {
                    let role_name = role_arn.rsplit('/').next().unwrap_or("");
                    if let Some(r) = a.roles.get(&key(role_name)) {
                        add(&r.policies, "role");
                        out.boundary = boundary_of(&r.permissions_boundary);
                        out.principal.tags = r.tags.iter().map(|t| (t.key.clone(), t.value.clone())).collect();
                    }
                    out.principal.kind = PrincipalKind::AssumedRole { role_arn: role_arn.clone() };
                    out.principal.arn = s.principal_arn.clone();
                } else if s.principal_arn.contains(":federated-user/") {
                    out.principal.kind = PrincipalKind::FederatedUser;
                    out.principal.arn = s.principal_arn.clone();
                }
                for t in &s.tags {
                    out.principal.tags.insert(t.key.clone(), t.value.clone());
                }
                let mut session_policies: Vec<Arc<Policy>> = s.session_policies.iter().filter_map(|d| parse_identity(d)).collect();
                session_policies.extend(s.session_policy_arns.iter().filter_map(|m| lookup(a, m)).filter_map(|m| parse_identity(m.default_document())));
                let federated = s.principal_arn.contains(":federated-user/");
                if !session_policies.is_empty() || federated {
                    out.session = Some(session_policies);
                }
            }
            Ok(())
        });
        out
    }

    /// The tags of the resource a check names: the service's, or an IAM role's / user's.
    fn resource_tags(&self, resource: &str) -> Vec<(String, String)> {
        let mut parts = resource.splitn(6, ':');
        let (Some(_), Some(_), Some(service), Some(_), Some(account), Some(rest)) = (parts.next(), parts.next(), parts.next(), parts.next(), parts.next(), parts.next()) else { return Vec::new() };
        if service == "iam" {
            let name = rest.rsplit('/').next().unwrap_or(rest);
            return self
                .dir
                .read(account, |a| {
                    let tags = if rest.starts_with("role/") {
                        a.roles.get(&key(name)).map(|r| r.tags.clone())
                    } else if rest.starts_with("user/") {
                        a.users.get(&key(name)).map(|u| u.tags.clone())
                    } else {
                        None
                    };
                    Ok(tags.unwrap_or_default().into_iter().map(|t| (t.key, t.value)).collect())
                })
                .unwrap_or_default();
        }
        let source = self.caches.sources.lock().get(service).cloned();
        source.map(|s| s.tags_of(resource)).unwrap_or_default()
    }

    /// The owner of a resource whose ARN names no account (an S3 bucket or object), from
    /// its service.
    fn owner_of(&self, resource: &str) -> Option<String> {
        let mut parts = resource.splitn(6, ':');
        let (Some("arn"), Some(_), Some(service), Some(_), Some("")) = (parts.next(), parts.next(), parts.next(), parts.next(), parts.next()) else { return None };
        let source = self.caches.sources.lock().get(service).cloned()?;
        source.account_of(resource)
    }

    pub(crate) fn resource_policy(&self, resource: &str) -> Option<Arc<Policy>> {
        let service = resource.split(':').nth(2)?;
        let source = self.caches.sources.lock().get(service).cloned()?;
        let text = source.policy_of(resource)?;
        let mut cache = self.caches.resource.lock();
        if let Some(p) = cache.get(&text) {
            return Some(p.clone());
        }
        let p = Arc::new(Policy::parse(&text, PolicyKind::Resource).ok()?);
        if cache.len() > 1024 {
            cache.clear();
        }
        cache.insert(text, p.clone());
        Some(p)
    }

    /// `sts:AssumeRole` (or `sts:TagSession`…) on `role`: the trust policy as the
    /// resource policy, the caller's own policies as identity policies.
    pub(crate) fn decide_trust(&self, role: &crate::entities::Role, ctx: &RequestContext, action: &str, context: ContextKeys) -> crate::errors::IamResult<()> {
        let trust = Policy::parse(&role.assume_role_policy, PolicyKind::Trust).map_err(|e| crate::errors::IamError::MalformedPolicyDocument(e.message))?;
        let compiled = self.compile(ctx);
        let identity: Vec<&Policy> = compiled.identity.iter().map(|p| p.policy.as_ref()).collect();
        let session: Option<Vec<&Policy>> = compiled.session.as_ref().map(|s| s.iter().map(|p| p.as_ref()).collect());
        let set = PolicySet { identity, boundary: compiled.boundary.as_deref(), session, resource: Some(&trust) };
        let role_account = role.arn.split(':').nth(4);
        let req = Request { principal: &compiled.principal, action, resource: &role.arn, resource_account: role_account, context: &context };
        // Unlike other resource policies, a trust policy must itself allow the caller
        // (naming it, or its account — which then also needs the identity allow above):
        // an identity-policy allow alone never lets anyone assume a role (IAM User Guide,
        // "Policy evaluation logic": role trust policies). Checked as a cross-account
        // request with an identity policy that allows everything.
        static ALLOW_ALL: std::sync::OnceLock<Option<Policy>> = std::sync::OnceLock::new();
        let allow_all = ALLOW_ALL.get_or_init(|| Policy::parse(r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}"#, PolicyKind::Identity).ok());
        let trust_alone = allow_all.as_ref().is_some_and(|all| {
            let only_trust = PolicySet { identity: vec![all], boundary: None, session: None, resource: Some(&trust) };
            let elsewhere = Request { resource_account: Some("trust-policy-check"), ..Request { principal: &compiled.principal, action, resource: &role.arn, resource_account: None, context: &context } };
            explain(&only_trust, &elsewhere).decision == Decision::Allow
        });
        match explain(&set, &req).decision {
            Decision::Allow if trust_alone => Ok(()),
            _ => Err(crate::errors::IamError::AccessDenied(format!("User: {} is not authorized to perform: {action} on resource: {}", compiled.principal.arn, role.arn))),
        }
    }

    /// The ARN (with its path) of an IAM entity a request names; `("user", "")` is the caller.
    fn entity_arn(&self, ctx: &RequestContext, kind: &str, name: &str) -> Option<String> {
        if kind == "user" && name.is_empty() {
            return ctx.principal_arn.clone();
        }
        // A KMS key named by alias, key id or ciphertext blob: the key's ARN, from KMS.
        // A Secrets Manager SecretId (name or partial ARN): the secret's full ARN.
        let service = match kind {
            "kms-key" => Some("kms"),
            "secret" => Some("secretsmanager"),
            // A Kinesis consumer named by stream and consumer name: its full ARN.
            "kinesis-consumer" => Some("kinesis"),
            _ => None,
        };
        if let Some(service) = service {
            let source = self.caches.sources.lock().get(service).cloned();
            return source.and_then(|s| s.canonical_arn(&ctx.account_id, &ctx.region, name));
        }
        self.dir
            .read(&ctx.account_id, |a| {
                Ok(match kind {
                    "role" | "service-linked-role" => a.roles.get(&key(name)).map(|r| r.arn.clone()),
                    "user" => a.users.get(&key(name)).map(|u| u.arn.clone()),
                    "group" => a.groups.get(&key(name)).map(|g| g.arn.clone()),
                    "instance-profile" => a.instance_profiles.get(&key(name)).map(|p| p.arn.clone()),
                    "access-key" => a.access_keys.get(name).and_then(|k| a.users.get(&key(&k.user_name))).map(|u| u.arn.clone()),
                    // The permissions boundary an entity has now (`iam:PermissionsBoundary`).
                    "role-boundary" => a.roles.get(&key(name)).and_then(|r| r.permissions_boundary.clone()),
                    "user-boundary" => a.users.get(&key(name)).and_then(|u| u.permissions_boundary.clone()),
                    _ => None,
                })
            })
            .ok()
            .flatten()
    }

    /// Whether an IAM entity (`arn`: a role or user, acting through a service) may do
    /// `action` on `resource`: its own policies and boundary, and the resource's policy.
    pub(crate) fn principal_allowed(&self, arn: &str, action: &str, resource: &str) -> bool {
        let Some(account) = arn.split(':').nth(4) else { return false };
        let compiled = self.compile_uncached(arn, account, String::new(), None);
        let identity: Vec<&Policy> = compiled.identity.iter().map(|p| p.policy.as_ref()).collect();
        let resource_policy = self.resource_policy(resource);
        let set = PolicySet { identity, boundary: compiled.boundary.as_deref(), session: None, resource: resource_policy.as_deref() };
        let context = ContextKeys::new();
        let req = Request { principal: &compiled.principal, action, resource, resource_account: resource.split(':').nth(4), context: &context };
        explain(&set, &req).decision == Decision::Allow
    }

    /// The keys every check of a request shares: the global request keys and the tags the
    /// request sets (`aws:RequestTag/<key>`, `aws:TagKeys`).
    pub(crate) fn request_context(&self, ctx: &RequestContext, input: &Value) -> ContextKeys {
        let now = self.dir.clock.now_ms();
        let mut context = ContextKeys::new();
        context.insert("aws:CurrentTime", nimbus_core::time::iso8601(now));
        context.insert("aws:EpochTime", (now / 1000).to_string());
        context.insert("aws:SecureTransport", "false");
        context.insert("aws:RequestedRegion", ctx.region.clone());
        if let Some(ip) = ctx.source_ip {
            context.insert("aws:SourceIp", ip.to_string());
        }
        let request_tags = request_tags(input);
        if !request_tags.is_empty() {
            context.set("aws:TagKeys", request_tags.iter().map(|(k, _)| k.clone()).collect());
            for (k, v) in &request_tags {
                context.insert(&format!("aws:RequestTag/{k}"), v.clone());
            }
        }
        context
    }

    /// The keys of one check beyond the request's: the resource's tags
    /// (`aws:ResourceTag/<key>`, and `iam:ResourceTag/<key>` for roles and users), the
    /// service-specific keys of the action map, and those the resource's service derives
    /// from its own data (DynamoDB's `dynamodb:LeadingKeys`). None when there are none.
    fn check_keys(&self, check: &crate::actions::Check, operation: &str, input: &Value) -> Option<Vec<(String, Vec<String>)>> {
        let mut out: Vec<(String, Vec<String>)> = check.keys.clone();
        if check.resource != "*" {
            let iam = check.resource.starts_with("arn:aws:iam:");
            for (k, v) in self.resource_tags(&check.resource) {
                if iam {
                    out.push((format!("iam:ResourceTag/{k}"), vec![v.clone()]));
                }
                out.push((format!("aws:ResourceTag/{k}"), vec![v]));
            }
            let service = check.resource.split(':').nth(2).unwrap_or("");
            let source = self.caches.sources.lock().get(service).cloned();
            if let Some(source) = source {
                out.extend(source.condition_keys(&check.resource, operation, input));
            }
        }
        (!out.is_empty()).then_some(out)
    }

    /// Decides one request of `service` (signing name) / `operation` with decoded `input`.
    pub fn authorize(&self, ctx: &RequestContext, service: &str, operation: &str, input: &Value) -> Result<(), AwsError> {
        let lookup = |kind: &str, name: &str| -> Option<String> { self.entity_arn(ctx, kind, name) };
        let Some(checks) = crate::actions::checks_with(service, operation, &ctx.region, &ctx.account_id, input, &lookup) else {
            return Err(denied(service, format!("{service}:{operation} has no IAM action mapping in nimbus; with --auth iam it is denied")));
        };
        if checks.is_empty() {
            return Ok(());
        }
        let compiled = self.compile(ctx);
        let identity: Vec<&Policy> = compiled.identity.iter().map(|p| p.policy.as_ref()).collect();
        let session: Option<Vec<&Policy>> = compiled.session.as_ref().map(|s| s.iter().map(|p| p.as_ref()).collect());
        let context = self.request_context(ctx, input);
        for check in &checks {
            let owner = self.owner_of(&check.resource);
            let resource_account = check.resource.split(':').nth(4).filter(|a| !a.is_empty()).or(owner.as_deref());
            let resource_policy = if check.resource == "*" { None } else { self.resource_policy(&check.resource) };
            let set = PolicySet { identity: identity.clone(), boundary: compiled.boundary.as_deref(), session: session.clone(), resource: resource_policy.as_deref() };
            let with_keys;
            let context = match self.check_keys(check, operation, input) {
                None => &context,
                Some(extra) => {
                    let mut c = context.clone();
                    for (k, v) in extra {
                        c.set(&k, v);
                    }
                    with_keys = c;
                    &with_keys
                }
            };
            let req = Request { principal: &compiled.principal, action: &check.action, resource: &check.resource, resource_account, context };
            let verdict = explain(&set, &req);
            if verdict.decision != Decision::Allow {
                let who = if compiled.principal.arn.is_empty() { format!("arn:aws:iam::{}:root", ctx.account_id) } else { compiled.principal.arn.clone() };
                let why = match (verdict.decision, verdict.statement, verdict.missing_allow) {
                    (Decision::ExplicitDeny, Some(s), _) => {
                        let label = s.policy_type.label();
                        let article = if label.starts_with(['a', 'e', 'i', 'o', 'u']) { "an" } else { "a" };
                        format!("with an explicit deny in {article} {label}")
                    }
                    (_, _, Some(t)) => format!("because no {} allows the {} action", t.label(), check.action),
                    _ => format!("because no identity-based policy allows the {} action", check.action),
                };
                return Err(denied(service, format!("User: {who} is not authorized to perform: {} on resource: {} {why}", check.action, check.resource)));
            }
        }
        Ok(())
    }
}

impl nimbus_core::internal::Authorizer for Iam {
    fn authorize(&self, ctx: &RequestContext, service: &str, operation: &str, input: &Value) -> Result<(), AwsError> {
        Iam::authorize(self, ctx, service, operation, input)
    }
}

/// Tags a request sets (`aws:RequestTag/<key>`, `aws:TagKeys`): a `Tags` / `tags` member
/// as a map (SQS, Lambda) or a list of `{Key, Value}` (IAM, DynamoDB, Logs).
fn request_tags(input: &Value) -> Vec<(String, String)> {
    let Some(tags) = input.get("Tags").or_else(|| input.get("tags")) else { return Vec::new() };
    match tags {
        Value::Object(m) => m.iter().filter_map(|(k, v)| v.as_str().map(|v| (k.clone(), v.to_string()))).collect(),
        Value::Array(list) => list
            .iter()
            .filter_map(|t| Some((t.get("Key").or_else(|| t.get("key"))?.as_str()?.to_string(), t.get("Value").or_else(|| t.get("value"))?.as_str()?.to_string())))
            .collect(),
        _ => Vec::new(),
    }
}
