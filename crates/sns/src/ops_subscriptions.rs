//! Subscription operations: Subscribe, ConfirmSubscription, Unsubscribe,
//! Get/SetSubscriptionAttributes, ListSubscriptions, ListSubscriptionsByTopic. SQS and
//! Lambda subscriptions are confirmed at once; HTTP/S and email ones wait for
//! ConfirmSubscription with the token of their (recorded) SubscriptionConfirmation.
//! https://docs.aws.amazon.com/sns/latest/api/API_Subscribe.html

use crate::arns;
use crate::errors::{SnsError, SnsResult};
use crate::filter::{self, Filter};
use crate::ops_topics::topic_in;
use crate::registry::{Subscription, Topic};
use crate::service::{page, required, string_map, Call};
use serde_json::{json, Value};
use std::collections::BTreeMap;

const SETTABLE: &[&str] = &["DeliveryPolicy", "FilterPolicy", "FilterPolicyScope", "RawMessageDelivery", "RedrivePolicy", "SubscriptionRoleArn", "ReplayPolicy"];
const NOT_SUPPORTED: &[&str] = &["sms", "application", "firehose"];

fn check_endpoint(topic: &Topic, protocol: &str, endpoint: &str) -> SnsResult<()> {
    let parts: Vec<&str> = endpoint.split(':').collect();
    match protocol {
        "sqs" => {
            if !matches!(parts.as_slice(), ["arn", _, "sqs", r, a, n] if !r.is_empty() && !a.is_empty() && !n.is_empty()) {
                return Err(SnsError::invalid("SQS endpoint ARN"));
            }
            if endpoint.ends_with(".fifo") && !topic.fifo {
                return Err(SnsError::invalid("Endpoint Reason: FIFO SQS Queues can not be subscribed to standard SNS topics"));
            }
        }
        "lambda" => {
            if !matches!(parts.as_slice(), ["arn", _, "lambda", r, a, "function", n, ..] if !r.is_empty() && !a.is_empty() && !n.is_empty()) {
                return Err(SnsError::invalid("Lambda endpoint ARN"));
            }
        }
        "http" | "https" => {
            if !endpoint.to_ascii_lowercase().starts_with(&format!("{protocol}://")) {
                return Err(SnsError::invalid("Endpoint must match the specified protocol"));
            }
        }
        "email" | "email-json" => {
            if !endpoint.contains('@') {
                return Err(SnsError::invalid("Email address"));
            }
        }
        p if NOT_SUPPORTED.contains(&p) => return Err(SnsError::NotSupported(format!("The {p} protocol"))),
        p => return Err(SnsError::invalid(format!("Amazon SNS does not support this protocol string: {p}"))),
    }
    if topic.fifo && protocol != "sqs" {
        return Err(SnsError::invalid(format!("Invalid protocol type: {protocol}")));
    }
    Ok(())
}

/// Checks one subscription attribute for `protocol`.
fn check_attribute(protocol: &str, name: &str, value: &str) -> SnsResult<()> {
    if !SETTABLE.contains(&name) {
        return Err(SnsError::invalid("AttributeName"));
    }
    match name {
        "RawMessageDelivery" => {
            if !matches!(value.to_ascii_lowercase().as_str(), "true" | "false") {
                return Err(SnsError::invalid("Attributes Reason: RawMessageDelivery: Invalid value [Valid values: true, false]"));
            }
            if !matches!(protocol, "sqs" | "http" | "https") && value.eq_ignore_ascii_case("true") {
                return Err(SnsError::invalid(format!("Attributes Reason: Delivery protocol [{protocol}] does not support raw message delivery.")));
            }
        }
        "RedrivePolicy" => {
            let target = serde_json::from_str::<Value>(value).ok().and_then(|v| v.get("deadLetterTargetArn").and_then(Value::as_str).map(str::to_string));
            match target {
                Some(t) if t.starts_with("arn:aws:sqs:") => {}
                _ => return Err(SnsError::invalid("RedrivePolicy: deadLetterTargetArn: Invalid value")),
            }
        }
        "DeliveryPolicy" => crate::delivery_policy::check_subscription_policy(value)?,
        "FilterPolicyScope" => {
            filter::scope_of(Some(value))?;
        }
        _ => {}
    }
    Ok(())
}

fn token() -> String {
    (0..128).map(|_| format!("{:x}", rand::random::<u8>() & 0xf)).collect()
}

pub async fn subscribe(call: &Call<'_>, input: Value) -> SnsResult<Value> {
    let topic = topic_in(call, &input, "TopicArn")?;
    let protocol = required(&input, "Protocol")?.to_ascii_lowercase();
    let endpoint = input.get("Endpoint").and_then(Value::as_str).unwrap_or("").to_string();
    check_endpoint(&topic, &protocol, &endpoint)?;
    let attributes = string_map(&input, "Attributes");
    for (k, v) in &attributes {
        check_attribute(&protocol, k, v)?;
    }
    let return_arn = input.get("ReturnSubscriptionArn").and_then(Value::as_bool).unwrap_or(false);
    let filter = Filter::of(&attributes)?;
    // The same endpoint subscribed twice is the same subscription.
    let existing = call.sns.registry.subscriptions(|s| s.topic_arn == topic.arn && s.protocol == protocol && s.endpoint == endpoint);
    if let Some(s) = existing.into_iter().next() {
        if attributes.iter().any(|(k, v)| s.attributes.get(k) != Some(v)) {
            return Err(SnsError::invalid("Attributes Reason: Subscription already exists with different attributes"));
        }
        let shown = if s.confirmed || return_arn { s.arn } else { "pending confirmation".to_string() };
        return Ok(json!({ "SubscriptionArn": shown }));
    }
    let confirmed = matches!(protocol.as_str(), "sqs" | "lambda");
    let sub = Subscription {
        arn: format!("{}:{}", topic.arn, nimbus_core::ids::uuid()),
        topic_arn: topic.arn.clone(),
        owner: call.account.clone(),
        protocol,
        endpoint,
        confirmed,
        token: (!confirmed).then(token),
        attributes,
    };
    call.sns.registry.put_subscription(sub.clone(), filter).await?;
    if !confirmed {
        call.sns.send_confirmation(&sub).await?;
    }
    let shown = if confirmed || return_arn { sub.arn } else { "pending confirmation".to_string() };
    Ok(json!({ "SubscriptionArn": shown }))
}

