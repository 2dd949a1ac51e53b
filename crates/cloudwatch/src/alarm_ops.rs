//! The alarm operations besides the two Puts: DescribeAlarms (names, prefix, types, state,
//! action prefix, children / parents of a composite alarm, pages), DescribeAlarmsForMetric,
//! DescribeAlarmHistory (type, dates, ScanBy, pages), SetAlarmState, Enable/
//! DisableAlarmActions, DeleteAlarms, and TagResource / UntagResource /
//! ListTagsForResource on alarm ARNs.
//! <https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_DescribeAlarms.html>
//! <https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_DescribeAlarmHistory.html>
//! <https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_SetAlarmState.html>

use crate::alarm::{Alarm, AlarmKey, ALARM, INSUFFICIENT, OK};
use crate::errors::{CwError, CwResult};
use crate::put::dimensions;
use crate::rule;
use crate::service::{check_len, list, s, secs, time_ms, CloudWatchService};
use crate::store::{AlarmChange, HistoryQuery};
use nimbus_core::RequestContext;
use serde_json::{json, Value};

const STATES: [&str; 3] = [OK, ALARM, INSUFFICIENT];

/// A change to an alarm's tags.
type TagEdit<'a> = dyn Fn(&mut Vec<(String, String)>) -> CwResult<()> + Sync + 'a;

fn max_records(input: &Value, default: usize) -> CwResult<usize> {
    match input.get("MaxRecords") {
        None => Ok(default),
        Some(v) => match v.as_i64() {
            Some(n) if (1..=100).contains(&n) => Ok(n as usize),
            _ => Err(CwError::invalid(format!("The value {v} for parameter MaxRecords is invalid."))),
        },
    }
}

/// `(metric, composite)` from AlarmTypes; omitted: metric alarms only, as AWS.
fn alarm_types(input: &Value) -> CwResult<(bool, bool)> {
    let types = list(input, "AlarmTypes");
    if types.is_empty() {
        return Ok((true, false));
    }
    let mut out = (false, false);
    for t in types {
        match t.as_str() {
            Some("MetricAlarm") => out.0 = true,
            Some("CompositeAlarm") => out.1 = true,
            _ => return Err(CwError::invalid(format!("The value {t} for parameter AlarmTypes is invalid."))),
        }
    }
    Ok(out)
}

fn names(input: &Value) -> CwResult<Vec<String>> {
    let names = list(input, "AlarmNames");
    if names.len() > 100 {
        return Err(CwError::invalid("The collection AlarmNames must not have a size greater than 100."));
    }
    Ok(names.iter().filter_map(Value::as_str).map(str::to_string).collect())
}

fn state_value(input: &Value) -> CwResult<Option<&str>> {
    match s(input, "StateValue") {
        None => Ok(None),
        Some(v) if STATES.contains(&v) => Ok(Some(v)),
        Some(v) => Err(CwError::invalid(format!("The value {v} for parameter StateValue is invalid."))),
    }
}

impl CloudWatchService {
    fn key(ctx: &RequestContext, name: &str) -> AlarmKey {
        (ctx.account_id.clone(), ctx.region.clone(), name.to_string())
    }

    fn account_alarms(&self, ctx: &RequestContext) -> Vec<Alarm> {
        self.engine.alarms.lock().values().filter(|a| a.account == ctx.account_id && a.region == ctx.region).cloned().collect()
    }

