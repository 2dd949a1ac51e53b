//! What an alarm's state change sends: the SNS notification (AWS's alarm message JSON,
//! Subject `ALARM: "<name>" in <Region Name>`), the Lambda alarm event (`source`
//! `aws.cloudwatch`, `alarmData`), and the EventBridge "CloudWatch Alarm State Change"
//! event, all built from the alarm and its old and new states.
//! <https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/AlarmThatSendsEmail.html#Lambda-action-payload>
//! <https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/cloudwatch-and-eventbridge.html>

use crate::alarm::{aws_time, Alarm, State};
use serde_json::{json, Map, Value};

/// The long names AWS writes in alarm notifications (`Region`, the Subject).
pub fn region_name(region: &str) -> String {
    let name = match region {
        "us-east-1" => "US East (N. Virginia)",
        "us-east-2" => "US East (Ohio)",
        "us-west-1" => "US West (N. California)",
        "us-west-2" => "US West (Oregon)",
        "af-south-1" => "Africa (Cape Town)",
        "ap-east-1" => "Asia Pacific (Hong Kong)",
        "ap-south-1" => "Asia Pacific (Mumbai)",
        "ap-south-2" => "Asia Pacific (Hyderabad)",
        "ap-northeast-1" => "Asia Pacific (Tokyo)",
        "ap-northeast-2" => "Asia Pacific (Seoul)",
        "ap-northeast-3" => "Asia Pacific (Osaka)",
        "ap-southeast-1" => "Asia Pacific (Singapore)",
        "ap-southeast-2" => "Asia Pacific (Sydney)",
        "ap-southeast-3" => "Asia Pacific (Jakarta)",
        "ap-southeast-4" => "Asia Pacific (Melbourne)",
        "ca-central-1" => "Canada (Central)",
        "ca-west-1" => "Canada West (Calgary)",
        "eu-central-1" => "EU (Frankfurt)",
        "eu-central-2" => "EU (Zurich)",
        "eu-west-1" => "EU (Ireland)",
        "eu-west-2" => "EU (London)",
        "eu-west-3" => "EU (Paris)",
        "eu-north-1" => "EU (Stockholm)",
        "eu-south-1" => "EU (Milan)",
        "eu-south-2" => "EU (Spain)",
        "il-central-1" => "Israel (Tel Aviv)",
        "me-south-1" => "Middle East (Bahrain)",
        "me-central-1" => "Middle East (UAE)",
        "sa-east-1" => "South America (Sao Paulo)",
        other => return other.to_string(),
    };
    name.to_string()
}

/// The SNS Subject: `ALARM: "name" in US East (N. Virginia)`, within SNS's 100 characters.
pub fn subject(alarm: &Alarm) -> String {
    let s = format!("{}: \"{}\" in {}", alarm.state.value, alarm.name, region_name(&alarm.region));
    s.chars().take(100).collect()
}

fn dims_lower(dims: Option<&Value>) -> Value {
    let list = dims.and_then(Value::as_array).cloned().unwrap_or_default();
    Value::from(list.iter().map(|d| json!({"value": d.get("Value"), "name": d.get("Name")})).collect::<Vec<_>>())
}

fn strings(v: Option<&Value>) -> Value {
    v.cloned().unwrap_or_else(|| json!([]))
}

/// The notification message SNS carries for a metric or composite alarm.
pub fn sns_message(alarm: &Alarm, old: &State) -> String {
    let c = &alarm.config;
    let mut m = Map::new();
    m.insert("AlarmName".into(), Value::from(alarm.name.clone()));
    m.insert("AlarmDescription".into(), c.get("AlarmDescription").cloned().unwrap_or(Value::Null));
    m.insert("AWSAccountId".into(), Value::from(alarm.account.clone()));
    m.insert("AlarmConfigurationUpdatedTimestamp".into(), Value::from(aws_time(alarm.config_updated_ms)));
    m.insert("NewStateValue".into(), Value::from(alarm.state.value.clone()));
    m.insert("NewStateReason".into(), Value::from(alarm.state.reason.clone()));
    m.insert("StateChangeTime".into(), Value::from(aws_time(alarm.state.updated_ms)));
    m.insert("Region".into(), Value::from(region_name(&alarm.region)));
    m.insert("AlarmArn".into(), Value::from(alarm.arn()));
    m.insert("OldStateValue".into(), Value::from(old.value.clone()));
    m.insert("OKActions".into(), strings(c.get("OKActions")));
    m.insert("AlarmActions".into(), strings(c.get("AlarmActions")));
    m.insert("InsufficientDataActions".into(), strings(c.get("InsufficientDataActions")));
    if alarm.composite {
        m.insert("AlarmRule".into(), c.get("AlarmRule").cloned().unwrap_or(Value::Null));
    } else {
        m.insert("Trigger".into(), trigger(alarm));
    }
    Value::Object(m).to_string()
}

