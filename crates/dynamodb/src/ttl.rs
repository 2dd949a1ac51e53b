//! The TTL sweeper: deletes items whose TTL attribute (epoch seconds) has passed, as the
//! DynamoDB service principal (their stream records carry that userIdentity). It sleeps
//! until the earliest known expiry (at most a minute, which also paces stream-retention
//! trimming), and is woken when TTL is enabled or an item with a TTL is written, or when
//! the clock is moved. No busy polling.

use crate::engine::{Engine, Txn};
use std::sync::Arc;

const MAX_SLEEP_MS: u64 = 60_000;
/// Deletions per table per pass (a pass repeats at once while more are due).
const BATCH: usize = 1000;

pub fn spawn_sweeper(engine: &Arc<Engine>) {
    if tokio::runtime::Handle::try_current().is_err() {
        return;
    }
    let weak = Arc::downgrade(engine);
    let wake = engine.ttl_wake.clone();
    let clock = engine.clock.clone();
    tokio::spawn(async move {
        loop {
            let next = {
                let Some(engine) = weak.upgrade() else { return };
                sweep(&engine).await;
                engine.trim_streams();
                engine.expire_tokens();
                next_expiry_ms(&engine)
            };
            let now = clock.now_ms();
            let deadline = next.unwrap_or(u64::MAX).min(now + MAX_SLEEP_MS);
            tokio::select! {
                _ = clock.sleep_until(deadline) => {}
                _ = wake.notified() => {}
            }
        }
    });
}

/// Expired means the clock has passed the TTL second.
fn next_expiry_ms(engine: &Engine) -> Option<u64> {
    engine
        .all_tables()
        .iter()
        .filter_map(|t| t.state.lock().ttl.first().map(|(s, _)| s.saturating_add(1).saturating_mul(1000)))
        .min()
}

/// Deletes every due item; returns how many.
pub async fn sweep(engine: &Engine) -> usize {
    let mut total = 0;
    for table in engine.all_tables() {
        loop {
            let now_s = engine.clock.now_ms() / 1000;
            let mut txn = Txn::default();
            let (submitted, n, name) = {
                let mut st = table.state.lock();
                if st.deleted || st.def.ttl_attribute.is_none() {
                    break;
                }
                let due: Vec<_> = st.ttl.iter().take_while(|(s, _)| *s < now_s).take(BATCH).map(|(_, k)| k.clone()).collect();
                if due.is_empty() {
                    break;
                }
                for key in &due {
                    engine.change(&mut st, key, None, true, &mut txn);
                }
                let name = (st.def.account.clone(), st.def.region.clone(), st.def.name.clone());
                (engine.submit(txn), due.len(), name)
            };
            if let Err(e) = submitted.wait().await {
                tracing::error!(error = ?e, "TTL deletion failed to commit");
                break;
            }
            total += n;
            crate::metrics::ttl_deleted(&engine.metrics, &name.0, &name.1, &name.2, n);
            if n < BATCH {
                break;
            }
        }
    }
    total
}
