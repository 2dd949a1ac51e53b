//! CloudWatch Logs' errors and the `__type` / message AWS gives each one (HTTP 400).

use nimbus_core::AwsError;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LogsError {
    GroupNotFound,
    StreamNotFound,
    GroupExists,
    StreamExists,
    /// A metric or subscription filter that does not exist.
    FilterNotFound,
    /// More filters than AWS allows on a group (LimitExceededException).
    LimitExceeded,
    InvalidParameter(String),
    TooManyTags(String),
    /// Syntax AWS accepts that nimbus does not implement.
    NotSupported(String),
    /// A Logs Insights query that does not parse (with its place in the query).
    MalformedQuery(crate::insights::QueryError),
    /// A Logs Insights query id that is unknown (or past its retention).
    QueryNotFound,
    /// LimitExceededException with AWS's wording for the limit.
    Limit(String),
    /// A resource policy or destination that does not exist (its message).
    NotFound(String),
    /// OperationAbortedException (a revision id that does not match).
    Aborted(String),
    Internal(String),
}

impl LogsError {
    /// AWS's validation wording for a member outside its constraint.
    pub fn validation(value: impl std::fmt::Display, member: &str, constraint: &str) -> LogsError {
        LogsError::InvalidParameter(format!("1 validation error detected: Value '{value}' at '{member}' failed to satisfy constraint: {constraint}"))
    }

    pub fn missing(member: &str) -> LogsError {
        LogsError::InvalidParameter(format!(
            "1 validation error detected: Value null at '{member}' failed to satisfy constraint: Member must not be null"
        ))
    }
}

impl From<LogsError> for AwsError {
    fn from(e: LogsError) -> AwsError {
        use LogsError::*;
        let (code, status, message): (&'static str, u16, String) = match e {
            GroupNotFound => ("ResourceNotFoundException", 400, "The specified log group does not exist.".into()),
            StreamNotFound => ("ResourceNotFoundException", 400, "The specified log stream does not exist.".into()),
            GroupExists => ("ResourceAlreadyExistsException", 400, "The specified log group already exists".into()),
            StreamExists => ("ResourceAlreadyExistsException", 400, "The specified log stream already exists".into()),
            FilterNotFound => ("ResourceNotFoundException", 400, "The specified filter does not exist.".into()),
            LimitExceeded => ("LimitExceededException", 400, "Resource limit exceeded.".into()),
            InvalidParameter(m) => ("InvalidParameterException", 400, m),
            TooManyTags(m) => ("TooManyTagsException", 400, m),
            NotSupported(m) => ("InvalidParameterException", 400, format!("{m} is not supported by nimbus")),
            MalformedQuery(q) => {
                let compile = serde_json::json!({ "location": { "startCharOffset": q.start, "endCharOffset": q.end }, "message": q.message });
                return AwsError::new("MalformedQueryException", 400, q.message).with_member("queryCompileError", compile);
            }
            QueryNotFound => ("ResourceNotFoundException", 400, "Query does not exist.".into()),
            Limit(m) => ("LimitExceededException", 400, m),
            NotFound(m) => ("ResourceNotFoundException", 400, m),
            Aborted(m) => ("OperationAbortedException", 400, m),
            Internal(m) => ("ServiceUnavailableException", 500, m),
        };
        AwsError::new(code, status, message)
    }
}

/// Gives errors raised by the shared codec layer (a type mismatch in the input) the name
/// CloudWatch Logs uses for them.
pub fn logs_names(err: AwsError) -> AwsError {
    match err.code.as_ref() {
        "InvalidParameterValue" | "MissingParameter" => AwsError { code: "InvalidParameterException".into(), ..err },
        _ => err,
    }
}

pub type LogsResult<T> = Result<T, LogsError>;

/// A required member, or AWS's "must not be null" error.
pub fn required<T>(member: &str, value: Option<T>) -> LogsResult<T> {
    value.ok_or_else(|| LogsError::missing(member))
}

/// An optional integer member within `min..=max`.
pub fn in_range(member: &str, value: Option<i64>, min: i64, max: i64, default: i64) -> LogsResult<i64> {
    match value {
        None => Ok(default),
        Some(v) if v < min => Err(LogsError::validation(v, member, &format!("Member must have value greater than or equal to {min}"))),
        Some(v) if v > max => Err(LogsError::validation(v, member, &format!("Member must have value less than or equal to {max}"))),
        Some(v) => Ok(v),
    }
}
