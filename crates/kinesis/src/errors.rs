//! Kinesis Data Streams' errors: the `__type` each answers, its HTTP status and AWS's
//! message. <https://docs.aws.amazon.com/kinesis/latest/APIReference/CommonErrors.html>

use nimbus_core::AwsError;

#[derive(Debug)]
pub enum KinesisError {
    /// A member outside its model constraint (coral's `ValidationException`).
    Validation(String),
    InvalidArgument(String),
    ResourceNotFound(String),
    ResourceInUse(String),
    LimitExceeded(String),
    ExpiredIterator(String),
    ExpiredNextToken(String),
    ProvisionedThroughputExceeded(String),
    AccessDenied(String),
    /// A KMS error as Kinesis names it (`KMSNotFoundException`, `KMSDisabledException`, …).
    Kms(&'static str, String),
    /// Valid AWS input nimbus does not implement.
    NotSupported(String),
    Internal(String),
}

pub type KinesisResult<T> = Result<T, KinesisError>;

impl KinesisError {
    /// AWS's wording for a member outside its model constraint.
    pub fn constraint(
        value: impl std::fmt::Display,
        member: &str,
        constraint: &str,
    ) -> KinesisError {
        KinesisError::Validation(format!("1 validation error detected: Value '{value}' at '{member}' failed to satisfy constraint: {constraint}"))
    }

    pub fn missing(member: &str) -> KinesisError {
        KinesisError::Validation(format!("1 validation error detected: Value null at '{member}' failed to satisfy constraint: Member must not be null"))
    }

    /// `Stream <name> under account <account> not found.`
    pub fn stream_not_found(name: &str, account: &str) -> KinesisError {
        KinesisError::ResourceNotFound(format!("Stream {name} under account {account} not found."))
    }

    /// `Shard <id> in stream <name> under account <account> does not exist`
    pub fn shard_not_found(shard: &str, name: &str, account: &str) -> KinesisError {
        KinesisError::ResourceNotFound(format!(
            "Shard {shard} in stream {name} under account {account} does not exist"
        ))
    }
}

impl From<nimbus_core::storage::StorageError> for KinesisError {
    fn from(e: nimbus_core::storage::StorageError) -> KinesisError {
        KinesisError::Internal(e.to_string())
    }
}

impl From<KinesisError> for AwsError {
    fn from(e: KinesisError) -> AwsError {
        use KinesisError::*;
        let (code, status, message): (&'static str, u16, String) = match e {
            Validation(m) => ("ValidationException", 400, m),
            InvalidArgument(m) => ("InvalidArgumentException", 400, m),
            ResourceNotFound(m) => ("ResourceNotFoundException", 400, m),
            ResourceInUse(m) => ("ResourceInUseException", 400, m),
            LimitExceeded(m) => ("LimitExceededException", 400, m),
            ExpiredIterator(m) => ("ExpiredIteratorException", 400, m),
            ExpiredNextToken(m) => ("ExpiredNextTokenException", 400, m),
            ProvisionedThroughputExceeded(m) => ("ProvisionedThroughputExceededException", 400, m),
            AccessDenied(m) => ("AccessDeniedException", 400, m),
            Kms(code, m) => (code, 400, m),
            NotSupported(what) => (
                "InvalidArgumentException",
                400,
                format!("{what} is not supported by nimbus"),
            ),
            Internal(m) => ("InternalFailure", 500, m),
        };
        AwsError::new(code, status, message)
    }
}
