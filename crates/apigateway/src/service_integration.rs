//! HTTP APIs' AWS service integrations (`AWS_PROXY` with an `IntegrationSubtype`, AWS's
//! "Integration subtype reference"). `RequestParameters` map the request to the action's
//! parameters in the mapping language of `mapping.rs` (`$request.body.<path>`,
//! `$request.header.<name>`, `$context.<name>`, literals and mixtures). `SQS-SendMessage`,
//! `SQS-ReceiveMessage`, `SQS-DeleteMessage` and `SQS-PurgeQueue` run through
//! `QueueSender`; `EventBridge-PutEvents` through `EventPublisher`; the other subtypes are
//! accepted at create and answer 500 "… not supported by nimbus yet" when called.

use nimbus_core::internal::{EventPublisher, QueueSender};
use serde_json::{json, Map, Value};
use std::collections::HashMap;

/// Every subtype AWS accepts, with the parameters each requires.
pub const SUBTYPES: &[(&str, &[&str])] = &[
    ("EventBridge-PutEvents", &["Detail", "DetailType", "Source"]),
    ("SQS-SendMessage", &["QueueUrl", "MessageBody"]),
    ("SQS-ReceiveMessage", &["QueueUrl"]),
    ("SQS-DeleteMessage", &["QueueUrl", "ReceiptHandle"]),
    ("SQS-PurgeQueue", &["QueueUrl"]),
    ("AppConfig-GetConfiguration", &["Application", "Environment", "Configuration", "ClientId"]),
    ("Kinesis-PutRecord", &["StreamName", "Data", "PartitionKey"]),
    ("StepFunctions-StartExecution", &["StateMachineArn"]),
    ("StepFunctions-StartSyncExecution", &["StateMachineArn"]),
    ("StepFunctions-StopExecution", &["ExecutionArn"]),
];

/// `arn:aws:sqs:<region>:<account>:<name>` of a queue URL: nimbus's
/// `http://host/queue/<region>/<account>/<name>` or `http://host/<account>/<name>`
/// (the region from an `sqs.<region>.` host, else the API's).
pub fn queue_arn(url: &str, api_region: &str) -> Option<String> {
    let rest = url.split_once("://").map_or(url, |(_, r)| r);
    let (host, path) = rest.split_once('/')?;
    let parts: Vec<&str> = path.trim_end_matches('/').split('/').collect();
    let (region, account, name) = match parts.as_slice() {
        ["queue", region, account, name] => (region.to_string(), *account, *name),
        [account, name] => {
            let region = host.strip_prefix("sqs.").and_then(|h| h.split('.').next()).filter(|r| r.contains('-')).unwrap_or(api_region);
            (region.to_string(), *account, *name)
        }
        _ => return None,
    };
    (!account.is_empty() && !name.is_empty()).then(|| format!("arn:aws:sqs:{region}:{account}:{name}"))
}

/// What a service integration answers: status and JSON body.
pub struct Answer {
    pub status: u16,
    pub body: Value,
}

fn not_supported(subtype: &str) -> Answer {
    Answer { status: 500, body: json!({ "message": format!("{subtype} integrations are not supported by nimbus yet") }) }
}

/// SendMessage's input from the evaluated parameters (`DelaySeconds` a number,
/// `MessageAttributes` SQS's JSON map).
fn send_input(params: &HashMap<String, String>) -> Result<Value, String> {
    let mut input = Map::new();
    for (k, v) in params {
        let value = match k.as_str() {
            "DelaySeconds" => json!(v.trim().parse::<i64>().map_err(|_| format!("DelaySeconds is not a number: {v}"))?),
            "MessageAttributes" => serde_json::from_str(v).map_err(|_| format!("MessageAttributes is not a JSON map: {v}"))?,
            "QueueUrl" | "MessageBody" | "MessageGroupId" | "MessageDeduplicationId" => json!(v),
            _ => continue,
        };
        input.insert(k.clone(), value);
    }
    Ok(Value::Object(input))
}

/// ReceiveMessage's input from the evaluated parameters (numbers, and the name lists
/// as comma-separated text).
fn receive_input(params: &HashMap<String, String>) -> Result<Value, String> {
    let mut input = Map::new();
    for (k, v) in params {
        let value = match k.as_str() {
            "MaxNumberOfMessages" | "VisibilityTimeout" | "WaitTimeSeconds" => json!(v.trim().parse::<i64>().map_err(|_| format!("{k} is not a number: {v}"))?),
            "AttributeNames" | "MessageAttributeNames" | "MessageSystemAttributeNames" => json!(v.split(',').map(str::trim).filter(|s| !s.is_empty()).collect::<Vec<_>>()),
            "ReceiveRequestAttemptId" => json!(v),
            _ => continue,
        };
        input.insert(k.clone(), value);
    }
    Ok(Value::Object(input))
}

/// ReceiveMessage's messages as the integration answers them (`messages` null when none).
fn received(result: &Value) -> Value {
    let Some(messages) = result.get("Messages").and_then(Value::as_array) else { return Value::Null };
    let field = |m: &Value, k: &str| m.get(k).cloned().unwrap_or(Value::Null);
    let shown: Vec<Value> = messages
        .iter()
        .map(|m| {
            json!({
                "Attributes": field(m, "Attributes"),
                "Body": field(m, "Body"),
                "MD5OfBody": field(m, "MD5OfBody"),
                "MD5OfMessageAttributes": field(m, "MD5OfMessageAttributes"),
                "MessageAttributes": field(m, "MessageAttributes"),
                "MessageId": field(m, "MessageId"),
                "ReceiptHandle": field(m, "ReceiptHandle"),
            })
        })
        .collect();
    Value::Array(shown)
}

