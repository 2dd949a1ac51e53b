//! Account-level resource policies (PutResourcePolicy, DescribeResourcePolicies,
//! DeleteResourcePolicy) and destinations (PutDestination, PutDestinationPolicy,
//! DescribeDestinations, DeleteDestination), stored durably as JSON documents of the
//! account and region (`logs_docs`).
//!
//! Resource policies: at most 10 per account and region, each document at most 5,120
//! characters of JSON (<https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/API_PutResourcePolicy.html>);
//! policies scoped to one log group (`resourceArn`) are not supported by nimbus. The
//! policies are stored and described; services writing logs (Route 53, EventBridge…)
//! do not consult them in nimbus.
//!
//! Destinations (<https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/API_PutDestination.html>)
//! are stored with their target, role, access policy and tags; a subscription filter
//! delivering through a destination is not supported (nimbus has no Kinesis target).

use crate::api::{DeleteResourcePolicy, DescribeDestinations, DescribeResourcePolicies, DestinationRef, PutDestination, PutDestinationPolicy, PutResourcePolicy};
use crate::errors::{in_range, required, LogsError, LogsResult};
use crate::service::LogsService;
use crate::tokens;
use nimbus_core::RequestContext;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use std::collections::BTreeMap;

pub const POLICY: &str = "policy";
pub const DESTINATION: &str = "destination";
pub const MAX_POLICIES: usize = 10;
pub const MAX_POLICY_CHARS: usize = 5120;

#[derive(Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct PolicyDef {
    policy_name: String,
    policy_document: String,
    last_updated_time: u64,
}

#[derive(Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct DestinationDef {
    destination_name: String,
    target_arn: String,
    role_arn: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    access_policy: Option<String>,
    arn: String,
    creation_time: u64,
    #[serde(default)]
    tags: BTreeMap<String, String>,
}

fn policy_json(p: &PolicyDef) -> Value {
    json!({ "policyName": p.policy_name, "policyDocument": p.policy_document, "lastUpdatedTime": p.last_updated_time, "policyScope": "ACCOUNT" })
}

fn destination_json(d: &DestinationDef) -> Value {
    let mut v = json!({ "destinationName": d.destination_name, "targetArn": d.target_arn, "roleArn": d.role_arn, "arn": d.arn, "creationTime": d.creation_time });
    if let Some(p) = &d.access_policy {
        v["accessPolicy"] = json!(p);
    }
    v
}

fn check_json(member: &str, doc: &str) -> LogsResult<()> {
    match serde_json::from_str::<Value>(doc) {
        Ok(Value::Object(_)) => Ok(()),
        _ => Err(LogsError::InvalidParameter(format!("{member} is not a valid JSON policy document."))),
    }
}

fn check_destination_name(name: &str) -> LogsResult<()> {
    if name.is_empty() || name.len() > 512 {
        return Err(LogsError::validation(name, "destinationName", "Member must have length between 1 and 512"));
    }
    if name.contains(':') || name.contains('*') {
        return Err(LogsError::validation(name, "destinationName", "Member must satisfy regular expression pattern: [^:*]*"));
    }
    Ok(())
}

/// Items of the caller's account and region of one kind, parsed.
fn docs_of<T: for<'de> Deserialize<'de>>(docs: &BTreeMap<crate::engine::DocKey, String>, ctx: &RequestContext, kind: &str) -> Vec<(String, T)> {
    docs.iter()
        .filter(|((a, r, k, _), _)| *a == ctx.account_id && *r == ctx.region && k == kind)
        .filter_map(|((_, _, _, n), body)| serde_json::from_str(body).ok().map(|d| (n.clone(), d)))
        .collect()
}

