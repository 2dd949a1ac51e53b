//! DynamoDB's and DynamoDB Streams' errors: one enum, rendered as AWS renders them (HTTP
//! 400, `__type` `com.amazonaws.dynamodb.v20120810#<Code>`, `message`, and the extra
//! members some errors carry: `Item`, `CancellationReasons`).

use nimbus_core::AwsError;
use serde_json::Value;

#[derive(Debug, Clone)]
pub enum DdbError {
    Validation(String),
    /// "Requested resource not found" and its variants.
    ResourceNotFound(String),
    ResourceInUse(String),
    /// ConditionalCheckFailedException, with the old item when the request asked for it.
    ConditionalCheckFailed(Option<Value>),
    /// TransactionCanceledException: one reason per action, in request order.
    TransactionCanceled(Vec<Value>),
    TransactionConflict(String),
    IdempotentParameterMismatch(String),
    LimitExceeded(String),
    ExpiredIterator(String),
    TrimmedDataAccess(String),
    /// DescribeContinuousBackups' and CreateBackup's own not-found error.
    TableNotFoundForBackups(String),
    /// A backup ARN that names no backup.
    BackupNotFound(String),
    /// RestoreTableFromBackup onto an existing table name.
    TableAlreadyExists(String),
    /// RestoreTableToPointInTime of a table without point-in-time recovery.
    PointInTimeRecoveryUnavailable(String),
    /// A restore time outside the recovery window.
    InvalidRestoreTime(String),
    /// A PartiQL INSERT of a key that exists: DuplicateItemException.
    DuplicateItem(String),
    Internal(String),
}

pub type DdbResult<T> = Result<T, DdbError>;

impl DdbError {
    pub fn validation(m: impl Into<String>) -> DdbError {
        DdbError::Validation(m.into())
    }
    /// A request parameter nimbus does not implement (legacy parameters and the like).
    pub fn unsupported(param: &str) -> DdbError {
        DdbError::Validation(format!("{param} is not supported by nimbus"))
    }
    pub fn table_not_found() -> DdbError {
        DdbError::ResourceNotFound("Requested resource not found".into())
    }
    pub fn table_not_found_named(name: &str) -> DdbError {
        DdbError::ResourceNotFound(format!("Requested resource not found: Table: {name} not found"))
    }
}

impl From<nimbus_dynamodb_expr::expr::ExprError> for DdbError {
    fn from(e: nimbus_dynamodb_expr::expr::ExprError) -> DdbError {
        DdbError::Validation(e.0)
    }
}

impl From<nimbus_dynamodb_expr::value::ValueError> for DdbError {
    fn from(e: nimbus_dynamodb_expr::value::ValueError) -> DdbError {
        DdbError::Validation(e.0)
    }
}

impl From<nimbus_core::storage::StorageError> for DdbError {
    fn from(e: nimbus_core::storage::StorageError) -> DdbError {
        DdbError::Internal(e.to_string())
    }
}

/// The namespaced `__type` DynamoDB writes.
pub fn qualified(code: &str) -> String {
    format!("com.amazonaws.dynamodb.v20120810#{code}")
}

impl From<DdbError> for AwsError {
    fn from(e: DdbError) -> AwsError {
        use DdbError::*;
        let (code, status, message, members): (&str, u16, String, Vec<(&str, Value)>) = match e {
            Validation(m) => ("ValidationException", 400, m, vec![]),
            ResourceNotFound(m) => ("ResourceNotFoundException", 400, m, vec![]),
            ResourceInUse(m) => ("ResourceInUseException", 400, m, vec![]),
            ConditionalCheckFailed(item) => {
                ("ConditionalCheckFailedException", 400, "The conditional request failed".into(), item.map(|i| vec![("Item", i)]).unwrap_or_default())
            }
            TransactionCanceled(reasons) => {
                let codes: Vec<&str> = reasons.iter().map(|r| r.get("Code").and_then(Value::as_str).unwrap_or("None")).collect();
                let message = format!("Transaction cancelled, please refer cancellation reasons for specific reasons [{}]", codes.join(", "));
                ("TransactionCanceledException", 400, message, vec![("CancellationReasons", Value::Array(reasons))])
            }
            TransactionConflict(m) => ("TransactionConflictException", 400, m, vec![]),
            IdempotentParameterMismatch(m) => ("IdempotentParameterMismatchException", 400, m, vec![]),
            LimitExceeded(m) => ("LimitExceededException", 400, m, vec![]),
            ExpiredIterator(m) => ("ExpiredIteratorException", 400, m, vec![]),
            TrimmedDataAccess(m) => ("TrimmedDataAccessException", 400, m, vec![]),
            TableNotFoundForBackups(n) => ("TableNotFoundException", 400, format!("Table not found: {n}"), vec![]),
            BackupNotFound(arn) => ("BackupNotFoundException", 400, format!("Backup not found: {arn}"), vec![]),
            TableAlreadyExists(n) => ("TableAlreadyExistsException", 400, format!("Table already exists: {n}"), vec![]),
            PointInTimeRecoveryUnavailable(m) => ("PointInTimeRecoveryUnavailableException", 400, m, vec![]),
            InvalidRestoreTime(m) => ("InvalidRestoreTimeException", 400, m, vec![]),
            DuplicateItem(m) => ("DuplicateItemException", 400, m, vec![]),
            Internal(m) => ("InternalServerError", 500, m, vec![]),
        };
        let mut err = AwsError::new(qualified(code), status, message);
        for (k, v) in members {
            err = err.with_member(k, v);
        }
        err
    }
}

/// Gives errors raised by the shared codec layer DynamoDB's names.
pub fn ddb_names(err: AwsError) -> AwsError {
    if err.code.contains('#') {
        return err;
    }
    match err.code.as_ref() {
        "UnknownOperationException" | "SerializationException" => err,
        "InvalidParameterValue" | "MissingParameter" => AwsError { code: qualified("ValidationException").into(), ..err },
        other => {
            let code = qualified(other);
            AwsError { code: code.into(), ..err }
        }
    }
}