    pub(crate) async fn describe_alarms(&self, ctx: &RequestContext, input: &Value) -> CwResult<Value> {
        let max = max_records(input, 50)?;
        let after = s(input, "NextToken");
        let page = |mut found: Vec<Alarm>, brief: bool| -> Value {
            found.sort_by(|a, b| a.name.cmp(&b.name));
            let mut rest: Vec<Alarm> = found.into_iter().filter(|a| after.is_none_or(|t| a.name.as_str() > t)).collect();
            let more = rest.len() > max;
            rest.truncate(max);
            let show = |a: &Alarm| if brief { a.describe_brief() } else { a.describe() };
            let mut out = json!({
                "MetricAlarms": rest.iter().filter(|a| !a.composite).map(show).collect::<Vec<_>>(),
                "CompositeAlarms": rest.iter().filter(|a| a.composite).map(show).collect::<Vec<_>>(),
            });
            if more {
                if let Some(last) = rest.last() {
                    out["NextToken"] = Value::from(last.name.clone());
                }
            }
            out
        };
        let all = self.account_alarms(ctx);
        for (member, children) in [("ChildrenOfAlarmName", true), ("ParentsOfAlarmName", false)] {
            let Some(of) = s(input, member) else { continue };
            let others = ["AlarmNames", "AlarmNamePrefix", "AlarmTypes", "StateValue", "ActionPrefix", if children { "ParentsOfAlarmName" } else { "ChildrenOfAlarmName" }];
            if others.iter().any(|m| input.get(*m).is_some()) {
                return Err(CwError::validation(format!("If {member} is specified, only MaxRecords and NextToken may be specified with it.")));
            }
            let found: Vec<Alarm> = if children {
                let rule = all.iter().find(|a| a.name == of && a.composite).and_then(|a| a.config.get("AlarmRule")).and_then(Value::as_str).and_then(|r| rule::parse(r).ok());
                let named: Vec<String> = rule.map(|r| r.alarms()).unwrap_or_default().iter().filter_map(|n| rule::name_of(n, &ctx.account_id, &ctx.region)).map(str::to_string).collect();
                all.iter().filter(|a| named.contains(&a.name)).cloned().collect()
            } else {
                all.iter()
                    .filter(|p| p.composite)
                    .filter(|p| {
                        let rule = p.config.get("AlarmRule").and_then(Value::as_str).and_then(|r| rule::parse(r).ok());
                        rule.is_some_and(|r| r.alarms().iter().any(|n| rule::name_of(n, &ctx.account_id, &ctx.region) == Some(of)))
                    })
                    .cloned()
                    .collect()
            };
            return Ok(page(found, true));
        }
        let wanted = names(input)?;
        if !wanted.is_empty() && input.get("AlarmNamePrefix").is_some() {
            return Err(CwError::combination("The parameters AlarmNames and AlarmNamePrefix are mutually exclusive and you have specified both."));
        }
        let prefix = s(input, "AlarmNamePrefix");
        let action_prefix = s(input, "ActionPrefix");
        let state = state_value(input)?;
        let types = alarm_types(input)?;
        let found: Vec<Alarm> = all
            .into_iter()
            .filter(|a| if a.composite { types.1 } else { types.0 })
            .filter(|a| wanted.is_empty() || wanted.contains(&a.name))
            .filter(|a| prefix.is_none_or(|p| a.name.starts_with(p)))
            .filter(|a| state.is_none_or(|st| a.state.value == st))
            .filter(|a| action_prefix.is_none_or(|p| a.all_actions().iter().any(|x| x.starts_with(p))))
            .collect();
        Ok(page(found, false))
    }

