//! S3 object events through real clients and real destinations: an object put reaching a
//! queue (AWS's record shape), Rust, Python and Node functions (Lambda's asynchronous
//! invoke, whose OnSuccess destination shows the event each function got), the
//! `s3:TestEvent`, prefix / suffix filters, a failing function's event in its dead-letter
//! queue after the retries (on the clock), SNS and EventBridge destinations, lifecycle
//! expiration after a clock advance with its event, a function deployed from an S3 key,
//! and bad configurations with S3's errors.
//! <https://docs.aws.amazon.com/AmazonS3/latest/userguide/notification-content-structure.html>

use aws_sdk_lambda::types::{DeadLetterConfig, DestinationConfig, FunctionCode, OnSuccess};
use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::{
    BucketLifecycleConfiguration, Event, EventBridgeConfiguration, ExpirationStatus, FilterRule, FilterRuleName, LambdaFunctionConfiguration, LifecycleExpiration, LifecycleRule,
    LifecycleRuleFilter, NotificationConfiguration, NotificationConfigurationFilter, QueueConfiguration, S3KeyFilter, TopicConfiguration,
};
use aws_sdk_sqs::types::QueueAttributeName;
use nimbus_tests::lambda::{self, FnSpec};
use nimbus_tests::{sqs, unique_name, Nimbus};
use serde_json::{json, Value};
use std::time::{Duration, Instant};

async fn queue(n: &Nimbus) -> (String, String) {
    let c = n.sqs_client();
    let url = sqs::create_queue(&c, &unique_name("s3ev"), &[]).await;
    let arn = sqs::queue_attrs(&c, &url).await.remove(&QueueAttributeName::QueueArn).expect("QueueArn");
    (url, arn)
}

async fn bucket(n: &Nimbus) -> String {
    let name = unique_name("events").to_lowercase().replace('_', "-");
    n.s3_client().create_bucket().bucket(&name).send().await.expect("create bucket");
    name
}

/// Up to `secs` for one message (deleted); None if none came.
async fn next_message(n: &Nimbus, url: &str, secs: u64) -> Option<Value> {
    let c = n.sqs_client();
    let deadline = Instant::now() + Duration::from_secs(secs);
    while Instant::now() < deadline {
        if let Some(m) = sqs::receive(&c, url, 1, 1, Some(30)).await.into_iter().next() {
            sqs::delete(&c, url, &m).await;
            return Some(serde_json::from_str(m.body().unwrap_or_default()).expect("JSON body"));
        }
    }
    None
}

async fn expect_message(n: &Nimbus, url: &str) -> Value {
    next_message(n, url, 10).await.unwrap_or_else(|| panic!("no message within 10 s\n{}", n.log_tail(3000)))
}

fn key_filter(prefix: Option<&str>, suffix: Option<&str>) -> NotificationConfigurationFilter {
    let mut k = S3KeyFilter::builder();
    if let Some(p) = prefix {
        k = k.filter_rules(FilterRule::builder().name(FilterRuleName::Prefix).value(p).build());
    }
    if let Some(s) = suffix {
        k = k.filter_rules(FilterRule::builder().name(FilterRuleName::Suffix).value(s).build());
    }
    NotificationConfigurationFilter::builder().key(k.build()).build()
}

fn queue_config(id: &str, arn: &str, event: Event, prefix: Option<&str>, suffix: Option<&str>) -> QueueConfiguration {
    QueueConfiguration::builder().id(id).queue_arn(arn).events(event).filter(key_filter(prefix, suffix)).build().expect("queue config")
}

fn function_config(id: &str, arn: &str, prefix: &str) -> LambdaFunctionConfiguration {
    LambdaFunctionConfiguration::builder().id(id).lambda_function_arn(arn).events(Event::S3ObjectCreated).filter(key_filter(Some(prefix), None)).build().expect("fn config")
}

async fn put(n: &Nimbus, bucket: &str, key: &str, body: &str) -> (String, String) {
    use aws_sdk_s3::operation::RequestId;
    let out = n.s3_client().put_object().bucket(bucket).key(key).body(ByteStream::from(body.as_bytes().to_vec())).send().await.expect("put object");
    (out.e_tag().unwrap_or_default().trim_matches('"').to_string(), out.request_id().unwrap_or_default().to_string())
}

/// A function whose successful asynchronous runs land on `dest` (the record's
/// `requestPayload` is the event the function got).
async fn function_reporting_to(n: &Nimbus, name: &str, spec: FnSpec, dest: &str) -> String {
    let c = n.lambda_client();
    let arn = lambda::create(&c, name, spec).await;
    c.put_function_event_invoke_config()
        .function_name(name)
        .destination_config(DestinationConfig::builder().on_success(OnSuccess::builder().destination(dest).build()).build())
        .send()
        .await
        .expect("event invoke config");
    arn
}

