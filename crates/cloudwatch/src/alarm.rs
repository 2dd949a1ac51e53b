//! One alarm as nimbus keeps it: its configuration (the PutMetricAlarm / PutCompositeAlarm
//! members AWS echoes in DescribeAlarms, already checked and normalised), its state, tags,
//! and the document it is stored as in `cloudwatch.db`. Also the typed view the evaluator
//! reads (`Spec`) and the shapes DescribeAlarms returns.
//! <https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_MetricAlarm.html>
//! <https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_CompositeAlarm.html>

use crate::service::secs;
use serde_json::{json, Map, Value};

/// `(account, region, name)`.
pub type AlarmKey = (String, String, String);

pub const OK: &str = "OK";
pub const ALARM: &str = "ALARM";
pub const INSUFFICIENT: &str = "INSUFFICIENT_DATA";

#[derive(Debug, Clone, PartialEq)]
pub struct State {
    pub value: String,
    pub reason: String,
    /// JSON text, as AWS returns StateReasonData.
    pub reason_data: Option<String>,
    pub updated_ms: i64,
    pub transitioned_ms: i64,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Alarm {
    pub account: String,
    pub region: String,
    pub name: String,
    pub composite: bool,
    /// The configuration members (MetricAlarm or CompositeAlarm shape, without the ARN,
    /// state and timestamps).
    pub config: Map<String, Value>,
    pub config_updated_ms: i64,
    pub state: State,
    pub tags: Vec<(String, String)>,
    /// The id a single-metric alarm's metric has in the Lambda alarm event.
    pub metric_id: String,
    /// A composite alarm's `(ActionsSuppressedBy, ActionsSuppressedReason)`.
    pub suppressed: Option<(String, String)>,
}

pub fn alarm_arn(account: &str, region: &str, name: &str) -> String {
    format!("arn:aws:cloudwatch:{region}:{account}:alarm:{name}")
}

impl Alarm {
    pub fn key(&self) -> AlarmKey {
        (self.account.clone(), self.region.clone(), self.name.clone())
    }

    pub fn arn(&self) -> String {
        alarm_arn(&self.account, &self.region, &self.name)
    }

    pub fn actions_enabled(&self) -> bool {
        self.config.get("ActionsEnabled").and_then(Value::as_bool).unwrap_or(true)
    }

    /// The actions for a state (`AlarmActions`, `OKActions`, `InsufficientDataActions`).
    pub fn actions_for(&self, state: &str) -> Vec<String> {
        let member = match state {
            ALARM => "AlarmActions",
            OK => "OKActions",
            _ => "InsufficientDataActions",
        };
        self.config.get(member).and_then(Value::as_array).map(|a| a.iter().filter_map(Value::as_str).map(str::to_string).collect()).unwrap_or_default()
    }

    pub fn all_actions(&self) -> Vec<String> {
        [ALARM, OK, INSUFFICIENT].iter().flat_map(|s| self.actions_for(s)).collect()
    }

    /// The alarm as DescribeAlarms returns it.
    pub fn describe(&self) -> Value {
        let mut out = self.config.clone();
        out.insert("AlarmArn".into(), Value::from(self.arn()));
        out.insert("AlarmConfigurationUpdatedTimestamp".into(), secs(self.config_updated_ms));
        out.insert("StateValue".into(), Value::from(self.state.value.clone()));
        out.insert("StateReason".into(), Value::from(self.state.reason.clone()));
        if let Some(d) = &self.state.reason_data {
            out.insert("StateReasonData".into(), Value::from(d.clone()));
        }
        out.insert("StateUpdatedTimestamp".into(), secs(self.state.updated_ms));
        out.insert("StateTransitionedTimestamp".into(), secs(self.state.transitioned_ms));
        if self.composite {
            let (by, reason) = self.suppressed.clone().unwrap_or_else(|| ("None".into(), String::new()));
            out.insert("ActionsSuppressedBy".into(), Value::from(by));
            if !reason.is_empty() {
                out.insert("ActionsSuppressedReason".into(), Value::from(reason));
            }
        }
        Value::Object(out)
    }