    pub(crate) async fn describe_alarms_for_metric(&self, ctx: &RequestContext, input: &Value) -> CwResult<Value> {
        let name = s(input, "MetricName").ok_or_else(|| CwError::missing("MetricName"))?;
        let namespace = s(input, "Namespace").ok_or_else(|| CwError::missing("Namespace"))?;
        let dims = input.get("Dimensions").map(|_| dimensions(input, "")).transpose()?;
        let want = |a: &Alarm, member: &str, given: Option<Value>| given.is_none_or(|g| a.config.get(member) == Some(&g));
        let found: Vec<Value> = self
            .account_alarms(ctx)
            .into_iter()
            .filter(|a| !a.composite && a.config.get("MetricName").and_then(Value::as_str) == Some(name) && a.config.get("Namespace").and_then(Value::as_str) == Some(namespace))
            .filter(|a| {
                dims.as_ref().is_none_or(|d| {
                    let mut have: Vec<(String, String)> = a.config.get("Dimensions").and_then(Value::as_array).map(|l| l.iter().filter_map(|x| Some((x.get("Name")?.as_str()?.to_string(), x.get("Value")?.as_str()?.to_string()))).collect()).unwrap_or_default();
                    let mut d = d.clone();
                    have.sort();
                    d.sort();
                    have == d
                })
            })
            .filter(|a| want(a, "Statistic", input.get("Statistic").cloned()) && want(a, "ExtendedStatistic", input.get("ExtendedStatistic").cloned()) && want(a, "Unit", input.get("Unit").cloned()))
            .filter(|a| input.get("Period").and_then(Value::as_i64).is_none_or(|p| a.config.get("Period").and_then(Value::as_i64) == Some(p)))
            .map(|a| a.describe())
            .collect();
        Ok(json!({"MetricAlarms": found}))
    }

    pub(crate) async fn describe_alarm_history(&self, ctx: &RequestContext, input: &Value) -> CwResult<Value> {
        if input.get("AlarmContributorId").is_some() {
            return Err(CwError::NotSupported("DescribeAlarmHistory's AlarmContributorId".into()));
        }
        let kind = match s(input, "HistoryItemType") {
            None => None,
            Some(k @ ("ConfigurationUpdate" | "StateUpdate" | "Action")) => Some(k),
            Some(k @ ("AlarmContributorStateUpdate" | "AlarmContributorAction")) => return Err(CwError::NotSupported(format!("The history item type {k}"))),
            Some(k) => return Err(CwError::invalid(format!("The value {k} for parameter HistoryItemType is invalid."))),
        };
        let from = input.get("StartDate").map(|v| time_ms(v, "StartDate")).transpose()?.unwrap_or(i64::MIN);
        let to = input.get("EndDate").map(|v| time_ms(v, "EndDate")).transpose()?.unwrap_or(i64::MAX);
        let ascending = match s(input, "ScanBy") {
            None | Some("TimestampDescending") => false,
            Some("TimestampAscending") => true,
            Some(other) => return Err(CwError::invalid(format!("The value {other} for parameter ScanBy is invalid."))),
        };
        let limit = max_records(input, 100)?;
        let after = match s(input, "NextToken") {
            None => None,
            Some(t) => Some(t.strip_prefix("h-").and_then(|n| n.parse::<i64>().ok()).ok_or(CwError::InvalidNextToken)?),
        };
        let types = alarm_types(input)?;
        self.store.barrier().await?;
        let rows = self.store.history(&HistoryQuery {
            account: &ctx.account_id,
            region: &ctx.region,
            name: s(input, "AlarmName"),
            kind,
            types,
            from_ms: from,
            to_ms: to,
            ascending,
            after,
            limit: limit + 1,
        })?;
        let more = rows.len() > limit;
        let items: Vec<Value> = rows
            .iter()
            .take(limit)
            .map(|(_, h)| {
                json!({
                    "AlarmName": h.name,
                    "AlarmType": if h.composite { "CompositeAlarm" } else { "MetricAlarm" },
                    "Timestamp": secs(h.ts_ms),
                    "HistoryItemType": h.kind,
                    "HistorySummary": h.summary,
                    "HistoryData": h.data,
                })
            })
            .collect();
        let mut out = json!({"AlarmHistoryItems": items});
        if more {
            if let Some((id, _)) = rows.get(limit - 1) {
                out["NextToken"] = Value::from(format!("h-{id}"));
            }
        }
        Ok(out)
    }

