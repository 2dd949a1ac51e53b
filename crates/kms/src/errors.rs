//! KMS's errors and the `__type` / HTTP status / message AWS gives each one.
//! <https://docs.aws.amazon.com/kms/latest/APIReference/CommonErrors.html> and each
//! operation's "Errors" section of the API reference.

use nimbus_core::AwsError;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KmsError {
    /// "Key 'arn:…' does not exist", "Alias arn:… is not found."
    NotFound(String),
    /// "arn:… is disabled."
    Disabled(String),
    /// "arn:… is pending deletion."
    InvalidState(String),
    /// A blob that does not decrypt (tampered, another account/region, wrong context).
    InvalidCiphertext(String),
    /// A blob of another key than the KeyId given.
    IncorrectKey(String),
    InvalidKeyUsage(String),
    Validation(String),
    AlreadyExists(String),
    InvalidAliasName(String),
    InvalidMarker(String),
    NotAuthorized(String),
    InvalidArn(String),
    InvalidSignature(String),
    InvalidMac(String),
    InvalidGrantId(String),
    InvalidGrantToken(String),
    MalformedPolicy(String),
    Tag(String),
    ExpiredImportToken(String),
    InvalidImportToken(String),
    IncorrectKeyMaterial(String),
    /// A `DryRun` request that would have succeeded.
    DryRun,
    /// What AWS answers UnsupportedOperationException for.
    Unsupported(String),
    /// Something AWS supports that nimbus does not implement yet.
    NotSupported(String),
    Internal(String),
}

impl KmsError {
    /// AWS's validation wording for a member outside its constraint.
    pub fn constraint(value: impl std::fmt::Display, member: &str, constraint: &str) -> KmsError {
        KmsError::Validation(format!("1 validation error detected: Value '{value}' at '{member}' failed to satisfy constraint: {constraint}"))
    }

    pub fn missing(member: &str) -> KmsError {
        KmsError::Validation(format!("1 validation error detected: Value null at '{member}' failed to satisfy constraint: Member must not be null"))
    }
}

impl From<KmsError> for AwsError {
    fn from(e: KmsError) -> AwsError {
        use KmsError::*;
        let (code, status, message): (&'static str, u16, String) = match e {
            NotFound(m) => ("NotFoundException", 400, m),
            Disabled(m) => ("DisabledException", 400, m),
            InvalidState(m) => ("KMSInvalidStateException", 400, m),
            InvalidCiphertext(m) => ("InvalidCiphertextException", 400, m),
            IncorrectKey(m) => ("IncorrectKeyException", 400, m),
            InvalidKeyUsage(m) => ("InvalidKeyUsageException", 400, m),
            Validation(m) => ("ValidationException", 400, m),
            AlreadyExists(m) => ("AlreadyExistsException", 400, m),
            InvalidAliasName(m) => ("InvalidAliasNameException", 400, m),
            InvalidMarker(m) => ("InvalidMarkerException", 400, m),
            NotAuthorized(m) => ("NotAuthorizedException", 400, m),
            InvalidArn(m) => ("InvalidArnException", 400, m),
            InvalidSignature(m) => ("KMSInvalidSignatureException", 400, m),
            InvalidMac(m) => ("KMSInvalidMacException", 400, m),
            InvalidGrantId(m) => ("InvalidGrantIdException", 400, m),
            InvalidGrantToken(m) => ("InvalidGrantTokenException", 400, m),
            MalformedPolicy(m) => ("MalformedPolicyDocumentException", 400, m),
            Tag(m) => ("TagException", 400, m),
            ExpiredImportToken(m) => ("ExpiredImportTokenException", 400, m),
            InvalidImportToken(m) => ("InvalidImportTokenException", 400, m),
            IncorrectKeyMaterial(m) => ("IncorrectKeyMaterialException", 400, m),
            DryRun => ("DryRunOperationException", 412, "The request would have succeeded, but the DryRun option is set.".to_string()),
            Unsupported(m) => ("UnsupportedOperationException", 400, m),
            NotSupported(m) => ("UnsupportedOperationException", 400, format!("{m} is not supported by nimbus yet")),
            Internal(m) => ("KMSInternalException", 500, m),
        };
        AwsError::new(code, status, message)
    }
}

/// Gives errors raised by the shared codec layer the name KMS uses for them.
pub fn kms_names(err: AwsError) -> AwsError {
    match err.code.as_ref() {
        "InvalidParameterValue" | "MissingParameter" => AwsError { code: "ValidationException".into(), ..err },
        _ => err,
    }
}

pub type KmsResult<T> = Result<T, KmsError>;
