//! The AWS SDK integrations, `arn:aws:states:::aws-sdk:<service>:<action>` (also
//! `.waitForTaskToken`), for every service nimbus implements: the action is the API
//! operation (`getObject` → `GetObject`), the parameters and the result are the API's in
//! PascalCase (`shapes.rs`), errors are `<ServiceName>.<ErrorName>Exception`
//! (`S3.NoSuchKeyException`, `Sfn.ExecutionDoesNotExistException`).
//! <https://docs.aws.amazon.com/step-functions/latest/dg/supported-services-awssdk.html>

use super::errors;
use super::resource::SdkService;
use super::runner::Integrations;
use super::shapes::{self, Dates};
use super::{TaskRequest, TaskResult};
use serde_json::{Map, Value};

pub async fn run(runner: &Integrations, req: &TaskRequest, service: SdkService, operation: &str) -> TaskResult {
    let Some(model) = runner.model(service.signing_name) else {
        return errors::task_failed(format!("The service {} is not available in nimbus", service.arn_name));
    };
    let Some(op) = model.operations.get(operation) else {
        return errors::task_failed(format!("{}:{operation} is not an operation of the service", service.arn_name));
    };
    let params = match &req.arguments {
        Value::Object(_) => req.arguments.clone(),
        _ => Value::Object(Map::new()),
    };
    let input = match &op.input {
        Some(shape) => shapes::to_service_input(model, shape, params),
        None => params,
    };
    let request_id = nimbus_core::ids::request_id();
    match runner.call(req, service.signing_name, operation, input).await {
        Ok(output) => TaskResult::Output(match &op.output {
            Some(shape) => shapes::from_service_output(model, shape, output, Dates::Iso8601),
            None => Value::Object(Map::new()),
        }),
        Err(e) => errors::sdk_failure(service.error_prefix, &e, &request_id),
    }
}
