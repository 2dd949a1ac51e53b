//! Rules: PutRule (event pattern and/or schedule), DescribeRule, ListRules, EnableRule,
//! DisableRule, DeleteRule.
//! <https://docs.aws.amazon.com/eventbridge/latest/APIReference/API_PutRule.html>

use crate::errors::{required, EventsError, EventsResult};
use crate::names::{bus_name, check_name, rule_arn, DEFAULT_BUS};
use crate::registry::{Rule, RuleKey};
use nimbus_core::schedule::{self, ScheduleError};
use crate::service::{s, EventsService};
use nimbus_core::RequestContext;
use nimbus_event_pattern::{Dialect, Pattern};
use serde_json::{json, Value};

const STATES: &[&str] = &["ENABLED", "DISABLED", "ENABLED_WITH_ALL_CLOUDTRAIL_MANAGEMENT_EVENTS"];

impl EventsService {
    /// The rule a request names (`Name` + `EventBusName`), checking the bus exists.
    pub(crate) fn rule_key(&self, ctx: &RequestContext, input: &Value, member: &str) -> EventsResult<RuleKey> {
        let name = required(member, s(input, if member == "rule" { "Rule" } else { "Name" }))?;
        check_name(member, name, 64)?;
        let bus = bus_name(s(input, "EventBusName"))?;
        if !self.reg.bus_exists(&ctx.account_id, &ctx.region, &bus) {
            return Err(EventsError::NotFound(format!("Event bus {bus} does not exist.")));
        }
        Ok((ctx.account_id.clone(), ctx.region.clone(), bus, name.to_string()))
    }

    pub(crate) fn no_rule(key: &RuleKey) -> EventsError {
        EventsError::NotFound(format!("Rule {} does not exist on EventBus {}.", key.3, key.2))
    }

    pub(crate) async fn put_rule(&self, ctx: &RequestContext, input: &Value) -> EventsResult<Value> {
        let key = self.rule_key(ctx, input, "name")?;
        let pattern = s(input, "EventPattern").map(str::to_string);
        let sched = s(input, "ScheduleExpression").filter(|e| !e.is_empty()).map(str::to_string);
        if pattern.is_none() && sched.is_none() {
            return Err(EventsError::Validation("Parameter(s) EventPattern or ScheduleExpression must be specified.".into()));
        }
        if let Some(p) = &pattern {
            Pattern::parse(p, Dialect::EventBridge).map_err(|e| EventsError::InvalidEventPattern(e.message))?;
        }
        if let Some(e) = &sched {
            match schedule::parse(e) {
                Ok(_) => {}
                Err(ScheduleError::Invalid) => return Err(EventsError::Validation("Parameter ScheduleExpression is not valid.".into())),
                Err(ScheduleError::NotSupported(what)) => return Err(EventsError::NotSupported(what)),
            }
            if key.2 != DEFAULT_BUS {
                return Err(EventsError::Validation("ScheduleExpression is supported only on the default event bus.".into()));
            }
        }
        let state = s(input, "State").unwrap_or("ENABLED");
        if !STATES.contains(&state) {
            return Err(EventsError::constraint(state, "state", &format!("Member must satisfy enum value set: [{}]", STATES.join(", "))));
        }
        let existing = self.reg.rules.read().get(&key).cloned();
        // Tags given when updating an existing rule are ignored, as AWS documents.
        let tags = match &existing {
            Some(r) => r.tags.clone(),
            None => crate::ops_tags::tags_in(input.get("Tags"))?,
        };
        let mut rule = Rule {
            event_pattern: pattern,
            schedule: sched,
            state: state.to_string(),
            description: s(input, "Description").map(str::to_string),
            role_arn: s(input, "RoleArn").map(str::to_string),
            created_ms: existing.as_ref().map(|r| r.created_ms).unwrap_or_else(|| self.clock.now_ms()),
            targets: existing.map(|r| r.targets).unwrap_or_default(),
            tags,
            compiled: None,
        };
        rule.compile();
        self.reg.save_rule(&key, Some(&rule)).await?;
        let expr = rule.schedule.clone().filter(|_| rule.enabled());
        self.reg.rules.write().insert(key.clone(), rule);
        self.scheduler.set(&key, expr.as_deref());
        Ok(json!({ "RuleArn": rule_arn(&key.1, &key.0, &key.2, &key.3) }))
    }

