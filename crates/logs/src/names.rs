//! Log group and stream names: what AWS accepts, the ARNs built from them, and reading a
//! `logGroupIdentifier` (a name or an ARN).

use crate::errors::{LogsError, LogsResult};

/// `arn:aws:logs:<region>:<account>:log-group:<name>` (DescribeLogGroups' `logGroupArn`).
pub fn group_arn(region: &str, account: &str, group: &str) -> String {
    format!("arn:aws:logs:{region}:{account}:log-group:{group}")
}

/// `arn:aws:logs:<region>:<account>:log-group:<name>:log-stream:<stream>`.
pub fn stream_arn(region: &str, account: &str, group: &str, stream: &str) -> String {
    format!("{}:log-stream:{stream}", group_arn(region, account, group))
}

/// Group names: 1–512 characters from `[\.\-_/#A-Za-z0-9]`.
pub fn check_group_name(member: &str, name: &str) -> LogsResult<()> {
    if name.is_empty() || name.len() > 512 {
        return Err(LogsError::validation(name, member, "Member must have length between 1 and 512"));
    }
    if !name.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_' | '/' | '#')) {
        return Err(LogsError::validation(name, member, "Member must satisfy regular expression pattern: [\\.\\-_/#A-Za-z0-9]+"));
    }
    Ok(())
}

/// Stream names: 1–512 characters, no `:` or `*`.
pub fn check_stream_name(member: &str, name: &str) -> LogsResult<()> {
    if name.is_empty() || name.len() > 512 {
        return Err(LogsError::validation(name, member, "Member must have length between 1 and 512"));
    }
    if name.contains(':') || name.contains('*') {
        return Err(LogsError::validation(name, member, "Member must satisfy regular expression pattern: [^:*]*"));
    }
    Ok(())
}

/// The group a request names, by `logGroupName` or `logGroupIdentifier` (exactly one).
pub fn group_from(name: Option<String>, identifier: Option<String>) -> LogsResult<String> {
    match (name, identifier) {
        (Some(_), Some(_)) => Err(LogsError::InvalidParameter("LogGroup name and LogGroup ARN are mutually exclusive parameters.".into())),
        (Some(n), None) => Ok(n),
        (None, Some(id)) => Ok(name_of_identifier(&id)),
        (None, None) => Err(LogsError::InvalidParameter("Either logGroupName or logGroupIdentifier must be specified.".into())),
    }
}

/// `arn:aws:logs:r:a:log-group:NAME[:*]` → `NAME`; anything else is a name already.
pub fn name_of_identifier(id: &str) -> String {
    match id.strip_prefix("arn:").and_then(|rest| rest.split_once(":log-group:")) {
        Some((_, name)) => name.strip_suffix(":*").unwrap_or(name).to_string(),
        None => id.to_string(),
    }
}