    pub(crate) async fn set_alarm_state(&self, ctx: &RequestContext, input: &Value) -> CwResult<Value> {
        let name = s(input, "AlarmName").ok_or_else(|| CwError::missing("AlarmName"))?;
        let value = s(input, "StateValue").ok_or_else(|| CwError::missing("StateValue"))?;
        if !STATES.contains(&value) {
            return Err(CwError::invalid(format!("The value {value} for parameter StateValue is invalid.")));
        }
        let reason = s(input, "StateReason").ok_or_else(|| CwError::missing("StateReason"))?;
        if reason.chars().count() > 1023 {
            return Err(CwError::invalid("The parameter StateReason must be between 0 and 1023 characters long."));
        }
        let data = s(input, "StateReasonData");
        if let Some(d) = data {
            if serde_json::from_str::<Value>(d).is_err() {
                return Err(CwError::InvalidFormat("StateReasonData is not valid JSON".into()));
            }
        }
        let key = Self::key(ctx, name);
        if !self.engine.alarms.lock().contains_key(&key) {
            return Err(CwError::AlarmNotFound(format!("Alarm {name} not found")));
        }
        self.engine.set_state(&key, value, reason.to_string(), data.map(str::to_string), None).await;
        // The new state and its history are durable before the answer.
        self.store.barrier().await?;
        Ok(json!({}))
    }

    pub(crate) async fn set_actions_enabled(&self, ctx: &RequestContext, input: &Value, enabled: bool) -> CwResult<Value> {
        let names = names(input)?;
        if list(input, "AlarmNames").is_empty() && input.get("AlarmNames").is_none() {
            return Err(CwError::missing("AlarmNames"));
        }
        let mut changes = Vec::new();
        {
            let mut alarms = self.engine.alarms.lock();
            for n in names {
                if let Some(a) = alarms.get_mut(&Self::key(ctx, &n)) {
                    if a.actions_enabled() != enabled {
                        a.config.insert("ActionsEnabled".into(), Value::from(enabled));
                        changes.push(AlarmChange::Put { account: a.account.clone(), region: a.region.clone(), name: a.name.clone(), doc: a.to_doc() });
                    }
                }
            }
        }
        self.store.apply_alarms(changes).wait().await.map_err(CwError::Internal)?;
        Ok(json!({}))
    }

    pub(crate) async fn delete_alarms(&self, ctx: &RequestContext, input: &Value) -> CwResult<Value> {
        let names = names(input)?;
        if input.get("AlarmNames").is_none() {
            return Err(CwError::missing("AlarmNames"));
        }
        let deleted: Vec<Alarm> = {
            let mut alarms = self.engine.alarms.lock();
            if let Some(missing) = names.iter().find(|n| !alarms.contains_key(&Self::key(ctx, n))) {
                return Err(CwError::AlarmNotFound(format!("Alarm {missing} not found")));
            }
            names.iter().filter_map(|n| alarms.remove(&Self::key(ctx, n))).collect()
        };
        let mut changes = Vec::new();
        for a in &deleted {
            self.engine.unschedule(&a.key());
            changes.push(AlarmChange::Delete { account: a.account.clone(), region: a.region.clone(), name: a.name.clone() });
        }
        self.store.apply_alarms(changes).wait().await.map_err(CwError::Internal)?;
        for a in &deleted {
            self.engine.record(a, "ConfigurationUpdate", format!("Alarm \"{}\" deleted", a.name), json!({"type": "Delete", "version": "1.0", "deletedAlarm": a.history_config()}));
        }
        self.store.barrier().await?;
        Ok(json!({}))
    }