fn node_spec() -> FnSpec {
    FnSpec { runtime: lambda::node_runtime(), handler: Some("index.handler".into()), zip: lambda::zip_dir(&lambda::functions_dir("node/cjs")), env: vec![], timeout: None }
}

#[tokio::test]
async fn object_put_reaches_a_queue_and_rust_python_node_functions() {
    let n = Nimbus::start_in_memory();
    let s3 = n.s3_client();
    let b = bucket(&n).await;
    let (url, qarn) = queue(&n).await;
    let (results, results_arn) = queue(&n).await;
    let rs = function_reporting_to(&n, &unique_name("rs"), FnSpec::rust(), &results_arn).await;
    let py = function_reporting_to(&n, &unique_name("py"), FnSpec::python("handler.echo"), &results_arn).await;
    let js = function_reporting_to(&n, &unique_name("js"), node_spec(), &results_arn).await;
    let config = NotificationConfiguration::builder()
        .queue_configurations(queue_config("to-queue", &qarn, Event::S3ObjectCreated, Some("q/"), Some(".txt")))
        .lambda_function_configurations(function_config("rs", &rs, "rs/"))
        .lambda_function_configurations(function_config("py", &py, "py/"))
        .lambda_function_configurations(function_config("js", &js, "js/"))
        .build();
    s3.put_bucket_notification_configuration().bucket(&b).notification_configuration(config).send().await.expect("put notification configuration");

    // The queue first gets S3's test event.
    let test = expect_message(&n, &url).await;
    assert_eq!(test["Service"], "Amazon S3", "{test}");
    assert_eq!(test["Event"], "s3:TestEvent", "{test}");
    assert_eq!(test["Bucket"], json!(b), "{test}");
    assert!(test["Time"].as_str().is_some_and(|t| t.ends_with('Z')) && test["RequestId"].is_string() && test["HostId"].is_string(), "{test}");

    // Read back: ids, ARNs, events and filters as put.
    let got = s3.get_bucket_notification_configuration().bucket(&b).send().await.expect("get configuration");
    assert_eq!(got.queue_configurations().len(), 1);
    assert_eq!(got.queue_configurations()[0].id(), Some("to-queue"));
    assert_eq!(got.lambda_function_configurations().len(), 3);
    let rules = got.queue_configurations()[0].filter().and_then(|f| f.key()).map(|k| k.filter_rules().to_vec()).unwrap_or_default();
    assert_eq!(rules.len(), 2, "{rules:?}");

    // Filtered out: wrong suffix, wrong prefix.
    put(&n, &b, "q/a.bin", "x").await;
    put(&n, &b, "other/a.txt", "x").await;
    let (etag, request_id) = put(&n, &b, "q/my file(1).txt", "hello").await;
    let rec = expect_message(&n, &url).await;
    let r = &rec["Records"][0];
    assert_eq!(r["eventVersion"], "2.1", "{rec}");
    assert_eq!(r["eventSource"], "aws:s3");
    assert_eq!(r["awsRegion"], "us-east-1");
    assert_eq!(r["eventName"], "ObjectCreated:Put");
    assert!(r["eventTime"].as_str().is_some_and(|t| t.len() == 24 && t.ends_with('Z')), "ISO 8601 with ms: {rec}");
    assert!(r["userIdentity"]["principalId"].is_string());
    assert!(r["requestParameters"]["sourceIPAddress"].is_string());
    assert_eq!(r["responseElements"]["x-amz-request-id"], json!(request_id), "{rec}");
    assert!(r["responseElements"]["x-amz-id-2"].is_string());
    let s = &r["s3"];
    assert_eq!(s["s3SchemaVersion"], "1.0");
    assert_eq!(s["configurationId"], "to-queue");
    assert_eq!(s["bucket"]["name"], json!(b));
    assert_eq!(s["bucket"]["arn"], json!(format!("arn:aws:s3:::{b}")));
    assert!(s["bucket"]["ownerIdentity"]["principalId"].is_string());
    assert_eq!(s["object"]["key"], "q/my+file%281%29.txt", "URL-encoded form-style: {rec}");
    assert_eq!(s["object"]["size"], 5);
    assert_eq!(s["object"]["eTag"], json!(etag));
    assert!(s["object"]["sequencer"].as_str().is_some_and(|q| q.len() >= 16 && q.chars().all(|c| c.is_ascii_hexdigit())), "{rec}");
    assert!(next_message(&n, &url, 1).await.is_none(), "the filtered-out puts sent nothing");

    // A second put of the same key: a larger sequencer.
    put(&n, &b, "q/my file(1).txt", "again").await;
    let second = expect_message(&n, &url).await;
    assert!(second["Records"][0]["s3"]["object"]["sequencer"].as_str() > s["object"]["sequencer"].as_str(), "sequencers increase per key");

    // Each function gets the event for its prefix.
    for key in ["rs/a", "py/b c", "js/d"] {
        put(&n, &b, key, "f").await;
    }
    let mut seen = Vec::new();
    for _ in 0..3 {
        let d = expect_message(&n, &results).await;
        assert_eq!(d["requestContext"]["condition"], "Success", "{d}");
        let event = &d["requestPayload"]["Records"][0];
        assert_eq!(event["eventSource"], "aws:s3", "{d}");
        assert_eq!(event["eventName"], "ObjectCreated:Put", "{d}");
        seen.push((event["s3"]["configurationId"].as_str().unwrap_or_default().to_string(), event["s3"]["object"]["key"].as_str().unwrap_or_default().to_string()));
    }
    seen.sort();
    assert_eq!(seen, vec![("js".into(), "js/d".into()), ("py".into(), "py/b+c".into()), ("rs".into(), "rs/a".into())]);
}

