//! Retention: Increase/DecreaseStreamRetentionPeriod (24 hours to 365 days, with AWS's
//! messages for out-of-range values and for a change in the wrong direction), and the
//! sweeper that deletes records past their stream's retention from the store, once a
//! minute on nimbus's clock (reads already skip them, so the sweep only frees space).
//! <https://docs.aws.amazon.com/kinesis/latest/APIReference/API_IncreaseStreamRetentionPeriod.html>

use crate::errors::{KinesisError, KinesisResult};
use crate::service::{KinesisService, Registry};
use crate::store::{Change, Store};
use nimbus_core::{Clock, RequestContext};
use parking_lot::RwLock;
use serde_json::{json, Value};
use std::sync::{Arc, Weak};

pub const MIN_HOURS: i64 = 24;
pub const MAX_HOURS: i64 = 8760;
const SWEEP_EVERY_MS: u64 = 60_000;

impl KinesisService {
    pub(crate) async fn change_retention(
        &self,
        ctx: &RequestContext,
        input: &Value,
        increase: bool,
    ) -> KinesisResult<Value> {
        let hours = input
            .get("RetentionPeriodHours")
            .and_then(Value::as_i64)
            .ok_or_else(|| KinesisError::missing("retentionPeriodHours"))?;
        if hours < 1 {
            return Err(KinesisError::constraint(
                hours,
                "retentionPeriodHours",
                "Member must have value greater than or equal to 1",
            ));
        }
        let handle = self.stream(ctx, input)?;
        let pending = {
            let mut st = handle.state.lock();
            let name = st.meta.name.clone();
            let current = st.meta.retention_hours as i64;
            if hours < MIN_HOURS {
                return Err(KinesisError::InvalidArgument(format!("Minimum allowed retention period is {MIN_HOURS} hours. Requested retention period ({hours} hours) is too short.")));
            }
            if hours > MAX_HOURS {
                return Err(KinesisError::InvalidArgument(format!("Maximum allowed retention period is {MAX_HOURS} hours. Requested retention period ({hours} hours) is too long.")));
            }
            if increase && hours < current {
                return Err(KinesisError::InvalidArgument(format!(
                    "Requested retention period ({hours} hours) for stream {name} can not be shorter than existing retention period ({current} hours). Use DecreaseRetentionPeriod API."
                )));
            }
            if !increase && hours > current {
                return Err(KinesisError::InvalidArgument(format!(
                    "Requested retention period ({hours} hours) for stream {name} can not be longer than existing retention period ({current} hours). Use IncreaseRetentionPeriod API."
                )));
            }
            st.meta.retention_hours = hours as u32;
            self.save_meta(&st.meta)
        };
        pending.wait().await.map_err(KinesisError::Internal)?;
        Ok(json!({}))
    }
}

/// Starts the retention sweeper (when there is a runtime to run it on).
pub fn start_sweeper(service: &KinesisService) {
    let Ok(rt) = tokio::runtime::Handle::try_current() else {
        return;
    };
    let registry = Arc::downgrade(&service.registry);
    let store = Arc::downgrade(&service.store);
    let clock = service.clock.clone();
    rt.spawn(sweep_forever(registry, store, clock));
}

async fn sweep_forever(registry: Weak<RwLock<Registry>>, store: Weak<Store>, clock: Clock) {
    loop {
        clock.sleep_until(clock.now_ms() + SWEEP_EVERY_MS).await;
        let (Some(registry), Some(store)) = (registry.upgrade(), store.upgrade()) else {
            return;
        };
        let now = clock.now_ms();
        let cutoffs: Vec<(i64, u64)> = registry
            .read()
            .by_id
            .values()
            .map(|h| (h.id, now.saturating_sub(h.state.lock().meta.retention_ms())))
            .collect();
        for (stream_id, before_ms) in cutoffs {
            let _ = store
                .apply(Change::Trim {
                    stream_id,
                    before_ms,
                })
                .wait()
                .await;
        }
    }
}
