//! Queue management: create, delete, find, list, attributes, tags, permissions, purge,
//! and the dead-letter source listing.

use crate::api::*;
use crate::arn::{valid_name, QueueKey};
use crate::attributes;
use crate::engine::Queue;
use crate::errors::{SqsError, SqsResult};
use crate::service::SqsService;
use base64::Engine as _;
use nimbus_core::RequestContext;
use serde_json::{json, Map, Value};
use std::collections::BTreeMap;
use std::sync::Arc;

const B64: base64::engine::GeneralPurpose = base64::engine::general_purpose::URL_SAFE_NO_PAD;

fn page_bounds(max_results: Option<i64>, next_token: Option<&str>) -> SqsResult<(Option<usize>, Option<String>)> {
    let max = match max_results {
        None => None,
        Some(n) if (1..=1000).contains(&n) => Some(n as usize),
        Some(n) => return Err(SqsError::invalid_value("MaxResults", n, "MaxResults must be an integer between 1 and 1000.")),
    };
    let after = match next_token.filter(|t| !t.is_empty()) {
        None => None,
        Some(t) => Some(
            B64.decode(t)
                .ok()
                .and_then(|b| String::from_utf8(b).ok())
                .ok_or_else(|| SqsError::InvalidParameterValue("Invalid NextToken value.".into()))?,
        ),
    };
    Ok((max, after))
}

/// Pages a sorted list of queues: at most 1000 without MaxResults, and a NextToken only
/// when MaxResults was given and more remain.
fn paginate(queues: Vec<Arc<Queue>>, max: Option<usize>, after: Option<String>) -> (Vec<Arc<Queue>>, Option<String>) {
    let rest: Vec<Arc<Queue>> = queues.into_iter().filter(|q| after.as_ref().map(|a| q.key.name > *a).unwrap_or(true)).collect();
    let limit = max.unwrap_or(1000);
    let more = rest.len() > limit;
    let page: Vec<Arc<Queue>> = rest.into_iter().take(limit).collect();
    let token = if more && max.is_some() { page.last().map(|q| B64.encode(&q.key.name)) } else { None };
    (page, token)
}

fn check_tags(tags: &BTreeMap<String, String>) -> SqsResult<()> {
    for (k, v) in tags {
        if k.is_empty() || k.len() > 128 || v.len() > 256 {
            return Err(SqsError::InvalidParameterValue(format!("Tag key or value is invalid: {k}")));
        }
    }
    Ok(())
}

/// IAM policy style: a single value as a string, several as a list (how AWS writes the
/// statements AddPermission adds).
fn one_or_list(mut values: Vec<String>) -> Value {
    if values.len() == 1 {
        return Value::String(values.remove(0));
    }
    Value::Array(values.into_iter().map(Value::String).collect())
}

impl SqsService {
    pub(crate) async fn create_queue(&self, ctx: &RequestContext, input: CreateQueue) -> SqsResult<Value> {
        let name = input.queue_name.filter(|n| !n.is_empty()).ok_or_else(|| SqsError::MissingParameter("QueueName".into()))?;
        let mut given = input.attributes.unwrap_or_default();
        let fifo = given.get("FifoQueue").map(|v| v.eq_ignore_ascii_case("true")).unwrap_or(false);
        if !fifo && given.contains_key("FifoQueue") {
            // `FifoQueue=false` is not a way to ask for a standard queue on AWS.
            return Err(SqsError::InvalidAttributeName("Unknown Attribute FifoQueue.".into()));
        }
        if fifo {
            if !name.ends_with(".fifo") || !valid_name(&name) {
                return Err(SqsError::InvalidParameterValue(
                    "The name of a FIFO queue can only include alphanumeric characters, hyphens, or underscores, must end with .fifo suffix and be 1 to 80 in length.".into(),
                ));
            }
        } else if name.ends_with(".fifo") || !valid_name(&name) {
            return Err(SqsError::InvalidParameterValue("Can only include alphanumeric characters, hyphens, or underscores. 1 to 80 in length".into()));
        }
        attributes::validate(&given, fifo, true)?;
        attributes::normalize(&mut given);
        let tags = input.tags.unwrap_or_default();
        check_tags(&tags)?;
        let key = QueueKey { account: ctx.account_id.clone(), region: ctx.region.clone(), name };
        if let Some(existing) = self.engine.get(&key) {
            let st = existing.state.lock();
            for (k, v) in &given {
                if st.record.attributes.get(k) != Some(v) && !(k == "FifoQueue" && st.record.fifo == fifo) {
                    return Err(SqsError::QueueNameExists(k.clone()));
                }
            }
            return Ok(json!({ "QueueUrl": key.url(&ctx.host) }));
        }
        let mut attrs = attributes::defaults(fifo);
        for (k, v) in &given {
            attrs.insert(k.clone(), v.clone());
        }
        attributes::settle_encryption(&mut attrs, &given);
        attributes::validate_combination(&attrs)?;
        self.check_redrive_target(ctx, &key, fifo, &attrs)?;
        let (queue, created) = self.engine.create(key, fifo, attrs.clone(), tags).await?;
        if !created {
            let st = queue.state.lock();
            if let Some((k, _)) = attrs.iter().find(|(k, v)| st.record.attributes.get(*k) != Some(v)) {
                return Err(SqsError::QueueNameExists(k.clone()));
            }
        }
        Ok(json!({ "QueueUrl": queue.key.url(&ctx.host) }))
    }

