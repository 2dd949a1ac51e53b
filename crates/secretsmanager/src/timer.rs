//! The one task that acts on nimbus's clock: it sleeps until the earliest scheduled
//! deletion or rotation (waking early when one changes, or when the clock jumps), then
//! deletes the secrets whose recovery window has passed and starts the rotations due.

use crate::service::Inner;
use std::sync::Arc;

pub(crate) fn start(inner: Arc<Inner>) {
    if tokio::runtime::Handle::try_current().is_err() {
        return;
    }
    tokio::spawn(run(inner));
}

/// The earliest deadline of any secret, if any.
fn next_deadline(inner: &Inner) -> Option<u64> {
    let secrets = inner.reg.secrets.read();
    secrets.values().flat_map(|s| [s.delete_at_ms, s.rotation.enabled.then_some(s.rotation.next_rotation_ms).flatten()]).flatten().min()
}

async fn run(inner: Arc<Inner>) {
    loop {
        let changed = inner.changed.notified();
        match next_deadline(&inner) {
            Some(d) => tokio::select! {
                _ = inner.clock.sleep_until(d) => {}
                _ = changed => {}
            },
            None => changed.await,
        }
        fire(&inner).await;
    }
}

async fn fire(inner: &Arc<Inner>) {
    let now = inner.clock.now_ms();
    let (deletions, rotations) = {
        let secrets = inner.reg.secrets.read();
        let deletions: Vec<_> = secrets.values().filter(|s| s.delete_at_ms.is_some_and(|t| t <= now)).cloned().collect();
        let rotations: Vec<_> = secrets.values().filter(|s| s.deleted_ms.is_none() && s.rotation.enabled && s.rotation.next_rotation_ms.is_some_and(|t| t <= now)).cloned().collect();
        (deletions, rotations)
    };
    for sec in deletions {
        let _w = inner.write.lock().await;
        drop(inner.reg.remove(&sec).wait().await);
    }
    for mut sec in rotations {
        // Rescheduled first, so a slow or failing rotation fires once per interval.
        {
            let _w = inner.write.lock().await;
            sec.rotation.next_rotation_ms = crate::schedule::next_after(&sec.rotation, now);
            drop(inner.reg.save(sec.clone()).wait().await);
        }
        let inner = inner.clone();
        tokio::spawn(async move {
            let token = uuid::Uuid::new_v4().to_string();
            if let Err(f) = inner.run_rotation(&sec.account, &sec.region, &sec.arn, &token).await {
                tracing::warn!(secret = %sec.arn, failure = %f, "secretsmanager: scheduled rotation failed");
            }
        });
    }
}
