//! Lambda's API errors with AWS's codes and statuses.

use nimbus_core::AwsError;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LambdaError {
    ResourceNotFound(String),
    ResourceConflict(String),
    InvalidParameterValue(String),
    /// 429; the reason is AWS's `Reason` (e.g. ReservedFunctionConcurrentInvocationLimitExceeded).
    TooManyRequests { message: String, reason: &'static str },
    RequestTooLarge(String),
    InvalidRequestContent(String),
    PreconditionFailed(String),
    Validation(String),
    Unsupported(String),
    Service(String),
}

pub type LambdaResult<T> = Result<T, LambdaError>;

impl LambdaError {
    pub fn function_not_found(arn: &str) -> LambdaError {
        LambdaError::ResourceNotFound(format!("Function not found: {arn}"))
    }

    pub fn invalid(message: impl Into<String>) -> LambdaError {
        LambdaError::InvalidParameterValue(message.into())
    }
}

impl From<LambdaError> for AwsError {
    fn from(e: LambdaError) -> AwsError {
        use LambdaError::*;
        match e {
            ResourceNotFound(m) => AwsError::new("ResourceNotFoundException", 404, m),
            ResourceConflict(m) => AwsError::new("ResourceConflictException", 409, m),
            InvalidParameterValue(m) => AwsError::new("InvalidParameterValueException", 400, m),
            TooManyRequests { message, reason } => AwsError::new("TooManyRequestsException", 429, message).with_member("Reason", reason).with_header("Retry-After", "1"),
            RequestTooLarge(m) => AwsError::new("RequestTooLargeException", 413, m),
            InvalidRequestContent(m) => AwsError::new("InvalidRequestContentException", 400, m),
            PreconditionFailed(m) => AwsError::new("PreconditionFailedException", 412, m),
            Validation(m) => AwsError::new("ValidationException", 400, m),
            Unsupported(m) => AwsError::new("UnsupportedOperationException", 400, m),
            Service(m) => AwsError::new("ServiceException", 500, m),
        }
    }
}

/// Errors from the shared codecs get Lambda's names.
pub fn lambda_names(err: AwsError) -> AwsError {
    match err.code.as_ref() {
        "InvalidParameterValue" | "MissingParameter" => AwsError { code: "InvalidParameterValueException".into(), ..err },
        "SerializationException" => AwsError { code: "InvalidRequestContentException".into(), ..err },
        _ => err,
    }
}