#[tokio::test]
async fn a_failing_functions_event_reaches_its_dead_letter_queue_after_the_retries() {
    let n = Nimbus::start_with_clock_control();
    let s3 = n.s3_client();
    let lc = n.lambda_client();
    let b = bucket(&n).await;
    let (dlq, dlq_arn) = queue(&n).await;
    let name = unique_name("fail");
    let arn = lambda::create(&lc, &name, FnSpec::python("handler.fail")).await;
    lc.update_function_configuration().function_name(&name).dead_letter_config(DeadLetterConfig::builder().target_arn(&dlq_arn).build()).send().await.expect("dlq");
    lc.put_function_event_invoke_config().function_name(&name).maximum_retry_attempts(1).send().await.expect("one retry");
    let config = NotificationConfiguration::builder()
        .lambda_function_configurations(LambdaFunctionConfiguration::builder().lambda_function_arn(&arn).events(Event::S3ObjectCreatedPut).build().expect("cfg"))
        .build();
    s3.put_bucket_notification_configuration().bucket(&b).notification_configuration(config).send().await.expect("put configuration");
    put(&n, &b, "boom", "x").await;
    assert!(next_message(&n, &dlq, 2).await.is_none(), "dead-lettered before the retry");
    assert_eq!(n.advance_clock(61), 200);
    let m = expect_message(&n, &dlq).await;
    assert_eq!(m["Records"][0]["eventName"], "ObjectCreated:Put", "the DLQ gets the S3 event: {m}");
    assert_eq!(m["Records"][0]["s3"]["object"]["key"], "boom");
}

#[tokio::test]
async fn sns_and_eventbridge_destinations() {
    let n = Nimbus::start_in_memory();
    let s3 = n.s3_client();
    let b = bucket(&n).await;
    let (url, qarn) = queue(&n).await;
    let sns = n.sns_client();
    let topic = sns.create_topic().name(unique_name("s3topic")).send().await.expect("topic").topic_arn.expect("arn");
    sns.subscribe().topic_arn(&topic).protocol("sqs").endpoint(&qarn).send().await.expect("subscribe");
    let (bus_url, bus_queue) = queue(&n).await;
    let ev = n.events_client();
    ev.put_rule().name("s3-created").event_pattern(json!({"source": ["aws.s3"], "detail-type": ["Object Created"]}).to_string()).send().await.expect("rule");
    ev.put_targets().rule("s3-created").targets(aws_sdk_eventbridge::types::Target::builder().id("q").arn(&bus_queue).build().expect("target")).send().await.expect("targets");
    let config = NotificationConfiguration::builder()
        .topic_configurations(TopicConfiguration::builder().id("t").topic_arn(&topic).events(Event::S3ObjectCreated).build().expect("cfg"))
        .event_bridge_configuration(EventBridgeConfiguration::builder().build())
        .build();
    s3.put_bucket_notification_configuration().bucket(&b).notification_configuration(config).send().await.expect("put configuration");
    let got = s3.get_bucket_notification_configuration().bucket(&b).send().await.expect("get");
    assert!(got.event_bridge_configuration().is_some());

    let test = expect_message(&n, &url).await;
    assert_eq!(test["Subject"], "Amazon S3 Notification", "{test}");
    let inner: Value = serde_json::from_str(test["Message"].as_str().unwrap_or_default()).expect("JSON message");
    assert_eq!(inner["Event"], "s3:TestEvent");

    put(&n, &b, "dir/a b.txt", "hello").await;
    let env = expect_message(&n, &url).await;
    assert_eq!(env["Subject"], "Amazon S3 Notification", "{env}");
    let rec: Value = serde_json::from_str(env["Message"].as_str().unwrap_or_default()).expect("JSON record");
    assert_eq!(rec["Records"][0]["s3"]["configurationId"], "t");
    assert_eq!(rec["Records"][0]["s3"]["object"]["key"], "dir/a+b.txt");

    let e = expect_message(&n, &bus_url).await;
    assert_eq!(e["source"], "aws.s3", "{e}");
    assert_eq!(e["detail-type"], "Object Created");
    assert_eq!(e["resources"], json!([format!("arn:aws:s3:::{b}")]));
    assert_eq!(e["detail"]["version"], "0");
    assert_eq!(e["detail"]["bucket"]["name"], json!(b));
    assert_eq!(e["detail"]["object"]["key"], "dir/a b.txt", "EventBridge keys are not URL-encoded: {e}");
    assert_eq!(e["detail"]["object"]["size"], 5);
    assert_eq!(e["detail"]["reason"], "PutObject");
}

