//! Step Functions from a Task state: `arn:aws:states:::states:startExecution` starts an
//! execution (the result is `{ExecutionArn, StartDate, …}`); `.sync` waits for it — by
//! the engine's notification, no polling — and answers DescribeExecution's result with
//! `Output` as a JSON string; `.sync:2` the same with `Input` / `Output` as JSON. A nested
//! execution that does not succeed fails the task with `States.TaskFailed`, the cause
//! being that result as JSON text. An EXPRESS state machine's execution runs through
//! StartSyncExecution (DescribeExecution does not know EXPRESS executions).
//! `.waitForTaskToken` starts it and the engine waits for the token.
//! <https://docs.aws.amazon.com/step-functions/latest/dg/connect-stepfunctions.html>

use super::errors;
use super::resource::Optimized;
use super::runner::{only, Integrations};
use super::shapes::{self, Dates};
use super::{Pattern, TaskRequest, TaskResult};
use serde_json::Value;

const START_EXECUTION: &[&str] = &["Input", "Name", "StateMachineArn", "TraceHeader"];

pub async fn start_execution(runner: &Integrations, req: &TaskRequest, pattern: Pattern) -> TaskResult {
    let mut params = only(req.arguments.clone(), START_EXECUTION);
    // No input is `{}`, as StartExecution's own default.
    if let Some(input) = params.get_mut("Input").filter(|v| v.is_null()) {
        *input = Value::String("{}".into());
    }
    if matches!(pattern, Pattern::Sync | Pattern::Sync2) && is_express(runner, req, &params).await {
        return express_sync(runner, req, params, pattern).await;
    }
    let started = match runner.optimized_call(req, Optimized::StatesStartExecution, "states", "StartExecution", params).await {
        Ok(out) => out,
        Err(failed) => return failed,
    };
    if !matches!(pattern, Pattern::Sync | Pattern::Sync2) {
        return TaskResult::Output(Value::Object(started));
    }
    let Some(arn) = started.get("ExecutionArn").and_then(Value::as_str).map(str::to_string) else {
        return errors::task_failed("StartExecution answered no ExecutionArn");
    };
    let Some(watcher) = runner.watcher() else {
        return errors::task_failed("Waiting for nested executions (.sync) is not available in this nimbus");
    };
    if watcher.finished(&arn).await.is_none() {
        return errors::task_failed(format!("Execution Does Not Exist: '{arn}'"));
    }
    let described = match runner.call(req, "states", "DescribeExecution", serde_json::json!({ "executionArn": arn })).await {
        Ok(d) => d,
        Err(e) => return errors::task_failed(e.message),
    };
    finish(runner, "DescribeExecutionOutput", described, pattern)
}

/// Whether the state machine the parameters name is an EXPRESS one (whose executions
/// DescribeExecution does not know: they run to their end in StartSyncExecution).
async fn is_express(runner: &Integrations, req: &TaskRequest, params: &Value) -> bool {
    let Some(machine) = params.get("StateMachineArn").and_then(Value::as_str) else { return false };
    let described = runner.call(req, "states", "DescribeStateMachine", serde_json::json!({ "stateMachineArn": machine })).await;
    described.ok().and_then(|d| d.get("type").and_then(Value::as_str).map(|t| t == "EXPRESS")).unwrap_or(false)
}

/// `.sync` of an EXPRESS state machine: its execution runs through StartSyncExecution.
async fn express_sync(runner: &Integrations, req: &TaskRequest, params: Value, pattern: Pattern) -> TaskResult {
    let Some(model) = runner.model("states") else {
        return errors::task_failed("Step Functions is not available in this nimbus");
    };
    let input = shapes::to_service_input(model, "StartSyncExecutionInput", params);
    let request_id = nimbus_core::ids::request_id();
    match runner.call(req, "states", "StartSyncExecution", input).await {
        Ok(done) => finish(runner, "StartSyncExecutionOutput", done, pattern),
        Err(e) => errors::optimized_failure(Optimized::StatesStartExecution, &e, &request_id),
    }
}

/// A nested execution's end as the task's result: the API's answer in PascalCase, dates in
/// epoch milliseconds, `.sync:2` with `Input` / `Output` as JSON; `States.TaskFailed` unless
/// it succeeded.
fn finish(runner: &Integrations, shape: &str, answer: Value, pattern: Pattern) -> TaskResult {
    let mut result = match runner.model("states") {
        Some(model) => shapes::from_service_output(model, shape, answer, Dates::EpochMillis),
        None => answer,
    };
    if pattern == Pattern::Sync2 {
        for key in ["Input", "Output"] {
            if let Some(v) = result.get_mut(key) {
                if let Some(parsed) = v.as_str().and_then(|s| serde_json::from_str::<Value>(s).ok()) {
                    *v = parsed;
                }
            }
        }
    }
    if result.get("Status").and_then(Value::as_str) == Some("SUCCEEDED") {
        TaskResult::Output(result)
    } else {
        errors::task_failed(result.to_string())
    }
}
