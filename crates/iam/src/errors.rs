//! IAM's and STS's errors, with the codes, HTTP statuses and message wordings AWS uses
//! (IAM API reference, "Common Errors" and each operation's "Errors" section).

use nimbus_core::AwsError;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IamError {
    /// 404 NoSuchEntity: "The role with name X cannot be found."
    NoSuchEntity(String),
    /// 409 EntityAlreadyExists.
    EntityAlreadyExists(String),
    /// 409 DeleteConflict.
    DeleteConflict(String),
    /// 400 MalformedPolicyDocument.
    MalformedPolicyDocument(String),
    /// 409 LimitExceeded.
    LimitExceeded(String),
    /// 400 ValidationError (constraint violations, "1 validation error detected: …").
    Validation(String),
    /// 400 UnmodifiableEntity (service-linked roles).
    Unmodifiable(String),
    /// 400 InvalidInput.
    InvalidInput(String),
    /// 403 AccessDenied (STS: a role that cannot be assumed).
    AccessDenied(String),
    /// 400 STS RegionDisabled / others not modelled: reported as InvalidParameterValue.
    InvalidParameterValue(String),
    /// 400 STS ExpiredTokenException / InvalidIdentityToken.
    InvalidIdentityToken(String),
    ExpiredToken(String),
    /// 400 STS IDPCommunicationError: the OIDC issuer's keys could not be fetched.
    IdpCommunication(String),
    /// 400 STS IDPRejectedClaim.
    IdpRejectedClaim(String),
    /// 400 STS PackedPolicyTooLarge.
    PackedPolicyTooLarge(String),
    /// 400 STS InvalidAuthorizationMessageException.
    InvalidAuthorizationMessage(String),
    /// What nimbus does not do.
    NotSupported(String),
    /// A storage failure.
    Internal(String),
}

pub type IamResult<T> = Result<T, IamError>;

impl IamError {
    /// "1 validation error detected: Value null at 'roleName' failed to satisfy constraint: Member must not be null"
    pub fn missing(member: &str) -> IamError {
        IamError::Validation(format!("1 validation error detected: Value null at '{}' failed to satisfy constraint: Member must not be null", lower_first(member)))
    }

    /// A value outside a model constraint, worded as AWS's request validation words it.
    pub fn constraint(member: &str, value: &str, constraint: &str) -> IamError {
        IamError::Validation(format!("1 validation error detected: Value '{value}' at '{}' failed to satisfy constraint: {constraint}", lower_first(member)))
    }
}

/// AWS names members in these messages with a lower-case first letter (`roleName`).
pub fn lower_first(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_lowercase().collect::<String>() + c.as_str(),
        None => String::new(),
    }
}

impl From<IamError> for AwsError {
    fn from(e: IamError) -> AwsError {
        match e {
            IamError::NoSuchEntity(m) => AwsError::new("NoSuchEntity", 404, m),
            IamError::EntityAlreadyExists(m) => AwsError::new("EntityAlreadyExists", 409, m),
            IamError::DeleteConflict(m) => AwsError::new("DeleteConflict", 409, m),
            IamError::MalformedPolicyDocument(m) => AwsError::new("MalformedPolicyDocument", 400, m),
            IamError::LimitExceeded(m) => AwsError::new("LimitExceeded", 409, m),
            IamError::Validation(m) => AwsError::new("ValidationError", 400, m),
            IamError::InvalidInput(m) => AwsError::new("InvalidInput", 400, m),
            IamError::Unmodifiable(m) => AwsError::new("UnmodifiableEntity", 400, m),
            IamError::AccessDenied(m) => AwsError::new("AccessDenied", 403, m),
            IamError::InvalidParameterValue(m) => AwsError::new("InvalidParameterValue", 400, m),
            IamError::InvalidIdentityToken(m) => AwsError::new("InvalidIdentityToken", 400, m),
            IamError::ExpiredToken(m) => AwsError::new("ExpiredTokenException", 400, m).with_query_code("ExpiredTokenException"),
            IamError::IdpCommunication(m) => AwsError::new("IDPCommunicationError", 400, m),
            IamError::IdpRejectedClaim(m) => AwsError::new("IDPRejectedClaim", 403, m),
            IamError::PackedPolicyTooLarge(m) => AwsError::new("PackedPolicyTooLarge", 400, m),
            IamError::InvalidAuthorizationMessage(m) => AwsError::new("InvalidAuthorizationMessageException", 400, m),
            IamError::NotSupported(what) => AwsError::not_supported(&what),
            IamError::Internal(m) => AwsError::new("ServiceFailure", 500, m),
        }
    }
}

impl From<nimbus_core::storage::StorageError> for IamError {
    fn from(e: nimbus_core::storage::StorageError) -> IamError {
        IamError::Internal(e.to_string())
    }
}
