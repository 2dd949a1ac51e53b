//! PutMetricAlarm and PutCompositeAlarm: AWS's checks and messages, the configuration
//! normalised as DescribeAlarms echoes it, create-or-replace (an update keeps the state
//! and the tags), a ConfigurationUpdate history item, and the alarm handed to the engine
//! (a metric alarm is evaluated at the end of each period; a composite one at once).
//! <https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_PutMetricAlarm.html>
//! <https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_PutCompositeAlarm.html>

use crate::alarm::{Alarm, AlarmKey};
use crate::engine::initial_state;
use crate::errors::{CwError, CwResult};
use crate::put::dimensions;
use crate::rule;
use crate::service::{check_len, list, s, CloudWatchService, UNITS};
use crate::stats::{percentile_of, BASIC};
use nimbus_core::RequestContext;
use serde_json::{json, Map, Value};

const OPERATORS: [&str; 4] = ["GreaterThanOrEqualToThreshold", "GreaterThanThreshold", "LessThanThreshold", "LessThanOrEqualToThreshold"];
const BAND_OPERATORS: [&str; 3] = ["LessThanLowerOrGreaterThanUpperThreshold", "LessThanLowerThreshold", "GreaterThanUpperThreshold"];
const TREAT_MISSING: [&str; 4] = ["breaching", "notBreaching", "ignore", "missing"];
const ACTION_LISTS: [&str; 3] = ["AlarmActions", "OKActions", "InsufficientDataActions"];

fn int(input: &Value, member: &str) -> CwResult<Option<i64>> {
    match input.get(member) {
        None => Ok(None),
        Some(v) => match v.as_i64().or_else(|| v.as_str().and_then(|s| s.parse().ok())) {
            Some(n) => Ok(Some(n)),
            None => Err(CwError::invalid(format!("The value {v} for parameter {member} is invalid."))),
        },
    }
}

/// Periods alarms accept: 10, 20, 30 and multiples of 60.
fn check_period(p: i64, what: &str) -> CwResult<()> {
    if matches!(p, 10 | 20 | 30) || (p > 0 && p % 60 == 0) {
        Ok(())
    } else {
        Err(CwError::invalid(format!("The parameter {what} must be 10, 20, 30 or a multiple of 60.")))
    }
}

/// The three action lists, checked: at most 5 each, SNS topic or Lambda function ARNs.
fn actions(input: &Value, out: &mut Map<String, Value>) -> CwResult<()> {
    for member in ACTION_LISTS {
        let arns = list(input, member);
        if arns.len() > 5 {
            return Err(CwError::invalid(format!("The collection {member} must not have a size greater than 5.")));
        }
        let mut kept = Vec::new();
        for arn in arns {
            let arn = arn.as_str().unwrap_or_default();
            check_len(arn, 1024, member)?;
            let parts: Vec<&str> = arn.splitn(6, ':').collect();
            if parts.len() < 6 || parts[0] != "arn" {
                return Err(CwError::validation(format!("Invalid arn syntax: {arn}")));
            }
            match parts[2] {
                "sns" | "lambda" => {}
                other => return Err(CwError::NotSupported(format!("Alarm actions on {other} ({arn})"))),
            }
            if !kept.contains(&arn) {
                kept.push(arn);
            }
        }
        out.insert(member.into(), Value::from(kept));
    }
    Ok(())
}

fn tags(input: &Value) -> CwResult<Vec<(String, String)>> {
    let given = list(input, "Tags");
    if given.len() > 50 {
        return Err(CwError::invalid("The collection Tags must not have a size greater than 50."));
    }
    let mut out: Vec<(String, String)> = Vec::new();
    for (i, t) in given.iter().enumerate() {
        let k = s(t, "Key").ok_or_else(|| CwError::missing(&format!("Tags.member.{}.Key", i + 1)))?;
        let v = s(t, "Value").ok_or_else(|| CwError::missing(&format!("Tags.member.{}.Value", i + 1)))?;
        check_len(k, 128, &format!("Tags.member.{}.Key", i + 1))?;
        if v.chars().count() > 256 {
            return Err(CwError::invalid(format!("The parameter Tags.member.{}.Value must be between 0 and 256 characters long.", i + 1)));
        }
        out.retain(|(ok, _)| ok != k);
        out.push((k.to_string(), v.to_string()));
    }
    Ok(out)
}