    fn rule_json(key: &RuleKey, r: &Rule) -> Value {
        let mut v = json!({ "Name": key.3, "Arn": rule_arn(&key.1, &key.0, &key.2, &key.3), "State": r.state, "EventBusName": key.2, "CreatedBy": key.0 });
        for (member, value) in [("EventPattern", &r.event_pattern), ("ScheduleExpression", &r.schedule), ("Description", &r.description), ("RoleArn", &r.role_arn)] {
            if let Some(x) = value {
                v[member] = json!(x);
            }
        }
        v
    }

    pub(crate) fn describe_rule(&self, ctx: &RequestContext, input: &Value) -> EventsResult<Value> {
        let key = self.rule_key(ctx, input, "name")?;
        let rules = self.reg.rules.read();
        let r = rules.get(&key).ok_or_else(|| Self::no_rule(&key))?;
        Ok(Self::rule_json(&key, r))
    }

    pub(crate) fn list_rules(&self, ctx: &RequestContext, input: &Value) -> EventsResult<Value> {
        let bus = bus_name(s(input, "EventBusName"))?;
        if !self.reg.bus_exists(&ctx.account_id, &ctx.region, &bus) {
            return Err(EventsError::NotFound(format!("Event bus {bus} does not exist.")));
        }
        let prefix = s(input, "NamePrefix").unwrap_or("");
        let limit = input.get("Limit").and_then(Value::as_u64).unwrap_or(100).clamp(1, 100) as usize;
        let after = s(input, "NextToken");
        let rules = self.reg.rules.read();
        let rest: Vec<Value> = rules
            .iter()
            .filter(|(k, _)| k.0 == ctx.account_id && k.1 == ctx.region && k.2 == bus && k.3.starts_with(prefix) && after.is_none_or(|a| k.3.as_str() > a))
            .map(|(k, r)| Self::rule_json(k, r))
            .collect();
        let mut out = json!({ "Rules": rest.iter().take(limit).collect::<Vec<_>>() });
        if rest.len() > limit {
            out["NextToken"] = rest[limit - 1]["Name"].clone();
        }
        Ok(out)
    }

    pub(crate) async fn set_rule_state(&self, ctx: &RequestContext, input: &Value, state: &str) -> EventsResult<Value> {
        let key = self.rule_key(ctx, input, "name")?;
        let mut rule = self.reg.rules.read().get(&key).cloned().ok_or_else(|| Self::no_rule(&key))?;
        rule.state = state.to_string();
        self.reg.save_rule(&key, Some(&rule)).await?;
        let expr = rule.schedule.clone().filter(|_| rule.enabled());
        self.reg.rules.write().insert(key.clone(), rule);
        self.scheduler.set(&key, expr.as_deref());
        Ok(json!({}))
    }

    pub(crate) async fn delete_rule(&self, ctx: &RequestContext, input: &Value) -> EventsResult<Value> {
        let key = self.rule_key(ctx, input, "name")?;
        let Some(rule) = self.reg.rules.read().get(&key).cloned() else { return Ok(json!({})) };
        if !rule.targets.is_empty() && input.get("Force") != Some(&Value::Bool(true)) {
            return Err(EventsError::Validation("Rule can't be deleted since it has targets.".into()));
        }
        self.reg.save_rule(&key, None).await?;
        self.reg.rules.write().remove(&key);
        self.scheduler.set(&key, None);
        Ok(json!({}))
    }
}
