//! What a Task state's `Resource` does: the contract between the execution engine (which
//! evaluates the state's input, `Parameters` / `Arguments`, retries, catches, timeouts and
//! task tokens) and the integrations (which make the call).
//!
//! The engine hands a [`TaskRequest`] to a [`TaskRunner`] and gets a [`TaskResult`]:
//! - request-response (`arn:aws:states:::sqs:sendMessage`, a bare function ARN, …): the
//!   call's output;
//! - `.sync` / `.sync:2`: the runner waits for the job it started (a nested execution
//!   through [`ExecutionWatcher`]) and answers its result;
//! - `.waitForTaskToken`: the runner makes the call (the token is already in
//!   `arguments` where the definition put `$$.Task.Token`) and answers its output; the
//!   engine then waits for SendTaskSuccess / SendTaskFailure on the token, durably.
//!
//! Activities (`arn:aws:states:<region>:<acct>:activity:<name>`) are the engine's own:
//! they never reach a runner.
//! <https://docs.aws.amazon.com/step-functions/latest/dg/connect-to-resource.html>

use nimbus_core::service::BoxFuture;
use serde_json::Value;
use std::time::Duration;

mod apigateway;
mod dynamodb;
pub mod errors;
mod lambda;
mod messaging;
mod nested;
pub mod resource;
mod runner;
mod sdk;
mod shapes;

pub use runner::Integrations;

/// How the engine waits on a task (the resource ARN's suffix).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pattern {
    RequestResponse,
    /// `.sync`: wait for the job; nested executions answer `Output` as a JSON string.
    Sync,
    /// `.sync:2`: as `.sync`, with a nested execution's `Output` as JSON.
    Sync2,
    /// `.waitForTaskToken`.
    WaitForTaskToken,
}

impl Pattern {
    /// The pattern a resource ARN asks for, and the ARN without its suffix.
    pub fn of(resource: &str) -> (Pattern, &str) {
        if let Some(base) = resource.strip_suffix(".waitForTaskToken") {
            (Pattern::WaitForTaskToken, base)
        } else if let Some(base) = resource.strip_suffix(".sync:2") {
            (Pattern::Sync2, base)
        } else if let Some(base) = resource.strip_suffix(".sync") {
            (Pattern::Sync, base)
        } else {
            (Pattern::RequestResponse, resource)
        }
    }
}

/// One Task state's call.
#[derive(Debug, Clone)]
pub struct TaskRequest {
    pub account: String,
    pub region: String,
    pub execution_arn: String,
    pub state_name: String,
    /// The state's `Resource` as written (suffix included).
    pub resource: String,
    /// The effective parameters: `Parameters` (JSONPath) or `Arguments` (JSONata)
    /// evaluated, else the state's effective input.
    pub arguments: Value,
    /// The token of a `.waitForTaskToken` task.
    pub task_token: Option<String>,
    /// The role the task's calls are made as: `Credentials.RoleArn` when the state has
    /// one, else the state machine's.
    pub role_arn: String,
    /// The state machine's role, which assumes a `Credentials.RoleArn`.
    pub execution_role_arn: String,
    /// `X-Amzn-Trace-Id` of the execution, for the hop.
    pub trace: Option<String>,
    /// The state's `TimeoutSeconds` (the engine also enforces it).
    pub timeout: Option<Duration>,
}

/// How a call ended. `Failed`'s `error` is what Retry / Catch match on: AWS's names
/// (`Lambda.ServiceException`, `DynamoDB.ConditionalCheckFailedException`,
/// `SQS.QueueDoesNotExistException`, a function's own `errorType`, `States.TaskFailed`, …).
#[derive(Debug, Clone, PartialEq)]
pub enum TaskResult {
    Output(Value),
    Failed { error: String, cause: String },
}

/// Runs Task states' calls (the integrations implement it).
pub trait TaskRunner: Send + Sync {
    /// Whether a resource ARN names an integration nimbus runs; `Err` is the reason
    /// CreateStateMachine's validation gives (`SCHEMA_VALIDATION_FAILED`-style text).
    fn check_resource(&self, resource: &str) -> Result<(), String>;
    /// Makes the call.
    fn run<'a>(&'a self, request: TaskRequest) -> BoxFuture<'a, TaskResult>;
}

/// The end of an execution as `.sync` integrations see it.
#[derive(Debug, Clone, PartialEq)]
pub struct Finished {
    /// `SUCCEEDED`, `FAILED`, `TIMED_OUT` or `ABORTED`.
    pub status: String,
    pub output: Option<Value>,
    pub error: Option<String>,
    pub cause: Option<String>,
}

/// What `.sync` needs of the engine: to wait, by notification, for an execution to end
/// (the engine implements it).
pub trait ExecutionWatcher: Send + Sync {
    /// Resolves once the execution has ended (at once if it already has); `None` if no
    /// such execution exists.
    fn finished<'a>(&'a self, execution_arn: &'a str) -> BoxFuture<'a, Option<Finished>>;
}

#[cfg(test)]
mod tests {
    use super::Pattern;

    #[test]
    fn suffixes_name_the_pattern() {
        assert_eq!(Pattern::of("arn:aws:states:::lambda:invoke"), (Pattern::RequestResponse, "arn:aws:states:::lambda:invoke"));
        assert_eq!(Pattern::of("arn:aws:states:::lambda:invoke.waitForTaskToken"), (Pattern::WaitForTaskToken, "arn:aws:states:::lambda:invoke"));
        assert_eq!(Pattern::of("arn:aws:states:::states:startExecution.sync:2"), (Pattern::Sync2, "arn:aws:states:::states:startExecution"));
        assert_eq!(Pattern::of("arn:aws:states:::states:startExecution.sync"), (Pattern::Sync, "arn:aws:states:::states:startExecution"));
    }
}
