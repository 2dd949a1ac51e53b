//! Tags on rules and event buses: TagResource, UntagResource, ListTagsForResource (and
//! the `Tags` of PutRule / CreateEventBus). Resources are named by ARN:
//! `event-bus/<name>`, `rule/<name>` (default bus) or `rule/<bus>/<name>`.
//! <https://docs.aws.amazon.com/eventbridge/latest/APIReference/API_TagResource.html>

use crate::errors::{required, EventsError, EventsResult};
use crate::names::DEFAULT_BUS;
use crate::registry::Bus;
use crate::service::{s, EventsService};
use nimbus_core::RequestContext;
use serde_json::{json, Value};

const MAX_TAGS: usize = 50;

/// A `Tags` list (`[{Key, Value}]`) checked against AWS's constraints.
pub fn tags_in(v: Option<&Value>) -> EventsResult<Vec<(String, String)>> {
    let mut out: Vec<(String, String)> = Vec::new();
    for t in v.and_then(Value::as_array).into_iter().flatten() {
        let key = required("tags.member.key", s(t, "Key"))?;
        let value = required("tags.member.value", s(t, "Value"))?;
        if key.is_empty() || key.chars().count() > 128 {
            return Err(EventsError::constraint(key, "tags.member.key", "Member must have length between 1 and 128"));
        }
        if value.chars().count() > 256 {
            return Err(EventsError::constraint(value, "tags.member.value", "Member must have length less than or equal to 256"));
        }
        out.retain(|(k, _)| k != key);
        out.push((key.to_string(), value.to_string()));
    }
    Ok(out)
}

/// What an ARN names.
enum Resource {
    Bus(String),
    Rule(String, String),
}

impl EventsService {
    fn resource(&self, ctx: &RequestContext, arn: &str) -> EventsResult<Resource> {
        let prefix = format!("arn:aws:events:{}:{}:", ctx.region, ctx.account_id);
        let rest = arn.strip_prefix(&prefix).ok_or_else(|| EventsError::NotFound(format!("Resource {arn} does not exist.")))?;
        if let Some(bus) = rest.strip_prefix("event-bus/") {
            if !self.reg.bus_exists(&ctx.account_id, &ctx.region, bus) {
                return Err(EventsError::NotFound(format!("Event bus {bus} does not exist.")));
            }
            return Ok(Resource::Bus(bus.to_string()));
        }
        if let Some(r) = rest.strip_prefix("rule/") {
            let (bus, name) = r.split_once('/').unwrap_or((DEFAULT_BUS, r));
            let key = (ctx.account_id.clone(), ctx.region.clone(), bus.to_string(), name.to_string());
            if !self.reg.rules.read().contains_key(&key) {
                return Err(Self::no_rule(&key));
            }
            return Ok(Resource::Rule(bus.to_string(), name.to_string()));
        }
        Err(EventsError::NotSupported(format!("Tags on {arn}")))
    }

    /// Applies `change` to the resource's tags and stores the resource.
    async fn edit_tags(&self, ctx: &RequestContext, input: &Value, change: impl FnOnce(&mut Vec<(String, String)>) -> EventsResult<()>) -> EventsResult<()> {
        let arn = required("resourceARN", s(input, "ResourceARN"))?;
        match self.resource(ctx, arn)? {
            Resource::Bus(bus) => {
                let key = (ctx.account_id.clone(), ctx.region.clone(), bus);
                let now = self.clock.now_ms();
                let mut b = self.reg.buses.read().get(&key).cloned().unwrap_or(Bus { description: None, created_ms: now, modified_ms: now, tags: Vec::new() });
                change(&mut b.tags)?;
                self.reg.save_bus(&key, Some(&b)).await?;
                self.reg.buses.write().insert(key, b);
            }
            Resource::Rule(bus, name) => {
                let key = (ctx.account_id.clone(), ctx.region.clone(), bus, name);
                let mut r = self.reg.rules.read().get(&key).cloned().ok_or_else(|| Self::no_rule(&key))?;
                change(&mut r.tags)?;
                self.reg.save_rule(&key, Some(&r)).await?;
                self.reg.rules.write().insert(key, r);
            }
        }
        Ok(())
    }

    pub(crate) async fn tag_resource(&self, ctx: &RequestContext, input: &Value) -> EventsResult<Value> {
        let given = tags_in(Some(required("tags", input.get("Tags"))?))?;
        self.edit_tags(ctx, input, |tags| {
            for (k, v) in given {
                tags.retain(|(x, _)| *x != k);
                tags.push((k, v));
            }
            if tags.len() > MAX_TAGS {
                return Err(EventsError::LimitExceeded("The requested resource exceeds the maximum number allowed.".into()));
            }
            Ok(())
        })
        .await?;
        Ok(json!({}))
    }

    pub(crate) async fn untag_resource(&self, ctx: &RequestContext, input: &Value) -> EventsResult<Value> {
        let keys: Vec<String> = required("tagKeys", input.get("TagKeys").and_then(Value::as_array))?.iter().filter_map(Value::as_str).map(str::to_string).collect();
        self.edit_tags(ctx, input, |tags| {
            tags.retain(|(k, _)| !keys.contains(k));
            Ok(())
        })
        .await?;
        Ok(json!({}))
    }

    pub(crate) fn list_tags_for_resource(&self, ctx: &RequestContext, input: &Value) -> EventsResult<Value> {
        let arn = required("resourceARN", s(input, "ResourceARN"))?;
        let tags = match self.resource(ctx, arn)? {
            Resource::Bus(bus) => self.reg.buses.read().get(&(ctx.account_id.clone(), ctx.region.clone(), bus)).map(|b| b.tags.clone()).unwrap_or_default(),
            Resource::Rule(bus, name) => self.reg.rules.read().get(&(ctx.account_id.clone(), ctx.region.clone(), bus, name)).map(|r| r.tags.clone()).unwrap_or_default(),
        };
        Ok(json!({ "Tags": tags.iter().map(|(k, v)| json!({ "Key": k, "Value": v })).collect::<Vec<_>>() }))
    }
}