/// The Metrics of a metric math alarm, checked and normalised.
fn metric_queries(queries: &[Value]) -> CwResult<Vec<Value>> {
    if queries.len() > 10 {
        return Err(CwError::invalid("The collection Metrics must not have a size greater than 10."));
    }
    let mut ids: Vec<&str> = Vec::new();
    let mut out = Vec::new();
    for (i, q) in queries.iter().enumerate() {
        let at = format!("Metrics.member.{}.", i + 1);
        let id = s(q, "Id").ok_or_else(|| CwError::missing(&format!("{at}Id")))?;
        if id.is_empty() || !id.starts_with(|c: char| c.is_ascii_lowercase()) || !id.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
            return Err(CwError::invalid(format!("The value {id} for parameter {at}Id is invalid.")));
        }
        if ids.contains(&id) {
            return Err(CwError::validation("Invalid metrics list"));
        }
        ids.push(id);
        let mut n = Map::new();
        n.insert("Id".into(), Value::from(id));
        match (q.get("MetricStat"), s(q, "Expression")) {
            (Some(ms), None) => {
                let metric = ms.get("Metric").ok_or_else(|| CwError::missing(&format!("{at}MetricStat.Metric")))?;
                let name = s(metric, "MetricName").ok_or_else(|| CwError::missing(&format!("{at}MetricStat.Metric.MetricName")))?;
                let namespace = s(metric, "Namespace").ok_or_else(|| CwError::missing(&format!("{at}MetricStat.Metric.Namespace")))?;
                let dims = dimensions(metric, &format!("{at}MetricStat.Metric."))?;
                let period = int(ms, "Period")?.ok_or_else(|| CwError::missing(&format!("{at}MetricStat.Period")))?;
                check_period(period, &format!("{at}MetricStat.Period"))?;
                let stat = s(ms, "Stat").ok_or_else(|| CwError::missing(&format!("{at}MetricStat.Stat")))?;
                if !BASIC.contains(&stat) && percentile_of(stat).is_none() {
                    return Err(CwError::validation("Invalid metrics list"));
                }
                let mut stat_json = json!({
                    "Metric": {"Namespace": namespace, "MetricName": name, "Dimensions": dims.iter().map(|(k, v)| json!({"Name": k, "Value": v})).collect::<Vec<_>>()},
                    "Period": period,
                    "Stat": stat,
                });
                if let Some(u) = s(ms, "Unit") {
                    if !UNITS.contains(&u) {
                        return Err(CwError::invalid(format!("The value {u} for parameter {at}MetricStat.Unit is invalid.")));
                    }
                    stat_json["Unit"] = Value::from(u);
                }
                n.insert("MetricStat".into(), stat_json);
            }
            (None, Some(e)) => {
                check_len(e, 1024, &format!("{at}Expression"))?;
                n.insert("Expression".into(), Value::from(e));
                if let Some(p) = int(q, "Period")? {
                    check_period(p, &format!("{at}Period"))?;
                    n.insert("Period".into(), Value::from(p));
                }
            }
            _ => return Err(CwError::validation("Invalid metrics list")),
        }
        if let Some(l) = s(q, "Label") {
            n.insert("Label".into(), Value::from(l));
        }
        if let Some(r) = q.get("ReturnData").and_then(Value::as_bool) {
            n.insert("ReturnData".into(), Value::from(r));
        }
        if q.get("AccountId").is_some() {
            return Err(CwError::NotSupported("Cross-account metric math alarms (AccountId)".into()));
        }
        out.push(Value::Object(n));
    }
    if out.iter().filter(|q| q.get("ReturnData").and_then(Value::as_bool) != Some(false)).count() != 1 {
        return Err(CwError::validation("Exactly one element of the metrics list should return data."));
    }
    if !out.iter().any(|q| q.get("MetricStat").is_some()) {
        return Err(CwError::validation("Invalid metrics list"));
    }
    Ok(out)
}

