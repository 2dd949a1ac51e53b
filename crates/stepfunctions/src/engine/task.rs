//! Task states' calls: activities (queued for GetActivityTask, answered by
//! SendTaskSuccess / SendTaskFailure), `.waitForTaskToken` (the integration's call, then
//! the token), and every other resource through the `TaskRunner`; each bounded by
//! `TimeoutSeconds` and, for tokens, `HeartbeatSeconds`, on nimbus's clock. The history
//! events are AWS's: `Activity*` for activities, `LambdaFunction*` for a bare function
//! ARN, `Task*` otherwise.
//! <https://docs.aws.amazon.com/step-functions/latest/dg/state-task.html>
//! <https://docs.aws.amazon.com/step-functions/latest/dg/connect-to-resource.html#connect-wait-token>

use super::execution::{not_truncated, text};
use super::lang::Failure;
use super::run::Exec;
use crate::tasks::{Pattern, TaskRequest, TaskResult};
use base64::Engine as _;
use parking_lot::Mutex;
use serde_json::{json, Map, Value};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::Notify;

/// An open task token: what SendTask* resolve and the waiting task reads.
pub struct TokenSlot {
    pub execution_arn: String,
    pub outcome: Mutex<Option<TaskResult>>,
    pub notify: Notify,
    /// Clock time of the last heartbeat (or of the start).
    pub last_heartbeat_ms: AtomicU64,
    /// An activity task: the activity's ARN (its worker's ActivityStarted is emitted here).
    pub activity: Option<String>,
    /// The event the worker's ActivityStarted follows, and that event once emitted.
    pub scheduled_event: AtomicU64,
    pub started_event: AtomicU64,
}

impl TokenSlot {
    pub fn resolve(&self, result: TaskResult) -> bool {
        let mut o = self.outcome.lock();
        if o.is_some() {
            return false;
        }
        *o = Some(result);
        drop(o);
        self.notify.notify_waiters();
        true
    }
}

/// A recorded token answer (`{"output": …}` or `{"error", "cause"}`).
pub fn outcome_of(v: &Value) -> Option<TaskResult> {
    if let Some(o) = v.get("output") {
        return Some(TaskResult::Output(o.clone()));
    }
    Some(TaskResult::Failed { error: v.get("error")?.as_str().unwrap_or_default().to_string(), cause: v.get("cause").and_then(Value::as_str).unwrap_or_default().to_string() })
}

/// A token answer as the checkpoint records it.
pub fn outcome_value(r: &TaskResult) -> Value {
    match r {
        TaskResult::Output(v) => json!({ "output": v }),
        TaskResult::Failed { error, cause } => json!({ "error": error, "cause": cause }),
    }
}

/// A new task token naming its execution (opaque to callers, checked when it comes back).
pub fn new_token(execution_arn: &str) -> String {
    let doc = json!({ "e": execution_arn, "n": nimbus_core::ids::uuid() });
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(doc.to_string())
}

/// Whether a token is one nimbus could have issued.
pub fn token_well_formed(token: &str) -> bool {
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(token)
        .ok()
        .and_then(|b| serde_json::from_slice::<Value>(&b).ok())
        .is_some_and(|v| v.get("e").is_some_and(Value::is_string))
}

/// How the resource names itself in `Task*` events: `arn:aws:states:::lambda:invoke` is
/// type `lambda`, resource `invoke`; `…:::aws-sdk:s3:listBuckets` is `aws-sdk:s3`,
/// `listBuckets`.
pub fn resource_parts(resource: &str) -> (String, String) {
    let rest = resource.strip_prefix("arn:aws:states:::").unwrap_or(resource);
    if let Some(sdk) = rest.strip_prefix("aws-sdk:") {
        if let Some((svc, action)) = sdk.split_once(':') {
            return (format!("aws-sdk:{svc}"), action.to_string());
        }
    }
    match rest.split_once(':') {
        Some((t, r)) => (t.to_string(), r.to_string()),
        None => (rest.to_string(), String::new()),
    }
}

enum Family {
    Activity,
    Lambda,
    Integration,
}

fn family(resource: &str) -> Family {
    match crate::arns::parse(resource) {
        Some(a) if a.kind == "activity" => Family::Activity,
        _ if resource.starts_with("arn:aws:lambda:") && resource.contains(":function:") => Family::Lambda,
        _ => Family::Integration,
    }
}

