//! PutMetricData: each datum checked against AWS's limits
//! (<https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_PutMetricData.html>:
//! up to 1000 datums, 30 dimensions each, 150 Values with matching Counts, Value /
//! Values / StatisticValues mutually exclusive, StorageResolution 1 or 60, timestamps from
//! two weeks ago to two hours ahead, namespaces not starting with `AWS/`), then written to
//! the store in one group-committed batch.

use crate::errors::{CwError, CwResult};
use crate::service::{canonical_dims, check_len, list, num, s, time_ms, unit, CloudWatchService};
use crate::store::{Change, MetricKey, Point};
use nimbus_core::RequestContext;
use serde_json::{json, Value};

const MAX_DATUMS: usize = 1000;
const MAX_DIMENSIONS: usize = 30;
const MAX_VALUES: usize = 150;
const TWO_WEEKS_MS: i64 = 14 * 24 * 3600 * 1000;
const TWO_HOURS_MS: i64 = 2 * 3600 * 1000;
/// AWS refuses values beyond ±2^360 (and non-zero magnitudes below 2^-260).
const LIMIT: f64 = 2.348_542_582_773_833_2e108;

/// A value within the range CloudWatch accepts.
fn value(v: &Value, what: &str) -> CwResult<f64> {
    let f = num(v, what)?;
    if f.abs() > LIMIT || (f != 0.0 && f.abs() < 5.397_605_346_934_028e-79) {
        return Err(CwError::invalid(format!("The value {f} for parameter {what} is invalid.")));
    }
    Ok(f)
}

/// `[(Name, Value)]` of a Dimensions member, checked (`prefix`: the member's wire path).
pub(crate) fn dimensions(d: &Value, prefix: &str) -> CwResult<Vec<(String, String)>> {
    let dims = list(d, "Dimensions");
    if dims.len() > MAX_DIMENSIONS {
        return Err(CwError::invalid(format!("The collection {prefix}Dimensions must not have a size greater than {MAX_DIMENSIONS}.")));
    }
    let mut out: Vec<(String, String)> = Vec::new();
    for (i, dim) in dims.iter().enumerate() {
        let at = format!("{prefix}Dimensions.member.{}", i + 1);
        let name = s(dim, "Name").ok_or_else(|| CwError::missing(&format!("{at}.Name")))?;
        let val = s(dim, "Value").ok_or_else(|| CwError::missing(&format!("{at}.Value")))?;
        check_len(name, 255, &format!("{at}.Name"))?;
        check_len(val, 1024, &format!("{at}.Value"))?;
        if out.iter().any(|(n, _)| n == name) {
            return Err(CwError::invalid(format!("No metric may have duplicate dimension names: {name}")));
        }
        out.push((name.to_string(), val.to_string()));
    }
    Ok(out)
}

impl CloudWatchService {
    pub(crate) async fn put_metric_data(&self, ctx: &RequestContext, input: &Value) -> CwResult<Value> {
        let namespace = s(input, "Namespace").ok_or_else(|| CwError::missing("Namespace"))?;
        check_len(namespace, 255, "Namespace")?;
        if namespace.starts_with("AWS/") || namespace.starts_with(':') {
            return Err(CwError::invalid(format!("The value {namespace} for parameter Namespace is invalid.")));
        }
        if input.get("EntityMetricData").and_then(Value::as_array).is_some_and(|a| !a.is_empty()) {
            return Err(CwError::NotSupported("PutMetricData's EntityMetricData".into()));
        }
        let data = list(input, "MetricData");
        if data.is_empty() {
            return Err(CwError::missing("MetricData"));
        }
        if data.len() > MAX_DATUMS {
            return Err(CwError::invalid(format!("The collection MetricData must not have a size greater than {MAX_DATUMS}.")));
        }
        let now = self.clock.now_ms() as i64;
        let mut changes = Vec::with_capacity(data.len());
        for (i, d) in data.iter().enumerate() {
            let at = format!("MetricData.member.{}.", i + 1);
            changes.push(self.datum(ctx, namespace, d, &at, now)?);
        }
        self.store.apply(changes).wait().await.map_err(CwError::Internal)?;
        Ok(json!({}))
    }

