//! CloudWatch metrics through the AWS SDK for Rust, which speaks Smithy RPC v2 CBOR to
//! CloudWatch: a second CBOR implementation (besides botocore's) against nimbus's codec —
//! timestamps (tag 1), doubles, nested structures, maps (ExtendedStatistics), errors.
//! <https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_PutMetricData.html>
//! <https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_GetMetricStatistics.html>

use aws_sdk_cloudwatch::error::ProvideErrorMetadata;
use aws_sdk_cloudwatch::primitives::DateTime;
use aws_sdk_cloudwatch::types::{Dimension, Metric, MetricDataQuery, MetricDatum, MetricStat, StandardUnit, Statistic, StatisticSet};
use nimbus_tests::Nimbus;

/// The hour before nimbus's clock's current hour, in epoch seconds.
fn hour_ago(n: &Nimbus) -> i64 {
    let (_, body) = n.http("GET", "/_nimbus/clock", None).expect("clock");
    let v: serde_json::Value = serde_json::from_str(&body).expect("clock json");
    let ms = v["now_ms"].as_i64().expect("now_ms");
    (ms / 3_600_000) * 3600 - 3600
}

#[tokio::test]
async fn put_and_read_back_over_cbor() {
    let n = Nimbus::start_in_memory();
    let c = n.cloudwatch_client();
    let t = hour_ago(&n);
    let dim = Dimension::builder().name("Service").value("orders").build();
    c.put_metric_data()
        .namespace("RustApp")
        .metric_data(MetricDatum::builder().metric_name("Latency").dimensions(dim.clone()).timestamp(DateTime::from_secs(t + 1)).unit(StandardUnit::Milliseconds).values(1.5).values(2.5).counts(1.0).counts(3.0).build())
        .metric_data(
            MetricDatum::builder()
                .metric_name("Latency")
                .dimensions(dim.clone())
                .timestamp(DateTime::from_secs(t + 2))
                .unit(StandardUnit::Milliseconds)
                .statistic_values(StatisticSet::builder().sample_count(2.0).sum(20.0).minimum(5.0).maximum(15.0).build())
                .build(),
        )
        .send()
        .await
        .expect("put_metric_data");

    let out = c
        .get_metric_statistics()
        .namespace("RustApp")
        .metric_name("Latency")
        .dimensions(dim.clone())
        .start_time(DateTime::from_secs(t))
        .end_time(DateTime::from_secs(t + 600))
        .period(60)
        .statistics(Statistic::Sum)
        .statistics(Statistic::SampleCount)
        .statistics(Statistic::Maximum)
        .send()
        .await
        .expect("get_metric_statistics");
    let [p] = out.datapoints() else { panic!("one datapoint: {out:?}") };
    assert_eq!(p.timestamp(), Some(&DateTime::from_secs(t)));
    assert_eq!(p.sum(), Some(1.5 + 7.5 + 20.0));
    assert_eq!(p.sample_count(), Some(6.0));
    assert_eq!(p.maximum(), Some(15.0));
    assert_eq!(p.unit(), Some(&StandardUnit::Milliseconds));

    let out = c
        .get_metric_statistics()
        .namespace("RustApp")
        .metric_name("Latency")
        .dimensions(dim.clone())
        .start_time(DateTime::from_secs(t))
        .end_time(DateTime::from_secs(t + 600))
        .period(60)
        .extended_statistics("p50")
        .send()
        .await
        .expect("percentiles");
    let ext = out.datapoints()[0].extended_statistics().expect("extended statistics");
    assert_eq!(ext.get("p50"), Some(&2.5));

    let listed = c.list_metrics().namespace("RustApp").send().await.expect("list_metrics");
    assert_eq!(listed.metrics().len(), 1);
    assert_eq!(listed.metrics()[0].dimensions(), &[dim.clone()]);

    let metric = Metric::builder().namespace("RustApp").metric_name("Latency").dimensions(dim).build();
    let data = c
        .get_metric_data()
        .start_time(DateTime::from_secs(t))
        .end_time(DateTime::from_secs(t + 600))
        .metric_data_queries(MetricDataQuery::builder().id("m").metric_stat(MetricStat::builder().metric(metric).period(60).stat("Minimum").build()).build())
        .metric_data_queries(MetricDataQuery::builder().id("twice").expression("m * 2").build())
        .send()
        .await
        .expect("get_metric_data");
    let results = data.metric_data_results();
    assert_eq!(results.len(), 2);
    assert_eq!(results[0].values(), &[1.5]);
    assert_eq!(results[1].values(), &[3.0]);
    assert_eq!(results[1].timestamps(), &[DateTime::from_secs(t)]);
}

#[tokio::test]
async fn errors_carry_aws_codes_over_cbor() {
    let n = Nimbus::start_in_memory();
    let c = n.cloudwatch_client();
    let e = c
        .put_metric_data()
        .namespace("AWS/Lambda")
        .metric_data(MetricDatum::builder().metric_name("x").value(1.0).build())
        .send()
        .await
        .expect_err("reserved namespace");
    assert_eq!(e.code(), Some("InvalidParameterValue"), "{e:?}");
    assert!(e.into_service_error().is_invalid_parameter_value_exception());

    let e = c.describe_alarms().send().await.expect_err("alarms are not served yet");
    assert!(e.message().unwrap_or_default().contains("is not supported by nimbus"), "{e:?}");
}
