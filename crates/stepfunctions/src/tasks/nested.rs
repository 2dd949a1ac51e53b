//! Step Functions from a Task state: `arn:aws:states:::states:startExecution` starts an
//! execution (the result is `{ExecutionArn, StartDate, …}`); `.sync` waits for it — by
//! the engine's notification, no polling — and answers DescribeExecution's result with
//! `Output` as a JSON string; `.sync:2` the same with `Input` / `Output` as JSON. A nested
//! execution that does not succeed fails the task with `States.TaskFailed`, the cause
//! being that result as JSON text. `.waitForTaskToken` starts it and the engine waits for
//! the token.
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
    let mut result = match runner.model("states") {
        Some(model) => shapes::from_service_output(model, "DescribeExecutionOutput", described, Dates::EpochMillis),
        None => described,
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
