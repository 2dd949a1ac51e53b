//! Event buses: CreateEventBus, DescribeEventBus, ListEventBuses, DeleteEventBus. The
//! `default` bus of every account and region always exists.
//! <https://docs.aws.amazon.com/eventbridge/latest/APIReference/API_CreateEventBus.html>

use crate::errors::{required, EventsError, EventsResult};
use crate::names::{bus_arn, bus_name, check_name, DEFAULT_BUS};
use crate::registry::Bus;
use crate::service::{s, EventsService};
use nimbus_core::RequestContext;
use serde_json::{json, Value};

impl EventsService {
    pub(crate) async fn create_event_bus(&self, ctx: &RequestContext, input: &Value) -> EventsResult<Value> {
        let name = required("name", s(input, "Name"))?;
        check_name("name", name, 256)?;
        if s(input, "EventSourceName").is_some() {
            return Err(EventsError::NotSupported("Partner event buses (EventSourceName)".into()));
        }
        if name == DEFAULT_BUS || self.reg.bus_exists(&ctx.account_id, &ctx.region, name) {
            return Err(EventsError::AlreadyExists(format!("Event bus {name} already exists.")));
        }
        let now = self.clock.now_ms();
        let tags = crate::ops_tags::tags_in(input.get("Tags"))?;
        let bus = Bus { description: s(input, "Description").map(str::to_string), created_ms: now, modified_ms: now, tags };
        let key = (ctx.account_id.clone(), ctx.region.clone(), name.to_string());
        self.reg.save_bus(&key, Some(&bus)).await?;
        self.reg.buses.write().insert(key, bus);
        let mut out = json!({ "EventBusArn": bus_arn(&ctx.region, &ctx.account_id, name) });
        if let Some(d) = s(input, "Description") {
            out["Description"] = json!(d);
        }
        Ok(out)
    }

    fn bus_json(&self, ctx: &RequestContext, name: &str, bus: Option<&Bus>) -> Value {
        let mut v = json!({ "Name": name, "Arn": bus_arn(&ctx.region, &ctx.account_id, name) });
        if let Some(b) = bus {
            v["CreationTime"] = json!(b.created_ms as f64 / 1000.0);
            v["LastModifiedTime"] = json!(b.modified_ms as f64 / 1000.0);
            if let Some(d) = &b.description {
                v["Description"] = json!(d);
            }
        }
        v
    }

    pub(crate) fn describe_event_bus(&self, ctx: &RequestContext, input: &Value) -> EventsResult<Value> {
        let name = bus_name(s(input, "Name"))?;
        if name == DEFAULT_BUS {
            return Ok(self.bus_json(ctx, DEFAULT_BUS, None));
        }
        let buses = self.reg.buses.read();
        let bus = buses.get(&(ctx.account_id.clone(), ctx.region.clone(), name.clone())).ok_or_else(|| EventsError::NotFound(format!("Event bus {name} does not exist.")))?;
        Ok(self.bus_json(ctx, &name, Some(bus)))
    }

    pub(crate) fn list_event_buses(&self, ctx: &RequestContext, input: &Value) -> EventsResult<Value> {
        let prefix = s(input, "NamePrefix").unwrap_or("");
        let limit = input.get("Limit").and_then(Value::as_u64).unwrap_or(100).clamp(1, 100) as usize;
        let after = s(input, "NextToken");
        let mut all = vec![(DEFAULT_BUS.to_string(), None)];
        let buses = self.reg.buses.read();
        // (The default bus has an entry only once it is tagged.)
        for (k, b) in buses.iter().filter(|(k, _)| k.0 == ctx.account_id && k.1 == ctx.region && k.2 != DEFAULT_BUS) {
            all.push((k.2.clone(), Some(b.clone())));
        }
        drop(buses);
        all.sort_by(|a, b| a.0.cmp(&b.0));
        let rest: Vec<_> = all.into_iter().filter(|(n, _)| n.starts_with(prefix) && after.is_none_or(|a| n.as_str() > a)).collect();
        let page: Vec<Value> = rest.iter().take(limit).map(|(n, b)| self.bus_json(ctx, n, b.as_ref())).collect();
        let mut out = json!({ "EventBuses": page });
        if rest.len() > limit {
            out["NextToken"] = json!(rest[limit - 1].0);
        }
        Ok(out)
    }

    pub(crate) async fn delete_event_bus(&self, ctx: &RequestContext, input: &Value) -> EventsResult<Value> {
        let name = required("name", s(input, "Name"))?;
        if name == DEFAULT_BUS {
            return Err(EventsError::Validation("Cannot delete event bus default.".into()));
        }
        let key = (ctx.account_id.clone(), ctx.region.clone(), name.to_string());
        let has_rules = self.reg.rules.read().keys().any(|k| k.0 == key.0 && k.1 == key.1 && k.2 == key.2);
        if has_rules {
            return Err(EventsError::Validation(format!("Cannot delete event bus {name} because it still has rules.")));
        }
        if self.reg.buses.read().contains_key(&key) {
            self.reg.save_bus(&key, None).await?;
            self.reg.buses.write().remove(&key);
        }
        Ok(json!({}))
    }
}
