//! Schedule expressions — `rate(5 minutes)` and `cron(0 12 * * ? *)` (UTC) — and the
//! next time each one fires after a given instant. Shared by EventBridge's scheduled rules
//! and Secrets Manager's rotation schedules.
//! <https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-scheduled-rule-pattern.html>

use crate::time::{civil_from_days, days_from_civil};

const MINUTE_MS: u64 = 60_000;

#[derive(Debug, Clone, PartialEq)]
pub enum Schedule {
    /// Every `period_ms`, counted from when the rule was created or enabled.
    Rate { period_ms: u64 },
    Cron(Cron),
}

#[derive(Debug, Clone, PartialEq)]
pub struct Cron {
    minutes: Vec<bool>,
    hours: Vec<bool>,
    /// `None`: `?` (the other day field decides).
    dom: Option<Vec<bool>>,
    months: Vec<bool>,
    /// 1 = SUN … 7 = SAT; `None`: `?`.
    dow: Option<Vec<bool>>,
    years: Vec<bool>,
}

/// Why an expression is refused: AWS's message, or a form nimbus does not implement.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ScheduleError {
    Invalid,
    NotSupported(String),
}

const YEAR0: u32 = 1970;
const YEARS: usize = 230; // 1970..=2199

pub fn parse(expr: &str) -> Result<Schedule, ScheduleError> {
    let expr = expr.trim();
    if let Some(body) = expr.strip_prefix("rate(").and_then(|r| r.strip_suffix(')')) {
        let (n, unit) = body.trim().split_once(' ').ok_or(ScheduleError::Invalid)?;
        let n: u64 = n.parse().map_err(|_| ScheduleError::Invalid)?;
        let unit_ms = match (unit.trim(), n) {
            (_, 0) => return Err(ScheduleError::Invalid),
            ("minute", 1) | ("minutes", 2..) => MINUTE_MS,
            ("hour", 1) | ("hours", 2..) => 60 * MINUTE_MS,
            ("day", 1) | ("days", 2..) => 24 * 60 * MINUTE_MS,
            _ => return Err(ScheduleError::Invalid),
        };
        return Ok(Schedule::Rate { period_ms: n * unit_ms });
    }
    if let Some(body) = expr.strip_prefix("cron(").and_then(|r| r.strip_suffix(')')) {
        let f: Vec<&str> = body.split_whitespace().collect();
        if f.len() != 6 {
            return Err(ScheduleError::Invalid);
        }
        let (dom_q, dow_q) = (f[2] == "?", f[4] == "?");
        if dom_q == dow_q {
            // Exactly one of day-of-month and day-of-week is `?`.
            return Err(ScheduleError::Invalid);
        }
        return Ok(Schedule::Cron(Cron {
            minutes: field(f[0], 0, 59, &[])?,
            hours: field(f[1], 0, 23, &[])?,
            dom: if dom_q { None } else { Some(field(f[2], 1, 31, &[])?) },
            months: field(f[3], 1, 12, &["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"])?,
            dow: if dow_q { None } else { Some(field(f[4], 1, 7, &["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"])?) },
            years: field(f[5], YEAR0, YEAR0 + YEARS as u32 - 1, &[])?,
        }));
    }
    Err(ScheduleError::Invalid)
}

/// One cron field as a table of allowed values indexed from `min`.
fn field(text: &str, min: u32, max: u32, names: &[&str]) -> Result<Vec<bool>, ScheduleError> {
    let mut allowed = vec![false; (max - min + 1) as usize];
    let value = |s: &str| -> Result<u32, ScheduleError> {
        if let Some(i) = names.iter().position(|n| n.eq_ignore_ascii_case(s)) {
            return Ok(min + i as u32);
        }
        let v: u32 = s.parse().map_err(|_| ScheduleError::Invalid)?;
        if (min..=max).contains(&v) {
            Ok(v)
        } else {
            Err(ScheduleError::Invalid)
        }
    };
    for part in text.split(',') {
        if part.contains(['L', 'W', '#']) && names.iter().all(|n| !part.to_ascii_uppercase().contains(n)) {
            return Err(ScheduleError::NotSupported(format!("The cron wildcard in '{part}'")));
        }
        let (range, step) = match part.split_once('/') {
            Some((r, s)) => (r, s.parse::<u32>().map_err(|_| ScheduleError::Invalid)?.max(1)),
            None => (part, 1),
        };
        let (lo, hi) = match range {
            "*" => (min, max),
            r => match r.split_once('-') {
                Some((a, b)) => (value(a)?, value(b)?),
                None if part.contains('/') => (value(r)?, max),
                None => (value(r)?, value(r)?),
            },
        };
        if lo > hi {
            return Err(ScheduleError::Invalid);
        }
        let mut v = lo;
        while v <= hi {
            allowed[(v - min) as usize] = true;
            v += step;
        }
    }
    Ok(allowed)
}

