//! `AWS API Call via CloudTrail` events: with `--cloudtrail-events`, every write
//! management call made to nimbus (CreateQueue, PutRule, CreateFunction, …) becomes the
//! event CloudTrail sends to the account's default event bus, as if a trail were logging
//! management events. Read-only calls (Get/List/Describe…) and data events (SendMessage,
//! PutItem, Invoke, Publish, PutEvents, PutLogEvents, …) are not sent, as AWS sends them
//! only to rules that opt in or to trails logging data events.
//! <https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-service-event-cloudtrail.html>
//! <https://docs.aws.amazon.com/awscloudtrail/latest/userguide/cloudtrail-event-reference-record-contents.html>

use crate::service::EventsService;
use nimbus_core::internal::{ApiCall, ApiCallRecorder};
use serde_json::{json, Map, Value};

/// Operations CloudTrail records as data events (not sent to EventBridge as management
/// events), by signing name.
const DATA_EVENTS: &[(&str, &[&str])] = &[
    ("sqs", &["SendMessage", "SendMessageBatch", "ReceiveMessage", "DeleteMessage", "DeleteMessageBatch", "ChangeMessageVisibility", "ChangeMessageVisibilityBatch"]),
    (
        "dynamodb",
        &[
            "GetItem", "PutItem", "UpdateItem", "DeleteItem", "BatchGetItem", "BatchWriteItem", "Query", "Scan", "TransactGetItems", "TransactWriteItems",
            "ExecuteStatement", "BatchExecuteStatement", "ExecuteTransaction", "GetRecords", "GetShardIterator",
        ],
    ),
    ("lambda", &["Invoke", "InvokeAsync", "InvokeWithResponseStream"]),
    ("sns", &["Publish", "PublishBatch"]),
    ("events", &["PutEvents", "PutPartnerEvents"]),
    ("logs", &["PutLogEvents", "GetLogEvents", "FilterLogEvents", "StartLiveTail"]),
    ("execute-api", &[]),
];

/// Request and response members CloudTrail never shows (its marker instead).
const HIDDEN: &[&str] = &[
    "SecretAccessKey", "SessionToken", "Password", "NewPassword", "OldPassword", "ZipFile", "PrivateKey", "PrivateKeyPlaintext", "SecretString",
    "SecretBinary", "Plaintext", "RandomPassword",
];
const HIDDEN_MARKER: &str = "HIDDEN_DUE_TO_SECURITY_REASONS";
/// An event is at most 256 KB; larger parameters are left out (`null`).
const MAX_PARAMETERS_BYTES: usize = 100 * 1024;

/// Whether CloudTrail calls the operation read-only (not sent to rules in the plain
/// `ENABLED` state).
fn read_only(service: &str, operation: &str) -> bool {
    // KMS's cryptographic operations are read-only management events in CloudTrail.
    const KMS_CRYPTO: &[&str] = &["Encrypt", "Decrypt", "ReEncrypt", "GenerateDataKey", "GenerateDataKeyWithoutPlaintext", "GenerateDataKeyPair", "GenerateDataKeyPairWithoutPlaintext", "GenerateMac", "VerifyMac", "Sign", "Verify", "GenerateRandom"];
    (service == "kms" && KMS_CRYPTO.contains(&operation))
        || ["Get", "List", "Describe", "Head", "Test", "Lookup", "Search", "Simulate", "Decode"].iter().any(|p| operation.starts_with(p))
}

/// Whether the call is a write management event.
pub fn sent(service: &str, operation: &str) -> bool {
    if read_only(service, operation) {
        return false;
    }
    match DATA_EVENTS.iter().find(|(s, _)| *s == service) {
        Some(("execute-api", _)) => false,
        Some((_, ops)) => !ops.contains(&operation),
        None => true,
    }
}

/// CloudTrail's member names: the first letter lower-cased (top-level members only;
/// nested members keep the request's spelling), secrets hidden.
fn parameters(v: &Value) -> Value {
    let Value::Object(m) = hide(v) else { return Value::Null };
    if m.is_empty() {
        return Value::Null;
    }
    let out: Map<String, Value> = m
        .into_iter()
        .map(|(mut name, v)| {
            if let Some(first) = name.get(..1) {
                let lower = first.to_ascii_lowercase();
                name.replace_range(..1, &lower);
            }
            (name, v)
        })
        .collect();
    let out = Value::Object(out);
    if out.to_string().len() > MAX_PARAMETERS_BYTES {
        return Value::Null;
    }
    out
}

fn hide(v: &Value) -> Value {
    match v {
        Value::Object(m) => {
            // An SSM SecureString's `Value` beside its `Type`.
            let secure = m.get("Type").and_then(Value::as_str) == Some("SecureString");
            let hidden = |k: &str| HIDDEN.contains(&k) || (secure && k == "Value");
            Value::Object(m.iter().map(|(k, v)| (k.clone(), if hidden(k) { json!(HIDDEN_MARKER) } else { hide(v) })).collect())
        }
        Value::Array(a) => Value::Array(a.iter().map(hide).collect()),
        other => other.clone(),
    }
}

