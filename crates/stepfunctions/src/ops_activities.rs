//! Activities and task tokens: CreateActivity, DescribeActivity, ListActivities,
//! DeleteActivity, GetActivityTask (a long poll of up to 60 s, woken by notification when a
//! task is queued), and SendTaskSuccess / SendTaskFailure / SendTaskHeartbeat, which
//! answer activity tasks and `.waitForTaskToken` tasks alike.
//! <https://docs.aws.amazon.com/step-functions/latest/apireference/API_GetActivityTask.html>

use crate::engine::task::token_well_formed;
use crate::engine::{Activity, Engine};
use crate::errors;
use crate::ops_machines::{activity_tags, check_arn};
use crate::service::{page, page_answer, paginate, req, s, secs};
use crate::tasks::TaskResult;
use nimbus_core::{AwsError, RequestContext};
use serde_json::{json, Value};
use std::sync::atomic::Ordering;

/// How long GetActivityTask holds the connection when no task is waiting.
const POLL_MS: u64 = 60_000;

pub async fn create(engine: &Engine, ctx: &RequestContext, input: &Value) -> Result<Value, AwsError> {
    let name = req(input, "name")?;
    if !crate::arns::valid_name(name) {
        return Err(errors::invalid_name(name));
    }
    let tags = activity_tags(input)?;
    let arn = crate::arns::activity(&ctx.region, &ctx.account_id, name);
    let now = engine.clock.now_ms();
    let pending = {
        let mut reg = engine.registry.write();
        if let Some(a) = reg.activities.get(&arn) {
            // CreateActivity is idempotent.
            return Ok(json!({ "activityArn": arn, "creationDate": secs(a.created_ms) }));
        }
        let a = Activity { arn: arn.clone(), name: name.to_string(), created_ms: now, tags };
        let p = engine.store.put_resource(&arn, "activity", &serde_json::to_value(&a).unwrap_or_default());
        reg.activities.insert(arn.clone(), a);
        p
    };
    pending.wait().await.map_err(AwsError::internal)?;
    Ok(json!({ "activityArn": arn, "creationDate": secs(now) }))
}

pub fn describe(engine: &Engine, _ctx: &RequestContext, input: &Value) -> Result<Value, AwsError> {
    let arn = req(input, "activityArn")?;
    check_arn(arn, &["activity"])?;
    let reg = engine.registry.read();
    let a = reg.activities.get(arn).ok_or_else(|| errors::activity_missing(arn))?;
    Ok(json!({ "activityArn": a.arn, "name": a.name, "creationDate": secs(a.created_ms) }))
}

pub fn list(engine: &Engine, ctx: &RequestContext, input: &Value) -> Result<Value, AwsError> {
    let (start, max) = page(input, 100)?;
    let reg = engine.registry.read();
    let prefix = crate::arns::activity(&ctx.region, &ctx.account_id, "");
    let mut all: Vec<&Activity> = reg.activities.values().filter(|a| a.arn.starts_with(&prefix)).collect();
    all.sort_by(|a, b| a.name.cmp(&b.name));
    let items: Vec<Value> = all.iter().map(|a| json!({ "activityArn": a.arn, "name": a.name, "creationDate": secs(a.created_ms) })).collect();
    let (items, next) = paginate(items, start, max);
    Ok(page_answer("activities", items, next))
}

pub async fn delete(engine: &Engine, _ctx: &RequestContext, input: &Value) -> Result<Value, AwsError> {
    let arn = req(input, "activityArn")?;
    check_arn(arn, &["activity"])?;
    let pending = {
        let mut reg = engine.registry.write();
        if reg.activities.remove(arn).is_none() {
            return Ok(json!({}));
        }
        engine.store.delete_resource(arn)
    };
    pending.wait().await.map_err(AwsError::internal)?;
    Ok(json!({}))
}