    /// The short form DescribeAlarms returns with ChildrenOfAlarmName / ParentsOfAlarmName.
    pub fn describe_brief(&self) -> Value {
        json!({
            "AlarmName": self.name,
            "AlarmArn": self.arn(),
            "StateValue": self.state.value,
            "StateUpdatedTimestamp": secs(self.state.updated_ms),
        })
    }

    /// The configuration as the history's ConfigurationUpdate items show it (camelCase
    /// members, timestamps as ISO 8601).
    pub fn history_config(&self) -> Value {
        let mut out = Map::new();
        for (k, v) in &self.config {
            out.insert(camel(k), camel_keys(v));
        }
        out.insert("alarmArn".into(), Value::from(self.arn()));
        out.insert("alarmConfigurationUpdatedTimestamp".into(), Value::from(aws_time(self.config_updated_ms)));
        Value::Object(out)
    }

    pub fn to_doc(&self) -> String {
        json!({
            "account": self.account,
            "region": self.region,
            "name": self.name,
            "composite": self.composite,
            "config": self.config,
            "config_updated_ms": self.config_updated_ms,
            "state": {
                "value": self.state.value,
                "reason": self.state.reason,
                "reason_data": self.state.reason_data,
                "updated_ms": self.state.updated_ms,
                "transitioned_ms": self.state.transitioned_ms,
            },
            "tags": self.tags.iter().map(|(k, v)| json!([k, v])).collect::<Vec<_>>(),
            "metric_id": self.metric_id,
            "suppressed": self.suppressed.as_ref().map(|(a, b)| json!([a, b])),
        })
        .to_string()
    }

    pub fn from_doc(text: &str) -> Option<Alarm> {
        let d: Value = serde_json::from_str(text).ok()?;
        let st = d.get("state")?;
        let pair = |v: &Value| -> Option<(String, String)> { Some((v.get(0)?.as_str()?.to_string(), v.get(1)?.as_str()?.to_string())) };
        Some(Alarm {
            account: d.get("account")?.as_str()?.to_string(),
            region: d.get("region")?.as_str()?.to_string(),
            name: d.get("name")?.as_str()?.to_string(),
            composite: d.get("composite")?.as_bool()?,
            config: d.get("config")?.as_object()?.clone(),
            config_updated_ms: d.get("config_updated_ms")?.as_i64()?,
            state: State {
                value: st.get("value")?.as_str()?.to_string(),
                reason: st.get("reason")?.as_str()?.to_string(),
                reason_data: st.get("reason_data").and_then(Value::as_str).map(str::to_string),
                updated_ms: st.get("updated_ms")?.as_i64()?,
                transitioned_ms: st.get("transitioned_ms")?.as_i64()?,
            },
            tags: d.get("tags").and_then(Value::as_array).map(|a| a.iter().filter_map(pair).collect()).unwrap_or_default(),
            metric_id: d.get("metric_id").and_then(Value::as_str).unwrap_or_default().to_string(),
            suppressed: d.get("suppressed").and_then(pair),
        })
    }

