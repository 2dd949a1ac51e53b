//! The numbers Kinesis shows that nimbus computes with no I/O: 128-bit hash keys (the MD5
//! of a partition key, or an `ExplicitHashKey`), the hash-key ranges AWS gives N new
//! shards (an even split of 2^128, the last one ending at 2^128-1), shard ids, and
//! sequence numbers (56-digit decimal strings that grow within a shard).
//! <https://docs.aws.amazon.com/streams/latest/dev/key-concepts.html>

use md5::{Digest, Md5};

/// The hash key of a partition key: its MD5 digest read as a big-endian 128-bit integer.
pub fn hash_of_partition_key(partition_key: &str) -> u128 {
    let digest = Md5::digest(partition_key.as_bytes());
    u128::from_be_bytes(digest.into())
}

/// An `ExplicitHashKey` (a decimal in 0..2^128); `None` when it is not one.
pub fn parse_hash_key(text: &str) -> Option<u128> {
    if text.is_empty()
        || text.len() > 39
        || !text.bytes().all(|b| b.is_ascii_digit())
        || (text.len() > 1 && text.starts_with('0'))
    {
        return None;
    }
    text.parse::<u128>().ok()
}

/// The ranges of `n` shards covering the whole key space, as AWS assigns them: each
/// `floor(2^128 / n)` wide, the last one ending at 2^128-1.
pub fn even_ranges(n: u32) -> Vec<(u128, u128)> {
    even_ranges_within(0, u128::MAX, n)
}

/// `n` even ranges of `start..=end` (UpdateShardCount's uniform scaling of the whole space).
pub fn even_ranges_within(start: u128, end: u128, n: u32) -> Vec<(u128, u128)> {
    let n = n.max(1) as u128;
    if n == 1 {
        return vec![(start, end)];
    }
    // floor((end - start + 1) / n) without overflowing when the span is 2^128.
    let span_minus_one = end - start;
    let width = span_minus_one / n + u128::from(span_minus_one % n == n - 1);
    (0..n)
        .map(|i| {
            let s = start + i * width;
            let e = if i == n - 1 {
                end
            } else {
                start + (i + 1) * width - 1
            };
            (s, e)
        })
        .collect()
}

/// `shardId-000000000007`.
pub fn shard_id(index: u32) -> String {
    format!("shardId-{index:012}")
}

/// The index in a shard id (`shardId-000000000007` → 7); also accepts the bare number
/// form some clients send (`000000000007`) as AWS does.
pub fn shard_index(shard_id: &str) -> Option<u32> {
    let digits = shard_id.strip_prefix("shardId-").unwrap_or(shard_id);
    if digits.is_empty() || digits.len() > 12 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    digits.parse().ok()
}

/// A record's sequence number as Kinesis shows it: 56 decimal digits, `49`, the stream's
/// creation time (ms, 14 digits), the shard's index (8 digits) and the stream-wide
/// position (32 digits). Within a shard it grows with the position; it names its stream
/// and shard, so a number used on the wrong shard is recognised.
pub fn sequence_number(stream_created_ms: u64, shard: u32, position: u64) -> String {
    format!(
        "49{:014}{:08}{:032}",
        stream_created_ms % 100_000_000_000_000,
        shard,
        position
    )
}

/// What a sequence number encodes: (stream creation ms, shard index, position).
pub fn parse_sequence_number(text: &str) -> Option<(u64, u32, u64)> {
    if text.len() != 56 || !text.starts_with("49") || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    Some((
        text[2..16].parse().ok()?,
        text[16..24].parse().ok()?,
        text[24..].parse().ok()?,
    ))
}

/// Whether `text` has the shape of a sequence number in the model (`0|([1-9]\d{0,128})`).
pub fn looks_like_sequence_number(text: &str) -> bool {
    !text.is_empty()
        && text.len() <= 129
        && text.bytes().all(|b| b.is_ascii_digit())
        && (text == "0" || !text.starts_with('0'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_split_2_to_the_128_as_aws_does() {
        let one = even_ranges(1);
        assert_eq!(one, vec![(0, u128::MAX)]);
        let two = even_ranges(2);
        assert_eq!(
            two[0].1.to_string(),
            "170141183460469231731687303715884105727"
        );
        assert_eq!(
            two[1].0.to_string(),
            "170141183460469231731687303715884105728"
        );
        assert_eq!(
            two[1].1.to_string(),
            "340282366920938463463374607431768211455"
        );
        // Three shards, as DescribeStream shows them on AWS.
        let three = even_ranges(3);
        assert_eq!(
            three[0].1.to_string(),
            "113427455640312821154458202477256070484"
        );
        assert_eq!(
            three[1].0.to_string(),
            "113427455640312821154458202477256070485"
        );
        assert_eq!(
            three[2].0.to_string(),
            "226854911280625642308916404954512140970"
        );
        assert_eq!(three[2].1, u128::MAX);
        for n in 1..50 {
            let r = even_ranges(n);
            assert_eq!(r.len(), n as usize);
            assert_eq!(r[0].0, 0);
            assert_eq!(r.last().map(|x| x.1), Some(u128::MAX));
            for w in r.windows(2) {
                assert_eq!(w[0].1 + 1, w[1].0);
            }
        }
    }

    #[test]
    fn partition_keys_hash_by_md5() {
        // MD5("a") = 0cc175b9c0f1b6a831c399e269772661
        assert_eq!(
            hash_of_partition_key("a"),
            0x0cc175b9c0f1b6a831c399e269772661
        );
    }

    #[test]
    fn sequence_numbers_round_trip_and_sort_within_a_shard() {
        let a = sequence_number(1_733_000_000_000, 3, 41);
        let b = sequence_number(1_733_000_000_000, 3, 1042);
        assert_eq!(a.len(), 56);
        assert!(a < b);
        assert_eq!(
            parse_sequence_number(&b),
            Some((1_733_000_000_000, 3, 1042))
        );
        assert_eq!(parse_sequence_number("123"), None);
    }

    #[test]
    fn hash_keys_parse_as_decimals_below_2_to_the_128() {
        assert_eq!(
            parse_hash_key("340282366920938463463374607431768211455"),
            Some(u128::MAX)
        );
        assert_eq!(
            parse_hash_key("340282366920938463463374607431768211456"),
            None
        );
        assert_eq!(parse_hash_key("01"), None);
        assert_eq!(shard_index("shardId-000000000012"), Some(12));
    }
}
