//! Asynchronous invocation (InvocationType=Event) through the AWS SDK for Rust: 202,
//! destinations (OnSuccess / OnFailure to SQS) with AWS's destination record, retries
//! on the injectable clock, maximum event age, dead-letter queues, and durability of
//! accepted events across kill -9.

use aws_sdk_lambda::primitives::Blob;
use aws_sdk_lambda::types::{DeadLetterConfig, DestinationConfig, InvocationType, OnFailure, OnSuccess};
use aws_sdk_sqs::types::QueueAttributeName;
use nimbus_tests::lambda::{self, expect_err, FnSpec};
use nimbus_tests::{sqs, unique_name, Nimbus};
use serde_json::{json, Value};
use std::time::{Duration, Instant};

/// Creates a queue; returns (url, arn).
async fn queue(n: &Nimbus) -> (String, String) {
    let c = n.sqs_client();
    let url = sqs::create_queue(&c, &unique_name("dest"), &[]).await;
    let arn = sqs::queue_attrs(&c, &url).await.remove(&QueueAttributeName::QueueArn).expect("QueueArn");
    (url, arn)
}

/// Waits up to `secs` for one message; returns it (deleted) or None.
async fn wait_message(n: &Nimbus, url: &str, secs: u64) -> Option<aws_sdk_sqs::types::Message> {
    let c = n.sqs_client();
    let deadline = Instant::now() + Duration::from_secs(secs);
    while Instant::now() < deadline {
        let msgs = sqs::receive(&c, url, 1, 1, Some(30)).await;
        if let Some(m) = msgs.into_iter().next() {
            sqs::delete(&c, url, &m).await;
            return Some(m);
        }
    }
    None
}

async fn wait_record(n: &Nimbus, url: &str, secs: u64) -> Value {
    let m = wait_message(n, url, secs).await.unwrap_or_else(|| panic!("no destination record within {secs} s\n{}", n.log_tail(3000)));
    serde_json::from_str(m.body().unwrap()).expect("destination record is JSON")
}

async fn invoke_event(c: &aws_sdk_lambda::Client, name: &str, payload: &Value) {
    let out = c
        .invoke()
        .function_name(name)
        .invocation_type(InvocationType::Event)
        .payload(Blob::new(payload.to_string()))
        .send()
        .await
        .expect("invoke Event");
    assert_eq!(out.status_code(), 202, "Event invocations answer 202");
    assert!(out.payload().map(|p| p.as_ref().is_empty()).unwrap_or(true), "no payload for Event: {out:?}");
}

/// Number of REPORT lines the function has logged so far.
async fn reports(n: &Nimbus, name: &str) -> usize {
    let logs = n.logs_client();
    let Ok(ev) = logs.filter_log_events().log_group_name(format!("/aws/lambda/{name}")).send().await else { return 0 };
    ev.events().iter().filter(|e| e.message().is_some_and(|m| m.starts_with("REPORT"))).count()
}

