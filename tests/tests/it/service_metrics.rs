//! The standard metrics nimbus's services emit, read back through CloudWatch with the AWS
//! SDK for Rust (ListMetrics, GetMetricStatistics): AWS/Lambda, AWS/SQS and AWS/DynamoDB
//! with AWS's names, dimensions and units.
//! <https://docs.aws.amazon.com/lambda/latest/dg/monitoring-metrics-types.html>
//! <https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/sqs-available-cloudwatch-metrics.html>
//! <https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/metrics-dimensions.html>
//!
//! Metrics are aggregated in memory and flushed every few seconds of nimbus's clock, at
//! once when the clock moves: the tests advance the clock, then wait (with a deadline) for
//! the expected value.

use aws_sdk_cloudwatch::primitives::DateTime;
use aws_sdk_cloudwatch::types::{Datapoint, Dimension, StandardUnit, Statistic};
use aws_sdk_dynamodb::types::{AttributeDefinition, AttributeValue, BillingMode, KeySchemaElement, KeyType, ReturnConsumedCapacity, ScalarAttributeType};
use nimbus_tests::lambda::{self, FnSpec};
use nimbus_tests::{unique_name, Nimbus};
use serde_json::json;
use std::time::{Duration, Instant};

fn now_s(n: &Nimbus) -> i64 {
    let (_, body) = n.http("GET", "/_nimbus/clock", None).expect("clock");
    let v: serde_json::Value = serde_json::from_str(&body).expect("clock json");
    v["now_ms"].as_i64().expect("now_ms") / 1000
}

fn dims(pairs: &[(&str, &str)]) -> Vec<Dimension> {
    pairs.iter().map(|(k, v)| Dimension::builder().name(*k).value(*v).build()).collect()
}

/// Every datapoint of a metric over the last two hours and the next one (one-minute periods).
async fn points(n: &Nimbus, namespace: &str, name: &str, d: &[(&str, &str)]) -> Vec<Datapoint> {
    let c = n.cloudwatch_client();
    let now = now_s(n);
    let out = c
        .get_metric_statistics()
        .namespace(namespace)
        .metric_name(name)
        .set_dimensions(Some(dims(d)))
        .start_time(DateTime::from_secs(now - 7200))
        .end_time(DateTime::from_secs(now + 3600))
        .period(60)
        .statistics(Statistic::Sum)
        .statistics(Statistic::SampleCount)
        .statistics(Statistic::Maximum)
        .statistics(Statistic::Minimum)
        .send()
        .await
        .unwrap_or_else(|e| panic!("get_metric_statistics {namespace} {name}: {e:?}"));
    out.datapoints().to_vec()
}

fn sum(points: &[Datapoint]) -> f64 {
    points.iter().filter_map(|p| p.sum()).sum()
}

