//! A metric alarm's evaluation, given the datapoints of its last `EvaluationPeriods`
//! periods: how many breach the threshold, how missing periods count (`TreatMissingData`),
//! whether M of N breach, and the StateReason / StateReasonData AWS writes for the result.
//! Pure: the engine reads the datapoints and applies the outcome.
//! <https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/AlarmThatSendsEmail.html#alarm-evaluation>
//! <https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/alarms-and-missing-data.html>

use crate::alarm::{aws_time, Source, Spec, ALARM, INSUFFICIENT, OK};
use std::collections::BTreeMap;

/// One period's value and, for single-metric alarms, its sample count.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Datapoint {
    pub value: f64,
    pub sample_count: Option<f64>,
}

/// An evaluation's outcome: the state and why.
#[derive(Debug, Clone, PartialEq)]
pub struct Outcome {
    pub state: &'static str,
    pub reason: String,
    pub reason_data: String,
}

/// Whether `value` breaches `threshold` under the comparison operator.
pub fn breaches(operator: &str, value: f64, threshold: f64) -> bool {
    match operator {
        "GreaterThanOrEqualToThreshold" => value >= threshold,
        "GreaterThanThreshold" => value > threshold,
        "LessThanThreshold" => value < threshold,
        "LessThanOrEqualToThreshold" => value <= threshold,
        _ => false,
    }
}

fn phrase(operator: &str) -> &'static str {
    match operator {
        "GreaterThanOrEqualToThreshold" => "greater than or equal to",
        "GreaterThanThreshold" => "greater than",
        "LessThanThreshold" => "less than",
        _ => "less than or equal to",
    }
}

/// A double as Java prints it (AWS's reasons and messages): `5.0`, `1.5`, `1.0E10`.
pub fn java_double(v: f64) -> String {
    if v == 0.0 {
        return "0.0".into();
    }
    let a = v.abs();
    if (1e-3..1e7).contains(&a) {
        let s = format!("{v}");
        if s.contains('.') {
            s
        } else {
            format!("{s}.0")
        }
    } else {
        let s = format!("{v:E}");
        match s.split_once('E') {
            Some((m, e)) if !m.contains('.') => format!("{m}.0E{e}"),
            _ => s,
        }
    }
}

/// `dd/MM/yy HH:mm:ss`, as AWS dates datapoints in a StateReason.
fn short_date(ms: i64) -> String {
    let iso = nimbus_core::time::iso8601(ms.max(0) as u64);
    // YYYY-MM-DDTHH:MM:SSZ
    format!("{}/{}/{} {}", &iso[8..10], &iso[5..7], &iso[2..4], &iso[11..19])
}

