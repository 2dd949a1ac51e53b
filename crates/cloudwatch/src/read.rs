//! The reading operations, each reading the store per request:
//! ListMetrics (Namespace, MetricName and Dimensions filters, 500 a page, NextToken),
//! GetMetricStatistics (Statistics or ExtendedStatistics `pNN`, Period, Unit; at most 1,440
//! datapoints) and GetMetricData (MetricStat queries and metric math, `math.rs`; pages).
//! Periods are aligned to multiples of the period since the epoch (AWS aligns them the
//! same way when StartTime is, as its docs advise).
//! <https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_GetMetricStatistics.html>

use crate::errors::{CwError, CwResult};
use crate::math::{self, Scope, Series, Val};
use crate::put::dimensions;
use crate::service::{canonical_dims, list, num, s, secs, time_ms, unit, CloudWatchService};
use crate::stats::{percentile_of, Aggregate, BASIC};
use crate::store::{MetricKey, Point, Store};
use nimbus_core::RequestContext;
use serde_json::{json, Map, Value};
use std::collections::BTreeMap;

const LIST_PAGE: usize = 500;

/// A GetMetricData query's answer: id, label, and its datapoints in the order asked for.
type Answer<'a> = (&'a str, &'a str, Vec<(i64, f64)>);
const MAX_DATAPOINTS: i64 = 1440;
/// GetMetricData's default and largest page, in datapoints.
const MAX_DATA_POINTS: usize = 100_800;

/// A checked Period: 1, 5, 10, 30 or a multiple of 60 (and 20, which alarms also use).
fn period_of(v: Option<&Value>, what: &str, alarm: bool) -> CwResult<i64> {
    let p = num(v.ok_or_else(|| CwError::missing(what))?, what)?;
    if p < 1.0 || p.fract() != 0.0 || !(matches!(p as i64, 1 | 5 | 10 | 30) || (alarm && p as i64 == 20) || (p as i64) % 60 == 0) {
        return Err(CwError::invalid(format!("The parameter {what} must be a multiple of 60.")));
    }
    Ok(p as i64)
}

/// Datapoints grouped into periods: period start (ms) → points.
fn by_period<'a>(points: &'a [Point], period_s: i64, unit: Option<&str>) -> BTreeMap<i64, Vec<&'a Point>> {
    let mut out: BTreeMap<i64, Vec<&'a Point>> = BTreeMap::new();
    let p = period_s * 1000;
    for pt in points.iter().filter(|pt| unit.is_none_or(|u| pt.unit == u)) {
        out.entry(pt.ts_ms.div_euclid(p) * p).or_default().push(pt);
    }
    out
}

fn metric_json(namespace: &str, name: &str, dims: &str) -> Value {
    let dims: Vec<Value> = serde_json::from_str::<Vec<(String, String)>>(dims).unwrap_or_default().into_iter().map(|(n, v)| json!({"Name": n, "Value": v})).collect();
    json!({"Namespace": namespace, "MetricName": name, "Dimensions": dims})
}

/// The stored datapoints of a metric in `[start, end)`.
async fn read_points(store: &Store, account: &str, region: &str, metric: &Value, at: &str, start: i64, end: i64) -> CwResult<Vec<Point>> {
    let namespace = s(metric, "Namespace").ok_or_else(|| CwError::missing(&format!("{at}Namespace")))?;
    let name = s(metric, "MetricName").ok_or_else(|| CwError::missing(&format!("{at}MetricName")))?;
    let dims = dimensions(metric, at)?;
    let key = MetricKey { account: account.to_string(), region: region.to_string(), namespace: namespace.into(), name: name.into(), dims: canonical_dims(&dims) };
    store.barrier().await?;
    match store.metric_id(&key)? {
        Some(id) => Ok(store.points(id, start, end)?),
        None => Ok(Vec::new()),
    }
}

