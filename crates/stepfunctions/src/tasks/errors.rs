//! How a failed call reads to Retry / Catch, and the SDK metadata optimized integrations
//! add to their results — AWS's names, not nimbus's:
//! - optimized integrations name errors `<Service>.<ErrorCode>` (`DynamoDB.ConditionalCheckFailedException`,
//!   `Lambda.ResourceNotFoundException`, `SNS.NotFoundException`, `StepFunctions.StateMachineDoesNotExistException`)
//!   with the AWS SDK for Java's cause text: `<message> (Service: AmazonDynamoDBv2; Status Code: 400;
//!   Error Code: <code>; Request ID: <id>; Proxy: null)`;
//! - AWS SDK integrations name them `<ServiceName>.<ErrorName>`, both in Pascal case and the
//!   error name always ending in `Exception` (`S3.NoSuchKeyException`,
//!   `SecretsManager.ResourceNotFoundException`), cause `<message> (Service: <ServiceName>,
//!   Status Code: <status>, Request ID: <id>)`.
//!
//! <https://docs.aws.amazon.com/step-functions/latest/dg/supported-services-awssdk.html>
//! <https://docs.aws.amazon.com/step-functions/latest/dg/bp-lambda-serviceexception.html>

use super::resource::Optimized;
use super::TaskResult;
use nimbus_core::AwsError;
use serde_json::{json, Map, Value};

/// An error code without the namespace some services' JSON errors carry
/// (`com.amazonaws.dynamodb.v20120810#ConditionalCheckFailedException`).
pub fn short_code(code: &str) -> &str {
    code.rsplit('#').next().unwrap_or(code)
}

/// `code` with the `Exception` suffix AWS's error names always carry.
pub fn exception_name(code: &str) -> String {
    let code = short_code(code);
    if code.ends_with("Exception") {
        code.to_string()
    } else {
        format!("{code}Exception")
    }
}

/// The error names and SDK service names of an optimized integration.
fn optimized_names(integration: Optimized) -> (&'static str, &'static str) {
    match integration {
        Optimized::LambdaInvoke => ("Lambda", "AWSLambda"),
        Optimized::DynamoDb => ("DynamoDB", "AmazonDynamoDBv2"),
        Optimized::SqsSendMessage => ("SQS", "AmazonSQS"),
        Optimized::SnsPublish => ("SNS", "AmazonSNS"),
        Optimized::EventsPutEvents => ("EventBridge", "AmazonEventBridge"),
        Optimized::StatesStartExecution => ("StepFunctions", "AWSStepFunctions"),
        Optimized::ApiGatewayInvoke => ("ApiGateway", "AmazonApiGateway"),
    }
}

/// The AWS SDK for Java's base exception of an optimized integration's client: what an
/// error its operation does not model becomes (an IAM denial of the role:
/// `Lambda.AWSLambdaException` with `Error Code: AccessDeniedException` in the cause).
fn base_exception(integration: Optimized) -> &'static str {
    match integration {
        Optimized::LambdaInvoke => "AWSLambdaException",
        Optimized::DynamoDb => "AmazonDynamoDBException",
        Optimized::SqsSendMessage => "AmazonSQSException",
        Optimized::SnsPublish => "AmazonSNSException",
        Optimized::EventsPutEvents => "AmazonEventBridgeException",
        Optimized::StatesStartExecution => "AWSStepFunctionsException",
        Optimized::ApiGatewayInvoke => "AmazonApiGatewayException",
    }
}

/// A service's error as an optimized integration reports it.
pub fn optimized_failure(integration: Optimized, e: &AwsError, request_id: &str) -> TaskResult {
    let (prefix, sdk_service) = optimized_names(integration);
    let code = short_code(e.query_code.as_deref().unwrap_or(&e.code));
    // Access denials are not modeled errors of these operations (SNS's AuthorizationError is).
    let name = match short_code(&e.code) {
        "AccessDeniedException" | "AccessDenied" => base_exception(integration).to_string(),
        other => exception_name(other),
    };
    TaskResult::Failed {
        error: format!("{prefix}.{name}"),
        cause: format!("{} (Service: {sdk_service}; Status Code: {}; Error Code: {code}; Request ID: {request_id}; Proxy: null)", e.message, e.status),
    }
}