impl CloudWatchService {
    pub(crate) async fn put_metric_alarm(&self, ctx: &RequestContext, input: &Value) -> CwResult<Value> {
        let name = s(input, "AlarmName").ok_or_else(|| CwError::missing("AlarmName"))?;
        check_len(name, 255, "AlarmName")?;
        for m in ["EvaluationCriteria", "EvaluationInterval"] {
            if input.get(m).is_some() {
                return Err(CwError::NotSupported(format!("PutMetricAlarm's {m} (PromQL alarms)")));
            }
        }
        if input.get("ThresholdMetricId").is_some() {
            return Err(CwError::NotSupported("Anomaly detection alarms (ThresholdMetricId)".into()));
        }
        let mut c = Map::new();
        c.insert("AlarmName".into(), Value::from(name));
        if let Some(d) = s(input, "AlarmDescription") {
            if d.chars().count() > 1024 {
                return Err(CwError::invalid("The parameter AlarmDescription must be between 0 and 1024 characters long."));
            }
            c.insert("AlarmDescription".into(), Value::from(d));
        }
        c.insert("ActionsEnabled".into(), Value::from(input.get("ActionsEnabled").and_then(Value::as_bool).unwrap_or(true)));
        actions(input, &mut c)?;
        let n = int(input, "EvaluationPeriods")?.ok_or_else(|| CwError::missing("EvaluationPeriods"))?;
        if n < 1 {
            return Err(CwError::invalid(format!("The value {n} for parameter EvaluationPeriods is invalid.")));
        }
        let op = s(input, "ComparisonOperator").ok_or_else(|| CwError::missing("ComparisonOperator"))?;
        if BAND_OPERATORS.contains(&op) {
            return Err(CwError::NotSupported(format!("Anomaly detection alarms (ComparisonOperator {op})")));
        }
        if !OPERATORS.contains(&op) {
            return Err(CwError::invalid(format!("The value {op} for parameter ComparisonOperator is invalid.")));
        }
        let threshold = match input.get("Threshold") {
            Some(t) => crate::service::num(t, "Threshold")?,
            None => return Err(CwError::validation("Threshold must not be null")),
        };
        let period = match list(input, "Metrics") {
            [] => {
                let metric_name = s(input, "MetricName").ok_or_else(|| CwError::validation("MetricName must not be null"))?;
                check_len(metric_name, 255, "MetricName")?;
                let namespace = s(input, "Namespace").ok_or_else(|| CwError::validation("Namespace must not be null"))?;
                check_len(namespace, 255, "Namespace")?;
                c.insert("MetricName".into(), Value::from(metric_name));
                c.insert("Namespace".into(), Value::from(namespace));
                match (s(input, "Statistic"), s(input, "ExtendedStatistic")) {
                    (Some(_), Some(_)) => return Err(CwError::combination("The parameters Statistic and ExtendedStatistic are mutually exclusive and you have specified both.")),
                    (None, None) => return Err(CwError::validation("Statistic or ExtendedStatistic must be set")),
                    (Some(st), None) => {
                        if !BASIC.contains(&st) {
                            return Err(CwError::invalid(format!("The value {st} for parameter Statistic is invalid.")));
                        }
                        c.insert("Statistic".into(), Value::from(st));
                    }
                    (None, Some(ext)) => {
                        if percentile_of(ext).is_none() {
                            if ext.starts_with(['t', 'w', 'P', 'I']) {
                                return Err(CwError::NotSupported(format!("The extended statistic {ext}")));
                            }
                            return Err(CwError::invalid(format!("The value {ext} for parameter ExtendedStatistic is invalid.")));
                        }
                        c.insert("ExtendedStatistic".into(), Value::from(ext));
                    }
                }
                let dims = dimensions(input, "")?;
                c.insert("Dimensions".into(), Value::from(dims.iter().map(|(k, v)| json!({"Name": k, "Value": v})).collect::<Vec<_>>()));
                let period = int(input, "Period")?.ok_or_else(|| CwError::validation("Period must not be null"))?;
                check_period(period, "Period")?;
                c.insert("Period".into(), Value::from(period));
                if let Some(u) = s(input, "Unit") {
                    if !UNITS.contains(&u) {
                        return Err(CwError::invalid(format!("The value {u} for parameter Unit is invalid.")));
                    }
                    c.insert("Unit".into(), Value::from(u));
                }
                period
            }
            queries => {
                for m in ["MetricName", "Namespace", "Dimensions", "Period", "Statistic", "ExtendedStatistic", "Unit"] {
                    if input.get(m).is_some() {
                        return Err(CwError::validation(format!("{m} should not be set if list of Metrics is set.")));
                    }
                }
                let queries = metric_queries(queries)?;
                // The expressions must evaluate (ids known, functions nimbus has): tried on an empty range.
                let probe = json!({"MetricDataQueries": queries, "StartTime": 0, "EndTime": 60});
                crate::read::metric_data(&self.store, &ctx.account_id, &ctx.region, &probe, true).await.map_err(|e| match e {
                    CwError::InvalidParameterValue(m) | CwError::InvalidParameterCombination(m) => CwError::validation(m),
                    other => other,
                })?;
                let period = queries.iter().find_map(|q| q["MetricStat"]["Period"].as_i64()).unwrap_or(60);
                c.insert("Metrics".into(), Value::from(queries));
                period
            }
        };
        c.insert("EvaluationPeriods".into(), Value::from(n));
        let limit = if period < 3600 { 86_400 } else { 604_800 };
        if period * n > limit {
            let span = if limit == 86_400 { "a day" } else { "7 days" };
            return Err(CwError::validation(format!("Metrics cannot be checked across more than {span} (EvaluationPeriods * Period must be <= {limit})")));
        }
        if let Some(m) = int(input, "DatapointsToAlarm")? {
            if m < 1 {
                return Err(CwError::invalid(format!("The value {m} for parameter DatapointsToAlarm is invalid.")));
            }
            if m > n {
                return Err(CwError::validation("DatapointsToAlarm must be less than or equal to EvaluationPeriods"));
            }
            c.insert("DatapointsToAlarm".into(), Value::from(m));
        }
        c.insert("Threshold".into(), Value::from(threshold));
        c.insert("ComparisonOperator".into(), Value::from(op));
        if let Some(t) = s(input, "TreatMissingData") {
            if !TREAT_MISSING.contains(&t) {
                return Err(CwError::validation(format!("Option unknown for TreatMissingData: {t}")));
            }
            c.insert("TreatMissingData".into(), Value::from(t));
        }
        if let Some(e) = s(input, "EvaluateLowSampleCountPercentile") {
            if e != "evaluate" && e != "ignore" {
                return Err(CwError::validation(format!("Option unknown for EvaluateLowSampleCountPercentile: {e}")));
            }
            if !c.contains_key("ExtendedStatistic") {
                return Err(CwError::validation("EvaluateLowSampleCountPercentile can only be used with percentile statistics"));
            }
            c.insert("EvaluateLowSampleCountPercentile".into(), Value::from(e));
        }
        let tags = tags(input)?;
        let key: AlarmKey = (ctx.account_id.clone(), ctx.region.clone(), name.to_string());
        self.save(key, false, c, tags, Some(period)).await?;
        self.store.barrier().await?;
        Ok(json!({}))
    }

