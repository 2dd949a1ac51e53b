//! RotationRules: `AutomaticallyAfterDays` (1–1000) or a `ScheduleExpression`
//! `rate(N days)` / `rate(N hours)`; the interval between rotations they give.
//! `cron(...)` expressions are not supported by nimbus yet (answered as such).
//! <https://docs.aws.amazon.com/secretsmanager/latest/userguide/rotate-secrets_schedule.html>

use crate::errors::{SmError, SmResult};
use crate::registry::Rotation;
use crate::service::s;
use serde_json::Value;

const HOUR_MS: u64 = 3_600_000;
const DAY_MS: u64 = 24 * HOUR_MS;

/// Reads `RotationRules` into `rotation` (leaves it as it is when the member is absent).
pub(crate) fn apply_rules(rotation: &mut Rotation, input: &Value) -> SmResult<()> {
    let Some(rules) = input.get("RotationRules") else { return Ok(()) };
    let days = rules.get("AutomaticallyAfterDays").and_then(Value::as_i64);
    let expr = s(rules, "ScheduleExpression");
    match (days, expr) {
        (Some(_), Some(_)) => return Err(SmError::InvalidParameter("You can't specify both AutomaticallyAfterDays and ScheduleExpression in RotationRules.".into())),
        (None, None) => return Err(SmError::InvalidParameter("RotationRules needs AutomaticallyAfterDays or ScheduleExpression.".into())),
        (Some(d), None) if !(1..=1000).contains(&d) => return Err(SmError::constraint(d, "rotationRules.automaticallyAfterDays", "Member must have value between 1 and 1000")),
        (None, Some(e)) => {
            parse_expression(e)?;
        }
        _ => {}
    }
    rotation.automatically_after_days = days;
    rotation.schedule_expression = expr.map(str::to_string);
    rotation.duration = s(rules, "Duration").map(str::to_string);
    Ok(())
}

/// `rate(N days)` (1–1000) or `rate(N hours)` (4–24) → milliseconds.
fn parse_expression(e: &str) -> SmResult<u64> {
    if e.starts_with("cron(") {
        return Err(SmError::NotSupported("RotationRules ScheduleExpression cron(...)".into()));
    }
    let bad = || SmError::InvalidParameter(format!("Invalid ScheduleExpression: {e}"));
    let body = e.strip_prefix("rate(").and_then(|b| b.strip_suffix(')')).ok_or_else(bad)?;
    let mut parts = body.split_whitespace();
    let n: u64 = parts.next().and_then(|n| n.parse().ok()).ok_or_else(bad)?;
    match (parts.next(), parts.next()) {
        (Some("day" | "days"), None) if (1..=1000).contains(&n) => Ok(n * DAY_MS),
        (Some("hour" | "hours"), None) if (4..=24).contains(&n) => Ok(n * HOUR_MS),
        _ => Err(bad()),
    }
}

/// The time between two rotations of a secret with `rotation`'s rules.
pub(crate) fn interval_ms(rotation: &Rotation) -> Option<u64> {
    if let Some(d) = rotation.automatically_after_days {
        return Some(d.max(1) as u64 * DAY_MS);
    }
    rotation.schedule_expression.as_deref().and_then(|e| parse_expression(e).ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rates_parse_and_cron_is_a_clear_gap() {
        assert_eq!(parse_expression("rate(10 days)").ok(), Some(10 * DAY_MS));
        assert_eq!(parse_expression("rate(4 hours)").ok(), Some(4 * HOUR_MS));
        assert!(parse_expression("rate(2 hours)").is_err());
        assert!(parse_expression("rate(0 days)").is_err());
        assert!(matches!(parse_expression("cron(0 16 1,15 * ? *)"), Err(SmError::NotSupported(_))));
    }
}