/// One page of `items` (sorted by name) after the token's name.
fn page(items: Vec<(String, Value)>, next_token: Option<&str>, limit: Option<i64>, key: &str) -> LogsResult<Value> {
    let limit = in_range("limit", limit, 1, 50, 50)? as usize;
    let after = next_token.filter(|t| !t.is_empty()).map(tokens::parse_item_token).transpose()?.map(|(_, n)| n);
    let rest: Vec<(String, Value)> = items.into_iter().filter(|(n, _)| after.as_ref().is_none_or(|a| n > a)).collect();
    let more = rest.len() > limit;
    let shown: Vec<(String, Value)> = rest.into_iter().take(limit).collect();
    let mut out = json!({ key: shown.iter().map(|(_, v)| v.clone()).collect::<Vec<_>>() });
    if more {
        if let Some((last, _)) = shown.last() {
            out["nextToken"] = json!(tokens::item_token(0, last));
        }
    }
    Ok(out)
}

impl LogsService {
    fn doc_key(ctx: &RequestContext, kind: &str, name: &str) -> crate::engine::DocKey {
        (ctx.account_id.clone(), ctx.region.clone(), kind.to_string(), name.to_string())
    }

    pub(crate) async fn put_resource_policy(&self, ctx: &RequestContext, req: PutResourcePolicy) -> LogsResult<Value> {
        if req.resource_arn.is_some() || req.expected_revision_id.is_some() {
            return Err(LogsError::NotSupported("Resource policies scoped to one log group (resourceArn, expectedRevisionId)".into()));
        }
        let name = required("policyName", req.policy_name)?;
        let doc = required("policyDocument", req.policy_document)?;
        if name.is_empty() {
            return Err(LogsError::validation(&name, "policyName", "Member must have length greater than or equal to 1"));
        }
        if doc.chars().count() > MAX_POLICY_CHARS {
            return Err(LogsError::validation("…", "policyDocument", &format!("Member must have length less than or equal to {MAX_POLICY_CHARS}")));
        }
        check_json("policyDocument", &doc)?;
        let def = PolicyDef { policy_name: name.clone(), policy_document: doc, last_updated_time: self.engine.clock.now_ms() };
        let body = serde_json::to_string(&def).map_err(|e| LogsError::Internal(e.to_string()))?;
        let (pending, ()) = self.engine.change_doc(Self::doc_key(ctx, POLICY, &name), |docs, current| {
            if current.is_none() && docs_of::<PolicyDef>(docs, ctx, POLICY).len() >= MAX_POLICIES {
                return Err(LogsError::LimitExceeded);
            }
            Ok((Some(body), ()))
        })?;
        Self::committed(pending).await?;
        Ok(json!({ "resourcePolicy": policy_json(&def) }))
    }

    pub(crate) fn describe_resource_policies(&self, ctx: &RequestContext, req: DescribeResourcePolicies) -> LogsResult<Value> {
        if req.resource_arn.is_some() || req.policy_scope.as_deref() == Some("RESOURCE") {
            return Err(LogsError::NotSupported("Resource policies scoped to one log group (resourceArn, policyScope RESOURCE)".into()));
        }
        let items = self.engine.read(|st| docs_of::<PolicyDef>(&st.docs, ctx, POLICY)).into_iter().map(|(n, p)| (n, policy_json(&p))).collect();
        page(items, req.next_token.as_deref(), req.limit, "resourcePolicies")
    }

    pub(crate) async fn delete_resource_policy(&self, ctx: &RequestContext, req: DeleteResourcePolicy) -> LogsResult<Value> {
        if req.resource_arn.is_some() || req.expected_revision_id.is_some() {
            return Err(LogsError::NotSupported("Resource policies scoped to one log group (resourceArn, expectedRevisionId)".into()));
        }
        let name = required("policyName", req.policy_name)?;
        let (pending, ()) = self.engine.change_doc(Self::doc_key(ctx, POLICY, &name), |_, current| match current {
            Some(_) => Ok((None, ())),
            None => Err(LogsError::NotFound(format!("Policy with name [{name}] does not exist"))),
        })?;
        Self::committed(pending).await?;
        Ok(json!({}))
    }

