//! The segment the router records for each traced API call: the service's X-Ray name and
//! origin, the operation, request id, region and account, the resource the call names
//! (queue URL, table, function, …, as the X-Ray SDKs record them), the HTTP status and,
//! for a failure, the error flags and the AWS error as the cause. Kept apart from
//! `server.rs` so the router only says *when* a call is recorded.

use serde_json::Value;

use crate::trace::{self, Segment, RESOURCE_FIELDS};
use crate::{AwsError, RequestContext};

/// The resource members of a call's input (read before the input moves into the service).
pub(crate) fn resources(input: &Value) -> Vec<(&'static str, String)> {
    let Value::Object(m) = input else { return Vec::new() };
    RESOURCE_FIELDS.iter().filter_map(|(member, field)| m.get(*member).and_then(Value::as_str).map(|v| (*field, v.to_string()))).collect()
}

/// Records the call's segment (the context has a segment id only when it is traced).
pub(crate) fn record_call(ctx: &RequestContext, signing_name: &str, op: &str, start_ms: u64, end_ms: u64, resources: Vec<(&'static str, String)>, error: Option<&AwsError>) {
    let (Some(t), Some(id)) = (ctx.trace.as_ref(), ctx.segment_id.as_deref()) else { return };
    let (name, origin) = trace::service_segment_name(signing_name);
    let mut seg = Segment::new(name, &t.root, id, t.parent.as_deref(), start_ms, end_ms)
        .origin(origin)
        .aws("operation", op)
        .aws("request_id", ctx.request_id.as_str())
        .aws("region", ctx.region.as_str())
        .aws("account_id", ctx.account_id.as_str());
    for (field, value) in resources {
        seg = seg.aws(field, value);
    }
    seg = match error {
        None => seg.http_status(200),
        Some(e) => seg.http_status(e.status).failure(e.status >= 500, &e.code, &e.message),
    };
    trace::record(seg);
}
