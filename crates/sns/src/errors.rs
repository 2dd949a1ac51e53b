//! SNS's errors with the codes, HTTP statuses and message wordings of the SNS API
//! reference ("Common Errors" and each action's "Errors" section,
//! https://docs.aws.amazon.com/sns/latest/api/CommonErrors.html).

use nimbus_core::AwsError;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SnsError {
    /// 400 InvalidParameter: "Invalid parameter: <what>".
    InvalidParameter(String),
    /// 400 InvalidParameterValue.
    InvalidParameterValue(String),
    /// 404 NotFound: "Topic does not exist", "Subscription does not exist".
    NotFound(String),
    /// 404 ResourceNotFound (tag operations on a missing resource).
    ResourceNotFound(String),
    /// 400 TagLimitExceeded.
    TagLimitExceeded(String),
    /// 400 InvalidParameter: a tag key or value outside its constraints.
    TagPolicy(String),
    /// PublishBatch's request-level errors (all 400).
    EmptyBatchRequest,
    TooManyEntriesInBatchRequest,
    BatchEntryIdsNotDistinct,
    InvalidBatchEntryId,
    BatchRequestTooLong,
    /// 403 AuthorizationError.
    Authorization(String),
    /// What nimbus does not do (SMS, mobile push, …).
    NotSupported(String),
    /// A storage failure.
    Internal(String),
}

pub type SnsResult<T> = Result<T, SnsError>;

impl SnsError {
    /// `Invalid parameter: <what>`.
    pub fn invalid(what: impl AsRef<str>) -> SnsError {
        SnsError::InvalidParameter(format!("Invalid parameter: {}", what.as_ref()))
    }

    pub fn topic_not_found() -> SnsError {
        SnsError::NotFound("Topic does not exist".to_string())
    }

    pub fn subscription_not_found() -> SnsError {
        SnsError::NotFound("Subscription does not exist".to_string())
    }
}

impl From<SnsError> for AwsError {
    fn from(e: SnsError) -> AwsError {
        match e {
            SnsError::InvalidParameter(m) => AwsError::new("InvalidParameter", 400, m),
            SnsError::InvalidParameterValue(m) => AwsError::new("InvalidParameterValue", 400, m),
            SnsError::NotFound(m) => AwsError::new("NotFound", 404, m),
            SnsError::ResourceNotFound(m) => AwsError::new("ResourceNotFound", 404, m),
            SnsError::TagLimitExceeded(m) => AwsError::new("TagLimitExceeded", 400, m),
            SnsError::TagPolicy(m) => AwsError::new("TagPolicy", 400, m),
            SnsError::EmptyBatchRequest => AwsError::new("EmptyBatchRequest", 400, "The batch request doesn't contain any entries"),
            SnsError::TooManyEntriesInBatchRequest => AwsError::new("TooManyEntriesInBatchRequest", 400, "The batch request contains more entries than permissible."),
            SnsError::BatchEntryIdsNotDistinct => AwsError::new("BatchEntryIdsNotDistinct", 400, "Two or more batch entries in the request have the same Id."),
            SnsError::InvalidBatchEntryId => AwsError::new(
                "InvalidBatchEntryId",
                400,
                "A batch entry id can only contain alphanumeric characters, hyphens and underscores. It can be at most 80 letters long.",
            ),
            SnsError::BatchRequestTooLong => AwsError::new("BatchRequestTooLong", 400, "The length of all the messages put together is more than the limit."),
            SnsError::Authorization(m) => AwsError::new("AuthorizationError", 403, m),
            SnsError::NotSupported(what) => AwsError::new("InvalidParameter", 400, format!("{what} is not supported by nimbus yet")),
            SnsError::Internal(m) => AwsError::new("InternalError", 500, m),
        }
    }
}