fn trigger(alarm: &Alarm) -> Value {
    let c = &alarm.config;
    let mut t = Map::new();
    if let Some(metrics) = c.get("Metrics").and_then(Value::as_array) {
        let list: Vec<Value> = metrics
            .iter()
            .map(|q| {
                let mut o = Map::new();
                if let Some(e) = q.get("Expression") {
                    o.insert("Expression".into(), e.clone());
                }
                o.insert("Id".into(), q.get("Id").cloned().unwrap_or(Value::Null));
                if let Some(l) = q.get("Label") {
                    o.insert("Label".into(), l.clone());
                }
                if let Some(ms) = q.get("MetricStat") {
                    let metric = ms.get("Metric").cloned().unwrap_or(Value::Null);
                    let mut stat = json!({
                        "Metric": {"Dimensions": dims_lower(metric.get("Dimensions")), "MetricName": metric.get("MetricName"), "Namespace": metric.get("Namespace")},
                        "Period": ms.get("Period"),
                        "Stat": ms.get("Stat"),
                    });
                    if let Some(u) = ms.get("Unit") {
                        stat["Unit"] = u.clone();
                    }
                    o.insert("MetricStat".into(), stat);
                }
                o.insert("ReturnData".into(), Value::from(q.get("ReturnData").and_then(Value::as_bool).unwrap_or(true)));
                Value::Object(o)
            })
            .collect();
        t.insert("Period".into(), alarm.spec().map(|s| Value::from(s.period())).unwrap_or(Value::Null));
        t.insert("EvaluationPeriods".into(), c.get("EvaluationPeriods").cloned().unwrap_or(Value::Null));
        if let Some(d) = c.get("DatapointsToAlarm") {
            t.insert("DatapointsToAlarm".into(), d.clone());
        }
        t.insert("ComparisonOperator".into(), c.get("ComparisonOperator").cloned().unwrap_or(Value::Null));
        t.insert("Threshold".into(), c.get("Threshold").cloned().unwrap_or(Value::Null));
        t.insert("TreatMissingData".into(), Value::from(treat_missing(alarm)));
        t.insert("EvaluateLowSampleCountPercentile".into(), Value::from(""));
        t.insert("Metrics".into(), Value::from(list));
        return Value::Object(t);
    }
    t.insert("MetricName".into(), c.get("MetricName").cloned().unwrap_or(Value::Null));
    t.insert("Namespace".into(), c.get("Namespace").cloned().unwrap_or(Value::Null));
    match (c.get("Statistic").and_then(Value::as_str), c.get("ExtendedStatistic")) {
        (Some(s), _) => {
            t.insert("StatisticType".into(), Value::from("Statistic"));
            t.insert("Statistic".into(), Value::from(s.to_ascii_uppercase()));
        }
        (None, e) => {
            t.insert("StatisticType".into(), Value::from("ExtendedStatistic"));
            t.insert("ExtendedStatistic".into(), e.cloned().unwrap_or(Value::Null));
        }
    }
    t.insert("Unit".into(), c.get("Unit").cloned().unwrap_or(Value::Null));
    t.insert("Dimensions".into(), dims_lower(c.get("Dimensions")));
    t.insert("Period".into(), c.get("Period").cloned().unwrap_or(Value::Null));
    t.insert("EvaluationPeriods".into(), c.get("EvaluationPeriods").cloned().unwrap_or(Value::Null));
    if let Some(d) = c.get("DatapointsToAlarm") {
        t.insert("DatapointsToAlarm".into(), d.clone());
    }
    t.insert("ComparisonOperator".into(), c.get("ComparisonOperator").cloned().unwrap_or(Value::Null));
    t.insert("Threshold".into(), c.get("Threshold").cloned().unwrap_or(Value::Null));
    t.insert("TreatMissingData".into(), Value::from(treat_missing(alarm)));
    t.insert("EvaluateLowSampleCountPercentile".into(), Value::from(c.get("EvaluateLowSampleCountPercentile").and_then(Value::as_str).unwrap_or("")));
    Value::Object(t)
}

