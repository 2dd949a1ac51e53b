//! Step Functions TestState through the AWS SDK for Rust: the data-flow steps of a Pass at
//! DEBUG, a Task calling a real Lambda function (and a failing one caught: CAUGHT_ERROR),
//! mocked results and errors, RETRIABLE with the Retrier's index and backoff, a JSONata
//! state with variables, Map / Parallel mocks with `stateConfiguration`, and bad input.
//! The SDK sends TestState to `sync-<host>`; [`NoSyncPrefix`] sends it to nimbus's address.
//! <https://docs.aws.amazon.com/step-functions/latest/apireference/API_TestState.html>
//! <https://docs.aws.amazon.com/step-functions/latest/dg/test-state-isolation.html>

use crate::stepfunctions::sfn;
use aws_sdk_sfn::config::interceptors::BeforeTransmitInterceptorContextMut;
use aws_sdk_sfn::config::{ConfigBag, Intercept, RuntimeComponents, SharedInterceptor};
use aws_sdk_sfn::operation::test_state::TestStateOutput;
use aws_sdk_sfn::types::{InspectionLevel, MockErrorOutput, MockInput, TestExecutionStatus, TestStateConfiguration};
use aws_sdk_sfn::Client;
use nimbus_tests::lambda::{self, FnSpec};
use nimbus_tests::{expect_err_message as err, unique_name, Nimbus};
use serde_json::{json, Value};

const ROLE: &str = "arn:aws:iam::000000000000:role/sfn";

/// Sends the request to the endpoint's own host (`sync-127.0.0.1` does not resolve), the
/// signed `Host` header left as the SDK wrote it.
#[derive(Debug)]
struct NoSyncPrefix;

impl Intercept for NoSyncPrefix {
    fn name(&self) -> &'static str {
        "NoSyncPrefix"
    }

    fn modify_before_transmit(&self, ctx: &mut BeforeTransmitInterceptorContextMut<'_>, _: &RuntimeComponents, _: &mut ConfigBag) -> Result<(), aws_sdk_sfn::error::BoxError> {
        let req = ctx.request_mut();
        let uri = req.uri().replacen("://sync-", "://", 1);
        req.set_uri(uri)?;
        Ok(())
    }
}

fn client(n: &Nimbus) -> Client {
    let conf = sfn(n).config().to_builder().interceptor(SharedInterceptor::new(NoSyncPrefix)).build();
    Client::from_conf(conf)
}

fn json_of(s: Option<&str>) -> Value {
    serde_json::from_str(s.expect("a value")).expect("JSON")
}

fn inspected(out: &TestStateOutput, step: &str) -> Value {
    let data = out.inspection_data().expect("inspectionData");
    let v = match step {
        "input" => data.input(),
        "afterInputPath" => data.after_input_path(),
        "afterParameters" => data.after_parameters(),
        "afterArguments" => data.after_arguments(),
        "result" => data.result(),
        "afterResultSelector" => data.after_result_selector(),
        "afterResultPath" => data.after_result_path(),
        "variables" => data.variables(),
        other => panic!("no step {other}"),
    };
    json_of(v)
}

fn mock_result(v: Value) -> MockInput {
    MockInput::builder().result(v.to_string()).build()
}

fn mock_error(error: &str, cause: &str) -> MockInput {
    MockInput::builder().error_output(MockErrorOutput::builder().error(error).cause(cause).build()).build()
}