impl Schedule {
    /// When the schedule next fires after `after_ms`; `base_ms` is when a rate rule started.
    pub fn next_after(&self, base_ms: u64, after_ms: u64) -> Option<u64> {
        match self {
            Schedule::Rate { period_ms } => {
                if after_ms < base_ms {
                    return Some(base_ms + period_ms);
                }
                let n = (after_ms - base_ms) / period_ms + 1;
                Some(base_ms + n * period_ms)
            }
            Schedule::Cron(c) => c.next_after(after_ms),
        }
    }
}

impl Cron {
    fn next_after(&self, after_ms: u64) -> Option<u64> {
        let mut t = (after_ms / MINUTE_MS + 1) * MINUTE_MS;
        for _ in 0..200_000 {
            let mins = (t / MINUTE_MS) as i64;
            let days = mins.div_euclid(1440);
            let (y, mo, d) = civil_from_days(days);
            let (h, mi) = ((mins.rem_euclid(1440) / 60) as usize, (mins.rem_euclid(60)) as usize);
            let yi = (y - YEAR0 as i64) as usize;
            if yi >= YEARS {
                return None;
            }
            if !self.years[yi] {
                t = days_from_civil(y + 1, 1, 1) as u64 * 1440 * MINUTE_MS;
                continue;
            }
            if !self.months[(mo - 1) as usize] {
                let (ny, nm) = if mo == 12 { (y + 1, 1) } else { (y, mo + 1) };
                t = days_from_civil(ny, nm, 1) as u64 * 1440 * MINUTE_MS;
                continue;
            }
            let dow = ((days + 4).rem_euclid(7)) as usize; // 0 = Sunday
            let day_ok = match (&self.dom, &self.dow) {
                (Some(dom), _) => dom[(d - 1) as usize],
                (None, Some(w)) => w[dow],
                (None, None) => true,
            };
            if !day_ok {
                t = (days as u64 + 1) * 1440 * MINUTE_MS;
                continue;
            }
            if !self.hours[h] {
                t = (days as u64 * 24 + h as u64 + 1) * 60 * MINUTE_MS;
                continue;
            }
            if !self.minutes[mi] {
                t += MINUTE_MS;
                continue;
            }
            return Some(t);
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::time::parse_iso8601;

    fn at(s: &str) -> u64 {
        parse_iso8601(s).unwrap()
    }

    #[test]
    fn rates() {
        assert_eq!(parse("rate(5 minutes)"), Ok(Schedule::Rate { period_ms: 300_000 }));
        assert_eq!(parse("rate(1 hour)"), Ok(Schedule::Rate { period_ms: 3_600_000 }));
        assert_eq!(parse("rate(1 minutes)"), Err(ScheduleError::Invalid));
        assert_eq!(parse("rate(0 minutes)"), Err(ScheduleError::Invalid));
        assert_eq!(parse("rate(5 weeks)"), Err(ScheduleError::Invalid));
        let s = parse("rate(5 minutes)").unwrap();
        assert_eq!(s.next_after(1000, 1000), Some(301_000));
        assert_eq!(s.next_after(1000, 301_000), Some(601_000));
    }

    #[test]
    fn crons() {
        // <https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-scheduled-rule-pattern.html#eb-cron-expressions>
        let noon = parse("cron(0 12 * * ? *)").unwrap();
        assert_eq!(noon.next_after(0, at("2026-12-03T13:00:00Z")), Some(at("2026-12-04T12:00:00Z")));
        assert_eq!(noon.next_after(0, at("2026-12-03T11:59:00Z")), Some(at("2026-12-03T12:00:00Z")));
        let weekdays = parse("cron(15 10 ? * MON-FRI *)").unwrap();
        // 2026-12-05 is a Saturday.
        assert_eq!(weekdays.next_after(0, at("2026-12-05T00:00:00Z")), Some(at("2026-12-07T10:15:00Z")));
        let every10 = parse("cron(0/10 * ? * * *)").unwrap();
        assert_eq!(every10.next_after(0, at("2026-12-03T13:01:00Z")), Some(at("2026-12-03T13:10:00Z")));
        let first = parse("cron(0 8 1 * ? *)").unwrap();
        assert_eq!(first.next_after(0, at("2026-12-03T00:00:00Z")), Some(at("2027-01-01T08:00:00Z")));
        assert_eq!(parse("cron(0 12 * * * *)"), Err(ScheduleError::Invalid));
        assert_eq!(parse("cron(0 12 * *)"), Err(ScheduleError::Invalid));
        assert_eq!(parse("cron(61 12 * * ? *)"), Err(ScheduleError::Invalid));
        assert!(matches!(parse("cron(0 12 L * ? *)"), Err(ScheduleError::NotSupported(_))));
    }
}