    /// A RedrivePolicy must name an existing queue of the same type that allows this
    /// queue as a source.
    fn check_redrive_target(&self, _ctx: &RequestContext, key: &QueueKey, fifo: bool, attrs: &BTreeMap<String, String>) -> SqsResult<()> {
        let Some(raw) = attrs.get("RedrivePolicy").filter(|v| !v.is_empty()) else { return Ok(()) };
        let policy = attributes::parse_redrive_policy(raw)?;
        let dlq = self
            .engine
            .get_by_arn(&policy.dead_letter_target_arn)
            .ok_or_else(|| SqsError::invalid_value("RedrivePolicy", raw, "Dead letter target does not exist."))?;
        let st = dlq.state.lock();
        if st.fifo() != fifo {
            return Err(SqsError::invalid_value(
                "RedrivePolicy",
                raw,
                "Dead-letter target must be of the same type (FIFO or standard) as the source queue.",
            ));
        }
        if let Some(allow) = st.record.attributes.get("RedriveAllowPolicy").filter(|v| !v.is_empty()) {
            let permitted = match attributes::parse_redrive_allow_policy(allow)? {
                attributes::RedriveAllow::AllowAll => true,
                attributes::RedriveAllow::DenyAll => false,
                attributes::RedriveAllow::ByQueue(arns) => arns.contains(&key.arn()),
            };
            if !permitted {
                return Err(SqsError::invalid_value("RedrivePolicy", raw, "Dead-letter target's RedriveAllowPolicy does not allow this queue."));
            }
        }
        Ok(())
    }

    pub(crate) async fn delete_queue(&self, ctx: &RequestContext, input: QueueOnly) -> SqsResult<Value> {
        let queue = self.queue(ctx, input.queue_url.as_deref())?;
        self.engine.delete(&queue).await?;
        Ok(json!({}))
    }

    pub(crate) fn get_queue_url(&self, ctx: &RequestContext, input: GetQueueUrl) -> SqsResult<Value> {
        let name = input.queue_name.filter(|n| !n.is_empty()).ok_or_else(|| SqsError::MissingParameter("QueueName".into()))?;
        let account = input.queue_owner_aws_account_id.filter(|a| !a.is_empty()).unwrap_or_else(|| ctx.account_id.clone());
        let key = QueueKey { account, region: ctx.region.clone(), name };
        let queue = self.engine.get(&key).ok_or(SqsError::QueueDoesNotExist)?;
        Ok(json!({ "QueueUrl": queue.key.url(&ctx.host) }))
    }

    pub(crate) fn list_queues(&self, ctx: &RequestContext, input: ListQueues) -> SqsResult<Value> {
        let (max, after) = page_bounds(input.max_results, input.next_token.as_deref())?;
        let prefix = input.queue_name_prefix.unwrap_or_default();
        let queues: Vec<Arc<Queue>> = self.engine.list(&ctx.account_id, &ctx.region).into_iter().filter(|q| q.key.name.starts_with(&prefix)).collect();
        let (page, token) = paginate(queues, max, after);
        let mut out = Map::new();
        if !page.is_empty() {
            out.insert("QueueUrls".into(), page.iter().map(|q| Value::String(q.key.url(&ctx.host))).collect());
        }
        if let Some(t) = token {
            out.insert("NextToken".into(), Value::String(t));
        }
        Ok(Value::Object(out))
    }

