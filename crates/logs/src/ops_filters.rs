//! Metric filter and subscription filter operations: PutMetricFilter,
//! DescribeMetricFilters, DeleteMetricFilter, TestMetricFilter, PutSubscriptionFilter,
//! DescribeSubscriptionFilters, DeleteSubscriptionFilter. Limits are AWS's: 100 metric
//! filters and 2 subscription filters per group (LimitExceededException), one metric
//! transformation per filter, 3 dimensions per transformation
//! (<https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/API_PutMetricFilter.html>,
//! <https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/API_PutSubscriptionFilter.html>).
//! What new events do through the filters is in `deliver.rs`.

use crate::api::*;
use crate::errors::{in_range, required, LogsError, LogsResult};
use crate::filter::Pattern;
use crate::filters::{self, check_reference, Compiled, MetricFilterDef, MetricTransformation, SubscriptionDef};
use crate::service::LogsService;
use crate::tokens;
use nimbus_core::internal::ServiceCall;
use nimbus_core::RequestContext;
use serde_json::{json, Value};

pub const MAX_METRIC_FILTERS: usize = 100;
pub const MAX_SUBSCRIPTION_FILTERS: usize = 2;
pub const MAX_DIMENSIONS: usize = 3;
/// Metric and subscription filters using regular expressions, per log group
/// (<https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/regex-expressions.html>, "Quotas").
pub const MAX_REGEX_FILTERS: usize = 5;

/// CloudWatch's units (`StandardUnit`).
const UNITS: [&str; 27] = [
    "Seconds", "Microseconds", "Milliseconds", "Bytes", "Kilobytes", "Megabytes", "Gigabytes", "Terabytes", "Bits", "Kilobits", "Megabits", "Gigabits",
    "Terabits", "Percent", "Count", "Bytes/Second", "Kilobytes/Second", "Megabytes/Second", "Gigabytes/Second", "Terabytes/Second", "Bits/Second",
    "Kilobits/Second", "Megabits/Second", "Gigabits/Second", "Terabits/Second", "Count/Second", "None",
];

fn check_filter_name(name: &str) -> LogsResult<()> {
    if name.is_empty() || name.len() > 512 {
        return Err(LogsError::validation(name, "filterName", "Member must have length between 1 and 512"));
    }
    if name.contains(':') || name.contains('*') {
        return Err(LogsError::validation(name, "filterName", "Member must satisfy regular expression pattern: [^:*]*"));
    }
    Ok(())
}

fn check_metric_part(member: &str, v: &str) -> LogsResult<()> {
    if v.len() > 255 {
        return Err(LogsError::validation(v, member, "Member must have length less than or equal to 255"));
    }
    if v.contains(':') || v.contains('*') || v.contains('$') {
        return Err(LogsError::validation(v, member, "Member must satisfy regular expression pattern: [^:*$]*"));
    }
    Ok(())
}

fn transformation(t: MetricTransformationIn, pattern: &Pattern) -> LogsResult<MetricTransformation> {
    const AT: &str = "metricTransformations.1.member";
    let metric_name = required(&format!("{AT}.metricName"), t.metric_name)?;
    let metric_namespace = required(&format!("{AT}.metricNamespace"), t.metric_namespace)?;
    let metric_value = required(&format!("{AT}.metricValue"), t.metric_value)?;
    check_metric_part(&format!("{AT}.metricName"), &metric_name)?;
    check_metric_part(&format!("{AT}.metricNamespace"), &metric_namespace)?;
    if metric_value.len() > 100 {
        return Err(LogsError::validation(&metric_value, &format!("{AT}.metricValue"), "Member must have length less than or equal to 100"));
    }
    check_reference("metricValue", &metric_value, pattern)?;
    if !metric_value.starts_with('$') && metric_value.trim().parse::<f64>().is_err() {
        return Err(LogsError::InvalidParameter(format!("Invalid metric value: {metric_value}")));
    }
    let dimensions = t.dimensions.unwrap_or_default();
    if dimensions.len() > MAX_DIMENSIONS {
        return Err(LogsError::InvalidParameter(format!("A metric transformation can have at most {MAX_DIMENSIONS} dimensions.")));
    }
    for (k, v) in &dimensions {
        if k.is_empty() || k.len() > 255 {
            return Err(LogsError::validation(k, &format!("{AT}.dimensions"), "Member must have length between 1 and 255"));
        }
        check_reference("dimensions", v, pattern)?;
    }
    if let Some(u) = &t.unit {
        if !UNITS.contains(&u.as_str()) {
            return Err(LogsError::validation(u, &format!("{AT}.unit"), &format!("Member must satisfy enum value set: [{}]", UNITS.join(", "))));
        }
    }
    Ok(MetricTransformation { metric_name, metric_namespace, metric_value, default_value: t.default_value, dimensions, unit: t.unit })
}

