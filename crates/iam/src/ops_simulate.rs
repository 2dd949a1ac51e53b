//! The policy simulator: SimulatePrincipalPolicy (a user's, group's or role's own
//! policies, plus any given) and SimulateCustomPolicy (only the given documents), decided
//! by the same evaluator and the same compiled policies as `--auth iam` enforcement.

use crate::authorizer::Sourced;
use crate::errors::{IamError, IamResult};
use crate::input::{paginate, with_page, Input};
use crate::Iam;
use nimbus_core::RequestContext;
use nimbus_iam_policy::{explain, ContextKeys, Decision, Policy, PolicyKind, PolicySet, PolicyType, Principal, PrincipalKind, Request};
use serde_json::{json, Map, Value};
use std::sync::Arc;

fn parse_list(inp: &Input, member: &str) -> IamResult<Vec<Sourced>> {
    inp.strings(member)
        .iter()
        .enumerate()
        .map(|(i, doc)| {
            Policy::parse(doc, PolicyKind::Identity)
                .map(|p| Sourced { id: format!("{member}.{}", i + 1), kind: "IAM Policy", policy: Arc::new(p) })
                .map_err(|e| IamError::MalformedPolicyDocument(e.message))
        })
        .collect()
}

fn context_entries(inp: &Input) -> ContextKeys {
    let mut keys = ContextKeys::new();
    for e in inp.0.get("ContextEntries").and_then(Value::as_array).into_iter().flatten() {
        let Some(name) = e.get("ContextKeyName").and_then(Value::as_str) else { continue };
        let values: Vec<String> = e.get("ContextKeyValues").and_then(Value::as_array).map(|a| a.iter().filter_map(|v| v.as_str().map(String::from)).collect()).unwrap_or_default();
        keys.set(name, values);
    }
    keys
}

fn decision_name(d: Decision) -> &'static str {
    match d {
        Decision::Allow => "allowed",
        Decision::ExplicitDeny => "explicitDeny",
        Decision::ImplicitDeny => "implicitDeny",
    }
}

struct Simulation {
    principal: Principal,
    identity: Vec<Sourced>,
    boundary: Vec<Sourced>,
    resource: Option<Policy>,
}

fn run(sim: &Simulation, inp: &Input) -> IamResult<Value> {
    let actions = inp.strings("ActionNames");
    if actions.is_empty() {
        return Err(IamError::missing("ActionNames"));
    }
    let mut resources = inp.strings("ResourceArns");
    if resources.is_empty() {
        resources.push("*".into());
    }
    let context = context_entries(inp);
    let owner = inp.opt("ResourceOwner").and_then(|arn| arn.split(':').nth(4)).map(String::from);
    let identity: Vec<&Policy> = sim.identity.iter().map(|s| s.policy.as_ref()).collect();
    let (marker, max) = inp.page()?;
    let mut results = Vec::new();
    for action in &actions {
        for resource in &resources {
            let resource_account = owner.clone().or_else(|| resource.split(':').nth(4).filter(|a| !a.is_empty()).map(String::from));
            // Only the first boundary document applies (IAM allows one boundary).
            let set = PolicySet { identity: identity.clone(), boundary: sim.boundary.first().map(|b| b.policy.as_ref()), session: None, resource: sim.resource.as_ref() };
            let req = Request { principal: &sim.principal, action, resource, resource_account: resource_account.as_deref(), context: &context };
            let verdict = explain(&set, &req);
            let mut matched = Vec::new();
            if let Some(st) = verdict.statement {
                let source = match st.policy_type {
                    PolicyType::Identity => sim.identity.get(st.policy_index).map(|s| (s.id.clone(), s.kind)),
                    PolicyType::PermissionsBoundary => sim.boundary.first().map(|s| (s.id.clone(), "IAM Policy")),
                    PolicyType::Resource => Some(("ResourcePolicy".to_string(), "resource")),
                    PolicyType::Session => None,
                };
                if let Some((id, kind)) = source {
                    matched.push(json!({"SourcePolicyId": id, "SourcePolicyType": kind}));
                }
            }
            let mut r = Map::new();
            r.insert("EvalActionName".into(), json!(action));
            r.insert("EvalResourceName".into(), json!(resource));
            r.insert("EvalDecision".into(), json!(decision_name(verdict.decision)));
            r.insert("MatchedStatements".into(), Value::Array(matched));
            r.insert("MissingContextValues".into(), json!([]));
            if sim.resource.is_some() {
                let resource_decision = match (verdict.decision, verdict.statement.map(|s| s.policy_type)) {
                    (Decision::Allow, _) => "allowed",
                    (Decision::ExplicitDeny, Some(PolicyType::Resource)) => "explicitDeny",
                    _ => "implicitDeny",
                };
                r.insert("EvalDecisionDetails".into(), json!({"resource-based policy": resource_decision}));
            }
            results.push((format!("{:06}", results.len()), Value::Object(r)));
        }
    }
    let (page, next) = paginate(results, marker.as_deref(), max);
    let mut out = Map::new();
    out.insert("EvaluationResults".into(), Value::Array(page));
    Ok(with_page(out, next))
}

fn resource_policy(inp: &Input) -> IamResult<Option<Policy>> {
    inp.opt("ResourcePolicy").map(|doc| Policy::parse(doc, PolicyKind::Resource).map_err(|e| IamError::MalformedPolicyDocument(e.message))).transpose()
}