#[tokio::test]
async fn lifecycle_expiration_after_a_clock_advance_emits_its_event() {
    let n = Nimbus::start_with_clock_control();
    let s3 = n.s3_client();
    let b = bucket(&n).await;
    let (url, qarn) = queue(&n).await;
    let rule = LifecycleRule::builder()
        .id("tmp-1d")
        .status(ExpirationStatus::Enabled)
        .filter(LifecycleRuleFilter::builder().prefix("tmp/").build())
        .expiration(LifecycleExpiration::builder().days(1).build())
        .build()
        .expect("rule");
    s3.put_bucket_lifecycle_configuration().bucket(&b).lifecycle_configuration(BucketLifecycleConfiguration::builder().rules(rule).build().expect("lc")).send().await.expect("put lifecycle");
    let got = s3.get_bucket_lifecycle_configuration().bucket(&b).send().await.expect("get lifecycle");
    assert_eq!(got.rules()[0].id(), Some("tmp-1d"));
    let config = NotificationConfiguration::builder().queue_configurations(queue_config("exp", &qarn, Event::S3LifecycleExpiration, None, None)).build();
    s3.put_bucket_notification_configuration().bucket(&b).notification_configuration(config).send().await.expect("put configuration");
    assert_eq!(expect_message(&n, &url).await["Event"], "s3:TestEvent");

    put(&n, &b, "tmp/old", "x").await;
    put(&n, &b, "keep/old", "x").await;
    let head = s3.head_object().bucket(&b).key("tmp/old").send().await.expect("head");
    let expiration = head.expiration().unwrap_or_default().to_string();
    assert!(expiration.starts_with("expiry-date=\"") && expiration.contains("00:00:00 GMT") && expiration.ends_with("rule-id=\"tmp-1d\""), "{expiration}");
    assert!(s3.head_object().bucket(&b).key("keep/old").send().await.expect("head").expiration().is_none());

    assert!(next_message(&n, &url, 1).await.is_none(), "nothing expires before its day");
    assert_eq!(n.advance_clock(2 * 86_400 + 60), 200);
    let rec = expect_message(&n, &url).await;
    assert_eq!(rec["Records"][0]["eventName"], "LifecycleExpiration:Delete", "{rec}");
    assert_eq!(rec["Records"][0]["s3"]["object"]["key"], "tmp/old");
    assert!(s3.head_object().bucket(&b).key("tmp/old").send().await.is_err(), "expired");
    s3.head_object().bucket(&b).key("keep/old").send().await.expect("the rule does not apply to it");

    s3.delete_bucket_lifecycle().bucket(&b).send().await.expect("delete lifecycle");
    let err = s3.get_bucket_lifecycle_configuration().bucket(&b).send().await.expect_err("gone");
    assert_eq!(err.into_service_error().meta().code(), Some("NoSuchLifecycleConfiguration"));
}

#[tokio::test]
async fn a_function_deployed_from_an_s3_key() {
    let n = Nimbus::start_in_memory();
    let s3 = n.s3_client();
    let lc = n.lambda_client();
    let b = bucket(&n).await;
    s3.put_object().bucket(&b).key("code/fn.zip").body(ByteStream::from(lambda::rust_zip())).send().await.expect("upload code");
    let name = unique_name("from-s3");
    lc.create_function()
        .function_name(&name)
        .runtime(aws_sdk_lambda::types::Runtime::Providedal2023)
        .role(lambda::ROLE)
        .code(FunctionCode::builder().s3_bucket(&b).s3_key("code/fn.zip").build())
        .send()
        .await
        .expect("create from S3");
    let out = lambda::invoke(&lc, &name, &json!({"action": "echo", "x": 1})).await;
    assert_eq!(out.payload["echo"]["x"], 1, "{:?}", out.payload);
    lc.update_function_code().function_name(&name).s3_bucket(&b).s3_key("code/fn.zip").send().await.expect("update from S3");

    let err = lc
        .create_function()
        .function_name(unique_name("missing"))
        .runtime(aws_sdk_lambda::types::Runtime::Providedal2023)
        .role(lambda::ROLE)
        .code(FunctionCode::builder().s3_bucket(&b).s3_key("code/none.zip").build())
        .send()
        .await
        .expect_err("no such key");
    let e = err.into_service_error();
    assert_eq!(e.meta().code(), Some("InvalidParameterValueException"));
    assert_eq!(e.meta().message(), Some("Error occurred while GetObject. S3 Error Code: NoSuchKey. S3 Error Message: The specified key does not exist."));
}

