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
            CwError::NotSupported(what) => return AwsError::not_supported(&what),
            CwError::Internal(m) => ("InternalServiceFault", "InternalServiceError", 500, m),
        };
        AwsError::new(shape, status, message).with_query_code(code)
    }
}
