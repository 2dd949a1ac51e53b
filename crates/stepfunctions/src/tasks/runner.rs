//! [`Integrations`]: the [`TaskRunner`] that makes Task states' calls in-process through
//! core's `ServiceCaller` — parses the resource, hands the call to its integration
//! (`lambda.rs`, `dynamodb.rs`, `messaging.rs`, `nested.rs`, `apigateway.rs`, `sdk.rs`) and owns what they
//! share: the call itself, the target service's model, the SDK metadata of optimized
//! results.

use super::errors::{self, HttpMetadata};
use super::resource::{self, Optimized, Target};
use super::shapes::{self, Dates};
use super::{ExecutionWatcher, TaskRequest, TaskResult, TaskRunner};
use nimbus_core::data_plane::DataPlane;
use nimbus_core::internal::{InProcessCall, ServiceCaller};
use nimbus_core::model::ServiceModel;
use nimbus_core::service::BoxFuture;
use nimbus_core::{AwsError, Clock};
use serde_json::{Map, Value};
use std::sync::{Arc, OnceLock};

/// Task states' integrations over every registered service.
pub struct Integrations {
    caller: Arc<dyn ServiceCaller>,
    /// How `.sync` waits for nested executions (the engine's; set once it exists).
    watcher: OnceLock<Arc<dyn ExecutionWatcher>>,
    /// API Gateway's execute-api endpoint, for `apigateway:invoke`.
    execute_api: OnceLock<Arc<dyn DataPlane>>,
    clock: Clock,
}

impl Integrations {
    pub fn new(caller: Arc<dyn ServiceCaller>, clock: Clock) -> Integrations {
        Integrations { caller, watcher: OnceLock::new(), execute_api: OnceLock::new(), clock }
    }

    /// The engine's view of executions ending, for `states:startExecution.sync`.
    pub fn set_watcher(&self, watcher: Arc<dyn ExecutionWatcher>) {
        let _ = self.watcher.set(watcher);
    }

    pub(super) fn watcher(&self) -> Option<&Arc<dyn ExecutionWatcher>> {
        self.watcher.get()
    }

    /// API Gateway's execute-api endpoint (the binary's), for `apigateway:invoke`.
    pub fn set_execute_api(&self, plane: Arc<dyn DataPlane>) {
        let _ = self.execute_api.set(plane);
    }

    pub(super) fn execute_api(&self) -> Option<&Arc<dyn DataPlane>> {
        self.execute_api.get()
    }

    pub(super) fn model(&self, service: &str) -> Option<&ServiceModel> {
        self.caller.service_model(service)
    }

    /// One in-process call, as the execution's account and region, made as the task's role
    /// (`Credentials.RoleArn`, else the state machine's): under `--auth iam` a call the role
    /// may not make fails with the service's AccessDenied error.
    pub(super) async fn call(&self, req: &TaskRequest, service: &str, operation: &str, input: Value) -> Result<Value, AwsError> {
        self.assume_task_role(req).await?;
        let call = InProcessCall {
            account: req.account.clone(),
            region: req.region.clone(),
            service: service.to_string(),
            operation: operation.to_string(),
            input,
            trace: req.trace.clone(),
        };
        self.caller.call_as(call, &req.role_arn).await
    }

    /// A Task's `Credentials.RoleArn` is assumed by the state machine's role: under
    /// `--auth iam` that role's policies must allow `sts:AssumeRole` on it and its trust
    /// policy must trust the state machine's role (STS AssumeRole, in-process, as the
    /// state machine's role; its AccessDenied fails the call).
    async fn assume_task_role(&self, req: &TaskRequest) -> Result<(), AwsError> {
        if !self.caller.authorizes_roles() || req.role_arn == req.execution_role_arn || req.execution_role_arn.is_empty() {
            return Ok(());
        }
        let session = req.execution_arn.rsplit(':').next().unwrap_or("task").chars().filter(|c| c.is_ascii_alphanumeric() || "=,.@-_".contains(*c)).take(64).collect::<String>();
        let input = serde_json::json!({ "RoleArn": req.role_arn, "RoleSessionName": if session.len() >= 2 { session } else { "StepFunctionsTask".into() }, "DurationSeconds": 900 });
        let call = InProcessCall { account: req.account.clone(), region: req.region.clone(), service: "sts".into(), operation: "AssumeRole".into(), input, trace: None };
        self.caller.call_as(call, &req.execution_role_arn).await.map(|_| ())
    }

    /// The HTTP date of now on nimbus's clock.
    pub(super) fn http_date(&self) -> String {
        nimbus_core::time::http_date(self.clock.now_ms())
    }