/// CloudTrail's `userIdentity` for the caller.
fn user_identity(call: &ApiCall<'_>) -> Value {
    let ctx = call.ctx;
    let arn = ctx.principal_arn.clone().unwrap_or_else(|| format!("arn:aws:iam::{}:root", ctx.account_id));
    let kind = if arn.contains(":assumed-role/") {
        "AssumedRole"
    } else if arn.contains(":user/") {
        "IAMUser"
    } else if arn.contains(":federated-user/") {
        "FederatedUser"
    } else {
        "Root"
    };
    let principal_id = ctx.user_id.clone().unwrap_or_else(|| ctx.account_id.clone());
    json!({ "type": kind, "principalId": principal_id, "arn": arn, "accountId": ctx.account_id, "accessKeyId": ctx.access_key_id })
}

/// The event for one call.
pub fn event(call: &ApiCall<'_>, now_ms: u64) -> Value {
    let ctx = call.ctx;
    let time = nimbus_core::time::iso8601(now_ms);
    let mut detail = json!({
        "eventVersion": "1.09",
        "userIdentity": user_identity(call),
        "eventTime": time,
        "eventSource": format!("{}.amazonaws.com", call.service),
        "eventName": call.operation,
        "awsRegion": ctx.region,
        "sourceIPAddress": ctx.source_ip.map(|ip| ip.to_string()).unwrap_or_else(|| "127.0.0.1".into()),
        "userAgent": "nimbus",
        "requestParameters": parameters(call.input),
        "responseElements": match call.outcome { Ok(out) => parameters(out), Err(_) => Value::Null },
        "requestID": ctx.request_id,
        "eventID": nimbus_core::ids::uuid(),
        "readOnly": false,
        "eventType": "AwsApiCall",
        "managementEvent": true,
        "recipientAccountId": ctx.account_id,
        "eventCategory": "Management",
    });
    if let Err(e) = call.outcome {
        detail["errorCode"] = json!(e.code);
        detail["errorMessage"] = json!(e.message);
    }
    json!({
        "version": "0",
        "id": nimbus_core::ids::uuid(),
        "detail-type": "AWS API Call via CloudTrail",
        "source": format!("aws.{}", call.service),
        "account": ctx.account_id,
        "time": time,
        "region": ctx.region,
        "resources": [],
        "detail": detail,
    })
}

impl ApiCallRecorder for EventsService {
    fn wants(&self, service: &str, operation: &str) -> bool {
        sent(service, operation)
    }

    /// Matches the event against the default bus's rules and archives, then delivers it
    /// (in the background: the API call's answer does not wait for it).
    fn record(&self, call: ApiCall<'_>) {
        let now = self.clock.now_ms();
        let event = event(&call, now);
        let (account, region) = (call.ctx.account_id.clone(), call.ctx.region.clone());
        let (reg, targets, clock) = (self.reg.clone(), self.targets.clone(), self.clock.clone());
        tokio::spawn(async move {
            let deliveries = reg.matching(&account, &region, "default", &event, now);
            if let Err(e) = reg.archives.archive(&account, &region, "default", std::slice::from_ref(&event), now).await {
                tracing::warn!(error = %e, "could not archive an API call event");
            }
            if let Err(e) = crate::deliver::start(&reg, &targets, &clock, deliveries).await {
                tracing::warn!(error = %e, "could not deliver an API call event");
            }
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn which_calls_are_sent() {
        assert!(sent("sqs", "CreateQueue"));
        assert!(sent("lambda", "CreateFunction"));
        assert!(sent("events", "PutRule"));
        assert!(!sent("sqs", "SendMessage"));
        assert!(!sent("sqs", "GetQueueAttributes"));
        assert!(!sent("dynamodb", "PutItem"));
        assert!(!sent("events", "PutEvents"));
        assert!(!sent("execute-api", "ManageConnections"));
    }

    #[test]
    fn parameters_are_camel_cased_and_secrets_hidden() {
        let p = parameters(&json!({"QueueName": "q", "Attributes": {"VisibilityTimeout": "5"}, "Code": {"ZipFile": "UEsDB"}}));
        assert_eq!(p, json!({"queueName": "q", "attributes": {"VisibilityTimeout": "5"}, "code": {"ZipFile": HIDDEN_MARKER}}));
        assert_eq!(parameters(&json!({})), Value::Null);
        // Top-level secrets too, and an SSM SecureString's value.
        assert_eq!(parameters(&json!({"Name": "s", "SecretString": "pw"})), json!({"name": "s", "secretString": HIDDEN_MARKER}));
        assert_eq!(parameters(&json!({"Name": "/p", "Type": "SecureString", "Value": "pw"}))["value"], json!(HIDDEN_MARKER));
        assert_eq!(parameters(&json!({"Name": "/p", "Type": "String", "Value": "v"}))["value"], json!("v"));
        assert!(!sent("kms", "Decrypt") && !sent("kms", "GenerateDataKey") && sent("kms", "CreateKey"));
    }
}