    fn datum(&self, ctx: &RequestContext, namespace: &str, d: &Value, at: &str, now: i64) -> CwResult<Change> {
        let name = s(d, "MetricName").ok_or_else(|| CwError::missing(&format!("{at}MetricName")))?;
        check_len(name, 255, &format!("{at}MetricName"))?;
        let dims = dimensions(d, at)?;
        let unit = unit(d, &format!("{at}Unit"))?.unwrap_or("None").to_string();
        if let Some(r) = d.get("StorageResolution") {
            let r = num(r, &format!("{at}StorageResolution"))?;
            if r != 1.0 && r != 60.0 {
                return Err(CwError::invalid(format!("The value {r} for parameter {at}StorageResolution is invalid.")));
            }
        }
        let ts_ms = match d.get("Timestamp") {
            Some(t) => time_ms(t, &format!("{at}Timestamp"))?,
            None => now,
        };
        if ts_ms < now - TWO_WEEKS_MS {
            return Err(CwError::invalid(format!("The parameter {at}Timestamp must specify a time no more than two weeks in the past.")));
        }
        if ts_ms > now + TWO_HOURS_MS {
            return Err(CwError::invalid(format!("The parameter {at}Timestamp must specify a time no more than two hours in the future.")));
        }
        let given: Vec<&str> = ["Value", "Values", "StatisticValues"].into_iter().filter(|m| d.get(*m).is_some()).collect();
        if given.len() > 1 {
            return Err(CwError::combination(format!("The parameters {at}{} and {at}{} are mutually exclusive and you have specified both.", given[0], given[1])));
        }
        let point = |count, sum, min, max, values| Point { ts_ms, unit: unit.clone(), count, sum, min, max, values };
        let point = match given.first().copied() {
            Some("Value") => {
                let v = value(&d["Value"], &format!("{at}Value"))?;
                point(1.0, v, v, v, Some(vec![(v, 1.0)]))
            }
            Some("Values") => {
                let values = list(d, "Values");
                if values.len() > MAX_VALUES {
                    return Err(CwError::invalid(format!("The collection {at}Values must not have a size greater than {MAX_VALUES}.")));
                }
                let counts = list(d, "Counts");
                if d.get("Counts").is_some() && counts.len() != values.len() {
                    return Err(CwError::invalid(format!("The parameters {at}Values and {at}Counts must be of the same size.")));
                }
                let mut pairs = Vec::with_capacity(values.len());
                for (j, v) in values.iter().enumerate() {
                    let v = value(v, &format!("{at}Values.member.{}", j + 1))?;
                    let c = match counts.get(j) {
                        Some(c) => num(c, &format!("{at}Counts.member.{}", j + 1))?,
                        None => 1.0,
                    };
                    if c < 0.0 {
                        return Err(CwError::invalid(format!("The value {c} for parameter {at}Counts.member.{} is invalid.", j + 1)));
                    }
                    pairs.push((v, c));
                }
                if pairs.is_empty() {
                    return Err(CwError::missing(&format!("{at}Values")));
                }
                let count = pairs.iter().map(|(_, c)| c).sum();
                let sum = pairs.iter().map(|(v, c)| v * c).sum();
                let min = pairs.iter().map(|(v, _)| *v).fold(f64::INFINITY, f64::min);
                let max = pairs.iter().map(|(v, _)| *v).fold(f64::NEG_INFINITY, f64::max);
                point(count, sum, min, max, Some(pairs))
            }
            Some(_) => {
                let sv = &d["StatisticValues"];
                let get = |m: &str| -> CwResult<f64> {
                    let what = format!("{at}StatisticValues.{m}");
                    value(sv.get(m).ok_or_else(|| CwError::missing(&what))?, &what)
                };
                let (count, sum, min, max) = (get("SampleCount")?, get("Sum")?, get("Minimum")?, get("Maximum")?);
                if count <= 0.0 || min > max {
                    return Err(CwError::invalid(format!("The parameter {at}StatisticValues is invalid: SampleCount must be positive and Minimum at most Maximum.")));
                }
                point(count, sum, min, max, None)
            }
            None => return Err(CwError::missing(&format!("{at}Value"))),
        };
        let key = MetricKey { account: ctx.account_id.clone(), region: ctx.region.clone(), namespace: namespace.to_string(), name: name.to_string(), dims: canonical_dims(&dims) };
        Ok(Change { key, points: vec![point] })
    }
}
