//! PutEvents (the event envelope, per-entry errors, matching every enabled rule of the
//! bus and handing the event to `deliver.rs`) and TestEventPattern.
//! <https://docs.aws.amazon.com/eventbridge/latest/APIReference/API_PutEvents.html>
//! <https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-putevent-size.html>

use crate::deliver;
use crate::errors::{required, EventsError, EventsResult};
use crate::names::bus_name;
use crate::service::{s, EventsService};
use nimbus_core::RequestContext;
use nimbus_event_pattern::{Dialect, Pattern};
use serde_json::{json, Value};

const MAX_ENTRIES: usize = 10;
const MAX_REQUEST_BYTES: usize = 256 * 1024;
/// The size AWS counts for an entry's `Time`, present or not.
const TIME_BYTES: usize = 14;

/// An entry's size as AWS counts it.
fn entry_size(e: &Value) -> usize {
    let len = |m: &str| s(e, m).map(str::len).unwrap_or(0);
    let resources: usize = e.get("Resources").and_then(Value::as_array).map(|r| r.iter().filter_map(Value::as_str).map(str::len).sum()).unwrap_or(0);
    TIME_BYTES + len("Source") + len("DetailType") + len("Detail") + resources
}

fn entry_error(code: &str, message: String) -> Value {
    json!({ "ErrorCode": code, "ErrorMessage": message })
}

impl EventsService {
    pub(crate) async fn put_events(&self, ctx: &RequestContext, input: &Value) -> EventsResult<Value> {
        let entries = required("entries", input.get("Entries").and_then(Value::as_array))?;
        if entries.is_empty() || entries.len() > MAX_ENTRIES {
            return Err(EventsError::constraint(format!("{} entries", entries.len()), "entries", "Member must have length between 1 and 10"));
        }
        if entries.iter().map(entry_size).sum::<usize>() > MAX_REQUEST_BYTES {
            return Err(EventsError::Validation("Total size of the entries in the request is over the limit.".into()));
        }
        let now = self.clock.now_ms();
        let mut results = Vec::with_capacity(entries.len());
        let mut failed = 0;
        let mut deliveries = Vec::new();
        let mut accepted: Vec<(String, Value)> = Vec::new();
        for e in entries {
            match self.accept(ctx, e, now, &mut deliveries) {
                Ok((id, bus, event)) => {
                    results.push(json!({ "EventId": id }));
                    accepted.push((bus, event));
                }
                Err(err) => {
                    failed += 1;
                    results.push(err);
                }
            }
        }
        for (bus, event) in &accepted {
            self.reg.archives.archive(&ctx.account_id, &ctx.region, bus, std::slice::from_ref(event), now).await.map_err(EventsError::Internal)?;
        }
        deliver::start(&self.reg, &self.targets, &self.clock, deliveries).await.map_err(EventsError::Internal)?;
        Ok(json!({ "FailedEntryCount": failed, "Entries": results }))
    }

    /// Checks one entry, builds its event and adds its deliveries to the matching rules' targets.
    /// Answers the event id, its bus and the event.
    fn accept(&self, ctx: &RequestContext, e: &Value, now: u64, out: &mut Vec<deliver::Delivery>) -> Result<(String, String, Value), Value> {
        for (member, name) in [("Source", "Source"), ("DetailType", "DetailType"), ("Detail", "Detail")] {
            if s(e, member).is_none_or(str::is_empty) {
                return Err(entry_error("InvalidArgument", format!("Parameter {name} is not valid. Reason: {name} is a required argument.")));
            }
        }
        let detail: Value = match serde_json::from_str(s(e, "Detail").unwrap_or_default()) {
            Ok(v @ Value::Object(_)) => v,
            _ => return Err(entry_error("MalformedDetail", "Detail is malformed.".into())),
        };
        let bus = bus_name(s(e, "EventBusName")).map_err(|err| entry_error("InvalidArgument", nimbus_core::AwsError::from(err).message))?;
        if !self.reg.bus_exists(&ctx.account_id, &ctx.region, &bus) {
            return Err(entry_error("ResourceNotFoundException", format!("Event bus {bus} does not exist.")));
        }
        let time_ms = match e.get("Time") {
            Some(Value::Number(n)) => n.as_f64().map(|t| (t * 1000.0) as u64).unwrap_or(now),
            Some(Value::String(t)) => nimbus_core::time::parse_iso8601(t).unwrap_or(now),
            _ => now,
        };
        let id = nimbus_core::ids::uuid();
        let event = json!({
            "version": "0",
            "id": id,
            "detail-type": s(e, "DetailType"),
            "source": s(e, "Source"),
            "account": ctx.account_id,
            "time": nimbus_core::time::iso8601(time_ms),
            "region": ctx.region,
            "resources": e.get("Resources").cloned().unwrap_or_else(|| json!([])),
            "detail": detail,
        });
        // The entry's TraceHeader, else the request's own trace, goes with the event.
        let trace = s(e, "TraceHeader").filter(|t| nimbus_core::trace::TraceHeader::parse(t).is_some()).map(str::to_string).or_else(|| ctx.downstream_trace().map(|t| t.render()));
        out.extend(self.reg.matching(&ctx.account_id, &ctx.region, &bus, &event, now).into_iter().map(|mut d| {
            d.trace = trace.clone();
            d
        }));
        Ok((id, bus, event))
    }
}

/// The fields TestEventPattern requires of the event.
const REQUIRED_FIELDS: &[&str] = &["id", "account", "source", "time", "region", "detail-type"];

pub fn test_event_pattern(input: &Value) -> EventsResult<Value> {
    let pattern = required("eventPattern", s(input, "EventPattern"))?;
    let event = required("event", s(input, "Event"))?;
    let pattern = Pattern::parse(pattern, Dialect::EventBridge).map_err(|e| EventsError::InvalidEventPattern(e.message))?;
    let event: Value = serde_json::from_str(event).map_err(|_| EventsError::Validation("Parameter Event is not valid.".into()))?;
    if !event.is_object() || REQUIRED_FIELDS.iter().any(|f| event.get(*f).is_none()) {
        return Err(EventsError::Validation("Parameter Event is not valid.".into()));
    }
    Ok(json!({ "Result": pattern.matches(&event) }))
}

/// API Gateway's `EventBridge-PutEvents` integrations put events as the API's account.
impl nimbus_core::internal::EventPublisher for EventsService {
    fn put_events<'a>(&'a self, account: &'a str, region: &'a str, input: Value) -> nimbus_core::service::BoxFuture<'a, Result<Value, nimbus_core::AwsError>> {
        Box::pin(async move {
            let caller = nimbus_core::auth::Caller { access_key_id: String::new(), account_id: account.to_string(), region: region.to_string(), service: Some("events".into()) };
            let ctx = RequestContext::new(caller, String::new(), "/".into());
            EventsService::put_events(self, &ctx, &input).await.map_err(nimbus_core::AwsError::from)
        })
    }
}
