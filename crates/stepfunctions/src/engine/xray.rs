//! X-Ray tracing of executions (`tracingConfiguration`): whether an execution is traced,
//! the trace header it carries into its Task hops, and the segments it records — one for
//! the execution (origin `AWS::StepFunctions::StateMachine`, named after the state
//! machine, with the execution's and machine's ARNs under `aws`) and a subsegment per
//! Task state around its integration call, whose id is the `Parent` the called service
//! (a Lambda function, a queue, a nested execution) continues from.
//! <https://docs.aws.amazon.com/step-functions/latest/dg/concepts-xray-tracing.html>
//!
//! An execution is traced when its machine has `tracingConfiguration.enabled: true`, or
//! when StartExecution carries a sampled trace (`X-Amzn-Trace-Id`, else `traceHeader`):
//! as on AWS, an incoming sampled header is honoured even when tracing is off.

use nimbus_core::trace::{self, Segment, TraceHeader};
use nimbus_core::RequestContext;
use serde_json::Value;

use super::execution::ExecutionRecord;

/// The execution's trace header and its segment `(id, parent)` when it is traced.
pub struct Traced {
    pub header: Option<String>,
    pub segment: Option<(String, Option<String>)>,
}

/// Decides StartExecution's tracing: `param` is the request's `traceHeader`.
pub fn start(tracing: Option<&Value>, param: Option<&str>, ctx: &RequestContext, now_ms: u64) -> Traced {
    let enabled = tracing.and_then(|t| t.get("enabled")).and_then(Value::as_bool).unwrap_or(false);
    // The caller's trace: the request's `X-Amzn-Trace-Id` (continued from the
    // StartExecution call's own segment when the router records one), else the
    // `traceHeader` parameter — "If both sources are provided, Step Functions will use the
    // header value (preferred)" (StartExecution's `traceHeader`, API reference).
    let incoming = match ctx.downstream_trace() {
        Some(t) => Some(t),
        None => param.and_then(TraceHeader::parse),
    };
    let sampled = incoming.as_ref().map(TraceHeader::is_sampled);
    let traced = trace::recording() && (sampled == Some(true) || (enabled && sampled != Some(false)));
    if !traced {
        return Traced { header: ctx.trace_id.clone().or_else(|| param.map(str::to_string)), segment: None };
    }
    let base = incoming.unwrap_or_else(|| TraceHeader::new_root(now_ms));
    let id = trace::new_segment_id();
    let parent = base.parent.clone();
    let header = TraceHeader { sampled: Some(true), ..base.with_parent(&id) };
    Traced { header: Some(header.render()), segment: Some((id, parent)) }
}

/// The header a Task hands its integration: the execution's trace with `parent` (the
/// Task's subsegment) as the calling segment.
pub fn task_header(rec: &ExecutionRecord, parent: &str) -> Option<String> {
    let h = TraceHeader::parse(rec.trace_header.as_deref()?)?;
    Some(h.with_parent(parent).render())
}

/// Records a Task state's subsegment: the state's name, the Task's resource and the
/// integration's service (`lambda`, `sqs`, …) as AWS shows them, failure flagged.
pub fn record_task(rec: &ExecutionRecord, id: &str, state: &str, resource: &str, start_ms: u64, end_ms: u64, failure: Option<(&str, &str)>) {
    let Some((exec_id, _)) = &rec.trace_segment else { return };
    let Some(h) = rec.trace_header.as_deref().and_then(TraceHeader::parse) else { return };
    let mut seg = Segment::new(state, &h.root, id, Some(exec_id), start_ms, end_ms).field("type", "subsegment").field("namespace", "aws").aws("resource", resource);
    if let Some(service) = integration_service(resource) {
        seg = seg.aws("service", service);
    }
    if let Some((error, cause)) = failure {
        seg = seg.failure(false, error, cause);
    }
    trace::record(seg);
}

/// Records the execution's segment once it has ended.
pub fn record_execution(rec: &ExecutionRecord) {
    let Some((id, parent)) = &rec.trace_segment else { return };
    let Some(h) = rec.trace_header.as_deref().and_then(TraceHeader::parse) else { return };
    let end = rec.stop_ms.unwrap_or(rec.start_ms);
    let mut seg = Segment::new(&rec.machine_name, &h.root, id, parent.as_deref(), rec.start_ms, end)
        .origin("AWS::StepFunctions::StateMachine")
        .aws("execution_arn", rec.arn.as_str())
        .aws("state_machine_arn", rec.machine_arn.as_str())
        .aws("region", rec.region.as_str())
        .aws("account_id", rec.account.as_str())
        .annotation("execution_status", rec.status.as_str());
    if let Some(v) = &rec.version_arn {
        seg = seg.aws("state_machine_version_arn", v.as_str());
    }
    if let Some(a) = &rec.alias_arn {
        seg = seg.aws("state_machine_alias_arn", a.as_str());
    }
    match rec.status.as_str() {
        "FAILED" | "TIMED_OUT" => {
            seg = seg.failure(true, rec.error.as_deref().unwrap_or("States.TaskFailed"), rec.cause.as_deref().unwrap_or(""));
        }
        "ABORTED" => {
            seg = seg.failure(false, rec.error.as_deref().unwrap_or("ExecutionAborted"), rec.cause.as_deref().unwrap_or(""));
        }
        _ => {}
    }
    trace::record(seg);
}

/// `arn:aws:states:::lambda:invoke` → `lambda`; a bare function ARN → `lambda`;
/// `arn:aws:states:::aws-sdk:dynamodb:getItem` → `dynamodb`; an activity → `None`.
fn integration_service(resource: &str) -> Option<&str> {
    if resource.starts_with("arn:aws:lambda:") {
        return Some("lambda");
    }
    let rest = resource.strip_prefix("arn:aws:states:::")?;
    let rest = rest.strip_prefix("aws-sdk:").unwrap_or(rest);
    rest.split(':').next()
}

#[cfg(test)]
mod tests {
    use super::integration_service;

    #[test]
    fn the_integrations_service() {
        assert_eq!(integration_service("arn:aws:states:::lambda:invoke"), Some("lambda"));
        assert_eq!(integration_service("arn:aws:states:::sqs:sendMessage.waitForTaskToken"), Some("sqs"));
        assert_eq!(integration_service("arn:aws:states:::aws-sdk:dynamodb:getItem"), Some("dynamodb"));
        assert_eq!(integration_service("arn:aws:lambda:us-east-1:000000000000:function:f"), Some("lambda"));
        assert_eq!(integration_service("arn:aws:states:us-east-1:000000000000:activity:a"), None);
    }
}
