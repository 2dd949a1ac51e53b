//! One execution: its record (what DescribeExecution answers, plus the checkpoint a
//! STANDARD execution resumes from), its history events (AWS's `HistoryEvent` shapes:
//! `id`, `previousEventId`, `timestamp`, `type`, `<type>EventDetails`) and its end.
//! A STANDARD execution writes each event and checkpoint to the store as it goes.
//! <https://docs.aws.amazon.com/step-functions/latest/apireference/API_HistoryEvent.html>

use super::Engine;
use crate::store::ExecutionRow;
use crate::tasks::Finished;
use parking_lot::Mutex;
use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};
use std::sync::Arc;
use tokio::sync::watch;

/// `Default` is only for the members a new execution leaves empty (`..Default::default()`).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct ExecutionRecord {
    pub arn: String,
    pub name: String,
    /// The machine (never a version or alias ARN).
    pub machine_arn: String,
    pub machine_name: String,
    #[serde(default)]
    pub version_arn: Option<String>,
    #[serde(default)]
    pub alias_arn: Option<String>,
    pub account: String,
    pub region: String,
    pub express: bool,
    pub role_arn: String,
    /// The definition this execution runs (DescribeStateMachineForExecution).
    pub definition: String,
    pub revision_id: String,
    pub updated_ms: u64,
    pub input: String,
    #[serde(default)]
    pub output: Option<String>,
    pub status: String,
    #[serde(default)]
    pub error: Option<String>,
    #[serde(default)]
    pub cause: Option<String>,
    pub start_ms: u64,
    #[serde(default)]
    pub stop_ms: Option<u64>,
    #[serde(default)]
    pub trace_header: Option<String>,
    /// A traced execution's X-Ray segment: its id and its parent (see `xray`).
    #[serde(default)]
    pub trace_segment: Option<(String, Option<String>)>,
    #[serde(default)]
    pub logging: Option<Value>,
    #[serde(default)]
    pub tracing: Option<Value>,
    /// Where a running STANDARD execution resumes after a restart (see `run::Checkpoint`).
    #[serde(default)]
    pub checkpoint: Option<Value>,
    #[serde(default)]
    pub redrive_count: u64,
    #[serde(default)]
    pub redrive_ms: Option<u64>,
    /// Where a failed, aborted or timed-out execution was: RedriveExecution goes on from it.
    #[serde(default)]
    pub redrive_checkpoint: Option<Value>,
    /// A distributed Map's child execution: the Map Run that started it, and its label.
    #[serde(default)]
    pub map_run_arn: Option<String>,
    #[serde(default)]
    pub label: Option<String>,
}

impl ExecutionRecord {
    pub fn finished(&self) -> Option<Finished> {
        if self.status == "RUNNING" {
            return None;
        }
        Some(Finished {
            status: self.status.clone(),
            output: self.output.as_deref().and_then(|o| serde_json::from_str(o).ok()),
            error: self.error.clone(),
            cause: self.cause.clone(),
        })
    }

    /// The stored row: the record as its document, the checkpoint in its own column.
    pub fn row(&self) -> ExecutionRow {
        let mut doc = serde_json::to_value(self).unwrap_or(Value::Null);
        if let Some(o) = doc.as_object_mut() {
            o.remove("checkpoint");
        }
        ExecutionRow { arn: self.arn.clone(), machine_arn: self.machine_arn.clone(), start_ms: self.start_ms, status: self.status.clone(), doc, checkpoint: self.checkpoint.as_ref().map(Value::to_string) }
    }

    /// The record of a stored row (its checkpoint read back into it).
    pub fn from_row(row: ExecutionRow) -> Option<ExecutionRecord> {
        let mut rec: ExecutionRecord = serde_json::from_value(row.doc).ok()?;
        rec.checkpoint = row.checkpoint.as_deref().and_then(|c| serde_json::from_str(c).ok());
        Some(rec)
    }
}

/// An execution in progress.
pub struct Running {
    pub record: Mutex<ExecutionRecord>,
    pub history: Mutex<Vec<Value>>,
    /// StopExecution's request `(error, cause)`; the run is cancelled when it is set.
    pub stop: watch::Sender<Option<(Option<String>, Option<String>)>>,
    pub done: watch::Sender<Option<Finished>>,
    /// TestState: how the one state under test runs.
    pub test: Option<TestMode>,
    /// The last error a Catcher of a top-level state handled (TestState's CAUGHT_ERROR).
    pub caught: Mutex<Option<(String, String)>>,
}

