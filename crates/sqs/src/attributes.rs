//! Queue attributes: which exist, which may be set when, their ranges and defaults, and the
//! JSON policies (RedrivePolicy, RedriveAllowPolicy) SQS parses.

use crate::errors::{SqsError, SqsResult};
use std::collections::BTreeMap;

pub const MAX_MESSAGE_SIZE: u64 = 1_048_576;

/// Settable attributes with their defaults (standard queues).
pub fn defaults(fifo: bool) -> BTreeMap<String, String> {
    let mut m = BTreeMap::new();
    for (k, v) in [
        ("DelaySeconds", "0"),
        ("MaximumMessageSize", "1048576"),
        ("MessageRetentionPeriod", "345600"),
        ("ReceiveMessageWaitTimeSeconds", "0"),
        ("VisibilityTimeout", "30"),
        ("SqsManagedSseEnabled", "true"),
    ] {
        m.insert(k.to_string(), v.to_string());
    }
    if fifo {
        m.insert("FifoQueue".into(), "true".into());
        m.insert("ContentBasedDeduplication".into(), "false".into());
        m.insert("DeduplicationScope".into(), "queue".into());
        m.insert("FifoThroughputLimit".into(), "perQueue".into());
    }
    m
}

/// Attributes computed by SQS, readable but never settable.
pub const READ_ONLY: &[&str] = &[
    "ApproximateNumberOfMessages",
    "ApproximateNumberOfMessagesNotVisible",
    "ApproximateNumberOfMessagesDelayed",
    "CreatedTimestamp",
    "LastModifiedTimestamp",
    "QueueArn",
];

const SETTABLE: &[&str] = &[
    "DelaySeconds",
    "MaximumMessageSize",
    "MessageRetentionPeriod",
    "Policy",
    "ReceiveMessageWaitTimeSeconds",
    "VisibilityTimeout",
    "RedrivePolicy",
    "RedriveAllowPolicy",
    "KmsMasterKeyId",
    "KmsDataKeyReusePeriodSeconds",
    "SqsManagedSseEnabled",
    "FifoQueue",
    "ContentBasedDeduplication",
    "DeduplicationScope",
    "FifoThroughputLimit",
];

const FIFO_ONLY: &[&str] = &["ContentBasedDeduplication", "DeduplicationScope", "FifoThroughputLimit"];

pub fn is_known(name: &str) -> bool {
    name == "All" || READ_ONLY.contains(&name) || SETTABLE.contains(&name)
}

fn int_in(name: &str, value: &str, lo: i64, hi: i64) -> SqsResult<()> {
    match value.trim().parse::<i64>() {
        Ok(n) if (lo..=hi).contains(&n) => Ok(()),
        _ => Err(SqsError::invalid_attribute_value(name)),
    }
}