    pub(crate) fn get_queue_attributes(&self, ctx: &RequestContext, input: GetQueueAttributes) -> SqsResult<Value> {
        let queue = self.queue(ctx, input.queue_url.as_deref())?;
        let names = input.attribute_names.unwrap_or_default();
        for n in &names {
            if !attributes::is_known(n) {
                return Err(SqsError::InvalidAttributeName(format!("Unknown Attribute {n}.")));
            }
        }
        let all = names.iter().any(|n| n == "All");
        let now = self.engine.now();
        let (record, counts) = {
            let mut st = queue.state.lock();
            let mut muts = Vec::new();
            st.expire(now, &mut muts);
            // Expiry found on read is made durable without waiting on it.
            drop(self.engine.apply(muts));
            (st.record.clone(), st.counts(now))
        };
        let mut values: BTreeMap<String, String> = record.attributes.iter().filter(|(_, v)| !v.is_empty()).map(|(k, v)| (k.clone(), v.clone())).collect();
        values.insert("ApproximateNumberOfMessages".into(), counts.visible.to_string());
        values.insert("ApproximateNumberOfMessagesNotVisible".into(), counts.in_flight.to_string());
        values.insert("ApproximateNumberOfMessagesDelayed".into(), counts.delayed.to_string());
        values.insert("CreatedTimestamp".into(), record.created_s.to_string());
        values.insert("LastModifiedTimestamp".into(), record.modified_s.to_string());
        values.insert("QueueArn".into(), queue.arn());
        let mut out = Map::new();
        for (k, v) in values {
            if all || names.contains(&k) {
                out.insert(k, Value::String(v));
            }
        }
        if out.is_empty() {
            return Ok(json!({}));
        }
        Ok(json!({ "Attributes": out }))
    }

    pub(crate) async fn set_queue_attributes(&self, ctx: &RequestContext, input: SetQueueAttributes) -> SqsResult<Value> {
        let queue = self.queue(ctx, input.queue_url.as_deref())?;
        let mut given = input.attributes.ok_or_else(|| SqsError::MissingParameter("Attribute.Name".into()))?;
        let fifo = queue.state.lock().fifo();
        attributes::validate(&given, fifo, false)?;
        attributes::normalize(&mut given);
        let mut merged = queue.state.lock().record.attributes.clone();
        for (k, v) in &given {
            merged.insert(k.clone(), v.clone());
        }
        attributes::settle_encryption(&mut merged, &given);
        attributes::validate_combination(&merged)?;
        self.check_redrive_target(ctx, &queue.key, fifo, &merged)?;
        self.engine
            .update_record(&queue, |r| {
                r.attributes = merged;
                Ok(())
            })
            .await?;
        Ok(json!({}))
    }

    pub(crate) async fn tag_queue(&self, ctx: &RequestContext, input: TagQueue) -> SqsResult<Value> {
        let queue = self.queue(ctx, input.queue_url.as_deref())?;
        let tags = input.tags.ok_or_else(|| SqsError::MissingParameter("Tags".into()))?;
        check_tags(&tags)?;
        self.engine
            .update_record(&queue, |r| {
                r.tags.extend(tags);
                if r.tags.len() > 50 {
                    return Err(SqsError::InvalidParameterValue("Too many tags added for queue. The maximum is 50.".into()));
                }
                Ok(())
            })
            .await?;
        Ok(json!({}))
    }

    pub(crate) async fn untag_queue(&self, ctx: &RequestContext, input: UntagQueue) -> SqsResult<Value> {
        let queue = self.queue(ctx, input.queue_url.as_deref())?;
        let keys = input.tag_keys.ok_or_else(|| SqsError::MissingParameter("TagKeys".into()))?;
        self.engine
            .update_record(&queue, |r| {
                for k in &keys {
                    r.tags.remove(k);
                }
                Ok(())
            })
            .await?;
        Ok(json!({}))
    }

    pub(crate) fn list_queue_tags(&self, ctx: &RequestContext, input: QueueOnly) -> SqsResult<Value> {
        let queue = self.queue(ctx, input.queue_url.as_deref())?;
        let tags = queue.state.lock().record.tags.clone();
        if tags.is_empty() {
            return Ok(json!({}));
        }
        Ok(json!({ "Tags": tags }))
    }