/// The Trigger's TreatMissingData, as AWS writes it there: `- TreatMissingData: missing`.
fn treat_missing(alarm: &Alarm) -> String {
    format!("- TreatMissingData: {}", alarm.config.get("TreatMissingData").and_then(Value::as_str).unwrap_or("missing"))
}

fn state_json(s: &State) -> Value {
    let mut o = json!({"value": s.value, "reason": s.reason});
    if let Some(d) = &s.reason_data {
        o["reasonData"] = Value::from(d.clone());
    }
    o["timestamp"] = Value::from(aws_time(s.updated_ms));
    o
}

/// The `configuration` of the Lambda event and the EventBridge event.
fn configuration(alarm: &Alarm) -> Value {
    let c = &alarm.config;
    let mut o = Map::new();
    if let Some(d) = c.get("AlarmDescription") {
        o.insert("description".into(), d.clone());
    }
    if alarm.composite {
        o.insert("alarmRule".into(), c.get("AlarmRule").cloned().unwrap_or(Value::Null));
        for (k, v) in [("ActionsSuppressor", "actionsSuppressor"), ("ActionsSuppressorWaitPeriod", "actionsSuppressorWaitPeriod"), ("ActionsSuppressorExtensionPeriod", "actionsSuppressorExtensionPeriod")] {
            if let Some(x) = c.get(k) {
                o.insert(v.into(), x.clone());
            }
        }
        return Value::Object(o);
    }
    let metric_stat = |metric: &Value, period: Option<&Value>, stat: Option<&Value>, unit: Option<&Value>| {
        let dims: Map<String, Value> = metric.get("Dimensions").and_then(Value::as_array).map(|a| a.iter().filter_map(|d| Some((d.get("Name")?.as_str()?.to_string(), d.get("Value")?.clone()))).collect()).unwrap_or_default();
        let mut s = json!({"metric": {"namespace": metric.get("Namespace"), "name": metric.get("MetricName"), "dimensions": dims}, "period": period, "stat": stat});
        if let Some(u) = unit {
            s["unit"] = u.clone();
        }
        s
    };
    let metrics: Vec<Value> = match c.get("Metrics").and_then(Value::as_array) {
        Some(queries) => queries
            .iter()
            .map(|q| {
                let mut m = json!({"id": q.get("Id")});
                if let Some(ms) = q.get("MetricStat") {
                    m["metricStat"] = metric_stat(ms.get("Metric").unwrap_or(&Value::Null), ms.get("Period"), ms.get("Stat"), ms.get("Unit"));
                }
                if let Some(e) = q.get("Expression") {
                    m["expression"] = e.clone();
                }
                if let Some(l) = q.get("Label") {
                    m["label"] = l.clone();
                }
                m["returnData"] = Value::from(q.get("ReturnData").and_then(Value::as_bool).unwrap_or(true));
                m
            })
            .collect(),
        None => {
            let metric = json!({"Namespace": c.get("Namespace"), "MetricName": c.get("MetricName"), "Dimensions": c.get("Dimensions")});
            let stat = c.get("Statistic").or_else(|| c.get("ExtendedStatistic"));
            vec![json!({"id": alarm.metric_id, "metricStat": metric_stat(&metric, c.get("Period"), stat, c.get("Unit")), "returnData": true})]
        }
    };
    o.insert("metrics".into(), Value::from(metrics));
    Value::Object(o)
}

/// The alarm's `alarmData`: name, new and previous state, configuration.
fn alarm_data(alarm: &Alarm, old: &State) -> Value {
    json!({
        "alarmName": alarm.name,
        "state": state_json(&alarm.state),
        "previousState": state_json(old),
        "configuration": configuration(alarm),
    })
}

/// The event a Lambda alarm action receives.
pub fn lambda_event(alarm: &Alarm, old: &State) -> Value {
    json!({
        "source": "aws.cloudwatch",
        "alarmArn": alarm.arn(),
        "accountId": alarm.account,
        "time": aws_time(alarm.state.updated_ms),
        "region": alarm.region,
        "alarmData": alarm_data(alarm, old),
    })
}

/// PutEvents input for the "CloudWatch Alarm State Change" event on the default bus.
pub fn state_change_entries(alarm: &Alarm, old: &State) -> Value {
    json!({"Entries": [{
        "Source": "aws.cloudwatch",
        "DetailType": "CloudWatch Alarm State Change",
        "Resources": [alarm.arn()],
        "Detail": alarm_data(alarm, old).to_string(),
    }]})
}