/// Waits (deadline 20 s) until the metric's Sum reaches `want`; then checks it is exactly it.
async fn wait_sum(n: &Nimbus, namespace: &str, name: &str, d: &[(&str, &str)], want: f64) -> Vec<Datapoint> {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let p = points(n, namespace, name, d).await;
        let got = sum(&p);
        if got >= want || Instant::now() > deadline {
            assert_eq!(got, want, "{namespace} {name} {d:?}: {p:?}");
            return p;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test]
async fn lambda_invocations_errors_duration_and_throttles() {
    let n = Nimbus::start_with_clock_control();
    let c = n.lambda_client();
    let name = unique_name("metrics-fn");
    lambda::create(&c, &name, FnSpec::rust()).await;
    for i in 0..3 {
        let r = lambda::invoke(&c, &name, &json!({"action": "echo", "i": i})).await;
        assert_eq!(r.function_error, None);
    }
    for _ in 0..2 {
        let r = lambda::invoke(&c, &name, &json!({"action": "fail", "message": "boom"})).await;
        assert_eq!(r.function_error.as_deref(), Some("Unhandled"));
    }
    // A throttled call counts as a Throttle, not an Invocation.
    c.put_function_concurrency().function_name(&name).reserved_concurrent_executions(0).send().await.expect("put concurrency");
    let err = c.invoke().function_name(&name).send().await.expect_err("throttled");
    assert!(format!("{err:?}").contains("TooManyRequests"), "{err:?}");
    n.advance_clock(60);

    let f = [("FunctionName", name.as_str())];
    wait_sum(&n, "AWS/Lambda", "Invocations", &f, 5.0).await;
    wait_sum(&n, "AWS/Lambda", "Errors", &f, 2.0).await;
    wait_sum(&n, "AWS/Lambda", "Throttles", &f, 1.0).await;
    let resource = [("FunctionName", name.as_str()), ("Resource", name.as_str())];
    wait_sum(&n, "AWS/Lambda", "Invocations", &resource, 5.0).await;
    let duration = points(&n, "AWS/Lambda", "Duration", &f).await;
    assert_eq!(duration.iter().filter_map(|p| p.sample_count()).sum::<f64>(), 5.0, "{duration:?}");
    assert!(duration.iter().all(|p| p.unit() == Some(&StandardUnit::Milliseconds) && p.maximum().unwrap_or(0.0) > 0.0), "{duration:?}");
    let concurrency = points(&n, "AWS/Lambda", "ConcurrentExecutions", &f).await;
    assert_eq!(concurrency.iter().filter_map(|p| p.maximum()).fold(0.0, f64::max), 1.0, "{concurrency:?}");
    // The account-wide aggregate has no dimension.
    assert!(sum(&points(&n, "AWS/Lambda", "Invocations", &[]).await) >= 5.0);

    let cw = n.cloudwatch_client();
    let listed = cw.list_metrics().namespace("AWS/Lambda").metric_name("Invocations").send().await.expect("list_metrics");
    let mut sets: Vec<Vec<String>> = listed.metrics().iter().map(|m| m.dimensions().iter().map(|d| d.name().unwrap_or("").to_string()).collect()).collect();
    sets.sort();
    sets.dedup();
    assert_eq!(sets, vec![vec![], vec!["FunctionName".to_string()], vec!["FunctionName".to_string(), "Resource".to_string()]]);
}

#[tokio::test]
async fn sqs_counters_and_depth_gauges() {
    let n = Nimbus::start_with_clock_control();
    let c = n.sqs_client();
    let qname = unique_name("metrics-q");
    let url = c.create_queue().queue_name(&qname).send().await.expect("create").queue_url.expect("url");
    let empty_name = unique_name("metrics-empty");
    let empty = c.create_queue().queue_name(&empty_name).send().await.expect("create").queue_url.expect("url");
    let bodies = ["a", "bb", "cccc"];
    for b in bodies {
        c.send_message().queue_url(&url).message_body(b).send().await.expect("send");
    }
    let mut handles = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(10);
    while handles.len() < 3 && Instant::now() < deadline {
        let out = c.receive_message().queue_url(&url).max_number_of_messages(10).wait_time_seconds(1).send().await.expect("receive");
        handles.extend(out.messages().iter().filter_map(|m| m.receipt_handle().map(str::to_string)));
    }
    assert_eq!(handles.len(), 3);
    for h in &handles[..2] {
        c.delete_message().queue_url(&url).receipt_handle(h).send().await.expect("delete");
    }
    let out = c.receive_message().queue_url(&empty).wait_time_seconds(0).send().await.expect("empty receive");
    assert!(out.messages().is_empty());
    n.advance_clock(60);

    let q = [("QueueName", qname.as_str())];
    wait_sum(&n, "AWS/SQS", "NumberOfMessagesSent", &q, 3.0).await;
    wait_sum(&n, "AWS/SQS", "NumberOfMessagesReceived", &q, 3.0).await;
    wait_sum(&n, "AWS/SQS", "NumberOfMessagesDeleted", &q, 2.0).await;
    wait_sum(&n, "AWS/SQS", "NumberOfEmptyReceives", &[("QueueName", empty_name.as_str())], 1.0).await;
    let size = wait_sum(&n, "AWS/SQS", "SentMessageSize", &q, 7.0).await;
    assert!(size.iter().all(|p| p.unit() == Some(&StandardUnit::Bytes)), "{size:?}");
    assert_eq!(size.iter().filter_map(|p| p.maximum()).fold(0.0, f64::max), 4.0);
    // Sampled at the minute: the one message left is visible again (its 30 s visibility
    // timeout ran out when the clock moved), and 60 s old.
    wait_sum(&n, "AWS/SQS", "ApproximateNumberOfMessagesVisible", &q, 1.0).await;
    let not_visible = points(&n, "AWS/SQS", "ApproximateNumberOfMessagesNotVisible", &q).await;
    assert_eq!(sum(&not_visible), 0.0, "{not_visible:?}");
    assert!(!not_visible.is_empty(), "the gauge is published with 0");
    let age = points(&n, "AWS/SQS", "ApproximateAgeOfOldestMessage", &q).await;
    assert!(age.iter().all(|p| p.unit() == Some(&StandardUnit::Seconds)), "{age:?}");
    assert!(age.iter().filter_map(|p| p.maximum()).fold(0.0, f64::max) >= 60.0, "{age:?}");
    // The empty queue is active too (it was read): its gauges are 0.
    let visible_empty = points(&n, "AWS/SQS", "ApproximateNumberOfMessagesVisible", &[("QueueName", empty_name.as_str())]).await;
    assert_eq!(sum(&visible_empty), 0.0);
}

#[tokio::test]
async fn dynamodb_capacity_latency_and_failed_conditions() {
    let n = Nimbus::start_with_clock_control();
    let c = n.dynamodb_client();
    let table = unique_name("metrics-t");
    c.create_table()
        .table_name(&table)
        .attribute_definitions(AttributeDefinition::builder().attribute_name("pk").attribute_type(ScalarAttributeType::S).build().expect("ad"))
        .key_schema(KeySchemaElement::builder().attribute_name("pk").key_type(KeyType::Hash).build().expect("ks"))
        .billing_mode(BillingMode::PayPerRequest)
        .send()
        .await
        .expect("create table");
    for k in ["a", "b"] {
        let out = c.put_item().table_name(&table).item("pk", AttributeValue::S(k.into())).send().await.expect("put");
        assert!(out.consumed_capacity().is_none(), "not asked for: {out:?}");
    }
    let got = c.get_item().table_name(&table).key("pk", AttributeValue::S("a".into())).return_consumed_capacity(ReturnConsumedCapacity::Total).send().await.expect("get");
    let cc = got.consumed_capacity().expect("asked for TOTAL");
    assert_eq!(cc.capacity_units(), Some(0.5));
    assert!(cc.table().is_none(), "TOTAL has no per-table breakdown: {cc:?}");
    let q = c.query().table_name(&table).key_condition_expression("pk = :k").expression_attribute_values(":k", AttributeValue::S("b".into())).send().await.expect("query");
    assert_eq!(q.count(), 1);
    assert!(q.consumed_capacity().is_none());
    let failed = c
        .put_item()
        .table_name(&table)
        .item("pk", AttributeValue::S("a".into()))
        .condition_expression("attribute_not_exists(pk)")
        .send()
        .await
        .expect_err("condition fails");
    assert!(format!("{failed:?}").contains("ConditionalCheckFailedException"));
    // A ValidationException: a user error.
    c.get_item().table_name(&table).key("nope", AttributeValue::S("a".into())).send().await.expect_err("wrong key");
    n.advance_clock(60);

    let t = [("TableName", table.as_str())];
    wait_sum(&n, "AWS/DynamoDB", "ConsumedWriteCapacityUnits", &t, 2.0).await;
    wait_sum(&n, "AWS/DynamoDB", "ConsumedReadCapacityUnits", &t, 1.0).await;
    wait_sum(&n, "AWS/DynamoDB", "ConditionalCheckFailedRequests", &t, 1.0).await;
    wait_sum(&n, "AWS/DynamoDB", "ReturnedItemCount", &[("TableName", table.as_str()), ("Operation", "Query")], 1.0).await;
    let latency = points(&n, "AWS/DynamoDB", "SuccessfulRequestLatency", &[("TableName", table.as_str()), ("Operation", "PutItem")]).await;
    assert_eq!(latency.iter().filter_map(|p| p.sample_count()).sum::<f64>(), 2.0, "{latency:?}");
    assert!(latency.iter().all(|p| p.unit() == Some(&StandardUnit::Milliseconds)));
    assert!(sum(&points(&n, "AWS/DynamoDB", "UserErrors", &[]).await) >= 1.0);
}

/// Creates a standard queue; returns (url, arn).
async fn queue(n: &Nimbus, prefix: &str) -> (String, String) {
    let c = n.sqs_client();
    let url = c.create_queue().queue_name(unique_name(prefix)).send().await.expect("create queue").queue_url.expect("url");
    let attrs = c.get_queue_attributes().queue_url(&url).attribute_names(aws_sdk_sqs::types::QueueAttributeName::QueueArn).send().await.expect("attrs");
    let arn = attrs.attributes().and_then(|a| a.get(&aws_sdk_sqs::types::QueueAttributeName::QueueArn)).expect("arn").to_string();
    (url, arn)
}

/// Receives until `want` messages arrived (deadline 20 s).
async fn drain(n: &Nimbus, url: &str, want: usize) {
    let c = n.sqs_client();
    let (mut got, deadline) = (0, Instant::now() + Duration::from_secs(20));
    while got < want && Instant::now() < deadline {
        let out = c.receive_message().queue_url(url).max_number_of_messages(10).wait_time_seconds(2).send().await.expect("receive");
        got += out.messages().len();
    }
    assert_eq!(got, want);
}

#[tokio::test]
async fn sns_publishes_and_deliveries_and_eventbridge_rules() {
    let n = Nimbus::start_with_clock_control();
    // SNS: two publishes to a topic with one SQS subscriber.
    let sns = n.sns_client();
    let topic_name = unique_name("metrics-topic");
    let topic = sns.create_topic().name(&topic_name).send().await.expect("create topic").topic_arn.expect("arn");
    let (sub_url, sub_arn) = queue(&n, "metrics-sub").await;
    sns.subscribe().topic_arn(&topic).protocol("sqs").endpoint(&sub_arn).send().await.expect("subscribe");
    for m in ["hello", "world!"] {
        sns.publish().topic_arn(&topic).message(m).send().await.expect("publish");
    }
    drain(&n, &sub_url, 2).await;
    // EventBridge: a rule on the default bus matching two of three events, an SQS target.
    let ev = n.events_client();
    let rule = unique_name("metrics-rule");
    ev.put_rule().name(&rule).event_pattern(r#"{"source": ["metrics.test"]}"#).send().await.expect("put_rule");
    let (target_url, target_arn) = queue(&n, "metrics-target").await;
    ev.put_targets().rule(&rule).targets(aws_sdk_eventbridge::types::Target::builder().id("q").arn(&target_arn).build().expect("target")).send().await.expect("put_targets");
    let entry = |source: &str| aws_sdk_eventbridge::types::PutEventsRequestEntry::builder().source(source).detail_type("T").detail("{}").build();
    ev.put_events().entries(entry("metrics.test")).entries(entry("metrics.test")).entries(entry("other")).send().await.expect("put_events");
    drain(&n, &target_url, 2).await;
    n.advance_clock(60);

    let t = [("TopicName", topic_name.as_str())];
    wait_sum(&n, "AWS/SNS", "NumberOfMessagesPublished", &t, 2.0).await;
    wait_sum(&n, "AWS/SNS", "NumberOfNotificationsDelivered", &t, 2.0).await;
    let size = wait_sum(&n, "AWS/SNS", "PublishSize", &t, 11.0).await;
    assert!(size.iter().all(|p| p.unit() == Some(&StandardUnit::Bytes)));
    assert!(points(&n, "AWS/SNS", "NumberOfNotificationsFailed", &t).await.is_empty());

    let r = [("RuleName", rule.as_str())];
    wait_sum(&n, "AWS/Events", "MatchedEvents", &r, 2.0).await;
    wait_sum(&n, "AWS/Events", "TriggeredRules", &r, 2.0).await;
    wait_sum(&n, "AWS/Events", "Invocations", &[("EventBusName", "default"), ("RuleName", rule.as_str())], 2.0).await;
    assert!(points(&n, "AWS/Events", "FailedInvocations", &r).await.is_empty());
}

#[tokio::test]
async fn http_api_requests_count_errors_and_latency() {
    let n = Nimbus::start_with_clock_control();
    let l = n.lambda_client();
    let f = unique_name("metrics-api-fn");
    let arn = lambda::create(&l, &f, FnSpec::rust()).await;
    let gw = n.apigateway_client();
    let api = gw.create_api().name("metrics").protocol_type(aws_sdk_apigatewayv2::types::ProtocolType::Http).target(&arn).route_key("GET /pets").send().await.expect("quick create");
    let id = api.api_id().expect("id").to_string();
    for _ in 0..2 {
        let (status, body) = n.http("GET", &format!("/_aws/execute-api/{id}/pets"), None).expect("call");
        assert_eq!(status, 200, "{body}");
    }
    let (status, _) = n.http("GET", &format!("/_aws/execute-api/{id}/nope"), None).expect("call");
    assert_eq!(status, 404);
    n.advance_clock(60);

    let a = [("ApiId", id.as_str())];
    wait_sum(&n, "AWS/ApiGateway", "Count", &a, 3.0).await;
    wait_sum(&n, "AWS/ApiGateway", "4xx", &a, 1.0).await;
    let s = [("ApiId", id.as_str()), ("Stage", "$default")];
    wait_sum(&n, "AWS/ApiGateway", "Count", &s, 3.0).await;
    let five = points(&n, "AWS/ApiGateway", "5xx", &a).await;
    assert_eq!((sum(&five), five.iter().filter_map(|p| p.sample_count()).sum::<f64>()), (0.0, 3.0), "{five:?}");
    let latency = points(&n, "AWS/ApiGateway", "Latency", &a).await;
    assert_eq!(latency.iter().filter_map(|p| p.sample_count()).sum::<f64>(), 3.0);
    let integration = points(&n, "AWS/ApiGateway", "IntegrationLatency", &a).await;
    assert_eq!(integration.iter().filter_map(|p| p.sample_count()).sum::<f64>(), 2.0, "only requests that reached the integration");
    assert!(sum(&points(&n, "AWS/ApiGateway", "DataProcessed", &a).await) > 0.0);
}
