//! Tumbling windows for stream event source mappings (`TumblingWindowInSeconds`): each
//! record belongs to the window, aligned to multiples of the window length, that its
//! arrival time falls in. Batches never span windows; every invocation carries the
//! window's bounds and the `state` the function returned last (the function must return
//! a `state` object, or the invocation counts as failed). When the window's end passes —
//! by the clock, or because the next record belongs to a later window — the function is
//! invoked once more with no records and `isFinalInvokeForWindow: true`, retried until it
//! succeeds. A state over 1 MB ends the window early (`isWindowTerminatedEarly`), and the
//! same window goes on with a fresh state. The open window is stored with the shard's
//! checkpoint, so a restart resumes it.

use crate::esm::Mapping;
use crate::esm_stream::iso;
use crate::service::Inner;
use nimbus_core::internal::StreamEntry;
use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};
use std::sync::Arc;
use tokio::sync::watch;

/// Largest state a window carries before it is terminated early (AWS: 1 MB per shard).
const MAX_STATE_BYTES: usize = 1024 * 1024;

/// A shard's open window: its bounds and the state the function returned last.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct OpenWindow {
    pub start_ms: u64,
    pub end_ms: u64,
    pub state: Value,
}

impl OpenWindow {
    fn containing(created_ms: u64, length_ms: u64) -> OpenWindow {
        let start_ms = created_ms - created_ms % length_ms;
        OpenWindow { start_ms, end_ms: start_ms + length_ms, state: Value::Object(Map::new()) }
    }

    /// The state has outgrown what a window may carry.
    pub fn oversized(&self) -> bool {
        self.state.to_string().len() > MAX_STATE_BYTES
    }

    /// Adds the window's fields to an event of `records`.
    pub fn decorate(&self, event: &mut Value, m: &Mapping, shard: &str, last: bool, early: bool) {
        event["window"] = json!({ "start": iso(self.start_ms), "end": iso(self.end_ms) });
        event["state"] = self.state.clone();
        event["shardId"] = json!(shard);
        event["eventSourceARN"] = json!(crate::esm_kinesis::stream_arn(&m.event_source_arn));
        event["isFinalInvokeForWindow"] = json!(last);
        event["isWindowTerminatedEarly"] = json!(early);
    }

    /// Takes the `state` of a successful response; `false` when it has none (a failure).
    pub fn take_state(&mut self, payload: &[u8]) -> bool {
        let Ok(v) = serde_json::from_slice::<Value>(payload) else { return false };
        match v.get("state") {
            Some(s @ Value::Object(_)) => {
                self.state = s.clone();
                true
            }
            _ => false,
        }
    }
}

/// What a windowed shard does next with the records read after its checkpoint.
pub enum Step {
    /// Finish the open window (its end has passed) before anything else.
    Close,
    /// Nothing to do until records arrive or, with a window open, until its end.
    Wait(Option<u64>),
    /// Process this many leading records within this window.
    Process(OpenWindow, usize),
}

pub fn plan(open: Option<&OpenWindow>, records: &[StreamEntry], length_ms: u64, now_ms: u64) -> Step {
    let window = match (open, records.first()) {
        (Some(w), None) if now_ms >= w.end_ms => return Step::Close,
        (Some(w), None) => return Step::Wait(Some(w.end_ms)),
        (Some(w), Some(first)) if first.created_ms >= w.end_ms => return Step::Close,
        (Some(w), Some(_)) => w.clone(),
        (None, None) => return Step::Wait(None),
        (None, Some(first)) => OpenWindow::containing(first.created_ms, length_ms),
    };
    let n = records.iter().take_while(|r| r.created_ms < window.end_ms).count();
    Step::Process(window, n)
}

/// The window's final invocation (no records), retried with backoff until the function
/// succeeds, as AWS holds the shard until it does. `None` when the mapping was stopped.
pub async fn close(inner: &Arc<Inner>, m: &Mapping, shard: &str, w: &OpenWindow, early: bool, stop: &mut watch::Receiver<bool>) -> Option<()> {
    let mut event = json!({ "Records": [] });
    w.decorate(&mut event, m, shard, true, early);
    let mut pause_ms = 100;
    loop {
        match crate::esm::invoke_batch(inner, m, &event, stop, Default::default()).await? {
            Ok(resp) if !resp.function_error => return Some(()),
            _ => tracing::warn!(mapping = %m.uuid, shard, "final invocation of a tumbling window failed; retrying"),
        }
        tokio::select! {
            _ = tokio::time::sleep(std::time::Duration::from_millis(pause_ms)) => {}
            _ = stop.changed() => return None,
        }
        pause_ms = (pause_ms * 2).min(5_000);
    }
}