pub async fn get_task(engine: &Engine, _ctx: &RequestContext, input: &Value) -> Result<Value, AwsError> {
    let arn = req(input, "activityArn")?;
    check_arn(arn, &["activity"])?;
    if !engine.registry.read().activities.contains_key(arn) {
        return Err(errors::activity_missing(arn));
    }
    let worker = s(input, "workerName").unwrap_or_default().to_string();
    let queue = engine.activity_queue(arn);
    let deadline = engine.clock.now_ms() + POLL_MS;
    loop {
        let ready = queue.ready.notified();
        tokio::pin!(ready);
        ready.as_mut().enable();
        let task = queue.tasks.lock().pop_front();
        if let Some(task) = task {
            let slot = engine.tokens.lock().get(&task.token).cloned();
            let Some(slot) = slot else { continue };
            // The worker has it: ActivityStarted, and heartbeats count from now.
            let running = engine.running.lock().get(&slot.execution_arn).cloned();
            if let Some(r) = running {
                let prev = slot.scheduled_event.load(Ordering::SeqCst);
                let (id, pending) = r.emit_pending(engine, prev, "ActivityStarted", Some(("activityStartedEventDetails", json!({ "workerName": worker }))));
                slot.started_event.store(id, Ordering::SeqCst);
                // Durable before the worker has the token: a restart knows it was taken.
                if let Some(p) = pending {
                    p.wait().await.map_err(AwsError::internal)?;
                }
            }
            slot.last_heartbeat_ms.store(engine.clock.now_ms(), Ordering::SeqCst);
            return Ok(json!({ "taskToken": task.token, "input": task.input }));
        }
        if engine.clock.now_ms() >= deadline {
            return Ok(json!({}));
        }
        tokio::select! {
            _ = &mut ready => {}
            _ = engine.clock.sleep_until(deadline) => {}
        }
    }
}

fn slot_of(engine: &Engine, input: &Value) -> Result<std::sync::Arc<crate::engine::task::TokenSlot>, AwsError> {
    let token = req(input, "taskToken")?;
    if !token_well_formed(token) {
        return Err(errors::invalid_token("Invalid Token: 'Invalid token'"));
    }
    engine.tokens.lock().get(token).cloned().ok_or_else(errors::task_missing)
}

pub async fn send_success(engine: &Engine, input: &Value) -> Result<Value, AwsError> {
    let output_text = req(input, "output")?;
    let slot = slot_of(engine, input)?;
    let output: Value = serde_json::from_str(output_text).map_err(|e| AwsError::new("InvalidOutput", 400, format!("Invalid Output: '{e}'")))?;
    answer(engine, input, &slot, TaskResult::Output(output)).await
}

pub async fn send_failure(engine: &Engine, input: &Value) -> Result<Value, AwsError> {
    let slot = slot_of(engine, input)?;
    let error = s(input, "error").unwrap_or_default().to_string();
    let cause = s(input, "cause").unwrap_or_default().to_string();
    answer(engine, input, &slot, TaskResult::Failed { error, cause }).await
}

/// Records the answer durably with the execution (STANDARD), then hands it to the task.
async fn answer(engine: &Engine, input: &Value, slot: &crate::engine::task::TokenSlot, result: TaskResult) -> Result<Value, AwsError> {
    if slot.outcome.lock().is_some() {
        return Err(errors::task_missing());
    }
    let token = req(input, "taskToken")?;
    let running = engine.running.lock().get(&slot.execution_arn).cloned();
    if let Some(r) = running {
        r.record_token_outcome(engine, token, crate::engine::task::outcome_value(&result)).await.map_err(AwsError::internal)?;
    }
    if !slot.resolve(result) {
        return Err(errors::task_missing());
    }
    Ok(json!({}))
}

pub fn send_heartbeat(engine: &Engine, input: &Value) -> Result<Value, AwsError> {
    let slot = slot_of(engine, input)?;
    slot.last_heartbeat_ms.store(engine.clock.now_ms(), Ordering::SeqCst);
    slot.notify.notify_waiters();
    Ok(json!({}))
}
