//! An execution's life: launched (a tokio task interpreting the definition, raced
//! against StopExecution and the machine's `TimeoutSeconds`), ended (its last event,
//! record and watchers), and resumed after a restart from its stored checkpoint.

use super::execution::{not_truncated, text, ExecutionRecord, Running};
use super::lang::Failure;
use super::run::{Checkpoint, Exec, Frame};
use super::Engine;
use crate::definition::Definition;
use crate::tasks::Finished;
use serde_json::{json, Map, Value};
use std::sync::Arc;

impl Engine {
    /// Starts interpreting an execution registered in `running` (its ExecutionStarted
    /// event already written). Answers once it ended, for StartSyncExecution.
    pub fn launch(self: &Arc<Self>, running: Arc<Running>, def: Arc<Definition>, resume: Option<Checkpoint>) -> tokio::task::JoinHandle<Finished> {
        let engine = self.clone();
        tokio::spawn(async move {
            let (input, exec) = {
                let rec = running.record.lock();
                let input: Value = serde_json::from_str(&rec.input).unwrap_or(Value::Null);
                let execution_ctx = json!({
                    "Id": rec.arn,
                    "Input": input,
                    "Name": rec.name,
                    "RoleArn": rec.role_arn,
                    "StartTime": nimbus_core::time::iso8601_ms(rec.start_ms),
                    "RedriveCount": rec.redrive_count,
                });
                let machine_ctx = json!({ "Id": rec.version_arn.clone().unwrap_or_else(|| rec.machine_arn.clone()), "Name": rec.machine_name });
                (input, Arc::new(Exec { engine: engine.clone(), running: running.clone(), execution_ctx, machine_ctx }))
            };
            let mut stop = running.stop.subscribe();
            // EXPRESS executions last at most five minutes.
            let express = running.record.lock().express && running.test.is_none();
            let limit = match (def.timeout_seconds, express) {
                (Some(s), true) => Some(s.min(300)),
                (None, true) => Some(300),
                (s, false) => s,
            };
            let deadline = limit.map(|s| running.record.lock().start_ms + s * 1000);
            // AWS chains the first state's Entered event to 0, not to ExecutionStarted.
            let prev = if resume.is_none() { 0 } else { running.last_event_id() };
            let body = exec.clone().run_set(def, input, Map::new(), Frame { top: true }, prev, resume);
            let clock = engine.clock.clone();
            let timeout = async move {
                match deadline {
                    Some(d) => clock.sleep_until(d).await,
                    None => std::future::pending().await,
                }
            };
            let end = tokio::select! {
                (r, last) = body => match r {
                    Ok(out) => End::Succeeded(out, last),
                    Err(f) => End::Failed(f, last),
                },
                _ = async {
                    loop {
                        if stop.borrow().is_some() {
                            return;
                        }
                        if stop.changed().await.is_err() {
                            std::future::pending::<()>().await;
                        }
                    }
                } => {
                    let req = stop.borrow().clone().unwrap_or_default();
                    End::Aborted(req.0, req.1)
                }
                _ = timeout => End::TimedOut,
            };
            engine.end(&running, end).await
        })
    }

    /// Writes an execution's end: its last event, its record, then tells the watchers.
    async fn end(&self, running: &Arc<Running>, end: End) -> Finished {
        let arn = running.arn();
        let last = running.last_event_id();
        let now = self.clock.now_ms();
        let (status, output, error, cause) = match end {
            End::Succeeded(out, prev) => {
                let t = text(&out);
                running.emit(self, prev, "ExecutionSucceeded", Some(("executionSucceededEventDetails", json!({ "output": t, "outputDetails": not_truncated() }))));
                ("SUCCEEDED", Some(t), None, None)
            }
            End::Failed(f, prev) => {
                running.emit(self, prev, "ExecutionFailed", Some(("executionFailedEventDetails", json!({ "error": f.error, "cause": f.cause }))));
                ("FAILED", None, Some(f.error), Some(f.cause))
            }
            End::Aborted(error, cause) => {
                let mut d = Map::new();
                if let Some(e) = &error {
                    d.insert("error".into(), json!(e));
                }
                if let Some(c) = &cause {
                    d.insert("cause".into(), json!(c));
                }
                running.emit(self, last, "ExecutionAborted", Some(("executionAbortedEventDetails", Value::Object(d))));
                ("ABORTED", None, error, cause)
            }
            End::TimedOut => {
                running.emit(self, last, "ExecutionTimedOut", Some(("executionTimedOutEventDetails", json!({ "error": "States.Timeout", "cause": "The execution timed out" }))));
                ("TIMED_OUT", None, Some("States.Timeout".to_string()), Some("The execution timed out".to_string()))
            }
        };
        // Tokens and activity tasks of this execution are closed.
        let closed: Vec<(String, Option<String>)> = {
            let mut tokens = self.tokens.lock();
            let mine: Vec<String> = tokens.iter().filter(|(_, s)| s.execution_arn == arn).map(|(t, _)| t.clone()).collect();
            mine.into_iter().filter_map(|t| tokens.remove(&t).map(|s| (t, s.activity.clone()))).collect()
        };
        for (token, activity) in closed {
            if let Some(a) = activity {
                self.activity_queue(&a).tasks.lock().retain(|t| t.token != token);
            }
        }
        let (pending, finished) = {
            let mut rec = running.record.lock();
            rec.status = status.to_string();
            rec.output = output;
            rec.error = error;
            rec.cause = cause;
            rec.stop_ms = Some(now);
            let last = rec.checkpoint.take();
            rec.redrive_checkpoint = if status == "SUCCEEDED" { None } else { last };
            // An EXPRESS Map Run child's end is stored too: DescribeExecution answers it.
            let pending = (!rec.express || rec.map_run_arn.is_some()).then(|| self.store.put_execution(rec.row()));
            (pending, rec.finished().unwrap_or(Finished { status: status.to_string(), output: None, error: None, cause: None }))
        };
        if let Some(p) = pending {
            if let Err(e) = p.wait().await {
                tracing::warn!(execution = %arn, error = %e, "storing an execution's end failed");
            }
        }
        if running.record.lock().express {
            self.remember_express(&arn, finished.clone());
        }
        self.running.lock().remove(&arn);
        let _ = running.done.send(Some(finished.clone()));
        self.ended.notify_waiters();
        self.log_end(running);
        super::xray::record_execution(&running.record.lock());
        finished
    }

