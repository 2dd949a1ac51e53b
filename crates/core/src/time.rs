//! Calendar time in the text forms AWS APIs use (`2026-12-03T13:27:00Z` in IAM and STS
//! documents), from and to milliseconds since the epoch.

/// Days since 1970-01-01 → (year, month, day), proleptic Gregorian (Howard Hinnant's algorithm).
pub fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

/// (year, month, day) → days since 1970-01-01.
pub fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400);
    let mp = (i64::from(m) + 9) % 12;
    let doy = (153 * mp + 2) / 5 + i64::from(d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// `YYYY-MM-DDTHH:MM:SSZ` (UTC, whole seconds), as IAM and STS write dates.
pub fn iso8601(ms: u64) -> String {
    let secs = (ms / 1000) as i64;
    let (y, mo, d) = civil_from_days(secs.div_euclid(86_400));
    let sod = secs.rem_euclid(86_400);
    format!("{y:04}-{mo:02}-{d:02}T{:02}:{:02}:{:02}Z", sod / 3600, (sod / 60) % 60, sod % 60)
}

/// Parses `YYYY-MM-DDTHH:MM:SS[.fff](Z|±HH:MM)` or a date alone into milliseconds.
pub fn parse_iso8601(s: &str) -> Option<u64> {
    let s = s.trim();
    let num = |a: usize, b: usize| s.get(a..b).and_then(|t| t.parse::<u32>().ok());
    let (y, mo, d) = (num(0, 4)?, num(5, 7)?, num(8, 10)?);
    if s.as_bytes().get(4) != Some(&b'-') || s.as_bytes().get(7) != Some(&b'-') || !(1..=12).contains(&mo) || !(1..=31).contains(&d) {
        return None;
    }
    let days = days_from_civil(i64::from(y), mo, d);
    let mut secs = days * 86_400;
    let mut ms_frac = 0u64;
    if s.len() > 10 {
        if !matches!(s.as_bytes()[10], b'T' | b't' | b' ') {
            return None;
        }
        let (h, mi, se) = (num(11, 13)?, num(14, 16)?, num(17, 19)?);
        if h > 23 || mi > 59 || se > 60 {
            return None;
        }
        secs += i64::from(h * 3600 + mi * 60 + se);
        let mut rest = &s[19..];
        if let Some(frac) = rest.strip_prefix('.') {
            let digits: String = frac.chars().take_while(|c| c.is_ascii_digit()).collect();
            let padded = format!("{digits:0<3}");
            ms_frac = padded[..3].parse().ok()?;
            rest = &frac[digits.len()..];
        }
        match rest {
            "" | "Z" | "z" => {}
            tz => {
                let sign = match tz.as_bytes().first()? {
                    b'+' => 1,
                    b'-' => -1,
                    _ => return None,
                };
                let hh: i64 = tz.get(1..3)?.parse().ok()?;
                let mm: i64 = tz.get(tz.len() - 2..)?.parse().ok()?;
                secs -= sign * (hh * 3600 + mm * 60);
            }
        }
    }
    u64::try_from(secs).ok().map(|s| s * 1000 + ms_frac)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips() {
        assert_eq!(iso8601(0), "1970-01-01T00:00:00Z");
        assert_eq!(iso8601(1_714_566_896_789), "2024-05-01T12:34:56Z");
        assert_eq!(parse_iso8601("2024-05-01T12:34:56Z"), Some(1_714_566_896_000));
        assert_eq!(parse_iso8601("2024-05-01T12:34:56.789Z"), Some(1_714_566_896_789));
        assert_eq!(parse_iso8601("2024-05-01T14:34:56+02:00"), Some(1_714_566_896_000));
        assert_eq!(parse_iso8601("2024-05-01"), Some(1_714_521_600_000));
        assert_eq!(parse_iso8601("2024-13-01"), None);
        assert_eq!(parse_iso8601("yesterday"), None);
        for days in [-1000i64, 0, 59, 60, 11_016, 20_000] {
            let (y, m, d) = civil_from_days(days);
            assert_eq!(days_from_civil(y, m, d), days);
        }
    }
}

const WEEKDAYS: [&str; 7] = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"];
const MONTHS: [&str; 12] = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];

