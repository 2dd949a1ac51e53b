//! HTTP APIs' AWS service integrations (`AWS_PROXY` with an `IntegrationSubtype`, AWS's
//! "Integration subtype reference"). `RequestParameters` map the request to the action's
//! parameters (`$request.body`, `$request.body.<path>`, `$request.header.<name>`,
//! `$request.querystring.<name>`, `$request.path.<name>`, `$context.requestId`,
//! `$stageVariables.<name>`, else a literal). `SQS-SendMessage` runs through
//! `QueueSender`; the other subtypes are accepted at create and answer 500 "… not
//! supported by nimbus yet" when called.

use http::HeaderMap;
use nimbus_core::internal::QueueSender;
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

/// What a mapping expression reads.
pub struct Source<'a> {
    pub body: &'a [u8],
    pub headers: &'a HeaderMap,
    pub query: &'a str,
    pub path_parameters: &'a HashMap<String, String>,
    pub stage_variables: &'a Map<String, Value>,
    pub request_id: &'a str,
}

fn query_value(query: &str, name: &str) -> Option<String> {
    crate::event::form_pairs(query).into_iter().filter(|(k, _)| k == name).map(|(_, v)| v).last()
}

fn body_value(body: &[u8], path: &str) -> Option<String> {
    let mut v: Value = serde_json::from_slice(body).ok()?;
    for key in path.split('.') {
        v = v.get_mut(key)?.take();
    }
    Some(match v {
        Value::String(s) => s,
        Value::Null => return None,
        other => other.to_string(),
    })
}

/// A mapping's value: `None` when what it names is absent (the parameter is left out).
pub fn evaluate(expr: &str, src: &Source) -> Option<String> {
    if expr == "$request.body" {
        return Some(String::from_utf8_lossy(src.body).into_owned());
    }
    if let Some(path) = expr.strip_prefix("$request.body.") {
        return body_value(src.body, path);
    }
    if let Some(name) = expr.strip_prefix("$request.header.") {
        return src.headers.get(name).and_then(|v| v.to_str().ok()).map(str::to_string);
    }
    if let Some(name) = expr.strip_prefix("$request.querystring.") {
        return query_value(src.query, name);
    }
    if let Some(name) = expr.strip_prefix("$request.path.") {
        return src.path_parameters.get(name).cloned();
    }
    if expr == "$context.requestId" {
        return Some(src.request_id.to_string());
    }
    if let Some(name) = expr.strip_prefix("$stageVariables.") {
        return src.stage_variables.get(name).and_then(Value::as_str).map(str::to_string);
    }
    Some(expr.to_string())
}

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

/// Runs `subtype` with the evaluated parameters.
pub async fn call(queues: &dyn QueueSender, subtype: &str, params: HashMap<String, String>, region: &str, request_id: &str) -> Answer {
    if subtype != "SQS-SendMessage" {
        return not_supported(subtype);
    }
    let Some(arn) = params.get("QueueUrl").and_then(|u| queue_arn(u, region)) else {
        return error(400, "AWS.SimpleQueueService.NonExistentQueue", "The specified queue does not exist or you do not have access to it.", request_id);
    };
    let input = match send_input(&params) {
        Ok(i) => i,
        Err(e) => return error(400, "InvalidParameterValue", &e, request_id),
    };
    match queues.send_message(&arn, input).await {
        Ok(result) => Answer {
            status: 200,
            body: json!({ "SendMessageResponse": { "ResponseMetadata": { "RequestId": request_id }, "SendMessageResult": {
                "MD5OfMessageAttributes": result.get("MD5OfMessageAttributes").cloned().unwrap_or(Value::Null),
                "MD5OfMessageBody": result.get("MD5OfMessageBody").cloned().unwrap_or(Value::Null),
                "MD5OfMessageSystemAttributes": result.get("MD5OfMessageSystemAttributes").cloned().unwrap_or(Value::Null),
                "MessageId": result.get("MessageId").cloned().unwrap_or(Value::Null),
                "SequenceNumber": result.get("SequenceNumber").cloned().unwrap_or(Value::Null),
            } } }),
        },
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
