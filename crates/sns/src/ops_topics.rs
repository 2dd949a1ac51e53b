//! Topic operations: CreateTopic, DeleteTopic, Get/SetTopicAttributes, ListTopics, the
//! tag operations and Add/RemovePermission (statements kept in the topic's Policy).
//! https://docs.aws.amazon.com/sns/latest/api/API_CreateTopic.html

use crate::arns;
use crate::errors::{SnsError, SnsResult};
use crate::registry::Topic;
use crate::service::{page, required, string_map, Call};
use crate::topic_attrs;
use serde_json::{json, Value};
use std::collections::BTreeMap;

const MAX_TAGS: usize = 50;

fn tags_of(input: &Value) -> SnsResult<BTreeMap<String, String>> {
    let mut out = BTreeMap::new();
    for t in input.get("Tags").and_then(Value::as_array).into_iter().flatten() {
        let key = t.get("Key").and_then(Value::as_str).unwrap_or("");
        let value = t.get("Value").and_then(Value::as_str).unwrap_or("");
        if key.is_empty() || key.len() > 128 || value.len() > 256 || key.to_ascii_lowercase().starts_with("aws:") {
            return Err(SnsError::invalid("Tags"));
        }
        out.insert(key.to_string(), value.to_string());
    }
    Ok(out)
}

pub async fn create_topic(call: &Call<'_>, input: Value) -> SnsResult<Value> {
    let name = required(&input, "Name")?;
    let mut attributes = string_map(&input, "Attributes");
    let fifo_attr = attributes.remove("FifoTopic").map(|v| v.eq_ignore_ascii_case("true")).unwrap_or(false);
    let fifo_name = name.ends_with(".fifo");
    if !arns::valid_topic_name(&name) {
        return Err(SnsError::invalid("Topic Name"));
    }
    if fifo_attr != fifo_name {
        return Err(SnsError::invalid(
            "Fifo Topic names must end with .fifo and must be made up of only uppercase and lowercase ASCII letters, numbers, underscores, and hyphens, and must be between 1 and 256 characters long.",
        ));
    }
    for (k, v) in &attributes {
        topic_attrs::check(k, v, fifo_attr)?;
    }
    let tags = tags_of(&input)?;
    if tags.len() > MAX_TAGS {
        return Err(SnsError::TagLimitExceeded("Could not complete request: tag quota of per resource exceeded".into()));
    }
    let arn = arns::topic_arn(&call.region, &call.account, &name);
    let topic = Topic { arn: arn.clone(), account: call.account.clone(), region: call.region.clone(), name, fifo: fifo_attr, attributes, tags, sequence: 0 };
    if let Err(existing) = call.sns.registry.create_topic(topic.clone()).await? {
        // Idempotent: the same attributes answer the same ARN; others are an error.
        let same = topic.attributes.iter().all(|(k, v)| existing.attributes.get(k) == Some(v));
        if !same {
            return Err(SnsError::invalid("Attributes Reason: Topic already exists with different attributes"));
        }
        if !topic.tags.is_empty() && topic.tags != existing.tags {
            return Err(SnsError::invalid("Tags Reason: Topic already exists with different tags"));
        }
    }
    Ok(json!({ "TopicArn": arn }))
}

/// The topic named by the input's `TopicArn`, in the caller's region.
pub fn topic_in(call: &Call<'_>, input: &Value, member: &str) -> SnsResult<Topic> {
    let arn = required(input, member)?;
    arns::topic(&arn, member)?;
    call.sns.registry.topic(&arn)
}

pub async fn delete_topic(call: &Call<'_>, input: Value) -> SnsResult<Value> {
    let arn = required(&input, "TopicArn")?;
    arns::topic(&arn, "TopicArn")?;
    call.sns.registry.delete_topic(&arn).await?;
    Ok(json!({}))
}

pub fn get_topic_attributes(call: &Call<'_>, input: Value) -> SnsResult<Value> {
    let t = topic_in(call, &input, "TopicArn")?;
    let subs = call.sns.registry.subscribers(&t.arn);
    let confirmed = subs.iter().filter(|(s, _)| s.confirmed).count();
    let attrs = topic_attrs::render(&t, confirmed, subs.len() - confirmed);
    Ok(json!({ "Attributes": attrs }))
}

pub async fn set_topic_attributes(call: &Call<'_>, input: Value) -> SnsResult<Value> {
    let t = topic_in(call, &input, "TopicArn")?;
    let name = required(&input, "AttributeName")?;
    let value = input.get("AttributeValue").and_then(Value::as_str).unwrap_or("").to_string();
    topic_attrs::check(&name, &value, t.fifo)?;
    call.sns
        .registry
        .update_topic(&t.arn, |t| {
            if value.is_empty() {
                t.attributes.remove(&name);
            } else {
                t.attributes.insert(name, value);
            }
            Ok(())
        })
        .await?;
    Ok(json!({}))
}

