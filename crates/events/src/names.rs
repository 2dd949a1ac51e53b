//! Names and ARNs: event bus names given as a name or an ARN, rule names, and the ARNs
//! AWS builds for buses and rules (a rule on a custom bus is `rule/<bus>/<name>`).
//! <https://docs.aws.amazon.com/eventbridge/latest/APIReference/API_PutRule.html>

use crate::errors::{EventsError, EventsResult};

pub const DEFAULT_BUS: &str = "default";

/// The bus a request names (a name or an ARN; absent: `default`).
pub fn bus_name(given: Option<&str>) -> EventsResult<String> {
    let Some(given) = given.filter(|s| !s.is_empty()) else { return Ok(DEFAULT_BUS.to_string()) };
    if let Some(rest) = given.strip_prefix("arn:") {
        return match rest.split_once(":event-bus/") {
            Some((_, name)) if !name.is_empty() => Ok(name.to_string()),
            _ => Err(EventsError::Validation(format!("Parameter {given} is not valid. Reason: Provided Arn is not in correct format."))),
        };
    }
    Ok(given.to_string())
}

/// A rule or bus name: 1-64 of `[.\-_A-Za-z0-9]`.
pub fn check_name(member: &str, name: &str, max: usize) -> EventsResult<()> {
    if name.is_empty() || name.len() > max {
        return Err(EventsError::constraint(name, member, &format!("Member must have length less than or equal to {max}")));
    }
    if !name.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_')) {
        return Err(EventsError::constraint(name, member, "Member must satisfy regular expression pattern: [\\.\\-_A-Za-z0-9]+"));
    }
    Ok(())
}

pub fn bus_arn(region: &str, account: &str, bus: &str) -> String {
    format!("arn:aws:events:{region}:{account}:event-bus/{bus}")
}

pub fn rule_arn(region: &str, account: &str, bus: &str, rule: &str) -> String {
    if bus == DEFAULT_BUS {
        format!("arn:aws:events:{region}:{account}:rule/{rule}")
    } else {
        format!("arn:aws:events:{region}:{account}:rule/{bus}/{rule}")
    }
}
