//! Timestamps in the text forms DynamoDB uses (stream labels: `2024-05-01T12:34:56.789`).

use nimbus_core::time::civil_from_days as civil;

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