// https://docs.aws.amazon.com/step-functions/latest/dg/test-state-isolation.html#test-state-input-output-dataflow
#[tokio::test]
async fn pass_at_debug_shows_each_data_flow_step() {
    let n = Nimbus::start_in_memory();
    let c = client(&n);
    let definition = json!({ "Type": "Pass", "InputPath": "$.order", "Parameters": { "id.$": "$.id", "kind": "pass" },
                             "ResultPath": "$.picked", "OutputPath": "$.picked", "Next": "Ship" });
    let out = c.test_state().definition(definition.to_string()).role_arn(ROLE).input(json!({ "order": { "id": 7 }, "other": 1 }).to_string()).inspection_level(InspectionLevel::Debug).send().await.expect("TestState");
    assert_eq!(out.status(), Some(&TestExecutionStatus::Succeeded));
    assert_eq!(out.next_state(), Some("Ship"));
    assert_eq!(json_of(out.output()), json!({ "id": 7, "kind": "pass" }));
    assert_eq!(inspected(&out, "input"), json!({ "order": { "id": 7 }, "other": 1 }));
    assert_eq!(inspected(&out, "afterInputPath"), json!({ "id": 7 }));
    assert_eq!(inspected(&out, "afterParameters"), json!({ "id": 7, "kind": "pass" }));
    assert_eq!(inspected(&out, "afterResultPath"), json!({ "order": { "id": 7 }, "other": 1, "picked": { "id": 7, "kind": "pass" } }));

    // INFO (the default) answers no inspection data.
    let info = c.test_state().definition(definition.to_string()).role_arn(ROLE).input(json!({ "order": { "id": 7 } }).to_string()).send().await.expect("TestState");
    assert!(info.inspection_data().is_none());
    assert_eq!(json_of(info.output()), json!({ "id": 7, "kind": "pass" }));
    // Without a mock, the role is required.
    let msg = err(c.test_state().definition(definition.to_string()).send().await, "ValidationException");
    assert!(msg.contains("roleArn"), "{msg}");
    err(c.test_state().definition(definition.to_string()).role_arn("not-an-arn").send().await, "InvalidArn");
}