    /// The alarm an ARN names, if it is one of the caller's.
    fn alarm_of_arn(ctx: &RequestContext, arn: &str) -> CwResult<AlarmKey> {
        check_len(arn, 1024, "ResourceARN")?;
        match rule::name_of(arn, &ctx.account_id, &ctx.region) {
            Some(name) if arn.starts_with("arn:aws:cloudwatch:") => Ok(Self::key(ctx, name)),
            _ if arn.starts_with("arn:aws:cloudwatch:") && arn.contains(":dashboard/") => Err(CwError::NotSupported("Tags on dashboards".into())),
            _ if arn.starts_with("arn:aws:cloudwatch:") && arn.contains(":insight-rule/") => Err(CwError::NotSupported("Tags on Contributor Insights rules".into())),
            _ => Err(CwError::invalid(format!("The value {arn} for parameter ResourceARN is invalid."))),
        }
    }

    async fn change_tags(&self, ctx: &RequestContext, input: &Value, f: &TagEdit<'_>) -> CwResult<Value> {
        let arn = s(input, "ResourceARN").ok_or_else(|| CwError::missing("ResourceARN"))?;
        let key = Self::alarm_of_arn(ctx, arn)?;
        let pending = {
            let mut alarms = self.engine.alarms.lock();
            let a = alarms.get_mut(&key).ok_or_else(|| CwError::ResourceNotFound(format!("{arn} not found")))?;
            let mut tags = a.tags.clone();
            f(&mut tags)?;
            if tags.len() > 50 {
                return Err(CwError::LimitExceeded("The maximum number of tags for a resource (50) would be exceeded.".into()));
            }
            a.tags = tags;
            self.store.apply_alarms(vec![AlarmChange::Put { account: a.account.clone(), region: a.region.clone(), name: a.name.clone(), doc: a.to_doc() }])
        };
        pending.wait().await.map_err(CwError::Internal)?;
        Ok(json!({}))
    }

    pub(crate) async fn tag_resource(&self, ctx: &RequestContext, input: &Value) -> CwResult<Value> {
        if input.get("Tags").is_none() {
            return Err(CwError::missing("Tags"));
        }
        let mut given = Vec::new();
        for (i, t) in list(input, "Tags").iter().enumerate() {
            let k = s(t, "Key").ok_or_else(|| CwError::missing(&format!("Tags.member.{}.Key", i + 1)))?;
            let v = s(t, "Value").ok_or_else(|| CwError::missing(&format!("Tags.member.{}.Value", i + 1)))?;
            check_len(k, 128, &format!("Tags.member.{}.Key", i + 1))?;
            if v.chars().count() > 256 {
                return Err(CwError::invalid(format!("The parameter Tags.member.{}.Value must be between 0 and 256 characters long.", i + 1)));
            }
            given.push((k.to_string(), v.to_string()));
        }
        self.change_tags(ctx, input, &|tags| {
            for (k, v) in &given {
                match tags.iter_mut().find(|(tk, _)| tk == k) {
                    Some(t) => t.1 = v.clone(),
                    None => tags.push((k.clone(), v.clone())),
                }
            }
            Ok(())
        })
        .await
    }

    pub(crate) async fn untag_resource(&self, ctx: &RequestContext, input: &Value) -> CwResult<Value> {
        if input.get("TagKeys").is_none() {
            return Err(CwError::missing("TagKeys"));
        }
        let keys: Vec<String> = list(input, "TagKeys").iter().filter_map(Value::as_str).map(str::to_string).collect();
        self.change_tags(ctx, input, &|tags| {
            tags.retain(|(k, _)| !keys.contains(k));
            Ok(())
        })
        .await
    }

    pub(crate) async fn list_tags_for_resource(&self, ctx: &RequestContext, input: &Value) -> CwResult<Value> {
        let arn = s(input, "ResourceARN").ok_or_else(|| CwError::missing("ResourceARN"))?;
        let key = Self::alarm_of_arn(ctx, arn)?;
        let alarms = self.engine.alarms.lock();
        let a = alarms.get(&key).ok_or_else(|| CwError::ResourceNotFound(format!("{arn} not found")))?;
        Ok(json!({"Tags": a.tags.iter().map(|(k, v)| json!({"Key": k, "Value": v})).collect::<Vec<_>>()}))
    }
}
