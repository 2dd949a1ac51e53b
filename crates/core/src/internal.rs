//! Narrow interfaces services use to reach each other inside one nimbus, without knowing
//! each other's internals. The binary wires the implementations together.

/// One log line for CloudWatch Logs.
#[derive(Debug, Clone)]
pub struct LogLine {
    /// Milliseconds since the epoch.
    pub timestamp_ms: u64,
    pub message: String,
}

/// Where services write logs (Lambda's function output, START/END/REPORT lines). The
/// CloudWatch Logs service implements it; the group and stream are created if missing.
pub trait LogSink: Send + Sync {
    fn append(&self, account: &str, region: &str, group: &str, stream: &str, lines: Vec<LogLine>);
}

/// A sink that drops everything (when no logs service is wired).
pub struct NoLogs;

impl LogSink for NoLogs {
    fn append(&self, _: &str, _: &str, _: &str, _: &str, _: Vec<LogLine>) {}
}

/// Sends messages to a queue by ARN (Lambda destinations and dead-letter queues, SNS
/// subscriptions later). The SQS service implements it.
pub trait MessageBus: Send + Sync {
    /// Sends `body` with String message attributes; returns the new message's id, or why
    /// it could not be sent.
    fn send_to_queue<'a>(&'a self, queue_arn: &'a str, body: String, attributes: Vec<(String, String)>) -> crate::service::BoxFuture<'a, Result<String, String>>;
}

/// A bus with no queues (when SQS is not wired).
pub struct NoBus;

impl MessageBus for NoBus {
    fn send_to_queue<'a>(&'a self, queue_arn: &'a str, _body: String, _attributes: Vec<(String, String)>) -> crate::service::BoxFuture<'a, Result<String, String>> {
        Box::pin(async move { Err(format!("no queue service for {queue_arn}")) })
    }
}