    pub(crate) async fn put_destination(&self, ctx: &RequestContext, req: PutDestination) -> LogsResult<Value> {
        let name = required("destinationName", req.destination_name)?;
        let target = required("targetArn", req.target_arn)?;
        let role = required("roleArn", req.role_arn)?;
        check_destination_name(&name)?;
        for (member, arn) in [("targetArn", &target), ("roleArn", &role)] {
            if !arn.starts_with("arn:") || arn.split(':').count() < 6 {
                return Err(LogsError::InvalidParameter(format!("Invalid {member}: {arn}")));
            }
        }
        let tags = req.tags.unwrap_or_default();
        crate::ops_tags::check_tags("tags", &tags)?;
        let now = self.engine.clock.now_ms();
        let arn = format!("arn:aws:logs:{}:{}:destination:{name}", ctx.region, ctx.account_id);
        let (pending, def) = self.engine.change_doc(Self::doc_key(ctx, DESTINATION, &name), |_, current| {
            // An update keeps the creation time, access policy and tags.
            let old: Option<DestinationDef> = current.and_then(|b| serde_json::from_str(b).ok());
            let def = DestinationDef {
                destination_name: name.clone(),
                target_arn: target,
                role_arn: role,
                access_policy: old.as_ref().and_then(|o| o.access_policy.clone()),
                arn,
                creation_time: old.as_ref().map_or(now, |o| o.creation_time),
                tags: if tags.is_empty() { old.map(|o| o.tags).unwrap_or_default() } else { tags },
            };
            let body = serde_json::to_string(&def).map_err(|e| LogsError::Internal(e.to_string()))?;
            Ok((Some(body), def))
        })?;
        Self::committed(pending).await?;
        Ok(json!({ "destination": destination_json(&def) }))
    }

    pub(crate) async fn put_destination_policy(&self, ctx: &RequestContext, req: PutDestinationPolicy) -> LogsResult<Value> {
        let name = required("destinationName", req.destination_name)?;
        let policy = required("accessPolicy", req.access_policy)?;
        check_destination_name(&name)?;
        if policy.is_empty() {
            return Err(LogsError::validation("", "accessPolicy", "Member must have length greater than or equal to 1"));
        }
        check_json("accessPolicy", &policy)?;
        let (pending, ()) = self.engine.change_doc(Self::doc_key(ctx, DESTINATION, &name), |_, current| {
            let mut def: DestinationDef = current.and_then(|b| serde_json::from_str(b).ok()).ok_or_else(|| LogsError::NotFound("The specified destination does not exist.".into()))?;
            def.access_policy = Some(policy);
            let body = serde_json::to_string(&def).map_err(|e| LogsError::Internal(e.to_string()))?;
            Ok((Some(body), ()))
        })?;
        Self::committed(pending).await?;
        Ok(json!({}))
    }

    pub(crate) fn describe_destinations(&self, ctx: &RequestContext, req: DescribeDestinations) -> LogsResult<Value> {
        let prefix = req.destination_name_prefix.unwrap_or_default();
        let items = self
            .engine
            .read(|st| docs_of::<DestinationDef>(&st.docs, ctx, DESTINATION))
            .into_iter()
            .filter(|(n, _)| n.starts_with(&prefix))
            .map(|(n, d)| (n, destination_json(&d)))
            .collect();
        page(items, req.next_token.as_deref(), req.limit, "destinations")
    }

    pub(crate) async fn delete_destination(&self, ctx: &RequestContext, req: DestinationRef) -> LogsResult<Value> {
        let name = required("destinationName", req.destination_name)?;
        let (pending, ()) = self.engine.change_doc(Self::doc_key(ctx, DESTINATION, &name), |_, current| match current {
            Some(_) => Ok((None, ())),
            None => Err(LogsError::NotFound("The specified destination does not exist.".into())),
        })?;
        Self::committed(pending).await?;
        Ok(json!({}))
    }
}
