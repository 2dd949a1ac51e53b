//! Per-shard throughput as AWS enforces it on provisioned streams: writes up to 1 MiB or
//! 1,000 records per second (a record over 1 MiB bursts, then is paid off), reads up to 5 GetRecords calls and 2 MiB per second (a call
//! that returned more holds the next ones back until the shard's read rate is paid off),
//! all on nimbus's clock. `--kinesis-no-throughput-limits` turns them off. The account's
//! shard limit (DescribeLimits) is here too.
//! <https://docs.aws.amazon.com/streams/latest/dev/service-sizes-and-limits.html>

/// One shard's current windows.
#[derive(Debug, Default, Clone)]
pub struct ShardRates {
    write_second: u64,
    write_records: u32,
    write_bytes: u64,
    read_second: u64,
    read_calls: u32,
    read_bytes: u64,
    read_free_at_ms: u64,
    write_free_at_ms: u64,
}

pub const WRITE_RECORDS_PER_S: u32 = 1_000;
pub const WRITE_BYTES_PER_S: u64 = 1 << 20;
pub const READ_CALLS_PER_S: u32 = 5;
pub const READ_BYTES_PER_S: u64 = 2 << 20;

/// The account's open-shard limit in a region (500 in the largest regions, 200 elsewhere).
pub fn shard_limit(region: &str) -> u32 {
    match region {
        "us-east-1" | "us-west-2" | "eu-west-1" => 500,
        _ => 200,
    }
}

/// On-demand streams per account and region.
pub const ON_DEMAND_STREAM_LIMIT: u32 = 50;

impl ShardRates {
    /// Takes room for one record of `bytes` now; false when the shard is over its write rate.
    pub fn take_write(&mut self, now_ms: u64, bytes: u64) -> bool {
        let second = now_ms / 1000;
        if second != self.write_second {
            self.write_second = second;
            self.write_records = 0;
            self.write_bytes = 0;
        }
        if now_ms < self.write_free_at_ms || self.write_records + 1 > WRITE_RECORDS_PER_S {
            return false;
        }
        if bytes > WRITE_BYTES_PER_S {
            // A large record (over 1 MiB, up to the stream's MaxRecordSizeInKiB) bursts
            // past the rate when the shard's second is unused, then holds the shard's
            // writes back until the 1 MiB/s average has paid it off ("Handle large records").
            if self.write_bytes > 0 {
                return false;
            }
            self.write_records += 1;
            self.write_bytes = WRITE_BYTES_PER_S;
            self.write_free_at_ms = (second + 1) * 1000 + (bytes - WRITE_BYTES_PER_S) * 1000 / WRITE_BYTES_PER_S;
            return true;
        }
        if self.write_bytes + bytes > WRITE_BYTES_PER_S {
            return false;
        }
        self.write_records += 1;
        self.write_bytes += bytes;
        true
    }

    /// Takes one GetRecords call now; false when the shard is over its read rate.
    pub fn take_read_call(&mut self, now_ms: u64) -> bool {
        let second = now_ms / 1000;
        if second != self.read_second {
            self.read_second = second;
            self.read_calls = 0;
            self.read_bytes = 0;
        }
        if self.read_calls >= READ_CALLS_PER_S
            || self.read_bytes >= READ_BYTES_PER_S
            || now_ms < self.read_free_at_ms
        {
            return false;
        }
        self.read_calls += 1;
        true
    }

    /// Charges `bytes` read now against the 2 MiB/s budget.
    pub fn charge_read(&mut self, now_ms: u64, bytes: u64) {
        self.read_bytes += bytes;
        // A read past one second's budget (GetRecords returns up to 10 MiB) holds the
        // shard's next calls back until the budget has paid it off.
        if bytes > READ_BYTES_PER_S {
            self.read_free_at_ms = self
                .read_free_at_ms
                .max(now_ms + bytes * 1000 / READ_BYTES_PER_S);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_are_held_to_1000_records_per_second() {
        let mut r = ShardRates::default();
        for _ in 0..1000 {
            assert!(r.take_write(5_000, 10));
        }
        assert!(!r.take_write(5_999, 10));
        assert!(r.take_write(6_000, 10));
    }

    #[test]
    fn a_large_record_bursts_then_is_paid_off_at_one_mib_per_second() {
        let mut r = ShardRates::default();
        assert!(r.take_write(1_000, 100));
        assert!(!r.take_write(1_100, 3 << 20), "the second has been used");
        assert!(r.take_write(2_000, 3 << 20), "an unused second takes it");
        // 2 MiB over the rate: the shard is held back for two more seconds.
        assert!(!r.take_write(3_500, 10));
        assert!(!r.take_write(4_999, 10));
        assert!(r.take_write(5_000, 10));
    }

    #[test]
    fn reads_are_held_to_five_calls_per_second_and_big_reads_pay_back() {
        let mut r = ShardRates::default();
        for _ in 0..5 {
            assert!(r.take_read_call(1_000));
        }
        assert!(!r.take_read_call(1_500));
        assert!(r.take_read_call(2_000));
        r.charge_read(2_000, 10 << 20);
        assert!(!r.take_read_call(6_000));
        assert!(r.take_read_call(7_000));
    }
}