    /// An optimized integration's call of `operation` on `service` with `params` (already
    /// limited to what the integration supports): the result with its SDK metadata, or
    /// the service's error as the integration names it.
    pub(super) async fn optimized_call(&self, req: &TaskRequest, integration: Optimized, service: &str, operation: &str, params: Value) -> Result<Map<String, Value>, TaskResult> {
        let model = self.model(service).ok_or_else(|| errors::task_failed(format!("The service {service} is not available in nimbus")))?;
        let op = model.operations.get(operation).ok_or_else(|| errors::task_failed(format!("{service}:{operation} is not an operation of the service")))?;
        let input = match &op.input {
            Some(shape) => shapes::to_service_input(model, shape, params),
            None => params,
        };
        let request_id = nimbus_core::ids::request_id();
        let output = self.call(req, service, operation, input).await.map_err(|e| errors::optimized_failure(integration, &e, &request_id))?;
        let output = match &op.output {
            Some(shape) => shapes::from_service_output(model, shape, output, Dates::EpochMillis),
            None => output,
        };
        let mut out = match output {
            Value::Object(o) => o,
            _ => Map::new(),
        };
        let date = self.http_date();
        let content_length = Value::Object(out.clone()).to_string().len();
        let content_type = if service == "sns" { "text/xml" } else { "application/x-amz-json-1.0" };
        let extra = if service == "dynamodb" { vec![("Server", "Server".to_string()), ("x-amz-crc32", dynamodb_crc(&out))] } else { Vec::new() };
        HttpMetadata { request_id: &request_id, date: &date, content_type, content_length, extra }.add_to(&mut out);
        Ok(out)
    }
}

/// DynamoDB's `x-amz-crc32` of the answer's body.
fn dynamodb_crc(out: &Map<String, Value>) -> String {
    crc32(Value::Object(out.clone()).to_string().as_bytes()).to_string()
}

fn crc32(bytes: &[u8]) -> u32 {
    let mut crc = 0xFFFF_FFFFu32;
    for &b in bytes {
        crc ^= b as u32;
        for _ in 0..8 {
            crc = if crc & 1 != 0 { (crc >> 1) ^ 0xEDB8_8320 } else { crc >> 1 };
        }
    }
    !crc
}

/// Keeps the parameters an optimized integration passes on (AWS documents a fixed set per
/// API; others are not sent).
pub(super) fn only(params: Value, allowed: &[&str]) -> Value {
    match params {
        Value::Object(o) => Value::Object(o.into_iter().filter(|(k, _)| allowed.contains(&k.as_str())).collect()),
        other => other,
    }
}

impl TaskRunner for Integrations {
    fn check_resource(&self, resource: &str) -> Result<(), String> {
        // Activities are the engine's own.
        if resource.split(':').nth(5) == Some("activity") && resource.starts_with("arn:aws") && resource.split(':').nth(2) == Some("states") {
            return Ok(());
        }
        let parsed = resource::parse(resource).map_err(|e| e.to_string())?;
        if let Target::AwsSdk { service, operation, .. } = &parsed.target {
            // The action must be one of the service's operations.
            let known = self.model(service.signing_name).is_some_and(|m| m.operations.contains_key(operation));
            if !known {
                return Err(resource::ResourceError::NotRecognized(resource.to_string()).to_string());
            }
        }
        Ok(())
    }

    fn run<'a>(&'a self, request: TaskRequest) -> BoxFuture<'a, TaskResult> {
        Box::pin(async move {
            let parsed = match resource::parse(&request.resource) {
                Ok(p) => p,
                Err(e) => return errors::task_failed(e.to_string()),
            };
            match parsed.target {
                Target::Function { arn } => super::lambda::invoke_function(self, &request, &arn).await,
                Target::Optimized { integration, action } => match integration {
                    Optimized::LambdaInvoke => super::lambda::invoke(self, &request).await,
                    Optimized::DynamoDb => super::dynamodb::run(self, &request, &action).await,
                    Optimized::SqsSendMessage => super::messaging::send_message(self, &request).await,
                    Optimized::SnsPublish => super::messaging::publish(self, &request).await,
                    Optimized::EventsPutEvents => super::messaging::put_events(self, &request).await,
                    Optimized::StatesStartExecution => super::nested::start_execution(self, &request, parsed.pattern).await,
                    Optimized::ApiGatewayInvoke => super::apigateway::invoke(self, &request).await,
                },
                Target::AwsSdk { service, operation, .. } => super::sdk::run(self, &request, service, &operation).await,
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crc32_is_the_ieee_one() {
        assert_eq!(crc32(b"{}"), 2745614147);
        assert_eq!(crc32(b"123456789"), 0xCBF4_3926);
    }

    #[test]
    fn only_keeps_the_supported_parameters() {
        let p = serde_json::json!({ "QueueUrl": "q", "MessageBody": "b", "MessageSystemAttribute": {} });
        assert_eq!(only(p, &["QueueUrl", "MessageBody"]), serde_json::json!({ "QueueUrl": "q", "MessageBody": "b" }));
    }
}
