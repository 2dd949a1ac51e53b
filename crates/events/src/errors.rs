//! EventBridge's errors and the `__type` / HTTP status / message AWS gives each one.
//! <https://docs.aws.amazon.com/eventbridge/latest/APIReference/CommonErrors.html>

use nimbus_core::AwsError;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EventsError {
    /// ResourceNotFoundException with AWS's message ("Rule r does not exist on EventBus default.").
    NotFound(String),
    AlreadyExists(String),
    Validation(String),
    InvalidEventPattern(String),
    LimitExceeded(String),
    IllegalStatus(String),
    /// Something AWS supports that nimbus does not implement yet.
    NotSupported(String),
    Internal(String),
}

impl EventsError {
    /// AWS's validation wording for a member outside its constraint.
    pub fn constraint(value: impl std::fmt::Display, member: &str, constraint: &str) -> EventsError {
        EventsError::Validation(format!("1 validation error detected: Value '{value}' at '{member}' failed to satisfy constraint: {constraint}"))
    }

    pub fn missing(member: &str) -> EventsError {
        EventsError::Validation(format!("1 validation error detected: Value null at '{member}' failed to satisfy constraint: Member must not be null"))
    }
}

impl From<EventsError> for AwsError {
    fn from(e: EventsError) -> AwsError {
        use EventsError::*;
        let (code, status, message): (&'static str, u16, String) = match e {
            NotFound(m) => ("ResourceNotFoundException", 400, m),
            AlreadyExists(m) => ("ResourceAlreadyExistsException", 400, m),
            Validation(m) => ("ValidationException", 400, m),
            InvalidEventPattern(m) => ("InvalidEventPatternException", 400, m),
            LimitExceeded(m) => ("LimitExceededException", 400, m),
            IllegalStatus(m) => ("IllegalStatusException", 400, m),
            NotSupported(m) => ("ValidationException", 400, format!("{m} is not supported by nimbus yet")),
            Internal(m) => ("InternalException", 500, m),
        };
        AwsError::new(code, status, message)
    }
}

/// Gives errors raised by the shared codec layer (a type mismatch in the input) the name
/// EventBridge uses for them.
pub fn events_names(err: AwsError) -> AwsError {
    match err.code.as_ref() {
        "InvalidParameterValue" | "MissingParameter" => AwsError { code: "ValidationException".into(), ..err },
        _ => err,
    }
}

pub type EventsResult<T> = Result<T, EventsError>;

/// A required member, or AWS's "must not be null" error.
pub fn required<T>(member: &str, value: Option<T>) -> EventsResult<T> {
    value.ok_or_else(|| EventsError::missing(member))
}