/// What a Task attempt needs besides its arguments.
pub struct Call<'a> {
    pub state_name: &'a str,
    pub resource: &'a str,
    pub timeout_s: Option<u64>,
    pub heartbeat_s: Option<u64>,
    /// The attempt's task token (activities and `.waitForTaskToken`), issued by the
    /// caller so that `$$.Task.Token` is in the context the arguments were rendered with.
    pub token: Option<String>,
    /// The attempt was in flight before a restart: its call was made, wait on the token.
    pub resumed: bool,
    /// Resumed: the answer given on the token before the restart, if any.
    pub outcome: Option<TaskResult>,
    pub role_arn: Option<String>,
}

impl Exec {
    /// One attempt of a Task's call; emits its events and answers the raw result.
    /// `on_token` is told the token before the wait starts (the checkpoint records it).
    pub async fn call_task(self: &Arc<Self>, call: Call<'_>, arguments: Value, prev: &mut u64, on_token: &(dyn Fn(Option<&str>) + Send + Sync)) -> Result<Value, Failure> {
        let deadline = call.timeout_s.map(|s| self.engine.clock.now_ms() + s * 1000);
        let (pattern, _) = Pattern::of(call.resource);
        match family(call.resource) {
            Family::Activity => {
                let token = call.token.clone().unwrap_or_else(|| new_token(&self.running.arn()));
                if !call.resumed {
                    let mut d = Map::new();
                    d.insert("resource".into(), json!(call.resource));
                    d.insert("input".into(), json!(text(&arguments)));
                    d.insert("inputDetails".into(), not_truncated());
                    if let Some(t) = call.timeout_s {
                        d.insert("timeoutInSeconds".into(), json!(t));
                    }
                    if let Some(h) = call.heartbeat_s {
                        d.insert("heartbeatInSeconds".into(), json!(h));
                    }
                    *prev = self.emit(*prev, "ActivityScheduled", Some(("activityScheduledEventDetails", Value::Object(d))));
                }
                let slot = self.open_token(&token, Some(call.resource.to_string()), *prev);
                on_token(Some(&token));
                if let Some(o) = call.outcome.clone() {
                    slot.resolve(o);
                }
                // Resumed after a restart: a worker that already took the task answers
                // with its token; otherwise the task is queued again.
                let taken = if call.resumed { self.started_after_last_schedule() } else { None };
                match taken {
                    Some(id) => slot.started_event.store(id, std::sync::atomic::Ordering::SeqCst),
                    None => {
                        self.engine.activity_queue(call.resource).tasks.lock().push_back(super::ActivityTask { token: token.clone(), input: text(&arguments) });
                        self.engine.activity_queue(call.resource).ready.notify_one();
                    }
                }
                let outcome = self.wait_token(&token, &slot, deadline, call.heartbeat_s).await;
                *prev = (*prev).max(slot.started_event.load(Ordering::SeqCst));
                on_token(None);
                match outcome {
                    Ok(out) => {
                        *prev = self.emit(*prev, "ActivitySucceeded", Some(("activitySucceededEventDetails", json!({ "output": text(&out), "outputDetails": not_truncated() }))));
                        Ok(out)
                    }
                    Err((timed_out, f)) => {
                        let kind = if timed_out { "ActivityTimedOut" } else { "ActivityFailed" };
                        let key = if timed_out { "activityTimedOutEventDetails" } else { "activityFailedEventDetails" };
                        *prev = self.emit(*prev, kind, Some((key, json!({ "error": f.error, "cause": f.cause }))));
                        Err(f)
                    }
                }
            }
            Family::Lambda => {
                let mut d = Map::new();
                d.insert("resource".into(), json!(call.resource));
                d.insert("input".into(), json!(text(&arguments)));
                d.insert("inputDetails".into(), not_truncated());
                if let Some(t) = call.timeout_s {
                    d.insert("timeoutInSeconds".into(), json!(t));
                }
                *prev = self.emit(*prev, "LambdaFunctionScheduled", Some(("lambdaFunctionScheduledEventDetails", Value::Object(d))));
                *prev = self.emit(*prev, "LambdaFunctionStarted", None);
                match self.run_integration(&call, arguments, None, deadline).await {
                    Ok(out) => {
                        *prev = self.emit(*prev, "LambdaFunctionSucceeded", Some(("lambdaFunctionSucceededEventDetails", json!({ "output": text(&out), "outputDetails": not_truncated() }))));
                        Ok(out)
                    }
                    Err((timed_out, f)) => {
                        let (kind, key) = if timed_out { ("LambdaFunctionTimedOut", "lambdaFunctionTimedOutEventDetails") } else { ("LambdaFunctionFailed", "lambdaFunctionFailedEventDetails") };
                        *prev = self.emit(*prev, kind, Some((key, json!({ "error": f.error, "cause": f.cause }))));
                        Err(f)
                    }
                }
            }
            Family::Integration => {
                let (rtype, rname) = resource_parts(call.resource);
                let resumed = call.resumed && call.token.is_some();
                let token = if pattern == Pattern::WaitForTaskToken { Some(call.token.clone().unwrap_or_else(|| new_token(&self.running.arn()))) } else { None };
                if !resumed {
                    let mut d = Map::new();
                    d.insert("resourceType".into(), json!(rtype));
                    d.insert("resource".into(), json!(rname));
                    d.insert("region".into(), json!(self.running.record.lock().region.clone()));
                    d.insert("parameters".into(), json!(text(&arguments)));
                    if let Some(t) = call.timeout_s {
                        d.insert("timeoutInSeconds".into(), json!(t));
                    }
                    if let Some(h) = call.heartbeat_s {
                        d.insert("heartbeatInSeconds".into(), json!(h));
                    }
                    *prev = self.emit(*prev, "TaskScheduled", Some(("taskScheduledEventDetails", Value::Object(d))));
                    *prev = self.emit(*prev, "TaskStarted", Some(("taskStartedEventDetails", json!({ "resourceType": rtype, "resource": rname }))));
                }
                let mut return_now: Option<Value> = None;
                let result = match &token {
                    None => self.run_integration(&call, arguments, None, deadline).await,
                    Some(t) => {
                        let slot = self.open_token(t, None, *prev);
                        on_token(Some(t));
                        if let Some(o) = call.outcome.clone() {
                            slot.resolve(o);
                        }
                        let submitted = if resumed { Ok(Value::Null) } else { self.run_integration(&call, arguments, Some(t.clone()), deadline).await };
                        match submitted {
                            Err(e) => {
                                self.close_token(t);
                                Err(e)
                            }
                            Ok(out) => {
                                if self.running.test.is_some() {
                                    // TestState: the (mocked) answer is the result; no token to wait on.
                                    self.close_token(t);
                                    return_now = Some(out.clone());
                                }
                                if !resumed {
                                    *prev = self.emit(*prev, "TaskSubmitted", Some(("taskSubmittedEventDetails", json!({ "resourceType": rtype, "resource": rname, "output": text(&out), "outputDetails": not_truncated() }))));
                                }
                                match return_now.take() {
                                    Some(v) => Ok(v),
                                    None => self.wait_token(t, &slot, deadline, call.heartbeat_s).await,
                                }
                            }
                        }
                    }
                };
                on_token(None);
                match result {
                    Ok(out) => {
                        *prev = self.emit(*prev, "TaskSucceeded", Some(("taskSucceededEventDetails", json!({ "resourceType": rtype, "resource": rname, "output": text(&out), "outputDetails": not_truncated() }))));
                        Ok(out)
                    }
                    Err((timed_out, f)) => {
                        let (kind, key) = if timed_out { ("TaskTimedOut", "taskTimedOutEventDetails") } else { ("TaskFailed", "taskFailedEventDetails") };
                        *prev = self.emit(*prev, kind, Some((key, json!({ "resourceType": rtype, "resource": rname, "error": f.error, "cause": f.cause }))));
                        Err(f)
                    }
                }
            }
        }
    }