impl CloudWatchService {
    pub(crate) async fn list_metrics(&self, ctx: &RequestContext, input: &Value) -> CwResult<Value> {
        if input.get("IncludeLinkedAccounts").and_then(Value::as_bool) == Some(true) || input.get("OwningAccount").is_some() {
            return Err(CwError::NotSupported("ListMetrics across linked accounts".into()));
        }
        let mut filters = Vec::new();
        for (i, f) in list(input, "Dimensions").iter().enumerate() {
            let name = s(f, "Name").ok_or_else(|| CwError::missing(&format!("Dimensions.member.{}.Name", i + 1)))?;
            filters.push((name.to_string(), s(f, "Value").map(str::to_string)));
        }
        if filters.len() > 10 {
            return Err(CwError::invalid("The collection Dimensions must not have a size greater than 10."));
        }
        let after = match s(input, "NextToken") {
            None => 0,
            Some(t) => t.parse::<i64>().map_err(|_| CwError::InvalidNextToken)?,
        };
        self.store.barrier().await?;
        let rows = self.store.metrics(&ctx.account_id, &ctx.region, s(input, "Namespace"), s(input, "MetricName"), after)?;
        let mut metrics = Vec::new();
        let mut next = None;
        for (id, namespace, name, dims) in rows {
            let have: Vec<(String, String)> = serde_json::from_str(&dims).unwrap_or_default();
            let matches = filters.iter().all(|(n, v)| have.iter().any(|(hn, hv)| hn == n && v.as_ref().is_none_or(|v| v == hv)));
            if !matches {
                continue;
            }
            if metrics.len() == LIST_PAGE {
                next = Some(metrics.len());
                break;
            }
            metrics.push((id, metric_json(&namespace, &name, &dims)));
        }
        let mut out = json!({ "Metrics": metrics.iter().map(|(_, m)| m.clone()).collect::<Vec<_>>() });
        if next.is_some() {
            if let Some((id, _)) = metrics.last() {
                out["NextToken"] = Value::from(id.to_string());
            }
        }
        Ok(out)
    }

    /// `(start, end)` in ms, checked.
    fn range(input: &Value) -> CwResult<(i64, i64)> {
        let start = time_ms(input.get("StartTime").ok_or_else(|| CwError::missing("StartTime"))?, "StartTime")?;
        let end = time_ms(input.get("EndTime").ok_or_else(|| CwError::missing("EndTime"))?, "EndTime")?;
        if start >= end {
            return Err(CwError::invalid("The parameter StartTime must be less than the parameter EndTime."));
        }
        Ok((start, end))
    }

    pub(crate) async fn get_metric_statistics(&self, ctx: &RequestContext, input: &Value) -> CwResult<Value> {
        let name = s(input, "MetricName").ok_or_else(|| CwError::missing("MetricName"))?;
        s(input, "Namespace").ok_or_else(|| CwError::missing("Namespace"))?;
        let (start, end) = Self::range(input)?;
        let period = period_of(input.get("Period"), "Period", false)?;
        let unit = unit(input, "Unit")?;
        let stats: Vec<&str> = list(input, "Statistics").iter().filter_map(Value::as_str).collect();
        let extended: Vec<&str> = list(input, "ExtendedStatistics").iter().filter_map(Value::as_str).collect();
        if stats.is_empty() == extended.is_empty() {
            return Err(CwError::combination("Must specify either Statistics or ExtendedStatistics, but not both."));
        }
        if stats.len() > 5 || extended.len() > 10 {
            return Err(CwError::invalid("The collection Statistics must not have a size greater than 5, nor ExtendedStatistics greater than 10."));
        }
        if let Some(bad) = stats.iter().find(|s| !BASIC.contains(s)) {
            return Err(CwError::invalid(format!("The value {bad} for parameter Statistics is invalid.")));
        }
        if let Some(bad) = extended.iter().find(|s| percentile_of(s).is_none()) {
            return Err(CwError::invalid(format!("The value {bad} for parameter ExtendedStatistics is invalid.")));
        }
        let wanted = (end - start + period * 1000 - 1) / (period * 1000);
        if wanted > MAX_DATAPOINTS {
            return Err(CwError::combination(format!("You have requested up to {wanted} datapoints, which exceeds the limit of 1,440. You may reduce the datapoints requested by increasing Period, or decreasing the time range.")));
        }
        let points = read_points(&self.store, &ctx.account_id, &ctx.region, input, "", start, end).await?;
        let mut datapoints = Vec::new();
        for (ts, group) in by_period(&points, period, unit) {
            let agg = Aggregate::of(&group);
            let mut d = Map::new();
            d.insert("Timestamp".into(), secs(ts));
            d.insert("Unit".into(), Value::from(unit.unwrap_or(group[0].unit.as_str())));
            for st in &stats {
                if let Some(v) = agg.get(st) {
                    d.insert(st.to_string(), json!(v));
                }
            }
            if !extended.is_empty() {
                let ext: Map<String, Value> = extended.iter().filter_map(|e| agg.get(e).map(|v| (e.to_string(), json!(v)))).collect();
                d.insert("ExtendedStatistics".into(), Value::Object(ext));
            }
            datapoints.push(Value::Object(d));
        }
        Ok(json!({"Label": name, "Datapoints": datapoints}))
    }