/// A service's error as an AWS SDK integration reports it.
pub fn sdk_failure(error_prefix: &str, e: &AwsError, request_id: &str) -> TaskResult {
    TaskResult::Failed {
        error: format!("{error_prefix}.{}", exception_name(&e.code)),
        cause: format!("{} (Service: {error_prefix}, Status Code: {}, Request ID: {request_id})", e.message, e.status),
    }
}

/// A function's error document (`X-Amz-Function-Error`): the error is its `errorType`,
/// the cause the document; a document naming no type is `Lambda.Unknown` with AWS's
/// "The cause could not be determined …" cause.
pub fn function_failure(payload: &[u8]) -> TaskResult {
    let doc: Option<Value> = serde_json::from_slice(payload).ok();
    let text = match &doc {
        Some(d) => d.to_string(),
        None => String::from_utf8_lossy(payload).into_owned(),
    };
    match doc.as_ref().and_then(|d| d.get("errorType")).and_then(Value::as_str).filter(|t| !t.is_empty()) {
        Some(kind) => TaskResult::Failed { error: kind.to_string(), cause: text },
        None => TaskResult::Failed {
            error: "Lambda.Unknown".to_string(),
            cause: format!("The cause could not be determined because Lambda did not return an error type. Returned payload: {text}"),
        },
    }
}

/// `States.TaskFailed` with `cause`.
pub fn task_failed(cause: impl Into<String>) -> TaskResult {
    TaskResult::Failed { error: "States.TaskFailed".to_string(), cause: cause.into() }
}

/// The response headers an optimized integration's result shows (`SdkHttpMetadata`,
/// `SdkResponseMetadata`: the AWS SDK for Java's view of the HTTP answer), added to `out`.
pub struct HttpMetadata<'a> {
    pub request_id: &'a str,
    pub date: &'a str,
    /// The answer's `Content-Type`.
    pub content_type: &'a str,
    /// The answer's body length.
    pub content_length: usize,
    /// Further headers the service sends (`X-Amz-Executed-Version`, `x-amz-crc32`, …).
    pub extra: Vec<(&'a str, String)>,
}

