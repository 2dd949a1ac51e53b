//! Step Functions through the AWS SDK for Rust: state machines (definition checks with
//! AWS's diagnostic codes, versions, aliases, tags), executions of every state type in
//! JSONPath (Pass, Choice, Wait on nimbus's clock, Succeed, Fail, Parallel, Map, Task on
//! activities with Retry backoff and Catch), history events in AWS's shapes, name
//! idempotency, StopExecution, ListExecutions' filters and pages, activities with task
//! tokens and heartbeats, and a STANDARD execution that survives `kill -9` mid-Wait.
//! StartSyncExecution (whose SDK call prefixes the host with `sync-`) is in
//! tests/python/test_stepfunctions.py; TestState in stepfunctions_test_state.rs.
//! <https://docs.aws.amazon.com/step-functions/latest/apireference/API_Operations.html>

use aws_credential_types::Credentials;
use aws_sdk_sfn::types::{ExecutionStatus, HistoryEvent, HistoryEventType, RoutingConfigurationListItem, Tag};
use aws_sdk_sfn::Client;
use nimbus_tests::{expect_err_message as err, Nimbus, DEFAULT_ACCESS_KEY, DEFAULT_REGION, DEFAULT_SECRET_KEY};
use serde_json::{json, Value};
use std::time::{Duration, Instant};

const ROLE: &str = "arn:aws:iam::000000000000:role/sfn";

/// The Step Functions client every Step Functions test module uses (retries off; a
/// 70 s operation timeout, above GetActivityTask's 60 s long poll).
pub(crate) fn sfn(n: &Nimbus) -> Client {
    let conf = aws_sdk_sfn::Config::builder()
        .behavior_version(aws_sdk_sfn::config::BehaviorVersion::latest())
        .credentials_provider(Credentials::new(DEFAULT_ACCESS_KEY, DEFAULT_SECRET_KEY, None, None, "nimbus-tests"))
        .region(aws_sdk_sfn::config::Region::new(DEFAULT_REGION))
        .endpoint_url(n.endpoint())
        .http_client(aws_smithy_http_client::Builder::new().build_http())
        .retry_config(aws_sdk_sfn::config::retry::RetryConfig::disabled())
        .timeout_config(aws_sdk_sfn::config::timeout::TimeoutConfig::builder().operation_timeout(Duration::from_secs(70)).build())
        .build();
    Client::from_conf(conf)
}

async fn machine(c: &Client, name: &str, definition: Value) -> String {
    c.create_state_machine().name(name).definition(definition.to_string()).role_arn(ROLE).send().await.expect("create state machine").state_machine_arn().to_string()
}

async fn start(c: &Client, arn: &str, input: Value) -> String {
    c.start_execution().state_machine_arn(arn).input(input.to_string()).send().await.expect("start execution").execution_arn().to_string()
}