    fn log_end(&self, _running: &Arc<Running>) {}

    /// Resumes every STANDARD execution stored as RUNNING (at start, after a crash or a
    /// restart): from its checkpoint, its history kept.
    pub fn resume_executions(self: &Arc<Self>) -> usize {
        let rows = match self.store.running() {
            Ok(rows) => rows,
            Err(e) => {
                tracing::warn!(error = %e, "reading running executions failed");
                return 0;
            }
        };
        let mut n = 0;
        for row in rows {
            let Some(rec) = ExecutionRecord::from_row(row) else { continue };
            let Ok((def, _)) = crate::definition::parse(&rec.definition) else { continue };
            let history = self.store.history(&rec.arn).unwrap_or_default();
            let checkpoint = rec.checkpoint.clone().and_then(|c| serde_json::from_value::<Checkpoint>(c).ok());
            let arn = rec.arn.clone();
            let running = Arc::new(Running::new(rec, history));
            self.running.lock().insert(arn.clone(), running.clone());
            tracing::info!(execution = %arn, "resuming execution");
            drop(self.launch(running, def, checkpoint));
            n += 1;
        }
        n
    }
}

impl Engine {
    /// RedriveExecution: a failed, aborted or timed-out STANDARD execution goes on from
    /// the state it was in (that state entered again, its retries counted afresh).
    pub async fn redrive(self: &Arc<Self>, arn: &str) -> Result<u64, String> {
        let current = self.running.lock().get(arn).cloned();
        if let Some(r) = current {
            if r.record.lock().status == "RUNNING" {
                return Err("Execution is RUNNING and cannot be redriven".into());
            }
            // Ending (its record not yet committed): wait for the end to be written.
            let mut done = r.done.subscribe();
            while done.borrow().is_none() {
                if done.changed().await.is_err() {
                    break;
                }
            }
        }
        let row = self.store.execution(arn)?.ok_or_else(|| "missing".to_string())?;
        let mut rec = ExecutionRecord::from_row(row).ok_or_else(|| "the stored execution does not parse".to_string())?;
        if rec.status == "SUCCEEDED" {
            return Err("Execution is SUCCEEDED and cannot be redriven".into());
        }
        let now = self.clock.now_ms();
        if rec.stop_ms.is_some_and(|t| now.saturating_sub(t) > 14 * 86_400_000) {
            return Err("Execution can only be redriven within 14 days of its end".into());
        }
        let Some(cp) = rec.redrive_checkpoint.take().and_then(|c| serde_json::from_value::<Checkpoint>(c).ok()) else {
            return Err(format!("Execution is {} and has no state to be redriven from", rec.status));
        };
        let (def, _) = crate::definition::parse(&rec.definition).map_err(|_| "the definition does not parse".to_string())?;
        let cp = Checkpoint { attempts: Vec::new(), retry_count: 0, retry_at: None, wait_until: None, token: None, reenter: true, ..cp };
        rec.status = "RUNNING".into();
        rec.redrive_count += 1;
        rec.redrive_ms = Some(now);
        rec.stop_ms = None;
        rec.output = None;
        rec.error = None;
        rec.cause = None;
        rec.checkpoint = serde_json::to_value(&cp).ok();
        let history = self.store.history(arn)?;
        let count = rec.redrive_count;
        let running = Arc::new(Running::new(rec.clone(), history));
        {
            let mut all = self.running.lock();
            if all.contains_key(arn) {
                return Err("Execution is RUNNING and cannot be redriven".into());
            }
            all.insert(arn.to_string(), running.clone());
        }
        let p = self.store.put_execution(rec.row());
        let last = running.last_event_id();
        running.emit(self, last, "ExecutionRedriven", Some(("executionRedrivenEventDetails", json!({ "redriveCount": count }))));
        p.wait().await?;
        drop(self.launch(running, def, Some(cp)));
        Ok(now)
    }
}

pub enum End {
    Succeeded(Value, u64),
    Failed(Failure, u64),
    Aborted(Option<String>, Option<String>),
    TimedOut,
}
