//! CloudWatch as core's `MetricSink`: how other services (CloudWatch Logs' metric filters
//! today, the standard service metrics later) put datapoints, without an HTTP round trip.
//! Each datum is one raw value, written through the same group-committing store as
//! PutMetricData; the caller does not wait for the commit.

use crate::service::{canonical_dims, CloudWatchService, UNITS};
use crate::store::{Change, MetricKey, Point};
use nimbus_core::internal::{MetricDatum, MetricSink};

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
}
