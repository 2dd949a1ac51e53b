//! Payload size limit: a state's input or output, a task's result, an execution's input or
//! output may not exceed 256 KiB, counted as the UTF-8 bytes of the serialized JSON; beyond it
//! the state fails with `States.DataLimitExceeded`.
//! <https://docs.aws.amazon.com/step-functions/latest/dg/service-quotas.html#service-limits-task-executions>
//! <https://docs.aws.amazon.com/step-functions/latest/dg/concepts-error-handling.html>

use crate::AslError;
use serde_json::Value;

/// 256 KiB.
pub const MAX_PAYLOAD_BYTES: usize = 256 * 1024;

/// The size Step Functions counts: UTF-8 bytes of the JSON text.
pub fn payload_size(value: &Value) -> usize {
    struct Counter(usize);
    impl std::io::Write for Counter {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0 += buf.len();
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let mut counter = Counter(0);
    let _ = serde_json::to_writer(&mut counter, value);
    counter.0
}

/// `Ok` when `value` fits in 256 KiB, else `States.DataLimitExceeded` with AWS's cause
/// without a state name (use `check_size_for` to name it).
pub fn check_size(value: &Value) -> Result<(), AslError> {
    if payload_size(value) > MAX_PAYLOAD_BYTES {
        return Err(AslError::data_limit_exceeded(
            "The state/task returned a result with a size exceeding the maximum number of bytes service limit.",
        ));
    }
    Ok(())
}

/// `check_size` naming the state, as AWS's cause does: "The state/task 'ParityParallel'
/// returned a result with a size exceeding the maximum number of bytes service limit."
pub fn check_size_for(value: &Value, state_name: &str) -> Result<(), AslError> {
    if payload_size(value) > MAX_PAYLOAD_BYTES {
        return Err(AslError::data_limit_exceeded(format!(
            "The state/task '{state_name}' returned a result with a size exceeding the maximum number of bytes service limit."
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    // service-quotas: "Maximum input or output size for a task, state, or execution: 256 KiB of
    // data as a UTF-8 encoded string".
    #[test]
    fn service_quotas_256_kib_boundary_counts_utf8_bytes_of_the_json_text() {
        // `"` + n bytes + `"` = n + 2 bytes.
        let fits = Value::String("a".repeat(MAX_PAYLOAD_BYTES - 2));
        assert_eq!(payload_size(&fits), MAX_PAYLOAD_BYTES);
        assert!(check_size(&fits).is_ok());
        let over = Value::String("a".repeat(MAX_PAYLOAD_BYTES - 1));
        let err = check_size(&over).unwrap_err();
        assert_eq!(err.error, "States.DataLimitExceeded");
        // Multi-byte characters count by their UTF-8 bytes: "é" is 2 bytes.
        let accents = Value::String("é".repeat(MAX_PAYLOAD_BYTES / 2));
        assert!(check_size(&accents).is_err());
        assert_eq!(payload_size(&json!({"a": 1})), 7);
        let err = check_size_for(&over, "ParityParallel").unwrap_err();
        assert_eq!(err.error, "States.DataLimitExceeded");
        assert_eq!(
            err.cause,
            "The state/task 'ParityParallel' returned a result with a size exceeding the maximum number of bytes service limit."
        );
        assert!(check_size_for(&fits, "S").is_ok());
    }
}
