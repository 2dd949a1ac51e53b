//! The messaging integrations: SQS `sendMessage`, SNS `publish`, EventBridge `putEvents`
//! (each also `.waitForTaskToken`). A JSON value where the API takes a string (a message
//! body, an event's `Detail`) is sent as its JSON text; every event carries the state
//! machine's and the execution's ARNs in `Resources`; a `putEvents` answer with failed
//! entries fails the task with `EventBridge.FailedEntry`.
//! <https://docs.aws.amazon.com/step-functions/latest/dg/connect-sqs.html>
//! <https://docs.aws.amazon.com/step-functions/latest/dg/connect-sns.html>
//! <https://docs.aws.amazon.com/step-functions/latest/dg/connect-eventbridge.html>

use super::resource::Optimized;
use super::runner::{only, Integrations};
use super::{TaskRequest, TaskResult};
use serde_json::Value;

const SEND_MESSAGE: &[&str] = &["DelaySeconds", "MessageAttributes", "MessageBody", "MessageDeduplicationId", "MessageGroupId", "QueueUrl"];
const PUBLISH: &[&str] = &["Message", "MessageAttributes", "MessageStructure", "MessageDeduplicationId", "MessageGroupId", "PhoneNumber", "Subject", "TargetArn", "TopicArn"];

pub async fn send_message(runner: &Integrations, req: &TaskRequest) -> TaskResult {
    let params = only(req.arguments.clone(), SEND_MESSAGE);
    match runner.optimized_call(req, Optimized::SqsSendMessage, "sqs", "SendMessage", params).await {
        Ok(out) => TaskResult::Output(Value::Object(out)),
        Err(failed) => failed,
    }
}

pub async fn publish(runner: &Integrations, req: &TaskRequest) -> TaskResult {
    let params = only(req.arguments.clone(), PUBLISH);
    match runner.optimized_call(req, Optimized::SnsPublish, "sns", "Publish", params).await {
        Ok(out) => TaskResult::Output(Value::Object(out)),
        Err(failed) => failed,
    }
}

/// The state machine an execution ARN belongs to
/// (`…:execution:<machine>:<name>` → `…:stateMachine:<machine>`).
pub fn state_machine_of(execution_arn: &str) -> String {
    let parts: Vec<&str> = execution_arn.split(':').collect();
    if parts.len() >= 7 {
        format!("{}:stateMachine:{}", parts[..5].join(":"), parts[6])
    } else {
        execution_arn.to_string()
    }
}

pub async fn put_events(runner: &Integrations, req: &TaskRequest) -> TaskResult {
    let mut params = only(req.arguments.clone(), &["Entries"]);
    let machine = state_machine_of(&req.execution_arn);
    if let Some(entries) = params.get_mut("Entries").and_then(Value::as_array_mut) {
        for entry in entries.iter_mut().filter_map(Value::as_object_mut) {
            let resources = entry.entry("Resources").or_insert_with(|| Value::Array(Vec::new()));
            if let Some(list) = resources.as_array_mut() {
                list.push(Value::String(machine.clone()));
                list.push(Value::String(req.execution_arn.clone()));
            }
        }
    }
    match runner.optimized_call(req, Optimized::EventsPutEvents, "events", "PutEvents", params).await {
        Ok(out) => {
            if out.get("FailedEntryCount").and_then(Value::as_u64).unwrap_or(0) > 0 {
                let mut answer = out;
                answer.remove("SdkHttpMetadata");
                answer.remove("SdkResponseMetadata");
                return TaskResult::Failed { error: "EventBridge.FailedEntry".into(), cause: Value::Object(answer).to_string() };
            }
            TaskResult::Output(Value::Object(out))
        }
        Err(failed) => failed,
    }
}

#[cfg(test)]
mod tests {
    use super::state_machine_of;

    #[test]
    fn executions_name_their_state_machine() {
        assert_eq!(state_machine_of("arn:aws:states:us-east-1:000000000000:execution:Trip:run-1"), "arn:aws:states:us-east-1:000000000000:stateMachine:Trip");
        assert_eq!(state_machine_of("arn:aws:states:us-east-1:000000000000:express:Trip:run-1:x"), "arn:aws:states:us-east-1:000000000000:stateMachine:Trip");
    }
}