/// TestState's run of one state: Wait states do not wait, a Task answers the mock if any.
#[derive(Debug, Clone, Default)]
pub struct TestMode {
    pub mock: Option<crate::tasks::TaskResult>,
    /// The state under test (the states after it only end the run).
    pub state: String,
    /// The values of the data-flow steps, by `InspectionData` member name.
    pub inspection: Arc<Mutex<Map<String, Value>>>,
}

impl Running {
    pub fn new(record: ExecutionRecord, history: Vec<Value>) -> Running {
        Running { record: Mutex::new(record), history: Mutex::new(history), stop: watch::channel(None).0, done: watch::channel(None).0, test: None, caught: Mutex::new(None) }
    }

    pub fn finished(&self) -> Option<Finished> {
        self.done.borrow().clone()
    }

    pub fn durable(&self) -> bool {
        !self.record.lock().express
    }

    pub fn arn(&self) -> String {
        self.record.lock().arn.clone()
    }

    pub fn last_event_id(&self) -> u64 {
        self.history.lock().len() as u64
    }

    /// Appends an event after `previous` (0: none); answers its id.
    pub fn emit(&self, engine: &Engine, previous: u64, kind: &str, details: Option<(&str, Value)>) -> u64 {
        self.emit_pending(engine, previous, kind, details).0
    }

    /// As `emit`, with the store write to await (STANDARD) before answering a caller.
    pub fn emit_pending(&self, engine: &Engine, previous: u64, kind: &str, details: Option<(&str, Value)>) -> (u64, Option<nimbus_core::storage::Pending>) {
        let now = engine.clock.now_ms();
        let mut h = self.history.lock();
        let id = h.len() as u64 + 1;
        let mut ev = Map::new();
        ev.insert("timestamp".into(), json!(now as f64 / 1000.0));
        ev.insert("type".into(), json!(kind));
        ev.insert("id".into(), json!(id));
        ev.insert("previousEventId".into(), json!(previous));
        if let Some((key, d)) = details {
            ev.insert(key.into(), d);
        }
        let ev = Value::Object(ev);
        super::logging::log_event(engine, &self.record.lock(), &ev);
        let pending = self.durable().then(|| engine.store.put_events(&self.arn(), vec![(id, ev.clone())]));
        h.push(ev);
        (id, pending)
    }

    /// Records where the execution is (STANDARD: written to the store).
    pub fn checkpoint(&self, engine: &Engine, checkpoint: Option<Value>) {
        drop(self.checkpoint_pending(engine, checkpoint));
    }

    /// As `checkpoint`, with the write to await.
    pub fn checkpoint_pending(&self, engine: &Engine, checkpoint: Option<Value>) -> Option<nimbus_core::storage::Pending> {
        let mut rec = self.record.lock();
        let pending = (!rec.express).then(|| engine.store.put_checkpoint(&rec.arn, checkpoint.as_ref().map(Value::to_string)));
        rec.checkpoint = checkpoint;
        pending
    }

    /// SendTaskSuccess / SendTaskFailure on the token the execution waits on: the answer
    /// is written into the checkpoint (durable) before the waiting task hears it, so a
    /// restart in between does not lose it.
    pub async fn record_token_outcome(&self, engine: &Engine, token: &str, outcome: Value) -> Result<(), String> {
        let pending = {
            let current = self.record.lock().checkpoint.clone();
            match current {
                Some(mut cp) if cp.get("token").and_then(Value::as_str) == Some(token) => {
                    cp["outcome"] = outcome;
                    self.checkpoint_pending(engine, Some(cp))
                }
                _ => None,
            }
        };
        match pending {
            Some(p) => p.wait().await,
            None => Ok(()),
        }
    }
}

/// `{"truncated": false}`, the `…Details` of every data field nimbus writes whole.
pub fn not_truncated() -> Value {
    json!({ "truncated": false })
}

/// The JSON text of a value as events and DescribeExecution carry it.
pub fn text(v: &Value) -> String {
    serde_json::to_string(v).unwrap_or_default()
}
