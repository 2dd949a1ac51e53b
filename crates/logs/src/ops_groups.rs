//! Log group operations: create, delete, describe (prefix/pattern, paging) and the
//! retention policy.

use crate::api::*;
use crate::engine::{Group, GroupKey};
use crate::errors::{in_range, required, LogsError, LogsResult};
use crate::names::{check_group_name, group_arn};
use crate::service::LogsService;
use crate::tokens;
use nimbus_core::RequestContext;
use serde_json::{json, Value};

/// The retention periods AWS accepts, in days.
pub const RETENTION_DAYS: [u32; 22] = [1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653];

/// A group's description; `hidden` bytes are past retention, not counted.
fn group_json(key: &GroupKey, g: &Group, hidden: u64) -> Value {
    let arn = group_arn(&key.region, &key.account, &key.name);
    let mut v = json!({
        "logGroupName": key.name,
        "creationTime": g.created_ms,
        "metricFilterCount": g.metric_filters.len(),
        "arn": format!("{arn}:*"),
        "storedBytes": g.stored_bytes().saturating_sub(hidden),
        "logGroupClass": "STANDARD",
        "logGroupArn": arn,
    });
    if let (Some(days), Value::Object(m)) = (g.retention_days, &mut v) {
        m.insert("retentionInDays".into(), json!(days));
    }
    v
}

impl LogsService {
    pub(crate) async fn create_log_group(&self, ctx: &RequestContext, req: CreateLogGroup) -> LogsResult<Value> {
        let name = required("logGroupName", req.log_group_name)?;
        check_group_name("logGroupName", &name)?;
        if req.kms_key_id.is_some() {
            return Err(LogsError::NotSupported("Encrypting log groups with KMS (kmsKeyId)".into()));
        }
        if let Some(class) = req.log_group_class.filter(|c| c != "STANDARD") {
            return Err(LogsError::NotSupported(format!("The log group class {class}")));
        }
        let tags = req.tags.unwrap_or_default();
        crate::ops_tags::check_tags("tags", &tags)?;
        let pending = self.engine.create_group(&Self::key(ctx, name), tags)?;
        Self::committed(pending).await?;
        Ok(Value::Null)
    }

    pub(crate) async fn delete_log_group(&self, ctx: &RequestContext, req: GroupOnly) -> LogsResult<Value> {
        let name = required("logGroupName", req.log_group_name)?;
        let pending = self.engine.delete_group(&Self::key(ctx, name))?;
        Self::committed(pending).await?;
        Ok(Value::Null)
    }

    pub(crate) async fn put_retention_policy(&self, ctx: &RequestContext, req: PutRetentionPolicy) -> LogsResult<Value> {
        let name = required("logGroupName", req.log_group_name)?;
        let days = required("retentionInDays", req.retention_in_days)?;
        let days = RETENTION_DAYS.iter().copied().find(|d| *d as i64 == days).ok_or_else(|| {
            let set: Vec<String> = RETENTION_DAYS.iter().map(|d| d.to_string()).collect();
            LogsError::validation(days, "retentionInDays", &format!("Member must satisfy enum value set: [{}]", set.join(", ")))
        })?;
        let pending = self.engine.set_retention(&Self::key(ctx, name), Some(days))?;
        Self::committed(pending).await?;
        Ok(Value::Null)
    }

    pub(crate) async fn delete_retention_policy(&self, ctx: &RequestContext, req: GroupOnly) -> LogsResult<Value> {
        let name = required("logGroupName", req.log_group_name)?;
        let pending = self.engine.set_retention(&Self::key(ctx, name), None)?;
        Self::committed(pending).await?;
        Ok(Value::Null)
    }

    pub(crate) async fn describe_log_groups(&self, ctx: &RequestContext, req: DescribeLogGroups) -> LogsResult<Value> {
        let limit = in_range("limit", req.limit, 1, 50, 50)? as usize;
        if req.log_group_name_prefix.is_some() && req.log_group_name_pattern.is_some() {
            return Err(LogsError::InvalidParameter("LogGroup name prefix and LogGroup name pattern are mutually exclusive parameters.".into()));
        }
        let after = req.next_token.as_deref().filter(|t| !t.is_empty()).map(tokens::parse_item_token).transpose()?.map(|(_, name)| name);
        let prefix = req.log_group_name_prefix.unwrap_or_default();
        let pattern = req.log_group_name_pattern.map(|p| p.to_lowercase());
        let identifiers: Option<Vec<String>> =
            req.log_group_identifiers.map(|ids| ids.into_iter().filter_map(|id| crate::names::group_from(None, Some(id)).ok()).collect());
        // Retention due in the store first: storedBytes follows it (and leaves out events
        // past retention that are not deleted yet).
        let mut hidden = std::collections::HashMap::new();
        for key in self.engine.group_keys().iter().filter(|k| k.account == ctx.account_id && k.region == ctx.region && k.name.starts_with(&prefix)) {
            self.engine.expire(key).await?;
            hidden.insert(key.name.clone(), self.engine.hidden_bytes(key).await?.values().sum::<u64>());
        }
        self.engine.read(|st| {
            let mut out = Vec::new();
            let mut next = None;
            let mine = st.groups.iter().filter(|(k, _)| k.account == ctx.account_id && k.region == ctx.region);
            for (key, g) in mine {
                if !key.name.starts_with(&prefix)
                    || pattern.as_ref().is_some_and(|p| !key.name.to_lowercase().contains(p.as_str()))
                    || identifiers.as_ref().is_some_and(|ids| !ids.contains(&key.name))
                    || after.as_ref().is_some_and(|a| key.name <= *a)
                {
                    continue;
                }
                if out.len() == limit {
                    next = out.last().and_then(|v: &Value| v["logGroupName"].as_str()).map(|n| tokens::item_token(0, n));
                    break;
                }
                out.push(group_json(key, g, hidden.get(&key.name).copied().unwrap_or(0)));
            }
            let mut resp = json!({ "logGroups": out });
            if let (Some(t), Value::Object(m)) = (next, &mut resp) {
                m.insert("nextToken".into(), json!(t));
            }
            Ok(resp)
        })
    }
}