fn metric_filter_json(group: &str, d: &MetricFilterDef) -> Value {
    json!({
        "filterName": d.filter_name,
        "filterPattern": d.filter_pattern,
        "metricTransformations": d.metric_transformations,
        "creationTime": d.creation_time,
        "logGroupName": group,
        "applyOnTransformedLogs": false,
    })
}

fn subscription_json(group: &str, d: &SubscriptionDef) -> Value {
    let mut v = json!({
        "filterName": d.filter_name,
        "logGroupName": group,
        "filterPattern": d.filter_pattern,
        "destinationArn": d.destination_arn,
        "distribution": d.distribution,
        "creationTime": d.creation_time,
        "applyOnTransformedLogs": false,
    });
    if let (Some(role), Value::Object(m)) = (&d.role_arn, &mut v) {
        m.insert("roleArn".into(), json!(role));
    }
    v
}

/// One page of `items` starting at the token's offset.
fn page(items: Vec<Value>, next_token: Option<&str>, limit: Option<i64>, key: &str) -> LogsResult<Value> {
    let limit = in_range("limit", limit, 1, 50, 50)? as usize;
    let start = match next_token.filter(|t| !t.is_empty()) {
        Some(t) => tokens::parse_item_token(t)?.0 as usize,
        None => 0,
    };
    let end = (start + limit).min(items.len());
    let mut out = json!({ key: items.get(start.min(items.len())..end).unwrap_or_default() });
    if end < items.len() {
        out["nextToken"] = json!(tokens::item_token(end as u64, key));
    }
    Ok(out)
}

impl LogsService {
    /// LimitExceededException when `pattern` uses a regular expression and the group
    /// already has five other metric or subscription filters that do.
    fn check_regex_quota(&self, ctx: &RequestContext, group: &str, pattern: &Pattern, kind: &str, name: &str) -> LogsResult<()> {
        if !pattern.has_regex() {
            return Ok(());
        }
        let key = Self::key(ctx, group.to_string());
        let others = self.engine.read(|st| {
            st.groups.get(&key).map_or(0, |g| {
                let metric = g.metric_filters.iter().filter(|(n, f)| !(kind == filters::METRIC && n.as_str() == name) && f.pattern.has_regex()).count();
                let subs = g.subscriptions.iter().filter(|(n, f)| !(kind == filters::SUBSCRIPTION && n.as_str() == name) && f.pattern.has_regex()).count();
                metric + subs
            })
        });
        if others >= MAX_REGEX_FILTERS {
            return Err(LogsError::Limit(format!("A log group can have at most {MAX_REGEX_FILTERS} metric and subscription filters that use regular expressions.")));
        }
        Ok(())
    }

    pub(crate) async fn put_metric_filter(&self, ctx: &RequestContext, req: PutMetricFilter) -> LogsResult<Value> {
        let group = required("logGroupName", req.log_group_name)?;
        let name = required("filterName", req.filter_name)?;
        let pattern = required("filterPattern", req.filter_pattern)?;
        let mut ts = required("metricTransformations", req.metric_transformations)?;
        check_filter_name(&name)?;
        if ts.len() != 1 {
            let constraint = if ts.is_empty() { "Member must have length greater than or equal to 1" } else { "Member must have length less than or equal to 1" };
            return Err(LogsError::validation(format!("[{} transformations]", ts.len()), "metricTransformations", constraint));
        }
        if req.apply_on_transformed_logs == Some(true) {
            return Err(LogsError::NotSupported("applyOnTransformedLogs (log transformers)".into()));
        }
        let t = transformation(ts.remove(0), &Pattern::parse(Some(&pattern))?)?;
        let def = MetricFilterDef { filter_name: name, filter_pattern: pattern, metric_transformations: vec![t], creation_time: self.engine.clock.now_ms() };
        let compiled = Compiled::metric(def)?;
        self.check_regex_quota(ctx, &group, &compiled.pattern, filters::METRIC, &compiled.def.filter_name)?;
        let pending = self.engine.put_metric_filter(&Self::key(ctx, group), compiled, MAX_METRIC_FILTERS)?;
        Self::committed(pending).await?;
        Ok(json!({}))
    }