/// `YYYY-MM-DDTHH:MM:SS.mmmZ` (UTC, milliseconds), as S3 writes dates in its documents.
pub fn iso8601_ms(ms: u64) -> String {
    let whole = iso8601(ms);
    format!("{}.{:03}Z", &whole[..whole.len() - 1], ms % 1000)
}

/// The HTTP date of RFC 9110 (`Wed, 12 Oct 2009 17:50:00 GMT`), as S3 writes
/// `Last-Modified` and other date headers.
pub fn http_date(ms: u64) -> String {
    let secs = (ms / 1000) as i64;
    let days = secs.div_euclid(86_400);
    let (y, mo, d) = civil_from_days(days);
    let sod = secs.rem_euclid(86_400);
    let weekday = WEEKDAYS[days.rem_euclid(7) as usize];
    let month = MONTHS[(mo - 1) as usize];
    format!("{weekday}, {d:02} {month} {y:04} {:02}:{:02}:{:02} GMT", sod / 3600, (sod / 60) % 60, sod % 60)
}

/// Parses an HTTP date (`Wed, 12 Oct 2009 17:50:00 GMT`; also the obsolete RFC 850 and
/// asctime forms clients may send) or an ISO 8601 date into milliseconds.
pub fn parse_http_date(s: &str) -> Option<u64> {
    let s = s.trim();
    if let Some(ms) = parse_iso8601(s) {
        return Some(ms);
    }
    let parts: Vec<&str> = s.split(|c: char| c == ' ' || c == ',' || c == '-').filter(|p| !p.is_empty()).collect();
    let month_of = |m: &str| MONTHS.iter().position(|x| x.eq_ignore_ascii_case(m)).map(|i| i as u32 + 1);
    // IMF-fixdate / RFC 850: weekday, day, month, year, time, GMT; asctime: weekday, month, day, time, year.
    let (day, month, year, time) = match parts.as_slice() {
        [_, d, m, y, t, ..] if month_of(m).is_some() => (d.parse::<u32>().ok()?, month_of(m)?, y.parse::<i64>().ok()?, *t),
        [_, m, d, t, y] => (d.parse::<u32>().ok()?, month_of(m)?, y.parse::<i64>().ok()?, *t),
        _ => return None,
    };
    let year = if year < 100 { if year < 70 { 2000 + year } else { 1900 + year } } else { year };
    let hms: Vec<i64> = time.split(':').map(|p| p.parse::<i64>().ok()).collect::<Option<Vec<_>>>()?;
    let [h, mi, se] = hms.as_slice() else { return None };
    if !(1..=31).contains(&day) || *h > 23 || *mi > 59 || *se > 60 {
        return None;
    }
    let secs = days_from_civil(year, month, day) * 86_400 + h * 3600 + mi * 60 + se;
    u64::try_from(secs).ok().map(|s| s * 1000)
}

#[cfg(test)]
mod http_date_tests {
    use super::*;

    #[test]
    fn http_dates_round_trip() {
        let ms = 1_255_369_800_000; // 2009-10-12T17:50:00Z, a Monday
        assert_eq!(http_date(ms), "Mon, 12 Oct 2009 17:50:00 GMT");
        assert_eq!(parse_http_date("Mon, 12 Oct 2009 17:50:00 GMT"), Some(ms));
        assert_eq!(parse_http_date("Monday, 12-Oct-09 17:50:00 GMT"), Some(ms));
        assert_eq!(parse_http_date("Mon Oct 12 17:50:00 2009"), Some(ms));
        assert_eq!(parse_http_date("2009-10-12T17:50:00Z"), Some(ms));
        assert_eq!(iso8601_ms(ms + 5), "2009-10-12T17:50:00.005Z");
        assert_eq!(parse_http_date("not a date"), None);
    }
}