pub async fn simulate_custom_policy(_iam: &Iam, ctx: &RequestContext, inp: Input) -> IamResult<Value> {
    let identity = parse_list(&inp, "PolicyInputList")?;
    if identity.is_empty() {
        return Err(IamError::missing("PolicyInputList"));
    }
    let boundary = parse_list(&inp, "PermissionsBoundaryPolicyInputList")?;
    let principal = match inp.opt("CallerArn") {
        Some(arn) => Principal::new(arn, arn.split(':').nth(4).unwrap_or(&ctx.account_id), PrincipalKind::User),
        None => Principal::new(format!("arn:aws:iam::{}:user/simulated", ctx.account_id), ctx.account_id.clone(), PrincipalKind::User),
    };
    run(&Simulation { principal, identity, boundary, resource: resource_policy(&inp)? }, &inp)
}

pub async fn simulate_principal_policy(iam: &Iam, ctx: &RequestContext, inp: Input) -> IamResult<Value> {
    let source = inp.req("PolicySourceArn")?.to_string();
    let exists = iam.dir.read(&ctx.account_id, |a| {
        let name = |marker: &str| source.split_once(marker).map(|(_, p)| crate::directory::key(p.rsplit('/').next().unwrap_or(p)));
        Ok(name(":user/").is_some_and(|n| a.users.contains_key(&n))
            || name(":role/").is_some_and(|n| a.roles.contains_key(&n))
            || name(":group/").is_some_and(|n| a.groups.contains_key(&n)))
    })?;
    if !exists {
        return Err(IamError::NoSuchEntity(format!("Could not find user, group or role with specified ARN: {source}")));
    }
    let compiled = iam.compile_uncached(&source, &ctx.account_id, String::new(), None);
    let mut identity = compiled.identity;
    identity.extend(parse_list(&inp, "PolicyInputList")?);
    let mut boundary = parse_list(&inp, "PermissionsBoundaryPolicyInputList")?;
    if boundary.is_empty() {
        if let Some(b) = compiled.boundary {
            boundary.push(Sourced { id: "PermissionsBoundary".into(), kind: "IAM Policy", policy: b });
        }
    }
    let mut principal = compiled.principal;
    if let Some(caller) = inp.opt("CallerArn") {
        principal.arn = caller.to_string();
    }
    run(&Simulation { principal, identity, boundary, resource: resource_policy(&inp)? }, &inp)
}

/// The condition keys a policy document uses (`Condition: {operator: {key: …}}`).
fn condition_keys(doc: &str, into: &mut std::collections::BTreeSet<String>) {
    let Ok(v) = serde_json::from_str::<Value>(doc) else { return };
    let statements = match v.get("Statement") {
        Some(Value::Array(a)) => a.clone(),
        Some(s @ Value::Object(_)) => vec![s.clone()],
        _ => return,
    };
    for s in &statements {
        for block in s.get("Condition").and_then(Value::as_object).into_iter().flat_map(|c| c.values()) {
            for key in block.as_object().into_iter().flat_map(|k| k.keys()) {
                into.insert(key.clone());
            }
        }
    }
}

fn context_keys_result(keys: std::collections::BTreeSet<String>) -> Value {
    json!({"ContextKeyNames": keys.into_iter().collect::<Vec<_>>()})
}

pub async fn get_context_keys_for_custom_policy(_iam: &Iam, _ctx: &RequestContext, inp: Input) -> IamResult<Value> {
    let docs = inp.strings("PolicyInputList");
    if docs.is_empty() {
        return Err(IamError::missing("PolicyInputList"));
    }
    let mut keys = std::collections::BTreeSet::new();
    for d in &docs {
        Policy::parse(d, PolicyKind::Identity).map_err(|e| IamError::MalformedPolicyDocument(e.message))?;
        condition_keys(d, &mut keys);
    }
    Ok(context_keys_result(keys))
}

/// The keys of every policy that applies to a user (its groups' too), group or role, plus
/// any given.
pub async fn get_context_keys_for_principal_policy(iam: &Iam, ctx: &RequestContext, inp: Input) -> IamResult<Value> {
    let source = inp.req("PolicySourceArn")?.to_string();
    let mut keys = std::collections::BTreeSet::new();
    let docs = iam.dir.read(&ctx.account_id, |a| {
        let name = |marker: &str| source.split_once(marker).map(|(_, p)| crate::directory::key(p.rsplit('/').next().unwrap_or(p)));
        let mut holders: Vec<&crate::entities::Policies> = Vec::new();
        if let Some(u) = name(":user/").and_then(|n| a.users.get(&n)) {
            holders.push(&u.policies);
            holders.extend(u.groups.iter().filter_map(|g| a.groups.get(&crate::directory::key(g))).map(|g| &g.policies));
        } else if let Some(r) = name(":role/").and_then(|n| a.roles.get(&n)) {
            holders.push(&r.policies);
        } else if let Some(g) = name(":group/").and_then(|n| a.groups.get(&n)) {
            holders.push(&g.policies);
        } else {
            return Err(IamError::NoSuchEntity(format!("Could not find user, group or role with specified ARN: {source}")));
        }
        let mut docs: Vec<String> = Vec::new();
        for p in holders {
            docs.extend(p.inline.values().cloned());
            docs.extend(p.attached.iter().filter_map(|arn| crate::ops_policies::lookup(a, arn)).map(|m| m.default_document().to_string()));
        }
        Ok(docs)
    })?;
    for d in docs.iter().chain(inp.strings("PolicyInputList").iter()) {
        condition_keys(d, &mut keys);
    }
    Ok(context_keys_result(keys))
}
