//! Secrets Manager's errors and the `__type` / HTTP status / message AWS gives each one.
//! <https://docs.aws.amazon.com/secretsmanager/latest/apireference/CommonErrors.html> and
//! each operation's "Errors" section of the API reference.

use nimbus_core::AwsError;

/// "Secrets Manager can't find the specified secret."
pub const NOT_FOUND: &str = "Secrets Manager can't find the specified secret.";
/// What reads and writes of a secret scheduled for deletion answer.
pub const MARKED_FOR_DELETION: &str = "You can't perform this operation on the secret because it was marked for deletion.";

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SmError {
    ResourceNotFound(String),
    InvalidParameter(String),
    InvalidRequest(String),
    ResourceExists(String),
    LimitExceeded(String),
    MalformedPolicy(String),
    /// KMS refused to encrypt (disabled key, unknown key, …).
    EncryptionFailure(String),
    /// KMS refused to decrypt.
    DecryptionFailure(String),
    InvalidNextToken(String),
    /// Secrets Manager could not invoke a rotation function.
    AccessDenied(String),
    /// The model's constraint checks (`ValidationException` on AWS's JSON endpoints).
    Validation(String),
    /// Something AWS supports that nimbus does not implement yet.
    NotSupported(String),
    Internal(String),
}

impl SmError {
    pub fn not_found() -> SmError {
        SmError::ResourceNotFound(NOT_FOUND.into())
    }

    pub fn constraint(value: impl std::fmt::Display, member: &str, constraint: &str) -> SmError {
        SmError::Validation(format!("1 validation error detected: Value '{value}' at '{member}' failed to satisfy constraint: {constraint}"))
    }

    pub fn missing(member: &str) -> SmError {
        SmError::Validation(format!("1 validation error detected: Value null at '{member}' failed to satisfy constraint: Member must not be null"))
    }

    pub fn encryption() -> SmError {
        SmError::EncryptionFailure("Secrets Manager can't encrypt the protected secret text using the provided KMS key. Check that the KMS key is available, enabled, and not in an invalid state.".into())
    }

    pub fn decryption() -> SmError {
        SmError::DecryptionFailure("Secrets Manager can't decrypt the protected secret text using the provided KMS key.".into())
    }
}

impl From<SmError> for AwsError {
    fn from(e: SmError) -> AwsError {
        use SmError::*;
        let (code, status, message): (&'static str, u16, String) = match e {
            ResourceNotFound(m) => ("ResourceNotFoundException", 400, m),
            InvalidParameter(m) => ("InvalidParameterException", 400, m),
            InvalidRequest(m) => ("InvalidRequestException", 400, m),
            ResourceExists(m) => ("ResourceExistsException", 400, m),
            LimitExceeded(m) => ("LimitExceededException", 400, m),
            MalformedPolicy(m) => ("MalformedPolicyDocumentException", 400, m),
            EncryptionFailure(m) => ("EncryptionFailure", 400, m),
            DecryptionFailure(m) => ("DecryptionFailure", 400, m),
            InvalidNextToken(m) => ("InvalidNextTokenException", 400, m),
            AccessDenied(m) => ("AccessDeniedException", 400, m),
            Validation(m) => ("ValidationException", 400, m),
            NotSupported(m) => ("InvalidRequestException", 400, format!("{m} is not supported by nimbus yet")),
            Internal(m) => ("InternalServiceError", 500, m),
        };
        AwsError::new(code, status, message)
    }
}

/// Gives errors raised by the shared codec layer the name Secrets Manager uses for them.
pub fn sm_names(err: AwsError) -> AwsError {
    match err.code.as_ref() {
        "InvalidParameterValue" | "MissingParameter" => AwsError { code: "ValidationException".into(), ..err },
        _ => err,
    }
}

pub type SmResult<T> = Result<T, SmError>;
