//! CloudWatch as core's `MetricSink`: how other services put datapoints, without an HTTP
//! round trip. CloudWatch Logs' metric filters put raw values (`put`); the standard service
//! metrics arrive as per-minute statistic sets from core's aggregator (`put_sets`), written
//! as PutMetricData writes `StatisticValues` (with the raw values when the aggregator kept
//! them, for percentiles). Both go through the same group-committing store as
//! PutMetricData; the caller does not wait for the commit.

use crate::service::{canonical_dims, CloudWatchService, UNITS};
use crate::store::{Change, MetricKey, Point};
use nimbus_core::internal::{MetricDatum, MetricSet, MetricSink};

impl MetricSink for CloudWatchService {
    fn put(&self, account: &str, region: &str, datum: MetricDatum) {
        if !datum.value.is_finite() {
            return;
        }
        let unit = datum.unit.filter(|u| UNITS.contains(&u.as_str())).unwrap_or_else(|| "None".to_string());
        let v = datum.value;
        let point = Point { ts_ms: datum.timestamp_ms as i64, unit, count: 1.0, sum: v, min: v, max: v, values: Some(vec![(v, 1.0)]) };
        let key = MetricKey { account: account.to_string(), region: region.to_string(), namespace: datum.namespace, name: datum.name, dims: canonical_dims(&datum.dimensions) };
        // Durable with the next group commit; a failed write is logged by the store's writer.
        let _ = self.store.apply(vec![Change { key, points: vec![point] }]);
    }

    fn put_sets(&self, sets: Vec<MetricSet>) {
        let changes = set_changes(sets);
        if !changes.is_empty() {
            let _ = self.store.apply(changes);
        }
    }
}

/// The aggregator's statistic sets as store changes (also the alarm engine's drain).
pub(crate) fn set_changes(sets: Vec<MetricSet>) -> Vec<Change> {
    sets.into_iter()
        .filter(|s| s.sample_count > 0.0 && s.sum.is_finite() && s.min <= s.max)
        .map(|s| {
            let unit = if UNITS.contains(&s.unit.as_str()) { s.unit } else { "None".to_string() };
            let point = Point { ts_ms: s.timestamp_ms as i64, unit, count: s.sample_count, sum: s.sum, min: s.min, max: s.max, values: s.values };
            let key = MetricKey { account: s.account, region: s.region, namespace: s.namespace, name: s.name, dims: canonical_dims(&s.dimensions) };
            Change { key, points: vec![point] }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use nimbus_core::storage::Durability;
    use nimbus_core::Clock;

    #[tokio::test]
    async fn sink_data_is_read_back_like_put_metric_data() {
        let store = crate::store::Store::open(None, Durability::Process).expect("store");
        let svc = CloudWatchService::new(store, Clock::new());
        let datum = |v: f64| MetricDatum { namespace: "LogMetrics".into(), name: "Errors".into(), dimensions: vec![("Fn".into(), "a".into())], value: v, unit: Some("Count".into()), timestamp_ms: 60_000 };
        svc.put("111122223333", "us-east-1", datum(1.0));
        svc.put("111122223333", "us-east-1", datum(2.0));
        svc.put("111122223333", "us-east-1", datum(f64::NAN));
        svc.store.barrier().await.expect("barrier");
        let key = MetricKey { account: "111122223333".into(), region: "us-east-1".into(), namespace: "LogMetrics".into(), name: "Errors".into(), dims: canonical_dims(&[("Fn".into(), "a".into())]) };
        let id = svc.store.metric_id(&key).expect("read").expect("metric exists");
        let points = svc.store.points(id, 0, 120_000).expect("points");
        assert_eq!(points.iter().map(|p| p.sum).collect::<Vec<_>>(), vec![1.0, 2.0]);
        assert!(points.iter().all(|p| p.unit == "Count"));
    }

    #[tokio::test]
    async fn statistic_sets_keep_count_sum_min_max_and_values() {
        let store = crate::store::Store::open(None, Durability::Process).expect("store");
        let svc = CloudWatchService::new(store, Clock::new());
        let set = |values| MetricSet { account: "1".into(), region: "us-east-1".into(), namespace: "AWS/Lambda".into(), name: "Duration".into(), dimensions: vec![("FunctionName".into(), "f".into())], unit: "Milliseconds".into(), timestamp_ms: 60_000, sample_count: 3.0, sum: 6.0, min: 1.0, max: 3.0, values };
        svc.put_sets(vec![set(Some(vec![(1.0, 1.0), (2.0, 1.0), (3.0, 1.0)])), set(None)]);
        svc.store.barrier().await.expect("barrier");
        let key = MetricKey { account: "1".into(), region: "us-east-1".into(), namespace: "AWS/Lambda".into(), name: "Duration".into(), dims: canonical_dims(&[("FunctionName".into(), "f".into())]) };
        let id = svc.store.metric_id(&key).expect("read").expect("metric exists");
        let points = svc.store.points(id, 0, 120_000).expect("points");
        assert_eq!(points.len(), 2);
        assert!(points.iter().all(|p| p.count == 3.0 && p.sum == 6.0 && p.min == 1.0 && p.max == 3.0 && p.unit == "Milliseconds"));
        assert_eq!(points.iter().filter(|p| p.values.is_some()).count(), 1);
    }
}