    pub(crate) async fn add_permission(&self, ctx: &RequestContext, input: AddPermission) -> SqsResult<Value> {
        let queue = self.queue(ctx, input.queue_url.as_deref())?;
        let label = input.label.filter(|l| !l.is_empty()).ok_or_else(|| SqsError::MissingParameter("Label".into()))?;
        if label.len() > 80 || !label.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_') {
            return Err(SqsError::invalid_value("Label", &label, "Can only include alphanumeric characters, hyphens, or underscores. 1 to 80 in length."));
        }
        let accounts = input.aws_account_ids.filter(|a| !a.is_empty()).ok_or_else(|| SqsError::MissingParameter("AWSAccountId".into()))?;
        let actions = input.actions.filter(|a| !a.is_empty()).ok_or_else(|| SqsError::MissingParameter("ActionName".into()))?;
        for a in &actions {
            let known = ["*", "SendMessage", "ReceiveMessage", "DeleteMessage", "ChangeMessageVisibility", "GetQueueAttributes", "GetQueueUrl", "ListDeadLetterSourceQueues", "PurgeQueue", "ListQueueTags"];
            if !known.contains(&a.as_str()) {
                return Err(SqsError::invalid_value("ActionName", a, "Only the queue owner is allowed to invoke this action."));
            }
        }
        let arn = queue.arn();
        self.engine
            .update_record(&queue, |r| {
                let mut policy: Value = r
                    .attributes
                    .get("Policy")
                    .and_then(|p| serde_json::from_str(p).ok())
                    .unwrap_or_else(|| json!({ "Version": "2012-10-17", "Id": format!("{arn}/SQSDefaultPolicy"), "Statement": [] }));
                let statements = policy.get_mut("Statement").and_then(Value::as_array_mut).ok_or_else(|| SqsError::InvalidParameterValue("Policy has no statements".into()))?;
                if statements.iter().any(|s| s.get("Sid").and_then(Value::as_str) == Some(label.as_str())) {
                    return Err(SqsError::invalid_value("Label", &label, "Already exists."));
                }
                let principals: Vec<String> = accounts.iter().map(|a| format!("arn:aws:iam::{a}:root")).collect();
                let actions: Vec<String> = actions.iter().map(|a| format!("SQS:{a}")).collect();
                statements.push(json!({
                    "Sid": label,
                    "Effect": "Allow",
                    "Principal": { "AWS": one_or_list(principals) },
                    "Action": one_or_list(actions),
                    "Resource": arn,
                }));
                r.attributes.insert("Policy".into(), policy.to_string());
                Ok(())
            })
            .await?;
        Ok(json!({}))
    }

    pub(crate) async fn remove_permission(&self, ctx: &RequestContext, input: RemovePermission) -> SqsResult<Value> {
        let queue = self.queue(ctx, input.queue_url.as_deref())?;
        let label = input.label.filter(|l| !l.is_empty()).ok_or_else(|| SqsError::MissingParameter("Label".into()))?;
        self.engine
            .update_record(&queue, |r| {
                let mut policy: Value = r
                    .attributes
                    .get("Policy")
                    .and_then(|p| serde_json::from_str(p).ok())
                    .ok_or_else(|| SqsError::invalid_value("Label", &label, "can't find label."))?;
                let statements = policy.get_mut("Statement").and_then(Value::as_array_mut).ok_or_else(|| SqsError::invalid_value("Label", &label, "can't find label."))?;
                let before = statements.len();
                statements.retain(|s| s.get("Sid").and_then(Value::as_str) != Some(label.as_str()));
                if statements.len() == before {
                    return Err(SqsError::invalid_value("Label", &label, "can't find label."));
                }
                if statements.is_empty() {
                    r.attributes.remove("Policy");
                } else {
                    r.attributes.insert("Policy".into(), policy.to_string());
                }
                Ok(())
            })
            .await?;
        Ok(json!({}))
    }

    pub(crate) async fn purge_queue(&self, ctx: &RequestContext, input: QueueOnly) -> SqsResult<Value> {
        let queue = self.queue(ctx, input.queue_url.as_deref())?;
        self.purge(&queue).await
    }

    /// PurgeQueue on a known queue (also API Gateway's SQS-PurgeQueue integrations).
    pub(crate) async fn purge(&self, queue: &Queue) -> SqsResult<Value> {
        let now = self.engine.now();
        let pending = {
            let mut st = queue.state.lock();
            if st.last_purge_ms.map(|t| now < t + 60_000).unwrap_or(false) {
                return Err(SqsError::PurgeQueueInProgress(queue.key.name.clone()));
            }
            let mut muts = Vec::new();
            st.purge(now, &mut muts);
            self.engine.apply(muts)
        };
        crate::engine::Engine::commit(pending).await?;
        Ok(json!({}))
    }

    pub(crate) fn list_dead_letter_source_queues(&self, ctx: &RequestContext, input: ListDeadLetterSourceQueues) -> SqsResult<Value> {
        let queue = self.queue(ctx, input.queue_url.as_deref())?;
        let (max, after) = page_bounds(input.max_results, input.next_token.as_deref())?;
        let arn = queue.arn();
        let sources: Vec<Arc<Queue>> = self
            .engine
            .list(&ctx.account_id, &ctx.region)
            .into_iter()
            .filter(|q| q.state.lock().redrive_policy().map(|p| p.dead_letter_target_arn == arn).unwrap_or(false))
            .collect();
        let (page, token) = paginate(sources, max, after);
        let mut out = Map::new();
        out.insert("queueUrls".into(), page.iter().map(|q| Value::String(q.key.url(&ctx.host))).collect());
        if let Some(t) = token {
            out.insert("NextToken".into(), Value::String(t));
        }
        Ok(Value::Object(out))
    }
}
