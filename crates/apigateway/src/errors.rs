//! API Gateway's errors with AWS's codes and statuses.

use nimbus_core::AwsError;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ApiGwError {
    NotFound(String),
    BadRequest(String),
    Conflict(String),
    /// An operation or option nimbus does not have yet.
    NotSupported(String),
    Storage(String),
}

pub type ApiGwResult<T> = Result<T, ApiGwError>;

impl From<ApiGwError> for AwsError {
    fn from(e: ApiGwError) -> AwsError {
        match e {
            ApiGwError::NotFound(m) => AwsError::new("NotFoundException", 404, m),
            ApiGwError::BadRequest(m) => AwsError::new("BadRequestException", 400, m),
            ApiGwError::Conflict(m) => AwsError::new("ConflictException", 409, m),
            ApiGwError::NotSupported(what) => AwsError::new("BadRequestException", 400, format!("{what} is not supported by nimbus yet")),
            ApiGwError::Storage(m) => AwsError::new("InternalServerErrorException", 500, m),
        }
    }
}