    /// The id of an ActivityStarted after the last ActivityScheduled, if a worker took it.
    fn started_after_last_schedule(&self) -> Option<u64> {
        let h = self.running.history.lock();
        for e in h.iter().rev() {
            match e.get("type").and_then(Value::as_str) {
                Some("ActivityStarted") => return e.get("id").and_then(Value::as_u64),
                Some("ActivityScheduled") => return None,
                _ => {}
            }
        }
        None
    }

    /// The integration's call through the `TaskRunner`, bounded by the deadline.
    /// `Err((true, _))`: timed out.
    async fn run_integration(&self, call: &Call<'_>, arguments: Value, token: Option<String>, deadline: Option<u64>) -> Result<Value, (bool, Failure)> {
        let runner = self.engine.runner.read().clone();
        let Some(runner) = runner else {
            return Err((false, Failure::runtime(format!("The resource '{}' is not supported by nimbus: no task integrations are wired", call.resource))));
        };
        // A traced execution's Task records a subsegment, the parent of the call's hop.
        let subsegment = self.running.record.lock().trace_segment.is_some().then(nimbus_core::trace::new_segment_id);
        let started_ms = self.engine.clock.now_ms();
        let request = {
            let rec = self.running.record.lock();
            TaskRequest {
                account: rec.account.clone(),
                region: rec.region.clone(),
                execution_arn: rec.arn.clone(),
                state_name: call.state_name.to_string(),
                resource: call.resource.to_string(),
                arguments,
                task_token: token,
                role_arn: call.role_arn.clone().unwrap_or_else(|| rec.role_arn.clone()),
                execution_role_arn: rec.role_arn.clone(),
                trace: subsegment.as_deref().and_then(|id| super::xray::task_header(&rec, id)).or_else(|| rec.trace_header.clone()),
                timeout: call.timeout_s.map(Duration::from_secs),
            }
        };
        let clock = self.engine.clock.clone();
        let timeout = async move {
            match deadline {
                Some(d) => clock.sleep_until(d).await,
                None => std::future::pending().await,
            }
        };
        let result = tokio::select! {
            r = runner.run(request) => match r {
                TaskResult::Output(v) => Ok(v),
                TaskResult::Failed { error, cause } => Err((false, Failure::new(error, cause))),
            },
            _ = timeout => Err((true, Failure::new("States.Timeout", ""))),
        };
        if let Some(id) = &subsegment {
            let failure = result.as_ref().err().map(|(_, f)| (f.error.as_str(), f.cause.as_str()));
            super::xray::record_task(&self.running.record.lock(), id, call.state_name, call.resource, started_ms, self.engine.clock.now_ms(), failure);
        }
        result
    }

