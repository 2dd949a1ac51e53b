//! `nimbus_core::internal::LogSink` on the logs service: how Lambda (or any service)
//! writes log lines. Creates the group and stream when missing, changes memory under a
//! short lock and submits the batch for group commit without waiting (a dropped
//! `Pending` commits in the background), so the caller never blocks on disk I/O. Such
//! lines are durable a group commit later.

use crate::engine::GroupKey;
use crate::service::LogsService;
use nimbus_core::internal::{LogLine, LogSink};

impl LogSink for LogsService {
    fn append(&self, account: &str, region: &str, group: &str, stream: &str, lines: Vec<LogLine>) {
        let key = GroupKey { account: account.to_string(), region: region.to_string(), name: group.to_string() };
        let events = lines.into_iter().map(|l| (l.timestamp_ms, l.message)).collect();
        // Dropping the pending commit: it is committed in the background, nobody waits.
        let (pending, records) = self.engine.append(&key, stream, events);
        drop(pending);
        self.apply_filters(&key, stream, &records);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::{MemoryStore, Scan, SqliteStore};
    use nimbus_core::storage::Durability;
    use nimbus_core::Clock;
    use std::sync::Arc;

    fn lines(n: u64) -> Vec<LogLine> {
        (0..n).map(|i| LogLine { timestamp_ms: 1000 + i, message: format!("line {i}") }).collect()
    }

    /// The stream's events as a read sees them (after a sync, as the operations do).
    async fn count(svc: &LogsService, key: &GroupKey, stream: &str) -> usize {
        svc.engine.sync().await.expect("sync");
        let Some(id) = svc.engine.read(|st| st.groups.get(key).and_then(|g| g.streams.get(stream)).map(|s| s.id)) else { return 0 };
        let all = Scan { from: (0, 0), to: (u64::MAX, u64::MAX), backward: false, max_events: usize::MAX, max_bytes: usize::MAX };
        svc.engine.events(id, &all).expect("read").len()
    }

    #[tokio::test]
    async fn append_creates_group_and_stream() {
        let svc = LogsService::new(Clock::new(), Arc::new(MemoryStore::new())).expect("service");
        let sink: &dyn LogSink = &svc;
        sink.append("111122223333", "eu-west-1", "/aws/lambda/f", "2024/01/01/[$LATEST]abc", lines(3));
        sink.append("111122223333", "eu-west-1", "/aws/lambda/f", "2024/01/01/[$LATEST]abc", lines(2));
        let key = GroupKey { account: "111122223333".into(), region: "eu-west-1".into(), name: "/aws/lambda/f".into() };
        assert_eq!(count(&svc, &key, "2024/01/01/[$LATEST]abc").await, 5);
    }

    #[tokio::test]
    async fn appended_lines_are_durable() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("logs.db");
        let key = GroupKey { account: "000000000000".into(), region: "us-east-1".into(), name: "/aws/lambda/g".into() };
        {
            let svc = LogsService::new(Clock::new(), Arc::new(SqliteStore::open(&path, Durability::Process).expect("open"))).expect("service");
            svc.append(&key.account, &key.region, &key.name, "s", lines(4));
            // Commits are ordered: once this one is durable, so is the append before it.
            let other = GroupKey { name: "/other".into(), ..key.clone() };
            svc.engine.create_group(&other, Default::default()).expect("create").wait().await.expect("commit");
        }
        // The dropped append's background commit task still holds the writer until it
        // runs: let it finish before reopening.
        for _ in 0..3 {
            tokio::task::yield_now().await;
        }
        let svc = LogsService::new(Clock::new(), Arc::new(SqliteStore::open(&path, Durability::Process).expect("reopen"))).expect("service");
        assert_eq!(count(&svc, &key, "s").await, 4);
    }

    /// Read-your-writes: lines the sink submitted without waiting for their commit are
    /// seen by the next read (the read's barrier commits them first).
    #[tokio::test]
    async fn appended_lines_are_readable_at_once() {
        let dir = tempfile::tempdir().expect("tempdir");
        let svc = LogsService::new(Clock::new(), Arc::new(SqliteStore::open(&dir.path().join("logs.db"), Durability::Process).expect("open"))).expect("service");
        let key = GroupKey { account: "000000000000".into(), region: "us-east-1".into(), name: "/aws/lambda/h".into() };
        for round in 1..=3 {
            svc.append(&key.account, &key.region, &key.name, "s", lines(10));
            assert_eq!(count(&svc, &key, "s").await, 10 * round);
        }
    }
}