impl HttpMetadata<'_> {
    pub fn add_to(self, out: &mut Map<String, Value>) {
        let mut headers: Vec<(&str, String)> = vec![
            ("Connection", "keep-alive".to_string()),
            ("Content-Length", self.content_length.to_string()),
            ("Content-Type", self.content_type.to_string()),
            ("Date", self.date.to_string()),
            ("x-amzn-RequestId", self.request_id.to_string()),
        ];
        headers.extend(self.extra);
        headers.sort_by_key(|h| h.0.to_ascii_lowercase());
        let all: Map<String, Value> = headers.iter().map(|(k, v)| (k.to_string(), json!([v]))).collect();
        let single: Map<String, Value> = headers.iter().map(|(k, v)| (k.to_string(), json!(v))).collect();
        out.insert("SdkHttpMetadata".into(), json!({ "AllHttpHeaders": all, "HttpHeaders": single, "HttpStatusCode": 200 }));
        out.insert("SdkResponseMetadata".into(), json!({ "RequestId": self.request_id }));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An IAM denial of the role is not a modeled error of the operation: the SDK's base
    /// exception names it, the code stays in the cause.
    #[test]
    fn access_denials_are_the_sdk_base_exception() {
        let e = AwsError::new("AccessDeniedException", 403, "User: arn:aws:iam::000000000000:role/r is not authorized to perform: lambda:InvokeFunction on resource: f");
        let TaskResult::Failed { error, cause } = optimized_failure(Optimized::LambdaInvoke, &e, "RID") else { panic!() };
        assert_eq!(error, "Lambda.AWSLambdaException");
        assert!(cause.ends_with("(Service: AWSLambda; Status Code: 403; Error Code: AccessDeniedException; Request ID: RID; Proxy: null)"), "{cause}");
        let e = AwsError::new("AuthorizationError", 403, "denied");
        let TaskResult::Failed { error, .. } = optimized_failure(Optimized::SnsPublish, &e, "RID") else { panic!() };
        assert_eq!(error, "SNS.AuthorizationErrorException");
    }

    #[test]
    fn optimized_errors_read_as_the_java_sdk_writes_them() {
        let e = AwsError::new("ConditionalCheckFailedException", 400, "The conditional request failed");
        let TaskResult::Failed { error, cause } = optimized_failure(Optimized::DynamoDb, &e, "RID") else { panic!() };
        assert_eq!(error, "DynamoDB.ConditionalCheckFailedException");
        assert_eq!(cause, "The conditional request failed (Service: AmazonDynamoDBv2; Status Code: 400; Error Code: ConditionalCheckFailedException; Request ID: RID; Proxy: null)");
        let e = AwsError::new("com.amazonaws.dynamodb.v20120810#ResourceNotFoundException", 400, "Requested resource not found");
        let TaskResult::Failed { error, cause } = optimized_failure(Optimized::DynamoDb, &e, "RID") else { panic!() };
        assert_eq!(error, "DynamoDB.ResourceNotFoundException");
        assert!(cause.contains("Error Code: ResourceNotFoundException;"), "{cause}");
        let e = AwsError::new("StateMachineDoesNotExist", 400, "State Machine Does Not Exist: 'arn'");
        let TaskResult::Failed { error, .. } = optimized_failure(Optimized::StatesStartExecution, &e, "RID") else { panic!() };
        assert_eq!(error, "StepFunctions.StateMachineDoesNotExistException");
        let e = AwsError::new("NotFound", 404, "Topic does not exist");
        let TaskResult::Failed { error, .. } = optimized_failure(Optimized::SnsPublish, &e, "RID") else { panic!() };
        assert_eq!(error, "SNS.NotFoundException");
    }

    #[test]
    fn sdk_errors_carry_the_exception_suffix() {
        let e = AwsError::new("NoSuchKey", 404, "The specified key does not exist.");
        let TaskResult::Failed { error, cause } = sdk_failure("S3", &e, "RID") else { panic!() };
        assert_eq!(error, "S3.NoSuchKeyException");
        assert_eq!(cause, "The specified key does not exist. (Service: S3, Status Code: 404, Request ID: RID)");
        let e = AwsError::new("InvalidToken", 400, "Invalid Token: 'Invalid token'");
        assert!(matches!(sdk_failure("Sfn", &e, "R"), TaskResult::Failed { error, .. } if error == "Sfn.InvalidTokenException"));
    }

    #[test]
    fn function_errors_are_named_by_their_type() {
        let doc = br#"{"errorMessage":"no car","errorType":"CarUnavailable","stackTrace":[]}"#;
        let TaskResult::Failed { error, cause } = function_failure(doc) else { panic!() };
        assert_eq!(error, "CarUnavailable");
        assert_eq!(serde_json::from_str::<Value>(&cause).unwrap()["errorMessage"], "no car");
        let TaskResult::Failed { error, cause } = function_failure(br#"{"errorMessage":"Task timed out after 3.00 seconds"}"#) else { panic!() };
        assert_eq!(error, "Lambda.Unknown");
        assert_eq!(cause, r#"The cause could not be determined because Lambda did not return an error type. Returned payload: {"errorMessage":"Task timed out after 3.00 seconds"}"#);
        assert!(matches!(function_failure(b"oops"), TaskResult::Failed { error, cause } if error == "Lambda.Unknown" && cause.ends_with("Returned payload: oops")));
    }

    #[test]
    fn metadata_lists_every_header_both_ways() {
        let mut out = Map::new();
        HttpMetadata { request_id: "r", date: "d", content_type: "application/json", content_length: 2, extra: vec![("X-Amz-Executed-Version", "$LATEST".into())] }.add_to(&mut out);
        assert_eq!(out["SdkHttpMetadata"]["HttpHeaders"]["X-Amz-Executed-Version"], "$LATEST");
        assert_eq!(out["SdkHttpMetadata"]["AllHttpHeaders"]["Content-Length"], json!(["2"]));
        assert_eq!(out["SdkHttpMetadata"]["HttpStatusCode"], 200);
        assert_eq!(out["SdkResponseMetadata"]["RequestId"], "r");
    }
}