#[tokio::test]
async fn code_from_a_missing_bucket_is_lambdas_getobject_error() {
    let n = Nimbus::start_in_memory();
    let err = n
        .lambda_client()
        .create_function()
        .function_name(unique_name("nobucket"))
        .runtime(aws_sdk_lambda::types::Runtime::Providedal2023)
        .role(lambda::ROLE)
        .code(FunctionCode::builder().s3_bucket("no-such-bucket-here").s3_key("fn.zip").build())
        .send()
        .await
        .expect_err("no such bucket");
    let e = err.into_service_error();
    assert_eq!(e.meta().code(), Some("InvalidParameterValueException"));
    assert_eq!(e.meta().message(), Some("Error occurred while GetObject. S3 Error Code: NoSuchBucket. S3 Error Message: The specified bucket does not exist"));
}

#[tokio::test]
async fn bad_notification_configurations_answer_s3s_errors() {
    let n = Nimbus::start_in_memory();
    let s3 = n.s3_client();
    let b = bucket(&n).await;
    let (_, qarn) = queue(&n).await;
    let code_msg = |e: aws_sdk_s3::error::SdkError<aws_sdk_s3::operation::put_bucket_notification_configuration::PutBucketNotificationConfigurationError>| {
        let e = e.into_service_error();
        (e.meta().code().unwrap_or_default().to_string(), e.meta().message().unwrap_or_default().to_string())
    };
    let missing = "arn:aws:sqs:us-east-1:000000000000:no-such-queue";
    let config = NotificationConfiguration::builder().queue_configurations(queue_config("x", missing, Event::S3ObjectCreated, None, None)).build();
    let e = s3.put_bucket_notification_configuration().bucket(&b).notification_configuration(config).send().await.expect_err("missing queue");
    assert_eq!(code_msg(e), ("InvalidArgument".into(), "Unable to validate the following destination configurations".into()));
    let config = NotificationConfiguration::builder().queue_configurations(queue_config("x", missing, Event::S3ObjectCreated, None, None)).build();
    s3.put_bucket_notification_configuration().bucket(&b).notification_configuration(config).skip_destination_validation(true).send().await.expect("validation skipped");

    let overlap = NotificationConfiguration::builder()
        .queue_configurations(queue_config("a", &qarn, Event::S3ObjectCreated, Some("a/"), None))
        .queue_configurations(queue_config("b", &qarn, Event::S3ObjectCreatedPut, Some("a/b"), None))
        .build();
    let e = s3.put_bucket_notification_configuration().bucket(&b).notification_configuration(overlap).send().await.expect_err("overlap");
    assert_eq!(code_msg(e).1, "Configuration is ambiguously defined. Cannot have overlapping suffixes in two rules if the prefixes are overlapping for the same event type.");
    let bad_event = NotificationConfiguration::builder().queue_configurations(queue_config("a", &qarn, Event::from("s3:ObjectCreated:Nope"), None, None)).build();
    let e = s3.put_bucket_notification_configuration().bucket(&b).notification_configuration(bad_event).send().await.expect_err("bad event");
    assert_eq!(code_msg(e), ("InvalidArgument".into(), "The event is not supported for notifications".into()));
    let e = s3
        .put_bucket_notification_configuration()
        .bucket("no-such-bucket-xyz")
        .notification_configuration(NotificationConfiguration::builder().build())
        .send()
        .await
        .expect_err("no bucket");
    assert_eq!(code_msg(e).0, "NoSuchBucket");

    // An empty configuration turns notifications off.
    s3.put_bucket_notification_configuration().bucket(&b).notification_configuration(NotificationConfiguration::builder().build()).send().await.expect("empty");
    let got = s3.get_bucket_notification_configuration().bucket(&b).send().await.expect("get");
    assert!(got.queue_configurations().is_empty() && got.event_bridge_configuration().is_none());
}

#[tokio::test]
async fn bad_lifecycle_configurations_answer_s3s_errors() {
    let n = Nimbus::start_in_memory();
    let s3 = n.s3_client();
    let b = bucket(&n).await;
    let err = s3.get_bucket_lifecycle_configuration().bucket(&b).send().await.expect_err("none yet");
    assert_eq!(err.into_service_error().meta().code(), Some("NoSuchLifecycleConfiguration"));
    let put = |rule: LifecycleRule| {
        let s3 = s3.clone();
        let b = b.clone();
        async move {
            let e = s3
                .put_bucket_lifecycle_configuration()
                .bucket(&b)
                .lifecycle_configuration(BucketLifecycleConfiguration::builder().rules(rule).build().expect("lc"))
                .send()
                .await
                .expect_err("refused")
                .into_service_error();
            (e.meta().code().unwrap_or_default().to_string(), e.meta().message().unwrap_or_default().to_string())
        }
    };
    let zero_days = LifecycleRule::builder().status(ExpirationStatus::Enabled).filter(LifecycleRuleFilter::builder().prefix("").build()).expiration(LifecycleExpiration::builder().days(0).build()).build().expect("rule");
    assert_eq!(put(zero_days).await, ("InvalidArgument".into(), "'Days' for Expiration action must be a positive integer".into()));
    let no_action = LifecycleRule::builder().status(ExpirationStatus::Enabled).filter(LifecycleRuleFilter::builder().prefix("").build()).build().expect("rule");
    assert_eq!(put(no_action).await, ("InvalidRequest".into(), "At least one action needs to be specified in a rule".into()));
}