#[tokio::test]
async fn task_calls_the_real_function_and_a_failure_is_caught() {
    let n = Nimbus::start_in_memory();
    let lc = n.lambda_client();
    let echo = unique_name("echo");
    lambda::create(&lc, &echo, FnSpec::python("handler.echo")).await;
    let fail = unique_name("fail");
    lambda::create(&lc, &fail, FnSpec::python("handler.fail")).await;
    let c = client(&n);
    let task = |function: &str| {
        json!({ "Type": "Task", "Resource": "arn:aws:states:::lambda:invoke",
                "Parameters": { "FunctionName": function, "Payload.$": "$" },
                "ResultSelector": { "echo.$": "$.Payload.echo" }, "ResultPath": "$.r",
                "Catch": [{ "ErrorEquals": ["States.Timeout"], "Next": "Late" }, { "ErrorEquals": ["States.ALL"], "ResultPath": "$.error", "Next": "Recover" }],
                "Next": "Done" })
    };
    let out = c.test_state().definition(task(&echo).to_string()).role_arn(ROLE).input(r#"{"hello":"sfn"}"#).inspection_level(InspectionLevel::Debug).send().await.expect("TestState");
    assert_eq!(out.status(), Some(&TestExecutionStatus::Succeeded));
    assert_eq!(out.next_state(), Some("Done"));
    assert_eq!(json_of(out.output()), json!({ "hello": "sfn", "r": { "echo": { "hello": "sfn" } } }));
    assert_eq!(inspected(&out, "afterParameters"), json!({ "FunctionName": echo, "Payload": { "hello": "sfn" } }));
    let result = inspected(&out, "result");
    assert_eq!((result["StatusCode"].clone(), result["Payload"]["echo"].clone()), (json!(200), json!({ "hello": "sfn" })));
    assert_eq!(inspected(&out, "afterResultSelector"), json!({ "echo": { "hello": "sfn" } }));
    assert_eq!(inspected(&out, "afterResultPath"), json!({ "hello": "sfn", "r": { "echo": { "hello": "sfn" } } }));

    let caught = c.test_state().definition(task(&fail).to_string()).role_arn(ROLE).input(r#"{"message":"sold out"}"#).inspection_level(InspectionLevel::Debug).send().await.expect("TestState");
    assert_eq!(caught.status(), Some(&TestExecutionStatus::CaughtError));
    assert_eq!((caught.next_state(), caught.error()), (Some("Recover"), Some("ValueError")));
    assert_eq!(json_of(caught.output())["error"]["Error"], "ValueError");
    assert_eq!(caught.inspection_data().and_then(|d| d.error_details()).and_then(|e| e.catch_index()), Some(1));

    // A Task that calls its integration needs the role.
    let msg = err(c.test_state().definition(task(&echo).to_string()).input("{}").send().await, "ValidationException");
    assert!(msg.contains("roleArn"), "{msg}");
}

// https://docs.aws.amazon.com/step-functions/latest/apireference/API_InspectionErrorDetails.html
#[tokio::test]
async fn mocked_errors_are_retriable_while_the_retrier_lasts() {
    let n = Nimbus::start_in_memory();
    let c = client(&n);
    let task = json!({ "Type": "Task", "Resource": "arn:aws:states:::lambda:invoke", "Parameters": { "FunctionName": "f" },
        "Retry": [{ "ErrorEquals": ["Other"] }, { "ErrorEquals": ["Lambda.TooManyRequestsException"], "IntervalSeconds": 2, "BackoffRate": 3, "MaxAttempts": 2 }],
        "Catch": [{ "ErrorEquals": ["States.ALL"], "Next": "Recover" }], "End": true });
    let send = |count: i32| {
        c.test_state()
            .definition(task.to_string())
            .input("{}")
            .inspection_level(InspectionLevel::Debug)
            .mock(mock_error("Lambda.TooManyRequestsException", "slow down"))
            .state_configuration(TestStateConfiguration::builder().retrier_retry_count(count).build())
            .send()
    };
    let out = send(1).await.expect("TestState");
    assert_eq!(out.status(), Some(&TestExecutionStatus::Retriable));
    assert_eq!((out.error(), out.cause()), (Some("Lambda.TooManyRequestsException"), Some("slow down")));
    let details = out.inspection_data().and_then(|d| d.error_details()).expect("errorDetails");
    assert_eq!((details.retry_index(), details.retry_backoff_interval_seconds()), (Some(1), Some(6)));
    // Its attempts spent, the Catcher has it.
    let out = send(2).await.expect("TestState");
    assert_eq!(out.status(), Some(&TestExecutionStatus::CaughtError));
    assert_eq!(out.next_state(), Some("Recover"));
    assert_eq!(json_of(out.output()), json!({ "Error": "Lambda.TooManyRequestsException", "Cause": "slow down" }));

    // A mocked result in place of the call.
    let ok = c.test_state().definition(task.to_string()).mock(mock_result(json!({ "Payload": { "ok": true } }))).send().await.expect("TestState");
    assert_eq!((ok.status(), json_of(ok.output())), (Some(&TestExecutionStatus::Succeeded), json!({ "Payload": { "ok": true } })));
    // No Retrier or Catcher for it: FAILED.
    let failed = c.test_state().definition(json!({ "Type": "Task", "Resource": "arn:aws:states:::lambda:invoke", "End": true }).to_string()).mock(mock_error("Boom", "bad")).send().await.expect("TestState");
    assert_eq!((failed.status(), failed.error(), failed.next_state()), (Some(&TestExecutionStatus::Failed), Some("Boom"), None));
}

// https://docs.aws.amazon.com/step-functions/latest/dg/workflow-variables.html
#[tokio::test]
async fn jsonata_task_with_variables() {
    let n = Nimbus::start_in_memory();
    let c = client(&n);
    let task = json!({ "Type": "Task", "QueryLanguage": "JSONata", "Resource": "arn:aws:states:::lambda:invoke",
        "Arguments": { "FunctionName": "f", "Payload": { "n": "{% $states.input.n * $factor %}" } },
        "Assign": { "total": "{% $states.result.Payload.n + $factor %}" },
        "Output": { "sum": "{% $states.result.Payload.n %}" }, "Next": "After" });
    let out = c
        .test_state()
        .definition(task.to_string())
        .input(r#"{"n":4}"#)
        .variables(r#"{"factor":10}"#)
        .inspection_level(InspectionLevel::Trace)
        .mock(mock_result(json!({ "Payload": { "n": 40 } })))
        .send()
        .await
        .expect("TestState");
    assert_eq!(out.status(), Some(&TestExecutionStatus::Succeeded));
    assert_eq!((json_of(out.output()), out.next_state()), (json!({ "sum": 40 }), Some("After")));
    assert_eq!(inspected(&out, "afterArguments"), json!({ "FunctionName": "f", "Payload": { "n": 40 } }));
    assert_eq!(inspected(&out, "result"), json!({ "Payload": { "n": 40 } }));
    assert_eq!(inspected(&out, "variables"), json!({ "factor": 10, "total": 50 }));

    let bad = err(c.test_state().definition(task.to_string()).variables("[1]").mock(mock_result(json!({}))).send().await, "ValidationException");
    assert!(bad.contains("variables"), "{bad}");
}

// https://docs.aws.amazon.com/step-functions/latest/apireference/API_TestStateConfiguration.html
#[tokio::test]
async fn map_and_parallel_run_only_with_a_mock() {
    let n = Nimbus::start_in_memory();
    let c = client(&n);
    let map = json!({ "Type": "Map", "ItemsPath": "$.items", "ToleratedFailureCount": 1, "MaxConcurrency": 2,
        "ItemProcessor": { "ProcessorConfig": { "Mode": "INLINE" }, "StartAt": "Work", "States": { "Work": { "Type": "Pass", "End": true } } },
        "End": true });
    let msg = err(c.test_state().definition(map.to_string()).input(r#"{"items":[1]}"#).send().await, "ValidationException");
    assert!(msg.contains("mock"), "{msg}");
    let out = c.test_state().definition(map.to_string()).input(r#"{"items":[1,2]}"#).inspection_level(InspectionLevel::Debug).mock(mock_result(json!([1, 2]))).send().await.expect("TestState");
    assert_eq!((out.status(), json_of(out.output())), (Some(&TestExecutionStatus::Succeeded), json!([1, 2])));
    let data = out.inspection_data().expect("inspectionData");
    assert_eq!((data.max_concurrency(), data.tolerated_failure_count()), (Some(2), Some(1)));
    // More failed iterations than it tolerates: the Map fails.
    let over = |count: i32| c.test_state().definition(map.to_string()).input(r#"{"items":[1,2]}"#).mock(mock_result(json!([1, 2]))).state_configuration(TestStateConfiguration::builder().map_iteration_failure_count(count).build()).send();
    let failed = over(2).await.expect("TestState");
    assert_eq!((failed.status(), failed.error()), (Some(&TestExecutionStatus::Failed), Some("States.ExceedToleratedFailureThreshold")));
    assert_eq!(over(1).await.expect("TestState").status(), Some(&TestExecutionStatus::Succeeded));

    // A distributed Map with a tolerated share of failures.
    let distributed = json!({ "Type": "Map", "ToleratedFailurePercentage": 50,
        "ItemProcessor": { "ProcessorConfig": { "Mode": "DISTRIBUTED", "ExecutionType": "EXPRESS" }, "StartAt": "Work", "States": { "Work": { "Type": "Pass", "End": true } } },
        "End": true });
    let share = |count: i32| c.test_state().definition(distributed.to_string()).input("[1,2,3,4]").mock(mock_result(json!([1, 2, 3, 4]))).state_configuration(TestStateConfiguration::builder().map_iteration_failure_count(count).build()).send();
    assert_eq!(share(2).await.expect("TestState").status(), Some(&TestExecutionStatus::Succeeded));
    assert_eq!(share(3).await.expect("TestState").error(), Some("States.ExceedToleratedFailureThreshold"));

    let parallel = json!({ "Type": "Parallel", "Branches": [{ "StartAt": "A", "States": { "A": { "Type": "Pass", "End": true } } }], "End": true });
    let error_in = |state: &str| {
        c.test_state()
            .definition(parallel.to_string())
            .mock(mock_error("Branch.Failed", "in A"))
            .state_configuration(TestStateConfiguration::builder().error_caused_by_state(state).build())
            .send()
    };
    let failed = error_in("A").await.expect("TestState");
    assert_eq!((failed.status(), failed.error()), (Some(&TestExecutionStatus::Failed), Some("Branch.Failed")));
    let msg = err(error_in("Nowhere").await, "ValidationException");
    assert!(msg.contains("Nowhere"), "{msg}");
}

#[tokio::test]
async fn bad_input_is_refused() {
    let n = Nimbus::start_in_memory();
    let c = client(&n);
    let pass = json!({ "Type": "Pass", "End": true }).to_string();
    let msg = err(c.test_state().definition(&pass).role_arn(ROLE).inspection_level(InspectionLevel::from("LOUD")).send().await, "ValidationException");
    assert!(msg.contains("Member must satisfy enum value set: [INFO, DEBUG, TRACE]"), "{msg}");
    err(c.test_state().definition(json!({ "Type": "Pass", "Next": 3 }).to_string()).role_arn(ROLE).send().await, "InvalidDefinition");
    err(c.test_state().definition("{not json").role_arn(ROLE).send().await, "InvalidDefinition");
    err(c.test_state().definition(&pass).role_arn(ROLE).input("{not json").send().await, "InvalidExecutionInput");
    let msg = err(c.test_state().definition(&pass).mock(mock_result(json!(1))).send().await, "ValidationException");
    assert!(msg.contains("mock"), "{msg}");
    let both = MockInput::builder().result("{}").error_output(MockErrorOutput::builder().error("E").build()).build();
    let task = json!({ "Type": "Task", "Resource": "arn:aws:states:::lambda:invoke", "End": true }).to_string();
    err(c.test_state().definition(&task).mock(both).send().await, "ValidationException");
    let activity = json!({ "Type": "Task", "Resource": "arn:aws:states:us-east-1:000000000000:activity:a", "End": true }).to_string();
    let msg = err(c.test_state().definition(&activity).role_arn(ROLE).send().await, "ValidationException");
    assert!(msg.contains("Activity"), "{msg}");
    assert_eq!(c.test_state().definition(&activity).mock(mock_result(json!({ "done": 1 }))).send().await.expect("TestState").status(), Some(&TestExecutionStatus::Succeeded));
    let http = json!({ "Type": "Task", "Resource": "arn:aws:states:::http:invoke", "Parameters": { "ApiEndpoint": "https://example.com", "Method": "GET" }, "End": true }).to_string();
    let msg = err(c.test_state().definition(&http).role_arn(ROLE).inspection_level(InspectionLevel::Trace).send().await, "ValidationException");
    assert!(msg.contains("not supported by nimbus"), "{msg}");
    let machine = json!({ "StartAt": "A", "States": { "A": { "Type": "Pass", "End": true } } }).to_string();
    err(c.test_state().definition(&machine).role_arn(ROLE).send().await, "ValidationException");
    err(c.test_state().definition(&machine).role_arn(ROLE).state_name("B").send().await, "ValidationException");
    // `stateName` asks for a whole, valid machine.
    err(c.test_state().definition(&pass).role_arn(ROLE).state_name("A").send().await, "InvalidDefinition");
    let dangling = json!({ "StartAt": "A", "States": { "A": { "Type": "Pass", "End": true }, "B": { "Type": "Pass", "Next": "Nowhere" } } }).to_string();
    let msg = err(c.test_state().definition(&dangling).role_arn(ROLE).state_name("A").send().await, "InvalidDefinition");
    assert!(msg.contains("MISSING_TRANSITION_TARGET"), "{msg}");
    let ok = c.test_state().definition(&machine).role_arn(ROLE).state_name("A").send().await.expect("TestState");
    assert_eq!(ok.status(), Some(&TestExecutionStatus::Succeeded));
}

// "The TestState API can run for up to five minutes. If the execution of a state exceeds
// this duration, it fails with the States.Timeout error." (nimbus's clock is moved past it
// while the function still runs; the state's Retrier does not apply.)
#[tokio::test]
async fn a_state_running_past_five_minutes_fails_with_states_timeout() {
    let n = Nimbus::start_with_clock_control();
    let lc = n.lambda_client();
    let slow = unique_name("slow");
    lambda::create(&lc, &slow, FnSpec::python("handler.sleep").timeout(900)).await;
    let c = client(&n);
    let task = json!({ "Type": "Task", "Resource": "arn:aws:states:::lambda:invoke", "Parameters": { "FunctionName": slow, "Payload": { "ms": 5000 } },
                       "Retry": [{ "ErrorEquals": ["States.ALL"] }], "End": true });
    let call = tokio::spawn(async move { c.test_state().definition(task.to_string()).role_arn(ROLE).send().await });
    let mut polls = 0;
    while !call.is_finished() {
        assert_eq!(n.advance_clock(301), 200, "the clock moves");
        polls += 1;
        assert!(polls < 400, "TestState did not end");
        tokio::time::sleep(std::time::Duration::from_millis(25)).await;
    }
    let out = call.await.expect("joined").expect("TestState");
    assert_eq!((out.status(), out.error()), (Some(&TestExecutionStatus::Failed), Some("States.Timeout")));
}