pub fn list_topics(call: &Call<'_>, input: Value) -> SnsResult<Value> {
    let all = call.sns.registry.topics(&call.account, &call.region);
    let (items, next) = page(all, input.get("NextToken").and_then(Value::as_str), 100)?;
    let mut out = json!({ "Topics": items.into_iter().map(|a| json!({ "TopicArn": a })).collect::<Vec<_>>() });
    if let Some(n) = next {
        out["NextToken"] = Value::from(n);
    }
    Ok(out)
}

/// Tags on topics (the only taggable SNS resource nimbus has).
fn tagged(call: &Call<'_>, input: &Value) -> SnsResult<Topic> {
    let arn = required(input, "ResourceArn")?;
    call.sns.registry.topic(&arn).map_err(|_| SnsError::ResourceNotFound("Resource does not exist".into()))
}

pub async fn tag_resource(call: &Call<'_>, input: Value) -> SnsResult<Value> {
    let t = tagged(call, &input)?;
    let tags = tags_of(&input)?;
    call.sns
        .registry
        .update_topic(&t.arn, |t| {
            let mut merged = t.tags.clone();
            merged.extend(tags);
            if merged.len() > MAX_TAGS {
                return Err(SnsError::TagLimitExceeded("Could not complete request: tag quota of per resource exceeded".into()));
            }
            t.tags = merged;
            Ok(())
        })
        .await?;
    Ok(json!({}))
}

pub async fn untag_resource(call: &Call<'_>, input: Value) -> SnsResult<Value> {
    let t = tagged(call, &input)?;
    let keys: Vec<String> = input.get("TagKeys").and_then(Value::as_array).into_iter().flatten().filter_map(|k| k.as_str().map(str::to_string)).collect();
    call.sns
        .registry
        .update_topic(&t.arn, |t| {
            for k in &keys {
                t.tags.remove(k);
            }
            Ok(())
        })
        .await?;
    Ok(json!({}))
}

pub fn list_tags(call: &Call<'_>, input: Value) -> SnsResult<Value> {
    let t = tagged(call, &input)?;
    Ok(json!({ "Tags": t.tags.iter().map(|(k, v)| json!({"Key": k, "Value": v})).collect::<Vec<_>>() }))
}

fn policy_of(t: &Topic) -> Value {
    let text = t.attributes.get("Policy").cloned().unwrap_or_else(|| topic_attrs::default_policy(&t.arn, &t.account));
    serde_json::from_str(&text).unwrap_or_else(|_| json!({"Version": "2008-10-17", "Statement": []}))
}

/// AddPermission: a statement `Sid=Label` allowing the accounts the actions on the topic.
pub async fn add_permission(call: &Call<'_>, input: Value) -> SnsResult<Value> {
    let t = topic_in(call, &input, "TopicArn")?;
    let label = required(&input, "Label")?;
    let list = |name: &str| -> Vec<String> { input.get(name).and_then(Value::as_array).into_iter().flatten().filter_map(|v| v.as_str().map(str::to_string)).collect() };
    let accounts = list("AWSAccountId");
    let actions = list("ActionName");
    if accounts.is_empty() {
        return Err(SnsError::invalid("AWSAccountId"));
    }
    if actions.is_empty() {
        return Err(SnsError::invalid("ActionName"));
    }
    let principals: Vec<String> = accounts.iter().map(|a| format!("arn:aws:iam::{a}:root")).collect();
    let statement = json!({
        "Sid": label,
        "Effect": "Allow",
        "Principal": {"AWS": if principals.len() == 1 { Value::from(principals[0].clone()) } else { Value::from(principals) }},
        "Action": actions.iter().map(|a| format!("SNS:{a}")).collect::<Vec<_>>(),
        "Resource": t.arn,
    });
    call.sns
        .registry
        .update_topic(&t.arn, |t| {
            let mut policy = policy_of(t);
            let statements = policy["Statement"].as_array_mut().ok_or_else(|| SnsError::invalid("Policy"))?;
            if statements.iter().any(|s| s["Sid"] == label.as_str()) {
                return Err(SnsError::invalid("Statement already exists"));
            }
            statements.push(statement);
            t.attributes.insert("Policy".into(), policy.to_string());
            Ok(())
        })
        .await?;
    Ok(json!({}))
}

pub async fn remove_permission(call: &Call<'_>, input: Value) -> SnsResult<Value> {
    let t = topic_in(call, &input, "TopicArn")?;
    let label = required(&input, "Label")?;
    call.sns
        .registry
        .update_topic(&t.arn, |t| {
            let mut policy = policy_of(t);
            let statements = policy["Statement"].as_array_mut().ok_or_else(|| SnsError::invalid("Policy"))?;
            let before = statements.len();
            statements.retain(|s| s["Sid"] != label.as_str());
            if statements.len() == before {
                return Err(SnsError::invalid(format!("Label Reason: can't find label {label}")));
            }
            t.attributes.insert("Policy".into(), policy.to_string());
            Ok(())
        })
        .await?;
    Ok(json!({}))
}
