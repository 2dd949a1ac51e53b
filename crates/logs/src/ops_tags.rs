//! Log group tags: CreateLogGroup's `tags`, TagResource / UntagResource /
//! ListTagsForResource on a log group ARN, and the older TagLogGroup / UntagLogGroup /
//! ListTagsLogGroup by name (CloudWatch Logs API reference). Tags are also what the IAM
//! authorizer reads as `aws:ResourceTag/<key>` (`ResourcePolicies`, `--auth iam`).
//! Only log groups carry tags in nimbus: destinations and delivery resources are not
//! served.

use crate::api::{ListTagsForResource, TagLogGroup, TagResource, UntagLogGroup, UntagResource};
use crate::errors::{required, LogsError, LogsResult};
use crate::service::LogsService;
use nimbus_core::RequestContext;
use serde_json::{json, Value};
use std::collections::BTreeMap;

/// A resource can have up to 50 tags (the `Tags` shape's maximum).
const MAX_TAGS: usize = 50;

fn allowed_char(c: char) -> bool {
    c.is_alphanumeric() || c.is_whitespace() || "_.:/=+-@".contains(c)
}

/// Checks tags as the model constrains them (keys 1–128, values 0–256 characters of
/// letters, digits, spaces and `_.:/=+-@`; keys not starting with `aws:`).
pub fn check_tags(member: &str, tags: &BTreeMap<String, String>) -> LogsResult<()> {
    if tags.len() > MAX_TAGS {
        return Err(LogsError::validation("{…}", member, "Member must have length less than or equal to 50"));
    }
    for (k, v) in tags {
        if k.is_empty() || k.chars().count() > 128 || !k.chars().all(allowed_char) {
            return Err(LogsError::validation(k, &format!("{member}.key"), "Member must satisfy regular expression pattern: ^([\\p{L}\\p{Z}\\p{N}_.:/=+\\-@]+)$"));
        }
        if v.chars().count() > 256 || !v.chars().all(allowed_char) {
            return Err(LogsError::validation(v, &format!("{member}.value"), "Member must satisfy regular expression pattern: ^([\\p{L}\\p{Z}\\p{N}_.:/=+\\-@]*)$"));
        }
        if k.to_ascii_lowercase().starts_with("aws:") {
            return Err(LogsError::InvalidParameter("Tag keys starting with 'aws:' are reserved for AWS use.".into()));
        }
    }
    Ok(())
}

/// The log group a resource ARN names: `arn:aws:logs:<region>:<account>:log-group:<name>`
/// (a trailing `:*` allowed). Other CloudWatch Logs resources are not served by nimbus.
fn group_of_arn(ctx: &RequestContext, arn: &str) -> LogsResult<crate::engine::GroupKey> {
    let parts: Vec<&str> = arn.splitn(6, ':').collect();
    let ["arn", _, "logs", region, account, resource] = parts.as_slice() else {
        return Err(LogsError::InvalidParameter(format!("Invalid resource ARN: {arn}")));
    };
    let Some(name) = resource.strip_prefix("log-group:") else {
        return Err(LogsError::NotSupported(format!("Tagging the resource {arn} (only log groups)")));
    };
    let name = name.strip_suffix(":*").unwrap_or(name);
    if *account != ctx.account_id {
        return Err(LogsError::GroupNotFound);
    }
    Ok(crate::engine::GroupKey { account: account.to_string(), region: region.to_string(), name: name.to_string() })
}

impl LogsService {
    async fn add_tags(&self, key: crate::engine::GroupKey, tags: BTreeMap<String, String>) -> LogsResult<Value> {
        check_tags("tags", &tags)?;
        let pending = self.engine.change_tags(&key, |current| {
            current.extend(tags);
            if current.len() > MAX_TAGS {
                return Err(LogsError::TooManyTags(format!("A resource can have no more than {MAX_TAGS} tags.")));
            }
            Ok(())
        })?;
        Self::committed(pending).await?;
        Ok(Value::Null)
    }

    async fn remove_tags(&self, key: crate::engine::GroupKey, keys: Vec<String>) -> LogsResult<Value> {
        let pending = self.engine.change_tags(&key, |current| {
            keys.iter().for_each(|k| drop(current.remove(k)));
            Ok(())
        })?;
        Self::committed(pending).await?;
        Ok(Value::Null)
    }

    fn tags(&self, key: &crate::engine::GroupKey) -> LogsResult<Value> {
        let tags = self.engine.read(|st| st.group(key).map(|g| g.tags.clone()))?;
        Ok(json!({ "tags": tags }))
    }

    pub(crate) async fn tag_resource(&self, ctx: &RequestContext, req: TagResource) -> LogsResult<Value> {
        let key = group_of_arn(ctx, &required("resourceArn", req.resource_arn)?)?;
        self.add_tags(key, required("tags", req.tags)?).await
    }

    pub(crate) async fn untag_resource(&self, ctx: &RequestContext, req: UntagResource) -> LogsResult<Value> {
        let key = group_of_arn(ctx, &required("resourceArn", req.resource_arn)?)?;
        self.remove_tags(key, required("tagKeys", req.tag_keys)?).await
    }

    pub(crate) fn list_tags_for_resource(&self, ctx: &RequestContext, req: ListTagsForResource) -> LogsResult<Value> {
        let key = group_of_arn(ctx, &required("resourceArn", req.resource_arn)?)?;
        self.tags(&key)
    }

    pub(crate) async fn tag_log_group(&self, ctx: &RequestContext, req: TagLogGroup) -> LogsResult<Value> {
        let key = Self::key(ctx, required("logGroupName", req.log_group_name)?);
        self.add_tags(key, required("tags", req.tags)?).await
    }

    pub(crate) async fn untag_log_group(&self, ctx: &RequestContext, req: UntagLogGroup) -> LogsResult<Value> {
        let key = Self::key(ctx, required("logGroupName", req.log_group_name)?);
        self.remove_tags(key, required("tags", req.tags)?).await
    }

    pub(crate) fn list_tags_log_group(&self, ctx: &RequestContext, req: crate::api::GroupOnly) -> LogsResult<Value> {
        let key = Self::key(ctx, required("logGroupName", req.log_group_name)?);
        self.tags(&key)
    }
}

/// Log group tags for the IAM authorizer (`aws:ResourceTag/<key>`): the checks name a log
/// group (`log-group:G`) or something inside it (`log-group:G:log-stream:S`,
/// `log-group:G:*`). CloudWatch Logs has no resource policies on log groups.
impl nimbus_core::internal::ResourcePolicies for LogsService {
    fn policy_of(&self, _arn: &str) -> Option<String> {
        None
    }

    fn tags_of(&self, arn: &str) -> Vec<(String, String)> {
        let parts: Vec<&str> = arn.splitn(6, ':').collect();
        let ["arn", _, "logs", region, account, resource] = parts.as_slice() else { return Vec::new() };
        let Some(rest) = resource.strip_prefix("log-group:") else { return Vec::new() };
        let name = rest.split_once(":log-stream:").map_or(rest, |(g, _)| g);
        let name = name.strip_suffix(":*").unwrap_or(name);
        let key = crate::engine::GroupKey { account: account.to_string(), region: region.to_string(), name: name.to_string() };
        self.engine.read(|st| st.group(&key).map(|g| g.tags.iter().map(|(k, v)| (k.clone(), v.clone())).collect()).unwrap_or_default())
    }
}
