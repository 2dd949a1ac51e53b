//! Timestamps as Step Functions reads them (Wait's `Timestamp` / `TimestampPath`, Choice's
//! `Timestamp*` operators, `IsTimestamp`): RFC 3339 with AWS's extra rules — an uppercase `T`
//! between date and time, and an uppercase `Z` when no numeric offset is given.
//! <https://docs.aws.amazon.com/step-functions/latest/dg/state-wait.html>
//! <https://docs.aws.amazon.com/step-functions/latest/dg/state-choice.html>

/// An instant: seconds since the Unix epoch plus nanoseconds; ordered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Timestamp {
    pub unix_seconds: i64,
    pub nanos: u32,
}

impl Timestamp {
    pub fn unix_millis(&self) -> i64 {
        self.unix_seconds * 1000 + i64::from(self.nanos / 1_000_000)
    }

    pub fn from_unix_millis(millis: i64) -> Timestamp {
        Timestamp { unix_seconds: millis.div_euclid(1000), nanos: (millis.rem_euclid(1000) as u32) * 1_000_000 }
    }
}

/// Parses `2016-03-14T01:59:00Z`, `2016-03-14T01:59:00.123Z`, `2016-03-14T01:59:00+01:00`.
/// `None` when the text is not such a timestamp (a lowercase `t`/`z`, a missing zone, a bad date).
pub fn parse_rfc3339(text: &str) -> Option<Timestamp> {
    let b = text.as_bytes();
    if b.len() < 20 || b[4] != b'-' || b[7] != b'-' || b[10] != b'T' || b[13] != b':' || b[16] != b':' {
        return None;
    }
    let num = |range: std::ops::Range<usize>| -> Option<i64> {
        let part = text.get(range)?;
        if !part.bytes().all(|c| c.is_ascii_digit()) {
            return None;
        }
        part.parse().ok()
    };
    let (year, month, day) = (num(0..4)?, num(5..7)?, num(8..10)?);
    let (hour, minute, second) = (num(11..13)?, num(14..16)?, num(17..19)?);
    if !(1..=12).contains(&month) || day < 1 || day > days_in_month(year, month) {
        return None;
    }
    // RFC 3339 allows a leap second (60).
    if hour > 23 || minute > 59 || second > 60 {
        return None;
    }
    let mut pos = 19;
    let mut nanos: u32 = 0;
    if b[pos] == b'.' {
        pos += 1;
        let start = pos;
        while pos < b.len() && b[pos].is_ascii_digit() {
            pos += 1;
        }
        let digits = &text[start..pos];
        if digits.is_empty() {
            return None;
        }
        let padded: String = digits.chars().chain(std::iter::repeat('0')).take(9).collect();
        nanos = padded.parse().ok()?;
    }
    let zone = &b[pos..];
    let offset_seconds = match zone {
        [b'Z'] => 0,
        [sign @ (b'+' | b'-'), _, _, b':', _, _] => {
            let hours = num(pos + 1..pos + 3)?;
            let minutes = num(pos + 4..pos + 6)?;
            if hours > 23 || minutes > 59 {
                return None;
            }
            let sign = if *sign == b'-' { -1 } else { 1 };
            sign * (hours * 3600 + minutes * 60)
        }
        _ => return None,
    };
    let days = days_from_civil(year, month, day);
    let unix_seconds = days * 86_400 + hour * 3600 + minute * 60 + second - offset_seconds;
    Some(Timestamp { unix_seconds, nanos })
}

/// `2019-03-26T20:14:13.192Z` — the format of the context object's `StartTime`/`EnteredTime`.
pub fn format_rfc3339_millis(millis: i64) -> String {
    let t = Timestamp::from_unix_millis(millis);
    let days = t.unix_seconds.div_euclid(86_400);
    let secs = t.unix_seconds.rem_euclid(86_400);
    let (y, m, d) = civil_from_days(days);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}.{:03}Z",
        secs / 3600,
        (secs / 60) % 60,
        secs % 60,
        t.nanos / 1_000_000
    )
}

fn is_leap(year: i64) -> bool {
    (year % 4 == 0 && year % 100 != 0) || year % 400 == 0
}

fn days_in_month(year: i64, month: i64) -> i64 {
    match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        _ if is_leap(year) => 29,
        _ => 28,
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's civil algorithm).
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + if month <= 2 { 1 } else { 0 };
    (year, month, day)
}

#[cfg(test)]
mod tests {
    use super::*;

    // state-wait: "Timestamps must conform to the RFC3339 profile of ISO 8601, with the further
    // restrictions that an uppercase T must separate the date and time portions, and an
    // uppercase Z must denote that a numeric time zone offset is not present".
    #[test]
    fn state_wait_timestamp_rfc3339_with_uppercase_t_and_z() {
        let t = parse_rfc3339("2016-03-14T01:59:00Z").unwrap();
        assert_eq!(t.unix_seconds, 1_457_920_740);
        assert_eq!(t.nanos, 0);
        let frac = parse_rfc3339("2016-03-14T01:59:00.5Z").unwrap();
        assert_eq!(frac.nanos, 500_000_000);
        assert!(frac > t);
        let offset = parse_rfc3339("2016-03-14T02:59:00+01:00").unwrap();
        assert_eq!(offset, t);
        let negative = parse_rfc3339("2016-03-13T20:59:00-05:00").unwrap();
        assert_eq!(negative, t);
    }

    #[test]
    fn state_wait_timestamp_rejects_lowercase_missing_zone_and_bad_dates() {
        for bad in [
            "2016-03-14t01:59:00Z",
            "2016-03-14T01:59:00z",
            "2016-03-14T01:59:00",
            "2016-03-14 01:59:00Z",
            "2016-02-30T01:59:00Z",
            "2015-02-29T00:00:00Z",
            "2016-13-01T00:00:00Z",
            "2016-03-14T24:00:00Z",
            "2016-03-14T01:59:00.Z",
            "2016-03-14T01:59:00+0100",
            "not a timestamp at all",
            "2016-03-14T01:59:00+0é:0",
            "2016-03-14T01:59:00é",
            "2016-03-14T01:59:0é",
            "",
        ] {
            assert_eq!(parse_rfc3339(bad), None, "{bad}");
        }
        assert!(parse_rfc3339("2016-02-29T00:00:00Z").is_some());
    }

    #[test]
    fn format_rfc3339_millis_round_trips() {
        assert_eq!(format_rfc3339_millis(1_553_631_253_192), "2019-03-26T20:14:13.192Z");
        assert_eq!(format_rfc3339_millis(0), "1970-01-01T00:00:00.000Z");
        let t = parse_rfc3339("2019-03-26T20:14:13.192Z").unwrap();
        assert_eq!(t.unix_millis(), 1_553_631_253_192);
        assert_eq!(Timestamp::from_unix_millis(-1).unix_seconds, -1);
    }
}
