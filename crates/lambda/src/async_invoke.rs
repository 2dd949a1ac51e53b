//! Asynchronous invocation (`InvocationType=Event`): accepted events are stored durably,
//! then run by a worker that waits for work by notification and for retry times by the
//! clock. Failed events are retried (MaximumRetryAttempts, default 2, after 1 and 2
//! minutes) until they succeed, run out of retries or exceed MaximumEventAgeInSeconds
//! (default 6 hours); then the OnSuccess / OnFailure destination (SQS, SNS, Lambda or an
//! EventBridge event bus, `destination_bus.rs`) gets AWS's destination record, and a failed event goes to the DeadLetterConfig queue.
//! Metrics (`metrics.rs`): AsyncEventsReceived, AsyncEventAge (per attempt), AsyncEventsDropped,
//! DestinationDeliveryFailures and DeadLetterErrors.

use crate::errors::{LambdaError, LambdaResult};
use crate::function::timestamp;
use crate::invoke::{run, Request};
use crate::service::{FunctionKey, Inner};
use crate::store::QueuedEvent;
use base64::Engine;
use bytes::Bytes;
use parking_lot::Mutex;
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::sync::Arc;
use tokio::sync::Notify;

const B64: base64::engine::GeneralPurpose = base64::engine::general_purpose::STANDARD;
const DEFAULT_RETRIES: u32 = 2;
const DEFAULT_MAX_AGE_S: u64 = 21_600;
/// Wait before retrying a throttled or failed-to-start event (not counted as an attempt).
const THROTTLE_BACKOFF_MS: u64 = 1_000;

#[derive(Default)]
pub struct AsyncQueue {
    /// Events by (next attempt time, id).
    due: Mutex<BTreeMap<(u64, String), QueuedEvent>>,
    wake: Notify,
}

impl AsyncQueue {
    pub fn new() -> AsyncQueue {
        AsyncQueue::default()
    }

    fn schedule(&self, e: QueuedEvent) {
        self.due.lock().insert((e.next_attempt_ms, e.id.clone()), e);
        self.wake.notify_one();
    }
}

pub async fn enqueue(inner: &Arc<Inner>, key: &FunctionKey, qualifier: Option<String>, payload: &[u8], id: String, trace_id: String) -> LambdaResult<()> {
    let now = inner.clock.now_ms();
    let e = QueuedEvent {
        id,
        account: key.0.clone(),
        region: key.1.clone(),
        function: key.2.clone(),
        qualifier,
        payload_b64: B64.encode(payload),
        enqueued_ms: now,
        attempts: 0,
        next_attempt_ms: now,
        trace_id,
    };
    Inner::commit(inner.store.put_event(&e)).await?;
    crate::metrics::count(&inner.metrics, &target_of(&e), "AsyncEventsReceived");
    inner.async_queue.schedule(e);
    Ok(())
}

/// The metric target of a queued event (the version that runs is not known yet).
fn target_of(e: &QueuedEvent) -> crate::metrics::Target<'_> {
    crate::metrics::Target { account: &e.account, region: &e.region, function: &e.function, qualifier: e.qualifier.as_deref(), executed_version: None }
}

pub fn start_worker(inner: Arc<Inner>, loaded: Vec<QueuedEvent>) {
    for e in loaded {
        inner.async_queue.due.lock().insert((e.next_attempt_ms, e.id.clone()), e);
    }
    tokio::spawn(async move {
        loop {
            let wake = inner.async_queue.wake.notified();
            tokio::pin!(wake);
            wake.as_mut().enable();
            let now = inner.clock.now_ms();
            let (ready, next) = {
                let mut due = inner.async_queue.due.lock();
                let later = due.split_off(&(now + 1, String::new()));
                let ready: Vec<QueuedEvent> = std::mem::replace(&mut *due, later).into_values().collect();
                (ready, due.keys().next().map(|(t, _)| *t))
            };
            for e in ready {
                let inner = inner.clone();
                tokio::spawn(async move { process(&inner, e).await });
            }
            match next {
                Some(t) => {
                    tokio::select! {
                        _ = &mut wake => {}
                        _ = inner.clock.sleep_until(t) => {}
                    }
                }
                None => wake.await,
            }
        }
    });
}