fn plural(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

/// Evaluates the periods starting at `start_ms`, `start_ms + period`, … (`spec.n` of them)
/// with `points` (period start → datapoint). `None`: `ignore` and every period missing
/// (the alarm keeps its state).
pub fn evaluate(spec: &Spec, start_ms: i64, now_ms: i64, points: &BTreeMap<i64, Datapoint>) -> Option<Outcome> {
    let period_ms = spec.period() * 1000;
    let n = spec.n.max(1) as usize;
    let slots: Vec<(i64, Option<Datapoint>)> = (0..n as i64).map(|i| start_ms + i * period_ms).map(|t| (t, points.get(&t).copied())).collect();
    let present: Vec<(i64, Datapoint)> = slots.iter().filter_map(|(t, d)| d.map(|d| (*t, d))).collect();
    let missing = n - present.len();
    let breaching: Vec<(i64, Datapoint)> = present.iter().copied().filter(|(_, d)| breaches(&spec.operator, d.value, spec.threshold)).collect();
    let good: Vec<(i64, Datapoint)> = present.iter().copied().filter(|(_, d)| !breaches(&spec.operator, d.value, spec.threshold)).collect();
    let (extra_bad, extra_good) = match spec.treat_missing.as_str() {
        "breaching" => (missing, 0),
        "notBreaching" => (0, missing),
        _ => (0, 0),
    };
    let bad_count = breaching.len() + extra_bad;
    let m = spec.m.clamp(1, n as i64) as usize;
    let state = if present.is_empty() && extra_bad + extra_good == 0 {
        if spec.treat_missing == "ignore" {
            return None;
        }
        INSUFFICIENT
    } else if bad_count >= m {
        ALARM
    } else {
        OK
    };
    let list = |pts: &[(i64, Datapoint)]| pts.iter().rev().map(|(t, d)| format!("{} ({})", java_double(d.value), short_date(*t))).collect::<Vec<_>>().join(", ");
    let threshold = java_double(spec.threshold);
    let op = phrase(&spec.operator);
    let reason = match state {
        INSUFFICIENT => format!("Insufficient Data: {} unknown.", plural(n, "datapoint was", "datapoints were")),
        _ if present.is_empty() => {
            let treated = if extra_bad > 0 { "Breaching" } else { "NonBreaching" };
            format!("Threshold Crossed: no datapoints were received for {} and {} treated as [{treated}].", plural(n, "period", "periods"), plural(missing, "missing datapoint was", "missing datapoints were"))
        }
        ALARM if n == 1 => format!("Threshold Crossed: 1 datapoint [{}] was {op} the threshold ({threshold}).", list(&breaching)),
        OK if n == 1 => format!("Threshold Crossed: 1 datapoint [{}] was not {op} the threshold ({threshold}).", list(&good)),
        ALARM => format!(
            "Threshold Crossed: {} out of the last {n} datapoints [{}] {} {op} the threshold ({threshold}) (minimum {} for OK -> ALARM transition).",
            breaching.len(),
            list(&breaching),
            if breaching.len() == 1 { "was" } else { "were" },
            plural(m, "datapoint", "datapoints")
        ),
        _ => format!(
            "Threshold Crossed: {} out of the last {n} datapoints [{}] {} not {op} the threshold ({threshold}) (minimum {} for ALARM -> OK transition).",
            good.len(),
            list(&good),
            if good.len() == 1 { "was" } else { "were" },
            plural(n - m + 1, "datapoint", "datapoints")
        ),
    };
    Some(Outcome { state, reason, reason_data: reason_data(spec, start_ms, now_ms, &slots) })
}

/// StateReasonData: `{"version":"1.0","queryDate":…,"startDate":…,"statistic":…,"period":…,
/// "recentDatapoints":[…],"threshold":…,"evaluatedDatapoints":[…]}` (members in AWS's order).
fn reason_data(spec: &Spec, start_ms: i64, now_ms: i64, slots: &[(i64, Option<Datapoint>)]) -> String {
    let q = |s: &str| serde_json::Value::from(s).to_string();
    let num = |v: f64| serde_json::Value::from(v).to_string();
    let mut out = format!("{{\"version\":\"1.0\",\"queryDate\":{},\"startDate\":{}", q(&aws_time(now_ms)), q(&aws_time(start_ms)));
    if let Source::Single { stat, extended, period, unit, .. } = &spec.source {
        out.push_str(&format!(",\"{}\":{},\"period\":{period}", if *extended { "extendedStatistic" } else { "statistic" }, q(stat)));
        if let Some(u) = unit {
            out.push_str(&format!(",\"unit\":{}", q(u)));
        }
    }
    let recent: Vec<String> = slots.iter().filter_map(|(_, d)| d.map(|d| num(d.value))).collect();
    out.push_str(&format!(",\"recentDatapoints\":[{}],\"threshold\":{}", recent.join(","), num(spec.threshold)));
    let evaluated: Vec<String> = slots
        .iter()
        .rev()
        .map(|(t, d)| match d {
            None => format!("{{\"timestamp\":{}}}", q(&aws_time(*t))),
            Some(Datapoint { value, sample_count: Some(c) }) => format!("{{\"timestamp\":{},\"sampleCount\":{},\"value\":{}}}", q(&aws_time(*t)), num(*c), num(*value)),
            Some(Datapoint { value, sample_count: None }) => format!("{{\"timestamp\":{},\"value\":{}}}", q(&aws_time(*t)), num(*value)),
        })
        .collect();
    out.push_str(&format!(",\"evaluatedDatapoints\":[{}]}}", evaluated.join(",")));
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn spec(n: i64, m: i64, treat: &str) -> Spec {
        Spec {
            source: Source::Single { metric: json!({}), stat: "Sum".into(), extended: false, period: 60, unit: None },
            n,
            m,
            threshold: 1.0,
            operator: "GreaterThanOrEqualToThreshold".into(),
            treat_missing: treat.into(),
        }
    }

    fn pts(values: &[(i64, f64)]) -> BTreeMap<i64, Datapoint> {
        values.iter().map(|(t, v)| (t * 60_000, Datapoint { value: *v, sample_count: Some(1.0) })).collect()
    }

    #[test]
    fn one_of_one() {
        let o = evaluate(&spec(1, 1, "missing"), 0, 60_000, &pts(&[(0, 5.0)])).expect("outcome");
        assert_eq!(o.state, ALARM);
        assert_eq!(o.reason, "Threshold Crossed: 1 datapoint [5.0 (01/01/70 00:00:00)] was greater than or equal to the threshold (1.0).");
        let data: serde_json::Value = serde_json::from_str(&o.reason_data).expect("json");
        assert_eq!(data["evaluatedDatapoints"], json!([{"timestamp": "1970-01-01T00:00:00.000+0000", "sampleCount": 1.0, "value": 5.0}]));
        assert_eq!(data["statistic"], "Sum");
        let o = evaluate(&spec(1, 1, "missing"), 0, 60_000, &pts(&[(0, 0.5)])).expect("outcome");
        assert_eq!((o.state, o.reason.as_str()), (OK, "Threshold Crossed: 1 datapoint [0.5 (01/01/70 00:00:00)] was not greater than or equal to the threshold (1.0)."));
    }

    #[test]
    fn m_of_n_and_missing_data() {
        // 2 of 3: two breaching of three is ALARM, one is OK.
        assert_eq!(evaluate(&spec(3, 2, "missing"), 0, 0, &pts(&[(0, 5.0), (1, 0.0), (2, 5.0)])).map(|o| o.state), Some(ALARM));
        let o = evaluate(&spec(3, 2, "missing"), 0, 0, &pts(&[(0, 5.0), (1, 0.0), (2, 0.0)])).expect("outcome");
        assert_eq!(o.state, OK);
        assert!(o.reason.contains("(minimum 2 datapoints for ALARM -> OK transition)"), "{}", o.reason);
        // Every period missing.
        let none = pts(&[]);
        let o = evaluate(&spec(3, 2, "missing"), 0, 0, &none).expect("outcome");
        assert_eq!((o.state, o.reason.as_str()), (INSUFFICIENT, "Insufficient Data: 3 datapoints were unknown."));
        assert_eq!(evaluate(&spec(3, 2, "ignore"), 0, 0, &none), None);
        let o = evaluate(&spec(3, 2, "breaching"), 0, 0, &none).expect("outcome");
        assert_eq!(o.state, ALARM);
        assert_eq!(o.reason, "Threshold Crossed: no datapoints were received for 3 periods and 3 missing datapoints were treated as [Breaching].");
        assert_eq!(evaluate(&spec(3, 2, "notBreaching"), 0, 0, &none).map(|o| o.state), Some(OK));
        // Missing counted as breaching completes an M of N.
        assert_eq!(evaluate(&spec(3, 2, "breaching"), 0, 0, &pts(&[(0, 5.0)])).map(|o| o.state), Some(ALARM));
        assert_eq!(evaluate(&spec(3, 2, "missing"), 0, 0, &pts(&[(0, 5.0)])).map(|o| o.state), Some(OK));
    }

    #[test]
    fn doubles_as_java_prints_them() {
        assert_eq!(java_double(5.0), "5.0");
        assert_eq!(java_double(1.5), "1.5");
        assert_eq!(java_double(-2.0), "-2.0");
        assert_eq!(java_double(1e10), "1.0E10");
    }
}
