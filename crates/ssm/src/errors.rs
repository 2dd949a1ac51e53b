//! Parameter Store's errors: the `__type` each one answers, its HTTP status and AWS's
//! message. <https://docs.aws.amazon.com/systems-manager/latest/APIReference/CommonErrors.html>

use nimbus_core::AwsError;

#[derive(Debug)]
pub enum SsmError {
    Validation(String),
    NotFound,
    AlreadyExists,
    VersionNotFound { name: String, version: String },
    PatternMismatch(String),
    InvalidAllowedPattern(String),
    HierarchyLevel,
    HierarchyTypeMismatch,
    MaxVersions { name: String, version: i64 },
    LabelLimit,
    InvalidKeyId(String),
    InvalidFilterKey(String),
    InvalidFilterOption(String),
    InvalidFilterValue(String),
    InvalidNextToken,
    InvalidResourceId,
    InvalidResourceType,
    TooManyTags,
    InvalidPolicyType(String),
    IncompatiblePolicy,
    /// The parameter changed while a PutParameter was being prepared.
    TooManyUpdates,
    /// An error of another service (KMS) passed through as it answered.
    Upstream(Box<AwsError>),
    /// Valid AWS input nimbus does not implement.
    NotSupported(String),
    Internal(String),
}

pub type SsmResult<T> = Result<T, SsmError>;

impl SsmError {
    /// AWS's wording for a member outside its model constraint.
    pub fn constraint(value: impl std::fmt::Display, member: &str, constraint: &str) -> SsmError {
        SsmError::Validation(format!("1 validation error detected: Value '{value}' at '{member}' failed to satisfy constraint: {constraint}"))
    }

    pub fn missing(member: &str) -> SsmError {
        SsmError::Validation(format!("1 validation error detected: Value null at '{member}' failed to satisfy constraint: Member must not be null"))
    }
}

impl From<nimbus_core::storage::StorageError> for SsmError {
    fn from(e: nimbus_core::storage::StorageError) -> SsmError {
        SsmError::Internal(e.to_string())
    }
}

impl From<SsmError> for AwsError {
    fn from(e: SsmError) -> AwsError {
        use SsmError::*;
        let (code, status, message): (&'static str, u16, String) = match e {
            Validation(m) => ("ValidationException", 400, m),
            NotFound => ("ParameterNotFound", 400, String::new()),
            AlreadyExists => ("ParameterAlreadyExists", 400, "The parameter already exists. To overwrite this value, set the overwrite option in the request to true.".into()),
            VersionNotFound { name, version } => {
                ("ParameterVersionNotFound", 400, format!("Systems Manager could not find version {version} of {name}. Verify the version and try again."))
            }
            PatternMismatch(p) => ("ParameterPatternMismatchException", 400, format!("Parameter value, cannot be validated against allowedPattern: {p}")),
            InvalidAllowedPattern(m) => ("InvalidAllowedPatternException", 400, m),
            HierarchyLevel => ("HierarchyLevelLimitExceededException", 400, "A hierarchy can have a maximum of 15 levels.".into()),
            HierarchyTypeMismatch => (
                "HierarchyTypeMismatchException",
                400,
                "Parameter Store doesn't support changing a parameter type in a hierarchy. For example, you can't change a parameter from a String type to a SecureString type. You must create a new, unique parameter.".into(),
            ),
            MaxVersions { name, version } => (
                "ParameterMaxVersionLimitExceeded",
                400,
                format!("You attempted to create a new version of {name} by calling the PutParameter API with the overwrite flag. Version {version}, the oldest version, can't be deleted because it has a label associated with it. Move the label to another version of the parameter, and try again."),
            ),
            LabelLimit => ("ParameterVersionLabelLimitExceeded", 400, "A parameter version can have maximum 10 labels.Move one or more labels to another version and try again.".into()),
            InvalidKeyId(m) => ("InvalidKeyId", 400, m),
            InvalidFilterKey(m) => ("InvalidFilterKey", 400, m),
            InvalidFilterOption(m) => ("InvalidFilterOption", 400, m),
            InvalidFilterValue(m) => ("InvalidFilterValue", 400, m),
            InvalidNextToken => ("InvalidNextToken", 400, "The specified token is not valid.".into()),
            InvalidResourceId => ("InvalidResourceId", 400, String::new()),
            InvalidResourceType => ("InvalidResourceType", 400, String::new()),
            TooManyTags => ("TooManyTagsError", 400, "The Parameter resource can have a maximum of 50 tags.".into()),
            InvalidPolicyType(m) => ("InvalidPolicyTypeException", 400, m),
            IncompatiblePolicy => (
                "IncompatiblePolicyException",
                400,
                "There is a conflict in the policies specified for this parameter. You can't, for example, specify two Expiration policies for a parameter. Review your policies, and try again.".into(),
            ),
            TooManyUpdates => ("TooManyUpdates", 400, "There are concurrent updates for a resource that supports one update at a time.".into()),
            Upstream(e) => return *e,
            NotSupported(m) => ("ValidationException", 400, format!("{m} is not supported by nimbus yet")),
            Internal(m) => ("InternalServerError", 500, m),
        };
        AwsError::new(code, status, message)
    }
}

/// Errors of the shared codec (a type mismatch in the input) under SSM's name.
pub fn ssm_names(err: AwsError) -> AwsError {
    match err.code.as_ref() {
        "InvalidParameterValue" | "MissingParameter" => AwsError { code: "ValidationException".into(), ..err },
        _ => err,
    }
}