/// Waits (up to 10 s) until the execution is no longer RUNNING; answers its description.
async fn finished(c: &Client, arn: &str) -> aws_sdk_sfn::operation::describe_execution::DescribeExecutionOutput {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let d = c.describe_execution().execution_arn(arn).send().await.expect("describe execution");
        if d.status() != &ExecutionStatus::Running {
            return d;
        }
        assert!(Instant::now() < deadline, "{arn} still running");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

async fn events(c: &Client, arn: &str) -> Vec<HistoryEvent> {
    c.get_execution_history().execution_arn(arn).max_results(1000).send().await.expect("history").events().to_vec()
}

/// Waits (up to 10 s) until the history has an event of `kind`.
async fn event_seen(c: &Client, arn: &str, kind: HistoryEventType) -> Vec<HistoryEvent> {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let evs = events(c, arn).await;
        if evs.iter().any(|e| e.r#type() == &kind) {
            return evs;
        }
        assert!(Instant::now() < deadline, "no {kind:?} in {:?}", evs.iter().map(|e| e.r#type().clone()).collect::<Vec<_>>());
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Waits (up to 10 s) until the history has `count` events of `kind`.
async fn event_seen_n(c: &Client, arn: &str, kind: HistoryEventType, count: usize) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while events(c, arn).await.iter().filter(|e| e.r#type() == &kind).count() < count {
        assert!(Instant::now() < deadline, "fewer than {count} {kind:?}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

fn types(evs: &[HistoryEvent]) -> Vec<&str> {
    evs.iter().map(|e| e.r#type().as_str()).collect()
}

fn output(d: &aws_sdk_sfn::operation::describe_execution::DescribeExecutionOutput) -> Value {
    serde_json::from_str(d.output().expect("output")).expect("output json")
}

#[tokio::test]
async fn state_machines_are_created_described_listed_updated_and_deleted() {
    let n = Nimbus::start_in_memory();
    let c = sfn(&n);
    let def = json!({ "StartAt": "P", "States": { "P": { "Type": "Pass", "End": true } } });
    let arn = machine(&c, "orders", def.clone()).await;
    assert_eq!(arn, "arn:aws:states:us-east-1:000000000000:stateMachine:orders");
    // The same request again is idempotent; another definition under the name is not.
    assert_eq!(machine(&c, "orders", def.clone()).await, arn);
    let other = json!({ "StartAt": "S", "States": { "S": { "Type": "Succeed" } } });
    let msg = err(c.create_state_machine().name("orders").definition(other.to_string()).role_arn(ROLE).send().await, "StateMachineAlreadyExists");
    assert_eq!(msg, format!("State Machine Already Exists: '{arn}'"));

    let d = c.describe_state_machine().state_machine_arn(&arn).send().await.expect("describe");
    assert_eq!(d.name(), "orders");
    assert_eq!(d.r#type().as_str(), "STANDARD");
    assert_eq!(d.role_arn(), ROLE);
    assert_eq!(serde_json::from_str::<Value>(d.definition()).expect("json"), def);
    assert_eq!(d.logging_configuration().and_then(|l| l.level()).map(|l| l.as_str()), Some("OFF"));

    machine(&c, "billing", def.clone()).await;
    let page1 = c.list_state_machines().max_results(1).send().await.expect("list");
    assert_eq!(page1.state_machines().len(), 1);
    assert_eq!(page1.state_machines()[0].name(), "billing");
    let page2 = c.list_state_machines().max_results(1).next_token(page1.next_token().expect("token")).send().await.expect("list 2");
    assert_eq!(page2.state_machines()[0].name(), "orders");
    assert!(page2.next_token().is_none());

    let up = c.update_state_machine().state_machine_arn(&arn).definition(other.to_string()).send().await.expect("update");
    assert!(up.revision_id().is_some());
    let d = c.describe_state_machine().state_machine_arn(&arn).send().await.expect("describe");
    assert_eq!(serde_json::from_str::<Value>(d.definition()).expect("json"), other);

    c.delete_state_machine().state_machine_arn(&arn).send().await.expect("delete");
    let msg = err(c.describe_state_machine().state_machine_arn(&arn).send().await, "StateMachineDoesNotExist");
    assert_eq!(msg, format!("State Machine Does Not Exist: '{arn}'"));
    err(c.describe_state_machine().state_machine_arn("orders").send().await, "InvalidArn");
    err(c.create_state_machine().name("bad name").definition(def.to_string()).role_arn(ROLE).send().await, "InvalidName");
}

#[tokio::test]
async fn definitions_are_checked_with_aws_diagnostic_codes() {
    let n = Nimbus::start_in_memory();
    let c = sfn(&n);
    let bad = json!({ "StartAt": "A", "States": { "A": { "Type": "Pass", "Next": "Nowhere" } } });
    let msg = err(c.create_state_machine().name("m").definition(bad.to_string()).role_arn(ROLE).send().await, "InvalidDefinition");
    assert!(msg.starts_with("Invalid State Machine Definition: 'MISSING_TRANSITION_TARGET: Missing 'Next' target: Nowhere at /States/A/Next"), "{msg}");
    let msg = err(c.create_state_machine().name("m").definition("{not json").role_arn(ROLE).send().await, "InvalidDefinition");
    assert!(msg.contains("INVALID_JSON_DESCRIPTION"), "{msg}");
    let unknown = json!({ "StartAt": "A", "States": { "A": { "Type": "Pass", "End": true, "Reslt": 1 } } });
    let msg = err(c.create_state_machine().name("m").definition(unknown.to_string()).role_arn(ROLE).send().await, "InvalidDefinition");
    assert!(msg.contains("SCHEMA_VALIDATION_FAILED") && msg.contains("/States/A/Reslt"), "{msg}");

    let v = c.validate_state_machine_definition().definition(bad.to_string()).send().await.expect("validate");
    assert_eq!(v.result().as_str(), "FAIL");
    let d = &v.diagnostics()[0];
    assert_eq!((d.severity().as_str(), d.code(), d.location()), ("ERROR", "MISSING_TRANSITION_TARGET", Some("/States/A/Next")));
    let ok = json!({ "StartAt": "A", "States": { "A": { "Type": "Succeed" } } });
    let v = c.validate_state_machine_definition().definition(ok.to_string()).send().await.expect("validate");
    assert_eq!(v.result().as_str(), "OK");
    assert!(v.diagnostics().is_empty());
}

#[tokio::test]
async fn pass_choice_wait_succeed_on_the_clock_with_aws_history_events() {
    let n = Nimbus::start_with_clock_control();
    let c = sfn(&n);
    let arn = machine(
        &c,
        "flow",
        json!({
            "StartAt": "Prepare",
            "States": {
                "Prepare": { "Type": "Pass", "Parameters": { "order.$": "$.order", "fixed": 1 }, "ResultPath": "$.prepared", "Next": "Hold" },
                "Hold": { "Type": "Wait", "Seconds": 3600, "Next": "Route" },
                "Route": { "Type": "Choice", "Choices": [
                    { "And": [ { "Variable": "$.order.total", "NumericGreaterThan": 100 }, { "Variable": "$.order.vip", "BooleanEquals": true } ], "Next": "Big" },
                    { "Variable": "$.order.total", "NumericLessThanEquals": 100, "Next": "Small" }
                ], "Default": "Small" },
                "Big": { "Type": "Pass", "Result": "big", "ResultPath": "$.size", "OutputPath": "$.size", "End": true },
                "Small": { "Type": "Succeed" }
            }
        }),
    )
    .await;
    let exec = start(&c, &arn, json!({ "order": { "total": 250, "vip": true } })).await;
    event_seen(&c, &exec, HistoryEventType::WaitStateEntered).await;
    assert_eq!(c.describe_execution().execution_arn(&exec).send().await.expect("describe").status(), &ExecutionStatus::Running, "the Wait holds it on the clock");
    n.advance_clock(3600);
    let d = finished(&c, &exec).await;
    assert_eq!(d.status(), &ExecutionStatus::Succeeded);
    assert_eq!(output(&d), json!("big"));

    let evs = events(&c, &exec).await;
    assert_eq!(
        types(&evs),
        vec!["ExecutionStarted", "PassStateEntered", "PassStateExited", "WaitStateEntered", "WaitStateExited", "ChoiceStateEntered", "ChoiceStateExited", "PassStateEntered", "PassStateExited", "ExecutionSucceeded"]
    );
    // As AWS records them: ids from 1, each event chained to the one before, except the
    // first state's Entered event, chained to 0.
    for (i, e) in evs.iter().enumerate() {
        assert_eq!(e.id(), i as i64 + 1);
        assert_eq!(e.previous_event_id(), if i == 1 { 0 } else { i as i64 });
    }
    let started = evs[0].execution_started_event_details().expect("started details");
    assert_eq!(started.role_arn(), Some(ROLE));
    let exited = evs[2].state_exited_event_details().expect("exited");
    assert_eq!(exited.name(), "Prepare");
    assert_eq!(serde_json::from_str::<Value>(exited.output().expect("output")).expect("json")["prepared"], json!({ "order": { "total": 250, "vip": true }, "fixed": 1 }));
    let wait_ms = (evs[4].timestamp().as_secs_f64() - evs[3].timestamp().as_secs_f64()) * 1000.0;
    assert!(wait_ms >= 3_600_000.0, "the Wait lasted an hour of nimbus's clock ({wait_ms} ms)");

    // reverseOrder and pages.
    let rev = c.get_execution_history().execution_arn(&exec).reverse_order(true).max_results(3).send().await.expect("history");
    assert_eq!(types(rev.events()), vec!["ExecutionSucceeded", "PassStateExited", "PassStateEntered"]);
    let rest = c.get_execution_history().execution_arn(&exec).reverse_order(true).max_results(100).next_token(rev.next_token().expect("token")).send().await.expect("history 2");
    assert_eq!(rest.events().len(), 7);
}

#[tokio::test]
async fn fail_states_and_data_errors_fail_the_execution() {
    let n = Nimbus::start_in_memory();
    let c = sfn(&n);
    let arn = machine(&c, "f", json!({ "StartAt": "F", "States": { "F": { "Type": "Fail", "Error": "Order.Invalid", "Cause": "no items" } } })).await;
    let d = finished(&c, &start(&c, &arn, json!({})).await).await;
    assert_eq!(d.status(), &ExecutionStatus::Failed);
    assert_eq!((d.error(), d.cause()), (Some("Order.Invalid"), Some("no items")));
    let evs = events(&c, d.execution_arn()).await;
    assert_eq!(types(&evs), vec!["ExecutionStarted", "FailStateEntered", "ExecutionFailed"]);
    let f = evs[2].execution_failed_event_details().expect("details");
    assert_eq!((f.error(), f.cause()), (Some("Order.Invalid"), Some("no items")));

    let arn = machine(&c, "missing", json!({ "StartAt": "P", "States": { "P": { "Type": "Pass", "InputPath": "$.nope", "End": true } } })).await;
    let d = finished(&c, &start(&c, &arn, json!({ "a": 1 })).await).await;
    assert_eq!(d.status(), &ExecutionStatus::Failed);
    assert_eq!(d.error(), Some("States.Runtime"));

    let arn = machine(&c, "nochoice", json!({ "StartAt": "C", "States": { "C": { "Type": "Choice", "Choices": [ { "Variable": "$.x", "StringEquals": "a", "Next": "S" } ] }, "S": { "Type": "Succeed" } } })).await;
    let d = finished(&c, &start(&c, &arn, json!({ "x": "b" })).await).await;
    assert_eq!(d.error(), Some("States.NoChoiceMatched"));
}

#[tokio::test]
async fn parallel_and_map_collect_their_branches_and_items() {
    let n = Nimbus::start_in_memory();
    let c = sfn(&n);
    let arn = machine(
        &c,
        "fan",
        json!({
            "StartAt": "Both",
            "States": {
                "Both": { "Type": "Parallel", "Branches": [
                    { "StartAt": "A", "States": { "A": { "Type": "Pass", "Result": "a", "End": true } } },
                    { "StartAt": "B", "States": { "B": { "Type": "Pass", "InputPath": "$.n", "End": true } } }
                ], "ResultPath": "$.parallel", "Next": "Each" },
                "Each": { "Type": "Map", "ItemsPath": "$.items", "MaxConcurrency": 2,
                    "ItemSelector": { "value.$": "$$.Map.Item.Value", "index.$": "$$.Map.Item.Index", "n.$": "$.n" },
                    "ItemProcessor": { "ProcessorConfig": { "Mode": "INLINE" }, "StartAt": "Echo", "States": { "Echo": { "Type": "Pass", "End": true } } },
                    "ResultPath": "$.mapped", "End": true }
            }
        }),
    )
    .await;
    let d = finished(&c, &start(&c, &arn, json!({ "n": 7, "items": ["x", "y", "z"] })).await).await;
    assert_eq!(d.status(), &ExecutionStatus::Succeeded, "{:?}", d.error());
    let out = output(&d);
    assert_eq!(out["parallel"], json!(["a", 7]));
    assert_eq!(out["mapped"], json!([{ "value": "x", "index": 0, "n": 7 }, { "value": "y", "index": 1, "n": 7 }, { "value": "z", "index": 2, "n": 7 }]));
    let evs = events(&c, d.execution_arn()).await;
    let t = types(&evs);
    for kind in ["ParallelStateEntered", "ParallelStateStarted", "ParallelStateSucceeded", "ParallelStateExited", "MapStateEntered", "MapStateStarted", "MapIterationStarted", "MapIterationSucceeded", "MapStateSucceeded", "MapStateExited"] {
        assert!(t.contains(&kind), "{kind} in {t:?}");
    }
    let started = evs.iter().find_map(|e| e.map_state_started_event_details()).expect("MapStateStarted details");
    assert_eq!(started.length(), 3);
    let iterations: Vec<i32> = evs.iter().filter(|e| e.r#type() == &HistoryEventType::MapIterationStarted).filter_map(|e| e.map_iteration_started_event_details()).map(|d| d.index()).collect();
    assert_eq!(iterations.len(), 3);
}

/// An activity worker: takes the next task (long poll) and answers it.
async fn take(c: &Client, activity: &str) -> (String, Value) {
    let t = c.get_activity_task().activity_arn(activity).worker_name("worker-1").send().await.expect("get activity task");
    (t.task_token().expect("a task").to_string(), serde_json::from_str(t.input().expect("input")).expect("json"))
}

#[tokio::test]
async fn activity_tasks_retry_with_backoff_on_the_clock_then_catch() {
    let n = Nimbus::start_with_clock_control();
    let c = sfn(&n);
    let activity = c.create_activity().name("charge").send().await.expect("create activity").activity_arn().to_string();
    let d = c.describe_activity().activity_arn(&activity).send().await.expect("describe activity");
    assert_eq!(d.name(), "charge");
    let arn = machine(
        &c,
        "pay",
        json!({
            "StartAt": "Charge",
            "States": {
                "Charge": { "Type": "Task", "Resource": activity, "Parameters": { "amount.$": "$.amount" },
                    "Retry": [ { "ErrorEquals": ["Card.Declined"], "IntervalSeconds": 10, "BackoffRate": 3, "MaxAttempts": 2 } ],
                    "Catch": [ { "ErrorEquals": ["States.ALL"], "ResultPath": "$.failure", "Next": "Refund" } ],
                    "ResultPath": "$.receipt", "End": true },
                "Refund": { "Type": "Pass", "End": true }
            }
        }),
    )
    .await;
    let exec = start(&c, &arn, json!({ "amount": 42 })).await;
    let (token, input) = take(&c, &activity).await;
    assert_eq!(input, json!({ "amount": 42 }));
    c.send_task_failure().task_token(&token).error("Card.Declined").cause("first").send().await.expect("fail 1");
    // The first retry waits 10 s of nimbus's clock, the second 30 s.
    event_seen(&c, &exec, HistoryEventType::ActivityFailed).await;
    n.advance_clock(10);
    let (token, _) = take(&c, &activity).await;
    c.send_task_failure().task_token(&token).error("Card.Declined").cause("second").send().await.expect("fail 2");
    event_seen_n(&c, &exec, HistoryEventType::ActivityFailed, 2).await;
    n.advance_clock(30);
    let (token, _) = take(&c, &activity).await;
    c.send_task_failure().task_token(&token).error("Card.Declined").cause("third").send().await.expect("fail 3");
    let d = finished(&c, &exec).await;
    assert_eq!(d.status(), &ExecutionStatus::Succeeded);
    assert_eq!(output(&d), json!({ "amount": 42, "failure": { "Error": "Card.Declined", "Cause": "third" } }));
    let evs = events(&c, &exec).await;
    let t = types(&evs);
    assert_eq!(&t[..6], &["ExecutionStarted", "TaskStateEntered", "ActivityScheduled", "ActivityStarted", "ActivityFailed", "ActivityScheduled"]);
    let scheduled = evs[2].activity_scheduled_event_details().expect("scheduled");
    assert_eq!(scheduled.resource(), activity);
    assert_eq!(serde_json::from_str::<Value>(scheduled.input().expect("input")).expect("json"), json!({ "amount": 42 }));
    assert_eq!(evs[3].activity_started_event_details().and_then(|d| d.worker_name()), Some("worker-1"));
    assert_eq!(t.iter().filter(|k| **k == "ActivityFailed").count(), 3);
    // Each retry waited its interval (10 s, then 10 × 3 s) of nimbus's clock after the failure.
    let at = |kind: HistoryEventType, nth: usize| evs.iter().filter(|e| e.r#type() == &kind).nth(nth).expect("event").timestamp().as_secs_f64();
    assert!(at(HistoryEventType::ActivityScheduled, 1) - at(HistoryEventType::ActivityFailed, 0) >= 10.0);
    assert!(at(HistoryEventType::ActivityScheduled, 2) - at(HistoryEventType::ActivityFailed, 1) >= 30.0);
    assert!(at(HistoryEventType::ActivityScheduled, 2) - at(HistoryEventType::ActivityFailed, 1) < 40.0);
    assert!(t.ends_with(&["PassStateEntered", "PassStateExited", "ExecutionSucceeded"]), "{t:?}");

    // A token answered twice, or one never issued.
    err(c.send_task_success().task_token(&token).output("{}").send().await, "TaskDoesNotExist");
    err(c.send_task_success().task_token("garbage").output("{}").send().await, "InvalidToken");
}

#[tokio::test]
async fn activity_success_and_heartbeat_timeout() {
    let n = Nimbus::start_with_clock_control();
    let c = sfn(&n);
    let activity = c.create_activity().name("work").send().await.expect("create").activity_arn().to_string();
    let arn = machine(
        &c,
        "hb",
        json!({ "StartAt": "Work", "States": { "Work": { "Type": "Task", "Resource": activity, "HeartbeatSeconds": 60, "TimeoutSeconds": 600, "End": true } } }),
    )
    .await;
    let ok = start(&c, &arn, json!({ "job": 1 })).await;
    let (token, _) = take(&c, &activity).await;
    c.send_task_heartbeat().task_token(&token).send().await.expect("heartbeat");
    c.send_task_success().task_token(&token).output(r#"{"done":true}"#).send().await.expect("success");
    let d = finished(&c, &ok).await;
    assert_eq!(output(&d), json!({ "done": true }));
    let t = types(&events(&c, &ok).await).into_iter().map(str::to_string).collect::<Vec<_>>();
    assert_eq!(t, vec!["ExecutionStarted", "TaskStateEntered", "ActivityScheduled", "ActivityStarted", "ActivitySucceeded", "TaskStateExited", "ExecutionSucceeded"]);

    let late = start(&c, &arn, json!({ "job": 2 })).await;
    let (token, _) = take(&c, &activity).await;
    n.advance_clock(61);
    let d = finished(&c, &late).await;
    assert_eq!(d.status(), &ExecutionStatus::Failed);
    assert_eq!(d.error(), Some("States.HeartbeatTimeout"));
    assert!(types(&events(&c, &late).await).contains(&"ActivityTimedOut"));
    err(c.send_task_success().task_token(&token).output("{}").send().await, "TaskDoesNotExist");
}

#[tokio::test]
async fn execution_names_are_idempotent_while_running_and_stop_aborts() {
    let n = Nimbus::start_in_memory();
    let c = sfn(&n);
    let arn = machine(&c, "long", json!({ "StartAt": "W", "States": { "W": { "Type": "Wait", "Seconds": 86400, "End": true } } })).await;
    let a = c.start_execution().state_machine_arn(&arn).name("run-1").input(r#"{"a":1}"#).send().await.expect("start");
    let b = c.start_execution().state_machine_arn(&arn).name("run-1").input(r#"{"a":1}"#).send().await.expect("same name and input");
    assert_eq!(a.execution_arn(), b.execution_arn());
    assert_eq!(a.execution_arn(), "arn:aws:states:us-east-1:000000000000:execution:long:run-1");
    let msg = err(c.start_execution().state_machine_arn(&arn).name("run-1").input(r#"{"a":2}"#).send().await, "ExecutionAlreadyExists");
    assert_eq!(msg, format!("Execution Already Exists: '{}'", a.execution_arn()));
    err(c.start_execution().state_machine_arn(&arn).input("{oops").send().await, "InvalidExecutionInput");

    c.stop_execution().execution_arn(a.execution_arn()).error("Ops.Cancel").cause("by hand").send().await.expect("stop");
    let d = c.describe_execution().execution_arn(a.execution_arn()).send().await.expect("describe");
    assert_eq!(d.status(), &ExecutionStatus::Aborted);
    assert!(d.stop_date().is_some());
    let evs = events(&c, a.execution_arn()).await;
    let last = evs.last().expect("event");
    assert_eq!(last.r#type(), &HistoryEventType::ExecutionAborted);
    assert_eq!(last.execution_aborted_event_details().and_then(|d| d.error()), Some("Ops.Cancel"));
    // A closed execution's name cannot be reused.
    err(c.start_execution().state_machine_arn(&arn).name("run-1").input(r#"{"a":1}"#).send().await, "ExecutionAlreadyExists");

    // ListExecutions: newest first, status filter, pages.
    start(&c, &arn, json!({})).await;
    start(&c, &arn, json!({})).await;
    let all = c.list_executions().state_machine_arn(&arn).send().await.expect("list");
    assert_eq!(all.executions().len(), 3);
    let running = c.list_executions().state_machine_arn(&arn).status_filter(ExecutionStatus::Running).send().await.expect("list running");
    assert_eq!(running.executions().len(), 2);
    let aborted = c.list_executions().state_machine_arn(&arn).status_filter(ExecutionStatus::Aborted).send().await.expect("list aborted");
    assert_eq!(aborted.executions()[0].name(), "run-1");
    let p1 = c.list_executions().state_machine_arn(&arn).max_results(2).send().await.expect("page 1");
    assert_eq!(p1.executions().len(), 2);
    let p2 = c.list_executions().state_machine_arn(&arn).max_results(2).next_token(p1.next_token().expect("token")).send().await.expect("page 2");
    assert_eq!(p2.executions().len(), 1);
    err(c.describe_execution().execution_arn("arn:aws:states:us-east-1:000000000000:execution:long:nope").send().await, "ExecutionDoesNotExist");

    let for_exec = c.describe_state_machine_for_execution().execution_arn(a.execution_arn()).send().await.expect("machine for execution");
    assert_eq!(for_exec.state_machine_arn(), arn);
    assert_eq!(for_exec.name(), "long");
}

#[tokio::test]
async fn versions_aliases_and_tags() {
    let n = Nimbus::start_in_memory();
    let c = sfn(&n);
    let v1_def = json!({ "StartAt": "P", "States": { "P": { "Type": "Pass", "Result": "v1", "End": true } } });
    let out = c.create_state_machine().name("ver").definition(v1_def.to_string()).role_arn(ROLE).publish(true).version_description("first").send().await.expect("create");
    let arn = out.state_machine_arn().to_string();
    let v1 = out.state_machine_version_arn().expect("version").to_string();
    assert_eq!(v1, format!("{arn}:1"));
    let v2_def = json!({ "StartAt": "P", "States": { "P": { "Type": "Pass", "Result": "v2", "End": true } } });
    let v2 = c.update_state_machine().state_machine_arn(&arn).definition(v2_def.to_string()).publish(true).send().await.expect("update").state_machine_version_arn().expect("v2").to_string();
    assert_eq!(v2, format!("{arn}:2"));
    // Publishing an unchanged revision answers the latest version.
    assert_eq!(c.publish_state_machine_version().state_machine_arn(&arn).send().await.expect("publish").state_machine_version_arn(), v2);
    let versions = c.list_state_machine_versions().state_machine_arn(&arn).send().await.expect("versions");
    assert_eq!(versions.state_machine_versions().iter().map(|v| v.state_machine_version_arn()).collect::<Vec<_>>(), vec![v2.as_str(), v1.as_str()]);
    let d = c.describe_state_machine().state_machine_arn(&v1).send().await.expect("describe v1");
    assert_eq!(serde_json::from_str::<Value>(d.definition()).expect("json"), v1_def);
    assert_eq!(d.description(), Some("first"));

    let route = |v: &str, w: i32| RoutingConfigurationListItem::builder().state_machine_version_arn(v).weight(w).build().expect("route");
    let alias = c.create_state_machine_alias().name("live").routing_configuration(route(&v1, 100)).send().await.expect("alias").state_machine_alias_arn().to_string();
    assert_eq!(alias, format!("{arn}:live"));
    let d = finished(&c, &start(&c, &alias, json!({})).await).await;
    assert_eq!(output(&d), json!("v1"));
    assert_eq!(d.state_machine_alias_arn(), Some(alias.as_str()));
    assert_eq!(d.state_machine_version_arn(), Some(v1.as_str()));
    c.update_state_machine_alias().state_machine_alias_arn(&alias).routing_configuration(route(&v2, 100)).send().await.expect("update alias");
    let d = finished(&c, &start(&c, &alias, json!({})).await).await;
    assert_eq!(output(&d), json!("v2"));
    let msg = err(c.create_state_machine_alias().name("half").routing_configuration(route(&v1, 50)).routing_configuration(route(&v2, 40)).send().await, "ValidationException");
    assert!(msg.contains("100"), "{msg}");
    err(c.delete_state_machine_version().state_machine_version_arn(&v2).send().await, "ConflictException");
    let aliases = c.list_state_machine_aliases().state_machine_arn(&arn).send().await.expect("aliases");
    assert_eq!(aliases.state_machine_aliases().len(), 1);
    c.delete_state_machine_alias().state_machine_alias_arn(&alias).send().await.expect("delete alias");
    c.delete_state_machine_version().state_machine_version_arn(&v2).send().await.expect("delete version");

    c.tag_resource().resource_arn(&arn).tags(Tag::builder().key("team").value("pay").build()).tags(Tag::builder().key("env").value("dev").build()).send().await.expect("tag");
    c.untag_resource().resource_arn(&arn).tag_keys("env").send().await.expect("untag");
    let tags = c.list_tags_for_resource().resource_arn(&arn).send().await.expect("tags");
    assert_eq!(tags.tags().iter().map(|t| (t.key().unwrap_or_default(), t.value().unwrap_or_default())).collect::<Vec<_>>(), vec![("team", "pay")]);
    err(c.list_tags_for_resource().resource_arn(format!("{arn}-nope")).send().await, "ResourceNotFound");
}

/// A STANDARD execution in a Wait survives `kill -9`: after the restart it resumes from
/// its checkpoint, finishes once the clock passes the stored deadline, and its history is
/// whole (no state entered twice).
#[tokio::test]
async fn a_waiting_execution_survives_kill_9_and_finishes_after_restart() {
    let mut n = Nimbus::start_with_clock_control();
    if n.is_external() {
        return;
    }
    let c = sfn(&n);
    let arn = machine(
        &c,
        "durable",
        json!({ "StartAt": "Before", "States": {
            "Before": { "Type": "Pass", "Result": 1, "ResultPath": "$.before", "Next": "Sleep" },
            "Sleep": { "Type": "Wait", "Seconds": 7200, "Next": "After" },
            "After": { "Type": "Pass", "Result": 2, "ResultPath": "$.after", "End": true } } }),
    )
    .await;
    let exec = start(&c, &arn, json!({ "id": "x" })).await;
    event_seen(&c, &exec, HistoryEventType::WaitStateEntered).await;
    n.kill9();
    n.restart();
    let c = sfn(&n);
    let d = c.describe_execution().execution_arn(&exec).send().await.expect("describe after restart");
    assert_eq!(d.status(), &ExecutionStatus::Running, "still waiting after the restart");
    // The restarted clock starts from wall time again: the stored deadline is 2 h away.
    n.advance_clock(7200);
    let d = finished(&c, &exec).await;
    assert_eq!(d.status(), &ExecutionStatus::Succeeded, "{:?} {:?}", d.error(), d.cause());
    assert_eq!(output(&d), json!({ "id": "x", "before": 1, "after": 2 }));
    let t = types(&events(&c, &exec).await).into_iter().map(str::to_string).collect::<Vec<_>>();
    assert_eq!(t, vec!["ExecutionStarted", "PassStateEntered", "PassStateExited", "WaitStateEntered", "WaitStateExited", "PassStateEntered", "PassStateExited", "ExecutionSucceeded"]);
}

#[tokio::test]
async fn jsonata_states_with_arguments_output_assign_conditions_and_items() {
    let n = Nimbus::start_in_memory();
    let c = sfn(&n);
    let arn = machine(
        &c,
        "ja",
        json!({
            "QueryLanguage": "JSONata",
            "StartAt": "Setup",
            "States": {
                "Setup": { "Type": "Pass", "Assign": { "factor": "{% $states.input.factor %}", "count": "{% $count($states.input.items) %}" }, "Output": "{% $states.input.items %}", "Next": "Route" },
                "Route": { "Type": "Choice", "Choices": [
                    { "Condition": "{% $count > 2 %}", "Next": "Scale", "Assign": { "route": "many" } }
                ], "Default": "Few" },
                "Scale": { "Type": "Map", "Items": "{% $states.input %}",
                    "ItemSelector": { "v": "{% $states.context.Map.Item.Value %}", "i": "{% $states.context.Map.Item.Index %}" },
                    "ItemProcessor": { "StartAt": "Mul", "States": { "Mul": { "Type": "Pass", "Output": "{% $states.input.v * $factor + $states.input.i %}", "End": true } } },
                    "Output": "{% { 'scaled': $states.result, 'sum': $sum($states.result), 'route': $route } %}", "Next": "Done" },
                "Few": { "Type": "Fail", "Error": "{% 'Too.Few' %}", "Cause": "{% 'only ' & $string($count) %}" },
                "Done": { "Type": "Succeed" }
            }
        }),
    )
    .await;
    let d = finished(&c, &start(&c, &arn, json!({ "factor": 10, "items": [1, 2, 3] })).await).await;
    assert_eq!(d.status(), &ExecutionStatus::Succeeded, "{:?} {:?}", d.error(), d.cause());
    assert_eq!(output(&d), json!({ "scaled": [10, 21, 32], "sum": 63, "route": "many" }));
    let evs = events(&c, d.execution_arn()).await;
    let setup_exit = evs.iter().find(|e| e.r#type() == &HistoryEventType::PassStateExited).and_then(|e| e.state_exited_event_details()).expect("exited");
    let assigned = setup_exit.assigned_variables().expect("assignedVariables");
    assert_eq!(assigned.get("factor").map(String::as_str), Some("10"));
    assert_eq!(assigned.get("count").map(String::as_str), Some("3"));

    let d = finished(&c, &start(&c, &arn, json!({ "factor": 1, "items": [1] })).await).await;
    assert_eq!(d.status(), &ExecutionStatus::Failed);
    assert_eq!((d.error(), d.cause()), (Some("Too.Few"), Some("only 1")));

    // An expression that fails is States.QueryEvaluationError, which Catch can handle.
    let arn = machine(
        &c,
        "ja-catch",
        json!({ "QueryLanguage": "JSONata", "StartAt": "Bad", "States": {
            "Bad": { "Type": "Parallel", "Arguments": "{% $states.input %}", "Branches": [ { "StartAt": "X", "States": { "X": { "Type": "Pass", "Output": "{% $number('abc') %}", "End": true } } } ],
                "Catch": [ { "ErrorEquals": ["States.ALL"], "Output": "{% { 'caught': $states.errorOutput.Error } %}", "Next": "Ok" } ], "End": true },
            "Ok": { "Type": "Succeed" } } }),
    )
    .await;
    let d = finished(&c, &start(&c, &arn, json!({})).await).await;
    assert_eq!(d.status(), &ExecutionStatus::Succeeded, "{:?} {:?}", d.error(), d.cause());
    assert_eq!(output(&d), json!({ "caught": "States.QueryEvaluationError" }));
}

#[tokio::test]
async fn jsonpath_variables_intrinsics_result_selector_and_data_limit() {
    let n = Nimbus::start_in_memory();
    let c = sfn(&n);
    let arn = machine(
        &c,
        "vars",
        json!({
            "StartAt": "Remember",
            "States": {
                "Remember": { "Type": "Pass", "Assign": { "customer.$": "$.customer", "greeting.$": "States.Format('hello {}', $.customer)" }, "Next": "Fan" },
                "Fan": { "Type": "Parallel", "Branches": [
                    { "StartAt": "Inner", "States": { "Inner": { "Type": "Pass", "Parameters": { "who.$": "$customer", "len.$": "States.ArrayLength($.list)" }, "End": true } } }
                ], "ResultSelector": { "first.$": "$[0]" }, "ResultPath": "$.fan", "Next": "Out" },
                "Out": { "Type": "Pass", "Parameters": { "greeting.$": "$greeting", "fan.$": "$.fan.first", "id.$": "States.ArrayGetItem(States.StringSplit('a,b,c', ','), 1)", "exec.$": "$$.Execution.Name" }, "End": true }
            }
        }),
    )
    .await;
    let exec = c.start_execution().state_machine_arn(&arn).name("run-vars").input(json!({ "customer": "ana", "list": [1, 2] }).to_string()).send().await.expect("start").execution_arn().to_string();
    let d = finished(&c, &exec).await;
    assert_eq!(d.status(), &ExecutionStatus::Succeeded, "{:?} {:?}", d.error(), d.cause());
    assert_eq!(output(&d), json!({ "greeting": "hello ana", "fan": { "who": "ana", "len": 2 }, "id": "b", "exec": "run-vars" }));

    // A state result over 256 KB fails the execution with States.DataLimitExceeded.
    let arn = machine(&c, "big", json!({ "StartAt": "Grow", "States": { "Grow": { "Type": "Pass", "Parameters": { "a.$": "$.s", "b.$": "$.s", "c.$": "$.s" }, "End": true } } })).await;
    let d = finished(&c, &start(&c, &arn, json!({ "s": "x".repeat(100_000) })).await).await;
    assert_eq!(d.status(), &ExecutionStatus::Failed);
    assert_eq!(d.error(), Some("States.DataLimitExceeded"));

    // A missing path names the state and the event it entered at.
    let arn = machine(&c, "miss", json!({ "StartAt": "P", "States": { "P": { "Type": "Pass", "Parameters": { "x.$": "$.nope" }, "End": true } } })).await;
    let d = finished(&c, &start(&c, &arn, json!({})).await).await;
    assert_eq!(d.error(), Some("States.Runtime"));
    assert!(d.cause().unwrap_or_default().starts_with("An error occurred while executing the state 'P' (entered at the event id #2). The JSONPath '$.nope' specified for the field 'x.$' could not be found in the input"), "{:?}", d.cause());
}

/// An activity task's token outlives `kill -9`: the worker that took it before the crash
/// answers after the restart, and the execution finishes.
#[tokio::test]
async fn a_task_token_survives_kill_9() {
    let mut n = Nimbus::start();
    if n.is_external() {
        return;
    }
    let c = sfn(&n);
    let activity = c.create_activity().name("slow").send().await.expect("create").activity_arn().to_string();
    let arn = machine(&c, "tok", json!({ "StartAt": "Work", "States": { "Work": { "Type": "Task", "Resource": activity, "ResultPath": "$.r", "End": true } } })).await;
    let exec = start(&c, &arn, json!({ "n": 1 })).await;
    let (token, _) = take(&c, &activity).await;
    n.kill9();
    n.restart();
    let c = sfn(&n);
    c.send_task_success().task_token(&token).output(r#"{"ok":1}"#).send().await.expect("success after restart");
    let d = finished(&c, &exec).await;
    assert_eq!(d.status(), &ExecutionStatus::Succeeded, "{:?} {:?}", d.error(), d.cause());
    assert_eq!(output(&d), json!({ "n": 1, "r": { "ok": 1 } }));
    let t = types(&events(&c, &exec).await).into_iter().map(str::to_string).collect::<Vec<_>>();
    assert_eq!(t, vec!["ExecutionStarted", "TaskStateEntered", "ActivityScheduled", "ActivityStarted", "ActivitySucceeded", "TaskStateExited", "ExecutionSucceeded"]);
}

/// RedriveExecution: a failed execution goes on from the state that failed.
#[tokio::test]
async fn a_failed_execution_is_redriven_from_its_failed_state() {
    let n = Nimbus::start_in_memory();
    let c = sfn(&n);
    let activity = c.create_activity().name("flaky").send().await.expect("create").activity_arn().to_string();
    let arn = machine(
        &c,
        "redrive",
        json!({ "StartAt": "First", "States": {
            "First": { "Type": "Pass", "Result": "done", "ResultPath": "$.first", "Next": "Work" },
            "Work": { "Type": "Task", "Resource": activity, "ResultPath": "$.work", "End": true } } }),
    )
    .await;
    let exec = start(&c, &arn, json!({})).await;
    let (token, _) = take(&c, &activity).await;
    c.send_task_failure().task_token(&token).error("Boom").cause("first try").send().await.expect("fail");
    let d = finished(&c, &exec).await;
    assert_eq!(d.status(), &ExecutionStatus::Failed);
    assert_eq!(d.redrive_status().map(|s| s.as_str()), Some("REDRIVABLE"));

    c.redrive_execution().execution_arn(&exec).send().await.expect("redrive");
    let (token, input) = take(&c, &activity).await;
    assert_eq!(input, json!({ "first": "done" }), "the failed state runs again on its own input");
    c.send_task_success().task_token(&token).output("2").send().await.expect("success");
    let d = finished(&c, &exec).await;
    assert_eq!(d.status(), &ExecutionStatus::Succeeded);
    assert_eq!(d.redrive_count(), Some(1));
    assert!(d.redrive_date().is_some());
    assert_eq!(output(&d), json!({ "first": "done", "work": 2 }));
    let t = types(&events(&c, &exec).await).into_iter().map(str::to_string).collect::<Vec<_>>();
    let redriven = t.iter().position(|k| k == "ExecutionRedriven").expect("ExecutionRedriven");
    assert_eq!(&t[redriven - 1..redriven + 2], &["ExecutionFailed", "ExecutionRedriven", "TaskStateEntered"]);
    assert_eq!(t.iter().filter(|k| *k == "PassStateEntered").count(), 1, "states before the failure are not run again");
    err(c.redrive_execution().execution_arn(&exec).send().await, "ExecutionNotRedrivable");
    let redriven = c.list_executions().state_machine_arn(&arn).redrive_filter(aws_sdk_sfn::types::ExecutionRedriveFilter::Redriven).send().await.expect("list redriven");
    assert_eq!(redriven.executions().len(), 1);
    assert_eq!(redriven.executions()[0].redrive_count(), Some(1));
    let not = c.list_executions().state_machine_arn(&arn).redrive_filter(aws_sdk_sfn::types::ExecutionRedriveFilter::NotRedriven).send().await.expect("list not redriven");
    assert!(not.executions().is_empty());
}

#[tokio::test]
async fn execution_events_go_to_cloudwatch_logs_at_the_configured_level() {
    use aws_sdk_sfn::types::{CloudWatchLogsLogGroup, LogDestination, LogLevel, LoggingConfiguration, TracingConfiguration};
    let n = Nimbus::start_in_memory();
    let c = sfn(&n);
    let logs = n.logs_client();
    let group_arn = "arn:aws:logs:us-east-1:000000000000:log-group:/aws/vendedlogs/states/audit:*";
    let logging = |level: LogLevel, data: bool| {
        LoggingConfiguration::builder()
            .level(level)
            .include_execution_data(data)
            .destinations(LogDestination::builder().cloud_watch_logs_log_group(CloudWatchLogsLogGroup::builder().log_group_arn(group_arn).build()).build())
            .build()
    };
    let def = json!({ "StartAt": "P", "States": { "P": { "Type": "Pass", "Next": "F" }, "F": { "Type": "Fail", "Error": "Bad", "Cause": "worse" } } });
    let arn = c
        .create_state_machine()
        .name("logged")
        .definition(def.to_string())
        .role_arn(ROLE)
        .logging_configuration(logging(LogLevel::All, true))
        .tracing_configuration(TracingConfiguration::builder().enabled(true).build())
        .send()
        .await
        .expect("create")
        .state_machine_arn()
        .to_string();
    let d = c.describe_state_machine().state_machine_arn(&arn).send().await.expect("describe");
    assert_eq!(d.logging_configuration().and_then(|l| l.level()), Some(&LogLevel::All));
    assert_eq!(d.tracing_configuration().map(|t| t.enabled()), Some(true));
    let exec = start(&c, &arn, json!({ "secret": 1 })).await;
    finished(&c, &exec).await;
    let read = || async {
        let out = logs.filter_log_events().log_group_name("/aws/vendedlogs/states/audit").send().await.expect("filter");
        out.events().iter().map(|e| serde_json::from_str::<Value>(e.message().expect("message")).expect("json")).collect::<Vec<_>>()
    };
    let lines = read().await;
    assert_eq!(lines.iter().map(|l| l["type"].as_str().expect("type")).collect::<Vec<_>>(), vec!["ExecutionStarted", "PassStateEntered", "PassStateExited", "FailStateEntered", "ExecutionFailed"]);
    assert_eq!(lines[0]["execution_arn"], json!(exec));
    assert_eq!(lines[0]["id"], json!("1"));
    assert_eq!(lines[1]["previous_event_id"], json!("0"), "the first state is chained to 0, as AWS does");
    assert_eq!(lines[2]["previous_event_id"], json!("2"));
    assert_eq!(lines[0]["details"]["input"], json!(r#"{"secret":1}"#));
    assert_eq!(lines[4]["details"]["error"], json!("Bad"));

    // ERROR without execution data: only the failure, and no input or output.
    c.update_state_machine().state_machine_arn(&arn).logging_configuration(logging(LogLevel::Error, false)).send().await.expect("update");
    let exec2 = start(&c, &arn, json!({ "secret": 2 })).await;
    finished(&c, &exec2).await;
    let lines: Vec<Value> = read().await.into_iter().filter(|l| l["execution_arn"] == json!(exec2)).collect();
    assert_eq!(lines.iter().map(|l| l["type"].as_str().expect("type")).collect::<Vec<_>>(), vec!["ExecutionFailed"]);
    let msg = err(c.create_state_machine().name("nolog").definition(def.to_string()).role_arn(ROLE).logging_configuration(LoggingConfiguration::builder().level(LogLevel::All).build()).send().await, "InvalidLoggingConfiguration");
    assert!(msg.contains("Log Destination"), "{msg}");
}

#[tokio::test]
async fn timeouts_on_the_clock_and_tolerated_map_failures() {
    let n = Nimbus::start_with_clock_control();
    let c = sfn(&n);
    // The machine's TimeoutSeconds ends a long Wait with ExecutionTimedOut.
    let arn = machine(&c, "slow", json!({ "TimeoutSeconds": 60, "StartAt": "W", "States": { "W": { "Type": "Wait", "Seconds": 3600, "End": true } } })).await;
    let exec = start(&c, &arn, json!({})).await;
    event_seen(&c, &exec, HistoryEventType::WaitStateEntered).await;
    n.advance_clock(61);
    let d = finished(&c, &exec).await;
    assert_eq!(d.status(), &ExecutionStatus::TimedOut);
    let last = events(&c, &exec).await.pop().expect("event");
    assert_eq!(last.r#type(), &HistoryEventType::ExecutionTimedOut);
    assert_eq!(last.execution_timed_out_event_details().and_then(|d| d.error()), Some("States.Timeout"));

    // A Task's TimeoutSeconds: States.Timeout, which a Catcher can take.
    let activity = c.create_activity().name("never").send().await.expect("activity").activity_arn().to_string();
    let arn = machine(
        &c,
        "task-timeout",
        json!({ "StartAt": "T", "States": {
            "T": { "Type": "Task", "Resource": activity, "TimeoutSeconds": 30, "Catch": [ { "ErrorEquals": ["States.Timeout"], "Next": "Late" } ], "End": true },
            "Late": { "Type": "Pass", "End": true } } }),
    )
    .await;
    let exec = start(&c, &arn, json!({})).await;
    event_seen(&c, &exec, HistoryEventType::ActivityScheduled).await;
    n.advance_clock(31);
    let d = finished(&c, &exec).await;
    assert_eq!(d.status(), &ExecutionStatus::Succeeded);
    assert_eq!(output(&d)["Error"], json!("States.Timeout"));
    assert!(types(&events(&c, &exec).await).contains(&"ActivityTimedOut"));

    // Map: a failed iteration within ToleratedFailureCount leaves its error as its result;
    // beyond it, States.ExceedToleratedFailureThreshold.
    let def = |tolerated: u64| {
        json!({ "StartAt": "M", "States": { "M": { "Type": "Map", "ToleratedFailureCount": tolerated,
            "ItemProcessor": { "StartAt": "C", "States": {
                "C": { "Type": "Choice", "Choices": [ { "Variable": "$", "NumericEquals": 2, "Next": "Bad" } ], "Default": "Good" },
                "Bad": { "Type": "Fail", "Error": "Item.Bad", "Cause": "two" },
                "Good": { "Type": "Pass", "End": true } } }, "End": true } } })
    };
    let ok = machine(&c, "tolerant", def(1)).await;
    let d = finished(&c, &start(&c, &ok, json!([1, 2, 3])).await).await;
    assert_eq!(d.status(), &ExecutionStatus::Succeeded, "{:?}", d.cause());
    assert_eq!(output(&d), json!([1, { "Error": "Item.Bad", "Cause": "two" }, 3]));
    let strict = machine(&c, "strict", def(0)).await;
    let d = finished(&c, &start(&c, &strict, json!([1, 2, 3])).await).await;
    assert_eq!(d.error(), Some("States.ExceedToleratedFailureThreshold"));
}

/// A retry waiting its interval survives `kill -9`: after the restart the next attempt
/// comes at the stored time, with the attempts already made still counted.
#[tokio::test]
async fn a_retry_in_its_interval_survives_kill_9() {
    let mut n = Nimbus::start_with_clock_control();
    if n.is_external() {
        return;
    }
    let c = sfn(&n);
    let activity = c.create_activity().name("retry").send().await.expect("create").activity_arn().to_string();
    let arn = machine(
        &c,
        "retry-durable",
        json!({ "StartAt": "T", "States": { "T": { "Type": "Task", "Resource": activity,
            "Retry": [ { "ErrorEquals": ["Flaky"], "IntervalSeconds": 3600, "MaxAttempts": 1 } ], "End": true } } }),
    )
    .await;
    let exec = start(&c, &arn, json!({})).await;
    let (token, _) = take(&c, &activity).await;
    c.send_task_failure().task_token(&token).error("Flaky").send().await.expect("fail");
    event_seen(&c, &exec, HistoryEventType::ActivityFailed).await;
    n.kill9();
    n.restart();
    let c = sfn(&n);
    assert_eq!(c.describe_execution().execution_arn(&exec).send().await.expect("describe").status(), &ExecutionStatus::Running);
    n.advance_clock(3600);
    let (token, _) = take(&c, &activity).await;
    // The one retry allowed is spent: this failure ends the execution.
    c.send_task_failure().task_token(&token).error("Flaky").cause("again").send().await.expect("fail again");
    let d = finished(&c, &exec).await;
    assert_eq!((d.status(), d.error(), d.cause()), (&ExecutionStatus::Failed, Some("Flaky"), Some("again")));
    let t = types(&events(&c, &exec).await).into_iter().map(str::to_string).collect::<Vec<_>>();
    assert_eq!(t.iter().filter(|k| *k == "ActivityScheduled").count(), 2, "{t:?}");
}

/// A Map's events chained as AWS records them: each iteration's start follows the previous
/// iteration's last state event; MapStateSucceeded and MapStateExited both follow the last
/// MapIterationSucceeded.
#[tokio::test]
async fn map_events_are_chained_as_aws_records_them() {
    let n = Nimbus::start_in_memory();
    let c = sfn(&n);
    let arn = machine(
        &c,
        "chain",
        json!({ "StartAt": "M", "States": { "M": { "Type": "Map", "MaxConcurrency": 1,
            "ItemProcessor": { "StartAt": "P", "States": { "P": { "Type": "Pass", "End": true } } }, "End": true } } }),
    )
    .await;
    let d = finished(&c, &start(&c, &arn, json!(["a", "b"])).await).await;
    assert_eq!(output(&d), json!(["a", "b"]));
    let evs = events(&c, d.execution_arn()).await;
    let chain: Vec<(&str, i64, i64)> = evs.iter().map(|e| (e.r#type().as_str(), e.id(), e.previous_event_id())).collect();
    assert_eq!(
        chain,
        vec![
            ("ExecutionStarted", 1, 0),
            ("MapStateEntered", 2, 0),
            ("MapStateStarted", 3, 2),
            ("MapIterationStarted", 4, 3),
            ("PassStateEntered", 5, 4),
            ("PassStateExited", 6, 5),
            ("MapIterationSucceeded", 7, 6),
            ("MapIterationStarted", 8, 6),
            ("PassStateEntered", 9, 8),
            ("PassStateExited", 10, 9),
            ("MapIterationSucceeded", 11, 10),
            ("MapStateSucceeded", 12, 11),
            ("MapStateExited", 13, 11),
            ("ExecutionSucceeded", 14, 13),
        ]
    );
}

/// JSONata's `$now()` / `$millis()` read nimbus's clock: a Wait until "an hour from now"
/// ends when the clock is moved by an hour.
#[tokio::test]
async fn jsonata_time_follows_nimbus_clock() {
    let n = Nimbus::start_with_clock_control();
    let c = sfn(&n);
    let arn = machine(
        &c,
        "ja-wait",
        json!({ "QueryLanguage": "JSONata", "StartAt": "W", "States": {
            "W": { "Type": "Wait", "Timestamp": "{% $fromMillis($millis() + 3600000) %}", "Next": "Done" },
            "Done": { "Type": "Pass", "Output": "{% $toMillis($now()) - $toMillis($states.context.Execution.StartTime) >= 3600000 %}", "End": true } } }),
    )
    .await;
    let exec = start(&c, &arn, json!({})).await;
    event_seen(&c, &exec, HistoryEventType::WaitStateEntered).await;
    n.advance_clock(3600);
    let d = finished(&c, &exec).await;
    assert_eq!(d.status(), &ExecutionStatus::Succeeded, "{:?} {:?}", d.error(), d.cause());
    assert_eq!(output(&d), json!(true));
}

/// An endless loop ends at AWS's quota of 25,000 history events.
#[tokio::test]
async fn an_endless_loop_stops_at_25000_events() {
    let n = Nimbus::start_in_memory();
    let c = sfn(&n);
    let arn = machine(
        &c,
        "loop",
        json!({ "StartAt": "P", "States": {
            "P": { "Type": "Pass", "Next": "C" },
            "C": { "Type": "Choice", "Choices": [ { "Variable": "$.stop", "BooleanEquals": true, "Next": "End" } ], "Default": "P" },
            "End": { "Type": "Succeed" } } }),
    )
    .await;
    let exec = start(&c, &arn, json!({ "stop": false })).await;
    let d = finished(&c, &exec).await;
    assert_eq!(d.status(), &ExecutionStatus::Failed);
    assert_eq!(d.error(), Some("States.Runtime"));
    assert!(d.cause().unwrap_or_default().contains("25000"), "{:?}", d.cause());
    let last = c.get_execution_history().execution_arn(&exec).reverse_order(true).max_results(1).send().await.expect("history");
    let id = last.events()[0].id();
    assert_eq!(last.events()[0].r#type(), &HistoryEventType::ExecutionFailed);
    assert!((25_001..=25_003).contains(&id), "about 25,000 events, then ExecutionFailed ({id})");
}

/// A nested EXPRESS execution through `states:startExecution.sync:2`: its end is known to
/// the parent's Task however fast the child finishes (EXPRESS executions are not stored).
#[tokio::test]
async fn a_nested_express_execution_ends_the_parents_sync_task() {
    let n = Nimbus::start_in_memory();
    let c = sfn(&n);
    let child = c
        .create_state_machine()
        .name("child")
        .r#type(aws_sdk_sfn::types::StateMachineType::Express)
        .definition(json!({ "StartAt": "P", "States": { "P": { "Type": "Pass", "Parameters": { "doubled.$": "States.MathAdd($.n, $.n)" }, "End": true } } }).to_string())
        .role_arn(ROLE)
        .send()
        .await
        .expect("child")
        .state_machine_arn()
        .to_string();
    let parent = machine(
        &c,
        "parent",
        json!({ "StartAt": "Run", "States": { "Run": { "Type": "Task", "Resource": "arn:aws:states:::states:startExecution.sync:2",
            "Parameters": { "StateMachineArn": child, "Input": { "n.$": "$.n" } }, "ResultSelector": { "out.$": "$.Output" }, "End": true } } }),
    )
    .await;
    for i in 0..5 {
        let d = finished(&c, &start(&c, &parent, json!({ "n": i })).await).await;
        assert_eq!(d.status(), &ExecutionStatus::Succeeded, "{:?} {:?}", d.error(), d.cause());
        assert_eq!(output(&d), json!({ "out": { "doubled": 2 * i } }));
    }
}
