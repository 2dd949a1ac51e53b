//! CloudWatch Logs Insights' query language
//! (<https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/CWL_QuerySyntax.html>):
//! [`lexer`] (text → tokens with offsets), [`parser`] (tokens → commands), [`value`]
//! (values, AWS's natural sort order, timestamps as AWS prints them), [`eval`]
//! (expressions and functions on one record), [`fields`] (the fields AWS discovers in
//! an event: system fields, JSON, Lambda's REPORT lines), [`run`] (the pipeline over a
//! stream of events: row commands, `stats`, `sort`, `limit`, `dedup`, projection).
//!
//! The operations (StartQuery and friends) and the background task that feeds events to
//! [`run`] are in `ops_insights.rs`.

pub mod eval;
pub mod fields;
pub mod lexer;
pub mod parser;
pub mod run;
pub mod value;

/// A syntax error with its place in the query (MalformedQueryException's
/// `queryCompileError`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueryError {
    pub start: usize,
    pub end: usize,
    pub message: String,
}

impl QueryError {
    pub fn at(start: usize, end: usize, message: &str) -> QueryError {
        QueryError { start, end, message: message.to_string() }
    }
}

/// An event's `@ptr`: opaque to callers, it names the group, stream and event.
pub fn ptr(group: u64, stream: u64, seq: u64) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(format!("nimbus:{group}:{stream}:{seq}"))
}