#[tokio::test]
async fn configurations_survive_a_restart() {
    let mut n = Nimbus::start();
    let b = bucket(&n).await;
    let (url, qarn) = queue(&n).await;
    let config = NotificationConfiguration::builder().queue_configurations(queue_config("kept", &qarn, Event::S3ObjectCreated, None, None)).build();
    n.s3_client().put_bucket_notification_configuration().bucket(&b).notification_configuration(config).send().await.expect("put configuration");
    let rule = LifecycleRule::builder().id("r").status(ExpirationStatus::Enabled).filter(LifecycleRuleFilter::builder().prefix("").build()).expiration(LifecycleExpiration::builder().days(7).build()).build().expect("rule");
    n.s3_client().put_bucket_lifecycle_configuration().bucket(&b).lifecycle_configuration(BucketLifecycleConfiguration::builder().rules(rule).build().expect("lc")).send().await.expect("put lifecycle");
    assert_eq!(expect_message(&n, &url).await["Event"], "s3:TestEvent");
    n.restart();
    let got = n.s3_client().get_bucket_lifecycle_configuration().bucket(&b).send().await.expect("lifecycle kept");
    assert_eq!(got.rules()[0].id(), Some("r"));
    put(&n, &b, "after-restart", "x").await;
    let rec = expect_message(&n, &url).await;
    assert_eq!(rec["Records"][0]["s3"]["configurationId"], "kept", "{rec}");
    assert_eq!(rec["Records"][0]["s3"]["object"]["key"], "after-restart");
}

#[tokio::test]
async fn a_dated_rule_with_a_tag_filter_expires_only_tagged_objects() {
    let n = Nimbus::start_with_clock_control();
    let s3 = n.s3_client();
    let b = bucket(&n).await;
    let now_s = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).expect("time").as_secs();
    let date = (now_s / 86_400 + 2) * 86_400;
    let rule = LifecycleRule::builder()
        .id("dated")
        .status(ExpirationStatus::Enabled)
        .filter(LifecycleRuleFilter::builder().tag(aws_sdk_s3::types::Tag::builder().key("temp").value("yes").build().expect("tag")).build())
        .expiration(LifecycleExpiration::builder().date(aws_sdk_s3::primitives::DateTime::from_secs(date as i64)).build())
        .build()
        .expect("rule");
    s3.put_bucket_lifecycle_configuration().bucket(&b).lifecycle_configuration(BucketLifecycleConfiguration::builder().rules(rule).build().expect("lc")).send().await.expect("put lifecycle");
    let got = s3.get_bucket_lifecycle_configuration().bucket(&b).send().await.expect("get");
    assert_eq!(got.rules()[0].expiration().and_then(|e| e.date()).map(|d| d.secs()), Some(date as i64));
    s3.put_object().bucket(&b).key("tagged").tagging("temp=yes").body(ByteStream::from_static(b"x")).send().await.expect("put tagged");
    put(&n, &b, "plain", "x").await;
    let head = s3.head_object().bucket(&b).key("tagged").send().await.expect("head");
    assert!(head.expiration().is_some_and(|e| e.ends_with("rule-id=\"dated\"")), "{head:?}");
    assert!(s3.head_object().bucket(&b).key("plain").send().await.expect("head").expiration().is_none());

    let (url, qarn) = queue(&n).await;
    let config = NotificationConfiguration::builder().queue_configurations(queue_config("exp", &qarn, Event::S3LifecycleExpirationDelete, None, None)).build();
    s3.put_bucket_notification_configuration().bucket(&b).notification_configuration(config).send().await.expect("put configuration");
    assert_eq!(expect_message(&n, &url).await["Event"], "s3:TestEvent");

    assert_eq!(n.advance_clock(3 * 86_400), 200);
    let rec = expect_message(&n, &url).await;
    assert_eq!(rec["Records"][0]["eventName"], "LifecycleExpiration:Delete", "{rec}");
    assert_eq!(rec["Records"][0]["s3"]["object"]["key"], "tagged");
    assert!(s3.head_object().bucket(&b).key("tagged").send().await.is_err(), "expired");
    s3.head_object().bucket(&b).key("plain").send().await.expect("untagged: kept");
    assert!(next_message(&n, &url, 1).await.is_none(), "one object expired");
}

