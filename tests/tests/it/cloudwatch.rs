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

    let e = c.list_dashboards().send().await.expect_err("dashboards are not served");
    assert!(e.message().unwrap_or_default().contains("is not supported by nimbus"), "{e:?}");
}

// ---------------------------------------------------------------------------- alarms
// <https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_PutMetricAlarm.html>
// <https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/AlarmThatSendsEmail.html>

use aws_sdk_cloudwatch::types::{AlarmType, ComparisonOperator, HistoryItemType, StateValue};

/// nimbus's clock, in ms.
fn clock_ms(n: &Nimbus) -> i64 {
    let (_, body) = n.http("GET", "/_nimbus/clock", None).expect("clock");
    let v: serde_json::Value = serde_json::from_str(&body).expect("clock json");
    v["now_ms"].as_i64().expect("now_ms")
}

/// Moves the clock one second past the next minute boundary and returns the boundary
/// (ms), leaving most of a minute of real time before the next evaluation.
fn fresh_period(n: &Nimbus) -> i64 {
    let t = clock_ms(n);
    let boundary = (t / 60_000 + 1) * 60_000;
    assert_eq!(n.advance_clock(((boundary + 1_000 - t + 999) / 1000) as u64), 200);
    boundary
}

/// The metric alarm once it is in `state` (evaluation runs right after the clock moves).
async fn wait_state(c: &aws_sdk_cloudwatch::Client, name: &str, state: StateValue) -> aws_sdk_cloudwatch::types::MetricAlarm {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(15);
    loop {
        let out = c.describe_alarms().alarm_names(name).send().await.expect("describe_alarms");
        let a = out.metric_alarms().first().cloned().expect("the alarm");
        if a.state_value() == Some(&state) || std::time::Instant::now() > deadline {
            assert_eq!(a.state_value(), Some(&state), "{a:?}");
            return a;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn alarm_goes_to_alarm_over_cbor_and_notifies_an_sns_topic() {
    let n = Nimbus::start_with_clock_control();
    let (c, sns, sqs) = (n.cloudwatch_client(), n.sns_client(), n.sqs_client());
    let topic = sns.create_topic().name("alarms").send().await.expect("topic").topic_arn().expect("arn").to_string();
    let q = sqs.create_queue().queue_name("alarm-inbox").send().await.expect("queue").queue_url().expect("url").to_string();
    let q_arn = sqs.get_queue_attributes().queue_url(&q).attribute_names(aws_sdk_sqs::types::QueueAttributeName::QueueArn).send().await.expect("attrs");
    let q_arn = q_arn.attributes().and_then(|a| a.get(&aws_sdk_sqs::types::QueueAttributeName::QueueArn)).expect("queue arn").clone();
    sns.subscribe().topic_arn(&topic).protocol("sqs").endpoint(q_arn).send().await.expect("subscribe");

    let dim = Dimension::builder().name("FunctionName").value("orders").build();
    c.put_metric_alarm()
        .alarm_name("rust-errors")
        .namespace("RustApp")
        .metric_name("Errors")
        .dimensions(dim.clone())
        .statistic(Statistic::Maximum)
        .period(60)
        .evaluation_periods(2)
        .datapoints_to_alarm(1)
        .threshold(10.0)
        .comparison_operator(ComparisonOperator::GreaterThanThreshold)
        .alarm_actions(&topic)
        .send()
        .await
        .expect("put_metric_alarm");
    let b = fresh_period(&n);
    c.put_metric_data()
        .namespace("RustApp")
        .metric_data(MetricDatum::builder().metric_name("Errors").dimensions(dim.clone()).timestamp(DateTime::from_millis(b + 2_000)).value(12.5).build())
        .send()
        .await
        .expect("put_metric_data");
    assert_eq!(n.advance_clock(60), 200);
    let a = wait_state(&c, "rust-errors", StateValue::Alarm).await;
    assert!(a.state_reason().unwrap_or_default().starts_with("Threshold Crossed: 1 out of the last 2 datapoints [12.5 ("), "{a:?}");
    assert!(a.state_reason().unwrap_or_default().ends_with("was greater than the threshold (10.0) (minimum 1 datapoint for OK -> ALARM transition)."), "{a:?}");
    let data: serde_json::Value = serde_json::from_str(a.state_reason_data().expect("reason data")).expect("json");
    assert_eq!(data["statistic"], "Maximum");
    assert_eq!(data["evaluatedDatapoints"].as_array().map(Vec::len), Some(2));
    // Timestamps over CBOR (tag 1): the transition happened on nimbus's (moved) clock.
    let moved = a.state_transitioned_timestamp().expect("transitioned").to_millis().expect("ms");
    assert!(moved >= b + 60_000, "{moved} vs {b}");

    let got = sqs.receive_message().queue_url(&q).wait_time_seconds(10).send().await.expect("receive");
    let msg = got.messages().first().expect("the alarm notification");
    let envelope: serde_json::Value = serde_json::from_str(msg.body().expect("body")).expect("envelope");
    assert_eq!(envelope["Subject"], "ALARM: \"rust-errors\" in US East (N. Virginia)");
    let m: serde_json::Value = serde_json::from_str(envelope["Message"].as_str().expect("message")).expect("alarm json");
    assert_eq!(m["NewStateValue"], "ALARM");
    assert_eq!(m["Trigger"]["Statistic"], "MAXIMUM");
    assert_eq!(m["Trigger"]["DatapointsToAlarm"], 1);
    assert_eq!(m["Trigger"]["Dimensions"], serde_json::json!([{"value": "orders", "name": "FunctionName"}]));

    let history = c.describe_alarm_history().alarm_name("rust-errors").history_item_type(HistoryItemType::StateUpdate).send().await.expect("history");
    assert_eq!(history.alarm_history_items().len(), 1);
    assert_eq!(history.alarm_history_items()[0].alarm_type(), Some(&AlarmType::MetricAlarm));
}

#[tokio::test]
async fn alarm_errors_carry_aws_codes_over_cbor() {
    let n = Nimbus::start_in_memory();
    let c = n.cloudwatch_client();
    let e = c
        .put_metric_alarm()
        .alarm_name("bad")
        .namespace("RustApp")
        .metric_name("Errors")
        .statistic(Statistic::Sum)
        .period(60)
        .evaluation_periods(2)
        .datapoints_to_alarm(3)
        .threshold(1.0)
        .comparison_operator(ComparisonOperator::GreaterThanThreshold)
        .send()
        .await
        .expect_err("M > N");
    assert_eq!(e.code(), Some("ValidationError"), "{e:?}");
    assert_eq!(e.message(), Some("DatapointsToAlarm must be less than or equal to EvaluationPeriods"));
    let e = c.set_alarm_state().alarm_name("nope").state_value(StateValue::Ok).state_reason("x").send().await.expect_err("no such alarm");
    assert!(e.into_service_error().is_resource_not_found(), "ResourceNotFound");
}

#[tokio::test]
async fn alarms_survive_a_restart_and_keep_evaluating() {
    let mut n = Nimbus::start_with_clock_control();
    if n.is_external() {
        return;
    }
    let c = n.cloudwatch_client();
    c.put_metric_alarm()
        .alarm_name("durable")
        .namespace("RustApp")
        .metric_name("Depth")
        .statistic(Statistic::Average)
        .period(60)
        .evaluation_periods(1)
        .threshold(100.0)
        .comparison_operator(ComparisonOperator::GreaterThanOrEqualToThreshold)
        .send()
        .await
        .expect("put_metric_alarm");
    c.set_alarm_state().alarm_name("durable").state_value(StateValue::Alarm).state_reason("set before the restart").send().await.expect("set_alarm_state");
    n.kill9();
    n.restart();
    let c = n.cloudwatch_client();
    let a = wait_state(&c, "durable", StateValue::Alarm).await;
    assert_eq!(a.state_reason(), Some("set before the restart"));
    // The timer runs again after the restart: a low value brings it back to OK.
    let b = fresh_period(&n);
    c.put_metric_data()
        .namespace("RustApp")
        .metric_data(MetricDatum::builder().metric_name("Depth").timestamp(DateTime::from_millis(b + 1_000)).value(3.0).build())
        .send()
        .await
        .expect("put_metric_data");
    assert_eq!(n.advance_clock(60), 200);
    wait_state(&c, "durable", StateValue::Ok).await;
}
