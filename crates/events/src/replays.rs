//! Replays: each replay's record (state, event window, destination, and how far it got),
//! in memory and in core's document table (`replay/<name>` documents, written before the
//! call or step that changed it goes on), and the task that sends a replay's archived
//! events back to its bus with `replay-name` set. StartReplay starts the task; at start
//! nimbus starts it again for every replay a previous process left `STARTING`, `RUNNING`
//! or `CANCELLING`. A resumed replay goes on from the `time` of the last event it had
//! handed to delivery, so the events sharing that `time` are sent again: each event of
//! the window is sent at least once.
//! <https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-replay-archived-event.html>

use crate::archives::{ArchiveKey, Archives};
use crate::deliver::{self, Targets};
use crate::registry::Registry;
use nimbus_core::doc_store::Doc;
use nimbus_core::Clock;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use std::sync::Arc;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ReplayState {
    Starting,
    Running,
    Cancelling,
    Completed,
    Cancelled,
}

impl ReplayState {
    pub fn as_str(self) -> &'static str {
        match self {
            ReplayState::Starting => "STARTING",
            ReplayState::Running => "RUNNING",
            ReplayState::Cancelling => "CANCELLING",
            ReplayState::Completed => "COMPLETED",
            ReplayState::Cancelled => "CANCELLED",
        }
    }

    /// Whether the replay still has a task to run (or to finish).
    pub fn unfinished(self) -> bool {
        matches!(self, ReplayState::Starting | ReplayState::Running | ReplayState::Cancelling)
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Replay {
    pub archive_arn: String,
    /// The archive's name and its bus (the replay's destination).
    pub archive: String,
    pub bus: String,
    pub description: Option<String>,
    pub destination: Value,
    pub event_start_ms: u64,
    pub event_end_ms: u64,
    pub state: ReplayState,
    pub started_ms: u64,
    pub ended_ms: Option<u64>,
    /// The `time` of the last event handed to delivery (`EventLastReplayedTime`); every
    /// event before it is done, so a resumed replay starts there.
    pub last_replayed_ms: Option<u64>,
}

fn doc_of(key: &ArchiveKey, r: &Replay) -> Doc {
    Doc { keys: [key.0.clone(), key.1.clone(), format!("replay/{}", key.2)], doc: serde_json::to_string(r).unwrap_or_default() }
}

impl Archives {
    /// Adds a new replay (false: the name is taken), durable when this resolves.
    pub async fn insert_replay(&self, key: &ArchiveKey, r: Replay) -> Result<bool, String> {
        let pending = {
            let mut replays = self.replays.write();
            if replays.contains_key(key) {
                return Ok(false);
            }
            let pending = self.docs.put(doc_of(key, &r));
            replays.insert(key.clone(), r);
            pending
        };
        pending.wait().await?;
        Ok(true)
    }

    /// Applies `change` to the replay and stores it; `change` answers None to leave it as
    /// it is. The write is issued under the lock, so the stored record follows the order of
    /// the changes. Ok(None): no such replay, or left unchanged.
    pub async fn change_replay<T>(&self, key: &ArchiveKey, change: impl FnOnce(&mut Replay) -> Option<T>) -> Result<Option<T>, String> {
        let (out, pending) = {
            let mut replays = self.replays.write();
            let Some(r) = replays.get_mut(key) else { return Ok(None) };
            let Some(out) = change(r) else { return Ok(None) };
            (out, self.docs.put(doc_of(key, r)))
        };
        pending.wait().await?;
        Ok(Some(out))
    }
}

/// Runs the replay in its own task.
pub fn spawn(reg: &Arc<Registry>, targets: &Targets, clock: &Clock, key: ArchiveKey) {
    let (reg, targets, clock) = (reg.clone(), targets.clone(), clock.clone());
    tokio::spawn(async move { run(&reg, &targets, &clock, &key).await });
}

/// Starts again every replay a previous process did not finish.
pub fn resume(reg: &Arc<Registry>, targets: &Targets, clock: &Clock) {
    let keys: Vec<ArchiveKey> = reg.archives.replays.read().iter().filter(|(_, r)| r.state.unfinished()).map(|(k, _)| k.clone()).collect();
    for key in keys {
        spawn(reg, targets, clock, key);
    }
}

fn cancelling(reg: &Registry, key: &ArchiveKey) -> bool {
    reg.archives.replays.read().get(key).is_some_and(|r| r.state == ReplayState::Cancelling)
}

async fn run(reg: &Arc<Registry>, targets: &Targets, clock: &Clock, key: &ArchiveKey) {
    let Some(r) = reg.archives.replays.read().get(key).cloned() else { return };
    let store = |e: String| tracing::warn!(replay = %key.2, error = %e, "replay progress not stored");
    let mut events = Vec::new();
    if r.state != ReplayState::Cancelling {
        let from = r.last_replayed_ms.unwrap_or(r.event_start_ms).max(r.event_start_ms);
        let akey: ArchiveKey = (key.0.clone(), key.1.clone(), r.archive.clone());
        events = reg.archives.events_between(&akey, from, r.event_end_ms, clock.now_ms());
        let running = |r: &mut Replay| (r.state == ReplayState::Starting).then(|| r.state = ReplayState::Running);
        reg.archives.change_replay(key, running).await.map_err(store).ok();
    }
    let filter: Option<Vec<String>> = r.destination.get("FilterArns").and_then(Value::as_array).map(|a| a.iter().filter_map(Value::as_str).map(str::to_string).collect());
    for (time_ms, mut event) in events {
        if cancelling(reg, key) {
            break;
        }
        event["replay-name"] = json!(key.2);
        let mut ds = reg.matching(&key.0, &key.1, &r.bus, &event, clock.now_ms());
        if let Some(f) = &filter {
            ds.retain(|d| f.contains(&d.rule_arn));
        }
        if let Err(e) = deliver::start(reg, targets, clock, ds).await {
            tracing::warn!(replay = %key.2, error = %e, "replayed event not stored");
        }
        let progress = |r: &mut Replay| {
            r.last_replayed_ms = Some(time_ms);
            Some(())
        };
        reg.archives.change_replay(key, progress).await.map_err(store).ok();
    }
    let now = clock.now_ms();
    let done = |r: &mut Replay| {
        r.state = if r.state == ReplayState::Cancelling { ReplayState::Cancelled } else { ReplayState::Completed };
        r.ended_ms = Some(now);
        Some(())
    };
    reg.archives.change_replay(key, done).await.map_err(store).ok();
}