#[tokio::test]
async fn versioned_lifecycle_marks_current_versions_drops_noncurrent_ones_and_aborts_old_uploads() {
    use aws_sdk_s3::types::{AbortIncompleteMultipartUpload, BucketVersioningStatus, NoncurrentVersionExpiration, VersioningConfiguration};
    let n = Nimbus::start_with_clock_control();
    let s3 = n.s3_client();
    let b = bucket(&n).await;
    s3.put_bucket_versioning().bucket(&b).versioning_configuration(VersioningConfiguration::builder().status(BucketVersioningStatus::Enabled).build()).send().await.expect("versioning");
    let rule = LifecycleRule::builder()
        .id("all")
        .status(ExpirationStatus::Enabled)
        .filter(LifecycleRuleFilter::builder().prefix("").build())
        .expiration(LifecycleExpiration::builder().days(1).build())
        .noncurrent_version_expiration(NoncurrentVersionExpiration::builder().noncurrent_days(1).build())
        .abort_incomplete_multipart_upload(AbortIncompleteMultipartUpload::builder().days_after_initiation(1).build())
        .build()
        .expect("rule");
    s3.put_bucket_lifecycle_configuration().bucket(&b).lifecycle_configuration(BucketLifecycleConfiguration::builder().rules(rule).build().expect("lc")).send().await.expect("put lifecycle");
    let (url, qarn) = queue(&n).await;
    let config = NotificationConfiguration::builder().queue_configurations(queue_config("exp", &qarn, Event::S3LifecycleExpiration, None, None)).build();
    s3.put_bucket_notification_configuration().bucket(&b).notification_configuration(config).send().await.expect("put configuration");
    assert_eq!(expect_message(&n, &url).await["Event"], "s3:TestEvent");

    let v1 = s3.put_object().bucket(&b).key("k").body(ByteStream::from_static(b"one")).send().await.expect("v1").version_id.expect("version id");
    let v2 = s3.put_object().bucket(&b).key("k").body(ByteStream::from_static(b"two")).send().await.expect("v2").version_id.expect("version id");
    let up = s3.create_multipart_upload().bucket(&b).key("pending").send().await.expect("upload");
    assert_eq!(up.abort_rule_id(), Some("all"), "{up:?}");
    let abort_at = up.abort_date().map(|d| d.secs()).expect("x-amz-abort-date");
    assert_eq!(abort_at % 86_400, 0, "a midnight UTC");
    let parts = s3.list_parts().bucket(&b).key("pending").upload_id(up.upload_id().unwrap_or_default()).send().await.expect("list parts");
    assert_eq!((parts.abort_rule_id(), parts.abort_date().map(|d| d.secs())), (Some("all"), Some(abort_at)));
    let copied = s3.copy_object().bucket(&b).key("copy").copy_source(format!("{b}/k")).send().await.expect("copy");
    assert!(copied.expiration().is_some_and(|e| e.ends_with("rule-id=\"all\"")), "{copied:?}");
    s3.delete_object().bucket(&b).key("copy").version_id(copied.version_id().unwrap_or_default()).send().await.expect("remove the copy");
    assert!(next_message(&n, &url, 1).await.is_none(), "nothing due yet");

    assert_eq!(n.advance_clock(3 * 86_400), 200);
    let marker = expect_message(&n, &url).await;
    assert_eq!(marker["Records"][0]["eventName"], "LifecycleExpiration:DeleteMarkerCreated", "{marker}");
    assert_eq!(marker["Records"][0]["eventVersion"], "2.3");
    let gone = expect_message(&n, &url).await;
    assert_eq!(gone["Records"][0]["eventName"], "LifecycleExpiration:Delete", "{gone}");
    assert_eq!(gone["Records"][0]["s3"]["object"]["versionId"], json!(v1), "the noncurrent version went: {gone}");

    let versions = s3.list_object_versions().bucket(&b).send().await.expect("versions");
    let kept: Vec<&str> = versions.versions().iter().filter_map(|v| v.version_id()).collect();
    assert_eq!(kept, vec![v2.as_str()], "v2 is now noncurrent, not yet due");
    assert_eq!(versions.delete_markers().len(), 1);
    assert!(versions.delete_markers()[0].is_latest().unwrap_or(false));
    let uploads = s3.list_multipart_uploads().bucket(&b).send().await.expect("uploads");
    assert!(uploads.uploads().is_empty(), "the stale upload was aborted: {uploads:?}");
}