async fn process(inner: &Arc<Inner>, mut e: QueuedEvent) {
    let key: FunctionKey = (e.account.clone(), e.region.clone(), e.function.clone());
    let Ok(f) = inner.get(&key) else {
        // The function is gone: nothing will ever run this event.
        let _ = inner.store.delete_event(&e.id).wait().await;
        return;
    };
    let config_key = e.qualifier.clone().unwrap_or_else(|| "$LATEST".into());
    let config = f.event_invoke_configs.get(&config_key).cloned().unwrap_or_default();
    let max_retries = config.maximum_retry_attempts.unwrap_or(DEFAULT_RETRIES);
    let max_age_ms = config.maximum_event_age_seconds.map(u64::from).unwrap_or(DEFAULT_MAX_AGE_S) * 1000;
    let dead_letter = f.resolve(e.qualifier.as_deref()).and_then(|v| v.dead_letter_target.clone());
    let function_arn = format!("{}:{}", f.arn(), config_key);
    let payload = Bytes::from(B64.decode(&e.payload_b64).unwrap_or_default());
    let now = inner.clock.now_ms();
    if now.saturating_sub(e.enqueued_ms) > max_age_ms {
        let record = destination_record(&e, &function_arn, "EventAgeExceeded", &payload, None);
        let trace = e.trace_id.clone();
        finish(inner, &e, config.on_failure.as_deref(), dead_letter.as_deref(), record, true, &trace).await;
        return;
    }
    // The time since the event was queued, at each attempt (it grows with retries).
    crate::metrics::emit(&inner.metrics, &target_of(&e), "AsyncEventAge", nimbus_core::metrics::unit::MILLISECONDS, now.saturating_sub(e.enqueued_ms) as f64, false);
    let result = run(
        inner,
        Request {
            key,
            qualifier: e.qualifier.clone(),
            request_id: e.id.clone(),
            payload: payload.clone(),
            tail: false,
            client_context: None,
            trace_id: e.trace_id.clone(),
            linked_from: None,
        },
    )
    .await;
    match result {
        Ok(resp) if !resp.function_error => {
            e.attempts += 1;
            let record = destination_record(&e, &function_arn, "Success", &payload, Some((&resp.executed_version, false, &resp.payload)));
            finish(inner, &e, config.on_success.as_deref(), None, record, false, &resp.trace).await;
        }
        Ok(resp) => {
            e.attempts += 1;
            if e.attempts > max_retries {
                let record = destination_record(&e, &function_arn, "RetriesExhausted", &payload, Some((&resp.executed_version, true, &resp.payload)));
                finish(inner, &e, config.on_failure.as_deref(), dead_letter.as_deref(), record, true, &resp.trace).await;
            } else {
                // AWS waits one minute before the second attempt and two before the third.
                e.next_attempt_ms = inner.clock.now_ms() + 60_000 * e.attempts as u64;
                reschedule(inner, e).await;
            }
        }
        Err(LambdaError::TooManyRequests { .. }) | Err(LambdaError::Service(_)) => {
            e.next_attempt_ms = inner.clock.now_ms() + THROTTLE_BACKOFF_MS;
            reschedule(inner, e).await;
        }
        Err(err) => {
            tracing::warn!(event = %e.id, error = ?err, "asynchronous invocation dropped");
            let _ = inner.store.delete_event(&e.id).wait().await;
        }
    }
}

async fn reschedule(inner: &Arc<Inner>, e: QueuedEvent) {
    if let Err(err) = inner.store.put_event(&e).wait().await {
        tracing::error!(event = %e.id, error = %err, "could not persist retry");
    }
    inner.async_queue.schedule(e);
}

fn destination_record(e: &QueuedEvent, function_arn: &str, condition: &str, payload: &[u8], response: Option<(&str, bool, &[u8])>) -> Value {
    let parse = |b: &[u8]| serde_json::from_slice::<Value>(b).unwrap_or_else(|_| Value::String(String::from_utf8_lossy(b).into_owned()));
    let mut record = json!({
        "version": "1.0",
        "timestamp": timestamp(e.enqueued_ms).replace("+0000", "Z"),
        "requestContext": {
            "requestId": e.id,
            "functionArn": function_arn,
            "condition": condition,
            "approximateInvokeCount": e.attempts,
        },
        "requestPayload": parse(payload),
    });
    if let Some((version, error, body)) = response {
        let mut ctx = json!({ "statusCode": 200, "executedVersion": version });
        if error {
            ctx["functionError"] = json!("Unhandled");
        }
        record["responseContext"] = ctx;
        record["responsePayload"] = parse(body);
    }
    record
}