    pub(crate) fn describe_metric_filters(&self, ctx: &RequestContext, req: DescribeMetricFilters) -> LogsResult<Value> {
        if req.metric_name.is_some() != req.metric_namespace.is_some() {
            return Err(LogsError::InvalidParameter("If you specify a metric name, you must also specify a metric namespace, and vice versa.".into()));
        }
        let wanted = |t: &MetricTransformation| match (&req.metric_name, &req.metric_namespace) {
            (Some(n), Some(ns)) => &t.metric_name == n && &t.metric_namespace == ns,
            _ => true,
        };
        let items = self.engine.read(|st| -> LogsResult<Vec<Value>> {
            let mut out = Vec::new();
            let groups: Vec<_> = match &req.log_group_name {
                Some(name) => {
                    let key = Self::key(ctx, name.clone());
                    vec![(key.name.clone(), st.group(&key)?)]
                }
                None => st.groups.iter().filter(|(k, _)| k.account == ctx.account_id && k.region == ctx.region).map(|(k, g)| (k.name.clone(), g)).collect(),
            };
            for (name, g) in groups {
                for (fname, f) in &g.metric_filters {
                    let prefix_ok = req.log_group_name.is_none() || req.filter_name_prefix.as_deref().is_none_or(|p| fname.starts_with(p));
                    if prefix_ok && f.def.metric_transformations.iter().any(wanted) {
                        out.push(metric_filter_json(&name, &f.def));
                    }
                }
            }
            Ok(out)
        })?;
        page(items, req.next_token.as_deref(), req.limit, "metricFilters")
    }

    pub(crate) async fn delete_metric_filter(&self, ctx: &RequestContext, req: DeleteFilter) -> LogsResult<Value> {
        let group = required("logGroupName", req.log_group_name)?;
        let name = required("filterName", req.filter_name)?;
        let pending = self.engine.delete_filter(&Self::key(ctx, group), filters::METRIC, &name)?;
        Self::committed(pending).await?;
        Ok(json!({}))
    }

    pub(crate) fn test_metric_filter(&self, req: TestMetricFilter) -> LogsResult<Value> {
        let pattern = required("filterPattern", req.filter_pattern)?;
        let messages = required("logEventMessages", req.log_event_messages)?;
        if messages.is_empty() || messages.len() > 50 {
            return Err(LogsError::validation(format!("[{} messages]", messages.len()), "logEventMessages", "Member must have length between 1 and 50"));
        }
        let p = Pattern::parse(Some(&pattern))?;
        let matches: Vec<Value> = messages
            .iter()
            .enumerate()
            .filter_map(|(i, m)| p.extract(m).map(|values| json!({"eventNumber": i + 1, "eventMessage": m, "extractedValues": values})))
            .collect();
        Ok(json!({ "matches": matches }))
    }

    pub(crate) async fn put_subscription_filter(&self, ctx: &RequestContext, req: PutSubscriptionFilter) -> LogsResult<Value> {
        let group = required("logGroupName", req.log_group_name)?;
        let name = required("filterName", req.filter_name)?;
        let pattern = required("filterPattern", req.filter_pattern)?;
        let destination = required("destinationArn", req.destination_arn)?;
        check_filter_name(&name)?;
        let distribution = req.distribution.unwrap_or_else(|| "ByLogStream".into());
        if distribution != "ByLogStream" && distribution != "Random" {
            return Err(LogsError::validation(&distribution, "distribution", "Member must satisfy enum value set: [Random, ByLogStream]"));
        }
        if req.apply_on_transformed_logs == Some(true) {
            return Err(LogsError::NotSupported("applyOnTransformedLogs (log transformers)".into()));
        }
        let service = destination.split(':').nth(2).unwrap_or("");
        match service {
            "lambda" if crate::deliver::function_name(&destination).is_some() => {}
            "kinesis" if crate::deliver::is_stream(&destination) && self.records.get().is_some() => {}
            "kinesis" | "firehose" => return Err(LogsError::NotSupported(format!("Subscription filter destination {destination} ({service})"))),
            "logs" => return Err(LogsError::NotSupported(format!("Subscription filter destination {destination} (CloudWatch Logs destinations)"))),
            _ => return Err(LogsError::InvalidParameter("Could not deliver test message to specified destination. Check if the destination is valid.".into())),
        }
        if crate::deliver::is_stream(&destination) {
            return self.put_stream_subscription(ctx, group, name, pattern, destination, req.role_arn, distribution).await;
        }
        // AWS checks the function and its resource policy when the filter is created
        // (the policy must allow `logs.amazonaws.com`, usually for the group's ARN).
        let cannot_invoke = || LogsError::InvalidParameter("Could not execute the lambda function. Make sure you have given CloudWatch Logs permission to execute your function.".into());
        if !self.functions.read().function_exists(&destination) {
            return Err(cannot_invoke());
        }
        let source_arn = format!("{}:*", crate::names::group_arn(&ctx.region, &ctx.account_id, &group));
        let call = ServiceCall { service: "logs.amazonaws.com", action: "lambda:InvokeFunction", resource: &destination, source_arn: &source_arn, source_account: &ctx.account_id };
        if let Err(why) = self.grants.read().allows(&call) {
            tracing::info!(function = %destination, %why, "subscription filter refused by the function's policy");
            return Err(cannot_invoke());
        }
        let def = SubscriptionDef {
            filter_name: name,
            filter_pattern: pattern,
            destination_arn: destination,
            role_arn: req.role_arn,
            distribution,
            creation_time: self.engine.clock.now_ms(),
        };
        let compiled = Compiled::subscription(def)?;
        self.check_regex_quota(ctx, &group, &compiled.pattern, filters::SUBSCRIPTION, &compiled.def.filter_name)?;
        let pending = self.engine.put_subscription(&Self::key(ctx, group), compiled, MAX_SUBSCRIPTION_FILTERS)?;
        Self::committed(pending).await?;
        Ok(json!({}))
    }