    /// The typed view of a metric alarm's configuration.
    pub fn spec(&self) -> Option<Spec> {
        if self.composite {
            return None;
        }
        let c = &self.config;
        let int = |m: &str| c.get(m).and_then(Value::as_i64);
        let n = int("EvaluationPeriods")?;
        let source = match c.get("Metrics").and_then(Value::as_array) {
            Some(queries) => {
                let period = queries.iter().find_map(|q| q.get("MetricStat").and_then(|m| m.get("Period")).and_then(Value::as_i64)).or_else(|| queries.iter().find_map(|q| q.get("Period").and_then(Value::as_i64)))?;
                Source::Math { queries: queries.clone(), period }
            }
            None => Source::Single {
                metric: json!({"Namespace": c.get("Namespace")?, "MetricName": c.get("MetricName")?, "Dimensions": c.get("Dimensions").cloned().unwrap_or(json!([]))}),
                stat: c.get("Statistic").or_else(|| c.get("ExtendedStatistic"))?.as_str()?.to_string(),
                extended: c.get("ExtendedStatistic").is_some(),
                period: int("Period")?,
                unit: c.get("Unit").and_then(Value::as_str).map(str::to_string),
            },
        };
        Some(Spec {
            source,
            n,
            m: int("DatapointsToAlarm").unwrap_or(n),
            threshold: c.get("Threshold").and_then(Value::as_f64)?,
            operator: c.get("ComparisonOperator")?.as_str()?.to_string(),
            // "Alarms that evaluate metrics in the AWS/DynamoDB namespace always ignore
            // missing data even if you choose a different option" (PutMetricAlarm).
            treat_missing: if c.get("Namespace").and_then(Value::as_str) == Some("AWS/DynamoDB") {
                "ignore".to_string()
            } else {
                c.get("TreatMissingData").and_then(Value::as_str).unwrap_or("missing").to_string()
            },
        })
    }
}

/// What a metric alarm watches.
#[derive(Debug, Clone, PartialEq)]
pub enum Source {
    Single { metric: Value, stat: String, extended: bool, period: i64, unit: Option<String> },
    /// Metric math: the Metrics queries; `period`: their MetricStat period.
    Math { queries: Vec<Value>, period: i64 },
}

#[derive(Debug, Clone, PartialEq)]
pub struct Spec {
    pub source: Source,
    pub n: i64,
    pub m: i64,
    pub threshold: f64,
    pub operator: String,
    pub treat_missing: String,
}

impl Spec {
    pub fn period(&self) -> i64 {
        match &self.source {
            Source::Single { period, .. } | Source::Math { period, .. } => *period,
        }
    }
}

/// `AlarmName` → `alarmName`.
fn camel(k: &str) -> String {
    let mut c = k.chars();
    match c.next() {
        Some(f) => f.to_ascii_lowercase().to_string() + c.as_str(),
        None => String::new(),
    }
}

fn camel_keys(v: &Value) -> Value {
    match v {
        Value::Object(m) => Value::Object(m.iter().map(|(k, v)| (camel(k), camel_keys(v))).collect()),
        Value::Array(a) => Value::Array(a.iter().map(camel_keys).collect()),
        other => other.clone(),
    }
}

/// AWS's timestamps in alarm documents: `2026-12-04T16:55:00.123+0000`.
pub fn aws_time(ms: i64) -> String {
    let iso = nimbus_core::time::iso8601_ms(ms.max(0) as u64);
    // `…T16:55:00.123Z` → `…T16:55:00.123+0000`
    match iso.strip_suffix('Z') {
        Some(head) => format!("{head}+0000"),
        None => iso,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn documents_round_trip() {
        let a = Alarm {
            account: "111122223333".into(),
            region: "us-east-1".into(),
            name: "a".into(),
            composite: false,
            config: json!({"AlarmName": "a", "EvaluationPeriods": 2, "Threshold": 1.5, "ComparisonOperator": "GreaterThanThreshold", "Namespace": "N", "MetricName": "M", "Statistic": "Sum", "Period": 60, "Dimensions": []})
                .as_object()
                .cloned()
                .unwrap_or_default(),
            config_updated_ms: 1000,
            state: State { value: OK.into(), reason: "r".into(), reason_data: Some("{}".into()), updated_ms: 5, transitioned_ms: 4 },
            tags: vec![("k".into(), "v".into())],
            metric_id: "id".into(),
            suppressed: None,
        };
        assert_eq!(Alarm::from_doc(&a.to_doc()), Some(a.clone()));
        let spec = a.spec().expect("spec");
        assert_eq!((spec.n, spec.m, spec.period(), spec.treat_missing.as_str()), (2, 2, 60, "missing"));
        assert_eq!(aws_time(1_000), "1970-01-01T00:00:01.000+0000");
        let mut ddb = a.clone();
        ddb.config.insert("Namespace".into(), Value::from("AWS/DynamoDB"));
        ddb.config.insert("TreatMissingData".into(), Value::from("breaching"));
        assert_eq!(ddb.spec().map(|s| s.treat_missing), Some("ignore".to_string()));
    }
}