    pub(crate) async fn put_composite_alarm(&self, ctx: &RequestContext, input: &Value) -> CwResult<Value> {
        let name = s(input, "AlarmName").ok_or_else(|| CwError::missing("AlarmName"))?;
        check_len(name, 255, "AlarmName")?;
        let text = s(input, "AlarmRule").ok_or_else(|| CwError::missing("AlarmRule"))?;
        check_len(text, 10240, "AlarmRule")?;
        let parsed = rule::parse(text).map_err(|e| CwError::validation(format!("Error in alarm rule: {e}")))?;
        let (account, region) = (ctx.account_id.as_str(), ctx.region.as_str());
        {
            let alarms = self.engine.alarms.lock();
            let missing: Vec<String> = parsed
                .alarms()
                .into_iter()
                .filter(|n| rule::name_of(n, account, region).is_none_or(|n| !alarms.contains_key(&(account.to_string(), region.to_string(), n.to_string()))))
                .collect();
            if !missing.is_empty() {
                return Err(CwError::validation(format!("Could not save the composite alarm as alarms [{}] in the alarm rule do not exist", missing.join(", "))));
            }
            // A rule that (through other composite alarms) names this alarm is a cycle.
            let mut stack: Vec<String> = parsed.alarms().iter().filter_map(|n| rule::name_of(n, account, region)).map(str::to_string).collect();
            let mut seen: Vec<String> = Vec::new();
            while let Some(n) = stack.pop() {
                if n == name {
                    return Err(CwError::validation("Could not save the composite alarm as the alarm rule would create a cycle"));
                }
                if seen.contains(&n) {
                    continue;
                }
                if let Some(r) = alarms.get(&(account.to_string(), region.to_string(), n.clone())).and_then(|a| a.config.get("AlarmRule")).and_then(Value::as_str).and_then(|r| rule::parse(r).ok()) {
                    stack.extend(r.alarms().iter().filter_map(|x| rule::name_of(x, account, region)).map(str::to_string));
                }
                seen.push(n);
            }
        }
        let mut c = Map::new();
        c.insert("AlarmName".into(), Value::from(name));
        if let Some(d) = s(input, "AlarmDescription") {
            if d.chars().count() > 1024 {
                return Err(CwError::invalid("The parameter AlarmDescription must be between 0 and 1024 characters long."));
            }
            c.insert("AlarmDescription".into(), Value::from(d));
        }
        c.insert("ActionsEnabled".into(), Value::from(input.get("ActionsEnabled").and_then(Value::as_bool).unwrap_or(true)));
        actions(input, &mut c)?;
        c.insert("AlarmRule".into(), Value::from(text));
        if let Some(sup) = s(input, "ActionsSuppressor") {
            check_len(sup, 1600, "ActionsSuppressor")?;
            if rule::name_of(sup, account, region).is_none_or(|n| self.engine.arn_of(account, region, n).is_none()) {
                return Err(CwError::validation(format!("Could not save the composite alarm as the actions suppressor alarm {sup} does not exist")));
            }
            c.insert("ActionsSuppressor".into(), Value::from(sup));
            c.insert("ActionsSuppressorWaitPeriod".into(), Value::from(int(input, "ActionsSuppressorWaitPeriod")?.unwrap_or(60)));
            c.insert("ActionsSuppressorExtensionPeriod".into(), Value::from(int(input, "ActionsSuppressorExtensionPeriod")?.unwrap_or(60)));
        } else if input.get("ActionsSuppressorWaitPeriod").is_some() || input.get("ActionsSuppressorExtensionPeriod").is_some() {
            return Err(CwError::validation("ActionsSuppressorWaitPeriod and ActionsSuppressorExtensionPeriod can only be set with ActionsSuppressor"));
        }
        let tags = tags(input)?;
        let key: AlarmKey = (account.to_string(), region.to_string(), name.to_string());
        self.save(key.clone(), true, c, tags, None).await?;
        if let Some((v, reason, data)) = self.engine.composite_outcome(&key, None) {
            self.engine.set_state(&key, v, reason, Some(data), None).await;
        }
        self.store.barrier().await?;
        Ok(json!({}))
    }

