//! Step Functions' API errors as `AwsError`s: the model's exception shape names (the JSON
//! `__type`) with AWS's message texts.
//! <https://docs.aws.amazon.com/step-functions/latest/apireference/CommonErrors.html>

use nimbus_core::AwsError;

fn e(code: &'static str, message: impl Into<String>) -> AwsError {
    AwsError::new(code, 400, message)
}

pub fn invalid_arn(arn: &str) -> AwsError {
    e("InvalidArn", format!("Invalid Arn: 'Resource type not valid in this context: {arn}'"))
}

pub fn invalid_arn_text(message: impl Into<String>) -> AwsError {
    e("InvalidArn", message)
}

pub fn machine_missing(arn: &str) -> AwsError {
    e("StateMachineDoesNotExist", format!("State Machine Does Not Exist: '{arn}'"))
}

pub fn machine_exists(arn: &str) -> AwsError {
    e("StateMachineAlreadyExists", format!("State Machine Already Exists: '{arn}'"))
}

pub fn execution_missing(arn: &str) -> AwsError {
    e("ExecutionDoesNotExist", format!("Execution Does Not Exist: '{arn}'"))
}

pub fn execution_exists(arn: &str) -> AwsError {
    e("ExecutionAlreadyExists", format!("Execution Already Exists: '{arn}'"))
}

pub fn activity_missing(arn: &str) -> AwsError {
    e("ActivityDoesNotExist", format!("Activity Does Not Exist: '{arn}'"))
}

pub fn invalid_name(name: &str) -> AwsError {
    e("InvalidName", format!("Invalid Name: '{name}'"))
}

pub fn invalid_definition(message: impl Into<String>) -> AwsError {
    e("InvalidDefinition", message)
}

pub fn invalid_input(message: impl Into<String>) -> AwsError {
    e("InvalidExecutionInput", message)
}

pub fn invalid_token(message: impl Into<String>) -> AwsError {
    e("InvalidToken", message)
}

pub fn task_missing() -> AwsError {
    e("TaskDoesNotExist", "Task Does Not Exist")
}

pub fn task_timed_out() -> AwsError {
    e("TaskTimedOut", "Task Timed Out")
}

pub fn validation(message: impl Into<String>) -> AwsError {
    e("ValidationException", message)
}

pub fn resource_missing(message: impl Into<String>) -> AwsError {
    e("ResourceNotFound", message)
}

pub fn type_not_supported(message: impl Into<String>) -> AwsError {
    e("StateMachineTypeNotSupported", message)
}

pub fn conflict(message: impl Into<String>) -> AwsError {
    e("ConflictException", message)
}

pub fn missing(name: &str) -> AwsError {
    e("MissingRequiredParameter", format!("1 validation error detected: Value null at '{name}' failed to satisfy constraint: Member must not be null"))
}

pub fn not_supported(what: &str) -> AwsError {
    e("ValidationException", format!("{what} is not supported by nimbus"))
}

pub fn too_many_tags(arn: &str) -> AwsError {
    e("TooManyTags", "Too many tags").with_member("resourceName", arn.to_string())
}