#[tokio::test]
async fn a_function_from_a_chosen_object_version() {
    use aws_sdk_s3::types::{BucketVersioningStatus, VersioningConfiguration};
    let n = Nimbus::start_in_memory();
    let s3 = n.s3_client();
    let lc = n.lambda_client();
    let b = bucket(&n).await;
    s3.put_bucket_versioning().bucket(&b).versioning_configuration(VersioningConfiguration::builder().status(BucketVersioningStatus::Enabled).build()).send().await.expect("versioning");
    let good = s3.put_object().bucket(&b).key("fn.zip").body(ByteStream::from(lambda::rust_zip())).send().await.expect("v1").version_id.expect("id");
    s3.put_object().bucket(&b).key("fn.zip").body(ByteStream::from_static(b"not a zip")).send().await.expect("v2");
    let create = |version: Option<&str>| {
        lc.create_function()
            .function_name(unique_name("ver"))
            .runtime(aws_sdk_lambda::types::Runtime::Providedal2023)
            .role(lambda::ROLE)
            .code(FunctionCode::builder().s3_bucket(&b).s3_key("fn.zip").set_s3_object_version(version.map(str::to_string)).build())
            .send()
    };
    let made = create(Some(&good)).await.expect("the zip version");
    let out = lambda::invoke(&lc, made.function_name().unwrap_or_default(), &json!({"action": "echo", "v": 1})).await;
    assert_eq!(out.payload["echo"]["v"], 1);
    let e = create(None).await.expect_err("the latest is not a zip").into_service_error();
    assert_eq!(e.meta().message(), Some("Could not unzip uploaded file. Please check your file, then try to upload again."));
    let e = create(Some("0123456789abcdef0123456789abcdef")).await.expect_err("no such version").into_service_error();
    assert_eq!(e.meta().code(), Some("InvalidParameterValueException"));
    assert_eq!(e.meta().message(), Some("Error occurred while GetObject. S3 Error Code: NoSuchVersion. S3 Error Message: The specified version does not exist."));
}

#[tokio::test]
async fn copy_multipart_tagging_and_delete_marker_events() {
    use aws_sdk_s3::types::{BucketVersioningStatus, CompletedMultipartUpload, CompletedPart, Tagging, VersioningConfiguration};
    let n = Nimbus::start_in_memory();
    let s3 = n.s3_client();
    let b = bucket(&n).await;
    s3.put_bucket_versioning().bucket(&b).versioning_configuration(VersioningConfiguration::builder().status(BucketVersioningStatus::Enabled).build()).send().await.expect("versioning");
    let (url, qarn) = queue(&n).await;
    let config = NotificationConfiguration::builder()
        .queue_configurations(queue_config("created", &qarn, Event::S3ObjectCreated, None, None))
        .queue_configurations(queue_config("removed", &qarn, Event::S3ObjectRemoved, None, None))
        .queue_configurations(queue_config("tagging", &qarn, Event::S3ObjectTagging, None, None))
        .build();
    s3.put_bucket_notification_configuration().bucket(&b).notification_configuration(config).send().await.expect("put configuration");
    assert_eq!(expect_message(&n, &url).await["Event"], "s3:TestEvent");
    let name_of = |m: &Value| (m["Records"][0]["eventName"].as_str().unwrap_or_default().to_string(), m["Records"][0]["s3"]["configurationId"].as_str().unwrap_or_default().to_string());

    put(&n, &b, "src", "data").await;
    assert_eq!(name_of(&expect_message(&n, &url).await), ("ObjectCreated:Put".into(), "created".into()));
    s3.copy_object().bucket(&b).key("dst").copy_source(format!("{b}/src")).send().await.expect("copy");
    let copied = expect_message(&n, &url).await;
    assert_eq!(name_of(&copied), ("ObjectCreated:Copy".into(), "created".into()));
    assert!(copied["Records"][0]["s3"]["object"]["versionId"].is_string(), "versioned bucket: {copied}");

    let up = s3.create_multipart_upload().bucket(&b).key("big").send().await.expect("create upload").upload_id.expect("id");
    let part = s3.upload_part().bucket(&b).key("big").upload_id(&up).part_number(1).body(ByteStream::from_static(b"only part")).send().await.expect("part");
    s3.complete_multipart_upload()
        .bucket(&b)
        .key("big")
        .upload_id(&up)
        .multipart_upload(CompletedMultipartUpload::builder().parts(CompletedPart::builder().part_number(1).set_e_tag(part.e_tag).build()).build())
        .send()
        .await
        .expect("complete");
    let completed = expect_message(&n, &url).await;
    assert_eq!(name_of(&completed), ("ObjectCreated:CompleteMultipartUpload".into(), "created".into()));
    assert_eq!(completed["Records"][0]["s3"]["object"]["size"], 9);

    s3.put_object_tagging().bucket(&b).key("src").tagging(Tagging::builder().tag_set(aws_sdk_s3::types::Tag::builder().key("k").value("v").build().expect("tag")).build().expect("tagging")).send().await.expect("tag");
    let tagged = expect_message(&n, &url).await;
    assert_eq!(name_of(&tagged), ("ObjectTagging:Put".into(), "tagging".into()));
    assert_eq!(tagged["Records"][0]["eventVersion"], "2.3");
    assert!(tagged["Records"][0]["s3"]["object"]["eTag"].as_str().is_some_and(|e| e.len() == 32), "{tagged}");
    assert!(tagged["Records"][0]["s3"]["object"].get("sequencer").is_none(), "{tagged}");

    s3.delete_object().bucket(&b).key("src").send().await.expect("delete");
    assert_eq!(name_of(&expect_message(&n, &url).await), ("ObjectRemoved:DeleteMarkerCreated".into(), "removed".into()));
}