fn boolean(name: &str, value: &str) -> SqsResult<()> {
    match value.to_ascii_lowercase().as_str() {
        "true" | "false" => Ok(()),
        _ => Err(SqsError::invalid_attribute_value(name)),
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RedrivePolicy {
    pub dead_letter_target_arn: String,
    pub max_receive_count: u32,
}

/// Parses a RedrivePolicy document (maxReceiveCount may be a number or a numeric string).
pub fn parse_redrive_policy(value: &str) -> SqsResult<RedrivePolicy> {
    let bad = |reason: &str| SqsError::invalid_value("RedrivePolicy", value, reason);
    let doc: serde_json::Value = serde_json::from_str(value).map_err(|_| bad("Invalid value for the parameter RedrivePolicy."))?;
    let arn = doc
        .get("deadLetterTargetArn")
        .and_then(|v| v.as_str())
        .ok_or_else(|| bad("Redrive policy does not contain mandatory attribute: deadLetterTargetArn."))?;
    let count = match doc.get("maxReceiveCount") {
        Some(serde_json::Value::Number(n)) => n.as_i64(),
        Some(serde_json::Value::String(s)) => s.parse::<i64>().ok(),
        Some(_) => None,
        None => return Err(bad("Redrive policy does not contain mandatory attribute: maxReceiveCount.")),
    };
    let count = match count {
        Some(c) if (1..=1000).contains(&c) => c as u32,
        other => {
            return Err(bad(&format!(
                "Invalid value for maxReceiveCount: {}, valid values are from 1 to 1000 both inclusive.",
                other.map(|c| c.to_string()).unwrap_or_else(|| "?".into())
            )))
        }
    };
    if crate::arn::QueueArn::parse(arn).is_none() {
        return Err(bad("Invalid value for deadLetterTargetArn."));
    }
    Ok(RedrivePolicy { dead_letter_target_arn: arn.to_string(), max_receive_count: count })
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RedriveAllow {
    AllowAll,
    DenyAll,
    ByQueue(Vec<String>),
}

pub fn parse_redrive_allow_policy(value: &str) -> SqsResult<RedriveAllow> {
    let bad = |reason: &str| SqsError::invalid_value("RedriveAllowPolicy", value, reason);
    let doc: serde_json::Value = serde_json::from_str(value).map_err(|_| bad("Invalid value for the parameter RedriveAllowPolicy."))?;
    let sources: Option<Vec<String>> = doc
        .get("sourceQueueArns")
        .and_then(|v| v.as_array())
        .map(|a| a.iter().filter_map(|s| s.as_str().map(str::to_string)).collect());
    match doc.get("redrivePermission").and_then(|v| v.as_str()) {
        Some("allowAll") if sources.is_none() => Ok(RedriveAllow::AllowAll),
        Some("denyAll") if sources.is_none() => Ok(RedriveAllow::DenyAll),
        Some("byQueue") => match sources {
            Some(s) if !s.is_empty() && s.len() <= 10 => Ok(RedriveAllow::ByQueue(s)),
            _ => Err(bad("Amazon SQS can't create the redrive allow policy, as it’s in an unsupported format.")),
        },
        _ => Err(bad("Amazon SQS can't create the redrive allow policy, as it’s in an unsupported format.")),
    }
}

/// Validates attributes given to CreateQueue or SetQueueAttributes. `fifo` is the queue's
/// type (for CreateQueue: what the FifoQueue attribute says).
pub fn validate(attrs: &BTreeMap<String, String>, fifo: bool, creating: bool) -> SqsResult<()> {
    for (name, value) in attrs {
        if READ_ONLY.contains(&name.as_str()) || !SETTABLE.contains(&name.as_str()) {
            return Err(SqsError::InvalidAttributeName(format!("Unknown Attribute {name}.")));
        }
        // A standard queue knows no FIFO attribute, not even `FifoQueue=false`.
        if !fifo && (FIFO_ONLY.contains(&name.as_str()) || name == "FifoQueue") {
            return Err(SqsError::InvalidAttributeName(format!("Unknown Attribute {name}.")));
        }
        match name.as_str() {
            "DelaySeconds" => int_in(name, value, 0, 900)?,
            "MaximumMessageSize" => int_in(name, value, 1024, MAX_MESSAGE_SIZE as i64)?,
            "MessageRetentionPeriod" => int_in(name, value, 60, 1_209_600)?,
            "ReceiveMessageWaitTimeSeconds" => int_in(name, value, 0, 20)?,
            "VisibilityTimeout" => int_in(name, value, 0, 43_200)?,
            "KmsDataKeyReusePeriodSeconds" => int_in(name, value, 60, 86_400)?,
            "SqsManagedSseEnabled" | "ContentBasedDeduplication" => boolean(name, value)?,
            "FifoQueue" => {
                if !creating {
                    if !fifo {
                        return Err(SqsError::InvalidAttributeName(format!("Unknown Attribute {name}.")));
                    }
                    if !value.eq_ignore_ascii_case("true") {
                        return Err(SqsError::InvalidAttributeValue(
                            "Invalid value for the parameter FifoQueue. Reason: Modifying queue type is not supported.".into(),
                        ));
                    }
                }
                boolean(name, value)?
            }
            "DeduplicationScope" => {
                if !matches!(value.as_str(), "messageGroup" | "queue") {
                    return Err(SqsError::invalid_attribute_value(name));
                }
            }
            "FifoThroughputLimit" => {
                if !matches!(value.as_str(), "perQueue" | "perMessageGroupId") {
                    return Err(SqsError::invalid_attribute_value(name));
                }
            }
            "RedrivePolicy" if !value.is_empty() => {
                parse_redrive_policy(value)?;
            }
            "RedriveAllowPolicy" if !value.is_empty() => {
                parse_redrive_allow_policy(value)?;
            }
            "Policy" if !value.is_empty() => {
                if serde_json::from_str::<serde_json::Value>(value).map(|v| !v.is_object()).unwrap_or(true) {
                    return Err(SqsError::invalid_attribute_value(name));
                }
            }
            _ => {}
        }
    }
    let kms = attrs.get("KmsMasterKeyId").map(|k| !k.is_empty()).unwrap_or(false);
    let sse = attrs.get("SqsManagedSseEnabled").map(|v| v.eq_ignore_ascii_case("true")).unwrap_or(false);
    if kms && sse {
        return Err(SqsError::InvalidAttributeName(
            "You can use one type of server-side encryption (SSE) at one time. You can either enable KMS SSE or SQS SSE.".into(),
        ));
    }
    Ok(())
}

/// Values as AWS stores and returns them: booleans in lower case (`"false"`, never
/// `"False"`), integers without sign, padding or leading zeros. Call after [`validate`].
pub fn normalize(attrs: &mut BTreeMap<String, String>) {
    for (name, value) in attrs.iter_mut() {
        match name.as_str() {
            "FifoQueue" | "ContentBasedDeduplication" | "SqsManagedSseEnabled" => *value = value.to_ascii_lowercase(),
            "DelaySeconds" | "MaximumMessageSize" | "MessageRetentionPeriod" | "ReceiveMessageWaitTimeSeconds" | "VisibilityTimeout"
            | "KmsDataKeyReusePeriodSeconds" => {
                if let Ok(n) = value.trim().parse::<i64>() {
                    *value = n.to_string();
                }
            }
            _ => {}
        }
    }
}

/// Settles the encryption attributes after `given` was merged into `attrs`: one SSE type
/// at a time, and `KmsDataKeyReusePeriodSeconds` (default 300) shown exactly while a KMS
/// key is set, as GetQueueAttributes shows them on AWS.
pub fn settle_encryption(attrs: &mut BTreeMap<String, String>, given: &BTreeMap<String, String>) {
    let kms = attrs.get("KmsMasterKeyId").map(|k| !k.is_empty()).unwrap_or(false);
    if given.get("SqsManagedSseEnabled").map(|v| v == "true").unwrap_or(false) {
        attrs.remove("KmsMasterKeyId");
        attrs.remove("KmsDataKeyReusePeriodSeconds");
    } else if kms {
        attrs.insert("SqsManagedSseEnabled".into(), "false".into());
        attrs.entry("KmsDataKeyReusePeriodSeconds".into()).or_insert_with(|| "300".into());
    } else if given.contains_key("KmsMasterKeyId") {
        // An empty key id turns KMS encryption off.
        attrs.remove("KmsMasterKeyId");
        attrs.remove("KmsDataKeyReusePeriodSeconds");
    }
}

/// After merging new values into a queue's attributes: combinations AWS refuses.
pub fn validate_combination(attrs: &BTreeMap<String, String>) -> SqsResult<()> {
    if attrs.get("FifoThroughputLimit").map(String::as_str) == Some("perMessageGroupId")
        && attrs.get("DeduplicationScope").map(String::as_str) != Some("messageGroup")
    {
        return Err(SqsError::InvalidAttributeValue(
            "Invalid value for the parameter FifoThroughputLimit. Reason: The perMessageGroupId value is allowed only when the value for DeduplicationScope is messageGroup.".into(),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_and_policies() {
        let mut a = BTreeMap::new();
        a.insert("VisibilityTimeout".to_string(), "43201".to_string());
        assert!(matches!(validate(&a, false, true), Err(SqsError::InvalidAttributeValue(_))));
        a.insert("VisibilityTimeout".to_string(), "0".to_string());
        assert!(validate(&a, false, true).is_ok());
        a.insert("ContentBasedDeduplication".to_string(), "true".to_string());
        assert!(matches!(validate(&a, false, true), Err(SqsError::InvalidAttributeName(_))));
        let mut f = BTreeMap::new();
        f.insert("FifoQueue".to_string(), "false".to_string());
        assert_eq!(validate(&f, false, true), Err(SqsError::InvalidAttributeName("Unknown Attribute FifoQueue.".into())));
        let mut n = BTreeMap::new();
        n.insert("ContentBasedDeduplication".to_string(), "False".to_string());
        n.insert("VisibilityTimeout".to_string(), " 030".to_string());
        normalize(&mut n);
        assert_eq!(n["ContentBasedDeduplication"], "false");
        assert_eq!(n["VisibilityTimeout"], "30");
        let p = parse_redrive_policy(r#"{"deadLetterTargetArn":"arn:aws:sqs:us-east-1:000000000000:dlq","maxReceiveCount":"3"}"#).unwrap();
        assert_eq!(p.max_receive_count, 3);
        assert!(parse_redrive_policy(r#"{"deadLetterTargetArn":"dummy","maxReceiveCount":3}"#).is_err());
        assert!(parse_redrive_policy(r#"{"deadLetterTargetArn":"arn:aws:sqs:us-east-1:000000000000:dlq","maxReceiveCount":0}"#).is_err());
    }
}
