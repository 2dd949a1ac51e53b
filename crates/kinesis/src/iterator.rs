//! Shard iterators: opaque base64 strings naming a stream (by its internal id, so a
//! recreated stream of the same name does not accept old iterators), a shard, the next
//! position to read, and when the iterator was issued. They expire five minutes after
//! issue (ExpiredIteratorException, with AWS's message).
//! <https://docs.aws.amazon.com/kinesis/latest/APIReference/API_GetShardIterator.html>

use crate::errors::KinesisError;
use base64::Engine;

/// How long an iterator stays valid.
pub const LIFETIME_MS: u64 = 300_000;

#[derive(Debug, Clone, PartialEq)]
pub struct Iterator {
    pub stream_id: i64,
    pub stream_name: String,
    pub shard: u32,
    /// The first position the next GetRecords may return.
    pub position: u64,
    pub issued_ms: u64,
}

impl Iterator {
    pub fn encode(&self) -> String {
        let text = format!(
            "nimbus-kinesis-iterator|{}|{}|{}|{}|{}",
            self.stream_id, self.shard, self.position, self.issued_ms, self.stream_name
        );
        base64::engine::general_purpose::STANDARD.encode(text)
    }

    pub fn decode(text: &str) -> Result<Iterator, KinesisError> {
        let invalid = || KinesisError::InvalidArgument(format!("Invalid ShardIterator: {text}"));
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(text)
            .map_err(|_| invalid())?;
        let decoded = String::from_utf8(bytes).map_err(|_| invalid())?;
        let mut parts = decoded.splitn(6, '|');
        if parts.next() != Some("nimbus-kinesis-iterator") {
            return Err(invalid());
        }
        let mut num = || {
            parts
                .next()
                .and_then(|p| p.parse::<u64>().ok())
                .ok_or_else(invalid)
        };
        let stream_id = num()? as i64;
        let shard = num()? as u32;
        let position = num()?;
        let issued_ms = num()?;
        let stream_name = parts.next().ok_or_else(invalid)?.to_string();
        Ok(Iterator {
            stream_id,
            stream_name,
            shard,
            position,
            issued_ms,
        })
    }

    /// ExpiredIteratorException once the iterator is older than five minutes.
    pub fn check_fresh(&self, now_ms: u64) -> Result<(), KinesisError> {
        if now_ms.saturating_sub(self.issued_ms) > LIFETIME_MS {
            return Err(KinesisError::ExpiredIterator(format!(
                "Iterator expired. The iterator was created at time {} while right now it is {} which is further in the future than the tolerated delay of {LIFETIME_MS} milliseconds.",
                java_date(self.issued_ms),
                java_date(now_ms)
            )));
        }
        Ok(())
    }
}

/// A time as Java's `Date.toString()` writes it in UTC (`Sat Dec 05 08:00:00 UTC 2026`),
/// which is how Kinesis words times in its messages.
pub fn java_date(ms: u64) -> String {
    const DAYS: [&str; 7] = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"];
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let secs = ms / 1000;
    let days = (secs / 86_400) as i64;
    let (y, m, d) = nimbus_core::time::civil_from_days(days);
    let rem = secs % 86_400;
    format!(
        "{} {} {:02} {:02}:{:02}:{:02} UTC {}",
        DAYS[(days % 7) as usize],
        MONTHS[(m - 1) as usize],
        d,
        rem / 3600,
        rem % 3600 / 60,
        rem % 60,
        y
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn iterators_round_trip_and_expire_after_five_minutes() {
        let it = Iterator {
            stream_id: 3,
            stream_name: "s|x".into(),
            shard: 2,
            position: 99,
            issued_ms: 1_000_000,
        };
        assert_eq!(Iterator::decode(&it.encode()).ok(), Some(it.clone()));
        assert!(it.check_fresh(1_300_000).is_ok());
        assert!(it.check_fresh(1_300_001).is_err());
        assert!(Iterator::decode("bm9wZQ==").is_err());
    }

    #[test]
    fn dates_read_like_java() {
        // 2020-03-04T01:02:40Z was a Wednesday.
        assert_eq!(java_date(1_583_283_760_000), "Wed Mar 04 01:02:40 UTC 2020");
    }
}