pub async fn confirm_subscription(call: &Call<'_>, input: Value) -> SnsResult<Value> {
    let topic = topic_in(call, &input, "TopicArn")?;
    let token = required(&input, "Token")?;
    let found = call.sns.registry.subscriptions(|s| s.topic_arn == topic.arn && (s.token.as_deref() == Some(token.as_str())));
    let Some(mut sub) = found.into_iter().next() else { return Err(SnsError::invalid("Token")) };
    if !sub.confirmed {
        sub.confirmed = true;
        let filter = Filter::of(&sub.attributes)?;
        call.sns.registry.put_subscription(sub.clone(), filter).await?;
    }
    Ok(json!({ "SubscriptionArn": sub.arn }))
}

pub async fn unsubscribe(call: &Call<'_>, input: Value) -> SnsResult<Value> {
    let arn = required(&input, "SubscriptionArn")?;
    arns::topic_of_subscription(&arn)?;
    call.sns.registry.delete_subscription(&arn).await?;
    Ok(json!({}))
}

fn rendered(s: &Subscription) -> BTreeMap<String, String> {
    let mut out = s.attributes.clone();
    out.insert("SubscriptionArn".into(), s.arn.clone());
    out.insert("TopicArn".into(), s.topic_arn.clone());
    out.insert("Owner".into(), s.owner.clone());
    out.insert("Protocol".into(), s.protocol.clone());
    out.insert("Endpoint".into(), s.endpoint.clone());
    out.insert("PendingConfirmation".into(), (!s.confirmed).to_string());
    out.insert("ConfirmationWasAuthenticated".into(), s.confirmed.to_string());
    out.entry("RawMessageDelivery".into()).or_insert_with(|| "false".into());
    if out.contains_key("FilterPolicy") {
        out.entry("FilterPolicyScope".into()).or_insert_with(|| "MessageAttributes".into());
    }
    out
}

pub fn get_subscription_attributes(call: &Call<'_>, input: Value) -> SnsResult<Value> {
    let arn = required(&input, "SubscriptionArn")?;
    arns::topic_of_subscription(&arn)?;
    let s = call.sns.registry.subscription(&arn)?;
    Ok(json!({ "Attributes": rendered(&s) }))
}

pub async fn set_subscription_attributes(call: &Call<'_>, input: Value) -> SnsResult<Value> {
    let arn = required(&input, "SubscriptionArn")?;
    arns::topic_of_subscription(&arn)?;
    let name = required(&input, "AttributeName")?;
    let value = input.get("AttributeValue").and_then(Value::as_str).unwrap_or("").to_string();
    let mut s = call.sns.registry.subscription(&arn)?;
    check_attribute(&s.protocol, &name, &value)?;
    if value.is_empty() {
        s.attributes.remove(&name);
    } else {
        s.attributes.insert(name, value);
    }
    let filter = Filter::of(&s.attributes)?;
    call.sns.registry.put_subscription(s, filter).await?;
    Ok(json!({}))
}

fn listed(subs: Vec<Subscription>, input: &Value) -> SnsResult<Value> {
    let arns: Vec<String> = subs.iter().map(|s| s.arn.clone()).collect();
    let (items, next) = page(arns, input.get("NextToken").and_then(Value::as_str), 100)?;
    let by_arn: BTreeMap<String, Subscription> = subs.into_iter().map(|s| (s.arn.clone(), s)).collect();
    let shown: Vec<Value> = items
        .iter()
        .filter_map(|a| by_arn.get(a))
        .map(|s| {
            json!({
                "SubscriptionArn": if s.confirmed { s.arn.clone() } else { "PendingConfirmation".to_string() },
                "Owner": s.owner, "Protocol": s.protocol, "Endpoint": s.endpoint, "TopicArn": s.topic_arn,
            })
        })
        .collect();
    let mut out = json!({ "Subscriptions": shown });
    if let Some(n) = next {
        out["NextToken"] = Value::from(n);
    }
    Ok(out)
}

pub fn list_subscriptions(call: &Call<'_>, input: Value) -> SnsResult<Value> {
    let prefix = format!("arn:aws:sns:{}:{}:", call.region, call.account);
    let subs = call.sns.registry.subscriptions(|s| s.topic_arn.starts_with(&prefix) || (s.owner == call.account && s.arn.contains(&format!(":{}:", call.region))));
    listed(subs, &input)
}

pub fn list_subscriptions_by_topic(call: &Call<'_>, input: Value) -> SnsResult<Value> {
    let topic = topic_in(call, &input, "TopicArn")?;
    let subs = call.sns.registry.subscriptions(|s| s.topic_arn == topic.arn);
    listed(subs, &input)
}