    /// A subscription filter to a Kinesis data stream: the stream must exist (AWS sends
    /// it a test message, the `CONTROL_MESSAGE` it then keeps).
    #[allow(clippy::too_many_arguments)]
    async fn put_stream_subscription(&self, ctx: &RequestContext, group: String, name: String, pattern: String, destination: String, role_arn: Option<String>, distribution: String) -> LogsResult<Value> {
        let Some(sink) = self.records.get().cloned() else { return Err(LogsError::NotSupported(format!("Subscription filter destination {destination} (kinesis)"))) };
        let unreachable = || LogsError::InvalidParameter("Could not deliver test message to specified Kinesis stream. Check if the given kinesis stream is in ACTIVE state.".into());
        if !sink.stream_exists(&destination) {
            return Err(unreachable());
        }
        let def = SubscriptionDef { filter_name: name, filter_pattern: pattern, destination_arn: destination.clone(), role_arn, distribution, creation_time: self.engine.clock.now_ms() };
        let compiled = Compiled::subscription(def)?;
        self.check_regex_quota(ctx, &group, &compiled.pattern, filters::SUBSCRIPTION, &compiled.def.filter_name)?;
        let control = json!({
            "messageType": "CONTROL_MESSAGE",
            "owner": "CloudwatchLogs",
            "logGroup": "",
            "logStream": "",
            "subscriptionFilters": [],
            "logEvents": [{ "id": "", "timestamp": self.engine.clock.now_ms(), "message": "CWL CONTROL MESSAGE: Checking health of destination Kinesis stream." }],
        });
        sink.put_records(&destination, vec![crate::deliver::stream_record(&control, "Random", "")]).await.map_err(|_| unreachable())?;
        let pending = self.engine.put_subscription(&Self::key(ctx, group), compiled, MAX_SUBSCRIPTION_FILTERS)?;
        Self::committed(pending).await?;
        Ok(json!({}))
    }

    pub(crate) fn describe_subscription_filters(&self, ctx: &RequestContext, req: DescribeSubscriptionFilters) -> LogsResult<Value> {
        let group = required("logGroupName", req.log_group_name)?;
        let key = Self::key(ctx, group);
        let items = self.engine.read(|st| -> LogsResult<Vec<Value>> {
            let g = st.group(&key)?;
            Ok(g.subscriptions
                .iter()
                .filter(|(n, _)| req.filter_name_prefix.as_deref().is_none_or(|p| n.starts_with(p)))
                .map(|(_, f)| subscription_json(&key.name, &f.def))
                .collect())
        })?;
        page(items, req.next_token.as_deref(), req.limit, "subscriptionFilters")
    }

    pub(crate) async fn delete_subscription_filter(&self, ctx: &RequestContext, req: DeleteFilter) -> LogsResult<Value> {
        let group = required("logGroupName", req.log_group_name)?;
        let name = required("filterName", req.filter_name)?;
        let pending = self.engine.delete_filter(&Self::key(ctx, group), filters::SUBSCRIPTION, &name)?;
        Self::committed(pending).await?;
        Ok(json!({}))
    }
}
