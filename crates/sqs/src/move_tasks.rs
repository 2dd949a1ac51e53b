//! Message move tasks: StartMessageMoveTask, CancelMessageMoveTask, ListMessageMoveTasks.
//!
//! A task moves the visible messages of a dead-letter queue back to their source queues
//! (or to a given destination) at an optional rate, in the background. Tasks live in
//! memory: a restart ends running tasks (already moved messages stay moved).

use crate::api::{CancelMessageMoveTask, ListMessageMoveTasks, StartMessageMoveTask};
use crate::engine::Engine;
use crate::errors::{SqsError, SqsResult};
use base64::Engine as _;
use nimbus_core::RequestContext;
use parking_lot::Mutex;
use serde_json::{json, Map, Value};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;

const B64: base64::engine::GeneralPurpose = base64::engine::general_purpose::STANDARD;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Status {
    Running,
    Completed,
    Cancelling,
    Cancelled,
    Failed,
}

impl Status {
    fn as_str(self) -> &'static str {
        match self {
            Status::Running => "RUNNING",
            Status::Completed => "COMPLETED",
            Status::Cancelling => "CANCELLING",
            Status::Cancelled => "CANCELLED",
            Status::Failed => "FAILED",
        }
    }
}

struct Task {
    id: String,
    handle: String,
    source_arn: String,
    destination_arn: Option<String>,
    rate: Option<u64>,
    started_ms: u64,
    to_move: u64,
    moved: AtomicU64,
    cancel: AtomicBool,
    status: Mutex<(Status, Option<String>)>,
}

#[derive(Clone)]
pub struct MoveTasks {
    engine: Arc<Engine>,
    tasks: Arc<Mutex<Vec<Arc<Task>>>>,
}

impl MoveTasks {
    pub fn new(engine: Arc<Engine>) -> MoveTasks {
        MoveTasks { engine, tasks: Arc::new(Mutex::new(Vec::new())) }
    }

    pub fn start(&self, _ctx: &RequestContext, input: StartMessageMoveTask) -> SqsResult<Value> {
        let source_arn = input.source_arn.filter(|s| !s.is_empty()).ok_or_else(|| SqsError::MissingParameter("SourceArn".into()))?;
        let source = self
            .engine
            .get_by_arn(&source_arn)
            .ok_or_else(|| SqsError::ResourceNotFound("The resource that you specified for the SourceArn parameter doesn't exist.".into()))?;
        let is_dlq = self.engine.list(&source.key.account, &source.key.region).iter().any(|q| {
            q.id != source.id && q.state.lock().redrive_policy().map(|p| p.dead_letter_target_arn == source_arn).unwrap_or(false)
        });
        if !is_dlq {
            return Err(SqsError::InvalidParameterValue("Source queue must be configured as a Dead Letter Queue.".into()));
        }
        if let Some(dest) = input.destination_arn.as_deref().filter(|d| !d.is_empty()) {
            if self.engine.get_by_arn(dest).is_none() {
                return Err(SqsError::ResourceNotFound("The resource that you specified for the DestinationArn parameter doesn't exist.".into()));
            }
        }
        let rate = match input.max_number_of_messages_per_second {
            None => None,
            Some(r) if (1..=500).contains(&r) => Some(r as u64),
            Some(r) => return Err(SqsError::invalid_value("MaxNumberOfMessagesPerSecond", r, "Must be between 1 and 500.")),
        };
        let mut tasks = self.tasks.lock();
        if tasks.iter().any(|t| t.source_arn == source_arn && matches!(t.status.lock().0, Status::Running | Status::Cancelling)) {
            return Err(SqsError::InvalidParameterValue(
                "There is already a task running. Only one active task is allowed for a source queue arn at a given time.".into(),
            ));
        }
        let now = self.engine.now();
        let to_move = source.state.lock().counts(now).visible;
        let id = nimbus_core::ids::uuid();
        let handle = B64.encode(json!({ "taskId": id, "sourceArn": source_arn }).to_string());
        let task = Arc::new(Task {
            id,
            handle: handle.clone(),
            source_arn,
            destination_arn: input.destination_arn.filter(|d| !d.is_empty()),
            rate,
            started_ms: now,
            to_move,
            moved: AtomicU64::new(0),
            cancel: AtomicBool::new(false),
            status: Mutex::new((Status::Running, None)),
        });
        tasks.push(task.clone());
        let engine = self.engine.clone();
        tokio::spawn(async move { run(engine, source, task).await });
        Ok(json!({ "TaskHandle": handle }))
    }