    /// Creates or replaces an alarm; `period`: a metric alarm's evaluation period.
    async fn save(&self, key: AlarmKey, composite: bool, config: Map<String, Value>, tags: Vec<(String, String)>, period: Option<i64>) -> CwResult<()> {
        let now = self.clock.now_ms() as i64;
        let (alarm, old, pending) = {
            let mut alarms = self.engine.alarms.lock();
            let old = alarms.get(&key).cloned();
            if let Some(o) = &old {
                if o.composite != composite {
                    let kind = if o.composite { "composite" } else { "metric" };
                    return Err(CwError::validation(format!("An alarm named {} already exists as a {kind} alarm.", key.2)));
                }
            }
            let alarm = Alarm {
                account: key.0.clone(),
                region: key.1.clone(),
                name: key.2.clone(),
                composite,
                config,
                config_updated_ms: now,
                state: old.as_ref().map(|o| o.state.clone()).unwrap_or_else(|| initial_state(now)),
                // An update ignores Tags (TagResource changes them).
                tags: old.as_ref().map(|o| o.tags.clone()).unwrap_or(tags),
                metric_id: old.as_ref().map(|o| o.metric_id.clone()).unwrap_or_else(nimbus_core::ids::uuid),
                suppressed: old.as_ref().and_then(|o| o.suppressed.clone()),
            };
            alarms.insert(key.clone(), alarm.clone());
            let pending = self.store.apply_alarms(vec![crate::store::AlarmChange::Put { account: key.0.clone(), region: key.1.clone(), name: key.2.clone(), doc: alarm.to_doc() }]);
            (alarm, old, pending)
        };
        pending.wait().await.map_err(CwError::Internal)?;
        let data = match &old {
            None => json!({"type": "Create", "version": "1.0", "createdAlarm": alarm.history_config()}),
            Some(o) => json!({"type": "Update", "version": "1.0", "originalUpdatedAlarm": o.history_config(), "updatedAlarm": alarm.history_config()}),
        };
        let verb = if old.is_some() { "updated" } else { "created" };
        self.engine.record(&alarm, "ConfigurationUpdate", format!("Alarm \"{}\" {verb}", alarm.name), data);
        if let Some(p) = period {
            self.engine.schedule(&key, p);
        }
        Ok(())
    }
}
