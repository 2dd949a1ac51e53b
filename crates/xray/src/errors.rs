//! X-Ray's errors as the model names them (REST-JSON: the shape name is the code).
//! <https://docs.aws.amazon.com/xray/latest/api/CommonErrors.html>

use nimbus_core::AwsError;

#[derive(Debug)]
pub enum XrayError {
    /// `InvalidRequestException` (400): bad input.
    Invalid(String),
    /// `ResourceNotFoundException` (404).
    NotFound(String),
    /// `RuleLimitExceededException` (400): more sampling rules than AWS allows.
    RuleLimit(String),
    /// Valid AWS input nimbus does not implement.
    NotSupported(String),
    Internal(String),
}

pub type XrayResult<T> = Result<T, XrayError>;

impl XrayError {
    pub fn invalid(message: impl Into<String>) -> XrayError {
        XrayError::Invalid(message.into())
    }
}

impl From<nimbus_core::storage::StorageError> for XrayError {
    fn from(e: nimbus_core::storage::StorageError) -> XrayError {
        XrayError::Internal(e.to_string())
    }
}

impl From<XrayError> for AwsError {
    fn from(e: XrayError) -> AwsError {
        match e {
            XrayError::Invalid(m) => AwsError::new("InvalidRequestException", 400, m),
            XrayError::NotFound(m) => AwsError::new("ResourceNotFoundException", 404, m),
            XrayError::RuleLimit(m) => AwsError::new("RuleLimitExceededException", 400, m),
            XrayError::NotSupported(what) => AwsError::new("InvalidRequestException", 400, format!("{what} is not supported by nimbus")),
            XrayError::Internal(m) => AwsError::internal(m),
        }
    }
}
