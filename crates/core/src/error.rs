//! AWS errors as every protocol renders them.
//!
//! A service turns its own error enum into an [`AwsError`]; the protocol layer then writes
//! it as JSON (`__type`, `message`, and for query-compatible services the
//! `x-amzn-query-error` header) or as a query `ErrorResponse` document.

use std::borrow::Cow;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    Sender,
    Receiver,
}

impl Fault {
    pub fn as_str(self) -> &'static str {
        match self {
            Fault::Sender => "Sender",
            Fault::Receiver => "Receiver",
        }
    }
}

#[derive(Debug, Clone)]
pub struct AwsError {
    /// The error's shape name in the service model (JSON `__type`), e.g. `QueueDoesNotExist`.
    pub code: Cow<'static, str>,
    /// The legacy query-protocol code where it differs, e.g.
    /// `AWS.SimpleQueueService.NonExistentQueue`.
    pub query_code: Option<Cow<'static, str>>,
    pub message: String,
    pub status: u16,
    pub fault: Fault,
    /// Further members of the error shape (e.g. Lambda's `Reason`), written into the body.
    pub members: serde_json::Map<String, serde_json::Value>,
    /// Headers the error shape binds (e.g. `Retry-After`).
    pub headers: Vec<(String, String)>,
}

impl AwsError {
    pub fn new(code: impl Into<Cow<'static, str>>, status: u16, message: impl Into<String>) -> Self {
        let status_fault = if status >= 500 { Fault::Receiver } else { Fault::Sender };
        AwsError {
            code: code.into(),
            query_code: None,
            message: message.into(),
            status,
            fault: status_fault,
            members: serde_json::Map::new(),
            headers: Vec::new(),
        }
    }

    pub fn with_member(mut self, name: &str, value: impl Into<serde_json::Value>) -> Self {
        self.members.insert(name.to_string(), value.into());
        self
    }

    pub fn with_header(mut self, name: &str, value: impl Into<String>) -> Self {
        self.headers.push((name.to_string(), value.into()));
        self
    }

    pub fn with_query_code(mut self, code: impl Into<Cow<'static, str>>) -> Self {
        self.query_code = Some(code.into());
        self
    }

    /// The code the query protocol and `x-amzn-query-error` carry.
    pub fn wire_query_code(&self) -> &str {
        self.query_code.as_deref().unwrap_or(&self.code)
    }

    pub fn internal(message: impl Into<String>) -> Self {
        AwsError::new("InternalFailure", 500, message)
    }

    pub fn missing_parameter(name: &str) -> Self {
        AwsError::new("MissingParameter", 400, format!("The request must contain the parameter {name}."))
    }

    pub fn invalid_parameter_value(message: impl Into<String>) -> Self {
        AwsError::new("InvalidParameterValue", 400, message)
    }

    pub fn invalid_action(action: &str) -> Self {
        AwsError::new("InvalidAction", 400, format!("The action or operation requested is invalid. Verify that the action is typed correctly: {action}"))
    }

    pub fn unknown_operation(target: &str) -> Self {
        AwsError::new("UnknownOperationException", 400, format!("Unknown operation {target}"))
    }

    pub fn not_supported(what: &str) -> Self {
        AwsError::new("UnsupportedOperation", 400, format!("{what} is not supported by nimbus"))
    }
}

impl std::fmt::Display for AwsError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.code, self.message)
    }
}

impl std::error::Error for AwsError {}
