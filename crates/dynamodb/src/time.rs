//! Timestamps in the text forms DynamoDB uses (stream labels: `2024-05-01T12:34:56.789`).

/// Days since 1970-01-01 → (year, month, day), proleptic Gregorian.
fn civil(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

/// `YYYY-MM-DDTHH:MM:SS.mmm` (UTC), the form of a stream label.
pub fn stream_label(ms: u64) -> String {
    let secs = (ms / 1000) as i64;
    let (y, mo, d) = civil(secs.div_euclid(86_400));
    let sod = secs.rem_euclid(86_400);
    format!("{y:04}-{mo:02}-{d:02}T{:02}:{:02}:{:02}.{:03}", sod / 3600, (sod / 60) % 60, sod % 60, ms % 1000)
}

/// Epoch seconds with milliseconds, as the JSON protocol writes timestamps.
pub fn epoch_seconds(ms: u64) -> serde_json::Value {
    serde_json::json!(ms as f64 / 1000.0)
}

#[cfg(test)]
mod tests {
    #[test]
    fn labels() {
        assert_eq!(super::stream_label(0), "1970-01-01T00:00:00.000");
        assert_eq!(super::stream_label(1_714_566_896_789), "2024-05-01T12:34:56.789");
    }
}