    fn open_token(&self, token: &str, activity: Option<String>, scheduled_event: u64) -> Arc<TokenSlot> {
        let slot = Arc::new(TokenSlot {
            execution_arn: self.running.arn(),
            outcome: Mutex::new(None),
            notify: Notify::new(),
            last_heartbeat_ms: AtomicU64::new(self.engine.clock.now_ms()),
            activity,
            scheduled_event: AtomicU64::new(scheduled_event),
            started_event: AtomicU64::new(0),
        });
        self.engine.tokens.lock().insert(token.to_string(), slot.clone());
        slot
    }

    fn close_token(&self, token: &str) {
        self.engine.tokens.lock().remove(token);
    }

    /// Waits for SendTaskSuccess / SendTaskFailure on the token, a heartbeat timeout or
    /// the state's timeout.
    async fn wait_token(&self, token: &str, slot: &Arc<TokenSlot>, deadline: Option<u64>, heartbeat_s: Option<u64>) -> Result<Value, (bool, Failure)> {
        let result = loop {
            let notified = slot.notify.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            if let Some(o) = slot.outcome.lock().clone() {
                break match o {
                    TaskResult::Output(v) => Ok(v),
                    TaskResult::Failed { error, cause } => Err((false, Failure::new(error, cause))),
                };
            }
            let now = self.engine.clock.now_ms();
            let hb_deadline = heartbeat_s.map(|h| slot.last_heartbeat_ms.load(Ordering::SeqCst) + h * 1000);
            if hb_deadline.is_some_and(|d| now >= d) {
                break Err((true, Failure::new("States.HeartbeatTimeout", "")));
            }
            if deadline.is_some_and(|d| now >= d) {
                break Err((true, Failure::new("States.Timeout", "")));
            }
            let next = match (deadline, hb_deadline) {
                (Some(a), Some(b)) => Some(a.min(b)),
                (a, b) => a.or(b),
            };
            let clock = self.engine.clock.clone();
            tokio::select! {
                _ = &mut notified => {}
                _ = async { match next { Some(d) => clock.sleep_until(d).await, None => std::future::pending().await } } => {}
            }
        };
        self.close_token(token);
        if let Some(activity) = &slot.activity {
            self.engine.activity_queue(activity).tasks.lock().retain(|t| t.token != token);
        }
        result
    }
}
