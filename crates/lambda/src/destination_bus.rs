//! OnSuccess / OnFailure destinations on EventBridge event buses: the destination record
//! becomes the `detail` of an event put on the bus (through core's `EventPublisher`, which
//! the binary wires to EventBridge), with `source` "lambda", `detail-type` "Lambda Function
//! Invocation Result - Success" or "… - Failure", and the bus and the function (with the
//! version or alias that ran) as `resources`.
//! <https://docs.aws.amazon.com/lambda/latest/dg/invocation-async-retain-records.html>
//! <https://docs.aws.amazon.com/cdk/api/v2/docs/aws-cdk-lib.aws_lambda_destinations-readme.html>

use nimbus_core::internal::EventPublisher;
use serde_json::{json, Value};

pub const SOURCE: &str = "lambda";
pub const SUCCESS: &str = "Lambda Function Invocation Result - Success";
pub const FAILURE: &str = "Lambda Function Invocation Result - Failure";

/// (region, account, bus name) of an event bus ARN, or None if `arn` names no bus.
pub fn parse_bus_arn(arn: &str) -> Option<(&str, &str, &str)> {
    match arn.splitn(6, ':').collect::<Vec<_>>().as_slice() {
        ["arn", _, "events", region, account, rest] => {
            let name = rest.strip_prefix("event-bus/")?;
            let valid = !region.is_empty() && account.len() == 12 && account.bytes().all(|b| b.is_ascii_digit());
            let name_ok = !name.is_empty() && name.len() <= 256 && name.bytes().all(|b| b.is_ascii_alphanumeric() || b"._-/".contains(&b));
            (valid && name_ok).then_some((*region, *account, name))
        }
        _ => None,
    }
}

/// Puts the destination record on the bus, carrying the invocation's trace as the
/// entry's `TraceHeader`; Err says why it was not accepted.
pub async fn put(events: &dyn EventPublisher, bus_arn: &str, record: &Value, trace: &str) -> Result<(), String> {
    let (region, account, bus) = parse_bus_arn(bus_arn).ok_or_else(|| format!("not an event bus ARN: {bus_arn}"))?;
    let success = record.pointer("/requestContext/condition").and_then(Value::as_str) == Some("Success");
    let function_arn = record.pointer("/requestContext/functionArn").and_then(Value::as_str).unwrap_or_default();
    let entry = json!({
        "Source": SOURCE,
        "DetailType": if success { SUCCESS } else { FAILURE },
        "Detail": record.to_string(),
        "Resources": [bus_arn, function_arn],
        "EventBusName": bus,
        "TraceHeader": trace,
    });
    let out = events.put_events(account, region, json!({ "Entries": [entry] })).await.map_err(|e| format!("{}: {}", e.code, e.message))?;
    if out.get("FailedEntryCount").and_then(Value::as_u64).unwrap_or(0) > 0 {
        let first = out.pointer("/Entries/0").cloned().unwrap_or(Value::Null);
        return Err(format!("{}: {}", first["ErrorCode"].as_str().unwrap_or("Failed"), first["ErrorMessage"].as_str().unwrap_or("")));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::parse_bus_arn;

    #[test]
    fn bus_arns() {
        assert_eq!(parse_bus_arn("arn:aws:events:us-east-1:123456789012:event-bus/default"), Some(("us-east-1", "123456789012", "default")));
        assert_eq!(parse_bus_arn("arn:aws:events:us-east-1:123456789012:rule/r"), None);
        assert_eq!(parse_bus_arn("arn:aws:events:us-east-1:123:event-bus/b"), None);
        assert_eq!(parse_bus_arn("arn:aws:events:us-east-1:123456789012:event-bus/"), None);
        assert_eq!(parse_bus_arn("arn:aws:sqs:us-east-1:123456789012:q"), None);
    }
}
