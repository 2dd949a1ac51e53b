//! RotationRules: `AutomaticallyAfterDays` (1–1000) or a `ScheduleExpression`
//! `rate(N days)` / `rate(N hours)` / `cron(...)` (AWS's six-field cron, UTC, parsed by
//! core's `schedule.rs` as EventBridge's); when the next rotation after a moment is.
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

/// A rotation schedule: every so many milliseconds, or a cron expression.
enum Every {
    Interval(u64),
    Cron(nimbus_core::schedule::Schedule),
}

/// `rate(N days)` (1–1000), `rate(N hours)` (4–24) or `cron(...)`.
fn parse_expression(e: &str) -> SmResult<Every> {
    let bad = || SmError::InvalidParameter(format!("Invalid ScheduleExpression: {e}"));
    if e.trim_start().starts_with("cron(") {
        return match nimbus_core::schedule::parse(e) {
            Ok(c @ nimbus_core::schedule::Schedule::Cron(_)) => Ok(Every::Cron(c)),
            _ => Err(bad()),
        };
    }
    let body = e.strip_prefix("rate(").and_then(|b| b.strip_suffix(')')).ok_or_else(bad)?;
    let mut parts = body.split_whitespace();
    let n: u64 = parts.next().and_then(|n| n.parse().ok()).ok_or_else(bad)?;
    match (parts.next(), parts.next()) {
        (Some("day" | "days"), None) if (1..=1000).contains(&n) => Ok(Every::Interval(n * DAY_MS)),
        (Some("hour" | "hours"), None) if (4..=24).contains(&n) => Ok(Every::Interval(n * HOUR_MS)),
        _ => Err(bad()),
    }
}

/// When a secret with `rotation`'s rules next rotates after `now`.
pub(crate) fn next_after(rotation: &Rotation, now: u64) -> Option<u64> {
    if let Some(d) = rotation.automatically_after_days {
        return Some(now + d.max(1) as u64 * DAY_MS);
    }
    match parse_expression(rotation.schedule_expression.as_deref()?).ok()? {
        Every::Interval(ms) => Some(now + ms),
        Every::Cron(c) => c.next_after(now, now),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rates_and_crons_give_the_next_rotation() {
        let rule = |e: &str| Rotation { schedule_expression: Some(e.to_string()), ..Rotation::default() };
        assert_eq!(next_after(&rule("rate(10 days)"), 0), Some(10 * DAY_MS));
        assert_eq!(next_after(&rule("rate(4 hours)"), 0), Some(4 * HOUR_MS));
        assert!(parse_expression("rate(2 hours)").is_err());
        assert!(parse_expression("rate(0 days)").is_err());
        assert!(parse_expression("cron(0 16 1,15 * * *)").is_err(), "one of day-of-month / day-of-week must be ?");
        // 1970-01-01T00:00Z → the 1st at 16:00 UTC.
        assert_eq!(next_after(&rule("cron(0 16 1,15 * ? *)"), 0), Some(16 * HOUR_MS));
        // After that, the 15th at 16:00.
        assert_eq!(next_after(&rule("cron(0 16 1,15 * ? *)"), 16 * HOUR_MS), Some(14 * DAY_MS + 16 * HOUR_MS));
    }
}