/// PutEvents' one entry from the evaluated parameters (`Detail`, `DetailType`, `Source`,
/// `Time`, `EventBusName`, `Resources` — a comma-separated list —, `TraceHeader`) and the
/// region it goes to (`Region`, else the API's).
fn put_events_input(params: &HashMap<String, String>) -> Value {
    let mut entry = Map::new();
    for (k, v) in params {
        let value = match k.as_str() {
            "Resources" => Value::Array(v.split(',').map(|r| Value::String(r.trim().to_string())).filter(|r| r != "").collect()),
            "Time" => match v.parse::<f64>() {
                Ok(n) => json!(n),
                Err(_) => Value::String(v.clone()),
            },
            "Detail" | "DetailType" | "Source" | "EventBusName" | "TraceHeader" => Value::String(v.clone()),
            _ => continue,
        };
        entry.insert(k.clone(), value);
    }
    json!({ "Entries": [entry] })
}

/// Where a service integration's calls go.
pub struct Backends<'a> {
    pub queues: &'a dyn QueueSender,
    pub events: &'a dyn EventPublisher,
}

/// Runs `subtype` with the evaluated parameters for the API of `account` in `region`.
/// `trace`: the request's trace (the stage segment as parent), which the event (its
/// `TraceHeader`, unless mapped) and the message (`AWSTraceHeader`) carry.
pub async fn call(backends: &Backends<'_>, subtype: &str, params: HashMap<String, String>, (account, region): (&str, &str), request_id: &str, trace: &str) -> Answer {
    if subtype == "EventBridge-PutEvents" {
        let region = params.get("Region").map(String::as_str).unwrap_or(region);
        let mut input = put_events_input(&params);
        if let Some(entry) = input.pointer_mut("/Entries/0").and_then(Value::as_object_mut) {
            entry.entry("TraceHeader").or_insert_with(|| Value::String(trace.to_string()));
        }
        return match backends.events.put_events(account, region, input).await {
            Ok(body) => Answer { status: 200, body },
            Err(e) => Answer { status: e.status, body: json!({ "__type": e.code, "message": e.message }) },
        };
    }
    let queues = backends.queues;
    if !matches!(subtype, "SQS-SendMessage" | "SQS-ReceiveMessage" | "SQS-DeleteMessage" | "SQS-PurgeQueue") {
        return not_supported(subtype);
    }
    let Some(arn) = params.get("QueueUrl").and_then(|u| queue_arn(u, region)) else {
        return error(400, "AWS.SimpleQueueService.NonExistentQueue", "The specified queue does not exist or you do not have access to it.", request_id);
    };
    let metadata = json!({ "RequestId": request_id });
    let outcome = match subtype {
        "SQS-SendMessage" => match send_input(&params) {
            Ok(input) => queues.send_message_traced(&arn, input, Some(trace.to_string())).await.map(|result| {
                let field = |k: &str| result.get(k).cloned().unwrap_or(Value::Null);
                json!({ "SendMessageResponse": { "ResponseMetadata": metadata, "SendMessageResult": {
                    "MD5OfMessageAttributes": field("MD5OfMessageAttributes"),
                    "MD5OfMessageBody": field("MD5OfMessageBody"),
                    "MD5OfMessageSystemAttributes": field("MD5OfMessageSystemAttributes"),
                    "MessageId": field("MessageId"),
                    "SequenceNumber": field("SequenceNumber"),
                } } })
            }),
            Err(e) => return error(400, "InvalidParameterValue", &e, request_id),
        },
        "SQS-ReceiveMessage" => match receive_input(&params) {
            Ok(input) => queues
                .receive_message(&arn, input)
                .await
                .map(|result| json!({ "ReceiveMessageResponse": { "ReceiveMessageResult": { "messages": received(&result) }, "ResponseMetadata": metadata } })),
            Err(e) => return error(400, "InvalidParameterValue", &e, request_id),
        },
        "SQS-DeleteMessage" => {
            let input = json!({ "ReceiptHandle": params.get("ReceiptHandle") });
            queues.delete_message(&arn, input).await.map(|_| json!({ "DeleteMessageResponse": { "ResponseMetadata": metadata } }))
        }
        _ => queues.purge_queue(&arn).await.map(|_| json!({ "PurgeQueueResponse": { "ResponseMetadata": metadata } })),
    };
    match outcome {
        Ok(body) => Answer { status: 200, body },
        Err(e) => {
            let code = e.query_code.as_deref().unwrap_or(&e.code).to_string();
            error(e.status, &code, &e.message, request_id)
        }
    }
}

/// SQS's error as the integration passes it on.
fn error(status: u16, code: &str, message: &str, request_id: &str) -> Answer {
    Answer { status, body: json!({ "Error": { "Code": code, "Message": message, "Type": "Sender" }, "RequestId": request_id }) }
}

#[cfg(test)]
mod tests {
    use super::queue_arn;

    #[test]
    fn queue_urls_to_arns() {
        assert_eq!(queue_arn("http://localhost:4566/queue/eu-west-1/000000000000/q1", "us-east-1").as_deref(), Some("arn:aws:sqs:eu-west-1:000000000000:q1"));
        assert_eq!(queue_arn("http://localhost:4566/000000000000/q1", "us-east-1").as_deref(), Some("arn:aws:sqs:us-east-1:000000000000:q1"));
        assert_eq!(queue_arn("https://sqs.eu-west-2.amazonaws.com/123456789012/q", "us-east-1").as_deref(), Some("arn:aws:sqs:eu-west-2:123456789012:q"));
        assert_eq!(queue_arn("http://localhost:4566/", "us-east-1"), None);
        assert_eq!(queue_arn("nonsense", "us-east-1"), None);
    }
}
