//! A topic's attributes: which ones CreateTopic and SetTopicAttributes accept and their
//! checks, and the full set GetTopicAttributes answers (the given ones plus Owner,
//! Policy, EffectiveDeliveryPolicy and the subscription counts).
//! https://docs.aws.amazon.com/sns/latest/api/API_SetTopicAttributes.html

use crate::errors::{SnsError, SnsResult};
use crate::registry::Topic;
use serde_json::{json, Value};
use std::collections::BTreeMap;

/// Attributes any topic takes.
const COMMON: &[&str] = &[
    "DisplayName",
    "Policy",
    "DeliveryPolicy",
    "KmsMasterKeyId",
    "SignatureVersion",
    "TracingConfig",
    "DataProtectionPolicy",
    "ApplicationSuccessFeedbackRoleArn",
    "ApplicationSuccessFeedbackSampleRate",
    "ApplicationFailureFeedbackRoleArn",
    "HTTPSuccessFeedbackRoleArn",
    "HTTPSuccessFeedbackSampleRate",
    "HTTPFailureFeedbackRoleArn",
    "LambdaSuccessFeedbackRoleArn",
    "LambdaSuccessFeedbackSampleRate",
    "LambdaFailureFeedbackRoleArn",
    "SQSSuccessFeedbackRoleArn",
    "SQSSuccessFeedbackSampleRate",
    "SQSFailureFeedbackRoleArn",
    "FirehoseSuccessFeedbackRoleArn",
    "FirehoseSuccessFeedbackSampleRate",
    "FirehoseFailureFeedbackRoleArn",
];
/// Attributes only FIFO topics take.
const FIFO_ONLY: &[&str] = &["ContentBasedDeduplication", "FifoThroughputScope", "ArchivePolicy"];

/// Checks one attribute for a topic (`fifo`); `FifoTopic` is CreateTopic's alone.
pub fn check(name: &str, value: &str, fifo: bool) -> SnsResult<()> {
    let known = COMMON.contains(&name) || FIFO_ONLY.contains(&name);
    if !known {
        return Err(SnsError::invalid("AttributeName"));
    }
    if FIFO_ONLY.contains(&name) && !fifo {
        return Err(SnsError::invalid(format!("Attributes Reason: {name} is only valid for FIFO topics")));
    }
    let json_doc = |what: &str| -> SnsResult<()> {
        match serde_json::from_str::<Value>(value) {
            Ok(Value::Object(_)) => Ok(()),
            _ => Err(SnsError::invalid(format!("Attributes Reason: {what}: failed to parse JSON"))),
        }
    };
    match name {
        "SignatureVersion" if !matches!(value, "1" | "2") => Err(SnsError::invalid("Attributes Reason: SignatureVersion: Invalid value [Valid values: 1, 2]")),
        "TracingConfig" if !matches!(value, "PassThrough" | "Active") => Err(SnsError::invalid("Attributes Reason: TracingConfig: Invalid value [Valid values: PassThrough, Active]")),
        "ContentBasedDeduplication" if !matches!(value.to_ascii_lowercase().as_str(), "true" | "false") => {
            Err(SnsError::invalid("Attributes Reason: ContentBasedDeduplication: Invalid value [Valid values: true, false]"))
        }
        "FifoThroughputScope" if !matches!(value, "Topic" | "MessageGroup") => {
            Err(SnsError::invalid("Attributes Reason: FifoThroughputScope: Invalid value [Valid values: Topic, MessageGroup]"))
        }
        "DisplayName" if value.len() > 100 => Err(SnsError::invalid("DisplayName")),
        "Policy" => json_doc("Policy"),
        "DeliveryPolicy" => crate::delivery_policy::check_topic_policy(value),
        "ArchivePolicy" => json_doc("ArchivePolicy"),
        _ => Ok(()),
    }
}

/// The policy a topic has until one is set.
pub fn default_policy(arn: &str, account: &str) -> String {
    json!({
        "Version": "2008-10-17",
        "Id": "__default_policy_ID",
        "Statement": [{
            "Sid": "__default_statement_ID",
            "Effect": "Allow",
            "Principal": {"AWS": "*"},
            "Action": ["SNS:GetTopicAttributes", "SNS:SetTopicAttributes", "SNS:AddPermission", "SNS:RemovePermission",
                       "SNS:DeleteTopic", "SNS:Subscribe", "SNS:ListSubscriptionsByTopic", "SNS:Publish"],
            "Resource": arn,
            "Condition": {"StringEquals": {"AWS:SourceOwner": account}}
        }]
    })
    .to_string()
}

/// AWS's default HTTP delivery policy (EffectiveDeliveryPolicy of a topic that set none).
pub fn default_delivery_policy() -> Value {
    json!({"http": {
        "defaultHealthyRetryPolicy": {"minDelayTarget": 20, "maxDelayTarget": 20, "numRetries": 3, "numMaxDelayRetries": 0,
                                      "numNoDelayRetries": 0, "numMinDelayRetries": 0, "backoffFunction": "linear"},
        "disableSubscriptionOverrides": false,
        "defaultRequestPolicy": {"headerContentType": "text/plain; charset=UTF-8"}
    }})
}

/// GetTopicAttributes' map; `confirmed` and `pending` count the topic's subscriptions.
pub fn render(t: &Topic, confirmed: usize, pending: usize) -> BTreeMap<String, String> {
    let mut out = t.attributes.clone();
    out.insert("TopicArn".into(), t.arn.clone());
    out.insert("Owner".into(), t.account.clone());
    out.entry("Policy".into()).or_insert_with(|| default_policy(&t.arn, &t.account));
    out.entry("DisplayName".into()).or_default();
    out.insert("SubscriptionsConfirmed".into(), confirmed.to_string());
    out.insert("SubscriptionsPending".into(), pending.to_string());
    out.insert("SubscriptionsDeleted".into(), "0".into());
    let effective = match t.attributes.get("DeliveryPolicy").and_then(|p| serde_json::from_str::<Value>(p).ok()) {
        Some(Value::Object(given)) => {
            let mut d = default_delivery_policy();
            if let Some(m) = d.as_object_mut() {
                m.extend(given);
            }
            d
        }
        _ => default_delivery_policy(),
    };
    out.insert("EffectiveDeliveryPolicy".into(), effective.to_string());
    if t.fifo {
        out.insert("FifoTopic".into(), "true".into());
        out.entry("ContentBasedDeduplication".into()).or_insert_with(|| "false".into());
    }
    out
}
