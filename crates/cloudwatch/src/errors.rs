//! CloudWatch's errors: the model's error shape (`__type`), the query code that
//! `x-amzn-query-error` and the query protocol carry, and the status.
//! <https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/CommonErrors.html>

use nimbus_core::AwsError;

#[derive(Debug)]
pub enum CwError {
    InvalidParameterValue(String),
    InvalidParameterCombination(String),
    MissingParameter(String),
    InvalidNextToken,
    /// AWS's `ValidationError` (query code; the alarm operations' checks).
    Validation(String),
    /// `ResourceNotFound` (404): an alarm named by the alarm operations.
    AlarmNotFound(String),
    /// `ResourceNotFoundException` (404): a resource named by ARN (the tagging operations).
    ResourceNotFound(String),
    /// `InvalidFormat` (400): SetAlarmState's StateReasonData is not JSON.
    InvalidFormat(String),
    /// `LimitExceeded` (400).
    LimitExceeded(String),
    /// Valid AWS input nimbus does not implement.
    NotSupported(String),
    Internal(String),
}

pub type CwResult<T> = Result<T, CwError>;

impl CwError {
    pub fn invalid(message: impl Into<String>) -> CwError {
        CwError::InvalidParameterValue(message.into())
    }

    pub fn combination(message: impl Into<String>) -> CwError {
        CwError::InvalidParameterCombination(message.into())
    }

    pub fn validation(message: impl Into<String>) -> CwError {
        CwError::Validation(message.into())
    }

    /// A required member absent.
    pub fn missing(member: &str) -> CwError {
        CwError::MissingParameter(format!("The parameter {member} is required."))
    }
}

impl From<nimbus_core::storage::StorageError> for CwError {
    fn from(e: nimbus_core::storage::StorageError) -> CwError {
        CwError::Internal(e.to_string())
    }
}

impl From<CwError> for AwsError {
    fn from(e: CwError) -> AwsError {
        let (shape, code, status, message): (&'static str, &'static str, u16, String) = match e {
            CwError::InvalidParameterValue(m) => ("InvalidParameterValueException", "InvalidParameterValue", 400, m),
            CwError::InvalidParameterCombination(m) => ("InvalidParameterCombinationException", "InvalidParameterCombination", 400, m),
            CwError::MissingParameter(m) => ("MissingRequiredParameterException", "MissingParameter", 400, m),
            CwError::InvalidNextToken => ("InvalidNextToken", "InvalidNextToken", 400, "The service couldn't process your request because the NextToken is invalid.".into()),
            CwError::Validation(m) => ("ValidationError", "ValidationError", 400, m),
            CwError::AlarmNotFound(m) => ("ResourceNotFound", "ResourceNotFound", 404, m),
            CwError::ResourceNotFound(m) => ("ResourceNotFoundException", "ResourceNotFoundException", 404, m),
            CwError::InvalidFormat(m) => ("InvalidFormatFault", "InvalidFormat", 400, m),
            CwError::LimitExceeded(m) => ("LimitExceededFault", "LimitExceeded", 400, m),
            CwError::NotSupported(what) => return AwsError::not_supported(&what),
            CwError::Internal(m) => ("InternalServiceFault", "InternalServiceError", 500, m),
        };
        AwsError::new(shape, status, message).with_query_code(code)
    }
}