async fn wait_reports(n: &Nimbus, name: &str, want: usize, secs: u64) {
    let deadline = Instant::now() + Duration::from_secs(secs);
    while reports(n, name).await < want {
        assert!(Instant::now() < deadline, "function {name} did not run {want} time(s) within {secs} s");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test]
async fn event_runs_and_on_success_destination_gets_the_record() {
    let n = Nimbus::start_in_memory();
    let c = n.lambda_client();
    let (url, arn) = queue(&n).await;
    let name = unique_name("rs");
    let fn_arn = lambda::create(&c, &name, FnSpec::rust()).await;
    c.put_function_event_invoke_config()
        .function_name(&name)
        .destination_config(DestinationConfig::builder().on_success(OnSuccess::builder().destination(&arn).build()).build())
        .send()
        .await
        .expect("event invoke config");
    let payload = json!({"action": "echo", "k": "v"});
    invoke_event(&c, &name, &payload).await;
    let rec = wait_record(&n, &url, 10).await;
    assert_eq!(rec["version"], "1.0", "{rec}");
    assert!(rec["timestamp"].as_str().is_some_and(|t| t.ends_with('Z')), "{rec}");
    let ctx = &rec["requestContext"];
    assert_eq!(ctx["condition"], "Success", "{rec}");
    assert_eq!(ctx["approximateInvokeCount"], 1, "{rec}");
    assert_eq!(ctx["functionArn"], json!(format!("{fn_arn}:$LATEST")), "{rec}");
    assert!(ctx["requestId"].as_str().is_some_and(|s| !s.is_empty()));
    assert_eq!(rec["requestPayload"], payload, "{rec}");
    assert_eq!(rec["responseContext"]["statusCode"], 200, "{rec}");
    assert_eq!(rec["responseContext"]["executedVersion"], "$LATEST", "{rec}");
    assert!(rec["responseContext"].get("functionError").is_none(), "{rec}");
    assert_eq!(rec["responsePayload"]["echo"], payload, "{rec}");
    // The request id the function saw is the record's.
    assert_eq!(rec["responsePayload"]["request_id"], ctx["requestId"], "{rec}");

    // Errors that apply to every invocation type.
    expect_err(
        c.invoke().function_name("nope").invocation_type(InvocationType::Event).send().await,
        "ResourceNotFoundException",
        Some(404),
    );
    let big = format!("\"{}\"", "a".repeat(1024 * 1024 + 10));
    expect_err(
        c.invoke().function_name(&name).invocation_type(InvocationType::Event).payload(Blob::new(big)).send().await,
        "RequestTooLargeException",
        Some(413),
    );
}

#[tokio::test]
async fn failure_without_retries_goes_to_on_failure() {
    let n = Nimbus::start_in_memory();
    let c = n.lambda_client();
    let (ok_url, ok_arn) = queue(&n).await;
    let (url, arn) = queue(&n).await;
    let name = unique_name("rs");
    lambda::create(&c, &name, FnSpec::rust()).await;
    c.put_function_event_invoke_config()
        .function_name(&name)
        .maximum_retry_attempts(0)
        .destination_config(
            DestinationConfig::builder()
                .on_success(OnSuccess::builder().destination(&ok_arn).build())
                .on_failure(OnFailure::builder().destination(&arn).build())
                .build(),
        )
        .send()
        .await
        .expect("event invoke config");
    let payload = json!({"action": "fail", "message": "async boom"});
    invoke_event(&c, &name, &payload).await;
    let rec = wait_record(&n, &url, 10).await;
    assert_eq!(rec["requestContext"]["condition"], "RetriesExhausted", "{rec}");
    assert_eq!(rec["requestContext"]["approximateInvokeCount"], 1, "{rec}");
    assert_eq!(rec["requestPayload"], payload);
    assert_eq!(rec["responseContext"]["functionError"], "Unhandled", "{rec}");
    assert_eq!(rec["responsePayload"]["errorType"], "TestFailure", "{rec}");
    assert_eq!(rec["responsePayload"]["errorMessage"], "async boom", "{rec}");
    assert!(wait_message(&n, &ok_url, 1).await.is_none(), "nothing on the success destination");
}

#[tokio::test]
async fn retries_follow_the_clock() {
    let n = Nimbus::start_with_clock_control();
    let c = n.lambda_client();
    let (url, arn) = queue(&n).await;
    let name = unique_name("rs");
    lambda::create(&c, &name, FnSpec::rust()).await;
    c.put_function_event_invoke_config()
        .function_name(&name)
        .maximum_retry_attempts(1)
        .destination_config(DestinationConfig::builder().on_failure(OnFailure::builder().destination(&arn).build()).build())
        .send()
        .await
        .expect("event invoke config");
    let payload = json!({"action": "fail", "message": "retry me"});
    invoke_event(&c, &name, &payload).await;
    wait_reports(&n, &name, 1, 10).await;
    // The retry is a minute away: nothing yet.
    assert!(wait_message(&n, &url, 1).await.is_none(), "failure delivered before the retry");
    assert_eq!(reports(&n, &name).await, 1, "retried before its time");
    assert_eq!(n.advance_clock(61), 200, "clock control enabled");
    let rec = wait_record(&n, &url, 10).await;
    assert_eq!(rec["requestContext"]["condition"], "RetriesExhausted", "{rec}");
    assert_eq!(rec["requestContext"]["approximateInvokeCount"], 2, "{rec}");
    assert_eq!(rec["requestPayload"], payload);
    assert_eq!(reports(&n, &name).await, 2);
}

#[tokio::test]
async fn maximum_event_age_ends_retries() {
    let n = Nimbus::start_with_clock_control();
    let c = n.lambda_client();
    let (url, arn) = queue(&n).await;
    let name = unique_name("rs");
    lambda::create(&c, &name, FnSpec::rust()).await;
    c.put_function_event_invoke_config()
        .function_name(&name)
        .maximum_retry_attempts(2)
        .maximum_event_age_in_seconds(60)
        .destination_config(DestinationConfig::builder().on_failure(OnFailure::builder().destination(&arn).build()).build())
        .send()
        .await
        .expect("event invoke config");
    invoke_event(&c, &name, &json!({"action": "fail"})).await;
    wait_reports(&n, &name, 1, 10).await;
    assert_eq!(n.advance_clock(61), 200);
    let rec = wait_record(&n, &url, 10).await;
    assert_eq!(rec["requestContext"]["condition"], "EventAgeExceeded", "{rec}");
    assert_eq!(rec["requestContext"]["approximateInvokeCount"], 1, "{rec}");
    assert_eq!(reports(&n, &name).await, 1, "not run again once too old");
}

/// The Rust test function with the queue `arn` as its DeadLetterConfig; returns its name.
async fn rust_function_with_dlq(c: &aws_sdk_lambda::Client, arn: &str) -> String {
    let name = unique_name("rs");
    lambda::create(c, &name, FnSpec::rust()).await;
    c.update_function_configuration()
        .function_name(&name)
        .dead_letter_config(DeadLetterConfig::builder().target_arn(arn).build())
        .send()
        .await
        .expect("set DeadLetterConfig");
    name
}

#[tokio::test]
async fn dead_letter_queue_gets_the_original_payload() {
    let n = Nimbus::start_in_memory();
    let c = n.lambda_client();
    let (url, arn) = queue(&n).await;
    let name = rust_function_with_dlq(&c, &arn).await;
    let cfg = c.get_function_configuration().function_name(&name).send().await.expect("get");
    assert_eq!(cfg.dead_letter_config().and_then(|d| d.target_arn()), Some(arn.as_str()));
    c.put_function_event_invoke_config().function_name(&name).maximum_retry_attempts(0).send().await.expect("no retries");
    let payload = r#"{"action":"fail","message":"to the dlq"}"#;
    let out = c.invoke().function_name(&name).invocation_type(InvocationType::Event).payload(Blob::new(payload)).send().await.expect("invoke");
    assert_eq!(out.status_code(), 202);
    let m = wait_message(&n, &url, 10).await.expect("DLQ message");
    assert_eq!(m.body(), Some(payload), "the DLQ gets the event as sent");
}

/// AWS: "Lambda sends the event to the dead-letter queue as-is, with additional
/// information in attributes": RequestID, ErrorCode, ErrorMessage.
#[tokio::test]
async fn dead_letter_message_has_error_attributes() {
    let n = Nimbus::start_in_memory();
    let c = n.lambda_client();
    let (url, arn) = queue(&n).await;
    let name = rust_function_with_dlq(&c, &arn).await;
    c.put_function_event_invoke_config().function_name(&name).maximum_retry_attempts(0).send().await.expect("no retries");
    invoke_event(&c, &name, &json!({"action": "fail", "message": "attr check"})).await;
    let m = wait_message(&n, &url, 10).await.expect("DLQ message");
    let attrs = m.message_attributes().cloned().unwrap_or_default();
    for a in ["RequestID", "ErrorCode", "ErrorMessage"] {
        assert!(attrs.contains_key(a), "DLQ message lacks attribute {a}: {attrs:?}");
    }
}

#[tokio::test]
async fn accepted_event_survives_kill_9() {
    let mut n = Nimbus::start();
    let c = n.lambda_client();
    let (url, arn) = queue(&n).await;
    let name = unique_name("rs");
    lambda::create(&c, &name, FnSpec::rust()).await;
    c.put_function_event_invoke_config()
        .function_name(&name)
        .destination_config(DestinationConfig::builder().on_success(OnSuccess::builder().destination(&arn).build()).build())
        .send()
        .await
        .expect("event invoke config");
    let payload = json!({"action": "sleep", "ms": 1000, "tag": "durable"});
    invoke_event(&c, &name, &payload).await;
    n.kill9();
    n.restart();
    let rec = wait_record(&n, &url, 15).await;
    assert_eq!(rec["requestContext"]["condition"], "Success", "{rec}");
    assert_eq!(rec["requestPayload"], payload, "{rec}");
    assert_eq!(rec["responsePayload"]["slept"], 1000, "{rec}");
    // Delivered once.
    assert!(wait_message(&n, &url, 2).await.is_none(), "a second record for one event");
}

/// OnSuccess and OnFailure destinations on an EventBridge event bus: the record is the
/// `detail` of an event with `source` "lambda", `detail-type` "Lambda Function
/// Invocation Result - Success" / "- Failure" and the bus and the function as
/// `resources`, which a rule on the bus sends to a queue.
/// <https://docs.aws.amazon.com/lambda/latest/dg/invocation-async-retain-records.html>
#[tokio::test]
async fn destinations_on_an_event_bus_put_result_events() {
    use aws_sdk_eventbridge::types::Target;
    let n = Nimbus::start_in_memory();
    let c = n.lambda_client();
    let ev = n.events_client();
    let account = nimbus_tests::default_account();
    let bus = unique_name("results");
    let bus_arn = ev.create_event_bus().name(&bus).send().await.expect("bus").event_bus_arn().unwrap_or_default().to_string();
    assert_eq!(bus_arn, format!("arn:aws:events:us-east-1:{account}:event-bus/{bus}"));
    let (ok_url, ok_arn) = queue(&n).await;
    let (failed_url, failed_arn) = queue(&n).await;
    for (rule, detail_type, arn) in [("ok", "Lambda Function Invocation Result - Success", &ok_arn), ("failed", "Lambda Function Invocation Result - Failure", &failed_arn)] {
        let pattern = json!({ "source": ["lambda"], "detail-type": [detail_type] });
        ev.put_rule().name(rule).event_bus_name(&bus).event_pattern(pattern.to_string()).send().await.expect("put_rule");
        ev.put_targets().rule(rule).event_bus_name(&bus).targets(Target::builder().id("q").arn(arn).build().expect("target")).send().await.expect("put_targets");
    }
    let name = unique_name("rs");
    let fn_arn = lambda::create(&c, &name, FnSpec::rust()).await;
    let config = c
        .put_function_event_invoke_config()
        .function_name(&name)
        .maximum_retry_attempts(0)
        .destination_config(DestinationConfig::builder().on_success(OnSuccess::builder().destination(&bus_arn).build()).on_failure(OnFailure::builder().destination(&bus_arn).build()).build())
        .send()
        .await
        .expect("an event bus is a valid destination");
    assert_eq!(config.destination_config().and_then(|d| d.on_success()).and_then(|d| d.destination()), Some(bus_arn.as_str()));

    let ok = json!({ "action": "echo", "n": 1 });
    invoke_event(&c, &name, &ok).await;
    let event = wait_record(&n, &ok_url, 20).await;
    assert_eq!(event["version"], "0", "{event}");
    assert_eq!(event["source"], "lambda", "{event}");
    assert_eq!(event["detail-type"], "Lambda Function Invocation Result - Success", "{event}");
    assert_eq!(event["account"], json!(account), "{event}");
    assert_eq!(event["region"], "us-east-1", "{event}");
    assert_eq!(event["resources"], json!([bus_arn, format!("{fn_arn}:$LATEST")]), "{event}");
    let detail = &event["detail"];
    assert_eq!(detail["version"], "1.0", "{event}");
    assert_eq!(detail["requestContext"]["condition"], "Success", "{event}");
    assert_eq!(detail["requestContext"]["functionArn"], json!(format!("{fn_arn}:$LATEST")), "{event}");
    assert_eq!(detail["requestPayload"], ok, "{event}");
    assert_eq!(detail["responseContext"]["statusCode"], 200, "{event}");
    assert_eq!(detail["responsePayload"]["echo"], ok, "{event}");

    let fail = json!({ "action": "fail", "message": "to the bus" });
    invoke_event(&c, &name, &fail).await;
    let event = wait_record(&n, &failed_url, 20).await;
    assert_eq!(event["detail-type"], "Lambda Function Invocation Result - Failure", "{event}");
    assert_eq!(event["detail"]["requestContext"]["condition"], "RetriesExhausted", "{event}");
    assert_eq!(event["detail"]["responsePayload"]["errorMessage"], "to the bus", "{event}");
    assert!(wait_message(&n, &ok_url, 1).await.is_none(), "only one success event");

    // Not an event bus: refused as AWS refuses a destination it cannot use.
    let rule_arn = format!("arn:aws:events:us-east-1:{account}:rule/ok");
    let err = c
        .put_function_event_invoke_config()
        .function_name(&name)
        .destination_config(DestinationConfig::builder().on_success(OnSuccess::builder().destination(&rule_arn).build()).build())
        .send()
        .await
        .expect_err("a rule is no destination");
    assert_eq!(aws_sdk_lambda::error::ProvideErrorMetadata::code(&err), Some("InvalidParameterValueException"), "{err:?}");
}