    pub(crate) async fn get_metric_data(&self, ctx: &RequestContext, input: &Value) -> CwResult<Value> {
        metric_data(&self.store, &ctx.account_id, &ctx.region, input, false).await
    }
}

/// GetMetricData for an account and region (the operation, and the alarms' evaluation:
/// `alarm`, which also reads 20-second periods).
pub(crate) async fn metric_data(store: &Store, account: &str, region: &str, input: &Value, alarm: bool) -> CwResult<Value> {
    {
        let (start, end) = CloudWatchService::range(input)?;
        let queries = list(input, "MetricDataQueries");
        if queries.is_empty() {
            return Err(CwError::missing("MetricDataQueries"));
        }
        if queries.len() > 500 {
            return Err(CwError::invalid("The collection MetricDataQueries must not have a size greater than 500."));
        }
        let ascending = match s(input, "ScanBy") {
            None | Some("TimestampDescending") => false,
            Some("TimestampAscending") => true,
            Some(other) => return Err(CwError::invalid(format!("The value {other} for parameter ScanBy is invalid."))),
        };
        let max = match input.get("MaxDatapoints") {
            None => MAX_DATA_POINTS,
            Some(v) => match num(v, "MaxDatapoints")? {
                m if m >= 1.0 => m as usize,
                m => return Err(CwError::invalid(format!("The value {m} for parameter MaxDatapoints is invalid."))),
            },
        };
        let skip = match s(input, "NextToken") {
            None => 0,
            Some(t) => t.strip_prefix("gmd-").and_then(|n| n.parse::<usize>().ok()).ok_or(CwError::InvalidNextToken)?,
        };
        // Each query's (id, label, series); expressions are computed after every MetricStat.
        let mut all: Vec<(&str, &str, Series, bool)> = Vec::new();
        let mut expressions: Vec<(usize, &str)> = Vec::new();
        for (i, q) in queries.iter().enumerate() {
            let at = format!("MetricDataQueries.member.{}.", i + 1);
            let id = s(q, "Id").ok_or_else(|| CwError::missing(&format!("{at}Id")))?;
            if id.is_empty() || !id.starts_with(|c: char| c.is_ascii_lowercase()) || !id.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
                return Err(CwError::invalid(format!("The value {id} for parameter {at}Id is invalid.")));
            }
            let returned = q.get("ReturnData").and_then(Value::as_bool) != Some(false);
            if all.iter().any(|(other, ..)| *other == id) {
                return Err(CwError::invalid(format!("The value {id} for parameter {at}Id is not unique.")));
            }
            if let Some(expression) = s(q, "Expression") {
                if q.get("MetricStat").is_some() {
                    return Err(CwError::combination(format!("Exactly one of {at}MetricStat and {at}Expression must be specified.")));
                }
                expressions.push((all.len(), expression));
                all.push((id, s(q, "Label").unwrap_or(id), Series::new(), returned));
                continue;
            }
            let stat_q = q.get("MetricStat").ok_or_else(|| CwError::combination(format!("Exactly one of {at}MetricStat and {at}Expression must be specified.")))?;
            let metric = stat_q.get("Metric").ok_or_else(|| CwError::missing(&format!("{at}MetricStat.Metric")))?;
            let period = period_of(stat_q.get("Period"), &format!("{at}MetricStat.Period"), alarm)?;
            let stat = s(stat_q, "Stat").ok_or_else(|| CwError::missing(&format!("{at}MetricStat.Stat")))?;
            if !BASIC.contains(&stat) && percentile_of(stat).is_none() {
                return Err(CwError::NotSupported(format!("The statistic {stat}")));
            }
            let unit = unit(stat_q, &format!("{at}MetricStat.Unit"))?;
            let points = read_points(store, account, region, metric, &format!("{at}MetricStat.Metric."), start, end).await?;
            let series: Series = by_period(&points, period, unit).into_iter().filter_map(|(ts, g)| Aggregate::of(&g).get(stat).map(|v| (ts, v))).collect();
            let label = s(q, "Label").or_else(|| s(metric, "MetricName")).unwrap_or(id);
            all.push((id, label, series, returned));
        }
        // METRICS(): every MetricStat query. An expression sees the MetricStat queries and
        // the expressions before it.
        let expression_at: Vec<usize> = expressions.iter().map(|(i, _)| *i).collect();
        let metrics: Vec<Series> = all.iter().enumerate().filter(|(i, _)| !expression_at.contains(i)).map(|(_, (.., s, _))| s.clone()).collect();
        for (n, &(index, expression)) in expressions.iter().enumerate() {
            let pending = &expression_at[n..];
            let by_id: BTreeMap<String, Series> = all.iter().enumerate().filter(|(i, _)| !pending.contains(i)).map(|(_, (id, _, s, _))| (id.to_string(), s.clone())).collect();
            let scope = Scope { by_id: &by_id, metrics: &metrics };
            match math::eval(expression, &scope) {
                // Division by zero and the like leave no datapoint (JSON has no infinities).
                Ok(Val::Series(series)) => all[index].2 = series.into_iter().filter(|(_, v)| v.is_finite()).collect(),
                Ok(_) => return Err(CwError::invalid(format!("The expression {expression} must return a single time series."))),
                Err(e) => return Err(CwError::invalid(format!("Error in expression {}: {e}", all[index].0))),
            }
        }
        let all: Vec<Answer<'_>> = all
            .into_iter()
            .filter(|(.., returned)| *returned)
            .map(|(id, label, series, _)| {
                let mut points: Vec<(i64, f64)> = series.into_iter().collect();
                if !ascending {
                    points.reverse();
                }
                (id, label, points)
            })
            .collect();
        // Pages: `skip` datapoints (over every result, in order) were returned before;
        // this page returns up to `max` more.
        let (mut skipped, mut taken) = (0usize, 0usize);
        let mut results = Vec::new();
        let mut more = false;
        for (id, label, series) in all {
            let from = skip.saturating_sub(skipped).min(series.len());
            skipped += from;
            let rest = &series[from..];
            let n = rest.len().min(max - taken);
            taken += n;
            more |= n < rest.len();
            if skip > 0 && n == 0 {
                continue;
            }
            let page = &rest[..n];
            results.push(json!({
                "Id": id,
                "Label": label,
                "Timestamps": page.iter().map(|(t, _)| secs(*t)).collect::<Vec<_>>(),
                "Values": page.iter().map(|(_, v)| json!(v)).collect::<Vec<_>>(),
                "StatusCode": if n < rest.len() { "PartialData" } else { "Complete" },
            }));
        }
        let mut out = json!({"MetricDataResults": results, "Messages": []});
        if more {
            out["NextToken"] = Value::from(format!("gmd-{}", skip + taken));
        }
        Ok(out)
    }
}
