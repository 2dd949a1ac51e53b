//! Identifiers in AWS's formats.

/// A request id like AWS's: a random UUID.
pub fn request_id() -> String {
    uuid::Uuid::new_v4().to_string()
}

/// A random UUID (message ids, task handles, …).
pub fn uuid() -> String {
    uuid::Uuid::new_v4().to_string()
}
