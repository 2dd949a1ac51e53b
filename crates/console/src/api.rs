//! The console's JSON endpoint: `POST /_nimbus/console/api/<service>/<Operation>` with the
//! operation's input as JSON runs that operation of a registered service in-process (no
//! HTTP, no signature) for the root of account 000000000000 in the `region` query
//! parameter's region, and answers its output as JSON (timestamps as epoch seconds, the
//! services' own value shapes) or `{"__type", "message"}` with the error's status.
//!
//! `<service>` is the service's SigV4 signing name (`sqs`, `lambda`, `monitoring`, `xray`,
//! …); DynamoDB Streams, which shares DynamoDB's, is `dynamodbstreams`.
//!
//! Only reads go through (`is_read_only`): the console is unauthenticated, so anything
//! that changes state, mints credentials or reveals a secret is refused with 403.

use crate::{error, json};
use nimbus_core::auth::Caller;
use nimbus_core::data_plane::{DataRequest, DataResponse};
use nimbus_core::model::Protocol;
use nimbus_core::{AwsError, AwsService, RequestContext};
use serde_json::Value;
use std::collections::HashMap;
use std::sync::Arc;

/// The account the console reads.
pub const ACCOUNT: &str = "000000000000";

/// Operations that read but still must not be served unauthenticated: they mint
/// credentials or return secret material.
const REFUSED: &[&str] = &[
    "GetSecretValue",
    "BatchGetSecretValue",
    "GetSessionToken",
    "GetFederationToken",
    "GetAccessKeyInfo",
    "GetCredentialReport",
    "GetParametersForImport",
    "GetPublicKey",
    "GetRandomPassword",
    "GetAuthorizationToken",
];

/// Whether the console lets `operation` through: List*, Describe*, Get*, BatchGet*,
/// Filter* — and not the few reads in `REFUSED`. Parameter Store's decrypted reads are
/// refused by `decrypts`.
pub fn is_read_only(operation: &str) -> bool {
    let read = ["List", "Describe", "Get", "BatchGet", "Filter"]
        .iter()
        .any(|p| operation.strip_prefix(p).is_some_and(|rest| rest.starts_with(|c: char| c.is_ascii_uppercase())));
    read && !REFUSED.contains(&operation)
}

/// Whether the input asks for decrypted values (SSM's `WithDecryption`).
fn decrypts(input: &Value) -> bool {
    input.get("WithDecryption").and_then(Value::as_bool) == Some(true)
}

/// The registered services by console name.
pub struct Services {
    by_name: HashMap<String, Arc<dyn AwsService>>,
}

impl Services {
    pub fn new(services: Vec<Arc<dyn AwsService>>) -> Services {
        Services { by_name: nimbus_core::in_process::by_signing_name(services) }
    }

    /// Whether a service of that console name is registered.
    pub fn has(&self, name: &str) -> bool {
        self.by_name.contains_key(name)
    }

    /// Runs a read operation in-process. `host` is the `Host` the console was reached by
    /// (SQS builds queue URLs from it).
    pub async fn call(&self, host: &str, region: &str, service: &str, operation: &str, input: Value) -> Result<Value, AwsError> {
        let Some(svc) = self.by_name.get(service) else {
            return Err(AwsError::new("UnknownService", 404, format!("nimbus serves no service named {service}")));
        };
        if !is_read_only(operation) || decrypts(&input) {
            return Err(AwsError::new("AccessDenied", 403, format!("The console only reads: {service}:{operation} is not allowed through it")));
        }
        let model = svc.model();
        if !model.operations.contains_key(operation) {
            return Err(AwsError::new("UnknownOperationException", 404, format!("{service} has no operation {operation}")));
        }
        let caller = Caller { access_key_id: "console".into(), account_id: ACCOUNT.into(), region: region.into(), service: Some(model.signing_name.clone()) };
        let mut ctx = RequestContext::new(caller, host.to_string(), "/".to_string());
        ctx.principal_arn = Some(format!("arn:aws:iam::{ACCOUNT}:root"));
        ctx.protocol = if model.protocols.contains(&Protocol::Json) { Protocol::Json } else { model.protocols.first().copied().unwrap_or(Protocol::Json) };
        svc.call(&ctx, operation, input).await
    }

    /// The HTTP answer for `POST /api/<service>/<operation>`.
    pub(crate) async fn answer(&self, req: &DataRequest, region: &str, service: &str, operation: &str) -> DataResponse {
        let input: Value = if req.body.iter().all(u8::is_ascii_whitespace) {
            Value::Object(Default::default())
        } else {
            match serde_json::from_slice(&req.body) {
                Ok(v @ Value::Object(_)) => v,
                Ok(_) => return error(400, "SerializationException", "the input must be a JSON object"),
                Err(e) => return error(400, "SerializationException", &format!("the input is not JSON: {e}")),
            }
        };
        match self.call(&req.host, region, service, operation, input).await {
            Ok(out) => json(200, out.to_string()),
            Err(e) => error(e.status, &e.code, &e.message),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::is_read_only;

    #[test]
    fn only_reads_pass() {
        for op in ["ListQueues", "GetQueueAttributes", "DescribeTable", "BatchGetTraces", "FilterLogEvents", "GetTraceSummaries", "GetMetricData"] {
            assert!(is_read_only(op), "{op}");
        }
        for op in ["SendMessage", "DeleteQueue", "PutMetricData", "Invoke", "Getaway", "Listen", "GetSecretValue", "GetSessionToken", "Describe", "PurgeQueue"] {
            assert!(!is_read_only(op), "{op}");
        }
    }
}
