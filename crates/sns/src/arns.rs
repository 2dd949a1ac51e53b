//! SNS ARNs: `arn:aws:sns:<region>:<account>:<topic>` and a subscription's
//! `<topic ARN>:<uuid>`, and the checks of names in them.

use crate::errors::{SnsError, SnsResult};

pub struct TopicArn<'a> {
    pub region: &'a str,
    pub account: &'a str,
    pub name: &'a str,
}

/// Parses a topic ARN; `member` names the parameter in the error (`TopicArn`).
pub fn topic<'a>(arn: &'a str, member: &str) -> SnsResult<TopicArn<'a>> {
    let parts: Vec<&str> = arn.split(':').collect();
    match parts.as_slice() {
        ["arn", _, "sns", region, account, name] if !region.is_empty() && account.len() == 12 && valid_topic_name(name) => Ok(TopicArn { region, account, name }),
        _ => Err(SnsError::invalid(member)),
    }
}

/// The topic ARN a subscription ARN belongs to.
pub fn topic_of_subscription(arn: &str) -> SnsResult<&str> {
    let parts: Vec<&str> = arn.split(':').collect();
    match parts.as_slice() {
        ["arn", _, "sns", _, _, _, id] if !id.is_empty() => Ok(&arn[..arn.len() - id.len() - 1]),
        _ => Err(SnsError::invalid("SubscriptionArn")),
    }
}

pub fn topic_arn(region: &str, account: &str, name: &str) -> String {
    format!("arn:aws:sns:{region}:{account}:{name}")
}

/// 1-256 letters, digits, `_` and `-`, with `.fifo` at the end of FIFO topics' names.
pub fn valid_topic_name(name: &str) -> bool {
    let base = name.strip_suffix(".fifo").unwrap_or(name);
    !base.is_empty() && name.len() <= 256 && base.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
}