/// Delivers the outcome and forgets the event. `trace`: the header of the last attempt
/// (its function segment as parent), which the destination and dead-letter deliveries carry.
async fn finish(inner: &Arc<Inner>, e: &QueuedEvent, destination: Option<&str>, dead_letter: Option<&str>, record: Value, failed: bool, trace: &str) {
    let delivered = match destination {
        Some(dest) if dest.starts_with("arn:aws:events:") => match inner.events.get() {
            Some(events) => match crate::destination_bus::put(events.as_ref(), dest, &record, trace).await {
                Ok(_) => true,
                Err(err) => {
                    tracing::warn!(event = %e.id, destination = dest, error = %err, "destination delivery failed");
                    false
                }
            },
            None => {
                tracing::warn!(event = %e.id, destination = dest, "no EventBridge service for the destination");
                false
            }
        },
        Some(dest) => deliver(inner, e, dest, record.to_string(), Vec::new(), trace).await,
        None => true,
    };
    if !delivered {
        crate::metrics::count(&inner.metrics, &target_of(e), "DestinationDeliveryFailures");
    }
    if failed {
        crate::metrics::count(&inner.metrics, &target_of(e), "AsyncEventsDropped");
    }
    if failed {
        if let Some(dlq) = dead_letter {
            let body = String::from_utf8_lossy(&B64.decode(&e.payload_b64).unwrap_or_default()).into_owned();
            // AWS's dead-letter messages say which request failed and how.
            let response = record.get("responsePayload");
            let code = response.and_then(|r| r.get("errorType")).and_then(Value::as_str).unwrap_or("Unhandled");
            let message = response.and_then(|r| r.get("errorMessage")).and_then(Value::as_str).unwrap_or("");
            let condition = record["requestContext"]["condition"].as_str().unwrap_or("RetriesExhausted");
            let attributes = vec![
                ("RequestID".to_string(), e.id.clone()),
                ("ErrorCode".to_string(), if condition == "EventAgeExceeded" { "EventAgeExceeded".to_string() } else { code.to_string() }),
                ("ErrorMessage".to_string(), if message.is_empty() { condition.to_string() } else { message.to_string() }),
            ];
            if !deliver(inner, e, dlq, body, attributes, trace).await {
                crate::metrics::count(&inner.metrics, &target_of(e), "DeadLetterErrors");
            }
        }
    }
    if let Err(err) = inner.store.delete_event(&e.id).wait().await {
        tracing::error!(event = %e.id, error = %err, "could not remove finished event");
    }
}

/// Sends one destination or dead-letter message; false when it could not be delivered.
async fn deliver(inner: &Arc<Inner>, e: &QueuedEvent, arn: &str, body: String, attributes: Vec<(String, String)>, trace: &str) -> bool {
    if arn.starts_with("arn:aws:sqs:") {
        if let Err(err) = inner.bus.send_to_queue_traced(arn, body, attributes, Some(trace.to_string())).await {
            tracing::warn!(event = %e.id, destination = arn, error = %err, "destination delivery failed");
            return false;
        }
        true
    } else if arn.starts_with("arn:aws:lambda:") {
        let parts: Vec<&str> = arn.split(':').collect();
        if let (Some(account), Some(region), Some(name)) = (parts.get(4), parts.get(3), parts.get(6)) {
            let key = (account.to_string(), region.to_string(), name.to_string());
            let qualifier = parts.get(7).map(|q| q.to_string());
            if let Err(err) = enqueue(inner, &key, qualifier, body.as_bytes(), nimbus_core::ids::uuid(), trace.to_string()).await {
                tracing::warn!(event = %e.id, destination = arn, error = ?err, "destination delivery failed");
                return false;
            }
            return true;
        }
        false
    } else if arn.starts_with("arn:aws:sns:") {
        match inner.topics.get() {
            Some(topics) => {
                if let Err(err) = topics.publish_traced(arn, body, Some(trace.to_string())).await {
                    tracing::warn!(event = %e.id, destination = arn, error = %err, "destination delivery failed");
                    return false;
                }
                true
            }
            None => {
                tracing::warn!(event = %e.id, destination = arn, "no SNS service for the destination");
                false
            }
        }
    } else {
        tracing::warn!(event = %e.id, destination = arn, "destination type not supported by nimbus");
        false
    }
}
