//! SQS's errors, each with the names AWS gives it on both wires: the JSON `__type` shape
//! name and the legacy query code that `x-amzn-query-error` and the query protocol carry.

use nimbus_core::AwsError;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SqsError {
    QueueDoesNotExist,
    QueueNameExists(String),
    QueueDeletedRecently,
    PurgeQueueInProgress(String),
    ReceiptHandleIsInvalid(String),
    BatchEntryIdsNotDistinct(String),
    TooManyEntriesInBatchRequest(usize),
    EmptyBatchRequest(&'static str),
    BatchRequestTooLong { limit: usize, sent: usize },
    InvalidBatchEntryId,
    InvalidAttributeName(String),
    InvalidAttributeValue(String),
    InvalidMessageContents(String),
    InvalidParameterValue(String),
    MissingParameter(String),
    ResourceNotFound(String),
    UnsupportedOperation(String),
    OverLimit(String),
    Internal(String),
}

impl SqsError {
    /// `Value <value> for parameter <name> is invalid. Reason: <reason>`, AWS's usual wording.
    pub fn invalid_value(name: &str, value: impl std::fmt::Display, reason: &str) -> SqsError {
        SqsError::InvalidParameterValue(format!("Value {value} for parameter {name} is invalid. Reason: {reason}"))
    }

    pub fn invalid_attribute_value(name: &str) -> SqsError {
        SqsError::InvalidAttributeValue(format!("Invalid value for the parameter {name}."))
    }
}

impl From<SqsError> for AwsError {
    fn from(e: SqsError) -> AwsError {
        use SqsError::*;
        let (code, query, status, message): (&'static str, Option<&'static str>, u16, String) = match e {
            QueueDoesNotExist => ("QueueDoesNotExist", Some("AWS.SimpleQueueService.NonExistentQueue"), 400, "The specified queue does not exist.".into()),
            QueueNameExists(attr) => (
                "QueueNameExists",
                Some("QueueAlreadyExists"),
                400,
                format!("A queue already exists with the same name and a different value for attribute {attr}"),
            ),
            QueueDeletedRecently => (
                "QueueDeletedRecently",
                Some("AWS.SimpleQueueService.QueueDeletedRecently"),
                400,
                "You must wait 60 seconds after deleting a queue before you can create another with the same name.".into(),
            ),
            PurgeQueueInProgress(name) => (
                "PurgeQueueInProgress",
                Some("AWS.SimpleQueueService.PurgeQueueInProgress"),
                403,
                format!("Only one PurgeQueue operation on {name} is allowed every 60 seconds."),
            ),
            ReceiptHandleIsInvalid(handle) => {
                ("ReceiptHandleIsInvalid", None, 404, format!("The input receipt handle \"{handle}\" is not a valid receipt handle."))
            }
            BatchEntryIdsNotDistinct(id) => ("BatchEntryIdsNotDistinct", Some("AWS.SimpleQueueService.BatchEntryIdsNotDistinct"), 400, format!("Id {id} repeated.")),
            TooManyEntriesInBatchRequest(n) => (
                "TooManyEntriesInBatchRequest",
                Some("AWS.SimpleQueueService.TooManyEntriesInBatchRequest"),
                400,
                format!("Maximum number of entries per request are 10. You have sent {n}."),
            ),
            EmptyBatchRequest(entry) => (
                "EmptyBatchRequest",
                Some("AWS.SimpleQueueService.EmptyBatchRequest"),
                400,
                format!("There should be at least one {entry} in the request."),
            ),
            BatchRequestTooLong { limit, sent } => (
                "BatchRequestTooLong",
                Some("AWS.SimpleQueueService.BatchRequestTooLong"),
                400,
                format!("Batch requests cannot be longer than {limit} bytes. You have sent {sent} bytes."),
            ),
            InvalidBatchEntryId => (
                "InvalidBatchEntryId",
                Some("AWS.SimpleQueueService.InvalidBatchEntryId"),
                400,
                "A batch entry id can only contain alphanumeric characters, hyphens and underscores. It can be at most 80 letters long.".into(),
            ),
            InvalidAttributeName(m) => ("InvalidAttributeName", None, 400, m),
            InvalidAttributeValue(m) => ("InvalidAttributeValue", None, 400, m),
            InvalidMessageContents(m) => ("InvalidMessageContents", None, 400, m),
            InvalidParameterValue(m) => ("InvalidParameterValueException", Some("InvalidParameterValue"), 400, m),
            MissingParameter(name) => {
                ("MissingRequiredParameterException", Some("MissingParameter"), 400, format!("The request must contain the parameter {name}."))
            }
            ResourceNotFound(m) => ("ResourceNotFoundException", None, 404, m),
            UnsupportedOperation(m) => ("UnsupportedOperation", Some("AWS.SimpleQueueService.UnsupportedOperation"), 400, m),
            OverLimit(m) => ("OverLimit", None, 403, m),
            Internal(m) => ("InternalFailure", None, 500, m),
        };
        let mut err = AwsError::new(code, status, message);
        if let Some(q) = query {
            err = err.with_query_code(q);
        }
        err
    }
}

/// Gives errors raised by the shared codec layer SQS's JSON names.
pub fn sqs_names(err: AwsError) -> AwsError {
    match err.code.as_ref() {
        "InvalidParameterValue" => AwsError { code: "InvalidParameterValueException".into(), query_code: Some("InvalidParameterValue".into()), ..err },
        "MissingParameter" => AwsError { code: "MissingRequiredParameterException".into(), query_code: Some("MissingParameter".into()), ..err },
        _ => err,
    }
}

pub type SqsResult<T> = Result<T, SqsError>;