    pub fn cancel(&self, input: CancelMessageMoveTask) -> SqsResult<Value> {
        let handle = input.task_handle.filter(|h| !h.is_empty()).ok_or_else(|| SqsError::MissingParameter("TaskHandle".into()))?;
        let bad = || SqsError::InvalidParameterValue("Value for parameter TaskHandle is invalid.".into());
        let decoded: Value = B64.decode(&handle).ok().and_then(|b| serde_json::from_slice(&b).ok()).ok_or_else(bad)?;
        let (Some(task_id), Some(source_arn)) = (decoded.get("taskId").and_then(Value::as_str), decoded.get("sourceArn").and_then(Value::as_str)) else {
            return Err(bad());
        };
        if self.engine.get_by_arn(source_arn).is_none() {
            return Err(SqsError::ResourceNotFound("The resource that you specified for the SourceArn parameter doesn't exist.".into()));
        }
        let task = self.tasks.lock().iter().find(|t| t.id == task_id).cloned().ok_or_else(|| SqsError::ResourceNotFound("Task does not exist.".into()))?;
        {
            let mut status = task.status.lock();
            if status.0 != Status::Running {
                return Err(SqsError::InvalidParameterValue("Only active tasks can be cancelled.".into()));
            }
            status.0 = Status::Cancelling;
        }
        task.cancel.store(true, Ordering::Release);
        Ok(json!({ "ApproximateNumberOfMessagesMoved": task.moved.load(Ordering::Acquire) }))
    }

    pub fn list(&self, input: ListMessageMoveTasks) -> SqsResult<Value> {
        let source_arn = input.source_arn.filter(|s| !s.is_empty()).ok_or_else(|| SqsError::MissingParameter("SourceArn".into()))?;
        if self.engine.get_by_arn(&source_arn).is_none() {
            return Err(SqsError::ResourceNotFound("The resource that you specified for the SourceArn parameter doesn't exist.".into()));
        }
        let max = match input.max_results {
            None => 1,
            Some(n) if (1..=10).contains(&n) => n as usize,
            Some(n) => return Err(SqsError::invalid_value("MaxResults", n, "Must be between 1 and 10.")),
        };
        let tasks = self.tasks.lock();
        let results: Vec<Value> = tasks
            .iter()
            .rev()
            .filter(|t| t.source_arn == source_arn)
            .take(max)
            .map(|t| {
                let (status, failure) = t.status.lock().clone();
                let mut e = Map::new();
                if status == Status::Running {
                    e.insert("TaskHandle".into(), t.handle.clone().into());
                }
                e.insert("Status".into(), status.as_str().into());
                e.insert("SourceArn".into(), t.source_arn.clone().into());
                if let Some(d) = &t.destination_arn {
                    e.insert("DestinationArn".into(), d.clone().into());
                }
                if let Some(r) = t.rate {
                    e.insert("MaxNumberOfMessagesPerSecond".into(), r.into());
                }
                e.insert("ApproximateNumberOfMessagesMoved".into(), t.moved.load(Ordering::Acquire).into());
                e.insert("ApproximateNumberOfMessagesToMove".into(), t.to_move.into());
                if let Some(f) = failure {
                    e.insert("FailureReason".into(), f.into());
                }
                e.insert("StartedTimestamp".into(), t.started_ms.into());
                Value::Object(e)
            })
            .collect();
        Ok(json!({ "Results": results }))
    }
}

async fn run(engine: Arc<Engine>, source: Arc<crate::engine::Queue>, task: Arc<Task>) {
    let started = engine.now();
    let finish = |status: Status, reason: Option<String>| *task.status.lock() = (status, reason);
    loop {
        if task.cancel.load(Ordering::Acquire) {
            return finish(Status::Cancelled, None);
        }
        let moved = task.moved.load(Ordering::Acquire);
        if moved >= task.to_move {
            return finish(Status::Completed, None);
        }
        // At most ten per step, and no more than one second's worth at the requested rate.
        let batch = (task.to_move - moved).min(10).min(task.rate.unwrap_or(10)) as usize;
        match engine.move_batch(&source, batch, task.destination_arn.as_deref()).await {
            Ok(0) => return finish(Status::Completed, None),
            Ok(n) => {
                task.moved.fetch_add(n as u64, Ordering::AcqRel);
            }
            Err(_) => return finish(Status::Failed, Some("AWS.SimpleQueueService.NonExistentQueue".into())),
        }
        if let Some(rate) = task.rate {
            // Pace to the requested rate: the time by which this many messages may have moved.
            let due = started + task.moved.load(Ordering::Acquire) * 1000 / rate;
            engine.clock.sleep_until(due).await;
        } else {
            tokio::task::yield_now().await;
        }
    }
}
